-- elt.merge_dimension edge cases: duplicate natural keys on every path of
-- the classifying pass (matched rows, new rows, NULL keys, a sparse
-- surrogate key range), composite keys with NULL parts and deletes,
-- flagged deletes, type-1 and ignored columns, NULL effective times, empty
-- sources, a source of only the changed rows, hostile identifiers and a
-- cancelled merge.  Every failing call must leave the dimension exactly as
-- it was.
SET timezone = 'UTC';
CREATE SCHEMA dim_edge;
SET search_path = dim_edge, public;

-- Times set by a merge (closes of deleted members, returning members) are
-- shown as "merge time": they are later than this.
CREATE TABLE t0 AS SELECT now() AS t0;
CREATE FUNCTION ts(v timestamptz) RETURNS text STABLE LANGUAGE sql AS $$
	SELECT CASE WHEN v IN ('infinity', '-infinity') THEN v::text
				WHEN v >= (SELECT t0 FROM dim_edge.t0) THEN 'merge time'
				ELSE to_char(v, 'YYYY-MM-DD') END
$$;
-- snap() keeps a copy of a dimension; changed() counts the rows that differ
-- from it (in either direction, duplicates included).
CREATE FUNCTION snap(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF to_regclass('pg_temp.snapshot') IS NOT NULL THEN
		DROP TABLE pg_temp.snapshot;
	END IF;
	EXECUTE format('CREATE TEMP TABLE snapshot AS SELECT * FROM %s', t);
END
$$;
CREATE FUNCTION changed(t regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM ((TABLE %1$s EXCEPT ALL TABLE pg_temp.snapshot)'
				   ' UNION ALL (TABLE pg_temp.snapshot EXCEPT ALL TABLE %1$s)) AS d', t) INTO n;
	RETURN n;
END
$$;
-- Versions of one member that overlap in time (there must never be any).
CREATE FUNCTION overlaps(t regclass, key text[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
	same text;
BEGIN
	SELECT string_agg(format('a.%1$I IS NOT DISTINCT FROM b.%1$I', k), ' AND ')
	  INTO same FROM unnest(key) AS k;
	-- The unknown member (valid since -infinity) is nobody's version.
	EXECUTE format('WITH v AS (SELECT ctid AS row_id, * FROM %1$s WHERE valid_from > ''-infinity'')'
				   ' SELECT count(*) FROM v a JOIN v b ON %2$s'
				   ' AND a.row_id < b.row_id AND a.valid_from < b.valid_to AND b.valid_from < a.valid_to'
				   ' AND a.valid_from < a.valid_to AND b.valid_from < b.valid_to', t, same) INTO n;
	RETURN n;
END
$$;

------------------------------------------------------------------------
-- 1. Duplicate natural keys among source rows that match current rows.
------------------------------------------------------------------------
CREATE TABLE stg_item (id int, name text, colour text, ts timestamptz);
INSERT INTO stg_item SELECT i, 'item ' || i, 'red', '2024-01-01' FROM generate_series(1, 5) AS i;
SELECT * FROM elt.merge_dimension('dim_edge.dim_item', 'dim_edge.stg_item', '{id}',
	effective_at => 'ts', type1_columns => '{colour}');
UPDATE stg_item SET name = 'item 5b', ts = '2024-02-01' WHERE id = 5;
SELECT * FROM elt.merge_dimension('dim_edge.dim_item', 'dim_edge.stg_item', '{id}',
	effective_at => 'ts', type1_columns => '{colour}');
SELECT item_key, id, name, colour, ts(valid_from) AS valid_from, ts(valid_to) AS valid_to, is_current
  FROM dim_item ORDER BY id, valid_from;
SELECT snap('dim_item');
CREATE TEMP TABLE runs_before AS SELECT count(*) AS n FROM elt.model_run;

-- Both duplicates unchanged: the member with the lowest surrogate key (the
-- first bit of the duplicate bitmap) ...
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT * FROM dim_edge.stg_item UNION ALL SELECT * FROM dim_edge.stg_item WHERE id = 1$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}');
-- ... and the one with the highest (the last bit).
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT * FROM dim_edge.stg_item UNION ALL SELECT * FROM dim_edge.stg_item WHERE id = 5$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}');
-- One changed, one unchanged; other rows changed and new besides.
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT id, CASE WHEN id = 4 THEN 'new name' ELSE name END AS name, colour, ts FROM dim_edge.stg_item
	  UNION ALL SELECT id, 'changed', 'blue', '2024-03-01' FROM dim_edge.stg_item WHERE id = 2
	  UNION ALL SELECT 6, 'item 6', 'red', '2024-03-01'$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}');
-- Both changed, with a type-1 change too.
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT id, name || ' x' AS name, 'green' AS colour, '2024-03-01'::timestamptz AS ts FROM dim_edge.stg_item
	  UNION ALL SELECT id, name || ' y', 'blue', '2024-03-01' FROM dim_edge.stg_item WHERE id = 3$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}');
-- With each way of handling deletes (members 1 and 2 missing besides).
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT * FROM dim_edge.stg_item WHERE id > 2 UNION ALL SELECT * FROM dim_edge.stg_item WHERE id = 4$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}', deletes => 'ignore');
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT * FROM dim_edge.stg_item WHERE id > 2 UNION ALL SELECT * FROM dim_edge.stg_item WHERE id = 4$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}', deletes => 'close');
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT * FROM dim_edge.stg_item WHERE id > 2 UNION ALL SELECT * FROM dim_edge.stg_item WHERE id = 4$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}', deletes => 'flag');
-- A duplicated key whose current row is missing is still a duplicate.
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT * FROM dim_edge.stg_item WHERE id > 2 UNION ALL SELECT id, 'a', 'red', ts FROM dim_edge.stg_item WHERE id = 5$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}', deletes => 'close');
-- Nothing was written, not even a run record.
SELECT changed('dim_item') AS changed_rows,
	   (SELECT count(*) FROM elt.model_run) - (SELECT n FROM runs_before) AS runs_recorded;

-- The same on a type 1 dimension with flagged deletes.
SELECT * FROM elt.merge_dimension('dim_edge.dim_item1', 'dim_edge.stg_item', '{id}',
	scd_type => 1, ignore_columns => '{ts}');
SELECT snap('dim_item1');
SELECT * FROM elt.merge_dimension('dim_edge.dim_item1',
	$$SELECT id, 'renamed' AS name, colour, ts FROM dim_edge.stg_item WHERE id <> 1
	  UNION ALL SELECT * FROM dim_edge.stg_item WHERE id = 3$$,
	'{id}', scd_type => 1, ignore_columns => '{ts}', deletes => 'flag');
SELECT changed('dim_item1') AS changed_rows;

------------------------------------------------------------------------
-- 2. Duplicates among new rows, NULL keys, and a sparse surrogate key
-- range.
------------------------------------------------------------------------
-- On the first call: the dimension is not created.
SELECT * FROM elt.merge_dimension('dim_edge.dim_first',
	$$SELECT * FROM dim_edge.stg_item UNION ALL SELECT * FROM dim_edge.stg_item WHERE id = 2$$,
	'{id}');
SELECT to_regclass('dim_edge.dim_first') AS created;
-- New keys duplicated beside existing members.
SELECT snap('dim_item');
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT * FROM dim_edge.stg_item UNION ALL VALUES (7, 'a', 'red', '2024-04-01'::timestamptz),
	  (8, 'b', 'red', '2024-04-01'), (7, 'c', 'red', '2024-04-01')$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}', deletes => 'close');
-- NULL keys are equal to each other: a second NULL key is a duplicate,
-- whether or not the dimension has a member with a NULL key.
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT * FROM dim_edge.stg_item UNION ALL VALUES (NULL::int, 'a', 'red', '2024-04-01'::timestamptz),
	  (NULL, 'b', 'red', '2024-04-01')$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}');
SELECT changed('dim_item') AS changed_rows;
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT * FROM dim_edge.stg_item UNION ALL VALUES (NULL::int, 'nobody', 'grey', '2024-04-01'::timestamptz)$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}');
SELECT snap('dim_item');
SELECT * FROM elt.merge_dimension('dim_edge.dim_item',
	$$SELECT * FROM dim_edge.stg_item UNION ALL VALUES (NULL::int, 'nobody', 'grey', '2024-04-01'::timestamptz),
	  (NULL, 'nobody else', 'grey', '2024-05-01')$$,
	'{id}', effective_at => 'ts', type1_columns => '{colour}', deletes => 'close');
SELECT changed('dim_item') AS changed_rows;

-- Composite keys: all-NULL and partly NULL duplicates, new or matching a
-- member.
CREATE TABLE stg_acct (region text, no int, owner text);
INSERT INTO stg_acct VALUES ('eu', 1, 'a'), ('eu', NULL, 'b'), (NULL, NULL, 'c');
SELECT * FROM elt.merge_dimension('dim_edge.dim_acct', 'dim_edge.stg_acct', '{region,no}');
SELECT snap('dim_acct');
SELECT * FROM elt.merge_dimension('dim_edge.dim_acct',
	$$SELECT * FROM dim_edge.stg_acct UNION ALL VALUES (NULL::text, NULL::int, 'c2')$$, '{region,no}');
SELECT * FROM elt.merge_dimension('dim_edge.dim_acct',
	$$SELECT * FROM dim_edge.stg_acct UNION ALL VALUES ('eu', NULL::int, 'b')$$, '{region,no}',
	deletes => 'close');
SELECT * FROM elt.merge_dimension('dim_edge.dim_acct',
	$$SELECT * FROM dim_edge.stg_acct UNION ALL VALUES (NULL, 7, 'x'), (NULL, 7, 'y')$$, '{region,no}',
	deletes => 'flag');
SELECT changed('dim_acct') AS changed_rows;

-- A sparse surrogate key range: with keys 1 to 5 and from 2^40 on, the
-- range is too wide for the duplicate bitmap and the check groups the
-- source instead.  Duplicates are found the same, and merges still work.
SELECT * FROM elt.merge_dimension('dim_edge.dim_sparse', 'dim_edge.stg_item', '{id}',
	effective_at => 'ts');
ALTER TABLE dim_sparse ALTER COLUMN sparse_key RESTART WITH 1099511627776;
INSERT INTO stg_item VALUES (10, 'item 10', 'red', '2024-05-01'), (11, 'item 11', 'red', '2024-05-01');
SELECT * FROM elt.merge_dimension('dim_edge.dim_sparse', 'dim_edge.stg_item', '{id}',
	effective_at => 'ts');
SELECT snap('dim_sparse');
SELECT * FROM elt.merge_dimension('dim_edge.dim_sparse',
	$$SELECT * FROM dim_edge.stg_item UNION ALL SELECT * FROM dim_edge.stg_item WHERE id = 11$$,
	'{id}', effective_at => 'ts');
SELECT * FROM elt.merge_dimension('dim_edge.dim_sparse',
	$$SELECT * FROM dim_edge.stg_item UNION ALL SELECT id, 'x', colour, ts FROM dim_edge.stg_item WHERE id = 1$$,
	'{id}', effective_at => 'ts', deletes => 'close');
SELECT changed('dim_sparse') AS changed_rows;
UPDATE stg_item SET name = 'item 11b', ts = '2024-06-01' WHERE id = 11;
UPDATE stg_item SET name = 'item 1b', ts = '2024-06-01' WHERE id = 1;
SELECT * FROM elt.merge_dimension('dim_edge.dim_sparse',
	'SELECT * FROM dim_edge.stg_item WHERE id <> 2', '{id}', effective_at => 'ts', deletes => 'close');
SELECT sparse_key, id, name, ts(valid_from) AS valid_from, ts(valid_to) AS valid_to, is_current
  FROM dim_sparse ORDER BY id, valid_from;
SELECT * FROM elt.merge_dimension('dim_edge.dim_sparse',
	'SELECT * FROM dim_edge.stg_item WHERE id <> 2', '{id}', effective_at => 'ts', deletes => 'close');

------------------------------------------------------------------------
-- 3. Composite keys with NULL parts and deletes.
------------------------------------------------------------------------
CREATE TABLE stg_loc (country text, city text, label text, ts timestamptz);
INSERT INTO stg_loc VALUES
	('no', 'Oslo', 'capital', '2024-01-01'),
	('no', NULL, 'somewhere in Norway', '2024-01-01'),
	(NULL, 'Paris', 'a Paris', '2024-01-01'),
	(NULL, NULL, 'nowhere', '2024-01-01'),
	('us', NULL, 'somewhere in the US', '2024-01-01');
SELECT * FROM elt.merge_dimension('dim_edge.dim_loc', 'dim_edge.stg_loc', '{country,city}',
	effective_at => 'ts', deletes => 'close');
-- Unchanged NULL-key rows stay open, a changed one gets a new version, a
-- missing one is closed.
UPDATE stg_loc SET label = 'the Paris', ts = '2024-02-01' WHERE city = 'Paris';
DELETE FROM stg_loc WHERE country IS NULL AND city IS NULL;
SELECT * FROM elt.merge_dimension('dim_edge.dim_loc', 'dim_edge.stg_loc', '{country,city}',
	effective_at => 'ts', deletes => 'close');
SELECT country, city, label, ts(valid_from) AS valid_from, ts(valid_to) AS valid_to, is_current
  FROM dim_loc ORDER BY country NULLS FIRST, city NULLS FIRST, valid_from;
-- Run twice: the second run changes nothing.
SELECT snap('dim_loc');
SELECT * FROM elt.merge_dimension('dim_edge.dim_loc', 'dim_edge.stg_loc', '{country,city}',
	effective_at => 'ts', deletes => 'close');
SELECT changed('dim_loc') AS changed_rows;
-- The closed all-NULL member comes back (with an old source time): its new
-- version starts when the old one was closed, not before.
INSERT INTO stg_loc VALUES (NULL, NULL, 'nowhere', '2024-01-01');
SELECT * FROM elt.merge_dimension('dim_edge.dim_loc', 'dim_edge.stg_loc', '{country,city}',
	effective_at => 'ts', deletes => 'close');
SELECT country, city, label, ts(valid_from) AS valid_from, ts(valid_to) AS valid_to, is_current
  FROM dim_loc WHERE country IS NULL AND city IS NULL ORDER BY valid_from;
SELECT overlaps('dim_loc', '{country,city}') AS overlapping_versions;
SELECT country, city, count(*) FILTER (WHERE is_current) AS current_rows
  FROM dim_loc WHERE loc_key <> -1 GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST;

-- The same with deletes flagged.
DELETE FROM stg_loc WHERE country IS NULL AND city IS NULL;
INSERT INTO stg_loc VALUES (NULL, NULL, 'nowhere', '2024-01-01');
SELECT * FROM elt.merge_dimension('dim_edge.dim_locf', 'dim_edge.stg_loc', '{country,city}',
	effective_at => 'ts', deletes => 'flag');
UPDATE stg_loc SET label = 'Paris again', ts = '2024-03-01' WHERE city = 'Paris';
DELETE FROM stg_loc WHERE country IS NULL AND city IS NULL;
DELETE FROM stg_loc WHERE country = 'us';
SELECT * FROM elt.merge_dimension('dim_edge.dim_locf', 'dim_edge.stg_loc', '{country,city}',
	effective_at => 'ts', deletes => 'flag');
SELECT country, city, label, ts(valid_from) AS valid_from, ts(valid_to) AS valid_to, is_current, is_deleted
  FROM dim_locf ORDER BY country NULLS FIRST, city NULLS FIRST, valid_from;
SELECT snap('dim_locf');
SELECT * FROM elt.merge_dimension('dim_edge.dim_locf', 'dim_edge.stg_loc', '{country,city}',
	effective_at => 'ts', deletes => 'flag');
SELECT changed('dim_locf') AS changed_rows;
-- The flagged NULL-key member comes back: a new, unflagged version.
INSERT INTO stg_loc VALUES (NULL, NULL, 'nowhere', '2024-04-01');
SELECT * FROM elt.merge_dimension('dim_edge.dim_locf', 'dim_edge.stg_loc', '{country,city}',
	effective_at => 'ts', deletes => 'flag');
SELECT country, city, label, ts(valid_from) AS valid_from, ts(valid_to) AS valid_to, is_current, is_deleted
  FROM dim_locf WHERE country IS NULL ORDER BY city NULLS FIRST, valid_from;

-- A type 1 dimension overwrites NULL-key members in place.
SELECT * FROM elt.merge_dimension('dim_edge.dim_loc1', 'dim_edge.stg_loc', '{country,city}',
	scd_type => 1, deletes => 'flag');
UPDATE stg_loc SET label = 'Paris 3' WHERE city = 'Paris';
DELETE FROM stg_loc WHERE country = 'no' AND city IS NULL;
SELECT * FROM elt.merge_dimension('dim_edge.dim_loc1', 'dim_edge.stg_loc', '{country,city}',
	scd_type => 1, deletes => 'flag');
SELECT * FROM elt.merge_dimension('dim_edge.dim_loc1', 'dim_edge.stg_loc', '{country,city}',
	scd_type => 1, deletes => 'flag');
SELECT country, city, label, ts(ts) AS ts, is_deleted
  FROM dim_loc1 ORDER BY country NULLS FIRST, city NULLS FIRST, loc1_key;

------------------------------------------------------------------------
-- 4. Flagged deletes on type 1 and type 2 dimensions.
------------------------------------------------------------------------
CREATE TABLE stg_team (team text, coach text);
INSERT INTO stg_team VALUES ('red', 'Ann'), ('blue', 'Bob'), ('green', 'Cy');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_team', '{team}',
	scd_type => 1, deletes => 'flag');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team2', 'dim_edge.stg_team', '{team}',
	deletes => 'flag');
DELETE FROM stg_team WHERE team IN ('blue', 'green');
-- Flagged once; the second run changes nothing.
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_team', '{team}',
	scd_type => 1, deletes => 'flag');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_team', '{team}',
	scd_type => 1, deletes => 'flag');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team2', 'dim_edge.stg_team', '{team}',
	deletes => 'flag');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team2', 'dim_edge.stg_team', '{team}',
	deletes => 'flag');
SELECT team, coach, is_deleted FROM dim_team1 ORDER BY team;
SELECT team, coach, ts(valid_to) AS valid_to, is_current, is_deleted FROM dim_team2
 ORDER BY team, team2_key;
-- blue comes back unchanged and green changed: unflagged in place (type 1),
-- new versions (type 2); deletes => 'ignore' unflags them too.
INSERT INTO stg_team VALUES ('blue', 'Bob'), ('green', 'Dee');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_team', '{team}',
	scd_type => 1, deletes => 'ignore');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team2', 'dim_edge.stg_team', '{team}',
	deletes => 'ignore');
SELECT team, coach, is_deleted FROM dim_team1 ORDER BY team;
SELECT team, coach, ts(valid_to) AS valid_to, is_current, is_deleted FROM dim_team2
 ORDER BY team, team2_key;
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_team', '{team}',
	scd_type => 1, deletes => 'flag');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team2', 'dim_edge.stg_team', '{team}',
	deletes => 'flag');

------------------------------------------------------------------------
-- 5. Type-1 columns inside a type 2 dimension, and ignored columns.
------------------------------------------------------------------------
CREATE TABLE stg_emp (emp int, dept text, email text, note text, ts timestamptz);
INSERT INTO stg_emp VALUES
	(1, 'sales', 'a@x', 'n1', '2024-01-01'),
	(2, 'sales', 'b@x', 'n2', '2024-01-01'),
	(3, 'ops', 'c@x', 'n3', '2024-01-01'),
	(4, 'ops', 'd@x', 'n4', '2024-01-01');
SELECT * FROM elt.merge_dimension('dim_edge.dim_emp', 'dim_edge.stg_emp', '{emp}',
	effective_at => 'ts', type1_columns => '{email}', ignore_columns => '{note}');
UPDATE stg_emp SET dept = 'ops', ts = '2024-02-01' WHERE emp = 1;
SELECT * FROM elt.merge_dimension('dim_edge.dim_emp', 'dim_edge.stg_emp', '{emp}',
	effective_at => 'ts', type1_columns => '{email}', ignore_columns => '{note}');
-- In one run: 1 changes both kinds, 2 only its type-1 column, 3 only its
-- versioned column, 4 only its ignored column (no change), and 5 is new.
UPDATE stg_emp SET dept = 'hr', email = 'a@y', ts = '2024-03-01' WHERE emp = 1;
UPDATE stg_emp SET email = NULL WHERE emp = 2;
UPDATE stg_emp SET dept = NULL, ts = '2024-03-01' WHERE emp = 3;
UPDATE stg_emp SET note = 'changed', ts = '2024-03-01' WHERE emp = 4;
INSERT INTO stg_emp VALUES (5, 'hr', 'e@x', 'n5', '2024-03-01');
SELECT * FROM elt.merge_dimension('dim_edge.dim_emp', 'dim_edge.stg_emp', '{emp}',
	effective_at => 'ts', type1_columns => '{email}', ignore_columns => '{note}');
SELECT emp, dept, email, note, ts(valid_from) AS valid_from, ts(valid_to) AS valid_to, is_current
  FROM dim_emp ORDER BY emp, valid_from;
-- An ignored column changed together with a versioned one is carried into
-- the new version.
UPDATE stg_emp SET dept = 'it', note = 'moved', ts = '2024-04-01' WHERE emp = 4;
SELECT * FROM elt.merge_dimension('dim_edge.dim_emp', 'dim_edge.stg_emp', '{emp}',
	effective_at => 'ts', type1_columns => '{email}', ignore_columns => '{note}');
SELECT * FROM elt.merge_dimension('dim_edge.dim_emp', 'dim_edge.stg_emp', '{emp}',
	effective_at => 'ts', type1_columns => '{email}', ignore_columns => '{note}');
SELECT emp, dept, email, note, ts(valid_from) AS valid_from, ts(valid_to) AS valid_to, is_current
  FROM dim_emp WHERE emp = 4 ORDER BY valid_from;

------------------------------------------------------------------------
-- 6. NULL effective times: a new member or a new version needs a time; an
-- error names the key rather than dating history at load time.
------------------------------------------------------------------------
CREATE TABLE stg_when (k int, v text, ts timestamptz);
INSERT INTO stg_when VALUES (1, 'a', '2024-01-01'), (2, 'b', NULL);
SELECT * FROM elt.merge_dimension('dim_edge.dim_when', 'dim_edge.stg_when', '{k}',
	effective_at => 'ts', ignore_columns => '{ts}');
SELECT to_regclass('dim_edge.dim_when') AS created;
UPDATE stg_when SET ts = '2024-01-01' WHERE k = 2;
SELECT * FROM elt.merge_dimension('dim_edge.dim_when', 'dim_edge.stg_when', '{k}',
	effective_at => 'ts', ignore_columns => '{ts}', deletes => 'close');
SELECT snap('dim_when');
-- Unchanged rows need no time (ts is not compared here).
UPDATE stg_when SET ts = NULL WHERE k = 2;
SELECT * FROM elt.merge_dimension('dim_edge.dim_when', 'dim_edge.stg_when', '{k}',
	effective_at => 'ts', ignore_columns => '{ts}', deletes => 'close');
-- A changed row, and a new one, without a time are refused.
UPDATE stg_when SET v = 'b2' WHERE k = 2;
SELECT * FROM elt.merge_dimension('dim_edge.dim_when', 'dim_edge.stg_when', '{k}',
	effective_at => 'ts', ignore_columns => '{ts}', deletes => 'close');
UPDATE stg_when SET v = 'b', ts = '2024-01-01' WHERE k = 2;
INSERT INTO stg_when VALUES (3, 'c', NULL);
SELECT * FROM elt.merge_dimension('dim_edge.dim_when', 'dim_edge.stg_when', '{k}',
	effective_at => 'ts', ignore_columns => '{ts}', deletes => 'close');
-- Also when the key has NULL parts, and from an expression.
UPDATE stg_when SET k = NULL WHERE k = 3;
SELECT * FROM elt.merge_dimension('dim_edge.dim_when', 'dim_edge.stg_when', '{k}',
	effective_at => 'ts', ignore_columns => '{ts}', deletes => 'close');
SELECT * FROM elt.merge_dimension('dim_edge.dim_when', 'dim_edge.stg_when', '{k}',
	effective_at => 'ts + interval ''1 day''', ignore_columns => '{ts}', deletes => 'close');
SELECT changed('dim_when') AS changed_rows;
-- Dating undated rows at load time is the caller's explicit choice.
SELECT * FROM elt.merge_dimension('dim_edge.dim_when', 'dim_edge.stg_when', '{k}',
	effective_at => 'coalesce(ts, now())', ignore_columns => '{ts}', deletes => 'close');
SELECT k, v, ts(valid_from) AS valid_from, ts(valid_to) AS valid_to, is_current
  FROM dim_when ORDER BY k NULLS FIRST, valid_from;
-- Type 1 keeps no history and needs no time.
SELECT * FROM elt.merge_dimension('dim_edge.dim_when1', 'dim_edge.stg_when', '{k}',
	scd_type => 1, effective_at => 'ts', ignore_columns => '{ts}');

------------------------------------------------------------------------
-- 7. An empty source.
------------------------------------------------------------------------
CREATE TABLE stg_empty (LIKE stg_team);
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_team', '{team}');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}',
	deletes => 'close');
SELECT team3_key, team, coach, ts(valid_to) AS valid_to, is_current FROM dim_team3 ORDER BY team;
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}',
	deletes => 'close');
-- Flagged on a type 1 dimension.
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_empty', '{team}',
	scd_type => 1, deletes => 'flag');
SELECT team1_key, team, is_deleted FROM dim_team1 ORDER BY team;
-- An empty first source creates the dimension with its unknown member.
SELECT * FROM elt.merge_dimension('dim_edge.dim_team4', 'dim_edge.stg_empty', '{team}',
	deletes => 'close');
SELECT team4_key, team, coach, ts(valid_from) AS valid_from, is_current FROM dim_team4;

------------------------------------------------------------------------
-- 8. A source of only the changed rows gives the same dimension as the
-- full source.
------------------------------------------------------------------------
CREATE TABLE stg_prod (sku text, title text, price numeric, cat text, ts timestamptz);
INSERT INTO stg_prod SELECT 'p' || i, 'title ' || i, i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'c' || i % 3 END,
	'2024-01-01' FROM generate_series(1, 200) AS i;
SELECT * FROM elt.merge_dimension('dim_edge.dim_prod_full', 'dim_edge.stg_prod', '{sku}',
	effective_at => 'ts', type1_columns => '{cat}');
SELECT * FROM elt.merge_dimension('dim_edge.dim_prod_part', 'dim_edge.stg_prod', '{sku}',
	effective_at => 'ts', type1_columns => '{cat}');
CREATE TABLE changes (sku text PRIMARY KEY);
INSERT INTO changes SELECT 'p' || i FROM generate_series(1, 200, 7) AS i;
INSERT INTO changes VALUES ('p101');
INSERT INTO changes SELECT 'p' || i FROM generate_series(201, 205) AS i;
-- Odd numbers get a new version, multiples of 3 a type-1 change (odd
-- multiples of 3 both), p101 a NULL title.
UPDATE stg_prod SET price = price + 1, ts = '2024-02-01'
 WHERE sku IN (SELECT sku FROM changes) AND substr(sku, 2)::int % 2 = 1;
UPDATE stg_prod SET cat = 'new'
 WHERE sku IN (SELECT sku FROM changes) AND substr(sku, 2)::int % 3 = 0;
UPDATE stg_prod SET title = NULL, ts = '2024-02-01' WHERE sku = 'p101';
INSERT INTO stg_prod SELECT 'p' || i, 'title ' || i, i, 'c1', '2024-02-01' FROM generate_series(201, 205) AS i;
SELECT * FROM elt.merge_dimension('dim_edge.dim_prod_full', 'dim_edge.stg_prod', '{sku}',
	effective_at => 'ts', type1_columns => '{cat}');
SELECT * FROM elt.merge_dimension('dim_edge.dim_prod_part',
	'SELECT p.* FROM dim_edge.stg_prod AS p JOIN dim_edge.changes USING (sku)', '{sku}',
	effective_at => 'ts', type1_columns => '{cat}');
SELECT count(*) AS differences FROM (
	(SELECT sku, title, price, cat, ts, valid_from, valid_to, is_current, is_deleted FROM dim_prod_full
	 EXCEPT ALL
	 SELECT sku, title, price, cat, ts, valid_from, valid_to, is_current, is_deleted FROM dim_prod_part)
	UNION ALL
	(SELECT sku, title, price, cat, ts, valid_from, valid_to, is_current, is_deleted FROM dim_prod_part
	 EXCEPT ALL
	 SELECT sku, title, price, cat, ts, valid_from, valid_to, is_current, is_deleted FROM dim_prod_full)) AS d;
SELECT sku, title, price, cat, ts(valid_from) AS valid_from, ts(valid_to) AS valid_to, is_current
  FROM dim_prod_part WHERE sku IN ('p1', 'p8', 'p15', 'p36', 'p101', 'p205') ORDER BY sku, valid_from;
SELECT count(*) AS versions, count(*) FILTER (WHERE is_current) AS current FROM dim_prod_part;

------------------------------------------------------------------------
-- 9. Hostile identifiers: quotes, spaces, upper case and semicolons in the
-- schema, table and column names.
------------------------------------------------------------------------
CREATE SCHEMA "Edge; DROP SCHEMA dim_edge CASCADE; --";
CREATE TABLE "Edge; DROP SCHEMA dim_edge CASCADE; --"."Stg ""Client""" (
	"Client Id" int, "Re;gion" text, "Name" text, "x""y" text);
INSERT INTO "Edge; DROP SCHEMA dim_edge CASCADE; --"."Stg ""Client""" VALUES
	(1, 'eu', 'Ann', 'q'), (2, NULL, 'Bob', 'r'), (NULL, 'us', 'Cy', 's');
SELECT * FROM elt.merge_dimension('"Edge; DROP SCHEMA dim_edge CASCADE; --"."Dim ""Client""; --"',
	'"Edge; DROP SCHEMA dim_edge CASCADE; --"."Stg ""Client"""', ARRAY['Client Id', 'Re;gion'],
	type1_columns => ARRAY['x"y'], deletes => 'close');
\d "Edge; DROP SCHEMA dim_edge CASCADE; --"."Dim ""Client""; --"
UPDATE "Edge; DROP SCHEMA dim_edge CASCADE; --"."Stg ""Client""" SET "Name" = 'Bo' WHERE "Client Id" = 2;
UPDATE "Edge; DROP SCHEMA dim_edge CASCADE; --"."Stg ""Client""" SET "x""y" = 'Q' WHERE "Client Id" = 1;
DELETE FROM "Edge; DROP SCHEMA dim_edge CASCADE; --"."Stg ""Client""" WHERE "Client Id" IS NULL;
SELECT * FROM elt.merge_dimension('"Edge; DROP SCHEMA dim_edge CASCADE; --"."Dim ""Client""; --"',
	'SELECT * FROM "Edge; DROP SCHEMA dim_edge CASCADE; --"."Stg ""Client"""', ARRAY['Client Id', 'Re;gion'],
	type1_columns => ARRAY['x"y'], deletes => 'close');
SELECT "Client Id", "Re;gion", "Name", "x""y", is_current
  FROM "Edge; DROP SCHEMA dim_edge CASCADE; --"."Dim ""Client""; --"
 ORDER BY "Client Id" NULLS FIRST, "Re;gion" NULLS FIRST, valid_from;
-- A duplicate is reported with the key's names quoted.
SELECT * FROM elt.merge_dimension('"Edge; DROP SCHEMA dim_edge CASCADE; --"."Dim ""Client""; --"',
	'SELECT * FROM "Edge; DROP SCHEMA dim_edge CASCADE; --"."Stg ""Client""" UNION ALL
	 SELECT 2, NULL, ''Bo'', ''r''', ARRAY['Client Id', 'Re;gion'],
	type1_columns => ARRAY['x"y'], deletes => 'close');
-- A surrogate key with a hostile name.
SELECT * FROM elt.merge_dimension('"Edge; DROP SCHEMA dim_edge CASCADE; --".plain',
	'"Edge; DROP SCHEMA dim_edge CASCADE; --"."Stg ""Client"""', ARRAY['Client Id'],
	surrogate_key => 'Key"; DROP TABLE x; --', scd_type => 1);
SELECT "Key""; DROP TABLE x; --", "Client Id", "Name"
  FROM "Edge; DROP SCHEMA dim_edge CASCADE; --".plain ORDER BY 1;
SELECT count(*) AS still_there FROM pg_namespace WHERE nspname = 'dim_edge';
DROP SCHEMA "Edge; DROP SCHEMA dim_edge CASCADE; --" CASCADE;

------------------------------------------------------------------------
-- 10. A cancelled merge leaves the dimension as it was, and a rerun works.
------------------------------------------------------------------------
CREATE TABLE stg_big (id int, v text, ts timestamptz);
INSERT INTO stg_big SELECT i, 'v' || i, '2024-01-01' FROM generate_series(1, 300000) AS i;
SELECT * FROM elt.merge_dimension('dim_edge.dim_big', 'dim_edge.stg_big', '{id}',
	effective_at => 'ts');
UPDATE stg_big SET v = v || 'b', ts = '2024-02-01' WHERE id % 10 = 0;
DELETE FROM stg_big WHERE id % 100 = 1;
INSERT INTO stg_big SELECT i, 'v' || i, '2024-02-01' FROM generate_series(300001, 303000) AS i;
SELECT snap('dim_big');
SET jit = on;
\set VERBOSITY terse
SET statement_timeout = '50ms';
SELECT * FROM elt.merge_dimension('dim_edge.dim_big', 'dim_edge.stg_big', '{id}',
	effective_at => 'ts', deletes => 'close');
RESET statement_timeout;
\set VERBOSITY default
SELECT changed('dim_big') AS changed_rows;
-- The settings a merge changes for its own statements are restored, after
-- an error as after a success.
SHOW jit;
SELECT * FROM elt.merge_dimension('dim_edge.dim_big', 'dim_edge.stg_big', '{id}',
	effective_at => 'ts', deletes => 'close');
SHOW jit;
RESET jit;
SELECT count(*) AS versions, count(*) FILTER (WHERE is_current) AS current,
	   count(*) FILTER (WHERE NOT is_current AND valid_to = '2024-02-01') AS changed,
	   count(*) FILTER (WHERE NOT is_current AND valid_to > '2024-02-01') AS deleted
  FROM dim_big WHERE big_key <> -1;
SELECT * FROM elt.merge_dimension('dim_edge.dim_big', 'dim_edge.stg_big', '{id}',
	effective_at => 'ts', deletes => 'close');

RESET search_path;

-- elt.merge_dimension edge cases of the natural key: duplicate natural
-- keys on every path of the classifying pass (matched rows, new rows, NULL
-- keys, a sparse surrogate key range), and composite keys with NULL parts
-- and deletes.  Every failing call must leave the dimension exactly as it
-- was.
\i test/regress/dimension_helpers.sql
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

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA dim_edge CASCADE;
RESET client_min_messages;

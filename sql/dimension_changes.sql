-- elt.merge_dimension edge cases of what changes: flagged deletes, type-1
-- and ignored columns, NULL effective times, empty sources and a source of
-- only the changed rows.  Every failing call must leave the dimension
-- exactly as it was.
\i test/regress/dimension_helpers.sql

------------------------------------------------------------------------
-- 1. Flagged deletes on type 1 and type 2 dimensions.
------------------------------------------------------------------------
CREATE TABLE stg_team (team text, coach text);
INSERT INTO stg_team VALUES ('red', 'Ann'), ('blue', 'Bob'), ('green', 'Cy');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_team', '{team}',
	scd_type => 1, deletes => 'flag');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team2', 'dim_edge.stg_team', '{team}',
	deletes => 'flag');
DELETE FROM stg_team WHERE team IN ('blue', 'green');
-- Flagged once; the second run changes nothing.  Two of three members is
-- more than the default max_delete_share (0.5): the first run allows it;
-- the second is let through with the default, the members it would flag
-- being flagged already.
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_team', '{team}',
	scd_type => 1, deletes => 'flag', max_delete_share => 1);
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_team', '{team}',
	scd_type => 1, deletes => 'flag');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team2', 'dim_edge.stg_team', '{team}',
	deletes => 'flag', max_delete_share => 0.67);
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
-- 2. Type-1 columns inside a type 2 dimension, and ignored columns.
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
-- 3. NULL effective times: a new member or a new version needs a time; an
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
-- 4. An empty source.
------------------------------------------------------------------------
CREATE TABLE stg_empty (LIKE stg_team);
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_team', '{team}');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}');
-- An empty source would close or flag every member: refused (EL060) with
-- the default max_delete_share, nothing written.
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}',
	deletes => 'close');
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_empty', '{team}',
	scd_type => 1, deletes => 'flag');
-- Under the share it goes through; over it, whatever the mode, refused with
-- its own SQLSTATE.
DO $$
BEGIN
	PERFORM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}',
								deletes => 'close', max_delete_share => 0.99);
EXCEPTION WHEN SQLSTATE 'EL060' THEN
	RAISE NOTICE 'refused: %', SQLERRM;
END $$;
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3',
	$$SELECT * FROM dim_edge.stg_team WHERE team <> 'red'$$, '{team}',
	deletes => 'close', max_delete_share => 0.34);
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3',
	$$SELECT * FROM dim_edge.stg_team WHERE team = 'red'$$, '{team}',
	deletes => 'close', max_delete_share => 0.34);
-- Bad values.
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}',
	deletes => 'close', max_delete_share => NULL);
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}',
	deletes => 'close', max_delete_share => 1.5);
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}',
	deletes => 'close', max_delete_share => 'NaN');
SELECT team3_key, team, coach, ts(valid_to) AS valid_to, is_current FROM dim_team3 ORDER BY team;
SELECT team1_key, team, is_deleted FROM dim_team1 ORDER BY team;
-- Said explicitly, it is done.
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}',
	deletes => 'close', max_delete_share => 1);
SELECT team3_key, team, coach, ts(valid_to) AS valid_to, is_current FROM dim_team3 ORDER BY team;
-- Nothing current is left to close: the guard has nothing to refuse.
SELECT * FROM elt.merge_dimension('dim_edge.dim_team3', 'dim_edge.stg_empty', '{team}',
	deletes => 'close');
-- Flagged on a type 1 dimension.
SELECT * FROM elt.merge_dimension('dim_edge.dim_team1', 'dim_edge.stg_empty', '{team}',
	scd_type => 1, deletes => 'flag', max_delete_share => 1);
SELECT team1_key, team, is_deleted FROM dim_team1 ORDER BY team;
-- An empty first source creates the dimension with its unknown member.
SELECT * FROM elt.merge_dimension('dim_edge.dim_team4', 'dim_edge.stg_empty', '{team}',
	deletes => 'close');
SELECT team4_key, team, coach, ts(valid_from) AS valid_from, is_current FROM dim_team4;

------------------------------------------------------------------------
-- 5. A source of only the changed rows gives the same dimension as the
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

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA dim_edge CASCADE;
RESET client_min_messages;

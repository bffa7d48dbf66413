-- elt.merge_dimension with hostile identifiers, and a cancelled merge,
-- which must leave the dimension exactly as it was.
\i test/regress/dimension_helpers.sql

------------------------------------------------------------------------
-- 1. Hostile identifiers: quotes, spaces, upper case and semicolons in the
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
-- 2. A cancelled merge leaves the dimension as it was, and a rerun works.
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
SET client_min_messages = warning;
DROP SCHEMA dim_edge CASCADE;
RESET client_min_messages;

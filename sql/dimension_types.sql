-- elt.merge_dimension: types 0 and 1, flagged deletes, schema drift, bad
-- arguments, hostile identifiers, dbt-style names and privileges.
SET timezone = 'UTC';
CREATE SCHEMA dim_ty;
SET search_path = dim_ty, public;

-- Type 1: overwrite in place; deletes flagged, and a flagged member that
-- comes back is unflagged.
CREATE TABLE stg_code (code text, label text, weight int);
INSERT INTO stg_code VALUES ('x', 'one', 1), ('y', NULL, 2), ('z', 'three', NULL);
SELECT * FROM elt.merge_dimension('dim_ty.dim_code', 'dim_ty.stg_code', '{code}', scd_type => 1);
\d dim_ty.dim_code
UPDATE stg_code SET label = NULL WHERE code = 'x';
UPDATE stg_code SET label = 'two' WHERE code = 'y';
DELETE FROM stg_code WHERE code = 'z';
SELECT * FROM elt.merge_dimension('dim_ty.dim_code', 'dim_ty.stg_code', '{code}', scd_type => 1,
	deletes => 'flag');
SELECT * FROM dim_code ORDER BY code_key;
INSERT INTO stg_code VALUES ('z', 'three', NULL);
SELECT * FROM elt.merge_dimension('dim_ty.dim_code', 'dim_ty.stg_code', '{code}', scd_type => 1,
	deletes => 'flag');
SELECT * FROM elt.merge_dimension('dim_ty.dim_code', 'dim_ty.stg_code', '{code}', scd_type => 1,
	deletes => 'flag');
SELECT * FROM dim_code ORDER BY code_key;
-- close needs history; a type 1 dimension called as type 2 is refused.
SELECT * FROM elt.merge_dimension('dim_ty.dim_code', 'dim_ty.stg_code', '{code}', scd_type => 1,
	deletes => 'close');
SELECT * FROM elt.merge_dimension('dim_ty.dim_code', 'dim_ty.stg_code', '{code}');

-- Type 0: attributes never change; type-1 columns are still overwritten.
CREATE TABLE stg_birth (person text, born date, nickname text);
INSERT INTO stg_birth VALUES ('p', '2000-01-01', 'pp');
SELECT * FROM elt.merge_dimension('dim_ty.dim_birth', 'dim_ty.stg_birth', '{person}',
	scd_type => 0, type1_columns => '{nickname}');
UPDATE stg_birth SET born = '1999-12-31', nickname = 'P';
INSERT INTO stg_birth VALUES ('q', '2001-01-01', NULL);
SELECT * FROM elt.merge_dimension('dim_ty.dim_birth', 'dim_ty.stg_birth', '{person}',
	scd_type => 0, type1_columns => '{nickname}');
SELECT * FROM dim_birth ORDER BY birth_key;

-- Type 2 with deletes flagged: the flag is set on the current version, and a
-- member that comes back gets a new version.
CREATE TABLE stg_shop (shop int, name text);
INSERT INTO stg_shop VALUES (1, 'North'), (2, 'South');
SELECT * FROM elt.merge_dimension('dim_ty.dim_shop', 'dim_ty.stg_shop', '{shop}', deletes => 'flag');
DELETE FROM stg_shop WHERE shop = 2;
SELECT * FROM elt.merge_dimension('dim_ty.dim_shop', 'dim_ty.stg_shop', '{shop}', deletes => 'flag');
INSERT INTO stg_shop VALUES (2, 'South');
SELECT * FROM elt.merge_dimension('dim_ty.dim_shop', 'dim_ty.stg_shop', '{shop}', deletes => 'flag');
SELECT shop, name, is_current, is_deleted FROM dim_shop ORDER BY shop_key;

-- Schema drift is an error, never a silently dropped column.
ALTER TABLE stg_shop ADD COLUMN city text;
SELECT * FROM elt.merge_dimension('dim_ty.dim_shop', 'dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_shop', 'SELECT shop FROM dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_shop', 'SELECT shop, name::varchar AS name FROM dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_shop', 'SELECT shop, name, true AS is_current FROM dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_shop', 'SELECT shop, name FROM dim_ty.stg_shop', '{shop}',
	surrogate_key => 'id');
ALTER TABLE stg_shop DROP COLUMN city;

-- Change detection compares values, not their bytes: equal values stored
-- differently (numeric scale, -0 and 0, NaN, a compressed long text against
-- the same text computed by a SELECT) are unchanged; a type without an
-- equality operator (json, point) is compared as text; a change in any of
-- them, or NULL on one side, makes a new version.
CREATE TABLE stg_val (k int, amount numeric, ratio float8, body text, doc json, doc_b jsonb, spot point);
INSERT INTO stg_val VALUES
	(1, 1.0, 0.0, repeat('long text ', 1000), '{"a": 1}', '{"a": 1}', '(1,2)'),
	(2, 2.5, 'NaN', 'short', '[1, 2]', '[1, 2]', '(0,0)'),
	(3, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT * FROM elt.merge_dimension('dim_ty.dim_val', 'dim_ty.stg_val', '{k}', effective_at => $$'2024-01-01'::date$$);
SELECT pg_column_compression(body) IS NOT NULL AS body_compressed FROM dim_val WHERE k = 1;
SELECT * FROM elt.merge_dimension('dim_ty.dim_val',
	$$SELECT k, amount * 1.00 AS amount, -ratio AS ratio,
			 CASE WHEN k = 1 THEN repeat('long text ', 500) || repeat('long text ', 500) ELSE body END AS body,
			 doc, doc_b, spot FROM dim_ty.stg_val$$,
	'{k}', effective_at => $$'2024-02-01'::date$$);
SELECT * FROM elt.merge_dimension('dim_ty.dim_val',
	$$SELECT k, amount, ratio, body, CASE WHEN k = 1 THEN '{"a":1}'::json ELSE doc END AS doc, doc_b,
			 CASE WHEN k = 2 THEN point '(0,1)' ELSE spot END AS spot FROM dim_ty.stg_val$$,
	'{k}', effective_at => $$'2024-03-01'::date$$);
SELECT * FROM elt.merge_dimension('dim_ty.dim_val',
	$$SELECT k, CASE WHEN k = 3 THEN 0 ELSE amount END AS amount, ratio,
			 CASE WHEN k = 1 THEN body || '!' ELSE body END AS body, doc, doc_b, spot FROM dim_ty.stg_val$$,
	'{k}', effective_at => $$'2024-04-01'::date$$);
SELECT k, amount, ratio, left(body, 12) AS body, doc, doc_b, spot, valid_from::date, is_current
  FROM dim_val WHERE k <> -1 ORDER BY k, valid_from;

-- Bad arguments.
SELECT * FROM elt.merge_dimension(NULL, 'dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', NULL, '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', NULL);
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop,NULL}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop,shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{nope}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop}', scd_type => 3);
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop}', deletes => 'drop');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop}', type1_columns => '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop}', type1_columns => '{nope}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop}', ignore_columns => '{name}',
	type1_columns => '{name}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.missing', '{shop}');
SELECT * FROM elt.merge_dimension('nope.dim_x', 'dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'SELECT 1', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'SELECT shop, shop FROM dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'SELECT * FROM dim_ty.stg_shop; DROP TABLE dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'SELECT * INTO dim_ty.evil FROM dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'WITH d AS (DELETE FROM dim_ty.stg_shop RETURNING *) SELECT * FROM d', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop}',
	effective_at => 'now()); DROP TABLE dim_ty.stg_shop; --');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop}',
	effective_at => 'now() FROM pg_class');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop}',
	effective_at => 'shop');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'dim_ty.stg_shop', '{shop}', surrogate_key => '');
CREATE VIEW stg_shop_v AS SELECT * FROM stg_shop;
SELECT * FROM elt.merge_dimension('dim_ty.stg_shop_v', 'dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'SELEC * FROM dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'SELECT * FROM dim_ty.stg_shop WHERE', '{shop}');
-- The grammar's other refusals are errors in the argument too.
SELECT * FROM elt.merge_dimension('dim_ty.dim_x', 'SELECT * FROM dim_ty.stg_shop LIMIT 1, 2', '{shop}');
SELECT count(*) AS stg_shop_rows FROM stg_shop;
SELECT to_regclass('dim_ty.dim_x') AS dim_x, to_regclass('dim_ty.evil') AS evil;

-- Hostile identifiers are quoted, never executed: quotes, semicolons,
-- spaces and upper case in schema, table and column names.
CREATE SCHEMA "Sales; DROP";
CREATE TABLE "Sales; DROP"."Raw ""Users""" ("User Id" int, "Name'); DROP TABLE x; --" text, "CITY" text);
INSERT INTO "Sales; DROP"."Raw ""Users""" VALUES (1, 'a', 'A'), (2, 'b', 'B');
SELECT * FROM elt.merge_dimension('"Sales; DROP"."Dim User"', '"Sales; DROP"."Raw ""Users"""',
	'{User Id}', type1_columns => '{CITY}');
UPDATE "Sales; DROP"."Raw ""Users""" SET "Name'); DROP TABLE x; --" = 'c', "CITY" = 'C' WHERE "User Id" = 2;
SELECT * FROM elt.merge_dimension('"Sales; DROP"."Dim User"', '"Sales; DROP"."Raw ""Users"""',
	'{User Id}', type1_columns => '{CITY}', surrogate_key => 'Dim User_key');
\d "Sales; DROP"."Dim User"
SELECT "Dim User_key", "User Id", "Name'); DROP TABLE x; --", "CITY", is_current
  FROM "Sales; DROP"."Dim User" ORDER BY 1;
-- An unquoted mixed-case name folds to lower case, as in SQL.
SELECT * FROM elt.merge_dimension('"Sales; DROP".Dim_Lower', '"Sales; DROP"."Raw ""Users"""', '{User Id}');
SELECT relname FROM pg_class WHERE relnamespace = '"Sales; DROP"'::regnamespace AND relkind = 'r'
 ORDER BY 1;
SELECT * FROM elt.merge_dimension('"Sales; DROP"."Dim User" extra', '"Sales; DROP"."Raw ""Users"""', '{User Id}');

-- dbt's {{ this }}: "database"."schema"."table", inside the caller's
-- transaction.
SELECT format('%I.%I.%I', current_database(), 'dim_ty', 'dim_dbt') AS this \gset
BEGIN;
SELECT * FROM elt.merge_dimension(:'this', 'dim_ty.stg_shop', '{shop}');
SELECT * FROM elt.merge_dimension(:'this', 'dim_ty.stg_shop', '{shop}');
ROLLBACK;
SELECT to_regclass('dim_ty.dim_dbt') AS rolled_back;
SELECT * FROM elt.merge_dimension('other_db.dim_ty.dim_dbt', 'dim_ty.stg_shop', '{shop}');

-- A role that is not superuser merges into its own tables with its own
-- privileges; the run is recorded for it, and it sees only its records.
CREATE ROLE regress_dim_user LOGIN;
CREATE SCHEMA dim_ty_own AUTHORIZATION regress_dim_user;
SET ROLE regress_dim_user;
CREATE TABLE dim_ty_own.stg (k int, v text);
INSERT INTO dim_ty_own.stg VALUES (1, 'a');
SELECT * FROM elt.merge_dimension('dim_ty_own.dim_k', 'dim_ty_own.stg', '{k}');
SELECT function, target, inserted, run_by FROM elt.model_run;
INSERT INTO elt.model_run (function, target, started_at, elapsed, run_by)
	VALUES ('forged', 'x', now(), '0', 'regress_dim_user');
DELETE FROM elt.model_run;
-- No privileges on someone else's tables.
SELECT * FROM elt.merge_dimension('dim_ty_own.dim_code', 'dim_ty.stg_code', '{code}');
SELECT * FROM elt.merge_dimension('dim_ty.dim_code', 'dim_ty_own.stg', '{k}');
RESET ROLE;
SELECT tableowner FROM pg_tables WHERE schemaname = 'dim_ty_own' AND tablename = 'dim_k';
DROP SCHEMA dim_ty_own CASCADE;
DROP ROLE regress_dim_user;

RESET search_path;

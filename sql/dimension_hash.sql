-- elt.merge_dimension's stored row hash: a dimension merged through its
-- hashes ends up exactly like the same dimension merged by comparing
-- columns (its hashes scrambled before every merge, so that every current
-- row is fetched and compared), with the same counts, through values that
-- are equal without being identical, NULLs, json compared as text, a type-1
-- change in a type-6 dimension, a column added between runs and a
-- dimension built without the hash column.
SET timezone = 'UTC';
CREATE SCHEMA dim_h;
SET search_path = dim_h, public;

CREATE TABLE src (id int, amount numeric, ratio float8, doc jsonb, raw json,
				  label text, email text, ts timestamptz);
INSERT INTO src VALUES
	(1, 1.0, 0, '{"a": 1, "b": [1, 2]}', '{"x": 1}', 'one', 'a@x', '2024-01-01'),
	(2, NULL, 'NaN', '[]', '[]', NULL, 'b@x', '2024-01-01'),
	(3, 3, 1.5, NULL, NULL, 'three', NULL, '2024-01-01'),
	(NULL, 4, 2.5, '{}', '{}', 'null key', 'n@x', '2024-01-01');

-- merge(args) merges src into dim_hashed and, with the same arguments, into
-- dim_compared after scrambling its hashes; it shows the counts of both
-- (they must be equal) and whether the two dimensions hold the same rows.
CREATE FUNCTION pg_temp.merge(args text, deletes text DEFAULT 'close')
RETURNS TABLE (hashed text, compared text, same_rows boolean, hashes_ok boolean)
LANGUAGE plpgsql AS $$
DECLARE
	cols text;
BEGIN
	IF to_regclass('dim_h.dim_compared') IS NOT NULL THEN
		-- a hash no row can have under this signature: every row is compared
		UPDATE dim_h.dim_compared SET _elt_row_hash = -_elt_row_hash - 1;
	END IF;
	EXECUTE format($q$SELECT format('%%s/%%s/%%s/%%s', inserted, updated, closed, unchanged)
		FROM elt.merge_dimension('dim_h.dim_hashed', 'dim_h.src', '{id}', deletes => %L %s)$q$,
		deletes, args) INTO hashed;
	EXECUTE format($q$SELECT format('%%s/%%s/%%s/%%s', inserted, updated, closed, unchanged)
		FROM elt.merge_dimension('dim_h.dim_compared', 'dim_h.src', '{id}', deletes => %L %s)$q$,
		deletes, args) INTO compared;
	SELECT string_agg(format('%I::text', attname), ', ' ORDER BY attnum) INTO cols
	  FROM pg_attribute WHERE attrelid = 'dim_h.dim_hashed'::regclass AND attnum > 0
	   AND NOT attisdropped AND attname NOT IN ('_elt_row_hash', 'hashed_key');
	EXECUTE format('SELECT NOT EXISTS ((SELECT %1$s FROM dim_h.dim_hashed EXCEPT ALL
						SELECT %1$s FROM dim_h.dim_compared)
					   UNION ALL (SELECT %1$s FROM dim_h.dim_compared EXCEPT ALL
						SELECT %1$s FROM dim_h.dim_hashed))', cols) INTO same_rows;
	-- every current member has a hash after a merge, and both agree on it
	SELECT NOT EXISTS (SELECT FROM dim_h.dim_hashed WHERE is_current AND hashed_key <> -1
						 AND _elt_row_hash IS NULL)
		   AND NOT EXISTS ((SELECT id, _elt_row_hash FROM dim_h.dim_hashed WHERE is_current
							EXCEPT ALL SELECT id, _elt_row_hash FROM dim_h.dim_compared WHERE is_current)
						   UNION ALL
						   (SELECT id, _elt_row_hash FROM dim_h.dim_compared WHERE is_current
							EXCEPT ALL SELECT id, _elt_row_hash FROM dim_h.dim_hashed WHERE is_current))
	  INTO hashes_ok;
	RETURN NEXT;
END $$;

-- The first build writes the hashes.
SELECT * FROM pg_temp.merge(', type1_columns => ''{email}'', effective_at => ''ts''');
SELECT count(*) AS members, count(_elt_row_hash) AS hashed FROM dim_hashed WHERE hashed_key <> -1;

-- Equal values that are not identical: numeric scale, -0, every NaN, jsonb
-- key order and spacing: all unchanged.
UPDATE src SET amount = 1.000, ratio = '-0', doc = '{ "b": [1,2], "a": 1.0 }' WHERE id = 1;
UPDATE src SET ratio = 'NaN'::float8 * -1 WHERE id = 2;
SELECT * FROM pg_temp.merge(', type1_columns => ''{email}'', effective_at => ''ts''');

-- json is compared as text: a space is a change.  NULL to a value and a
-- value to NULL are changes.
UPDATE src SET raw = '{"x":  1}', ts = '2024-02-01' WHERE id = 1;
UPDATE src SET amount = 2, ts = '2024-02-01' WHERE id = 2;
UPDATE src SET label = NULL, ts = '2024-02-01' WHERE id = 3;
SELECT * FROM pg_temp.merge(', type1_columns => ''{email}'', effective_at => ''ts''');

-- Type 6: a change of the type-1 column only overwrites it in every version
-- (and rehashes the current one); together with a versioned change it is
-- both.
UPDATE src SET email = 'a2@x' WHERE id = 1;
UPDATE src SET email = 'b2@x', label = 'two', ts = '2024-03-01' WHERE id = 2;
SELECT * FROM pg_temp.merge(', type1_columns => ''{email}'', effective_at => ''ts''');
SELECT id, email, label, is_current FROM dim_hashed WHERE id IN (1, 2) ORDER BY id, valid_from;
-- the next merge finds nothing to do
SELECT * FROM pg_temp.merge(', type1_columns => ''{email}'', effective_at => ''ts''');

-- The same columns with other roles hash otherwise: moving email from the
-- type-1 columns to the versioned ones rehashes every member, changing
-- nothing.
SELECT * FROM pg_temp.merge(', effective_at => ''ts''');
SELECT * FROM pg_temp.merge(', effective_at => ''ts''');

-- A column added between runs: every member is compared and rehashed once
-- (NULL in the dimension, NULL in the source: unchanged).
ALTER TABLE src ADD COLUMN tier int;
ALTER TABLE dim_hashed ADD COLUMN tier int;
ALTER TABLE dim_compared ADD COLUMN tier int;
SELECT * FROM pg_temp.merge(', effective_at => ''ts''');
UPDATE src SET tier = 1, ts = '2024-04-01' WHERE id = 3;
SELECT * FROM pg_temp.merge(', effective_at => ''ts''');

-- A deleted member, and a member that comes back.
DELETE FROM src WHERE id = 3;
SELECT * FROM pg_temp.merge(', effective_at => ''ts''');
INSERT INTO src VALUES (3, 3, 1.5, NULL, NULL, 'three', NULL, '2024-05-01', 1);
SELECT * FROM pg_temp.merge(', effective_at => ''ts''');

-- A dimension built without the hash column (by an earlier version): the
-- merge adds the column, compares every member once and writes the hashes.
ALTER TABLE dim_hashed DROP COLUMN _elt_row_hash;
SELECT * FROM elt.merge_dimension('dim_h.dim_hashed', 'dim_h.src', '{id}', effective_at => 'ts');
SELECT count(*) AS current_members, count(_elt_row_hash) AS hashed
  FROM dim_hashed WHERE is_current AND hashed_key <> -1;
SELECT * FROM pg_temp.merge(', effective_at => ''ts''');

-- The merge trusts the stored hash: an edit of the dimension by hand that
-- leaves the hash in place is not seen (the member is unchanged), one that
-- clears it (as the hash column's documentation asks) is compared.
UPDATE dim_hashed SET label = 'edited' WHERE id = 1 AND is_current;
SELECT inserted, closed, unchanged
  FROM elt.merge_dimension('dim_h.dim_hashed', 'dim_h.src', '{id}', effective_at => 'ts');
UPDATE dim_hashed SET _elt_row_hash = NULL WHERE id = 1 AND is_current;
SELECT inserted, closed, unchanged
  FROM elt.merge_dimension('dim_h.dim_hashed', 'dim_h.src', '{id}', effective_at => 'ts');
SELECT label, _elt_row_hash IS NOT NULL AS hashed FROM dim_hashed WHERE id = 1 AND is_current;

-- Types 1 and 0 keep their hashes too.
CREATE TABLE src1 (code text, label text, weight numeric);
INSERT INTO src1 VALUES ('x', 'one', 1.0), ('y', NULL, 2);
SELECT * FROM elt.merge_dimension('dim_h.dim_code', 'dim_h.src1', '{code}', scd_type => 1);
UPDATE src1 SET weight = 1.00;
UPDATE src1 SET label = 'two' WHERE code = 'y';
SELECT * FROM elt.merge_dimension('dim_h.dim_code', 'dim_h.src1', '{code}', scd_type => 1);
SELECT * FROM elt.merge_dimension('dim_h.dim_code', 'dim_h.src1', '{code}', scd_type => 1);
SELECT code, label, weight, _elt_row_hash IS NOT NULL AS hashed FROM dim_code ORDER BY code_key;
CREATE TABLE src0 (code text, label text, weight int);
INSERT INTO src0 VALUES ('x', 'one', 1);
SELECT * FROM elt.merge_dimension('dim_h.dim_fixed', 'dim_h.src0', '{code}', scd_type => 0,
	type1_columns => '{weight}');
UPDATE src0 SET label = 'uno', weight = 2;
SELECT * FROM elt.merge_dimension('dim_h.dim_fixed', 'dim_h.src0', '{code}', scd_type => 0,
	type1_columns => '{weight}');
SELECT * FROM elt.merge_dimension('dim_h.dim_fixed', 'dim_h.src0', '{code}', scd_type => 0,
	type1_columns => '{weight}');
SELECT code, label, weight FROM dim_fixed WHERE fixed_key <> -1;

-- An inferred member completed by the source gets its hash.
INSERT INTO dim_code (code, is_inferred) VALUES ('z', true);
INSERT INTO src1 VALUES ('z', 'zed', 3);
SELECT * FROM elt.merge_dimension('dim_h.dim_code', 'dim_h.src1', '{code}', scd_type => 1);
SELECT * FROM elt.merge_dimension('dim_h.dim_code', 'dim_h.src1', '{code}', scd_type => 1);
SELECT code, is_inferred, _elt_row_hash IS NOT NULL AS hashed FROM dim_code WHERE code = 'z';

-- The source cannot carry the column, and the dimension's must be bigint.
CREATE TABLE src_bad (code text, _elt_row_hash bigint);
SELECT * FROM elt.merge_dimension('dim_h.dim_bad', 'dim_h.src_bad', '{code}', scd_type => 1);
ALTER TABLE dim_code ALTER COLUMN _elt_row_hash TYPE numeric;
SELECT * FROM elt.merge_dimension('dim_h.dim_code', 'dim_h.src1', '{code}', scd_type => 1);

-- A role that may write a dimension without the column but does not own
-- it merges by comparing columns: the column is not added.
ALTER TABLE dim_code DROP COLUMN _elt_row_hash;
CREATE ROLE regress_dim_hash;
GRANT USAGE ON SCHEMA dim_h TO regress_dim_hash;
GRANT SELECT ON src1 TO regress_dim_hash;
GRANT SELECT, INSERT, UPDATE ON dim_code TO regress_dim_hash;
UPDATE src1 SET label = 'uno' WHERE code = 'x';
SET ROLE regress_dim_hash;
SELECT * FROM elt.merge_dimension('dim_h.dim_code', 'dim_h.src1', '{code}', scd_type => 1);
RESET ROLE;
SELECT count(*) AS hash_columns FROM pg_attribute
 WHERE attrelid = 'dim_h.dim_code'::regclass AND attname = '_elt_row_hash' AND NOT attisdropped;
SELECT code, label FROM dim_code ORDER BY code_key;
-- The compared columns, fetched by row address instead of selected, still
-- need the caller's SELECT privilege: without it on weight, refused.
GRANT SELECT ON src0 TO regress_dim_hash;
GRANT SELECT (code, label, fixed_key, is_inferred, is_deleted, _elt_row_hash), INSERT, UPDATE
	ON dim_fixed TO regress_dim_hash;
UPDATE src0 SET weight = 3;
SET ROLE regress_dim_hash;
SELECT * FROM elt.merge_dimension('dim_h.dim_fixed', 'dim_h.src0', '{code}', scd_type => 0,
	type1_columns => '{weight}');
RESET ROLE;
GRANT SELECT ON dim_fixed TO regress_dim_hash;
SET ROLE regress_dim_hash;
SELECT * FROM elt.merge_dimension('dim_h.dim_fixed', 'dim_h.src0', '{code}', scd_type => 0,
	type1_columns => '{weight}');
RESET ROLE;
DELETE FROM elt.model_run;

RESET search_path;
DROP SCHEMA dim_h CASCADE;
DROP OWNED BY regress_dim_hash;
DROP ROLE regress_dim_hash;

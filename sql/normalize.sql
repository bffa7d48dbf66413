-- elt.normalize: staged jsonb into typed root and child tables.

\i test/regress/helpers.sql

-- Columns of a table, in order, with their types and comments.
CREATE FUNCTION pg_temp.cols(t regclass) RETURNS TABLE (col name, typ text, path text) LANGUAGE sql AS $$
	SELECT attname, format_type(atttypid, atttypmod), col_description(attrelid, attnum)
	  FROM pg_attribute
	 WHERE attrelid = t AND attnum > 0 AND NOT attisdropped AND attname NOT IN ('_elt_id', '_elt_parent_id', '_elt_root_id', '_elt_list_idx', '_elt_batch_id', '_elt_loaded_at') ORDER BY attnum
$$;
-- A batch of records loaded by hand, as an extract would have left it.
CREATE FUNCTION pg_temp.batch(stream text, id bigint, records jsonb[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	s elt.stream := elt._resolve_stream(stream);
BEGIN
	INSERT INTO elt.batch (batch_id, stream_id, stream, target, status, started_at, finished_at, records)
	VALUES (id, s.stream_id, stream, s.target, 'succeeded', now(), now(), cardinality(records));
	EXECUTE format('INSERT INTO %s (_elt_batch_id, _elt_record) SELECT $1, r FROM unnest($2) r', s.target)
		USING id, records;
END $$;

SELECT elt.create_source('nz', :'base');
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS staging;
RESET client_min_messages;

-- 1. shapes: nested objects, arrays of objects, of scalars, arrays in
-- arrays, empty arrays, nulls
SELECT elt.create_stream('nz', 'shapes', '/unused');
SELECT stream_id AS shapes_id FROM elt.stream WHERE source = 'nz' AND name = 'shapes' \gset
CREATE TABLE staging.nz_shapes (_elt_batch_id bigint NOT NULL,
								_elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
SELECT pg_temp.batch('nz.shapes', 9000101, ARRAY[
 '{"id": 1, "userName": "Ann", "score": 1.5, "active": true, "born": "1990-01-02",
   "seen": "2024-03-01T10:00:00Z", "local": "2024-03-01T10:00:00", "notADate": "2023-02-30",
   "address": {"city": "Paris", "geo": {"lat": 48.85, "lon": 2.35}, "empty": {}},
   "tags": ["a", "b"], "matrix": [[1, 2], [3]], "nothing": null,
   "orders": [{"sku": "x", "qty": 2, "discounts": [{"pct": 5}, {"pct": 10}]},
			  {"sku": "y", "qty": 1, "discounts": []}, null]}',
 '{"id": 2, "userName": null, "score": 2, "active": false, "tags": [], "orders": [],
   "address": null, "matrix": [[]]}',
 '[1, 2]']::jsonb[]);
SELECT * FROM elt.normalize('nz.shapes', 'nz_typed');
SELECT table_name, obj_description(format('nz_typed.%I', table_name)::regclass) FROM elt.normalize_table
 ORDER BY table_name;
SELECT * FROM pg_temp.cols('nz_typed.shapes');
SELECT id, user_name, score, active, born, seen, local, not_a_date, address__city, address__geo__lat
  FROM nz_typed.shapes ORDER BY id;
SELECT * FROM pg_temp.cols('nz_typed.shapes__orders');
SELECT * FROM pg_temp.cols('nz_typed.shapes__orders__discounts');
SELECT * FROM pg_temp.cols('nz_typed.shapes__matrix__value');
-- joins back with plain SQL: root, child, grandchild, by ids and positions
SELECT s.id, o._elt_list_idx AS o_idx, o.sku, o.qty, d._elt_list_idx AS d_idx, d.pct,
	   d._elt_root_id = s._elt_id AS same_root
  FROM nz_typed.shapes s
  JOIN nz_typed.shapes__orders o ON o._elt_parent_id = s._elt_id
  LEFT JOIN nz_typed.shapes__orders__discounts d ON d._elt_parent_id = o._elt_id
 ORDER BY 1, 2, 4;
SELECT s.id, t._elt_list_idx, t.value FROM nz_typed.shapes s
  JOIN nz_typed.shapes__tags t ON t._elt_root_id = s._elt_id ORDER BY 1, 2;
SELECT m._elt_list_idx AS outer_idx, v._elt_list_idx AS inner_idx, v.value
  FROM nz_typed.shapes__matrix m JOIN nz_typed.shapes__matrix__value v ON v._elt_parent_id = m._elt_id
 ORDER BY 1, 2;
SELECT count(*) AS matrix_rows FROM nz_typed.shapes__matrix;
-- every row carries its batch and load time
SELECT count(*) FILTER (WHERE _elt_batch_id = 9000101 AND _elt_loaded_at IS NOT NULL) AS ok, count(*)
  FROM nz_typed.shapes;

-- 2. exactly once: a second call finds nothing to do; a later batch only is read
SELECT * FROM elt.normalize('nz.shapes');
SELECT batch_id FROM elt.normalized_batch WHERE stream_id = :shapes_id ORDER BY 1;

-- 3. types across batches: widening, variants, new keys
SELECT pg_temp.batch('nz.shapes', 9000102, ARRAY[
 '{"id": 3, "score": "n/a", "active": 1, "born": "not a date", "extra": "new here",
   "address": {"zip": "75001"}, "orders": [{"sku": 7, "qty": 2.5, "gift": true}]}',
 '{"id": 12345678901234567890, "active": "yes", "seen": 17}']::jsonb[]);
SELECT * FROM elt.normalize('nz.shapes');
SELECT table_name, column_name, change, detail, batch_id FROM elt.schema_change
 WHERE batch_id = 9000102 ORDER BY change_id;
SELECT * FROM pg_temp.cols('nz_typed.shapes');
SELECT id, score, active, active__v_bigint, active__v_text, born, born__v_text, seen, seen__v_bigint,
	   extra, address__zip
  FROM nz_typed.shapes ORDER BY id;
SELECT sku, qty, gift FROM nz_typed.shapes__orders ORDER BY _elt_batch_id, _elt_list_idx;
SELECT table_name, column_name, data_type, json_path, variant_of FROM elt.normalized_columns
 WHERE table_name = 'shapes' AND column_name ~ '^(active|born|seen)' ORDER BY column_name;
-- a new path whose values mix beyond widening is jsonb
SELECT pg_temp.batch('nz.shapes', 9000103, ARRAY['{"id": 5, "mixed": true}', '{"id": 6, "mixed": 2}']::jsonb[]);
SELECT schema_changes FROM elt.normalize('nz.shapes');
SELECT id, mixed, pg_typeof(mixed) FROM nz_typed.shapes WHERE id IN (5, 6) ORDER BY id;

-- 4. names: unicode, quotes, dots, long names, keys differing only in case
SELECT elt.create_stream('nz', 'names', '/unused');
CREATE TABLE staging.nz_names (_elt_batch_id bigint NOT NULL,
							   _elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
SELECT pg_temp.batch('nz.names', 9000201, ARRAY[jsonb_build_object(
	'prénom', 'Zoé', 'a.b', 1, 'a', jsonb_build_object('b', 2), 'say "hi"', 'q', 'x''; DROP TABLE t; --', 3,
	'Name', 'upper', 'name', 'lower', 'NAME', 'shout', 'HTTPServerID', 4, '9lives', 5, '_elt_id', 'clash',
	repeat('k', 100), 'long one', repeat('k', 99) || 'j', 'long two',
	'List.Of "Things"', jsonb_build_array(jsonb_build_object('Ünï', 1)))]);
SELECT * FROM elt.normalize('nz.names', 'nz_typed', '{"table": "Odd Names"}');
SELECT col, typ, path FROM pg_temp.cols('nz_typed."Odd Names"');
SELECT table_name FROM elt.normalize_table nt JOIN elt.stream s USING (stream_id)
 WHERE s.name = 'names' ORDER BY 1;
SELECT * FROM pg_temp.cols('nz_typed."Odd Names__list_of_things"');
-- the same names on the next run (nothing new, nothing renamed)
SELECT pg_temp.batch('nz.names', 9000202, ARRAY[jsonb_build_object('name', 'again', 'Name', 'Again',
																repeat('k', 100), 'again')]);
SELECT schema_changes, root_rows FROM elt.normalize('nz.names');
SELECT name, name_2, name_3 FROM nz_typed."Odd Names" ORDER BY _elt_batch_id, name;

-- 5. contracts
SELECT elt.create_stream('nz', 'strict', '/unused');
CREATE TABLE staging.nz_strict (_elt_batch_id bigint NOT NULL,
								_elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
SELECT pg_temp.batch('nz.strict', 9000301, ARRAY['{"id": 1, "n": 1, "items": [{"k": 1}]}']::jsonb[]);
SELECT * FROM elt.normalize('nz.strict', 'nz_typed', '{"contract": "freeze"}');
-- frozen: a new column, a value of another type, a new nested table are refused, nothing loaded
SELECT pg_temp.batch('nz.strict', 9000302, ARRAY['{"id": 2, "n": 2, "new": "x"}']::jsonb[]);
SET test.try_detail = on;
SELECT pg_temp.try($$SELECT elt.normalize('nz.strict')$$);
SELECT count(*) FROM nz_typed.strict;
SELECT count(*) FROM elt.normalized_batch WHERE batch_id = 9000302;
-- per table: the root discards new values, items discards rows
SELECT * FROM elt.normalize('nz.strict', NULL,
	'{"contract": "evolve", "contracts": {"strict": "discard_value", "strict__items": "discard_row"}}');
SELECT id, n FROM nz_typed.strict ORDER BY id;
SELECT * FROM pg_temp.cols('nz_typed.strict');
SELECT pg_temp.batch('nz.strict', 9000303, ARRAY[
 '{"id": 3, "n": "three", "items": [{"k": 2}, {"k": "bad"}, {"k": 3, "extra": 1}], "tags": ["t"]}']::jsonb[]);
SELECT * FROM elt.normalize('nz.strict');
SELECT id, n FROM nz_typed.strict ORDER BY id;
SELECT i.k FROM nz_typed.strict__items i ORDER BY i._elt_batch_id, i._elt_list_idx;
SELECT to_regclass('nz_typed.strict__tags') AS tags_table;
SELECT table_name, column_name, change, detail FROM elt.schema_change
 WHERE batch_id IN (9000302, 9000303) ORDER BY change_id;
-- discard_row on the root: the record and its child rows are left out
SELECT pg_temp.batch('nz.strict', 9000304, ARRAY['{"id": 4, "n": 4, "items": [{"k": 4}]}',
											 '{"id": 5, "n": "five", "items": [{"k": 5}]}']::jsonb[]);
SELECT root_rows, child_rows FROM elt.normalize('nz.strict', NULL, '{"contracts": {"strict": "discard_row"}}');
SELECT id, n FROM nz_typed.strict ORDER BY id;
SELECT i.k FROM nz_typed.strict__items i ORDER BY 1;

-- 6. merge by primary key: a later version replaces the root row and its child rows
SELECT elt.create_stream('nz', 'keyed', '/unused', primary_key => '{login.uuid}');
CREATE TABLE staging.nz_keyed (_elt_batch_id bigint NOT NULL,
							   _elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
SELECT pg_temp.batch('nz.keyed', 9000401, ARRAY[
 '{"login": {"uuid": "u1"}, "name": "Ann", "phones": ["1", "2"], "note": "first"}',
 '{"login": {"uuid": "u2"}, "name": "Bob", "phones": ["3"]}']::jsonb[]);
SELECT * FROM elt.normalize('nz.keyed', 'nz_typed');
-- replayed: the same records again in a new batch, then a new version of u1 twice in one batch
SELECT pg_temp.batch('nz.keyed', 9000402, ARRAY[
 '{"login": {"uuid": "u1"}, "name": "Ann", "phones": ["1", "2"], "note": "first"}',
 '{"login": {"uuid": "u2"}, "name": "Bob", "phones": ["3"]}']::jsonb[]);
SELECT * FROM elt.normalize('nz.keyed');
SELECT count(*) AS roots, (SELECT count(*) FROM nz_typed.keyed__phones) AS phones FROM nz_typed.keyed;
SELECT pg_temp.batch('nz.keyed', 9000403, ARRAY[
 '{"login": {"uuid": "u1"}, "name": "Ann B.", "phones": ["9", "8", "7"]}',
 '{"login": {"uuid": "u1"}, "name": "Ann C.", "phones": ["6"]}']::jsonb[]);
SELECT * FROM elt.normalize('nz.keyed');
SELECT k.login__uuid, k.name, k.note, k._elt_batch_id, array_agg(p.value ORDER BY p._elt_list_idx) AS phones
  FROM nz_typed.keyed k LEFT JOIN nz_typed.keyed__phones p ON p._elt_root_id = k._elt_id
 GROUP BY 1, 2, 3, 4 ORDER BY 1;
-- a record without its key: an error, nothing normalized
SELECT pg_temp.batch('nz.keyed', 9000404, ARRAY['{"login": {}, "name": "nobody"}']::jsonb[]);
SELECT pg_temp.try($$SELECT elt.normalize('nz.keyed')$$);
SELECT count(*) FROM elt.normalized_batch WHERE batch_id = 9000404;
RESET test.try_detail;

-- 7. bad calls
SELECT pg_temp.try($$SELECT elt.normalize(NULL)$$);
SELECT pg_temp.try($$SELECT elt.normalize('nz.nope')$$);
SELECT pg_temp.try($$SELECT elt.normalize('nz.shapes', 'elsewhere')$$);
SELECT pg_temp.try($$SELECT elt.normalize('nz.shapes', NULL, '{"table": "other"}')$$);
SELECT pg_temp.try($$SELECT elt.normalize('nz.shapes', NULL, '{"contract": "loose"}')$$);
SELECT pg_temp.try($$SELECT elt.normalize('nz.shapes', NULL, '{"contracts": {"shapes": 1}}')$$);
SELECT pg_temp.try($$SELECT elt.normalize('nz.shapes', NULL, '{"bogus": 1}')$$);
SELECT pg_temp.try($$SELECT elt.normalize('nz.shapes', NULL, '[]')$$);
SELECT pg_temp.try(format('SELECT elt._normalize_run(%s, NULL, NULL)', :shapes_id));
-- a stream never extracted: nothing to do
SELECT elt.create_stream('nz', 'never', '/unused');
SELECT * FROM elt.normalize('nz.never', 'nz_typed');

-- 8. another role sees none of it and cannot normalize what it does not own
CREATE ROLE nz_intruder;
GRANT USAGE ON SCHEMA nz_typed TO nz_intruder;
SET ROLE nz_intruder;
SELECT pg_temp.try($$SELECT elt.normalize('nz.shapes')$$);
RESET ROLE;
GRANT EXECUTE ON FUNCTION elt.normalize(text, text, jsonb) TO nz_intruder;
SET ROLE nz_intruder;
SELECT pg_temp.try($$SELECT elt.normalize('nz.shapes')$$);
SELECT regexp_replace(pg_temp.try(format('SELECT elt._normalize_run(%s, NULL, NULL)', :shapes_id)), '\d+', 'N', 'g');
SELECT regexp_replace(pg_temp.try(format($$SELECT elt._normalize_run(%s, 'public', '{"on_extract": true}')$$, :shapes_id)), '\d+', 'N', 'g');
SELECT pg_temp.try($$UPDATE elt.normalize_stream SET on_extract = true$$);
SELECT (SELECT count(*) FROM elt.normalize_stream) AS streams, (SELECT count(*) FROM elt.normalize_table) AS tables,
	   (SELECT count(*) FROM elt.normalize_column) AS columns, (SELECT count(*) FROM elt.schema_change) AS changes,
	   (SELECT count(*) FROM elt.normalized_batch) AS batches;
SELECT pg_temp.try($$INSERT INTO elt.normalized_batch (batch_id, stream_id) VALUES (999, 1)$$);
SELECT pg_temp.try($$SELECT count(*) FROM nz_typed.shapes$$);
RESET ROLE;
REVOKE ALL ON FUNCTION elt.normalize(text, text, jsonb) FROM nz_intruder;
REVOKE ALL ON SCHEMA nz_typed FROM nz_intruder;
DROP ROLE nz_intruder;

-- 8b. a stream's owner cannot make a superuser's call run its code, nor
-- inject SQL through the catalog it may write
CREATE ROLE nz_owner;
GRANT CREATE ON DATABASE contrib_regression TO nz_owner;
SET ROLE nz_owner;
CREATE SCHEMA nz_evil;
CREATE FUNCTION nz_evil.md5(text) RETURNS text LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked md5'; END$$;
CREATE FUNCTION nz_evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked jsonb_typeof'; END$$;
CREATE FUNCTION nz_evil.int8(text) RETURNS bigint LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'hijacked int8'; END$$;
CREATE TABLE nz_evil.owned (_elt_batch_id bigint NOT NULL, _elt_loaded_at timestamptz NOT NULL DEFAULT now(),
							_elt_record jsonb NOT NULL);
RESET ROLE;
SELECT elt.create_source('nz_own', :'base');
UPDATE elt.source SET owner = 'nz_owner' WHERE name = 'nz_own';
SELECT elt.create_stream('nz_own', 'owned', '/unused', target => 'nz_evil.owned');
UPDATE elt.stream SET owner = 'nz_owner' WHERE name = 'owned';
SELECT pg_temp.batch('nz_own.owned', 9000501, ARRAY['{"n": 1, "list": [{"k": 1}]}']::jsonb[]);
UPDATE elt.batch SET owner = 'nz_owner' WHERE batch_id = 9000501;
SET search_path = nz_evil, public;
SELECT * FROM elt.normalize('nz_own.owned', 'nz_owned');
RESET search_path;
SELECT tableowner, tablename FROM pg_tables WHERE schemaname = 'nz_owned' ORDER BY 2;
SELECT owner, count(*) FROM elt.normalize_column WHERE stream_id = (SELECT stream_id FROM elt.stream WHERE name = 'owned')
 GROUP BY 1;
SET ROLE nz_owner;
UPDATE elt.normalize_column SET column_name = 'n"; DROP TABLE nz_owned.owned; --'
 WHERE stream_id = (SELECT stream_id FROM elt.stream WHERE name = 'owned') AND column_name = 'n';
RESET ROLE;
SELECT pg_temp.batch('nz_own.owned', 9000502, ARRAY['{"n": 2}']::jsonb[]);
UPDATE elt.batch SET owner = 'nz_owner' WHERE batch_id = 9000502;
SELECT pg_temp.try($$SELECT elt.normalize('nz_own.owned')$$);
SELECT to_regclass('nz_owned.owned') IS NOT NULL AS still_there;
DROP SCHEMA nz_owned CASCADE;
DROP SCHEMA nz_evil CASCADE;
DELETE FROM elt.normalize_table WHERE stream_id = (SELECT stream_id FROM elt.stream WHERE name = 'owned');
DELETE FROM elt.normalized_batch WHERE stream_id = (SELECT stream_id FROM elt.stream WHERE name = 'owned');
DELETE FROM elt.schema_change WHERE stream_id = (SELECT stream_id FROM elt.stream WHERE name = 'owned');
DELETE FROM elt.normalize_stream WHERE stream_id = (SELECT stream_id FROM elt.stream WHERE name = 'owned');
DELETE FROM elt.batch WHERE batch_id IN (9000501, 9000502);
SELECT elt.drop_source('nz_own', cascade => true);
REVOKE CREATE ON DATABASE contrib_regression FROM nz_owner;
DROP OWNED BY nz_owner;
DROP ROLE nz_owner;

-- 9. on each extract, in the extract's transaction: randomuser-like users from the mock API
SELECT elt.create_stream('nz', 'users', '/users/page', params => '{"total": 30, "per_page": 10}',
						 records => '$.data', pagination => '{"type": "page", "param": "page"}',
						 primary_key => '{login.uuid}');
SELECT * FROM elt.normalize('nz.users', 'nz_typed', '{"on_extract": true}');
SELECT records FROM elt.extract('nz.users');
SELECT count(*) AS users, count(DISTINCT login__uuid) AS keys FROM nz_typed.users;
SELECT col, typ FROM pg_temp.cols('nz_typed.users') WHERE col IN ('dob__date', 'dob__age', 'location__coordinates__latitude', 'name__first', 'registered__date');
SELECT records FROM elt.extract('nz.users');
SELECT count(*) AS users_after_second_extract FROM nz_typed.users;
SELECT count(*) AS normalized FROM elt.normalized_batch nb JOIN elt.stream s USING (stream_id) WHERE s.name = 'users';
-- a normalization that fails fails its extract: no staged rows, no typed rows, the batch failed
SELECT count(*) AS staged_before FROM staging.nz_users;
ALTER TABLE nz_typed.users DROP COLUMN email;
SELECT pg_temp.try($$SELECT * FROM elt.extract('nz.users')$$);
SELECT count(*) AS staged_after FROM staging.nz_users;
SELECT status, records FROM elt.batch WHERE stream = 'nz.users' ORDER BY batch_id DESC LIMIT 1;
SELECT count(*) AS normalized FROM elt.normalized_batch nb JOIN elt.stream s USING (stream_id) WHERE s.name = 'users';
-- the typed table and column come back: the hint's repair, and the next extract normalizes again
ALTER TABLE nz_typed.users ADD COLUMN email text;
SELECT records FROM elt.extract('nz.users');
SELECT count(*) AS users, count(email) AS emails FROM nz_typed.users;
-- a dropped typed table: EL081 too, nothing normalized
SELECT pg_temp.batch('nz.shapes', 9000107, ARRAY['{"id": 7}']::jsonb[]);
ALTER TABLE nz_typed.shapes__tags RENAME TO shapes__tags_away;
SELECT pg_temp.try($$SELECT elt.normalize('nz.shapes')$$);
SELECT count(*) AS pending_normalized FROM elt.normalized_batch WHERE batch_id = 9000107;
ALTER TABLE nz_typed.shapes__tags_away RENAME TO shapes__tags;
SELECT batches, root_rows FROM elt.normalize('nz.shapes');

-- 10. records of one shape, the walk finding each path by its position in
-- the record before: one record among them with a new key at a known
-- key's position, one with a known key's value of a new type, one with an
-- object where a scalar was, one missing keys, one with the keys of
-- another record in another order of insertion; each still evolves the
-- schema, in the batch that brings it
SELECT elt.create_stream('nz', 'same', '/unused');
CREATE TABLE staging.nz_same (_elt_batch_id bigint NOT NULL,
							  _elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
SELECT pg_temp.batch('nz.same', 9000601, ARRAY(
	SELECT jsonb_build_object('a', g, 'bb', 'x' || g, 'ccc', g % 2 = 0, 'd', jsonb_build_object('e', g, 'f', 'y'))
	  FROM generate_series(1, 50) g));
SELECT * FROM elt.normalize('nz.same', 'nz_typed');
SELECT pg_temp.batch('nz.same', 9000602, ARRAY(
	SELECT CASE g
			   WHEN 10 THEN '{"a": 10, "bz": "new", "ccc": true, "d": {"e": 10, "f": "y"}}'::jsonb
			   WHEN 20 THEN '{"a": "twenty", "bb": "x20", "ccc": true, "d": {"e": 20, "f": "y"}}'
			   WHEN 30 THEN '{"a": 30, "bb": "x30", "ccc": {"inner": 1}, "d": {"e": 30, "f": "y"}}'
			   WHEN 40 THEN '{"d": {"f": "only"}}'
			   WHEN 45 THEN '{"d": {"e": 45.5, "f": "y"}, "ccc": false, "bb": "x45", "a": 45}'
			   ELSE jsonb_build_object('a', g, 'bb', 'x' || g, 'ccc', g % 2 = 0, 'd', jsonb_build_object('e', g, 'f', 'y'))
		   END
	  FROM generate_series(1, 50) g));
SELECT * FROM elt.normalize('nz.same');
SELECT col, typ, path FROM pg_temp.cols('nz_typed.same');
SELECT table_name, column_name, change, batch_id, detail FROM elt.schema_change
 WHERE stream = 'nz.same' ORDER BY change_id;
SELECT a, bb, bz, ccc, ccc__inner, d__e, d__f FROM nz_typed.same
 WHERE _elt_batch_id = 9000602 AND (a IS NULL OR a IN ('10', 'twenty', '30', '45', '46'))
 ORDER BY a COLLATE "C" NULLS FIRST;
SELECT count(*) AS rows, count(a) AS a, count(bb) AS bb, count(d__f) AS d__f FROM nz_typed.same;

-- 11. a stream's owner without EXECUTE on elt.normalize normalizes nothing,
-- not through elt._normalize_run nor elt._normalize_on_extract either
CREATE ROLE nz_noexec;
SELECT elt.create_source('nz_ne', :'base');
UPDATE elt.source SET owner = 'nz_noexec' WHERE name = 'nz_ne';
CREATE TABLE staging.nz_ne_rows (_elt_batch_id bigint NOT NULL,
								 _elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
ALTER TABLE staging.nz_ne_rows OWNER TO nz_noexec;
SELECT elt.create_stream('nz_ne', 'rows', '/unused', target => 'staging.nz_ne_rows');
UPDATE elt.stream SET owner = 'nz_noexec' WHERE name = 'rows' AND source = 'nz_ne';
SELECT pg_temp.batch('nz_ne.rows', 9000701, ARRAY['{"n": 1}']::jsonb[]);
UPDATE elt.batch SET owner = 'nz_noexec' WHERE batch_id = 9000701;
SELECT stream_id AS ne_id FROM elt.stream WHERE source = 'nz_ne' \gset
SET ROLE nz_noexec;
SELECT pg_temp.try($$SELECT elt.normalize('nz_ne.rows', 'nz_ne_typed')$$);
SELECT regexp_replace(pg_temp.try(format($$SELECT elt._normalize_run(%s, 'nz_ne_typed', '{}')$$, :ne_id)), '\d+', 'N', 'g');
-- its own catalog row asking for normalization on extract does not help
INSERT INTO elt.normalize_stream (stream_id, owner, target_schema, root_table, on_extract)
VALUES (:ne_id, 'nz_noexec', 'nz_ne_typed', 'rows', true);
SELECT regexp_replace(pg_temp.try(format($$SELECT elt._normalize_on_extract(%s)$$, :ne_id)), '\d+', 'N', 'g');
RESET ROLE;
SELECT (SELECT count(*) FROM elt.normalized_batch WHERE batch_id = 9000701) AS normalized,
	   to_regnamespace('nz_ne_typed') IS NULL AS no_schema;
DELETE FROM elt.normalize_stream WHERE stream_id = :ne_id;
DELETE FROM elt.batch WHERE batch_id = 9000701;
DROP TABLE staging.nz_ne_rows;
SELECT elt.drop_source('nz_ne', cascade => true);
DROP ROLE nz_noexec;

-- elt.infer_view: a typed view over a stream's staging table.

\i test/regress/helpers.sql

-- Columns of a view, in order, with their types.
CREATE FUNCTION pg_temp.cols(v regclass) RETURNS TABLE (col name, typ text) LANGUAGE sql AS $$
	SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
	 WHERE attrelid = v AND attnum > 0 AND NOT attisdropped ORDER BY attnum
$$;

-- records of every shape, loaded by hand into a stream's staging table
SELECT elt.create_source('inf', :'base');
SELECT elt.create_stream('inf', 'manual', '/unused', primary_key => '{id}');
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS staging;
RESET client_min_messages;
CREATE TABLE staging.inf_manual (_elt_batch_id bigint NOT NULL, _elt_loaded_at timestamptz NOT NULL DEFAULT now(),
								 _elt_record jsonb NOT NULL);
INSERT INTO staging.inf_manual (_elt_batch_id, _elt_record) VALUES
 (1, '{"id": 1, "name": "Ann", "score": 1.5, "active": true, "born": "1990-01-02",
	   "seen": "2024-03-01T10:00:00Z", "tags": ["a"], "mixed": 1, "nothing": null,
	   "address": {"city": "Paris", "geo": {"lat": 48.85, "lon": 2.35}}, "a__b": "flat",
	   "a": {"b": "nested"}, "Odd Key; x": "q", "big": 12345678901234567890, "empty": {}}'),
 (1, '{"id": 2, "name": null, "score": 2, "active": false, "born": "2001-12-31",
	   "seen": "2024-03-02 11:30:00+02", "tags": [], "mixed": "one", "nothing": null,
	   "address": {"city": "Lyon", "geo": {"lat": 45.76, "lon": 4.84}}, "extra": "only here"}'),
 (2, '{"id": 3, "seen": "2024-03-03T00:00:00.5Z", "_elt_batch_id": "clash"}');
SELECT elt.infer_view('inf.manual', 'public.inf_users');
SELECT * FROM pg_temp.cols('public.inf_users');
SELECT id, name, score, active, born, seen, tags, mixed, nothing, address__city, address__geo__lat,
	   a__b, a__b_2, "Odd Key; x", big, empty, extra, _elt_batch_id_2
  FROM public.inf_users ORDER BY id;

-- new keys: the view is replaced, columns follow the data
INSERT INTO staging.inf_manual (_elt_batch_id, _elt_record) VALUES (3, '{"id": 4, "age": 41, "active": "yes"}');
SELECT pg_temp.try($$SELECT elt.infer_view('manual', '"Inferred Views"."Users; v2"')$$);
SELECT pg_temp.try(format($$SELECT elt.infer_view('manual', 'public.%s')$$, repeat('v', 64)));
CREATE SCHEMA "Inferred Views";
SELECT elt.infer_view('manual', '"Inferred Views"."Users; v2"');
SELECT elt.infer_view('manual', 'public.inf_users');
SELECT col, typ FROM pg_temp.cols('public.inf_users') WHERE col IN ('age', 'active');
SELECT count(*) FROM "Inferred Views"."Users; v2";

-- bad calls
SELECT pg_temp.try($$SELECT elt.infer_view('inf.manual', NULL)$$);
SELECT pg_temp.try($$SELECT elt.infer_view('inf.manual', 'a.b.c')$$);
SELECT pg_temp.try($$SELECT elt.infer_view('inf.manual', 'x; DROP TABLE y')$$);
SELECT pg_temp.try($$SELECT elt.infer_view('inf.nope', 'v')$$);
SELECT elt.create_stream('inf', 'never', '/unused');
SELECT pg_temp.try($$SELECT elt.infer_view('inf.never', 'v')$$);
CREATE TABLE staging.inf_never (_elt_batch_id bigint, _elt_loaded_at timestamptz, _elt_record jsonb);
SELECT pg_temp.try($$SELECT elt.infer_view('inf.never', 'v')$$);
-- a view other objects depend on is not dropped behind their back
CREATE VIEW public.inf_dep AS SELECT id FROM public.inf_users;
INSERT INTO staging.inf_manual (_elt_batch_id, _elt_record) VALUES (4, '{"id": "five"}');
SELECT pg_temp.try($$SELECT elt.infer_view('inf.manual', 'public.inf_users')$$);

-- on extracted data: randomuser-like users from the mock API
SELECT elt.create_stream('inf', 'users', '/users/page', params => '{"total": 40, "per_page": 40}', records => '$.data');
SELECT records FROM elt.extract('inf.users');
SELECT elt.infer_view('inf.users', 'public.inf_api_users');
SELECT * FROM pg_temp.cols('public.inf_api_users') WHERE col IN
	('gender', 'email', 'dob__date', 'dob__age', 'location__coordinates__latitude',
	 'location__street__number', 'login__uuid', 'registered__date');
SELECT count(*), count(DISTINCT login__uuid), min(dob__age) > 0 AS ages FROM public.inf_api_users;

-- Sources, streams, extraction and schema inference -----------------------

-- An API: where it is, how to authenticate, how hard to push it.  Values of
-- headers and auth settings are templates: secrets are referenced as
-- {{secret:NAME}} and substituted in C at request time only.
CREATE TABLE elt.source (
	name		text PRIMARY KEY
				CHECK (name <> '' AND strpos(name, '.') = 0),
	owner		regrole NOT NULL DEFAULT elt._current_role(),
	base_url	text NOT NULL,
	headers		jsonb NOT NULL DEFAULT '{}',
	auth		jsonb,
	options		jsonb NOT NULL DEFAULT '{}',
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON elt.source FROM PUBLIC;
COMMENT ON TABLE elt.source IS 'HTTP APIs that streams extract from (elt.create_source)';

-- One endpoint of a source, with its paging, format and incremental state.
CREATE TABLE elt.stream (
	stream_id	serial PRIMARY KEY,
	source		text NOT NULL REFERENCES elt.source (name)
				ON UPDATE CASCADE ON DELETE CASCADE,
	name		text NOT NULL CHECK (name <> '' AND strpos(name, '.') = 0),
	owner		regrole NOT NULL DEFAULT elt._current_role(),
	path		text NOT NULL,
	params		jsonb NOT NULL DEFAULT '{}',
	records		text NOT NULL DEFAULT '$',
	pagination	jsonb NOT NULL DEFAULT '{"type":"none"}',
	incremental jsonb,
	primary_key text[],
	target		text NOT NULL,
	format		text NOT NULL DEFAULT 'json'
				CHECK (format IN ('json', 'ndjson', 'csv')),
	cursor_value text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (source, name)
);
REVOKE ALL ON elt.stream FROM PUBLIC;
COMMENT ON TABLE elt.stream IS 'Endpoints of sources and their incremental cursor (elt.create_stream)';
COMMENT ON COLUMN elt.stream.cursor_value IS
'Highest value of the incremental cursor_field loaded so far; sent on the next run';

-- Every extract, succeeded or failed.  A succeeded batch is written in the
-- transaction that loads its rows; a failed one is written by a background
-- worker in a transaction of its own, so that it survives the rollback.
CREATE TABLE elt.batch (
	batch_id	bigint PRIMARY KEY,
	stream_id	integer NOT NULL,
	stream		text NOT NULL,
	target		text NOT NULL,
	status		text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
	full_refresh boolean NOT NULL DEFAULT false,
	started_at	timestamptz NOT NULL,
	finished_at timestamptz,
	pages		integer NOT NULL DEFAULT 0,
	records		bigint NOT NULL DEFAULT 0,
	bytes		bigint NOT NULL DEFAULT 0,
	requests	integer NOT NULL DEFAULT 0,
	retries		integer NOT NULL DEFAULT 0,
	cursor_before text,
	cursor_after text,
	username	name NOT NULL DEFAULT current_user,
	owner		regrole NOT NULL DEFAULT elt._current_role(),
	error		text,
	error_code	text
);
CREATE INDEX ON elt.batch (stream_id, batch_id);
CREATE SEQUENCE elt.batch_id_seq OWNED BY elt.batch.batch_id;
REVOKE ALL ON elt.batch FROM PUBLIC;
REVOKE ALL ON SEQUENCE elt.batch_id_seq FROM PUBLIC;
COMMENT ON TABLE elt.batch IS 'One row per extract: status, counts, cursor before and after, error';

-- Row-level security: a role sees and changes the sources, streams and
-- batches of the roles it has the privileges of (a superuser sees all), as
-- for pipelines.  A stream can only be defined over a source its owner may
-- use, and a batch only filed under the owner of its stream, so no role can
-- point another's extract at its own table or forge another's history.
ALTER TABLE elt.source ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.stream ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.batch ENABLE ROW LEVEL SECURITY;
CREATE POLICY source_owner ON elt.source
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE'));
CREATE POLICY stream_owner ON elt.stream
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE')
				AND EXISTS (SELECT 1 FROM elt.source so
							 WHERE so.name OPERATOR(pg_catalog.=) stream.source
							   AND pg_catalog.pg_has_role(stream.owner, so.owner, 'USAGE')));
CREATE POLICY batch_owner ON elt.batch
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE')
				AND EXISTS (SELECT 1 FROM elt.stream st
							 WHERE st.stream_id OPERATOR(pg_catalog.=) batch.stream_id
							   AND st.owner OPERATOR(pg_catalog.=) batch.owner));
GRANT SELECT, INSERT, UPDATE, DELETE ON elt.source, elt.stream TO PUBLIC;
GRANT SELECT, INSERT, UPDATE ON elt.batch TO PUBLIC;
GRANT USAGE ON SEQUENCE elt.stream_stream_id_seq, elt.batch_id_seq TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('elt.source', '');
SELECT pg_catalog.pg_extension_config_dump('elt.stream', '');
SELECT pg_catalog.pg_extension_config_dump('elt.stream_stream_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('elt.batch', '');
SELECT pg_catalog.pg_extension_config_dump('elt.batch_id_seq', '');

-- Streams with their qualified name, for people and for joins.
CREATE VIEW elt.streams WITH (security_invoker = true) AS
SELECT st.stream_id, st.source || '.' || st.name AS stream, st.source, st.name,
	   so.base_url, st.path, st.format, st.records, st.pagination->>'type' AS pagination,
	   st.incremental IS NOT NULL AS incremental, st.cursor_value, st.target,
	   (SELECT max(b.finished_at) FROM elt.batch b
		 WHERE b.stream_id = st.stream_id AND b.status = 'succeeded') AS last_success,
	   st.owner
  FROM elt.stream st JOIN elt.source so ON so.name = st.source;
REVOKE ALL ON elt.streams FROM PUBLIC;
GRANT SELECT ON elt.streams TO PUBLIC;
COMMENT ON VIEW elt.streams IS 'Streams by qualified name, with cursor and last successful extract';

-- C helpers -----------------------------------------------------------------

CREATE FUNCTION elt._check_records_path(path text, what text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_check_records_path'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt._check_records_path(text, text) IS
'Raise an error unless path is a JSON path pg_elt can follow while streaming';

CREATE FUNCTION elt.split_records(body text, records text DEFAULT '$',
								  format text DEFAULT 'json')
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'elt_split_records'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt.split_records(text, text, text) IS
'Split a response body into records as elt.extract would (json at a path, ndjson, csv)';

-- Validation ------------------------------------------------------------------

-- The JSON settings are checked by their option tables in C (options.c),
-- the rest of a definition beside them (validate.c).
CREATE FUNCTION elt._validate_source(name text, base_url text, headers jsonb,
									 auth jsonb, options jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_validate_source'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._validate_source(text, text, jsonb, jsonb, jsonb) IS
'Raise an error for anything wrong in a source definition';

CREATE FUNCTION elt._validate_stream(name text, path text, params jsonb, records text,
									 pagination jsonb, incremental jsonb,
									 primary_key text[], target text, format text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_validate_stream'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._validate_stream(text, text, jsonb, text, jsonb, jsonb, text[], text, text) IS
'Raise an error for anything wrong in a stream definition';

-- The stream a user means: "source.stream", or a bare stream name when only
-- one source has a stream of that name.
CREATE FUNCTION elt._resolve_stream(stream text)
RETURNS elt.stream
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r elt.stream;
	n integer;
	pos integer := strpos(stream, '.');
BEGIN
	IF stream IS NULL THEN
		RAISE EXCEPTION 'stream name must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF pos > 0 THEN
		SELECT * INTO r FROM elt.stream s
		 WHERE s.source = left(stream, pos - 1) AND s.name = substr(stream, pos + 1);
		IF NOT FOUND THEN
			RAISE EXCEPTION 'stream "%" does not exist', stream
				USING ERRCODE = 'undefined_object';
		END IF;
		RETURN r;
	END IF;
	SELECT count(*) INTO n FROM elt.stream s WHERE s.name = stream;
	IF n = 0 THEN
		RAISE EXCEPTION 'stream "%" does not exist', stream
			USING ERRCODE = 'undefined_object';
	ELSIF n > 1 THEN
		RAISE EXCEPTION 'stream name "%" is ambiguous', stream
			USING ERRCODE = 'ambiguous_parameter',
				  DETAIL = format('Streams of that name exist in sources %s.',
						(SELECT string_agg(quote_literal(s.source), ', ' ORDER BY s.source)
						   FROM elt.stream s WHERE s.name = stream)),
				  HINT = 'Write source.stream.';
	END IF;
	SELECT * INTO r FROM elt.stream s WHERE s.name = stream;
	RETURN r;
END;
$$;
COMMENT ON FUNCTION elt._resolve_stream(text) IS
'Find a stream by "source.stream" or by an unambiguous bare name';

-- Ownership and direct writes ----------------------------------------------------

-- Raise unless the owner of a stream may write its target: INSERT on the
-- table when it exists, CREATE on its schema (or on the database, for a
-- schema to create) when the first extract is to create it.  Extracts run
-- as the stream's owner, so this is checked again by PostgreSQL then; here
-- it gives the error at definition time.
CREATE FUNCTION elt._check_stream_target(owner regrole, target text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts text[] := parse_ident(target);
	rel oid;
	nsp oid;
BEGIN
	SELECT c.oid INTO rel FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n
		ON n.oid = c.relnamespace
	 WHERE n.nspname = parts[1] AND c.relname = parts[2];
	IF rel IS NOT NULL THEN
		IF NOT has_table_privilege(owner, rel, 'INSERT') THEN
			RAISE EXCEPTION 'role "%" may not write to target table %', owner, target
				USING ERRCODE = 'insufficient_privilege',
					  HINT = 'A stream''s owner needs INSERT on its target table.';
		END IF;
		RETURN;
	END IF;
	SELECT n.oid INTO nsp FROM pg_catalog.pg_namespace n WHERE n.nspname = parts[1];
	IF nsp IS NOT NULL AND NOT has_schema_privilege(owner, nsp, 'CREATE') THEN
		RAISE EXCEPTION 'role "%" may not create target table % in schema "%"', owner, target, parts[1]
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Create the table and grant INSERT on it to the stream''s owner, or grant CREATE on the schema.';
	ELSIF nsp IS NULL AND NOT has_database_privilege(owner, current_database(), 'CREATE') THEN
		RAISE EXCEPTION 'role "%" may not create schema "%" for target table %', owner, parts[1], target
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Create the schema first and grant CREATE on it to the stream''s owner.';
	END IF;
END;
$$;
COMMENT ON FUNCTION elt._check_stream_target(regrole, text) IS
'Raise unless a stream''s owner may write (or create) its target table';

-- Every write to elt.source is checked, through the functions below or not.
CREATE FUNCTION elt._source_check()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM elt._validate_source(NEW.name, NEW.base_url, NEW.headers, NEW.auth, NEW.options);
	RETURN NEW;
END;
$$;
COMMENT ON FUNCTION elt._source_check() IS
'Trigger: validate every source written to elt.source';
CREATE TRIGGER source_check BEFORE INSERT OR UPDATE ON elt.source
	FOR EACH ROW EXECUTE FUNCTION elt._source_check();

-- Every write to a stream's definition is checked, through the functions
-- below or not; the incremental cursor moving is not a definition change.
CREATE FUNCTION elt._stream_check()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM elt._validate_stream(NEW.name, NEW.path, NEW.params, NEW.records, NEW.pagination,
								 NEW.incremental, NEW.primary_key, NEW.target, NEW.format);
	-- the source as this role sees it (row security), used with the owner's rights
	IF NOT EXISTS (SELECT 1 FROM elt.source so WHERE so.name = NEW.source) THEN
		RAISE EXCEPTION 'source "%" does not exist', NEW.source
			USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM elt.source so
					WHERE so.name = NEW.source AND pg_has_role(NEW.owner, so.owner, 'USAGE')) THEN
		RAISE EXCEPTION 'role "%" may not use source "%"', NEW.owner, NEW.source
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'A stream''s owner must have the privileges of its source''s owner.';
	END IF;
	PERFORM elt._check_stream_target(NEW.owner, NEW.target);
	RETURN NEW;
END;
$$;
COMMENT ON FUNCTION elt._stream_check() IS
'Trigger: validate every stream definition written to elt.stream';
CREATE TRIGGER stream_check
	BEFORE INSERT OR UPDATE OF source, name, owner, path, params, records, pagination,
		incremental, primary_key, target, format
	ON elt.stream FOR EACH ROW EXECUTE FUNCTION elt._stream_check();

-- Definitions -------------------------------------------------------------------

CREATE FUNCTION elt.create_source(name text, base_url text, headers jsonb DEFAULT '{}',
								  auth jsonb DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM elt._validate_source(name, base_url, headers, auth, options);
	IF EXISTS (SELECT 1 FROM elt.source s WHERE s.name = create_source.name) THEN
		RAISE EXCEPTION 'source "%" already exists', name
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Use elt.alter_source to change it.';
	END IF;
	INSERT INTO elt.source (name, base_url, headers, auth, options)
	VALUES (name, base_url, headers, nullif(auth, 'null'), options);
END;
$$;
COMMENT ON FUNCTION elt.create_source(text, text, jsonb, jsonb, jsonb) IS
'Define an HTTP API to extract from: base URL, headers, auth and request options';

CREATE FUNCTION elt.alter_source(name text, base_url text DEFAULT NULL, headers jsonb DEFAULT NULL,
								 auth jsonb DEFAULT NULL, options jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s elt.source;
BEGIN
	SELECT * INTO s FROM elt.source x WHERE x.name = alter_source.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'source "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	s.base_url := coalesce(base_url, s.base_url);
	s.headers := coalesce(headers, s.headers);
	-- auth => 'null'::jsonb removes authentication; SQL NULL keeps it
	IF auth IS NOT NULL THEN
		s.auth := nullif(auth, 'null');
	END IF;
	s.options := coalesce(options, s.options);
	PERFORM elt._validate_source(s.name, s.base_url, s.headers, s.auth, s.options);
	UPDATE elt.source x
	   SET base_url = s.base_url, headers = s.headers, auth = s.auth,
		   options = s.options, updated_at = now()
	 WHERE x.name = s.name;
END;
$$;
COMMENT ON FUNCTION elt.alter_source(text, text, jsonb, jsonb, jsonb) IS
'Change a source; arguments left NULL keep their value, auth => ''null'' removes authentication';

CREATE FUNCTION elt.drop_source(name text, cascade boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION 'source name must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM 1 FROM elt.source s WHERE s.name = drop_source.name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'source "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	SELECT count(*) INTO n FROM elt.stream st WHERE st.source = drop_source.name;
	IF n > 0 AND NOT coalesce(cascade, false) THEN
		RAISE EXCEPTION 'source "%" has % stream(s)', name, n
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = 'Drop the streams first, or pass cascade => true.  Staging tables are kept either way.';
	END IF;
	DELETE FROM elt.source s WHERE s.name = drop_source.name;
END;
$$;
COMMENT ON FUNCTION elt.drop_source(text, boolean) IS
'Drop a source (and with cascade its streams); staging tables and batch history are kept';

CREATE FUNCTION elt.create_stream(source text, name text, path text, params jsonb DEFAULT '{}',
								  records text DEFAULT '$',
								  pagination jsonb DEFAULT '{"type":"none"}',
								  incremental jsonb DEFAULT NULL, primary_key text[] DEFAULT NULL,
								  target text DEFAULT NULL, format text DEFAULT 'json')
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tgt text := target;
BEGIN
	PERFORM 1 FROM elt.source s WHERE s.name = create_stream.source FOR SHARE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'source "%" does not exist', coalesce(source, 'NULL')
			USING ERRCODE = 'undefined_object';
	END IF;
	PERFORM elt._validate_stream(name, path, params, records, pagination, incremental,
								 primary_key, target, format);
	IF EXISTS (SELECT 1 FROM elt.stream st
				WHERE st.source = create_stream.source AND st.name = create_stream.name) THEN
		RAISE EXCEPTION 'stream "%.%" already exists', source, name
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Use elt.alter_stream to change it.';
	END IF;
	IF tgt IS NULL THEN
		IF octet_length(source || '_' || name) > 63 THEN
			RAISE EXCEPTION 'default target name "%_%" is longer than 63 bytes', source, name
				USING ERRCODE = 'name_too_long',
					  HINT = 'Pass target => ''schema.table''.';
		END IF;
		tgt := 'staging.' || quote_ident(source || '_' || name);
	END IF;
	INSERT INTO elt.stream (source, name, path, params, records, pagination, incremental,
							primary_key, target, format)
	VALUES (source, name, path, params, records, pagination, nullif(incremental, 'null'),
			primary_key, tgt, format);
END;
$$;
COMMENT ON FUNCTION elt.create_stream(text, text, text, jsonb, text, jsonb, jsonb, text[], text, text) IS
'Define an endpoint of a source: path, params, records path, pagination, incremental cursor, target, format';

CREATE FUNCTION elt.alter_stream(stream text, path text DEFAULT NULL, params jsonb DEFAULT NULL,
								 records text DEFAULT NULL, pagination jsonb DEFAULT NULL,
								 incremental jsonb DEFAULT NULL, primary_key text[] DEFAULT NULL,
								 target text DEFAULT NULL, format text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s elt.stream := elt._resolve_stream(stream);
BEGIN
	PERFORM 1 FROM elt.stream x WHERE x.stream_id = s.stream_id FOR UPDATE;
	SELECT * INTO s FROM elt.stream x WHERE x.stream_id = s.stream_id;
	s.path := coalesce(path, s.path);
	s.params := coalesce(params, s.params);
	s.records := coalesce(records, s.records);
	s.pagination := coalesce(pagination, s.pagination);
	-- incremental => 'null'::jsonb makes the stream a full extract again
	IF incremental IS NOT NULL THEN
		IF nullif(incremental, 'null') IS DISTINCT FROM s.incremental THEN
			s.cursor_value := NULL;
		END IF;
		s.incremental := nullif(incremental, 'null');
	END IF;
	IF primary_key IS NOT NULL THEN
		s.primary_key := nullif(primary_key, '{}');
	END IF;
	s.target := coalesce(target, s.target);
	s.format := coalesce(format, s.format);
	PERFORM elt._validate_stream(s.name, s.path, s.params, s.records, s.pagination,
								 s.incremental, s.primary_key, s.target, s.format);
	UPDATE elt.stream x
	   SET path = s.path, params = s.params, records = s.records, pagination = s.pagination,
		   incremental = s.incremental, primary_key = s.primary_key, target = s.target,
		   format = s.format, cursor_value = s.cursor_value, updated_at = now()
	 WHERE x.stream_id = s.stream_id;
END;
$$;
COMMENT ON FUNCTION elt.alter_stream(text, text, jsonb, text, jsonb, jsonb, text[], text, text) IS
'Change a stream; arguments left NULL keep their value.  Changing incremental resets the cursor';

CREATE FUNCTION elt.drop_stream(stream text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s elt.stream := elt._resolve_stream(stream);
BEGIN
	DELETE FROM elt.stream x WHERE x.stream_id = s.stream_id;
END;
$$;
COMMENT ON FUNCTION elt.drop_stream(text) IS
'Drop a stream; its staging table and batch history are kept';

CREATE FUNCTION elt.reset_stream(stream text, cursor_value text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s elt.stream := elt._resolve_stream(stream);
BEGIN
	IF s.incremental IS NULL THEN
		RAISE EXCEPTION 'stream "%.%" is not incremental', s.source, s.name
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	UPDATE elt.stream x SET cursor_value = reset_stream.cursor_value, updated_at = now()
	 WHERE x.stream_id = s.stream_id;
END;
$$;
COMMENT ON FUNCTION elt.reset_stream(text, text) IS
'Set (or with NULL forget) the incremental cursor of a stream';

REVOKE ALL ON FUNCTION elt.create_source(text, text, jsonb, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.alter_source(text, text, jsonb, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.drop_source(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.create_stream(text, text, text, jsonb, text, jsonb, jsonb, text[], text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.alter_stream(text, text, jsonb, text, jsonb, jsonb, text[], text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.drop_stream(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.reset_stream(text, text) FROM PUBLIC;

-- Schema inference ----------------------------------------------------------------

-- Every leaf of the records of a staging table, nested objects flattened
-- with "__", with the set of JSON types seen and whether every string looks
-- like a timestamp or a date.
CREATE FUNCTION elt._infer_columns(target regclass)
RETURNS TABLE (keys text[], types text[], all_timestamps boolean, all_dates boolean,
			   all_integers boolean)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
		WITH RECURSIVE leaf(keys, value) AS (
			SELECT ARRAY[e.key], e.value
			  FROM %s t, jsonb_each(CASE WHEN jsonb_typeof(t._elt_record) = 'object'
										 THEN t._elt_record ELSE '{}' END) e
			UNION ALL
			SELECT l.keys || e.key, e.value
			  FROM leaf l, jsonb_each(l.value) e
			 WHERE jsonb_typeof(l.value) = 'object'
		)
		SELECT keys,
			   array_agg(DISTINCT jsonb_typeof(value) ORDER BY jsonb_typeof(value))
				 FILTER (WHERE jsonb_typeof(value) <> 'null'),
			   coalesce(bool_and((value #>> '{}') ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$')
						  FILTER (WHERE jsonb_typeof(value) = 'string'), false),
			   coalesce(bool_and((value #>> '{}') ~ '^\d{4}-\d{2}-\d{2}$')
						  FILTER (WHERE jsonb_typeof(value) = 'string'), false),
			   coalesce(bool_and((value #>> '{}') ~ '^-?\d{1,18}$')
						  FILTER (WHERE jsonb_typeof(value) = 'number'), false)
		  FROM leaf
		 WHERE jsonb_typeof(value) <> 'object'
			OR NOT EXISTS (SELECT 1 FROM jsonb_object_keys(value))
		 GROUP BY keys
		 ORDER BY keys$q$, target);
END;
$$;
COMMENT ON FUNCTION elt._infer_columns(regclass) IS
'Flattened keys of the records of a staging table and the JSON types seen for each';

CREATE FUNCTION elt.infer_view(stream text, view_name text)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s elt.stream := elt._resolve_stream(stream);
	tgt regclass;
	parts text[];
	vname text;
	c record;
	col text;
	typ text;
	expr text;
	cols text[] := '{}';
	used text[] := '{_elt_batch_id,_elt_loaded_at}';
	n integer;
	ddl text;
BEGIN
	IF view_name IS NULL THEN
		RAISE EXCEPTION 'view name must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	BEGIN
		parts := parse_ident(view_name);
	EXCEPTION WHEN invalid_parameter_value THEN
		parts := NULL;
	END;
	IF parts IS NULL OR cardinality(parts) > 2 THEN
		RAISE EXCEPTION 'invalid view name %', quote_literal(view_name)
			USING ERRCODE = 'invalid_name',
				  HINT = 'Write schema.view, quoting names as in SQL: "My Schema"."My View".';
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(parts) p WHERE octet_length(p) > 63) THEN
		RAISE EXCEPTION 'view name % is too long', quote_literal(view_name)
			USING ERRCODE = 'name_too_long',
				  DETAIL = 'Schema and view names are limited to 63 bytes each.';
	END IF;
	vname := array_to_string(ARRAY(SELECT quote_ident(p) FROM unnest(parts) p), '.');
	tgt := to_regclass(s.target);
	IF tgt IS NULL THEN
		RAISE EXCEPTION 'staging table % of stream "%.%" does not exist', s.target, s.source, s.name
			USING ERRCODE = 'undefined_table',
				  HINT = 'Run elt.extract first.';
	END IF;

	FOR c IN
		SELECT i.*, coalesce(array_position(s.primary_key, array_to_string(i.keys, '.')),
							 2147483647) AS pk_pos
		  FROM elt._infer_columns(tgt) i
		 ORDER BY pk_pos, i.keys::text COLLATE "C"
	LOOP
		col := left(array_to_string(c.keys, '__'), 63);
		n := 1;
		WHILE col = ANY (used) LOOP
			n := n + 1;
			col := left(array_to_string(c.keys, '__'), 60 - length(n::text)) || '_' || n;
		END LOOP;
		used := used || col;
		IF c.types IS NULL THEN
			typ := 'text';		-- only nulls (or empty objects) seen
		ELSIF c.types = '{string}' THEN
			typ := CASE WHEN c.all_dates THEN 'date'
						WHEN c.all_timestamps THEN 'timestamptz'
						ELSE 'text' END;
		ELSIF c.types = '{number}' THEN
			typ := CASE WHEN c.all_integers THEN 'bigint' ELSE 'numeric' END;
		ELSIF c.types = '{boolean}' THEN
			typ := 'boolean';
		ELSE
			typ := 'jsonb';		-- arrays, empty objects and mixed types
		END IF;
		IF typ = 'jsonb' THEN
			expr := format('(_elt_record #> %L)', c.keys);
		ELSE
			expr := format('(_elt_record #>> %L)::%s', c.keys, typ);
		END IF;
		cols := cols || format('%s AS %I', expr, col);
	END LOOP;
	IF cardinality(cols) = 0 THEN
		RAISE EXCEPTION 'staging table % has no records to infer a view from', s.target
			USING ERRCODE = 'no_data_found',
				  HINT = 'Run elt.extract first.';
	END IF;
	ddl := format('SELECT _elt_batch_id, _elt_loaded_at, %s FROM %s',
				  array_to_string(cols, ', '), tgt);
	BEGIN
		EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', vname, ddl);
	EXCEPTION WHEN invalid_table_definition OR datatype_mismatch THEN
		-- columns changed in a way CREATE OR REPLACE cannot follow: start
		-- over, unless other objects depend on the view
		BEGIN
			EXECUTE format('DROP VIEW %s', vname);
		EXCEPTION WHEN dependent_objects_still_exist THEN
			RAISE EXCEPTION 'cannot replace view % with the columns the records now have', vname
				USING ERRCODE = 'dependent_objects_still_exist',
					  DETAIL = 'Other objects depend on the view, and its columns changed name or type.',
					  HINT = 'Drop the dependent objects first, or infer into a new view.';
		END;
		EXECUTE format('CREATE VIEW %s AS %s', vname, ddl);
	END;
	RETURN vname;
END;
$$;
COMMENT ON FUNCTION elt.infer_view(text, text) IS
'Create a typed view over a stream''s staging table, one column per (flattened) JSON key';
REVOKE ALL ON FUNCTION elt.infer_view(text, text) FROM PUBLIC;

-- Extraction ------------------------------------------------------------------

CREATE FUNCTION elt.extract(stream text, full_refresh boolean DEFAULT false,
							OUT batch_id bigint, OUT pages integer, OUT records bigint,
							OUT bytes bigint, OUT elapsed interval)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_extract'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.extract(text, boolean) IS
'Extract a stream into its staging table: all pages, one batch, exactly once';
REVOKE ALL ON FUNCTION elt.extract(text, boolean) FROM PUBLIC;

-- Extracts running now, from the progress reports of their backends (they
-- also appear in pg_stat_progress_copy as a COPY FROM of type CALLBACK).
CREATE VIEW elt.extract_progress WITH (security_invoker = true) AS
SELECT p.pid, p.param11 AS batch_id, st.source || '.' || st.name AS stream,
	   st.target, p.param13::integer AS pages, p.param3 AS records,
	   p.param1 AS bytes, p.param14::integer AS requests, p.param15::integer AS retries,
	   a.query_start AS started_at, now() - a.query_start AS running_for
  FROM pg_catalog.pg_stat_get_progress_info('COPY') p
  LEFT JOIN elt.stream st ON st.stream_id = p.param12
  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid
 WHERE p.param20 = 4541524;
REVOKE ALL ON elt.extract_progress FROM PUBLIC;
GRANT SELECT ON elt.extract_progress TO PUBLIC;
COMMENT ON VIEW elt.extract_progress IS
'Extracts in progress: pages, records and bytes loaded so far, requests and retries';

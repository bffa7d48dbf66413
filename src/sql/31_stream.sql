-- C helpers -----------------------------------------------------------------

CREATE FUNCTION elt._check_records_path(path text, what text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_check_records_path'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt._check_records_path(text, text) IS
'Raise an error unless path is a JSON path pg_elt can follow while streaming';

CREATE FUNCTION elt.split_records(body text, records text DEFAULT '$',
								  format text DEFAULT 'json',
								  format_options jsonb DEFAULT '{}')
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'elt_split_records'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt.split_records(text, text, text, jsonb) IS
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
									 primary_key text[], target text, format text,
									 for_each text DEFAULT NULL, method text DEFAULT 'GET',
									 body jsonb DEFAULT NULL, headers jsonb DEFAULT '{}')
RETURNS void
AS 'MODULE_PATHNAME', 'elt_validate_stream'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._validate_stream(text, text, jsonb, text, jsonb, jsonb, text[], text, text,
										 text, text, jsonb, jsonb) IS
'Raise an error for anything wrong in a stream definition';

CREATE FUNCTION elt._validate_format_options(format text, format_options jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_validate_format_options'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._validate_format_options(text, jsonb) IS
'Raise an error for anything wrong in a stream''s format_options (CSV settings)';

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
		PERFORM elt._raise('22004', 'stream name must not be null');  -- null_value_not_allowed
	END IF;
	IF pos > 0 THEN
		SELECT * INTO r FROM elt.stream s
		 WHERE s.source = left(stream, pos - 1) AND s.name = substr(stream, pos + 1);
		IF NOT FOUND THEN
			PERFORM elt._raise('42704', format('stream "%s" does not exist', stream));  -- undefined_object
		END IF;
		RETURN r;
	END IF;
	SELECT count(*) INTO n FROM elt.stream s WHERE s.name = stream;
	IF n = 0 THEN
		PERFORM elt._raise('42704', format('stream "%s" does not exist', stream));  -- undefined_object
	ELSIF n > 1 THEN
		PERFORM elt._raise('42P08', format('stream name "%s" is ambiguous', stream),
			format('Streams of that name exist in sources %s.',
						(SELECT string_agg(format('"%s"', s.source), ', ' ORDER BY s.source)
						   FROM elt.stream s WHERE s.name = stream)),
			'Write source.stream.');  -- ambiguous_parameter
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
			PERFORM elt._raise('42501', format('role "%s" may not write to target table "%s"', owner, target),
				NULL,
				'A stream''s owner needs INSERT on its target table.');  -- insufficient_privilege
		END IF;
		RETURN;
	END IF;
	SELECT n.oid INTO nsp FROM pg_catalog.pg_namespace n WHERE n.nspname = parts[1];
	IF nsp IS NOT NULL AND NOT has_schema_privilege(owner, nsp, 'CREATE') THEN
		PERFORM elt._raise('42501', format('role "%s" may not create target table "%s" in schema "%s"', owner, target, parts[1]),
			NULL,
			'Create the table and grant INSERT on it to the stream''s owner, or grant CREATE on the schema.');  -- insufficient_privilege
	ELSIF nsp IS NULL AND NOT has_database_privilege(owner, current_database(), 'CREATE') THEN
		PERFORM elt._raise('42501', format('role "%s" may not create schema "%s" for target table "%s"', owner, parts[1], target),
			NULL,
			'Create the schema first and grant CREATE on it to the stream''s owner.');  -- insufficient_privilege
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
								 NEW.incremental, NEW.primary_key, NEW.target, NEW.format,
								 NEW.for_each, NEW.method, NEW.body, NEW.headers);
	PERFORM elt._validate_format_options(NEW.format, NEW.format_options);
	-- the source as this role sees it (row security), used with the owner's rights
	IF NOT EXISTS (SELECT 1 FROM elt.source so WHERE so.name = NEW.source) THEN
		PERFORM elt._raise('42704', format('source "%s" does not exist', NEW.source));  -- undefined_object
	END IF;
	IF NOT EXISTS (SELECT 1 FROM elt.source so
					WHERE so.name = NEW.source AND pg_has_role(NEW.owner, so.owner, 'USAGE')) THEN
		PERFORM elt._raise('42501', format('role "%s" may not use source "%s"', NEW.owner, NEW.source),
			NULL,
			'A stream''s owner must have the privileges of its source''s owner.');  -- insufficient_privilege
	END IF;
	PERFORM elt._check_stream_target(NEW.owner, NEW.target);
	RETURN NEW;
END;
$$;
COMMENT ON FUNCTION elt._stream_check() IS
'Trigger: validate every stream definition written to elt.stream';
CREATE TRIGGER stream_check
	BEFORE INSERT OR UPDATE OF source, name, owner, path, params, records, pagination,
		incremental, primary_key, target, format, for_each, method, body, headers,
		format_options
	ON elt.stream FOR EACH ROW EXECUTE FUNCTION elt._stream_check();

-- Definitions -------------------------------------------------------------------

CREATE FUNCTION elt.create_source(name text, base_url text, headers jsonb DEFAULT '{}',
								  auth jsonb DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS text
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
	RETURN format('source "%s" created', name);
END;
$$;
COMMENT ON FUNCTION elt.create_source(text, text, jsonb, jsonb, jsonb) IS
'Define an HTTP API to extract from: base URL, headers, auth and request options';

CREATE FUNCTION elt.alter_source(name text, base_url text DEFAULT NULL, headers jsonb DEFAULT NULL,
								 auth jsonb DEFAULT NULL, options jsonb DEFAULT NULL)
RETURNS text
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
	RETURN format('source "%s" altered', name);
END;
$$;
COMMENT ON FUNCTION elt.alter_source(text, text, jsonb, jsonb, jsonb) IS
'Change a source; arguments left NULL keep their value, auth => ''null'' removes authentication';

CREATE FUNCTION elt.drop_source(name text, cascade boolean DEFAULT false)
RETURNS text
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
	RETURN CASE WHEN n = 0 THEN format('source "%s" dropped', name)
			WHEN n = 1 THEN format('source "%s" dropped, with its stream', name)
			ELSE format('source "%s" dropped, with its %s streams', name, n) END;
END;
$$;
COMMENT ON FUNCTION elt.drop_source(text, boolean) IS
'Drop a source (and with cascade its streams); staging tables and batch history are kept';

CREATE FUNCTION elt.create_stream(source text, name text, path text, params jsonb DEFAULT '{}',
								  records text DEFAULT '$',
								  pagination jsonb DEFAULT '{"type":"none"}',
								  incremental jsonb DEFAULT NULL, primary_key text[] DEFAULT NULL,
								  target text DEFAULT NULL, format text DEFAULT 'json',
								  for_each text DEFAULT NULL, method text DEFAULT 'GET',
								  body jsonb DEFAULT NULL, headers jsonb DEFAULT '{}',
								  format_options jsonb DEFAULT '{}')
RETURNS text
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
								 primary_key, target, format, for_each, method,
								 nullif(body, 'null'), headers);
	PERFORM elt._validate_format_options(format, format_options);
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
							primary_key, target, format, for_each, method, body, headers,
							format_options)
	VALUES (source, name, path, params, records, pagination, nullif(incremental, 'null'),
			primary_key, tgt, format, nullif(for_each, ''), coalesce(method, 'GET'),
			nullif(body, 'null'), coalesce(headers, '{}'), coalesce(format_options, '{}'));
	RETURN format('stream "%s.%s" created, loading into "%s"', source, name,
				  array_to_string(parse_ident(tgt), '.'));
END;
$$;
COMMENT ON FUNCTION elt.create_stream(text, text, text, jsonb, text, jsonb, jsonb, text[], text, text,
									   text, text, jsonb, jsonb, jsonb) IS
'Define an endpoint of a source: path, params, records path, pagination, incremental cursor, target, format, fan-out query, method, body, headers, format options';

CREATE FUNCTION elt.alter_stream(stream text, path text DEFAULT NULL, params jsonb DEFAULT NULL,
								 records text DEFAULT NULL, pagination jsonb DEFAULT NULL,
								 incremental jsonb DEFAULT NULL, primary_key text[] DEFAULT NULL,
								 target text DEFAULT NULL, format text DEFAULT NULL,
								 for_each text DEFAULT NULL, method text DEFAULT NULL,
								 body jsonb DEFAULT NULL, headers jsonb DEFAULT NULL,
								 format_options jsonb DEFAULT NULL)
RETURNS text
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
	-- for_each => '' ends the fan-out, body => 'null' removes the body
	IF for_each IS NOT NULL THEN
		s.for_each := nullif(for_each, '');
	END IF;
	s.method := coalesce(method, s.method);
	IF body IS NOT NULL THEN
		s.body := nullif(body, 'null');
	END IF;
	s.headers := coalesce(headers, s.headers);
	s.format_options := coalesce(format_options, s.format_options);
	PERFORM elt._validate_stream(s.name, s.path, s.params, s.records, s.pagination,
								 s.incremental, s.primary_key, s.target, s.format,
								 s.for_each, s.method, s.body, s.headers);
	PERFORM elt._validate_format_options(s.format, s.format_options);
	UPDATE elt.stream x
	   SET path = s.path, params = s.params, records = s.records, pagination = s.pagination,
		   incremental = s.incremental, primary_key = s.primary_key, target = s.target,
		   format = s.format, cursor_value = s.cursor_value, for_each = s.for_each,
		   method = s.method, body = s.body, headers = s.headers,
		   format_options = s.format_options, updated_at = now()
	 WHERE x.stream_id = s.stream_id;
	RETURN format('stream "%s.%s" altered', s.source, s.name);
END;
$$;
COMMENT ON FUNCTION elt.alter_stream(text, text, jsonb, text, jsonb, jsonb, text[], text, text,
									  text, text, jsonb, jsonb, jsonb) IS
'Change a stream; arguments left NULL keep their value.  Changing incremental resets the cursor';

CREATE FUNCTION elt.drop_stream(stream text)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s elt.stream := elt._resolve_stream(stream);
BEGIN
	DELETE FROM elt.stream x WHERE x.stream_id = s.stream_id;
	RETURN format('stream "%s.%s" dropped', s.source, s.name);
END;
$$;
COMMENT ON FUNCTION elt.drop_stream(text) IS
'Drop a stream; its staging table and batch history are kept';

CREATE FUNCTION elt.reset_stream(stream text, cursor_value text DEFAULT NULL)
RETURNS text
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
	RETURN CASE WHEN reset_stream.cursor_value IS NULL
			THEN format('stream "%s.%s" reset to its initial cursor', s.source, s.name)
			ELSE format('stream "%s.%s" reset to cursor "%s"', s.source, s.name, reset_stream.cursor_value) END;
END;
$$;
COMMENT ON FUNCTION elt.reset_stream(text, text) IS
'Set (or with NULL forget) the incremental cursor of a stream';

REVOKE ALL ON FUNCTION elt.create_source(text, text, jsonb, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.alter_source(text, text, jsonb, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.drop_source(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.create_stream(text, text, text, jsonb, text, jsonb, jsonb, text[], text, text,
										  text, text, jsonb, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.alter_stream(text, text, jsonb, text, jsonb, jsonb, text[], text, text,
										 text, text, jsonb, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.drop_stream(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.reset_stream(text, text) FROM PUBLIC;


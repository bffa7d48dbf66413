-- pg_elt extension script.  Built by concatenating src/sql/*.sql in order.

\echo Use "CREATE EXTENSION pg_elt" to load this file. \quit

-- Nothing in schema elt is usable by PUBLIC unless granted below; the
-- functions that reach the network or touch secrets are granted by an
-- administrator (docs/security.md).
REVOKE ALL ON SCHEMA elt FROM PUBLIC;
GRANT USAGE ON SCHEMA elt TO PUBLIC;

-- The owner of every definition and record is a role; this is the default.
CREATE FUNCTION elt._current_role()
RETURNS regrole
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT oid::regrole FROM pg_catalog.pg_roles WHERE rolname = current_user $$;
COMMENT ON FUNCTION elt._current_role() IS
'The current role as regrole, the default owner of new definitions (sources, streams, pipelines) and records.';
-- Secrets ----------------------------------------------------------------

-- Values are stored encrypted (AES-256-GCM) under a key kept outside the
-- database (pg_elt.secret_key_file or pg_elt.secret_key_command), so only
-- ciphertext reaches the table, the WAL, backups and dumps.  The table has
-- no grant either, and the functions below are written in C so that they
-- never hand a value back.
CREATE TABLE elt.secret (
	name		text PRIMARY KEY,
	owner		regrole NOT NULL,
	ciphertext	bytea NOT NULL,
	key_id		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON elt.secret FROM PUBLIC;
COMMENT ON TABLE elt.secret IS 'Named secrets, encrypted; readable by superusers only';
COMMENT ON COLUMN elt.secret.ciphertext IS
'Version, key id, nonce, AES-256-GCM ciphertext and tag; the name is authenticated with it';
COMMENT ON COLUMN elt.secret.key_id IS 'Id of the key the value is encrypted under';

CREATE TABLE elt.secret_grant (
	secret		text NOT NULL REFERENCES elt.secret (name) ON DELETE CASCADE,
	grantee		regrole NOT NULL,
	PRIMARY KEY (secret, grantee)
);
REVOKE ALL ON elt.secret_grant FROM PUBLIC;
COMMENT ON TABLE elt.secret_grant IS 'Roles other than the owner that may use a secret in requests';

SELECT pg_catalog.pg_extension_config_dump('elt.secret', '');
SELECT pg_catalog.pg_extension_config_dump('elt.secret_grant', '');

-- What a role may know about the secrets it can use: never the value.
CREATE VIEW elt.secrets AS
SELECT s.name, s.owner,
	   ARRAY(SELECT g.grantee FROM elt.secret_grant g
			 WHERE g.secret = s.name ORDER BY g.grantee::text) AS grantees,
	   s.created_at, s.updated_at
  FROM elt.secret s
 WHERE pg_catalog.pg_has_role(s.owner, 'USAGE')
	OR EXISTS (SELECT 1 FROM elt.secret_grant g
				WHERE g.secret = s.name AND pg_catalog.pg_has_role(g.grantee, 'USAGE'));
GRANT SELECT ON elt.secrets TO PUBLIC;
COMMENT ON VIEW elt.secrets IS 'Secrets the current role can use, without their values';

CREATE FUNCTION elt.set_secret(name text, value text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_set_secret'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.set_secret(text, text) IS
'Create or replace a secret, referenced as {{secret:NAME}}; the value is never returned';

CREATE FUNCTION elt.drop_secret(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_drop_secret'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.drop_secret(text) IS 'Drop a secret owned by the current role';

CREATE FUNCTION elt.grant_secret(name text, grantee regrole)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_grant_secret'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.grant_secret(text, regrole) IS
'Let another role use a secret in requests (it still cannot read it)';

CREATE FUNCTION elt.revoke_secret(name text, grantee regrole)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_revoke_secret'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.revoke_secret(text, regrole) IS 'Take back elt.grant_secret';

CREATE FUNCTION elt.rotate_secret_key(new_key boolean DEFAULT true,
	OUT key_id text, OUT reencrypted bigint, OUT undecryptable bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_rotate_secret_key'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.rotate_secret_key(boolean) IS
'Re-encrypt every secret of this database under the current key, after making a new one (new_key, with a key file)';

REVOKE ALL ON FUNCTION elt.set_secret(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.rotate_secret_key(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.drop_secret(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.grant_secret(text, regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.revoke_secret(text, regrole) FROM PUBLIC;
-- HTTP -------------------------------------------------------------------

CREATE TYPE elt.http_response AS (
	status		int,
	headers		jsonb,
	body		text,
	elapsed		interval
);
COMMENT ON TYPE elt.http_response IS 'One HTTP response: status, headers (lower-case names), body, time taken';

CREATE FUNCTION elt.http(method text, url text, headers jsonb DEFAULT '{}',
						 body text DEFAULT NULL, timeout interval DEFAULT NULL)
RETURNS elt.http_response
AS 'MODULE_PATHNAME', 'elt_http'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.http(text, text, jsonb, text, interval) IS
'Make one HTTP request; an HTTP error status is a result, a transport failure an error';

CREATE FUNCTION elt.http_get(url text, headers jsonb DEFAULT '{}')
RETURNS elt.http_response
AS 'MODULE_PATHNAME', 'elt_http_get'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.http_get(text, jsonb) IS 'HTTP GET; shorthand for elt.http(''GET'', ...)';

CREATE FUNCTION elt.http_post(url text, body text, headers jsonb DEFAULT '{}')
RETURNS elt.http_response
AS 'MODULE_PATHNAME', 'elt_http_post'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.http_post(text, text, jsonb) IS 'HTTP POST; shorthand for elt.http(''POST'', ...)';

CREATE FUNCTION elt._check_url_template(url text, what text DEFAULT 'URL')
RETURNS void
AS 'MODULE_PATHNAME', 'elt_check_url_template'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._check_url_template(text, text) IS
'Raise an error if a URL template references a secret in its scheme, host or port';

-- Reaching the network is a privilege: granted by an administrator.
REVOKE ALL ON FUNCTION elt.http(text, text, jsonb, text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.http_get(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.http_post(text, text, jsonb) FROM PUBLIC;
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
	for_each	text,
	method		text NOT NULL DEFAULT 'GET',
	body		jsonb,
	headers		jsonb NOT NULL DEFAULT '{}',
	format_options jsonb NOT NULL DEFAULT '{}',
	cursor_value text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (source, name)
);
REVOKE ALL ON elt.stream FROM PUBLIC;
COMMENT ON TABLE elt.stream IS 'Endpoints of sources and their incremental cursor (elt.create_stream)';
COMMENT ON COLUMN elt.stream.cursor_value IS
'Highest value of the incremental cursor_field loaded so far; sent on the next run';
COMMENT ON COLUMN elt.stream.for_each IS
'Fan-out: a query whose rows fill the {name} placeholders of path, params and body, one child request each';

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
	error_code	text,
	stop_reason text CHECK (stop_reason IN ('single_request', 'empty_page', 'no_next',
											'total_reached', 'max_pages', 'repeated_page',
											'error'))
);
CREATE INDEX ON elt.batch (stream_id, batch_id);
CREATE SEQUENCE elt.batch_id_seq OWNED BY elt.batch.batch_id;
REVOKE ALL ON elt.batch FROM PUBLIC;
REVOKE ALL ON SEQUENCE elt.batch_id_seq FROM PUBLIC;
COMMENT ON TABLE elt.batch IS 'One row per extract: status, counts, cursor before and after, error';
COMMENT ON COLUMN elt.batch.stop_reason IS
'Why the extract ended: single_request, empty_page, no_next, total_reached, max_pages, repeated_page, or error';

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
	   st.owner, st.method, st.for_each IS NOT NULL AS fan_out
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
								 NEW.incremental, NEW.primary_key, NEW.target, NEW.format,
								 NEW.for_each, NEW.method, NEW.body, NEW.headers);
	PERFORM elt._validate_format_options(NEW.format, NEW.format_options);
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
		incremental, primary_key, target, format, for_each, method, body, headers,
		format_options
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
								  target text DEFAULT NULL, format text DEFAULT 'json',
								  for_each text DEFAULT NULL, method text DEFAULT 'GET',
								  body jsonb DEFAULT NULL, headers jsonb DEFAULT '{}',
								  format_options jsonb DEFAULT '{}')
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
END;
$$;
COMMENT ON FUNCTION elt.alter_stream(text, text, jsonb, text, jsonb, jsonb, text[], text, text,
									  text, text, jsonb, jsonb, jsonb) IS
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
REVOKE ALL ON FUNCTION elt.create_stream(text, text, text, jsonb, text, jsonb, jsonb, text[], text, text,
										  text, text, jsonb, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.alter_stream(text, text, jsonb, text, jsonb, jsonb, text[], text, text,
										 text, text, jsonb, jsonb, jsonb) FROM PUBLIC;
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

CREATE FUNCTION elt._link_header_next(header text)
RETURNS text
AS 'MODULE_PATHNAME', 'elt_link_header_next'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt._link_header_next(text) IS
'The rel="next" target of an RFC 8288 Link header (its fields joined by commas), as link_header paging reads it';
-- Transformations: dimensions, facts, incremental models ------------------

-- One row per model build.  Written by the model functions themselves (as
-- the table's owner), never by the roles that call them; each role reads
-- the records of the builds it ran.
CREATE TABLE elt.model_run (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	function	text NOT NULL,
	target		text NOT NULL,
	source		text,
	inserted	bigint,
	updated		bigint,
	deleted		bigint,
	closed		bigint,
	unchanged	bigint,
	started_at	timestamptz NOT NULL,
	elapsed		interval NOT NULL,
	run_by		name NOT NULL,
	detail		jsonb
);
CREATE INDEX ON elt.model_run (target, started_at);
CREATE INDEX ON elt.model_run (started_at);
COMMENT ON TABLE elt.model_run IS
'Model builds (merge_dimension, merge_fact, merge, create_date_dimension): counts and timings';
REVOKE ALL ON elt.model_run FROM PUBLIC;
GRANT SELECT ON elt.model_run TO PUBLIC;
ALTER TABLE elt.model_run ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_run_own ON elt.model_run FOR SELECT
	USING (run_by = current_user
		   OR EXISTS (SELECT FROM pg_catalog.pg_roles r
					   WHERE r.rolname = run_by
						 AND pg_catalog.pg_has_role(r.oid, 'USAGE')));
SELECT pg_catalog.pg_extension_config_dump('elt.model_run', '');

CREATE FUNCTION elt.merge_dimension(
	target text,
	source text,
	natural_key text[],
	scd_type int DEFAULT 2,
	type1_columns text[] DEFAULT '{}',
	ignore_columns text[] DEFAULT '{}',
	effective_at text DEFAULT NULL,
	deletes text DEFAULT 'ignore',
	surrogate_key text DEFAULT NULL,
	OUT inserted bigint,
	OUT updated bigint,
	OUT closed bigint,
	OUT unchanged bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_merge_dimension'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.merge_dimension(text, text, text[], int, text[], text[], text, text, text) IS
'Merge a relation or SELECT into a slowly changing dimension (type 0, 1 or 2), creating it on the first call';

CREATE FUNCTION elt.create_date_dimension(target text, start_date date, end_date date)
RETURNS bigint
AS 'MODULE_PATHNAME', 'elt_create_date_dimension'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.create_date_dimension(text, date, date) IS
'Create or extend a calendar dimension with one row per day and the unknown member; returns the days added';

CREATE FUNCTION elt.merge_fact(
	target text,
	source text,
	grain text[] DEFAULT NULL,
	dimensions jsonb DEFAULT '[]',
	late_arriving text DEFAULT 'infer',
	strategy text DEFAULT 'merge',
	watermark text DEFAULT NULL,
	OUT inserted bigint,
	OUT updated bigint,
	OUT deleted bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_merge_fact'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.merge_fact(text, text, text[], jsonb, text, text, text) IS
'Load a fact table from a relation or SELECT, replacing natural keys by dimension surrogate keys';

CREATE FUNCTION elt.merge(
	target text,
	source text,
	unique_key text[],
	strategy text DEFAULT 'merge',
	watermark text DEFAULT NULL,
	on_schema_change text DEFAULT 'fail',
	OUT inserted bigint,
	OUT updated bigint,
	OUT deleted bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_merge'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.merge(text, text, text[], text, text, text) IS
'Incremental model: load a relation or SELECT into a table by unique key (append, merge or delete+insert)';

-- ---------------------------------------------------------------------------
-- Pipelines and scheduling (docs/pipelines.md)
--
-- Definitions live in elt.pipeline and elt.step, history in elt.run and
-- elt.step_run.  Row-level security shows each role only the pipelines it
-- owns (or whose owner it is a member of); superusers see all.  The
-- functions below run as the caller, so the same rules apply to them; the
-- triggers keep every definition valid whichever way it is written.
-- ---------------------------------------------------------------------------

CREATE TABLE elt.pipeline (
	pipeline_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL UNIQUE,
	owner regrole NOT NULL DEFAULT elt._current_role(),
	schedule text,
	options jsonb NOT NULL DEFAULT '{}',
	paused boolean NOT NULL DEFAULT false,
	next_run_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE elt.pipeline IS 'Pipelines: a schedule, options and an owner; steps are in elt.step.';

CREATE TABLE elt.step (
	pipeline_id bigint NOT NULL REFERENCES elt.pipeline ON DELETE CASCADE,
	name text NOT NULL,
	position integer NOT NULL,
	command text NOT NULL,
	depends_on text[] NOT NULL DEFAULT '{}',
	retries integer,
	timeout interval,
	PRIMARY KEY (pipeline_id, name)
);
COMMENT ON TABLE elt.step IS 'Steps of pipelines: a SQL command each, forming a DAG through depends_on.';

CREATE TABLE elt.run (
	run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	pipeline_id bigint NOT NULL REFERENCES elt.pipeline ON DELETE CASCADE,
	pipeline text NOT NULL,
	owner regrole NOT NULL,
	trigger text NOT NULL CHECK (trigger IN ('schedule', 'catchup', 'manual', 'trigger', 'backfill', 'after')),
	status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped')),
	scheduled_at timestamptz,
	queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	started_at timestamptz,
	finished_at timestamptz,
	pid integer,
	error text,
	interval_start timestamptz,
	interval_end timestamptz,
	triggered_by bigint,
	CHECK (interval_start <= interval_end)
);
CREATE INDEX run_pipeline_idx ON elt.run (pipeline_id, run_id);
CREATE INDEX run_active_idx ON elt.run (status) WHERE status IN ('queued', 'running');
CREATE INDEX run_finished_idx ON elt.run (finished_at);
COMMENT ON TABLE elt.run IS 'History of pipeline runs, pruned after pg_elt.history_retention.';

CREATE TABLE elt.step_run (
	run_id bigint NOT NULL REFERENCES elt.run ON DELETE CASCADE,
	step text NOT NULL,
	attempt integer NOT NULL,
	status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'skipped')),
	started_at timestamptz,
	finished_at timestamptz,
	rows bigint,
	error text,
	PRIMARY KEY (run_id, step, attempt)
);
COMMENT ON TABLE elt.step_run IS 'Every attempt of every step of a run; a skipped step has attempt 0.';

SELECT pg_catalog.pg_extension_config_dump('elt.pipeline', '');
SELECT pg_catalog.pg_extension_config_dump('elt.step', '');
SELECT pg_catalog.pg_extension_config_dump('elt.run', '');
SELECT pg_catalog.pg_extension_config_dump('elt.step_run', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('elt.pipeline', 'pipeline_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('elt.run', 'run_id')::regclass, '');

ALTER TABLE elt.pipeline ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.step ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.run ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.step_run ENABLE ROW LEVEL SECURITY;
CREATE POLICY pipeline_owner ON elt.pipeline
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE'));
CREATE POLICY step_owner ON elt.step
	USING (EXISTS (SELECT 1 FROM elt.pipeline p WHERE p.pipeline_id = step.pipeline_id))
	WITH CHECK (EXISTS (SELECT 1 FROM elt.pipeline p WHERE p.pipeline_id = step.pipeline_id));
CREATE POLICY run_owner ON elt.run
	USING (pg_catalog.pg_has_role(owner, 'USAGE'));
CREATE POLICY step_run_owner ON elt.step_run
	USING (EXISTS (SELECT 1 FROM elt.run r WHERE r.run_id = step_run.run_id));

GRANT SELECT, INSERT, UPDATE, DELETE ON elt.pipeline, elt.step TO PUBLIC;
GRANT SELECT ON elt.run, elt.step_run TO PUBLIC;

-- C functions ---------------------------------------------------------------

CREATE FUNCTION elt.next_runs(schedule text, count integer DEFAULT 5,
	after timestamptz DEFAULT now(), timezone text DEFAULT NULL)
RETURNS SETOF timestamptz
AS 'MODULE_PATHNAME', 'elt_next_runs'
LANGUAGE C STABLE PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION elt.next_runs(text, integer, timestamptz, text) IS
'The next fire times of a schedule (cron, @-shorthand or interval) after a time, in a time zone (default pg_elt.timezone).';

CREATE FUNCTION elt.run_pipeline(name text, interval_start timestamptz DEFAULT NULL,
	interval_end timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'elt_run_pipeline'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.run_pipeline(text, timestamptz, timestamptz) IS
'Run a pipeline now, as its owner, for an optional data interval, and wait for the end of the run; returns the run id, raises an error when the run fails.';

CREATE FUNCTION elt.trigger(name text, interval_start timestamptz DEFAULT NULL,
	interval_end timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'elt_trigger'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.trigger(text, timestamptz, timestamptz) IS
'Queue a run of a pipeline for the scheduler, for an optional data interval, which starts it once the transaction commits; returns the run id.';

CREATE FUNCTION elt.cancel(run_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'elt_cancel'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.cancel(bigint) IS
'Cancel a queued run, or stop a running one at once; false when it had already finished.';

CREATE FUNCTION elt.current_run()
RETURNS bigint
AS 'MODULE_PATHNAME', 'elt_current_run'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION elt.current_run() IS
'The id of the run executing the current step, NULL outside a pipeline run.';

CREATE FUNCTION elt.scheduler_pid()
RETURNS integer
AS 'MODULE_PATHNAME', 'elt_scheduler_pid'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION elt.scheduler_pid() IS
'Process id of the pg_elt scheduler (launcher), NULL when it is not running.';

CREATE FUNCTION elt._wake_scheduler()
RETURNS void
AS 'MODULE_PATHNAME', 'elt_wake_scheduler'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt._wake_scheduler() IS
'Internal: wake the scheduler when the current transaction commits, so it sees changed definitions.';

CREATE FUNCTION elt._check_command(command text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_check_command'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt._check_command(text) IS
'Internal: raise a syntax error when a step command is not valid SQL.';

-- Validation triggers -------------------------------------------------------

CREATE FUNCTION elt._check_pipeline_options(options jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_check_pipeline_options'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._check_pipeline_options(jsonb) IS
'Internal: raise an error naming the first invalid pipeline option.';

CREATE FUNCTION elt._pipeline_before()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF btrim(NEW.name) = '' THEN
		RAISE EXCEPTION 'pipeline name must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM elt._check_pipeline_options(NEW.options);
	IF NEW.options ? 'alert_url' THEN
		PERFORM elt._check_alert_url(NEW.options->>'alert_url');
	END IF;
	IF NEW.options ? 'after' THEN
		PERFORM elt._check_after(NEW.name, NEW.owner, NEW.options->'after');
	END IF;
	IF TG_OP = 'INSERT' OR NEW.schedule IS DISTINCT FROM OLD.schedule
	   OR NEW.options IS DISTINCT FROM OLD.options OR NEW.paused IS DISTINCT FROM OLD.paused THEN
		IF NEW.schedule IS NULL THEN
			NEW.next_run_at := NULL;
		ELSE
			-- also refuses a malformed schedule, naming the wrong field
			NEW.next_run_at := (SELECT t FROM elt.next_runs(NEW.schedule, 1, clock_timestamp(),
															 NEW.options->>'timezone') AS t);
		END IF;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION elt._pipeline_before() IS
'Internal: validate a pipeline and compute its next run time when its schedule, options or pause change.';

CREATE FUNCTION elt._pipeline_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- the scheduler's own updates of next_run_at need no wake-up
	IF elt.scheduler_pid() IS DISTINCT FROM pg_backend_pid() THEN
		PERFORM elt._wake_scheduler();
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION elt._pipeline_changed() IS
'Internal: wake the scheduler after a committed change of pipelines.';

CREATE TRIGGER pipeline_before BEFORE INSERT OR UPDATE ON elt.pipeline
	FOR EACH ROW EXECUTE FUNCTION elt._pipeline_before();
CREATE TRIGGER pipeline_changed AFTER INSERT OR UPDATE OR DELETE ON elt.pipeline
	FOR EACH STATEMENT EXECUTE FUNCTION elt._pipeline_changed();

CREATE FUNCTION elt._step_before()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dep text;
	pname text;
BEGIN
	SELECT p.name INTO pname FROM elt.pipeline p WHERE p.pipeline_id = NEW.pipeline_id;
	IF btrim(NEW.name) = '' THEN
		RAISE EXCEPTION 'step name must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF btrim(NEW.command) = '' THEN
		RAISE EXCEPTION 'command of step "%" must not be empty', NEW.name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM elt._check_command(NEW.command);
	IF NEW.retries IS NOT NULL AND (NEW.retries < 0 OR NEW.retries > 1000) THEN
		RAISE EXCEPTION 'retries of step "%" must be between 0 and 1000', NEW.name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NEW.timeout IS NOT NULL AND NEW.timeout <= interval '0' THEN
		RAISE EXCEPTION 'timeout of step "%" must be positive', NEW.name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF array_position(NEW.depends_on, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'depends_on of step "%" must not contain NULL', NEW.name
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF cardinality(NEW.depends_on) <> (SELECT count(DISTINCT d) FROM unnest(NEW.depends_on) d) THEN
		RAISE EXCEPTION 'depends_on of step "%" lists a step twice', NEW.name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOREACH dep IN ARRAY NEW.depends_on LOOP
		IF dep = NEW.name THEN
			RAISE EXCEPTION 'step "%" cannot depend on itself', NEW.name
				USING ERRCODE = 'invalid_object_definition';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM elt.step s
					   WHERE s.pipeline_id = NEW.pipeline_id AND s.name = dep) THEN
			RAISE EXCEPTION 'step "%" depends on unknown step "%"', NEW.name, dep
				USING ERRCODE = 'undefined_object',
					  HINT = format('Add step "%s" to pipeline "%s" first.', dep, pname);
		END IF;
	END LOOP;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION elt._step_before() IS
'Internal: validate a step: a valid command, known dependencies, sane retries and timeout.';

CREATE FUNCTION elt._step_after()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cycle text[];
BEGIN
	-- a path from the step back to itself through depends_on is a cycle
	WITH RECURSIVE walk(name, path) AS (
		SELECT d, ARRAY[NEW.name, d]
		FROM unnest(NEW.depends_on) d
		UNION ALL
		SELECT d, w.path || d
		FROM walk w
		JOIN elt.step s ON s.pipeline_id = NEW.pipeline_id AND s.name = w.name
		CROSS JOIN LATERAL unnest(s.depends_on) d
		WHERE w.name <> NEW.name AND cardinality(w.path) <= 1000
	)
	SELECT w.path INTO cycle FROM walk w WHERE w.name = NEW.name LIMIT 1;
	IF cycle IS NOT NULL THEN
		RAISE EXCEPTION 'step dependencies form a cycle: %', array_to_string(cycle, ' -> ')
			USING ERRCODE = 'invalid_object_definition';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION elt._step_after() IS
'Internal: refuse a change of steps that makes their dependencies circular.';

CREATE FUNCTION elt._step_before_delete()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dependent text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM elt.pipeline p WHERE p.pipeline_id = OLD.pipeline_id) THEN
		RETURN OLD;				-- the whole pipeline is being dropped
	END IF;
	SELECT s.name INTO dependent FROM elt.step s
	WHERE s.pipeline_id = OLD.pipeline_id AND OLD.name = ANY (s.depends_on)
	ORDER BY s.position LIMIT 1;
	IF dependent IS NOT NULL THEN
		RAISE EXCEPTION 'step "%" is a dependency of step "%"', OLD.name, dependent
			USING ERRCODE = 'dependent_objects_still_exist';
	END IF;
	RETURN OLD;
END
$$;
COMMENT ON FUNCTION elt._step_before_delete() IS
'Internal: refuse to remove a step that another step depends on.';

CREATE TRIGGER step_before BEFORE INSERT OR UPDATE ON elt.step
	FOR EACH ROW EXECUTE FUNCTION elt._step_before();
CREATE TRIGGER step_after AFTER INSERT OR UPDATE ON elt.step
	FOR EACH ROW EXECUTE FUNCTION elt._step_after();
CREATE TRIGGER step_before_delete BEFORE DELETE ON elt.step
	FOR EACH ROW EXECUTE FUNCTION elt._step_before_delete();

-- Definition functions ------------------------------------------------------

CREATE FUNCTION elt._pipeline_id(name text, for_update boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint;
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION 'pipeline name must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF for_update THEN
		SELECT p.pipeline_id INTO id FROM elt.pipeline p WHERE p.name = _pipeline_id.name FOR UPDATE;
	ELSE
		SELECT p.pipeline_id INTO id FROM elt.pipeline p WHERE p.name = _pipeline_id.name;
	END IF;
	IF id IS NULL THEN
		RAISE EXCEPTION 'pipeline "%" does not exist', name
			USING ERRCODE = 'undefined_object';
	END IF;
	RETURN id;
END
$$;
COMMENT ON FUNCTION elt._pipeline_id(text, boolean) IS
'Internal: the id of a pipeline the current role may see, or an error.';

CREATE FUNCTION elt.create_pipeline(name text, schedule text DEFAULT NULL,
	options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint;
BEGIN
	IF create_pipeline.name IS NULL THEN
		RAISE EXCEPTION 'pipeline name must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	BEGIN
		INSERT INTO elt.pipeline (name, schedule, options)
		VALUES (create_pipeline.name, create_pipeline.schedule,
				coalesce(create_pipeline.options, '{}'))
		RETURNING pipeline_id INTO id;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'pipeline "%" already exists', create_pipeline.name
			USING ERRCODE = 'duplicate_object';
	END;
	RETURN id;
END
$$;
COMMENT ON FUNCTION elt.create_pipeline(text, text, jsonb) IS
'Define a pipeline owned by the current role, with an optional schedule (cron, @-shorthand or interval) and options.';

CREATE FUNCTION elt.alter_pipeline(name text, schedule text DEFAULT NULL,
	options jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(alter_pipeline.name, true);
BEGIN
	IF alter_pipeline.options IS NOT NULL AND jsonb_typeof(alter_pipeline.options) <> 'object' THEN
		RAISE EXCEPTION 'pipeline options must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE elt.pipeline p
	SET schedule = CASE WHEN alter_pipeline.schedule IS NULL THEN p.schedule
						WHEN lower(btrim(alter_pipeline.schedule)) = 'none' THEN NULL
						ELSE alter_pipeline.schedule END,
		options = CASE WHEN alter_pipeline.options IS NULL THEN p.options
					   ELSE jsonb_strip_nulls(p.options || alter_pipeline.options) END
	WHERE p.pipeline_id = id;
END
$$;
COMMENT ON FUNCTION elt.alter_pipeline(text, text, jsonb) IS
'Change a pipeline''s schedule (''none'' removes it) and merge options (a null value removes an option).';

CREATE FUNCTION elt.add_step(pipeline text, name text, command text,
	depends_on text[] DEFAULT '{}', retries integer DEFAULT NULL,
	timeout interval DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(add_step.pipeline, true);
BEGIN
	IF add_step.name IS NULL OR add_step.command IS NULL THEN
		RAISE EXCEPTION 'step name and command must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	BEGIN
		INSERT INTO elt.step (pipeline_id, name, position, command, depends_on, retries, timeout)
		VALUES (id, add_step.name,
				coalesce((SELECT max(s.position) + 1 FROM elt.step s WHERE s.pipeline_id = id), 1),
				add_step.command, coalesce(add_step.depends_on, '{}'),
				add_step.retries, add_step.timeout);
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'step "%" already exists in pipeline "%"', add_step.name, add_step.pipeline
			USING ERRCODE = 'duplicate_object';
	END;
END
$$;
COMMENT ON FUNCTION elt.add_step(text, text, text, text[], integer, interval) IS
'Add a step (a SQL command) to a pipeline, after the steps it depends on; retries and timeout override the pipeline''s.';

CREATE FUNCTION elt.drop_step(pipeline text, name text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(drop_step.pipeline, true);
BEGIN
	DELETE FROM elt.step s WHERE s.pipeline_id = id AND s.name = drop_step.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'step "%" does not exist in pipeline "%"', drop_step.name, drop_step.pipeline
			USING ERRCODE = 'undefined_object';
	END IF;
END
$$;
COMMENT ON FUNCTION elt.drop_step(text, text) IS
'Remove a step that no other step depends on.';

CREATE FUNCTION elt.pause(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(pause.name, true);
BEGIN
	UPDATE elt.pipeline p SET paused = true WHERE p.pipeline_id = id;
END
$$;
COMMENT ON FUNCTION elt.pause(text) IS
'Stop scheduling a pipeline (runs in progress finish; queued runs wait).';

CREATE FUNCTION elt.resume(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(resume.name, true);
BEGIN
	UPDATE elt.pipeline p SET paused = false WHERE p.pipeline_id = id;
END
$$;
COMMENT ON FUNCTION elt.resume(text) IS
'Schedule a paused pipeline again, from its next fire time after now.';

CREATE FUNCTION elt.drop_pipeline(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(drop_pipeline.name, true);
	active bigint;
BEGIN
	SELECT r.run_id INTO active FROM elt.run r
	WHERE r.pipeline_id = id AND r.status = 'running' LIMIT 1;
	IF active IS NOT NULL THEN
		RAISE EXCEPTION 'pipeline "%" has a run in progress', drop_pipeline.name
			USING ERRCODE = 'object_in_use',
				  HINT = format('Cancel run %s with elt.cancel() or wait for it to finish.', active);
	END IF;
	DELETE FROM elt.pipeline p WHERE p.pipeline_id = id;
END
$$;
COMMENT ON FUNCTION elt.drop_pipeline(text) IS
'Drop a pipeline, its steps and its run history; refused while a run is in progress.';

CREATE VIEW elt.pipeline_status WITH (security_invoker = true) AS
SELECT p.name AS pipeline,
	   p.owner,
	   p.schedule,
	   p.paused,
	   CASE WHEN NOT p.paused THEN p.next_run_at END AS next_run_at,
	   a.run_id AS active_run_id,
	   a.status AS active_status,
	   l.run_id AS last_run_id,
	   l.status AS last_status,
	   l.started_at AS last_started_at,
	   l.finished_at AS last_finished_at,
	   f.error AS last_error,
	   f.finished_at AS last_error_at
FROM elt.pipeline p
LEFT JOIN LATERAL (
	SELECT r.run_id, r.status FROM elt.run r
	WHERE r.pipeline_id = p.pipeline_id AND r.status IN ('queued', 'running')
	ORDER BY r.run_id LIMIT 1) a ON true
LEFT JOIN LATERAL (
	SELECT r.run_id, r.status, r.started_at, r.finished_at FROM elt.run r
	WHERE r.pipeline_id = p.pipeline_id AND r.status IN ('succeeded', 'failed', 'cancelled')
	ORDER BY r.run_id DESC LIMIT 1) l ON true
LEFT JOIN LATERAL (
	SELECT r.error, r.finished_at FROM elt.run r
	WHERE r.pipeline_id = p.pipeline_id AND r.status IN ('failed', 'cancelled')
	ORDER BY r.run_id DESC LIMIT 1) f ON true;
COMMENT ON VIEW elt.pipeline_status IS
'Each visible pipeline: schedule, next run, the run in progress, the last finished run and the last error.';
GRANT SELECT ON elt.pipeline_status TO PUBLIC;

-- wake a scheduler that waits for CREATE EXTENSION in its database
SELECT elt._wake_scheduler();
-- ---------------------------------------------------------------------------
-- Data intervals, backfill and pipelines triggered by other pipelines
-- (docs/pipelines.md)
--
-- Every run may cover a data interval (elt.run.interval_start and
-- interval_end): a scheduled run the time from the previous fire time to
-- its own, a backfill run one interval of the schedule, a run started by
-- another pipeline's success the interval of that run.
-- ---------------------------------------------------------------------------

CREATE FUNCTION elt.run_interval(OUT interval_start timestamptz, OUT interval_end timestamptz)
RETURNS record
LANGUAGE sql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT r.interval_start, r.interval_end FROM elt.run r
	WHERE r.run_id OPERATOR(pg_catalog.=) elt.current_run()
$$;
COMMENT ON FUNCTION elt.run_interval() IS
'The data interval of the run executing the current step (both NULL outside a run or for a run without one).';

CREATE FUNCTION elt.backfill(pipeline text, "from" timestamptz, "to" timestamptz)
RETURNS integer
AS 'MODULE_PATHNAME', 'elt_backfill'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.backfill(text, timestamptz, timestamptz) IS
'Queue one run per interval of the pipeline''s schedule between two times, oldest first; returns how many runs were queued.';

CREATE FUNCTION elt._check_after(name text, owner regrole, after jsonb)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	upstream text;
BEGIN
	-- the option's shape (an array of names) is checked by _check_pipeline_options
	FOR upstream IN SELECT jsonb_array_elements_text(after) LOOP
		IF upstream = name THEN
			RAISE EXCEPTION 'pipeline "%" cannot run after itself', name
				USING ERRCODE = 'invalid_object_definition';
		END IF;
		-- row-level security hides the pipelines of other roles
		IF NOT EXISTS (SELECT 1 FROM elt.pipeline p WHERE p.name = upstream
					   AND pg_has_role(_check_after.owner, p.owner, 'USAGE')) THEN
			RAISE EXCEPTION 'pipeline "%" named in option "after" does not exist', upstream
				USING ERRCODE = 'undefined_object';
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION elt._check_after(text, regrole, jsonb) IS
'Internal: refuse an "after" option naming a pipeline the owner cannot see, or the pipeline itself.';

-- Alerts ---------------------------------------------------------------------

CREATE TABLE elt.alert (
	alert_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	run_id bigint NOT NULL REFERENCES elt.run ON DELETE CASCADE,
	pipeline text NOT NULL,
	owner regrole NOT NULL,
	event text NOT NULL CHECK (event IN ('failure', 'success', 'sla')),
	url text NOT NULL,
	status text NOT NULL CHECK (status IN ('sent', 'failed')),
	attempts integer NOT NULL,
	http_status integer,
	error text,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX alert_run_idx ON elt.alert (run_id);
COMMENT ON TABLE elt.alert IS 'Alerts sent at the end of runs (webhook as written, outcome, attempts); pruned with their runs.';
SELECT pg_catalog.pg_extension_config_dump('elt.alert', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('elt.alert', 'alert_id')::regclass, '');
ALTER TABLE elt.alert ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_owner ON elt.alert
	USING (pg_catalog.pg_has_role(owner, 'USAGE'));
GRANT SELECT ON elt.alert TO PUBLIC;

CREATE FUNCTION elt._check_alert_url(url text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF url !~* '^https?://[^/]' THEN
		RAISE EXCEPTION 'pipeline option "alert_url" must be an http or https URL, not "%"', url
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;
COMMENT ON FUNCTION elt._check_alert_url(text) IS
'Internal: refuse an alert_url that is not an http or https URL.';

-- ---------------------------------------------------------------------------
-- Pipeline tools (docs/pipelines.md): the one-call schedule of a command,
-- the DAG of a pipeline as text, the timeline of a run, what a step said,
-- and the refusal of schedules that no scheduler would fire.
--
-- Everything here runs as the caller: row-level security on elt.pipeline,
-- elt.step, elt.run and elt.step_run decides what exists for a role, so
-- another role's pipeline or run "does not exist".
-- ---------------------------------------------------------------------------

-- What a step said: its NOTICE/WARNING messages and the first row of its
-- last statement, masked of secret values and capped in size.
ALTER TABLE elt.step_run ADD COLUMN messages jsonb;
ALTER TABLE elt.step_run ADD COLUMN result text;
COMMENT ON COLUMN elt.step_run.rows IS
'Rows processed by the last statement of the step''s command (SPI_processed): returned, inserted, updated or deleted.';
COMMENT ON COLUMN elt.step_run.messages IS
'INFO, NOTICE and WARNING messages the attempt raised: [{"level": ..., "message": ...}], at most 100 of 1000 characters, secret values masked.';
COMMENT ON COLUMN elt.step_run.result IS
'The first row of the last statement''s result as column=value text (at most 1000 characters, secret values masked), NULL when it returned no rows.';

-- Schedules only where a scheduler fires them ------------------------------

CREATE FUNCTION elt._require_scheduler(pipeline text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_require_scheduler'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._require_scheduler(text) IS
'Internal: raise an error when no pg_elt scheduler runs for the current database.';

CREATE FUNCTION elt._pipeline_schedule_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.schedule IS NOT NULL
	   AND (TG_OP = 'INSERT' OR NEW.schedule IS DISTINCT FROM OLD.schedule) THEN
		PERFORM elt._require_scheduler(NEW.name);
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION elt._pipeline_schedule_check() IS
'Internal: refuse a schedule in a database where no scheduler would fire it.';

CREATE TRIGGER pipeline_schedule_check BEFORE INSERT OR UPDATE ON elt.pipeline
	FOR EACH ROW EXECUTE FUNCTION elt._pipeline_schedule_check();

-- One call for the simple case ----------------------------------------------

CREATE FUNCTION elt.schedule(name text, schedule text, command text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint;
	nsteps bigint;
BEGIN
	IF schedule.name IS NULL OR schedule.schedule IS NULL OR schedule.command IS NULL THEN
		RAISE EXCEPTION 'name, schedule and command must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT p.pipeline_id INTO id FROM elt.pipeline p WHERE p.name = schedule.name FOR UPDATE;
	IF id IS NULL THEN
		id := elt.create_pipeline(schedule.name, schedule.schedule);
	ELSE
		SELECT count(*) INTO nsteps FROM elt.step s WHERE s.pipeline_id = id;
		IF nsteps > 1 OR EXISTS (SELECT 1 FROM elt.step s
								 WHERE s.pipeline_id = id AND s.name <> 'command') THEN
			RAISE EXCEPTION 'pipeline "%" already exists and is not a one-command pipeline', schedule.name
				USING ERRCODE = 'duplicate_object',
					  HINT = 'elt.schedule() replaces only the pipelines it made; change this one with elt.alter_pipeline() and elt.add_step().';
		END IF;
		UPDATE elt.pipeline p SET schedule = schedule.schedule WHERE p.pipeline_id = id;
		DELETE FROM elt.step s WHERE s.pipeline_id = id;
	END IF;
	INSERT INTO elt.step (pipeline_id, name, position, command)
	VALUES (id, 'command', 1, schedule.command);
	RETURN id;
END
$$;
COMMENT ON FUNCTION elt.schedule(text, text, text) IS
'Schedule one SQL command (as pg_cron''s cron.schedule): creates, or replaces, the one-step pipeline of that name and returns its id.';

CREATE FUNCTION elt.unschedule(name text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	id bigint := elt._pipeline_id(unschedule.name, true);
BEGIN
	IF EXISTS (SELECT 1 FROM elt.step s WHERE s.pipeline_id = id AND s.name <> 'command') THEN
		RAISE EXCEPTION 'pipeline "%" is not a one-command pipeline', unschedule.name
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Drop it with elt.drop_pipeline().';
	END IF;
	PERFORM elt.drop_pipeline(unschedule.name);
	RETURN true;
END
$$;
COMMENT ON FUNCTION elt.unschedule(text) IS
'Drop a pipeline made by elt.schedule(), with its history; refused while it runs.';

-- The DAG of a pipeline -----------------------------------------------------

CREATE FUNCTION elt._step_levels(pipeline_id bigint)
RETURNS TABLE (level integer, step text, depends_on text[], "position" integer, command text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	-- a step's level is one more than the highest level of its dependencies
	WITH RECURSIVE lv(name, level) AS (
		SELECT s.name, 0 FROM elt.step s
		WHERE s.pipeline_id = $1 AND cardinality(s.depends_on) = 0
		UNION ALL
		SELECT s.name, lv.level + 1
		FROM lv JOIN elt.step s ON s.pipeline_id = $1 AND lv.name = ANY (s.depends_on)
		WHERE lv.level < 10000
	)
	SELECT max(lv.level)::integer, s.name, s.depends_on, s.position, s.command
	FROM lv JOIN elt.step s ON s.pipeline_id = $1 AND s.name = lv.name
	GROUP BY s.name, s.depends_on, s.position, s.command
	ORDER BY 1, s.position, s.name
$$;
COMMENT ON FUNCTION elt._step_levels(bigint) IS
'Internal: the steps of a pipeline the caller may see, by level of the DAG, in run order.';

CREATE FUNCTION elt.pipeline_levels(name text)
RETURNS TABLE (level integer, step text, depends_on text[], "position" integer, command text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM elt._step_levels(elt._pipeline_id($1))
$$;
COMMENT ON FUNCTION elt.pipeline_levels(text) IS
'The steps of a pipeline by level of the DAG (0: no dependencies), with their dependencies, in run order.';

CREATE FUNCTION elt.pipeline_graph(name text, format text DEFAULT 'mermaid')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	fmt text := lower(coalesce(pipeline_graph.format, ''));
	lines text[];
	ids jsonb;
BEGIN
	IF fmt NOT IN ('mermaid', 'dot') THEN
		RAISE EXCEPTION 'unknown graph format "%"', pipeline_graph.format
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The formats are mermaid and dot.';
	END IF;
	-- node ids by run order, so that any step name is safe in the text
	SELECT coalesce(jsonb_object_agg(g.step, 's' || g.n), '{}') INTO ids
	FROM elt.pipeline_levels(pipeline_graph.name) WITH ORDINALITY
		AS g(level, step, depends_on, "position", command, n);
	IF fmt = 'mermaid' THEN
		lines := ARRAY['flowchart LR'];
		lines := lines || ARRAY(
			SELECT format('    %s["%s"]', ids->>g.step,
						  replace(replace(replace(replace(g.step, '&', '#amp;'), '"', '#quot;'),
										  '<', '#lt;'), '>', '#gt;'))
			FROM elt.pipeline_levels(pipeline_graph.name) g);
		lines := lines || ARRAY(
			SELECT format('    %s --> %s', ids->>d, ids->>g.step)
			FROM elt.pipeline_levels(pipeline_graph.name) g, unnest(g.depends_on) WITH ORDINALITY AS u(d, k)
			ORDER BY g.level, g.position, u.k);
	ELSE
		lines := ARRAY[format('digraph "%s" {', replace(replace(pipeline_graph.name, '\', '\\'), '"', '\"')),
					   '    rankdir=LR;'];
		lines := lines || ARRAY(
			SELECT format('    %s [label="%s"];', ids->>g.step,
						  replace(replace(g.step, '\', '\\'), '"', '\"'))
			FROM elt.pipeline_levels(pipeline_graph.name) g);
		lines := lines || ARRAY(
			SELECT format('    %s -> %s;', ids->>d, ids->>g.step)
			FROM elt.pipeline_levels(pipeline_graph.name) g, unnest(g.depends_on) WITH ORDINALITY AS u(d, k)
			ORDER BY g.level, g.position, u.k);
		lines := lines || '}'::text;
	END IF;
	RETURN array_to_string(lines, E'\n');
END
$$;
COMMENT ON FUNCTION elt.pipeline_graph(text, text) IS
'The DAG of a pipeline as Mermaid (flowchart) or Graphviz DOT text.';

-- The timeline of a run -----------------------------------------------------

CREATE FUNCTION elt.run_timeline(run_id bigint)
RETURNS TABLE (step text, attempt integer, status text, level integer,
			   queued_at timestamptz, started_at timestamptz, finished_at timestamptz,
			   waited interval, duration interval, start_offset interval, error text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r elt.run;
BEGIN
	IF run_timeline.run_id IS NULL THEN
		RAISE EXCEPTION 'run id must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO r FROM elt.run x WHERE x.run_id = run_timeline.run_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run % does not exist', run_timeline.run_id
			USING ERRCODE = 'undefined_object';
	END IF;
	-- a step is queued when the run starts or its last dependency finishes,
	-- and a retry when the attempt before it ends
	RETURN QUERY
	WITH lv AS (
		SELECT g.step, g.level, g.depends_on
		FROM elt._step_levels(r.pipeline_id) g
	), attempts AS (
		SELECT sr.step, sr.attempt, sr.status, sr.started_at, sr.finished_at, sr.error,
			   lag(sr.finished_at) OVER (PARTITION BY sr.step ORDER BY sr.attempt) AS previous_end
		FROM elt.step_run sr WHERE sr.run_id = r.run_id
	), ready AS (
		SELECT lv.step, lv.level,
			   greatest(r.started_at,
						(SELECT max(sr.finished_at) FROM elt.step_run sr
						 WHERE sr.run_id = r.run_id AND sr.step = ANY (lv.depends_on))) AS ready_at
		FROM lv
	)
	SELECT a.step, a.attempt, a.status, rd.level,
		   coalesce(a.previous_end, rd.ready_at, r.started_at),
		   a.started_at, a.finished_at,
		   a.started_at - coalesce(a.previous_end, rd.ready_at, r.started_at),
		   a.finished_at - a.started_at,
		   a.started_at - r.started_at,
		   a.error
	FROM attempts a LEFT JOIN ready rd ON rd.step = a.step
	ORDER BY coalesce(a.started_at, a.finished_at), rd.level, a.step, a.attempt;
END
$$;
COMMENT ON FUNCTION elt.run_timeline(bigint) IS
'Each step attempt of a run with when it was queued, started and finished, its wait and duration (a Gantt view of the run).';

-- ---------------------------------------------------------------------------
-- Data quality (docs/checks.md)
-- ---------------------------------------------------------------------------

CREATE TABLE elt.check_result (
	check_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	checked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	run_id bigint,
	owner regrole NOT NULL DEFAULT elt._current_role(),
	relation text NOT NULL,
	test text NOT NULL,
	column_name text,
	args jsonb NOT NULL DEFAULT '{}',
	severity text NOT NULL CHECK (severity IN ('error', 'warn')),
	passed boolean NOT NULL,
	failures bigint NOT NULL,
	sample jsonb,
	detail text
);
CREATE INDEX check_result_relation_idx ON elt.check_result (relation, checked_at);
CREATE INDEX check_result_checked_at_idx ON elt.check_result (checked_at);
COMMENT ON TABLE elt.check_result IS
'Every data-quality check result: failing count and a sample of failing keys or values; pruned after pg_elt.history_retention.';

SELECT pg_catalog.pg_extension_config_dump('elt.check_result', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('elt.check_result', 'check_id')::regclass, '');

ALTER TABLE elt.check_result ENABLE ROW LEVEL SECURITY;
CREATE POLICY check_result_owner ON elt.check_result
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (owner = elt._current_role());
GRANT SELECT, INSERT ON elt.check_result TO PUBLIC;

CREATE FUNCTION elt._keep_check_result(result jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'elt_keep_check_result'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt._keep_check_result(jsonb) IS
'Internal: write the result of a failed check in a transaction of its own, owned by the current role.';

CREATE FUNCTION elt.check(relation text, test text, column_name text DEFAULT NULL,
	args jsonb DEFAULT '{}', severity text DEFAULT 'error')
RETURNS TABLE (passed boolean, failures bigint, detail text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass;
	t text := lower(btrim(test));
	sev text := lower(btrim(coalesce(severity, 'error')));
	a jsonb := coalesce(args, '{}');
	col text := column_name;
	qcol text;
	keyexpr text;
	n bigint;
	smp jsonb;
	det text;
	ok boolean;
	other regclass;
	ofield text;
	vals text[];
	lo numeric;
	hi numeric;
	max_age interval;
	latest timestamptz;
	rows_found bigint;
	k text;
	allowed text[];
	result jsonb;
BEGIN
	IF relation IS NULL OR test IS NULL THEN
		RAISE EXCEPTION 'relation and test must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF sev NOT IN ('error', 'warn') THEN
		RAISE EXCEPTION 'severity must be "error" or "warn", not "%"', severity
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF jsonb_typeof(a) <> 'object' THEN
		RAISE EXCEPTION 'args must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	allowed := CASE t
		WHEN 'not_null' THEN '{}'
		WHEN 'unique' THEN '{}'
		WHEN 'accepted_values' THEN '{values}'
		WHEN 'relationships' THEN '{to,field}'
		WHEN 'freshness' THEN '{column,max_age}'
		WHEN 'row_count' THEN '{min,max}'
		WHEN 'expression' THEN '{where}'
		END;
	IF allowed IS NULL THEN
		RAISE EXCEPTION 'unknown check test "%"', test
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Tests are not_null, unique, accepted_values, relationships, freshness, row_count and expression.';
	END IF;
	FOR k IN SELECT jsonb_object_keys(a) LOOP
		IF NOT k = ANY (allowed) THEN
			RAISE EXCEPTION 'unknown argument "%" for test "%"', k, t
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = CASE WHEN cardinality(allowed) = 0 THEN format('Test "%s" takes no arguments.', t)
								  ELSE format('Test "%s" takes %s.', t, array_to_string(allowed, ', ')) END;
		END IF;
	END LOOP;

	rel := relation::regclass;

	IF t = 'freshness' AND col IS NULL THEN
		col := a->>'column';
	END IF;
	IF t IN ('not_null', 'unique', 'accepted_values', 'relationships', 'freshness') AND col IS NULL THEN
		RAISE EXCEPTION 'test "%" needs a column', t
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = CASE WHEN t = 'freshness' THEN 'Pass column_name or args {"column": ...}.'
							  ELSE 'Pass column_name.' END;
	END IF;
	IF col IS NOT NULL THEN
		IF NOT EXISTS (SELECT 1 FROM pg_attribute
					   WHERE attrelid = rel AND attname = col AND attnum > 0 AND NOT attisdropped) THEN
			RAISE EXCEPTION 'column "%" of relation % does not exist', col, rel
				USING ERRCODE = 'undefined_column';
		END IF;
		qcol := quote_ident(col);
	END IF;

	-- failing rows are identified by their primary key, else by ctid
	SELECT 'jsonb_build_object(' || string_agg(quote_literal(att.attname) || ', ' || quote_ident(att.attname),
											   ', ' ORDER BY ix.ord) || ')'
	INTO keyexpr
	FROM pg_index i
	CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS ix(attnum, ord)
	JOIN pg_attribute att ON att.attrelid = i.indrelid AND att.attnum = ix.attnum
	WHERE i.indrelid = rel AND i.indisprimary;
	IF keyexpr IS NULL THEN
		keyexpr := 'jsonb_build_object(''ctid'', ctid::text)';
	END IF;

	CASE t
	WHEN 'not_null' THEN
		EXECUTE format('SELECT count(*), (SELECT jsonb_agg(s.k) FROM (SELECT %1$s AS k FROM %2$s '
					   'WHERE %3$s IS NULL LIMIT 10) s) FROM %2$s WHERE %3$s IS NULL',
					   keyexpr, rel, qcol)
		INTO n, smp;
		det := format('%s rows where %s is null', n, col);

	WHEN 'unique' THEN
		EXECUTE format('WITH d AS (SELECT %1$s AS v, count(*) AS c FROM %2$s WHERE %1$s IS NOT NULL '
					   'GROUP BY 1 HAVING count(*) > 1) '
					   'SELECT (SELECT count(*) FROM d), (SELECT jsonb_agg(jsonb_build_object(''value'', s.v, ''count'', s.c)) '
					   'FROM (SELECT v, c FROM d ORDER BY c DESC, v LIMIT 10) s)',
					   qcol, rel)
		INTO n, smp;
		det := format('%s duplicated values of %s', n, col);

	WHEN 'accepted_values' THEN
		IF jsonb_typeof(a->'values') IS DISTINCT FROM 'array' OR jsonb_array_length(a->'values') = 0 THEN
			RAISE EXCEPTION 'test "accepted_values" needs args {"values": [...]} with at least one value'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		SELECT array_agg(v) INTO vals FROM jsonb_array_elements_text(a->'values') v;
		EXECUTE format('WITH d AS (SELECT %1$s::text AS v, count(*) AS c FROM %2$s '
					   'WHERE %1$s IS NOT NULL AND NOT (%1$s::text = ANY ($1)) GROUP BY 1) '
					   'SELECT (SELECT coalesce(sum(c), 0)::bigint FROM d), '
					   '(SELECT jsonb_agg(jsonb_build_object(''value'', s.v, ''count'', s.c)) '
					   'FROM (SELECT v, c FROM d ORDER BY c DESC, v LIMIT 10) s)',
					   qcol, rel)
		INTO n, smp USING vals;
		det := format('%s rows where %s is not one of the accepted values', n, col);

	WHEN 'relationships' THEN
		IF jsonb_typeof(a->'to') IS DISTINCT FROM 'string' THEN
			RAISE EXCEPTION 'test "relationships" needs args {"to": "relation", "field": "column"}'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		other := (a->>'to')::regclass;
		ofield := coalesce(a->>'field', col);
		IF NOT EXISTS (SELECT 1 FROM pg_attribute
					   WHERE attrelid = other AND attname = ofield AND attnum > 0 AND NOT attisdropped) THEN
			RAISE EXCEPTION 'column "%" of relation % does not exist', ofield, other
				USING ERRCODE = 'undefined_column';
		END IF;
		EXECUTE format('WITH d AS (SELECT c.%1$s AS v, count(*) AS c FROM %2$s c '
					   'WHERE c.%1$s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %3$s p WHERE p.%4$s = c.%1$s) '
					   'GROUP BY 1) '
					   'SELECT (SELECT coalesce(sum(c), 0)::bigint FROM d), '
					   '(SELECT jsonb_agg(jsonb_build_object(''value'', s.v, ''count'', s.c)) '
					   'FROM (SELECT v, c FROM d ORDER BY c DESC, v LIMIT 10) s)',
					   qcol, rel, other, quote_ident(ofield))
		INTO n, smp;
		det := format('%s rows where %s has no match in %s.%s', n, col, other, ofield);

	WHEN 'freshness' THEN
		BEGIN
			max_age := (a->>'max_age')::interval;
		EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
			max_age := NULL;
		END;
		IF max_age IS NULL OR max_age <= interval '0' THEN
			RAISE EXCEPTION 'test "freshness" needs args {"max_age": "interval"} with a positive interval'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM pg_attribute
					   WHERE attrelid = rel AND attname = col
						 AND atttypid IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)) THEN
			RAISE EXCEPTION 'column "%" of relation % is not a date or timestamp', col, rel
				USING ERRCODE = 'datatype_mismatch';
		END IF;
		EXECUTE format('SELECT max(%s)::timestamptz FROM %s', qcol, rel) INTO latest;
		n := CASE WHEN latest IS NULL OR latest < now() - max_age THEN 1 ELSE 0 END;
		smp := jsonb_build_object('latest', latest, 'age', (now() - latest)::text);
		det := CASE WHEN latest IS NULL THEN format('no value of %s: the relation is empty', col)
					ELSE format('latest %s is %s, %s old (max_age %s)', col, latest,
								justify_interval(date_trunc('second', now() - latest)), max_age) END;

	WHEN 'row_count' THEN
		IF NOT (a ? 'min' OR a ? 'max') THEN
			RAISE EXCEPTION 'test "row_count" needs args {"min": n} and/or {"max": n}'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF (a ? 'min' AND jsonb_typeof(a->'min') <> 'number') OR (a ? 'max' AND jsonb_typeof(a->'max') <> 'number') THEN
			RAISE EXCEPTION 'row_count bounds must be numbers'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		lo := (a->>'min')::numeric;
		hi := (a->>'max')::numeric;
		IF lo > hi THEN
			RAISE EXCEPTION 'row_count min % is greater than max %', lo, hi
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		EXECUTE format('SELECT count(*) FROM %s', rel) INTO rows_found;
		n := CASE WHEN rows_found < lo OR rows_found > hi THEN 1 ELSE 0 END;
		smp := jsonb_build_object('row_count', rows_found);
		det := format('%s rows (min %s, max %s)', rows_found,
					  coalesce(lo::text, 'none'), coalesce(hi::text, 'none'));
	WHEN 'expression' THEN
		IF jsonb_typeof(a->'where') IS DISTINCT FROM 'string' OR btrim(a->>'where') = '' THEN
			RAISE EXCEPTION 'test "expression" needs args {"where": "condition that failing rows meet"}'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		EXECUTE format('SELECT count(*), (SELECT jsonb_agg(s.k) FROM (SELECT %1$s AS k FROM %2$s '
					   'WHERE (%3$s) LIMIT 10) s) FROM %2$s WHERE (%3$s)',
					   keyexpr, rel, a->>'where')
		INTO n, smp;
		det := format('%s rows where %s', n, a->>'where');
	END CASE;

	ok := (n = 0);
	IF ok THEN
		smp := NULL;
	END IF;
	result := jsonb_build_object(
		'checked_at', clock_timestamp(), 'run_id', elt.current_run(), 'relation', rel::text,
		'test', t, 'column_name', col, 'args', a, 'severity', sev, 'passed', ok,
		'failures', n, 'sample', smp, 'detail', det);

	IF ok OR sev = 'warn' THEN
		INSERT INTO elt.check_result (checked_at, run_id, relation, test, column_name, args,
									  severity, passed, failures, sample, detail)
		VALUES (clock_timestamp(), elt.current_run(), rel::text, t, col, a, sev, ok, n, smp, det);
	ELSE
		PERFORM elt._keep_check_result(result);
	END IF;

	IF NOT ok AND sev = 'warn' THEN
		RAISE WARNING 'check % of % failed: %', t, rel, det
			USING DETAIL = format('Sample: %s', smp);
	ELSIF NOT ok THEN
		RAISE EXCEPTION 'check % of % failed: %', t, rel, det
			USING ERRCODE = 'EL052', DETAIL = format('Sample: %s', smp);
	END IF;
	passed := ok;
	failures := n;
	detail := det;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION elt.check(text, text, text, jsonb, text) IS
'Run a data-quality test (not_null, unique, accepted_values, relationships, freshness, row_count, expression) and keep the result in elt.check_result; severity error raises on failure, warn warns.';

-- ---------------------------------------------------------------------------
-- Export (docs/serve.md)
-- ---------------------------------------------------------------------------

CREATE TABLE elt.export_run (
	export_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner regrole NOT NULL DEFAULT elt._current_role(),
	destination text NOT NULL,
	query text,
	format text NOT NULL,
	rows bigint NOT NULL DEFAULT 0,
	bytes bigint NOT NULL DEFAULT 0,
	status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
	http_status int,
	etag text,
	error text,
	error_code text,
	started_at timestamptz NOT NULL,
	finished_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX export_run_started_at_idx ON elt.export_run (started_at);
COMMENT ON TABLE elt.export_run IS
'Every elt.export() call, succeeded or failed: printable destination (secrets never substituted), rows, bytes, error.';

SELECT pg_catalog.pg_extension_config_dump('elt.export_run', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('elt.export_run', 'export_id')::regclass, '');

-- Written only by elt.export() (through a record writer); read by the
-- owner, by the roles that are members of the owner, and by pg_monitor.
ALTER TABLE elt.export_run ENABLE ROW LEVEL SECURITY;
CREATE POLICY export_run_owner ON elt.export_run FOR SELECT
	USING (pg_catalog.pg_has_role(owner, 'USAGE'));
CREATE POLICY export_run_monitor ON elt.export_run FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
GRANT SELECT ON elt.export_run TO PUBLIC;

CREATE FUNCTION elt.export(query text, destination text, format text DEFAULT 'csv',
						   options jsonb DEFAULT '{}',
						   OUT rows bigint, OUT bytes bigint, OUT elapsed interval,
						   OUT etag text, OUT status int)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_export'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.export(text, text, text, jsonb) IS
'Stream a query''s result as CSV, NDJSON or JSON (optionally gzipped) to s3://bucket/key or an HTTP(S) URL; recorded in elt.export_run';

-- Reaching the network is a privilege: granted by an administrator.
REVOKE ALL ON FUNCTION elt.export(text, text, text, jsonb) FROM PUBLIC;
-- Monitoring ------------------------------------------------------------------

-- A monitoring role reads every role's history without being able to change
-- anything or to act as those roles: members of pg_monitor see all batches,
-- runs, step runs, model builds, check results and pipelines (not source
-- or stream definitions, whose headers are the owners' business).  Errors
-- in this history never carry a secret's value.
CREATE POLICY batch_monitor ON elt.batch FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY run_monitor ON elt.run FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY step_run_monitor ON elt.step_run FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY pipeline_monitor ON elt.pipeline FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY model_run_monitor ON elt.model_run FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY check_result_monitor ON elt.check_result FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
-- Observing: metrics, lineage (docs/monitoring.md) ----------------------------

-- Everything here reads the history tables with the caller's rights, so
-- row-level security decides what a role sees: its own pipelines, streams,
-- builds and checks, and everything for members of pg_monitor.  Nothing
-- here reads a definition's headers, and destinations are masked.

-- A destination URL as it may be shown: a password in the userinfo and
-- credential-like query parameters masked, secret values substituted in
-- this transaction replaced by their reference.
CREATE FUNCTION elt._redact_url(url text)
RETURNS text
AS 'MODULE_PATHNAME', 'elt_redact_url'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt._redact_url(text) IS
'Internal: a URL with its credentials masked, for metrics and lineage';

-- A relation name as written in a model's source or a check, resolved to
-- its qualified form when it names an existing relation (NULL otherwise,
-- also for text that is not a name), so that the same table spelled two
-- ways is one node of the lineage.
CREATE FUNCTION elt._resolve_relation(name text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel oid;
BEGIN
	rel := pg_catalog.to_regclass(name);
	IF rel IS NULL THEN
		RETURN NULL;
	END IF;
	RETURN (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)
			  FROM pg_catalog.pg_class c
			  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			 WHERE c.oid = rel);
-- not a name, or in a schema the caller may not use
EXCEPTION WHEN OTHERS THEN
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION elt._resolve_relation(text) IS
'Internal: the qualified name of the relation a text names, or NULL when it names none';

-- The relations a model's source reads: the source itself when it is a
-- relation name, else the names after FROM and JOIN in its SELECT that
-- resolve to existing relations (names of CTEs and functions do not).
CREATE FUNCTION elt._source_relations(source text)
RETURNS SETOF text
LANGUAGE sql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT DISTINCT r
	  FROM (SELECT elt._resolve_relation(source) AS r
			 WHERE source !~* '^\s*(select|with|values|table)\M'
			UNION ALL
			SELECT elt._resolve_relation(m[1])
			  FROM pg_catalog.regexp_matches(source,
					'\m(?:from|join)\s+((?:"(?:[^"]|"")+"|[[:alpha:]_][[:alnum:]_$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[[:alpha:]_][[:alnum:]_$]*))?)',
					'gi') AS m
			 WHERE source ~* '^\s*(select|with|values|table)\M') s
	 WHERE r IS NOT NULL
$$;
COMMENT ON FUNCTION elt._source_relations(text) IS
'Internal: the existing relations a model source (a relation name or a SELECT) reads';

-- The metrics as rows, one per sample: the same numbers elt.metrics()
-- publishes and the exporter's queries read.  Export metrics appear only
-- where elt.export_run exists.
CREATE FUNCTION elt.metrics_rows()
RETURNS TABLE (name text, labels jsonb, value double precision, help text, type text)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT 'pg_elt_runs_total', pg_catalog.jsonb_build_object('pipeline', r.pipeline, 'status', r.status),
		   pg_catalog.count(*)::float8, 'Pipeline runs kept in the history, by pipeline and status', 'counter'
	  FROM elt.run r GROUP BY r.pipeline, r.status;

	RETURN QUERY
	SELECT 'pg_elt_steps_total',
		   pg_catalog.jsonb_build_object('pipeline', r.pipeline, 'step', s.step, 'status', s.status),
		   pg_catalog.count(*)::float8, 'Step attempts kept in the history, by pipeline, step and status', 'counter'
	  FROM elt.step_run s JOIN elt.run r ON r.run_id = s.run_id
	 GROUP BY r.pipeline, s.step, s.status;

	RETURN QUERY
	SELECT 'pg_elt_run_duration_seconds_total', pg_catalog.jsonb_build_object('pipeline', r.pipeline),
		   pg_catalog.sum(EXTRACT(epoch FROM r.finished_at - r.started_at))::float8,
		   'Time spent in finished runs kept in the history, by pipeline', 'counter'
	  FROM elt.run r
	 WHERE r.finished_at IS NOT NULL AND r.started_at IS NOT NULL
	 GROUP BY r.pipeline;

	RETURN QUERY
	SELECT DISTINCT ON (r.pipeline) 'pg_elt_last_run_duration_seconds',
		   pg_catalog.jsonb_build_object('pipeline', r.pipeline),
		   EXTRACT(epoch FROM r.finished_at - r.started_at)::float8,
		   'Duration of the last finished run, by pipeline', 'gauge'
	  FROM elt.run r
	 WHERE r.finished_at IS NOT NULL AND r.started_at IS NOT NULL
	 ORDER BY r.pipeline, r.run_id DESC;

	RETURN QUERY
	SELECT DISTINCT ON (r.pipeline) 'pg_elt_last_run_failed',
		   pg_catalog.jsonb_build_object('pipeline', r.pipeline),
		   CASE WHEN r.status = 'succeeded' THEN 0 ELSE 1 END::float8,
		   '1 when the last finished run of the pipeline failed or was cancelled, else 0', 'gauge'
	  FROM elt.run r
	 WHERE r.status IN ('succeeded', 'failed', 'cancelled')
	 ORDER BY r.pipeline, r.run_id DESC;

	RETURN QUERY
	SELECT 'pg_elt_last_success_timestamp_seconds', pg_catalog.jsonb_build_object('pipeline', r.pipeline),
		   EXTRACT(epoch FROM pg_catalog.max(r.finished_at))::float8,
		   'When the last succeeded run of the pipeline finished (Unix time)', 'gauge'
	  FROM elt.run r WHERE r.status = 'succeeded'
	 GROUP BY r.pipeline;

	RETURN QUERY
	SELECT 'pg_elt_active_runs', pg_catalog.jsonb_build_object('status', st.status),
		   (SELECT pg_catalog.count(*) FROM elt.run r WHERE r.status = st.status)::float8,
		   'Runs queued or running now', 'gauge'
	  FROM (VALUES ('queued'), ('running')) st (status);

	RETURN QUERY
	SELECT 'pg_elt_extract_batches_total', pg_catalog.jsonb_build_object('stream', b.stream, 'status', b.status),
		   pg_catalog.count(*)::float8, 'Extracts, by stream and status', 'counter'
	  FROM elt.batch b GROUP BY b.stream, b.status;

	RETURN QUERY
	SELECT 'pg_elt_extract_records_total', pg_catalog.jsonb_build_object('stream', b.stream, 'target', b.target),
		   pg_catalog.sum(b.records)::float8, 'Records loaded by succeeded extracts, by stream and target', 'counter'
	  FROM elt.batch b WHERE b.status = 'succeeded' GROUP BY b.stream, b.target;

	RETURN QUERY
	SELECT 'pg_elt_extract_bytes_total', pg_catalog.jsonb_build_object('stream', b.stream, 'target', b.target),
		   pg_catalog.sum(b.bytes)::float8, 'Response bytes read by succeeded extracts, by stream and target', 'counter'
	  FROM elt.batch b WHERE b.status = 'succeeded' GROUP BY b.stream, b.target;

	RETURN QUERY
	SELECT 'pg_elt_extract_errors_total', pg_catalog.jsonb_build_object('stream', b.stream),
		   pg_catalog.count(*) FILTER (WHERE b.status = 'failed')::float8,
		   'Failed extracts, by stream', 'counter'
	  FROM elt.batch b GROUP BY b.stream;

	RETURN QUERY
	SELECT 'pg_elt_stream_freshness_seconds', pg_catalog.jsonb_build_object('stream', b.stream, 'target', b.target),
		   EXTRACT(epoch FROM pg_catalog.now() - pg_catalog.max(b.finished_at))::float8,
		   'Seconds since the last succeeded extract into the staging table, by stream and target', 'gauge'
	  FROM elt.batch b WHERE b.status = 'succeeded' GROUP BY b.stream, b.target;

	RETURN QUERY
	SELECT 'pg_elt_check_failures_total',
		   pg_catalog.jsonb_build_object('relation', c.relation, 'test', c.test,
										 'column', COALESCE(c.column_name, '')),
		   pg_catalog.count(*) FILTER (WHERE NOT c.passed)::float8,
		   'Failed results of each check kept in the history', 'counter'
	  FROM elt.check_result c GROUP BY c.relation, c.test, COALESCE(c.column_name, '');

	RETURN QUERY
	SELECT DISTINCT ON (c.relation, c.test, COALESCE(c.column_name, '')) 'pg_elt_check_failing',
		   pg_catalog.jsonb_build_object('relation', c.relation, 'test', c.test,
										 'column', COALESCE(c.column_name, ''), 'severity', c.severity),
		   CASE WHEN c.passed THEN 0 ELSE 1 END::float8,
		   '1 when the last result of the check failed, else 0', 'gauge'
	  FROM elt.check_result c
	 ORDER BY c.relation, c.test, COALESCE(c.column_name, ''), c.check_id DESC;

	RETURN QUERY
	SELECT 'pg_elt_scheduler_up', '{}'::jsonb,
		   CASE WHEN elt.scheduler_pid() IS NULL THEN 0 ELSE 1 END::float8,
		   '1 when the scheduler of this database is running, else 0', 'gauge';

	RETURN QUERY
	SELECT 'pg_elt_workers', pg_catalog.jsonb_build_object('backend_type', a.backend_type),
		   pg_catalog.count(*)::float8, 'pg_elt background workers running now, by kind', 'gauge'
	  FROM pg_catalog.pg_stat_activity a
	 WHERE a.backend_type LIKE 'pg\_elt%'
	 GROUP BY a.backend_type;

	-- only where the table exists, has the columns read, and the caller may
	-- read it (row-level security then applies)
	IF pg_catalog.has_table_privilege(pg_catalog.to_regclass('elt.export_run'), 'SELECT')
	   AND (SELECT pg_catalog.count(*) = 3 FROM pg_catalog.pg_attribute
			 WHERE attrelid = pg_catalog.to_regclass('elt.export_run') AND NOT attisdropped
				   AND attname IN ('destination', 'status', 'bytes')) THEN
		RETURN QUERY EXECUTE
		$q$SELECT 'pg_elt_export_bytes_total',
				  pg_catalog.jsonb_build_object('destination', elt._redact_url(e.destination::text),
												'status', e.status::text),
				  pg_catalog.sum(e.bytes)::float8, 'Bytes written by exports, by destination and status', 'counter'
			 FROM elt.export_run e GROUP BY 2$q$;
		RETURN QUERY EXECUTE
		$q$SELECT 'pg_elt_exports_total',
				  pg_catalog.jsonb_build_object('destination', elt._redact_url(e.destination::text),
												'status', e.status::text),
				  pg_catalog.count(*)::float8, 'Exports, by destination and status', 'counter'
			 FROM elt.export_run e GROUP BY 2$q$;
	END IF;
END
$$;
COMMENT ON FUNCTION elt.metrics_rows() IS
'Metrics of pipelines, extracts, checks, exports and workers, one row per sample, as the caller may see them';

CREATE VIEW elt.metric WITH (security_invoker = true) AS
SELECT m.name, m.labels, m.value, m.help, m.type FROM elt.metrics_rows() m;
COMMENT ON VIEW elt.metric IS
'Metrics of pipelines, extracts, checks, exports and workers, one row per sample (elt.metrics() as text)';
GRANT SELECT ON elt.metric TO PUBLIC;

-- A label value in the text exposition format: backslash, double quote and
-- line feed escaped.
CREATE FUNCTION elt._prometheus_label(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(value, E'\\', E'\\\\'),
												 '"', E'\\"'), E'\n', E'\\n')
$$;
COMMENT ON FUNCTION elt._prometheus_label(text) IS
'Internal: a label value escaped for the Prometheus text exposition format';

-- The metrics in Prometheus' text exposition format, for a scraper that
-- runs SQL or a file collector: one HELP and TYPE line per metric, then
-- its samples.
CREATE FUNCTION elt.metrics()
RETURNS text
LANGUAGE sql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
	WITH m AS (
		SELECT r.name, r.help, r.type,
			   COALESCE('{' || (SELECT pg_catalog.string_agg(
										l.key || '="' || elt._prometheus_label(l.value) || '"',
										',' ORDER BY l.key COLLATE "C")
								  FROM pg_catalog.jsonb_each_text(r.labels) l) || '}', '') AS labels,
			   CASE WHEN r.value = 'Infinity' THEN '+Inf' WHEN r.value = '-Infinity' THEN '-Inf'
					ELSE r.value::text END AS value
		  FROM elt.metrics_rows() r
	), f AS (
		SELECT m.name, pg_catalog.min(m.help) AS help, pg_catalog.min(m.type) AS type,
			   pg_catalog.string_agg(m.name || m.labels || ' ' || m.value, E'\n' ORDER BY m.labels COLLATE "C") AS samples
		  FROM m GROUP BY m.name
	)
	SELECT COALESCE(pg_catalog.string_agg(
			'# HELP ' || f.name || ' ' || pg_catalog.replace(pg_catalog.replace(f.help, E'\\', E'\\\\'), E'\n', E'\\n')
			|| E'\n# TYPE ' || f.name || ' ' || f.type || E'\n' || f.samples || E'\n',
			'' ORDER BY f.name COLLATE "C"), '')
	  FROM f
$$;
COMMENT ON FUNCTION elt.metrics() IS
'Metrics of pipelines, extracts, checks, exports and workers in the Prometheus text exposition format';

-- Lineage: edges from streams to staging tables, tables to the models
-- built from them, tables to their checks and to their exports, each with
-- its last run.  Model sources that are SELECTs contribute the existing
-- relations named after their FROM and JOIN.
CREATE FUNCTION elt.lineage_rows()
RETURNS TABLE (from_kind text, from_name text, to_kind text, to_name text, via text,
			   last_run_at timestamptz, last_status text, runs bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	WITH models AS (
		SELECT m.function, COALESCE(elt._resolve_relation(m.target), m.target) AS target,
			   m.source, m.started_at, m.elapsed
		  FROM elt.model_run m
	), model_targets AS (
		SELECT DISTINCT target FROM models
	), streams AS (
		SELECT 'stream' AS from_kind, b.stream AS from_name, 'table' AS to_kind,
			   COALESCE(elt._resolve_relation(b.target), b.target) AS to_name, 'extract' AS via,
			   b.started_at, b.status, b.batch_id AS ord
		  FROM elt.batch b
	), model_edges AS (
		SELECT 'table' AS from_kind, s.rel AS from_name, 'model' AS to_kind, m.target AS to_name,
			   m.function AS via, m.started_at, 'succeeded' AS status,
			   EXTRACT(epoch FROM m.started_at)::bigint AS ord
		  FROM models m CROSS JOIN LATERAL elt._source_relations(m.source) s (rel)
	), checks AS (
		SELECT 'table' AS from_kind, COALESCE(elt._resolve_relation(c.relation), c.relation) AS from_name,
			   'check' AS to_kind,
			   COALESCE(elt._resolve_relation(c.relation), c.relation) || ' ' || c.test
				   || COALESCE('(' || c.column_name || ')', '') AS to_name,
			   c.test AS via, c.checked_at AS started_at,
			   CASE WHEN c.passed THEN 'passed' ELSE 'failed' END AS status, c.check_id AS ord
		  FROM elt.check_result c
	), edges AS (
		SELECT * FROM streams UNION ALL SELECT * FROM model_edges UNION ALL SELECT * FROM checks
	)
	SELECT CASE WHEN e.from_kind = 'table' AND e.from_name IN (SELECT target FROM model_targets)
				THEN 'model' ELSE e.from_kind END,
		   e.from_name, e.to_kind, e.to_name, e.via,
		   pg_catalog.max(e.started_at),
		   (pg_catalog.array_agg(e.status ORDER BY e.started_at DESC, e.ord DESC))[1],
		   pg_catalog.count(*)
	  FROM edges e
	 GROUP BY e.from_kind, e.from_name, e.to_kind, e.to_name, e.via;

	-- only where the table exists, has the columns read, and the caller may
	-- read it (row-level security then applies)
	IF pg_catalog.has_table_privilege(pg_catalog.to_regclass('elt.export_run'), 'SELECT')
	   AND (SELECT pg_catalog.count(*) = 4 FROM pg_catalog.pg_attribute
			 WHERE attrelid = pg_catalog.to_regclass('elt.export_run') AND NOT attisdropped
				   AND attname IN ('query', 'destination', 'status', 'started_at')) THEN
		RETURN QUERY EXECUTE
		$q$SELECT CASE WHEN EXISTS (SELECT 1 FROM elt.model_run m
									 WHERE COALESCE(elt._resolve_relation(m.target), m.target) = s.rel)
					   THEN 'model' ELSE 'table' END,
				  s.rel, 'export', elt._redact_url(e.destination::text), 'export',
				  pg_catalog.max(e.started_at),
				  (pg_catalog.array_agg(e.status::text ORDER BY e.started_at DESC))[1],
				  pg_catalog.count(*)
			 FROM elt.export_run e CROSS JOIN LATERAL elt._source_relations(e.query::text) s (rel)
			GROUP BY s.rel, elt._redact_url(e.destination::text)$q$;
	END IF;
END
$$;
COMMENT ON FUNCTION elt.lineage_rows() IS
'How data flows from streams to staging tables, models, checks and exports, as the caller may see it';

CREATE VIEW elt.lineage WITH (security_invoker = true) AS
SELECT l.from_kind, l.from_name, l.to_kind, l.to_name, l.via, l.last_run_at, l.last_status, l.runs
  FROM elt.lineage_rows() l;
COMMENT ON VIEW elt.lineage IS
'How data flows: stream to staging table, table to model, check and export, with the last run of each edge';
GRANT SELECT ON elt.lineage TO PUBLIC;

-- The lineage as a Mermaid flowchart, for a README or a wiki page.
CREATE FUNCTION elt.lineage_mermaid()
RETURNS text
LANGUAGE sql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH l AS (SELECT * FROM elt.lineage_rows()),
	nodes AS (
		SELECT kind, name, pg_catalog.row_number() OVER (ORDER BY kind, name) AS num
		  FROM (SELECT from_kind AS kind, from_name AS name FROM l
				UNION SELECT to_kind, to_name FROM l) n
	), shown AS (
		SELECT num, 'n' || num AS id, kind, name,
			   pg_catalog.replace(pg_catalog.replace(name, '"', '#quot;'), E'\n', ' ') AS label
		  FROM nodes
	)
	SELECT E'flowchart LR\n'
		|| COALESCE((SELECT pg_catalog.string_agg('    ' || id
					|| CASE kind WHEN 'stream' THEN '(["' || label || '"])'
								 WHEN 'check' THEN '{{"' || label || '"}}'
								 WHEN 'export' THEN '[/"' || label || '"/]'
								 ELSE '["' || label || '"]' END,
					E'\n' ORDER BY num) FROM shown) || E'\n', '')
		|| COALESCE((SELECT pg_catalog.string_agg('    n' || f.num || ' -->|' || l.via || '| n' || t.num,
					E'\n' ORDER BY f.num, t.num, l.via)
			   FROM l JOIN nodes f ON f.kind = l.from_kind AND f.name = l.from_name
					  JOIN nodes t ON t.kind = l.to_kind AND t.name = l.to_name) || E'\n', '')
$$;
COMMENT ON FUNCTION elt.lineage_mermaid() IS
'The lineage (elt.lineage) as a Mermaid flowchart';

-- Model builds running now (merge_dimension, merge_fact, merge): phase and
-- rows handled so far, from pg_elt's shared memory (empty unless pg_elt is
-- in shared_preload_libraries).
CREATE FUNCTION elt._build_progress(OUT pid integer, OUT userid oid, OUT function text,
									OUT target text, OUT phase text, OUT rows_done bigint,
									OUT started_at timestamptz, OUT phase_started_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'elt_build_progress'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION elt._build_progress() IS
'Internal: the model builds running now of the roles the caller may see';

CREATE VIEW elt.build_progress WITH (security_invoker = true) AS
SELECT p.pid, r.rolname AS run_by, p.function, p.target, p.phase, p.rows_done,
	   p.started_at, pg_catalog.now() - p.started_at AS running_for,
	   p.phase_started_at
  FROM elt._build_progress() p
  LEFT JOIN pg_catalog.pg_roles r ON r.oid = p.userid;
COMMENT ON VIEW elt.build_progress IS
'Model builds in progress: function, target, phase and rows handled so far';
GRANT SELECT ON elt.build_progress TO PUBLIC;

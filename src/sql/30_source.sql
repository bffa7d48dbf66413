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



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

-- Lineage and metrics: a known sequence of extracts, model builds, checks
-- and pipeline runs, read back as lineage edges, a Mermaid chart and
-- metrics; another role sees none of it, a pg_monitor member sees all.
\set SHOW_CONTEXT never
\i test/regress/helpers.sql
CREATE ROLE regress_obs_owner LOGIN;
CREATE ROLE regress_obs_other LOGIN;
CREATE ROLE regress_obs_monitor LOGIN IN ROLE pg_monitor;
GRANT EXECUTE ON FUNCTION elt.create_source(text, text, jsonb, jsonb, jsonb),
	elt.create_stream(text, text, text, jsonb, text, jsonb, jsonb, text[], text, text, text, text, jsonb, jsonb, jsonb),
	elt.extract(text, boolean) TO regress_obs_owner;
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS staging;
RESET client_min_messages;
CREATE SCHEMA obs_dw;
GRANT USAGE, CREATE ON SCHEMA staging, obs_dw TO regress_obs_owner;

SET ROLE regress_obs_owner;
SELECT elt.create_source('obs', :'base', options => '{"max_attempts": 1}');
SELECT elt.create_stream('obs', 'users', '/users/page', params => '{"total": 25}', records => '$.data',
						 pagination => '{"type": "page", "size_param": "per_page", "size": 10, "total_path": "$.total"}');
SELECT pages, records FROM elt.extract('obs.users');
SELECT elt.create_stream('obs', 'broken', '/status/500', params => '{}');
SELECT pg_temp.try($$SELECT elt.extract('obs.broken')$$) LIKE 'EL%' AS failed;

-- a model from a relation, one from a SELECT joining two relations
CREATE TABLE obs_dw.country (code text PRIMARY KEY, name text);
INSERT INTO obs_dw.country VALUES ('FR', 'France');
SELECT inserted FROM elt.merge_dimension('obs_dw.dim_country', 'obs_dw.country', '{code}', scd_type => 1);
SELECT inserted FROM elt.merge('obs_dw.users',
	$$SELECT u._elt_record #>> '{login,uuid}' AS id, c.name AS country
		FROM staging.obs_users u LEFT JOIN obs_dw."dim_country" c ON c.code = 'FR'$$, '{id}');
-- a fact looking up the dimension: an edge from the dimension to the fact
SELECT inserted FROM elt.merge_fact('obs_dw.fact_visit',
	$$SELECT 1 AS visit_id, 'FR' AS code, 3 AS visits$$, '{visit_id}',
	'[{"dimension": "obs_dw.dim_country", "on": {"code": "code"}}]');
SELECT detail -> 'dimensions' AS dimensions FROM elt.model_run WHERE target LIKE '%fact_visit%';
SELECT passed FROM elt.check('obs_dw.users', 'not_null', 'id');
SELECT passed FROM elt.check('obs_dw.users', 'row_count', NULL, '{"min": 1000}', 'warn');

SELECT elt.create_pipeline('obs_nightly') > 0 AS created;
SELECT elt.add_step('obs_nightly', 'load', $$SELECT 1$$);
SELECT pg_temp.run('obs_nightly');
SELECT elt.create_pipeline('obs_broken') > 0 AS created;
SELECT elt.add_step('obs_broken', 'fail', $$SELECT 1/0$$);
SELECT pg_temp.run('obs_broken');

SELECT from_kind, from_name, to_kind, to_name, via, last_status, runs, last_run_at IS NOT NULL AS has_run
  FROM elt.lineage ORDER BY 1, 2, 3, 4;
SELECT elt.lineage_mermaid();

-- metrics: counts per label set, timestamps present
SELECT name, labels, value, type FROM elt.metric
 WHERE name NOT IN ('pg_elt_run_duration_seconds_total', 'pg_elt_last_run_duration_seconds',
					'pg_elt_last_success_timestamp_seconds', 'pg_elt_stream_freshness_seconds',
					'pg_elt_extract_bytes_total', 'pg_elt_workers', 'pg_elt_scheduler_up')
 ORDER BY name, labels::text;
SELECT name, labels, value > 0 AS positive FROM elt.metric
 WHERE name IN ('pg_elt_last_success_timestamp_seconds', 'pg_elt_extract_bytes_total')
 ORDER BY name, labels::text;
SELECT name, labels, value >= 0 AND value < 600 AS recent FROM elt.metric
 WHERE name = 'pg_elt_stream_freshness_seconds';
-- one sample per label set
SELECT count(*) = count(DISTINCT (name, labels)) AS unique_samples FROM elt.metric;
-- the text format: HELP and TYPE once per metric, then the samples
SELECT line FROM regexp_split_to_table(elt.metrics(), E'\n') AS line
 WHERE line ~ '^(# (HELP|TYPE) )?pg_elt_(runs_total|check_failing|last_run_failed)';
RESET ROLE;

-- label values are escaped: backslash, double quote, line feed
SELECT elt._prometheus_label(E'a\\b"c\nd');

-- another role sees nothing of it
SET ROLE regress_obs_other;
SELECT count(*) FROM elt.lineage;
SELECT name, labels, value FROM elt.metric WHERE name NOT IN ('pg_elt_scheduler_up', 'pg_elt_workers', 'pg_elt_active_runs');
SELECT position('obs' IN elt.metrics()) AS mentions, elt.lineage_mermaid();
RESET ROLE;

-- a pg_monitor member sees all of it
SET ROLE regress_obs_monitor;
SELECT count(*) > 0 AS sees_lineage FROM elt.lineage WHERE from_name = 'obs.users';
SELECT value FROM elt.metric WHERE name = 'pg_elt_runs_total' AND labels->>'pipeline' = 'obs_broken';
RESET ROLE;

-- URLs shown are masked
SELECT elt._redact_url('https://user:pw@example.com/x?token=abc&page=2');

-- exports (rows of elt.export_run as elt.export() writes them): bytes and
-- counts by destination, credentials masked, and an edge from each
-- relation an export's query reads
INSERT INTO elt.export_run (owner, query, destination, format, rows, bytes, status, started_at)
VALUES
	('regress_obs_owner', 'SELECT * FROM obs_dw.users', 'https://u:pw@files.example/up?token=abc', 'csv', 2, 100, 'succeeded', now()),
	('regress_obs_owner', 'SELECT * FROM obs_dw.users', 'https://u:pw@files.example/up?token=abc', 'csv', 1, 50, 'succeeded', now()),
	('regress_obs_owner', 'SELECT * FROM obs_dw.users', 's3://bucket/users.csv', 'csv', 0, 0, 'failed', now());
SELECT name, labels, value FROM elt.metric WHERE name LIKE 'pg_elt_export%' ORDER BY 1, 2::text;
SELECT from_kind, from_name, to_kind, to_name, last_status, runs FROM elt.lineage
 WHERE to_kind = 'export' ORDER BY to_name;
SELECT position('pw' IN elt.metrics()) + position('abc' IN elt.metrics()) AS leaks;
DELETE FROM elt.export_run WHERE owner = 'regress_obs_owner'::regrole;

-- leave nothing behind for the tests that follow
SET ROLE regress_obs_owner;
SELECT elt.drop_pipeline('obs_nightly'), elt.drop_pipeline('obs_broken');
RESET ROLE;
DELETE FROM elt.model_run WHERE run_by = 'regress_obs_owner';
DELETE FROM elt.check_result WHERE owner = 'regress_obs_owner'::regrole;
DELETE FROM elt.batch WHERE owner = 'regress_obs_owner'::regrole;
DELETE FROM elt.stream WHERE owner = 'regress_obs_owner'::regrole;
DELETE FROM elt.source WHERE owner = 'regress_obs_owner'::regrole;
DROP SCHEMA obs_dw CASCADE;
DROP TABLE staging.obs_users;
REVOKE ALL ON SCHEMA staging FROM regress_obs_owner;
REVOKE EXECUTE ON FUNCTION elt.create_source(text, text, jsonb, jsonb, jsonb),
	elt.create_stream(text, text, text, jsonb, text, jsonb, jsonb, text[], text, text, text, text, jsonb, jsonb, jsonb),
	elt.extract(text, boolean) FROM regress_obs_owner;
DROP ROLE regress_obs_owner, regress_obs_other, regress_obs_monitor;

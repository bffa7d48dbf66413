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
-- built from them, dimensions to the facts that look them up, tables to
-- their checks and to their exports, each with its last run.  Model sources that are SELECTs contribute the existing
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
	), lookup_edges AS (
		-- the dimensions a fact build looked up (merge_fact's detail)
		SELECT DISTINCT 'table' AS from_kind,
			   COALESCE(elt._resolve_relation(d.dim), d.dim) AS from_name,
			   'model' AS to_kind, m.target AS to_name, 'lookup' AS via, m.started_at,
			   'succeeded' AS status, EXTRACT(epoch FROM m.started_at)::bigint AS ord
		  FROM elt.model_run r
		  CROSS JOIN LATERAL (SELECT COALESCE(elt._resolve_relation(r.target), r.target) AS target,
									 r.started_at) m
		  CROSS JOIN LATERAL pg_catalog.jsonb_array_elements_text(
				CASE WHEN pg_catalog.jsonb_typeof(r.detail -> 'dimensions') = 'array'
					 THEN r.detail -> 'dimensions' ELSE '[]' END) d (dim)
		 WHERE r.function = 'merge_fact'
	), checks AS (
		SELECT 'table' AS from_kind, COALESCE(elt._resolve_relation(c.relation), c.relation) AS from_name,
			   'check' AS to_kind,
			   COALESCE(elt._resolve_relation(c.relation), c.relation) || ' ' || c.test
				   || COALESCE('(' || c.column_name || ')', '') AS to_name,
			   c.test AS via, c.checked_at AS started_at,
			   CASE WHEN c.passed THEN 'passed' ELSE 'failed' END AS status, c.check_id AS ord
		  FROM elt.check_result c
	), edges AS (
		SELECT * FROM streams UNION ALL SELECT * FROM model_edges
		UNION ALL SELECT * FROM lookup_edges UNION ALL SELECT * FROM checks
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

-- Model builds (merge_dimension, merge_fact, merge) and exports running
-- now: phase, rows handled and bytes sent so far, from pg_elt's shared
-- memory (empty unless pg_elt is in shared_preload_libraries).
CREATE FUNCTION elt._build_progress(OUT pid integer, OUT userid oid, OUT function text,
									OUT target text, OUT phase text, OUT rows_done bigint,
									OUT started_at timestamptz, OUT phase_started_at timestamptz,
									OUT bytes_done bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'elt_build_progress'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION elt._build_progress() IS
'Internal: the model builds and exports running now of the roles the caller may see';

CREATE VIEW elt.build_progress WITH (security_invoker = true) AS
SELECT p.pid, r.rolname AS run_by, p.function, p.target, p.phase, p.rows_done,
	   p.bytes_done, p.started_at, pg_catalog.now() - p.started_at AS running_for,
	   p.phase_started_at
  FROM elt._build_progress() p
  LEFT JOIN pg_catalog.pg_roles r ON r.oid = p.userid;
COMMENT ON VIEW elt.build_progress IS
'Model builds and exports in progress: function, target, phase, rows handled and bytes sent so far';
GRANT SELECT ON elt.build_progress TO PUBLIC;

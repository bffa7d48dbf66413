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

-- The records an extract is writing into a Citus staging table, for its
-- routed INSERT only: any call but that statement's, which passes a random
-- token of its flush, is refused.
CREATE FUNCTION elt._load_rows(token bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'elt_load_rows'
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 5000;
COMMENT ON FUNCTION elt._load_rows(bigint) IS
'Internal to elt.extract: the buffered records of a load into a Citus table, as the rows of its routed INSERT';

CREATE FUNCTION elt._link_header_next(header text)
RETURNS text
AS 'MODULE_PATHNAME', 'elt_link_header_next'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt._link_header_next(text) IS
'The rel="next" target of an RFC 8288 Link header (its fields joined by commas), as link_header paging reads it';

-- Helpers shared by the regress tests, read with \i test/regress/helpers.sql.
--
-- :base is the mock API's base URL (its port comes from MOCK_API_PORT).
-- pg_temp.try(sql) runs a statement and shows 'ok' or its SQLSTATE, message
-- and hint, with the mock API's port masked so that the output does not
-- depend on it (nor on how long a refused connection took).  Settings of
-- the session shape it for a test file:
--   test.try_detail = on          also show the DETAIL
--   test.try_context = 'regex'    also show the part of the CONTEXT it matches
--   test.try_port = 'regex'       what to mask as the port (default
--                                 127.0.0.1:<port>, shown as 127.0.0.1:PORT)
-- pg_temp.run(pipeline) runs a pipeline and shows how it ended, without the
-- run id.
\getenv mock_port MOCK_API_PORT
SELECT 'http://127.0.0.1:' || :'mock_port' AS base \gset
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	hint text;
	detail text;
	context text;
	port text := coalesce(nullif(current_setting('test.try_port', true), ''),
						  '127\.0\.0\.1:[0-9]+');
	ctx_re text := nullif(current_setting('test.try_context', true), '');
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT, detail = PG_EXCEPTION_DETAIL,
		context = PG_EXCEPTION_CONTEXT;
	-- curl's connect failures say how long they took
	RETURN SQLSTATE || ': ' || regexp_replace(regexp_replace(SQLERRM
		|| CASE WHEN current_setting('test.try_detail', true) = 'on'
				THEN coalesce(' DETAIL: ' || nullif(detail, ''), '') ELSE '' END
		|| coalesce(' HINT: ' || nullif(hint, ''), '')
		|| coalesce(' CONTEXT: ' || substring(context FROM ctx_re), ''),
		port,
		CASE WHEN port = '127\.0\.0\.1:[0-9]+' THEN '127.0.0.1:PORT' ELSE ':PORT/' END, 'g'),
		' after [0-9]+ ms: Couldn''t connect', ' after N ms: Couldn''t connect', 'g');
END $$;
CREATE FUNCTION pg_temp.run(p text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
	msg text;
	det text;
BEGIN
	PERFORM elt.run_pipeline(p);
	RETURN 'succeeded';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regexp_replace(msg, 'run \d+', 'run N') || coalesce(': ' || nullif(det, ''), '');
END
$f$;

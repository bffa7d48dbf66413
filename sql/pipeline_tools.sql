-- Pipeline tools: elt.schedule()/elt.unschedule(), the DAG of a pipeline
-- (pipeline_levels, pipeline_graph), the timeline of a run, and what a
-- step said (messages and result in elt.step_run, secret values masked),
-- each also as another role sees it.
SET TimeZone = 'UTC';
\set SHOW_CONTEXT never
\i test/regress/helpers.sql
CREATE ROLE regress_tools_alice LOGIN;
CREATE ROLE regress_tools_mallory LOGIN;
GRANT EXECUTE ON FUNCTION elt.set_secret(text, text), elt.drop_secret(text), elt.http_get(text, jsonb)
	TO regress_tools_alice;

SET ROLE regress_tools_alice;

-- one call for the simple case, as cron.schedule
SELECT elt.schedule('nightly_vacuum', '0 3 * * *', 'SELECT 1') > 0 AS created;
SELECT p.name, p.schedule, s.name AS step, s.command, p.next_run_at > now() AS has_next
FROM elt.pipeline p JOIN elt.step s USING (pipeline_id) WHERE p.name = 'nightly_vacuum';
-- calling it again replaces its schedule and command, keeping the id
SELECT pipeline_id AS first_id FROM elt.pipeline WHERE name = 'nightly_vacuum' \gset
SELECT elt.schedule('nightly_vacuum', '*/10 * * * *', $$SELECT 'again'$$) = :first_id AS same_id;
SELECT p.schedule, s.command FROM elt.pipeline p JOIN elt.step s USING (pipeline_id)
WHERE p.name = 'nightly_vacuum';
-- bad input
SELECT pg_temp.try($$SELECT elt.schedule('x', '*/5 * * *', 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT elt.schedule('x', '@daily', 'SELEC 1')$$);
SELECT pg_temp.try($$SELECT elt.schedule('x', NULL, 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT elt.schedule(NULL, '@daily', 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT elt.schedule('', '@daily', 'SELECT 1')$$);
SELECT count(*) AS none_created FROM elt.pipeline WHERE name IN ('x', '');
-- a pipeline of several steps is not replaced, nor unscheduled
SELECT elt.create_pipeline('flow') > 0 AS created;
SELECT elt.add_step('flow', 'extract', $s$DO $$BEGIN RAISE NOTICE 'extracted % rows', 3; END $$$s$);
SELECT elt.add_step('flow', 'dim "customer"', 'SELECT 2 AS two', '{extract}');
SELECT elt.add_step('flow', 'other', 'SELECT 3');
SELECT elt.add_step('flow', 'fact', $$SELECT n, 'row ' || n AS label FROM generate_series(1, 4) n$$,
	'{extract,"dim \"customer\"",other}');
SELECT pg_temp.try($$SELECT elt.schedule('flow', '@daily', 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT elt.unschedule('flow')$$);
SELECT pg_temp.try($$SELECT elt.unschedule('missing')$$);
SELECT pg_temp.try($$SELECT elt.unschedule(NULL)$$);

-- the DAG by level, and as Mermaid and DOT text
SELECT level, step, depends_on, position FROM elt.pipeline_levels('flow');
SELECT elt.pipeline_graph('flow');
SELECT elt.pipeline_graph('flow', 'dot');
SELECT elt.pipeline_graph('nightly_vacuum', 'MERMAID');
SELECT pg_temp.try($$SELECT elt.pipeline_graph('flow', 'svg')$$);
SELECT pg_temp.try($$SELECT elt.pipeline_graph('flow', NULL)$$);
SELECT pg_temp.try($$SELECT elt.pipeline_graph('missing')$$);
SELECT pg_temp.try($$SELECT * FROM elt.pipeline_levels(NULL)$$);

-- a run: what each step said, and its timeline
SELECT elt.run_pipeline('flow') AS run \gset
SELECT step, attempt, status, rows, messages, result
FROM elt.step_run WHERE run_id = :run ORDER BY step;
SELECT step, attempt, status, level,
	   queued_at <= started_at AS queued_first, started_at <= finished_at AS in_order,
	   waited >= '0' AND duration >= '0' AND start_offset >= '0' AS sane
FROM elt.run_timeline(:run);
-- a step waits for its last dependency
SELECT t.queued_at = (SELECT max(finished_at) FROM elt.step_run
					  WHERE run_id = :run AND step IN ('extract', 'dim "customer"', 'other')) AS fact_queued_after_deps
FROM elt.run_timeline(:run) t WHERE t.step = 'fact';
SELECT pg_temp.try($$SELECT * FROM elt.run_timeline(-1)$$);
SELECT pg_temp.try($$SELECT * FROM elt.run_timeline(NULL)$$);

-- a failed attempt keeps its messages, and retries show as attempts
SELECT elt.create_pipeline('flaky', NULL, '{"retries": 1, "retry_delay": "10 milliseconds"}') > 0 AS created;
SELECT elt.add_step('flaky', 'warn_then_fail', $s$DO $$BEGIN RAISE WARNING 'about to fail'; RAISE EXCEPTION 'boom'; END $$$s$);
SELECT pg_temp.run('flaky');
SELECT attempt, status, error, messages FROM elt.step_run
WHERE run_id = (SELECT max(run_id) FROM elt.run WHERE pipeline = 'flaky') ORDER BY attempt;
SELECT attempt, status, queued_at <= started_at AS queued_first FROM elt.run_timeline(
	(SELECT max(run_id) FROM elt.run WHERE pipeline = 'flaky'));

-- messages are capped: at most 100 of at most 1000 characters
SELECT elt.create_pipeline('chatty') > 0 AS created;
SELECT elt.add_step('chatty', 'talk', $s$DO $$BEGIN FOR i IN 1..120 LOOP RAISE NOTICE '%', repeat('x', 2000); END LOOP; END $$$s$);
SELECT pg_temp.run('chatty');
SELECT jsonb_array_length(messages) AS kept, length(messages->0->>'message') AS first_length,
	   messages->100 AS last
FROM elt.step_run WHERE run_id = (SELECT max(run_id) FROM elt.run WHERE pipeline = 'chatty');

-- secret values are masked in messages and results
SELECT elt.set_secret('tools_token', 'Tools-S3cr3t-Token-9');
SELECT elt.create_pipeline('leaky') > 0 AS created;
SELECT elt.add_step('leaky', 'echo', format($$DO $x$BEGIN RAISE NOTICE 'got %%', (SELECT body FROM elt.http_get(%L, '{"X-Token": "{{secret:tools_token}}"}')); END $x$; SELECT body FROM elt.http_get(%L, '{"X-Token": "{{secret:tools_token}}"}')$$, :'base' || '/echo', :'base' || '/echo'));
SELECT pg_temp.run('leaky');
SELECT status, messages::text LIKE '%Tools-S3cr3t%' AS value_in_messages,
	   messages::text LIKE '%{{secret:tools_token}}%' AS masked_in_messages,
	   result LIKE '%Tools-S3cr3t%' AS value_in_result,
	   result LIKE '%{{secret:tools_token}}%' AS masked_in_result
FROM elt.step_run WHERE run_id = (SELECT max(run_id) FROM elt.run WHERE pipeline = 'leaky');
RESET ROLE;

-- another role: alice's pipelines, graphs and runs do not exist
SET ROLE regress_tools_mallory;
SELECT pg_temp.try($$SELECT elt.pipeline_graph('flow')$$);
SELECT pg_temp.try($$SELECT * FROM elt.pipeline_levels('flow')$$);
SELECT regexp_replace(pg_temp.try(format('SELECT * FROM elt.run_timeline(%s)', :run)), 'run \d+', 'run N');
SELECT pg_temp.try($$SELECT elt.unschedule('nightly_vacuum')$$);
SELECT count(*) AS visible_messages FROM elt.step_run;
-- the name is taken in the database, but replacing it is refused
SELECT pg_temp.try($$SELECT elt.schedule('nightly_vacuum', '@daily', 'SELECT 666')$$);
SELECT elt.schedule('mallory_job', '@daily', 'SELECT 1') > 0 AS own_created;
SELECT elt.pipeline_graph('mallory_job');
SELECT elt.unschedule('mallory_job');
RESET ROLE;
SELECT p.schedule, s.command FROM elt.pipeline p JOIN elt.step s USING (pipeline_id)
WHERE p.name = 'nightly_vacuum';

-- the owner unschedules
SET ROLE regress_tools_alice;
SELECT elt.unschedule('nightly_vacuum');
SELECT count(*) AS left_over FROM elt.pipeline WHERE name = 'nightly_vacuum';
SELECT elt.drop_pipeline(n) FROM unnest(ARRAY['flow', 'flaky', 'chatty', 'leaky']) n;
SELECT elt.drop_secret('tools_token');
RESET ROLE;
DROP OWNED BY regress_tools_alice, regress_tools_mallory;
DROP ROLE regress_tools_alice, regress_tools_mallory;

-- Pipeline definitions, validation, runs in this session, history,
-- ownership and row-level security.
SET TimeZone = 'UTC';
\set SHOW_CONTEXT never
\i test/regress/helpers.sql
CREATE ROLE regress_elt_alice LOGIN;
CREATE ROLE regress_elt_bob LOGIN;
CREATE ROLE regress_elt_nologin NOLOGIN;
CREATE SCHEMA elt_test;
GRANT USAGE, CREATE ON SCHEMA elt_test TO PUBLIC;
CREATE TABLE elt_test.log (step text, who text, run bigint, at timestamptz DEFAULT clock_timestamp());
GRANT SELECT, INSERT, DELETE ON elt_test.log TO PUBLIC;

-- definitions
SELECT elt.create_pipeline('nightly', '0 3 * * *', '{"retries": 2, "retry_delay": "1 second", "overlap": "queue"}') > 0 AS created;
SELECT name, owner = current_user::text::regrole AS mine, schedule, options, paused, next_run_at > now() AS has_next FROM elt.pipeline;
SELECT elt.create_pipeline('nightly');
SELECT elt.create_pipeline(NULL);
SELECT elt.create_pipeline('');
SELECT elt.create_pipeline('bad', '61 * * * *');
SELECT elt.create_pipeline('bad', '* * * *');
SELECT elt.create_pipeline('bad', NULL, '{"retries": -1}');
SELECT elt.create_pipeline('bad', NULL, '{"retries": 1.5}');
SELECT elt.create_pipeline('bad', NULL, '{"retry_delay": "soon"}');
SELECT elt.create_pipeline('bad', NULL, '{"timeout": "0 seconds"}');
SELECT elt.create_pipeline('bad', NULL, '{"timeout": "1 month"}');
SELECT elt.create_pipeline('bad', NULL, '{"overlap": "parallel"}');
SELECT elt.create_pipeline('bad', NULL, '{"catchup": "yes"}');
SELECT elt.create_pipeline('bad', NULL, '{"notify": ""}');
SELECT elt.create_pipeline('bad', NULL, '{"timezone": "Nowhere/Land"}');
SELECT elt.create_pipeline('bad', NULL, '{"color": "blue"}');
SELECT elt.create_pipeline('bad', NULL, '[1, 2]');
SELECT count(*) AS none_created FROM elt.pipeline WHERE name = 'bad';

-- steps: a DAG, refused when an unknown step or a cycle is named
SELECT elt.add_step('nightly', 'extract', 'SELECT 1');
SELECT elt.add_step('nightly', 'dims', 'SELECT 2', '{extract}');
SELECT elt.add_step('nightly', 'facts', 'SELECT 3', '{extract,dims}', 3, '10 minutes');
SELECT elt.add_step('nightly', 'orphan', 'SELECT 4', '{nothing}');
SELECT elt.add_step('nightly', 'self', 'SELECT 4', '{self}');
SELECT elt.add_step('nightly', 'twice', 'SELECT 4', '{extract,extract}');
SELECT elt.add_step('nightly', 'nulldep', 'SELECT 4', ARRAY['extract', NULL]);
SELECT elt.add_step('nightly', 'extract', 'SELECT 5');
SELECT elt.add_step('nightly', 'empty', '  ');
SELECT elt.add_step('nightly', 'typo', 'SELEC 1');
SELECT elt.add_step('nightly', 'neg', 'SELECT 1', '{}', -1);
SELECT elt.add_step('nightly', 'zero', 'SELECT 1', '{}', NULL, '0 seconds');
SELECT elt.add_step('nightly', NULL, 'SELECT 1');
SELECT elt.add_step('missing', 'x', 'SELECT 1');
-- a cycle through a direct update is refused too
UPDATE elt.step SET depends_on = '{facts}' WHERE name = 'extract';
SELECT elt.drop_step('nightly', 'dims');
SELECT elt.drop_step('nightly', 'nope');
SELECT s.name, s.position, s.command, s.depends_on, s.retries, s.timeout
FROM elt.step s JOIN elt.pipeline p USING (pipeline_id) WHERE p.name = 'nightly' ORDER BY s.position;

-- alter, pause, resume
SELECT elt.alter_pipeline('nightly', '@hourly', '{"retries": null, "catchup": true}');
SELECT schedule, options FROM elt.pipeline WHERE name = 'nightly';
SELECT elt.alter_pipeline('nightly', 'none');
SELECT schedule, next_run_at FROM elt.pipeline WHERE name = 'nightly';
SELECT elt.alter_pipeline('nightly', 'bad schedule');
SELECT elt.pause('nightly');
SELECT paused FROM elt.pipeline WHERE name = 'nightly';
SELECT elt.resume('nightly');
SELECT elt.pause('missing');
SELECT elt.resume(NULL);

-- hostile names are just names
SELECT elt.create_pipeline('Robert''); DROP TABLE elt_test.log; --') > 0 AS created;
SELECT elt.add_step('Robert''); DROP TABLE elt_test.log; --', 'Step "One"; x',
	$$INSERT INTO elt_test.log (step) VALUES ('hostile')$$);
SELECT elt.run_pipeline('Robert''); DROP TABLE elt_test.log; --') > 0 AS ran;
SELECT step FROM elt_test.log;
SELECT step, attempt, status FROM elt.step_run WHERE step = 'Step "One"; x';

-- a run in this session: dependency order, retries with backoff, skipped dependents
SELECT elt.create_pipeline('flow', NULL, '{"retries": 0, "retry_delay": "100 milliseconds"}') > 0 AS created;
CREATE SEQUENCE elt_test.flaky;
GRANT ALL ON elt_test.flaky TO PUBLIC;
SELECT elt.add_step('flow', 'a', $$INSERT INTO elt_test.log (step) VALUES ('a')$$);
-- b fails twice (its insert rolled back each time), then succeeds on its third attempt
SELECT elt.add_step('flow', 'b',
	$$INSERT INTO elt_test.log (step) VALUES ('b'); SELECT 1 / CASE WHEN nextval('elt_test.flaky') < 3 THEN 0 ELSE 1 END$$,
	'{a}', 2);
SELECT elt.add_step('flow', 'c', $$INSERT INTO elt_test.log (step, run) VALUES ('c', elt.current_run())$$, '{b}');
-- definition order does not override dependencies
UPDATE elt.step SET position = 0 WHERE name = 'c';
DELETE FROM elt_test.log;
SELECT elt.run_pipeline('flow') AS run \gset
SELECT step, run = :run AS current_run_ok FROM elt_test.log ORDER BY at;
SELECT step, attempt, status, error, finished_at >= started_at AS timed
FROM elt.step_run WHERE run_id = :run ORDER BY started_at NULLS LAST, attempt;
-- backoff: the second retry waited twice as long as the first
SELECT (s3.started_at - s2.finished_at) > (s2.started_at - s1.finished_at) AS backs_off,
	   (s2.started_at - s1.finished_at) >= interval '100 milliseconds' AS waited
FROM elt.step_run s1, elt.step_run s2, elt.step_run s3
WHERE s1.run_id = :run AND s2.run_id = :run AND s3.run_id = :run
  AND s1.step = 'b' AND s2.step = 'b' AND s3.step = 'b'
  AND s1.attempt = 1 AND s2.attempt = 2 AND s3.attempt = 3;
SELECT trigger, status, error, pid IS NOT NULL AS has_pid FROM elt.run WHERE run_id = :run;

-- a step that finally fails: the run fails, its dependents are skipped,
-- independent steps still run, and the history survives the error
SELECT elt.create_pipeline('broken') > 0 AS created;
SELECT elt.add_step('broken', 'ok', $$INSERT INTO elt_test.log (step) VALUES ('ok')$$);
SELECT elt.add_step('broken', 'fail', 'SELECT * FROM elt_test.no_such_table');
SELECT elt.add_step('broken', 'after_fail', $$INSERT INTO elt_test.log (step) VALUES ('after_fail')$$, '{fail}');
SELECT elt.add_step('broken', 'after_ok', $$INSERT INTO elt_test.log (step) VALUES ('after_ok')$$, '{ok}');
DELETE FROM elt_test.log;
SELECT pg_temp.run('broken');
SELECT step FROM elt_test.log ORDER BY at;
SELECT s.step, s.attempt, s.status, s.error FROM elt.step_run s JOIN elt.run r USING (run_id)
WHERE r.pipeline = 'broken' ORDER BY s.step;
SELECT status, error FROM elt.run WHERE pipeline = 'broken';

-- a step timeout stops a long statement
SELECT elt.create_pipeline('slow') > 0 AS created;
SELECT elt.add_step('slow', 'sleep', 'SELECT pg_sleep(30)', '{}', 0, '200 milliseconds');
SELECT pg_temp.run('slow');
SELECT s.status, s.error, s.finished_at - s.started_at < interval '10 seconds' AS quick
FROM elt.step_run s JOIN elt.run r USING (run_id) WHERE r.pipeline = 'slow';

-- what cannot run
SELECT elt.create_pipeline('empty') > 0 AS created;
SELECT elt.run_pipeline('empty');
SELECT elt.run_pipeline('missing');
SELECT elt.run_pipeline(NULL);
BEGIN;
SELECT elt.create_pipeline('uncommitted') > 0 AS created;
SELECT elt.add_step('uncommitted', 's', 'SELECT 1');
SELECT elt.run_pipeline('uncommitted');
ROLLBACK;
-- (elt.trigger() and schedules in a database without a scheduler:
-- test/t/057_two_databases.pl)
SELECT elt.cancel(-1);
-- (run ids depend on what ran before: the messages are shown without them)
SET client_min_messages = warning;
SELECT elt.cancel(:run) AS cancelled_finished_run;
RESET client_min_messages;
SELECT elt.current_run();

-- the status view
SELECT pipeline, schedule, paused, active_run_id, last_status, last_error
FROM elt.pipeline_status ORDER BY pipeline;

-- runs execute as the owner, who sees only its own pipelines
SET ROLE regress_elt_alice;
SELECT elt.create_pipeline('alice_p') > 0 AS created;
SELECT elt.add_step('alice_p', 'who', $$INSERT INTO elt_test.log (step, who) VALUES ('alice', current_user || '/' || session_user)$$);
SELECT elt.run_pipeline('alice_p') > 0 AS ran;
SELECT name FROM elt.pipeline ORDER BY name;
SELECT pipeline, status FROM elt.run ORDER BY run_id;
SELECT elt.run_pipeline('flow');
SELECT elt.pause('flow');
SELECT elt.drop_pipeline('flow');
SELECT set_config('regress.run', :'run', false) IS NOT NULL AS noted;
DO $$
BEGIN
	PERFORM elt.cancel(current_setting('regress.run')::bigint);
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE '%: %', SQLSTATE, regexp_replace(SQLERRM, '[0-9]+', 'N');
END
$$;
UPDATE elt.pipeline SET paused = true WHERE name = 'flow';
DELETE FROM elt.step;
INSERT INTO elt.pipeline (name, owner) VALUES ('forged', 'regress_elt_bob');
RESET ROLE;
SELECT step, who FROM elt_test.log WHERE step = 'alice';
SELECT count(*) AS flow_steps_left FROM elt.step s JOIN elt.pipeline p USING (pipeline_id) WHERE p.name = 'flow';
SET ROLE regress_elt_bob;
SELECT name FROM elt.pipeline;
SELECT elt.create_pipeline('alice_p');
RESET ROLE;
-- an owner that cannot log in cannot run pipelines
SELECT elt.create_pipeline('nologin_p') > 0 AS created;
SELECT elt.add_step('nologin_p', 's', 'SELECT 1');
UPDATE elt.pipeline SET owner = 'regress_elt_nologin' WHERE name = 'nologin_p';
SELECT elt.run_pipeline('nologin_p');

-- dropping
SELECT elt.drop_pipeline('broken');
SELECT count(*) AS broken_runs FROM elt.run WHERE pipeline = 'broken';
SELECT elt.drop_pipeline('broken');

DROP SCHEMA elt_test CASCADE;
DELETE FROM elt.pipeline;
DROP ROLE regress_elt_alice;
DROP ROLE regress_elt_bob;
DROP ROLE regress_elt_nologin;

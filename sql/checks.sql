-- Data-quality checks: every test type with passing and failing data,
-- severities, kept results, and bad arguments.
\set SHOW_CONTEXT never
\i test/regress/helpers.sql
CREATE SCHEMA "Dq Test";
CREATE TABLE "Dq Test"."Dim User" (user_key bigint PRIMARY KEY, email text, country text, updated_at timestamptz);
INSERT INTO "Dq Test"."Dim User" VALUES
	(1, 'a@x', 'FR', now()), (2, 'b@x', 'DE', now() - interval '2 days'),
	(3, NULL, 'FR', now()), (4, 'a@x', 'XX', now()), (5, 'c@x', NULL, now());
CREATE TABLE "Dq Test".fact (id int, user_key bigint, amount numeric);
INSERT INTO "Dq Test".fact VALUES (1, 1, 10), (2, 2, -5), (3, 9, 7), (4, NULL, 1), (5, 9, 2);
CREATE TABLE "Dq Test".empty (at date);

-- passing tests
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'not_null', 'user_key');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'unique', 'user_key');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'accepted_values', 'country', '{"values": ["FR", "DE", "XX"]}');
SELECT * FROM elt.check('"Dq Test".fact', 'relationships', 'user_key', '{"to": "\"Dq Test\".\"Dim User\"", "field": "user_key"}', 'warn');
SELECT passed, failures FROM elt.check('"Dq Test"."Dim User"', 'freshness', NULL, '{"column": "updated_at", "max_age": "3 days"}');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'row_count', NULL, '{"min": 1, "max": 10}');
SELECT * FROM elt.check('"Dq Test".fact', 'expression', NULL, '{"where": "amount < -100"}');

-- failing tests with severity warn: a warning, a result, no error
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'not_null', 'email', severity => 'warn');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'unique', 'email', severity => 'warn');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'accepted_values', 'country', '{"values": ["FR", "DE"]}', 'warn');
SELECT * FROM elt.check('"Dq Test".fact', 'relationships', 'user_key', '{"to": "\"Dq Test\".\"Dim User\""}', 'warn');
SELECT passed, failures FROM elt.check('"Dq Test"."Dim User"', 'freshness', 'updated_at', '{"max_age": "1 day"}', 'WARN');
SELECT passed, failures, detail FROM elt.check('"Dq Test".empty', 'freshness', 'at', '{"max_age": "1 day"}', 'warn');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'row_count', NULL, '{"min": 10}', 'warn');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'row_count', NULL, '{"max": 2}', 'warn');
SELECT * FROM elt.check('"Dq Test".fact', 'expression', NULL, '{"where": "amount < 0"}', 'warn');

-- severity error: the error is raised, and the result is kept anyway
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'not_null', 'email');
SELECT * FROM elt.check('"Dq Test".fact', 'relationships', 'user_key', '{"to": "\"Dq Test\".\"Dim User\"", "field": "user_key"}');

SELECT relation, test, column_name, severity, passed, failures, sample, detail
FROM elt.check_result WHERE test <> 'freshness' ORDER BY check_id;
SELECT test, passed, failures, sample ? 'latest' AS has_latest FROM elt.check_result WHERE test = 'freshness' ORDER BY check_id;

-- bad arguments
SELECT * FROM elt.check(NULL, 'not_null', 'x');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'sometimes', 'email');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'not_null', 'email', '{}', 'fatal');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'not_null');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'not_null', 'nope');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'not_null', 'email', '{"values": [1]}');
SELECT * FROM elt.check('"Dq Test".missing', 'not_null', 'email');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'accepted_values', 'country', '{"values": []}');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'accepted_values', 'country');
SELECT * FROM elt.check('"Dq Test".fact', 'relationships', 'user_key', '{"to": "\"Dq Test\".nope"}');
SELECT * FROM elt.check('"Dq Test".fact', 'relationships', 'user_key', '{"to": "\"Dq Test\".\"Dim User\"", "field": "nope"}');
SELECT * FROM elt.check('"Dq Test".fact', 'relationships', 'user_key');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'freshness', 'updated_at', '{"max_age": "soon"}');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'freshness', 'email', '{"max_age": "1 day"}');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'freshness', NULL, '{"max_age": "1 day"}');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'row_count');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'row_count', NULL, '{"min": 5, "max": 1}');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'row_count', NULL, '{"min": "one"}');
SELECT * FROM elt.check('"Dq Test".fact', 'expression');
SELECT * FROM elt.check('"Dq Test".fact', 'expression', NULL, '{"where": "amount < 0; DROP TABLE \"Dq Test\".fact"}');
SELECT * FROM elt.check('"Dq Test".fact', 'expression', NULL, '{"where": "no_such_column > 0"}');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'not_null', 'email', '[1]');
SELECT count(*) AS fact_still_there FROM "Dq Test".fact;

-- a check as a pipeline step: an error-severity failure fails the step
-- and skips its dependents; the result carries the run id
SELECT elt.create_pipeline('dq') > 0 AS created;
SELECT elt.add_step('dq', 'check_email', $$SELECT * FROM elt.check('"Dq Test"."Dim User"', 'not_null', 'email')$$);
SELECT elt.add_step('dq', 'publish', 'SELECT 1', '{check_email}');
SELECT pg_temp.run('dq');
SELECT s.step, s.status, s.error FROM elt.step_run s JOIN elt.run r USING (run_id) WHERE r.pipeline = 'dq' ORDER BY s.step;
SELECT c.passed, c.failures, c.run_id = r.run_id AS tagged
FROM elt.check_result c JOIN elt.run r ON r.pipeline = 'dq' WHERE c.run_id IS NOT NULL;

-- results belong to the role that ran the check
CREATE ROLE regress_elt_carol;
GRANT USAGE ON SCHEMA "Dq Test" TO regress_elt_carol;
GRANT SELECT ON "Dq Test"."Dim User" TO regress_elt_carol;
SET ROLE regress_elt_carol;
SELECT count(*) AS visible FROM elt.check_result;
SELECT passed FROM elt.check('"Dq Test"."Dim User"', 'unique', 'user_key');
SELECT * FROM elt.check('"Dq Test"."Dim User"', 'not_null', 'email');
SELECT owner, test, passed FROM elt.check_result ORDER BY check_id;
INSERT INTO elt.check_result (owner, relation, test, severity, passed, failures) VALUES (session_user::text::regrole, 'x', 'y', 'warn', true, 0);
RESET ROLE;

SELECT elt.drop_pipeline('dq');
DELETE FROM elt.check_result;
DROP SCHEMA "Dq Test" CASCADE;
DROP OWNED BY regress_elt_carol;
DROP ROLE regress_elt_carol;

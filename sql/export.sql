-- elt.export: argument validation (the exports themselves are in
-- test/t/090_export.pl, against s3rver and the mock API).
\i test/regress/helpers.sql

SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 'http://127.0.0.1:1/a', 'xml')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 'http://127.0.0.1:1/a', 'csv', '{"colour": 1}')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 'http://127.0.0.1:1/a', 'csv', '[]')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 'ftp://example.com/a')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', '/tmp/a.csv')$$);
SELECT pg_temp.try($$SELECT elt.export('DELETE FROM elt.export_run', 'http://127.0.0.1:1/a')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1; SELECT 2', 'http://127.0.0.1:1/a')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1 INTO TEMP x', 'http://127.0.0.1:1/a')$$);
SELECT pg_temp.try($$SELECT elt.export('SELEC 1', 'http://127.0.0.1:1/a')$$);
SELECT pg_temp.try($$SELECT elt.export(NULL, 'http://127.0.0.1:1/a')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 's3://bucket')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 's3://bucket/key.csv')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 's3://bucket/{{secret:x}}', 'csv', '{"access_key_id": "a", "secret_access_key": "b"}')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 's3://bucket/k', 'csv', '{"access_key_id": "a", "secret_access_key": "b", "part_size": 1024}')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 's3://bucket/k', 'csv', '{"access_key_id": "a", "secret_access_key": "b", "endpoint": "ftp://x"}')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 's3://bucket/k', 'csv', '{"access_key_id": "a", "secret_access_key": "b", "method": "POST"}')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 'http://127.0.0.1:1/a', 'csv', '{"endpoint": "http://x"}')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 'http://127.0.0.1:1/a', 'csv', '{"method": "GET"}')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 'http://127.0.0.1:1/a', 'csv', '{"delimiter": ",,"}')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 'http://127.0.0.1:1/a', 'csv', '{"gzip": "maybe"}')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 'http://127.0.0.1:1/a', 'csv', '{"headers": []}')$$);
SELECT pg_temp.try($$SELECT elt.export('SELECT 1', 'http://127.0.0.1:1/{{interval_start}}.csv')$$);
-- refused arguments are not runs
SELECT count(*) FROM elt.export_run;
-- not executable by PUBLIC
SELECT has_function_privilege('public', 'elt.export(text, text, text, jsonb)', 'EXECUTE') AS public_may_export;

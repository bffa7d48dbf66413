-- Fan-out streams (for_each) and requests with bodies: children of a
-- query's rows fetched concurrently in one batch, the parent stored with
-- every record, paging per child, incremental fan-out, POST bodies with
-- paging values, GraphQL-style cursor variables, per-stream headers, and
-- a for_each query that runs with the owner's rights only.

\i test/regress/helpers.sql
SET test.try_detail = on;

CREATE SCHEMA fan;
CREATE TABLE fan.parent (id int, name text, changed_at timestamptz DEFAULT now());
INSERT INTO fan.parent (id, name) SELECT i, 'user ' || i FROM generate_series(1, 12) i;

SELECT elt.create_source('fo', :'base', options => '{"backoff": "10 ms", "max_backoff": "50 ms", "concurrency": 4}');

-- each user's orders, paged two by two within each child
SELECT elt.create_stream('fo', 'orders', '/users/{id}/orders', params => '{"per_page": 2}',
						 records => '$.orders', pagination => '{"type": "page"}',
						 for_each => 'SELECT id FROM fan.parent ORDER BY id');
SELECT pages, records FROM elt.extract('fo.orders');
-- every order once, with the parent it was fetched for beside it
SELECT count(*) AS orders, count(DISTINCT _elt_record->>'order_id') AS distinct_orders,
	   sum((1 + (_elt_parent->>'id')::int % 5)) FILTER (WHERE _elt_record->>'n' = '1') AS expected,
	   bool_and((_elt_record->>'user_id')::int = (_elt_parent->>'id')::int) AS parent_matches
  FROM staging.fo_orders;
SELECT _elt_parent, _elt_record->>'order_id' AS order_id FROM staging.fo_orders
 ORDER BY (_elt_parent->>'id')::int, (_elt_record->>'n')::int LIMIT 4;
SELECT status, pages, records, requests FROM elt.batch WHERE stream = 'fo.orders';

-- placeholders in params too; values from every column by name
SELECT elt.create_stream('fo', 'counted', '/users/{id}/orders', params => '{"count": "{n}"}',
						 records => '$.orders',
						 for_each => $$SELECT id, n FROM (VALUES (1, 3), (2, 0), (3, 1)) v(id, n);$$);
SELECT pages, records FROM elt.extract('fo.counted');
SELECT _elt_parent->>'id' AS id, count(*) FROM staging.fo_counted GROUP BY 1 ORDER BY 1;

-- the children share the source's rate limit: 10 requests at 20 per second
SELECT elt.create_source('fo_rl', :'base', options => '{"concurrency": 8, "rate_limit": 20}');
SELECT elt.create_stream('fo_rl', 'orders', '/users/{id}/orders', records => '$.orders',
						 for_each => 'SELECT id FROM fan.parent WHERE id <= 10');
SELECT records, elapsed >= interval '430 ms' AS paced FROM elt.extract('fo_rl.orders');
SELECT requests FROM elt.batch WHERE stream = 'fo_rl.orders';

-- a query without rows: a batch without requests
SELECT elt.create_stream('fo', 'none', '/users/{id}/orders', records => '$.orders',
						 for_each => 'SELECT id FROM fan.parent WHERE false');
SELECT pages, records FROM elt.extract('fo.none');

-- one failed child fails the whole batch: nothing loaded
SELECT elt.create_stream('fo', 'partial', '/users/{id}/orders', records => '$.orders',
						 for_each => $$SELECT id FROM (VALUES ('1'), ('2'), ('x'), ('4')) v(id)$$);
SELECT pg_temp.try($$SELECT elt.extract('fo.partial')$$);
SELECT to_regclass('staging.fo_partial') AS staging_table;
SELECT status, error_code FROM elt.batch WHERE stream = 'fo.partial';

-- errors at run time: a placeholder that is not a column, a null value,
-- a query that fails
SELECT elt.create_stream('fo', 'bad_col', '/users/{user_id}/orders', records => '$.orders',
						 for_each => 'SELECT id FROM fan.parent');
SELECT pg_temp.try($$SELECT elt.extract('fo.bad_col')$$);
SELECT elt.create_stream('fo', 'null_val', '/users/{id}/orders', records => '$.orders',
						 for_each => 'SELECT NULL::int AS id');
SELECT pg_temp.try($$SELECT elt.extract('fo.null_val')$$);
SELECT elt.create_stream('fo', 'bad_sql', '/users/{id}/orders', records => '$.orders',
						 for_each => 'SELECT id FROM fan.nowhere');
SELECT pg_temp.try($$SELECT elt.extract('fo.bad_sql')$$);
SELECT elt.create_stream('fo', 'two_stmts', '/users/{id}/orders', records => '$.orders',
						 for_each => 'SELECT 1 AS id; DELETE FROM fan.parent');
SELECT pg_temp.try($$SELECT elt.extract('fo.two_stmts')$$);
SELECT count(*) FROM fan.parent;
-- values are percent-encoded in the path, one segment each
SELECT elt.create_stream('fo', 'encoded', '/users/{v}/orders', for_each => $$SELECT '../a b/{{secret:x}}' AS v$$);
SELECT pg_temp.try($$SELECT elt.extract('fo.encoded')$$);
-- a value cannot bring a secret reference into a param
SELECT elt.create_stream('fo', 'param_secret', '/echo', params => '{"q": "{v}"}',
						 for_each => $$SELECT '{{secret:x}}' AS v$$);
SELECT pg_temp.try($$SELECT elt.extract('fo.param_secret')$$);

-- errors at definition time
SELECT pg_temp.try($$SELECT elt.create_stream('fo', 'e1', '/users/{id}/orders')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('fo', 'e2', '/echo', params => '{"q": "{id}"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('fo', 'e3', '/users/{id}', for_each => 'DELETE FROM fan.parent')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('fo', 'e4', '/search', method => 'DELETE')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('fo', 'e5', '/search', body => '{"a": 1}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('fo', 'e6', '/search', method => 'POST', body => '3')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('fo', 'e7', '/search', pagination => '{"type": "page", "in": "body"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('fo', 'e8', '/search', pagination => '{"type": "page", "in": "form"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('fo', 'e9', '/search', headers => '{"bad name": "x"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('fo', 'e10', '/search', method => 'POST', body => '{"q": "{x}"}')$$);
SELECT pg_temp.try($$UPDATE elt.stream SET path = '/users/{id}', for_each = NULL WHERE name = 'orders'$$);

-- incremental fan-out: $1 is the start of the last successful batch
SELECT elt.create_stream('fo', 'changed', '/users/{id}/orders', records => '$.orders',
						 for_each => 'SELECT id FROM fan.parent WHERE $1 IS NULL OR changed_at > $1');
SELECT records FROM elt.extract('fo.changed');
SELECT records FROM elt.extract('fo.changed');
UPDATE fan.parent SET changed_at = clock_timestamp() + interval '1 minute' WHERE id = 4;
SELECT records FROM elt.extract('fo.changed');
SELECT records FROM elt.extract('fo.changed', full_refresh => true);
SELECT _elt_batch_id - min(_elt_batch_id) OVER () AS batch, count(*) AS rows,
	   string_agg(DISTINCT _elt_parent->>'id', ',') AS parents
  FROM staging.fo_changed GROUP BY _elt_batch_id ORDER BY _elt_batch_id;

-- incremental cursors work per child: each child is sent the stream's cursor
SELECT elt.create_stream('fo', 'inc', '/users/{id}/orders', records => '$.orders',
						 incremental => '{"cursor_field": "$.updated_at", "param": "updated_since"}',
						 for_each => 'SELECT id FROM fan.parent WHERE id <= 3');
SELECT records FROM elt.extract('fo.inc');
SELECT cursor_value FROM elt.stream WHERE name = 'inc';
-- $2 is the stream's cursor, for a query that fans out by it
SELECT elt.alter_stream('fo.inc', for_each => 'SELECT 1 AS id, $2 AS cursor_then');
SELECT records FROM elt.extract('fo.inc');
SELECT DISTINCT _elt_parent FROM staging.fo_inc WHERE _elt_parent ? 'cursor_then';

-- an existing staging table gets the parent column on the first fan-out load
CREATE TABLE staging.fo_existing (_elt_batch_id bigint, _elt_loaded_at timestamptz, _elt_record jsonb);
SELECT elt.create_stream('fo', 'existing', '/users/{id}/orders', records => '$.orders',
						 for_each => 'SELECT 2 AS id', target => 'staging.fo_existing');
SELECT records FROM elt.extract('fo.existing');
SELECT _elt_parent FROM staging.fo_existing LIMIT 1;

-- a POST search whose page number is in the body
SELECT elt.create_stream('fo', 'search', '/search', method => 'POST',
						 body => '{"query": "lamp", "per_page": 10, "total": 25}',
						 records => '$.results', pagination => '{"type": "page", "in": "body"}');
SELECT pages, records FROM elt.extract('fo.search');
SELECT count(DISTINCT _elt_record->>'id') AS ids, min(_elt_record->>'query') AS query FROM staging.fo_search;

-- and offset paging in the body, with a fan-out filling the body
SELECT elt.create_stream('fo', 'search_each', '/search', method => 'POST',
						 body => '{"query": "{name}", "per_page": 4, "total": "{total}"}',
						 records => '$.results',
						 pagination => '{"type": "page", "param": "page", "in": "body"}',
						 for_each => $$SELECT name, total FROM (VALUES ('desk', 5), ('chair', 9)) v(name, total)$$);
SELECT pages, records FROM elt.extract('fo.search_each');
SELECT _elt_parent->>'name' AS name, count(*) FROM staging.fo_search_each GROUP BY 1 ORDER BY 1;

-- GraphQL: cursor paging through a variable of the body
SELECT elt.create_stream('fo', 'gql', '/graphql', method => 'POST',
						 body => '{"query": "query($first: Int, $after: String) { users(first: $first, after: $after) { nodes { id } pageInfo { endCursor } } }", "variables": {"first": 10, "after": null}}',
						 records => '$.data.users.nodes',
						 pagination => '{"type": "cursor", "cursor_path": "$.data.users.pageInfo.endCursor", "param": "variables.after", "in": "body"}');
SELECT pages, records FROM elt.extract('fo.gql');
SELECT count(DISTINCT _elt_record->>'id') FROM staging.fo_gql;
SELECT stream, method, fan_out FROM elt.streams WHERE stream IN ('fo.inc', 'fo.search', 'fo.gql') ORDER BY 1;

-- a stream's own headers (over the source's), and its method
SELECT elt.create_source('fo_h', :'base', headers => '{"X-Team": "source", "X-Keep": "yes"}');
SELECT elt.create_stream('fo_h', 'echo', '/echo', method => 'PUT', body => '{"hello": "{who}"}',
						 headers => '{"X-Team": "stream"}', for_each => $$SELECT 'world' AS who$$);
SELECT records FROM elt.extract('fo_h.echo');
SELECT _elt_record->>'method' AS method, _elt_record->'headers'->>'x-team' AS team,
	   _elt_record->'headers'->>'x-keep' AS keep, _elt_record->>'body' AS body,
	   _elt_record->'headers'->>'content-type' AS ctype
  FROM staging.fo_h_echo;
SELECT elt.alter_stream('fo_h.echo', for_each => '', body => 'null', method => 'GET');
SELECT for_each IS NULL AS no_fanout, body IS NULL AS no_body, method FROM elt.stream WHERE name = 'echo';

-- the for_each query runs with the stream owner's rights, whoever extracts
CREATE ROLE fan_mallory;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA elt TO fan_mallory;
GRANT USAGE, CREATE ON SCHEMA staging TO fan_mallory;
CREATE TABLE fan.private_ids (id int);
INSERT INTO fan.private_ids VALUES (1);
SET ROLE fan_mallory;
-- another role's stream cannot be re-pointed: it is not even visible
WITH u AS (UPDATE elt.stream SET for_each = 'SELECT 1 AS id' WHERE source = 'fo' RETURNING 1)
SELECT count(*) AS changed FROM u;
SELECT pg_temp.try($$SELECT elt.alter_stream('fo.orders', for_each => 'SELECT 1 AS id')$$);
SELECT elt.create_source('mal', :'base');
SELECT elt.create_stream('mal', 'steal', '/users/{id}/orders', records => '$.orders',
						 for_each => 'SELECT id FROM fan.private_ids');
SELECT pg_temp.try($$SELECT elt.extract('mal.steal')$$);
-- nor through another role's staging table
SELECT elt.alter_stream('mal.steal', for_each => 'SELECT (_elt_record->>''user_id'')::int AS id FROM staging.fo_orders');
SELECT pg_temp.try($$SELECT elt.extract('mal.steal')$$);
RESET ROLE;
-- a superuser running mallory's stream: still mallory's rights
SELECT pg_temp.try($$SELECT elt.extract('mal.steal')$$);
SELECT count(*) FROM elt.batch WHERE stream = 'mal.steal' AND status = 'succeeded';
-- nor leave a setting behind in the session of whoever runs it
SET ROLE fan_mallory;
SELECT elt.alter_stream('mal.steal', for_each => $$SELECT 1 AS id, set_config('search_path', 'mal_schema, public', false) AS sp, set_config('work_mem', '64kB', false) AS wm$$);
RESET ROLE;
SELECT current_setting('search_path') AS search_path_before, current_setting('work_mem') AS work_mem_before;
SELECT records FROM elt.extract('mal.steal');
SELECT current_setting('search_path') AS search_path_after, current_setting('work_mem') AS work_mem_after;

DELETE FROM elt.batch WHERE owner = 'fan_mallory'::regrole;
SELECT elt.drop_source('mal', cascade => true);
DROP OWNED BY fan_mallory;
DROP ROLE fan_mallory;
SELECT elt.drop_source('fo', cascade => true), elt.drop_source('fo_h', cascade => true),
	   elt.drop_source('fo_rl', cascade => true);
DROP SCHEMA fan CASCADE;

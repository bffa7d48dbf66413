-- pg_elt demo, part 2: extract and load.  Two APIs of the mock server are
-- staged: randomuser-like users (page paging) and a shop's orders
-- (incremental on updated_at, cursor paging).
\getenv mock_port MOCK_API_PORT
SELECT 'http://127.0.0.1:' || :'mock_port' AS api \gset
-- start from scratch when run again
\o /dev/null
SET client_min_messages = warning;
SELECT elt.drop_source(name, cascade => true) FROM elt.source WHERE name IN ('randomuser', 'shop');
DROP TABLE IF EXISTS staging.randomuser_users, staging.shop_orders, staging.shop_user_orders,
	staging.shop_search CASCADE;
SELECT status FROM elt.http('POST', :'api' || '/_control/orders/reset');
RESET client_min_messages;
\o

\echo
\echo '== a source and a stream: 3 pages of 100 users at $.results, 4 pages in flight'
SELECT elt.create_source('randomuser', :'api', options => '{"concurrency": 4, "max_attempts": 5, "backoff": "200 ms"}');
SELECT elt.create_stream('randomuser', 'users', '/api', params => '{"results": 100, "seed": "pgelt"}',
						 records => '$.results', pagination => '{"type": "page", "max_pages": 3}',
						 primary_key => '{login.uuid}');
SELECT stream, pagination, target FROM elt.streams WHERE source = 'randomuser';

\echo '== elt.extract: all pages, streamed into staging.randomuser_users in one transaction'
SELECT batch_id, pages, records, pg_size_pretty(bytes) AS received FROM elt.extract('randomuser.users');
SELECT count(*) AS users, count(DISTINCT _elt_record #>> '{login,uuid}') AS distinct_users
  FROM staging.randomuser_users;
SELECT _elt_batch_id, _elt_record #>> '{name,first}' AS first, _elt_record #>> '{name,last}' AS last,
	   _elt_record ->> 'email' AS email, _elt_record #>> '{location,country}' AS country
  FROM staging.randomuser_users LIMIT 3;

\echo '== an incremental stream: the orders feed, cursor paging, updated_since'
SELECT elt.create_source('shop', :'api');
SELECT elt.create_stream('shop', 'orders', '/orders', params => '{"limit": 50}', records => '$.orders',
						 pagination => '{"type": "cursor", "cursor_path": "$.next_cursor", "param": "cursor"}',
						 incremental => '{"cursor_field": "$.updated_at", "param": "updated_since"}',
						 primary_key => '{order_id}');
SELECT pages, records FROM elt.extract('shop.orders');
SELECT cursor_value AS highest_updated_at FROM elt.stream WHERE source = 'shop';

\echo '== nothing changed: the next run asks only for orders updated since the cursor'
SELECT pages, records FROM elt.extract('shop.orders');

\echo '== the shop changes 5 orders and takes 3 new ones: only those 8 come in'
SELECT (body::jsonb)->'updated' AS updated, (body::jsonb)->'new' AS new
  FROM elt.http('POST', :'api' || '/_control/orders/advance?updated=5&new=3');
SELECT pages, records FROM elt.extract('shop.orders');
SELECT count(*) AS rows, count(DISTINCT _elt_record ->> 'order_id') AS orders FROM staging.shop_orders;
SELECT _elt_record ->> 'order_id' AS order_id, _elt_record ->> 'status' AS status,
	   _elt_record ->> 'amount' AS amount, _elt_record ->> 'updated_at' AS updated_at
  FROM staging.shop_orders ORDER BY _elt_batch_id DESC, (_elt_record ->> 'order_id')::int LIMIT 4;

\echo '== every extract is in elt.batch, with its cursor before and after'
SELECT batch_id, stream, status, pages, records, cursor_before, cursor_after
  FROM elt.batch WHERE stream IN ('randomuser.users', 'shop.orders') ORDER BY batch_id;

\echo '== a typed view over the staging table, inferred from the records'
SELECT elt.infer_view('shop.orders', 'staging.shop_orders_v');
SELECT order_id, status, amount, ordered_at, updated_at FROM staging.shop_orders_v ORDER BY order_id LIMIT 3;

\echo '== fan-out: the orders of every user (/users/{id}/orders), one child per row of a query, in one batch'
SELECT elt.create_stream('shop', 'user_orders', '/users/{id}/orders', params => '{"per_page": 2}',
						 records => '$.orders', pagination => '{"type": "page"}',
						 for_each => 'SELECT id FROM generate_series(1, 20) id');
SELECT pages, records FROM elt.extract('shop.user_orders');
SELECT _elt_parent, _elt_record ->> 'order_id' AS order_id, _elt_record ->> 'amount' AS amount
  FROM staging.shop_user_orders ORDER BY (_elt_parent ->> 'id')::int, _elt_record ->> 'order_id' LIMIT 4;

\echo '== a POST search, paged by the page number in its body'
SELECT elt.create_stream('shop', 'search', '/search', method => 'POST',
						 body => '{"query": "lamp", "per_page": 10, "total": 25}',
						 records => '$.results', pagination => '{"type": "page", "in": "body"}');
SELECT pages, records FROM elt.extract('shop.search');

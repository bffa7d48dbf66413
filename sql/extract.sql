-- elt.extract against the mock API: every paging kind, format, auth kind,
-- retry rule and failure mode; exactly-once loading and incremental state.

\i test/regress/helpers.sql
SET test.try_detail = on;
SET test.try_context = 'extract of stream [^\n]*';

-- The last batch of a stream, without the parts that vary between runs.
CREATE FUNCTION pg_temp.last_batch(s text)
RETURNS TABLE (status text, pages int, records bigint, requests int, retries int,
			   cursor_before text, cursor_after text, error text, error_code text)
LANGUAGE sql AS $$
	SELECT status, pages, records, requests, retries, cursor_before, cursor_after,
		   regexp_replace(error, '127\.0\.0\.1:[0-9]+', '127.0.0.1:PORT', 'g'), error_code
	  FROM elt.batch WHERE stream = s ORDER BY batch_id DESC LIMIT 1
$$;

SELECT elt.create_source('xt', :'base', options => '{"backoff": "10 ms", "max_backoff": "50 ms", "concurrency": 4}');

-- page paging: concurrent requests, loaded in order, stop at the total
SELECT elt.create_stream('xt', 'page', '/users/page', params => '{"total": 250}', records => '$.data',
						 pagination => '{"type": "page", "size_param": "per_page", "size": 100, "total_path": "$.total"}');
SELECT pages, records, bytes > 0 AS has_bytes, elapsed > '0' AS timed FROM elt.extract('xt.page');
SELECT count(*), count(DISTINCT _elt_record #>> '{login,uuid}') AS distinct_users,
	   count(DISTINCT _elt_batch_id) AS batches, bool_and(_elt_loaded_at IS NOT NULL) AS stamped
  FROM staging.xt_page;
SELECT * FROM pg_temp.last_batch('xt.page');
-- the staging table's BRIN index on the batch id summarizes block ranges as
-- they fill, so that reading the newest batches does not scan the table
SELECT c.relname, am.amname, c.reloptions
  FROM pg_catalog.pg_index AS i JOIN pg_catalog.pg_class AS c ON c.oid = i.indexrelid
  JOIN pg_catalog.pg_am AS am ON am.oid = c.relam
 WHERE i.indrelid = 'staging.xt_page'::regclass;

-- without a total: until the first empty page
SELECT elt.create_stream('xt', 'page_empty', '/users/page', params => '{"total": 250}', records => '$.data',
						 pagination => '{"type": "page", "size_param": "per_page", "size": 100}');
SELECT pages, records FROM elt.extract('page_empty');

-- randomuser style: never empty, bounded by max_pages; pages start at 1
SELECT elt.create_stream('xt', 'api', '/api', params => '{"results": 40, "seed": "regress"}',
						 records => '$.results', pagination => '{"type": "page", "max_pages": 3}');
SELECT pages, records FROM elt.extract('api');
SELECT count(DISTINCT _elt_record #>> '{login,uuid}') FROM staging.xt_api;

-- offset paging, with and without a total
SELECT elt.create_stream('xt', 'offset', '/users/offset', params => '{"total": 95}', records => '$.items',
						 pagination => '{"type": "offset", "limit": 20, "total_path": "$.total"}');
SELECT pages, records FROM elt.extract('offset');
SELECT elt.create_stream('xt', 'offset_empty', '/users/offset', params => '{"total": 95}', records => '$.items',
						 pagination => '{"type": "offset", "limit": 50}');
SELECT pages, records FROM elt.extract('offset_empty');

-- cursor in the body, next URL in the body, RFC 8288 Link header
SELECT elt.create_stream('xt', 'cursor', '/users/cursor', params => '{"total": 95, "limit": 30}', records => '$.records',
						 pagination => '{"type": "cursor", "cursor_path": "$.next_cursor", "param": "cursor"}');
SELECT pages, records FROM elt.extract('cursor');
SELECT elt.create_stream('xt', 'next', '/users/next', params => '{"total": 95, "limit": 30}', records => '$.results',
						 pagination => '{"type": "next_url", "path": "$.next"}');
SELECT pages, records FROM elt.extract('next');
SELECT elt.create_stream('xt', 'link', '/users/link', params => '{"total": 95, "per_page": 30}',
						 pagination => '{"type": "link_header"}');
SELECT pages, records FROM elt.extract('link');
SELECT elt.create_stream('xt', 'link_max', '/users/link', params => '{"total": 95, "per_page": 30}',
						 pagination => '{"type": "link_header", "max_pages": 2}');
SELECT pages, records FROM elt.extract('link_max');
-- the same records whatever the paging
SELECT (SELECT array_agg(_elt_record #>> '{login,uuid}' ORDER BY 1) FROM staging.xt_cursor)
	 = (SELECT array_agg(_elt_record #>> '{login,uuid}' ORDER BY 1) FROM staging.xt_link) AS same;

-- a repeated cursor or URL is an error, not an endless loop; nothing is kept
SELECT elt.create_stream('xt', 'endless_cursor', '/users/endless', records => '$.results',
						 pagination => '{"type": "cursor", "cursor_path": "$.next_cursor", "param": "cursor"}');
SELECT pg_temp.try($$SELECT elt.extract('endless_cursor')$$);
SELECT elt.create_stream('xt', 'endless_next', '/users/endless', records => '$.results',
						 pagination => '{"type": "next_url", "path": "$.next"}');
SELECT pg_temp.try($$SELECT elt.extract('endless_next')$$);
SELECT elt.create_stream('xt', 'endless_link', '/users/endless_link', pagination => '{"type": "link_header"}');
SELECT pg_temp.try($$SELECT elt.extract('endless_link')$$);
SELECT to_regclass('staging.xt_endless_cursor') AS cursor_table, to_regclass('staging.xt_endless_link') AS link_table;
SELECT * FROM pg_temp.last_batch('xt.endless_link');

-- formats: NDJSON and CSV (header names become keys)
SELECT elt.create_stream('xt', 'ndjson', '/api', params => '{"results": 25, "format": "ndjson"}', format => 'ndjson');
SELECT pages, records FROM elt.extract('ndjson');
SELECT elt.create_stream('xt', 'csv', '/users/page', params => '{"total": 30, "per_page": 30, "format": "csv"}', format => 'csv');
SELECT pages, records FROM elt.extract('csv');
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(_elt_record) k) AS keys
  FROM staging.xt_csv LIMIT 1;

-- auth: bearer, API key in a header and in the query, basic, OAuth2
SELECT elt.set_secret('xt_token', 'test-token'), elt.set_secret('xt_key', 'test-key'),
	   elt.set_secret('xt_password', 's3cret'), elt.set_secret('xt_client', 'client-secret'),
	   elt.set_secret('xt_wrong', 'wrong-value');
SELECT elt.create_source('xt_bearer', :'base', auth => '{"type": "bearer", "token": "{{secret:xt_token}}"}');
SELECT elt.create_stream('xt_bearer', 'users', '/auth/bearer/users', records => '$.data');
SELECT pages, records FROM elt.extract('xt_bearer.users');
SELECT elt.create_source('xt_key_h', :'base', auth => '{"type": "api_key", "name": "X-Api-Key", "value": "{{secret:xt_key}}"}');
SELECT elt.create_stream('xt_key_h', 'users', '/auth/api_key/users', records => '$.data');
SELECT pages, records FROM elt.extract('xt_key_h.users');
SELECT elt.create_source('xt_key_q', :'base', auth => '{"type": "api_key", "name": "api_key", "in": "query", "value": "{{secret:xt_key}}"}');
SELECT elt.create_stream('xt_key_q', 'users', '/auth/api_key/users', records => '$.data',
						 pagination => '{"type": "page", "size_param": "per_page", "size": 4, "max_pages": 2}');
SELECT pages, records FROM elt.extract('xt_key_q.users');
SELECT elt.create_source('xt_basic', :'base', auth => '{"type": "basic", "username": "alice", "password": "{{secret:xt_password}}"}');
SELECT elt.create_stream('xt_basic', 'users', '/auth/basic/users', records => '$.data');
SELECT pages, records FROM elt.extract('xt_basic.users');
SELECT elt.create_source('xt_oauth', :'base', auth => '{"type": "oauth2_client_credentials",
	"token_url": "/oauth/token", "client_id": "client", "client_secret": "{{secret:xt_client}}"}');
SELECT elt.create_stream('xt_oauth', 'users', '/auth/oauth/users', records => '$.data',
						 pagination => '{"type": "page", "size_param": "per_page", "size": 40, "total_path": "$.total"}');
SELECT (body::jsonb)->'tokens_issued' AS tokens_before FROM elt.http_get(:'base' || '/_control/oauth') \gset
SELECT pages, records FROM elt.extract('xt_oauth.users');
SELECT pages, records FROM elt.extract('xt_oauth.users');
-- the token is cached: one token for both runs
SELECT ((body::jsonb)->>'tokens_issued')::int - :tokens_before AS tokens_fetched FROM elt.http_get(:'base' || '/_control/oauth');
-- revoked: the 401 is answered by fetching a new token, once
SELECT status FROM elt.http('POST', :'base' || '/_control/oauth/revoke');
SELECT pages, records FROM elt.extract('xt_oauth.users');
SELECT ((body::jsonb)->>'tokens_issued')::int - :tokens_before AS tokens_fetched FROM elt.http_get(:'base' || '/_control/oauth');
-- wrong credentials: 4xx fails at once; the secret value appears nowhere
SELECT elt.create_source('xt_wrong', :'base', auth => '{"type": "api_key", "name": "api_key", "in": "query", "value": "{{secret:xt_wrong}}"}');
SELECT elt.create_stream('xt_wrong', 'users', '/auth/api_key/users', records => '$.data');
SELECT pg_temp.try($$SELECT elt.extract('xt_wrong.users')$$);
SELECT * FROM pg_temp.last_batch('xt_wrong.users');
SELECT count(*) AS leaks FROM elt.batch WHERE error LIKE '%wrong-value%' OR error LIKE '%test-key%';
SELECT elt.create_source('xt_oauth_bad', :'base', auth => '{"type": "oauth2_client_credentials",
	"token_url": "/oauth/token", "client_id": "client", "client_secret": "{{secret:xt_wrong}}"}');
SELECT elt.create_stream('xt_oauth_bad', 'users', '/auth/oauth/users', records => '$.data');
SELECT pg_temp.try($$SELECT elt.extract('xt_oauth_bad.users')$$);
SELECT elt.create_source('xt_nosecret', :'base', auth => '{"type": "bearer", "token": "{{secret:xt_missing}}"}');
SELECT elt.create_stream('xt_nosecret', 'users', '/auth/bearer/users', records => '$.data');
SELECT pg_temp.try($$SELECT elt.extract('xt_nosecret.users')$$);

-- retries: 5xx and 429 are retried (honouring Retry-After), other 4xx are not
SELECT elt.create_stream('xt', 'retry500', '/users/page', records => '$.data',
						 params => '{"total": 30, "fail": 500, "fail_page": 1, "fail_times": 2, "fail_key": "regress-retry500"}',
						 pagination => '{"type": "page", "size_param": "per_page", "size": 10, "total_path": "$.total"}');
SELECT pages, records FROM elt.extract('retry500');
SELECT * FROM pg_temp.last_batch('xt.retry500');
SELECT elt.create_stream('xt', 'retry429', '/users/page', records => '$.data',
						 params => '{"total": 10, "fail": 429, "fail_times": 1, "retry_after": 1, "fail_key": "regress-retry429"}');
SELECT pages, records, elapsed >= '1 second' AS waited_retry_after FROM elt.extract('retry429');
SELECT elt.create_source('xt_two', :'base', options => '{"backoff": "10 ms", "max_attempts": 2, "timeout": "1 second"}');
SELECT elt.create_stream('xt_two', 'always503', '/users/page', records => '$.data', params => '{"fail": 503, "retry_after": 0}');
SELECT pg_temp.try($$SELECT elt.extract('xt_two.always503')$$);
SELECT * FROM pg_temp.last_batch('xt_two.always503');
SELECT elt.create_stream('xt', 'missing', '/no/such/endpoint', records => '$.data');
SELECT pg_temp.try($$SELECT elt.extract('xt.missing')$$);
SELECT * FROM pg_temp.last_batch('xt.missing');
-- no data for longer than the timeout: retried, then a timeout error
SELECT elt.create_stream('xt_two', 'slow', '/users/page', records => '$.data', params => '{"delay": 3000}');
SELECT pg_temp.try($$SELECT elt.extract('xt_two.slow')$$);
SELECT status, requests, retries, error_code FROM pg_temp.last_batch('xt_two.slow');

-- a connection dropped mid-body is retried; the page is loaded once
SELECT elt.create_stream('xt', 'drop', '/users/page', records => '$.data',
						 params => '{"total": 300, "drop": 20000, "fail_page": 2, "fail_times": 1, "fail_key": "regress-drop"}',
						 pagination => '{"type": "page", "size_param": "per_page", "size": 100, "total_path": "$.total"}');
SELECT pages, records FROM elt.extract('drop');
SELECT count(*), count(DISTINCT _elt_record #>> '{login,uuid}') FROM staging.xt_drop;
SELECT * FROM pg_temp.last_batch('xt.drop');

-- malformed input mid-stream: an error naming the page and the byte;
-- nothing of the batch remains
SELECT elt.create_stream('xt', 'malformed', '/users/page', records => '$.data',
						 params => '{"total": 300, "malformed": 5000, "malformed_page": 2}',
						 pagination => '{"type": "page", "size_param": "per_page", "size": 100, "total_path": "$.total"}');
SELECT pg_temp.try($$SELECT elt.extract('malformed')$$);
SELECT to_regclass('staging.xt_malformed') AS table_left;
SELECT * FROM pg_temp.last_batch('xt.malformed');
-- the same against an existing table: its rows are untouched
SELECT elt.alter_stream('xt.malformed', target => 'staging.xt_drop');
SELECT pg_temp.try($$SELECT elt.extract('malformed')$$);
SELECT count(*) FROM staging.xt_drop;
SELECT elt.create_stream('xt', 'malformed_ndjson', '/api', format => 'ndjson',
						 params => '{"results": 50, "format": "ndjson", "malformed": 3000}');
SELECT pg_temp.try($$SELECT elt.extract('malformed_ndjson')$$);

-- rate limit: requests per second for the source
SELECT elt.create_source('xt_rate', :'base', options => '{"rate_limit": 5, "concurrency": 4}');
SELECT elt.create_stream('xt_rate', 'users', '/users/page', records => '$.data', params => '{"total": 50}',
						 pagination => '{"type": "page", "size_param": "per_page", "size": 10, "total_path": "$.total"}');
SELECT pages, records, elapsed >= '750 ms' AS paced FROM elt.extract('xt_rate.users');

-- incremental: the cursor is the highest value loaded, sent on the next run
SELECT status FROM elt.http('POST', :'base' || '/_control/orders/reset');
SELECT elt.create_stream('xt', 'orders', '/orders', params => '{"limit": 50}', records => '$.orders',
						 pagination => '{"type": "cursor", "cursor_path": "$.next_cursor", "param": "cursor"}',
						 incremental => '{"cursor_field": "$.updated_at", "param": "updated_since"}',
						 primary_key => '{order_id}');
SELECT pages, records FROM elt.extract('xt.orders');
SELECT * FROM pg_temp.last_batch('xt.orders');
SELECT pages, records FROM elt.extract('xt.orders');
SELECT * FROM pg_temp.last_batch('xt.orders');
SELECT (body::jsonb) - 'clock' AS advanced FROM elt.http('POST', :'base' || '/_control/orders/advance?updated=5&new=3');
SELECT pages, records FROM elt.extract('xt.orders');
SELECT * FROM pg_temp.last_batch('xt.orders');
SELECT count(*), count(DISTINCT _elt_record->>'order_id') FROM staging.xt_orders;
-- a rolled back extract leaves no rows and the cursor where it was
SELECT status FROM elt.http('POST', :'base' || '/_control/orders/advance?updated=2&new=0');
BEGIN;
SELECT pages, records FROM elt.extract('xt.orders');
ROLLBACK;
SELECT cursor_value FROM elt.stream WHERE source = 'xt' AND name = 'orders';
SELECT count(*) FROM staging.xt_orders;
SELECT pages, records FROM elt.extract('xt.orders');
-- full refresh ignores the cursor; lag moves the value sent back in time
SELECT pages, records FROM elt.extract('xt.orders', full_refresh => true);
SELECT * FROM pg_temp.last_batch('xt.orders');
SELECT elt.alter_stream('xt.orders', incremental => '{"cursor_field": "$.updated_at", "param": "updated_since", "lag": "1 day", "initial": "2024-12-29T00:00:00Z"}');
SELECT pages, records FROM elt.extract('xt.orders');
SELECT * FROM pg_temp.last_batch('xt.orders');
SELECT pages, records FROM elt.extract('xt.orders');

-- targets: a chosen name (quoted parts), an existing table with more
-- columns, tables the loader refuses
SELECT elt.create_stream('xt', 'odd', '/users/page', records => '$.data', params => '{"total": 5}',
						 target => 'xt_raw."Odd ""Users"""');
SELECT pages, records FROM elt.extract('xt.odd');
SELECT count(*) FROM xt_raw."Odd ""Users""";
CREATE TABLE staging.xt_wide (id bigserial PRIMARY KEY, _elt_record jsonb NOT NULL, note text DEFAULT 'new',
							  _elt_loaded_at timestamptz NOT NULL, _elt_batch_id bigint NOT NULL,
							  CHECK (jsonb_typeof(_elt_record) = 'object'));
CREATE INDEX ON staging.xt_wide ((_elt_record->>'email'));
SELECT elt.create_stream('xt', 'wide', '/users/page', records => '$.data', params => '{"total": 25}', target => 'staging.xt_wide');
SELECT pages, records FROM elt.extract('xt.wide');
SELECT count(*), min(id), max(id), min(note), count(DISTINCT _elt_record->>'email') FROM staging.xt_wide;
SET enable_seqscan = off;
SELECT count(*) FROM staging.xt_wide WHERE _elt_record->>'email' = (SELECT _elt_record->>'email' FROM staging.xt_wide LIMIT 1);
RESET enable_seqscan;
CREATE TABLE staging.xt_bad (_elt_batch_id int, _elt_loaded_at timestamptz, _elt_record jsonb);
SELECT elt.alter_stream('xt.wide', target => 'staging.xt_bad');
SELECT pg_temp.try($$SELECT elt.extract('xt.wide')$$);
CREATE TABLE staging.xt_trig (LIKE staging.xt_page);
CREATE FUNCTION pg_temp.t() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER t BEFORE INSERT ON staging.xt_trig FOR EACH ROW EXECUTE FUNCTION pg_temp.t();
SELECT elt.alter_stream('xt.wide', target => 'staging.xt_trig');
SELECT pg_temp.try($$SELECT elt.extract('xt.wide')$$);
CREATE VIEW staging.xt_view AS SELECT * FROM staging.xt_page;
SELECT elt.alter_stream('xt.wide', target => 'staging.xt_view');
SELECT pg_temp.try($$SELECT elt.extract('xt.wide')$$);

-- bad calls
SELECT pg_temp.try($$SELECT elt.extract(NULL)$$);
SELECT pg_temp.try($$SELECT elt.extract('no_such_stream')$$);
SELECT pages, records FROM elt.extract('xt.page', NULL);

-- a stream belongs to its owner: another role neither sees nor runs it
CREATE ROLE xt_user;
GRANT USAGE ON SCHEMA staging TO xt_user;
GRANT EXECUTE ON FUNCTION elt.extract(text, boolean) TO xt_user;
SET ROLE xt_user;
SELECT pg_temp.try($$SELECT elt.extract('xt.page')$$);
SELECT count(*) AS streams_seen, (SELECT count(*) FROM elt.batch) AS batches_seen FROM elt.streams;
RESET ROLE;
-- it is handed over only to a role that may use its source and write its target
SELECT pg_temp.try($$UPDATE elt.stream SET owner = 'xt_user' WHERE source = 'xt' AND name = 'page'$$);
UPDATE elt.source SET owner = 'xt_user' WHERE name = 'xt';
SELECT pg_temp.try($$UPDATE elt.stream SET owner = 'xt_user' WHERE source = 'xt' AND name = 'page'$$);
GRANT INSERT ON staging.xt_page TO xt_user;
UPDATE elt.stream SET owner = 'xt_user' WHERE source = 'xt' AND name = 'page';
SET ROLE xt_user;
SELECT stream, owner FROM elt.streams ORDER BY stream;
SELECT pages, records FROM elt.extract('xt.page');
RESET ROLE;
-- a superuser's extract of it still runs as its owner
SELECT pages, records FROM elt.extract('xt.page');
SELECT stream, owner, username = current_user AS run_by_me, status FROM elt.batch
 WHERE stream = 'xt.page' ORDER BY batch_id DESC LIMIT 2;
SELECT pg_catalog.pg_get_userbyid(c.relowner) = current_user AS staging_owned_by_me
  FROM pg_catalog.pg_class c WHERE c.oid = 'staging.xt_page'::regclass;

-- the function that hands a load into a Citus table its rows serves only
-- that load's own statement: called by anyone else, with any token, or by
-- a superuser outside an extract, it is refused
SET ROLE xt_user;
SELECT pg_temp.try($$SELECT * FROM elt._load_rows(0) AS u (r jsonb)$$);
SELECT pg_temp.try($$SELECT * FROM elt._load_rows(NULL) AS u (r jsonb)$$);
RESET ROLE;
SELECT pg_temp.try($$SELECT * FROM elt._load_rows(42) AS u (r jsonb, p jsonb)$$);

-- every batch of this file is in elt.batch, failures included
SELECT status, count(*) FROM elt.batch WHERE stream LIKE 'xt%' GROUP BY status ORDER BY status;
SELECT count(*) AS running FROM elt.batch WHERE status = 'running';

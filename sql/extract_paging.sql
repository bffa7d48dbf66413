-- Paging habits of real servers: Link fields on several lines and the
-- RFC 8288 grammar, servers that clamp a page past the end, parameters
-- named in params and by the paging, totals in headers, why each extract
-- stopped, a user's own next-request paging, and errors that are not
-- worth a retry.

\i test/regress/helpers.sql
SET test.try_detail = on;

-- The last batch of a stream, without the parts that vary between runs.
CREATE FUNCTION pg_temp.last_batch(s text)
RETURNS TABLE (status text, pages int, records bigint, stop_reason text, error_code text)
LANGUAGE sql AS $$
	SELECT status, pages, records, stop_reason, error_code
	  FROM elt.batch WHERE stream = s ORDER BY batch_id DESC LIMIT 1
$$;

-- RFC 8288 Link headers: every field joined by ", ", only the first rel of
-- a link counts, rel only as a parameter name, white space around "=".
SELECT h AS header, elt._link_header_next(h) AS next
  FROM unnest(ARRAY[
	'<http://a.test/p2>; rel="next"',
	'<p2>; rel=next',
	'<p2>; REL="NEXT"',
	'<p2>; rel="prev next"',
	E'<p2>;\trel=\t"next"',
	E'<p2>\t;\trel\t=\tnext',
	'<p2> ; rel = "next"',
	'<p1>; rel="prev", <p2>; rel="next"',
	'<p1>; rel=prev,<p2>;rel=next',
	'<p1>; rel="prev"; rel="next"',
	'<p1>; title="see rel=next", <p2>; rel="prev"',
	'<p1>; x-rel=next',
	'<p1>; relnext=1; rel=last',
	'<p1>; rel="nextpage"',
	'<p1>; title="a, b"; rel=prev, <p2>; title="c"; rel=next',
	'<p1>; title="say \"rel=next\", ok"; rel=prev, <p2>; rel="next"',
	'<http://a.test/p?x=1,2;y=3>; rel=next',
	'garbage; rel=next, <p2>; rel=next',
	'<p1>; rel, <p2>; rel=next',
	'<p2>; anchor="#x"; rel="next"; type="text/html"',
	'<p2>; rel="next',
	'',
	'<p2>'
]) AS h;

SELECT elt.create_source('pq', :'base', options => '{"backoff": "10 ms", "max_backoff": "50 ms", "concurrency": 4}');

-- Link fields one per header line, rel="prev" first: every page is read
SELECT elt.create_stream('pq', 'split_links', '/quirks/split_links', params => '{"total": 25, "per_page": 10}',
						 pagination => '{"type": "link_header"}');
SELECT pages, records FROM elt.extract('pq.split_links');
SELECT count(DISTINCT _elt_record #>> '{login,uuid}') FROM staging.pq_split_links;
SELECT * FROM pg_temp.last_batch('pq.split_links');

-- json-server 1.x: a page past the end is the last page again.  The page
-- and size parameters are also in params: they are replaced, not repeated
-- (the server refuses a parameter sent twice).
SELECT elt.create_stream('pq', 'clamp', '/quirks/clamp', params => '{"total": 25, "_page": 1, "_per_page": 100}',
						 records => '$.data',
						 pagination => '{"type": "page", "param": "_page", "size_param": "_per_page", "size": 10}');
SELECT pages, records FROM elt.extract('pq.clamp');
SELECT count(*), count(DISTINCT _elt_record #>> '{login,uuid}') AS distinct_users FROM staging.pq_clamp;
SELECT * FROM pg_temp.last_batch('pq.clamp');
-- full last page, many pages in flight
SELECT elt.create_stream('pq', 'clamp_full', '/quirks/clamp', params => '{"total": 30}',
						 records => '$.data',
						 pagination => '{"type": "page", "param": "_page", "size_param": "_per_page", "size": 10}');
SELECT pages, records FROM elt.extract('pq.clamp_full');
SELECT count(*), count(DISTINCT _elt_record #>> '{login,uuid}') AS distinct_users FROM staging.pq_clamp_full;
SELECT * FROM pg_temp.last_batch('pq.clamp_full');
-- a one-page data set
SELECT elt.create_stream('pq', 'clamp_one', '/quirks/clamp', params => '{"total": 3}',
						 records => '$.data',
						 pagination => '{"type": "page", "param": "_page", "size_param": "_per_page", "size": 10}');
SELECT pages, records FROM elt.extract('pq.clamp_one');
SELECT * FROM pg_temp.last_batch('pq.clamp_one');

-- json-server 0.17: totals in headers only
SELECT elt.create_stream('pq', 'v017_count', '/quirks/v017', params => '{"total": 25}',
						 pagination => '{"type": "page", "param": "_page", "size_param": "_limit", "size": 10,
										 "total_header": "X-Total-Count"}');
SELECT pages, records FROM elt.extract('pq.v017_count');
SELECT * FROM pg_temp.last_batch('pq.v017_count');
SELECT elt.create_stream('pq', 'v017_pages', '/quirks/v017', params => '{"total": 25, "_limit": 10}',
						 pagination => '{"type": "page", "param": "_page", "total_pages_header": "x-total-pages"}');
SELECT pages, records FROM elt.extract('pq.v017_pages');
SELECT * FROM pg_temp.last_batch('pq.v017_pages');
SELECT elt.create_stream('pq', 'v017_start', '/quirks/v017', params => '{"total": 45}',
						 pagination => '{"type": "offset", "offset_param": "_start", "limit_param": "_limit",
										 "limit": 20, "total_header": "X-Total-Count"}');
SELECT pages, records FROM elt.extract('pq.v017_start');
SELECT * FROM pg_temp.last_batch('pq.v017_start');
-- a response without the header: the total stays unknown
SELECT elt.create_stream('pq', 'v017_offset', '/users/offset', params => '{"total": 45}', records => '$.items',
						 pagination => '{"type": "offset", "limit": 20, "total_header": "X-Total-Count"}');
SELECT pages, records FROM elt.extract('pq.v017_offset');
SELECT * FROM pg_temp.last_batch('pq.v017_offset');
-- a header that holds no count
SELECT elt.create_stream('pq', 'bad_count', '/quirks/v017', params => '{"total": 25}',
						 pagination => '{"type": "page", "param": "_page", "total_header": "Content-Type"}');
SELECT pg_temp.try($$SELECT * FROM elt.extract('pq.bad_count')$$);
SELECT * FROM pg_temp.last_batch('pq.bad_count');
SELECT to_regclass('staging.pq_bad_count') AS nothing_left;

-- why it stopped: an empty page, max_pages (with a WARNING), no next link
SELECT elt.create_stream('pq', 'empty', '/users/page', params => '{"total": 25, "per_page": 10}',
						 records => '$.data', pagination => '{"type": "page"}');
SELECT pages, records FROM elt.extract('pq.empty');
SELECT * FROM pg_temp.last_batch('pq.empty');
SELECT elt.create_stream('pq', 'capped', '/users/page', params => '{"total": 250, "per_page": 10}',
						 records => '$.data', pagination => '{"type": "page", "max_pages": 2}');
SELECT pages, records FROM elt.extract('pq.capped');
SELECT * FROM pg_temp.last_batch('pq.capped');
SELECT elt.create_stream('pq', 'capped_link', '/quirks/split_links', params => '{"total": 25, "per_page": 10}',
						 pagination => '{"type": "link_header", "max_pages": 2}');
SELECT pages, records FROM elt.extract('pq.capped_link');
SELECT * FROM pg_temp.last_batch('pq.capped_link');
-- max_pages that is just enough: no WARNING
SELECT elt.create_stream('pq', 'capped_exact', '/quirks/split_links', params => '{"total": 25, "per_page": 10}',
						 pagination => '{"type": "link_header", "max_pages": 3}');
SELECT pages, records FROM elt.extract('pq.capped_exact');
SELECT * FROM pg_temp.last_batch('pq.capped_exact');
SELECT elt.create_stream('pq', 'single', '/users/page', params => '{"total": 5}', records => '$.data');
SELECT pages, records FROM elt.extract('pq.single');
SELECT * FROM pg_temp.last_batch('pq.single');
SELECT elt.create_stream('pq', 'missing', '/status/404');
SELECT pg_temp.try($$SELECT * FROM elt.extract('pq.missing')$$);
SELECT * FROM pg_temp.last_batch('pq.missing');

-- next_request: the value at a path, sent as a parameter or a header
SELECT elt.create_stream('pq', 'token_param', '/quirks/token', params => '{"total": 25, "limit": 10}',
						 records => '$.items',
						 pagination => '{"type": "next_request", "path": "$.meta.next_token", "param": "token"}');
SELECT pages, records FROM elt.extract('pq.token_param');
SELECT count(DISTINCT _elt_record #>> '{login,uuid}') FROM staging.pq_token_param;
SELECT * FROM pg_temp.last_batch('pq.token_param');
SELECT elt.create_stream('pq', 'token_header', '/quirks/token', params => '{"total": 25, "limit": 10, "via": "header"}',
						 records => '$.items',
						 pagination => '{"type": "next_request", "path": "$.meta.next_token", "header": "X-Page-Token"}');
SELECT pages, records FROM elt.extract('pq.token_header');
SELECT * FROM pg_temp.last_batch('pq.token_header');
-- max_pages cuts a next_request stream short: a WARNING
SELECT elt.create_stream('pq', 'token_max', '/quirks/token', params => '{"total": 25, "limit": 10}',
						 records => '$.items',
						 pagination => '{"type": "next_request", "path": "$.meta.next_token", "param": "token", "max_pages": 1}');
SELECT pages, records FROM elt.extract('pq.token_max');

-- next_request with "body": the token set at a key of the request body of
-- a POST search (the keys above the last must be in the body)
SELECT elt.create_stream('pq', 'token_body', '/quirks/token_search', method => 'POST',
						 body => '{"query": "lamp", "limit": 10, "total": 25, "page": {"token": null}}',
						 records => '$.items',
						 pagination => '{"type": "next_request", "path": "$.meta.next_token", "body": "page.token"}');
SELECT pages, records FROM elt.extract('pq.token_body');
SELECT count(DISTINCT _elt_record #>> '{login,uuid}') FROM staging.pq_token_body;
SELECT * FROM pg_temp.last_batch('pq.token_body');
-- the last key is created when the body lacks it
SELECT elt.create_stream('pq', 'token_body_top', '/quirks/token_search', method => 'POST',
						 body => '{"query": "lamp", "limit": 10, "total": 25, "page": {}}',
						 records => '$.items',
						 pagination => '{"type": "next_request", "path": "$.meta.next_token", "body": "page.token", "max_pages": 2}');
SELECT pages, records FROM elt.extract('pq.token_body_top');
-- the API refuses the token elsewhere (here as a parameter): the batch
-- fails with the API's error and loads nothing
SELECT elt.create_stream('pq', 'token_body_wrong', '/quirks/token_search', method => 'POST',
						 body => '{"query": "lamp", "limit": 10, "total": 25, "page": {}}',
						 records => '$.items',
						 pagination => '{"type": "next_request", "path": "$.meta.next_token", "param": "token"}');
SELECT pg_temp.try($$SELECT * FROM elt.extract('pq.token_body_wrong')$$);
SELECT * FROM pg_temp.last_batch('pq.token_body_wrong');
SELECT to_regclass('staging.pq_token_body_wrong') IS NULL AS nothing_loaded;
-- a body key the API does not read: it answers the first page again, and
-- the repeated token fails the batch, nothing loaded
SELECT elt.create_stream('pq', 'token_body_ignored', '/quirks/token_search', method => 'POST',
						 body => '{"query": "lamp", "limit": 10, "total": 25, "page": {}}',
						 records => '$.items',
						 pagination => '{"type": "next_request", "path": "$.meta.next_token", "body": "cursor"}');
SELECT pg_temp.try($$SELECT * FROM elt.extract('pq.token_body_ignored')$$);
SELECT * FROM pg_temp.last_batch('pq.token_body_ignored');
SELECT to_regclass('staging.pq_token_body_ignored') IS NULL AS nothing_loaded;
-- a body key is checked against the body when the stream is written
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token_search',
	pagination => '{"type": "next_request", "path": "$.next", "body": "page.token"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token_search', method => 'POST',
	body => '{"query": "lamp"}',
	pagination => '{"type": "next_request", "path": "$.next", "body": "page.token"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token_search', method => 'POST',
	body => '{"query": "lamp", "page": "first"}',
	pagination => '{"type": "next_request", "path": "$.next", "body": "page.token"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token_search', method => 'POST',
	body => '[{"page": {}}]',
	pagination => '{"type": "next_request", "path": "$.next", "body": "page.token"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token_search', method => 'POST',
	body => '{"page": {}}',
	pagination => '{"type": "next_request", "path": "$.next", "body": "page..token"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token_search', method => 'POST',
	body => '{"page": {}}',
	pagination => '{"type": "next_request", "path": "$.next", "body": ""}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token_search', method => 'POST',
	body => '{"page": {}}',
	pagination => '{"type": "next_request", "path": "$.next", "body": "page.token", "param": "token"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token_search', method => 'POST',
	body => '{"page": {}}',
	pagination => '{"type": "next_request", "path": "$.next", "body": 7}')$$);
-- the same check for the keys of "in": "body" paging
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/graphql', method => 'POST',
	body => '{"query": "q"}',
	pagination => '{"type": "cursor", "cursor_path": "$.c", "param": "variables.after", "in": "body"}')$$);

-- settings are checked when the stream is written
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token',
	pagination => '{"type": "next_request", "path": "$.next", "param": "t", "header": "X-T"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token',
	pagination => '{"type": "next_request", "path": "$.next"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token',
	pagination => '{"type": "next_request", "param": "t"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token',
	pagination => '{"type": "next_request", "path": "$.next", "header": "X Token"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/token', format => 'csv',
	pagination => '{"type": "next_request", "path": "$.next", "header": "X-Token"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/v017',
	pagination => '{"type": "page", "total_header": "X-Total-Count", "total_path": "$.total"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/v017',
	pagination => '{"type": "page", "total_header": "X-Total-Count", "total_pages_header": "X-Total-Pages"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/v017',
	pagination => '{"type": "offset", "total_pages_header": "X-Total-Pages"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/v017',
	pagination => '{"type": "page", "total_header": "X-Total:Count"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('pq', 'bad', '/quirks/v017',
	pagination => '{"type": "cursor", "cursor_path": "$.c", "param": "c", "total_header": "X-Total-Count"}')$$);

-- Failures that would only repeat fail at once, whatever the backoff: a
-- name that does not resolve (a 64-byte label, which the resolver refuses
-- without sending a query) and an address the guard refuses.
SELECT 'http://' || repeat('a', 64) || '.example' AS unresolvable \gset
SELECT elt.create_source('pq_dns', :'unresolvable', options => '{"backoff": "5 seconds", "max_attempts": 5}');
SELECT elt.create_stream('pq_dns', 'users', '/users');
SELECT pg_temp.try($$SELECT * FROM elt.extract('pq_dns.users')$$);
SELECT status, requests, retries, error_code, stop_reason, finished_at - started_at < interval '4 seconds' AS at_once
  FROM elt.batch WHERE stream = 'pq_dns.users';
SELECT elt.alter_source('pq', options => '{"backoff": "5 seconds", "max_attempts": 5}');
SET pg_elt.allow_private_networks = off;
SELECT pg_temp.try($$SELECT * FROM elt.extract('pq.single')$$);
RESET pg_elt.allow_private_networks;
SELECT status, requests, retries, error_code, finished_at - started_at < interval '4 seconds' AS at_once
  FROM elt.batch WHERE stream = 'pq.single' ORDER BY batch_id DESC LIMIT 1;
SELECT elt.drop_source('pq_dns', cascade => true);
SELECT elt.drop_source('pq', cascade => true);

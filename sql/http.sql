-- elt.http and its shorthands against the mock API on loopback.
SET pg_elt.http_timeout = '20s';

\i test/regress/helpers.sql

-- connections are kept alive and reused across calls in a session
SELECT (body::jsonb)->'connection'->>'client_port' AS port,
	   ((body::jsonb)->'connection'->>'request')::int AS request
  FROM elt.http_get(:'base' || '/echo?first') \gset first_
SELECT :first_request AS first_request_on_its_connection;
SELECT ((body::jsonb)->'connection'->>'client_port') = :'first_port' AS same_connection,
	   ((body::jsonb)->'connection'->>'request')::int = :first_request + 1 AS next_request
  FROM elt.http_get(:'base' || '/echo?second');

-- GET: status, lower-case header names, body, elapsed time
SELECT status, headers->>'content-type' AS content_type,
	   (body::jsonb)->>'method' AS method, (body::jsonb)->'query' AS query,
	   (body::jsonb)->'headers'->>'user-agent' AS user_agent,
	   elapsed > '0'::interval AS timed
  FROM elt.http_get(:'base' || '/echo?a=1&b=two');

-- request headers, numbers and booleans as text; a custom User-Agent
SELECT (body::jsonb)->'headers'->>'x-custom' AS custom,
	   (body::jsonb)->'headers'->>'x-number' AS number,
	   (body::jsonb)->'headers'->>'x-flag' AS flag,
	   (body::jsonb)->'headers'->>'user-agent' AS user_agent
  FROM elt.http_get(:'base' || '/echo',
					'{"X-Custom": "hello world", "X-Number": 42, "X-Flag": true, "User-Agent": "report/1.0"}');

-- pg_elt.user_agent
SET pg_elt.user_agent = 'warehouse-loader/2';
SELECT (body::jsonb)->'headers'->>'user-agent' AS user_agent FROM elt.http_get(:'base' || '/echo');
RESET pg_elt.user_agent;

-- POST with a JSON body: Content-Type defaults to application/json
SELECT status, (body::jsonb)->>'method' AS method, (body::jsonb)->>'body' AS sent,
	   (body::jsonb)->'headers'->>'content-type' AS content_type
  FROM elt.http('POST', :'base' || '/echo', '{}', '{"name": "Zoë", "n": 1}');
-- a body that is not JSON is sent as text/plain; an explicit type wins
SELECT (body::jsonb)->'headers'->>'content-type' AS content_type
  FROM elt.http_post(:'base' || '/echo', 'plain words');
SELECT (body::jsonb)->'headers'->>'content-type' AS content_type, (body::jsonb)->>'body' AS sent
  FROM elt.http_post(:'base' || '/echo', 'a=1&b=2', '{"Content-Type": "application/x-www-form-urlencoded"}');

-- other methods
SELECT m, (body::jsonb)->>'method' AS echoed, (body::jsonb)->>'body' AS sent
  FROM unnest(ARRAY['PUT', 'patch', 'DELETE']) AS m,
	   LATERAL elt.http(m, :'base' || '/echo', '{}', CASE WHEN m = 'DELETE' THEN NULL ELSE '[1,2]' END);
-- HEAD: status and headers, no body
SELECT status, body IS NULL AS no_body, headers ? 'content-type' AS has_type
  FROM elt.http('HEAD', :'base' || '/echo');

-- an HTTP error status is a result, not an error
SELECT status, body FROM elt.http_get(:'base' || '/status/404');
SELECT status, body FROM elt.http_get(:'base' || '/status/503');
SELECT status, body = '' AS empty FROM elt.http_get(:'base' || '/status/204');
-- a redirect status without Location is a result too, body included
SELECT status, body FROM elt.http_get(:'base' || '/status/302');

-- redirects are followed (a few at most) and re-checked
SELECT status, (body::jsonb)->>'path' AS path
  FROM elt.http_get(:'base' || '/redirect?code=302&to=' || :'base' || '/echo');
SELECT status FROM elt.http_get(:'base' || '/redirect/chain?n=3');
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/redirect/chain?n=6'));
-- a 303 after a POST turns into a GET
SELECT (body::jsonb)->>'method' AS method
  FROM elt.http_post(:'base' || '/redirect?code=303&to=' || :'base' || '/echo', '{}');
-- a 307 keeps the method and the body
SELECT (body::jsonb)->>'method' AS method, (body::jsonb)->>'body' AS sent
  FROM elt.http_post(:'base' || '/redirect?code=307&to=' || :'base' || '/echo', '{"kept": true}');

-- compressed responses are decoded
SELECT status, headers->>'content-encoding' AS encoding, (body::jsonb) IS NOT NULL AS json
  FROM elt.http_get(:'base' || '/gzip');
SELECT status, headers->>'content-encoding' AS encoding, (body::jsonb) IS NOT NULL AS json
  FROM elt.http_get(:'base' || '/deflate');

-- timeouts: per call, and pg_elt.http_timeout
SELECT pg_temp.try(format('SELECT elt.http(%L, %L, timeout => %L)', 'GET', :'base' || '/echo?delay=3000', '200 ms'));
SET pg_elt.http_timeout = '200ms';
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/echo?delay=3000'));
SET pg_elt.http_timeout = '20s';
SELECT status FROM elt.http('GET', :'base' || '/echo?delay=100', timeout => '5 s');

-- statement_timeout interrupts a request to a server that never answers
\set VERBOSITY terse
SET statement_timeout = '500ms';
SELECT elt.http_get(:'base' || '/hang');
RESET statement_timeout;
\set VERBOSITY default

-- pg_elt.max_response_size, by Content-Length and while streaming
SET pg_elt.max_response_size = '1kB';
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/api/?results=20'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/huge?bytes=100000'));
SELECT status FROM elt.http_get(:'base' || '/small');
RESET pg_elt.max_response_size;

-- transport failures are errors with their own SQLSTATE
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://127.0.0.1:1/nothing-listens-here'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/small?drop=10'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/api/?results=50&drop=100'));

-- bad arguments
SELECT pg_temp.try($$SELECT elt.http('GE T', 'http://example.com/')$$);
SELECT pg_temp.try($$SELECT elt.http(NULL, 'http://example.com/')$$);
SELECT pg_temp.try($$SELECT elt.http_get(NULL)$$);
SELECT pg_temp.try($$SELECT elt.http_get('not a url')$$);
SELECT pg_temp.try($$SELECT elt.http_get('file:///etc/passwd')$$);
SELECT pg_temp.try($$SELECT elt.http_get('ftp://example.com/x')$$);
SELECT pg_temp.try($$SELECT elt.http_get('gopher://example.com/')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://example.com/', '["not", "an", "object"]')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://example.com/', '{"X-Obj": {"a": 1}}')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://example.com/', '{"Bad Name": "x"}')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://example.com/', E'{"X-Injected": "a\\r\\nHost: evil"}')$$);
SELECT pg_temp.try($$SELECT elt.http('GET', 'http://example.com/', timeout => '0')$$);
SELECT pg_temp.try($$SELECT elt.http('GET', 'http://example.com/', timeout => '-1 s')$$);

-- a session keeps working after errors, on the same pooled connections
SELECT count(*) FILTER (WHERE status = 200) AS ok
  FROM generate_series(1, 20) AS i, LATERAL elt.http_get(:'base' || '/small/' || i);

-- the functions reach the network: not executable by PUBLIC
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'elt' AND p.proname IN ('http', 'http_get', 'http_post')
 ORDER BY 1;
CREATE ROLE regress_http_user;
SET ROLE regress_http_user;
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/small'));
RESET ROLE;
GRANT EXECUTE ON FUNCTION elt.http_get(text, jsonb) TO regress_http_user;
SET ROLE regress_http_user;
SELECT status FROM elt.http_get(:'base' || '/small');
-- the guard settings are superuser-only
SELECT pg_temp.try($$SET pg_elt.allow_private_networks = on$$);
SELECT pg_temp.try($$SET pg_elt.allowed_hosts = ''$$);
SELECT pg_temp.try($$SET pg_elt.max_response_size = '1GB'$$);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION elt.http_get(text, jsonb) FROM regress_http_user;
DROP ROLE regress_http_user;

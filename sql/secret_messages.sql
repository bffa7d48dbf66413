-- Secret values never appear in a message, even one caught in PL/pgSQL:
-- references in a URL's scheme, host or port are refused, and what a
-- request sends back (curl's errors, redirects, next links, error bodies)
-- is masked before it goes into a message.
\getenv mock_port MOCK_API_PORT
SELECT 'http://127.0.0.1:' || :'mock_port' AS base \gset

-- Every part of a caught error, and whether a value (raw, percent-encoded,
-- any case) appears in any of them, the context included.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	msg text;
	det text;
	hnt text;
	ctx text;
	st text;
	everything text;
	v text;
	leaked boolean := false;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
	everything := lower(concat_ws(' ', msg, det, hnt, ctx));
	FOREACH v IN ARRAY ARRAY['S3cr3t-Value-42x', 'p@ss/w:rd?#S3cr3t-2',
							 'p%40ss%2Fw%3Ard%3F%23S3cr3t-2'] LOOP
		leaked := leaked OR strpos(everything, lower(v)) > 0;
	END LOOP;
	-- the port, and how long a refused connection took, vary
	RETURN CASE WHEN leaked THEN 'LEAKED ' ELSE '' END || st || ': ' ||
		regexp_replace(regexp_replace(
			concat_ws(' ', msg, 'DETAIL: ' || nullif(det, ''), 'HINT: ' || nullif(hnt, '')),
			'127\.0\.0\.1:[0-9]+', '127.0.0.1:PORT', 'g'),
			' after [0-9]+ ms: Couldn''t connect', ' after N ms: Couldn''t connect', 'g');
END $$;

CREATE ROLE regress_msg_owner;
CREATE ROLE regress_msg_user;
GRANT EXECUTE ON FUNCTION elt.set_secret(text, text), elt.grant_secret(text, regrole),
	elt.drop_secret(text), elt.http(text, text, jsonb, text, interval), elt.http_get(text, jsonb),
	elt.http_post(text, text, jsonb)
	TO regress_msg_owner, regress_msg_user;
SET ROLE regress_msg_owner;
SELECT elt.set_secret('plain', 'S3cr3t-Value-42x');
SELECT elt.set_secret('special', 'p@ss/w:rd?#S3cr3t-2');
SELECT elt.set_secret('short', 'abc');
SELECT elt.set_secret('empty', '');
SELECT elt.grant_secret(s, 'regress_msg_user') FROM unnest(ARRAY['plain', 'special', 'short', 'empty']) s;
RESET ROLE;

SET ROLE regress_msg_user;
-- references in the scheme, host or port are refused before anything is sent
SELECT pg_temp.try($$SELECT elt.http_get('http://{{secret:plain}}/x')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://{{secret:plain}}.example.com/x')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http{{secret:plain}}://127.0.0.1:1/x')$$);
SELECT pg_temp.try($$SELECT elt.http_get('{{secret:plain}}://127.0.0.1:1/x')$$);
SELECT pg_temp.try($$SELECT elt.http_get('{{secret:plain}}')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://127.0.0.1:{{secret:plain}}/x')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://[{{secret:plain}}]/x')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://user@{{secret:plain}}@127.0.0.1:1/x')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://user:pw@{{secret:plain}}/x')$$);
SELECT pg_temp.try($$SELECT elt.http('GET', 'http://{{secret:plain}}/x')$$);
SELECT pg_temp.try($$SELECT elt.http_post('http://{{secret:plain}}/x', 'body')$$);
-- the userinfo, path, query and fragment may hold them (nothing listens
-- on port 1)
SELECT pg_temp.try($$SELECT elt.http_get('http://user:{{secret:plain}}@127.0.0.1:1/x')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://{{secret:special}}@127.0.0.1:1/x')$$);
SELECT pg_temp.try($$SELECT elt.http_get('http://127.0.0.1:1/{{secret:plain}}/x?q={{secret:plain}}#{{secret:plain}}')$$);
-- literal credentials in the query are masked by the parameter's name:
-- whole words for short names, stems anywhere, "code" only when longer
-- than a status or country code; harmless names stay readable
SELECT pg_temp.try($$SELECT elt.http_get('http://127.0.0.1:1/x?code=4/0AX4XfWh&code=302&postcode=1234&country_code=NZ&state=af0ifjsldkj&X-Amz-Credential=AKIA%2F20240101&X-Amz-Signature=fe5f80f7&X-Amz-Security-Token=FQoG&SAMLResponse=PHNhbWxw&jwt=eyJh.eyJz.SflK&otp=123456&accessToken=ya29&refresh_token=1%2F%2F0g&sig=sv2&hmac=9f86&pass_word=hunter2&apikey=k1&monkey=1&design=2&author=me&keyword=w&sortKey=name&page=3')$$);
-- a value in the userinfo is percent-encoded, so that its "@" or "/"
-- cannot move the host (compared by a superuser, without printing it)
RESET ROLE;
SELECT convert_from(decode(split_part(body::jsonb->'headers'->>'authorization', ' ', 2), 'base64'), 'UTF8')
	   = 'user:p@ss/w:rd?#S3cr3t-2' AS userinfo_sent
  FROM elt.http_get(replace(:'base', 'http://', 'http://user:{{secret:special}}@') || '/echo');
SET ROLE regress_msg_user;
-- a value too short to be masked is refused; an empty one is harmless
SELECT pg_temp.try($$SELECT elt.http_get('http://127.0.0.1:1/x?k={{secret:short}}')$$);
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/small?k={{secret:empty}}'));

-- what comes back is masked: a redirect to a URL holding the value that
-- fails (nothing listening), is refused by the address guard, has a
-- refused scheme, or an unlisted host
SELECT pg_temp.try(format('SELECT elt.http_get(%L)',
	:'base' || '/redirect?code=302&to=http://127.0.0.1:1/{{secret:plain}}'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)',
	:'base' || '/redirect?code=302&to=ftp://127.0.0.1/{{secret:plain}}'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)',
	:'base' || '/redirect?code=302&to=http{{secret:plain}}://127.0.0.1/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)',
	:'base' || '/redirect?code=307&to=http://127.0.0.1:1/%3Fx%3D{{secret:plain}}'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)',
	:'base' || '/redirect/chain?n=9&t={{secret:plain}}'));
SELECT pg_temp.try(format('SELECT elt.http(%L, %L, timeout => %L)', 'GET',
	:'base' || '/redirect?code=302&to=/hang%3Fv%3D{{secret:plain}}', '200ms'));
RESET ROLE;
-- (pg_elt.allowed_hosts and the guard can only be set by a superuser)
SET pg_elt.allowed_hosts = '127.0.0.1';
SET ROLE regress_msg_user;
SELECT pg_temp.try(format('SELECT elt.http_get(%L)',
	:'base' || '/redirect?code=302&to=http://{{secret:plain}}/x'));
RESET ROLE;
RESET pg_elt.allowed_hosts;
SET pg_elt.allow_private_networks = off;
SET pg_elt.allowed_private_networks = '127.0.0.1/32';
SET ROLE regress_msg_user;
SELECT pg_temp.try(format('SELECT elt.http_get(%L)',
	:'base' || '/redirect?code=302&to=http://127.0.0.2:1/{{secret:plain}}'));
RESET ROLE;
RESET pg_elt.allowed_private_networks;
RESET pg_elt.allow_private_networks;

-- definitions: a base URL or token URL with a reference in its host is
-- refused when it is created or changed; a stream path cannot reach the
-- host
SELECT pg_temp.try($$SELECT elt.create_source('msg_bad', 'https://{{secret:plain}}/v1')$$);
SELECT pg_temp.try($$SELECT elt.create_source('msg_bad', 'https://api.example.com:{{secret:plain}}/v1')$$);
SELECT pg_temp.try($$SELECT elt.create_source('msg_bad', 'https://api.example.com', auth => '{"type": "oauth2_client_credentials", "token_url": "https://{{secret:plain}}/token", "client_id": "c", "client_secret": "{{secret:special}}"}')$$);
SELECT elt.create_source('msg', :'base', options => '{"max_attempts": 2, "backoff": "10 ms"}');
SELECT pg_temp.try($$SELECT elt.alter_source('msg', base_url => 'http://{{secret:plain}}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('msg_userinfo', 'https://user:{{secret:special}}@api.example.com/v1')$$);
SELECT elt.create_stream('msg', 'at_path', '@{{secret:plain}}/x');
SELECT pg_temp.try($$SELECT elt.extract('msg.at_path')$$);
-- an error body that echoes the value (the mock's 404 quotes the path)
SELECT elt.create_stream('msg', 'echoed', '/nosuch/{{secret:plain}}');
SELECT pg_temp.try($$SELECT elt.extract('msg.echoed')$$);
-- a next link that carries it, on a page that fails
SELECT elt.create_stream('msg', 'next', '/users/next', records => '$.results',
	params => '{"limit": 5, "total": 20, "fail": 404, "fail_page": 2, "x": "{{secret:plain}}"}',
	pagination => '{"type": "next_url", "path": "$.next"}');
SELECT pg_temp.try($$SELECT elt.extract('msg.next')$$);
-- a base URL with a value in its userinfo keeps its origin: next links on
-- the same host are followed
SELECT elt.create_source('msg_ui', replace(:'base', 'http://', 'http://user:{{secret:special}}@'));
SELECT elt.create_stream('msg_ui', 'next', '/users/next', records => '$.results',
	params => '{"limit": 5, "total": 10}', pagination => '{"type": "next_url", "path": "$.next"}');
SELECT pages, records FROM elt.extract('msg_ui.next');
SELECT elt.drop_source('msg_ui', cascade => true);
SELECT stream, status, strpos(lower(error), lower('S3cr3t-Value-42x')) = 0 AS clean,
	   regexp_replace(error, '127\.0\.0\.1:[0-9]+', '127.0.0.1:PORT', 'g') AS error
  FROM elt.batch WHERE stream LIKE 'msg.%' ORDER BY batch_id;

-- a pipeline step that fails in code other than pg_elt's, on a response
-- that echoes the value: elt.step_run keeps the masked message
SELECT elt.create_pipeline('msg_pipe', options => '{"retries": 0}') > 0 AS created;
SELECT elt.add_step('msg_pipe', 'cast', format('SELECT (elt.http_get(%L)).body::int',
	:'base' || '/echo?v={{secret:plain}}'));
SELECT pg_temp.try($$SELECT elt.run_pipeline('msg_pipe')$$) LIKE '%failed%' AS run_failed;
SELECT s.step, s.status, strpos(lower(s.error), lower('S3cr3t-Value-42x')) = 0 AS clean,
	   s.error LIKE '%{{secret:plain}}%' AS masked,
	   strpos(lower(r.error), lower('S3cr3t-Value-42x')) = 0 AS run_clean
  FROM elt.step_run s JOIN elt.run r USING (run_id) WHERE r.pipeline = 'msg_pipe';
SELECT elt.drop_pipeline('msg_pipe');


SELECT elt.drop_source('msg', cascade => true);
DELETE FROM elt.batch WHERE stream LIKE 'msg.%';
SET ROLE regress_msg_owner;
SELECT elt.drop_secret(s) FROM unnest(ARRAY['plain', 'special', 'short', 'empty']) s;
RESET ROLE;
REVOKE ALL ON FUNCTION elt.set_secret(text, text), elt.grant_secret(text, regrole),
	elt.drop_secret(text), elt.http(text, text, jsonb, text, interval), elt.http_get(text, jsonb),
	elt.http_post(text, text, jsonb)
	FROM regress_msg_owner, regress_msg_user;
DROP ROLE regress_msg_owner, regress_msg_user;

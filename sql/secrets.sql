-- Secrets: a role that may use a secret cannot read it back by any SQL path.
\getenv mock_port MOCK_API_PORT
SELECT 'http://127.0.0.1:' || :'mock_port' AS base \gset

CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	hint text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM || coalesce(' HINT: ' || nullif(hint, ''), ''), '127\.0\.0\.1:[0-9]+', '127.0.0.1:PORT', 'g');
END $$;

CREATE ROLE regress_owner;
CREATE ROLE regress_user;
CREATE ROLE regress_other;
GRANT EXECUTE ON FUNCTION elt.set_secret(text, text), elt.drop_secret(text),
	elt.grant_secret(text, regrole), elt.revoke_secret(text, regrole),
	elt.http(text, text, jsonb, text, interval), elt.http_get(text, jsonb)
	TO regress_owner, regress_user, regress_other;

-- the owner creates a secret and lets another role use it
SET ROLE regress_owner;
SELECT elt.set_secret('api_token', 'tok-3f9a-not-for-your-eyes');
SELECT elt.set_secret('api_token', 'tok-3f9a-rotated');
SELECT elt.grant_secret('api_token', 'regress_user');
SELECT name, owner, grantees FROM elt.secrets;
RESET ROLE;

-- the user's request carries the value (the mock API echoes headers back;
-- compared here as superuser, without printing it)
SET ROLE regress_user;
CREATE TEMP TABLE echoed AS
SELECT body::jsonb AS b FROM elt.http_get(:'base' || '/echo?access_token={{secret:api_token}}',
	'{"Authorization": "Bearer {{secret:api_token}}", "X-Plain": "{{not a secret}}"}');
RESET ROLE;
SELECT b->'headers'->>'authorization' = 'Bearer ' || (SELECT value FROM elt.secret WHERE name = 'api_token') AS header_substituted,
	   b->'query'->>'access_token' = (SELECT value FROM elt.secret WHERE name = 'api_token') AS url_substituted,
	   b->'headers'->>'x-plain' AS plain
  FROM echoed;

-- no SQL path gives the user the value
SET ROLE regress_user;
SELECT pg_temp.try($$SELECT * FROM elt.secret$$);
SELECT pg_temp.try($$SELECT * FROM elt.secret_grant$$);
SELECT name, owner, grantees, updated_at >= created_at AS dated FROM elt.secrets;
SELECT column_name FROM information_schema.columns
 WHERE table_schema = 'elt' AND table_name = 'secrets' ORDER BY ordinal_position;
-- nor an error message: the URL is printed with the reference, not the value
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://127.0.0.1:1/x?token={{secret:api_token}}&page=2'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://127.0.0.1:1/x?api_key=literal-key&page=2'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://user:pa55word@127.0.0.1:1/x'));
SELECT pg_temp.try(format('SELECT elt.http(%L, %L, timeout => %L)', 'GET',
	:'base' || '/echo?delay=2000&token={{secret:api_token}}', '100ms'));
-- the user cannot change, drop or re-grant it
SELECT pg_temp.try($$SELECT elt.set_secret('api_token', 'mine now')$$);
SELECT pg_temp.try($$SELECT elt.drop_secret('api_token')$$);
SELECT pg_temp.try($$SELECT elt.grant_secret('api_token', 'regress_other')$$);
RESET ROLE;

-- a role without a grant cannot use it
SET ROLE regress_other;
SELECT pg_temp.try(format('SELECT elt.http_get(%L, %L)', :'base' || '/echo', '{"Authorization": "Bearer {{secret:api_token}}"}'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/echo?k={{secret:api_token}}'));
SELECT * FROM elt.secrets;
RESET ROLE;

-- bad references and names
SELECT pg_temp.try(format('SELECT elt.http_get(%L, %L)', :'base' || '/echo', '{"A": "{{secret:missing}}"}'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L, %L)', :'base' || '/echo', '{"A": "{{secret:api_token"}'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L, %L)', :'base' || '/echo', '{"A": "{{secret:bad name}}"}'));
SELECT pg_temp.try($$SELECT elt.set_secret('bad name', 'x')$$);
SELECT pg_temp.try($$SELECT elt.set_secret('', 'x')$$);
SELECT pg_temp.try($$SELECT elt.set_secret(NULL, 'x')$$);
SELECT pg_temp.try($$SELECT elt.set_secret('x', NULL)$$);
SELECT pg_temp.try($$SELECT elt.drop_secret('missing')$$);
SELECT pg_temp.try($$SELECT elt.grant_secret('missing', 'regress_user')$$);

-- revoke, then drop
SET ROLE regress_owner;
SELECT elt.revoke_secret('api_token', 'regress_user');
RESET ROLE;
SET ROLE regress_user;
SELECT pg_temp.try(format('SELECT elt.http_get(%L, %L)', :'base' || '/echo', '{"A": "{{secret:api_token}}"}'));
SELECT count(*) FROM elt.secrets;
RESET ROLE;
SET ROLE regress_owner;
SELECT elt.drop_secret('api_token');
SELECT count(*) FROM elt.secrets;
RESET ROLE;

-- a member of the owning role may use and manage it
CREATE ROLE regress_team;
GRANT regress_team TO regress_user;
GRANT EXECUTE ON FUNCTION elt.set_secret(text, text) TO regress_team;
SET ROLE regress_team;
SELECT elt.set_secret('team_token', 'team-value');
RESET ROLE;
SET ROLE regress_user;
SELECT status FROM elt.http_get(:'base' || '/echo', '{"A": "{{secret:team_token}}"}');
SELECT elt.drop_secret('team_token');
RESET ROLE;

-- only superusers can read the table
SELECT has_table_privilege('regress_owner', 'elt.secret', 'SELECT') AS owner_can_read,
	   has_function_privilege('public', 'elt.set_secret(text, text)', 'EXECUTE') AS public_set;

DROP TABLE echoed;
REVOKE ALL ON FUNCTION elt.set_secret(text, text), elt.drop_secret(text),
	elt.grant_secret(text, regrole), elt.revoke_secret(text, regrole),
	elt.http(text, text, jsonb, text, interval), elt.http_get(text, jsonb)
	FROM regress_owner, regress_user, regress_other;
REVOKE ALL ON FUNCTION elt.set_secret(text, text) FROM regress_team;
DROP ROLE regress_owner, regress_user, regress_other, regress_team;

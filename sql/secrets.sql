-- Secrets: a role that may use a secret cannot read it back by any SQL path.

\i test/regress/helpers.sql

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
SELECT b->'headers'->>'authorization' = 'Bearer tok-3f9a-rotated' AS header_substituted,
	   b->'query'->>'access_token' = 'tok-3f9a-rotated' AS url_substituted,
	   b->'headers'->>'x-plain' AS plain
  FROM echoed;

-- only ciphertext is stored: version 1, key id, nonce, ciphertext, tag
SELECT position(convert_to('tok-3f9a', 'UTF8') IN ciphertext) = 0 AS no_plain_text,
	   get_byte(ciphertext, 0) AS version,
	   length(ciphertext) = 1 + 4 + 12 + length('tok-3f9a-rotated') + 16 AS sized,
	   encode(substr(ciphertext, 2, 4), 'hex') = key_id AS key_id_matches,
	   key_id ~ '^[0-9a-f]{8}$' AS key_id_hex
  FROM elt.secret WHERE name = 'api_token';
-- setting the same value again gives another ciphertext (random nonce)
CREATE TEMP TABLE before_reset AS SELECT ciphertext FROM elt.secret WHERE name = 'api_token';
SET ROLE regress_owner;
SELECT elt.set_secret('api_token', 'tok-3f9a-rotated');
RESET ROLE;
SELECT s.ciphertext <> b.ciphertext AS fresh_nonce FROM elt.secret s, before_reset b WHERE s.name = 'api_token';

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
-- the user cannot change, drop or re-grant it (it may use it, so it is
-- told so, without the owner's name)
SELECT pg_temp.try($$SELECT elt.set_secret('api_token', 'mine now')$$);
SELECT pg_temp.try($$SELECT elt.drop_secret('api_token')$$);
SELECT pg_temp.try($$SELECT elt.grant_secret('api_token', 'regress_other')$$);
SELECT pg_temp.try($$SELECT elt.revoke_secret('api_token', 'regress_user')$$);
RESET ROLE;

-- a role without a grant cannot use it, and cannot tell it from a missing
-- secret: using, dropping, granting and revoking fail as for "missing"
SET ROLE regress_other;
SELECT pg_temp.try(format('SELECT elt.http_get(%L, %L)', :'base' || '/echo', '{"Authorization": "Bearer {{secret:api_token}}"}'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/echo?k={{secret:api_token}}'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L, %L)', :'base' || '/echo', '{"Authorization": "Bearer {{secret:missing}}"}'));
SELECT pg_temp.try($$SELECT elt.drop_secret('api_token')$$);
SELECT pg_temp.try($$SELECT elt.drop_secret('missing')$$);
SELECT pg_temp.try($$SELECT elt.grant_secret('api_token', 'regress_other')$$);
SELECT pg_temp.try($$SELECT elt.grant_secret('missing', 'regress_other')$$);
SELECT pg_temp.try($$SELECT elt.revoke_secret('api_token', 'regress_user')$$);
SELECT pg_temp.try($$SELECT elt.revoke_secret('missing', 'regress_user')$$);
-- a taken name cannot be hidden, but nothing more is said
SELECT pg_temp.try($$SELECT elt.set_secret('api_token', 'mine now')$$);
SELECT * FROM elt.secrets;
RESET ROLE;

-- a ciphertext moved to another secret's row does not decrypt there
SET ROLE regress_owner;
SELECT elt.set_secret('api_token_copy', 'something else');
SELECT elt.grant_secret('api_token_copy', 'regress_user');
RESET ROLE;
UPDATE elt.secret SET ciphertext = (SELECT ciphertext FROM elt.secret WHERE name = 'api_token')
 WHERE name = 'api_token_copy';
SET ROLE regress_user;
SELECT pg_temp.try(format('SELECT elt.http_get(%L, %L)', :'base' || '/echo', '{"A": "{{secret:api_token_copy}}"}'));
RESET ROLE;
-- nor does an altered one
UPDATE elt.secret SET ciphertext = set_byte(ciphertext, 20, get_byte(ciphertext, 20) # 1)
 WHERE name = 'api_token_copy';
SELECT pg_temp.try(format('SELECT elt.http_get(%L, %L)', :'base' || '/echo', '{"A": "{{secret:api_token_copy}}"}'));
-- rotation leaves such a secret as it was, and re-encrypts the others
-- (terse: the warning's detail names a random key id)
\set VERBOSITY terse
SELECT key_id AS old_key FROM elt.secret WHERE name = 'api_token' \gset
CREATE TEMP TABLE before_rotation AS SELECT name, ciphertext FROM elt.secret;
SELECT key_id <> :'old_key' AS new_key,
	   reencrypted = (SELECT count(*) - 1 FROM elt.secret) AS all_others, undecryptable
  FROM elt.rotate_secret_key();
SELECT s.name, s.ciphertext <> b.ciphertext AS changed, s.key_id <> :'old_key' AS new_key
  FROM elt.secret s JOIN before_rotation b USING (name) WHERE s.name LIKE 'api\_token%' ORDER BY 1;
SELECT count(*) AS others_not_rotated FROM elt.secret WHERE key_id = :'old_key' AND name <> 'api_token_copy';
SET ROLE regress_user;
SELECT b->'headers'->>'a' = 'tok-3f9a-rotated' AS still_works
  FROM elt.http_get(:'base' || '/echo', '{"A": "{{secret:api_token}}"}') r, LATERAL (SELECT r.body::jsonb AS b) x;
RESET ROLE;
-- new_key => false re-encrypts under the current key
SELECT key_id AS cur_key FROM elt.secret WHERE name = 'api_token' \gset
SELECT key_id = :'cur_key' AS same_key, reencrypted = (SELECT count(*) - 1 FROM elt.secret) AS all_others
  FROM elt.rotate_secret_key(new_key => false);
\set VERBOSITY default
DELETE FROM elt.secret WHERE name = 'api_token_copy';
-- rotation and the key settings are for superusers
SET ROLE regress_owner;
SELECT pg_temp.try($$SELECT elt.rotate_secret_key()$$);
SELECT pg_temp.try($$SET pg_elt.secret_key_file = '/tmp/mine.key'$$);
SELECT pg_temp.try($$SET pg_elt.secret_key_command = 'echo 00'$$);
SELECT pg_temp.try($$SHOW pg_elt.secret_key_file$$);
RESET ROLE;
SELECT pg_temp.try($$SET pg_elt.secret_key_file = '/tmp/mine.key'$$);
SELECT has_function_privilege('public', 'elt.rotate_secret_key(boolean)', 'EXECUTE') AS public_rotate;

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

DROP TABLE echoed, before_reset, before_rotation;
REVOKE ALL ON FUNCTION elt.set_secret(text, text), elt.drop_secret(text),
	elt.grant_secret(text, regrole), elt.revoke_secret(text, regrole),
	elt.http(text, text, jsonb, text, interval), elt.http_get(text, jsonb)
	FROM regress_owner, regress_user, regress_other;
REVOKE ALL ON FUNCTION elt.set_secret(text, text) FROM regress_team;
DROP ROLE regress_owner, regress_user, regress_other, regress_team;

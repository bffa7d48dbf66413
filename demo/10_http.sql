-- pg_elt demo, part 1: HTTP from SQL.
\getenv mock_port MOCK_API_PORT
SELECT 'http://127.0.0.1:' || :'mock_port' AS api \gset
\echo
\echo '== elt.http_get: three randomuser-like records from the mock API'
SELECT r.status, u->'name'->>'first' || ' ' || (u->'name'->>'last') AS name,
	   u->>'email' AS email, u->'location'->>'country' AS country
  FROM elt.http_get(:'api' || '/api/?results=3&seed=demo') AS r,
	   LATERAL jsonb_array_elements(r.body::jsonb->'results') AS u;

\echo '== a secret in a header: the value is substituted in C and never shown'
SELECT elt.set_secret('demo_token', 'test-token');
SELECT status, (body::jsonb)->>'total' AS users_behind_auth
  FROM elt.http_get(:'api' || '/auth/bearer/users?per_page=1',
					'{"Authorization": "Bearer {{secret:demo_token}}"}');
SELECT name, owner FROM elt.secrets;

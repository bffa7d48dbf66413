-- Data for the transform benchmark: an :n-row user source (v1, psql -v n=)
-- and its next state (v2): 10% changed, 1% new, 1% deleted.
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

CREATE TABLE bench.user_v1 AS
SELECT g AS id,
	   'user ' || g AS name,
	   'u' || g || '@example.com' AS email,
	   (ARRAY['Oslo', 'Rome', 'Lima', 'Paris', 'Nice'])[1 + g % 5] AS city,
	   'seg' || (g % 10) AS segment,
	   g % 1000 AS score,
	   timestamptz '2024-01-01' + g * interval '1 second' AS updated_at
  FROM generate_series(1, :n) AS g;

CREATE TABLE bench.user_v2 AS
SELECT id, name, email,
	   CASE WHEN id % 10 = 2 THEN city || ' Nord' ELSE city END AS city,
	   segment, score,
	   CASE WHEN id % 10 = 2 THEN updated_at + interval '30 days' ELSE updated_at END AS updated_at
  FROM bench.user_v1
 WHERE id % 100 <> 1
UNION ALL
SELECT g, 'user ' || g, 'u' || g || '@example.com', 'Bergen', 'seg' || (g % 10), g % 1000,
	   timestamptz '2024-02-01'
  FROM generate_series(:n + 1, :n + :n / 100) AS g;

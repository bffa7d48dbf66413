-- A 5,000,000-row source for the second dimension (same rows as user_v1 for
-- the first million).
CREATE TABLE bench.user_5m AS
SELECT g AS id,
	   'user ' || g AS name,
	   'u' || g || '@example.com' AS email,
	   (ARRAY['Oslo', 'Rome', 'Lima', 'Paris', 'Nice'])[1 + g % 5] AS city,
	   'seg' || (g % 10) AS segment,
	   g % 1000 AS score,
	   timestamptz '2024-01-01' + g * interval '1 second' AS updated_at
  FROM generate_series(1, 5000000) AS g;

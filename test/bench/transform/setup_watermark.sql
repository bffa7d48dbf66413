-- Staging tables as elt.extract leaves them, for the watermark path: batch 1
-- holds a 1,000,000-row and a 5,000,000-row first load.
CREATE TABLE bench.stg_1m AS
SELECT 1::bigint AS _elt_batch_id, g AS id, 'user ' || g AS name, 'u' || g || '@example.com' AS email,
	   (ARRAY['Oslo', 'Rome', 'Lima', 'Paris', 'Nice'])[1 + g % 5] AS city,
	   timestamptz '2024-01-01' + g * interval '1 second' AS updated_at
  FROM generate_series(1, 1000000) AS g;
CREATE TABLE bench.stg_5m AS
SELECT 1::bigint AS _elt_batch_id, g AS id, 'user ' || g AS name, 'u' || g || '@example.com' AS email,
	   (ARRAY['Oslo', 'Rome', 'Lima', 'Paris', 'Nice'])[1 + g % 5] AS city,
	   timestamptz '2024-01-01' + g * interval '1 second' AS updated_at
  FROM generate_series(1, 5000000) AS g;
CREATE INDEX ON bench.stg_1m (_elt_batch_id);
CREATE INDEX ON bench.stg_5m (_elt_batch_id);

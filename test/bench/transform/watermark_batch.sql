-- Batch :b of both staging tables: 10,000 records, 9,000 changed members
-- spread over the first million and 1,000 new ones.
INSERT INTO bench.stg_1m
SELECT :b, id, 'user ' || id, 'u' || id || '@example.com', 'City ' || :b, timestamptz '2025-01-01' + :b * interval '1 day'
  FROM (SELECT (g * 111 + :b) % 1000000 + 1 AS id FROM generate_series(1, 9000) AS g
		UNION ALL SELECT 10000000 + :b * 1000 + g FROM generate_series(1, 1000) AS g) AS k;
INSERT INTO bench.stg_5m
SELECT :b, id, 'user ' || id, 'u' || id || '@example.com', 'City ' || :b, timestamptz '2025-01-01' + :b * interval '1 day'
  FROM (SELECT (g * 111 + :b) % 1000000 + 1 AS id FROM generate_series(1, 9000) AS g
		UNION ALL SELECT 10000000 + :b * 1000 + g FROM generate_series(1, 1000) AS g) AS k;
ANALYZE bench.stg_1m;
ANALYZE bench.stg_5m;

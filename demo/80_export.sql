-- Serving: the report as CSV, streamed to the bundled object store (the
-- mock API's S3-style store, which checks every request's AWS Signature V4
-- as S3 does), then read back.  A real bucket works the same way with its
-- endpoint and keys (docs/serve.md).
\getenv mock_port MOCK_API_PORT
SELECT 'http://127.0.0.1:' || :'mock_port' AS base \gset
-- the store's demo credentials, kept as secrets like any others
SELECT elt.set_secret('demo_s3_key', 'MOCKACCESSKEY0000001') \gset
SELECT elt.set_secret('demo_s3_secret', 'mock/secret+key/0123456789abcdefghijklmn') \gset
\echo '== export: revenue by status as CSV to s3://reports/revenue_by_status.csv (elt.export)'
SELECT rows, bytes, status, etag IS NOT NULL AS has_etag
  FROM elt.export($$SELECT status, count(*) AS orders, sum(amount) AS revenue
                      FROM dw.fact_orders GROUP BY status ORDER BY status$$,
                  's3://reports/revenue_by_status.csv', 'csv',
                  jsonb_build_object('endpoint', :'base' || '/s3',
                                     'access_key_id', '{{secret:demo_s3_key}}',
                                     'secret_access_key', '{{secret:demo_s3_secret}}'));
SELECT body AS "s3://reports/revenue_by_status.csv, read back"
  FROM elt.http_get(:'base' || '/s3/reports/revenue_by_status.csv');
SELECT destination, format, rows, bytes, status, http_status, etag IS NOT NULL AS has_etag
  FROM elt.export_run ORDER BY export_id;

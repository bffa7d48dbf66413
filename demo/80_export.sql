-- Serving: the report as CSV, streamed to the bundled mock API's upload
-- endpoint (any HTTP(S) URL or an s3:// bucket works the same way,
-- docs/serve.md), then read back.
\getenv mock_port MOCK_API_PORT
SELECT 'http://127.0.0.1:' || :'mock_port' AS base \gset
\echo '== export: revenue by status as CSV (elt.export)'
SELECT rows, bytes, status
  FROM elt.export($$SELECT status, count(*) AS orders, sum(amount) AS revenue
                      FROM dw.fact_orders GROUP BY status ORDER BY status$$,
                  :'base' || '/upload/reports/revenue_by_status.csv');
SELECT body AS "reports/revenue_by_status.csv, as stored"
  FROM elt.http_get(:'base' || '/upload/reports/revenue_by_status.csv');
SELECT destination, format, rows, bytes, status FROM elt.export_run ORDER BY export_id;

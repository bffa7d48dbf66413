-- What an operator watches: the metrics Prometheus scrapes (docs/monitoring.md)
-- and how the data flowed.
\echo '== metrics (elt.metrics(), Prometheus text format) =='
SELECT line AS metrics FROM regexp_split_to_table(elt.metrics(), E'\n') AS line
 WHERE line ~ '^pg_elt_(runs_total|last_run_failed|extract_records_total|stream_freshness_seconds|check_failing|export_bytes_total)';
\echo '== lineage (elt.lineage_mermaid()) =='
SELECT elt.lineage_mermaid() AS lineage;

#!/bin/bash
# Orchestration benchmark.
#  1. Load with lasting run workers: 100 pipelines on 1-second schedules
#     for 60 seconds with pg_elt.max_workers = 4, each step taking 50 ms:
#     runs done / expected (goal 1.0, none skipped for lack of a worker)
#     and the start delay from due time to the first step (goal median
#     below 50 ms, 95th percentile below 200 ms).
#  2. A diamond a -> (b, c) -> d of 1-second steps with max_parallel 2:
#     time from the run's start to its end (goal below 2.2 s).
# Runs against the cluster of scripts/run_bench.sh (PGHOST, PGPORT, ...).
set -euo pipefail

LOAD_PIPELINES=${LOAD_PIPELINES:-100}
LOAD_SECONDS=${LOAD_SECONDS:-60}
LOAD_STEP_MS=${LOAD_STEP_MS:-50}
LOAD_WORKERS=${LOAD_WORKERS:-4}
DIAMOND_RUNS=${DIAMOND_RUNS:-3}

. test/bench/lib/load_report.sh
. test/bench/lib/compare.sh
bench_settings "load reports, not comparisons: runs against their schedule"
q() { PGOPTIONS="-c client_min_messages=warning" psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

q -c "DROP SCHEMA IF EXISTS bench_orch CASCADE" -c "CREATE SCHEMA bench_orch" >/dev/null 2>&1
q -c "DELETE FROM elt.pipeline WHERE name LIKE 'orch\_%'" >/dev/null
q -c "ALTER SYSTEM SET pg_elt.max_workers = $LOAD_WORKERS" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5

echo "== orchestration: $LOAD_PIPELINES pipelines every second for ${LOAD_SECONDS}s"
echo "settings: pg_elt.max_workers $(q -c 'SHOW pg_elt.max_workers'), max_worker_processes $(q -c 'SHOW max_worker_processes'), step ${LOAD_STEP_MS} ms, overlap skip"
if [ "$LOAD_STEP_MS" -gt 0 ]; then
	echo "ceiling: $LOAD_WORKERS workers / ${LOAD_STEP_MS} ms steps = $((LOAD_WORKERS * 1000 / LOAD_STEP_MS)) runs/s at most, for $LOAD_PIPELINES runs due per second"
fi
q <<SQL >/dev/null
CREATE TABLE bench_orch.hit (run bigint, at timestamptz DEFAULT clock_timestamp());
SELECT elt.create_pipeline(format('orch_load_%s', i), '1 second', '{"overlap": "skip"}'),
       elt.add_step(format('orch_load_%s', i), 'hit',
                    'INSERT INTO bench_orch.hit (run) VALUES (elt.current_run()); SELECT pg_sleep($LOAD_STEP_MS / 1000.0)'),
       elt.pause(format('orch_load_%s', i))
FROM generate_series(1, $LOAD_PIPELINES) i;
SQL
start=$(q -c "SELECT date_trunc('second', clock_timestamp()) + interval '2 seconds'")
q -c "SELECT elt.resume(name) FROM elt.pipeline WHERE name LIKE 'orch\_load\_%'" >/dev/null
sleep $((LOAD_SECONDS + 2))
stop=$(q -c "SELECT timestamptz '$start' + interval '$LOAD_SECONDS seconds'")
q -c "SELECT elt.pause(name) FROM elt.pipeline WHERE name LIKE 'orch\_load\_%'" \
  -c "SELECT elt.cancel(run_id) FROM elt.run WHERE pipeline LIKE 'orch\_load\_%' AND status = 'queued'" >/dev/null
for _ in $(seq 1 100); do
	n=$(q -c "SELECT count(*) FROM elt.run WHERE pipeline LIKE 'orch\_load\_%' AND status IN ('queued', 'running')")
	[ "$n" = 0 ] && break
	sleep 0.2
done
load_report 'orch\_load' bench_orch.hit "$start" "$stop" goals
q -c "DELETE FROM elt.pipeline WHERE name LIKE 'orch\_load\_%'" >/dev/null

echo
echo "== orchestration: diamond of 1-second steps, max_parallel 2, $DIAMOND_RUNS runs"
q <<'SQL' >/dev/null
SELECT elt.create_pipeline('orch_diamond', NULL, '{"max_parallel": 2}');
SELECT elt.add_step('orch_diamond', 'a', 'SELECT pg_sleep(1)');
SELECT elt.add_step('orch_diamond', 'b', 'SELECT pg_sleep(1)', '{a}');
SELECT elt.add_step('orch_diamond', 'c', 'SELECT pg_sleep(1)', '{a}');
SELECT elt.add_step('orch_diamond', 'd', 'SELECT pg_sleep(1)', '{b,c}');
SQL
for _ in $(seq 1 "$DIAMOND_RUNS"); do
	q -c "SELECT elt.run_pipeline('orch_diamond')" >/dev/null
done
q <<'SQL'
SELECT format(E'runs:             %s\n'
	'end to end:       median %s s, max %s s (goal < 2.2 s; sequential would be 4 s)\n'
	'middle overlap:   %s of %s runs',
	count(*),
	round(percentile_cont(0.5) WITHIN GROUP (ORDER BY secs)::numeric, 3),
	round(max(secs)::numeric, 3),
	count(*) FILTER (WHERE overlap), count(*))
FROM (SELECT extract(epoch FROM r.finished_at - r.started_at) AS secs,
			 (b.started_at < c.finished_at AND c.started_at < b.finished_at) AS overlap
	  FROM elt.run r
	  JOIN elt.step_run b ON b.run_id = r.run_id AND b.step = 'b'
	  JOIN elt.step_run c ON c.run_id = r.run_id AND c.step = 'c'
	  WHERE r.pipeline = 'orch_diamond') d;
SQL

q -c "DELETE FROM elt.pipeline WHERE name LIKE 'orch\_%'" -c "DROP SCHEMA bench_orch CASCADE" \
  -c "ALTER SYSTEM RESET pg_elt.max_workers" -c "SELECT pg_reload_conf()" >/dev/null

#!/bin/bash
# Scheduler benchmark.
#  1. Start delay: the time from a run's due time to the start of its first
#     step, over at least 200 runs of 1-second pipelines; compared with the
#     goal (median 20 ms, 95th percentile 100 ms).
#  2. Load: 100 pipelines on 1-second schedules for 60 seconds with
#     pg_elt.max_workers = 4: runs expected, done, skipped by overlap,
#     missed and doubled.
# Runs against the cluster of scripts/run_bench.sh (PGHOST, PGPORT, ...).
set -euo pipefail

LATENCY_PIPELINES=${LATENCY_PIPELINES:-5}
LATENCY_SECONDS=${LATENCY_SECONDS:-42}
LOAD_PIPELINES=${LOAD_PIPELINES:-100}
LOAD_SECONDS=${LOAD_SECONDS:-60}

. test/bench/lib/load_report.sh
. test/bench/lib/compare.sh
bench_settings "load reports, not comparisons: runs against their schedule"
q() { PGOPTIONS="-c client_min_messages=warning" psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

set_workers() {
	q -c "ALTER SYSTEM SET pg_elt.max_workers = $1" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5
}

# create N pipelines named PREFIX_i, each with one step recording when it
# started; they stay paused until resumed together
create_pipelines() {
	local prefix="$1" n="$2"
	q <<SQL >/dev/null
CREATE TABLE IF NOT EXISTS bench_sched.hit (run bigint, at timestamptz DEFAULT clock_timestamp());
SELECT elt.create_pipeline(format('${prefix}_%s', i), '1 second', '{"overlap": "skip"}'),
       elt.add_step(format('${prefix}_%s', i), 'hit',
                    'INSERT INTO bench_sched.hit (run) VALUES (elt.current_run())'),
       elt.pause(format('${prefix}_%s', i))
FROM generate_series(1, $n) i;
SQL
}

drain() {
	local prefix="$1"
	# paused pipelines keep their queued runs: cancel them, let running ones end
	q -c "SELECT elt.pause(name) FROM elt.pipeline WHERE name LIKE '${prefix}\_%'" \
	  -c "SELECT elt.cancel(run_id) FROM elt.run WHERE pipeline LIKE '${prefix}\_%' AND status = 'queued'" >/dev/null
	for _ in $(seq 1 100); do
		n=$(q -c "SELECT count(*) FROM elt.run WHERE pipeline LIKE '${prefix}\_%' AND status IN ('queued', 'running')")
		[ "$n" = 0 ] && return 0
		sleep 0.2
	done
	echo "warning: runs still active after 20 s" >&2
}

q -c "DROP SCHEMA IF EXISTS bench_sched CASCADE" -c "CREATE SCHEMA bench_sched" >/dev/null 2>&1
q -c "DELETE FROM elt.pipeline WHERE name LIKE 'lat\_%' OR name LIKE 'load\_%'" >/dev/null

echo "== scheduler: start delay ($LATENCY_PIPELINES pipelines every second for ${LATENCY_SECONDS}s)"
set_workers 8
create_pipelines lat "$LATENCY_PIPELINES"
q -c "SELECT elt.resume(name) FROM elt.pipeline WHERE name LIKE 'lat\_%'" >/dev/null
sleep "$LATENCY_SECONDS"
drain lat
q <<'SQL'
WITH d AS (
	SELECT extract(epoch FROM h.at - r.scheduled_at) * 1000 AS ms
	FROM elt.run r JOIN bench_sched.hit h ON h.run = r.run_id
	WHERE r.pipeline LIKE 'lat\_%' AND r.trigger = 'schedule')
SELECT format(E'runs measured:   %s\n'
	'                  pg_elt     goal    ratio (goal / pg_elt)\n'
	'median delay:   %6s ms %5s ms   %5sx\n'
	'95th percentile:%6s ms %5s ms   %5sx\n'
	'max delay:      %6s ms',
	count(*),
	round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1), 20,
	round(20 / greatest(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), 0.001)::numeric, 1),
	round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 1), 100,
	round(100 / greatest(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms), 0.001)::numeric, 1),
	round(max(ms)::numeric, 1))
FROM d;
SQL

echo
echo "== scheduler: $LOAD_PIPELINES pipelines every second for ${LOAD_SECONDS}s, max_workers 4"
set_workers 4
create_pipelines load "$LOAD_PIPELINES"
start=$(q -c "SELECT date_trunc('second', clock_timestamp()) + interval '2 seconds'")
q -c "SELECT elt.resume(name) FROM elt.pipeline WHERE name LIKE 'load\_%'" >/dev/null
sleep $((LOAD_SECONDS + 2))
stop=$(q -c "SELECT timestamptz '$start' + interval '$LOAD_SECONDS seconds'")
drain load
load_report load bench_sched.hit "$start" "$stop"

q -c "DELETE FROM elt.pipeline WHERE name LIKE 'lat\_%' OR name LIKE 'load\_%'" \
  -c "DROP SCHEMA bench_sched CASCADE" -c "ALTER SYSTEM RESET pg_elt.max_workers" \
  -c "SELECT pg_reload_conf()" >/dev/null

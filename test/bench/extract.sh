#!/bin/bash
# Extraction benchmarks, side by side in one run:
#  1. randomuser-like records from the mock API (paged JSON from /api, and
#     one NDJSON response from /huge, streamed as it is made) against COPY
#     FROM a file holding the same records into an identical table;
#  2. pages with 100 ms of latency each: concurrency 8 against concurrency 1;
#  3. the backend's peak memory while extracting one 1 GB JSON response
#     (records at $.results) against its idle size.
# Environment: PGHOST/PGPORT/PGDATABASE/PGUSER, MOCK_API_PORT, BENCH_DIR.
# EXTRACT_BENCH_RECORDS and EXTRACT_BENCH_HUGE_BYTES shrink it for a quick try.
set -euo pipefail
base="http://127.0.0.1:$MOCK_API_PORT"
N=${EXTRACT_BENCH_RECORDS:-200000}
PAGE=5000
PAGES=$(( (N + PAGE - 1) / PAGE ))
N=$(( PAGES * PAGE ))
HUGE_BYTES=${EXTRACT_BENCH_HUGE_BYTES:-1073741824}
LAT_PAGES=40
ROUNDS=3

sql() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
min() { echo "if ($1 < $2) $1 else $2" | bc -l; }

sql >/dev/null <<SQL
SET client_min_messages = warning;
SELECT elt.drop_source(name, cascade => true) FROM elt.source WHERE name LIKE 'bench%';
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
SELECT elt.create_source('bench', '$base', options => '{"concurrency": 4, "timeout": "120 s"}');
SELECT elt.create_stream('bench', 'paged', '/api', params => '{"results": $PAGE, "seed": "bench"}',
						 records => '\$.results', pagination => '{"type": "page", "max_pages": $PAGES}',
						 target => 'bench.paged');
-- one NDJSON body of N records, streamed by the mock API as it is made
SELECT elt.create_stream('bench', 'ndjson', '/huge', params => '{"records": $N, "seed": "bench", "format": "ndjson"}',
						 format => 'ndjson', target => 'bench.ndjson');
SELECT elt.create_source('bench_c1', '$base', options => '{"concurrency": 1}');
SELECT elt.create_source('bench_c8', '$base', options => '{"concurrency": 8}');
SELECT elt.create_stream(s, 'latency', '/api', params => '{"results": 500, "seed": "latency", "delay": 100}',
						 records => '\$.results', pagination => '{"type": "page", "max_pages": $LAT_PAGES}',
						 target => 'bench.' || s)
  FROM unnest(ARRAY['bench_c1', 'bench_c8']) s;
SELECT elt.create_stream('bench', 'huge', '/huge', params => '{"bytes": $HUGE_BYTES, "seed": "huge"}',
						 records => '\$.results', target => 'bench.huge');
SQL

# --- 1. extract against COPY ----------------------------------------------

# The mock API caches the pages it builds: each kind is warmed up, then timed.
time_extract() {
	local stream=$1 best=999999 t0 t1 n
	sql -c "SELECT * FROM elt.extract('$stream')" >/dev/null	# warm-up
	for round in $(seq 1 $ROUNDS); do
		sql -c "TRUNCATE bench.${stream#bench.}" -c "CHECKPOINT"
		t0=$(now)
		n=$(sql -c "SELECT records FROM elt.extract('$stream')")
		t1=$(now)
		[ "$n" = "$N" ] || { echo "$stream loaded $n records, not $N" >&2; exit 1; }
		best=$(min "$(secs "$t0" "$t1")" "$best")
	done
	echo "$best"
}
best_ndjson=$(time_extract bench.ndjson)
best_paged=$(time_extract bench.paged)
bytes_paged=$(sql -c "SELECT bytes FROM elt.batch WHERE stream = 'bench.paged' ORDER BY batch_id DESC LIMIT 1")
bytes_ndjson=$(sql -c "SELECT bytes FROM elt.batch WHERE stream = 'bench.ndjson' ORDER BY batch_id DESC LIMIT 1")

# The baseline: the very same records, as a COPY file, into an identical
# table (best of $ROUNDS).
time_copy() {
	local table=$1 best=999999 t0 t1
	sql -c "COPY (SELECT _elt_batch_id, _elt_loaded_at, _elt_record FROM bench.$table) TO '$BENCH_DIR/$table.copy'" \
		-c "CREATE TABLE bench.copy_$table (LIKE bench.$table INCLUDING ALL)"
	for round in $(seq 1 $ROUNDS); do
		sql -c "TRUNCATE bench.copy_$table" -c "CHECKPOINT"
		t0=$(now)
		sql -c "COPY bench.copy_$table FROM '$BENCH_DIR/$table.copy'"
		t1=$(now)
		best=$(min "$(secs "$t0" "$t1")" "$best")
	done
	same=$(sql -c "SELECT count(*) = 0 FROM (SELECT _elt_record FROM bench.$table
											  EXCEPT ALL SELECT _elt_record FROM bench.copy_$table) d")
	[ "$same" = "t" ] || { echo "bench.$table and its copy differ" >&2; exit 1; }
	rm -f "$BENCH_DIR/$table.copy"
	echo "$best"
}
copy_paged=$(time_copy paged)
copy_ndjson=$(time_copy ndjson)

echo
printf '%d randomuser-like records, best of %d          %8s %9s %9s %7s\n' "$N" "$ROUNDS" "MB" "COPY s" "extract s" "ratio"
printf '%-48s %8.1f %9.3f %9.3f %6.2fx\n' "paged JSON ($PAGES pages of $PAGE, concurrency 4)" \
	"$(echo "$bytes_paged / 1048576" | bc -l)" "$copy_paged" "$best_paged" "$(echo "$best_paged / $copy_paged" | bc -l)"
printf '%-48s %8.1f %9.3f %9.3f %6.2fx\n' "one NDJSON response" \
	"$(echo "$bytes_ndjson / 1048576" | bc -l)" "$copy_ndjson" "$best_ndjson" "$(echo "$best_ndjson / $copy_ndjson" | bc -l)"
echo "(COPY: COPY FROM a file of the same records into an identical table;"
echo " aim: extract at most 1.15x the time of COPY)"
sql -c "DROP TABLE bench.paged, bench.ndjson, bench.copy_paged, bench.copy_ndjson"

# --- 2. latency: concurrency 8 against 1 ------------------------------------

sql -c "SELECT * FROM elt.extract('bench_c8.latency')" >/dev/null	# warm-up
best_c1=999999
best_c8=999999
for round in 1 2; do
	t0=$(now)
	sql -c "SELECT * FROM elt.extract('bench_c1.latency')" >/dev/null
	t1=$(now)
	best_c1=$(min "$(secs "$t0" "$t1")" "$best_c1")
	t0=$(now)
	sql -c "SELECT * FROM elt.extract('bench_c8.latency')" >/dev/null
	t1=$(now)
	best_c8=$(min "$(secs "$t0" "$t1")" "$best_c8")
done
echo
printf '%d pages of 500 records, 100 ms latency each (best of 2)   %9s %7s\n' "$LAT_PAGES" "seconds" "ratio"
printf '%-58s %9.3f %7s\n' "concurrency 1" "$best_c1" "1.00x"
printf '%-58s %9.3f %6.2fx\n' "concurrency 8" "$best_c8" "$(echo "$best_c8 / $best_c1" | bc -l)"
echo "(aim: concurrency 8 at most 0.25x the time of concurrency 1)"
sql -c "DROP TABLE bench.bench_c1, bench.bench_c8"

# --- 3. memory while extracting one 1 GB response ---------------------------

out="$BENCH_DIR/huge.out"
PGAPPNAME=elt_bench_memory psql -qAtX -v ON_ERROR_STOP=1 \
	-c "SELECT pg_sleep(2)" -c "SELECT records, bytes FROM elt.extract('bench.huge')" >"$out" 2>&1 &
client=$!
pid=""
for _ in $(seq 1 100); do
	pid=$(sql -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'elt_bench_memory'")
	[ -n "$pid" ] && break
	sleep 0.05
done
[ -n "$pid" ] || { echo "could not find the benchmark backend" >&2; exit 1; }
sleep 1
idle_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
idle_anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
peak_hwm=$idle_rss
peak_anon=$idle_anon
while kill -0 "$client" 2>/dev/null && [ -r "/proc/$pid/status" ]; do
	h=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
	a=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
	[ -n "$h" ] && [ "$h" -gt "$peak_hwm" ] && peak_hwm=$h
	[ -n "$a" ] && [ "$a" -gt "$peak_anon" ] && peak_anon=$a
	sleep 0.1
done
wait "$client" || { cat "$out" >&2; exit 1; }
IFS='|' read -r huge_records huge_bytes < <(tail -n 1 "$out")
echo
printf 'one %.0f MB JSON response, %d records at $.results               %9s\n' \
	"$(echo "$huge_bytes / 1048576" | bc -l)" "$huge_records" "MB"
printf '%-62s %9.1f\n' "backend resident size when idle (VmRSS)" "$(echo "$idle_rss / 1024" | bc -l)"
printf '%-62s %9.1f\n' "backend peak resident size during the extract (VmHWM)" "$(echo "$peak_hwm / 1024" | bc -l)"
printf '%-62s %9.1f\n' "growth over idle" "$(echo "($peak_hwm - $idle_rss) / 1024" | bc -l)"
printf '%-62s %9.1f\n' "of which private memory (peak RssAnon - idle RssAnon)" "$(echo "($peak_anon - $idle_anon) / 1024" | bc -l)"
echo "(aim: less than 64 MB above the idle size)"

sql >/dev/null <<SQL
SET client_min_messages = warning;
SELECT elt.drop_source(name, cascade => true) FROM elt.source WHERE name LIKE 'bench%';
DROP SCHEMA bench CASCADE;
SQL

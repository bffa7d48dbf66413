#!/bin/bash
# Extraction benchmarks, each side by side on one server (test/bench/lib):
#  1. randomuser-like records from the mock API, at 50,000, 200,000 and
#     800,000 records: paged JSON (pages of 5,000 at $.results, concurrency
#     4) and one NDJSON response (streamed by the mock API as it is made),
#     each against COPY FROM a file holding the very same records into an
#     identical table (aim: at most 1.0x COPY);
#  2. pages with 100 ms of latency each: concurrency 8 against concurrency 1
#     (aim: at most 0.25x);
#  3. the backend's peak memory while extracting one 1 GB JSON response
#     (records at $.results) against its idle size (aim: under 64 MB).
# Environment: PGHOST/PGPORT/PGDATABASE/PGUSER, MOCK_API_PORT, BENCH_DIR,
# BENCH_ROUNDS.  EXTRACT_BENCH_SIZES (record counts) and
# EXTRACT_BENCH_HUGE_BYTES shrink it for a quick try.
set -euo pipefail
. "$(dirname "$0")/lib/compare.sh"
. "$(dirname "$0")/lib/memory.sh"
base="http://127.0.0.1:$MOCK_API_PORT"
SIZES=${EXTRACT_BENCH_SIZES:-50000 200000 800000}
PAGE=5000
HUGE_BYTES=${EXTRACT_BENCH_HUGE_BYTES:-1073741824}
LAT_PAGES=40

sql() { bench_sql "$@"; }

bench_settings "mock API on loopback, same machine"
sql >/dev/null <<SQL
SET client_min_messages = warning;
SELECT elt.drop_source(name, cascade => true) FROM elt.source WHERE name LIKE 'bench%';
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
SELECT elt.create_source('bench', '$base', options => '{"concurrency": 4, "timeout": "300 s"}');
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

# the side being timed: STREAM (bench.NAME) loads N records into
# bench.NAME; the baseline COPYs the same records into bench.copy_NAME
extract_side() {
	local n
	n=$(sql -c "SET client_min_messages = error" -c "SELECT records FROM elt.extract('bench.$CUR')")
	[ "$n" = "$CUR_N" ] || { echo "bench.$CUR loaded $n records, not $CUR_N" >&2; return 1; }
}
copy_side() {
	sql -c "COPY bench.copy_$CUR FROM '$BENCH_DIR/$CUR.copy'" >/dev/null
}
prep_side() {
	if [ "$1" = pgelt ]; then
		sql -c "TRUNCATE bench.$CUR"
	else
		sql -c "TRUNCATE bench.copy_$CUR"
	fi
}

declare -a summary=()
for N in $SIZES; do
	pages=$(( (N + PAGE - 1) / PAGE ))
	N=$(( pages * PAGE ))
	sql >/dev/null <<SQL
SET client_min_messages = warning;
SELECT elt.create_stream('bench', 'paged_$N', '/api', params => '{"results": $PAGE, "seed": "bench"}',
						 records => '\$.results', pagination => '{"type": "page", "max_pages": $pages}',
						 target => 'bench.paged_$N');
SELECT elt.create_stream('bench', 'ndjson_$N', '/huge', params => '{"records": $N, "seed": "bench", "format": "ndjson"}',
						 format => 'ndjson', target => 'bench.ndjson_$N');
SQL
	for kind in paged ndjson; do
		CUR=${kind}_$N
		CUR_N=$N
		# the warm-up extract (the mock API caches what it builds) gives
		# the records of COPY's file, and the identical table it loads
		extract_side
		bytes=$(sql -c "SELECT bytes FROM elt.batch WHERE stream = 'bench.$CUR' ORDER BY batch_id DESC LIMIT 1")
		sql -c "COPY (SELECT _elt_batch_id, _elt_loaded_at, _elt_record FROM bench.$CUR) TO '$BENCH_DIR/$CUR.copy'" \
			-c "CREATE TABLE bench.copy_$CUR (LIKE bench.$CUR INCLUDING ALL)"
		if [ $kind = paged ]; then
			what="paged JSON, $pages pages of $PAGE, concurrency 4"
		else
			what="one NDJSON response"
		fi
		echo
		bench_compare "$N records, $what ($(echo "$bytes / 1048576" | bc) MB): extract against COPY FROM a file" \
			prep_side extract_side copy_side 1.0
		summary+=("$(printf '%-8s %-7s %6.2fx (%.2f-%.2fx)' "$N" "$kind" "$BENCH_RATIO" "$BENCH_RATIO_MIN" "$BENCH_RATIO_MAX")")
		same=$(sql -c "SELECT count(*) = 0 FROM (SELECT _elt_record FROM bench.$CUR
												  EXCEPT ALL SELECT _elt_record FROM bench.copy_$CUR) d")
		[ "$same" = "t" ] || { echo "bench.$CUR and its copy differ" >&2; exit 1; }
		rm -f "$BENCH_DIR/$CUR.copy"
		sql -c "DROP TABLE bench.$CUR, bench.copy_$CUR"
	done
done
echo
echo "extract / COPY of the same records into the same table (aim: at most 1.00x at every size):"
printf '  %s\n' "${summary[@]}"

# --- 2. latency: concurrency 8 against 1 ------------------------------------

latency_side() {
	sql -c "SET client_min_messages = error" -c "SELECT records FROM elt.extract('$1.latency')" >/dev/null
}
c8_side() { latency_side bench_c8; }
c1_side() { latency_side bench_c1; }
c8_side	# warm-up
echo
bench_compare "$LAT_PAGES pages of 500 records, 100 ms latency each: concurrency 8 against concurrency 1" \
	: c8_side c1_side 0.25
sql -c "DROP TABLE bench.bench_c1, bench.bench_c8"

# --- 3. memory while extracting one 1 GB response ---------------------------

out="$BENCH_DIR/huge.out"
bench_memory elt_bench_memory "$out" \
	-c "SELECT pg_sleep(2)" -c "SELECT records, bytes FROM elt.extract('bench.huge')"
IFS='|' read -r huge_records huge_bytes < <(tail -n 1 "$out")
growth=$(echo "($peak_hwm - $idle_rss) / 1024" | bc -l)
echo
printf 'one %.0f MB JSON response, %d records at $.results               %9s\n' \
	"$(echo "$huge_bytes / 1048576" | bc -l)" "$huge_records" "MB"
printf '%-62s %9.1f\n' "backend resident size when idle (VmRSS)" "$(echo "$idle_rss / 1024" | bc -l)"
printf '%-62s %9.1f\n' "backend peak resident size during the extract (VmHWM)" "$(echo "$peak_hwm / 1024" | bc -l)"
printf '%-62s %9.1f\n' "growth over idle" "$growth"
printf '%-62s %9.1f\n' "of which private memory (peak RssAnon - idle RssAnon)" "$(echo "($peak_anon - $idle_anon) / 1024" | bc -l)"
bench_aim "memory growth (MB) while extracting it:" "$growth" 64

sql >/dev/null <<SQL
SET client_min_messages = warning;
SELECT elt.drop_source(name, cascade => true) FROM elt.source WHERE name LIKE 'bench%';
DROP SCHEMA bench CASCADE;
SQL

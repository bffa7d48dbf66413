#!/bin/bash
# Export benchmark: 1,000,000 fact rows exported as CSV to s3rver (an
# S3-compatible store on loopback, started here and stopped after) by
# elt.export(), against COPY (query) TO a local file on the same server and
# data; both alternated, after a CHECKPOINT, median of the rounds
# (test/bench/lib/compare.sh).  Then
# the backend's memory growth during one export (peak VmHWM and RssAnon
# against the idle sizes, the table read once before in the same backend so
# that shared buffers it maps do not count as growth).
# Environment: PGHOST/PGPORT/PGDATABASE/PGUSER, BENCH_DIR.
# EXPORT_BENCH_ROWS and EXPORT_BENCH_ROUNDS shrink it for a quick try.
set -euo pipefail
. "$(dirname "$0")/lib/compare.sh"
. "$(dirname "$0")/lib/memory.sh"
N=${EXPORT_BENCH_ROWS:-1000000}
ROUNDS=${EXPORT_BENCH_ROUNDS:-3}
PART=${EXPORT_BENCH_PART_SIZE:-8388608}
s3dir="$(cd "$(dirname "$0")/../s3rver" && pwd)"

sql() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

if ! command -v node >/dev/null 2>&1 || [ ! -f "$s3dir/node_modules/s3rver/package.json" ]; then
	echo "export benchmark skipped: s3rver is not installed (scripts/setup_s3rver.sh)"
	exit 0
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data="$BENCH_DIR/s3rver"
rm -rf "$data"
mkdir -p "$data"
node "$s3dir/node_modules/s3rver/bin/s3rver.js" -d "$data" -a 127.0.0.1 -p "$port" \
	--configure-bucket bench >"$BENCH_DIR/s3rver.log" 2>&1 &
s3pid=$!
trap 'kill $s3pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done

sql >/dev/null <<SQL
SET client_min_messages = warning;
SET log_statement = 'none';
SELECT elt.set_secret('bench_s3_key', 'S3RVER');
SELECT elt.set_secret('bench_s3_secret', 'S3RVER');
DROP SCHEMA IF EXISTS bench_export CASCADE;
CREATE SCHEMA bench_export;
CREATE TABLE bench_export.fact AS
SELECT g AS order_id, (g % 5000) + 1 AS customer_key, (g % 365) + 1 AS date_key,
	   (g % 97) + 1 AS product_key, (g % 9) + 1 AS quantity,
	   round((g % 10000) * 1.37, 2) AS amount,
	   '2026-01-01'::timestamptz + g * interval '17 seconds' AS ordered_at,
	   CASE WHEN g % 11 = 0 THEN NULL ELSE 'note ' || (g % 1000) END AS note
FROM generate_series(1, $N) g;
VACUUM ANALYZE bench_export.fact;
SQL
query="SELECT * FROM bench_export.fact"
opts="{\"endpoint\": \"http://127.0.0.1:$port\", \"access_key_id\": \"{{secret:bench_s3_key}}\", \"secret_access_key\": \"{{secret:bench_s3_secret}}\", \"part_size\": $PART}"

# warm-up of both sides
sql -c "COPY ($query) TO '$BENCH_DIR/fact.csv' (FORMAT csv, HEADER)"
sql -c "SELECT rows FROM elt.export('$query', 's3://bench/fact.csv', 'csv', '$opts')" >/dev/null

copy_side() { sql -c "COPY ($query) TO '$BENCH_DIR/fact.csv' (FORMAT csv, HEADER)" >/dev/null; }
export_side() {
	local r rows bytes
	r=$(sql -c "SELECT rows || ' ' || bytes FROM elt.export('$query', 's3://bench/fact.csv', 'csv', '$opts')")
	read -r rows bytes <<<"$r"
	[ "$rows" = "$N" ] || { echo "exported $rows rows, not $N" >&2; return 1; }
	echo "$bytes" >"$BENCH_DIR/export.bytes"
}
echo
bench_settings "s3rver on loopback, same machine; $N rows, part_size $PART bytes, CSV with header"
BENCH_ROUNDS=$ROUNDS bench_compare "elt.export() to s3rver (multipart) against COPY (query) TO a local file" \
	: export_side copy_side 1.5
cmp -s "$BENCH_DIR/fact.csv" "$data/bench/fact.csv._S3rver_object" ||
	{ echo "the exported object differs from COPY's file" >&2; exit 1; }
printf '%.1f MB exported\n' "$(echo "$(cat "$BENCH_DIR/export.bytes") / 1048576" | bc -l)"
# what s3rver itself spends on joining the parts (CompleteMultipartUpload),
# from its log: server time the export waits for
complete_ms=$(sed 's/\x1b\[[0-9;]*m//g' "$BENCH_DIR/s3rver.log" |
	awk '/\?uploadId=[^ &]* 200 [0-9]+ms/ && !/partNumber/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+ms$/) print $i + 0}' |
	tail -n "$ROUNDS" | median)
echo "s3rver's CompleteMultipartUpload (joining the parts), median: ${complete_ms} ms"

# --- memory during one export ------------------------------------------------

out="$BENCH_DIR/export.out"
bench_memory elt_bench_export_memory "$out" \
	-c "SET max_parallel_workers_per_gather = 0" -c "SELECT count(*) FROM ($query) q" -c "SELECT pg_sleep(2)" \
	-c "SELECT rows, bytes FROM elt.export('$query', 's3://bench/fact2.csv', 'csv', '$opts')"
echo
printf 'memory of the backend exporting %d rows                    %9s\n' "$N" "MB"
printf '%-58s %9.1f\n' "idle resident size (VmRSS), table read once before" "$(echo "$idle_rss / 1024" | bc -l)"
printf '%-58s %9.1f\n' "high-water mark before the export (VmHWM)" "$(echo "$idle_hwm / 1024" | bc -l)"
printf '%-58s %9.1f\n' "peak during the export (VmHWM)" "$(echo "$peak_hwm / 1024" | bc -l)"
printf '%-58s %9.1f\n' "growth: peak VmHWM - idle VmRSS" "$(echo "($peak_hwm - $idle_rss) / 1024" | bc -l)"
printf '%-58s %9.1f\n' "private memory growth (peak RssAnon - idle RssAnon)" "$(echo "($peak_anon - $idle_anon) / 1024" | bc -l)"
echo "(aim: growth less than 32 MB)"

rm -f "$BENCH_DIR/fact.csv"
sql >/dev/null <<SQL
SET client_min_messages = warning;
DROP SCHEMA bench_export CASCADE;
SELECT elt.drop_secret('bench_s3_key');
SELECT elt.drop_secret('bench_s3_secret');
SQL

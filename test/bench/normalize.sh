#!/bin/bash
# Typed landing benchmark: the randomuser-like records of the mock API
# (nested name, location, login, id, dob ...), already extracted into a
# staging table, turned into the typed root table three ways, on the same
# server and data, alternating, after a CHECKPOINT each:
#   A. elt.normalize (schema discovery over the batch, then its INSERT ... SELECT,
#      and its bookkeeping);
#   B. a hand-written INSERT ... SELECT with -> / ->> and casts into the same
#      typed table (the floor for set-based SQL over jsonb; aim: A/B <= 1.0);
#   C. COPY of already-flat CSV of the same rows into the same table.
# Prints the server settings, the median of each and the ratios with their
# spread (min and max of the per-round ratios).
# Environment: PGHOST/PGPORT/PGDATABASE/PGUSER, MOCK_API_PORT, BENCH_DIR.
# NORMALIZE_BENCH_RECORDS and NORMALIZE_BENCH_ROUNDS shrink it for a quick try.
set -euo pipefail
base="http://127.0.0.1:$MOCK_API_PORT"
N=${NORMALIZE_BENCH_RECORDS:-200000}
ROUNDS=${NORMALIZE_BENCH_ROUNDS:-3}
PAGE=5000
PAGES=$(( (N + PAGE - 1) / PAGE ))
N=$(( PAGES * PAGE ))
dir=${BENCH_DIR:?BENCH_DIR must name a directory the server can write (scripts/run_bench.sh sets it)}

sql() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }

sql >/dev/null <<SQL
SET client_min_messages = warning;
SELECT elt.drop_source(name, cascade => true) FROM elt.source WHERE name = 'bench_nz';
DELETE FROM elt.normalize_stream ns WHERE NOT EXISTS (SELECT 1 FROM elt.stream s WHERE s.stream_id = ns.stream_id);
DROP SCHEMA IF EXISTS bench_nz CASCADE;
DROP SCHEMA IF EXISTS bench_nz_typed CASCADE;
CREATE SCHEMA bench_nz;
SELECT elt.create_source('bench_nz', '$base', options => '{"concurrency": 4, "timeout": "120 s"}');
SELECT elt.create_stream('bench_nz', 'users', '/api', params => '{"results": $PAGE, "seed": "bench"}',
						 records => '\$.results', pagination => '{"type": "page", "max_pages": $PAGES}',
						 target => 'bench_nz.users');
SQL
n=$(PGOPTIONS="-c client_min_messages=error" sql -c "SELECT records FROM elt.extract('bench_nz.users')")
[ "$n" = "$N" ] || { echo "extracted $n records, not $N" >&2; exit 1; }
sid=$(sql -c "SELECT stream_id FROM elt.stream WHERE source = 'bench_nz' AND name = 'users'")
# the first normalization creates the typed table (not timed)
sql -c "SELECT elt.normalize('bench_nz.users', 'bench_nz_typed')" >/dev/null
ncols=$(sql -c "SELECT count(*) FROM elt.normalize_column WHERE stream_id = $sid AND table_path = '[]'")
nchild=$(sql -c "SELECT count(*) FROM elt.normalize_table WHERE stream_id = $sid AND table_path <> '[]'")

# B: the same typed table, loaded by the INSERT ... SELECT one writes by hand
sql -c "CREATE TABLE bench_nz.hand (LIKE bench_nz_typed.users INCLUDING ALL)"
hand_sql=$(sql <<SQL
SELECT 'INSERT INTO bench_nz.hand (_elt_id, _elt_batch_id, _elt_loaded_at, '
	   || string_agg(quote_ident(column_name), ', ' ORDER BY column_name) || ') '
	   || 'SELECT gen_random_uuid(), _elt_batch_id, now(), '
	   || string_agg(
			'(' || CASE WHEN jsonb_array_length(json_path) = 1 THEN '_elt_record->>' || quote_literal(json_path->>0)
				 ELSE '_elt_record' || (SELECT string_agg('->' || quote_literal(k), '' ORDER BY i)
										  FROM jsonb_array_elements_text(json_path) WITH ORDINALITY q(k, i)
										 WHERE i < jsonb_array_length(json_path))
					  || '->>' || quote_literal(json_path->>(jsonb_array_length(json_path) - 1)) END
			|| ')' || CASE data_type WHEN 'text' THEN '' ELSE '::' || data_type END,
			', ' ORDER BY column_name)
	   || ' FROM bench_nz.users'
  FROM elt.normalize_column WHERE stream_id = $sid AND table_path = '[]' AND variant_of IS NULL
SQL
)
# a warm-up of B, checked against A: the same typed values in every row
cols=$(sql -c "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY column_name) FROM elt.normalize_column WHERE stream_id = $sid AND table_path = '[]'")
sql -c "$hand_sql"
diff=$(sql -c "SELECT count(*) FROM (SELECT _elt_batch_id, $cols FROM bench_nz_typed.users EXCEPT ALL SELECT _elt_batch_id, $cols FROM bench_nz.hand) x")
[ "$diff" = "0" ] || { echo "the hand-written load differs from elt.normalize in $diff rows" >&2; exit 1; }
# C: the same rows as flat CSV
sql -c "COPY bench_nz.hand TO '$dir/normalize_flat.csv' (FORMAT csv)" -c "TRUNCATE bench_nz.hand"

run_a() {
	sql -c "TRUNCATE bench_nz_typed.users" -c "DELETE FROM elt.normalized_batch WHERE stream_id = $sid" \
		-c "CHECKPOINT"
	local t0 t1 rows
	t0=$(now)
	rows=$(sql -c "SELECT root_rows FROM elt.normalize('bench_nz.users')")
	t1=$(now)
	[ "$rows" = "$N" ] || { echo "normalize loaded $rows rows, not $N" >&2; exit 1; }
	secs "$t0" "$t1"
}
run_b() {
	sql -c "TRUNCATE bench_nz.hand" -c "CHECKPOINT"
	local t0 t1
	t0=$(now)
	sql -c "$hand_sql"
	t1=$(now)
	secs "$t0" "$t1"
}
run_c() {
	sql -c "TRUNCATE bench_nz.hand" -c "CHECKPOINT"
	local t0 t1
	t0=$(now)
	sql -c "COPY bench_nz.hand FROM '$dir/normalize_flat.csv' (FORMAT csv)"
	t1=$(now)
	secs "$t0" "$t1"
}

a=(); b=(); c=()
for round in $(seq 1 "$ROUNDS"); do
	# alternate which side goes first
	if [ $((round % 2)) -eq 1 ]; then
		a+=("$(run_a)"); b+=("$(run_b)"); c+=("$(run_c)")
	else
		c+=("$(run_c)"); b+=("$(run_b)"); a+=("$(run_a)")
	fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
ratios() {
	local -n x=$1 y=$2
	for i in "${!x[@]}"; do echo "${x[$i]} / ${y[$i]}" | bc -l; done
}
spread() { sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.2f-%.2f", lo, hi}'; }

ma=$(median "${a[@]}"); mb=$(median "${b[@]}"); mc=$(median "${c[@]}")
echo "server: $(sql -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'work_mem', 'maintenance_work_mem', 'synchronous_commit', 'wal_level', 'jit', 'max_parallel_workers_per_gather')")"
printf 'normalize %d randomuser-like records into a typed root table (%d columns, %d child tables), median of %d\n' \
	"$N" "$ncols" "$nchild" "$ROUNDS"
printf '  A elt.normalize                          %8.3f s  (rounds: %s)\n' "$ma" "${a[*]}"
printf '  B hand-written INSERT ... SELECT ->>     %8.3f s  (rounds: %s)\n' "$mb" "${b[*]}"
printf '  C COPY of flat CSV                       %8.3f s  (rounds: %s)\n' "$mc" "${c[*]}"
printf '  A / B  %.2fx  (spread %s; aim <= 1.0x)\n' "$(echo "$ma / $mb" | bc -l)" "$(ratios a b | spread)"
printf '  A / C  %.2fx  (spread %s)\n' "$(echo "$ma / $mc" | bc -l)" "$(ratios a c | spread)"
echo "  (B's rows hold the same typed values as A's: checked before timing)"

#!/bin/bash
# Benchmark of the dimensional models, side by side with their baselines:
#
#  1. type 2 merge of a 1,000,000-row source into a 1,000,000-row dimension
#     (10% changed, 1% new, 1% deleted, deletes closed) with
#     elt.merge_dimension, against dbt's snapshot SQL for the same change
#     (check strategy, invalidate_hard_deletes: the staging table of
#     insertions, updates and deletes, then UPDATE ... FROM on dbt_scd_id and
#     INSERT ... SELECT, as dbt-postgres' snapshot macros generate them);
#  2. the same merge when only the 10,000 changed rows are passed, into a
#     1,000,000-row and a 5,000,000-row dimension (the time should not grow
#     with the dimension);
#  3. a 5,000,000-row fact build with three dimension lookups, one of them
#     as-of on the type 2 dimension, with elt.merge_fact, against a plain
#     INSERT ... SELECT joining the same dimensions on current rows only.
#
# Both sides use the same kind of tables, are vacuumed and analyzed before
# they are timed, start from a checkpoint, and run with the same settings;
# the first comparison runs TRANSFORM_ROUNDS times (default 3) and compares
# medians.  Data is generated in SQL.
# Run by "make bench" (scripts/run_bench.sh sets PGHOST, PGPORT, ...).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sqldir="$here/transform"
export PGOPTIONS="${PGOPTIONS:-} -c work_mem=64MB -c maintenance_work_mem=256MB -c timezone=UTC"

q() {
	psql -X -q -v ON_ERROR_STOP=1 -At "$@"
}

# timed LABEL ARGS...: run psql with ARGS, print the wall time, keep it in $T.
timed() {
	local label="$1"
	shift
	local start end out
	start=$(date +%s.%N)
	out=$(q "$@")
	end=$(date +%s.%N)
	T=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
	printf '  %-44s %8.2f s   %s\n' "$label" "$T" "$out"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

echo "transform benchmark (work_mem=64MB on both sides)"
echo "generating data..."
q -f "$sqldir/setup.sql" >/dev/null

# settle: before each timed side, write everything out (CHECKPOINT, then
# the kernel's dirty pages), so that neither side pays for the other's
# writes and both start with the same full-page-write state.
settle() {
	q -c "CHECKPOINT"
	sync
}

median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

echo
echo "1. type 2 merge, 1,000,000-row source into a 1,000,000-row dimension"
echo "   (100,000 changed, 10,000 new, 10,000 deleted; deletes closed)"
rounds=${TRANSFORM_ROUNDS:-3}
ours_all=()
dbt_all=()
for round in $(seq 1 "$rounds"); do
	echo "  round $round of $rounds"
	q -c "DROP TABLE IF EXISTS bench.dim_user, bench.dbt_user_snapshot"
	timed "initial build, pg_elt (not compared)" -c \
		"SELECT format('inserted %s', inserted) FROM elt.merge_dimension('bench.dim_user', 'bench.user_v1', '{id}', effective_at => 'updated_at')"
	timed "initial build, dbt snapshot (not compared)" -f "$sqldir/dbt_snapshot_create.sql"
	q -c "VACUUM ANALYZE bench.dim_user" -c "VACUUM ANALYZE bench.dbt_user_snapshot" -c "VACUUM ANALYZE bench.user_v2"
	settle
	timed "pg_elt merge_dimension" -c \
		"SELECT format('inserted %s, updated %s, closed %s, unchanged %s', inserted, updated, closed, unchanged) FROM elt.merge_dimension('bench.dim_user', 'bench.user_v2', '{id}', effective_at => 'updated_at', deletes => 'close')"
	ours_all+=("$T")
	settle
	timed "dbt snapshot SQL (check, hard deletes)" -f "$sqldir/dbt_snapshot_merge.sql"
	dbt_all+=("$T")
	q -f "$sqldir/check_same.sql"
done
ours=$(median "${ours_all[@]}")
dbt=$(median "${dbt_all[@]}")
echo "  median of $rounds rounds: pg_elt $ours s, dbt $dbt s"
echo "  ratio pg_elt / dbt: $(ratio "$ours" "$dbt")   (goal: at most 0.35)"

echo
echo "2. the same merge with only the 10,000 changed rows passed"
q -f "$sqldir/setup_big.sql" >/dev/null
timed "initial build of the 5M dimension (not compared)" -c \
	"SELECT format('inserted %s', inserted) FROM elt.merge_dimension('bench.dim_user_5m', 'bench.user_5m', '{id}', effective_at => 'updated_at')"
q -c "DROP TABLE bench.user_5m" -c "VACUUM ANALYZE bench.dim_user" -c "VACUUM ANALYZE bench.dim_user_5m"
for round in 1 2; do
	timed "round $round, into the 1,000,000-row dimension" -c \
		"SELECT format('inserted %s, closed %s', inserted, closed) FROM elt.merge_dimension('bench.dim_user', 'SELECT id, name, email, city || ''-$round'' AS city, segment, score, updated_at + interval ''$round day'' AS updated_at FROM bench.user_v2 WHERE id % 100 = 7 AND id <= 1000000', '{id}', effective_at => 'updated_at')"
	small=$T
	timed "round $round, into the 5,000,000-row dimension" -c \
		"SELECT format('inserted %s, closed %s', inserted, closed) FROM elt.merge_dimension('bench.dim_user_5m', 'SELECT id, name, email, city || ''-$round'' AS city, segment, score, updated_at + interval ''$round day'' AS updated_at FROM bench.user_v2 WHERE id % 100 = 7 AND id <= 1000000', '{id}', effective_at => 'updated_at')"
	big=$T
done
echo "  ratio 5M / 1M: $(ratio "$big" "$small")   (goal: flat, about 1)"

echo
echo "3. 5,000,000-row fact build, three dimension lookups (one as-of on type 2)"
q -f "$sqldir/setup_fact.sql" >/dev/null
q -c "VACUUM ANALYZE bench.orders" -c "VACUUM ANALYZE bench.dim_user" \
	-c "VACUUM ANALYZE bench.dim_product" -c "VACUUM ANALYZE bench.dim_date"
settle
timed "plain INSERT ... SELECT, current rows" -f "$sqldir/fact_plain.sql"
plain=$T
settle
timed "pg_elt merge_fact" -c \
	"SELECT format('inserted %s', inserted) FROM elt.merge_fact('bench.fact_orders', 'bench.orders', '{order_id}', '[{\"dimension\": \"bench.dim_user\", \"on\": {\"user_id\": \"id\"}, \"as_of\": \"ordered_at\"}, {\"dimension\": \"bench.dim_product\", \"on\": {\"sku\": \"sku\"}}, {\"dimension\": \"bench.dim_date\", \"on\": {\"order_date\": \"date\"}, \"late_arriving\": \"unknown\"}]')"
ours=$T
q -c "SELECT format('  as-of keys differing from current-row keys: %s of %s', count(*) FILTER (WHERE f.user_key <> p.user_key), count(*)) FROM bench.fact_orders f JOIN bench.fact_plain p USING (order_id)"
echo "  ratio pg_elt / plain: $(ratio "$ours" "$plain")   (goal: at most 2)"

q -c "DROP SCHEMA bench CASCADE" >/dev/null 2>&1 || true

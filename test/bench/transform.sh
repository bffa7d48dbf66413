#!/bin/bash
# Benchmark of the dimensional models, side by side with their baselines:
#
#  1. type 2 merge of an N-row source into an N-row dimension (10% changed,
#     1% new, 1% deleted, deletes closed), N = 3,000,000 and 1,000,000
#     (TRANSFORM_LARGE, TRANSFORM_SMALL), with elt.merge_dimension, against
#     the hand-written merge (hand_merge.sql: full join + IS DISTINCT FROM)
#     and dbt's snapshot SQL for the same change (check strategy,
#     invalidate_hard_deletes: the staging table of insertions, updates and
#     deletes, then UPDATE ... FROM on dbt_scd_id and INSERT ... SELECT, as
#     dbt-postgres' snapshot macros generate them); on the bench server and
#     on a second one with default settings (TRANSFORM_DEFAULT_SERVER=off
#     skips it); with Citus installed, the 1,000,000-row merge into a
#     reference dimension on a coordinator and two workers against the same
#     merge into a local dimension (section 4, printed before 2 and 3);
#  2. the same merge when only the 10,000 changed rows are passed, into a
#     1,000,000-row and a 5,000,000-row dimension (the time should not grow
#     with the dimension);
#  2b. the watermark path: 10,000 new staging records merged with
#     watermark => '_elt_batch_id' into 1,000,000- and 5,000,000-row
#     dimensions (the time should not grow with the dimension);
#  3. a 5,000,000-row fact build with three dimension lookups, one of them
#     as-of on the type 2 dimension, with elt.merge_fact, against a plain
#     INSERT ... SELECT joining the same dimensions on current rows only
#     (both rebuilt every round, TRANSFORM_ROUNDS rounds alternated; goal
#     at most 1.2x).
#
# Both sides use the same kind of tables, are vacuumed and analyzed before
# they are timed, start from a checkpoint, and run with the same settings;
# the first comparison runs TRANSFORM_ROUNDS times (default 3), rotating
# the order of the sides every round, and compares medians, with the lowest
# and highest per-round ratio.  There each side starts with the source and
# its own dimension just read and no autovacuum running (settle_reading),
# so that its time does not depend on the side before it.  Beside the
# three sides it times the merge's floor (floor_merge.sql): one read of
# each input and the writes alone (the same close by tid and insert, from
# changes computed beforehand), which no merge writing these rows into
# this table can go below.  Data is generated in SQL.
# Run by "make bench" (scripts/run_bench.sh sets PGHOST, PGPORT, ...).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sqldir="$here/transform"
export PGOPTIONS="${PGOPTIONS:-} -c work_mem=64MB -c maintenance_work_mem=256MB -c timezone=UTC -c client_min_messages=warning"

. "$here/lib/rounds.sh"

settings() {
	q -c "SELECT format('   server: shared_buffers %s, work_mem %s, max_wal_size %s, wal_compression %s, synchronous_commit %s', current_setting('shared_buffers'), current_setting('work_mem'), current_setting('max_wal_size'), current_setting('wal_compression'), current_setting('synchronous_commit'))"
}

# scd2_compare N: the type 2 merge of an N-row source into an N-row
# dimension (10% changed, 1% new, 1% deleted; deletes closed) by pg_elt,
# by the hand-written merge and by dbt's snapshot SQL, the three sides
# alternated (their order rotates every round), each after its inputs were
# read and a checkpoint; then the floor.  Sets SCD2_OURS, SCD2_HAND and
# SCD2_DBT to the medians.
scd2_compare() {
	local n="$1" round
	local -a ours_all=() hand_all=() dbt_all=() floor_all=()
	echo
	echo "1. type 2 merge, $n-row source into a $n-row dimension"
	echo "   (10% changed, 1% new, 1% deleted; deletes closed)"
	settings
	q -v n="$n" -f "$sqldir/setup.sql" >/dev/null
	for round in $(seq 1 "$rounds"); do
		echo "  round $round of $rounds"
		q -c "DROP TABLE IF EXISTS bench.dim_user, bench.dbt_user_snapshot, bench.hand_user, bench.floor_user, bench.floor_changes"
		q -c "SELECT elt.merge_dimension('bench.dim_user', 'bench.user_v1', '{id}', effective_at => 'updated_at')" >/dev/null
		q -f "$sqldir/dbt_snapshot_create.sql" >/dev/null
		q -f "$sqldir/hand_create.sql" >/dev/null
		q -f "$sqldir/floor_prepare.sql" >/dev/null
		q -c "VACUUM ANALYZE bench.dim_user" -c "VACUUM ANALYZE bench.dbt_user_snapshot" \
			-c "VACUUM ANALYZE bench.hand_user" -c "VACUUM ANALYZE bench.user_v2" \
			-c "VACUUM ANALYZE bench.floor_user" -c "VACUUM ANALYZE bench.floor_changes"
		local order
		case $((round % 3)) in
		1) order="ours hand dbt" ;;
		2) order="hand dbt ours" ;;
		0) order="dbt ours hand" ;;
		esac
		for side in $order floor; do
			case $side in
			ours) settle_reading bench.user_v2 bench.dim_user ;;
			hand) settle_reading bench.user_v2 bench.hand_user ;;
			dbt) settle_reading bench.user_v2 bench.dbt_user_snapshot ;;
			floor) settle_reading bench.user_v2 bench.floor_user bench.floor_changes ;;
			esac
			case $side in
			ours)
				timed "pg_elt merge_dimension" -c \
					"SELECT format('inserted %s, updated %s, closed %s, unchanged %s', inserted, updated, closed, unchanged) FROM elt.merge_dimension('bench.dim_user', 'bench.user_v2', '{id}', effective_at => 'updated_at', deletes => 'close')"
				ours_all+=("$T")
				;;
			hand)
				timed "hand-written merge (full join)" -f "$sqldir/hand_merge.sql"
				hand_all+=("$T")
				;;
			dbt)
				timed "dbt snapshot SQL (check, hard deletes)" -f "$sqldir/dbt_snapshot_merge.sql"
				dbt_all+=("$T")
				;;
			floor)
				timed "floor: one read of each input + the writes" -f "$sqldir/floor_merge.sql"
				floor_all+=("$T")
				;;
			esac
		done
		q -f "$sqldir/check_same.sql"
	done
	local ours hand dbt floor
	ours=$(median "${ours_all[@]}")
	hand=$(median "${hand_all[@]}")
	dbt=$(median "${dbt_all[@]}")
	echo "  median of $rounds rounds: pg_elt $ours s, hand-written $hand s, dbt $dbt s"
	echo "  ratio pg_elt / hand-written: $(ratio "$ours" "$hand") (rounds $(spread "${ours_all[@]}" "${hand_all[@]}"))   (goal: at most 0.6)"
	echo "  ratio pg_elt / dbt: $(ratio "$ours" "$dbt") (rounds $(spread "${ours_all[@]}" "${dbt_all[@]}"))   (goal: at most 0.3)"
	floor=$(median "${floor_all[@]}")
	echo "  floor $floor s: floor / hand-written $(ratio "$floor" "$hand") (rounds $(spread "${floor_all[@]}" "${hand_all[@]}")), floor / dbt $(ratio "$floor" "$dbt"); pg_elt above the floor: $(awk -v a="$ours" -v b="$floor" 'BEGIN { printf "%.2f", a - b }') s"
	SCD2_OURS=$ours
	SCD2_HAND=$hand
	SCD2_DBT=$dbt
}

echo "transform benchmark (work_mem=64MB on both sides)"
rounds=${TRANSFORM_ROUNDS:-3}
small=${TRANSFORM_SMALL:-1000000}
large=${TRANSFORM_LARGE:-3000000}
scd2_compare "$large"
large_ours=$SCD2_OURS large_hand=$SCD2_HAND large_dbt=$SCD2_DBT
scd2_compare "$small"
echo
echo "  growth $small -> $large rows ($((large / small))x): pg_elt $(ratio "$large_ours" "$SCD2_OURS"), hand-written $(ratio "$large_hand" "$SCD2_HAND"), dbt $(ratio "$large_dbt" "$SCD2_DBT")   (goal for pg_elt: at most 3.3)"

root="$(cd "$here/../.." && pwd)"

# The same comparison on a second server with initdb's default settings
# (shared_buffers 128MB; max_wal_size kept at 8GB so that no checkpoint
# falls inside a timed statement), when run by make bench.
if [ -n "${BENCH_DIR:-}" ] && [ "${TRANSFORM_DEFAULT_SERVER:-on}" = on ]; then
	(
		. "$root/scripts/common.sh"
		. "$root/scripts/cluster.sh"
		CLUSTER_EXTRA_CONF="max_wal_size = 8GB"
		start_cluster "$BENCH_DIR/pg_default"
		trap stop_cluster EXIT
		q -c "CREATE EXTENSION pg_elt"
		echo
		echo "The same on a server with default settings:"
		scd2_compare "$large"
		large_ours=$SCD2_OURS large_hand=$SCD2_HAND large_dbt=$SCD2_DBT
		scd2_compare "$small"
		echo
		echo "  growth $small -> $large rows ($((large / small))x): pg_elt $(ratio "$large_ours" "$SCD2_OURS"), hand-written $(ratio "$large_hand" "$SCD2_HAND"), dbt $(ratio "$large_dbt" "$SCD2_DBT")   (goal for pg_elt: at most 3.3)"
	)
fi

# With Citus installed: the type 2 merge (1,000,000 rows, 10% changed) into
# a reference dimension on a coordinator with two workers, against the same
# merge into a local dimension on the same coordinator, alternated.
citus_lib="$(pg_config --pkglibdir 2>/dev/null || true)/citus.so"
if [ -n "${BENCH_DIR:-}" ] && [ -e "$citus_lib" ]; then
	(
		. "$root/scripts/common.sh"
		. "$root/scripts/cluster.sh"
		export PGOPTIONS="$PGOPTIONS -c client_min_messages=warning"
		ports=()
		for node in coordinator worker1 worker2; do
			CLUSTER_EXTRA_CONF="shared_preload_libraries = 'citus,pg_elt'
max_wal_size = 8GB"
			start_cluster "$BENCH_DIR/citus_$node"
			ports+=("$PGPORT")
			q -c "CREATE EXTENSION citus"
		done
		trap 'for node in coordinator worker1 worker2; do "$PG_BINDIR/pg_ctl" -D "$BENCH_DIR/citus_$node/data" -m fast -w stop >/dev/null 2>&1 || true; done' EXIT
		export PGHOST="$BENCH_DIR/citus_coordinator" PGPORT="${ports[0]}"
		q -c "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" \
			-c "SELECT citus_add_node('127.0.0.1', ${ports[1]})" \
			-c "SELECT citus_add_node('127.0.0.1', ${ports[2]})" \
			-c "CREATE EXTENSION pg_elt" >/dev/null
		echo
		echo "4. type 2 merge, 1,000,000 rows (10% changed, 1% new, 1% deleted; deletes closed):"
		echo "   Citus reference dimension (coordinator and two workers) vs a local dimension"
		settings
		q -v n=1000000 -f "$sqldir/setup.sql" >/dev/null
		ref_all=()
		local_all=()
		for round in $(seq 1 "$rounds"); do
			q -c "DROP TABLE IF EXISTS bench.dim_user, bench.dim_user_ref"
			q -c "SELECT elt.merge_dimension('bench.dim_user', 'bench.user_v1', '{id}', effective_at => 'updated_at')" \
				-c "SELECT elt.merge_dimension('bench.dim_user_ref', 'bench.user_v1', '{id}', effective_at => 'updated_at', surrogate_key => 'user_key')" \
				-c "SELECT create_reference_table('bench.dim_user_ref')" \
				-c "SELECT truncate_local_data_after_distributing_table('bench.dim_user_ref')" >/dev/null
			q -c "VACUUM ANALYZE bench.dim_user" -c "VACUUM ANALYZE bench.dim_user_ref" -c "VACUUM ANALYZE bench.user_v2"
			if [ $((round % 2)) -eq 1 ]; then order="ref local"; else order="local ref"; fi
			for side in $order; do
				settle
				if [ "$side" = ref ]; then
					timed "pg_elt, reference dimension" -c \
						"SELECT format('inserted %s, closed %s', inserted, closed) FROM elt.merge_dimension('bench.dim_user_ref', 'bench.user_v2', '{id}', effective_at => 'updated_at', deletes => 'close', surrogate_key => 'user_key')"
					ref_all+=("$T")
				else
					timed "pg_elt, local dimension" -c \
						"SELECT format('inserted %s, closed %s', inserted, closed) FROM elt.merge_dimension('bench.dim_user', 'bench.user_v2', '{id}', effective_at => 'updated_at', deletes => 'close')"
					local_all+=("$T")
				fi
			done
			q -c "SELECT format('  same rows on both: %s', CASE WHEN NOT EXISTS ((SELECT id, name, email, city, segment, score, updated_at, valid_from, valid_to <> 'infinity' FROM bench.dim_user EXCEPT ALL SELECT id, name, email, city, segment, score, updated_at, valid_from, valid_to <> 'infinity' FROM bench.dim_user_ref) UNION ALL (SELECT id, name, email, city, segment, score, updated_at, valid_from, valid_to <> 'infinity' FROM bench.dim_user_ref EXCEPT ALL SELECT id, name, email, city, segment, score, updated_at, valid_from, valid_to <> 'infinity' FROM bench.dim_user)) THEN 'yes' ELSE 'NO' END)"
		done
		ref=$(median "${ref_all[@]}")
		loc=$(median "${local_all[@]}")
		echo "  median of $rounds rounds: reference $ref s, local $loc s"
		echo "  ratio reference / local: $(ratio "$ref" "$loc") (rounds $(spread "${ref_all[@]}" "${local_all[@]}"))"
	)
else
	echo
	echo "4. Citus reference dimension: skipped (Citus is not installed)"
fi

# TRANSFORM_SCD2_ONLY=on stops here (sections 1 and 4 only).
if [ "${TRANSFORM_SCD2_ONLY:-off}" = on ]; then
	q -c "DROP SCHEMA bench CASCADE" >/dev/null 2>&1 || true
	exit 0
fi

# Sections 2 and 3 use the 1,000,000-row dimension.
if [ "$small" -ne 1000000 ]; then
	q -v n=1000000 -f "$sqldir/setup.sql" >/dev/null
fi
q -c "DROP TABLE IF EXISTS bench.dim_user, bench.dbt_user_snapshot, bench.hand_user, bench.floor_user, bench.floor_changes"
q -c "SELECT elt.merge_dimension('bench.dim_user', 'bench.user_v1', '{id}', effective_at => 'updated_at')" >/dev/null
q -c "SELECT elt.merge_dimension('bench.dim_user', 'bench.user_v2', '{id}', effective_at => 'updated_at', deletes => 'close')" >/dev/null

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
echo "2b. the watermark path: 10,000 new records of a staging table (9,000 changed"
echo "    members, 1,000 new) merged with watermark => '_elt_batch_id' into a"
echo "    1,000,000-row and a 5,000,000-row dimension, alternated"
q -f "$sqldir/setup_watermark.sql" >/dev/null
for size in 1m 5m; do
	timed "initial build of the $size dimension (not compared)" -c \
		"SELECT format('inserted %s', inserted) FROM elt.merge_dimension('bench.dim_wm_$size', 'bench.stg_$size', '{id}', effective_at => 'updated_at', ignore_columns => '{_elt_batch_id}', watermark => '_elt_batch_id')"
	q -c "VACUUM ANALYZE bench.dim_wm_$size"
done
wm_small=()
wm_big=()
for round in $(seq 1 "$rounds"); do
	q -v b=$((round + 1)) -f "$sqldir/watermark_batch.sql" >/dev/null
	if [ $((round % 2)) -eq 1 ]; then order="1m 5m"; else order="5m 1m"; fi
	for size in $order; do
		settle
		timed "round $round, into the $size dimension" -c \
			"SELECT format('inserted %s, closed %s, unchanged %s', inserted, closed, unchanged) FROM elt.merge_dimension('bench.dim_wm_$size', 'bench.stg_$size', '{id}', effective_at => 'updated_at', ignore_columns => '{_elt_batch_id}', watermark => '_elt_batch_id')"
		if [ "$size" = 1m ]; then wm_small+=("$T"); else wm_big+=("$T"); fi
	done
done
echo "  median of $rounds rounds: 1M $(median "${wm_small[@]}") s, 5M $(median "${wm_big[@]}") s"
echo "  ratio 5M / 1M: $(ratio "$(median "${wm_big[@]}")" "$(median "${wm_small[@]}")") (rounds $(spread "${wm_big[@]}" "${wm_small[@]}"))   (goal: at most 1.2)"
q -c "DROP TABLE bench.stg_1m, bench.stg_5m, bench.dim_wm_1m, bench.dim_wm_5m"

echo
echo "3. 5,000,000-row fact build, three dimension lookups (one as-of on type 2)"
q -f "$sqldir/setup_fact.sql" >/dev/null
q -c "VACUUM ANALYZE bench.orders" -c "VACUUM ANALYZE bench.dim_user" \
	-c "VACUUM ANALYZE bench.dim_product" -c "VACUUM ANALYZE bench.dim_date"
plain_all=()
ours_all=()
for round in $(seq 1 "$rounds"); do
	echo "  round $round of $rounds"
	q -c "DROP TABLE IF EXISTS bench.fact_orders, bench.fact_plain"
	if [ $((round % 2)) -eq 1 ]; then order="plain ours"; else order="ours plain"; fi
	for side in $order; do
		settle
		if [ "$side" = plain ]; then
			timed "plain INSERT ... SELECT, current rows" -f "$sqldir/fact_plain.sql"
			plain_all+=("$T")
		else
			timed "pg_elt merge_fact" -c \
				"SELECT format('inserted %s', inserted) FROM elt.merge_fact('bench.fact_orders', 'bench.orders', '{order_id}', '[{\"dimension\": \"bench.dim_user\", \"on\": {\"user_id\": \"id\"}, \"as_of\": \"ordered_at\"}, {\"dimension\": \"bench.dim_product\", \"on\": {\"sku\": \"sku\"}}, {\"dimension\": \"bench.dim_date\", \"on\": {\"order_date\": \"date\"}, \"late_arriving\": \"unknown\"}]')"
			ours_all+=("$T")
		fi
	done
done
plain=$(median "${plain_all[@]}")
ours=$(median "${ours_all[@]}")
q -c "SELECT format('  as-of keys differing from current-row keys: %s of %s', count(*) FILTER (WHERE f.user_key <> p.user_key), count(*)) FROM bench.fact_orders f JOIN bench.fact_plain p USING (order_id)"
echo "  median of $rounds rounds: pg_elt $ours s, plain $plain s"
echo "  ratio pg_elt / plain: $(ratio "$ours" "$plain") (rounds $(spread "${ours_all[@]}" "${plain_all[@]}"))   (goal: at most 1.2)"

q -c "DROP SCHEMA bench CASCADE" >/dev/null 2>&1 || true

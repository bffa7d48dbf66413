#!/bin/bash
# Citus benchmarks (only when Citus is installed), on a coordinator with two
# workers, each side against the same work into plain tables on the same
# coordinator, the two sides alternated, each after a checkpoint, median of
# CITUS_BENCH_ROUNDS rounds (default 3):
#  1. an extract of CITUS_BENCH_RECORDS records (default 100,000; pages of
#     5,000) into a staging table distributed by _elt_record, against the
#     same extract into a local staging table, and against Citus's own COPY
#     of the same records into a distributed table (what Citus itself costs);
#  2. merge_fact (merge by grain, 10% of 500,000 facts changed) into a fact
#     distributed by its grain, against the same merge into a local fact.
# Environment: as every benchmark (PGHOST..., MOCK_API_PORT, BENCH_DIR).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
base="http://127.0.0.1:$MOCK_API_PORT"
rounds=${CITUS_BENCH_ROUNDS:-3}
N=${CITUS_BENCH_RECORDS:-100000}
PAGE=5000
PAGES=$(( (N + PAGE - 1) / PAGE ))
N=$(( PAGES * PAGE ))
FACTS=500000

citus_lib="$(pg_config --pkglibdir 2>/dev/null || true)/citus.so"
if [ -z "${BENCH_DIR:-}" ] || [ ! -e "$citus_lib" ]; then
	echo "Citus: skipped (Citus is not installed)"
	exit 0
fi

. "$root/test/bench/lib/rounds.sh"

settings() {
	q -c "SELECT format('   server: shared_buffers %s, work_mem %s, max_wal_size %s, synchronous_commit %s; %s shards per distributed table', current_setting('shared_buffers'), current_setting('work_mem'), current_setting('max_wal_size'), current_setting('synchronous_commit'), current_setting('citus.shard_count'))"
}

. "$root/scripts/common.sh"
. "$root/scripts/cluster.sh"
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=error -c timezone=UTC"
ports=()
for node in coordinator worker1 worker2; do
	CLUSTER_EXTRA_CONF="shared_preload_libraries = 'citus,pg_elt'
max_wal_size = 8GB"
	start_cluster "$BENCH_DIR/citus_bench_$node"
	ports+=("$PGPORT")
	q -c "CREATE EXTENSION citus"
done
trap 'for node in coordinator worker1 worker2; do "$PG_BINDIR/pg_ctl" -D "$BENCH_DIR/citus_bench_$node/data" -m fast -w stop >/dev/null 2>&1 || true; done' EXIT
export PGHOST="$BENCH_DIR/citus_bench_coordinator" PGPORT="${ports[0]}"
q -c "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" \
	-c "SELECT citus_add_node('127.0.0.1', ${ports[1]})" \
	-c "SELECT citus_add_node('127.0.0.1', ${ports[2]})" \
	-c "CREATE EXTENSION pg_elt" >/dev/null

echo
echo "Citus 1. extract of $N records ($PAGES pages): distributed staging vs local staging, same coordinator"
settings
q >/dev/null <<SQL
CREATE SCHEMA bench;
CREATE TABLE bench.staging_local (_elt_batch_id bigint NOT NULL,
	_elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
CREATE TABLE bench.staging_dist (LIKE bench.staging_local INCLUDING DEFAULTS);
SELECT create_distributed_table('bench.staging_dist', '_elt_record');
CREATE TABLE bench.staging_copy (LIKE bench.staging_local INCLUDING DEFAULTS);
SELECT create_distributed_table('bench.staging_copy', '_elt_record');
SELECT elt.create_source('bench', '$base', options => '{"concurrency": 4, "timeout": "120 s"}');
SELECT elt.create_stream('bench', 'local', '/api', params => '{"results": $PAGE, "seed": "bench"}',
	records => '\$.results', pagination => '{"type": "page", "max_pages": $PAGES}',
	target => 'bench.staging_local');
SELECT elt.create_stream('bench', 'dist', '/api', params => '{"results": $PAGE, "seed": "bench"}',
	records => '\$.results', pagination => '{"type": "page", "max_pages": $PAGES}',
	target => 'bench.staging_dist');
SQL
# warm the mock API's cache and the connections to the workers
q -c "SELECT records FROM elt.extract('bench.local')" -c "SELECT records FROM elt.extract('bench.dist')" >/dev/null
copy_file="$BENCH_DIR/citus_bench_records.copy"
q -c "COPY bench.staging_local TO '$copy_file'"
dist_all=()
local_all=()
copy_all=()
for round in $(seq 1 "$rounds"); do
	q -c "TRUNCATE bench.staging_local, bench.staging_dist, bench.staging_copy"
	case $((round % 3)) in
	1) order="dist local copy" ;;
	2) order="local copy dist" ;;
	0) order="copy dist local" ;;
	esac
	for side in $order; do
		settle
		case $side in
		copy)
			timed "COPY into a distributed table" -c "COPY bench.staging_copy FROM '$copy_file'"
			copy_all+=("$T") ;;
		dist)
			timed "extract into the distributed table" -c "SELECT format('%s records', records) FROM elt.extract('bench.dist')"
			dist_all+=("$T") ;;
		local)
			timed "extract into the local table" -c "SELECT format('%s records', records) FROM elt.extract('bench.local')"
			local_all+=("$T") ;;
		esac
	done
done
q -c "SELECT format('  same rows on both: %s', CASE WHEN (SELECT count(*) FROM bench.staging_dist) = $N AND NOT EXISTS ((SELECT _elt_record FROM bench.staging_local EXCEPT ALL SELECT _elt_record FROM bench.staging_dist) UNION ALL (SELECT _elt_record FROM bench.staging_dist EXCEPT ALL SELECT _elt_record FROM bench.staging_local)) THEN 'yes' ELSE 'NO' END)"
d=$(median "${dist_all[@]}")
l=$(median "${local_all[@]}")
cp_=$(median "${copy_all[@]}")
echo "  median of $rounds rounds: extract distributed $d s, extract local $l s, COPY distributed $cp_ s"
echo "  ratio extract distributed / extract local: $(ratio "$d" "$l") (rounds $(spread "${dist_all[@]}" "${local_all[@]}"))"
echo "  ratio extract distributed / COPY distributed: $(ratio "$d" "$cp_") (rounds $(spread "${dist_all[@]}" "${copy_all[@]}"))"

echo
echo "Citus 2. merge_fact, $FACTS facts, 10% changed: distributed fact vs local fact, same coordinator"
settings
q >/dev/null <<SQL
CREATE TABLE bench.dim_c (c_key bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, cust text NOT NULL,
	name text, valid_from timestamptz, valid_to timestamptz, is_current boolean, is_inferred boolean DEFAULT false);
INSERT INTO bench.dim_c (c_key, cust, name, valid_from, valid_to, is_current)
VALUES (-1, 'unknown', 'unknown', '-infinity', 'infinity', true);
INSERT INTO bench.dim_c (cust, name, valid_from, valid_to, is_current)
SELECT 'c' || g, 'n' || g, '2020-01-01', 'infinity', true FROM generate_series(1, 10000) g;
CREATE INDEX ON bench.dim_c (cust);
SELECT create_reference_table('bench.dim_c');
SELECT truncate_local_data_after_distributing_table('bench.dim_c');
CREATE TABLE bench.orders_v1 AS
SELECT g::bigint AS order_id, 'c' || (g % 10000 + 1) AS cust,
	   timestamptz '2024-01-01' + g * interval '1 minute' AS ordered_at, (g % 997)::numeric(12,2) AS amount,
	   'placed'::text AS status FROM generate_series(1, $FACTS) g;
CREATE TABLE bench.orders_v2 AS
SELECT order_id, cust, ordered_at, amount,
	   CASE WHEN order_id % 10 = 3 THEN 'shipped' ELSE status END AS status FROM bench.orders_v1;
ANALYZE bench.orders_v1;
ANALYZE bench.orders_v2;
SQL
dims='[{"dimension": "bench.dim_c", "on": {"cust": "cust"}, "as_of": "ordered_at"}]'
dist_all=()
local_all=()
for round in $(seq 1 "$rounds"); do
	q -c "DROP TABLE IF EXISTS bench.fact_local, bench.fact_dist"
	q -c "SELECT elt.merge_fact('bench.fact_local', 'bench.orders_v1', '{order_id}', '$dims')" \
		-c "SELECT elt.merge_fact('bench.fact_dist', 'bench.orders_v1', '{order_id}', '$dims')" \
		-c "SELECT create_distributed_table('bench.fact_dist', 'order_id')" \
		-c "SELECT truncate_local_data_after_distributing_table('bench.fact_dist')" \
		-c "VACUUM ANALYZE bench.fact_local" -c "VACUUM ANALYZE bench.fact_dist" >/dev/null
	if [ $((round % 2)) -eq 1 ]; then order="dist local"; else order="local dist"; fi
	for side in $order; do
		settle
		timed "merge_fact into the $side fact" -c \
			"SELECT format('inserted %s, updated %s', inserted, updated) FROM elt.merge_fact('bench.fact_$side', 'bench.orders_v2', '{order_id}', '$dims')"
		if [ "$side" = dist ]; then dist_all+=("$T"); else local_all+=("$T"); fi
	done
	q -c "SELECT format('  same rows on both: %s', CASE WHEN NOT EXISTS ((TABLE bench.fact_local EXCEPT ALL TABLE bench.fact_dist) UNION ALL (TABLE bench.fact_dist EXCEPT ALL TABLE bench.fact_local)) THEN 'yes' ELSE 'NO' END)"
done
d=$(median "${dist_all[@]}")
l=$(median "${local_all[@]}")
echo "  median of $rounds rounds: distributed $d s, local $l s"
echo "  ratio distributed / local: $(ratio "$d" "$l") (rounds $(spread "${dist_all[@]}" "${local_all[@]}"))"

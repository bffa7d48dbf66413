#!/bin/bash
# Runs the benchmarks as the unprivileged user (see bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
. scripts/mock_api.sh
. scripts/cluster.sh

dir="$(pwd)/tmp_bench"
rm -rf "$dir"
mkdir -p "$dir"
# the mock API keeps every page the extract benchmark asks for (824 MB at
# 800,000 records) built, so that its timings are pg_elt's, not Python's
MOCK_API_CACHE_MB=${MOCK_API_CACHE_MB:-2048} start_mock_api "$dir"
# initdb's defaults unless told otherwise: BENCH_SHARED_BUFFERS=2GB runs
# every benchmark with shared_buffers 2GB (a warehouse server's setting).
# max_wal_size (BENCH_MAX_WAL_SIZE, 8GB) keeps checkpoints out of the
# timed statements; every benchmark prints the settings it ran with.
export CLUSTER_EXTRA_CONF="max_wal_size = ${BENCH_MAX_WAL_SIZE:-8GB}
${BENCH_SHARED_BUFFERS:+shared_buffers = $BENCH_SHARED_BUFFERS}"
start_cluster "$dir/pg"
trap 'stop_cluster; kill $MOCK_API_PID 2>/dev/null || true' EXIT
psql -qX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS pg_elt" >/dev/null
export BENCH_DIR="$dir"

for b in test/bench/*.sh; do
	name=$(basename "$b" .sh)
	if [ -n "${BENCH:-}" ] && [ "$BENCH" != "$name" ]; then
		continue
	fi
	log "benchmark: $name"
	bash "$b"
done

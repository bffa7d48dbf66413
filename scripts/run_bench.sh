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
start_mock_api "$dir"
# Configured as a warehouse server would be rather than with initdb's
# minimal defaults (shared_buffers 128MB): the transform benchmark's tables
# are several hundred MB, and both sides of every comparison run on the same
# server.  max_wal_size keeps checkpoints out of the timed statements.
export CLUSTER_EXTRA_CONF="shared_buffers = 2GB
max_wal_size = 8GB"
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

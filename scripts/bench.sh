#!/bin/bash
# "make bench": set up, start a throwaway cluster and the mock API, run every
# benchmark in test/bench/ (each prints pg_elt against its baseline, side by
# side, with the ratio).  BENCH=name runs only test/bench/name.sh;
# BENCH_SHARED_BUFFERS=2GB runs them with shared_buffers 2GB (initdb's
# default otherwise); BENCH_ROUNDS (3) rounds per comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

./scripts/setup.sh

if [ "$(id -u)" -eq 0 ]; then
	work=/var/tmp/pg_elt-bench
	rm -rf "$work"
	mkdir -p "$work"
	rsync -a --exclude .git --exclude tmp_check --exclude tmp_run --exclude results --exclude .demo ./ "$work/"
	chown -R postgres: "$work"
	cd "$work"
fi

as_run_user env BENCH="${BENCH:-}" BENCH_ROUNDS="${BENCH_ROUNDS:-3}" \
	BENCH_SHARED_BUFFERS="${BENCH_SHARED_BUFFERS:-}" BENCH_MAX_WAL_SIZE="${BENCH_MAX_WAL_SIZE:-8GB}" \
	./scripts/run_bench.sh

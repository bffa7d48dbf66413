#!/bin/bash
# The doc-test suite: starts a fresh server with pg_elt preloaded under
# tmp_check/doctest and runs the documents' SQL examples against it
# (test/doctest/doctest.py).  Run as the unprivileged user, with the mock
# API running and MOCK_API_PORT set (scripts/run_suites.sh).  Arguments:
# documents to run (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
. scripts/cluster.sh

: "${MOCK_API_PORT:?the mock API must be running}"
dir="$(pwd)/tmp_check/doctest"
if [ -f "$dir/data/postmaster.pid" ]; then
	"$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
fi
rm -rf "$dir"
CLUSTER_EXTRA_CONF="timezone = 'UTC'
log_min_messages = warning" start_cluster "$dir"
trap stop_cluster EXIT
PSQL="$PG_BINDIR/psql" python3 test/doctest/doctest.py "$@"

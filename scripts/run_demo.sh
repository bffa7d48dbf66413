#!/bin/bash
# Runs the demo as the unprivileged user (see demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
. scripts/mock_api.sh
. scripts/cluster.sh

dir="$1"
if [ -f "$dir/pg/data/postmaster.pid" ]; then
	"$PG_BINDIR/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
fi
rm -rf "$dir/pg" "$dir/mock"
start_mock_api "$dir/mock"
start_cluster "$dir/pg"
trap 'stop_cluster; kill $MOCK_API_PID 2>/dev/null || true' EXIT
log "PostgreSQL on port $PGPORT (socket in $dir/pg), mock API on 127.0.0.1:$MOCK_API_PORT"

psql -qX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pg_elt" >/dev/null
for f in demo/*.sql; do
	log "demo: $(basename "$f")"
	psql -X -v ON_ERROR_STOP=1 -P pager=off -f "$f"
done
log "demo finished"

#!/bin/bash
# "make demo-stop": stops the demo's playground (its PostgreSQL cluster and
# the mock API), leaving no process behind.  Without an argument it looks
# where "make demo" puts it: .demo/ in the project, or the copy it runs from
# when the project folder is not readable by the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
. scripts/mock_api.sh

if [ $# -gt 0 ]; then
	dirs=("$@")
else
	dirs=("$(pwd)/.demo" /var/tmp/pg_elt-demo/.demo)
fi

for dir in "${dirs[@]}"; do
	stopped=""
	data="$dir/pg/data"
	if [ -f "$data/postmaster.pid" ]; then
		# pg_ctl runs as the owner of the data directory
		if [ "$(id -u)" -eq 0 ]; then
			runuser -u "$(stat -c %U "$data")" -- "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
		else
			"$PG_BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
		fi
		stopped="PostgreSQL"
	fi
	if [ -s "$dir/mock/mock_api.pid" ]; then
		stop_mock_api "$dir/mock"
		stopped="${stopped:+$stopped and }the mock API"
	fi
	[ -n "$stopped" ] && log "stopped $stopped of the demo in $dir"
done
exit 0

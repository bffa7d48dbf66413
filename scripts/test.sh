#!/bin/bash
# "make test": set up the machine, build and install pg_elt, then run every
# suite (pg_regress, isolation, TAP) against temporary servers.  As root the
# suites run as the unprivileged "postgres" user in a copy of the tree that
# it owns, since initdb refuses to run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

./scripts/setup.sh

if [ "$(id -u)" -eq 0 ]; then
	work=/var/tmp/pg_elt-test
	log "copying the tree to $work for user postgres"
	rm -rf "$work"
	mkdir -p "$work"
	rsync -a --exclude .git --exclude tmp_check --exclude tmp_run --exclude results \
		--exclude .demo ./ "$work/"
	chown -R postgres: "$work"
	cd "$work"
fi

as_run_user ./scripts/run_suites.sh

#!/bin/bash
# "make test": set up the machine, build and install pg_elt, then run every
# suite (pg_regress, isolation, TAP) against temporary servers.  As root the
# suites run as the unprivileged "postgres" user in a copy of the tree that
# it owns, since initdb refuses to run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

./scripts/setup.sh

# The public conformance corpora beside the project (shared/conformance),
# read by path by test/t/060_conformance.pl.
corpora="$(cd .. && pwd)/shared/conformance"

if [ "$(id -u)" -eq 0 ]; then
	work=/var/tmp/pg_elt-test
	log "copying the tree to $work for user postgres"
	rm -rf "$work"
	mkdir -p "$work"
	rsync -a --exclude .git --exclude tmp_check --exclude tmp_run --exclude results \
		--exclude .demo ./ "$work/"
	chown -R postgres: "$work"
	# postgres may not be able to reach the corpora where they are (under
	# /root, say): give it a readable copy next to the work tree, not in it
	if [ -d "$corpora" ]; then
		rm -rf "$work-conformance"
		rsync -a "$corpora/" "$work-conformance/"
		chmod -R a+rX "$work-conformance"
		corpora="$work-conformance"
	fi
	cd "$work"
fi
[ -d "$corpora" ] && export PG_ELT_CONFORMANCE="$corpora"

as_run_user ./scripts/run_suites.sh

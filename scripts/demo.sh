#!/bin/bash
# "make demo": set up, start a throwaway cluster under .demo/ with pg_elt
# preloaded and the mock API on loopback, run the demo scripts in demo/ in
# order and print what they built.  Everything is recreated on each run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

./scripts/setup.sh

demo_dir="$(pwd)/.demo"
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$demo_dir"
	chown postgres: "$demo_dir"
	if ! runuser -u postgres -- test -w "$demo_dir"; then
		# The project folder is not reachable by the postgres user (for
		# example under /root): keep the throwaway cluster elsewhere.
		demo_dir=/var/tmp/pg_elt-demo
		mkdir -p "$demo_dir"
		chown postgres: "$demo_dir"
		log "project folder not reachable by postgres; demo cluster in $demo_dir"
	fi
fi

as_run_user ./scripts/run_demo.sh "$demo_dir"

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
	if runuser -u postgres -- test -r scripts/run_demo.sh -a -x "$(pwd)"; then
		mkdir -p "$demo_dir"
		chown postgres: "$demo_dir"
	else
		# The project folder is not readable by the postgres user (for
		# example under /root): run the demo from a copy it owns.
		work=/var/tmp/pg_elt-demo
		log "project folder not readable by postgres; running the demo from $work"
		rm -rf "$work"
		mkdir -p "$work"
		rsync -a --exclude .git --exclude tmp_check --exclude tmp_run --exclude results \
			--exclude .demo ./ "$work/"
		chown -R postgres: "$work"
		cd "$work"
		demo_dir="$work/.demo"
	fi
fi

as_run_user ./scripts/run_demo.sh "$demo_dir"

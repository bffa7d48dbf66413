#!/bin/bash
# "make demo": set up, start a playground cluster under .demo/ with pg_elt
# preloaded and the mock API on loopback, run the demo scripts in demo/ in
# order, and leave both running, printing how to connect and what to try.
# A playground left by an earlier run is stopped and rebuilt from scratch;
# "make demo-stop" (scripts/demo_stop.sh) stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

./scripts/setup.sh
./scripts/demo_stop.sh

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

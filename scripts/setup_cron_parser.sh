#!/bin/bash
# Installs the npm package cron-parser into test/cron_parser (git-ignored
# node_modules), the independent cron implementation that
# test/t/055_cron_reference.pl compares schedules with.  Skipped when it is
# already there; without npm the test skips itself.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

dir=test/cron_parser
if [ -d "$dir/node_modules/cron-parser" ]; then
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	log "npm not found: the comparison with cron-parser will be skipped"
	exit 0
fi
log "installing cron-parser into $dir"
if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
	log "could not install cron-parser: the comparison with it will be skipped"
fi

#!/bin/bash
# Installs the npm package s3rver (an S3-compatible object store) into
# test/s3rver (git-ignored node_modules, versions pinned by the lockfile),
# the server that test/t/090_export.pl and test/bench/export.sh export to.
# Skipped when it is already there; without npm those skip themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

dir=test/s3rver
if [ -d "$dir/node_modules/s3rver" ]; then
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	log "npm not found: the export tests against s3rver will be skipped"
	exit 0
fi
log "installing s3rver into $dir"
if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
	log "could not install s3rver: the export tests against it will be skipped"
fi

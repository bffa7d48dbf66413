#!/bin/bash
# Installs json-server 0.17 and 1.x from the npm registry into project-local
# folders (test/json_server/v0 and v1, git-ignored) for the TAP test
# test/t/034_json_server.pl.  Each is skipped when already present.  Exits
# non-zero when npm is missing or cannot install one; the test then skips
# what is missing.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
	echo "npm not found: the json-server test will be skipped" >&2
	exit 1
fi
status=0
install_one() {
	local dir="$1" spec="$2"
	if [ -x "$dir/node_modules/.bin/json-server" ]; then
		return 0
	fi
	mkdir -p "$dir"
	if ! timeout 180 npm install --no-audit --no-fund --silent --fetch-timeout=20000 \
		--fetch-retries=1 --prefix "$dir" "$spec" >&2; then
		echo "could not install $spec: its part of the json-server test will be skipped" >&2
		status=1
	fi
}
install_one test/json_server/v0 'json-server@0.17'
# 1.x is published as pre-releases; npm picks the newest one the installed
# Node.js supports
install_one test/json_server/v1 'json-server@^1.0.0-beta.0'
exit $status

#!/bin/bash
# Installs what is missing on a Debian 12 machine (PostgreSQL 15 server and
# development files, libcurl, OpenSSL's libcrypto, the Perl modules of
# PostgreSQL's TAP framework), then builds and installs pg_elt.  Safe to run
# again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

PACKAGES="postgresql-15 postgresql-server-dev-15 libcurl4-openssl-dev libssl-dev zlib1g-dev
	libipc-run-perl make gcc python3 curl rsync bc prometheus-postgres-exporter"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	log "installing:$missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# The metrics test starts its own exporter on a loopback port: the
# package's system service (enabled on install where systemd runs) is not
# wanted on a test machine.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	as_root systemctl disable --now prometheus-postgres-exporter >/dev/null 2>&1 || true
fi

# the independent cron implementation the schedule tests compare with
./scripts/setup_cron_parser.sh
log "json-server for its integration test (skipped when npm is unreachable)"
./scripts/json_server.sh || log "json-server not installed: test/t/034_json_server.pl will skip"
# the S3-compatible server the export tests and benchmark write to
./scripts/setup_s3rver.sh

log "building pg_elt"
make -s -j2 PG_CONFIG="$PG_CONFIG"
log "installing pg_elt"
as_root make -s install PG_CONFIG="$PG_CONFIG"

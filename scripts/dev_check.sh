#!/bin/bash
# For development: build and install, then run some suites in a private
# copy of the tree, so that several people can test side by side.
#   ONLY_REGRESS="http secrets" ONLY_ISOLATION=none ONLY_TAP=none scripts/dev_check.sh
# Names: regress test names (sql/NAME.sql), isolation spec names, TAP
# paths (test/t/NAME.pl), documents (docs/http.md) for ONLY_DOCTEST.
# Unset runs the whole suite; "none" skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

# the conformance corpora beside the project, read by path
if [ -d ../shared/conformance ]; then
	PG_ELT_CONFORMANCE="$(cd ../shared/conformance && pwd)"
	export PG_ELT_CONFORMANCE
fi
make -s -j2 PG_CONFIG="$PG_CONFIG"
as_root make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
work=$(mktemp -d /var/tmp/pg_elt-dev.XXXXXX)
rsync -a --exclude .git --exclude tmp_check --exclude tmp_run --exclude results --exclude .demo ./ "$work/"
if [ "$(id -u)" -eq 0 ]; then
	chown -R postgres: "$work"
fi
cd "$work"
status=0
as_run_user env ONLY_REGRESS="${ONLY_REGRESS:-}" ONLY_ISOLATION="${ONLY_ISOLATION:-}" \
	ONLY_TAP="${ONLY_TAP:-}" ONLY_DOCTEST="${ONLY_DOCTEST:-}" ./scripts/run_suites.sh || status=$?
# Bring the outputs back for inspection.
back="$OLDPWD/tmp_check/dev-$(basename "$work")"
mkdir -p "$back"
for f in regression.diffs output_iso/regression.diffs; do
	[ -f "$f" ] && cp "$f" "$back/$(echo "$f" | tr / _)"
done
[ -d results ] && rsync -a results/ "$back/results/"
[ -d output_iso/results ] && rsync -a output_iso/results/ "$back/results_iso/"
[ -d tmp_check/log ] && rsync -a tmp_check/log/ "$back/log/"
echo "outputs copied to $back"
exit $status

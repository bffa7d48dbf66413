#!/bin/bash
# Runs every test suite against temporary servers, with the mock API on a
# loopback port, and reports each suite.  Exits non-zero when any fails.
# Expects pg_elt to be installed (scripts/setup.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
. scripts/mock_api.sh

mkdir -p tmp_run tmp_check
start_mock_api tmp_run || exit 1
log "mock API on 127.0.0.1:$MOCK_API_PORT"

passed=0
failed=0
status=0

# pg_regress and pg_isolation_regress print "ok" or "FAILED" per test.
count_regress() {
	local out="$1"
	local p f
	p=$(grep -cE '^(ok|test|     ).*\.\.\. ok|^ok [0-9]' "$out" || true)
	f=$(grep -cE '\.\.\. FAILED|^not ok [0-9]' "$out" || true)
	passed=$((passed + p))
	failed=$((failed + f))
}

# ONLY_REGRESS, ONLY_ISOLATION, ONLY_TAP and ONLY_DOCTEST (space-separated
# names, or "none") narrow the run while developing; CI sets none of them.
make_args=()
[ -n "${ONLY_REGRESS:-}" ] && make_args+=("REGRESS=${ONLY_REGRESS/none/}")
[ -n "${ONLY_ISOLATION:-}" ] && make_args+=("ISOLATION=${ONLY_ISOLATION/none/}")
[ -n "${ONLY_TAP:-}" ] && make_args+=("PROVE_TESTS=${ONLY_TAP/none/}")

run_suite() {
	local name="$1" target="$2"
	local out="tmp_run/$name.out"
	log "suite: $name"
	if make -s "$target" PG_CONFIG="$PG_CONFIG" "${make_args[@]}" >"$out" 2>&1; then
		cat "$out"
	else
		cat "$out"
		status=1
		for d in regression.diffs output_iso/regression.diffs; do
			if [ -s "$d" ]; then
				echo "---- $d ----"
				head -c 20000 "$d"
			fi
		done
		for l in tmp_check/log/regress_log_*; do
			[ -f "$l" ] || continue
			if grep -q "not ok" "$l"; then
				echo "---- $l (tail) ----"
				tail -n 60 "$l"
			fi
		done
	fi
	count_regress "$out"
}

# The mock API is a fixture the other suites rely on: check it first.
log "suite: mock API self-test"
if python3 test/mock_api/selftest.py --no-bench --huge-mb 16 >tmp_run/mock_selftest.out 2>&1; then
	tail -n 1 tmp_run/mock_selftest.out
	passed=$((passed + 1))
else
	cat tmp_run/mock_selftest.out
	failed=$((failed + 1))
	status=1
fi

run_suite regress check-regress
run_suite isolation check-isolation

# The documents' SQL examples (test/doctest): one line per document.
# ONLY_DOCTEST: documents to run (README.md docs/http.md ...), or "none".
if [ "${ONLY_DOCTEST:-}" != none ]; then
	log "suite: doctest"
	doc_out=tmp_run/doctest.out
	# shellcheck disable=SC2086
	if ./scripts/doctest.sh ${ONLY_DOCTEST:-} >"$doc_out" 2>&1; then
		cat "$doc_out"
	else
		cat "$doc_out"
		status=1
	fi
	dp=$(grep -cE '^doctest .* \.\.\. ok' "$doc_out" || true)
	df=$(grep -cE '^doctest .* \.\.\. FAILED' "$doc_out" || true)
	passed=$((passed + dp))
	failed=$((failed + df))
fi

# TAP: prove prints "ok N - ..." per assertion; count test files instead.
log "suite: tap"
tap_out=tmp_run/tap.out
if make -s check-tap PG_CONFIG="$PG_CONFIG" "${make_args[@]}" >"$tap_out" 2>&1; then
	cat "$tap_out"
else
	cat "$tap_out"
	status=1
	for l in tmp_check/log/regress_log_*; do
		[ -f "$l" ] || continue
		echo "---- $l (tail) ----"
		tail -n 80 "$l"
	done
fi
tp=$(grep -cE '^test/t/.*\.\. ok' "$tap_out" || true)
tf=$(grep -cE '^test/t/.*(Failed|Dubious|not ok)' "$tap_out" || true)
passed=$((passed + tp))
failed=$((failed + tf))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi

echo "$passed passed, $failed failed"
exit $status

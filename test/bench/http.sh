#!/bin/bash
# 1,000 sequential GETs of a small JSON document from the mock API:
# elt.http_get in one statement against curl fetching the same 1,000 URLs in
# one invocation (one connection, reused), both timed by the wall clock of
# their client.  Then the cost of a secret in a header, per request.  Both
# comparisons alternate the sides, after a CHECKPOINT, medians of the
# rounds (test/bench/lib/compare.sh).
set -euo pipefail
. "$(dirname "$0")/lib/compare.sh"
N=${HTTP_BENCH_REQUESTS:-1000}
base="http://127.0.0.1:$MOCK_API_PORT"

# warm up both paths once
curl -s -o /dev/null "$base/small"
psql -qAtX -c "SELECT status FROM elt.http_get('$base/small')" >/dev/null

cfg="$BENCH_DIR/curl_urls.cfg"
: >"$cfg"
for i in $(seq 1 "$N"); do
	printf 'url = "%s/small/%d"\noutput = "/dev/null"\n' "$base" "$i" >>"$cfg"
done

curl_side() { curl -s -K "$cfg"; }
pg_side() {
	local ok
	ok=$(psql -qAtX -c "SELECT count(*) FROM generate_series(1, $N) i,
							   LATERAL elt.http_get('$base/small/' || i) r
						 WHERE r.status = 200")
	[ "$ok" = "$N" ] || { echo "elt.http_get answered $ok of $N times with status 200" >&2; return 1; }
}
bench_settings "mock API on loopback, same machine"
bench_compare "$N sequential GETs: elt.http_get in one statement against curl, one invocation, connection reused" \
	: pg_side curl_side 1.25
printf 'requests/s: curl %.0f, elt.http_get %.0f (aim: time at most 1.25x curl, i.e. at least 0.80x its rate)\n' \
	"$(echo "$N / $BENCH_BASELINE" | bc -l)" "$(echo "$N / $BENCH_PGELT" | bc -l)"

# The cost of a secret per request: the same 1,000 GETs with an
# Authorization header whose value is a secret reference (looked up and
# decrypted in C for each request) and with the same header written out;
# same server and mock API, sides alternated, median of the rounds.
psql -qAtX -c "SELECT elt.set_secret('bench_token', 'bench-token-0123456789abcdef')" >/dev/null
# timed inside the server, where a secret's cost is (a few microseconds
# per request: a client's start-up would drown it)
timed_gets() {
	local t
	t=$(psql -qAtX -c "
		SELECT extract(epoch FROM clock_timestamp() - t0)
		  FROM (SELECT clock_timestamp() AS t0) s,
			   LATERAL (SELECT count(*) AS ok
						  FROM generate_series(1, $N) i,
							   LATERAL elt.http_get('$base/small/' || i,
									'{\"Authorization\": \"Bearer $1\"}') r
						 WHERE r.status = 200) c
		 WHERE c.ok = $N")
	[ -n "$t" ] || { echo "elt.http_get did not answer $N times with status 200" >&2; return 1; }
	echo "$t"
}
secret_side() { timed_gets '{{secret:bench_token}}'; }
plain_side() { timed_gets 'bench-token-0123456789abcdef'; }
secret_side >/dev/null
echo
echo "keys from $(psql -qAtX -c "SELECT CASE WHEN current_setting('pg_elt.secret_key_command') <> '' THEN 'pg_elt.secret_key_command' ELSE 'pg_elt.secret_key_file' END")"
BENCH_ROUNDS=${HTTP_BENCH_ROUNDS:-5} bench_compare \
	"$N GETs with an Authorization header: the value a {{secret:NAME}} reference (decrypted per request) against written out" \
	: secret_side plain_side
psql -qAtX -c "SELECT elt.drop_secret('bench_token')" >/dev/null
printf 'cost of the secret per request: %.1f us\n' "$(echo "($BENCH_PGELT - $BENCH_BASELINE) * 1000000 / $N" | bc -l)"

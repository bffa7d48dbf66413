#!/bin/bash
# 1,000 sequential GETs of a small JSON document from the mock API:
# elt.http_get in one statement against curl fetching the same 1,000 URLs in
# one invocation (one connection, reused).  Prints both rates and the ratio.
# Then the cost of a secret in a header, per request.
set -euo pipefail
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

best_curl=999999
best_pg=999999
for round in 1 2 3; do
	t0=$(date +%s.%N)
	curl -s -K "$cfg"
	t1=$(date +%s.%N)
	c=$(echo "$t1 - $t0" | bc -l)

	p=$(psql -qAtX -c "
		SELECT extract(epoch FROM clock_timestamp() - t0)
		  FROM (SELECT clock_timestamp() AS t0) s,
			   LATERAL (SELECT count(*) AS ok
						  FROM generate_series(1, $N) i,
							   LATERAL elt.http_get('$base/small/' || i) r
						 WHERE r.status = 200) c
		 WHERE c.ok = $N")
	if [ -z "$p" ]; then
		echo "elt.http_get did not answer $N times with status 200" >&2
		exit 1
	fi
	best_curl=$(echo "if ($c < $best_curl) $c else $best_curl" | bc -l)
	best_pg=$(echo "if ($p < $best_pg) $p else $best_pg" | bc -l)
done

curl_rate=$(echo "$N / $best_curl" | bc -l)
pg_rate=$(echo "$N / $best_pg" | bc -l)
printf '%-44s %10s %12s\n' "1,000 sequential GETs (best of 3)" "seconds" "requests/s"
printf '%-44s %10.3f %12.0f\n' "curl, one invocation, connection reused" "$best_curl" "$curl_rate"
printf '%-44s %10.3f %12.0f\n' "elt.http_get, one statement" "$best_pg" "$pg_rate"
printf 'ratio (pg_elt rate / curl rate): %.2fx   (aim: at least 0.80x)\n' "$(echo "$pg_rate / $curl_rate" | bc -l)"

# The cost of a secret per request: the same 1,000 GETs with an
# Authorization header whose value is a secret reference (looked up and
# decrypted in C for each request) and with the same header written out;
# same server and mock API, sides alternated, median of the rounds.
R=${HTTP_BENCH_ROUNDS:-5}
psql -qAtX -c "SELECT elt.set_secret('bench_token', 'bench-token-0123456789abcdef')" >/dev/null
timed_gets() {
	psql -qAtX -c "
		SELECT extract(epoch FROM clock_timestamp() - t0)
		  FROM (SELECT clock_timestamp() AS t0) s,
			   LATERAL (SELECT count(*) AS ok
						  FROM generate_series(1, $N) i,
							   LATERAL elt.http_get('$base/small/' || i,
									'{\"Authorization\": \"Bearer $1\"}') r
						 WHERE r.status = 200) c
		 WHERE c.ok = $N"
}
median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
timed_gets '{{secret:bench_token}}' >/dev/null
: >"$BENCH_DIR/secret_times"
: >"$BENCH_DIR/plain_times"
for round in $(seq 1 "$R"); do
	if [ $((round % 2)) -eq 1 ]; then order="secret plain"; else order="plain secret"; fi
	for side in $order; do
		if [ "$side" = secret ]; then
			t=$(timed_gets '{{secret:bench_token}}')
		else
			t=$(timed_gets 'bench-token-0123456789abcdef')
		fi
		if [ -z "$t" ]; then
			echo "elt.http_get did not answer $N times with status 200 ($side)" >&2
			exit 1
		fi
		echo "$t" >>"$BENCH_DIR/${side}_times"
	done
done
psql -qAtX -c "SELECT elt.drop_secret('bench_token')" >/dev/null
med_secret=$(median <"$BENCH_DIR/secret_times")
med_plain=$(median <"$BENCH_DIR/plain_times")
echo
printf 'settings: %s GETs per side, %s rounds alternated, keys from %s\n' "$N" "$R" \
	"$(psql -qAtX -c "SELECT CASE WHEN current_setting('pg_elt.secret_key_command') <> '' THEN 'pg_elt.secret_key_command' ELSE 'pg_elt.secret_key_file' END")"
printf '%-44s %10s %12s\n' "1,000 GETs with a header (median of $R)" "seconds" "requests/s"
printf '%-44s %10.3f %12.0f\n' "header value written out" "$med_plain" "$(echo "$N / $med_plain" | bc -l)"
printf '%-44s %10.3f %12.0f\n' "header value {{secret:NAME}}, decrypted" "$med_secret" "$(echo "$N / $med_secret" | bc -l)"
printf 'ratio (secret rate / plain rate): %.2fx   cost per request: %.1f us\n' \
	"$(echo "$med_plain / $med_secret" | bc -l)" "$(echo "($med_secret - $med_plain) * 1000000 / $N" | bc -l)"

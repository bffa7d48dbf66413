#!/bin/bash
# 1,000 sequential GETs of a small JSON document from the mock API:
# elt.http_get in one statement against curl fetching the same 1,000 URLs in
# one invocation (one connection, reused).  Prints both rates and the ratio.
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

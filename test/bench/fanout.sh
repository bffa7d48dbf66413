#!/bin/bash
# Fan-out: 2,000 child requests (one per row of a for_each query), each
# answered after 20 ms of latency, at the source's concurrency 16 against
# the same 2,000 requests one after another (the same stream's source at
# concurrency 1).  Same server and mock API, sides alternated, a CHECKPOINT
# before each, median of the rounds.  Prints the settings and the ratio.
# Environment: PGHOST/PGPORT/PGDATABASE/PGUSER, MOCK_API_PORT, BENCH_DIR.
# FANOUT_BENCH_CHILDREN, FANOUT_BENCH_ROUNDS shrink it for a quick try.
set -euo pipefail
. "$(dirname "$0")/lib/compare.sh"
base="http://127.0.0.1:$MOCK_API_PORT"
N=${FANOUT_BENCH_CHILDREN:-2000}
R=${FANOUT_BENCH_ROUNDS:-3}
DELAY_MS=20
CONC=16

sql() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

sql >/dev/null <<SQL
SET client_min_messages = warning;
SELECT elt.drop_source(name, cascade => true) FROM elt.source WHERE name LIKE 'bench_fan%';
DROP SCHEMA IF EXISTS bench_fan CASCADE;
CREATE SCHEMA bench_fan;
CREATE TABLE bench_fan.parent AS SELECT i AS id FROM generate_series(1, $N) i;
SELECT elt.create_source('bench_fan_c$CONC', '$base', options => '{"concurrency": $CONC, "timeout": "60 s"}');
SELECT elt.create_source('bench_fan_c1', '$base', options => '{"concurrency": 1, "timeout": "60 s"}');
SELECT elt.create_stream(s, 'orders', '/users/{id}/orders',
						 params => '{"count": 1, "delay": $DELAY_MS}', records => '\$.orders',
						 for_each => 'SELECT id FROM bench_fan.parent ORDER BY id',
						 target => 'bench_fan.' || s)
  FROM unnest(ARRAY['bench_fan_c$CONC', 'bench_fan_c1']) s;
SQL

# one extract: its elapsed seconds (the batch's), after checking every
# child was loaded once
run_side() {
	local src="$1" t
	t=$(sql <<SQL
SELECT CASE WHEN records = $N AND pages = $N THEN extract(epoch FROM elapsed)::text
			ELSE 'pages ' || pages || ', records ' || records || ', expected $N' END
  FROM elt.extract('$src.orders');
SQL
)
	case "$t" in
	pages*) echo "fan-out benchmark: $src loaded $t" >&2; return 1 ;;
	esac
	echo "$t"
}
conc_side() { run_side "bench_fan_c$CONC"; }
serial_side() { run_side bench_fan_c1; }

# warm up: connections, the plan of the for_each query
conc_side >/dev/null
bench_settings "mock API on loopback, same machine"
BENCH_ROUNDS=$R bench_compare \
	"fan-out: $N children, $DELAY_MS ms latency each, one record each: for_each at concurrency $CONC against concurrency 1 (one after another)" \
	: conc_side serial_side 0.10
# every child loaded once per extract
dups=$(sql -c "SELECT count(*) FROM (SELECT _elt_batch_id, _elt_parent FROM bench_fan.bench_fan_c$CONC
				GROUP BY 1, 2 HAVING count(*) <> 1) d")
if [ "$dups" != 0 ]; then
	echo "fan-out benchmark: $dups children loaded other than once" >&2
	exit 1
fi
printf 'requests/s: concurrency %d %.0f, concurrency 1 %.0f\n' "$CONC" \
	"$(echo "$N / $BENCH_PGELT" | bc -l)" "$(echo "$N / $BENCH_BASELINE" | bc -l)"

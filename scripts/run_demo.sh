#!/bin/bash
# Runs the demo as the unprivileged user (see demo.sh): starts the
# playground in DIR (a cluster in DIR/pg, the mock API from DIR/mock), runs
# demo/*.sql in order and leaves both running, then prints how to use them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
. scripts/mock_api.sh
. scripts/cluster.sh

dir="$1"
# A playground left by an earlier demo is stopped and rebuilt from scratch.
./scripts/demo_stop.sh "$dir" >/dev/null
rm -rf "$dir/pg" "$dir/mock"
# The docs' examples use the mock API on port 8080: take it when it is free.
MOCK_API_DETACH=1 start_mock_api "$dir/mock" 8080
start_cluster "$dir/pg"
# Until the demo has succeeded, a failure stops both: nothing half-built is
# left running.
trap './scripts/demo_stop.sh "$dir" >/dev/null 2>&1 || true' EXIT
log "PostgreSQL on port $PGPORT (socket in $dir/pg), mock API on 127.0.0.1:$MOCK_API_PORT"

psql -qX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pg_elt" >/dev/null
for f in demo/*.sql; do
	log "demo: $(basename "$f")"
	psql -X -v ON_ERROR_STOP=1 -P pager=off -f "$f"
done
trap - EXIT
printf '%s\n' "$PGPORT" >"$dir/pg/port"

psql_cmd="psql -h $dir/pg -p $PGPORT -U postgres postgres"
command -v psql >/dev/null || psql_cmd="$PG_BINDIR/$psql_cmd"
api="http://127.0.0.1:$MOCK_API_PORT"
cat <<MSG

==> demo finished; the playground keeps running

Connect:
    $psql_cmd

What the demo built (database "postgres", extension pg_elt in schema elt):
  - staging tables, loaded by elt.extract from the mock API at $api:
      staging.randomuser_users, staging.shop_orders, staging.shop_user_orders,
      staging.shop_search, and the typed view staging.shop_orders_v
      (sources and streams: elt.sources, elt.streams; every extract: elt.batch)
  - a star schema in schema dw: dw.dim_user (type 2), dw.dim_date, dw.fact_orders
      (what each build did: elt.model_run)
  - pipeline "warehouse": extract -> dimensions -> facts -> checks, scheduled
      every 5 seconds and paused at the end of the demo
      (SELECT * FROM elt.pipeline_status;)
  - run history: elt.run (one row per run), elt.step_run (per step and attempt),
      elt.check_result (every check), elt.export_run (exports)

Three things to try next:
  1. Let the schedule run, then watch its history:
       SELECT elt.resume('warehouse');
       SELECT run_id, trigger, status, started_at FROM elt.run ORDER BY run_id DESC LIMIT 5;
  2. Change the shop's data, extract only what changed, and look at the batch:
       SELECT status FROM elt.http_post('$api/_control/orders/advance?updated=5&new=3', '');
       SELECT * FROM elt.extract('shop.orders');
  3. Check the star schema (a failing error-severity check raises SQLSTATE EL052):
       SELECT * FROM elt.check('dw.fact_orders', 'relationships', 'user_key',
                               '{"to": "dw.dim_user"}');

The examples in docs/ use the mock API at http://127.0.0.1:8080$(
	[ "$MOCK_API_PORT" = 8080 ] || printf '; here it listens on port %s instead' "$MOCK_API_PORT").
Stop the playground with "make demo-stop"; "make demo" again rebuilds it.
MSG

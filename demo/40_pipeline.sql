-- Demo, part 4: the whole build as a scheduled pipeline (extract ->
-- dimensions -> facts -> checks), run by the scheduler, then the run
-- history and the check results.
\set ON_ERROR_STOP on
SET timezone = 'UTC';
SET client_min_messages = warning;

SELECT elt.drop_pipeline(name) FROM elt.pipeline WHERE name = 'warehouse';

\echo
\echo '== Pipeline "warehouse": every 5 seconds, each step retried once'
SELECT elt.create_pipeline('warehouse', '5 seconds',
	'{"retries": 1, "retry_delay": "1 second", "timeout": "5 minutes", "overlap": "skip"}') > 0 AS created;

\o /dev/null
SELECT elt.add_step('warehouse', 'extract_users', $$SELECT * FROM elt.extract('randomuser.users')$$);
SELECT elt.add_step('warehouse', 'extract_orders', $$SELECT * FROM elt.extract('shop.orders')$$);
SELECT elt.add_step('warehouse', 'dim_user', $step$
SELECT * FROM elt.merge_dimension(
	'dw.dim_user',
	$$SELECT DISTINCT ON (_elt_record #>> '{login,uuid}')
			 _elt_record #>> '{login,uuid}' AS user_uuid,
			 concat_ws(' ', _elt_record #>> '{name,first}', _elt_record #>> '{name,last}') AS full_name,
			 _elt_record ->> 'email' AS email,
			 _elt_record #>> '{location,city}' AS city,
			 _elt_record #>> '{location,country}' AS country
		FROM staging.randomuser_users
	   ORDER BY _elt_record #>> '{login,uuid}', _elt_batch_id DESC$$,
	natural_key => '{user_uuid}',
	type1_columns => '{email}')
$step$, '{extract_users}');
SELECT elt.add_step('warehouse', 'dim_date',
	$$SELECT elt.create_date_dimension('dw.dim_date', '2020-01-01', '2030-12-31')$$);
SELECT elt.add_step('warehouse', 'fact_orders', $step$
SELECT * FROM elt.merge_fact(
	'dw.fact_orders',
	$$SELECT DISTINCT ON ((_elt_record ->> 'order_id')::bigint)
			 (_elt_record ->> 'order_id')::bigint AS order_id,
			 _elt_record ->> 'customer_uuid' AS customer_uuid,
			 ((_elt_record ->> 'ordered_at')::timestamptz AT TIME ZONE 'UTC')::date AS order_date,
			 (_elt_record ->> 'ordered_at')::timestamptz AS ordered_at,
			 (_elt_record ->> 'updated_at')::timestamptz AS updated_at,
			 _elt_record ->> 'status' AS status,
			 (_elt_record ->> 'amount')::numeric(12,2) AS amount,
			 _elt_record ->> 'currency' AS currency
		FROM staging.shop_orders
	   ORDER BY (_elt_record ->> 'order_id')::bigint, (_elt_record ->> 'updated_at')::timestamptz DESC$$,
	grain => '{order_id}',
	dimensions => '[{"dimension": "dw.dim_user", "on": {"customer_uuid": "user_uuid"}, "as_of": "ordered_at"},
					{"dimension": "dw.dim_date", "on": {"order_date": "date"}, "late_arriving": "unknown"}]')
$step$, '{extract_orders,dim_user,dim_date}');
SELECT elt.add_step('warehouse', 'checks', $$
SELECT * FROM elt.check('dw.fact_orders', 'unique', 'order_id');
SELECT * FROM elt.check('dw.fact_orders', 'not_null', 'amount');
SELECT * FROM elt.check('dw.fact_orders', 'row_count', args => '{"min": 1}');
SELECT * FROM elt.check('dw.fact_orders', 'accepted_values', 'status',
						'{"values": ["placed", "shipped", "delivered", "cancelled"]}', 'warn');
SELECT * FROM elt.check('dw.dim_user', 'unique', 'user_uuid', severity => 'warn');
$$, '{fact_orders}');
\o

SELECT s.name AS step, s.depends_on FROM elt.step s JOIN elt.pipeline p USING (pipeline_id)
 WHERE p.name = 'warehouse' ORDER BY s.position;

\echo '== Meanwhile the shop changes 4 orders and takes 2 new ones: the scheduled run picks them up'
\getenv mock_port MOCK_API_PORT
SELECT (body::jsonb)->>'updated' AS updated, (body::jsonb)->>'new' AS new
  FROM elt.http_post('http://127.0.0.1:' || :'mock_port' || '/_control/orders/advance?updated=4&new=2', '');

\echo '== Waiting for the scheduler to run it (at most 60 seconds)'
DO $$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '60 seconds';
BEGIN
	LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM elt.run
						  WHERE pipeline = 'warehouse' AND trigger = 'schedule'
							AND status IN ('succeeded', 'failed', 'cancelled'));
		IF clock_timestamp() > deadline THEN
			RAISE EXCEPTION 'the scheduler did not run pipeline "warehouse" within 60 seconds';
		END IF;
		PERFORM pg_sleep(0.2);
	END LOOP;
END
$$;
SELECT elt.pause('warehouse');
-- The demo fails loudly if the scheduled run did not succeed.
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM elt.run WHERE pipeline = 'warehouse' AND trigger = 'schedule'
					AND status = 'succeeded') THEN
		RAISE EXCEPTION 'the scheduled run of pipeline "warehouse" did not succeed'
			USING DETAIL = (SELECT string_agg(step || ': ' || coalesce(error, status), '; ')
							  FROM elt.step_run WHERE status <> 'succeeded');
	END IF;
END
$$;

\echo '== Run history'
SELECT run_id, trigger, status, scheduled_at::time(0) AS due,
	   round(extract(epoch FROM started_at - scheduled_at) * 1000) AS delay_ms,
	   finished_at - started_at AS took, error
  FROM elt.run WHERE pipeline = 'warehouse' AND status <> 'skipped' ORDER BY run_id LIMIT 3;
SELECT s.step, s.attempt, s.status, s.rows, s.finished_at - s.started_at AS took, left(s.error, 80) AS error
  FROM elt.step_run s
 WHERE s.run_id = (SELECT min(run_id) FROM elt.run WHERE pipeline = 'warehouse' AND trigger = 'schedule'
					 AND status IN ('succeeded', 'failed', 'cancelled'))
 ORDER BY s.started_at NULLS LAST, s.attempt;
SELECT pipeline, schedule, paused, last_status, last_error FROM elt.pipeline_status WHERE pipeline = 'warehouse';

\echo '== Check results of the scheduled run'
SELECT c.relation, c.test, c.column_name, c.severity, c.passed, c.failures
  FROM elt.check_result c JOIN elt.run r USING (run_id)
 WHERE r.pipeline = 'warehouse' ORDER BY c.check_id LIMIT 10;

\echo '== What the scheduled run built: the star schema after it, and its builds'
SELECT (SELECT count(*) FROM dw.dim_user WHERE is_current AND user_key <> -1) AS current_users,
	   (SELECT count(*) FROM dw.dim_user WHERE NOT is_current) AS past_versions,
	   (SELECT count(*) FROM dw.fact_orders) AS orders,
	   (SELECT sum(amount) FROM dw.fact_orders) AS revenue,
	   (SELECT count(*) FROM elt.batch WHERE status = 'succeeded') AS extracts;
SELECT m.function, m.target, m.inserted, m.updated, m.closed, m.unchanged
  FROM elt.model_run m
 WHERE m.started_at >= (SELECT min(started_at) FROM elt.run WHERE pipeline = 'warehouse')
 ORDER BY m.started_at;

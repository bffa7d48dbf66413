-- Demo, part 3: a star schema built from the staged data with pg_elt's
-- model functions: dw.dim_user (type 2), dw.dim_date and dw.fact_orders,
-- then a small report.
\set ON_ERROR_STOP on
SET timezone = 'UTC';

-- Reads the staging tables demo/20_extract.sql loaded.
CREATE SCHEMA IF NOT EXISTS dw;

\echo
\echo '== dw.dim_user: type 2 on city and country, email overwritten in every version'
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
	type1_columns => '{email}');

\echo '== dw.dim_date'
SELECT elt.create_date_dimension('dw.dim_date', '2020-01-01', '2030-12-31') AS days_added;

\echo '== dw.fact_orders: one row per order, users looked up as of the order time'
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
					{"dimension": "dw.dim_date", "on": {"order_date": "date"}, "late_arriving": "unknown"}]');

\echo '== Running the same build again changes nothing'
SELECT * FROM elt.merge_dimension('dw.dim_user',
	$$SELECT DISTINCT ON (_elt_record #>> '{login,uuid}')
			 _elt_record #>> '{login,uuid}' AS user_uuid,
			 concat_ws(' ', _elt_record #>> '{name,first}', _elt_record #>> '{name,last}') AS full_name,
			 _elt_record ->> 'email' AS email,
			 _elt_record #>> '{location,city}' AS city,
			 _elt_record #>> '{location,country}' AS country
		FROM staging.randomuser_users
	   ORDER BY _elt_record #>> '{login,uuid}', _elt_batch_id DESC$$,
	natural_key => '{user_uuid}', type1_columns => '{email}');

\echo
\echo '== Report: orders and revenue by month'
SELECT d.year, d.month, d.month_name, count(*) AS orders, sum(f.amount) AS revenue
  FROM dw.fact_orders AS f
  JOIN dw.dim_date AS d USING (date_key)
 GROUP BY d.year, d.month, d.month_name
 ORDER BY d.year, d.month
 LIMIT 12;

\echo '== Report: top countries by revenue (inferred users have no country yet)'
SELECT coalesce(u.country, CASE WHEN u.is_inferred THEN '(inferred)' ELSE '(unknown)' END) AS country,
	   count(*) AS orders, sum(f.amount) AS revenue
  FROM dw.fact_orders AS f
  JOIN dw.dim_user AS u USING (user_key)
 GROUP BY 1
 ORDER BY revenue DESC, country
 LIMIT 5;

\echo '== Report: order status by weekday'
SELECT d.day_of_week, d.day_name,
	   count(*) FILTER (WHERE f.status IN ('placed', 'shipped')) AS open,
	   count(*) FILTER (WHERE f.status = 'delivered') AS delivered,
	   count(*) FILTER (WHERE f.status = 'cancelled') AS cancelled,
	   count(*) AS total
  FROM dw.fact_orders AS f
  JOIN dw.dim_date AS d USING (date_key)
 GROUP BY d.day_of_week, d.day_name
 ORDER BY d.day_of_week;

\echo '== What each build did (elt.model_run)'
SELECT function, target, inserted, updated, closed, unchanged, detail
  FROM elt.model_run
 ORDER BY id;

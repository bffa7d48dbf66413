-- A type 1 product dimension (10,000 members), a date dimension and
-- 5,000,000 orders referring to users, products and days.
CREATE TABLE bench.product_src AS
SELECT 'sku-' || g AS sku, 'Product ' || g AS title, g % 50 AS category
  FROM generate_series(1, 10000) AS g;
SELECT * FROM elt.merge_dimension('bench.dim_product', 'bench.product_src', '{sku}', scd_type => 1);
SELECT elt.create_date_dimension('bench.dim_date', '2024-01-01', '2025-12-31');

CREATE TABLE bench.orders AS
SELECT o.order_id, o.user_id, o.sku, o.ordered_at, (o.ordered_at AT TIME ZONE 'UTC')::date AS order_date,
	   o.amount, o.qty
  FROM (SELECT g::bigint AS order_id,
			   (1 + (g::bigint * 7919) % 1010000)::int AS user_id,
			   'sku-' || (1 + g % 10000) AS sku,
			   timestamptz '2024-01-13' + (g % 25000000) * interval '1 second' AS ordered_at,
			   ((g % 10000) / 100.0)::numeric(10,2) AS amount,
			   1 + g % 5 AS qty
		  FROM generate_series(1, 5000000) AS g) AS o;

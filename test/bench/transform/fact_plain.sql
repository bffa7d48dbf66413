-- The baseline: one INSERT ... SELECT joining the dimensions on their
-- current rows, into a table of the same shape, then its primary key.
CREATE TABLE bench.fact_plain (
	user_key bigint NOT NULL,
	product_key bigint NOT NULL,
	date_key integer NOT NULL,
	order_id bigint NOT NULL,
	ordered_at timestamptz,
	amount numeric(10,2),
	qty integer
);
INSERT INTO bench.fact_plain
SELECT coalesce(u.user_key, -1), coalesce(p.product_key, -1), coalesce(d.date_key, -1),
	   o.order_id, o.ordered_at, o.amount, o.qty
  FROM bench.orders AS o
  LEFT JOIN bench.dim_user AS u ON u.id = o.user_id AND u.is_current
  LEFT JOIN bench.dim_product AS p ON p.sku = o.sku
  LEFT JOIN bench.dim_date AS d ON d."date" = o.order_date;
ALTER TABLE bench.fact_plain ADD PRIMARY KEY (order_id);

-- elt.merge_fact: surrogate key lookups (current and as-of), late-arriving
-- members (infer, unknown, error), strategies, watermark, and refusals.
SET timezone = 'UTC';
CREATE SCHEMA fact_t;
SET search_path = fact_t, public;

-- A type 2 customer dimension with history, a type 1 product dimension and
-- a date dimension.
CREATE TABLE stg_customer (customer_id int, name text, city text, updated_at timestamptz);
INSERT INTO stg_customer VALUES (1, 'Ann', 'Oslo', '2024-01-01'), (2, 'Bob', 'Rome', '2024-01-01');
SELECT * FROM elt.merge_dimension('fact_t.dim_customer', 'fact_t.stg_customer', '{customer_id}',
	effective_at => 'updated_at');
UPDATE stg_customer SET city = 'Bergen', updated_at = '2024-03-01' WHERE customer_id = 1;
SELECT * FROM elt.merge_dimension('fact_t.dim_customer', 'fact_t.stg_customer', '{customer_id}',
	effective_at => 'updated_at');
CREATE TABLE stg_product (sku text, title text);
INSERT INTO stg_product VALUES ('p1', 'Pen'), ('p2', 'Ink');
SELECT * FROM elt.merge_dimension('fact_t.dim_product', 'fact_t.stg_product', '{sku}', scd_type => 1);
SELECT elt.create_date_dimension('fact_t.dim_date', '2023-12-01', '2024-12-31');
SELECT customer_key, customer_id, city, valid_from, valid_to FROM dim_customer ORDER BY 1;

CREATE TABLE stg_order (
	order_id int, customer_id int, sku text, order_date date,
	ordered_at timestamptz, amount numeric(10,2), status text, updated_at timestamptz
);
INSERT INTO stg_order VALUES
	(100, 1, 'p1', '2024-02-10', '2024-02-10 09:00', 10.00, 'new', '2024-02-10'),	-- Oslo version
	(101, 1, 'p2', '2024-03-10', '2024-03-10 09:00', 20.00, 'new', '2024-03-10'),	-- Bergen version
	(102, 2, 'p1', '2024-03-11', '2024-03-11 09:00', 30.00, 'new', '2024-03-11'),
	(103, 1, 'p1', '2023-12-24', '2023-12-24 09:00', 40.00, 'new', '2024-03-11'),	-- before first version
	(104, NULL, 'p1', '2024-03-12', '2024-03-12 09:00', 50.00, 'new', '2024-03-12'),	-- no customer
	(105, 3, 'p9', '2024-03-12', '2024-03-12 10:00', 60.00, 'new', '2024-03-12');	-- late arriving

\set dims '[{"dimension": "fact_t.dim_customer", "on": {"customer_id": "customer_id"}, "as_of": "ordered_at"}, {"dimension": "fact_t.dim_product", "on": {"sku": "sku"}}, {"dimension": "fact_t.dim_date", "on": {"order_date": "date"}, "late_arriving": "unknown"}]'

-- First build: created with surrogate keys in place of natural keys; the
-- missing customer 3 and product p9 are inferred.
SELECT * FROM elt.merge_fact('fact_t.fact_order', 'fact_t.stg_order', '{order_id}', :'dims',
	watermark => 'updated_at');
\d fact_t.fact_order
SELECT f.order_id, f.customer_key, c.city, f.product_key, p.sku, f.date_key, f.amount
  FROM fact_order f JOIN dim_customer c USING (customer_key) JOIN dim_product p USING (product_key)
 ORDER BY f.order_id;
SELECT customer_key, customer_id, name, is_inferred, valid_from, is_current
  FROM dim_customer WHERE is_inferred;
SELECT product_key, sku, title, is_inferred FROM dim_product WHERE is_inferred;

-- The next merge_dimension completes the inferred member in place: facts
-- keep pointing at it.
INSERT INTO stg_customer VALUES (3, 'Cy', 'Lima', '2024-03-12');
SELECT * FROM elt.merge_dimension('fact_t.dim_customer', 'fact_t.stg_customer', '{customer_id}',
	effective_at => 'updated_at');
SELECT customer_key, customer_id, name, city, is_inferred, is_current
  FROM dim_customer WHERE customer_id = 3;
SELECT order_id, customer_key FROM fact_order WHERE order_id = 105;

-- Incremental runs read only rows past the watermark; merge updates
-- changed facts and inserts new ones.
SELECT * FROM elt.merge_fact('fact_t.fact_order', 'fact_t.stg_order', '{order_id}', :'dims',
	watermark => 'updated_at');
UPDATE stg_order SET status = 'paid', updated_at = '2024-04-01' WHERE order_id = 100;
INSERT INTO stg_order VALUES (106, 2, 'p2', '2024-04-01', '2024-04-01 08:00', 70.00, 'new', '2024-04-01');
UPDATE stg_order SET amount = 99.99 WHERE order_id = 101;	-- behind the watermark: not read
SELECT * FROM elt.merge_fact('fact_t.fact_order', 'fact_t.stg_order', '{order_id}', :'dims',
	watermark => 'updated_at');
SELECT order_id, customer_key, amount, status FROM fact_order ORDER BY order_id;

-- delete+insert replaces the facts of the keys in the source.
CREATE TABLE stg_line (order_id int, line int, sku text, qty int);
INSERT INTO stg_line VALUES (1, 1, 'p1', 1), (1, 2, 'p2', 2), (2, 1, 'p1', 5);
SELECT * FROM elt.merge_fact('fact_t.fact_line', 'fact_t.stg_line', '{order_id}',
	'[{"dimension": "fact_t.dim_product", "on": {"sku": "sku"}, "late_arriving": "error"}]',
	strategy => 'delete+insert');
SELECT * FROM elt.merge_fact('fact_t.fact_line',
	'SELECT 1 AS order_id, 1 AS line, ''p2''::text AS sku, 7 AS qty',
	'{order_id}',
	'[{"dimension": "fact_t.dim_product", "on": {"sku": "sku"}, "late_arriving": "error"}]',
	strategy => 'delete+insert');
SELECT * FROM fact_line ORDER BY order_id, line;
-- append.
SELECT * FROM elt.merge_fact('fact_t.fact_line', 'SELECT 3 AS order_id, 1 AS line, ''p1''::text AS sku, 1 AS qty',
	dimensions => '[{"dimension": "fact_t.dim_product", "on": {"sku": "sku"}, "key": "product_key"}]',
	strategy => 'append');
SELECT count(*) FROM fact_line;

-- late_arriving => 'error' names the missing member and writes nothing;
-- 'unknown' uses -1.
SELECT * FROM elt.merge_fact('fact_t.fact_line', 'SELECT 4 AS order_id, 1 AS line, ''p404''::text AS sku, 1 AS qty',
	'{order_id}', '[{"dimension": "fact_t.dim_product", "on": {"sku": "sku"}}]',
	late_arriving => 'error', strategy => 'delete+insert');
SELECT * FROM elt.merge_fact('fact_t.fact_line', 'SELECT 4 AS order_id, 1 AS line, ''p404''::text AS sku, 1 AS qty',
	'{order_id}', '[{"dimension": "fact_t.dim_product", "on": {"sku": "sku"}}]',
	late_arriving => 'unknown', strategy => 'delete+insert');
SELECT * FROM fact_line WHERE order_id = 4;
SELECT count(*) AS p404_members FROM dim_product WHERE sku = 'p404';

-- Duplicated grain with merge: an error naming the key, nothing written.
INSERT INTO stg_order VALUES (106, 2, 'p2', '2024-04-02', '2024-04-02 08:00', 1.00, 'dup', '2024-05-01');
SELECT * FROM elt.merge_fact('fact_t.fact_order', 'fact_t.stg_order', '{order_id}', :'dims');
SELECT count(*) AS dup_rows FROM fact_order WHERE status = 'dup';
DELETE FROM stg_order WHERE status = 'dup';

-- A NULL as_of matches no version: the row gets the unknown member (-1),
-- not the member's current or last version; a time before the member's
-- first version still gets the first one.
SELECT * FROM elt.merge_fact('fact_t.fact_asof',
	$$SELECT * FROM (VALUES (1, 1, NULL::timestamptz), (2, 2, NULL), (3, 1, '2024-02-10 09:00'),
						   (4, 1, '2023-01-01'), (5, NULL, NULL)) v (order_id, customer_id, ordered_at)$$,
	'{order_id}', '[{"dimension": "fact_t.dim_customer", "on": {"customer_id": "customer_id"}, "as_of": "ordered_at"}]');
SELECT f.order_id, f.customer_key, c.city
  FROM fact_asof f JOIN dim_customer c USING (customer_key) ORDER BY f.order_id;

-- Bad arguments and shapes.
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '{"dimension": "x"}');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[1]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_product"}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_product", "on": {}}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_product", "on": {"sku": "sku"}, "asof": "x"}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_product", "on": {"sku": 1}}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.nope", "on": {"sku": "sku"}}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_product", "on": {"nope": "sku"}}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_product", "on": {"sku": "nope"}}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_product", "on": {"customer_id": "sku"}}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_product", "on": {"sku": "sku"}, "as_of": "ordered_at"}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_customer", "on": {"customer_id": "customer_id"}, "as_of": "status"}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_date", "on": {"order_date": "date"}}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[{"dimension": "fact_t.dim_product", "on": {"sku": "sku"}, "key": "status"}]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{sku}', '[{"dimension": "fact_t.dim_product", "on": {"sku": "sku"}}]', strategy => 'merge', watermark => 'sku');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{nope}', '[]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', NULL, '[]');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[]', late_arriving => 'guess');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', '[]', strategy => 'upsert');
SELECT * FROM elt.merge_fact('fact_t.f', 'fact_t.stg_order', '{order_id}', NULL);
SELECT to_regclass('fact_t.f') AS f;
-- The fact's shape is checked on later calls.
SELECT * FROM elt.merge_fact('fact_t.fact_line', 'SELECT 5 AS order_id, 1 AS line, ''p1''::text AS sku, 1 AS qty, 0 AS discount',
	'{order_id}', '[{"dimension": "fact_t.dim_product", "on": {"sku": "sku"}}]', strategy => 'delete+insert');

SELECT function, target, inserted, updated, deleted, detail FROM elt.model_run
 WHERE function = 'merge_fact' AND target LIKE 'fact_t.%' ORDER BY id;

RESET search_path;

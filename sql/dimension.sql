-- elt.merge_dimension: type 2 dimensions, type-1 columns inside them,
-- null-safe change detection, deletes, returning members, idempotence and
-- refusals that leave the dimension untouched.
SET timezone = 'UTC';
CREATE SCHEMA dim_t2;
SET search_path = dim_t2, public;

CREATE TABLE stg_customer (
	customer_id int,
	name text,
	city text,
	segment text,
	updated_at timestamptz
);
INSERT INTO stg_customer VALUES
	(1, 'Ann', 'Oslo', 'A', '2024-01-01'),
	(2, 'Bob', NULL, 'B', '2024-01-01'),
	(3, 'Cy', 'Rome', NULL, '2024-01-01');

-- First call creates the dimension, with the unknown member.
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer', 'dim_t2.stg_customer',
	'{customer_id}', effective_at => 'updated_at', type1_columns => '{segment}');
\d dim_t2.dim_customer
SELECT * FROM dim_customer ORDER BY customer_key;

-- The same source again changes nothing.
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer', 'dim_t2.stg_customer',
	'{customer_id}', effective_at => 'updated_at', type1_columns => '{segment}');

-- Changes: value -> value and NULL -> value are type 2 changes (new
-- versions), value -> NULL of a type-1 column is overwritten in place, and
-- NULL -> NULL is no change.
UPDATE stg_customer SET city = 'Bergen', updated_at = '2024-02-01' WHERE customer_id = 1;
UPDATE stg_customer SET city = 'Paris', updated_at = '2024-02-01' WHERE customer_id = 2;
UPDATE stg_customer SET segment = 'Z' WHERE customer_id = 3;
INSERT INTO stg_customer VALUES (4, 'Di', 'Lima', 'D', '2024-02-01');
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer', 'dim_t2.stg_customer',
	'{customer_id}', effective_at => 'updated_at', type1_columns => '{segment}');
SELECT customer_key, customer_id, name, city, segment, valid_from, valid_to, is_current
  FROM dim_customer ORDER BY customer_id, valid_from;

-- A type-1 change is written into every version of the member.
UPDATE stg_customer SET segment = NULL WHERE customer_id = 1;
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer', 'dim_t2.stg_customer',
	'{customer_id}', effective_at => 'updated_at', type1_columns => '{segment}');
SELECT customer_key, city, segment, is_current FROM dim_customer
 WHERE customer_id = 1 ORDER BY valid_from;
-- value -> NULL is a change too; with an unchanged effective time the old
-- version ends where it began.
UPDATE stg_customer SET city = NULL WHERE customer_id = 3;
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer', 'dim_t2.stg_customer',
	'{customer_id}', effective_at => 'updated_at', type1_columns => '{segment}');
SELECT customer_key, city, valid_from, valid_to, is_current FROM dim_customer
 WHERE customer_id = 3 ORDER BY valid_from, customer_key;

-- Exactly one current row per key, and no overlapping versions.
SELECT customer_id, count(*) FILTER (WHERE is_current) AS current_rows
  FROM dim_customer GROUP BY customer_id ORDER BY customer_id;
SELECT count(*) AS overlaps FROM dim_customer a JOIN dim_customer b
    ON a.customer_id = b.customer_id AND a.customer_key < b.customer_key
   AND a.valid_from < b.valid_to AND b.valid_from < a.valid_to
   AND a.valid_from < a.valid_to AND b.valid_from < b.valid_to;

-- deletes => 'close' ends the current version of a member that is gone;
-- inferred members and the unknown member are left alone.
DELETE FROM stg_customer WHERE customer_id = 4;
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer', 'dim_t2.stg_customer',
	'{customer_id}', effective_at => 'updated_at', type1_columns => '{segment}',
	deletes => 'close');
SELECT customer_id, is_current, valid_to = 'infinity' AS open
  FROM dim_customer WHERE customer_id = 4 OR customer_key = -1 ORDER BY customer_key;
-- Closing twice does nothing more.
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer', 'dim_t2.stg_customer',
	'{customer_id}', effective_at => 'updated_at', type1_columns => '{segment}',
	deletes => 'close');

-- A member that comes back starts a new version, never overlapping the
-- closed one (it was closed at the merge's time, later than its source
-- time).
INSERT INTO stg_customer VALUES (4, 'Di', 'Lima', 'D', '2024-03-01');
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer', 'dim_t2.stg_customer',
	'{customer_id}', effective_at => 'updated_at', type1_columns => '{segment}',
	deletes => 'close');
SELECT customer_id, is_current, valid_to = 'infinity' AS open
  FROM dim_customer WHERE customer_id = 4 ORDER BY valid_from;
SELECT count(*) AS overlaps FROM dim_customer a JOIN dim_customer b
    ON a.customer_id = b.customer_id AND a.customer_key < b.customer_key
   AND a.valid_from < b.valid_to AND b.valid_from < a.valid_to;

-- Duplicate natural keys: an error naming one key, and nothing written.
CREATE TEMP TABLE before AS SELECT * FROM dim_customer;
INSERT INTO stg_customer VALUES (2, 'Bobby', 'Nice', 'B', '2024-04-01');
UPDATE stg_customer SET city = 'Tromso', updated_at = '2024-04-01' WHERE customer_id = 1;
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer', 'dim_t2.stg_customer',
	'{customer_id}', effective_at => 'updated_at', type1_columns => '{segment}');
SELECT count(*) AS changed_rows FROM
  ((TABLE dim_customer EXCEPT TABLE before) UNION ALL (TABLE before EXCEPT TABLE dim_customer)) d;
DELETE FROM stg_customer WHERE name = 'Bobby';

-- A change dated before the current version starts is refused.
UPDATE stg_customer SET city = 'Bodo', updated_at = '2023-06-01' WHERE customer_id = 1;
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer', 'dim_t2.stg_customer',
	'{customer_id}', effective_at => 'updated_at', type1_columns => '{segment}');
UPDATE stg_customer SET city = 'Tromso', updated_at = '2024-04-01' WHERE customer_id = 1;

-- effective_at as an expression over the source; a SELECT source.
SELECT * FROM elt.merge_dimension('dim_t2.dim_customer',
	'SELECT customer_id, name, city, segment, updated_at FROM dim_t2.stg_customer WHERE customer_id <> 3;',
	'{customer_id}', effective_at => 'updated_at + interval ''1 hour''',
	type1_columns => '{segment}');
SELECT valid_from FROM dim_customer WHERE customer_id = 1 AND is_current;

-- ignore_columns are stored but not compared.
CREATE TABLE stg_product (sku text, title text, loaded_at timestamptz);
INSERT INTO stg_product VALUES ('p1', 'Pen', '2024-01-01'), ('p2', 'Ink', '2024-01-01');
SELECT * FROM elt.merge_dimension('dim_t2.dim_product', 'dim_t2.stg_product', '{sku}',
	ignore_columns => '{loaded_at}');
UPDATE stg_product SET loaded_at = '2024-05-05';
SELECT * FROM elt.merge_dimension('dim_t2.dim_product', 'dim_t2.stg_product', '{sku}',
	ignore_columns => '{loaded_at}');
UPDATE stg_product SET title = 'Pencil', loaded_at = '2024-06-06' WHERE sku = 'p1';
SELECT * FROM elt.merge_dimension('dim_t2.dim_product', 'dim_t2.stg_product', '{sku}',
	ignore_columns => '{loaded_at}');
SELECT sku, title, loaded_at, is_current FROM dim_product ORDER BY product_key;

-- Composite natural keys with NULL parts: NULL matches NULL.
CREATE TABLE stg_account (region text, account_no int, owner text);
INSERT INTO stg_account VALUES ('eu', 1, 'a'), ('eu', NULL, 'b'), (NULL, 1, 'c'), (NULL, NULL, 'd');
SELECT * FROM elt.merge_dimension('dim_t2.dim_account', 'dim_t2.stg_account',
	'{region,account_no}');
SELECT * FROM elt.merge_dimension('dim_t2.dim_account', 'dim_t2.stg_account',
	'{region,account_no}');
UPDATE stg_account SET owner = owner || '2' WHERE region IS NULL OR account_no IS NULL;
SELECT * FROM elt.merge_dimension('dim_t2.dim_account', 'dim_t2.stg_account',
	'{region,account_no}', deletes => 'close');
SELECT region, account_no, owner, is_current FROM dim_account
 WHERE account_key <> -1 ORDER BY region NULLS LAST, account_no NULLS LAST, account_key;
DELETE FROM stg_account WHERE region IS NULL AND account_no IS NULL;
SELECT * FROM elt.merge_dimension('dim_t2.dim_account', 'dim_t2.stg_account',
	'{region,account_no}', deletes => 'close');
SELECT count(*) FILTER (WHERE is_current) AS current_null_key
  FROM dim_account WHERE region IS NULL AND account_no IS NULL AND account_key <> -1;
-- Duplicates with NULL parts are duplicates too.
INSERT INTO stg_account VALUES ('eu', NULL, 'x');
SELECT * FROM elt.merge_dimension('dim_t2.dim_account', 'dim_t2.stg_account',
	'{region,account_no}');

-- Every call is recorded.
SELECT function, target, inserted, updated, closed, unchanged, run_by = current_user AS by_me, detail
  FROM elt.model_run WHERE target LIKE 'dim_t2.%' ORDER BY id;
SELECT count(*) AS with_timings FROM elt.model_run
 WHERE target LIKE 'dim_t2.%' AND started_at IS NOT NULL AND elapsed >= interval '0';

RESET search_path;

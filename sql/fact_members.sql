-- elt.merge_fact's late-arriving members: the pass that looks for them
-- (an anti-join of the source to each dimension) runs only when the
-- dimension's keys, read into memory, do not hold every key of the source.
-- Every case below must find exactly the members that are missing.
SET timezone = 'UTC';
CREATE SCHEMA fact_m;
SET search_path = fact_m, public;

-- A composite key of text and numeric; the type 2 dimension has history.
CREATE TABLE stg_shop (region text, num numeric, name text);
INSERT INTO stg_shop SELECT CASE WHEN g % 2 = 0 THEN 'north' ELSE 'south' END, g, 'shop ' || g
  FROM generate_series(1, 3000) AS g;
SELECT inserted FROM elt.merge_dimension('fact_m.dim_shop', 'fact_m.stg_shop', '{region,num}');
UPDATE stg_shop SET name = name || '!' WHERE num % 3 = 0;
SELECT inserted, closed FROM elt.merge_dimension('fact_m.dim_shop', 'fact_m.stg_shop', '{region,num}');

\set dims '[{"dimension": "fact_m.dim_shop", "on": {"region": "region", "num": "num"}}]'

-- Every key present (numeric 2.0 is 2; NULL parts refer to no member):
-- nothing inferred.
CREATE TABLE sales (sale int, region text, num numeric, amount int);
INSERT INTO sales SELECT g, CASE WHEN (g % 3000 + 1) % 2 = 0 THEN 'north' ELSE 'south' END,
	   (g % 3000 + 1) * 1.0, g
  FROM generate_series(1, 20000) AS g;
INSERT INTO sales VALUES (90001, NULL, 5, 1), (90002, 'north', NULL, 1), (90003, 'north', 2.00, 1);
SELECT * FROM elt.merge_fact('fact_m.fact_sale', 'fact_m.sales', '{sale}', :'dims');
SELECT detail ? 'inferred' AS inferred_any FROM elt.model_run
 WHERE target = 'fact_m.fact_sale' ORDER BY id DESC LIMIT 1;
SELECT count(*) FILTER (WHERE shop_key = -1) AS unknown, count(*) FROM fact_sale;

-- One key missing among them, last in the source: inferred.
INSERT INTO sales VALUES (90004, 'west', 7, 1);
SELECT * FROM elt.merge_fact('fact_m.fact_sale', 'fact_m.sales', '{sale}', :'dims');
SELECT detail->'inferred' FROM elt.model_run WHERE target = 'fact_m.fact_sale' ORDER BY id DESC LIMIT 1;
SELECT region, num, is_inferred FROM dim_shop WHERE is_inferred;

-- The same with late_arriving => 'error': refused, naming the key.
INSERT INTO sales VALUES (90005, 'east', 8, 1);
SELECT * FROM elt.merge_fact('fact_m.fact_sale', 'fact_m.sales', '{sale}',
	'[{"dimension": "fact_m.dim_shop", "on": {"region": "region", "num": "num"}, "late_arriving": "error"}]');

-- work_mem too small for the dimension's keys: the pass runs, and finds
-- the missing key.
SET work_mem = '64kB';
SELECT * FROM elt.merge_fact('fact_m.fact_sale', 'fact_m.sales', '{sale}', :'dims');
RESET work_mem;
SELECT region, num, is_inferred FROM dim_shop WHERE is_inferred ORDER BY region;
SELECT count(*) FILTER (WHERE shop_key = -1) AS unknown, count(*) FROM fact_sale;

-- elt.merge_dimension with a watermark (only the source rows newer than the
-- dimension's highest value are read) and a deleted flag (deletes are the
-- rows the source marks, never the members it lacks).  Every failing call
-- must leave the dimension exactly as it was.
\i test/regress/dimension_helpers.sql

------------------------------------------------------------------------
-- 1. A staging table that only grows: _elt_batch_id as the watermark.
------------------------------------------------------------------------
CREATE TABLE stg_cust (_elt_batch_id bigint, id int, name text, city text,
					   removed boolean, changed_at timestamptz);
INSERT INTO stg_cust VALUES
	(1, 1, 'Ann', 'Oslo', false, '2024-01-01'),
	(1, 2, 'Bob', 'Rome', false, '2024-01-01'),
	(1, 3, 'Cy', 'Lima', false, '2024-01-01'),
	(1, 4, 'Dee', 'Nice', true, '2024-01-01');
-- The first build reads everything; a member flagged on arrival is not
-- added.  The watermark column gets an index.
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust', 'dim_edge.stg_cust', '{id}',
	effective_at => 'changed_at', ignore_columns => '{_elt_batch_id}',
	deletes => 'close', watermark => '_elt_batch_id', deleted_flag => 'removed');
SELECT cust_key, id, name, city, removed, _elt_batch_id, ts(valid_from) AS valid_from,
	   ts(valid_to) AS valid_to, is_current
  FROM dim_cust ORDER BY cust_key;
SELECT count(*) AS watermark_indexes FROM pg_index
 WHERE indrelid = 'dim_edge.dim_cust'::regclass
   AND indkey[0] = (SELECT attnum FROM pg_attribute
					 WHERE attrelid = 'dim_edge.dim_cust'::regclass AND attname = '_elt_batch_id');
-- Batch 2: Bob moves, Cy is deleted, Eve is new.  Batch 1's rows are not
-- read again (their Ann would be unchanged anyway; Bob's old row would be a
-- duplicate natural key if it were read).
INSERT INTO stg_cust VALUES
	(2, 2, 'Bob', 'Paris', false, '2024-02-01'),
	(2, 3, 'Cy', 'Lima', true, '2024-02-01'),
	(2, 5, 'Eve', 'Bergen', false, '2024-02-01');
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust', 'dim_edge.stg_cust', '{id}',
	effective_at => 'changed_at', ignore_columns => '{_elt_batch_id}',
	deletes => 'close', watermark => '_elt_batch_id', deleted_flag => 'removed');
SELECT cust_key, id, name, city, removed, _elt_batch_id, ts(valid_from) AS valid_from,
	   ts(valid_to) AS valid_to, is_current
  FROM dim_cust ORDER BY cust_key;
-- Nothing newer: nothing read, nothing changes; members missing from the
-- (empty) increment are not deleted, and the guard has nothing to say.
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust', 'dim_edge.stg_cust', '{id}',
	effective_at => 'changed_at', ignore_columns => '{_elt_batch_id}',
	deletes => 'close', watermark => '_elt_batch_id', deleted_flag => 'removed');
-- Batch 3: Cy comes back, Ann is deleted (closed at her row's effective
-- time), a flag for a key never seen and one for a member never added
-- change nothing.
INSERT INTO stg_cust VALUES
	(3, 3, 'Cy', 'Lima', false, '2024-03-01'),
	(3, 1, 'Ann', 'Oslo', true, '2024-03-01'),
	(3, 9, 'Zed', 'Oslo', true, '2024-03-01'),
	(3, 4, 'Dee', 'Nice', true, '2024-03-01');
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust', 'dim_edge.stg_cust', '{id}',
	effective_at => 'changed_at', ignore_columns => '{_elt_batch_id}',
	deletes => 'close', watermark => '_elt_batch_id', deleted_flag => 'removed');
SELECT cust_key, id, name, city, removed, _elt_batch_id, ts(valid_from) AS valid_from,
	   ts(valid_to) AS valid_to, is_current
  FROM dim_cust ORDER BY cust_key;

------------------------------------------------------------------------
-- 2. A timestamp watermark into a type 1 dimension, deletes flagged, NULL
--    key parts; a row dated at the last watermark is not newer.  The
--    watermark is the highest value the dimension stores: a newer row that
--    changes nothing leaves it where it was, and is read again next time.
------------------------------------------------------------------------
CREATE TABLE stg_item (sku text, shop text, price numeric, gone boolean, updated_at timestamptz);
INSERT INTO stg_item VALUES
	('a', 'x', 1.0, false, '2024-01-01'),
	('b', NULL, 2.0, false, '2024-01-01'),
	('c', 'x', 3.0, false, '2024-01-02');
SELECT * FROM elt.merge_dimension('dim_edge.dim_item', 'dim_edge.stg_item', '{sku,shop}',
	scd_type => 1, ignore_columns => '{updated_at}', deletes => 'flag',
	watermark => 'updated_at', deleted_flag => 'gone');
INSERT INTO stg_item VALUES
	('a', 'x', 9.0, false, '2024-01-02'),	-- not newer than the watermark: not read
	('a', 'x', 1.00, false, '2024-01-03'),	-- newer, the same price: unchanged
	('b', NULL, 2.5, false, '2024-01-03'),	-- NULL key part, changed
	('c', 'x', 3.0, true, '2024-01-03');	-- deleted
SELECT * FROM elt.merge_dimension('dim_edge.dim_item', 'dim_edge.stg_item', '{sku,shop}',
	scd_type => 1, ignore_columns => '{updated_at}', deletes => 'flag',
	watermark => 'updated_at', deleted_flag => 'gone');
SELECT item_key, sku, shop, price, gone, updated_at::date, is_deleted FROM dim_item ORDER BY item_key;
INSERT INTO stg_item VALUES ('b', NULL, 2.5, true, '2024-01-04');
SELECT * FROM elt.merge_dimension('dim_edge.dim_item', 'dim_edge.stg_item', '{sku,shop}',
	scd_type => 1, ignore_columns => '{updated_at}', deletes => 'flag',
	watermark => 'updated_at', deleted_flag => 'gone');
SELECT item_key, sku, shop, price, gone, updated_at::date, is_deleted FROM dim_item ORDER BY item_key;

------------------------------------------------------------------------
-- 3. A deleted flag without a watermark: a complete source whose missing
--    members are left alone, only the flagged ones deleted.
------------------------------------------------------------------------
CREATE TABLE stg_team (team text, coach text, dropped boolean);
INSERT INTO stg_team VALUES ('red', 'Ann', false), ('blue', 'Bob', false), ('green', 'Cy', false);
SELECT * FROM elt.merge_dimension('dim_edge.dim_team', 'dim_edge.stg_team', '{team}',
	deletes => 'close', deleted_flag => 'dropped');
DELETE FROM stg_team WHERE team = 'red';
UPDATE stg_team SET dropped = true WHERE team = 'blue';
SELECT * FROM elt.merge_dimension('dim_edge.dim_team', 'dim_edge.stg_team', '{team}',
	deletes => 'close', deleted_flag => 'dropped');
SELECT team, coach, dropped, ts(valid_to) AS valid_to, is_current FROM dim_team ORDER BY team_key;

------------------------------------------------------------------------
-- 4. Bad arguments, refused before anything is read or written.
------------------------------------------------------------------------
SELECT snap('dim_edge.dim_cust');
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust', 'dim_edge.stg_cust', '{id}',
	effective_at => 'changed_at', ignore_columns => '{_elt_batch_id}',
	deletes => 'close', watermark => '_elt_batch_id');
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust', 'dim_edge.stg_cust', '{id}',
	effective_at => 'changed_at', deleted_flag => 'removed');
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust', 'dim_edge.stg_cust', '{id}',
	effective_at => 'changed_at', watermark => 'nope');
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust', 'dim_edge.stg_cust', '{id}',
	effective_at => 'changed_at', watermark => 'id');
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust',
	'SELECT *, point(1, 2) AS p FROM dim_edge.stg_cust', '{id}', watermark => 'p');
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust', 'dim_edge.stg_cust', '{id}',
	effective_at => 'changed_at', deletes => 'close', deleted_flag => 'name');
SELECT * FROM elt.merge_dimension('dim_edge.dim_cust', 'dim_edge.stg_cust', '{id}',
	effective_at => 'changed_at', deletes => 'close', deleted_flag => 'nope');
SELECT changed('dim_edge.dim_cust');

SET client_min_messages = warning;
DROP SCHEMA dim_edge CASCADE;
RESET client_min_messages;

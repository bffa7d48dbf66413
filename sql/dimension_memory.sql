-- elt.merge_dimension classifying a full source against the current rows
-- held in memory (pg_elt.merge_in_memory, the default) gives exactly what
-- the join gives: every merge below runs twice in one transaction, into a
-- twin dimension each, once in memory and once by join (the detail of
-- elt.model_run says which), and the twins are compared row by row.
SET timezone = 'UTC';
SET datestyle = 'ISO';
CREATE SCHEMA dim_mem;
SET search_path = dim_mem, public;

-- Run call (a format() string, %1$s the dimension) into dim_mem.dim_<dim>_m
-- in memory and into dim_mem.dim_<dim>_j by join; the counts and how each was
-- classified.
CREATE FUNCTION twin(dim text, call text)
RETURNS TABLE (path text, inserted bigint, updated bigint, closed bigint, unchanged bigint,
			   classified text)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOREACH path IN ARRAY ARRAY['m', 'j'] LOOP
		PERFORM set_config('pg_elt.merge_in_memory', (path = 'm')::text, true);
		EXECUTE format(call, quote_literal('dim_mem.dim_' || dim || '_' || path)) INTO r;
		inserted := r.inserted; updated := r.updated; closed := r.closed; unchanged := r.unchanged;
		SELECT detail->>'classified' INTO classified FROM elt.model_run ORDER BY id DESC LIMIT 1;
		RETURN NEXT;
	END LOOP;
	PERFORM set_config('pg_elt.merge_in_memory', 'on', true);
END $$;

-- The rows in one twin and not in the other, the surrogate keys left out
-- (new rows may be numbered in another order).
CREATE FUNCTION differ(dim text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
	keys text[] := ARRAY[dim || '_m_key', dim || '_j_key'];
BEGIN
	EXECUTE format('SELECT count(*) FROM ((SELECT to_jsonb(m) - %1$L::text[] FROM dim_mem.%2$I AS m
					EXCEPT ALL SELECT to_jsonb(j) - %1$L::text[] FROM dim_mem.%3$I AS j)
					UNION ALL (SELECT to_jsonb(j) - %1$L::text[] FROM dim_mem.%3$I AS j
					EXCEPT ALL SELECT to_jsonb(m) - %1$L::text[] FROM dim_mem.%2$I AS m)) AS d',
				   keys, 'dim_' || dim || '_m', 'dim_' || dim || '_j') INTO n;
	RETURN n;
END $$;

-- Values, not bytes: numeric scale, -0 and 0, NaN, a compressed long text
-- against the same text computed, jsonb numbers of another scale and
-- char(n) padding are unchanged; json and point (no equality operator)
-- compare as text; NULL against a value is a change; a member missing
-- from the source is closed and comes back.
CREATE TABLE stg_val (k int, amount numeric, ratio float8, body text, doc json, doc_b jsonb,
					  spot point, code char(4));
INSERT INTO stg_val VALUES
	(1, 1.0, 0.0, repeat('long text ', 1000), '{"a": 1}', '{"a": 1.0}', '(1,2)', 'ab'),
	(2, 2.5, 'NaN', 'short', '[1, 2]', '[1, 2]', '(0,0)', 'cd'),
	(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(4, 4, 4, 'four', '4', '4', '(4,4)', 'ef');
SELECT * FROM twin('val', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_val', '{k}',
	effective_at => $x$'2024-01-01'::date$x$, deletes => 'close')$$);
SELECT * FROM twin('val', $$SELECT * FROM elt.merge_dimension(%1$s,
	$q$SELECT k, amount * 1.00 AS amount, -ratio AS ratio,
			 CASE WHEN k = 1 THEN repeat('long text ', 500) || repeat('long text ', 500) ELSE body END AS body,
			 doc, CASE WHEN k = 1 THEN '{"a": 1.00}'::jsonb ELSE doc_b END AS doc_b, spot,
			 (rtrim(code) || '  ')::char(4) AS code
		FROM dim_mem.stg_val WHERE k <> 4$q$,
	'{k}', effective_at => $x$'2024-02-01'::date$x$, deletes => 'close')$$);
SELECT * FROM twin('val', $$SELECT * FROM elt.merge_dimension(%1$s,
	$q$SELECT k, amount, ratio, body, CASE WHEN k = 1 THEN '{"a":1}'::json ELSE doc END AS doc, doc_b,
			 CASE WHEN k = 2 THEN point '(0,1)' ELSE spot END AS spot, code FROM dim_mem.stg_val$q$,
	'{k}', effective_at => $x$'2024-03-01'::date$x$, deletes => 'close')$$);
SELECT * FROM twin('val', $$SELECT * FROM elt.merge_dimension(%1$s,
	$q$SELECT k, CASE WHEN k = 3 THEN 0 ELSE amount END AS amount, ratio, body, doc, doc_b, spot,
			 CASE WHEN k = 2 THEN 'cx' ELSE code END::char(4) AS code FROM dim_mem.stg_val$q$,
	'{k}', effective_at => $x$'2024-04-01'::date$x$, deletes => 'close')$$);
SELECT differ('val');
SELECT k, amount, ratio, left(body, 12) AS body, doc, doc_b, spot, code,
	   CASE WHEN valid_from > '2025-01-01' THEN 'at the merge' ELSE valid_from::date::text END AS valid_from,
	   valid_to < 'infinity' AS closed, is_current
  FROM dim_val_m WHERE k <> -1 ORDER BY k, valid_from;

-- Keys: a composite key of text and numeric (1.0 matches 1.00), NULL key
-- parts (matched null-safely after the pass), a key gone and back, and
-- type-1 columns overwritten in every version.
CREATE TABLE stg_item (shop text, sku numeric, title text, price numeric, note text);
INSERT INTO stg_item VALUES
	('oslo', 1.0, 'Pen', 2, 'a'), ('oslo', 2, 'Ink', 3, 'b'), ('rome', 1, 'Pen', 2, 'c'),
	(NULL, 3, 'Cap', 1, 'd'), ('lima', NULL, 'Box', 5, 'e'), (NULL, NULL, 'Bag', 7, 'f');
SELECT * FROM twin('item', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_item',
	'{shop,sku}', type1_columns => '{note}', deletes => 'close')$$);
UPDATE stg_item SET sku = 1.00 WHERE sku = 1;
UPDATE stg_item SET price = price + 1 WHERE title IN ('Ink', 'Box');
UPDATE stg_item SET note = note || '!' WHERE title IN ('Pen', 'Bag');
DELETE FROM stg_item WHERE title = 'Cap';
SELECT * FROM twin('item', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_item',
	'{shop,sku}', type1_columns => '{note}', deletes => 'close')$$);
INSERT INTO stg_item VALUES (NULL, 3, 'Cap', 1, 'd'), ('rome', 9, 'New', 1, 'g');
SELECT * FROM twin('item', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_item',
	'{shop,sku}', type1_columns => '{note}', deletes => 'close')$$);
SELECT differ('item');
SELECT shop, sku, title, price, note, valid_to < 'infinity' AS closed, is_current
  FROM dim_item_m WHERE item_m_key <> -1 ORDER BY shop, sku, title, valid_from;

-- Type 1 with deletes flagged: a flagged member comes back unflagged.
CREATE TABLE stg_code (code text, label text);
INSERT INTO stg_code VALUES ('x', 'one'), ('y', 'two'), ('z', 'three');
SELECT * FROM twin('code', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_code', '{code}',
	scd_type => 1, deletes => 'flag')$$);
DELETE FROM stg_code WHERE code = 'z';
UPDATE stg_code SET label = 'uno' WHERE code = 'x';
SELECT * FROM twin('code', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_code', '{code}',
	scd_type => 1, deletes => 'flag')$$);
INSERT INTO stg_code VALUES ('z', 'three');
SELECT * FROM twin('code', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_code', '{code}',
	scd_type => 1, deletes => 'flag')$$);
SELECT differ('code');
SELECT code, label, is_deleted FROM dim_code_m WHERE code_m_key <> -1 ORDER BY code;

-- Inferred members (from a fact's late-arriving keys): one the source now
-- delivers is completed in place, one it does not is left alone by the
-- close.
CREATE TABLE stg_cust (id int, name text);
INSERT INTO stg_cust VALUES (1, 'Ann'), (2, 'Bob');
SELECT * FROM twin('cust', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_cust', '{id}',
	deletes => 'close')$$);
CREATE TABLE stg_sale (sale int, id int, amount int);
INSERT INTO stg_sale VALUES (10, 1, 5), (11, 3, 6), (12, 4, 7);
SELECT f.* FROM unnest(ARRAY['m', 'j']) AS t,
	LATERAL elt.merge_fact('dim_mem.fact_sale_' || t, 'dim_mem.stg_sale', '{sale}',
		format('[{"dimension": "dim_mem.dim_cust_%s", "on": {"id": "id"}}]', t)::jsonb) AS f;
INSERT INTO stg_cust VALUES (3, 'Cy');
SELECT * FROM twin('cust', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_cust', '{id}',
	deletes => 'close')$$);
SELECT differ('cust');
SELECT id, name, is_inferred, is_current FROM dim_cust_m WHERE cust_m_key <> -1 ORDER BY id, valid_from;

-- A dimension with two current rows of one key (written by hand): a source
-- row matches both, as in the join.
CREATE TABLE stg_twice (id int, name text);
INSERT INTO stg_twice SELECT g, 'n' || g FROM generate_series(1, 50) AS g;
SELECT * FROM twin('twice', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_twice', '{id}',
	deletes => 'close')$$);
INSERT INTO dim_twice_m (id, name, valid_from, valid_to, is_current)
	SELECT id, name || '?', valid_from, valid_to, true FROM dim_twice_m WHERE id IN (7, 8);
INSERT INTO dim_twice_j (id, name, valid_from, valid_to, is_current)
	SELECT id, name || '?', valid_from, valid_to, true FROM dim_twice_j WHERE id IN (7, 8);
UPDATE stg_twice SET name = 'x' WHERE id = 8;
SELECT * FROM twin('twice', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_twice', '{id}',
	deletes => 'close')$$);
SELECT differ('twice');
SELECT id, name, is_current FROM dim_twice_m WHERE id IN (7, 8) ORDER BY id, name;

-- A duplicated natural key is refused, whether its rows changed or not,
-- and nothing is written.
CREATE TABLE stg_dup (id int, name text);
INSERT INTO stg_dup VALUES (1, 'a'), (2, 'b');
SELECT * FROM elt.merge_dimension('dim_mem.dim_dup', 'dim_mem.stg_dup', '{id}');
INSERT INTO stg_dup VALUES (1, 'a');
SELECT * FROM elt.merge_dimension('dim_mem.dim_dup', 'dim_mem.stg_dup', '{id}', deletes => 'close');
UPDATE stg_dup SET name = 'z' WHERE id = 1;
SELECT * FROM elt.merge_dimension('dim_mem.dim_dup', 'dim_mem.stg_dup', '{id}', deletes => 'close');
SELECT id, name, is_current FROM dim_dup WHERE dup_key <> -1 ORDER BY 1;

-- Current rows that do not fit in work_mem times hash_mem_multiplier are
-- classified by the join, whether the estimate says so before the pass or
-- the table outgrows it during the pass.
CREATE TABLE stg_big AS SELECT g AS id, 'name ' || g AS name FROM generate_series(1, 6000) AS g;
SELECT * FROM elt.merge_dimension('dim_mem.dim_big', 'dim_mem.stg_big', '{id}', deletes => 'close');
SET work_mem = '64kB';
SELECT * FROM elt.merge_dimension('dim_mem.dim_big', 'dim_mem.stg_big', '{id}', deletes => 'close');
SELECT detail->>'classified' FROM elt.model_run ORDER BY id DESC LIMIT 1;
RESET work_mem;
SELECT * FROM elt.merge_dimension('dim_mem.dim_big', 'dim_mem.stg_big', '{id}', deletes => 'close');
SELECT detail->>'classified' FROM elt.model_run ORDER BY id DESC LIMIT 1;
-- 1,000 rows known to the statistics, 6,000 more added since
CREATE TABLE stg_grow AS SELECT g AS id, 'name ' || g AS name FROM generate_series(1, 1000) AS g;
SELECT * FROM elt.merge_dimension('dim_mem.dim_grow', 'dim_mem.stg_grow', '{id}', deletes => 'close');
ALTER TABLE dim_grow SET (autovacuum_enabled = false);
INSERT INTO stg_grow SELECT g, 'name ' || g FROM generate_series(1001, 7000) AS g;
SELECT * FROM elt.merge_dimension('dim_mem.dim_grow', 'dim_mem.stg_grow', '{id}', deletes => 'close');
SELECT reltuples < 2000 AS estimate_low FROM pg_class WHERE oid = 'dim_mem.dim_grow'::regclass;
SET work_mem = '64kB';
UPDATE stg_grow SET name = name || '!' WHERE id % 1000 = 0;
SELECT * FROM elt.merge_dimension('dim_mem.dim_grow', 'dim_mem.stg_grow', '{id}', deletes => 'close');
SELECT detail->>'classified' FROM elt.model_run ORDER BY id DESC LIMIT 1;
RESET work_mem;
-- the estimate still low, the table grows during the pass and fits
SELECT reltuples < 2000 AS estimate_low FROM pg_class WHERE oid = 'dim_mem.dim_grow'::regclass;
UPDATE stg_grow SET name = name || '?' WHERE id % 1000 = 1;
SELECT * FROM elt.merge_dimension('dim_mem.dim_grow', 'dim_mem.stg_grow', '{id}', deletes => 'close');
SELECT detail->>'classified' FROM elt.model_run ORDER BY id DESC LIMIT 1;

-- Without deletes, a source probes the natural-key index by join: its cost
-- follows the source, not the dimension.
SELECT * FROM elt.merge_dimension('dim_mem.dim_big', 'dim_mem.stg_big', '{id}');
SELECT detail->>'classified' FROM elt.model_run ORDER BY id DESC LIMIT 1;

-- Row-level security and column privileges apply as in the join: a role
-- that sees only some members classifies against those (the others' source
-- rows come out new, on both routes alike), and a role without SELECT on
-- valid_from, which classifying reads, is refused on both routes.
CREATE ROLE regress_dim_mem;
GRANT USAGE ON SCHEMA dim_mem TO regress_dim_mem;
CREATE TABLE stg_rls (id int, region text, name text);
INSERT INTO stg_rls VALUES (1, 'north', 'a'), (2, 'south', 'b'), (3, 'north', 'c'), (4, 'south', 'd');
GRANT SELECT ON stg_rls TO regress_dim_mem;
SELECT * FROM twin('rls', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_rls', '{id}',
	deletes => 'close')$$);
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['dim_rls_m', 'dim_rls_j'] LOOP
		EXECUTE format('GRANT ALL ON dim_mem.%I TO regress_dim_mem', t);
		EXECUTE format('ALTER TABLE dim_mem.%I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY north ON dim_mem.%I USING (region IS DISTINCT FROM %L) WITH CHECK (true)',
					   t, 'south');
	END LOOP;
END $$;
UPDATE stg_rls SET name = name || '!' WHERE id IN (1, 2);
SET ROLE regress_dim_mem;
SELECT * FROM twin('rls', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_rls', '{id}',
	deletes => 'close')$$);
RESET ROLE;
SELECT differ('rls');
SELECT id, region, name, is_current FROM dim_rls_m WHERE rls_m_key <> -1 ORDER BY id, valid_from;
REVOKE SELECT ON dim_rls_m FROM regress_dim_mem;
GRANT SELECT (ctid, rls_m_key, id, region, name, valid_to, is_current, is_inferred, is_deleted)
	ON dim_rls_m TO regress_dim_mem;
SET ROLE regress_dim_mem;
SET pg_elt.merge_in_memory = on;
SELECT * FROM elt.merge_dimension('dim_mem.dim_rls_m', 'dim_mem.stg_rls', '{id}', deletes => 'close');
SET pg_elt.merge_in_memory = off;
SELECT * FROM elt.merge_dimension('dim_mem.dim_rls_m', 'dim_mem.stg_rls', '{id}', deletes => 'close');
RESET pg_elt.merge_in_memory;
RESET ROLE;
-- Classifying reads the same columns on both routes: the join reads only
-- those too, not every column of the dimension.  A role with SELECT on
-- them (and on ctid, by which both routes find the rows) but not on
-- valid_to, which only the writes read, merges a source of the unchanged
-- members it sees alike in memory and by join: nothing to write.
REVOKE SELECT ON dim_rls_j FROM regress_dim_mem;
REVOKE SELECT (valid_to) ON dim_rls_m FROM regress_dim_mem;
GRANT SELECT (ctid, rls_m_key, id, region, name, valid_from, is_current, is_inferred, is_deleted)
	ON dim_rls_m TO regress_dim_mem;
GRANT SELECT (ctid, rls_j_key, id, region, name, valid_from, is_current, is_inferred, is_deleted)
	ON dim_rls_j TO regress_dim_mem;
CREATE TABLE stg_north AS SELECT id, region, name FROM dim_rls_m
 WHERE is_current AND region = 'north' AND rls_m_key <> -1;
GRANT SELECT ON stg_north TO regress_dim_mem;
SET ROLE regress_dim_mem;
SELECT * FROM twin('rls', $$SELECT * FROM elt.merge_dimension(%1$s, 'dim_mem.stg_north', '{id}',
	deletes => 'close')$$);
RESET ROLE;
SELECT differ('rls');
SELECT id, region, name, is_current FROM dim_rls_m WHERE rls_m_key <> -1 ORDER BY id, valid_from;
DROP OWNED BY regress_dim_mem;
DROP ROLE regress_dim_mem;

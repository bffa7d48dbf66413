-- elt.merge: incremental models by unique key: strategies, watermark,
-- on_schema_change, refusals.
SET timezone = 'UTC';
CREATE SCHEMA merge_t;
SET search_path = merge_t, public;

CREATE TABLE src (id int, name text, score numeric, changed_at timestamptz);
INSERT INTO src VALUES (1, 'a', 1, '2024-01-01'), (2, 'b', NULL, '2024-01-02'), (3, 'c', 3, '2024-01-03');

-- First call creates the model with a primary key on the unique key.
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}');
\d merge_t.model
-- Again: nothing changes.
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}');
-- Null-safe: NULL -> value and value -> NULL are updates.
UPDATE src SET score = 2 WHERE id = 2;
UPDATE src SET score = NULL WHERE id = 3;
INSERT INTO src VALUES (4, 'd', 4, '2024-01-04');
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}');
SELECT * FROM model ORDER BY id;

-- Watermark: only rows newer than the model's highest value are read.
SELECT * FROM elt.merge('merge_t.wm', 'merge_t.src', '{id}', watermark => 'changed_at');
UPDATE src SET name = 'A', changed_at = '2024-02-01' WHERE id = 1;
UPDATE src SET name = 'B' WHERE id = 2;	-- not past the watermark
SELECT * FROM elt.merge('merge_t.wm', 'merge_t.src', '{id}', watermark => 'changed_at');
SELECT id, name FROM wm ORDER BY id;
\d merge_t.wm

-- append and delete+insert.
SELECT * FROM elt.merge('merge_t.log', 'SELECT id, name FROM merge_t.src WHERE id <= 2', NULL,
	strategy => 'append');
SELECT * FROM elt.merge('merge_t.log', 'SELECT id, name FROM merge_t.src WHERE id <= 2', '{}',
	strategy => 'append');
SELECT count(*) FROM log;
CREATE TABLE src_day (day date, item text, qty int);
INSERT INTO src_day VALUES ('2024-01-01', 'x', 1), ('2024-01-01', 'y', 2), ('2024-01-02', 'x', 3);
SELECT * FROM elt.merge('merge_t.daily', 'merge_t.src_day', '{day}', strategy => 'delete+insert');
DELETE FROM src_day WHERE day = '2024-01-01';
INSERT INTO src_day VALUES ('2024-01-02', 'z', 4);
SELECT * FROM elt.merge('merge_t.daily', 'merge_t.src_day', '{day}', strategy => 'delete+insert');
SELECT * FROM daily ORDER BY day, item;

-- Duplicated and NULL keys are refused before anything is written.
INSERT INTO src VALUES (4, 'dup', 0, '2024-03-01');
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}');
DELETE FROM src WHERE name = 'dup';
INSERT INTO src VALUES (NULL, 'nokey', 0, '2024-03-01');
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}');
DELETE FROM src WHERE id IS NULL;
SELECT count(*) AS rows FROM model;

-- on_schema_change.
ALTER TABLE src ADD COLUMN tag text;
UPDATE src SET tag = 't' || id;
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}');
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}', on_schema_change => 'ignore');
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}', on_schema_change => 'append_new_columns');
SELECT id, name, tag FROM model ORDER BY id;
ALTER TABLE src DROP COLUMN score;
ALTER TABLE src ALTER COLUMN tag TYPE varchar(10);
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}', on_schema_change => 'append_new_columns');
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}', on_schema_change => 'sync_all_columns');
\d merge_t.model
SELECT detail FROM elt.model_run WHERE target = 'merge_t.model' ORDER BY id DESC LIMIT 1;

-- Bad arguments.
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', NULL);
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{nope}');
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}', strategy => 'upsert');
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}', on_schema_change => 'drop');
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}', watermark => 'nope');
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src', '{id}', strategy => NULL);
SELECT * FROM elt.merge('merge_t.model', 'merge_t.src; DROP TABLE merge_t.src', '{id}');
SELECT * FROM elt.merge('pg_catalog.pg_class', 'merge_t.src', '{id}');

-- A quoted, mixed-case model name.
SELECT * FROM elt.merge('merge_t."Model ""Q"""', 'merge_t.src', '{id}');
SELECT count(*) FROM merge_t."Model ""Q""";

SELECT function, target, inserted, updated, deleted FROM elt.model_run
 WHERE function = 'merge' ORDER BY id;

RESET search_path;

-- a relation name longer than PostgreSQL keeps is refused, not truncated
-- into another table's name
SELECT * FROM elt.merge(format('public.%s', repeat('m', 70)), 'SELECT 1 AS id', '{id}');
SELECT * FROM elt.merge(format('public.%s_f', repeat('m', 70)), 'SELECT 1 AS id', '{id}');

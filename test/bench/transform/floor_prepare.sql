-- The floor of the type 2 merge, prepared untimed: a copy of the
-- hand-written baseline's dimension (same columns, fillfactor and indexes,
-- same first state) and its change table, computed beforehand by the
-- hand-written merge's own full join, with the tid of each current row.
CREATE TABLE bench.floor_user (LIKE bench.hand_user INCLUDING ALL) WITH (fillfactor = 90);
INSERT INTO bench.floor_user (id, name, email, city, segment, score, updated_at,
							  valid_from, valid_to, is_current)
SELECT id, name, email, city, segment, score, updated_at, updated_at, 'infinity', true
  FROM bench.user_v1;
CREATE UNLOGGED TABLE bench.floor_changes AS
SELECT s.*, d.ctid AS old_tid,
	   CASE WHEN d.user_key IS NULL THEN 'n' WHEN s.id IS NULL THEN 'd' ELSE 'c' END AS kind
  FROM bench.user_v2 AS s
  FULL JOIN (SELECT ctid, * FROM bench.floor_user WHERE is_current) AS d ON d.id = s.id
 WHERE d.user_key IS NULL OR s.id IS NULL
	OR (s.name, s.email, s.city, s.segment, s.score, s.updated_at)
	   IS DISTINCT FROM (d.name, d.email, d.city, d.segment, d.score, d.updated_at);

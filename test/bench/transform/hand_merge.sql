-- The type 2 merge a user writes by hand: one FULL JOIN of the source to the
-- current rows with IS DISTINCT FROM over the compared columns into a
-- change table, then one UPDATE closing changed and deleted versions by
-- surrogate key and one INSERT of new members and new versions.
BEGIN;
CREATE TEMP TABLE hand_changes ON COMMIT DROP AS
SELECT s.*, d.user_key AS old_key,
	   CASE WHEN d.user_key IS NULL THEN 'n' WHEN s.id IS NULL THEN 'd' ELSE 'c' END AS kind
  FROM bench.user_v2 AS s
  FULL JOIN (SELECT * FROM bench.hand_user WHERE is_current) AS d ON d.id = s.id
 WHERE d.user_key IS NULL OR s.id IS NULL
	OR (s.name, s.email, s.city, s.segment, s.score, s.updated_at)
	   IS DISTINCT FROM (d.name, d.email, d.city, d.segment, d.score, d.updated_at);
UPDATE bench.hand_user AS d
   SET valid_to = CASE WHEN c.kind = 'd' THEN now() ELSE c.updated_at END, is_current = false
  FROM hand_changes AS c
 WHERE c.kind IN ('c', 'd') AND d.user_key = c.old_key;
INSERT INTO bench.hand_user (id, name, email, city, segment, score, updated_at,
							 valid_from, valid_to, is_current)
SELECT id, name, email, city, segment, score, updated_at, updated_at, 'infinity', true
  FROM hand_changes WHERE kind IN ('n', 'c');
COMMIT;

-- The floor of the type 2 merge, timed: what any merge producing these
-- rows in this table must at least do.  One read of the source and one of
-- the current rows (counted, not compared), then the writes alone: the
-- close of the changed and deleted versions, each found by its tid, and
-- the insert of the new members and versions, from the change table
-- floor_prepare.sql computed beforehand.
\o /dev/null
BEGIN;
SELECT count(*) FROM bench.user_v2;
SELECT count(*) FROM bench.floor_user WHERE is_current;
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
UPDATE bench.floor_user AS d
   SET valid_to = CASE WHEN c.kind = 'd' THEN now() ELSE c.updated_at END, is_current = false
  FROM bench.floor_changes AS c
 WHERE c.kind IN ('c', 'd') AND d.ctid = c.old_tid;
INSERT INTO bench.floor_user (id, name, email, city, segment, score, updated_at,
							  valid_from, valid_to, is_current)
SELECT id, name, email, city, segment, score, updated_at, updated_at, 'infinity', true
  FROM bench.floor_changes WHERE kind IN ('n', 'c');
COMMIT;

-- pg_elt 0.1.0 to 0.2.0: the hand-written part of the upgrade script.
--
-- What replaying the current src/sql/*.sql over 0.1.0's objects cannot do
-- goes here, in order, before the replay (scripts/build_upgrade.py):
--   - new tables, columns, indexes, constraints, policies, types, sequences
--     (and pg_extension_config_dump for a new table);
--   - ALTER TABLE for a changed column, default or row-level security;
--   - DROP FUNCTION / DROP VIEW for a function whose return type or
--     argument names change, or that is removed, and for a view whose
--     columns change (re-created by the replay that follows).
-- test/t/095_upgrade.pl compares the upgraded catalog with a fresh install
-- and names what is missing.  See docs/architecture.md, "Upgrades".

-- elt.normalize: its catalog tables, indexes and policies.
-- new part: 34_normalize.sql

-- elt.merge_dimension gains max_delete_share, watermark and deleted_flag:
-- the old signature goes, the replay creates the new one.
DROP FUNCTION elt.merge_dimension(text, text, text[], int, text[], text[], text, text, text);

-- The definition functions that returned void say what they did (a status
-- text such as 'pipeline "nightly" paused'): their result type changes, so
-- the old ones go and the replay creates the new ones.
DROP FUNCTION elt.set_secret(text, text);
DROP FUNCTION elt.drop_secret(text);
DROP FUNCTION elt.grant_secret(text, regrole);
DROP FUNCTION elt.revoke_secret(text, regrole);
DROP FUNCTION elt.create_source(text, text, jsonb, jsonb, jsonb);
DROP FUNCTION elt.alter_source(text, text, jsonb, jsonb, jsonb);
DROP FUNCTION elt.drop_source(text, boolean);
DROP FUNCTION elt.create_stream(text, text, text, jsonb, text, jsonb, jsonb, text[], text, text,
	text, text, jsonb, jsonb, jsonb);
DROP FUNCTION elt.alter_stream(text, text, jsonb, text, jsonb, jsonb, text[], text, text, text,
	text, jsonb, jsonb, jsonb);
DROP FUNCTION elt.drop_stream(text);
DROP FUNCTION elt.reset_stream(text, text);
DROP FUNCTION elt.alter_pipeline(text, text, jsonb);
DROP FUNCTION elt.add_step(text, text, text, text[], integer, interval);
DROP FUNCTION elt.drop_step(text, text);
DROP FUNCTION elt.pause(text);
DROP FUNCTION elt.resume(text);
DROP FUNCTION elt.drop_pipeline(text);

-- elt.build_progress shows exports too, with the bytes they sent: the view
-- and its function gain a column.
DROP VIEW elt.build_progress;
DROP FUNCTION elt._build_progress();

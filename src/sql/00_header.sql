-- pg_elt extension script.  Built by concatenating src/sql/*.sql in order.

\echo Use "CREATE EXTENSION pg_elt" to load this file. \quit

-- Nothing in schema elt is usable by PUBLIC unless granted below; the
-- functions that reach the network or touch secrets are granted by an
-- administrator (docs/security.md).
REVOKE ALL ON SCHEMA elt FROM PUBLIC;
GRANT USAGE ON SCHEMA elt TO PUBLIC;

-- The owner of every definition and record is a role; this is the default.
CREATE FUNCTION elt._current_role()
RETURNS regrole
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT oid::regrole FROM pg_catalog.pg_roles WHERE rolname = current_user $$;
COMMENT ON FUNCTION elt._current_role() IS
'The current role as regrole, the default owner of new definitions (sources, streams, pipelines) and records.';

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

-- Messages (docs/architecture.md, "Messages").  A user error raised by an
-- internal helper goes through elt._raise, so that its CONTEXT names no
-- internal function; relations are named in messages as schema.name.
CREATE FUNCTION elt._raise(sqlstate text, message text, detail text DEFAULT NULL,
	hint text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_raise'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION elt._raise(text, text, text, text) IS
'Internal: raise an error with this SQLSTATE, message, detail and hint, and no CONTEXT lines naming the internal function that raised it.';

CREATE FUNCTION elt._relation_display(rel regclass)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT n.nspname || '.' || c.relname
	  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	 WHERE c.oid = rel
$$;
COMMENT ON FUNCTION elt._relation_display(regclass) IS
'Internal: a relation as messages name it, schema.name (printed in double quotes, as PostgreSQL does).';

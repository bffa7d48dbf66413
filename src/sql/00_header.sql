-- pg_elt extension script.  Built by concatenating src/sql/*.sql in order.

\echo Use "CREATE EXTENSION pg_elt" to load this file. \quit

-- Nothing in schema elt is usable by PUBLIC unless granted below; the
-- functions that reach the network or touch secrets are granted by an
-- administrator (docs/security.md).
REVOKE ALL ON SCHEMA elt FROM PUBLIC;
GRANT USAGE ON SCHEMA elt TO PUBLIC;

-- Set-up shared by the merge_dimension edge-case tests, read with
-- \i test/regress/dimension_helpers.sql: schema dim_edge first on the path,
-- ts() to show times, snap() and changed() to prove a failed merge changed
-- nothing.
SET timezone = 'UTC';
CREATE SCHEMA dim_edge;
SET search_path = dim_edge, public;

-- Times set by a merge (closes of deleted members, returning members) are
-- shown as "merge time": they are later than this.
CREATE TABLE t0 AS SELECT now() AS t0;
CREATE FUNCTION ts(v timestamptz) RETURNS text STABLE LANGUAGE sql AS $$
	SELECT CASE WHEN v IN ('infinity', '-infinity') THEN v::text
				WHEN v >= (SELECT t0 FROM dim_edge.t0) THEN 'merge time'
				ELSE to_char(v, 'YYYY-MM-DD') END
$$;
-- snap() keeps a copy of a dimension; changed() counts the rows that differ
-- from it (in either direction, duplicates included).
CREATE FUNCTION snap(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF to_regclass('pg_temp.snapshot') IS NOT NULL THEN
		DROP TABLE pg_temp.snapshot;
	END IF;
	EXECUTE format('CREATE TEMP TABLE snapshot AS SELECT * FROM %s', t);
END
$$;
CREATE FUNCTION changed(t regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM ((TABLE %1$s EXCEPT ALL TABLE pg_temp.snapshot)'
				   ' UNION ALL (TABLE pg_temp.snapshot EXCEPT ALL TABLE %1$s)) AS d', t) INTO n;
	RETURN n;
END
$$;

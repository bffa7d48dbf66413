-- Transformations: dimensions, facts, incremental models ------------------

-- One row per model build.  Written by the model functions themselves (as
-- the table's owner), never by the roles that call them; each role reads
-- the records of the builds it ran.
CREATE TABLE elt.model_run (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	function	text NOT NULL,
	target		text NOT NULL,
	source		text,
	inserted	bigint,
	updated		bigint,
	deleted		bigint,
	closed		bigint,
	unchanged	bigint,
	started_at	timestamptz NOT NULL,
	elapsed		interval NOT NULL,
	run_by		name NOT NULL,
	detail		jsonb
);
CREATE INDEX ON elt.model_run (target, started_at);
CREATE INDEX ON elt.model_run (started_at);
COMMENT ON TABLE elt.model_run IS
'Model builds (merge_dimension, merge_fact, merge, create_date_dimension): counts and timings';
REVOKE ALL ON elt.model_run FROM PUBLIC;
GRANT SELECT ON elt.model_run TO PUBLIC;
ALTER TABLE elt.model_run ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_run_own ON elt.model_run FOR SELECT
	USING (run_by = current_user
		   OR EXISTS (SELECT FROM pg_catalog.pg_roles r
					   WHERE r.rolname = run_by
						 AND pg_catalog.pg_has_role(r.oid, 'USAGE')));
SELECT pg_catalog.pg_extension_config_dump('elt.model_run', '');

CREATE FUNCTION elt.merge_dimension(
	target text,
	source text,
	natural_key text[],
	scd_type int DEFAULT 2,
	type1_columns text[] DEFAULT '{}',
	ignore_columns text[] DEFAULT '{}',
	effective_at text DEFAULT NULL,
	deletes text DEFAULT 'ignore',
	surrogate_key text DEFAULT NULL,
	max_delete_share float8 DEFAULT 0.5,
	watermark text DEFAULT NULL,
	deleted_flag text DEFAULT NULL,
	OUT inserted bigint,
	OUT updated bigint,
	OUT closed bigint,
	OUT unchanged bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_merge_dimension'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.merge_dimension(text, text, text[], int, text[], text[], text, text, text, float8, text, text) IS
'Merge a relation or SELECT into a slowly changing dimension (type 0, 1 or 2), creating it on the first call';

CREATE FUNCTION elt.create_date_dimension(target text, start_date date, end_date date)
RETURNS bigint
AS 'MODULE_PATHNAME', 'elt_create_date_dimension'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.create_date_dimension(text, date, date) IS
'Create or extend a calendar dimension with one row per day and the unknown member; returns the days added';

CREATE FUNCTION elt.merge_fact(
	target text,
	source text,
	grain text[] DEFAULT NULL,
	dimensions jsonb DEFAULT '[]',
	late_arriving text DEFAULT 'infer',
	strategy text DEFAULT 'merge',
	watermark text DEFAULT NULL,
	OUT inserted bigint,
	OUT updated bigint,
	OUT deleted bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_merge_fact'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.merge_fact(text, text, text[], jsonb, text, text, text) IS
'Load a fact table from a relation or SELECT, replacing natural keys by dimension surrogate keys';

CREATE FUNCTION elt.merge(
	target text,
	source text,
	unique_key text[],
	strategy text DEFAULT 'merge',
	watermark text DEFAULT NULL,
	on_schema_change text DEFAULT 'fail',
	OUT inserted bigint,
	OUT updated bigint,
	OUT deleted bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_merge'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.merge(text, text, text[], text, text, text) IS
'Incremental model: load a relation or SELECT into a table by unique key (append, merge or delete+insert)';

-- Typed landing: elt.normalize -------------------------------------------------

-- A stream's staged records become a typed root table, one child table per
-- nested array, with columns inferred from the values and evolving with
-- them.  The catalog below says what was normalized and how: per stream its
-- settings, the batches done, each table and each column with its JSON
-- path, and every schema change with the batch that caused it.

-- Kinds of values (the same bits as normalize.c):
--   1 null, 2 boolean, 4 integer (bigint), 8 other number, 16 timestamp
--   with a zone, 32 date, 64 other string, 128 object, 256 array.

CREATE TABLE elt.normalize_stream (
	stream_id	integer PRIMARY KEY,
	owner		regrole NOT NULL DEFAULT elt._current_role(),
	target_schema text NOT NULL,
	root_table	text NOT NULL,
	options		jsonb NOT NULL DEFAULT '{}',
	on_extract	boolean NOT NULL DEFAULT false,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE elt.normalize_stream IS
'Streams normalized into typed tables (elt.normalize): target schema, root table, options';

CREATE TABLE elt.normalize_table (
	stream_id	integer NOT NULL,
	table_path	jsonb NOT NULL,
	table_name	text NOT NULL,
	owner		regrole NOT NULL DEFAULT elt._current_role(),
	batch_id	bigint,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (stream_id, table_path),
	UNIQUE (stream_id, table_name)
);
COMMENT ON TABLE elt.normalize_table IS
'Typed tables of normalized streams: the root ([]) and one per nested array, by the key paths of the arrays';

CREATE TABLE elt.normalize_column (
	stream_id	integer NOT NULL,
	table_path	jsonb NOT NULL,
	column_name text NOT NULL,
	json_path	jsonb NOT NULL,
	data_type	text NOT NULL
				CHECK (data_type IN ('bigint', 'numeric', 'boolean', 'text', 'timestamptz',
									 'date', 'jsonb')),
	variant_of	text,
	owner		regrole NOT NULL DEFAULT elt._current_role(),
	batch_id	bigint,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (stream_id, table_path, column_name),
	FOREIGN KEY (stream_id, table_path) REFERENCES elt.normalize_table
		ON DELETE CASCADE
);
COMMENT ON TABLE elt.normalize_column IS
'Columns of normalized tables: the JSON path each holds, its type, and for a variant column the column it is a variant of';

CREATE TABLE elt.normalized_batch (
	batch_id	bigint PRIMARY KEY,
	stream_id	integer NOT NULL,
	owner		regrole NOT NULL DEFAULT elt._current_role(),
	normalized_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON elt.normalized_batch (stream_id, batch_id);
COMMENT ON TABLE elt.normalized_batch IS
'Batches already normalized, written in the transaction that loads their typed rows: each is normalized once';

CREATE TABLE elt.schema_change (
	change_id	bigserial PRIMARY KEY,
	stream_id	integer NOT NULL,
	stream		text NOT NULL,
	batch_id	bigint,
	owner		regrole NOT NULL DEFAULT elt._current_role(),
	changed_at	timestamptz NOT NULL DEFAULT now(),
	table_name	text NOT NULL,
	column_name text,
	change		text NOT NULL
				CHECK (change IN ('create_table', 'add_column', 'widen_column', 'add_variant',
								  'discard_value', 'discard_row')),
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ON elt.schema_change (stream_id, change_id);
COMMENT ON TABLE elt.schema_change IS
'Every change elt.normalize made to typed tables (or refused by a discarding contract): when, which table and column, what, which batch caused it';

-- Owned and row-secured like the other definitions and history: a role
-- sees and writes the rows of the roles it has the privileges of, members
-- of pg_monitor read them all.
ALTER TABLE elt.normalize_stream ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.normalize_table ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.normalize_column ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.normalized_batch ENABLE ROW LEVEL SECURITY;
ALTER TABLE elt.schema_change ENABLE ROW LEVEL SECURITY;
CREATE POLICY normalize_stream_owner ON elt.normalize_stream
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE')
				AND EXISTS (SELECT 1 FROM elt.stream st
							 WHERE st.stream_id OPERATOR(pg_catalog.=) normalize_stream.stream_id
							   AND st.owner OPERATOR(pg_catalog.=) normalize_stream.owner));
CREATE POLICY normalize_table_owner ON elt.normalize_table
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE')
				AND EXISTS (SELECT 1 FROM elt.stream st
							 WHERE st.stream_id OPERATOR(pg_catalog.=) normalize_table.stream_id
							   AND st.owner OPERATOR(pg_catalog.=) normalize_table.owner));
CREATE POLICY normalize_column_owner ON elt.normalize_column
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE')
				AND EXISTS (SELECT 1 FROM elt.stream st
							 WHERE st.stream_id OPERATOR(pg_catalog.=) normalize_column.stream_id
							   AND st.owner OPERATOR(pg_catalog.=) normalize_column.owner));
CREATE POLICY normalized_batch_owner ON elt.normalized_batch
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE')
				AND EXISTS (SELECT 1 FROM elt.batch b
							 WHERE b.batch_id OPERATOR(pg_catalog.=) normalized_batch.batch_id
							   AND b.stream_id OPERATOR(pg_catalog.=) normalized_batch.stream_id
							   AND b.owner OPERATOR(pg_catalog.=) normalized_batch.owner));
CREATE POLICY schema_change_owner ON elt.schema_change
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner, 'USAGE')
				AND EXISTS (SELECT 1 FROM elt.stream st
							 WHERE st.stream_id OPERATOR(pg_catalog.=) schema_change.stream_id
							   AND st.owner OPERATOR(pg_catalog.=) schema_change.owner));
CREATE POLICY normalize_stream_monitor ON elt.normalize_stream FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY normalize_table_monitor ON elt.normalize_table FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY normalize_column_monitor ON elt.normalize_column FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY normalized_batch_monitor ON elt.normalized_batch FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
CREATE POLICY schema_change_monitor ON elt.schema_change FOR SELECT
	USING (pg_catalog.pg_has_role('pg_monitor', 'USAGE'));
REVOKE ALL ON elt.normalize_stream, elt.normalize_table, elt.normalize_column,
	elt.normalized_batch, elt.schema_change FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON elt.normalize_stream, elt.normalize_table,
	elt.normalize_column TO PUBLIC;
GRANT SELECT, INSERT ON elt.normalized_batch, elt.schema_change TO PUBLIC;
GRANT USAGE ON SEQUENCE elt.schema_change_change_id_seq TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('elt.normalize_stream', '');
SELECT pg_catalog.pg_extension_config_dump('elt.normalize_table', '');
SELECT pg_catalog.pg_extension_config_dump('elt.normalize_column', '');
SELECT pg_catalog.pg_extension_config_dump('elt.normalized_batch', '');
SELECT pg_catalog.pg_extension_config_dump('elt.schema_change', '');
SELECT pg_catalog.pg_extension_config_dump('elt.schema_change_change_id_seq', '');

-- C helpers ------------------------------------------------------------------

CREATE FUNCTION elt._validate_normalize_options(options jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_validate_normalize_options'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._validate_normalize_options(jsonb) IS
'Raise an error for anything wrong in the options of elt.normalize';

CREATE FUNCTION elt._normalize_entered()
RETURNS boolean
AS 'MODULE_PATHNAME', 'elt_normalize_entered'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION elt._normalize_entered() IS
'Whether elt.normalize (or an extract''s normalization) is running in this session';

CREATE FUNCTION elt._normalize_row_key(batch_id bigint, "row" tid)
RETURNS uuid
AS 'MODULE_PATHNAME', 'elt_normalize_row_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt._normalize_row_key(bigint, tid) IS
'The root row key of a staged row of a stream without a primary key: its batch and its place (ctid)';

CREATE FUNCTION elt._jsonb_kind(value jsonb)
RETURNS integer
AS 'MODULE_PATHNAME', 'elt_jsonb_kind'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION elt._jsonb_kind(jsonb) IS
'The kind bit of a JSON value as elt.normalize classifies it (1 null, 2 boolean, 4 integer, 8 number, 16 timestamp, 32 date, 64 text, 128 object, 256 array)';

CREATE FUNCTION elt._normalize_shape_step(state internal, record jsonb, batch_id bigint)
RETURNS internal
AS 'MODULE_PATHNAME', 'elt_normalize_shape_step'
LANGUAGE C IMMUTABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt._normalize_shape_step(internal, jsonb, bigint) IS
'Transition function of elt._normalize_shape';

CREATE FUNCTION elt._normalize_shape_final(state internal)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'elt_normalize_shape_final'
LANGUAGE C IMMUTABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt._normalize_shape_final(internal) IS
'Final function of elt._normalize_shape';

CREATE AGGREGATE elt._normalize_shape(record jsonb, batch_id bigint) (
	SFUNC = elt._normalize_shape_step,
	STYPE = internal,
	FINALFUNC = elt._normalize_shape_final
);
COMMENT ON AGGREGATE elt._normalize_shape(jsonb, bigint) IS
'Every table (nested array) and column path of a set of records, with the kinds of values seen and the first batch of each';

-- Names --------------------------------------------------------------------------

-- A JSON key as a snake_case name: camelCase split, ASCII letters lowered,
-- every run of ASCII characters other than letters, digits and _ (quotes,
-- dots, spaces ...) one underscore; other characters kept as they are.
CREATE FUNCTION elt._normalize_name(key text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT CASE WHEN n = '' THEN '_' WHEN n ~ '^[0-9]' THEN '_' || n ELSE n END
		  FROM (SELECT rtrim(regexp_replace(regexp_replace(lower(
						regexp_replace(regexp_replace(key, '([A-Z]+)([A-Z][a-z])', '\1_\2', 'g'),
									   '([a-z0-9])([A-Z])', '\1_\2', 'g')),
						'[\x01-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]+', '_', 'g'),
						'_{2,}', '_', 'g'), '_') AS n) x);
COMMENT ON FUNCTION elt._normalize_name(text) IS
'A JSON key as a snake_case name, as elt.normalize names columns and tables';

-- A name that fits in an identifier (63 bytes): a longer one is cut and
-- ends with 8 hex digits of a hash of what it names, so it stays the same
-- from one run to the next and two long names do not meet.
CREATE FUNCTION elt._normalize_fit(name text, seed text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n text := name;
BEGIN
	IF octet_length(n) <= 63 THEN
		RETURN n;
	END IF;
	n := left(n, 54);
	WHILE octet_length(n) > 54 LOOP
		n := left(n, length(n) - 1);
	END LOOP;
	RETURN n || '_' || left(md5(seed), 8);
END;
$$;
COMMENT ON FUNCTION elt._normalize_fit(text, text) IS
'Cut a name to 63 bytes with a stable hash suffix';

-- The name of a key path: its keys' names joined with "__"; the empty
-- path (the element of an array of scalars or arrays) is "value".
CREATE FUNCTION elt._normalize_path_name(path jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT coalesce(string_agg(elt._normalize_name(k), '__' ORDER BY i), 'value')
		  FROM jsonb_array_elements_text(path) WITH ORDINALITY AS p(k, i));
COMMENT ON FUNCTION elt._normalize_path_name(jsonb) IS
'The snake_case name of a JSON key path (keys joined with __)';

-- The first n levels of a table path: the path of an ancestor table.
CREATE FUNCTION elt._normalize_prefix(table_path jsonb, n integer)
RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN coalesce((SELECT jsonb_agg(x ORDER BY o)
				   FROM jsonb_array_elements(table_path) WITH ORDINALITY AS q(x, o)
				  WHERE o <= n), '[]'::jsonb);
COMMENT ON FUNCTION elt._normalize_prefix(jsonb, integer) IS
'The path of the ancestor table n levels below the root';

-- A key path as a text[] literal for #> and #>>.
CREATE FUNCTION elt._normalize_path_literal(path jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN quote_literal(coalesce((SELECT array_agg(k ORDER BY i)
								 FROM jsonb_array_elements_text(path) WITH ORDINALITY AS p(k, i)),
							  '{}'::text[])::text) || '::pg_catalog.text[]';
COMMENT ON FUNCTION elt._normalize_path_literal(jsonb) IS
'A JSON key path as a text[] literal';

-- A table path and a key path within its rows as one JSON path for people:
-- $.orders[*].items[*].sku, keys that are not plain names in quotes.
CREATE FUNCTION elt._normalize_json_path(table_path jsonb, path jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN '$' || coalesce((SELECT string_agg(
			(SELECT coalesce(string_agg(CASE WHEN k ~ '^[A-Za-z_][A-Za-z0-9_]*$' THEN '.' || k
											 ELSE '.' || to_jsonb(k)::text END, '' ORDER BY j), '')
			   FROM jsonb_array_elements_text(lvl) WITH ORDINALITY AS q(k, j)) || '[*]', '' ORDER BY i)
		  FROM jsonb_array_elements(table_path) WITH ORDINALITY AS t(lvl, i)), '')
	|| coalesce((SELECT string_agg(CASE WHEN k ~ '^[A-Za-z_][A-Za-z0-9_]*$' THEN '.' || k
										ELSE '.' || to_jsonb(k)::text END, '' ORDER BY j)
				   FROM jsonb_array_elements_text(path) WITH ORDINALITY AS q(k, j)), '');
COMMENT ON FUNCTION elt._normalize_json_path(jsonb, jsonb) IS
'A normalized column''s JSON path, as written in its comment';

-- Types ----------------------------------------------------------------------------

-- The kinds a column of a type takes.
CREATE FUNCTION elt._normalize_accepts(data_type text)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE data_type WHEN 'bigint' THEN 4 WHEN 'numeric' THEN 12 WHEN 'text' THEN 124
		   WHEN 'boolean' THEN 2 WHEN 'timestamptz' THEN 16 WHEN 'date' THEN 32
		   WHEN 'jsonb' THEN 126 ELSE 0 END;
COMMENT ON FUNCTION elt._normalize_accepts(text) IS
'The kinds of values a normalized column of a type takes';

-- The type of a new column from the kinds of its values: the kind's own
-- type, the widest of bigint < numeric < text where that holds them all,
-- jsonb when they mix beyond that (booleans with anything else).
CREATE FUNCTION elt._normalize_infer(kinds integer)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE kinds & 126
		   WHEN 2 THEN 'boolean' WHEN 4 THEN 'bigint' WHEN 8 THEN 'numeric'
		   WHEN 12 THEN 'numeric' WHEN 16 THEN 'timestamptz' WHEN 32 THEN 'date'
		   WHEN 64 THEN 'text'
		   ELSE CASE WHEN kinds & 2 = 0 THEN 'text' ELSE 'jsonb' END END;
COMMENT ON FUNCTION elt._normalize_infer(integer) IS
'The type of a new normalized column from the kinds of its values';

-- What an existing column widens to, losslessly, to take more kinds:
-- bigint to numeric, bigint or numeric to text; NULL when it cannot.
CREATE FUNCTION elt._normalize_widen(data_type text, kinds integer)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN data_type = 'bigint' AND kinds & ~12 = 0 THEN 'numeric'
			WHEN data_type IN ('bigint', 'numeric') AND kinds & ~124 = 0 THEN 'text'
			ELSE NULL END;
COMMENT ON FUNCTION elt._normalize_widen(text, integer) IS
'The type a normalized column widens to without loss to take more kinds of values, or NULL';

-- A type's name, qualified.
CREATE FUNCTION elt._normalize_sqltype(data_type text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN 'pg_catalog.' || CASE data_type WHEN 'bigint' THEN 'int8' WHEN 'boolean' THEN 'bool'
							 ELSE data_type END;
COMMENT ON FUNCTION elt._normalize_sqltype(text) IS
'The qualified name of a normalized column''s type';

-- The expression that reads a value of a path as a column's type: ->
-- for each key but the last, ->> (-> for jsonb) for the last, which is
-- cheaper per row than #>> with a path array; #>> '{}' for the element of
-- an array of scalars (the empty path).
CREATE FUNCTION elt._normalize_cast(alias text, path jsonb, data_type text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT CASE data_type
				   WHEN 'text' THEN '(' || get || ')'
				   WHEN 'jsonb' THEN 'NULLIF(' || getj || ', ''null''::pg_catalog.jsonb)'
				   ELSE '(' || get || ')::' || elt._normalize_sqltype(data_type) END
		  FROM (SELECT CASE WHEN jsonb_array_length(path) = 0
							THEN alias || ' #>> ''{}''::pg_catalog.text[]'
							ELSE alias || pre || ' ->> ' || last END AS get,
					   CASE WHEN jsonb_array_length(path) = 0 THEN alias
							ELSE alias || pre || ' -> ' || last END AS getj
				  FROM (SELECT coalesce((SELECT string_agg(' -> ' || quote_literal(k) || '::pg_catalog.text', '' ORDER BY i)
										   FROM jsonb_array_elements_text(path) WITH ORDINALITY AS q(k, i)
										  WHERE i < jsonb_array_length(path)), '') AS pre,
							   quote_literal(path->>(jsonb_array_length(path) - 1)) || '::pg_catalog.text' AS last) x) y);
COMMENT ON FUNCTION elt._normalize_cast(text, jsonb, text) IS
'SQL reading a JSON path of a row as a normalized column''s type';

-- The work --------------------------------------------------------------------------

-- Normalize the batches of a stream not normalized yet, as its owner (see
-- elt.normalize, which calls this).  Everything happens in the caller's
-- transaction: the typed rows, the schema changes and the record of the
-- batches done commit together.
CREATE FUNCTION elt._normalize_run(stream_id integer, target_schema text, options jsonb,
								   OUT batches bigint, OUT root_rows bigint,
								   OUT child_rows bigint, OUT schema_changes bigint)
RETURNS record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	sid integer := stream_id;
	s elt.stream;
	ns elt.normalize_stream;
	opts jsonb;
	staging regclass;
	batch_ids bigint[];
	shape jsonb;
	t record;
	c record;
	ec record;
	first_call boolean;
	schema_name text;
	tbl_paths jsonb[] := '{}';		-- tables of this run, root first
	tbl_names text[] := '{}';
	tbl_new boolean[] := '{}';
	tbl_skip boolean[] := '{}';
	tbl_cols text[] := '{}';		-- target column list, per table
	tbl_exprs text[] := '{}';		-- select expressions, per table
	tbl_preds text[] := '{}';		-- rows to discard at the table's level
	i integer;
	j integer;
	depth integer;
	alias text;
	contract text;
	parent_idx integer;
	tname text;
	cname text;
	cand text;
	n integer;
	kinds integer;
	scalar integer;
	routed integer;
	unrouted integer;
	widened text;
	vtype text;
	first_b bigint;
	cols text;
	exprs text;
	preds text;
	root_src text;
	rid text;
	pk_paths jsonb[] := '{}';
	sql text;
	rows_done bigint;
	now_ts timestamptz := now();
	qstream text;
	citus_mode text;
	distributed boolean := false;
BEGIN
	batches := 0; root_rows := 0; child_rows := 0; schema_changes := 0;
	IF NOT elt._normalize_entered() THEN
		RAISE EXCEPTION 'elt._normalize_run runs only inside elt.normalize or an extract'
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Call elt.normalize (it needs EXECUTE on elt.normalize).';
	END IF;
	SELECT * INTO s FROM elt.stream st WHERE st.stream_id = sid;
	IF NOT FOUND THEN
		PERFORM elt._raise('42704', format('stream %s does not exist', sid));  -- undefined_object
	END IF;
	IF s.owner::oid <> (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
		PERFORM elt._raise('42501', 'elt._normalize_run must run as the stream''s owner',
			NULL,
			'Call elt.normalize.');  -- insufficient_privilege
	END IF;
	qstream := s.source || '.' || s.name;
	PERFORM elt._validate_normalize_options(coalesce(options, '{}'));

	-- settings: the first call fixes schema and root table, later calls may
	-- change the contracts and on_extract
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('elt.normalize'), sid);
	SELECT * INTO ns FROM elt.normalize_stream x WHERE x.stream_id = sid FOR UPDATE;
	first_call := NOT FOUND;
	IF first_call THEN
		INSERT INTO elt.normalize_stream (stream_id, owner, target_schema, root_table, options,
										  on_extract)
		VALUES (sid, s.owner, coalesce(target_schema, elt._normalize_name(s.source)),
				elt._normalize_fit(coalesce(options->>'table', elt._normalize_name(s.name)),
								   coalesce(options->>'table', s.name)),
				coalesce(options, '{}') - 'on_extract',
				coalesce((options->>'on_extract')::boolean, false))
		RETURNING * INTO ns;
	ELSE
		IF target_schema IS NOT NULL AND target_schema <> ns.target_schema THEN
			PERFORM elt._raise('22023', format('stream "%s" is normalized into schema "%s"', qstream, ns.target_schema),
				NULL,
				'Pass target_schema => NULL, or the same schema.');  -- invalid_parameter_value
		END IF;
		IF options ? 'table' AND options->>'table' <> ns.root_table THEN
			PERFORM elt._raise('22023', format('stream "%s" is normalized into table "%s"', qstream, ns.root_table));  -- invalid_parameter_value
		END IF;
		IF options IS NOT NULL AND options <> '{}' THEN
			UPDATE elt.normalize_stream x
			   SET options = ns.options || (_normalize_run.options - 'on_extract'),
				   on_extract = coalesce((_normalize_run.options->>'on_extract')::boolean,
										 x.on_extract),
				   updated_at = now()
			 WHERE x.stream_id = sid
			RETURNING * INTO ns;
		END IF;
	END IF;
	opts := ns.options;
	schema_name := ns.target_schema;

	-- the batches to do
	SELECT array_agg(b.batch_id ORDER BY b.batch_id) INTO batch_ids
	  FROM elt.batch b
	 WHERE b.stream_id = sid AND b.status = 'succeeded'
	   AND NOT EXISTS (SELECT 1 FROM elt.normalized_batch nb WHERE nb.batch_id = b.batch_id);
	staging := to_regclass(s.target);
	IF batch_ids IS NULL THEN
		RETURN;
	END IF;
	batches := cardinality(batch_ids);
	IF staging IS NULL THEN
		INSERT INTO elt.normalized_batch (batch_id, stream_id, owner)
		SELECT b, sid, s.owner FROM unnest(batch_ids) b;
		RETURN;
	END IF;

	-- the typed tables and columns of earlier runs must still be there
	SELECT nt.table_name, nc.column_name, nc.data_type,
		   to_regclass(quote_ident(schema_name) || '.' || quote_ident(nt.table_name)) IS NULL AS gone
	  INTO t
	  FROM elt.normalize_table nt
	  LEFT JOIN elt.normalize_column nc
		ON nc.stream_id = nt.stream_id AND nc.table_path = nt.table_path
	 WHERE nt.stream_id = sid
	   AND (to_regclass(quote_ident(schema_name) || '.' || quote_ident(nt.table_name)) IS NULL
			OR (nc.column_name IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
								 WHERE a.attrelid = to_regclass(quote_ident(schema_name) || '.'
																|| quote_ident(nt.table_name))
								   AND a.attname = nc.column_name AND NOT a.attisdropped)))
	 ORDER BY nt.table_name, nc.column_name
	 LIMIT 1;
	IF FOUND THEN
		IF t.gone THEN
			RAISE EXCEPTION 'typed table %.% of stream "%" does not exist',
				quote_ident(schema_name), quote_ident(t.table_name), qstream
				USING ERRCODE = 'EL081',
					  DETAIL = 'elt.normalize created it and writes into it; it was dropped or renamed.',
					  HINT = 'Restore the table, or delete its row of elt.normalize_table so that elt.normalize creates it again.';
		END IF;
		RAISE EXCEPTION 'column % of typed table %.% (stream "%") does not exist',
			quote_ident(t.column_name), quote_ident(schema_name), quote_ident(t.table_name), qstream
			USING ERRCODE = 'EL081',
				  DETAIL = 'elt.normalize created it and writes into it; it was dropped or renamed.',
				  HINT = format('Add it back (ALTER TABLE %I.%I ADD COLUMN %I %s), or delete its row of elt.normalize_column so that elt.normalize creates it again.',
								schema_name, t.table_name, t.column_name, t.data_type);
	END IF;

	-- on Citus, one connection per node for the whole run: its DDL (new
	-- tables and columns) follows reads of distributed tables, which Citus
	-- refuses after a parallel (multi-connection) read in the transaction
	citus_mode := current_setting('citus.multi_shard_modify_mode', true);
	IF citus_mode IS NOT NULL AND citus_mode <> 'sequential' THEN
		PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
	END IF;

	EXECUTE format('SELECT elt._normalize_shape(r._elt_record, r._elt_batch_id) FROM %s r '
				   'WHERE r._elt_batch_id OPERATOR(pg_catalog.=) ANY ($1)', staging)
		INTO shape USING batch_ids;

	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = schema_name) THEN
		EXECUTE format('CREATE SCHEMA %I', schema_name);
	END IF;

	-- the root table, then each nested array's, parents before children
	FOR t IN
		SELECT '[]'::jsonb AS tp, 0 AS depth, batch_ids[1] AS b
		UNION ALL
		SELECT * FROM (SELECT e->'t', jsonb_array_length(e->'t'), (e->>'b')::bigint
						 FROM jsonb_array_elements(shape) e WHERE NOT e ? 'c'
						ORDER BY 2, 1::text COLLATE "C") x
	LOOP
		depth := t.depth;
		alias := CASE WHEN depth = 0 THEN 'r._elt_record' ELSE 'e' || depth || '.v' END;
		parent_idx := NULL;
		IF depth > 0 THEN
			parent_idx := array_position(tbl_paths, elt._normalize_prefix(t.tp, depth - 1));
		END IF;
		tbl_paths := tbl_paths || t.tp;
		i := cardinality(tbl_paths);
		SELECT nt.table_name INTO tname FROM elt.normalize_table nt
		 WHERE nt.stream_id = sid AND nt.table_path = t.tp;
		tbl_new := tbl_new || (tname IS NULL);
		tbl_skip := tbl_skip || false;
		tbl_preds := tbl_preds || ''::text;
		tbl_cols := tbl_cols || ''::text;
		tbl_exprs := tbl_exprs || ''::text;
		IF parent_idx IS NOT NULL AND tbl_skip[parent_idx] THEN
			tbl_skip[i] := true;
			tbl_names := tbl_names || ''::text;
			CONTINUE;
		END IF;
		IF tname IS NULL THEN
			-- a new nested array under an existing table is a change of that table
			IF depth > 0 AND NOT tbl_new[parent_idx] THEN
				contract := coalesce(opts->'contracts'->>tbl_names[parent_idx],
									 opts->>'contract', 'evolve');
				IF contract = 'freeze' THEN
					PERFORM elt._raise('EL080',
						format('schema contract freeze of table "%s.%s" refuses new nested table for %s',
							   schema_name, tbl_names[parent_idx], elt._normalize_json_path(t.tp, '[]')),
						format('Batch %s brings it.', t.b),
						'Change the contract (options => ''{"contracts": {...}}'') or the data.');
				ELSIF contract IN ('discard_value', 'discard_row') THEN
					tbl_skip[i] := true;
					tbl_names := tbl_names || ''::text;
					IF contract = 'discard_row' THEN
						tbl_preds[parent_idx] := tbl_preds[parent_idx] || format(
							' OR coalesce(pg_catalog.jsonb_typeof(%1$s #> %2$s) = ''array'' AND (%1$s #> %2$s) <> ''[]''::pg_catalog.jsonb, false)',
							CASE WHEN depth = 1 THEN 'r._elt_record' ELSE 'e' || (depth - 1) || '.v' END,
							elt._normalize_path_literal(t.tp->(depth - 1)));
					END IF;
					INSERT INTO elt.schema_change (stream_id, stream, batch_id, owner, table_name,
												   change, detail)
					VALUES (sid, qstream, t.b, s.owner, schema_name || '.' || tbl_names[parent_idx],
							contract, jsonb_build_object('path', elt._normalize_json_path(t.tp, '[]'),
														 'reason', 'new nested table'));
					schema_changes := schema_changes + 1;
					CONTINUE;
				END IF;
			END IF;
			IF depth = 0 THEN
				cand := ns.root_table;
			ELSE
				cand := tbl_names[parent_idx] || '__' || elt._normalize_path_name(t.tp->(depth - 1));
			END IF;
			tname := elt._normalize_fit(cand, t.tp::text);
			n := 1;
			WHILE EXISTS (SELECT 1 FROM elt.normalize_table nt
						   WHERE nt.stream_id = sid AND nt.table_name = tname)
			   OR to_regclass(quote_ident(schema_name) || '.' || quote_ident(tname)) IS NOT NULL LOOP
				n := n + 1;
				tname := elt._normalize_fit(cand || '_' || n, t.tp::text || n);
			END LOOP;
			IF depth = 0 THEN
				EXECUTE format('CREATE TABLE %I.%I (_elt_id pg_catalog.uuid NOT NULL PRIMARY KEY, '
							   '_elt_batch_id pg_catalog.int8 NOT NULL, '
							   '_elt_loaded_at pg_catalog.timestamptz NOT NULL)', schema_name, tname);
			ELSE
				EXECUTE format('CREATE TABLE %I.%I (_elt_id pg_catalog.uuid NOT NULL, '
							   '_elt_parent_id pg_catalog.uuid NOT NULL, '
							   '_elt_root_id pg_catalog.uuid NOT NULL, '
							   '_elt_list_idx pg_catalog.int4 NOT NULL, '
							   '_elt_batch_id pg_catalog.int8 NOT NULL, '
							   '_elt_loaded_at pg_catalog.timestamptz NOT NULL, '
							   'PRIMARY KEY (_elt_root_id, _elt_id))', schema_name, tname);
			END IF;
			IF depth = 0 THEN
				EXECUTE format('COMMENT ON COLUMN %I.%I._elt_id IS %L', schema_name, tname,
							   CASE WHEN s.primary_key IS NOT NULL
									THEN 'Row key, from the stream''s primary key ('
										 || array_to_string(s.primary_key, ', ') || ')'
									ELSE 'Row key' END);
			ELSE
				EXECUTE format('COMMENT ON COLUMN %I.%I._elt_parent_id IS %L', schema_name, tname,
							   'The _elt_id of the row holding the array');
				EXECUTE format('COMMENT ON COLUMN %I.%I._elt_root_id IS %L', schema_name, tname,
							   'The _elt_id of the root row');
				EXECUTE format('COMMENT ON COLUMN %I.%I._elt_list_idx IS %L', schema_name, tname,
							   'Position in the array, from 0');
			END IF;
			EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema_name, tname,
						   format('Stream %s, normalized: %s', qstream,
								  elt._normalize_json_path(t.tp, '[]') ||
								  CASE WHEN depth = 0 THEN ' (a row per record)' ELSE '' END));
			INSERT INTO elt.normalize_table (stream_id, table_path, table_name, owner, batch_id)
			VALUES (sid, t.tp, tname, s.owner, t.b);
			INSERT INTO elt.schema_change (stream_id, stream, batch_id, owner, table_name, change,
										   detail)
			VALUES (sid, qstream, t.b, s.owner, schema_name || '.' || tname, 'create_table',
					jsonb_build_object('path', elt._normalize_json_path(t.tp, '[]')));
			schema_changes := schema_changes + 1;
		END IF;
		tbl_names := tbl_names || tname;
		contract := CASE WHEN tbl_new[i] THEN 'evolve'
						 ELSE coalesce(opts->'contracts'->>tname, opts->>'contract', 'evolve') END;
		cols := '';
		exprs := '';
		preds := '';

		-- each path of the table's rows: columns, widening, variants
		FOR c IN
			SELECT e->'c' AS cp, (e->>'k')::integer AS k, e->'b' AS fb
			  FROM jsonb_array_elements(shape) e
			 WHERE e ? 'c' AND e->'t' = t.tp
			 ORDER BY (e->'c')::text COLLATE "C"
		LOOP
			kinds := c.k;
			scalar := kinds & 126;
			IF scalar = 0 THEN
				CONTINUE;				-- only nulls, objects or arrays here
			END IF;
			routed := 0;
			-- kinds the existing columns take, first the column, then its variants
			FOR ec IN
				SELECT nc.column_name, nc.data_type FROM elt.normalize_column nc
				 WHERE nc.stream_id = sid AND nc.table_path = t.tp AND nc.json_path = c.cp
				 ORDER BY nc.variant_of IS NOT NULL, nc.created_at, nc.column_name
			LOOP
				routed := routed | (scalar & elt._normalize_accepts(ec.data_type));
			END LOOP;
			unrouted := scalar & ~routed;
			IF unrouted <> 0 THEN
				SELECT min(v::bigint) INTO first_b FROM jsonb_each_text(c.fb) f(k, v)
				 WHERE k::integer & unrouted <> 0;
				SELECT nc.column_name, nc.data_type INTO ec FROM elt.normalize_column nc
				 WHERE nc.stream_id = sid AND nc.table_path = t.tp AND nc.json_path = c.cp
				   AND nc.variant_of IS NULL;
				IF contract = 'freeze' THEN
					PERFORM elt._raise('EL080',
						format('schema contract freeze of table "%s.%s" refuses %s', schema_name, tname,
							   CASE WHEN ec.column_name IS NULL
							   THEN 'new column for ' || elt._normalize_json_path(t.tp, c.cp)
							   ELSE format('values of %s that column "%s" (%s) does not take',
										 elt._normalize_json_path(t.tp, c.cp), ec.column_name,
										 ec.data_type) END),
						format('Batch %s brings them.', first_b),
						'Change the contract (options => ''{"contracts": {...}}'') or the data.');
				ELSIF contract IN ('discard_value', 'discard_row') THEN
					IF contract = 'discard_row' THEN
						preds := preds || format(
							' OR coalesce(elt._jsonb_kind(%s #> %s) & %s <> 0, false)',
							alias, elt._normalize_path_literal(c.cp), unrouted);
					END IF;
					INSERT INTO elt.schema_change (stream_id, stream, batch_id, owner, table_name,
												   column_name, change, detail)
					VALUES (sid, qstream, first_b, s.owner, schema_name || '.' || tname,
							ec.column_name, contract,
							jsonb_build_object('path', elt._normalize_json_path(t.tp, c.cp),
											   'kinds', unrouted,
											   'reason', CASE WHEN ec.column_name IS NULL
															  THEN 'new column' ELSE 'type' END));
					schema_changes := schema_changes + 1;
				ELSIF ec.column_name IS NULL THEN
					-- a new column
					vtype := elt._normalize_infer(unrouted);
					cand := elt._normalize_path_name(c.cp);
					cname := elt._normalize_fit(cand, c.cp::text);
					n := 1;
					WHILE cname LIKE '\_elt\_%' AND cname IN ('_elt_id', '_elt_parent_id',
						'_elt_root_id', '_elt_list_idx', '_elt_batch_id', '_elt_loaded_at')
					   OR EXISTS (SELECT 1 FROM elt.normalize_column nc
								   WHERE nc.stream_id = sid AND nc.table_path = t.tp
									 AND nc.column_name = cname) LOOP
						n := n + 1;
						cname := elt._normalize_fit(cand || '_' || n, c.cp::text || n);
					END LOOP;
					EXECUTE format('ALTER TABLE %I.%I ADD COLUMN %I %s', schema_name,
								   tname, cname, elt._normalize_sqltype(vtype));
					EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', schema_name, tname, cname,
								   elt._normalize_json_path(t.tp, c.cp));
					INSERT INTO elt.normalize_column (stream_id, table_path, column_name, json_path,
													  data_type, owner, batch_id)
					VALUES (sid, t.tp, cname, c.cp, vtype, s.owner, first_b);
					IF NOT tbl_new[i] THEN
						INSERT INTO elt.schema_change (stream_id, stream, batch_id, owner,
													   table_name, column_name, change, detail)
						VALUES (sid, qstream, first_b, s.owner, schema_name || '.' || tname, cname,
								'add_column',
								jsonb_build_object('path', elt._normalize_json_path(t.tp, c.cp),
												   'type', vtype));
						schema_changes := schema_changes + 1;
					END IF;
				ELSE
					-- widen the column when that loses nothing, then variants
					widened := CASE WHEN unrouted & 124 <> 0 THEN
						elt._normalize_widen(ec.data_type,
											 elt._normalize_accepts(ec.data_type) | (unrouted & 124)) END;
					IF widened IS NOT NULL THEN
						EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I TYPE %s',
									   schema_name, tname, ec.column_name, elt._normalize_sqltype(widened));
						UPDATE elt.normalize_column nc SET data_type = widened
						 WHERE nc.stream_id = sid AND nc.table_path = t.tp
						   AND nc.column_name = ec.column_name;
						INSERT INTO elt.schema_change (stream_id, stream, batch_id, owner,
													   table_name, column_name, change, detail)
						VALUES (sid, qstream, first_b, s.owner, schema_name || '.' || tname,
								ec.column_name, 'widen_column',
								jsonb_build_object('path', elt._normalize_json_path(t.tp, c.cp),
												   'from', ec.data_type, 'to', widened));
						schema_changes := schema_changes + 1;
						ec.data_type := widened;
						unrouted := unrouted & ~elt._normalize_accepts(widened);
					END IF;
					IF unrouted <> 0 THEN
						-- one variant column per kind not taken (booleans, texts ...)
						FOR j IN 1..6 LOOP
							CONTINUE WHEN unrouted & (1 << j) = 0;
							IF elt._normalize_accepts(ec.data_type) & (1 << j) <> 0 THEN
								CONTINUE;
							END IF;
							vtype := elt._normalize_infer(1 << j);
							CONTINUE WHEN EXISTS (SELECT 1 FROM elt.normalize_column nc
												   WHERE nc.stream_id = sid AND nc.table_path = t.tp
													 AND nc.json_path = c.cp
													 AND elt._normalize_accepts(nc.data_type) & (1 << j) <> 0);
							cand := ec.column_name || '__v_' ||
								CASE vtype WHEN 'boolean' THEN 'bool' ELSE vtype END;
							cname := elt._normalize_fit(cand, c.cp::text || vtype);
							n := 1;
							WHILE EXISTS (SELECT 1 FROM elt.normalize_column nc
										   WHERE nc.stream_id = sid AND nc.table_path = t.tp
											 AND nc.column_name = cname) LOOP
								n := n + 1;
								cname := elt._normalize_fit(cand || '_' || n, c.cp::text || vtype || n);
							END LOOP;
							EXECUTE format('ALTER TABLE %I.%I ADD COLUMN %I %s',
										   schema_name, tname, cname, elt._normalize_sqltype(vtype));
							EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', schema_name, tname,
										   cname, elt._normalize_json_path(t.tp, c.cp) || ' ('
										   || vtype || ' values; variant of ' || ec.column_name || ')');
							INSERT INTO elt.normalize_column (stream_id, table_path, column_name,
															  json_path, data_type, variant_of,
															  owner, batch_id)
							VALUES (sid, t.tp, cname, c.cp, vtype, ec.column_name, s.owner,
									(c.fb->>(1 << j)::text)::bigint);
							INSERT INTO elt.schema_change (stream_id, stream, batch_id, owner,
														   table_name, column_name, change, detail)
							VALUES (sid, qstream, (c.fb->>(1 << j)::text)::bigint, s.owner,
									schema_name || '.' || tname, cname, 'add_variant',
									jsonb_build_object('path', elt._normalize_json_path(t.tp, c.cp),
													   'type', vtype, 'variant_of', ec.column_name));
							schema_changes := schema_changes + 1;
						END LOOP;
					END IF;
				END IF;
			END IF;

			-- now read each column of the path: plainly when it takes every
			-- value this run brings, by kind otherwise
			FOR ec IN
				SELECT nc.column_name, nc.data_type FROM elt.normalize_column nc
				 WHERE nc.stream_id = sid AND nc.table_path = t.tp AND nc.json_path = c.cp
				 ORDER BY nc.variant_of IS NOT NULL, nc.created_at, nc.column_name
			LOOP
				routed := scalar & elt._normalize_accepts(ec.data_type);
				scalar := scalar & ~routed;
				CONTINUE WHEN routed = 0;
				cols := cols || ', ' || quote_ident(ec.column_name);
				IF routed = kinds & ~1 THEN
					exprs := exprs || ', ' || elt._normalize_cast(alias, c.cp, ec.data_type);
				ELSE
					exprs := exprs || format(', CASE WHEN elt._jsonb_kind(%s #> %s) & %s <> 0 THEN %s END',
											 alias, elt._normalize_path_literal(c.cp), routed,
											 elt._normalize_cast(alias, c.cp, ec.data_type));
				END IF;
			END LOOP;
		END LOOP;
		tbl_cols[i] := cols;
		tbl_exprs[i] := exprs;
		tbl_preds[i] := tbl_preds[i] || preds;
	END LOOP;

	-- the root rows: by the stream's primary key, the last version of each
	-- record (merge), else every record (append)
	IF s.primary_key IS NOT NULL THEN
		SELECT array_agg(to_jsonb(string_to_array(regexp_replace(k, '^\$\.', ''), '.')) ORDER BY o)
		  INTO pk_paths FROM unnest(s.primary_key) WITH ORDINALITY u(k, o);
		rid := format('pg_catalog.md5(%L || pg_catalog.jsonb_build_array(%s)::pg_catalog.text)::pg_catalog.uuid',
					  sid::text || ':',
					  (SELECT string_agg('r._elt_record #> ' || elt._normalize_path_literal(p), ', ')
						 FROM unnest(pk_paths) p));
		EXECUTE format('SELECT pg_catalog.count(*) FROM %s r WHERE r._elt_batch_id OPERATOR(pg_catalog.=) ANY ($1) AND (%s)',
					   staging,
					   (SELECT string_agg(format('pg_catalog.jsonb_typeof(r._elt_record #> %s) IS NOT DISTINCT FROM NULL OR pg_catalog.jsonb_typeof(r._elt_record #> %1$s) = ''null''',
												 elt._normalize_path_literal(p)), ' OR ')
						  FROM unnest(pk_paths) p))
			INTO n USING batch_ids;
		IF n > 0 THEN
			PERFORM elt._raise('23502', format('%s record(s) of stream "%s" have no value for its primary key (%s)', n, qstream, array_to_string(s.primary_key, ', ')),
				NULL,
				'Fix the stream''s primary_key or the data; nothing was normalized.');  -- not_null_violation
		END IF;
		root_src := format('(SELECT DISTINCT ON (k.rid) r._elt_batch_id, r._elt_record, k.rid '
						   'FROM %s r CROSS JOIN LATERAL (SELECT %s AS rid) k '
						   'WHERE r._elt_batch_id OPERATOR(pg_catalog.=) ANY ($1) AND NOT (false%s) '
						   'ORDER BY k.rid, r._elt_batch_id DESC, r.ctid DESC) r',
						   staging, rid, tbl_preds[1]);
	ELSE
		-- the row key from the record's place in the staging table (the same
		-- for every statement of the run).  A Citus distributed staging table
		-- has the same ctids on each shard: there the key takes a hash of the
		-- record too (identical records share a shard, being distributed by
		-- one of the staging columns), and a collision of two different
		-- records would be a duplicate key error, never a lost row.
		IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
			EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p '
					'WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1)'
				INTO distributed USING staging;
		END IF;
		root_src := format('(SELECT r._elt_batch_id, r._elt_record, %s AS rid '
						   'FROM %s r WHERE r._elt_batch_id OPERATOR(pg_catalog.=) ANY ($1) AND NOT (false%s)) r',
						   CASE WHEN distributed
								THEN 'pg_catalog.md5(r._elt_batch_id::pg_catalog.text || '':'' || r.ctid::pg_catalog.text'
									 ' || '':'' || pg_catalog.jsonb_hash_extended(r._elt_record, 0)::pg_catalog.text)::pg_catalog.uuid'
								ELSE 'elt._normalize_row_key(r._elt_batch_id, r.ctid)' END,
						   staging, tbl_preds[1]);
	END IF;

	IF s.primary_key IS NOT NULL THEN
		-- a record's new version replaces its child rows in every child table
		FOR t IN SELECT nt.table_name FROM elt.normalize_table nt
				  WHERE nt.stream_id = sid AND nt.table_path <> '[]'
				  ORDER BY nt.table_name LOOP
			EXECUTE format('DELETE FROM %I.%I c WHERE c._elt_root_id IN (SELECT r.rid FROM %s)',
						   schema_name, t.table_name, root_src)
				USING batch_ids;
		END LOOP;
		-- and every column of the root row: those it does not have become NULL
		-- (EXCLUDED holds NULL for the columns this run does not write)
		SELECT string_agg(format('%I = EXCLUDED.%1$I', nc.column_name), ', ' ORDER BY nc.column_name)
		  INTO cols FROM elt.normalize_column nc
		 WHERE nc.stream_id = sid AND nc.table_path = '[]';
		sql := format('INSERT INTO %I.%I AS t (_elt_id, _elt_batch_id, _elt_loaded_at%s) '
					  'SELECT r.rid, r._elt_batch_id, $2%s FROM %s '
					  'ON CONFLICT (_elt_id) DO UPDATE SET _elt_batch_id = EXCLUDED._elt_batch_id, '
					  '_elt_loaded_at = EXCLUDED._elt_loaded_at%s',
					  schema_name, tbl_names[1], tbl_cols[1], tbl_exprs[1], root_src,
					  coalesce(', ' || cols, ''));
	ELSE
		sql := format('INSERT INTO %I.%I (_elt_id, _elt_batch_id, _elt_loaded_at%s) '
					  'SELECT r.rid, r._elt_batch_id, $2%s FROM %s',
					  schema_name, tbl_names[1], tbl_cols[1], tbl_exprs[1], root_src);
	END IF;
	EXECUTE sql USING batch_ids, now_ts;
	GET DIAGNOSTICS rows_done = ROW_COUNT;
	root_rows := rows_done;

	-- each child table from its ancestors' arrays, with its row's key, its
	-- parent's and its root's, and its position
	FOR i IN 2..coalesce(cardinality(tbl_paths), 0) LOOP
		CONTINUE WHEN tbl_skip[i];
		depth := jsonb_array_length(tbl_paths[i]);
		sql := '';
		preds := '';
		FOR j IN 1..depth LOOP
			sql := sql || format(' CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(CASE WHEN '
								 'pg_catalog.jsonb_typeof(%1$s #> %2$s) = ''array'' THEN %1$s #> %2$s END) '
								 'WITH ORDINALITY AS e%3$s(v, i) CROSS JOIN LATERAL (SELECT '
								 'pg_catalog.md5(%4$s::pg_catalog.text || %5$L || e%3$s.i::pg_catalog.text)::pg_catalog.uuid AS id) k%3$s',
								 CASE WHEN j = 1 THEN 'r._elt_record' ELSE 'e' || (j - 1) || '.v' END,
								 elt._normalize_path_literal(tbl_paths[i]->(j - 1)), j,
								 CASE WHEN j = 1 THEN 'r.rid' ELSE 'k' || (j - 1) || '.id' END,
								 '/' || elt._normalize_prefix(tbl_paths[i], j)::text || '/');
			-- the predicates of the ancestors at this level
			preds := preds || tbl_preds[array_position(tbl_paths, elt._normalize_prefix(tbl_paths[i], j))];
		END LOOP;
		sql := format('INSERT INTO %1$I.%2$I (_elt_id, _elt_parent_id, _elt_root_id, _elt_list_idx, '
					  '_elt_batch_id, _elt_loaded_at%3$s) '
					  'SELECT k%4$s.id, %5$s, r.rid, (e%4$s.i - 1)::pg_catalog.int4, r._elt_batch_id, $2%6$s '
					  'FROM %7$s%8$s WHERE NOT (false%9$s)',
					  schema_name, tbl_names[i], tbl_cols[i], depth,
					  CASE WHEN depth = 1 THEN 'r.rid' ELSE 'k' || (depth - 1) || '.id' END,
					  tbl_exprs[i], root_src, sql, preds);
		EXECUTE sql USING batch_ids, now_ts;
		GET DIAGNOSTICS rows_done = ROW_COUNT;
		child_rows := child_rows + rows_done;
	END LOOP;

	INSERT INTO elt.normalized_batch (batch_id, stream_id, owner)
	SELECT b, sid, s.owner FROM unnest(batch_ids) b;
	IF citus_mode IS NOT NULL AND citus_mode <> 'sequential' THEN
		PERFORM set_config('citus.multi_shard_modify_mode', citus_mode, true);
	END IF;
END;
$fn$;
COMMENT ON FUNCTION elt._normalize_run(integer, text, jsonb) IS
'The work of elt.normalize, run as the stream''s owner';

CREATE FUNCTION elt.normalize(stream text, target_schema text DEFAULT NULL,
							  options jsonb DEFAULT '{}',
							  OUT batches bigint, OUT root_rows bigint,
							  OUT child_rows bigint, OUT schema_changes bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_normalize'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.normalize(text, text, jsonb) IS
'Turn the stream''s batches not normalized yet into typed root and child tables, evolving their schema';
REVOKE ALL ON FUNCTION elt.normalize(text, text, jsonb) FROM PUBLIC;

-- Called by an extract, in its transaction and as the stream's owner.
CREATE FUNCTION elt._normalize_on_extract(stream_id integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM elt.normalize_stream ns
				WHERE ns.stream_id = _normalize_on_extract.stream_id AND ns.on_extract) THEN
		PERFORM elt._normalize_run(_normalize_on_extract.stream_id, NULL, NULL);
	END IF;
END;
$$;
COMMENT ON FUNCTION elt._normalize_on_extract(integer) IS
'Normalize a stream after its extract when its on_extract option is set';

-- The typed tables and their columns, for people.
CREATE VIEW elt.normalized_columns WITH (security_invoker = true) AS
SELECT st.source || '.' || st.name AS stream, ns.target_schema, nt.table_name,
	   nc.column_name, nc.data_type, elt._normalize_json_path(nc.table_path, nc.json_path) AS json_path,
	   nc.variant_of, nc.batch_id
  FROM elt.normalize_column nc
  JOIN elt.normalize_table nt ON nt.stream_id = nc.stream_id AND nt.table_path = nc.table_path
  JOIN elt.normalize_stream ns ON ns.stream_id = nc.stream_id
  JOIN elt.stream st ON st.stream_id = nc.stream_id;
REVOKE ALL ON elt.normalized_columns FROM PUBLIC;
GRANT SELECT ON elt.normalized_columns TO PUBLIC;
COMMENT ON VIEW elt.normalized_columns IS
'Columns of the typed tables of normalized streams, with the JSON path each holds';

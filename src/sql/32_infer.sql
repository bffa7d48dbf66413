-- Schema inference ----------------------------------------------------------------

-- Every leaf of the records of a staging table, nested objects flattened
-- with "__", with the set of JSON types seen and whether every string looks
-- like a timestamp or a date.
CREATE FUNCTION elt._infer_columns(target regclass)
RETURNS TABLE (keys text[], types text[], all_timestamps boolean, all_dates boolean,
			   all_integers boolean)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
		WITH RECURSIVE leaf(keys, value) AS (
			SELECT ARRAY[e.key], e.value
			  FROM %s t, jsonb_each(CASE WHEN jsonb_typeof(t._elt_record) = 'object'
										 THEN t._elt_record ELSE '{}' END) e
			UNION ALL
			SELECT l.keys || e.key, e.value
			  FROM leaf l, jsonb_each(l.value) e
			 WHERE jsonb_typeof(l.value) = 'object'
		)
		SELECT keys,
			   array_agg(DISTINCT jsonb_typeof(value) ORDER BY jsonb_typeof(value))
				 FILTER (WHERE jsonb_typeof(value) <> 'null'),
			   coalesce(bool_and((value #>> '{}') ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$')
						  FILTER (WHERE jsonb_typeof(value) = 'string'), false),
			   coalesce(bool_and((value #>> '{}') ~ '^\d{4}-\d{2}-\d{2}$')
						  FILTER (WHERE jsonb_typeof(value) = 'string'), false),
			   coalesce(bool_and((value #>> '{}') ~ '^-?\d{1,18}$')
						  FILTER (WHERE jsonb_typeof(value) = 'number'), false)
		  FROM leaf
		 WHERE jsonb_typeof(value) <> 'object'
			OR NOT EXISTS (SELECT 1 FROM jsonb_object_keys(value))
		 GROUP BY keys
		 ORDER BY keys$q$, target);
END;
$$;
COMMENT ON FUNCTION elt._infer_columns(regclass) IS
'Flattened keys of the records of a staging table and the JSON types seen for each';

CREATE FUNCTION elt.infer_view(stream text, view_name text)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s elt.stream := elt._resolve_stream(stream);
	tgt regclass;
	parts text[];
	vname text;
	c record;
	col text;
	typ text;
	expr text;
	cols text[] := '{}';
	used text[] := '{_elt_batch_id,_elt_loaded_at}';
	n integer;
	ddl text;
BEGIN
	IF view_name IS NULL THEN
		RAISE EXCEPTION 'view name must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	BEGIN
		parts := parse_ident(view_name);
	EXCEPTION WHEN invalid_parameter_value THEN
		parts := NULL;
	END;
	IF parts IS NULL OR cardinality(parts) > 2 THEN
		RAISE EXCEPTION 'invalid view name "%"', view_name
			USING ERRCODE = 'invalid_name',
				  HINT = 'Write schema.view, quoting names as in SQL: "My Schema"."My View".';
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(parts) p WHERE octet_length(p) > 63) THEN
		RAISE EXCEPTION 'view name "%" is too long', view_name
			USING ERRCODE = 'name_too_long',
				  DETAIL = 'Schema and view names are limited to 63 bytes each.';
	END IF;
	vname := array_to_string(ARRAY(SELECT quote_ident(p) FROM unnest(parts) p), '.');
	tgt := to_regclass(s.target);
	IF tgt IS NULL THEN
		RAISE EXCEPTION 'staging table % of stream "%.%" does not exist', s.target, s.source, s.name
			USING ERRCODE = 'undefined_table',
				  HINT = 'Run elt.extract first.';
	END IF;

	FOR c IN
		SELECT i.*, coalesce(array_position(s.primary_key, array_to_string(i.keys, '.')),
							 2147483647) AS pk_pos
		  FROM elt._infer_columns(tgt) i
		 ORDER BY pk_pos, i.keys::text COLLATE "C"
	LOOP
		col := left(array_to_string(c.keys, '__'), 63);
		n := 1;
		WHILE col = ANY (used) LOOP
			n := n + 1;
			col := left(array_to_string(c.keys, '__'), 60 - length(n::text)) || '_' || n;
		END LOOP;
		used := used || col;
		IF c.types IS NULL THEN
			typ := 'text';		-- only nulls (or empty objects) seen
		ELSIF c.types = '{string}' THEN
			typ := CASE WHEN c.all_dates THEN 'date'
						WHEN c.all_timestamps THEN 'timestamptz'
						ELSE 'text' END;
		ELSIF c.types = '{number}' THEN
			typ := CASE WHEN c.all_integers THEN 'bigint' ELSE 'numeric' END;
		ELSIF c.types = '{boolean}' THEN
			typ := 'boolean';
		ELSE
			typ := 'jsonb';		-- arrays, empty objects and mixed types
		END IF;
		IF typ = 'jsonb' THEN
			expr := format('(_elt_record #> %L)', c.keys);
		ELSE
			expr := format('(_elt_record #>> %L)::%s', c.keys, typ);
		END IF;
		cols := cols || format('%s AS %I', expr, col);
	END LOOP;
	IF cardinality(cols) = 0 THEN
		RAISE EXCEPTION 'staging table % has no records to infer a view from', s.target
			USING ERRCODE = 'no_data_found',
				  HINT = 'Run elt.extract first.';
	END IF;
	ddl := format('SELECT _elt_batch_id, _elt_loaded_at, %s FROM %s',
				  array_to_string(cols, ', '), tgt);
	BEGIN
		EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', vname, ddl);
	EXCEPTION WHEN invalid_table_definition OR datatype_mismatch THEN
		-- columns changed in a way CREATE OR REPLACE cannot follow: start
		-- over, unless other objects depend on the view
		BEGIN
			EXECUTE format('DROP VIEW %s', vname);
		EXCEPTION WHEN dependent_objects_still_exist THEN
			RAISE EXCEPTION 'cannot replace view % with the columns the records now have', vname
				USING ERRCODE = 'dependent_objects_still_exist',
					  DETAIL = 'Other objects depend on the view, and its columns changed name or type.',
					  HINT = 'Drop the dependent objects first, or infer into a new view.';
		END;
		EXECUTE format('CREATE VIEW %s AS %s', vname, ddl);
	END;
	RETURN vname;
END;
$$;
COMMENT ON FUNCTION elt.infer_view(text, text) IS
'Create a typed view over a stream''s staging table, one column per (flattened) JSON key';
REVOKE ALL ON FUNCTION elt.infer_view(text, text) FROM PUBLIC;


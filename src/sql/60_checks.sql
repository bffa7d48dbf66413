
-- ---------------------------------------------------------------------------
-- Data quality (docs/checks.md)
-- ---------------------------------------------------------------------------

CREATE TABLE elt.check_result (
	check_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	checked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	run_id bigint,
	owner regrole NOT NULL DEFAULT elt._current_role(),
	relation text NOT NULL,
	test text NOT NULL,
	column_name text,
	args jsonb NOT NULL DEFAULT '{}',
	severity text NOT NULL CHECK (severity IN ('error', 'warn')),
	passed boolean NOT NULL,
	failures bigint NOT NULL,
	sample jsonb,
	detail text
);
CREATE INDEX check_result_relation_idx ON elt.check_result (relation, checked_at);
CREATE INDEX check_result_checked_at_idx ON elt.check_result (checked_at);
COMMENT ON TABLE elt.check_result IS
'Every data-quality check result: failing count and a sample of failing keys or values; pruned after pg_elt.history_retention.';

SELECT pg_catalog.pg_extension_config_dump('elt.check_result', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('elt.check_result', 'check_id')::regclass, '');

ALTER TABLE elt.check_result ENABLE ROW LEVEL SECURITY;
CREATE POLICY check_result_owner ON elt.check_result
	USING (pg_catalog.pg_has_role(owner, 'USAGE'))
	WITH CHECK (owner = elt._current_role());
GRANT SELECT, INSERT ON elt.check_result TO PUBLIC;

CREATE FUNCTION elt._keep_check_result(result jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'elt_keep_check_result'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt._keep_check_result(jsonb) IS
'Internal: write the result of a failed check in a transaction of its own, owned by the current role.';

CREATE FUNCTION elt.check(relation text, test text, column_name text DEFAULT NULL,
	args jsonb DEFAULT '{}', severity text DEFAULT 'error')
RETURNS TABLE (passed boolean, failures bigint, detail text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass;
	t text := lower(btrim(test));
	sev text := lower(btrim(coalesce(severity, 'error')));
	a jsonb := coalesce(args, '{}');
	col text := column_name;
	qcol text;
	keyexpr text;
	n bigint;
	smp jsonb;
	det text;
	ok boolean;
	other regclass;
	ofield text;
	vals text[];
	lo numeric;
	hi numeric;
	max_age interval;
	latest timestamptz;
	rows_found bigint;
	k text;
	allowed text[];
	result jsonb;
BEGIN
	IF relation IS NULL OR test IS NULL THEN
		RAISE EXCEPTION 'relation and test must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF sev NOT IN ('error', 'warn') THEN
		RAISE EXCEPTION 'severity must be "error" or "warn", not "%"', severity
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF jsonb_typeof(a) <> 'object' THEN
		RAISE EXCEPTION 'args must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	allowed := CASE t
		WHEN 'not_null' THEN '{}'
		WHEN 'unique' THEN '{}'
		WHEN 'accepted_values' THEN '{values}'
		WHEN 'relationships' THEN '{to,field}'
		WHEN 'freshness' THEN '{column,max_age}'
		WHEN 'row_count' THEN '{min,max}'
		WHEN 'expression' THEN '{where}'
		END;
	IF allowed IS NULL THEN
		RAISE EXCEPTION 'unknown check test "%"', test
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Tests are not_null, unique, accepted_values, relationships, freshness, row_count and expression.';
	END IF;
	FOR k IN SELECT jsonb_object_keys(a) LOOP
		IF NOT k = ANY (allowed) THEN
			RAISE EXCEPTION 'unknown argument "%" for test "%"', k, t
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = CASE WHEN cardinality(allowed) = 0 THEN format('Test "%s" takes no arguments.', t)
								  ELSE format('Test "%s" takes %s.', t, array_to_string(allowed, ', ')) END;
		END IF;
	END LOOP;

	rel := relation::regclass;

	IF t = 'freshness' AND col IS NULL THEN
		col := a->>'column';
	END IF;
	IF t IN ('not_null', 'unique', 'accepted_values', 'relationships', 'freshness') AND col IS NULL THEN
		RAISE EXCEPTION 'test "%" needs a column', t
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = CASE WHEN t = 'freshness' THEN 'Pass column_name or args {"column": ...}.'
							  ELSE 'Pass column_name.' END;
	END IF;
	IF col IS NOT NULL THEN
		IF NOT EXISTS (SELECT 1 FROM pg_attribute
					   WHERE attrelid = rel AND attname = col AND attnum > 0 AND NOT attisdropped) THEN
			RAISE EXCEPTION 'column "%" of relation % does not exist', col, rel
				USING ERRCODE = 'undefined_column';
		END IF;
		qcol := quote_ident(col);
	END IF;

	-- failing rows are identified by their primary key, else by ctid
	SELECT 'jsonb_build_object(' || string_agg(quote_literal(att.attname) || ', ' || quote_ident(att.attname),
											   ', ' ORDER BY ix.ord) || ')'
	INTO keyexpr
	FROM pg_index i
	CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS ix(attnum, ord)
	JOIN pg_attribute att ON att.attrelid = i.indrelid AND att.attnum = ix.attnum
	WHERE i.indrelid = rel AND i.indisprimary;
	IF keyexpr IS NULL THEN
		keyexpr := 'jsonb_build_object(''ctid'', ctid::text)';
	END IF;

	CASE t
	WHEN 'not_null' THEN
		-- two uncorrelated subqueries (Citus runs each on the shards)
		EXECUTE format('SELECT (SELECT count(*) FROM %2$s WHERE %3$s IS NULL), '
					   '(SELECT jsonb_agg(s.k) FROM (SELECT %1$s AS k FROM %2$s '
					   'WHERE %3$s IS NULL LIMIT 10) s)',
					   keyexpr, rel, qcol)
		INTO n, smp;
		det := format('%s rows where %s is null', n, col);

	WHEN 'unique' THEN
		EXECUTE format('WITH d AS (SELECT %1$s AS v, count(*) AS c FROM %2$s WHERE %1$s IS NOT NULL '
					   'GROUP BY 1 HAVING count(*) > 1) '
					   'SELECT (SELECT count(*) FROM d), (SELECT jsonb_agg(jsonb_build_object(''value'', s.v, ''count'', s.c)) '
					   'FROM (SELECT v, c FROM d ORDER BY c DESC, v LIMIT 10) s)',
					   qcol, rel)
		INTO n, smp;
		det := format('%s duplicated values of %s', n, col);

	WHEN 'accepted_values' THEN
		IF jsonb_typeof(a->'values') IS DISTINCT FROM 'array' OR jsonb_array_length(a->'values') = 0 THEN
			RAISE EXCEPTION 'test "accepted_values" needs args {"values": [...]} with at least one value'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		SELECT array_agg(v) INTO vals FROM jsonb_array_elements_text(a->'values') v;
		EXECUTE format('WITH d AS (SELECT %1$s::text AS v, count(*) AS c FROM %2$s '
					   'WHERE %1$s IS NOT NULL AND NOT (%1$s::text = ANY ($1)) GROUP BY 1) '
					   'SELECT (SELECT coalesce(sum(c), 0)::bigint FROM d), '
					   '(SELECT jsonb_agg(jsonb_build_object(''value'', s.v, ''count'', s.c)) '
					   'FROM (SELECT v, c FROM d ORDER BY c DESC, v LIMIT 10) s)',
					   qcol, rel)
		INTO n, smp USING vals;
		det := format('%s rows where %s is not one of the accepted values', n, col);

	WHEN 'relationships' THEN
		IF jsonb_typeof(a->'to') IS DISTINCT FROM 'string' THEN
			RAISE EXCEPTION 'test "relationships" needs args {"to": "relation", "field": "column"}'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		other := (a->>'to')::regclass;
		ofield := coalesce(a->>'field', col);
		IF NOT EXISTS (SELECT 1 FROM pg_attribute
					   WHERE attrelid = other AND attname = ofield AND attnum > 0 AND NOT attisdropped) THEN
			RAISE EXCEPTION 'column "%" of relation % does not exist', ofield, other
				USING ERRCODE = 'undefined_column';
		END IF;
		EXECUTE format('WITH d AS (SELECT c.%1$s AS v, count(*) AS c FROM %2$s c '
					   'WHERE c.%1$s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %3$s p WHERE p.%4$s = c.%1$s) '
					   'GROUP BY 1) '
					   'SELECT (SELECT coalesce(sum(c), 0)::bigint FROM d), '
					   '(SELECT jsonb_agg(jsonb_build_object(''value'', s.v, ''count'', s.c)) '
					   'FROM (SELECT v, c FROM d ORDER BY c DESC, v LIMIT 10) s)',
					   qcol, rel, other, quote_ident(ofield))
		INTO n, smp;
		det := format('%s rows where %s has no match in %s.%s', n, col, other, ofield);

	WHEN 'freshness' THEN
		BEGIN
			max_age := (a->>'max_age')::interval;
		EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
			max_age := NULL;
		END;
		IF max_age IS NULL OR max_age <= interval '0' THEN
			RAISE EXCEPTION 'test "freshness" needs args {"max_age": "interval"} with a positive interval'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM pg_attribute
					   WHERE attrelid = rel AND attname = col
						 AND atttypid IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)) THEN
			RAISE EXCEPTION 'column "%" of relation % is not a date or timestamp', col, rel
				USING ERRCODE = 'datatype_mismatch';
		END IF;
		EXECUTE format('SELECT max(%s)::timestamptz FROM %s', qcol, rel) INTO latest;
		n := CASE WHEN latest IS NULL OR latest < now() - max_age THEN 1 ELSE 0 END;
		smp := jsonb_build_object('latest', latest, 'age', (now() - latest)::text);
		det := CASE WHEN latest IS NULL THEN format('no value of %s: the relation is empty', col)
					ELSE format('latest %s is %s, %s old (max_age %s)', col, latest,
								justify_interval(date_trunc('second', now() - latest)), max_age) END;

	WHEN 'row_count' THEN
		IF NOT (a ? 'min' OR a ? 'max') THEN
			RAISE EXCEPTION 'test "row_count" needs args {"min": n} and/or {"max": n}'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF (a ? 'min' AND jsonb_typeof(a->'min') <> 'number') OR (a ? 'max' AND jsonb_typeof(a->'max') <> 'number') THEN
			RAISE EXCEPTION 'row_count bounds must be numbers'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		lo := (a->>'min')::numeric;
		hi := (a->>'max')::numeric;
		IF lo > hi THEN
			RAISE EXCEPTION 'row_count min % is greater than max %', lo, hi
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		EXECUTE format('SELECT count(*) FROM %s', rel) INTO rows_found;
		n := CASE WHEN rows_found < lo OR rows_found > hi THEN 1 ELSE 0 END;
		smp := jsonb_build_object('row_count', rows_found);
		det := format('%s rows (min %s, max %s)', rows_found,
					  coalesce(lo::text, 'none'), coalesce(hi::text, 'none'));
	WHEN 'expression' THEN
		IF jsonb_typeof(a->'where') IS DISTINCT FROM 'string' OR btrim(a->>'where') = '' THEN
			RAISE EXCEPTION 'test "expression" needs args {"where": "condition that failing rows meet"}'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		EXECUTE format('SELECT (SELECT count(*) FROM %2$s WHERE (%3$s)), '
					   '(SELECT jsonb_agg(s.k) FROM (SELECT %1$s AS k FROM %2$s '
					   'WHERE (%3$s) LIMIT 10) s)',
					   keyexpr, rel, a->>'where')
		INTO n, smp;
		det := format('%s rows where %s', n, a->>'where');
	END CASE;

	ok := (n = 0);
	IF ok THEN
		smp := NULL;
	END IF;
	result := jsonb_build_object(
		'checked_at', clock_timestamp(), 'run_id', elt.current_run(), 'relation', rel::text,
		'test', t, 'column_name', col, 'args', a, 'severity', sev, 'passed', ok,
		'failures', n, 'sample', smp, 'detail', det);

	IF ok OR sev = 'warn' THEN
		INSERT INTO elt.check_result (checked_at, run_id, relation, test, column_name, args,
									  severity, passed, failures, sample, detail)
		VALUES (clock_timestamp(), elt.current_run(), rel::text, t, col, a, sev, ok, n, smp, det);
	ELSE
		PERFORM elt._keep_check_result(result);
	END IF;

	IF NOT ok AND sev = 'warn' THEN
		RAISE WARNING 'check % of % failed: %', t, rel, det
			USING DETAIL = format('Sample: %s', smp);
	ELSIF NOT ok THEN
		RAISE EXCEPTION 'check % of % failed: %', t, rel, det
			USING ERRCODE = 'EL052', DETAIL = format('Sample: %s', smp);
	END IF;
	passed := ok;
	failures := n;
	detail := det;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION elt.check(text, text, text, jsonb, text) IS
'Run a data-quality test (not_null, unique, accepted_values, relationships, freshness, row_count, expression) and keep the result in elt.check_result; severity error raises on failure, warn warns.';

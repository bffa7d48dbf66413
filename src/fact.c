/*
 * fact.c
 *	  elt.merge_fact: load a fact table whose dimension references are
 *	  surrogate keys looked up from the source's natural keys.
 *
 * For each dimension listed, the source's natural key columns are replaced
 * by the dimension's surrogate key: the current row, or for a type 2
 * dimension with as_of the version valid at that time.  All lookups are
 * LEFT JOINs on plain equality in one INSERT ... SELECT (hash joins on a big
 * build), with a correlated fallback that only runs for the rare rows the
 * join misses (a time before the member's first version, a member since
 * closed).  A row whose as_of is NULL gets the unknown member.  Members missing from a dimension are handled before the load,
 * by late_arriving: inferred (inserted, flagged is_inferred, completed in
 * place by the next merge_dimension), the unknown member -1, or an error.
 * Rows whose natural key is NULL get the unknown member.
 *
 * The resolved rows are then loaded by the incremental load shared with
 * elt.merge (strategies append, merge by grain, delete+insert; watermark).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "build_progress.h"
#include "fact.h"
#include "merge.h"
#include "internal_sql.h"
#include "keyset.h"
#include "model.h"
#include "options.h"

PG_FUNCTION_INFO_V1(elt_merge_fact);

#define LATE_INFER		0
#define LATE_UNKNOWN	1
#define LATE_ERROR		2

/* One dimension reference of the fact. */
typedef struct FactDim
{
	int			n;				/* position, 1-based, for aliases */
	ModelRelation rel;
	List	   *columns;		/* the dimension's columns */
	List	   *src_cols;		/* fact source columns ... */
	List	   *dim_cols;		/* ... matched to these natural key columns */
	char	   *as_of;			/* source column, or NULL */
	char	   *key_name;		/* output column */
	char	   *sk;				/* the dimension's surrogate key */
	Oid			sk_type;
	bool		versioned;		/* type 2 */
	bool		has_inferred;
	int			late;
} FactDim;

/*
 * Parse a late_arriving value.
 */
static int
parse_late(const char *s)
{
	if (strcmp(s, "infer") == 0)
		return LATE_INFER;
	if (strcmp(s, "unknown") == 0)
		return LATE_UNKNOWN;
	if (strcmp(s, "error") == 0)
		return LATE_ERROR;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for late_arriving: \"%s\"", s),
			 errhint("Valid values are \"infer\", \"unknown\" and \"error\".")));
	return 0;					/* keep compiler quiet */
}

/*
 * The value of column i of row r of the last query, or NULL.
 */
static char *
result_text(uint64 r, int i)
{
	return SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, i);
}

/*
 * Find the dimension's surrogate key: its single-column primary key, of an
 * integer type.
 */
static void
find_surrogate_key(FactDim *d)
{
	ModelColumn *col;
	char	   *sql = psprintf("SELECT a.attname::text FROM pg_catalog.pg_index i"
							   " JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid"
							   " AND a.attnum = i.indkey[0]"
							   " WHERE i.indrelid = %u AND i.indisprimary AND i.indnatts = 1",
							   d->rel.relid);

	internal_sql_exec(sql, 0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	d->sk = SPI_processed == 1 ? result_text(0, 1) : NULL;
	if (d->sk == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("dimension \"%s\" has no single-column primary key", d->rel.display),
				 errdetail("The primary key of a dimension is its surrogate key.")));
	col = model_find_column(d->columns, d->sk);
	d->sk_type = col->typid;
	if (d->sk_type != INT8OID && d->sk_type != INT4OID && d->sk_type != INT2OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("surrogate key \"%s\" of dimension \"%s\" is not an integer",
						d->sk, d->rel.display)));
}

/*
 * Parse and check the dimensions argument against the source and the
 * dimensions themselves.
 */
static List *
parse_dimensions(Jsonb *json, List *source_columns, int default_late)
{
	List	   *result = NIL;
	const char *type = options_jsonb_typeof(json);
	int			count;

	if (strcmp(type, "array") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"dimensions\" must be a JSON array, not %s", type)));
	count = JsonContainerSize(&json->root);

	for (int i = 0; i < count; i++)
	{
		FactDim    *d = palloc0(sizeof(FactDim));
		JsonbValue *e = getIthJsonbValueFromContainer(&json->root, i);
		OptionValues ov;
		List	   *scols = NIL;
		List	   *dvals = NIL;
		ListCell   *ls;
		ListCell   *lv;
		char	   *name;
		char	   *late;

		d->n = i + 1;
		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("element %d of dimensions must be a JSON object", d->n)));
		options_parse(&ov, &fact_dimension_table, e->val.binary.data, d->n);
		name = options_get_text(&ov, "dimension");
		d->as_of = options_get_text(&ov, "as_of");
		d->key_name = options_get_text(&ov, "key");
		late = options_get_text(&ov, "late_arriving");
		d->late = late ? parse_late(late) : default_late;

		/* The dimension. */
		model_resolve_relation(&d->rel, name, false);
		model_check_table(&d->rel);
		d->columns = model_relation_columns(d->rel.relid);
		find_surrogate_key(d);
		if (d->key_name == NULL)
			d->key_name = d->sk;
		model_check_name_length(d->key_name, "dimensions");
		d->versioned = model_find_column(d->columns, MODEL_VALID_FROM) &&
			model_find_column(d->columns, MODEL_VALID_TO) &&
			model_find_column(d->columns, MODEL_IS_CURRENT);
		{
			ModelColumn *inf = model_find_column(d->columns, MODEL_IS_INFERRED);

			d->has_inferred = inf && inf->typid == BOOLOID;
		}
		if (d->late == LATE_INFER && !d->has_inferred)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("dimension \"%s\" cannot take inferred members", d->rel.display),
					 errdetail("Inferred members need a boolean column is_inferred."),
					 errhint("Pass \"late_arriving\": \"unknown\" or \"error\" for this dimension.")));

		/* The key mapping: fact source column -> dimension column. */
		options_object_pairs(options_get_value(&ov, "on")->val.binary.data,
							 &scols, &dvals);
		if (scols == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"on\" in element %d of dimensions is empty", d->n)));
		forboth(ls, scols, lv, dvals)
		{
			char	   *scol = lfirst(ls);
			JsonbValue *dv = lfirst(lv);
			char	   *dcol;
			ModelColumn *sc;
			ModelColumn *dc;

			if (dv->type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("\"on\" in element %d of dimensions must map column names to column names",
								d->n)));
			dcol = options_value_text(dv);
			sc = model_find_column(source_columns, scol);
			dc = model_find_column(d->columns, dcol);
			if (sc == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" in \"on\" of element %d of dimensions is not a column of the source",
								scol, d->n)));
			if (dc == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" is not a column of dimension \"%s\"",
								dcol, d->rel.display)));
			if (sc->typid != dc->typid)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" of the source has type %s but \"%s\" of dimension \"%s\" has type %s",
								scol, format_type_be(sc->typid), dcol, d->rel.display,
								format_type_be(dc->typid)),
						 errhint("Cast the column in a SELECT source.")));
			d->src_cols = lappend(d->src_cols, scol);
			d->dim_cols = lappend(d->dim_cols, dcol);
		}

		if (d->as_of)
		{
			ModelColumn *ac = model_find_column(source_columns, d->as_of);

			if (!d->versioned)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("dimension \"%s\" keeps no history, so \"as_of\" cannot be used with it",
								d->rel.display)));
			if (ac == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("as_of column \"%s\" is not a column of the source", d->as_of)));
			if (ac->typid != TIMESTAMPTZOID && ac->typid != TIMESTAMPOID && ac->typid != DATEOID)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("as_of column \"%s\" must be a date or timestamp, not %s",
								d->as_of, format_type_be(ac->typid))));
		}
		result = lappend(result, d);
	}
	return result;
}

/*
 * Append the match of source rows (alias s) with dimension rows (alias
 * alias) on the natural key.
 */
static void
append_dim_match(StringInfo buf, FactDim *d, const char *alias)
{
	ListCell   *sc;
	ListCell   *dc;

	forboth(sc, d->src_cols, dc, d->dim_cols)
	{
		if (foreach_current_index(sc) > 0)
			appendStringInfoString(buf, " AND ");
		appendStringInfo(buf, "%s = %s", model_column_ref(alias, lfirst(dc)),
						 model_column_ref("s", lfirst(sc)));
	}
	appendStringInfo(buf, " AND %s <> " MODEL_UNKNOWN_KEY, model_column_ref(alias, d->sk));
}

/*
 * The source rows whose (complete) natural key has no row at all in the
 * dimension.
 */
static void
append_missing_members(StringInfo buf, FactDim *d, const char *from_item)
{
	ListCell   *lc;

	appendStringInfoString(buf, "SELECT DISTINCT ");
	model_append_names(buf, d->src_cols, "s");
	appendStringInfo(buf, " FROM %s AS s WHERE ", from_item);
	foreach(lc, d->src_cols)
		appendStringInfo(buf, "%s IS NOT NULL AND ", model_column_ref("s", lfirst(lc)));
	appendStringInfo(buf, "NOT EXISTS (SELECT FROM %s AS d WHERE ", d->rel.qualified);
	append_dim_match(buf, d, "d");
	appendStringInfoChar(buf, ')');
}

/*
 * The key set of dimension d for keyset_covers(): its natural key columns,
 * read from the dimension, and looked up from position first of the probe
 * query, whose select list gets d's source columns.
 */
static void
member_spec(FactDim *d, KeySetSpec *spec, int first, StringInfo probe)
{
	int			n = list_length(d->dim_cols);
	Oid		   *typids = palloc0(sizeof(Oid) * n);
	Oid		   *collations = palloc0(sizeof(Oid) * n);
	StringInfoData build;
	ListCell   *lc;

	foreach(lc, d->dim_cols)
	{
		AttrNumber	attnum = get_attnum(d->rel.relid, lfirst(lc));
		int32		typmod;

		if (attnum == InvalidAttrNumber)
			n = 0;				/* no set: the pass decides */
		else
			get_atttypetypmodcoll(d->rel.relid, attnum, &typids[foreach_current_index(lc)],
								  &typmod, &collations[foreach_current_index(lc)]);
	}
	initStringInfo(&build);
	appendStringInfoString(&build, "SELECT ");
	model_append_names(&build, d->dim_cols, "d");
	appendStringInfo(&build, " FROM %s AS d WHERE %s <> " MODEL_UNKNOWN_KEY,
					 d->rel.qualified, model_column_ref("d", d->sk));
	spec->build_sql = build.data;
	spec->first = first;
	spec->nkeys = n;
	spec->typids = typids;
	spec->collations = collations;
	appendStringInfoString(probe, first > 0 ? ", " : "SELECT ");
	model_append_names(probe, d->src_cols, "s");
}

/*
 * Handle the members missing from each dimension before the fact is
 * loaded: insert them as inferred members, or refuse the load.  The pass
 * that looks for them in a dimension runs only when its keys, held in
 * memory, do not show every key of the source present (keyset.c reads the
 * source once for all dimensions).
 */
static void
handle_late_arriving(List *dims, const char *from_item, StringInfo inferred)
{
	ListCell   *lc;
	KeySetSpec *specs = palloc0(sizeof(KeySetSpec) * Max(list_length(dims), 1));
	int			nspecs = 0;
	int			first = 0;
	StringInfoData probe;

	/* the dimensions that may get inferred members are locked first */
	initStringInfo(&probe);
	foreach(lc, dims)
	{
		FactDim    *d = lfirst(lc);

		if (d->late == LATE_UNKNOWN)
			continue;
		if (d->late == LATE_INFER)
		{
			model_lock_table(&d->rel);
			model_claim_dimension(&d->rel, d->sk, linitial(d->dim_cols));
		}
		member_spec(d, &specs[nspecs++], first, &probe);
		first += list_length(d->src_cols);
	}
	if (nspecs == 0)
		return;
	appendStringInfo(&probe, " FROM %s AS s", from_item);
	keyset_covers(specs, nspecs, probe.data);

	nspecs = 0;
	foreach(lc, dims)
	{
		FactDim    *d = lfirst(lc);
		StringInfoData sql;

		if (d->late == LATE_UNKNOWN)
			continue;
		if (specs[nspecs++].covers)
			continue;			/* every key of the source is a member */
		initStringInfo(&sql);
		if (d->late == LATE_ERROR)
		{
			StringInfoData keys;
			StringInfoData vals;

			append_missing_members(&sql, d, from_item);
			appendStringInfoString(&sql, " LIMIT 1");
			model_exec(sql.data, SPI_OK_SELECT);
			if (SPI_processed == 0)
				continue;
			initStringInfo(&keys);
			initStringInfo(&vals);
			for (int i = 0; i < list_length(d->src_cols); i++)
			{
				appendStringInfo(&keys, "%s%s", i ? ", " : "",
								 quote_identifier(list_nth(d->src_cols, i)));
				appendStringInfo(&vals, "%s%s", i ? ", " : "", result_text(0, i + 1));
			}
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("the source refers to a member missing from dimension \"%s\"",
							d->rel.display),
					 errdetail("Key (%s)=(%s) is not present in the dimension.",
							   keys.data, vals.data),
					 errhint("Load the dimension first, or pass late_arriving => 'infer' or 'unknown'.")));
		}
		else
		{
			uint64		n;

			appendStringInfo(&sql, "INSERT INTO %s (", d->rel.qualified);
			model_append_names(&sql, d->dim_cols, NULL);
			appendStringInfoString(&sql, ", " MODEL_IS_INFERRED);
			if (d->versioned)
				appendStringInfoString(&sql, ", " MODEL_VALID_FROM ", " MODEL_VALID_TO ", "
									   MODEL_IS_CURRENT);
			appendStringInfoString(&sql, ") SELECT m.*, true");
			if (d->versioned)
				appendStringInfoString(&sql, ", '-infinity', 'infinity', true");
			appendStringInfoString(&sql, " FROM (");
			append_missing_members(&sql, d, from_item);
			appendStringInfoString(&sql, ") AS m");
			n = model_exec(sql.data, SPI_OK_INSERT);
			if (n > 0)
			{
				appendStringInfoString(inferred, inferred->len ? ", " : "{");
				escape_json(inferred, d->rel.qualified);
				appendStringInfo(inferred, ": " UINT64_FORMAT, n);
			}
		}
	}
	if (inferred->len)
		appendStringInfoChar(inferred, '}');
}

/*
 * The surrogate key expression of one dimension reference (alias d<n>):
 * the joined row, else a fallback version for type 2 (the latest that
 * started before as_of, else the first; the latest without as_of), else the
 * unknown member.  A NULL as_of value matches no version: its row gets the
 * unknown member, as a NULL natural key does, rather than a version picked
 * by a guess.
 */
static void
append_key_expression(StringInfo buf, FactDim *d)
{
	char	   *alias = psprintf("d%d", d->n);

	appendStringInfo(buf, "COALESCE(%s", model_column_ref(alias, d->sk));
	if (d->versioned)
	{
		appendStringInfo(buf, ", (SELECT x.%s FROM %s AS x WHERE ",
						 quote_identifier(d->sk), d->rel.qualified);
		append_dim_match(buf, d, "x");
		if (d->as_of)
		{
			char	   *asof = model_column_ref("s", d->as_of);

			/* no time, no version: the unknown member */
			appendStringInfo(buf, " AND %s IS NOT NULL ORDER BY"
							 " (x." MODEL_VALID_FROM " <= %s) DESC NULLS LAST,"
							 " CASE WHEN x." MODEL_VALID_FROM " <= %s THEN x." MODEL_VALID_FROM
							 " END DESC NULLS LAST, x." MODEL_VALID_FROM " LIMIT 1)",
							 asof, asof, asof);
		}
		else
			appendStringInfoString(buf, " ORDER BY x." MODEL_VALID_FROM " DESC LIMIT 1)");
	}
	appendStringInfo(buf, ", " MODEL_UNKNOWN_KEY ") AS %s", quote_identifier(d->key_name));
}

/*
 * The SELECT that turns source rows into fact rows: surrogate keys first,
 * then the source columns not consumed by a lookup (grain columns are kept
 * even when they are also natural keys).
 */
static char *
resolved_select(List *dims, const char *from_item, List *source_columns,
				List *grain, List **outnames)
{
	StringInfoData buf;
	List	   *consumed = NIL;
	List	   *names = NIL;
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, dims)
	{
		FactDim    *d = lfirst(lc);

		foreach(lc2, d->src_cols)
		{
			if (!model_list_contains(grain, lfirst(lc2)))
				consumed = lappend(consumed, lfirst(lc2));
		}
	}

	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT ");
	foreach(lc, dims)
	{
		FactDim    *d = lfirst(lc);

		if (model_list_contains(names, d->key_name))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("two dimensions of the fact use the key column \"%s\"", d->key_name),
					 errhint("Name the key of each dimension with \"key\".")));
		names = lappend(names, d->key_name);
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(&buf, ", ");
		append_key_expression(&buf, d);
	}
	foreach(lc, source_columns)
	{
		ModelColumn *col = lfirst(lc);

		if (model_list_contains(consumed, col->name))
			continue;
		if (model_list_contains(names, col->name))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("source column \"%s\" has the name of a dimension key of the fact",
							col->name),
					 errhint("Rename the column in a SELECT source, or name the dimension's key with \"key\".")));
		names = lappend(names, col->name);
		appendStringInfo(&buf, "%s%s", names->length > 1 ? ", " : "",
						 model_column_ref("s", col->name));
	}
	appendStringInfo(&buf, " FROM %s AS s", from_item);
	foreach(lc, dims)
	{
		FactDim    *d = lfirst(lc);
		char	   *alias = psprintf("d%d", d->n);

		appendStringInfo(&buf, " LEFT JOIN %s AS %s ON ", d->rel.qualified, alias);
		append_dim_match(&buf, d, alias);
		if (d->versioned && d->as_of)
		{
			char	   *asof = model_column_ref("s", d->as_of);

			appendStringInfo(&buf, " AND %s >= %s." MODEL_VALID_FROM
							 " AND %s < %s." MODEL_VALID_TO, asof, alias, asof, alias);
		}
		else if (d->versioned)
			appendStringInfo(&buf, " AND %s." MODEL_IS_CURRENT, alias);
	}
	*outnames = names;
	return buf.data;
}

/*
 * elt.merge_fact(target, source, grain, dimensions, late_arriving,
 *		strategy, watermark)
 *
 * Load a fact table from a relation or SELECT, replacing natural keys with
 * dimension surrogate keys, creating the table on the first call.  Returns
 * inserted, updated and deleted counts.
 */
Datum
elt_merge_fact(PG_FUNCTION_ARGS)
{
	TimestampTz started = GetCurrentTimestamp();
	MergeLoad inc = {0};
	ModelSource source;
	ModelCounts counts = {0, 0, 0, -1, -1};
	char	   *target_arg = model_text_arg(fcinfo, 0, "target");
	char	   *source_arg = model_text_arg(fcinfo, 1, "source");
	Jsonb	   *dims_json;
	int			late;
	List	   *dims;
	List	   *outnames;
	List	   *keynames = NIL;
	char	   *filtered;
	char	   *select;
	StringInfoData inferred;
	ListCell   *lc;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	inc.unique_key = PG_ARGISNULL(2) ? NIL :
		model_name_array(PG_GETARG_ARRAYTYPE_P(2), "grain");
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"dimensions\" must not be null")));
	dims_json = PG_GETARG_JSONB_P(3);
	late = parse_late(model_text_arg(fcinfo, 4, "late_arriving"));
	inc.strategy = merge_parse_strategy(model_text_arg(fcinfo, 5, "strategy"));
	if (!PG_ARGISNULL(6))
		inc.watermark = text_to_cstring(PG_GETARG_TEXT_PP(6));
	inc.on_schema_change = SCHEMA_FAIL;
	inc.key_label = "grain";
	inc.schema_hint = "Change the fact table with ALTER TABLE to match the source, or select the fact table's columns in a SELECT source.";
	if (inc.strategy != STRATEGY_APPEND && inc.unique_key == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("strategy \"%s\" needs a grain",
						inc.strategy == STRATEGY_MERGE ? "merge" : "delete+insert"),
				 errhint("Pass the columns that identify a fact row as grain, or use strategy => 'append'.")));

	SPI_connect();
	model_open_source(&source, source_arg);
	dims = parse_dimensions(dims_json, source.columns, late);
	if (inc.watermark)
	{
		foreach(lc, dims)
		{
			if (model_list_contains(((FactDim *) lfirst(lc))->src_cols, inc.watermark))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("watermark column \"%s\" is a natural key looked up in a dimension",
								inc.watermark)));
		}
	}

	/* Lock the fact, read its watermark, then complete the dimensions. */
	merge_load_begin(&inc, target_arg);
	build_progress_start("merge_fact", inc.target.qualified);
	build_progress_phase("dimensions");
	filtered = merge_load_past_watermark(&inc, source.from_item);
	initStringInfo(&inferred);
	handle_late_arriving(dims, filtered, &inferred);

	select = resolved_select(dims, filtered, source.columns, inc.unique_key, &outnames);
	foreach(lc, dims)
		keynames = lappend(keynames, ((FactDim *) lfirst(lc))->key_name);
	foreach(lc, inc.unique_key)
	{
		if (!model_list_contains(outnames, lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("grain column \"%s\" is not a column of the fact", (char *) lfirst(lc))));
	}
	inc.not_null = list_concat_copy(keynames,
									inc.strategy == STRATEGY_MERGE ? inc.unique_key : NIL);
	select = psprintf("(\n%s\n)", select);
	merge_load_write(&inc, select, model_query_columns(select), &counts);
	if (inferred.len)
		merge_load_detail_add(&inc, "inferred", inferred.data);
	/* the dimensions looked up, for elt.lineage: dimension -> fact */
	{
		StringInfoData j;

		initStringInfo(&j);
		appendStringInfoChar(&j, '[');
		foreach(lc, dims)
		{
			if (foreach_current_index(lc) > 0)
				appendStringInfoString(&j, ", ");
			escape_json(&j, ((FactDim *) lfirst(lc))->rel.qualified);
		}
		appendStringInfoChar(&j, ']');
		merge_load_detail_add(&inc, "dimensions", j.data);
	}

	model_record_run("merge_fact", &inc.target, source_arg, &counts, started,
					 merge_load_detail(&inc));
	SPI_finish();

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(counts.inserted);
	values[1] = Int64GetDatum(counts.updated);
	values[2] = Int64GetDatum(counts.deleted);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

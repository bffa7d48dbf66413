/*
 * merge.c
 *	  elt.merge, the generic incremental model, and the incremental load it
 *	  shares with elt.merge_fact.
 *
 * A load is: lock the target, read the watermark (the target's highest
 * value) so that only newer source rows are read, create the target on the
 * first call or reconcile its columns with the source (on_schema_change),
 * then write with the strategy:
 *
 *	append			INSERT ... SELECT
 *	merge			UPDATE ... FROM the rows whose key exists and whose values
 *					differ (null-safe), then INSERT the keys that do not exist
 *	delete+insert	DELETE the keys present in the source, then INSERT
 *
 * For merge and delete+insert the source is read once into a temporary work
 * table, so that both statements see the same rows even while the source is
 * being loaded, and a duplicated or NULL key is refused before the target is
 * written.  The work table is only ever read inside a subquery
 * (FROM (SELECT ...), IN (SELECT ...)), which PostgreSQL flattens into the
 * same join and which Citus accepts next to a distributed or reference
 * target, where it refuses a temporary table joined directly.  The insert
 * of the new keys of a merge is an anti-join against the target.  A merge
 * into a Citus target with a unique index on the key is instead one
 * INSERT ... ON CONFLICT DO UPDATE, which Citus repartitions by key; without
 * such an index (a correlated NOT EXISTS against a Citus target is refused)
 * the keys of the work table already in the target are read first, in a
 * pushed-down query, and the anti-join is against those.  A first build
 * into a new table is a single INSERT ... SELECT, with the key's primary key
 * built afterwards.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "merge.h"
#include "build_progress.h"
#include "citus.h"
#include "internal_sql.h"
#include "model.h"

PG_FUNCTION_INFO_V1(elt_merge);

/*
 * Parse a strategy name.
 */
int
merge_parse_strategy(const char *s)
{
	if (strcmp(s, "append") == 0)
		return STRATEGY_APPEND;
	if (strcmp(s, "merge") == 0)
		return STRATEGY_MERGE;
	if (strcmp(s, "delete+insert") == 0)
		return STRATEGY_DELETE_INSERT;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid strategy: \"%s\"", s),
			 errhint("Valid strategies are \"append\", \"merge\" and \"delete+insert\".")));
	return 0;					/* keep compiler quiet */
}

/*
 * Parse an on_schema_change value.
 */
int
merge_parse_schema_change(const char *s)
{
	if (strcmp(s, "fail") == 0)
		return SCHEMA_FAIL;
	if (strcmp(s, "ignore") == 0)
		return SCHEMA_IGNORE;
	if (strcmp(s, "append_new_columns") == 0)
		return SCHEMA_APPEND_NEW;
	if (strcmp(s, "sync_all_columns") == 0)
		return SCHEMA_SYNC_ALL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for on_schema_change: \"%s\"", s),
			 errhint("Valid values are \"fail\", \"ignore\", \"append_new_columns\" and \"sync_all_columns\".")));
	return 0;					/* keep compiler quiet */
}

/*
 * Lock the target and read its watermark.  Loads into one target are
 * serialized (two concurrent merges would otherwise both insert a new key);
 * readers are not blocked.  The watermark is read once, before anything is
 * written, and becomes a literal condition, so that every statement of the
 * load reads the same source rows.
 */
void
merge_load_begin(MergeLoad *inc, const char *target)
{
	initStringInfo(&inc->detail);
	model_resolve_relation(&inc->target, target, true);
	model_lock_name(&inc->target);
	inc->existed = OidIsValid(inc->target.relid);
	inc->watermark_filter = NULL;
	if (!inc->existed)
		return;
	model_check_table(&inc->target);
	model_lock_table(&inc->target);
	inc->citus = elt_table_kind(inc->target.relid) != ELT_TABLE_LOCAL;

	if (inc->watermark)
	{
		List	   *tcols = model_relation_columns(inc->target.relid);
		ModelColumn *col = model_find_column(tcols, inc->watermark);
		char	   *max;

		if (col == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("watermark column \"%s\" is not a column of %s",
							inc->watermark, inc->target.qualified)));
		max = model_query_text(psprintf("SELECT max(%s)::text FROM %s",
										quote_identifier(inc->watermark),
										inc->target.qualified));
		if (max)
			inc->watermark_filter = psprintf("src.%s > %s::%s",
											 quote_identifier(inc->watermark),
											 quote_literal_cstr(max), col->typname);
	}
}

/*
 * The source as a FROM item restricted to the rows past the watermark.
 */
char *
merge_load_past_watermark(MergeLoad *inc, const char *from_item)
{
	if (inc->watermark_filter == NULL)
		return pstrdup(from_item);
	return psprintf("(SELECT src.* FROM %s AS src WHERE %s)", from_item,
					inc->watermark_filter);
}

/*
 * Add a member to the JSON detail recorded in elt.model_run.
 */
void
merge_load_detail_add(MergeLoad *inc, const char *key, const char *json)
{
	if (inc->detail.len)
		appendStringInfoString(&inc->detail, ", ");
	escape_json(&inc->detail, key);
	appendStringInfo(&inc->detail, ": %s", json);
}

/*
 * Append a JSON array of names.
 */
static void
append_json_names(StringInfo buf, List *names)
{
	ListCell   *lc;

	appendStringInfoChar(buf, '[');
	foreach(lc, names)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, lfirst(lc));
	}
	appendStringInfoChar(buf, ']');
}

/*
 * Append a human-readable list of names for a message.
 */
static void
append_message_names(StringInfo buf, const char *label, List *names)
{
	ListCell   *lc;

	if (names == NIL)
		return;
	appendStringInfo(buf, "%s%s: ", buf->len ? " " : "", label);
	foreach(lc, names)
		appendStringInfo(buf, "%s%s", foreach_current_index(lc) ? ", " : "",
						 quote_identifier(lfirst(lc)));
	appendStringInfoChar(buf, '.');
}

/*
 * Create the target for its first build, from the source's columns.
 */
static void
create_target(MergeLoad *inc, List *columns)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (", inc->target.qualified);
	foreach(lc, columns)
	{
		ModelColumn *col = lfirst(lc);

		appendStringInfo(&sql, "%s%s %s%s", foreach_current_index(lc) ? ", " : "",
						 quote_identifier(col->name), col->typname,
						 model_list_contains(inc->not_null, col->name) ? " NOT NULL" : "");
	}
	appendStringInfoChar(&sql, ')');
	model_exec(sql.data, SPI_OK_UTILITY);
	model_refresh_relation(&inc->target);
}

/*
 * Indexes of a new target, built after its first load: the key (a primary
 * key for merge, which also refuses duplicated and NULL keys; a plain index
 * for delete+insert, whose key need not be unique) and the watermark.
 */
static void
create_indexes(MergeLoad *inc)
{
	StringInfoData sql;

	initStringInfo(&sql);
	if (inc->unique_key && inc->strategy != STRATEGY_APPEND)
	{
		if (inc->strategy == STRATEGY_MERGE)
			appendStringInfo(&sql, "ALTER TABLE %s ADD PRIMARY KEY (", inc->target.qualified);
		else
			appendStringInfo(&sql, "CREATE INDEX ON %s (", inc->target.qualified);
		model_append_names(&sql, inc->unique_key, NULL);
		appendStringInfoChar(&sql, ')');
		model_exec(sql.data, SPI_OK_UTILITY);
	}
	if (inc->watermark &&
		!(inc->unique_key && inc->strategy != STRATEGY_APPEND &&
		  strcmp(linitial(inc->unique_key), inc->watermark) == 0))
	{
		resetStringInfo(&sql);
		appendStringInfo(&sql, "CREATE INDEX ON %s (%s)", inc->target.qualified,
						 quote_identifier(inc->watermark));
		model_exec(sql.data, SPI_OK_UTILITY);
	}
}

/*
 * Compare the source's columns with the existing target's and apply
 * on_schema_change.  Returns the target columns (as ModelColumn, with the
 * target's types) that the load writes.
 */
static List *
reconcile_columns(MergeLoad *inc, List *columns)
{
	List	   *tcols = model_relation_columns(inc->target.relid);
	List	   *added = NIL;
	List	   *missing = NIL;
	List	   *retyped = NIL;
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, columns)
	{
		ModelColumn *scol = lfirst(lc);
		ModelColumn *tcol = model_find_column(tcols, scol->name);

		if (tcol == NULL)
			added = lappend(added, scol->name);
		else if (tcol->typid != scol->typid)
			retyped = lappend(retyped, scol->name);
	}
	foreach(lc, tcols)
	{
		ModelColumn *tcol = lfirst(lc);

		if (!model_find_column(columns, tcol->name))
			missing = lappend(missing, tcol->name);
	}

	if (inc->on_schema_change == SCHEMA_FAIL && (added || missing || retyped))
	{
		StringInfoData detail;

		initStringInfo(&detail);
		append_message_names(&detail, "New in the source", added);
		append_message_names(&detail, "Missing from the source", missing);
		append_message_names(&detail, "Of another type in the source", retyped);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("the columns of the source differ from those of %s",
						inc->target.qualified),
				 errdetail("%s", detail.data),
				 inc->schema_hint ? errhint("%s", inc->schema_hint) :
				 errhint("Pass on_schema_change => 'append_new_columns' or 'sync_all_columns' to change the target, or 'ignore' to load the common columns.")));
	}

	if (inc->on_schema_change == SCHEMA_APPEND_NEW ||
		inc->on_schema_change == SCHEMA_SYNC_ALL)
	{
		foreach(lc, added)
		{
			ModelColumn *scol = model_find_column(columns, lfirst(lc));

			model_exec(psprintf("ALTER TABLE %s ADD COLUMN %s %s", inc->target.qualified,
								quote_identifier(scol->name), scol->typname),
					   SPI_OK_UTILITY);
			ereport(NOTICE,
					(errmsg("added column %s to %s", quote_identifier(scol->name),
							inc->target.qualified)));
		}
		if (added)
		{
			StringInfoData j;

			initStringInfo(&j);
			append_json_names(&j, added);
			merge_load_detail_add(inc, "added_columns", j.data);
		}
	}
	if (inc->on_schema_change == SCHEMA_SYNC_ALL)
	{
		StringInfoData j;

		foreach(lc, missing)
		{
			if (model_list_contains(inc->unique_key, lfirst(lc)))
				continue;		/* checked against the source already */
			model_exec(psprintf("ALTER TABLE %s DROP COLUMN %s", inc->target.qualified,
								quote_identifier(lfirst(lc))),
					   SPI_OK_UTILITY);
			ereport(NOTICE,
					(errmsg("dropped column %s from %s", quote_identifier(lfirst(lc)),
							inc->target.qualified)));
		}
		foreach(lc, retyped)
		{
			ModelColumn *scol = model_find_column(columns, lfirst(lc));
			const char *q = quote_identifier(scol->name);

			model_exec(psprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::%s",
								inc->target.qualified, q, scol->typname, q, scol->typname),
					   SPI_OK_UTILITY);
			ereport(NOTICE,
					(errmsg("changed the type of column %s of %s to %s", q,
							inc->target.qualified, scol->typname)));
		}
		if (missing)
		{
			initStringInfo(&j);
			append_json_names(&j, missing);
			merge_load_detail_add(inc, "dropped_columns", j.data);
		}
		if (retyped)
		{
			initStringInfo(&j);
			append_json_names(&j, retyped);
			merge_load_detail_add(inc, "retyped_columns", j.data);
		}
	}

	/* The columns to write, described with the target's (final) types. */
	if (inc->on_schema_change != SCHEMA_FAIL)
		tcols = model_relation_columns(inc->target.relid);
	foreach(lc, columns)
	{
		ModelColumn *tcol = model_find_column(tcols, ((ModelColumn *) lfirst(lc))->name);

		if (tcol)
			result = lappend(result, tcol);
	}
	foreach(lc, inc->unique_key)
	{
		if (!model_find_column(result, lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("unique key column \"%s\" is not a column of %s",
							(char *) lfirst(lc), inc->target.qualified)));
	}
	return result;
}

/*
 * Append the select list that reads the source columns converted to the
 * target's types (explicit casts only where the types differ).
 */
static void
append_cast_names(StringInfo buf, List *tcols, List *scols, const char *alias)
{
	ListCell   *lc;

	foreach(lc, tcols)
	{
		ModelColumn *tcol = lfirst(lc);
		ModelColumn *scol = model_find_column(scols, tcol->name);
		char	   *ref = model_column_ref(alias, tcol->name);

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, ", ");
		if (scol->typid != tcol->typid)
			appendStringInfo(buf, "CAST(%s AS %s) AS %s", ref, tcol->typname,
							 quote_identifier(tcol->name));
		else
			appendStringInfoString(buf, ref);
	}
}

/*
 * Refuse NULL keys and duplicated keys in the work table before the merge
 * writes anything: either would make the result depend on row order.
 */
static void
check_merge_keys(MergeLoad *inc, const char *work)
{
	StringInfoData sql;
	int64		nulls;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT count(*) FROM %s WHERE ", work);
	model_append_any_null(&sql, inc->unique_key, NULL);
	nulls = model_query_int64(sql.data);
	if (nulls > 0)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("%s of %s is null in %lld source rows",
						inc->key_label, inc->target.qualified, (long long) nulls),
				 errhint("Filter or fill the rows with a NULL key in the source.")));
	model_check_duplicates(work, inc->unique_key, inc->key_label, inc->target.qualified);
}

/*
 * Whether the target has a unique index on exactly the unique key (plain
 * columns, no predicate, not deferred): an ON CONFLICT arbiter for it.
 */
static bool
has_key_index(MergeLoad *inc)
{
	Oid			types[2] = {OIDOID, TEXTARRAYOID};
	Datum		values[2];
	Datum	   *names = palloc(sizeof(Datum) * list_length(inc->unique_key));
	ListCell   *lc;

	foreach(lc, inc->unique_key)
		names[foreach_current_index(lc)] = CStringGetTextDatum(lfirst(lc));
	values[0] = ObjectIdGetDatum(inc->target.relid);
	values[1] = PointerGetDatum(construct_array(names, list_length(inc->unique_key),
												TEXTOID, -1, false, TYPALIGN_INT));
	internal_sql_exec("SELECT FROM pg_catalog.pg_index i "
					  "WHERE i.indrelid = $1 AND i.indisunique AND i.indimmediate "
					  "AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL "
					  "AND i.indnatts = pg_catalog.cardinality($2) "
					  "AND i.indnkeyatts = pg_catalog.cardinality($2) "
					  "AND (SELECT pg_catalog.array_agg(a.attname::pg_catalog.text "
					  "                                 ORDER BY a.attname::pg_catalog.text) "
					  "     FROM pg_catalog.pg_attribute a "
					  "     WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) "
					  "  = (SELECT pg_catalog.array_agg(k ORDER BY k) FROM pg_catalog.unnest($2) AS k) "
					  "LIMIT 1",
					  2, types, values, NULL, true, SPI_OK_SELECT);
	return SPI_processed > 0;
}

/*
 * A merge into a Citus target with a unique index on the key: one
 * INSERT ... ON CONFLICT DO UPDATE of the changed rows, which Citus
 * repartitions by the key so that each shard only sees its own rows (an
 * UPDATE ... FROM and an anti-join would send the whole work table to every
 * shard).  Rows are told apart by xmax: 0 for an inserted row.
 */
static void
merge_upsert(MergeLoad *inc, const char *work, List *names, List *nonkey,
			 ModelCounts *counts)
{
	StringInfoData sql;
	int64		inserted;
	int64		updated;

	build_progress_phase("upsert");
	initStringInfo(&sql);
	appendStringInfo(&sql, "WITH u AS (INSERT INTO %s AS t (", inc->target.qualified);
	model_append_names(&sql, names, NULL);
	appendStringInfoString(&sql, ") SELECT ");
	model_append_names(&sql, names, "s");
	appendStringInfo(&sql, " FROM %s AS s ON CONFLICT (", work);
	model_append_names(&sql, inc->unique_key, NULL);
	if (nonkey)
	{
		appendStringInfoString(&sql, ") DO UPDATE SET ");
		model_append_set(&sql, model_column_names(nonkey), "excluded");
		appendStringInfoString(&sql, " WHERE ");
		model_append_distinct(&sql, nonkey, "t", "excluded");
	}
	else
		appendStringInfoString(&sql, ") DO NOTHING");
	appendStringInfoString(&sql, " RETURNING (t.xmax = 0) AS inserted) "
						   "SELECT pg_catalog.count(*) FILTER (WHERE inserted), "
						   "pg_catalog.count(*) FILTER (WHERE NOT inserted) FROM u");
	model_exec(sql.data, SPI_OK_SELECT);
	inserted = internal_sql_int64(0, 1, 0);
	updated = internal_sql_int64(0, 2, 0);
	counts->inserted += inserted;
	counts->updated += updated;
	build_progress_rows(inserted + updated);
}

/*
 * Load a source (a FROM item, already restricted to the watermark) into
 * the target with the chosen strategy, creating the target on the first
 * call.  columns are the source's columns.
 */
void
merge_load_write(MergeLoad *inc, const char *from_item, List *columns,
				 ModelCounts *counts)
{
	StringInfoData sql;
	List	   *tcols;
	List	   *names;
	List	   *nonkey = NIL;
	char	   *work;
	ListCell   *lc;

	foreach(lc, inc->unique_key)
	{
		if (!model_find_column(columns, lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("unique key column \"%s\" is not a column of the source",
							(char *) lfirst(lc))));
	}
	if (inc->watermark && !model_find_column(columns, inc->watermark))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("watermark column \"%s\" is not a column of the source",
						inc->watermark)));
	foreach(lc, columns)
		model_check_name_length(((ModelColumn *) lfirst(lc))->name, "the source's columns");

	initStringInfo(&sql);
	if (!inc->existed)
	{
		/* First build: one INSERT ... SELECT, then the indexes. */
		names = model_column_names(columns);
		create_target(inc, columns);
		build_progress_phase("insert");
		appendStringInfo(&sql, "INSERT INTO %s (", inc->target.qualified);
		model_append_names(&sql, names, NULL);
		appendStringInfoString(&sql, ") SELECT ");
		model_append_names(&sql, names, "s");
		appendStringInfo(&sql, " FROM %s AS s", from_item);
		counts->inserted += model_exec(sql.data, SPI_OK_INSERT);
		build_progress_phase("index");
		create_indexes(inc);
		merge_load_detail_add(inc, "created", "true");
		return;
	}

	tcols = reconcile_columns(inc, columns);
	names = model_column_names(tcols);
	foreach(lc, tcols)
	{
		ModelColumn *col = lfirst(lc);

		if (!model_list_contains(inc->unique_key, col->name))
			nonkey = lappend(nonkey, col);
	}

	if (inc->strategy == STRATEGY_APPEND)
	{
		build_progress_phase("insert");
		appendStringInfo(&sql, "INSERT INTO %s (", inc->target.qualified);
		model_append_names(&sql, names, NULL);
		appendStringInfoString(&sql, ") SELECT ");
		append_cast_names(&sql, tcols, columns, "s");
		appendStringInfo(&sql, " FROM %s AS s", from_item);
		counts->inserted += model_exec(sql.data, SPI_OK_INSERT);
		return;
	}

	/* Read the source once, with the target's types. */
	build_progress_phase("read");
	work = model_temp_name("merge");
	appendStringInfo(&sql, "CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT ", work);
	append_cast_names(&sql, tcols, columns, "s");
	appendStringInfo(&sql, " FROM %s AS s", from_item);
	model_exec(sql.data, SPI_OK_UTILITY);
	model_exec(psprintf("ANALYZE %s", work), SPI_OK_UTILITY);

	if (inc->strategy == STRATEGY_MERGE)
	{
		check_merge_keys(inc, work);
		if (inc->citus && has_key_index(inc))
		{
			merge_upsert(inc, work, names, nonkey, counts);
			model_drop_temp(work);
			return;
		}
		if (nonkey)
		{
			build_progress_phase("update");
			resetStringInfo(&sql);
			appendStringInfo(&sql, "UPDATE %s AS t SET ", inc->target.qualified);
			model_append_set(&sql, model_column_names(nonkey), "s");
			appendStringInfoString(&sql, " FROM (SELECT ");
			model_append_names(&sql, names, "w");
			appendStringInfo(&sql, " FROM %s AS w) AS s WHERE ", work);
			model_append_key_match(&sql, inc->unique_key, "t", "s", false);
			appendStringInfoString(&sql, " AND ");
			model_append_distinct(&sql, nonkey, "t", "s");
			counts->updated += model_exec(sql.data, SPI_OK_UPDATE);
		}
	}
	else
	{
		build_progress_phase("delete");
		resetStringInfo(&sql);
		appendStringInfo(&sql, "DELETE FROM %s AS t WHERE (", inc->target.qualified);
		model_append_names(&sql, inc->unique_key, "t");
		appendStringInfoString(&sql, ") IN (SELECT ");
		model_append_names(&sql, inc->unique_key, "s");
		appendStringInfo(&sql, " FROM %s AS s)", work);
		counts->deleted += model_exec(sql.data, SPI_OK_DELETE);
	}

	build_progress_phase("insert");
	resetStringInfo(&sql);
	if (inc->strategy == STRATEGY_MERGE && inc->citus)
	{
		/* the work table's keys already in the target, read on the shards */
		appendStringInfoString(&sql, "WITH e AS MATERIALIZED (SELECT ");
		model_append_names(&sql, inc->unique_key, "t");
		appendStringInfo(&sql, " FROM %s AS t WHERE (", inc->target.qualified);
		model_append_names(&sql, inc->unique_key, "t");
		appendStringInfoString(&sql, ") IN (SELECT ");
		model_append_names(&sql, inc->unique_key, "w");
		appendStringInfo(&sql, " FROM %s AS w)) ", work);
	}
	appendStringInfo(&sql, "INSERT INTO %s (", inc->target.qualified);
	model_append_names(&sql, names, NULL);
	appendStringInfoString(&sql, ") SELECT ");
	model_append_names(&sql, names, "s");
	appendStringInfo(&sql, " FROM %s AS s", work);
	if (inc->strategy == STRATEGY_MERGE && inc->citus)
	{
		appendStringInfoString(&sql, " WHERE NOT EXISTS (SELECT FROM e WHERE ");
		model_append_key_match(&sql, inc->unique_key, "e", "s", false);
		appendStringInfoChar(&sql, ')');
	}
	else if (inc->strategy == STRATEGY_MERGE)
	{
		appendStringInfo(&sql, " WHERE NOT EXISTS (SELECT FROM %s AS t WHERE ",
						 inc->target.qualified);
		model_append_key_match(&sql, inc->unique_key, "t", "s", false);
		appendStringInfoChar(&sql, ')');
	}
	counts->inserted += model_exec(sql.data, SPI_OK_INSERT);
	model_drop_temp(work);
}

/*
 * The JSON object recorded as elt.model_run.detail.
 */
char *
merge_load_detail(MergeLoad *inc)
{
	const char *names[] = {"append", "merge", "delete+insert"};
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"strategy\": ");
	escape_json(&buf, names[inc->strategy]);
	if (inc->watermark_filter)
		appendStringInfoString(&buf, ", \"watermark\": true");
	if (inc->detail.len)
		appendStringInfo(&buf, ", %s", inc->detail.data);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * elt.merge(target, source, unique_key, strategy, watermark, on_schema_change)
 *
 * Generic incremental model: load a relation or SELECT into a table by
 * unique key, creating it on the first call.  Returns inserted, updated and
 * deleted counts.
 */
Datum
elt_merge(PG_FUNCTION_ARGS)
{
	TimestampTz started = GetCurrentTimestamp();
	MergeLoad inc = {0};
	ModelSource source;
	ModelCounts counts = {0, 0, 0, -1, -1};
	char	   *target_arg = model_text_arg(fcinfo, 0, "target");
	char	   *source_arg = model_text_arg(fcinfo, 1, "source");
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	inc.unique_key = PG_ARGISNULL(2) ? NIL :
		model_name_array(PG_GETARG_ARRAYTYPE_P(2), "unique_key");
	inc.strategy = merge_parse_strategy(model_text_arg(fcinfo, 3, "strategy"));
	if (!PG_ARGISNULL(4))
		inc.watermark = text_to_cstring(PG_GETARG_TEXT_PP(4));
	inc.on_schema_change = merge_parse_schema_change(model_text_arg(fcinfo, 5, "on_schema_change"));
	if (inc.strategy != STRATEGY_APPEND && inc.unique_key == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("strategy \"%s\" needs a unique_key",
						inc.strategy == STRATEGY_MERGE ? "merge" : "delete+insert")));
	inc.not_null = inc.strategy == STRATEGY_MERGE ? inc.unique_key : NIL;
	inc.key_label = "unique key";

	SPI_connect();
	model_open_source(&source, source_arg);
	merge_load_begin(&inc, target_arg);
	build_progress_start("merge", inc.target.qualified);
	merge_load_write(&inc, merge_load_past_watermark(&inc, source.from_item),
					 source.columns, &counts);
	model_record_run("merge", &inc.target, source_arg, &counts, started,
					 merge_load_detail(&inc));
	SPI_finish();

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(counts.inserted);
	values[1] = Int64GetDatum(counts.updated);
	values[2] = Int64GetDatum(counts.deleted);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

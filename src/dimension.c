/*
 * dimension.c
 *	  elt.merge_dimension: Kimball dimensions with slowly changing types 0, 1
 *	  and 2 (and type-1 columns inside a type-2 dimension), and
 *	  elt.create_date_dimension.
 *
 * A merge is a handful of set-based statements, whatever the size of the
 * source:
 *
 *	1. one pass reads the source exactly once, joined to the dimension's
 *	   current rows by natural key (a FULL JOIN when deletes are handled, so
 *	   that the current rows missing from the source come out of the same
 *	   hash join).  The query only pairs the rows; its receiver, in C,
 *	   classifies each pair (RowClass: new, changed, overwritten in place,
 *	   inferred member to complete, dated before its version, deleted,
 *	   unchanged) by comparing the compared columns null-safely (NULL equals
 *	   NULL; otherwise identical bytes, else the type's equality function,
 *	   else the text forms), versioned columns first so that the first
 *	   difference decides.  It counts the classes, checks that no current
 *	   row was matched twice (a duplicated natural key, with a bitmap of
 *	   surrogate keys) and stores only the rows that lead to a write in a
 *	   temporary work table: the unchanged rows, most of a full source, are
 *	   never stored;
 *	2. the work table is checked (duplicate new keys, missing or
 *	   out-of-order effective times) before the dimension is written at all;
 *	3. changed and deleted current rows are closed in one UPDATE that finds
 *	   each row by the tid the pass saw, deletes flagged, type-1 columns
 *	   overwritten in every version, inferred members completed, and new
 *	   members and new versions inserted in one INSERT ... SELECT.
 *
 * The join uses plain equality on the natural key, so it is a hash join on a
 * full rebuild and an index probe into the current-row index when the
 * caller passes only the changed rows; keys with NULL parts (rare) are
 * matched null-safely in a second step that only runs when there are any.
 * Nothing here uses MERGE or volatile functions in DML.  On Citus, where a
 * dimension is a reference table, rows are found by surrogate key instead
 * of tid, the work table is always wrapped in a subquery and the
 * transaction's time is a constant (check_table_kind).
 *
 * The classifying pass (step 1) lives in dimension_classify.c; this file
 * has the arguments, the checks, and the writes.
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "utils/regproc.h"
#include "utils/rel.h"

#include "citus.h"
#include "dimension.h"
#include "dimension_merge.h"
#include "pg_elt.h"
#include "internal_sql.h"
#include "build_progress.h"
#include "model.h"

PG_FUNCTION_INFO_V1(elt_merge_dimension);

/*
 * Free space left in each page of a dimension created here, so that
 * closing a version or overwriting type-1 columns is a HOT update (same
 * page, no new index entries).
 */
#define DIMENSION_FILLFACTOR	90

/*
 * The surrogate key column's default name: the table name without a dim_
 * prefix, plus _key (dw.dim_customer -> customer_key).
 */
static char *
default_surrogate_key(const char *relname)
{
	const char *base = relname;

	if (strncmp(relname, "dim_", 4) == 0 && relname[4] != '\0')
		base = relname + 4;
	return psprintf("%s_key", base);
}

/*
 * Parse the deletes argument.
 */
static int
parse_deletes(const char *s)
{
	if (strcmp(s, "ignore") == 0)
		return DELETES_IGNORE;
	if (strcmp(s, "close") == 0)
		return DELETES_CLOSE;
	if (strcmp(s, "flag") == 0)
		return DELETES_FLAG;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for deletes: \"%s\"", s),
			 errhint("Valid values are \"ignore\", \"close\" and \"flag\".")));
	return 0;					/* keep compiler quiet */
}

/*
 * Whether a name is one the dimension manages itself, so that a source
 * column cannot carry it.
 */
static bool
is_managed_name(DimMerge *m, const char *name)
{
	if (strcmp(name, m->sk) == 0 ||
		strcmp(name, MODEL_IS_INFERRED) == 0 ||
		strcmp(name, MODEL_IS_DELETED) == 0)
		return true;
	if (m->scd_type == 2 &&
		(strcmp(name, MODEL_VALID_FROM) == 0 ||
		 strcmp(name, MODEL_VALID_TO) == 0 ||
		 strcmp(name, MODEL_IS_CURRENT) == 0))
		return true;
	return false;
}

/*
 * Check the column arguments against the source and sort the source's
 * columns into natural key, versioned (type 2), type-1 and ignored ones.
 */
static void
classify_columns(DimMerge *m)
{
	ListCell   *lc;

	foreach(lc, m->key)
	{
		if (!model_find_column(m->source.columns, lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("natural key column \"%s\" is not a column of the source",
							(char *) lfirst(lc))));
	}
	foreach(lc, m->type1)
	{
		if (!model_find_column(m->source.columns, lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("type-1 column \"%s\" is not a column of the source",
							(char *) lfirst(lc))));
		if (model_list_contains(m->key, lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" cannot be both in the natural key and a type-1 column",
							(char *) lfirst(lc))));
	}
	foreach(lc, m->ignore)
	{
		if (!model_find_column(m->source.columns, lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("ignored column \"%s\" is not a column of the source",
							(char *) lfirst(lc))));
		if (model_list_contains(m->key, lfirst(lc)) ||
			model_list_contains(m->type1, lfirst(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ignored column \"%s\" is also in the natural key or the type-1 columns",
							(char *) lfirst(lc))));
	}

	foreach(lc, m->source.columns)
	{
		ModelColumn *col = lfirst(lc);

		if (is_managed_name(m, col->name))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("source column \"%s\" has the name of a column the dimension manages",
							col->name),
					 errhint("Rename the column in a SELECT source, or choose another surrogate_key.")));
		if (strncmp(col->name, WORK_PREFIX, strlen(WORK_PREFIX)) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_RESERVED_NAME),
					 errmsg("source column name \"%s\" is reserved", col->name),
					 errdetail("Names starting with \"%s\" are used by pg_elt's work tables.",
							   WORK_PREFIX)));
		m->names = lappend(m->names, col->name);
		if (model_list_contains(m->key, col->name))
			continue;
		m->attrs = lappend(m->attrs, col->name);
		if (model_list_contains(m->type1, col->name))
			m->attr1 = lappend(m->attr1, col);
		else if (!model_list_contains(m->ignore, col->name) &&
				 !(m->deleted_flag && strcmp(col->name, m->deleted_flag) == 0))
			m->attr2 = lappend(m->attr2, col);
	}
}

/*
 * Check that a column the dimension manages exists with the right type.
 */
static bool
check_managed_column(DimMerge *m, const char *name, Oid typid, bool required,
					 const char *why)
{
	ModelColumn *col = model_find_column(m->tcolumns, name);

	if (col == NULL)
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("dimension \"%s\" has no column \"%s\"", m->target.display, name),
					 errdetail("%s", why)));
		return false;
	}
	if (col->typid != typid)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of dimension \"%s\" has type %s, expected %s",
						name, m->target.display, col->typname, format_type_be(typid))));
	return true;
}

/*
 * Check an existing dimension's shape against the source and the call:
 * managed columns present with their types, the same type 2-ness, and every
 * column on one side present on the other with the same type, so that a
 * schema drift is an error instead of a silently dropped column.
 */
static void
check_target_shape(DimMerge *m)
{
	ModelColumn *skcol;
	bool		versioned;
	ListCell   *lc;

	m->tcolumns = model_relation_columns(m->target.relid);

	skcol = model_find_column(m->tcolumns, m->sk);
	if (skcol == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("dimension \"%s\" has no surrogate key column \"%s\"",
						m->target.display, m->sk),
				 errhint("Pass the name of its surrogate key as surrogate_key.")));
	if (skcol->typid != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("surrogate key column \"%s\" of dimension \"%s\" must be bigint",
						m->sk, m->target.display)));
	if (!skcol->has_default)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("surrogate key column \"%s\" of dimension \"%s\" has no default",
						m->sk, m->target.display),
				 errhint("Make it an identity column: ALTER TABLE ... ALTER COLUMN ... ADD GENERATED BY DEFAULT AS IDENTITY.")));

	versioned = model_find_column(m->tcolumns, MODEL_VALID_FROM) &&
		model_find_column(m->tcolumns, MODEL_VALID_TO) &&
		model_find_column(m->tcolumns, MODEL_IS_CURRENT);
	if (m->scd_type == 2)
	{
		const char *why = "A type 2 dimension has the columns valid_from, valid_to and is_current.";

		check_managed_column(m, MODEL_VALID_FROM, TIMESTAMPTZOID, true, why);
		check_managed_column(m, MODEL_VALID_TO, TIMESTAMPTZOID, true, why);
		check_managed_column(m, MODEL_IS_CURRENT, BOOLOID, true, why);
	}
	else if (versioned)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimension \"%s\" keeps history but scd_type is %d",
						m->target.display, m->scd_type),
				 errhint("Pass scd_type => 2, with type1_columns for the columns to overwrite.")));
	m->has_inferred = check_managed_column(m, MODEL_IS_INFERRED, BOOLOID, false, NULL);
	m->has_deleted = check_managed_column(m, MODEL_IS_DELETED, BOOLOID,
										  m->deletes == DELETES_FLAG,
										  "Flagging deletes needs a boolean column is_deleted.");

	foreach(lc, m->source.columns)
	{
		ModelColumn *scol = lfirst(lc);
		ModelColumn *tcol = model_find_column(m->tcolumns, scol->name);

		if (tcol == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of the source is missing from dimension \"%s\"",
							scol->name, m->target.display),
					 errhint("Add the column to the dimension with ALTER TABLE, or leave it out of the source.")));
		if (tcol->typid != scol->typid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" has type %s in the source but %s in dimension \"%s\"",
							scol->name, format_type_be(scol->typid),
							format_type_be(tcol->typid), m->target.display),
					 errhint("Cast the column in a SELECT source.")));
	}
	foreach(lc, m->tcolumns)
	{
		ModelColumn *tcol = lfirst(lc);

		if (is_managed_name(m, tcol->name) ||
			model_find_column(m->source.columns, tcol->name))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of dimension \"%s\" is missing from the source",
						tcol->name, m->target.display),
				 errhint("Select the column in the source (NULL when it has no value), or drop it from the dimension.")));
	}
}


/*
 * Refuse a type 2 merge in which a new member or a new version has no
 * effective time (effective_at evaluated to NULL), naming one such key.
 * Dating it at the merge's time instead would silently put the load time
 * into history where the source meant to give the change time; a caller
 * who wants that says so with an expression such as
 * coalesce(updated_at, now()).  Unchanged rows need no time and are let
 * through.
 */
static void
check_undated(DimMerge *m, int64 undated)
{
	StringInfoData sql;
	StringInfoData keynames;
	StringInfoData values;
	ListCell   *lc;

	if (m->scd_type != 2 || undated == 0)
		return;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	model_append_names(&sql, m->key, NULL);
	appendStringInfo(&sql, " FROM %s WHERE " WORK_CLASS " IN (" CLASS_SQL_NEW ", " CLASS_SQL_CHANGED
					 ") AND " WORK_EFF
					 " IS NULL LIMIT 1", m->work);
	model_exec(sql.data, SPI_OK_SELECT);
	initStringInfo(&keynames);
	initStringInfo(&values);
	foreach(lc, m->key)
	{
		int			i = foreach_current_index(lc);
		char	   *v = SPI_processed > 0 ?
			SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1) : NULL;

		if (i > 0)
		{
			appendStringInfoString(&keynames, ", ");
			appendStringInfoString(&values, ", ");
		}
		appendStringInfoString(&keynames, quote_identifier(lfirst(lc)));
		appendStringInfoString(&values, v ? v : "null");
	}
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("effective_at is null for a new or changed member of \"%s\"",
					m->target.display),
			 errdetail_plural("Key (%s)=(%s) has no effective time; %lld new or changed row has none.",
							  "Key (%s)=(%s) has no effective time; %lld new or changed rows have none.",
							  (unsigned long) undated,
							  keynames.data, values.data, (long long) undated),
			 errhint("Give every row an effective time, or pass an expression such as coalesce(updated_at, now()) as effective_at.")));
}

/*
 * Check the watermark and deleted_flag arguments against the source: the
 * watermark an ordered column, the flag a boolean one.
 */
static void
check_incremental_columns(DimMerge *m)
{
	if (m->watermark)
	{
		ModelColumn *col = model_find_column(m->source.columns, m->watermark);

		if (col == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("watermark column \"%s\" is not a column of the source", m->watermark),
					 errhint("Name a column that grows with each load, such as updated_at or _elt_batch_id.")));
		if (!OidIsValid(lookup_type_cache(col->typid, TYPECACHE_GT_OPR)->gt_opr))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("watermark column \"%s\" has type %s, which has no ordering",
							m->watermark, col->typname)));
		if (model_list_contains(m->key, m->watermark))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the watermark cannot be a natural key column")));
	}
	if (m->deleted_flag)
	{
		ModelColumn *col = model_find_column(m->source.columns, m->deleted_flag);

		if (col == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("deleted_flag column \"%s\" is not a column of the source",
							m->deleted_flag)));
		if (col->typid != BOOLOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("deleted_flag column \"%s\" must be boolean, not %s",
							m->deleted_flag, col->typname)));
		if (model_list_contains(m->key, m->deleted_flag) ||
			model_list_contains(m->type1, m->deleted_flag))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("deleted_flag column \"%s\" cannot be in the natural key or the type-1 columns",
							m->deleted_flag)));
	}
}

/*
 * Read only the source rows newer than the dimension's highest watermark
 * value (all of them while it has none), so that a merge costs what the
 * new rows cost.  The highest value is found through an index on the
 * watermark column, created here the first time when the caller may (on
 * a dimension created by merge_dimension, create_indexes makes it).
 */
static void
apply_watermark(DimMerge *m)
{
	ModelColumn *col = model_find_column(m->source.columns, m->watermark);
	AttrNumber	attnum = get_attnum(m->target.relid, m->watermark);
	const char *qwm = quote_identifier(m->watermark);
	char	   *last;

	if (model_query_int64(psprintf("SELECT count(*) FROM pg_catalog.pg_index WHERE indrelid = %u"
								   " AND indkey[0] = %d AND indpred IS NULL",
								   m->target.relid, (int) attnum)) == 0 &&
		pg_class_ownercheck(m->target.relid, GetUserId()))
		model_exec(psprintf("CREATE INDEX ON %s (%s)", m->target.qualified, qwm), SPI_OK_UTILITY);
	last = model_query_text(psprintf("SELECT max(%s)::pg_catalog.text FROM %s WHERE %s <> "
									 MODEL_UNKNOWN_KEY,
									 qwm, m->target.qualified, m->qsk));
	if (last == NULL)
		return;
	m->source.from_item = psprintf("(SELECT * FROM %s AS wsrc WHERE wsrc.%s > %s::%s)",
								   m->source.from_item, qwm, quote_literal_cstr(last),
								   col->typname);
}

/*
 * The transaction's start time (now()) as a timestamptz literal in UTC, for
 * the statements that would otherwise call now() inside a CASE or
 * GREATEST: Citus refuses non-immutable functions there, and a constant
 * runs the same on plain PostgreSQL.
 */
static char *
transaction_time_literal(void)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	struct pg_tm tm;
	fsec_t		fsec;
	char		buf[MAXDATELEN + 1];

	if (timestamp2tm(now, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	EncodeDateTime(&tm, fsec, true, 0, NULL, USE_ISO_DATES, buf);
	return psprintf("%s::pg_catalog.timestamptz", quote_literal_cstr(buf));
}

/*
 * What kind of table an existing dimension is.  On Citus, a reference
 * table (or a Citus local table) is merged with statements Citus routes:
 * rows found by surrogate key instead of tid, the work table always
 * wrapped in a subquery.  A distributed dimension is refused: its members
 * would be spread over the shards by one column, while a type 2 merge
 * classifies each natural key against its current version, the surrogate
 * key must be unique over all of them, the unknown member (-1) must be
 * found by every fact row whatever its shard, and merge_fact looks members
 * up by natural key from facts distributed by another column.  A
 * reference table keeps all of that true on every node.
 */
static void
check_table_kind(DimMerge *m)
{
	EltTableKind kind = elt_table_kind(m->target.relid);

	if (kind == ELT_TABLE_DISTRIBUTED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("dimension \"%s\" is a distributed table", m->target.display),
				 errdetail("merge_dimension builds dimensions as reference tables on Citus: every node needs every member, the unknown member and unique surrogate keys."),
				 errhint("Make it a reference table: SELECT undistribute_table(%s); SELECT create_reference_table(%s);",
						 quote_literal_cstr(m->target.qualified),
						 quote_literal_cstr(m->target.qualified))));
	m->citus = kind != ELT_TABLE_LOCAL;
}

/*
 * Refuse deletes that would end (or flag) more than max_delete_share of
 * the dimension's current members: a source that is empty or cut short by
 * mistake would otherwise close every member it lacks.  current is the
 * number of current members the classifying pass saw (the unknown member
 * excluded); with deletes => 'flag' the members flagged already are not
 * counted again.  Runs before anything is written.
 */
static void
check_delete_share(DimMerge *m, int64 deleted, int64 current)
{
	const char *mode = m->deletes == DELETES_CLOSE ? "close" : "flag";

	if (deleted == 0 || current == 0 || (double) deleted <= m->max_delete_share * (double) current)
		return;
	if (m->deletes == DELETES_FLAG && m->has_deleted)
	{
		/* only the members not flagged yet are changed by this merge */
		model_exec(psprintf("SELECT count(*) FROM %s AS t WHERE t.%s IN (SELECT s." WORK_SK
							" FROM %s AS s WHERE s." WORK_CLASS " = " CLASS_SQL_DELETED
							") AND NOT t." MODEL_IS_DELETED,
							m->target.qualified, m->qsk, m->work), SPI_OK_SELECT);
		{
			bool		isnull;

			deleted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
		}
		if (deleted == 0 || (double) deleted <= m->max_delete_share * (double) current)
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_ELT_MODEL_GUARD),
			 errmsg("merge into \"%s\" would %s %lld of its %lld current members",
					m->target.display, mode, (long long) deleted, (long long) current),
			 errdetail("With deletes => '%s', every current member missing from the source is %s; "
					   "more than max_delete_share (%g) of them are missing.",
					   mode, m->deletes == DELETES_CLOSE ? "closed" : "flagged",
					   m->max_delete_share),
			 errhint("Check that the source is complete. To %s that many members, pass a larger max_delete_share (1 allows all).",
					 mode)));
}

/*
 * Create the dimension on the first call: surrogate key identity, the
 * source's columns, the type 2 columns, the inferred and deleted flags.
 * Indexes come after the first load (create_indexes).
 */
static void
create_target(DimMerge *m)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (%s bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
					 m->target.qualified, m->qsk);
	foreach(lc, m->source.columns)
	{
		ModelColumn *col = lfirst(lc);

		appendStringInfo(&sql, ", %s %s", quote_identifier(col->name), col->typname);
	}
	if (m->scd_type == 2)
		appendStringInfoString(&sql, ", " MODEL_VALID_FROM " timestamptz NOT NULL, "
							   MODEL_VALID_TO " timestamptz NOT NULL, "
							   MODEL_IS_CURRENT " boolean NOT NULL");
	appendStringInfo(&sql, ", " MODEL_IS_INFERRED " boolean NOT NULL DEFAULT false, "
					 MODEL_IS_DELETED " boolean NOT NULL DEFAULT false) WITH (fillfactor = %d)",
					 DIMENSION_FILLFACTOR);
	model_exec(sql.data, SPI_OK_UTILITY);
	model_refresh_relation(&m->target);
	m->tcolumns = model_relation_columns(m->target.relid);
	m->has_deleted = true;
	m->has_inferred = true;
}

/*
 * The indexes that keep later merges proportional to the rows they touch.
 *
 * Types 0 and 1: the natural key, unique (NULL parts included), which is
 * the row by natural key.
 *
 * Type 2: every version by natural key and start, which finds the current
 * row of a key (its versions are few), the version valid at a time for
 * as-of lookups, and the versions that type-1 columns overwrite.  There is
 * deliberately no index that involves valid_to or is_current: closing a
 * version changes only those two columns, so with the free space that
 * DIMENSION_FILLFACTOR leaves in each page the close is a HOT update that
 * writes no index entry.  A partial unique index on the current rows would
 * make every close a full update (a new entry in every index) and every new
 * version a uniqueness check that visits the closed row; on a merge that
 * closes a tenth of a dimension that doubles the cost of writing.  One
 * current row per key is kept by the merges themselves: they are
 * serialized per dimension (model_lock_name, model_lock_table), and each
 * classifies against the current rows it then closes.
 */
static void
create_indexes(DimMerge *m)
{
	StringInfoData sql;

	initStringInfo(&sql);
	if (m->scd_type == 2)
	{
		appendStringInfo(&sql, "CREATE INDEX ON %s (", m->target.qualified);
		model_append_names(&sql, m->key, NULL);
		appendStringInfoString(&sql, ", " MODEL_VALID_FROM ")");
	}
	else
	{
		appendStringInfo(&sql, "CREATE UNIQUE INDEX ON %s (", m->target.qualified);
		model_append_names(&sql, m->key, NULL);
		appendStringInfo(&sql, ") NULLS NOT DISTINCT WHERE %s <> " MODEL_UNKNOWN_KEY, m->qsk);
	}
	model_exec(sql.data, SPI_OK_UTILITY);
	/* the next merge's watermark is the highest value: an index finds it */
	if (m->watermark)
		model_exec(psprintf("CREATE INDEX ON %s (%s)", m->target.qualified,
							quote_identifier(m->watermark)), SPI_OK_UTILITY);
}

/*
 * Make sure the unknown member (surrogate key -1) exists: text attributes
 * 'Unknown', everything else NULL, valid for all time.
 */
static void
ensure_unknown_member(DimMerge *m)
{
	StringInfoData sql;
	StringInfoData vals;
	ModelColumn *skcol = model_find_column(m->tcolumns, m->sk);
	ListCell   *lc;

	initStringInfo(&sql);
	initStringInfo(&vals);
	appendStringInfo(&sql, "INSERT INTO %s (%s", m->target.qualified, m->qsk);
	appendStringInfoString(&vals, MODEL_UNKNOWN_KEY);
	foreach(lc, m->tcolumns)
	{
		ModelColumn *col = lfirst(lc);

		if (!col->stringy || is_managed_name(m, col->name) ||
			model_list_contains(m->key, col->name))
			continue;
		appendStringInfo(&sql, ", %s", quote_identifier(col->name));
		appendStringInfoString(&vals, ", 'Unknown'");
	}
	if (m->scd_type == 2)
	{
		appendStringInfoString(&sql, ", " MODEL_VALID_FROM ", " MODEL_VALID_TO ", " MODEL_IS_CURRENT);
		appendStringInfoString(&vals, ", '-infinity', 'infinity', true");
	}
	appendStringInfo(&sql, ")%s SELECT %s WHERE NOT EXISTS (SELECT FROM %s WHERE %s = "
					 MODEL_UNKNOWN_KEY ")",
					 skcol && skcol->identity == 'a' ? " OVERRIDING SYSTEM VALUE" : "",
					 vals.data, m->target.qualified, m->qsk);
	model_exec(sql.data, SPI_OK_INSERT);
}

/*
 * Flag the current rows whose natural key is no longer in the source
 * (CLASS_DELETED in the work table; inferred members were left out already).
 */
static uint64
flag_deletes(DimMerge *m)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s AS t SET " MODEL_IS_DELETED " = true FROM (SELECT "
					 WORK_SK " FROM %s WHERE " WORK_CLASS " = " CLASS_SQL_DELETED ") AS s"
					 " WHERE t.%s = s." WORK_SK " AND NOT t." MODEL_IS_DELETED,
					 m->target.qualified, m->work, m->qsk);
	return model_exec(sql.data, SPI_OK_UPDATE);
}

/*
 * End the current versions that changed (at the change's effective time)
 * and, with deletes => 'close', those whose natural key is no longer in the
 * source (now, but never before the version started), in one UPDATE that
 * finds each row by the tid the classifying pass saw.  It runs before any
 * other write of the merge, while those tids are still the rows' current
 * ones (the dimension is locked against other writers).
 */
static uint64
close_versions(DimMerge *m, bool changed, bool deleted, int64 nrows)
{
	StringInfoData sql;

	const char *which = changed && deleted ? "IN (" CLASS_SQL_CHANGED ", " CLASS_SQL_DELETED ")" :
		deleted ? "= " CLASS_SQL_DELETED : "= " CLASS_SQL_CHANGED;

	/*
	 * A member missing from the source is closed now; one the source flags
	 * deleted (deleted_flag) at the flagged row's effective time.
	 */
	const char *gone = m->deleted_flag ?
		psprintf("GREATEST(COALESCE(s." WORK_EFF ", %s), t." MODEL_VALID_FROM ")", m->now) :
		psprintf("GREATEST(%s, t." MODEL_VALID_FROM ")", m->now);

	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s AS t SET " MODEL_VALID_TO " = ", m->target.qualified);
	if (changed && deleted)
		appendStringInfo(&sql, "CASE WHEN s." WORK_CLASS " = " CLASS_SQL_DELETED
						 " THEN %s ELSE s." WORK_EFF " END", gone);
	else if (deleted)
		appendStringInfoString(&sql, gone);
	else
		appendStringInfoString(&sql, "s." WORK_EFF);
	if (m->citus)
	{
		/* Citus: by surrogate key, the work table wrapped in a subquery */
		appendStringInfo(&sql, ", " MODEL_IS_CURRENT " = false FROM (SELECT " WORK_SK ", "
						 WORK_CLASS ", " WORK_EFF " FROM %s WHERE " WORK_CLASS " %s) AS s"
						 " WHERE t.%s = s." WORK_SK,
						 m->work, which, m->qsk);
		return model_exec(sql.data, SPI_OK_UPDATE);
	}
	appendStringInfo(&sql, ", " MODEL_IS_CURRENT " = false FROM %s AS s WHERE s." WORK_CLASS " %s"
					 " AND t.ctid = s." WORK_TID,
					 m->work, which);

	/*
	 * When the rows to close are a small part of the dimension, fetch each
	 * by tid instead of scanning the dimension.
	 */
	if (nrows * 4 < m->sk_range)
		return model_exec_by_index(sql.data, SPI_OK_UPDATE);
	return model_exec(sql.data, SPI_OK_UPDATE);
}

/*
 * Type 2 with type-1 columns: overwrite those columns in every version of
 * the members whose type-1 values changed (Kimball's type 6 hybrid).
 */
static uint64
overwrite_history(DimMerge *m, bool null_keys)
{
	StringInfoData sql;
	List	   *names = model_column_names(m->attr1);

	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s AS t SET ", m->target.qualified);
	model_append_set(&sql, names, "s");
	appendStringInfoString(&sql, " FROM (SELECT ");
	model_append_names(&sql, list_concat(list_copy(m->key), names), NULL);
	appendStringInfo(&sql, " FROM %s WHERE " WORK_CLASS " IN (" CLASS_SQL_CHANGED ", "
					 CLASS_SQL_OVERWRITE ")) AS s WHERE ", m->work);
	if (null_keys)
	{
		model_append_any_null(&sql, m->key, "s");
		appendStringInfoString(&sql, " AND ");
	}
	model_append_key_match(&sql, m->key, "t", "s", null_keys);
	appendStringInfo(&sql, " AND t.%s <> " MODEL_UNKNOWN_KEY " AND ", m->qsk);
	model_append_distinct(&sql, m->attr1, "t", "s");
	return model_exec(sql.data, SPI_OK_UPDATE);
}

/*
 * Overwrite rows in place by surrogate key: rows of class cls get the
 * listed columns from the source, plus the given extra assignments.
 */
static uint64
overwrite_rows(DimMerge *m, RowClass cls, List *names, const char *extra)
{
	StringInfoData sql;

	if (names == NIL && extra == NULL)
		return 0;
	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s AS t SET ", m->target.qualified);
	model_append_set(&sql, names, "s");
	if (extra)
		appendStringInfo(&sql, "%s%s", names ? ", " : "", extra);
	appendStringInfoString(&sql, " FROM (SELECT ");
	model_append_names(&sql, names, NULL);
	appendStringInfo(&sql, "%s" WORK_SK " FROM %s WHERE " WORK_CLASS " = '%c') AS s WHERE t.%s = s." WORK_SK,
					 names ? ", " : "", m->work, (char) cls, m->qsk);
	return model_exec(sql.data, SPI_OK_UPDATE);
}

/*
 * Write the classified work table into the dimension.
 */
static void
apply_changes(DimMerge *m, int64 nullkeys, int64 *classes, ModelCounts *counts)
{
	StringInfoData sql;
	const char *undelete = m->has_deleted ? MODEL_IS_DELETED " = false" : NULL;

	/* Close the current versions that changed or left the source. */
	if (m->exists && m->scd_type == 2 &&
		classes[CLASS_CHANGED] + (m->deletes == DELETES_CLOSE ? classes[CLASS_DELETED] : 0) > 0)
	{
		bool		deleted = m->deletes == DELETES_CLOSE && classes[CLASS_DELETED] > 0;

		build_progress_phase("close");
		counts->closed += close_versions(m, classes[CLASS_CHANGED] > 0, deleted,
										 classes[CLASS_CHANGED] + (deleted ? classes[CLASS_DELETED] : 0));
	}

	if (m->exists && m->deletes == DELETES_FLAG && classes[CLASS_DELETED] > 0)
	{
		build_progress_phase("flag");
		counts->closed += flag_deletes(m);
	}

	if (m->exists)
	{
		/* Type-1 overwrites, inferred members completed in place. */
		build_progress_phase("update");
		if (m->scd_type == 2 && m->attr1 && classes[CLASS_CHANGED] + classes[CLASS_OVERWRITE] > 0)
		{
			counts->updated += overwrite_history(m, false);
			if (nullkeys > 0)
				counts->updated += overwrite_history(m, true);
		}
		else if (m->scd_type == 1 && classes[CLASS_OVERWRITE] > 0)
			counts->updated += overwrite_rows(m, CLASS_OVERWRITE, m->attrs, undelete);
		else if (m->scd_type == 0 && classes[CLASS_OVERWRITE] > 0)
			counts->updated += overwrite_rows(m, CLASS_OVERWRITE, model_column_names(m->attr1), undelete);
		if (m->has_inferred && classes[CLASS_INFERRED] > 0)
		{
			char	   *extra = m->has_deleted ?
				MODEL_IS_INFERRED " = false, " MODEL_IS_DELETED " = false" :
				MODEL_IS_INFERRED " = false";

			counts->updated += overwrite_rows(m, CLASS_INFERRED, m->attrs, extra);
		}
	}

	/* New members and new versions, in one INSERT. */
	if (classes[CLASS_NEW] + classes[CLASS_CHANGED] == 0)
		return;
	build_progress_phase("insert");
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (", m->target.qualified);
	model_append_names(&sql, m->names, NULL);
	if (m->scd_type == 2)
		appendStringInfoString(&sql, ", " MODEL_VALID_FROM ", " MODEL_VALID_TO ", " MODEL_IS_CURRENT);
	appendStringInfoString(&sql, ") SELECT ");
	model_append_names(&sql, m->names, "s");
	if (m->scd_type == 2 && m->exists)
	{
		/*
		 * A member that comes back after its deletion was closed starts no
		 * earlier than that close, so that its versions never overlap.
		 */
		appendStringInfo(&sql, ", CASE WHEN s." WORK_CLASS " = " CLASS_SQL_NEW " THEN GREATEST(s." WORK_EFF
						 ", (SELECT max(x." MODEL_VALID_TO ") FROM %s AS x WHERE ",
						 m->target.qualified);
		model_append_key_match(&sql, m->key, "x", "s", false);
		appendStringInfo(&sql, " AND x.%s <> " MODEL_UNKNOWN_KEY ")) ELSE s." WORK_EFF
						 " END, 'infinity', true", m->qsk);
	}
	else if (m->scd_type == 2)
		appendStringInfoString(&sql, ", s." WORK_EFF ", 'infinity', true");
	appendStringInfo(&sql, " FROM %s AS s WHERE s." WORK_CLASS " IN (" CLASS_SQL_NEW ", "
					 CLASS_SQL_CHANGED ")", m->work);
	counts->inserted += model_exec(sql.data, SPI_OK_INSERT);
}

/*
 * elt.merge_dimension(target, source, natural_key, scd_type, type1_columns,
 *		ignore_columns, effective_at, deletes, surrogate_key)
 *
 * Merge a source (relation or SELECT) into a dimension, creating it on the
 * first call, and return inserted, updated, closed and unchanged counts.
 */
Datum
elt_merge_dimension(PG_FUNCTION_ARGS)
{
	TimestampTz started = GetCurrentTimestamp();
	DimMerge	m = {0};
	ModelCounts counts = {0, 0, -1, 0, 0};
	int64		classes[256];
	int64		nullkeys;
	int64		undated;
	int64		current = 0;
	int			nestlevel;
	char	   *target_arg;
	char	   *source_arg;
	char	   *effective_arg = NULL;
	bool		created;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	target_arg = model_text_arg(fcinfo, 0, "target");
	source_arg = model_text_arg(fcinfo, 1, "source");
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"natural_key\" must not be null")));
	m.key = model_name_array(PG_GETARG_ARRAYTYPE_P(2), "natural_key");
	if (m.key == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"natural_key\" must name at least one column")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"scd_type\" must not be null")));
	m.scd_type = PG_GETARG_INT32(3);
	if (m.scd_type < 0 || m.scd_type > 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scd_type must be 0, 1 or 2, not %d", m.scd_type)));
	m.type1 = PG_ARGISNULL(4) ? NIL : model_name_array(PG_GETARG_ARRAYTYPE_P(4), "type1_columns");
	m.ignore = PG_ARGISNULL(5) ? NIL : model_name_array(PG_GETARG_ARRAYTYPE_P(5), "ignore_columns");
	if (!PG_ARGISNULL(6))
		effective_arg = text_to_cstring(PG_GETARG_TEXT_PP(6));
	m.deletes = parse_deletes(model_text_arg(fcinfo, 7, "deletes"));
	if (m.deletes == DELETES_CLOSE && m.scd_type != 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("deletes => 'close' needs a type 2 dimension"),
				 errhint("Use deletes => 'flag' to mark deleted members of a type %d dimension.",
						 m.scd_type)));

	if (PG_NARGS() > 9)
	{
		if (PG_ARGISNULL(9))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"max_delete_share\" must not be null")));
		m.max_delete_share = PG_GETARG_FLOAT8(9);
		if (isnan(m.max_delete_share) || m.max_delete_share < 0 || m.max_delete_share > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_delete_share must be between 0 and 1, not %g", m.max_delete_share),
					 errhint("It is the share of current members that deletes may close or flag; 1 allows all.")));
	}
	else
		m.max_delete_share = 0.5;
	if (PG_NARGS() > 10 && !PG_ARGISNULL(10))
		m.watermark = text_to_cstring(PG_GETARG_TEXT_PP(10));
	if (PG_NARGS() > 11 && !PG_ARGISNULL(11))
		m.deleted_flag = text_to_cstring(PG_GETARG_TEXT_PP(11));
	if (m.deleted_flag && m.deletes == DELETES_IGNORE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("deleted_flag needs deletes => 'close' or 'flag'"),
				 errhint("Say what a flagged member becomes: deletes => 'close' ends its version (type 2), 'flag' sets is_deleted.")));
	if (m.watermark && m.deletes != DELETES_IGNORE && m.deleted_flag == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("deletes => '%s' with a watermark needs deleted_flag",
						m.deletes == DELETES_CLOSE ? "close" : "flag"),
				 errdetail("A source read from a watermark holds only the newer rows: a member missing from it is not deleted."),
				 errhint("Name the source's boolean column that marks deleted members as deleted_flag.")));

	SPI_connect();
	nestlevel = model_settings_push();

	model_resolve_relation(&m.target, target_arg, true);
	if (PG_ARGISNULL(8))
		m.sk = default_surrogate_key(m.target.relname);
	else
		m.sk = text_to_cstring(PG_GETARG_TEXT_PP(8));
	if (m.sk[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"surrogate_key\" must not be empty")));
	model_check_name_length(m.sk, "the surrogate key");
	m.qsk = quote_identifier(m.sk);

	/* Serialize merges into this dimension, then look at it. */
	model_lock_name(&m.target);
	m.exists = OidIsValid(m.target.relid);
	if (m.exists)
	{
		model_check_table(&m.target);
		check_table_kind(&m);
		model_lock_table(&m.target);
	}
	m.now = transaction_time_literal();

	model_open_source(&m.source, source_arg);
	classify_columns(&m);
	check_incremental_columns(&m);
	if (m.attr2 == NIL && m.attr1 == NIL && m.ignore == NIL && m.scd_type != 0)
		ereport(NOTICE,
				(errmsg("the source of \"%s\" has no attribute columns besides the natural key",
						m.target.display)));
	if (effective_arg == NULL)
		m.effective = "now()";
	else if (model_find_column(m.source.columns, effective_arg))
	{
		Oid			t = model_find_column(m.source.columns, effective_arg)->typid;

		if (t != TIMESTAMPTZOID && t != TIMESTAMPOID && t != DATEOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("effective_at column \"%s\" must be a date or timestamp, not %s",
							effective_arg, format_type_be(t))));
		m.effective = model_column_ref("src", effective_arg);
	}
	else
		m.effective = model_check_expression(effective_arg, "effective_at");
	if (m.exists)
	{
		check_target_shape(&m);
		model_claim_dimension(&m.target, m.sk, linitial(m.key));
		if (m.watermark)
			apply_watermark(&m);
	}

	/* Read and classify the source, and check it before any write. */
	build_progress_start("merge_dimension", m.target.qualified);
	build_progress_phase("classify");
	m.work = model_temp_name("dimension");
	if (m.exists)
	{
		int64		work_classes[256];
		int64		unchanged;
		char	   *fresh;

		if (classify_source(&m, classes, &nullkeys, &undated))
			model_check_duplicates(m.source.from_item, m.key, "natural key", m.target.display);
		/* every current row came out of the pass once: matched, or missing */
		current = -classes[CLASS_NEW];
		for (int i = 0; i < 256; i++)
			current += classes[i];
		fresh = psprintf("(SELECT * FROM %s WHERE " WORK_CLASS " = " CLASS_SQL_NEW ")", m.work);
		model_check_duplicates(fresh, m.key, "natural key", m.target.display);
		if (nullkeys > 0)
		{
			int64		again[256];

			/* Recount what the null-safe matching reclassified. */
			classify_null_keys(&m, again);
			memset(work_classes, 0, sizeof(work_classes));
			count_classes(&m, work_classes, &undated);
			unchanged = classes[CLASS_UNCHANGED] + again[CLASS_UNCHANGED];
			memcpy(classes, work_classes, sizeof(work_classes));
			classes[CLASS_UNCHANGED] = unchanged;
		}
	}
	else
	{
		build_work_table(&m);
		memset(classes, 0, sizeof(classes));
		nullkeys = count_classes(&m, classes, &undated);
		model_check_duplicates(m.work, m.key, "natural key", m.target.display);
	}
	check_undated(&m, undated);
	if (classes[CLASS_BACKDATED] > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("a change to \"%s\" is dated before the version it replaces",
						m.target.display),
				 errdetail("%lld source rows have an effective time earlier than the valid_from of their current version.",
						   (long long) classes[CLASS_BACKDATED]),
				 errhint("Check the effective_at expression; history cannot be rewritten backwards.")));

	if (m.exists && m.deletes != DELETES_IGNORE && m.deleted_flag == NULL)
		check_delete_share(&m, classes[CLASS_DELETED], current);

	created = !m.exists;
	if (created)
		create_target(&m);
	ensure_unknown_member(&m);
	apply_changes(&m, nullkeys, classes, &counts);
	if (created)
	{
		build_progress_phase("index");
		create_indexes(&m);
	}
	counts.unchanged = classes[CLASS_UNCHANGED];
	model_drop_temp(m.work);

	model_record_run("merge_dimension", &m.target, source_arg, &counts, started,
					 psprintf("{\"scd_type\": %d, \"deletes\": \"%s\", \"created\": %s, \"classified\": \"%s\"}",
							  m.scd_type,
							  m.deletes == DELETES_CLOSE ? "close" :
							  m.deletes == DELETES_FLAG ? "flag" : "ignore",
							  created ? "true" : "false",
							  !m.exists ? "new" : m.in_memory ? "in memory" : "by join"));
	model_settings_pop(nestlevel);
	SPI_finish();

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(counts.inserted);
	values[1] = Int64GetDatum(counts.updated);
	values[2] = Int64GetDatum(counts.closed);
	values[3] = Int64GetDatum(counts.unchanged);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * dimension_classify.c
 *	  The classifying pass of elt.merge_dimension (see dimension.c): the
 *	  query that pairs each source row with the current dimension row of its
 *	  natural key, the receiver that classifies each pair in C and keeps in
 *	  the temporary work table only the rows that lead to a write, the
 *	  null-safe second pass for keys with NULL parts, and the counts.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
#include "utils/regproc.h"
#include "utils/rel.h"

#include "build_progress.h"
#include "dimension_merge.h"
#include "internal_sql.h"
#include "model.h"

/*
 * The join condition between the work rows (alias s) and the dimension rows
 * that may match them (alias t): current rows only for type 2, never the
 * unknown member.
 */
void
append_candidate_rows(StringInfo buf, DimMerge *m)
{
	appendStringInfo(buf, "t.%s <> " MODEL_UNKNOWN_KEY, m->qsk);
	if (m->scd_type == 2)
		appendStringInfoString(buf, " AND t." MODEL_IS_CURRENT);
}

/*
 * Whether two non-null values of a compared column differ, as IS DISTINCT
 * FROM with the type's equality operator decides (or the values' text when
 * the type has none).  Identical bytes are equal without calling it: that
 * is the common case of a full source, most of which did not change.
 */
static bool
values_differ(CompareColumn *c, Datum a, Datum b)
{
	if (datumIsEqual(a, b, c->typbyval, c->typlen))
		return false;
	if (c->comparable)
		return !DatumGetBool(FunctionCall2Coll(&c->proc, c->collation, a, b));
	return strcmp(OutputFunctionCall(&c->proc, a), OutputFunctionCall(&c->proc, b)) != 0;
}

/*
 * The class of one incoming row against its current dimension row (absent
 * when the surrogate key is NULL); for a current row without a source row
 * (full join only), CLASS_DELETED or CLASS_INFERRED_MISSING.
 */
static RowClass
classify_row(ClassifyReceiver *r, Datum *values, bool *isnull)
{
	DimMerge   *m = r->m;
	bool		versioned = false;
	bool		overwrite = false;

	if (r->in_attr >= 0 && isnull[r->in_attr])
		return r->inferred_attr >= 0 && !isnull[r->inferred_attr] &&
			DatumGetBool(values[r->inferred_attr]) ? CLASS_INFERRED_MISSING : CLASS_DELETED;
	if (r->flag_attr >= 0 && !isnull[r->flag_attr] && DatumGetBool(values[r->flag_attr]))
	{
		/* the source says the member is deleted: its current row, if any */
		if (!isnull[r->sk_attr])
			return CLASS_DELETED;
		if (!r->null_safe)
		{
			/* NULL key parts match only in classify_null_keys(): look again there */
			for (int i = 0; i < r->nkeys; i++)
			{
				if (isnull[r->key_attrs[i]])
					return CLASS_NEW;
			}
		}
		return CLASS_FLAGGED_GONE;
	}
	if (isnull[r->sk_attr])
		return CLASS_NEW;
	if (r->inferred_attr >= 0 && !isnull[r->inferred_attr] &&
		DatumGetBool(values[r->inferred_attr]))
		return CLASS_INFERRED;
	if (r->deleted_attr >= 0 && !isnull[r->deleted_attr] &&
		DatumGetBool(values[r->deleted_attr]))
	{
		if (m->scd_type == 2)
			versioned = true;
		else
			overwrite = true;
	}

	/* Versioned columns come first: once one differs, the class is known. */
	for (int i = 0; i < r->ncols && !versioned; i++)
	{
		CompareColumn *c = &r->cols[i];
		bool		sn = isnull[c->sattr];
		bool		tn = isnull[c->tattr];

		if (!c->versioned && overwrite)
			break;				/* only overwritten columns remain */
		if (sn != tn || (!sn && values_differ(c, values[c->sattr], values[c->tattr])))
		{
			if (c->versioned)
				versioned = true;
			else
				overwrite = true;
		}
	}
	if (versioned)
	{
		/* eff < valid_from; NULL when eff is NULL (then changed, refused later) */
		if (!isnull[r->eff_attr] && !isnull[r->from_attr] &&
			timestamp_cmp_internal(DatumGetTimestampTz(values[r->eff_attr]),
								   DatumGetTimestampTz(values[r->from_attr])) < 0)
			return CLASS_BACKDATED;
		return CLASS_CHANGED;
	}
	return overwrite ? CLASS_OVERWRITE : CLASS_UNCHANGED;
}

static void
classify_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	ClassifyReceiver *r = (ClassifyReceiver *) self;

	if (typeinfo->natts < r->nwork)
		elog(ERROR, "classifying query does not match its work table");
	classify_startup_work(r);
}

/*
 * Set up the writes to the work table (the classifying query's receiver
 * does it at its startup, dimension_probe.c before its pass).
 */
void
classify_startup_work(ClassifyReceiver *r)
{
	if (RelationGetDescr(r->work)->natts != r->nwork + 1)
		elog(ERROR, "classifying pass does not match its work table");
	r->wslot = table_slot_create(r->work, NULL);
	r->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "pg_elt classify row",
									  ALLOCSET_DEFAULT_SIZES);
	r->bistate = GetBulkInsertState();
	r->cid = GetCurrentCommandId(true);
}

/*
 * Count one row of the pass in its class, and in the build's progress,
 * which is published in steps, not for every row of a large pass.
 */
void
classify_count(ClassifyReceiver *r, RowClass cls)
{
	r->classes[(unsigned char) cls]++;
	if (++r->unreported >= 4096)
	{
		build_progress_rows(r->unreported);
		r->unreported = 0;
	}
}

/*
 * Classify one incoming row (the layout of classify_query's select list),
 * count it and keep it in the work table when it leads to a write.
 */
void
classify_values(ClassifyReceiver *r, Datum *values, bool *isnull)
{
	RowClass	cls;
	MemoryContext oldcxt;

	/* Detoasted values and text forms, freed row by row. */
	oldcxt = MemoryContextSwitchTo(r->rowcxt);
	cls = classify_row(r, values, isnull);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(r->rowcxt);
	classify_count(r, cls);
	if (cls != CLASS_NEW && cls != CLASS_INFERRED_MISSING && cls != CLASS_FLAGGED_GONE &&
		(cls != CLASS_DELETED || r->flag_attr >= 0))
	{
		int64		bit = DatumGetInt64(values[r->sk_attr]) - r->seen_base;

		if (r->seen == NULL || bit < 0 || bit >= r->seen_bits)
			r->unsure = true;
		else if (r->seen[bit / 64] & (UINT64CONST(1) << (bit % 64)))
			r->duplicate = true;
		else
			r->seen[bit / 64] |= UINT64CONST(1) << (bit % 64);
	}
	if ((cls == CLASS_UNCHANGED && !r->keep_unchanged) || cls == CLASS_INFERRED_MISSING ||
		cls == CLASS_FLAGGED_GONE || (cls == CLASS_DELETED && !r->keep_missing))
		return;
	if (cls == CLASS_NEW)
	{
		for (int i = 0; i < r->nkeys; i++)
		{
			if (isnull[r->key_attrs[i]])
			{
				r->nullkeys++;
				break;
			}
		}
	}
	if ((cls == CLASS_NEW || cls == CLASS_CHANGED) && isnull[r->eff_attr])
		r->undated++;

	ExecClearTuple(r->wslot);
	memcpy(r->wslot->tts_values, values, sizeof(Datum) * r->nwork);
	memcpy(r->wslot->tts_isnull, isnull, sizeof(bool) * r->nwork);
	r->wslot->tts_values[r->nwork] = CharGetDatum((char) cls);
	r->wslot->tts_isnull[r->nwork] = false;
	ExecStoreVirtualTuple(r->wslot);
	table_tuple_insert(r->work, r->wslot, r->cid, 0, r->bistate);
}

static bool
classify_receive(TupleTableSlot *slot, DestReceiver *self)
{
	slot_getallattrs(slot);
	classify_values((ClassifyReceiver *) self, slot->tts_values, slot->tts_isnull);
	return true;
}

static void
classify_shutdown(DestReceiver *self)
{
	classify_shutdown_work((ClassifyReceiver *) self);
}

/*
 * Finish the writes to the work table and publish the last progress.
 */
void
classify_shutdown_work(ClassifyReceiver *r)
{
	build_progress_rows(r->unreported);
	r->unreported = 0;
	FreeBulkInsertState(r->bistate);
	table_finish_bulk_insert(r->work, 0);
	ExecDropSingleTupleTableSlot(r->wslot);
	MemoryContextDelete(r->rowcxt);
}

static void
classify_destroy(DestReceiver *self)
{
}

/*
 * The position of a name in a list of names (it is there).
 */
static int
name_position(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		if (strcmp(lfirst(lc), name) == 0)
			return foreach_current_index(lc);
	}
	elog(ERROR, "column \"%s\" not found", name);
	return -1;					/* keep compiler quiet */
}

/*
 * Set up the comparison of the compared columns (type 2: versioned ones
 * first) and add the dimension's values to the classifying query's select
 * list; positions continue from *next.
 */
static void
add_compared_columns(DimMerge *m, ClassifyReceiver *r, StringInfo select, int *next)
{
	List	   *cols = NIL;
	ListCell   *lc;

	if (m->scd_type == 0)
		cols = list_copy(m->attr1);
	else
		cols = list_concat(list_copy(m->attr2), m->attr1);
	r->cols = palloc0(sizeof(CompareColumn) * Max(list_length(cols), 1));
	r->ncols = list_length(cols);
	foreach(lc, cols)
	{
		ModelColumn *col = lfirst(lc);
		CompareColumn *c = &r->cols[foreach_current_index(lc)];
		AttrNumber	attnum = get_attnum(m->target.relid, col->name);
		Oid			typid;
		int32		typmod;
		Oid			collation;

		if (attnum == InvalidAttrNumber)
			elog(ERROR, "column \"%s\" of dimension \"%s\" not found", col->name, m->target.display);
		get_atttypetypmodcoll(m->target.relid, attnum, &typid, &typmod, &collation);
		if (typid != col->typid)
			elog(ERROR, "column \"%s\" of dimension \"%s\" changed type", col->name, m->target.display);
		c->sattr = name_position(m->names, col->name);
		c->tattr = (*next)++;
		c->versioned = m->scd_type == 2 && list_member_ptr(m->attr2, col);
		get_typlenbyval(typid, &c->typlen, &c->typbyval);
		c->comparable = col->comparable;
		c->collation = OidIsValid(collation) ? collation : get_typcollation(typid);
		if (c->comparable)
			fmgr_info(get_opcode(lookup_type_cache(typid, TYPECACHE_EQ_OPR)->eq_opr), &c->proc);
		else
		{
			Oid			outfunc;
			bool		varlena;

			getTypeOutputInfo(typid, &outfunc, &varlena);
			fmgr_info(outfunc, &c->proc);
		}
		appendStringInfo(select, ", %s", model_column_ref("t", col->name));
	}
}

/*
 * The bitmap of surrogate keys the classifying pass marks as matched: one
 * bit per key between the dimension's lowest and highest surrogate key
 * (identity keys are dense), so that a duplicated natural key is found
 * without grouping the source.  Returns false, leaving the check to a
 * GROUP BY of the source, when the keys are too sparse for a bitmap of a
 * reasonable size.
 */
static bool
alloc_seen_bitmap(DimMerge *m, ClassifyReceiver *r)
{
	StringInfoData sql;
	bool		nmin,
				nmax;
	int64		lo,
				hi;
	uint64		range;

	int64		size;
	bool		nsize;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT min(%s), max(%s), pg_catalog.pg_relation_size(%s::pg_catalog.regclass) "
					 "FROM %s WHERE %s <> " MODEL_UNKNOWN_KEY,
					 m->qsk, m->qsk, quote_literal_cstr(m->target.qualified),
					 m->target.qualified, m->qsk);
	model_exec(sql.data, SPI_OK_SELECT);
	lo = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &nmin));
	hi = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &nmax));
	size = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &nsize));
	if (nmin || nmax)
		return true;			/* no current rows: nothing can match */
	range = (uint64) hi - (uint64) lo + 1;

	/*
	 * Keys burned by failed merges can leave a small dimension with a wide
	 * key range: keep the bitmap (range / 8 bytes) under a quarter of the
	 * table's size, or 1 MB, whichever is larger.
	 */
	if (range == 0 || range > SEEN_MAX_BITS ||
		range > (uint64) Max(INT64CONST(1) << 23, nsize ? 0 : 2 * size))
		return false;
	m->sk_range = (int64) range;
	r->seen_base = lo;
	r->seen_bits = (int64) range;
	r->seen = palloc_extended((range + 63) / 64 * sizeof(uint64),
							  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	return true;
}

/*
 * The dimension's columns the classifying query reads from the current
 * rows (the surrogate key, the natural key, the managed columns it
 * classifies by and the compared columns), each after a comma: only those,
 * so that the join asks the caller for the same column privileges as the
 * pass in memory (dimension_probe.c), not for every column.
 */
static void
append_joined_columns(StringInfo q, DimMerge *m)
{
	ListCell   *lc;

	appendStringInfo(q, ", t.%s, ", m->qsk);
	model_append_names(q, m->key, "t");
	if (m->has_inferred)
		appendStringInfoString(q, ", t." MODEL_IS_INFERRED);
	if (m->has_deleted)
		appendStringInfoString(q, ", t." MODEL_IS_DELETED);
	if (m->scd_type == 2)
		appendStringInfoString(q, ", t." MODEL_VALID_FROM);
	foreach(lc, m->scd_type == 0 ? m->attr1 : list_concat(list_copy(m->attr2), m->attr1))
		appendStringInfo(q, ", %s", model_column_ref("t", ((ModelColumn *) lfirst(lc))->name));
}

/*
 * The classifying query: the work row (source columns, effective time,
 * surrogate key, tid) of each row of sfrom (alias s, the source's columns
 * plus its effective time, and with full an always-true presence column)
 * joined to the current rows by natural key.  With r, followed by what
 * classify_row() needs, its positions noted in r and their number in
 * *width; without, followed by a NULL class, to create the work table from.
 *
 * Without deletes the join is a LEFT JOIN from the source, so that a small
 * source probes the natural-key index and the cost stays proportional to
 * the rows passed; with deletes every current row has to be looked at
 * anyway, and one FULL JOIN finds the new, changed and missing rows in the
 * same hash join.  null_safe matches keys with NULL parts (only for the
 * few rows classify_null_keys() passes: such a join cannot be hashed).
 */
static char *
classify_query(DimMerge *m, const char *sfrom, bool full, bool null_safe,
			   ClassifyReceiver *r, int *width)
{
	StringInfoData q;
	int			next = 0;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	model_append_names(&q, m->names, "s");
	appendStringInfo(&q, ", s." WORK_EFF ", t.%s AS " WORK_SK ", t.%s AS " WORK_TID,
					 m->qsk, full ? WORK_TID : "ctid");
	if (r == NULL)
		appendStringInfoString(&q, ", NULL::pg_catalog.\"char\" AS " WORK_CLASS);
	else
	{
		r->nwork = list_length(m->names) + 3;
		r->eff_attr = r->nwork - 3;
		r->sk_attr = r->nwork - 2;
		next = r->nwork;
		r->in_attr = r->inferred_attr = r->deleted_attr = r->from_attr = -1;
		r->flag_attr = m->deleted_flag ? name_position(m->names, m->deleted_flag) : -1;
		if (full)
		{
			appendStringInfoString(&q, ", s." WORK_IN);
			r->in_attr = next++;
		}
		if (m->has_inferred)
		{
			appendStringInfoString(&q, ", t." MODEL_IS_INFERRED);
			r->inferred_attr = next++;
		}
		if (m->has_deleted)
		{
			appendStringInfoString(&q, ", t." MODEL_IS_DELETED);
			r->deleted_attr = next++;
		}
		if (m->scd_type == 2)
		{
			appendStringInfoString(&q, ", t." MODEL_VALID_FROM);
			r->from_attr = next++;
		}
		add_compared_columns(m, r, &q, &next);
		*width = next;
	}

	appendStringInfo(&q, " FROM %s AS s", sfrom);
	if (full)
	{
		appendStringInfoString(&q, " FULL JOIN (SELECT t.ctid AS " WORK_TID);
		append_joined_columns(&q, m);
		appendStringInfo(&q, " FROM %s AS t WHERE ", m->target.qualified);
		append_candidate_rows(&q, m);
		appendStringInfoString(&q, ") AS t ON ");
		model_append_key_match(&q, m->key, "t", "s", null_safe);
	}
	else
	{
		appendStringInfo(&q, " LEFT JOIN %s AS t ON ", m->target.qualified);
		model_append_key_match(&q, m->key, "t", "s", null_safe);
		appendStringInfoString(&q, " AND ");
		append_candidate_rows(&q, m);
		if (null_safe)
		{
			appendStringInfoString(&q, " AND ");
			model_append_any_null(&q, m->key, "t");
		}
	}
	return q.data;
}

/*
 * Run the classifying query over sfrom (see classify_query) into the work
 * table, counting the classes into classes, the new rows with NULL key
 * parts into *nullkeys and the undated new members and versions into
 * *undated.  Returns whether a duplicated natural key may be among the rows
 * that matched a current row (always true when that could not be decided
 * here).
 */
static bool
classify_rows(DimMerge *m, const char *sfrom, bool full, bool null_safe,
			  int64 classes[256], int64 *nullkeys, int64 *undated)
{
	ClassifyReceiver r;
	char	   *query;
	bool		bitmap;
	bool		duplicate;
	int			next;
	ListCell   *lc;

	memset(classes, 0, sizeof(int64) * 256);
	memset(&r, 0, sizeof(r));
	r.m = m;
	query = classify_query(m, sfrom, full, null_safe, &r, &next);
	r.nkeys = list_length(m->key);
	r.key_attrs = palloc(sizeof(int) * r.nkeys);
	foreach(lc, m->key)
		r.key_attrs[foreach_current_index(lc)] = name_position(m->names, lfirst(lc));

	bitmap = !null_safe && alloc_seen_bitmap(m, &r);
	r.pub.receiveSlot = classify_receive;
	r.pub.rStartup = classify_startup;
	r.pub.rShutdown = classify_shutdown;
	r.pub.rDestroy = classify_destroy;
	r.pub.mydest = DestNone;
	r.work = table_open(RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(m->work)),
										 RowExclusiveLock, false),
						NoLock);
	r.keep_missing = full || m->deleted_flag != NULL;
	r.null_safe = null_safe;
	r.keep_unchanged = null_safe;	/* classify_null_keys matches deleted rows to them */
	r.classes = classes;

	/*
	 * A full pass over a local dimension whose current rows fit in memory
	 * probes them in C (dimension_probe.c); otherwise the query joins.
	 */
	if (full && !null_safe && probe_classify(m, &r, sfrom, next, &duplicate))
	{
		m->in_memory = true;
		bitmap = true;
	}
	else
	{
		(void) internal_sql_exec_caller_into(query, &r.pub);
		duplicate = r.duplicate || r.unsure;
	}
	table_close(r.work, NoLock);
	if (r.seen)
		pfree(r.seen);

	*nullkeys = r.nullkeys;
	*undated = r.undated;
	return duplicate || !bitmap;
}

/*
 * Read the source exactly once, joined to the dimension's current rows by
 * natural key, classify each row and keep in the work table only the rows
 * that lead to a write (with the current rows missing from the source when
 * deletes are handled); see classify_rows for what it counts and returns.
 * Keys with NULL parts never match by equality: their source rows come out
 * new and their current rows deleted, and classify_null_keys() matches
 * them afterwards.
 *
 * The work rows carry the current row's tid besides its surrogate key: the
 * dimension is locked against other writers from before this pass
 * (model_lock_table), so the close finds each row by tid.
 */
bool
classify_source(DimMerge *m, int64 classes[256], int64 *nullkeys, int64 *undated)
{
	bool		full = m->deletes != DELETES_IGNORE && m->deleted_flag == NULL;
	char	   *sfrom;

	sfrom = psprintf("(SELECT src.*, %s::timestamptz AS " WORK_EFF "%s FROM %s AS src)",
					 m->effective, full ? ", true AS " WORK_IN : "", m->source.from_item);
	model_exec(psprintf("CREATE TEMP TABLE %s ON COMMIT DROP AS %s WITH NO DATA",
						m->work, classify_query(m, sfrom, full, false, NULL, NULL)),
			   SPI_OK_UTILITY);
	return classify_rows(m, sfrom, full, false, classes, nullkeys, undated);
}

/*
 * Read the source once into the work table on the first call, when there
 * is no dimension yet to classify against: every row is new.
 */
void
build_work_table(DimMerge *m)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT ", m->work);
	model_append_names(&sql, m->names, "s");
	appendStringInfo(&sql,
					 ", s." WORK_EFF ", NULL::bigint AS " WORK_SK ", " CLASS_SQL_NEW "::pg_catalog.\"char\" AS "
					 WORK_CLASS " FROM (SELECT src.*, %s::timestamptz AS " WORK_EFF
					 " FROM %s AS src) AS s",
					 m->effective, m->source.from_item);
	if (m->deleted_flag)
		appendStringInfo(&sql, " WHERE s.%s IS NOT TRUE", quote_identifier(m->deleted_flag));
	model_exec(sql.data, SPI_OK_UTILITY);
	model_exec(psprintf("ANALYZE %s", m->work), SPI_OK_UTILITY);
}

/*
 * Match the new work rows whose natural key has NULL parts null-safely
 * (NULL matches NULL) and classify them again, with the classifier of the
 * first pass (counting into classes); a current row they match is not
 * missing from the source after all, so the unchanged ones are kept in the
 * work table until the missing rows they match are taken out.  Only runs
 * when there are such rows.
 */
void
classify_null_keys(DimMerge *m, int64 classes[256])
{
	StringInfoData sql;
	StringInfoData cond;
	char	   *held = model_temp_name("null_keys");
	int64		nullkeys;
	int64		undated;

	/* Take those rows out of the work table, and classify them back in. */
	initStringInfo(&cond);
	appendStringInfoString(&cond, WORK_CLASS " = " CLASS_SQL_NEW " AND ");
	model_append_any_null(&cond, m->key, NULL);
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT ", held);
	model_append_names(&sql, m->names, NULL);
	appendStringInfo(&sql, ", " WORK_EFF " FROM %s WHERE %s", m->work, cond.data);
	model_exec(sql.data, SPI_OK_UTILITY);
	model_exec(psprintf("DELETE FROM %s WHERE %s", m->work, cond.data), SPI_OK_DELETE);
	(void) classify_rows(m, held, false, true, classes, &nullkeys, &undated);
	model_drop_temp(held);

	/*
	 * A member with NULL key parts that comes back after its deletion was
	 * closed starts no earlier than that close, as the INSERT does for the
	 * other keys by equality (which never matches NULL parts).
	 */
	if (m->scd_type == 2)
	{
		/*
		 * The last close of each such key is read into a table of its own
		 * first: Citus does not join a reference dimension into an UPDATE
		 * of a local table.
		 */
		char	   *last = model_temp_name("last_close");

		resetStringInfo(&sql);
		appendStringInfo(&sql, "CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT ", last);
		model_append_names(&sql, m->key, NULL);
		appendStringInfo(&sql, ", max(" MODEL_VALID_TO ") AS last_to FROM %s WHERE %s <> "
						 MODEL_UNKNOWN_KEY " AND ", m->target.qualified, m->qsk);
		model_append_any_null(&sql, m->key, NULL);
		appendStringInfoString(&sql, " GROUP BY ");
		model_append_names(&sql, m->key, NULL);
		model_exec(sql.data, SPI_OK_UTILITY);

		resetStringInfo(&sql);
		appendStringInfo(&sql, "UPDATE %s AS s SET " WORK_EFF " = x.last_to FROM %s AS x WHERE s."
						 WORK_CLASS " = " CLASS_SQL_NEW " AND ", m->work, last);
		model_append_any_null(&sql, m->key, "s");
		appendStringInfoString(&sql, " AND ");
		model_append_key_match(&sql, m->key, "x", "s", true);
		appendStringInfoString(&sql, " AND x.last_to > s." WORK_EFF);
		model_exec(sql.data, SPI_OK_UPDATE);
		model_drop_temp(last);
	}

	if (m->deletes != DELETES_IGNORE)
	{
		resetStringInfo(&sql);
		appendStringInfo(&sql, "DELETE FROM %s AS d WHERE d." WORK_CLASS " = " CLASS_SQL_DELETED
						 " AND d." WORK_SK " IN (SELECT s." WORK_SK " FROM %s AS s WHERE s."
						 WORK_CLASS " <> " CLASS_SQL_DELETED
						 " AND s." WORK_SK " IS NOT NULL)",
						 m->work, m->work);
		model_exec(sql.data, SPI_OK_DELETE);
	}
	model_exec(psprintf("DELETE FROM %s WHERE " WORK_CLASS " = " CLASS_SQL_UNCHANGED, m->work), SPI_OK_DELETE);
}

/*
 * Count the work rows by class (adding to counts); returns the number of
 * new rows with NULL key parts, and sets *undated to the number of new
 * members and new versions without an effective time.
 */
int64
count_classes(DimMerge *m, int64 counts[256], int64 *undated)
{
	StringInfoData sql;
	int64		nullkeys = 0;

	*undated = 0;
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT " WORK_CLASS ", count(*), count(*) FILTER (WHERE "
					 WORK_CLASS " = " CLASS_SQL_NEW " AND ");
	model_append_any_null(&sql, m->key, NULL);
	appendStringInfo(&sql, "), count(*) FILTER (WHERE " WORK_CLASS " IN (" CLASS_SQL_NEW ", "
					 CLASS_SQL_CHANGED ") AND "
					 WORK_EFF " IS NULL) FROM %s GROUP BY 1", m->work);
	model_exec(sql.data, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char		cls = DatumGetChar(SPI_getbinval(SPI_tuptable->vals[i],
													 SPI_tuptable->tupdesc, 1, &isnull));
		int64		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
												   SPI_tuptable->tupdesc, 2, &isnull));

		counts[(unsigned char) cls] += n;
		nullkeys += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
												SPI_tuptable->tupdesc, 3, &isnull));
		*undated += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
												SPI_tuptable->tupdesc, 4, &isnull));
	}
	return nullkeys;
}

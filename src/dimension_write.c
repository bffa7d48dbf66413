/*
 * dimension_write.c
 *	  The writes of elt.merge_dimension (see dimension.c), step 3: from the
 *	  classified work table, the close of changed and deleted versions (by
 *	  tid), flagged deletes, type-1 overwrites (in every version for type
 *	  6), inferred members completed, stale row hashes rewritten, and the
 *	  INSERT of new members and versions.
 */
#include "postgres.h"

#include "executor/spi.h"

#include "build_progress.h"
#include "dimension_merge.h"
#include "model.h"

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
	/* the current version's hash: its versioned values equal the source's */
	if (m->has_hash)
		appendStringInfoString(&sql, ", " MODEL_ROW_HASH " = CASE WHEN t." MODEL_IS_CURRENT
							   " THEN s." WORK_HASH " ELSE t." MODEL_ROW_HASH " END");
	appendStringInfoString(&sql, " FROM (SELECT ");
	model_append_names(&sql, list_concat(list_copy(m->key), names), NULL);
	appendStringInfo(&sql, ", " WORK_HASH " FROM %s WHERE " WORK_CLASS " IN (" CLASS_SQL_CHANGED ", "
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
	if (m->has_hash)
		appendStringInfoString(&sql, ", " MODEL_ROW_HASH " = s." WORK_HASH);
	appendStringInfoString(&sql, " FROM (SELECT ");
	model_append_names(&sql, names, NULL);
	appendStringInfo(&sql, "%s" WORK_SK ", " WORK_HASH " FROM %s WHERE " WORK_CLASS " = '%c') AS s WHERE t.%s = s." WORK_SK,
					 names ? ", " : "", m->work, (char) cls, m->qsk);
	return model_exec(sql.data, SPI_OK_UPDATE);
}

/*
 * Rewrite the stored row hash of the unchanged current rows whose hash was
 * missing or stale (CLASS_REHASH), by tid like the close (on Citus by
 * surrogate key); these rows are written by nothing else in the merge.
 */
static void
rehash_rows(DimMerge *m, int64 nrows)
{
	char	   *sql;

	if (m->citus)
	{
		/* Citus: by surrogate key, the work table wrapped in a subquery */
		model_exec(psprintf("UPDATE %s AS t SET " MODEL_ROW_HASH " = s." WORK_HASH " FROM (SELECT "
							WORK_SK ", " WORK_HASH " FROM %s WHERE " WORK_CLASS " = " CLASS_SQL_REHASH
							") AS s WHERE t.%s = s." WORK_SK,
							m->target.qualified, m->work, m->qsk),
				   SPI_OK_UPDATE);
		return;
	}
	sql = psprintf("UPDATE %s AS t SET " MODEL_ROW_HASH " = s." WORK_HASH " FROM %s AS s"
				   " WHERE s." WORK_CLASS " = " CLASS_SQL_REHASH " AND t.ctid = s." WORK_TID,
				   m->target.qualified, m->work);
	if (nrows * 4 < m->sk_range)
		(void) model_exec_by_index(sql, SPI_OK_UPDATE);
	else
		(void) model_exec(sql, SPI_OK_UPDATE);
}

/*
 * Write the classified work table into the dimension.
 */
void
apply_changes(DimMerge *m, int64 nullkeys, int64 *classes, ModelCounts *counts)
{
	StringInfoData sql;
	const char *undelete = m->has_deleted ? MODEL_IS_DELETED " = false" : NULL;

	if (m->exists && classes[CLASS_REHASH] > 0)
	{
		build_progress_phase("rehash");
		rehash_rows(m, classes[CLASS_REHASH]);
	}

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
	if (m->has_hash)
		appendStringInfoString(&sql, ", " MODEL_ROW_HASH);
	if (m->scd_type == 2)
		appendStringInfoString(&sql, ", " MODEL_VALID_FROM ", " MODEL_VALID_TO ", " MODEL_IS_CURRENT);
	appendStringInfoString(&sql, ") SELECT ");
	model_append_names(&sql, m->names, "s");
	if (m->has_hash)
		appendStringInfoString(&sql, ", s." WORK_HASH);
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

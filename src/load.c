/*
 * load.c
 *	  Bulk loading of records into staging tables, and the batch log.
 *
 * The loader follows COPY FROM: tuples are buffered in slots and written
 * with table_multi_insert through a BulkInsertState, then their index
 * entries are added; column defaults and constraints of the target are
 * honoured.  Buffered jsonb values live in a memory context that is reset
 * after each flush, so memory stays bounded whatever the number of records.
 *
 * A failed extract rolls back everything it wrote, its elt.batch row
 * included.  To still show the failure in elt.batch, a background worker
 * writes the failed batch's row in a transaction of its own.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "rewrite/rewriteHandler.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pg_elt.h"
#include "load.h"

/* As COPY FROM: flush after this many tuples or bytes of records. */
#define MAX_BUFFERED_TUPLES		1000
#define MAX_BUFFERED_BYTES		(64 * 1024)

struct LoadState
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	BulkInsertState bistate;
	CommandId	cid;
	TupleTableSlot *slots[MAX_BUFFERED_TUPLES];
	int			nbuffered;
	size_t		bytes_buffered;
	MemoryContext batchcxt;		/* buffered values; reset per flush */
	ResourceOwner owner;		/* of the slots (outlives subtransactions) */
	int			natts;
	AttrNumber	att_batch;		/* 0-based positions of the three columns */
	AttrNumber	att_loaded;
	AttrNumber	att_record;
	ExprState **defaults;		/* per attribute, for the other columns */
	bool		check_constraints;
	Datum		batch_id;
	Datum		loaded_at;
	int64		count;
};

PGDLLEXPORT void elt_batch_failure_main(Datum main_arg);

/*
 * Run one utility statement through SPI.
 */
static void
run_ddl(const char *sql)
{
	if (SPI_execute(sql, false, 0) < 0)
		elog(ERROR, "could not run: %s", sql);
}

/*
 * Look up the staging table, creating it (and its schema) when missing:
 * _elt_batch_id, _elt_loaded_at, _elt_record, with a BRIN index on the batch
 * id so that a transformation can read one batch cheaply.  Created in the
 * caller's transaction, so a failed first extract leaves no table behind.
 */
Oid
load_prepare_target(const char *target, bool *created)
{
	List	   *names = stringToQualifiedNameList(target);
	RangeVar   *rv = makeRangeVarFromNameList(names);
	Oid			relid;
	char	   *qname;

	*created = false;
	relid = RangeVarGetRelid(rv, RowExclusiveLock, true);
	if (OidIsValid(relid))
		return relid;

	qname = rv->schemaname ?
		quote_qualified_identifier(rv->schemaname, rv->relname) :
		pstrdup(quote_identifier(rv->relname));
	SPI_connect();
	if (rv->schemaname && !OidIsValid(get_namespace_oid(rv->schemaname, true)))
		run_ddl(psprintf("CREATE SCHEMA %s", quote_identifier(rv->schemaname)));
	run_ddl(psprintf("CREATE TABLE %s ("
					 "_elt_batch_id bigint NOT NULL, "
					 "_elt_loaded_at timestamptz NOT NULL DEFAULT now(), "
					 "_elt_record jsonb NOT NULL)", qname));
	run_ddl(psprintf("CREATE INDEX ON %s USING brin (_elt_batch_id)", qname));
	run_ddl(psprintf("COMMENT ON TABLE %s IS %s", qname,
					 quote_literal_cstr("pg_elt staging table: one record per row")));
	SPI_finish();
	CommandCounterIncrement();
	*created = true;
	return RangeVarGetRelid(rv, RowExclusiveLock, false);
}

/*
 * Position of a column that must exist with a given type.
 */
static AttrNumber
find_column(Relation rel, const char *name, Oid type)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0)
			continue;
		if (att->atttypid != type)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of staging table %s has type %s, not %s",
							name, RelationGetRelationName(rel),
							format_type_be(att->atttypid), format_type_be(type))));
		return i;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("staging table %s has no column \"%s\"",
					RelationGetRelationName(rel), name),
			 errdetail("A staging table has the columns _elt_batch_id bigint, _elt_loaded_at timestamptz and _elt_record jsonb.")));
	return 0;
}

/*
 * Open the staging table for a batch: check the caller may insert, that the
 * table is one the loader can write, and prepare slots, indexes and the
 * defaults of any other columns.
 */
LoadState *
load_begin(Oid relid, int64 batch_id, TimestampTz loaded_at)
{
	LoadState  *ls = palloc0(sizeof(LoadState));
	Relation	rel;
	TupleDesc	desc;
	RangeTblEntry *rte;
	int			i;

	rel = table_open(relid, RowExclusiveLock);
	ls->rel = rel;
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("staging table %s is not a plain table",
						RelationGetRelationName(rel)),
				 errdetail("Extracts load into ordinary tables, not views, foreign or partitioned tables.")));
	desc = RelationGetDescr(rel);
	ls->natts = desc->natts;
	ls->att_batch = find_column(rel, "_elt_batch_id", INT8OID);
	ls->att_loaded = find_column(rel, "_elt_loaded_at", TIMESTAMPTZOID);
	ls->att_record = find_column(rel, "_elt_record", JSONBOID);

	/* privileges, as an INSERT of the three columns would check them */
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	rte->insertedCols = bms_make_singleton(ls->att_batch + 1 - FirstLowInvalidHeapAttributeNumber);
	rte->insertedCols = bms_add_member(rte->insertedCols, ls->att_loaded + 1 - FirstLowInvalidHeapAttributeNumber);
	rte->insertedCols = bms_add_member(rte->insertedCols, ls->att_record + 1 - FirstLowInvalidHeapAttributeNumber);
	if (!ExecCheckRTEPerms(rte))
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("staging table %s has row-level security enabled",
						RelationGetRelationName(rel)),
				 errhint("Load into a table without row-level security and copy from there.")));
	if (rel->trigdesc && (rel->trigdesc->trig_insert_before_row ||
						  rel->trigdesc->trig_insert_after_row ||
						  rel->trigdesc->trig_insert_instead_row))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("staging table %s has row-level insert triggers",
						RelationGetRelationName(rel)),
				 errdetail("Extracts write in bulk and do not fire row triggers; a transformation can read each batch by _elt_batch_id instead.")));
	if (desc->constr && desc->constr->has_generated_stored)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("staging table %s has generated columns",
						RelationGetRelationName(rel))));

	ls->estate = CreateExecutorState();
	ls->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(ls->rri, rel, 0, NULL, 0);
	CheckValidResultRel(ls->rri, CMD_INSERT);
	ExecOpenIndices(ls->rri, false);
	ls->check_constraints = (desc->constr != NULL);

	/* defaults of the other columns, evaluated per row */
	ls->defaults = palloc0(sizeof(ExprState *) * desc->natts);
	for (i = 0; i < desc->natts; i++)
	{
		Node	   *def;

		if (TupleDescAttr(desc, i)->attisdropped ||
			i == ls->att_batch || i == ls->att_loaded || i == ls->att_record)
			continue;
		def = build_column_default(rel, i + 1);
		if (def)
			ls->defaults[i] = ExecPrepareExpr((Expr *) def, ls->estate);
	}

	for (i = 0; i < MAX_BUFFERED_TUPLES; i++)
		ls->slots[i] = NULL;
	ls->owner = CurrentResourceOwner;
	ls->bistate = GetBulkInsertState();
	ls->cid = GetCurrentCommandId(true);
	ls->batchcxt = AllocSetContextCreate(CurrentMemoryContext, "pg_elt load batch",
										 ALLOCSET_DEFAULT_SIZES);
	ls->batch_id = Int64GetDatum(batch_id);
	ls->loaded_at = TimestampTzGetDatum(loaded_at);
	return ls;
}

/*
 * Parse a record into jsonb and buffer its row.
 */
Jsonb *
load_record(LoadState *ls, const char *json, size_t len)
{
	MemoryContext old = MemoryContextSwitchTo(ls->batchcxt);
	TupleTableSlot *slot;
	char	   *conv;
	Datum		value;
	int			i;

	/* the caller is done with the previous record's jsonb by now */
	if (ls->nbuffered >= MAX_BUFFERED_TUPLES ||
		ls->bytes_buffered >= MAX_BUFFERED_BYTES)
	{
		MemoryContextSwitchTo(old);
		load_flush(ls);
		MemoryContextSwitchTo(ls->batchcxt);
	}

	/* a body is UTF-8: check it, and convert to the database's encoding */
	conv = pg_any_to_server(json, len, PG_UTF8);
	value = DirectFunctionCall1(jsonb_in, CStringGetDatum(conv));

	if (ls->slots[ls->nbuffered] == NULL)
	{
		/* slots pin the tuple descriptor: under the loader's owner */
		ResourceOwner save = CurrentResourceOwner;

		CurrentResourceOwner = ls->owner;
		MemoryContextSwitchTo(ls->estate->es_query_cxt);
		ls->slots[ls->nbuffered] = table_slot_create(ls->rel, NULL);
		MemoryContextSwitchTo(ls->batchcxt);
		CurrentResourceOwner = save;
	}
	slot = ls->slots[ls->nbuffered];
	ExecClearTuple(slot);
	for (i = 0; i < ls->natts; i++)
	{
		slot->tts_isnull[i] = true;
		slot->tts_values[i] = (Datum) 0;
		if (ls->defaults[i])
		{
			ExprContext *econtext = GetPerTupleExprContext(ls->estate);

			slot->tts_values[i] = ExecEvalExpr(ls->defaults[i], econtext,
											   &slot->tts_isnull[i]);
		}
	}
	slot->tts_values[ls->att_batch] = ls->batch_id;
	slot->tts_isnull[ls->att_batch] = false;
	slot->tts_values[ls->att_loaded] = ls->loaded_at;
	slot->tts_isnull[ls->att_loaded] = false;
	slot->tts_values[ls->att_record] = value;
	slot->tts_isnull[ls->att_record] = false;
	ExecStoreVirtualTuple(slot);
	if (ls->check_constraints)
		ExecConstraints(ls->rri, slot, ls->estate);
	MemoryContextSwitchTo(old);

	ls->nbuffered++;
	ls->bytes_buffered += len;
	return DatumGetJsonbP(value);
}

/*
 * Write the buffered rows and their index entries.
 */
void
load_flush(LoadState *ls)
{
	int			i;

	if (ls->nbuffered > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(ls->batchcxt);

		table_multi_insert(ls->rel, ls->slots, ls->nbuffered, ls->cid, 0,
						   ls->bistate);
		for (i = 0; i < ls->nbuffered; i++)
		{
			if (ls->rri->ri_NumIndices > 0)
			{
				List	   *recheck;

				recheck = ExecInsertIndexTuples(ls->rri, ls->slots[i], ls->estate,
												false, false, NULL, NIL);
				list_free(recheck);
			}
			ResetPerTupleExprContext(ls->estate);
			ExecClearTuple(ls->slots[i]);
		}
		MemoryContextSwitchTo(old);
		ls->count += ls->nbuffered;
	}
	ls->nbuffered = 0;
	ls->bytes_buffered = 0;
	MemoryContextReset(ls->batchcxt);
}

/*
 * Drop the buffered rows, and the buffer pin of the bulk insert state (its
 * resource owner is about to go away with the subtransaction).
 */
void
load_discard(LoadState *ls)
{
	int			i;

	for (i = 0; i < ls->nbuffered; i++)
		ExecClearTuple(ls->slots[i]);
	ls->nbuffered = 0;
	ls->bytes_buffered = 0;
	MemoryContextReset(ls->batchcxt);
	ReleaseBulkInsertStatePin(ls->bistate);
}

/*
 * Records written or buffered so far.
 */
int64
load_count(LoadState *ls)
{
	return ls->count + ls->nbuffered;
}

/*
 * Flush and release everything.
 */
void
load_end(LoadState *ls)
{
	int			i;

	load_flush(ls);
	FreeBulkInsertState(ls->bistate);
	table_finish_bulk_insert(ls->rel, 0);
	for (i = 0; i < MAX_BUFFERED_TUPLES && ls->slots[i]; i++)
		ExecDropSingleTupleTableSlot(ls->slots[i]);
	ExecCloseIndices(ls->rri);
	FreeExecutorState(ls->estate);
	table_close(ls->rel, NoLock);
	MemoryContextDelete(ls->batchcxt);
}

/* ------------------------------------------------------ failed batches */

/* What the worker reads from the shared segment. */
typedef struct FailureShared
{
	Oid			dboid;
	BatchFailure f;
	int			off_stream;
	int			off_target;
	int			off_cursor;		/* -1: null */
	int			off_error;
	char		username[NAMEDATALEN];
	char		strings[FLEXIBLE_ARRAY_MEMBER];
} FailureShared;

/*
 * Write a failed batch through a background worker and wait for it.
 */
bool
load_record_failure(const BatchFailure *f)
{
	const char *strs[4];
	int			lens[4];
	Size		size;
	dsm_segment *seg;
	FailureShared *fs;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	int			i;
	int			off = 0;

	strs[0] = f->stream;
	strs[1] = f->target;
	strs[2] = f->cursor_before;
	strs[3] = f->error ? f->error : "";
	size = offsetof(FailureShared, strings);
	for (i = 0; i < 4; i++)
	{
		lens[i] = strs[i] ? strlen(strs[i]) + 1 : 0;
		size += lens[i];
	}
	seg = dsm_create(size, 0);
	fs = dsm_segment_address(seg);
	fs->dboid = MyDatabaseId;
	fs->f = *f;
	strlcpy(fs->username, GetUserNameFromId(GetUserId(), false), NAMEDATALEN);
	for (i = 0; i < 4; i++)
	{
		int			o = -1;

		if (strs[i])
		{
			memcpy(fs->strings + off, strs[i], lens[i]);
			o = off;
			off += lens[i];
		}
		if (i == 0)
			fs->off_stream = o;
		else if (i == 1)
			fs->off_target = o;
		else if (i == 2)
			fs->off_cursor = o;
		else
			fs->off_error = o;
	}

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "pg_elt", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "elt_batch_failure_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_elt batch log for PID %d", MyProcPid);
	strlcpy(worker.bgw_type, "pg_elt batch log", BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		dsm_detach(seg);
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not record failed batch %lld in elt.batch",
						(long long) f->batch_id),
				 errhint("Raise max_worker_processes.")));
		return false;
	}
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED)
		status = WaitForBackgroundWorkerShutdown(handle);
	dsm_detach(seg);
	if (status != BGWH_STOPPED)
	{
		ereport(WARNING,
				(errmsg("could not record failed batch %lld in elt.batch",
						(long long) f->batch_id)));
		return false;
	}
	return true;
}

/*
 * Entry point of the worker that writes a failed batch.  It connects as the
 * bootstrap superuser (the row is pg_elt's own record, its content comes
 * from the backend that failed) and inserts the row in its own transaction.
 */
void
elt_batch_failure_main(Datum main_arg)
{
	dsm_segment *seg;
	FailureShared *fs;
	Datum		values[17];
	char		nulls[17];
	Oid			types[17] = {INT8OID, INT4OID, TEXTOID, TEXTOID, BOOLOID,
		TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, INT8OID, INT8OID, INT4OID,
	INT4OID, TEXTOID, NAMEOID, TEXTOID, TEXTOID, TEXTOID};
	int			i;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		proc_exit(1);
	fs = dsm_segment_address(seg);
	BackgroundWorkerInitializeConnectionByOid(fs->dboid, BOOTSTRAP_SUPERUSERID, 0);

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(fs->f.batch_id);
	values[1] = Int32GetDatum(fs->f.stream_id);
	values[2] = CStringGetTextDatum(fs->strings + fs->off_stream);
	values[3] = CStringGetTextDatum(fs->strings + fs->off_target);
	values[4] = BoolGetDatum(fs->f.full_refresh);
	values[5] = TimestampTzGetDatum(fs->f.started_at);
	values[6] = TimestampTzGetDatum(fs->f.finished_at);
	values[7] = Int32GetDatum(fs->f.pages);
	values[8] = Int64GetDatum(fs->f.records);
	values[9] = Int64GetDatum(fs->f.bytes);
	values[10] = Int32GetDatum(fs->f.requests);
	values[11] = Int32GetDatum(fs->f.retries);
	if (fs->off_cursor >= 0)
		values[12] = CStringGetTextDatum(fs->strings + fs->off_cursor);
	else
		nulls[12] = 'n';
	values[13] = CStringGetDatum(fs->username);
	values[14] = CStringGetTextDatum(fs->strings + fs->off_error);
	values[15] = CStringGetTextDatum(fs->f.sqlstate);
	values[16] = CStringGetTextDatum("failed");
	for (i = 0; i < 17; i++)
		if (types[i] == NAMEOID)
			values[i] = DirectFunctionCall1(namein, values[i]);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "recording a failed pg_elt batch");
	if (SPI_execute_with_args(
							  "INSERT INTO elt.batch (batch_id, stream_id, stream, target, full_refresh, "
							  "started_at, finished_at, pages, records, bytes, requests, retries, "
							  "cursor_before, cursor_after, username, error, error_code, status) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, "
							  "$14, $15, $16, $17) ON CONFLICT (batch_id) DO NOTHING",
							  17, types, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert the failed batch");
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	dsm_detach(seg);
	proc_exit(0);
}

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
 * A Citus table (distributed, reference or Citus managed local) keeps its
 * rows in shards, not in the table the coordinator sees: writing that with
 * table_multi_insert would hide the rows for good.  Its records are instead
 * buffered as tuples in tuplestores and written with one
 * INSERT ... SELECT ... FROM elt._load_rows(...) per 100,000 records or
 * 32 MB: that function hands the executor a tuplestore of the loader's as
 * it is, and Citus sends the rows it returns to the shards with its COPY
 * protocol.  The statement is prepared once per backend and table.  A
 * statement spans pages, but is only run in the subtransaction of a page
 * that commits (at its end, with the rows of the pages before it), or of
 * the current page alone (a page larger than the buffer), or by load_end:
 * a page rolled back takes exactly its own rows with it, and every row
 * still commits or rolls back with the batch record and the cursor.  The
 * buffer is bounded as the local one is, only larger, as each statement
 * costs a round trip to every shard.
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
#include "funcapi.h"
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
#include "utils/tuplestore.h"

#include "citus.h"
#include "durable.h"
#include "internal_sql.h"
#include "load.h"
#include "pg_elt.h"
#include "records.h"

/* As COPY FROM: flush after this many tuples or bytes of records. */
#define MAX_BUFFERED_TUPLES		1000
#define MAX_BUFFERED_BYTES		(64 * 1024)

/*
 * Into a Citus table: one routed statement per this many tuples or bytes
 * of records, across pages (each statement costs a round trip to every
 * shard: one statement per 5,000-record page rather than per 32 MB took
 * a quarter longer on two workers).  The buffer holds at most twice that:
 * the pages not yet written and the current one.
 */
#define MAX_ROUTED_TUPLES		100000
#define MAX_ROUTED_BYTES		(32 * 1024 * 1024)

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
	AttrNumber	att_parent;		/* _elt_parent, or -1 */
	Datum		parent;			/* its value for the next records, or 0 */
	ExprState **defaults;		/* per attribute, for the other columns */
	bool		check_constraints;
	Datum		batch_id;
	Datum		loaded_at;

	/*
	 * A Citus table: records (and parents) buffered for a routed INSERT,
	 * the current page's (nbuffered, bytes_buffered) apart from those of
	 * the pages before it that are not written yet (the carry).
	 */
	bool		routed;
	int			max_tuples;
	size_t		max_bytes;
	Tuplestorestate *page_store;	/* in batchcxt */
	Tuplestorestate *carry_store;	/* in batchcxt */
	int			ncarry;
	size_t		carry_bytes;
	Tuplestorestate *handed;	/* what the running INSERT may take */
	TupleTableSlot *move_slot;	/* to move a page's rows into the carry */
	TupleDesc	store_desc;		/* (r jsonb[, p jsonb]) */
	MemoryContext recordcxt;	/* the last record's jsonb */
	char	   *insert_sql;		/* the INSERT ... SELECT ... _load_rows() */
	int64		token;			/* what the flush's _load_rows call must pass */
};

/*
 * The routed load whose INSERT is running: the only one elt._load_rows
 * serves, and only once per flush.
 */
static LoadState *active_load = NULL;

/* The routed INSERT, prepared once per backend for the last table. */
static InternalSqlPlan routed_plan = {NULL};
static char *routed_plan_sql = NULL;


/*
 * Look up the staging table, creating it (and its schema) when missing:
 * _elt_batch_id, _elt_loaded_at, _elt_record, with a BRIN index on the batch
 * id so that a transformation can read one batch cheaply.  The index
 * summarizes each block range as it fills (autosummarize: autovacuum does
 * it within a naptime), not only at the table's next VACUUM: a block range
 * not yet summarized matches every search, so without it a read of the
 * newest batches (a merge's watermark) would scan every row loaded since
 * the last VACUUM, up to a fifth of the table on autovacuum's defaults.  Created in the
 * caller's transaction, so a failed first extract leaves no table behind.
 * The name is resolved as the caller wrote it; the statements that create
 * it name everything qualified and run with search_path pinned.
 */
Oid
load_prepare_target(const char *target, bool *created)
{
	List	   *names = stringToQualifiedNameList(target);
	RangeVar   *rv = makeRangeVarFromNameList(names);
	Oid			relid;
	Oid			nspid;
	char	   *qname;

	*created = false;
	relid = RangeVarGetRelid(rv, RowExclusiveLock, true);
	if (OidIsValid(relid))
		return relid;

	SPI_connect();
	if (rv->schemaname && !OidIsValid(get_namespace_oid(rv->schemaname, true)))
	{
		internal_sql_exec(psprintf("CREATE SCHEMA %s", quote_identifier(rv->schemaname)),
						  0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
		CommandCounterIncrement();
	}
	nspid = RangeVarGetCreationNamespace(rv);
	qname = quote_qualified_identifier(get_namespace_name(nspid), rv->relname);
	internal_sql_exec(psprintf("CREATE TABLE %s ("
							   "_elt_batch_id pg_catalog.int8 NOT NULL, "
							   "_elt_loaded_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(), "
							   "_elt_record pg_catalog.jsonb NOT NULL)", qname),
					  0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	internal_sql_exec(psprintf("CREATE INDEX ON %s USING brin (_elt_batch_id) "
							   "WITH (autosummarize = on)", qname),
					  0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	internal_sql_exec(psprintf("COMMENT ON TABLE %s IS %s", qname,
							   quote_literal_cstr("pg_elt staging table: one record per row")),
					  0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	SPI_finish();
	CommandCounterIncrement();
	*created = true;
	return get_relname_relid(rv->relname, nspid);
}

/*
 * The parent column of a fan-out stream's staging table: added when a
 * fan-out stream first loads into a table without it, as the stream's
 * owner (who must own the table to alter it).
 */
void
load_add_parent_column(Oid relid)
{
	if (get_attnum(relid, "_elt_parent") != InvalidAttrNumber)
		return;
	SPI_connect();
	internal_sql_exec(psprintf("ALTER TABLE %s ADD COLUMN _elt_parent pg_catalog.jsonb",
							   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
														  get_rel_name(relid))),
					  0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	internal_sql_exec(psprintf("COMMENT ON COLUMN %s._elt_parent IS %s",
							   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
														  get_rel_name(relid)),
							   quote_literal_cstr("pg_elt: the for_each row a record was fetched for")),
					  0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	SPI_finish();
	CommandCounterIncrement();
}

/*
 * A staging table's name for messages: schema.name, which the messages put
 * in double quotes as PostgreSQL does.
 */
static const char *
staging_name(Relation rel)
{
	return psprintf("%s.%s", get_namespace_name(RelationGetNamespace(rel)),
					RelationGetRelationName(rel));
}

/*
 * Position of an optional column of a given type, or -1.
 */
static AttrNumber
find_optional_column(Relation rel, const char *name, Oid type)
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
					 errmsg("column \"%s\" of staging table \"%s\" has type %s, not %s",
							name, staging_name(rel),
							format_type_be(att->atttypid), format_type_be(type))));
		return i;
	}
	return -1;
}

/*
 * Position of a column that must exist with a given type.
 */
static AttrNumber
find_column(Relation rel, const char *name, Oid type)
{
	AttrNumber	i = find_optional_column(rel, name, type);

	if (i >= 0)
		return i;
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("staging table \"%s\" has no column \"%s\"",
					staging_name(rel), name),
			 errdetail("A staging table has the columns _elt_batch_id bigint, _elt_loaded_at timestamptz and _elt_record jsonb.")));
	return 0;
}

/*
 * Prepare loading into a Citus table, or refuse it before the first record
 * is fetched: an append- or range-distributed table (their shards need
 * ranges that an extract cannot know), or a distribution column that no
 * record would give a value to.
 */
static void
load_begin_routed(LoadState *ls)
{
	Relation	rel = ls->rel;
	Oid			relid = RelationGetRelid(rel);
	char		method = elt_distribution_method(relid);
	char	   *distcol = elt_distribution_column(relid);
	StringInfoData sql;

	if (method == 'a' || method == 'r')
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("staging table \"%s\" is %s-distributed",
						staging_name(rel),
						method == 'a' ? "append" : "range"),
				 errdetail("Extracts load into hash-distributed, single-shard, reference and Citus local tables."),
				 errhint("Distribute the staging table with create_distributed_table(..., 'hash'), or make it a reference table.")));
	if (distcol != NULL &&
		strcmp(distcol, "_elt_batch_id") != 0 &&
		strcmp(distcol, "_elt_loaded_at") != 0 &&
		strcmp(distcol, "_elt_record") != 0)
	{
		AttrNumber	attnum = get_attnum(relid, distcol);

		if (strcmp(distcol, "_elt_parent") == 0 ||
			attnum == InvalidAttrNumber ||
			build_column_default(rel, attnum) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("staging table \"%s\" is distributed by column \"%s\", which an extract does not fill",
							staging_name(rel), distcol),
					 errdetail("An extract writes _elt_batch_id, _elt_loaded_at and _elt_record, and the defaults of the other columns; a record without a value of the distribution column cannot be placed in a shard."),
					 errhint("Distribute the staging table by _elt_record, or by a column with a default (such as an identity column).")));
	}

	ls->routed = true;
	ls->max_tuples = MAX_ROUTED_TUPLES;
	ls->max_bytes = MAX_ROUTED_BYTES;
	ls->store_desc = CreateTemplateTupleDesc(ls->att_parent >= 0 ? 2 : 1);
	TupleDescInitEntry(ls->store_desc, 1, "r", JSONBOID, -1, 0);
	if (ls->att_parent >= 0)
		TupleDescInitEntry(ls->store_desc, 2, "p", JSONBOID, -1, 0);

	/*
	 * Everything named qualified; the batch id and time come as parameters,
	 * the rows from the loader's tuplestore, which elt._load_rows() checks
	 * is the one of the load now flushing.
	 */
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (_elt_batch_id, _elt_loaded_at, _elt_record%s) "
					 "SELECT $1, $2, u.r%s FROM elt._load_rows($3::pg_catalog.int8) AS u (r pg_catalog.jsonb%s)",
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												RelationGetRelationName(rel)),
					 ls->att_parent >= 0 ? ", _elt_parent" : "",
					 ls->att_parent >= 0 ? ", u.p" : "",
					 ls->att_parent >= 0 ? ", p pg_catalog.jsonb" : "");
	ls->insert_sql = sql.data;
	ls->owner = CurrentResourceOwner;
	ls->batchcxt = AllocSetContextCreate(CurrentMemoryContext, "pg_elt load batch",
										 ALLOCSET_DEFAULT_SIZES);
	ls->recordcxt = AllocSetContextCreate(CurrentMemoryContext, "pg_elt load record",
										  ALLOCSET_DEFAULT_SIZES);
	ls->move_slot = MakeSingleTupleTableSlot(ls->store_desc, &TTSOpsMinimalTuple);
}

/*
 * A tuplestore for buffered records: in the batch's context, its temporary
 * file (should it spill) under the loader's resource owner, so that it
 * outlives the subtransaction that happens to add its first row.
 */
static Tuplestorestate *
load_new_store(LoadState *ls)
{
	MemoryContext old = MemoryContextSwitchTo(ls->batchcxt);
	ResourceOwner save = CurrentResourceOwner;
	Tuplestorestate *store;

	CurrentResourceOwner = ls->owner;
	/* room for a full buffer in memory: it spills only past twice that */
	store = tuplestore_begin_heap(true, false,
								  Max(work_mem, (int) (2 * MAX_ROUTED_BYTES / 1024)));
	CurrentResourceOwner = save;
	MemoryContextSwitchTo(old);
	return store;
}

/* End a tuplestore of the loader's, if there is one. */
static void
load_end_store(Tuplestorestate **store)
{
	if (*store != NULL)
		tuplestore_end(*store);
	*store = NULL;
}

/*
 * elt._load_rows(token): the rows a routed load has buffered, as the
 * tuplestore they are in, for the INSERT that load_write_routed runs.
 * Refused anywhere else: outside that INSERT, with any other token (a
 * random one per flush, passed as a parameter that no other code sees), or
 * a second time in one flush.
 */
PG_FUNCTION_INFO_V1(elt_load_rows);

Datum
elt_load_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LoadState  *ls = active_load;
	MemoryContext old;

	if (ls == NULL || ls->handed == NULL || PG_ARGISNULL(0) ||
		PG_GETARG_INT64(0) != ls->token)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("elt._load_rows() is internal to elt.extract"),
				 errdetail("It returns the records an extract is writing into a Citus staging table, from within that extract only.")));
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0 ||
		rsinfo->expectedDesc == NULL ||
		rsinfo->expectedDesc->natts != ls->store_desc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("elt._load_rows() must be called in a FROM clause with its column list")));

	/* the executor ends the tuplestore and frees the descriptor */
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = ls->handed;
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	rsinfo->setDesc = CreateTupleDescCopy(ls->store_desc);
	MemoryContextSwitchTo(old);
	ls->handed = NULL;
	PG_RETURN_NULL();
}

/*
 * Write the rows of one of the loader's tuplestores (nrows of them) with
 * one routed statement, prepared on first use and kept while the backend
 * loads into that table.  The executor ends the tuplestore.
 */
static void
load_write_routed(LoadState *ls, Tuplestorestate **store, int nrows)
{
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, INT8OID};
	Datum		values[3];

	if (!pg_strong_random(&ls->token, sizeof(ls->token)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random number")));
	values[0] = ls->batch_id;
	values[1] = ls->loaded_at;
	values[2] = Int64GetDatum(ls->token);
	SPI_connect();
	if (routed_plan.plan != NULL && strcmp(routed_plan_sql, ls->insert_sql) != 0)
	{
		internal_sql_forget_plan(&routed_plan);
		pfree(routed_plan_sql);
		routed_plan_sql = NULL;
	}
	if (routed_plan_sql == NULL)
		routed_plan_sql = MemoryContextStrdup(TopMemoryContext, ls->insert_sql);
	active_load = ls;
	ls->handed = *store;
	*store = NULL;
	PG_TRY();
	{
		internal_sql_exec_plan(&routed_plan, InvalidOid, routed_plan_sql, 3, types,
							   values, NULL, false, SPI_OK_INSERT);
	}
	PG_FINALLY();
	{
		/* not taken (an error before the scan): it is still ours to end */
		if (ls->handed != NULL)
			tuplestore_end(ls->handed);
		ls->handed = NULL;
		active_load = NULL;
	}
	PG_END_TRY();
	if (SPI_processed != (uint64) nrows)
		elog(ERROR, "routed insert into \"%s\" wrote " UINT64_FORMAT " rows of %d",
			 staging_name(ls->rel), SPI_processed, nrows);
	SPI_finish();
}

/*
 * The current page is loaded (its subtransaction about to commit): its
 * rows join the carry, which is written, in that subtransaction, once it
 * holds a buffer's worth or when the load ends (final).
 */
static void
load_commit_routed(LoadState *ls, bool final)
{
	if (ls->nbuffered > 0 && ls->carry_store == NULL)
	{
		ls->carry_store = ls->page_store;
		ls->page_store = NULL;
	}
	else if (ls->nbuffered > 0)
	{
		while (tuplestore_gettupleslot(ls->page_store, true, false, ls->move_slot))
			tuplestore_puttupleslot(ls->carry_store, ls->move_slot);
		ExecClearTuple(ls->move_slot);
		load_end_store(&ls->page_store);
	}
	ls->ncarry += ls->nbuffered;
	ls->carry_bytes += ls->bytes_buffered;
	ls->nbuffered = 0;
	ls->bytes_buffered = 0;
	if (ls->ncarry > 0 &&
		(final || ls->ncarry >= ls->max_tuples || ls->carry_bytes >= ls->max_bytes))
	{
		int			n = ls->ncarry;

		ls->ncarry = 0;
		ls->carry_bytes = 0;
		load_write_routed(ls, &ls->carry_store, n);
	}
	if (ls->carry_store == NULL && ls->page_store == NULL)
		MemoryContextReset(ls->batchcxt);
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
				 errmsg("staging table \"%s\" is not a plain table",
						staging_name(rel)),
				 errdetail("Extracts load into ordinary tables, not views, foreign or partitioned tables.")));
	desc = RelationGetDescr(rel);
	ls->natts = desc->natts;
	ls->att_batch = find_column(rel, "_elt_batch_id", INT8OID);
	ls->att_loaded = find_column(rel, "_elt_loaded_at", TIMESTAMPTZOID);
	ls->att_record = find_column(rel, "_elt_record", JSONBOID);
	ls->att_parent = find_optional_column(rel, "_elt_parent", JSONBOID);

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
	if (ls->att_parent >= 0)
		rte->insertedCols = bms_add_member(rte->insertedCols, ls->att_parent + 1 - FirstLowInvalidHeapAttributeNumber);
	if (!ExecCheckRTEPerms(rte))
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("staging table \"%s\" has row-level security enabled",
						staging_name(rel)),
				 errhint("Load into a table without row-level security and copy from there.")));
	if (rel->trigdesc && (rel->trigdesc->trig_insert_before_row ||
						  rel->trigdesc->trig_insert_after_row ||
						  rel->trigdesc->trig_insert_instead_row))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("staging table \"%s\" has row-level insert triggers",
						staging_name(rel)),
				 errdetail("Extracts write in bulk and do not fire row triggers; a transformation can read each batch by _elt_batch_id instead.")));
	if (desc->constr && desc->constr->has_generated_stored)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("staging table \"%s\" has generated columns",
						staging_name(rel))));

	ls->batch_id = Int64GetDatum(batch_id);
	ls->loaded_at = TimestampTzGetDatum(loaded_at);
	if (elt_table_kind(relid) != ELT_TABLE_LOCAL)
	{
		load_begin_routed(ls);
		return ls;
	}
	ls->max_tuples = MAX_BUFFERED_TUPLES;
	ls->max_bytes = MAX_BUFFERED_BYTES;

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
			i == ls->att_batch || i == ls->att_loaded || i == ls->att_record ||
			i == ls->att_parent)
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
	Datum		value;
	int			i;

	if (ls->routed)
	{
		Datum		values[2];
		bool		nulls[2] = {false, ls->parent == (Datum) 0};

		/*
		 * A page larger than the buffer: its rows so far are written alone,
		 * in its subtransaction, so that they roll back with it.
		 */
		if (ls->nbuffered >= ls->max_tuples || ls->bytes_buffered >= ls->max_bytes)
		{
			int			n = ls->nbuffered;

			ls->nbuffered = 0;
			ls->bytes_buffered = 0;
			MemoryContextSwitchTo(old);
			load_write_routed(ls, &ls->page_store, n);
			MemoryContextSwitchTo(ls->batchcxt);
		}
		if (ls->page_store == NULL)
			ls->page_store = load_new_store(ls);

		/* parsed in a context of its own: the store keeps a copy */
		MemoryContextReset(ls->recordcxt);
		MemoryContextSwitchTo(ls->recordcxt);
		values[0] = JsonbPGetDatum(records_jsonb(json, len, true));
		values[1] = ls->parent;
		MemoryContextSwitchTo(ls->batchcxt);
		tuplestore_putvalues(ls->page_store, ls->store_desc, values, nulls);
		MemoryContextSwitchTo(old);
		ls->nbuffered++;
		ls->bytes_buffered += len;
		return DatumGetJsonbP(values[0]);
	}

	/* the caller is done with the previous record's jsonb by now */
	if (ls->nbuffered >= ls->max_tuples ||
		ls->bytes_buffered >= ls->max_bytes)
	{
		MemoryContextSwitchTo(old);
		load_flush(ls);
		MemoryContextSwitchTo(ls->batchcxt);
	}

	/* checked as UTF-8, converted, parsed as jsonb_in would */
	value = JsonbPGetDatum(records_jsonb(json, len, true));

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
	if (ls->att_parent >= 0 && ls->parent != (Datum) 0)
	{
		slot->tts_values[ls->att_parent] = ls->parent;
		slot->tts_isnull[ls->att_parent] = false;
	}
	ExecStoreVirtualTuple(slot);
	if (ls->check_constraints)
		ExecConstraints(ls->rri, slot, ls->estate);
	MemoryContextSwitchTo(old);

	ls->nbuffered++;
	ls->bytes_buffered += len;
	return DatumGetJsonbP(value);
}

/*
 * The parent row of the records that follow (a fan-out child's), or NULL.
 * The value is the caller's: it must outlive the next flush.
 */
void
load_set_parent(LoadState *ls, Jsonb *parent)
{
	ls->parent = parent ? JsonbPGetDatum(parent) : (Datum) 0;
}

/*
 * Write the buffered rows and their index entries.  Into a Citus table:
 * the page is done, its rows join those written at the next statement
 * (see load_commit_routed).
 */
void
load_flush(LoadState *ls)
{
	int			i;

	if (ls->routed)
	{
		load_commit_routed(ls, false);
		return;
	}
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
	}
	ls->nbuffered = 0;
	ls->bytes_buffered = 0;
	MemoryContextReset(ls->batchcxt);
}

/*
 * Drop the buffered rows, and the buffer pin of the bulk insert state (its
 * resource owner is about to go away with the subtransaction).  Into a
 * Citus table: the current page's rows only, not those of the pages
 * before it that wait for the next statement.
 */
void
load_discard(LoadState *ls)
{
	int			i;

	if (ls->routed)
	{
		load_end_store(&ls->page_store);
		ls->nbuffered = 0;
		ls->bytes_buffered = 0;
		if (ls->carry_store == NULL)
			MemoryContextReset(ls->batchcxt);
		return;
	}
	for (i = 0; i < ls->nbuffered; i++)
		ExecClearTuple(ls->slots[i]);
	ls->nbuffered = 0;
	ls->bytes_buffered = 0;
	MemoryContextReset(ls->batchcxt);
	ReleaseBulkInsertStatePin(ls->bistate);
}

/*
 * Flush and release everything.
 */
void
load_end(LoadState *ls)
{
	int			i;

	if (ls->routed)
	{
		load_commit_routed(ls, true);
		ExecDropSingleTupleTableSlot(ls->move_slot);
		table_close(ls->rel, NoLock);
		MemoryContextDelete(ls->batchcxt);
		MemoryContextDelete(ls->recordcxt);
		return;
	}
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

/*
 * Write a failed batch through a record writer (durable.c), in a
 * transaction of its own, owned by the stream's owner.
 */
bool
load_record_failure(const BatchFailure *f)
{
	Oid			types[18] = {INT8OID, INT4OID, TEXTOID, TEXTOID, BOOLOID,
		TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, INT8OID, INT8OID, INT4OID,
	INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, OIDOID};
	const char *values[17];

	values[0] = psprintf(INT64_FORMAT, f->batch_id);
	values[1] = psprintf("%d", f->stream_id);
	values[2] = f->stream;
	values[3] = f->target;
	values[4] = f->full_refresh ? "true" : "false";
	values[5] = timestamptz_to_str(f->started_at);
	values[6] = timestamptz_to_str(f->finished_at);
	values[7] = psprintf("%d", f->pages);
	values[8] = psprintf(INT64_FORMAT, f->records);
	values[9] = psprintf(INT64_FORMAT, f->bytes);
	values[10] = psprintf("%d", f->requests);
	values[11] = psprintf("%d", f->retries);
	values[12] = f->cursor_before;
	values[13] = f->run_by;
	values[14] = f->error ? f->error : "";
	values[15] = f->sqlstate;
	values[16] = psprintf("%u", f->owner);
	return durable_exec(psprintf("failed batch %lld in elt.batch", (long long) f->batch_id),
						"INSERT INTO elt.batch (batch_id, stream_id, stream, target, full_refresh, "
						"started_at, finished_at, pages, records, bytes, requests, retries, "
						"cursor_before, cursor_after, username, error, error_code, status, owner, "
						"stop_reason) "
						"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, "
						"$14::pg_catalog.name, $15, $16, 'failed', $17::pg_catalog.regrole, "
						"'error') "
						"ON CONFLICT (batch_id) DO NOTHING",
						17, types, values, InvalidOid);
}

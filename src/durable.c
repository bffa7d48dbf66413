/*
 * durable.c
 *	  Statements committed apart from the calling transaction.
 *
 * A record of a failure has to be written while the caller's transaction
 * is about to roll back.  PostgreSQL has no autonomous transactions, so a
 * background worker runs the statement and commits it; the caller waits.
 * Arguments travel in a DSM segment in their text form and are read back
 * with their types' input functions, so any caller can pass any built-in
 * type without a struct of its own.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "durable.h"
#include "internal_sql.h"
#include "pg_elt.h"
#include "workers.h"

/* The segment: header, then the SQL and each non-null argument, NUL-ended. */
typedef struct DurableShared
{
	Oid			dboid;
	Oid			as_role;
	bool		done;
	int			nargs;
	Oid			types[DURABLE_MAX_ARGS];
	int			offsets[DURABLE_MAX_ARGS];	/* -1: null */
	char		strings[FLEXIBLE_ARRAY_MEMBER];	/* the SQL at offset 0 */
} DurableShared;

PGDLLEXPORT void elt_durable_main(Datum main_arg);

/*
 * Run sql with the given arguments (text forms, NULL for null) in a
 * worker's own transaction, as as_role (InvalidOid: the bootstrap
 * superuser).  "what" names the record in warnings.  Returns false, after a
 * WARNING, when it could not be written: the caller's own error is what
 * matters, so this never raises one.
 */
bool
durable_exec(const char *what, const char *sql, int nargs, const Oid *types,
			 const char *const *values, Oid as_role)
{
	Size		size;
	Size		off;
	dsm_segment *seg;
	DurableShared *ds;
	EltWorkerSpec spec = {0};
	char		name[BGW_MAXLEN];
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	bool		done;
	int			i;

	Assert(nargs <= DURABLE_MAX_ARGS);
	size = offsetof(DurableShared, strings) + strlen(sql) + 1;
	for (i = 0; i < nargs; i++)
		if (values[i])
			size += strlen(values[i]) + 1;
	seg = dsm_create(size, 0);
	ds = dsm_segment_address(seg);
	ds->dboid = MyDatabaseId;
	ds->as_role = as_role;
	ds->done = false;
	ds->nargs = nargs;
	off = strlen(sql) + 1;
	memcpy(ds->strings, sql, off);
	for (i = 0; i < nargs; i++)
	{
		ds->types[i] = types[i];
		if (values[i] == NULL)
			ds->offsets[i] = -1;
		else
		{
			Size		len = strlen(values[i]) + 1;

			memcpy(ds->strings + off, values[i], len);
			ds->offsets[i] = (int) off;
			off += len;
		}
	}

	snprintf(name, sizeof(name), "pg_elt record writer for PID %d", MyProcPid);
	spec.function = "elt_durable_main";
	spec.name = name;
	spec.type = "pg_elt record writer";
	spec.main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	spec.notify_pid = MyProcPid;

	if (!workers_register(&spec, &handle))
	{
		dsm_detach(seg);
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not record %s", what),
				 errhint("Raise max_worker_processes.")));
		return false;
	}
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED)
		status = WaitForBackgroundWorkerShutdown(handle);
	pg_read_barrier();
	done = ds->done;
	dsm_detach(seg);
	if (status != BGWH_STOPPED || !done)
	{
		ereport(WARNING,
				(errmsg("could not record %s", what),
				 errhint("See the server log.")));
		return false;
	}
	return true;
}

/*
 * Entry point of the record writer: read the arguments back with their
 * input functions, run the statement, commit, and say so in the segment.
 */
void
elt_durable_main(Datum main_arg)
{
	dsm_segment *seg;
	DurableShared *ds;
	Datum		values[DURABLE_MAX_ARGS];
	char		nulls[DURABLE_MAX_ARGS];
	int			i;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_elt record writer");
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		proc_exit(1);
	dsm_pin_mapping(seg);
	ds = dsm_segment_address(seg);
	BackgroundWorkerInitializeConnectionByOid(ds->dboid, BOOTSTRAP_SUPERUSERID, 0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_elt: writing a record");

	for (i = 0; i < ds->nargs; i++)
	{
		if (ds->offsets[i] < 0)
		{
			nulls[i] = 'n';
			values[i] = (Datum) 0;
		}
		else
		{
			Oid			input;
			Oid			ioparam;

			getTypeInputInfo(ds->types[i], &input, &ioparam);
			nulls[i] = ' ';
			values[i] = OidInputFunctionCall(input, ds->strings + ds->offsets[i],
											 ioparam, -1);
		}
	}
	(void) internal_sql_exec_as(ds->as_role, ds->strings, ds->nargs, ds->types,
								values, nulls, false, INTERNAL_SQL_ANY);

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	ds->done = true;
	pg_write_barrier();
	dsm_detach(seg);
	proc_exit(0);
}

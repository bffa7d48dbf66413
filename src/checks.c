/*
 * checks.c
 *	  Keeping the results of failed data-quality checks.
 *
 * elt.check() (src/sql/60_checks.sql) records every result in
 * elt.check_result.  A check of severity 'error' that fails raises an
 * error, which rolls back the transaction that called it, result included.
 * So the result of such a check is written by a short-lived background
 * worker in a transaction of its own, and survives: a failed step of a
 * pipeline leaves its evidence behind.  The row's owner is the role that
 * ran the check, taken from the caller's identity and not from the
 * payload, so no role can file results in another's name.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "checks.h"

/* What the keeper is given: in bgw_extra */
typedef struct KeepArgs
{
	Oid			dboid;
	Oid			owner;
	dsm_handle	handle;
} KeepArgs;

/* Shared with the keeper: the result as JSON text, and whether it was kept */
typedef struct KeepShared
{
	bool		kept;
	char		json[FLEXIBLE_ARRAY_MEMBER];
} KeepShared;

PG_FUNCTION_INFO_V1(elt_keep_check_result);

/*
 * elt._keep_check_result(result jsonb): write a check result in a
 * transaction of its own and wait until it is committed.  Returns false
 * (with a warning) when it could not be kept.
 */
Datum
elt_keep_check_result(PG_FUNCTION_ARGS)
{
	Jsonb	   *result = PG_GETARG_JSONB_P(0);
	char	   *json = JsonbToCString(NULL, &result->root, VARSIZE(result));
	Size		len = strlen(json);
	dsm_segment *seg;
	KeepShared *shared;
	KeepArgs	args;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;

	seg = dsm_create(offsetof(KeepShared, json) + len + 1, 0);
	shared = dsm_segment_address(seg);
	shared->kept = false;
	memcpy(shared->json, json, len + 1);

	args.dboid = MyDatabaseId;
	args.owner = GetUserId();
	args.handle = dsm_segment_handle(seg);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_elt");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "elt_keep_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_elt check result writer");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_elt check result writer");
	memcpy(worker.bgw_extra, &args, sizeof(args));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("the result of the failed check could not be kept in elt.check_result"),
				 errhint("Raise max_worker_processes.")));
		dsm_detach(seg);
		PG_RETURN_BOOL(false);
	}
	status = WaitForBackgroundWorkerShutdown(handle);
	pg_read_barrier();
	if (status != BGWH_STOPPED || !shared->kept)
	{
		ereport(WARNING,
				(errmsg("the result of the failed check could not be kept in elt.check_result"),
				 errhint("See the server log.")));
		dsm_detach(seg);
		PG_RETURN_BOOL(false);
	}
	dsm_detach(seg);
	PG_RETURN_BOOL(true);
}

/*
 * Entry point of the keeper: insert the result and commit.
 */
void
elt_keep_worker_main(Datum main_arg)
{
	KeepArgs	args;
	dsm_segment *seg;
	KeepShared *shared;
	Oid			types[2] = {TEXTOID, OIDOID};
	Datum		values[2];
	int			rc;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_elt check result writer");
	seg = dsm_attach(args.handle);
	if (seg == NULL)
		proc_exit(0);
	dsm_pin_mapping(seg);
	shared = dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(args.dboid, InvalidOid, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_elt: keeping a check result");

	values[0] = CStringGetTextDatum(shared->json);
	values[1] = ObjectIdGetDatum(args.owner);
	rc = SPI_execute_with_args("INSERT INTO elt.check_result "
							   "(checked_at, run_id, owner, relation, test, column_name, args, "
							   " severity, passed, failures, sample, detail) "
							   "SELECT r.checked_at, r.run_id, $2::regrole, r.relation, r.test, "
							   "       r.column_name, coalesce(r.args, '{}'), r.severity, r.passed, "
							   "       r.failures, r.sample, r.detail "
							   "FROM jsonb_populate_record(NULL::elt.check_result, $1::jsonb) r",
							   2, types, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "pg_elt: could not insert the check result (%d)", rc);

	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	shared->kept = true;
	pg_write_barrier();
	proc_exit(0);
}

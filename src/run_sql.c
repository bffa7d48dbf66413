/*
 * run_sql.c
 *	  The SQL functions that run, trigger and cancel pipelines:
 *	  elt.run_pipeline(), elt.trigger(), elt.cancel(), elt.current_run()
 *	  and elt._check_command().
 *
 * elt.run_pipeline() starts a run worker (runner.c) for a new manual run
 * and waits for its result in a DSM segment; elt.trigger() queues a run
 * for the launcher; elt.cancel() asks the worker of a run to stop it
 * through its run slot (shmem.c).
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "internal_sql.h"
#include "pg_elt.h"
#include "run_history.h"
#include "run_sql.h"
#include "run_steps.h"
#include "runner.h"
#include "shmem.h"
#include "workers.h"

PG_FUNCTION_INFO_V1(elt_run_pipeline);
PG_FUNCTION_INFO_V1(elt_trigger);
PG_FUNCTION_INFO_V1(elt_cancel);
PG_FUNCTION_INFO_V1(elt_current_run);
PG_FUNCTION_INFO_V1(elt_check_command);

/*
 * Find a pipeline by name as the calling role sees it (row-level security
 * hides other roles' pipelines, so they "do not exist").  Returns the id,
 * and its owner, step count and whether it was changed by the current
 * transaction.
 */
static int64
lookup_pipeline(const char *name, Oid *owner, int64 *nsteps, bool *changed_here,
				bool *paused)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	bool		isnull;
	int64		id;
	Datum		xmins;

	internal_sql_exec("SELECT p.pipeline_id, p.owner::pg_catalog.oid, "
					  "(SELECT pg_catalog.count(*) FROM elt.step s "
					  " WHERE s.pipeline_id OPERATOR(pg_catalog.=) p.pipeline_id), "
					  "ARRAY(SELECT s.xmin FROM elt.step s "
					  "      WHERE s.pipeline_id OPERATOR(pg_catalog.=) p.pipeline_id) "
					  "   OPERATOR(pg_catalog.||) p.xmin, p.paused "
					  "FROM elt.pipeline p WHERE p.name OPERATOR(pg_catalog.=) $1",
					  1, types, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("pipeline \"%s\" does not exist", name)));
	id = internal_sql_int64(0, 1, 0);
	*owner = internal_sql_oid(0, 2);
	*nsteps = internal_sql_int64(0, 3, 0);
	*paused = internal_sql_bool(0, 5, false);
	xmins = internal_sql_datum(0, 4, &isnull);
	*changed_here = false;
	if (!isnull)
	{
		Datum	   *elems;
		bool	   *enulls;
		int			n,
					k;

		deconstruct_array(DatumGetArrayTypeP(xmins), XIDOID, sizeof(TransactionId), true,
						  TYPALIGN_INT, &elems, &enulls, &n);
		for (k = 0; k < n; k++)
			if (!enulls[k] && TransactionIdIsCurrentTransactionId(DatumGetTransactionId(elems[k])))
				*changed_here = true;
	}
	return id;
}

/*
 * The data interval given to elt.run_pipeline() or elt.trigger(): both
 * bounds or neither, finite, the start not after the end.  0 and 0 when
 * none is given.
 */
static void
interval_args(FunctionCallInfo fcinfo, TimestampTz *start, TimestampTz *end)
{
	bool		has_start = PG_NARGS() > 1 && !PG_ARGISNULL(1);
	bool		has_end = PG_NARGS() > 2 && !PG_ARGISNULL(2);

	*start = 0;
	*end = 0;
	if (!has_start && !has_end)
		return;
	if (!has_start || !has_end)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a data interval needs both interval_start and interval_end")));
	*start = PG_GETARG_TIMESTAMPTZ(1);
	*end = PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(*start) || TIMESTAMP_NOT_FINITE(*end))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the bounds of a data interval must be finite")));
	if (*start > *end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("interval_start %s is after interval_end %s",
						timestamptz_to_str(*start), timestamptz_to_str(*end))));
	/* 0 means "none" in the worker's arguments: 2000-01-01 is moved by 1 us */
	if (*start == 0)
		*start = 1;
	if (*end == 0)
		*end = 1;
}

/*
 * The arguments of elt.run_pipeline() and elt.trigger(): the pipeline's
 * name, which must not be null, and the interval.
 */
static char *
pipeline_and_interval_args(FunctionCallInfo fcinfo, TimestampTz *start, TimestampTz *end)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("pipeline name must not be null")));
	interval_args(fcinfo, start, end);
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

/*
 * elt.run_pipeline(name): run a pipeline now and wait for the end of the
 * run.  Returns the run id; raises an error naming the run when it fails or
 * is cancelled (its history is kept, since the worker committed it).
 */
Datum
elt_run_pipeline(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			owner;
	int64		nsteps;
	bool		changed_here;
	bool		paused;
	int64		pipeline_id;
	const char *problem;
	dsm_segment *seg;
	RunResult  *result;
	RunWorkerArgs args;
	BackgroundWorkerHandle *handle;
	volatile BgwHandleStatus status = BGWH_STOPPED;
	TimestampTz interval_start;
	TimestampTz interval_end;

	name = pipeline_and_interval_args(fcinfo, &interval_start, &interval_end);
	shmem_require_preload("elt.run_pipeline()");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pipeline_id = lookup_pipeline(name, &owner, &nsteps, &changed_here, &paused);
	SPI_finish();

	if (changed_here)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pipeline \"%s\" was changed in the current transaction", name),
				 errdetail("A run executes in its own transactions and sees only committed definitions."),
				 errhint("Commit the definition first.")));
	if (nsteps == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pipeline \"%s\" has no steps", name),
				 errhint("Add steps with elt.add_step().")));
	problem = workers_run_owner_problem(owner);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("pipeline \"%s\" cannot run", name),
				 errdetail("The %s.", problem)));

	seg = dsm_create(sizeof(RunResult), 0);
	result = dsm_segment_address(seg);
	memset(result, 0, sizeof(RunResult));

	memset(&args, 0, sizeof(args));
	args.dboid = MyDatabaseId;
	args.owner = owner;
	args.run_id = 0;
	args.pipeline_id = pipeline_id;
	args.result = dsm_segment_handle(seg);
	args.interval_start = interval_start;
	args.interval_end = interval_end;
	if (!workers_start_run(&args, MyProcPid, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a run worker for pipeline \"%s\"", name),
				 errhint("Raise max_worker_processes, or wait for other runs to finish.")));

	PG_TRY();
	{
		status = WaitForBackgroundWorkerShutdown(handle);
	}
	PG_CATCH();
	{
		/* the caller was cancelled: cancel the run too */
		pg_read_barrier();
		if (result->run_id != 0)
		{
			pid_t		pid = run_slot_request_cancel(result->run_id, MyDatabaseId);

			if (pid != 0)
				kill(pid, SIGINT);
		}
		else
			TerminateBackgroundWorker(handle);
		PG_RE_THROW();
	}
	PG_END_TRY();
	pg_read_barrier();

	if (status == BGWH_POSTMASTER_DIED)
		ereport(ERROR,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("the server stopped during the run of pipeline \"%s\"", name)));
	if (!result->claimed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pipeline \"%s\" could not be started", name),
				 result->error[0] ? errdetail("The %s.", result->error)
				 : errdetail("The run worker exited before starting the run; see the server log.")));
	if (!result->finished)
		ereport(ERROR,
				(errcode(ERRCODE_ELT_RUN_FAILED),
				 errmsg("run %lld of pipeline \"%s\" ended abnormally",
						(long long) result->run_id, name),
				 errdetail("The run worker exited before the run finished; see the server log.")));
	if (strcmp(result->status, "cancelled") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ELT_RUN_CANCELLED),
				 errmsg("run %lld of pipeline \"%s\" was cancelled",
						(long long) result->run_id, name)));
	if (strcmp(result->status, "succeeded") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_ELT_RUN_FAILED),
				 errmsg("run %lld of pipeline \"%s\" failed",
						(long long) result->run_id, name),
				 errdetail("%s", result->error),
				 errhint("See elt.step_run for every attempt.")));
	{
		int64		run_id = result->run_id;

		dsm_detach(seg);
		PG_RETURN_INT64(run_id);
	}
}

/*
 * elt.trigger(name): queue a run for the scheduler and return its id.  The
 * scheduler starts it as soon as the transaction commits and no other run
 * of the pipeline is executing.
 */
Datum
elt_trigger(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			owner;
	int64		nsteps;
	bool		changed_here;
	bool		paused;
	int64		pipeline_id;
	int64		run_id;
	InternalSqlScope st;
	const char *dbname;
	TimestampTz interval_start;
	TimestampTz interval_end;

	name = pipeline_and_interval_args(fcinfo, &interval_start, &interval_end);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	pipeline_id = lookup_pipeline(name, &owner, &nsteps, &changed_here, &paused);

	shmem_require_preload("elt.trigger()");
	dbname = get_database_name(MyDatabaseId);
	if (dbname == NULL || elt_database == NULL || strcmp(dbname, elt_database) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the pg_elt scheduler does not run in database \"%s\"",
						dbname ? dbname : "?"),
				 errdetail("pg_elt.database is \"%s\".", elt_database ? elt_database : ""),
				 errhint("Use elt.run_pipeline() to run the pipeline from this session.")));

	internal_sql_begin(&st, BOOTSTRAP_SUPERUSERID);
	{
		Oid			types[3] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		values[3] = {Int64GetDatum(pipeline_id), TimestampTzGetDatum(interval_start),
		TimestampTzGetDatum(interval_end)};

		internal_sql_exec("INSERT INTO elt.run (pipeline_id, pipeline, owner, trigger, status, "
						  "interval_start, interval_end) "
						  "SELECT pipeline_id, name, owner, 'trigger', 'queued', $2, $3 "
						  "FROM elt.pipeline WHERE pipeline_id OPERATOR(pg_catalog.=) $1 "
						  "RETURNING run_id",
						  3, types, values, interval_start != 0 ? NULL : " nn", false,
						  SPI_OK_INSERT_RETURNING);
		run_id = internal_sql_int64(0, 1, 0);
	}
	internal_sql_end(&st);
	SPI_finish();

	shmem_wake_launcher_at_commit();
	if (paused)
		ereport(NOTICE,
				(errmsg("pipeline \"%s\" is paused: run %lld starts when it is resumed",
						name, (long long) run_id)));
	else if (!elt_scheduler_enabled)
		ereport(NOTICE,
				(errmsg("pg_elt.scheduler_enabled is off: run %lld starts when it is turned on",
						(long long) run_id)));
	PG_RETURN_INT64(run_id);
}

/*
 * elt.cancel(run_id): cancel a queued run, or stop a running one at once
 * (its current statement is interrupted and it is recorded as cancelled).
 * Returns false when the run had already finished.
 */
Datum
elt_cancel(PG_FUNCTION_ARGS)
{
	int64		run_id = PG_GETARG_INT64(0);
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(run_id)};
	char	   *status;
	bool		result = true;
	InternalSqlScope st;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	internal_sql_exec("SELECT status FROM elt.run WHERE run_id OPERATOR(pg_catalog.=) $1",
					  1, types, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("run %lld does not exist", (long long) run_id)));
	status = internal_sql_text(0, 1);

	if (strcmp(status, "queued") == 0)
	{
		internal_sql_begin(&st, BOOTSTRAP_SUPERUSERID);
		run_history_finish(run_id, "cancelled", "cancelled before it started", "queued");
		internal_sql_end(&st);
	}
	else if (strcmp(status, "running") == 0)
	{
		pid_t		pid = run_slot_request_cancel(run_id, MyDatabaseId);

		if (pid != 0)
		{
			TimestampTz deadline = GetCurrentTimestamp() + 10 * USECS_PER_SEC;

			kill(pid, SIGINT);
			/* wait until the worker has recorded the cancel and let go */
			while (run_slot_is_live(run_id, MyDatabaseId) &&
				   GetCurrentTimestamp() < deadline)
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 10, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
		}
		else
		{
			internal_sql_begin(&st, BOOTSTRAP_SUPERUSERID);
			run_history_finish(run_id, "cancelled",
							   "cancelled after its run worker had exited", "running");
			internal_sql_end(&st);
		}
	}
	else
	{
		ereport(NOTICE,
				(errmsg("run %lld has already finished with status \"%s\"",
						(long long) run_id, status)));
		result = false;
	}
	SPI_finish();
	PG_RETURN_BOOL(result);
}

/*
 * elt.current_run(): the id of the run executing the current step, or
 * NULL outside a run; steps may use it to tag what they write.
 */
Datum
elt_current_run(PG_FUNCTION_ARGS)
{
	if (run_steps_current_run == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(run_steps_current_run);
}

/*
 * elt._check_command(command): refuse a step whose command is not valid
 * SQL when it is defined, rather than at its first run.  Names are not
 * resolved: the objects may be created by earlier steps.
 */
static void
check_command_error_callback(void *arg)
{
	int			pos = geterrposition();

	if (pos > 0)
	{
		/* point into the step's command, not into the calling query */
		errposition(0);
		internalerrposition(pos);
		internalerrquery((const char *) arg);
	}
	errcontext("step command");
}

Datum
elt_check_command(PG_FUNCTION_ARGS)
{
	char	   *command = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ErrorContextCallback cb;
	List	   *parsed;

	cb.callback = check_command_error_callback;
	cb.arg = command;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	parsed = raw_parser(command, RAW_PARSE_DEFAULT);
	error_context_stack = cb.previous;
	if (parsed == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("step command contains no SQL statement")));
	PG_RETURN_VOID();
}

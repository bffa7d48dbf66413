/*
 * runner.c
 *	  The run worker: taking pipeline runs and ending them.
 *
 * Scheduled runs are started by the launcher (scheduler.c) for a queued
 * elt.run row; the worker takes the row by moving it from 'queued' to
 * 'running', which is what makes a second start of the same run
 * impossible.  elt.run_pipeline() (run_sql.c) starts a worker for a new
 * manual run and waits for it, so that a session gets the same semantics
 * as the scheduler (one transaction per step, retries, timeouts, history
 * that survives a failure) and an error when the run fails.
 *
 * A worker of scheduled runs lasts (pool.c): when it ends a run it takes
 * the next queued run of its owner in the same transaction, so that
 * between two runs there is one flushed commit, which also writes the
 * start of the next run's first step.  The run's steps are executed by
 * run_steps.c.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/prepare.h"
#include "commands/sequence.h"
#include "storage/lock.h"
#include "utils/portal.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "alerts.h"
#include "chaining.h"
#include "internal_sql.h"
#include "pg_elt.h"
#include "pool.h"
#include "run_history.h"
#include "run_steps.h"
#include "runner.h"
#include "shmem.h"
#include "workers.h"

/* A worker ending a run looks at this many queued runs for its next one */
#define NEXT_RUN_CANDIDATES 8

/* A queued run this worker has taken (queued -> running) */
typedef struct TakenRun
{
	int64		run_id;			/* 0: none */
	int64		pipeline_id;
	TimestampTz scheduled_at;	/* 0: none */
	bool		loaded;			/* def is read (at the end of the last run) */
	bool		found;			/* and the pipeline still exists */
	RunDef		def;
} TakenRun;

/* What internal_sql_begin changed while the worker writes history */
typedef InternalSqlScope AdminState;

static RunResult *run_result = NULL;

/* Kept plans of the statements executed for every run */
static InternalSqlPlan take_pipeline_plan;
static InternalSqlPlan take_run_plan;
static InternalSqlPlan next_run_plan;
static InternalSqlPlan lock_run_plan;
static InternalSqlPlan pipeline_queued_plan;

/* The session was reset since the last run (reset_session_state) */
static bool session_is_reset = false;
static void reset_session_state(void);

/*
 * Tell the waiting session (manual runs) how the run went.
 */
static void
set_result(bool claimed, bool finished, const char *status, const char *error)
{
	if (run_result == NULL)
		return;
	run_result->run_id = run_steps_current_run;
	run_result->claimed = claimed;
	run_result->finished = finished;
	if (status)
		strlcpy(run_result->status, status, sizeof(run_result->status));
	if (error)
		strlcpy(run_result->error, error, sizeof(run_result->error));
	pg_write_barrier();
}

/*
 * Take a queued run for this worker: queued -> running, with a run slot for
 * it, in the current history transaction.  A worker between two runs moves
 * the slot of the run it ends to the next one.  Returns false when the run
 * is no longer queued (cancelled, or taken by another worker) or a queued
 * run of the same pipeline executes in another worker right now (two
 * workers may pick runs of one pipeline at the same moment: the run slots
 * decide).  With pipeline_id 0 it is read from the run.
 */
static bool
take_queued_run(TakenRun *taken, int64 run_id, int64 pipeline_id)
{
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		values[2] = {Int64GetDatum(run_id), Int32GetDatum(MyProcPid)};
	bool		isnull;

	if (pipeline_id == 0)
	{
		internal_sql_exec_plan(&take_pipeline_plan, InvalidOid, "SELECT pipeline_id FROM elt.run WHERE run_id OPERATOR(pg_catalog.=) $1",
						  1, types, values, NULL, false, SPI_OK_SELECT);
		if (SPI_processed != 1)
			return false;
		pipeline_id = internal_sql_int64(0, 1, 0);
	}
	if (!run_slot_take_queued(run_id, pipeline_id))
		return false;
	internal_sql_exec_plan(&take_run_plan, InvalidOid, "UPDATE elt.run SET status = 'running', "
					  "started_at = greatest(pg_catalog.clock_timestamp(), scheduled_at), pid = $2 "
					  "WHERE run_id OPERATOR(pg_catalog.=) $1 "
					  "AND status OPERATOR(pg_catalog.=) 'queued' "
					  "RETURNING scheduled_at",
					  2, types, values, NULL, false, SPI_OK_UPDATE_RETURNING);
	if (SPI_processed != 1)
	{
		run_slot_undo_take();
		return false;
	}
	taken->run_id = run_id;
	taken->pipeline_id = pipeline_id;
	taken->scheduled_at = DatumGetTimestampTz(internal_sql_datum(0, 1, &isnull));
	if (isnull)
		taken->scheduled_at = 0;
	return true;
}

/*
 * At the end of a run, in the transaction that ends it: take the next run
 * at once when the oldest queued run that may start is one of this
 * worker's owner, in the launcher's order (scheduler.c), so that a burst
 * of short runs does not wait for a launcher pass between two runs.  The
 * launcher still starts everything else: runs of other owners, and runs
 * while a worker is free.  Workers that end runs at the same moment do
 * not queue up on the same run: each skips the runs another one is
 * taking, and the run slots keep them from taking two runs of one
 * pipeline.  Returns false when no run was taken.
 */
static bool
take_next_run(TakenRun *taken, Oid owner)
{
	int64		run_ids[NEXT_RUN_CANDIDATES];
	int64		pipeline_ids[NEXT_RUN_CANDIDATES];
	Oid			owners[NEXT_RUN_CANDIDATES];
	int			n;
	int			i;

	/*
	 * The oldest queued runs that may start, from the index of active runs;
	 * the pipelines of the first few only are looked at (a paused
	 * pipeline's runs stay queued), whatever the planner thinks of them.
	 * When the oldest are all paused ones, the launcher starts the next.
	 */
	internal_sql_exec_plan(&next_run_plan, InvalidOid,
						   "SELECT s.run_id, s.pipeline_id, s.owner FROM "
						   "(SELECT r.run_id, r.pipeline_id, "
						   " (SELECT p.owner::pg_catalog.oid FROM elt.pipeline p "
						   "  WHERE p.pipeline_id OPERATOR(pg_catalog.=) r.pipeline_id AND NOT p.paused) AS owner "
						   " FROM (SELECT q.run_id, q.pipeline_id FROM elt.run q "
						   "       WHERE q.status OPERATOR(pg_catalog.=) 'queued' "
						   "       AND q.pipeline_id OPERATOR(pg_catalog.<>) ALL "
						   "       (SELECT a.pipeline_id FROM elt.run a WHERE a.status OPERATOR(pg_catalog.=) 'running') "
						   "       ORDER BY coalesce(q.scheduled_at, q.queued_at), q.run_id "
						   "       LIMIT " CppAsString2(NEXT_RUN_CANDIDATES) ") r) s "
						   "WHERE s.owner IS NOT NULL",
						   0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	n = (int) SPI_processed;
	for (i = 0; i < n; i++)
	{
		run_ids[i] = internal_sql_int64(i, 1, 0);
		pipeline_ids[i] = internal_sql_int64(i, 2, 0);
		owners[i] = internal_sql_oid(i, 3);
	}
	for (i = 0; i < n; i++)
	{
		Oid			types[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(run_ids[i])};

		/* the oldest run is another owner's: the launcher starts it */
		if (owners[i] != owner)
			return false;
		/* another worker is taking this one: the next, rather than wait */
		internal_sql_exec_plan(&lock_run_plan, InvalidOid,
							   "SELECT 1 FROM elt.run WHERE run_id OPERATOR(pg_catalog.=) $1 "
							   "AND status OPERATOR(pg_catalog.=) 'queued' FOR UPDATE SKIP LOCKED",
							   1, types, values, NULL, false, SPI_OK_SELECT);
		if (SPI_processed != 1)
			continue;
		/* the launcher fails the runs of an owner who may no longer log in */
		if (workers_run_owner_problem(owner) != NULL)
			return false;
		if (take_queued_run(taken, run_ids[i], pipeline_ids[i]))
			return true;
	}
	return false;
}

/*
 * Begin the transaction that ends a run, resetting the session first
 * (reset_session_state) if asked.
 */
static void
begin_run_end(AdminState *st, bool reset)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (reset)
		reset_session_state();
	run_steps_admin_begin_started(st, true);
}

/*
 * Execute one run: take it (queued -> running, or create the manual run;
 * a run taken already at the end of the previous one is in *taken),
 * execute its steps and end it.  A lasting worker may take its next run in
 * the transaction that ends this one: then *taken holds it on return, its
 * definition read into nextcxt.
 */
static void
run_once(RunWorkerArgs *args, TakenRun *taken, MemoryContext runcxt,
		 MemoryContext nextcxt)
{
	RunDef		run;
	AdminState	st;
	const char *status;
	char	   *error;
	bool		ok;
	volatile bool next_taken = false;
	volatile bool wake = true;
	volatile int task;

	memset(&run, 0, sizeof(run));
	run.run_id = args->run_id;
	run.pipeline_id = args->pipeline_id;

	/*
	 * take the run: queued -> running, or create the manual run.  Not
	 * flushed on its own: the durable start of the first step (or the end
	 * of the run) flushes it, and a claim lost in a crash before that has
	 * executed nothing, so the run is simply still queued.
	 */
	if (taken->loaded)
	{
		/* taken and read in the transaction that ended the last run */
		run = taken->def;
		run.run_id = taken->run_id;
		run.pipeline_id = taken->pipeline_id;
		run.scheduled_at = taken->scheduled_at;
		ok = taken->found;
		memset(taken, 0, sizeof(TakenRun));
		run_steps_current_run = run.run_id;
		goto taken_run;
	}
	/* durable: it writes the first step's start (run_steps_record_first_start) */
	run_steps_admin_begin(&st, true);
	if (args->run_id != 0)
	{
		ok = take_queued_run(taken, args->run_id, 0);
		run.pipeline_id = taken->pipeline_id;
		run.scheduled_at = taken->scheduled_at;
	}
	else
	{
		Oid			types[4] = {INT8OID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		values[4] = {Int64GetDatum(args->pipeline_id), Int32GetDatum(MyProcPid),
			TimestampTzGetDatum(args->interval_start), TimestampTzGetDatum(args->interval_end)};
		bool		has_interval = (args->interval_start != 0 || args->interval_end != 0);

		internal_sql_exec("INSERT INTO elt.run (pipeline_id, pipeline, owner, trigger, status, started_at, pid, "
						  "interval_start, interval_end) "
						  "SELECT pipeline_id, name, owner, 'manual', 'running', "
						  "pg_catalog.clock_timestamp(), $2, $3, $4 "
						  "FROM elt.pipeline WHERE pipeline_id OPERATOR(pg_catalog.=) $1 "
						  "RETURNING run_id",
						  4, types, values, has_interval ? NULL : "  nn", false, SPI_OK_INSERT_RETURNING);
		ok = (SPI_processed == 1);
		if (ok)
			run.run_id = internal_sql_int64(0, 1, 0);
		else
			set_result(false, false, NULL, "the pipeline no longer exists");
		if (ok && !run_slot_claim(run.run_id))
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("too many pipeline runs at once")));
	}
	memset(taken, 0, sizeof(TakenRun));
	if (!ok)
	{
		/* cancelled before it started, or already taken: nothing to do */
		run_steps_admin_commit(&st);
		return;
	}
	run_steps_current_run = run.run_id;
	ok = run_steps_load_definition(&run, runcxt);
	if (ok)
		run_steps_record_first_start(&run);
	run_steps_admin_commit(&st);
taken_run:
	session_is_reset = false;
	set_result(true, false, NULL, NULL);

	{
		char		appname[64];

		snprintf(appname, sizeof(appname), "pg_elt run %lld", (long long) run.run_id);
		pgstat_report_appname(appname);
	}

	/* started a little early by the launcher: wait for the due time */
	if (run.scheduled_at != 0)
	{
		TimestampTz now = GetCurrentTimestamp();

		if (run.scheduled_at > now)
			(void) run_steps_sleep((run.scheduled_at - now + 999) / 1000);
	}

	if (!ok)
	{
		status = "failed";
		error = pstrdup("the pipeline no longer exists");
	}
	else if (run.nsteps == 0)
	{
		status = "failed";
		error = pstrdup("the pipeline has no steps");
	}
	else
		status = run_steps_execute(&run, runcxt, &error, args->owner);

	/*
	 * A lasting worker resets its session for the next run in the same
	 * transaction, unless alerts are to be sent first (as the owner, after
	 * this commits).
	 */
	begin_run_end(&st, args->result == DSM_HANDLE_INVALID && !run.has_alerts);
	run_history_defer_notifications(true);
	run_steps_write_last_end(&run);
	run_history_finish(run.run_id, status, error, "running");
	/* with the end of the run, so the runs that follow it are queued once */
	if (strcmp(status, "succeeded") == 0)
		(void) chaining_queue_after(run.run_id);

	/*
	 * A worker that lasts takes its next run here, unless alerts are to be
	 * sent first (they would delay it).  A manual run's worker ends with
	 * its run: its session waits for that.
	 */
	if (args->result == DSM_HANDLE_INVALID && !run.has_alerts)
		next_taken = take_next_run(taken, args->owner);
	if (next_taken)
	{
		Oid			types[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(run.pipeline_id)};

		memset(&taken->def, 0, sizeof(RunDef));
		taken->def.run_id = taken->run_id;
		taken->def.pipeline_id = taken->pipeline_id;
		taken->found = run_steps_load_definition(&taken->def, nextcxt);
		taken->loaded = true;
		if (taken->found)
		{
			taken->def.scheduled_at = taken->scheduled_at;
			run_steps_record_first_start(&taken->def);
		}

		/*
		 * The launcher need not hear of this worker, which frees nothing,
		 * unless the pipeline of the run that ends has another run queued.
		 */
		internal_sql_exec_plan(&pipeline_queued_plan, InvalidOid,
							   "SELECT 1 FROM elt.run WHERE pipeline_id OPERATOR(pg_catalog.=) $1 "
							   "AND status OPERATOR(pg_catalog.=) 'queued' LIMIT 1",
							   1, types, values, NULL, false, SPI_OK_SELECT);
		wake = (SPI_processed > 0);
	}
	run_steps_admin_commit(&st);

	/*
	 * A cancel of the run that ended can arrive late (its signal after the
	 * request was seen): it must not interrupt what follows.  A cancel of
	 * the next run is kept in that run's slot.
	 */
	QueryCancelPending = false;
	set_result(true, true, status, error);
	if (next_taken)
		run_slot_ended();
	else
		run_slot_release();
	run_steps_current_run = 0;

	/*
	 * After the end is committed: the notifications (not in the end's
	 * transaction, which other workers' commits would wait for), then the
	 * alerts (a slow webhook delays nothing else).  Neither may stop the
	 * worker, which may hold its next run already.
	 */
	for (task = 0; task < 2; task++)
	{
		PG_TRY();
		{
			if (task == 0)
				run_history_send_notifications();
			else if (run.has_alerts)
				alerts_after_run(run.run_id, args->owner);
		}
		PG_CATCH();
		{
			HOLD_INTERRUPTS();
			EmitErrorReport();
			FlushErrorState();
			AbortOutOfAnyTransaction();
			RESUME_INTERRUPTS();
			MemoryContextSwitchTo(run_steps_worker_cxt);
		}
		PG_END_TRY();
	}

	/* the launcher learns of a free worker, or of a run that may start */
	if (wake)
		shmem_wake_launcher();
}

/*
 * Reset the session between two runs of a lasting worker (pool.c), as
 * DISCARD ALL does: settings, temporary tables, prepared statements,
 * cursors, advisory locks, LISTENs and sequence caches of one run do not
 * reach the next.  Only the plan cache is kept, which holds no state a
 * step could see (plans are checked against the current search_path, role
 * and relations whenever they are used), so that the statements the
 * worker runs for every run are not planned again each time.
 */
static void
reset_session_state(void)
{
	PortalHashTableDeleteAll();
	SetPGVariable("session_authorization", NIL, false);
	ResetAllOptions();
	DropAllPreparedStatements();
	Async_UnlistenAll();
	LockReleaseAll(USER_LOCKMETHOD, true);
	ResetTempTableNamespace();
	ResetSequenceCaches();
	session_is_reset = true;
}

static void
reset_session(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	reset_session_state();
	CommitTransactionCommand();
	MemoryContextSwitchTo(run_steps_worker_cxt);
}

/*
 * Entry point of a run worker.  After a scheduled run it waits a while for
 * the launcher to hand it the next queued run of the same owner (pool.c);
 * a manual run's worker exits, since its session waits for that.
 */
void
elt_run_worker_main(Datum main_arg)
{
	RunWorkerArgs args;
	TakenRun	taken;
	MemoryContext runcxts[2];
	int			cur = 0;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (args.result != DSM_HANDLE_INVALID)
	{
		dsm_segment *seg;

		CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_elt run worker");
		seg = dsm_attach(args.result);
		if (seg == NULL)
			proc_exit(0);		/* the session that asked is gone */
		dsm_pin_mapping(seg);
		run_result = dsm_segment_address(seg);
	}

	BackgroundWorkerInitializeConnectionByOid(args.dboid, args.owner, 0);
	run_steps_init_worker();
	/* one for the run, one for the next run's definition, taking turns */
	runcxts[0] = AllocSetContextCreate(TopMemoryContext, "pg_elt run", ALLOCSET_DEFAULT_SIZES);
	runcxts[1] = AllocSetContextCreate(TopMemoryContext, "pg_elt run", ALLOCSET_DEFAULT_SIZES);
	run_steps_worker_cxt = AllocSetContextCreate(TopMemoryContext, "pg_elt run worker", ALLOCSET_DEFAULT_SIZES);

	memset(&taken, 0, sizeof(taken));
	for (;;)
	{
		if (!taken.loaded)
			MemoryContextReset(runcxts[cur]);
		MemoryContextReset(runcxts[1 - cur]);
		MemoryContextReset(run_steps_worker_cxt);
		MemoryContextSwitchTo(run_steps_worker_cxt);
		run_once(&args, &taken, runcxts[cur], runcxts[1 - cur]);
		if (taken.loaded)
			cur = 1 - cur;
		if (args.result != DSM_HANDLE_INVALID)
			break;
		if (!session_is_reset)
			reset_session();
		if (taken.run_id != 0)
			continue;			/* taken at the end of the last run */
		args.run_id = pool_wait_for_run(args.owner, POOL_IDLE_MS);
		if (args.run_id == 0)
			break;
	}
	proc_exit(0);
}

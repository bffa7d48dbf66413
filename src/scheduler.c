/*
 * scheduler.c
 *	  The launcher: a background worker in the database named by
 *	  pg_elt.database that turns due schedules into runs and starts each run
 *	  in a dynamic background worker (runner.c), up to pg_elt.max_workers,
 *	  or hands it to a run worker of the same owner that waits for one
 *	  (pool.c).
 *
 * The launcher never polls.  It sleeps on its latch until the earliest
 * next_run_at of an active pipeline, and is woken earlier by any committed
 * change to a pipeline or step (a trigger calls elt._wake_scheduler(),
 * which sets the latch when the transaction commits), by elt.trigger(), by
 * a run worker that exits, and by a reload.  When the extension is not
 * installed in its database it waits, quietly, for CREATE EXTENSION (whose
 * script wakes it too).
 *
 * Its latch and the slots of executing runs are in shared memory
 * (shmem.c): a run marked 'running' without a slot has lost its worker,
 * and the launcher fails it (run_history.c) instead of running it again.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "internal_sql.h"
#include "pg_elt.h"
#include "cron.h"
#include "intervals.h"
#include "options.h"
#include "pool.h"
#include "run_history.h"
#include "scheduler.h"
#include "shmem.h"
#include "workers.h"

/* Start a scheduled run's worker this long before its due time */
#define LAUNCH_LEAD_MS 30
/* Longest sleep, as a safety net; every change wakes the launcher anyway */
#define MAX_SLEEP_MS (3600 * 1000L)
/* a pass soon after one that saw a running run without its worker */
#define LOST_RECHECK_MS 200L
/* How long to wait for CREATE EXTENSION before looking again */
#define NOT_INSTALLED_SLEEP_MS (300 * 1000L)
/* At most this many missed runs are queued by catchup at once */
#define MAX_CATCHUP_RUNS 1000
#define MAX_LAUNCHED 256

/* Launcher-local state */
typedef struct LaunchedRun
{
	int64		run_id;			/* 0 while the worker waits (pool.c) */
	int64		pipeline_id;
	Oid			owner;
	BackgroundWorkerHandle *handle;
} LaunchedRun;

static LaunchedRun launched[MAX_LAUNCHED];
static int	nlaunched = 0;
static bool first_pass = true;
static bool waiting_logged = false;
static char *last_timezone = NULL;
static TimestampTz last_register_warning = 0;

/*
 * Kept plans of the statements of every pass: with many pipelines due at
 * once, planning them again for each one would delay the runs it queues.
 */
static InternalSqlPlan due_plan;
static InternalSqlPlan move_next_plan;
static InternalSqlPlan insert_run_plan;
static InternalSqlPlan queued_plan;
static InternalSqlPlan next_due_plan;
static MemoryContext pass_cxt = NULL;	/* reset at each pass */

PG_FUNCTION_INFO_V1(elt_wake_scheduler);
PG_FUNCTION_INFO_V1(elt_scheduler_pid);
PG_FUNCTION_INFO_V1(elt_require_scheduler);

/*
 * Does the launcher work for the current database?  It runs in one
 * database, pg_elt.database, and only under shared_preload_libraries.
 */
static bool
scheduler_serves_this_database(void)
{
	const char *dbname;

	if (elt_shared == NULL || elt_database == NULL)
		return false;
	dbname = get_database_name(MyDatabaseId);
	return dbname != NULL && strcmp(dbname, elt_database) == 0;
}

/*
 * Called from _PG_init: define this area's settings and, under
 * shared_preload_libraries, register the launcher.
 */
void
scheduler_init(void)
{
	EltWorkerSpec spec = {0};

	cron_define_gucs();

	if (!process_shared_preload_libraries_in_progress)
		return;

	spec.function = "elt_launcher_main";
	spec.name = "pg_elt scheduler";
	spec.type = "pg_elt scheduler";
	spec.restart_secs = 10;
	(void) workers_register(&spec, NULL);
}

/*
 * elt._wake_scheduler(): called by the triggers on the definition tables
 * and by the extension script.
 */
Datum
elt_wake_scheduler(PG_FUNCTION_ARGS)
{
	shmem_wake_launcher_at_commit();
	PG_RETURN_VOID();
}

/*
 * elt.scheduler_pid(): the launcher's process id, or NULL when it is not
 * running, for monitoring and tests.
 */
Datum
elt_scheduler_pid(PG_FUNCTION_ARGS)
{
	pid_t		pid;

	/* another database's scheduler does not run this one's pipelines */
	if (!scheduler_serves_this_database())
		PG_RETURN_NULL();
	LWLockAcquire(elt_shared->lock, LW_SHARED);
	pid = elt_shared->launcher_pid;
	LWLockRelease(elt_shared->lock);
	if (pid == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(pid);
}

/*
 * elt._require_scheduler(pipeline): refuse a schedule in a database where
 * no scheduler runs, which would otherwise be accepted and never fire.
 * Called by the trigger on elt.pipeline when a schedule is set.
 */
Datum
elt_require_scheduler(PG_FUNCTION_ARGS)
{
	const char *name = PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *dbname;

	if (scheduler_serves_this_database())
		PG_RETURN_VOID();
	dbname = get_database_name(MyDatabaseId);
	if (elt_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pipeline \"%s\" cannot have a schedule: the pg_elt scheduler is not running", name),
				 errdetail("The scheduler needs pg_elt in shared_preload_libraries."),
				 errhint("Add pg_elt to shared_preload_libraries and restart the server, or define the pipeline without a schedule and run it with elt.run_pipeline().")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("pipeline \"%s\" cannot have a schedule in database \"%s\"",
					name, dbname ? dbname : "?"),
			 errdetail("The pg_elt scheduler runs in database \"%s\" (pg_elt.database) and starts only the pipelines defined there.",
					   elt_database),
			 errhint("Define scheduled pipelines in database \"%s\", or define this one without a schedule and run it with elt.run_pipeline().",
					 elt_database)));
	PG_RETURN_VOID();
}

/*
 * on_shmem_exit callback of the launcher: forget its latch.
 */
static void
launcher_exit(int code, Datum arg)
{
	if (elt_shared == NULL)
		return;
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	if (elt_shared->launcher_pid == MyProcPid)
	{
		elt_shared->launcher_pid = 0;
		elt_shared->launcher_latch = NULL;
	}
	LWLockRelease(elt_shared->lock);
}

/* Launcher transactions: SPI connected, with a snapshot. */
static void
launcher_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
launcher_commit(void)
{
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	MemoryContextSwitchTo(pass_cxt);
}

/*
 * Forget workers that have exited; return the runs they were executing so
 * that their rows can be checked.  A worker that waits for its next run
 * (pool.c) executes none.
 */
static List *
reap_launched(void)
{
	List	   *stopped = NIL;
	int			i = 0;

	while (i < nlaunched)
	{
		pid_t		pid;
		BgwHandleStatus hs = GetBackgroundWorkerPid(launched[i].handle, &pid);

		if (hs == BGWH_STARTED && launched[i].run_id != 0 && pool_is_idle(pid))
		{
			launched[i].run_id = 0;
			launched[i].pipeline_id = 0;
		}
		else if (hs == BGWH_STARTED && launched[i].run_id != 0)
		{
			int64		run_id;
			int64		pipeline_id;

			/* it may have gone on to a next run by itself (runner.c) */
			if (run_slot_run_of(pid, MyDatabaseId, &run_id, &pipeline_id) &&
				pipeline_id != 0 && run_id != launched[i].run_id)
			{
				launched[i].run_id = run_id;
				launched[i].pipeline_id = pipeline_id;
			}
		}
		if (hs == BGWH_STOPPED && launched[i].run_id == 0)
		{
			pfree(launched[i].handle);
			launched[i] = launched[--nlaunched];
			continue;
		}
		if (hs == BGWH_STOPPED)
		{
			int64	   *id = MemoryContextAlloc(pass_cxt, sizeof(int64));

			*id = launched[i].run_id;
			{
				MemoryContext old = MemoryContextSwitchTo(pass_cxt);

				stopped = lappend(stopped, id);
				MemoryContextSwitchTo(old);
			}
			pfree(launched[i].handle);
			launched[i] = launched[--nlaunched];
			continue;
		}
		i++;
	}
	return stopped;
}

/*
 * Re-evaluate the next fire time of cron schedules that follow
 * pg_elt.timezone, after it changed (or at start, in case it changed
 * while the launcher was down).  Past-due times are kept, so that a missed
 * run is still seen as missed.
 */
static void
recompute_for_timezone(TimestampTz now)
{
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	int			i,
				n;
	int64	   *ids;
	TimestampTz *next;

	internal_sql_exec("SELECT pipeline_id, schedule FROM elt.pipeline "
					  "WHERE schedule IS NOT NULL AND NOT options OPERATOR(pg_catalog.?) 'timezone' "
					  "AND next_run_at OPERATOR(pg_catalog.>) $1",
					  1, &types[1], (Datum[]) {TimestampTzGetDatum(now)}, NULL, false, SPI_OK_SELECT);
	n = SPI_processed;
	ids = palloc(sizeof(int64) * (n + 1));
	next = palloc(sizeof(TimestampTz) * (n + 1));
	for (i = 0; i < n; i++)
	{
		CronSchedule s;
		char	   *schedule = internal_sql_text(i, 2);

		ids[i] = internal_sql_int64(i, 1, 0);
		cron_parse(schedule, &s);
		next[i] = (s.kind == CRON_FIELDS) ? cron_next(&s, now, cron_lookup_tz(NULL)) : 0;
	}
	for (i = 0; i < n; i++)
	{
		if (next[i] == 0)
			continue;
		internal_sql_exec("UPDATE elt.pipeline SET next_run_at = $2 "
						  "WHERE pipeline_id OPERATOR(pg_catalog.=) $1",
						  2, types, (Datum[]) {Int64GetDatum(ids[i]), TimestampTzGetDatum(next[i])},
						  NULL, false, SPI_OK_UPDATE);
	}
}

/*
 * Insert one run of a pipeline, queued or recorded as skipped, covering the
 * data interval from the previous fire time (0: none) to its own.
 */
static void
insert_run(int64 pipeline_id, const char *trigger, const char *status,
		   TimestampTz scheduled_at, TimestampTz interval_start, const char *error)
{
	Oid			types[6] = {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', error ? ' ' : 'n', interval_start ? ' ' : 'n'};

	values[0] = Int64GetDatum(pipeline_id);
	values[1] = CStringGetTextDatum(trigger);
	values[2] = CStringGetTextDatum(status);
	values[3] = TimestampTzGetDatum(scheduled_at);
	values[4] = error ? CStringGetTextDatum(error) : (Datum) 0;
	values[5] = TimestampTzGetDatum(interval_start);
	internal_sql_exec_plan(&insert_run_plan, InvalidOid,
						   "INSERT INTO elt.run (pipeline_id, pipeline, owner, trigger, status, "
					  "scheduled_at, finished_at, error, interval_start, interval_end) "
					  "SELECT pipeline_id, name, owner, $2, $3, $4, "
					  "CASE WHEN $3 OPERATOR(pg_catalog.=) 'skipped' "
					  "THEN pg_catalog.clock_timestamp() END, $5, $6, $4 "
					  "FROM elt.pipeline WHERE pipeline_id OPERATOR(pg_catalog.=) $1",
					  6, types, values, nulls, false, SPI_OK_INSERT);
}

/*
 * Turn every schedule due by now (plus the launch lead) into runs, and move
 * its next_run_at past now.  Without catchup a pipeline that missed several
 * fire times (server down, scheduler disabled) gets one run, not a burst.
 */
static void
create_due_runs(TimestampTz now)
{
	TimestampTz horizon = now + LAUNCH_LEAD_MS * INT64CONST(1000);
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	int			i,
				n;
	SPITupleTable *due;

	internal_sql_exec_plan(&due_plan, InvalidOid,
						   "SELECT p.pipeline_id, p.schedule, p.options, p.next_run_at, "
					  "(SELECT pg_catalog.max(r.run_id) FROM elt.run r "
					  " WHERE r.pipeline_id OPERATOR(pg_catalog.=) p.pipeline_id "
					  " AND r.status OPERATOR(pg_catalog.=) ANY ('{queued,running}'::pg_catalog.text[])) "
					  "FROM elt.pipeline p "
					  "WHERE NOT p.paused AND p.schedule IS NOT NULL "
					  "AND p.next_run_at OPERATOR(pg_catalog.<=) $1 "
					  "ORDER BY p.next_run_at",
					  1, &types[1], (Datum[]) {TimestampTzGetDatum(horizon)}, NULL, false, SPI_OK_SELECT);
	due = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = due->vals[i];
		TupleDesc	desc = due->tupdesc;
		bool		isnull;
		int64		pipeline_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		char	   *schedule = SPI_getvalue(tup, desc, 2);
		Jsonb	   *options = DatumGetJsonbP(SPI_getbinval(tup, desc, 3, &isnull));
		OptionValues ov;
		char	   *tzname;
		bool		catchup;
		char	   *overlap;
		TimestampTz old_next = DatumGetTimestampTz(SPI_getbinval(tup, desc, 4, &isnull));
		bool		active_null;
		int64		active = DatumGetInt64(SPI_getbinval(tup, desc, 5, &active_null));
		CronSchedule s;
		pg_tz	   *tz;
		TimestampTz t;
		TimestampTz *times;
		int			ntimes = 0;
		int			first;
		int			j;
		long		iterations = 0;

		options_parse(&ov, &pipeline_options_table, &options->root, 0);
		tzname = options_get_text(&ov, "timezone");
		catchup = options_get_bool(&ov, "catchup");
		overlap = options_get_text(&ov, "overlap");
		cron_parse(schedule, &s);
		tz = cron_lookup_tz(tzname);
		times = palloc(sizeof(TimestampTz) * MAX_CATCHUP_RUNS);
		for (t = old_next; t <= horizon && t != DT_NOEND; t = cron_next(&s, t, tz))
		{
			times[ntimes % MAX_CATCHUP_RUNS] = t;
			ntimes++;
			if (++iterations > 10000000)
				break;
		}
		if (ntimes == 0)
			continue;

		/* move next_run_at first: a concurrent redefinition wins */
		internal_sql_exec_plan(&move_next_plan, InvalidOid,
							   "UPDATE elt.pipeline SET next_run_at = $3 "
						  "WHERE pipeline_id OPERATOR(pg_catalog.=) $1 "
						  "AND next_run_at OPERATOR(pg_catalog.=) $2",
						  3, types,
						  (Datum[]) {Int64GetDatum(pipeline_id), TimestampTzGetDatum(old_next),
					  TimestampTzGetDatum(t)}, (t == DT_NOEND) ? "  n" : NULL, false, SPI_OK_UPDATE);
		if (SPI_processed == 0)
			continue;

		if (!catchup)
			first = ntimes - 1;
		else
		{
			first = Max(0, ntimes - MAX_CATCHUP_RUNS);
			if (first > 0)
				ereport(LOG,
						(errmsg("pg_elt: pipeline %lld missed %d runs, catching up on the last %d",
								(long long) pipeline_id, ntimes, MAX_CATCHUP_RUNS)));
		}
		for (j = first; j < ntimes; j++)
		{
			TimestampTz when = times[j % MAX_CATCHUP_RUNS];
			bool		last = (j == ntimes - 1);
			TimestampTz prev;

			/* each run covers the time since the schedule's previous fire */
			if (j > first)
				prev = times[(j - 1) % MAX_CATCHUP_RUNS];
			else
				prev = intervals_previous_fire(&s, when, tz);
			if (last && !active_null && strcmp(overlap, "skip") == 0)
				insert_run(pipeline_id, "schedule", "skipped", when, prev,
						   psprintf("run %lld was still in progress", (long long) active));
			else
				insert_run(pipeline_id, last ? "schedule" : "catchup", "queued", when, prev, NULL);
		}
	}
}

/* Workers executing a run (not waiting for one) */
static int
busy_workers(void)
{
	int			n = 0;
	int			i;

	for (i = 0; i < nlaunched; i++)
		if (launched[i].run_id != 0)
			n++;
	return n;
}

/*
 * Hand a run to a worker of the same owner that waits for one (pool.c).
 * Returns false when there is none.
 */
static bool
hand_to_waiting_worker(const RunWorkerArgs *args)
{
	int			i;

	for (i = 0; i < nlaunched; i++)
	{
		pid_t		pid;

		if (launched[i].run_id != 0 || launched[i].owner != args->owner ||
			GetBackgroundWorkerPid(launched[i].handle, &pid) != BGWH_STARTED)
			continue;
		if (pool_assign(pid, args->run_id))
		{
			launched[i].run_id = args->run_id;
			launched[i].pipeline_id = args->pipeline_id;
			return true;
		}
	}
	return false;
}

/*
 * Make room for a new worker: when as many workers as pg_elt.max_workers
 * exist, stop one that waits for a run of another owner.
 */
static void
stop_a_waiting_worker(void)
{
	int			i;

	if (nlaunched < elt_max_workers)
		return;
	for (i = 0; i < nlaunched; i++)
	{
		pid_t		pid;

		if (launched[i].run_id == 0 &&
			GetBackgroundWorkerPid(launched[i].handle, &pid) == BGWH_STARTED &&
			pool_assign(pid, 0))
		{
			/* taken out of the pool: it exits when woken with run 0 */
			return;
		}
	}
}

/*
 * Choose the queued runs to start now: oldest first, one at a time per
 * pipeline (a run never overlaps another run of its pipeline), skipping
 * paused pipelines, within pg_elt.max_workers.  Runs whose owner cannot
 * log in are failed here with the reason.
 */
static List *
choose_runs_to_start(void)
{
	List	   *chosen = NIL;
	List	   *pipelines = NIL;
	int			i,
				n;
	int			room = Min(elt_max_workers, MAX_LAUNCHED) - busy_workers();
	int64	   *run_ids;
	int64	   *pipeline_ids;
	Oid		   *owners;

	if (room <= 0)
		return NIL;
	internal_sql_exec_plan(&queued_plan, InvalidOid,
						   "SELECT r.run_id, r.pipeline_id, p.owner::pg_catalog.oid "
					  "FROM elt.run r JOIN elt.pipeline p "
					  "ON p.pipeline_id OPERATOR(pg_catalog.=) r.pipeline_id "
					  "WHERE r.status OPERATOR(pg_catalog.=) 'queued' AND NOT p.paused "
					  "AND r.pipeline_id OPERATOR(pg_catalog.<>) ALL "
					  "(SELECT a.pipeline_id FROM elt.run a WHERE a.status OPERATOR(pg_catalog.=) 'running') "
					  "ORDER BY coalesce(r.scheduled_at, r.queued_at), r.run_id",
					  0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	/* read them all first: failing a run below runs statements of its own */
	n = SPI_processed;
	run_ids = palloc(sizeof(int64) * (n + 1));
	pipeline_ids = palloc(sizeof(int64) * (n + 1));
	owners = palloc(sizeof(Oid) * (n + 1));
	for (i = 0; i < n; i++)
	{
		run_ids[i] = internal_sql_int64(i, 1, 0);
		pipeline_ids[i] = internal_sql_int64(i, 2, 0);
		owners[i] = internal_sql_oid(i, 3);
	}
	for (i = 0; i < n && list_length(chosen) < room; i++)
	{
		int64		run_id = run_ids[i];
		int64		pipeline_id = pipeline_ids[i];
		Oid			owner = owners[i];
		const char *problem;
		RunWorkerArgs *args;
		int			k;
		bool		busy = false;
		ListCell   *lc;

		for (k = 0; k < nlaunched; k++)
			if (launched[k].run_id != 0 && launched[k].pipeline_id == pipeline_id)
				busy = true;
		foreach(lc, pipelines)
			if (*(int64 *) lfirst(lc) == pipeline_id)
				busy = true;
		if (busy)
			continue;

		problem = workers_run_owner_problem(owner);
		if (problem != NULL)
		{
			run_history_finish(run_id, "failed", problem, "queued");
			continue;
		}
		{
			MemoryContext old = MemoryContextSwitchTo(pass_cxt);
			int64	   *p = palloc(sizeof(int64));

			args = palloc0(sizeof(RunWorkerArgs));
			args->dboid = MyDatabaseId;
			args->owner = owner;
			args->run_id = run_id;
			args->pipeline_id = pipeline_id;
			args->result = DSM_HANDLE_INVALID;
			chosen = lappend(chosen, args);
			*p = pipeline_id;
			pipelines = lappend(pipelines, p);
			MemoryContextSwitchTo(old);
		}
	}
	return chosen;
}

/*
 * One pass of the launcher.  Returns how long to sleep, in milliseconds.
 */
static long
launcher_pass(void)
{
	List	   *stopped;
	List	   *chosen;
	ListCell   *lc;
	TimestampTz now;
	TimestampTz next = DT_NOEND;
	long		sleep_ms = MAX_SLEEP_MS;
	bool		isnull;

	stopped = reap_launched();

	launcher_begin();
	pgstat_report_activity(STATE_RUNNING, "pg_elt scheduler: scheduling");
	if (!OidIsValid(get_extension_oid("pg_elt", true)))
	{
		if (!waiting_logged)
			ereport(LOG,
					(errmsg("pg_elt scheduler is waiting for CREATE EXTENSION pg_elt in database \"%s\"",
							elt_database)));
		waiting_logged = true;
		launcher_commit();
		pgstat_report_activity(STATE_IDLE, NULL);
		return NOT_INSTALLED_SLEEP_MS;
	}
	waiting_logged = false;

	if (run_history_fail_lost(stopped, first_pass))
		sleep_ms = LOST_RECHECK_MS;

	now = GetCurrentTimestamp();
	if (first_pass || last_timezone == NULL || strcmp(last_timezone, elt_timezone) != 0)
	{
		recompute_for_timezone(now);
		if (last_timezone)
			pfree(last_timezone);
		last_timezone = MemoryContextStrdup(TopMemoryContext, elt_timezone);
	}
	first_pass = false;

	if (elt_scheduler_enabled)
		create_due_runs(now);
	run_history_prune(now);
	launcher_commit();

	if (!elt_scheduler_enabled)
	{
		pgstat_report_activity(STATE_IDLE, NULL);
		return sleep_ms;
	}

	/* start workers for queued runs, after the runs are committed */
	launcher_begin();
	chosen = choose_runs_to_start();
	internal_sql_exec_plan(&next_due_plan, InvalidOid,
						   "SELECT pg_catalog.min(next_run_at) FROM elt.pipeline "
					  "WHERE NOT paused AND schedule IS NOT NULL",
					  0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	next = DatumGetTimestampTz(internal_sql_datum(0, 1, &isnull));
	if (isnull)
		next = DT_NOEND;
	launcher_commit();

	foreach(lc, chosen)
	{
		RunWorkerArgs *args = lfirst(lc);
		BackgroundWorkerHandle *handle;
		bool		started;
		MemoryContext old;

		if (hand_to_waiting_worker(args))
			continue;
		stop_a_waiting_worker();
		old = MemoryContextSwitchTo(TopMemoryContext);
		started = (nlaunched < MAX_LAUNCHED) && workers_start_run(args, MyProcPid, &handle);
		MemoryContextSwitchTo(old);
		if (!started)
		{
			TimestampTz t = GetCurrentTimestamp();

			if (t - last_register_warning > 60 * USECS_PER_SEC)
				ereport(WARNING,
						(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
						 errmsg("pg_elt scheduler could not start a run worker"),
						 errhint("Raise max_worker_processes; queued runs start when a worker is free.")));
			last_register_warning = t;
			sleep_ms = 1000;
			break;
		}
		launched[nlaunched].run_id = args->run_id;
		launched[nlaunched].pipeline_id = args->pipeline_id;
		launched[nlaunched].owner = args->owner;
		launched[nlaunched].handle = handle;
		nlaunched++;
	}

	if (next != DT_NOEND)
	{
		TimestampTz wake = next - LAUNCH_LEAD_MS * INT64CONST(1000);
		TimestampTz t = GetCurrentTimestamp();

		if (wake <= t)
			sleep_ms = 0;
		else
			sleep_ms = Min(sleep_ms, (long) ((wake - t + 999) / 1000));
	}
	pgstat_report_activity(STATE_IDLE, NULL);
	return sleep_ms;
}

/*
 * Entry point of the launcher.  Errors of one pass are logged and the
 * launcher carries on after a short pause, so that one bad definition does
 * not stop every other pipeline.
 */
void
elt_launcher_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (elt_shared == NULL)
		proc_exit(0);
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	elt_shared->launcher_pid = MyProcPid;
	elt_shared->launcher_latch = MyLatch;
	LWLockRelease(elt_shared->lock);
	on_shmem_exit(launcher_exit, (Datum) 0);

	/*
	 * When the last starts failed to connect (most often: pg_elt.database
	 * names a database that does not exist yet), wait longer before each
	 * new attempt, up to 5 minutes, so the log gets one line now and then
	 * rather than one every restart interval.
	 */
	{
		int			failed;

		LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
		failed = elt_shared->launcher_failed_starts++;
		LWLockRelease(elt_shared->lock);
		if (failed > 0)
		{
			long		wait_ms = Min(10000L << Min(failed - 1, 5), 300000L);
			TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), wait_ms);
			long		secs;
			int			usecs;

			for (;;)
			{
				TimestampDifference(GetCurrentTimestamp(), until, &secs, &usecs);
				if (secs <= 0 && usecs <= 0)
					break;
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 secs * 1000L + usecs / 1000 + 1, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
		}
	}
	BackgroundWorkerInitializeConnection(elt_database, NULL, 0);
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	elt_shared->launcher_failed_starts = 0;
	LWLockRelease(elt_shared->lock);
	pgstat_report_appname("pg_elt scheduler");
	/* the launcher runs as superuser: never resolve names through user schemas */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	/* a lost launcher commit is recomputed; run workers commit what matters */
	SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);

	pass_cxt = AllocSetContextCreate(TopMemoryContext, "pg_elt scheduler pass",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		long		sleep_ms;

		MemoryContextReset(pass_cxt);
		MemoryContextSwitchTo(pass_cxt);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		PG_TRY();
		{
			sleep_ms = launcher_pass();
		}
		PG_CATCH();
		{
			HOLD_INTERRUPTS();
			MemoryContextSwitchTo(pass_cxt);
			EmitErrorReport();
			AbortCurrentTransaction();
			FlushErrorState();
			RESUME_INTERRUPTS();
			pgstat_report_activity(STATE_IDLE, NULL);
			sleep_ms = 5000;
		}
		PG_END_TRY();

		if (sleep_ms > 0)
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

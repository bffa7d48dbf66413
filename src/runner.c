/*
 * runner.c
 *	  Executing pipeline runs.
 *
 * A run executes in a dynamic background worker connected as the
 * pipeline's owner, so that every step has exactly the owner's rights:
 * the session user is the owner and no step can become anyone else.  The
 * worker records history (elt.run, elt.step_run) as the bootstrap
 * superuser with a fixed search_path, in transactions separate from the
 * steps, so the history of a failed step survives its rollback.
 *
 * Steps run one after another in dependency order (definition order among
 * those that are ready), each in its own transaction with its own timeout;
 * a failed step is retried with exponential backoff, and when it finally
 * fails its dependents are skipped while independent steps still run.
 *
 * Scheduled runs are started by the launcher (scheduler.c) for a queued
 * elt.run row; the worker takes the row by moving it from 'queued' to
 * 'running', which is what makes a second start of the same run
 * impossible.  elt.run_pipeline() starts a worker for a new manual run and
 * waits for it, so that a session gets the same semantics as the
 * scheduler (one transaction per step, retries, timeouts, history that
 * survives a failure) and an error when the run fails.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "catalog/namespace.h"
#include "commands/async.h"
#include "commands/prepare.h"
#include "commands/sequence.h"
#include "storage/lock.h"
#include "utils/portal.h"
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
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "alerts.h"
#include "chaining.h"
#include "internal_sql.h"
#include "pg_elt.h"
#include "options.h"
#include "parallel.h"
#include "pool.h"
#include "redact.h"
#include "run_history.h"
#include "runner.h"
#include "shmem.h"
#include "step_output.h"
#include "workers.h"

/* Longest wait between two attempts of a step */
#define MAX_BACKOFF_MS (3600 * 1000L)
#define RESULT_ERROR_LEN 2000
/* A worker ending a run looks at this many queued runs for its next one */
#define NEXT_RUN_CANDIDATES 8

/* Shared with the session that waits for a manual run */
typedef struct RunResult
{
	int64		run_id;
	bool		claimed;
	bool		finished;
	char		status[16];
	char		error[RESULT_ERROR_LEN];
} RunResult;

typedef struct StepDef
{
	char	   *name;
	char	   *command;
	int			ndeps;
	char	  **deps;
	int			retries;
	int64		timeout_ms;		/* 0: none */
	const char *status;			/* NULL while pending */
	bool		inflight;		/* handed to a step worker */
	bool		start_recorded; /* attempt 1's start is written already */
	BackgroundWorkerHandle *handle; /* of that step worker */
} StepDef;

/* The end of a step's last attempt, written with the end of the run */
typedef struct StepEnd
{
	bool		valid;
	StepDef    *step;
	int			attempt;
	const char *status;
	char	   *error;
	int64		rows;
	char	   *messages;
	char	   *result;
} StepEnd;

typedef struct RunDef
{
	int64		run_id;
	int64		pipeline_id;
	char	   *pipeline;
	TimestampTz scheduled_at;	/* 0: start at once */
	int			retries;
	int64		retry_delay_ms;
	int64		timeout_ms;
	int			max_parallel;	/* steps executing at once */
	bool		has_alerts;		/* alert_url is set */
	int			nsteps;
	StepDef    *steps;
	bool		defer_end;		/* the step executing now is the run's last */
	StepEnd		last_end;		/* its end, for the run's last transaction */
} RunDef;

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

/* Saved identity while the worker writes history as superuser */
/* What admin_begin changed: internal_sql.c's scope. */
typedef InternalSqlScope AdminState;

static int64 current_run_id = 0;
static TimeoutId step_timeout_id = 0;
static volatile sig_atomic_t step_timed_out = false;
static RunResult *run_result = NULL;
/* Where a run worker allocates between transactions; reset at each run */
static MemoryContext worker_cxt = NULL;

/* Kept plans of the statements executed for every run */
static InternalSqlPlan take_pipeline_plan;
static InternalSqlPlan take_run_plan;
static InternalSqlPlan next_run_plan;
static InternalSqlPlan lock_run_plan;
static InternalSqlPlan pipeline_queued_plan;

/* The session was reset since the last run (reset_session_state) */
static bool session_is_reset = false;
static void reset_session_state(void);
static void worker_admin_begin_reset(AdminState *st, bool sync, bool reset);
static bool deps_done(RunDef *run, StepDef *step, const char **blocked);
static void write_step_row(Datum *values, char *nulls, bool start);
static InternalSqlPlan definition_plan;
static InternalSqlPlan steps_plan;
static InternalSqlPlan step_start_plan;
static InternalSqlPlan step_end_plan;
static InternalSqlPlan first_step_plan;
static InternalSqlPlan unstart_step_plan;

static void record_step_output(RunDef *run, StepDef *step, int attempt,
							   const char *status, const char *error, int64 rows,
							   bool start, const char *messages, const char *result);

PG_FUNCTION_INFO_V1(elt_run_pipeline);
PG_FUNCTION_INFO_V1(elt_trigger);
PG_FUNCTION_INFO_V1(elt_cancel);
PG_FUNCTION_INFO_V1(elt_current_run);
PG_FUNCTION_INFO_V1(elt_check_command);

/*
 * Become the bootstrap superuser, with search_path pinned and as a
 * security-restricted operation (internal_sql.c), to write history.  Undone
 * by admin_end, or by the abort of the transaction.
 */
static void
admin_begin(AdminState *st)
{
	internal_sql_begin(st, BOOTSTRAP_SUPERUSERID);
}

static void
admin_end(AdminState *st)
{
	internal_sql_end(st);
}

/* ---------------------------------------------------------------------
 * The run worker
 * ---------------------------------------------------------------------
 */

/*
 * Timeout handler of a step: interrupt the running statement as a cancel
 * would, remembering that it was the timeout.
 */
static void
step_timeout_handler(void)
{
	step_timed_out = true;
	InterruptPending = true;
	QueryCancelPending = true;
	SetLatch(MyLatch);
}

/* Begin/commit one of the worker's own transactions as superuser */
static void
worker_admin_begin(AdminState *st, bool sync)
{
	worker_admin_begin_reset(st, sync, false);
}

/* The same, resetting the session first (reset_session_state) if asked */
static void
worker_admin_begin_reset(AdminState *st, bool sync, bool reset)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (reset)
		reset_session_state();
	HOLD_CANCEL_INTERRUPTS();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	/* for the whole transaction, so that it applies to the commit */
	(void) set_config_option("synchronous_commit", sync ? "on" : "off",
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	admin_begin(st);
}

static void
worker_admin_commit(AdminState *st)
{
	admin_end(st);
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	RESUME_CANCEL_INTERRUPTS();
	if (worker_cxt != NULL)
		MemoryContextSwitchTo(worker_cxt);
}

/*
 * Read the pipeline's settings and steps into the run's memory.
 */
static bool
load_definition(RunDef *run, MemoryContext cxt)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(run->pipeline_id)};
	MemoryContext old;
	int			i;

	internal_sql_exec_plan(&definition_plan, InvalidOid, "SELECT name, options FROM elt.pipeline "
					  "WHERE pipeline_id OPERATOR(pg_catalog.=) $1",
					  1, types, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed != 1)
		return false;
	old = MemoryContextSwitchTo(cxt);
	run->pipeline = internal_sql_text(0, 1);
	{
		bool		isnull;
		Jsonb	   *options = DatumGetJsonbP(internal_sql_datum(0, 2, &isnull));
		OptionValues ov;
		Interval   *timeout;

		options_parse(&ov, &pipeline_options_table, &options->root, 0);
		run->retries = options_get_int(&ov, "retries", 0);
		run->max_parallel = options_get_int(&ov, "max_parallel", 1);
		run->has_alerts = options_has_key(&ov, "alert_url");
		run->retry_delay_ms = options_interval_ms(options_get_interval(&ov, "retry_delay"));
		timeout = options_get_interval(&ov, "timeout");
		run->timeout_ms = timeout ? options_interval_ms(timeout) : 0;
	}
	MemoryContextSwitchTo(old);

	internal_sql_exec_plan(&steps_plan, InvalidOid, "SELECT name, command, depends_on, retries, "
					  "(EXTRACT(epoch FROM timeout) OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8 "
					  "FROM elt.step WHERE pipeline_id OPERATOR(pg_catalog.=) $1 "
					  "ORDER BY position, name",
					  1, types, values, NULL, false, SPI_OK_SELECT);
	old = MemoryContextSwitchTo(cxt);
	run->nsteps = SPI_processed;
	run->steps = palloc0(sizeof(StepDef) * (run->nsteps + 1));
	for (i = 0; i < run->nsteps; i++)
	{
		StepDef    *step = &run->steps[i];
		bool		isnull;
		Datum		deps;

		step->name = internal_sql_text(i, 1);
		step->command = internal_sql_text(i, 2);
		deps = internal_sql_datum(i, 3, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *enulls;
			int			n,
						k;

			deconstruct_array(DatumGetArrayTypeP(deps), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &enulls, &n);
			step->deps = palloc(sizeof(char *) * (n + 1));
			for (k = 0; k < n; k++)
				if (!enulls[k])
					step->deps[step->ndeps++] = TextDatumGetCString(elems[k]);
		}
		step->retries = internal_sql_int32(i, 4, run->retries);
		step->timeout_ms = internal_sql_int64(i, 5, 0);
		if (step->timeout_ms == 0)
			step->timeout_ms = run->timeout_ms;
	}
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * Record the beginning or end of a step attempt, and at its end what it
 * said (messages, result: step_output.c).  A skipped step gets one row
 * with attempt 0.
 */
static void
record_step(RunDef *run, StepDef *step, int attempt, const char *status,
			const char *error, int64 rows, bool start)
{
	record_step_output(run, step, attempt, status, error, rows, start, NULL, NULL);
}

static void
record_step_output(RunDef *run, StepDef *step, int attempt, const char *status,
				   const char *error, int64 rows, bool start,
				   const char *messages, const char *result)
{
	AdminState st;
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', error ? ' ' : 'n', rows >= 0 ? ' ' : 'n',
		messages ? ' ' : 'n', result ? ' ' : 'n'};

	values[0] = Int64GetDatum(run->run_id);
	values[1] = CStringGetTextDatum(step->name);
	values[2] = Int32GetDatum(attempt);
	values[3] = CStringGetTextDatum(status);
	values[4] = error ? CStringGetTextDatum(error) : (Datum) 0;
	values[5] = Int64GetDatum(rows);
	values[6] = messages ? CStringGetTextDatum(messages) : (Datum) 0;
	values[7] = result ? CStringGetTextDatum(result) : (Datum) 0;

	/* the start is durable, so a crash cannot erase an attempt */
	worker_admin_begin(&st, start);
	write_step_row(values, nulls, start);
	worker_admin_commit(&st);
}

/*
 * The statement of record_step_output, in the current history
 * transaction.
 */
static void
write_step_row(Datum *values, char *nulls, bool start)
{
	Oid			types[8] = {INT8OID, TEXTOID, INT4OID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID};

	if (start)
		internal_sql_exec_plan(&step_start_plan, InvalidOid, "INSERT INTO elt.step_run (run_id, step, attempt, status, started_at, error) "
						  "VALUES ($1, $2, $3, $4, CASE WHEN $4 OPERATOR(pg_catalog.=) 'running' "
						  "THEN pg_catalog.clock_timestamp() END, $5)",
						  5, types, values, nulls, false, SPI_OK_INSERT);
	else
		internal_sql_exec_plan(&step_end_plan, InvalidOid, "UPDATE elt.step_run SET status = $4, "
						  "finished_at = pg_catalog.clock_timestamp(), error = $5, rows = $6, "
						  "messages = $7::pg_catalog.jsonb, result = $8 "
						  "WHERE run_id OPERATOR(pg_catalog.=) $1 AND step OPERATOR(pg_catalog.=) $2 "
						  "AND attempt OPERATOR(pg_catalog.=) $3",
						  8, types, values, nulls, false, SPI_OK_UPDATE);
}

/*
 * In the transaction that ends the run: the end of its last step's last
 * attempt, kept by run_step (run->defer_end), so that a run with one step
 * ends in one transaction.  A crash before it commits loses both, as it
 * could lose the step's end alone before (written without a flush): the
 * run and its attempt are then failed as interrupted (run_history.c).
 */
static void
write_last_step_end(RunDef *run)
{
	StepEnd    *e = &run->last_end;
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', e->error ? ' ' : 'n', e->rows >= 0 ? ' ' : 'n',
		e->messages ? ' ' : 'n', e->result ? ' ' : 'n'};

	if (!e->valid)
		return;
	values[0] = Int64GetDatum(run->run_id);
	values[1] = CStringGetTextDatum(e->step->name);
	values[2] = Int32GetDatum(e->attempt);
	values[3] = CStringGetTextDatum(e->status);
	values[4] = e->error ? CStringGetTextDatum(e->error) : (Datum) 0;
	values[5] = Int64GetDatum(e->rows);
	values[6] = e->messages ? CStringGetTextDatum(e->messages) : (Datum) 0;
	values[7] = e->result ? CStringGetTextDatum(e->result) : (Datum) 0;
	write_step_row(values, nulls, false);
	e->valid = false;
}

/*
 * In the transaction that takes a run (which then commits durably): write
 * the start of the first attempt of the step that the run executes first,
 * so that the take and that start cost one flush instead of two.  Only for
 * a run that executes its steps one at a time (execute_run takes the first
 * step whose dependencies are done, in definition order); a run whose
 * steps may execute in parallel records each start as it comes.  The
 * start is the due time when the run was taken early.
 */
static void
record_first_step_start(RunDef *run)
{
	int			width = Min(run->max_parallel, Max(elt_max_workers, 1));
	Oid			types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', run->scheduled_at != 0 ? ' ' : 'n'};
	StepDef    *step = NULL;
	int			i;

	if (run->nsteps == 0 || (width > 1 && run->nsteps > 1))
		return;
	for (i = 0; i < run->nsteps; i++)
	{
		const char *blocked;

		if (deps_done(run, &run->steps[i], &blocked) && blocked == NULL)
		{
			step = &run->steps[i];
			break;
		}
	}
	if (step == NULL)
		return;
	values[0] = Int64GetDatum(run->run_id);
	values[1] = CStringGetTextDatum(step->name);
	values[2] = TimestampTzGetDatum(run->scheduled_at);
	internal_sql_exec_plan(&first_step_plan, InvalidOid,
						   "INSERT INTO elt.step_run (run_id, step, attempt, status, started_at) "
						   "VALUES ($1, $2, 1, 'running', "
						   "greatest(pg_catalog.clock_timestamp(), $3))",
						   3, types, values, nulls, false, SPI_OK_INSERT);
	step->start_recorded = true;
}

/*
 * A step whose start record_first_step_start wrote is skipped after all
 * (the run was cancelled before it began): its attempt becomes the
 * skipped step's row.
 */
static void
unstart_step(RunDef *run, StepDef *step, const char *error)
{
	AdminState	st;
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(run->run_id), CStringGetTextDatum(step->name),
		CStringGetTextDatum(error)};

	worker_admin_begin(&st, true);
	internal_sql_exec_plan(&unstart_step_plan, InvalidOid,
						   "UPDATE elt.step_run SET attempt = 0, status = 'skipped', "
						   "started_at = NULL, error = $3 "
						   "WHERE run_id OPERATOR(pg_catalog.=) $1 AND step OPERATOR(pg_catalog.=) $2 "
						   "AND attempt OPERATOR(pg_catalog.=) 1",
						   3, types, values, NULL, false, SPI_OK_UPDATE);
	worker_admin_commit(&st);
	step->start_recorded = false;
}

/*
 * Sleep for ms, or until the run is cancelled.  Returns false when it is.
 */
static bool
sleep_unless_cancelled(int64 ms)
{
	TimestampTz end = GetCurrentTimestamp() + ms * 1000;

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		long		left;

		if (run_slot_cancel_requested())
		{
			QueryCancelPending = false;
			return false;
		}
		if (now >= end)
			return true;
		left = (long) ((end - now + 999) / 1000);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		/* a cancel request arrives as SIGINT; termination exits here */
		if (ProcDiePending)
			CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Execute one attempt of a step in its own transaction, as the owner.
 * Returns the final status of the attempt; *error gets the message of a
 * failure, *rows the rows of the last statement and *result its first row.
 */
static const char *
execute_step(StepDef *step, MemoryContext runcxt, char **error, int64 *rows,
			 char **result)
{
	const char *volatile status = "succeeded";

	*error = NULL;
	*rows = -1;
	*result = NULL;
	step_timed_out = false;
	if (!run_slot_cancel_requested())
		QueryCancelPending = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();

	/*
	 * The step's commit need not wait for its own flush: the worker's next
	 * history commit, durable and later in the WAL (the start of the next
	 * step, a skipped dependent, the end of the run), flushes it.  A crash
	 * between the two loses the step's changes with the end of its attempt,
	 * and the run is failed as interrupted, as for a crash during the step.
	 * Only the local flush is deferred: a remote setting of the owner
	 * (remote_write, remote_apply) is kept, and the step may set its own.
	 */
	if (synchronous_commit == SYNCHRONOUS_COMMIT_ON ||
		synchronous_commit == SYNCHRONOUS_COMMIT_LOCAL_FLUSH)
		(void) set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	pgstat_report_activity(STATE_RUNNING, step->command);
	PG_TRY();
	{
		int			rc;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		if (step->timeout_ms > 0)
			enable_timeout_after(step_timeout_id, (int) Min(step->timeout_ms, INT_MAX));
		CHECK_FOR_INTERRUPTS();
		rc = internal_sql_exec_caller(step->command, INTERNAL_SQL_UNCHECKED);
		if (rc < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not execute the command: %s", SPI_result_code_string(rc))));
		*rows = (int64) SPI_processed;
		*result = step_output_result(SPI_tuptable, SPI_processed, runcxt);
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
		if (step->timeout_ms > 0)
			disable_timeout(step_timeout_id, false);
		MemoryContextSwitchTo(runcxt);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		bool		cancelled;

		if (step->timeout_ms > 0)
			disable_timeout(step_timeout_id, false);
		MemoryContextSwitchTo(runcxt);
		edata = CopyErrorData();
		FlushErrorState();

		/*
		 * pg_elt masks secret values in its own messages when it makes them;
		 * an error of other code (a cast of a response that echoes a value)
		 * is masked here, while the transaction still knows the values.
		 */
		redact_error_data(edata);
		AbortCurrentTransaction();
		cancelled = run_slot_cancel_requested();
		QueryCancelPending = false;
		if (cancelled)
		{
			status = "cancelled";
			*error = pstrdup("cancelled by elt.cancel()");
		}
		else if (step_timed_out && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		{
			status = "failed";
			*error = psprintf("step timed out after %lld ms", (long long) step->timeout_ms);
		}
		else
		{
			status = "failed";
			*error = edata->detail
				? psprintf("%s (%s)", edata->message, edata->detail)
				: pstrdup(edata->message);
		}
		FreeErrorData(edata);
	}
	PG_END_TRY();
	/* a lasting worker (pool.c) must not show the step as its query */
	pgstat_report_activity(STATE_IDLE, "");
	return (const char *) status;
}

/*
 * Is every dependency of the step finished?  *blocked is set when one of
 * them did not succeed.
 */
static bool
deps_done(RunDef *run, StepDef *step, const char **blocked)
{
	int			d,
				k;

	*blocked = NULL;
	for (d = 0; d < step->ndeps; d++)
	{
		for (k = 0; k < run->nsteps; k++)
		{
			if (strcmp(run->steps[k].name, step->deps[d]) != 0)
				continue;
			if (run->steps[k].status == NULL)
				return false;
			if (strcmp(run->steps[k].status, "succeeded") != 0 && *blocked == NULL)
				*blocked = run->steps[k].name;
		}
	}
	return true;
}

/*
 * Execute a step: its attempts, each in its own transaction, with the
 * backoff between them.  Returns the step's final status; *error gets the
 * message of the last failure.
 */
static const char *
run_step(RunDef *run, StepDef *step, MemoryContext runcxt, char **error)
{
	int			attempt;
	const char *status = "failed";

	*error = NULL;
	for (attempt = 1;; attempt++)
	{
		int64		rows;
		char	   *result;
		char	   *messages;
		bool		final;

		if (step->start_recorded)
			step->start_recorded = false;	/* written when the run was taken */
		else
			record_step(run, step, attempt, "running", NULL, -1, true);
		step_output_begin();
		status = execute_step(step, runcxt, error, &rows, &result);
		messages = step_output_end(runcxt);
		final = (strcmp(status, "succeeded") == 0 || strcmp(status, "cancelled") == 0 ||
				 attempt > step->retries);
		if (final && run->defer_end)
		{
			/* the run's last step: its end is written with the run's */
			run->last_end.valid = true;
			run->last_end.step = step;
			run->last_end.attempt = attempt;
			run->last_end.status = status;
			run->last_end.error = *error;
			run->last_end.rows = rows;
			run->last_end.messages = messages;
			run->last_end.result = result;
			break;
		}
		record_step_output(run, step, attempt, status, *error, rows, false,
						   messages, result);
		if (final)
			break;
		/* exponential backoff: delay, 2 x delay, 4 x delay, ... */
		{
			int64		delay = run->retry_delay_ms;
			int			k;

			for (k = 1; k < attempt && delay < MAX_BACKOFF_MS; k++)
				delay *= 2;
			delay = Min(delay, MAX_BACKOFF_MS);
			if (!sleep_unless_cancelled(delay))
			{
				status = "cancelled";
				break;
			}
		}
	}
	return status;
}

/*
 * Take the outcome of a step into the run's state.
 */
static void
step_finished(StepDef *step, const char *status, const char *error,
			  bool *cancelled, bool *failed, char **run_error)
{
	step->status = status;
	if (strcmp(status, "cancelled") == 0)
		*cancelled = true;
	else if (strcmp(status, "succeeded") != 0)
	{
		*failed = true;
		if (*run_error == NULL)
			*run_error = psprintf("step \"%s\" failed: %s", step->name, error ? error : "");
	}
}

/*
 * Fail the attempt a step worker left unfinished when it exited before
 * reporting (it was killed, or could not connect).
 */
static void
fail_lost_step(RunDef *run, StepDef *step, const char *error)
{
	AdminState	st;
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(run->run_id), CStringGetTextDatum(step->name),
	CStringGetTextDatum(error)};

	worker_admin_begin(&st, true);
	internal_sql_exec("UPDATE elt.step_run SET status = 'failed', "
					  "finished_at = pg_catalog.clock_timestamp(), error = $3 "
					  "WHERE run_id OPERATOR(pg_catalog.=) $1 AND step OPERATOR(pg_catalog.=) $2 "
					  "AND status OPERATOR(pg_catalog.=) 'running'",
					  3, types, values, NULL, false, SPI_OK_UPDATE);
	worker_admin_commit(&st);
}

/*
 * Wait until at least one step worker has finished, and take the outcomes
 * of all that have.  A cancel of the run reaches the step workers through
 * their run slots (shmem.c); here it is only remembered.
 */
static void
collect_step_workers(RunDef *run, ParallelRun *pr, int *inflight, int *remaining,
					 bool *cancelled, bool *failed, char **run_error)
{
	for (;;)
	{
		int			done = 0;
		int			i;

		for (i = 0; i < run->nsteps; i++)
		{
			StepDef    *step = &run->steps[i];
			StepTask   *task = &pr->tasks[i];
			pid_t		pid;
			bool		stopped;

			if (!step->inflight)
				continue;
			stopped = (GetBackgroundWorkerPid(step->handle, &pid) == BGWH_STOPPED);
			pg_read_barrier();
			if (task->state == STEP_TASK_DONE)
			{
				const char *status = strcmp(task->status, "succeeded") == 0 ? "succeeded"
					: strcmp(task->status, "cancelled") == 0 ? "cancelled" : "failed";

				step_finished(step, status, task->error, cancelled, failed, run_error);
			}
			else if (stopped)
			{
				const char *error = "the step worker exited before the step finished";

				fail_lost_step(run, step, error);
				step_finished(step, run_slot_cancel_requested() ? "cancelled" : "failed",
							  error, cancelled, failed, run_error);
			}
			else
				continue;
			step->inflight = false;
			(*inflight)--;
			(*remaining)--;
			done++;
		}
		if (done > 0)
			return;
		if (run_slot_cancel_requested())
		{
			QueryCancelPending = false;
			*cancelled = true;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ProcDiePending)
			CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Execute the steps of a run in dependency order.  Returns the run's final
 * status and its error.
 *
 * With max_parallel 1 the steps run one at a time in this worker, among
 * the ready ones in definition order.  Otherwise every step that is ready
 * while others are ready or executing goes to a step worker of its own
 * (parallel.c), up to max_parallel at once, and a dependent is started as
 * soon as its last dependency finishes; a step that is alone (nothing else
 * ready or executing) runs here, which saves starting a worker for the
 * sequential parts of a DAG.
 */
static const char *
execute_run(RunDef *run, MemoryContext runcxt, char **run_error, Oid owner)
{
	bool		cancelled = false;
	bool		failed = false;
	int			remaining = run->nsteps;
	int			inflight = 0;
	int			width = Min(run->max_parallel, Max(elt_max_workers, 1));
	ParallelRun *pr = NULL;
	dsm_segment *seg = NULL;
	StepDef   **ready = palloc(sizeof(StepDef *) * (run->nsteps + 1));

	*run_error = NULL;
	if (width > 1 && run->nsteps > 1)
	{
		char	  **names = palloc(sizeof(char *) * run->nsteps);
		char	  **commands = palloc(sizeof(char *) * run->nsteps);
		int		   *retries = palloc(sizeof(int) * run->nsteps);
		int64	   *timeouts = palloc(sizeof(int64) * run->nsteps);
		int			i;

		for (i = 0; i < run->nsteps; i++)
		{
			names[i] = run->steps[i].name;
			commands[i] = run->steps[i].command;
			retries[i] = run->steps[i].retries;
			timeouts[i] = run->steps[i].timeout_ms;
		}
		pr = parallel_create(&seg, run->run_id, MyDatabaseId, owner, run->retry_delay_ms,
							 run->nsteps, names, commands, retries, timeouts);
	}

	while (remaining > 0)
	{
		int			nready = 0;
		bool		skipped = false;
		int			i;
		int			k;

		for (i = 0; i < run->nsteps; i++)
		{
			StepDef    *step = &run->steps[i];
			const char *blocked = NULL;

			if (step->status != NULL || step->inflight || !deps_done(run, step, &blocked))
				continue;
			if (cancelled || run_slot_cancel_requested())
			{
				cancelled = true;
				step->status = "skipped";
				if (step->start_recorded)
					unstart_step(run, step, "the run was cancelled");
				else
					record_step(run, step, 0, "skipped", "the run was cancelled", -1, true);
				remaining--;
				skipped = true;
				continue;
			}
			if (blocked != NULL)
			{
				step->status = "skipped";
				record_step(run, step, 0, "skipped",
							psprintf("dependency \"%s\" did not succeed", blocked), -1, true);
				remaining--;
				skipped = true;
				continue;
			}
			ready[nready++] = step;
			if (pr == NULL)
				break;			/* one at a time, in definition order */
		}
		if (skipped && nready == 0)
			continue;			/* their dependents may be decided now */
		if (nready == 0 && inflight == 0)
			break;				/* cannot happen: cycles are refused */

		for (k = 0; k < nready; k++)
		{
			StepDef    *step = ready[k];
			bool		alone = (inflight == 0 && k == nready - 1);

			if (pr != NULL && !alone && inflight < width)
			{
				if (parallel_start_step(seg, pr, step - run->steps, &step->handle))
				{
					step->inflight = true;
					inflight++;
					continue;
				}
				if (inflight > 0)
					break;		/* no worker slot: wait for one of ours */
			}
			else if (!alone)
				break;			/* as many as allowed are executing */

			/* this worker executes the step itself */
			{
				char	   *error;
				const char *status;

				run->defer_end = (remaining == 1 && inflight == 0);
				status = run_step(run, step, runcxt, &error);
				run->defer_end = false;

				remaining--;
				step_finished(step, status, error, &cancelled, &failed, run_error);
			}
			break;
		}
		if (inflight > 0)
			collect_step_workers(run, pr, &inflight, &remaining, &cancelled, &failed, run_error);
	}
	if (seg != NULL)
	{
		parallel_finish();
		dsm_detach(seg);		/* a lasting worker executes more runs */
	}
	if (cancelled)
	{
		if (*run_error == NULL)
			*run_error = pstrdup("cancelled by elt.cancel()");
		return "cancelled";
	}
	return failed ? "failed" : "succeeded";
}

/*
 * Tell the waiting session (manual runs) how the run went.
 */
static void
set_result(bool claimed, bool finished, const char *status, const char *error)
{
	if (run_result == NULL)
		return;
	run_result->run_id = current_run_id;
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
		current_run_id = run.run_id;
		goto taken_run;
	}
	/* durable: it writes the first step's start (record_first_step_start) */
	worker_admin_begin(&st, true);
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
		worker_admin_commit(&st);
		return;
	}
	current_run_id = run.run_id;
	ok = load_definition(&run, runcxt);
	if (ok)
		record_first_step_start(&run);
	worker_admin_commit(&st);
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
			(void) sleep_unless_cancelled((run.scheduled_at - now + 999) / 1000);
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
		status = execute_run(&run, runcxt, &error, args->owner);

	/*
	 * A lasting worker resets its session for the next run in the same
	 * transaction, unless alerts are to be sent first (as the owner, after
	 * this commits).
	 */
	worker_admin_begin_reset(&st, true, args->result == DSM_HANDLE_INVALID && !run.has_alerts);
	run_history_defer_notifications(true);
	write_last_step_end(&run);
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
		taken->found = load_definition(&taken->def, nextcxt);
		taken->loaded = true;
		if (taken->found)
		{
			taken->def.scheduled_at = taken->scheduled_at;
			record_first_step_start(&taken->def);
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
	worker_admin_commit(&st);
	/* after the end is durable, without holding other workers' commits */
	run_history_send_notifications();
	set_result(true, true, status, error);
	if (next_taken)
		run_slot_ended();
	else
		run_slot_release();
	current_run_id = 0;
	/* after the end is committed: a slow webhook delays nothing else */
	PG_TRY();
	{
		if (run.has_alerts)
			alerts_after_run(run.run_id, args->owner);
	}
	PG_CATCH();
	{
		/* an alert that cannot even be attempted must not stop the worker */
		HOLD_INTERRUPTS();
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		RESUME_INTERRUPTS();
		MemoryContextSwitchTo(worker_cxt);
	}
	PG_END_TRY();

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
	MemoryContextSwitchTo(worker_cxt);
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
	step_timeout_id = RegisterTimeout(USER_TIMEOUT, step_timeout_handler);
	/* one for the run, one for the next run's definition, taking turns */
	runcxts[0] = AllocSetContextCreate(TopMemoryContext, "pg_elt run", ALLOCSET_DEFAULT_SIZES);
	runcxts[1] = AllocSetContextCreate(TopMemoryContext, "pg_elt run", ALLOCSET_DEFAULT_SIZES);
	worker_cxt = AllocSetContextCreate(TopMemoryContext, "pg_elt run worker", ALLOCSET_DEFAULT_SIZES);

	memset(&taken, 0, sizeof(taken));
	for (;;)
	{
		if (!taken.loaded)
			MemoryContextReset(runcxts[cur]);
		MemoryContextReset(runcxts[1 - cur]);
		MemoryContextReset(worker_cxt);
		MemoryContextSwitchTo(worker_cxt);
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

/*
 * Entry point of a step worker (parallel.c): execute one step of a run as
 * the pipeline's owner, with its attempts and their history, and report
 * the outcome to the run worker.  A cancel of the run reaches it through
 * its own run slot.
 */
void
elt_step_worker_main(Datum main_arg)
{
	StepWorkerArgs args;
	ParallelRun *pr;
	RunDef		run;
	StepDef		step;
	MemoryContext runcxt;
	const char *status;
	char	   *error;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	pr = parallel_attach(args.segment);
	if (pr == NULL)
		proc_exit(0);			/* the run worker is gone */
	BackgroundWorkerInitializeConnectionByOid(args.dboid, args.owner, 0);
	step_timeout_id = RegisterTimeout(USER_TIMEOUT, step_timeout_handler);
	runcxt = AllocSetContextCreate(TopMemoryContext, "pg_elt step", ALLOCSET_DEFAULT_SIZES);
	if (!run_slot_claim_step(args.run_id))
	{
		parallel_report(pr, args.task, "failed", "too many pipeline runs at once");
		proc_exit(0);
	}

	{
		char		appname[64];

		snprintf(appname, sizeof(appname), "pg_elt run %lld", (long long) args.run_id);
		pgstat_report_appname(appname);
	}
	memset(&run, 0, sizeof(run));
	memset(&step, 0, sizeof(step));
	run.run_id = args.run_id;
	run.retry_delay_ms = pr->retry_delay_ms;
	step.name = MemoryContextStrdup(runcxt, parallel_task_name(pr, args.task));
	step.command = MemoryContextStrdup(runcxt, parallel_task_command(pr, args.task));
	step.retries = pr->tasks[args.task].retries;
	step.timeout_ms = pr->tasks[args.task].timeout_ms;
	current_run_id = args.run_id;

	MemoryContextSwitchTo(runcxt);
	status = run_step(&run, &step, runcxt, &error);
	parallel_report(pr, args.task, status, error);
	run_slot_release();
	current_run_id = 0;
	proc_exit(0);
}

/* ---------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------
 */

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

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("pipeline name must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	interval_args(fcinfo, &interval_start, &interval_end);
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
	AdminState	st;
	const char *dbname;
	TimestampTz interval_start;
	TimestampTz interval_end;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("pipeline name must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	interval_args(fcinfo, &interval_start, &interval_end);

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

	admin_begin(&st);
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
	admin_end(&st);
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
	AdminState	st;

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
		admin_begin(&st);
		run_history_finish(run_id, "cancelled", "cancelled before it started", "queued");
		admin_end(&st);
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
			admin_begin(&st);
			run_history_finish(run_id, "cancelled",
							   "cancelled after its run worker had exited", "running");
			admin_end(&st);
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
	if (current_run_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(current_run_id);
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

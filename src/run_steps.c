/*
 * run_steps.c
 *	  Executing one run's steps.
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
 * With max_parallel above 1, independent steps execute side by side in
 * step workers (parallel.c), whose entry point is here too.
 *
 * A step's commit is not flushed on its own: the worker's next durable
 * history commit, later in the WAL, flushes it (execute_step).
 *
 * Taking runs and ending them is runner.c's; the SQL functions are
 * run_sql.c's.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
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

#include "internal_sql.h"
#include "pg_elt.h"
#include "options.h"
#include "parallel.h"
#include "redact.h"
#include "run_steps.h"
#include "shmem.h"
#include "step_output.h"
#include "workers.h"

/* Longest wait between two attempts of a step */
#define MAX_BACKOFF_MS (3600 * 1000L)

/* What internal_sql_begin changed while the worker writes history */
typedef InternalSqlScope AdminState;

int64		run_steps_current_run = 0;
MemoryContext run_steps_worker_cxt = NULL;

static TimeoutId step_timeout_id = 0;
static volatile sig_atomic_t step_timed_out = false;

/* Kept plans of the statements executed for every run */
static InternalSqlPlan definition_plan;
static InternalSqlPlan steps_plan;
static InternalSqlPlan step_start_plan;
static InternalSqlPlan step_end_plan;
static InternalSqlPlan first_step_plan;
static InternalSqlPlan unstart_step_plan;

static bool deps_done(RunDef *run, StepDef *step, const char **blocked);
static void write_step_row(Datum *values, char *nulls, bool start);
static void record_step_output(RunDef *run, StepDef *step, int attempt,
							   const char *status, const char *error, int64 rows,
							   bool start, const char *messages, const char *result);

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

/*
 * In a run or step worker: the timeout that ends a step that runs too
 * long.
 */
void
run_steps_init_worker(void)
{
	step_timeout_id = RegisterTimeout(USER_TIMEOUT, step_timeout_handler);
}

/*
 * Begin one of the worker's own transactions as superuser, durable (sync)
 * or not; run_steps_admin_begin_started does the same in a transaction
 * the caller has started.  Ended by run_steps_admin_commit.
 */
void
run_steps_admin_begin(AdminState *st, bool sync)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	run_steps_admin_begin_started(st, sync);
}

void
run_steps_admin_begin_started(AdminState *st, bool sync)
{
	HOLD_CANCEL_INTERRUPTS();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	/* for the whole transaction, so that it applies to the commit */
	(void) set_config_option("synchronous_commit", sync ? "on" : "off",
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	admin_begin(st);
}

void
run_steps_admin_commit(AdminState *st)
{
	admin_end(st);
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	RESUME_CANCEL_INTERRUPTS();
	if (run_steps_worker_cxt != NULL)
		MemoryContextSwitchTo(run_steps_worker_cxt);
}

/*
 * Read the pipeline's settings and steps into the run's memory.
 */
bool
run_steps_load_definition(RunDef *run, MemoryContext cxt)
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
	run_steps_admin_begin(&st, start);
	write_step_row(values, nulls, start);
	run_steps_admin_commit(&st);
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
void
run_steps_write_last_end(RunDef *run)
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
 * a run that executes its steps one at a time (run_steps_execute takes the first
 * step whose dependencies are done, in definition order); a run whose
 * steps may execute in parallel records each start as it comes.  The
 * start is the due time when the run was taken early.
 */
void
run_steps_record_first_start(RunDef *run)
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
 * A step whose start run_steps_record_first_start wrote is skipped after all
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

	run_steps_admin_begin(&st, true);
	internal_sql_exec_plan(&unstart_step_plan, InvalidOid,
						   "UPDATE elt.step_run SET attempt = 0, status = 'skipped', "
						   "started_at = NULL, error = $3 "
						   "WHERE run_id OPERATOR(pg_catalog.=) $1 AND step OPERATOR(pg_catalog.=) $2 "
						   "AND attempt OPERATOR(pg_catalog.=) 1",
						   3, types, values, NULL, false, SPI_OK_UPDATE);
	run_steps_admin_commit(&st);
	step->start_recorded = false;
}

/*
 * Sleep for ms, or until the run is cancelled.  Returns false when it is.
 */
bool
run_steps_sleep(int64 ms)
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
			if (!run_steps_sleep(delay))
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

	run_steps_admin_begin(&st, true);
	internal_sql_exec("UPDATE elt.step_run SET status = 'failed', "
					  "finished_at = pg_catalog.clock_timestamp(), error = $3 "
					  "WHERE run_id OPERATOR(pg_catalog.=) $1 AND step OPERATOR(pg_catalog.=) $2 "
					  "AND status OPERATOR(pg_catalog.=) 'running'",
					  3, types, values, NULL, false, SPI_OK_UPDATE);
	run_steps_admin_commit(&st);
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
const char *
run_steps_execute(RunDef *run, MemoryContext runcxt, char **run_error, Oid owner)
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
	run_steps_init_worker();
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
	run_steps_current_run = args.run_id;

	MemoryContextSwitchTo(runcxt);
	status = run_step(&run, &step, runcxt, &error);
	parallel_report(pr, args.task, status, error);
	run_slot_release();
	run_steps_current_run = 0;
	proc_exit(0);
}

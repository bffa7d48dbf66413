/*
 * parallel.c
 *	  Handing independent steps of a run to step workers.
 *
 * A run worker (runner.c) that has several steps ready at once starts a
 * dynamic background worker per step, up to the pipeline's max_parallel
 * and pg_elt.max_workers.  Each step worker connects as the pipeline's
 * owner, like the run worker, and executes its one step (attempts,
 * retries, timeout, history rows) in its own transactions.  The steps
 * and their outcomes pass through a DSM segment that the run worker
 * creates: the step worker needs nothing from the catalogs, so it
 * executes exactly the definition the run started with, and the run
 * worker, told by the postmaster when a step worker exits
 * (bgw_notify_pid), reads the outcome there and starts the dependents.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/memutils.h"
#include "port/atomics.h"
#include "utils/resowner.h"

#include "parallel.h"
#include "workers.h"

/* Resource owner of the task tables a run worker creates */
static ResourceOwner segment_owner = NULL;

/* The step workers of the current run, stopped if the run worker exits */
static BackgroundWorkerHandle **step_handles = NULL;
static int	nstep_handles = 0;
static bool exit_registered = false;

/*
 * on_shmem_exit callback of a run worker: a run worker that exits in the
 * middle of a run (terminated, or an error) stops its step workers, so
 * that none goes on executing a step of a run that nobody finishes; the
 * launcher then fails the run as lost.
 */
static void
stop_step_workers(int code, Datum arg)
{
	int			i;

	for (i = 0; i < nstep_handles; i++)
		if (step_handles[i] != NULL)
			TerminateBackgroundWorker(step_handles[i]);
	nstep_handles = 0;
}

/*
 * Create the task table of a run: one task per step, with its name,
 * command, retries and timeout.  The segment lives as long as the run
 * worker.
 */
ParallelRun *
parallel_create(dsm_segment **seg, int64 run_id, Oid dboid, Oid owner,
				int64 retry_delay_ms, int ntasks, char **names, char **commands,
				const int *retries, const int64 *timeouts)
{
	Size		size = offsetof(ParallelRun, tasks) + sizeof(StepTask) * ntasks;
	Size		off;
	ParallelRun *pr;
	int			i;

	for (i = 0; i < ntasks; i++)
		size += strlen(names[i]) + 1 + strlen(commands[i]) + 1;
	/* one owner for the worker's life: a lasting worker creates many */
	if (CurrentResourceOwner == NULL)
	{
		if (segment_owner == NULL)
			segment_owner = ResourceOwnerCreate(NULL, "pg_elt run worker");
		CurrentResourceOwner = segment_owner;
	}
	if (!exit_registered)
	{
		on_shmem_exit(stop_step_workers, (Datum) 0);
		exit_registered = true;
	}
	if (step_handles != NULL)
		pfree(step_handles);
	step_handles = MemoryContextAllocZero(TopMemoryContext,
										  sizeof(BackgroundWorkerHandle *) * ntasks);
	nstep_handles = ntasks;
	*seg = dsm_create(size, 0);
	dsm_pin_mapping(*seg);
	pr = dsm_segment_address(*seg);
	memset(pr, 0, offsetof(ParallelRun, tasks) + sizeof(StepTask) * ntasks);
	pr->run_id = run_id;
	pr->retry_delay_ms = retry_delay_ms;
	pr->dboid = dboid;
	pr->owner = owner;
	pr->ntasks = ntasks;
	off = offsetof(ParallelRun, tasks) + sizeof(StepTask) * ntasks;
	for (i = 0; i < ntasks; i++)
	{
		StepTask   *task = &pr->tasks[i];

		task->retries = retries[i];
		task->timeout_ms = timeouts[i];
		task->name_off = off;
		strcpy((char *) pr + off, names[i]);
		off += strlen(names[i]) + 1;
		task->command_off = off;
		strcpy((char *) pr + off, commands[i]);
		off += strlen(commands[i]) + 1;
	}
	return pr;
}

/*
 * Start a step worker for one task.  Returns false when no background
 * worker slot is free (the run worker then executes the step itself or
 * waits for a step worker to finish).
 */
bool
parallel_start_step(dsm_segment *seg, ParallelRun *pr, int task,
					BackgroundWorkerHandle **handle)
{
	EltWorkerSpec spec = {0};
	StepWorkerArgs args;
	char		name[BGW_MAXLEN];

	StaticAssertStmt(sizeof(StepWorkerArgs) <= BGW_EXTRALEN, "StepWorkerArgs too large");
	memset(&args, 0, sizeof(args));
	args.dboid = pr->dboid;
	args.owner = pr->owner;
	args.run_id = pr->run_id;
	args.segment = dsm_segment_handle(seg);
	args.task = task;
	pr->tasks[task].state = STEP_TASK_ASSIGNED;
	pg_write_barrier();

	snprintf(name, sizeof(name), "pg_elt step worker of run %lld", (long long) pr->run_id);
	spec.function = "elt_step_worker_main";
	spec.name = name;
	spec.type = "pg_elt step worker";
	spec.extra = &args;
	spec.extra_size = sizeof(args);
	spec.notify_pid = MyProcPid;
	if (!workers_register(&spec, handle))
	{
		pr->tasks[task].state = STEP_TASK_IDLE;
		return false;
	}
	if (task < nstep_handles)
		step_handles[task] = *handle;
	return true;
}

/*
 * In a run worker, at the end of a run: its step workers have all exited,
 * nothing is left to stop.
 */
void
parallel_finish(void)
{
	nstep_handles = 0;
}

/*
 * In a step worker: attach to the run's task table, or NULL when the run
 * worker is gone.
 */
ParallelRun *
parallel_attach(dsm_handle handle)
{
	dsm_segment *seg;

	if (CurrentResourceOwner == NULL)
		CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_elt step worker");
	seg = dsm_attach(handle);
	if (seg == NULL)
		return NULL;
	dsm_pin_mapping(seg);
	return dsm_segment_address(seg);
}

/* The name and command of a task, kept in the segment */
const char *
parallel_task_name(ParallelRun *pr, int task)
{
	return (const char *) pr + pr->tasks[task].name_off;
}

const char *
parallel_task_command(ParallelRun *pr, int task)
{
	return (const char *) pr + pr->tasks[task].command_off;
}

/*
 * In a step worker: publish the final status of its step.  The run worker
 * reads it once the step worker has exited, or sooner.
 */
void
parallel_report(ParallelRun *pr, int task, const char *status, const char *error)
{
	StepTask   *t = &pr->tasks[task];

	strlcpy(t->status, status, sizeof(t->status));
	strlcpy(t->error, error ? error : "", sizeof(t->error));
	pg_write_barrier();
	t->state = STEP_TASK_DONE;
}

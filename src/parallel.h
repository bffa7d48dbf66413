/*
 * parallel.h
 *	  Handing the steps of a run to step workers: the shared task table of
 *	  a run, and starting, attaching to and reporting from a step worker.
 */
#ifndef ELT_PARALLEL_H
#define ELT_PARALLEL_H

#include "postgres.h"

#include "postmaster/bgworker.h"
#include "storage/dsm.h"

#define PARALLEL_ERROR_LEN 2000

typedef enum StepTaskState
{
	STEP_TASK_IDLE = 0,
	STEP_TASK_ASSIGNED,
	STEP_TASK_DONE
} StepTaskState;

/* One step of the run, as a step worker needs it, and its outcome */
typedef struct StepTask
{
	volatile int32 state;		/* StepTaskState */
	int32		retries;
	int64		timeout_ms;		/* 0: none */
	Size		name_off;		/* offsets of strings in the segment */
	Size		command_off;
	char		status[16];		/* final status, once done */
	char		error[PARALLEL_ERROR_LEN];
} StepTask;

/* The task table of a run, in a DSM segment of the run worker */
typedef struct ParallelRun
{
	int64		run_id;
	int64		retry_delay_ms;
	Oid			dboid;
	Oid			owner;
	int32		ntasks;
	StepTask	tasks[FLEXIBLE_ARRAY_MEMBER];
} ParallelRun;

/* What a step worker is told, in bgw_extra */
typedef struct StepWorkerArgs
{
	Oid			dboid;
	Oid			owner;
	int64		run_id;
	dsm_handle	segment;
	int32		task;
} StepWorkerArgs;

extern ParallelRun *parallel_create(dsm_segment **seg, int64 run_id, Oid dboid, Oid owner,
									int64 retry_delay_ms, int ntasks,
									char **names, char **commands,
									const int *retries, const int64 *timeouts);
extern bool parallel_start_step(dsm_segment *seg, ParallelRun *pr, int task,
								BackgroundWorkerHandle **handle);
extern void parallel_finish(void);
extern ParallelRun *parallel_attach(dsm_handle handle);
extern const char *parallel_task_name(ParallelRun *pr, int task);
extern const char *parallel_task_command(ParallelRun *pr, int task);
extern void parallel_report(ParallelRun *pr, int task, const char *status, const char *error);

#endif							/* ELT_PARALLEL_H */

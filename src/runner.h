/*
 * runner.h
 *	  Run workers: the dynamic background workers that execute one run of a
 *	  pipeline, step after step, as the pipeline's owner.
 */
#ifndef PG_ELT_RUNNER_H
#define PG_ELT_RUNNER_H

#include "postgres.h"

#include "postmaster/bgworker.h"
#include "storage/dsm.h"

/* What a run worker is told to do, in bgw_extra */
typedef struct RunWorkerArgs
{
	Oid			dboid;
	Oid			owner;
	int64		run_id;			/* a queued run, or 0 to create a manual run */
	int64		pipeline_id;	/* for a manual run */
	dsm_handle	result;			/* RunResult, for a manual run */
} RunWorkerArgs;

extern const char *runner_owner_problem(Oid owner);
extern bool runner_start_worker(const RunWorkerArgs *args, pid_t notify_pid,
								BackgroundWorkerHandle **handle);

extern void runner_finish_run(int64 run_id, const char *status,
							  const char *error, const char *from_status);

extern PGDLLEXPORT void elt_run_worker_main(Datum main_arg);

#endif							/* PG_ELT_RUNNER_H */

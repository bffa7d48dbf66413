/*
 * runner.h
 *	  Run workers: the dynamic background workers that take a run of a
 *	  pipeline and end it (runner.c), its steps executed by run_steps.c,
 *	  and the result a manual run's worker hands to the session that waits
 *	  for it (run_sql.c).
 */
#ifndef PG_ELT_RUNNER_H
#define PG_ELT_RUNNER_H

#include "postgres.h"

#define RESULT_ERROR_LEN 2000

/* Shared with the session that waits for a manual run */
typedef struct RunResult
{
	int64		run_id;
	bool		claimed;
	bool		finished;
	char		status[16];
	char		error[RESULT_ERROR_LEN];
} RunResult;

extern PGDLLEXPORT void elt_run_worker_main(Datum main_arg);

#endif							/* PG_ELT_RUNNER_H */

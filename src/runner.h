/*
 * runner.h
 *	  Run workers: the dynamic background workers that execute one run of a
 *	  pipeline as the pipeline's owner (and the step workers that execute
 *	  its independent steps side by side), and the SQL
 *	  functions that run, trigger and cancel pipelines.
 */
#ifndef PG_ELT_RUNNER_H
#define PG_ELT_RUNNER_H

#include "postgres.h"

extern PGDLLEXPORT void elt_run_worker_main(Datum main_arg);
extern PGDLLEXPORT void elt_step_worker_main(Datum main_arg);

#endif							/* PG_ELT_RUNNER_H */

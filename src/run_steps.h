/*
 * run_steps.h
 *	  Executing one run's steps as the pipeline's owner: the run's
 *	  definition, its steps in dependency order (or side by side in step
 *	  workers), their attempts and their history.
 */
#ifndef ELT_RUN_STEPS_H
#define ELT_RUN_STEPS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "postmaster/bgworker.h"

#include "internal_sql.h"

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

/* The run this backend executes (elt.current_run()); 0: none */
extern int64 run_steps_current_run;
/* Where a run worker allocates between transactions (NULL: none) */
extern MemoryContext run_steps_worker_cxt;

extern void run_steps_init_worker(void);
extern void run_steps_admin_begin(InternalSqlScope *st, bool sync);
extern void run_steps_admin_begin_started(InternalSqlScope *st, bool sync);
extern void run_steps_admin_commit(InternalSqlScope *st);
extern bool run_steps_load_definition(RunDef *run, MemoryContext cxt);
extern void run_steps_record_first_start(RunDef *run);
extern void run_steps_write_last_end(RunDef *run);
extern bool run_steps_sleep(int64 ms);
extern const char *run_steps_execute(RunDef *run, MemoryContext runcxt, char **run_error,
									 Oid owner);

extern PGDLLEXPORT void elt_step_worker_main(Datum main_arg);

#endif							/* ELT_RUN_STEPS_H */

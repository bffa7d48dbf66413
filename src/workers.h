/*
 * workers.h
 *	  Registering pg_elt's background workers: the launcher at server
 *	  start, and the dynamic workers that execute a run or write a durable
 *	  record.
 */
#ifndef ELT_WORKERS_H
#define ELT_WORKERS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"

/*
 * What a worker is: its entry point in pg_elt's library, its names, and
 * what it is told.  Every pg_elt worker connects to a database and uses
 * shared memory.
 */
typedef struct EltWorkerSpec
{
	const char *function;		/* entry point, PGDLLEXPORT in pg_elt */
	const char *name;			/* bgw_name: this one worker */
	const char *type;			/* bgw_type: its kind, in pg_stat_activity */
	Datum		main_arg;
	const void *extra;			/* copied into bgw_extra, or NULL */
	Size		extra_size;
	pid_t		notify_pid;		/* 0: nobody */
	int			restart_secs;	/* a worker of server start only */
} EltWorkerSpec;

/* What a run worker is told to do, in bgw_extra */
typedef struct RunWorkerArgs
{
	Oid			dboid;
	Oid			owner;
	int64		run_id;			/* a queued run, or 0 to create a manual run */
	int64		pipeline_id;	/* for a manual run */
	dsm_handle	result;			/* RunResult, for a manual run */
	TimestampTz interval_start; /* data interval of a manual run; */
	TimestampTz interval_end;	/* both 0: none */
} RunWorkerArgs;

extern bool workers_register(const EltWorkerSpec *spec,
							 BackgroundWorkerHandle **handle);

extern const char *workers_run_owner_problem(Oid owner);
extern bool workers_start_run(const RunWorkerArgs *args, pid_t notify_pid,
							  BackgroundWorkerHandle **handle);

#endif							/* ELT_WORKERS_H */

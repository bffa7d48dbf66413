/*
 * scheduler.h
 *	  The launcher background worker and the shared state it shares with
 *	  run workers and with the sessions that define, run and cancel
 *	  pipelines.
 */
#ifndef PG_ELT_SCHEDULER_H
#define PG_ELT_SCHEDULER_H

#include "postgres.h"

#include "storage/latch.h"
#include "storage/lwlock.h"

/* At most this many runs execute at once in the whole cluster */
#define ELT_MAX_RUN_SLOTS 512

/*
 * One executing run.  Claimed by the run worker when it starts the run and
 * released when it exits, so a run whose status says 'running' but has no
 * slot has lost its worker.
 */
typedef struct EltRunSlot
{
	int64		run_id;			/* 0 when free */
	pid_t		pid;
	Oid			dboid;
	bool		cancel_requested;
} EltRunSlot;

typedef struct EltShared
{
	LWLock	   *lock;
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	int			launcher_failed_starts; /* in a row, e.g. no such database */
	EltRunSlot	slots[ELT_MAX_RUN_SLOTS];
} EltShared;

/* NULL unless pg_elt was loaded by shared_preload_libraries */
extern EltShared *elt_shared;

extern void scheduler_init(void);
extern void scheduler_require_shared(const char *what);
extern void scheduler_wake_now(void);
extern void scheduler_wake_at_commit(void);

extern bool run_slot_claim(int64 run_id);
extern void run_slot_release(void);
extern bool run_slot_is_live(int64 run_id, Oid dboid);
extern pid_t run_slot_request_cancel(int64 run_id, Oid dboid);
extern bool run_slot_cancel_requested(void);

extern PGDLLEXPORT void elt_launcher_main(Datum main_arg);

#endif							/* PG_ELT_SCHEDULER_H */

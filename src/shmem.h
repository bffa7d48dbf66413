/*
 * shmem.h
 *	  pg_elt's shared memory: the launcher's latch, one slot per executing
 *	  run, and the rate-limit table, with the one pair of hooks that
 *	  creates them.
 *
 * Everything pg_elt keeps in shared memory is laid out here, so its size
 * and its locking can be read in one place.  Parts that use it (the
 * launcher, run workers, sessions that cancel or trigger runs, extracts
 * that reserve requests) depend on this file, never on each other.
 */
#ifndef ELT_SHMEM_H
#define ELT_SHMEM_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/spin.h"

/* At most this many runs execute at once in the whole cluster */
#define ELT_MAX_RUN_SLOTS 512

/* At most this many run workers wait for their next run at once */
#define ELT_POOL_SLOTS 64

/* At most this many rate-limited sources are tracked at once */
#define ELT_RATE_SLOTS 128

/*
 * One executing run.  Claimed by the run worker when it starts the run and
 * released when it exits, so a run whose status says 'running' but has no
 * slot has lost its worker.
 */
typedef struct EltRunSlot
{
	int64		run_id;			/* 0 when free */
	int64		pipeline_id;	/* of a queued run taken: 0 for the others */
	int64		ending_run_id;	/* the run this worker is ending, until the
								 * end commits (0: none) */
	pid_t		pid;
	Oid			dboid;
	bool		cancel_requested;
	bool		step_worker;	/* executes one step for the run's worker */
} EltRunSlot;

/*
 * A run worker that has finished a scheduled run and waits, connected as
 * the owner, for the launcher to hand it the next queued run of the same
 * owner (pool.c).
 */
typedef struct EltPoolSlot
{
	pid_t		pid;			/* 0 when free */
	Oid			dboid;
	Oid			owner;
	Latch	   *latch;
	bool		idle;			/* waiting; false once given run_id */
	int64		run_id;			/* the run it was given */
} EltPoolSlot;

/* The earliest start of the next request to one rate-limited source */
typedef struct EltRateSlot
{
	Oid			dbid;
	char		source[NAMEDATALEN];
	TimestampTz next;			/* earliest start of the next request */
	TimestampTz used;			/* last reservation, for reuse of slots */
} EltRateSlot;

/*
 * The progress of the model build one backend runs now (build_progress.c),
 * one slot per backend, indexed by backend id.  Only the backend itself
 * writes its slot; readers use changecount as pgstat's activity entries
 * do: odd while a write is under way.
 */
typedef struct EltBuildSlot
{
	uint32		changecount;
	pid_t		pid;			/* 0 when no build runs */
	Oid			dboid;
	Oid			userid;
	char		function[32];
	char		target[2 * NAMEDATALEN + 8];
	char		phase[32];
	int64		rows_done;
	int64		bytes_done;		/* exports: bytes sent */
	TimestampTz started_at;
	TimestampTz phase_started_at;
} EltBuildSlot;

typedef struct EltShared
{
	LWLock	   *lock;			/* protects the launcher fields and slots */
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	int			launcher_failed_starts; /* in a row, e.g. no such database */
	EltRunSlot	slots[ELT_MAX_RUN_SLOTS];
	EltPoolSlot pool[ELT_POOL_SLOTS];	/* protected by lock too */

	slock_t		rate_mutex;		/* protects rate_slots: held for a few
								 * instructions per request */
	EltRateSlot rate_slots[ELT_RATE_SLOTS];
} EltShared;

/* NULL unless pg_elt was loaded by shared_preload_libraries */
extern EltShared *elt_shared;

/* MaxBackends slots, NULL unless pg_elt was preloaded */
extern EltBuildSlot *elt_build_slots;

extern void shmem_init(void);
extern void shmem_require_preload(const char *what);

extern void shmem_wake_launcher(void);
extern void shmem_wake_launcher_at_commit(void);

extern bool run_slot_claim(int64 run_id);
extern bool run_slot_take_queued(int64 run_id, int64 pipeline_id);
extern void run_slot_undo_take(void);
extern void run_slot_ended(void);
extern bool run_slot_run_of(pid_t pid, Oid dboid, int64 *run_id, int64 *pipeline_id);
extern bool run_slot_claim_step(int64 run_id);
extern void run_slot_release(void);
extern bool run_slot_is_live(int64 run_id, Oid dboid);
extern pid_t run_slot_request_cancel(int64 run_id, Oid dboid);
extern bool run_slot_cancel_requested(void);

#endif							/* ELT_SHMEM_H */

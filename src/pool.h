/*
 * pool.h
 *	  Run workers that last: a worker that has finished a scheduled run
 *	  waits for the next queued run of the same owner instead of exiting.
 */
#ifndef ELT_POOL_H
#define ELT_POOL_H

#include "postgres.h"

/* How long an idle run worker waits for a next run before it exits */
#define POOL_IDLE_MS (30 * 1000L)

extern int64 pool_wait_for_run(Oid owner, long idle_ms);
extern bool pool_is_idle(pid_t pid);
extern bool pool_assign(pid_t pid, int64 run_id);

#endif							/* ELT_POOL_H */

/*
 * pool.c
 *	  Run workers that last.
 *
 * Starting a background worker for every run costs a process start and a
 * connection, tens of milliseconds that delay the run and, when many
 * short pipelines are due at once, keep pg_elt.max_workers busy with
 * starting rather than running.  So a run worker that has finished a
 * scheduled run stays connected as the owner for a while, in a slot of
 * shared memory, and the launcher (scheduler.c) hands it the next queued
 * run of the same owner by setting the run id in its slot and its latch.
 * A worker connects as the pipeline's owner once and for all, which is why
 * only runs of that owner can be handed to it; its session is reset
 * between runs (runner.c).
 *
 * The slot is what makes a hand-over safe: under the lock, either the
 * launcher gives the run to a worker that is still idle, or the worker
 * gives up its slot and exits; never both.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "pool.h"
#include "shmem.h"

static int	my_pool_slot = -1;
static bool pool_exit_registered = false;

/*
 * on_shmem_exit callback: free this worker's pool slot.
 */
static void
pool_exit(int code, Datum arg)
{
	if (elt_shared == NULL || my_pool_slot < 0)
		return;
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	if (elt_shared->pool[my_pool_slot].pid == MyProcPid)
		memset(&elt_shared->pool[my_pool_slot], 0, sizeof(EltPoolSlot));
	LWLockRelease(elt_shared->lock);
	my_pool_slot = -1;
}

/*
 * In a run worker that finished a run: wait up to idle_ms for the launcher
 * to hand over the next run.  Returns its id, or 0 when none came (or no
 * slot was free): the worker then exits.
 */
int64
pool_wait_for_run(Oid owner, long idle_ms)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), idle_ms);
	int			i;

	if (elt_shared == NULL)
		return 0;
	if (!pool_exit_registered)
	{
		on_shmem_exit(pool_exit, (Datum) 0);
		pool_exit_registered = true;
	}
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	if (my_pool_slot < 0)
	{
		for (i = 0; i < ELT_POOL_SLOTS; i++)
			if (elt_shared->pool[i].pid == 0)
			{
				my_pool_slot = i;
				break;
			}
	}
	if (my_pool_slot >= 0)
	{
		EltPoolSlot *slot = &elt_shared->pool[my_pool_slot];

		slot->pid = MyProcPid;
		slot->dboid = MyDatabaseId;
		slot->owner = owner;
		slot->latch = MyLatch;
		slot->run_id = 0;
		slot->idle = true;
	}
	LWLockRelease(elt_shared->lock);
	if (my_pool_slot < 0)
		return 0;
	/* a queued run may be waiting for a free worker: this one */
	shmem_wake_launcher();

	pgstat_report_activity(STATE_IDLE, "");
	for (;;)
	{
		EltPoolSlot *slot = &elt_shared->pool[my_pool_slot];
		TimestampTz now = GetCurrentTimestamp();
		int64		run_id = 0;
		bool		taken = false;
		bool		give_up = (now >= deadline);

		LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
		if (!slot->idle)
		{
			/* handed a run, or run 0: the launcher needs the room */
			taken = true;
			run_id = slot->run_id;
		}
		if ((taken && run_id == 0) || (!taken && give_up))
			memset(slot, 0, sizeof(EltPoolSlot));
		LWLockRelease(elt_shared->lock);
		if (run_id != 0)
			return run_id;
		if (taken || give_up)
		{
			my_pool_slot = -1;
			return 0;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (long) ((deadline - now + 999) / 1000), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * In the launcher: is the worker with this pid waiting for a run?
 */
bool
pool_is_idle(pid_t pid)
{
	bool		idle = false;
	int			i;

	if (elt_shared == NULL || pid == 0)
		return false;
	LWLockAcquire(elt_shared->lock, LW_SHARED);
	for (i = 0; i < ELT_POOL_SLOTS; i++)
		if (elt_shared->pool[i].pid == pid && elt_shared->pool[i].idle)
			idle = true;
	LWLockRelease(elt_shared->lock);
	return idle;
}

/*
 * In the launcher: hand a queued run to the idle worker with this pid, or
 * with run_id 0 tell it to exit.  Returns false when it is no longer idle
 * (it is exiting).
 */
bool
pool_assign(pid_t pid, int64 run_id)
{
	Latch	   *latch = NULL;
	int			i;

	if (elt_shared == NULL || pid == 0)
		return false;
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < ELT_POOL_SLOTS; i++)
	{
		EltPoolSlot *slot = &elt_shared->pool[i];

		if (slot->pid == pid && slot->idle)
		{
			slot->idle = false;
			slot->run_id = run_id;
			latch = slot->latch;
			break;
		}
	}
	LWLockRelease(elt_shared->lock);
	if (latch != NULL)
		SetLatch(latch);
	return latch != NULL;
}

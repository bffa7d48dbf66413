/*
 * shmem.c
 *	  pg_elt's shared memory, and the operations on it that several parts
 *	  need: waking the launcher, and the slots of executing runs.
 *
 * Shared memory holds the launcher's latch and one slot per executing run
 * (run id, worker pid, cancel flag): elt.cancel() finds the worker there,
 * and a run marked 'running' without a slot has lost its worker, which is
 * how runs cut short by a crash or restart are recognised and failed
 * instead of being run again.  It also holds the rate-limit table of
 * ratelimit.c, since an API's quota is shared by every backend, and one
 * progress slot per backend for the model builds of build_progress.c.
 *
 * It exists only when pg_elt is loaded by shared_preload_libraries; every
 * operation here is then a no-op (or says "no"), and what cannot work
 * without it calls shmem_require_preload.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"

#include "shmem.h"

EltShared  *elt_shared = NULL;
EltBuildSlot *elt_build_slots = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static int	my_slot = -1;
/* the pipeline of the run this process is ending (run_slot_undo_take) */
static int64 ending_pipeline_id = 0;
static bool slot_exit_registered = false;
static bool wake_pending = false;
static bool xact_callback_registered = false;

/*
 * Ask for the shared state (PostgreSQL 15 requires this to happen in the
 * shmem_request_hook).
 */
static void
elt_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(EltShared)));
	RequestAddinShmemSpace(MAXALIGN(mul_size(MaxBackends, sizeof(EltBuildSlot))));
	RequestNamedLWLockTranche("pg_elt", 1);
}

/*
 * Create or attach the shared state, at server start and after every crash
 * restart (which forgets all runs: their rows are failed by the launcher,
 * and all rate reservations, which only makes the next requests early).
 */
static void
elt_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	elt_shared = ShmemInitStruct("pg_elt", sizeof(EltShared), &found);
	if (!found)
	{
		memset(elt_shared, 0, sizeof(EltShared));
		elt_shared->lock = &(GetNamedLWLockTranche("pg_elt"))->lock;
		SpinLockInit(&elt_shared->rate_mutex);
	}
	elt_build_slots = ShmemInitStruct("pg_elt build progress",
									  mul_size(MaxBackends, sizeof(EltBuildSlot)), &found);
	if (!found)
		memset(elt_build_slots, 0, mul_size(MaxBackends, sizeof(EltBuildSlot)));
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Called from _PG_init: shared memory exists only under preloading.
 */
void
shmem_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = elt_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = elt_shmem_startup;
}

/*
 * Refuse, with a clear message, what cannot work without the shared state.
 */
void
shmem_require_preload(const char *what)
{
	if (elt_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s requires pg_elt to be loaded by shared_preload_libraries", what),
				 errhint("Add pg_elt to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * Wake the launcher now (it re-reads the definitions).
 */
void
shmem_wake_launcher(void)
{
	Latch	   *latch;

	if (elt_shared == NULL)
		return;
	latch = elt_shared->launcher_latch;
	if (latch != NULL)
		SetLatch(latch);
}

/*
 * Transaction callback: wake the launcher once the change that asked for it
 * is committed, so that it sees the change.
 */
static void
wake_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (wake_pending)
			{
				wake_pending = false;
				shmem_wake_launcher();
			}
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			wake_pending = false;
			break;
		default:
			break;
	}
}

/*
 * Arrange for the launcher to be woken when the current transaction
 * commits.
 */
void
shmem_wake_launcher_at_commit(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		xact_callback_registered = true;
	}
	wake_pending = true;
}

/*
 * on_shmem_exit callback: free this process's run slot, whatever the way
 * it exits.
 */
static void
run_slot_exit(int code, Datum arg)
{
	bool		held = (my_slot >= 0);

	run_slot_release();
	/* a run may have lost its last worker: the launcher fails it */
	if (held)
		shmem_wake_launcher();
}

/* Free this process's slot when it exits (registered once). */
static void
register_slot_exit(void)
{
	if (!slot_exit_registered)
	{
		on_shmem_exit(run_slot_exit, (Datum) 0);
		slot_exit_registered = true;
	}
}

/*
 * Claim a slot for the run this process executes, as its run worker or as
 * a step worker of it.  Returns false when all slots are taken.
 */
static bool
claim_slot(int64 run_id, bool step_worker)
{
	int			i;

	if (elt_shared == NULL)
		return false;
	register_slot_exit();
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < ELT_MAX_RUN_SLOTS; i++)
	{
		EltRunSlot *slot = &elt_shared->slots[i];

		if (slot->run_id == 0)
		{
			slot->run_id = run_id;
			slot->pipeline_id = 0;
			slot->ending_run_id = 0;
			slot->pid = MyProcPid;
			slot->dboid = MyDatabaseId;
			slot->cancel_requested = false;
			slot->step_worker = step_worker;
			my_slot = i;
			break;
		}
	}
	LWLockRelease(elt_shared->lock);
	return my_slot >= 0;
}

bool
run_slot_claim(int64 run_id)
{
	return claim_slot(run_id, false);
}

/*
 * Take a slot for a queued run of a pipeline, or move this process's slot
 * to it (a lasting run worker goes from one run to the next without
 * letting go).  Returns false when another process executes a queued run
 * of the same pipeline, which is what keeps two runs of one pipeline from
 * overlapping even when two workers pick runs at the same moment, or when
 * all slots are taken.
 */
bool
run_slot_take_queued(int64 run_id, int64 pipeline_id)
{
	int			i;
	int			mine = my_slot;

	if (elt_shared == NULL)
		return false;
	register_slot_exit();
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < ELT_MAX_RUN_SLOTS; i++)
	{
		EltRunSlot *slot = &elt_shared->slots[i];

		if (i != my_slot && slot->run_id != 0 && slot->pipeline_id == pipeline_id &&
			slot->dboid == MyDatabaseId)
		{
			LWLockRelease(elt_shared->lock);
			return false;
		}
		if (mine < 0 && slot->run_id == 0)
			mine = i;
	}
	if (mine >= 0)
	{
		EltRunSlot *slot = &elt_shared->slots[mine];

		/* the run this worker ends stays live until its end commits */
		if (mine == my_slot)
		{
			slot->ending_run_id = slot->run_id;
			ending_pipeline_id = slot->pipeline_id;
		}
		else
			slot->ending_run_id = 0;
		slot->run_id = run_id;
		slot->pipeline_id = pipeline_id;
		slot->pid = MyProcPid;
		slot->dboid = MyDatabaseId;
		slot->cancel_requested = false;
		slot->step_worker = false;
		my_slot = mine;
	}
	LWLockRelease(elt_shared->lock);
	return mine >= 0;
}

/*
 * Give up the run just taken by run_slot_take_queued: back to the run
 * being ended, or no slot at all.
 */
void
run_slot_undo_take(void)
{
	EltRunSlot *slot;

	if (elt_shared == NULL || my_slot < 0)
		return;
	slot = &elt_shared->slots[my_slot];
	if (slot->ending_run_id == 0)
	{
		run_slot_release();
		return;
	}
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	slot->run_id = slot->ending_run_id;
	slot->pipeline_id = ending_pipeline_id;
	slot->ending_run_id = 0;
	LWLockRelease(elt_shared->lock);
}

/*
 * The end of the run this worker was ending has committed.
 */
void
run_slot_ended(void)
{
	if (elt_shared == NULL || my_slot < 0)
		return;
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	elt_shared->slots[my_slot].ending_run_id = 0;
	LWLockRelease(elt_shared->lock);
}

/*
 * The run (and, for a queued run, its pipeline) that the run worker with
 * this pid executes now.  Returns false when it executes none.
 */
bool
run_slot_run_of(pid_t pid, Oid dboid, int64 *run_id, int64 *pipeline_id)
{
	bool		found = false;
	int			i;

	*run_id = 0;
	*pipeline_id = 0;
	if (elt_shared == NULL || pid == 0)
		return false;
	LWLockAcquire(elt_shared->lock, LW_SHARED);
	for (i = 0; i < ELT_MAX_RUN_SLOTS; i++)
	{
		EltRunSlot *slot = &elt_shared->slots[i];

		if (slot->run_id != 0 && slot->pid == pid && slot->dboid == dboid && !slot->step_worker)
		{
			*run_id = slot->run_id;
			*pipeline_id = slot->pipeline_id;
			found = true;
			break;
		}
	}
	LWLockRelease(elt_shared->lock);
	return found;
}

/*
 * A step worker's slot: cancelling the run flags and interrupts it too.
 */
bool
run_slot_claim_step(int64 run_id)
{
	return claim_slot(run_id, true);
}

/*
 * Free this process's slot, if it holds one.
 */
void
run_slot_release(void)
{
	if (elt_shared == NULL || my_slot < 0)
		return;
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	if (elt_shared->slots[my_slot].pid == MyProcPid)
		memset(&elt_shared->slots[my_slot], 0, sizeof(EltRunSlot));
	LWLockRelease(elt_shared->lock);
	my_slot = -1;
}

/*
 * Is a worker executing this run right now?
 */
bool
run_slot_is_live(int64 run_id, Oid dboid)
{
	bool		live = false;
	int			i;

	if (elt_shared == NULL)
		return false;
	LWLockAcquire(elt_shared->lock, LW_SHARED);
	for (i = 0; i < ELT_MAX_RUN_SLOTS; i++)
	{
		EltRunSlot *slot = &elt_shared->slots[i];

		if ((slot->run_id == run_id || slot->ending_run_id == run_id) &&
			slot->dboid == dboid && run_id != 0)
		{
			live = true;
			break;
		}
	}
	LWLockRelease(elt_shared->lock);
	return live;
}

/*
 * Flag a run as cancelled and return the pid of its worker (0 when no
 * worker executes it), which the caller then interrupts.  Its step
 * workers, if any, are flagged and interrupted here.
 */
pid_t
run_slot_request_cancel(int64 run_id, Oid dboid)
{
	pid_t		pid = 0;
	pid_t		steps[ELT_MAX_RUN_SLOTS];
	int			nsteps = 0;
	int			i;

	if (elt_shared == NULL)
		return 0;
	LWLockAcquire(elt_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < ELT_MAX_RUN_SLOTS; i++)
	{
		EltRunSlot *slot = &elt_shared->slots[i];

		if (slot->run_id == run_id && slot->dboid == dboid)
		{
			slot->cancel_requested = true;
			if (slot->step_worker)
				steps[nsteps++] = slot->pid;
			else
				pid = slot->pid;
		}
	}
	LWLockRelease(elt_shared->lock);
	for (i = 0; i < nsteps; i++)
		kill(steps[i], SIGINT);
	return pid;
}

/*
 * Has the run this process executes been cancelled?
 */
bool
run_slot_cancel_requested(void)
{
	bool		result;

	if (elt_shared == NULL || my_slot < 0)
		return false;
	LWLockAcquire(elt_shared->lock, LW_SHARED);
	result = elt_shared->slots[my_slot].cancel_requested;
	LWLockRelease(elt_shared->lock);
	return result;
}

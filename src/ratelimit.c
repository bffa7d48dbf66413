/*
 * ratelimit.c
 *	  Source-wide request rate limits, shared by every backend.
 *
 * An API's quota belongs to the account, not to one extract: two streams
 * of a source extracted at once (two pipelines, a pipeline and a psql
 * session) must share the source's rate_limit.  Each limited source has a
 * slot in shared memory holding the earliest time its next request may
 * start; a request reserves that time and pushes it on by 1/rate.  Slots
 * are few and small; the least recently used one is reused.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include "ratelimit.h"

#define RATELIMIT_SLOTS 128

typedef struct RateSlot
{
	Oid			dbid;
	char		source[NAMEDATALEN];
	TimestampTz next;			/* earliest start of the next request */
	TimestampTz used;			/* last reservation, for reuse of slots */
} RateSlot;

typedef struct RateShared
{
	slock_t		mutex;
	RateSlot	slots[RATELIMIT_SLOTS];
} RateShared;

static RateShared *rate_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
ratelimit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RateShared)));
}

static void
ratelimit_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rate_shared = ShmemInitStruct("pg_elt rate limits", sizeof(RateShared), &found);
	if (!found)
	{
		memset(rate_shared, 0, sizeof(RateShared));
		SpinLockInit(&rate_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init: shared memory exists only under preloading. */
void
ratelimit_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ratelimit_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ratelimit_shmem_startup;
}

TimestampTz
ratelimit_reserve(const char *source, double rps, TimestampTz now)
{
	RateSlot   *slot = NULL;
	RateSlot   *oldest = NULL;
	TimestampTz at;
	int64		step_us;
	int			i;

	if (rate_shared == NULL || rps <= 0)
		return now;
	step_us = (int64) (1000000.0 / rps);

	SpinLockAcquire(&rate_shared->mutex);
	for (i = 0; i < RATELIMIT_SLOTS; i++)
	{
		RateSlot   *s = &rate_shared->slots[i];

		if (s->dbid == MyDatabaseId && strncmp(s->source, source, NAMEDATALEN) == 0)
		{
			slot = s;
			break;
		}
		if (oldest == NULL || s->used < oldest->used)
			oldest = s;
	}
	if (slot == NULL)
	{
		/* reuse the least recently used slot (128 limited sources at once) */
		slot = oldest;
		slot->dbid = MyDatabaseId;
		strlcpy(slot->source, source, NAMEDATALEN);
		slot->next = 0;
	}
	at = Max(now, slot->next);
	slot->next = at + step_us;
	slot->used = now;
	SpinLockRelease(&rate_shared->mutex);
	return at;
}

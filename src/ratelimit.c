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
 *
 * Without shared_preload_libraries there is no shared memory: the same
 * table then lives in the backend, so a source's limit holds within each
 * session (and each run worker) but not across them (docs/extract.md).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include "ratelimit.h"
#include "shmem.h"

/*
 * Reserve the next request slot of a source; see ratelimit.h.  The table
 * lives in shmem.c's shared state.
 */
TimestampTz
ratelimit_reserve(const char *source, double rps, TimestampTz now)
{
	static EltRateSlot local_slots[ELT_RATE_SLOTS];
	EltRateSlot *slots;
	EltRateSlot *slot = NULL;
	EltRateSlot *oldest = NULL;
	TimestampTz at;
	int64		step_us;
	int			i;

	if (rps <= 0)
		return now;
	step_us = (int64) (1000000.0 / rps);

	/* without shared memory, the limit holds within this backend */
	slots = elt_shared ? elt_shared->rate_slots : local_slots;
	if (elt_shared)
		SpinLockAcquire(&elt_shared->rate_mutex);
	for (i = 0; i < ELT_RATE_SLOTS; i++)
	{
		EltRateSlot *s = &slots[i];

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
	if (elt_shared)
		SpinLockRelease(&elt_shared->rate_mutex);
	return at;
}

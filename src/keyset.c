/*
 * keyset.c
 *	  Whether every key a source refers to is among a dimension's keys,
 *	  found in memory: the dimension's distinct keys are read once into a
 *	  compact hash set, and each source key costs one probe, eight at a
 *	  time with their slots fetched ahead.  merge_fact asks it before its
 *	  late-arriving pass (fact.c): when every key is there, the pass, an
 *	  anti-join of the whole source to the dimension, has nothing to find
 *	  and is not run.  The answer is never wrong the other way: false
 *	  ("maybe missing") also when the set outgrows work_mem times
 *	  hash_mem_multiplier, or when a key type cannot be hashed as its
 *	  equality compares; then the pass runs as before.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "utils/datum.h"
#include "utils/memutils.h"

#include "internal_sql.h"
#include "keyset.h"
#include "value_hash.h"

/* Source keys held while their slots are fetched. */
#define KEYSET_BATCH	8

/* The slots for n keys: at most three quarters full. */
#define SLOTS_FOR(n)	((size_t) (n) + (n) / 3 + 1024)

/* One key: its hash, its first part, and its number (1-based; 0 empty). */
typedef struct KeySlot
{
	Datum		key0;
	uint32		hash;
	uint32		entry;
} KeySlot;

typedef struct KeySet
{
	DestReceiver pub;
	int			nkeys;
	HashColumn *keys;
	bool		key_is_datum;	/* one part, compared as its Datum */

	KeySlot    *slots;
	size_t		nslots;
	uint32		n;				/* keys held */
	uint32		capacity;
	Datum	   *more;			/* parts after the first, nkeys - 1 a key */
	MemoryContext cxt;			/* the set's arrays (not the query's context) */
	MemoryContext keycxt;		/* parts passed by reference */
	MemoryContext rowcxt;
	size_t		limit;
	bool		overflow;

	/* probing */
	Datum		held[KEYSET_BATCH][INDEX_MAX_KEYS];
	uint32		held_hash[KEYSET_BATCH];
	int			nheld;
	MemoryContext heldcxt;		/* copies of the held parts passed by reference */
	bool		missing;
} KeySet;

static inline size_t
slot_home(KeySet *k, uint32 hash)
{
	return (size_t) (((uint64) hash * k->nslots) >> 32);
}

static inline Datum
key_part(KeySet *k, uint32 entry, Datum key0, int i)
{
	return i == 0 ? key0 : k->more[(size_t) (entry - 1) * (k->nkeys - 1) + i - 1];
}

/* The key's hash; false when a part is NULL (such a key matches nothing). */
static bool
hash_key(KeySet *k, Datum *values, bool *isnull, uint32 *hash)
{
	uint64		h = 0;

	for (int i = 0; i < k->nkeys; i++)
	{
		if (isnull[i])
			return false;
		h = hash_combine64(h, hash_value(&k->keys[i], values[i]));
	}
	*hash = (uint32) (h ^ (h >> 32));
	return true;
}

/* The slot holding the key of parts values, or NULL. */
static KeySlot *
find_key(KeySet *k, Datum *values, uint32 hash)
{
	for (size_t at = slot_home(k, hash); k->slots[at].entry != 0;
		 at = at + 1 == k->nslots ? 0 : at + 1)
	{
		KeySlot    *e = &k->slots[at];
		bool		same = true;

		if (e->hash != hash)
			continue;
		if (k->key_is_datum)
		{
			if (e->key0 == values[0])
				return e;
			continue;
		}
		for (int i = 0; i < k->nkeys && same; i++)
			same = DatumGetBool(FunctionCall2Coll(&k->keys[i].eq, k->keys[i].collation,
												  key_part(k, e->entry, e->key0, i),
												  values[i]));
		if (same)
			return e;
	}
	return NULL;
}

static size_t
set_bytes(KeySet *k, uint32 capacity)
{
	return SLOTS_FOR(capacity) * sizeof(KeySlot) +
		(size_t) capacity * sizeof(Datum) * (k->nkeys - 1) +
		MemoryContextMemAllocated(k->keycxt, false);
}

static void
place(KeySet *k, KeySlot *from)
{
	size_t		at = slot_home(k, from->hash);

	while (k->slots[at].entry != 0)
		at = at + 1 == k->nslots ? 0 : at + 1;
	k->slots[at] = *from;
}

/* Room for capacity keys: new slots, the keys placed in them again. */
static void
set_resize(KeySet *k, uint32 capacity)
{
	KeySlot    *old = k->slots;
	size_t		nold = k->nslots;
	MemoryContext oldcxt = MemoryContextSwitchTo(k->cxt);

	k->nslots = SLOTS_FOR(capacity);
	k->slots = palloc_extended(sizeof(KeySlot) * k->nslots, MCXT_ALLOC_HUGE);
	advise_huge_pages(k->slots, sizeof(KeySlot) * k->nslots);
	memset(k->slots, 0, sizeof(KeySlot) * k->nslots);
	for (size_t i = 0; i < nold; i++)
	{
		if (old[i].entry != 0)
			place(k, &old[i]);
	}
	if (old)
		pfree(old);
	if (k->nkeys > 1)
		k->more = k->more ? repalloc_huge(k->more, sizeof(Datum) * (k->nkeys - 1) * capacity) :
			palloc_extended(sizeof(Datum) * (k->nkeys - 1) * capacity, MCXT_ALLOC_HUGE);
	k->capacity = capacity;
	MemoryContextSwitchTo(oldcxt);
}

/* The build query's receiver: each distinct key once. */
static bool
build_receive(TupleTableSlot *slot, DestReceiver *self)
{
	KeySet	   *k = (KeySet *) self;
	KeySlot		e;
	MemoryContext oldcxt;
	bool		keyed;

	slot_getallattrs(slot);
	oldcxt = MemoryContextSwitchTo(k->rowcxt);
	keyed = hash_key(k, slot->tts_values, slot->tts_isnull, &e.hash);
	keyed = keyed && find_key(k, slot->tts_values, e.hash) == NULL;
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(k->rowcxt);
	if (!keyed)
		return true;			/* NULL parts, or a key already held */
	if (k->n == k->capacity)
	{
		uint32		grown = k->capacity >= PG_UINT32_MAX / 4 ? PG_UINT32_MAX / 2 : k->capacity * 2;

		if (grown == k->capacity || set_bytes(k, grown) > k->limit)
		{
			k->overflow = true;
			return false;
		}
		set_resize(k, grown);
	}
	e.entry = ++k->n;
	for (int i = 0; i < k->nkeys; i++)
	{
		Datum		v = hash_column_keep(&k->keys[i], slot->tts_values[i], k->keycxt);

		if (i == 0)
			e.key0 = v;
		else
			k->more[(size_t) (e.entry - 1) * (k->nkeys - 1) + i - 1] = v;
	}
	place(k, &e);
	if ((k->n & 1023) == 0 && set_bytes(k, k->capacity) > k->limit)
	{
		k->overflow = true;
		return false;
	}
	return true;
}

/* Look the held keys up; true while none is missing. */
static bool
probe_held(KeySet *k)
{
	for (int i = 0; i < k->nheld && !k->missing; i++)
	{
		if (find_key(k, k->held[i], k->held_hash[i]) == NULL)
			k->missing = true;
	}
	k->nheld = 0;
	MemoryContextReset(k->heldcxt);
	return !k->missing;
}

/* Hold one source key (its parts at values / isnull) for the next probe. */
static void
hold_key(KeySet *k, Datum *values, bool *isnull)
{
	int			i = k->nheld;
	MemoryContext oldcxt;
	bool		keyed;

	oldcxt = MemoryContextSwitchTo(k->rowcxt);
	keyed = hash_key(k, values, isnull, &k->held_hash[i]);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(k->rowcxt);
	if (!keyed)
		return;					/* a NULL part refers to no member */
	__builtin_prefetch(&k->slots[slot_home(k, k->held_hash[i])]);
	for (int j = 0; j < k->nkeys; j++)
		k->held[i][j] = hash_column_keep(&k->keys[j], values[j], k->heldcxt);
	if (++k->nheld == KEYSET_BATCH)
		(void) probe_held(k);
}

/* The probe query's receiver, for every set at once. */
typedef struct KeyProbe
{
	DestReceiver pub;
	KeySetSpec *specs;
	KeySet	  **sets;			/* NULL: not probed */
	int			nsets;
	int			left;			/* sets without a missing key yet */
} KeyProbe;

/* One source row: each set's key; stops once every set misses one. */
static bool
probe_receive(TupleTableSlot *slot, DestReceiver *self)
{
	KeyProbe   *kp = (KeyProbe *) self;

	slot_getallattrs(slot);
	for (int s = 0; s < kp->nsets; s++)
	{
		KeySet	   *k = kp->sets[s];

		if (k == NULL || k->missing)
			continue;
		hold_key(k, slot->tts_values + kp->specs[s].first, slot->tts_isnull + kp->specs[s].first);
		if (k->missing)
			kp->left--;
	}
	return kp->left > 0;
}

static void
probe_shutdown(DestReceiver *self)
{
	KeyProbe   *kp = (KeyProbe *) self;

	for (int s = 0; s < kp->nsets; s++)
	{
		if (kp->sets[s] != NULL)
			(void) probe_held(kp->sets[s]);
	}
}

static void
receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
receiver_noop(DestReceiver *self)
{
}

/*
 * A set of the keys of spec's build query, or NULL when it cannot be held
 * in memory (a key type that cannot be hashed as its equality compares,
 * or more keys than the memory limit holds).
 */
static KeySet *
build_set(KeySetSpec *spec, MemoryContext cxt)
{
	KeySet	   *k = MemoryContextAllocZero(cxt, sizeof(KeySet));
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

	k->nkeys = spec->nkeys;
	k->keys = palloc0(sizeof(HashColumn) * k->nkeys);
	for (int i = 0; i < k->nkeys; i++)
	{
		if (!hash_column_init(&k->keys[i], spec->typids[i], spec->collations[i], true, true))
		{
			MemoryContextSwitchTo(oldcxt);
			return NULL;
		}
	}
	k->key_is_datum = k->nkeys == 1 && k->keys[0].how == HASH_DATUM;
	k->cxt = cxt;
	k->keycxt = AllocSetContextCreate(cxt, "pg_elt key set keys", ALLOCSET_DEFAULT_SIZES);
	k->rowcxt = AllocSetContextCreate(cxt, "pg_elt key set row", ALLOCSET_DEFAULT_SIZES);
	k->heldcxt = AllocSetContextCreate(cxt, "pg_elt key set held", ALLOCSET_DEFAULT_SIZES);
	k->limit = get_hash_memory_limit();
	set_resize(k, 1024);
	k->pub.receiveSlot = build_receive;
	k->pub.rStartup = receiver_startup;
	k->pub.rShutdown = receiver_noop;
	k->pub.rDestroy = receiver_noop;
	k->pub.mydest = DestNone;
	MemoryContextSwitchTo(oldcxt);
	(void) internal_sql_exec_caller_into(spec->build_sql, &k->pub);
	return k->overflow ? NULL : k;
}

void
keyset_covers(KeySetSpec *specs, int nsets, const char *probe_sql)
{
	MemoryContext cxt;
	KeyProbe	kp;

	memset(&kp, 0, sizeof(kp));
	cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_elt key sets", ALLOCSET_DEFAULT_SIZES);
	kp.specs = specs;
	kp.nsets = nsets;
	kp.sets = MemoryContextAllocZero(cxt, sizeof(KeySet *) * Max(nsets, 1));
	for (int s = 0; s < nsets; s++)
	{
		specs[s].covers = false;
		if (specs[s].nkeys >= 1 && specs[s].nkeys <= INDEX_MAX_KEYS)
			kp.sets[s] = build_set(&specs[s], cxt);
		if (kp.sets[s] != NULL)
			kp.left++;
	}
	if (kp.left > 0)
	{
		kp.pub.receiveSlot = probe_receive;
		kp.pub.rStartup = receiver_startup;
		kp.pub.rShutdown = probe_shutdown;
		kp.pub.rDestroy = receiver_noop;
		kp.pub.mydest = DestNone;
		(void) internal_sql_exec_caller_into(probe_sql, &kp.pub);
		for (int s = 0; s < nsets; s++)
			specs[s].covers = kp.sets[s] != NULL && !kp.sets[s]->missing;
	}
	MemoryContextDelete(cxt);
}

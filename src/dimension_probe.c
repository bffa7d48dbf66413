/*
 * dimension_probe.c
 *	  The in-memory classifying pass of elt.merge_dimension: for a merge
 *	  that reads every current row anyway (deletes detected from a full
 *	  source), the current rows are read once into a compact hash table of
 *	  their natural key, their tid and one 64-bit hash of their compared
 *	  columns, and each source row is then settled by one probe.  A source
 *	  row whose compared columns hash as its current row's did is counted
 *	  unchanged without forming a joined row; only the rows that may lead
 *	  to a write (new, changed, missing, inferred or deleted members) are
 *	  joined to their current row, fetched by tid, and classified by the
 *	  classifying pass's own receiver (dimension_classify.c), exactly as the
 *	  joining query's rows are.
 *
 *	  The table holds about 40 bytes a current row, against the whole row
 *	  in a hash join of the query, and is used only when it fits in the
 *	  memory a hash join may take (work_mem times hash_mem_multiplier);
 *	  otherwise, for a Citus dimension, or when a column's type cannot be
 *	  hashed as its equality compares, the joining query runs instead.
 *
 *	  The compared columns' hash follows their equality: each type's hash
 *	  function (numeric 1.0 and 1.00, float -0 and 0, NaN, a
 *	  nondeterministic collation hash alike), the bytes of types whose
 *	  equality is byte equality, the text form of types compared as text.
 *	  Equal values always hash alike; different values hash alike with a
 *	  chance of 1 in 2^64 a row, and such a change would be taken for none.
 */
#include "postgres.h"

#include "access/hash.h"
#include "access/tableam.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "dimension_merge.h"
#include "internal_sql.h"
#include "pg_elt.h"
#include "value_hash.h"

/* Bits of a slot's entry number beside the number. */
#define SLOT_MATCHED	0x80000000	/* a source row matched it */
#define SLOT_ALWAYS		0x40000000	/* inferred or deleted: always classified */
#define SLOT_MULTI		0x20000000	/* another current row has its key */
#define SLOT_ENTRY		0x1FFFFFFF	/* the entry, 1-based; 0: an empty slot */
#define MAX_ENTRIES		SLOT_ENTRY

/* Slots read into the table together, their places fetched ahead. */
#define PLACE_BATCH		16

/* The slots for n entries: at most three quarters full. */
#define SLOTS_FOR(n)	((size_t) (n) + (n) / 3 + 1024)

/* The hash standing for a NULL value among the compared columns. */
#define PROBE_NULL_HASH	UINT64CONST(0x9e3779b97f4a7c15)

/* Positions of the joined row that are not the dimension's columns. */
#define TARGET_NONE		0
#define TARGET_TID		(-1)

/*
 * One current row in the open-addressing table (linear probing): what the
 * probe of an unchanged source row reads, in one place: the key's hash,
 * the first key part (the others in morekeys), the hash of the compared
 * columns, and the entry, which holds the row's tid.
 */
typedef struct ProbeSlot
{
	uint64		rowhash;
	Datum		key0;
	uint32		keyhash;
	uint32		entry;			/* 1-based entry number and SLOT_ bits */
} ProbeSlot;

typedef struct ProbeTable
{
	DestReceiver pub;			/* receiver of the pass being run */
	DimMerge   *m;
	ClassifyReceiver *r;

	int			nkeys;
	HashColumn *keys;
	int			ncols;
	HashColumn *cols;			/* in the order of r->cols */
	int			flag_pos[2];	/* build query: is_inferred, is_deleted (-1) */
	int			cols_pos;		/* build query: first compared column */

	ItemPointerData *tids;		/* of each entry */
	uint32		nentries;
	uint32		capacity;		/* entries there is room for */
	Datum	   *morekeys;		/* nkeys - 1 per entry */
	ProbeSlot  *slots;
	size_t		nslots;
	ProbeSlot	pending[PLACE_BATCH];	/* read, not yet placed */
	int			npending;
	uint32	   *nullkeys;		/* entries with a NULL key part: in no slot */
	uint32		nnullkeys;
	uint32		nullkeys_room;
	bool		key_is_datum;	/* one key part, compared as its Datum */
	MemoryContext cxt;			/* the table's arrays (not the query's context) */
	MemoryContext keycxt;		/* by-reference key values */
	MemoryContext rowcxt;		/* what hashing one row allocates */
	size_t		limit;
	bool		overflow;		/* the table outgrew the limit */
	bool		duplicate;		/* a current row matched twice */

	/* joining the rows that may lead to a write */
	Relation	target;
	TupleTableSlot *tslot;
	Snapshot	snapshot;		/* the build query's */
	int			nnames;
	int			width;			/* of the joined row */
	int		   *tattnum;		/* per joined position: dimension column */
	Datum	   *values;
	bool	   *isnull;
} ProbeTable;

/*
 * The hash of the compared columns, their values in values / isnull from
 * position first on (the build query), or at their source positions.
 */
static uint64
row_hash(ProbeTable *p, Datum *values, bool *isnull, int first, bool source)
{
	uint64		h = 0;

	for (int i = 0; i < p->ncols; i++)
	{
		int			pos = source ? p->r->cols[i].sattr : first + i;

		h = hash_combine64(h, isnull[pos] ? PROBE_NULL_HASH : hash_value(&p->cols[i], values[pos]));
	}
	return h;
}

/*
 * The hash of a natural key whose parts are at values[pos[i]] (or from
 * first on), false when a part is NULL.
 */
static bool
key_hash(ProbeTable *p, Datum *values, bool *isnull, int first, int *pos, uint32 *hash)
{
	uint64		h = 0;

	for (int i = 0; i < p->nkeys; i++)
	{
		int			at = pos ? pos[i] : first + i;

		if (isnull[at])
			return false;
		h = hash_combine64(h, hash_value(&p->keys[i], values[at]));
	}
	*hash = (uint32) (h ^ (h >> 32));
	return true;
}

/*
 * The memory the table takes with room for capacity entries: the slots,
 * the entries' tids and further key parts, and the keys passed by
 * reference.
 */
static size_t
table_bytes(ProbeTable *p, uint32 capacity)
{
	return SLOTS_FOR(capacity) * sizeof(ProbeSlot) +
		(size_t) capacity * (sizeof(ItemPointerData) + sizeof(Datum) * (p->nkeys - 1)) +
		MemoryContextMemAllocated(p->keycxt, false);
}

/* The first slot to look at for a key's hash (Lemire's fast range). */
static inline size_t
slot_home(ProbeTable *p, uint32 keyhash)
{
	return (size_t) (((uint64) keyhash * p->nslots) >> 32);
}

/* A key part of the entry of slot e. */
static inline Datum
slot_key(ProbeTable *p, const ProbeSlot *e, int i)
{
	if (i == 0)
		return e->key0;
	return p->morekeys[(size_t) ((e->entry & SLOT_ENTRY) - 1) * (p->nkeys - 1) + i - 1];
}

/* Whether two slots hold the same key. */
static bool
slots_same_key(ProbeTable *p, const ProbeSlot *a, const ProbeSlot *b)
{
	if (a->keyhash != b->keyhash)
		return false;
	if (p->key_is_datum)
		return a->key0 == b->key0;
	for (int i = 0; i < p->nkeys; i++)
	{
		HashColumn *k = &p->keys[i];

		if (!DatumGetBool(FunctionCall2Coll(&k->eq, k->collation, slot_key(p, a, i),
											slot_key(p, b, i))))
			return false;
	}
	return true;
}

/*
 * Put a slot's contents into the first free slot from its home.  A new
 * slot (check) whose key another current row has already (a dimension
 * with two current rows of one key) marks both SLOT_MULTI: a probe that
 * matches one looks on for the other.
 */
static void
slot_place(ProbeTable *p, const ProbeSlot *from, bool check)
{
	size_t		at = slot_home(p, from->keyhash);
	uint32		multi = 0;

	while (p->slots[at].entry != 0)
	{
		if (check && slots_same_key(p, &p->slots[at], from))
		{
			p->slots[at].entry |= SLOT_MULTI;
			multi = SLOT_MULTI;
		}
		at = at + 1 == p->nslots ? 0 : at + 1;
	}
	p->slots[at] = *from;
	p->slots[at].entry |= multi;
}

/*
 * Place the slots read since the last call.  Each one goes to a random
 * place in a table far larger than the caches: their first cache lines
 * were asked for as they were read, so that the misses overlap.
 */
static void
place_pending(ProbeTable *p)
{
	for (int i = 0; i < p->npending; i++)
		slot_place(p, &p->pending[i], true);
	p->npending = 0;
}

/* Room for capacity entries: new slots, every placed entry in them again. */
static void
table_resize(ProbeTable *p, uint32 capacity)
{
	ProbeSlot  *old = p->slots;
	size_t		nold = p->nslots;
	MemoryContext oldcxt = MemoryContextSwitchTo(p->cxt);

	place_pending(p);
	p->nslots = SLOTS_FOR(capacity);
	p->slots = palloc_extended(sizeof(ProbeSlot) * p->nslots, MCXT_ALLOC_HUGE);
	advise_huge_pages(p->slots, sizeof(ProbeSlot) * p->nslots);
	memset(p->slots, 0, sizeof(ProbeSlot) * p->nslots);
	for (size_t i = 0; i < nold; i++)
	{
		if (old[i].entry != 0)
			slot_place(p, &old[i], false);
	}
	if (old)
		pfree(old);
	p->tids = p->tids ? repalloc_huge(p->tids, sizeof(ItemPointerData) * capacity) :
		palloc_extended(sizeof(ItemPointerData) * capacity, MCXT_ALLOC_HUGE);
	if (p->nkeys > 1)
		p->morekeys = p->morekeys ?
			repalloc_huge(p->morekeys, sizeof(Datum) * (p->nkeys - 1) * capacity) :
			palloc_extended(sizeof(Datum) * (p->nkeys - 1) * capacity, MCXT_ALLOC_HUGE);
	p->capacity = capacity;
	MemoryContextSwitchTo(oldcxt);
}

/* The build query's receiver: one entry a current row. */
static bool
build_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ProbeTable *p = (ProbeTable *) self;
	Datum	   *values;
	bool	   *isnull;
	ProbeSlot	e;
	uint32		n = p->nentries;
	MemoryContext oldcxt;

	if (n == p->capacity)
	{
		uint32		grown = p->capacity >= MAX_ENTRIES / 3 * 2 ? MAX_ENTRIES :
			p->capacity + p->capacity / 2;

		if (grown == p->capacity || table_bytes(p, grown) > p->limit)
		{
			p->overflow = true;
			return false;		/* stops the query: the joining query runs */
		}
		table_resize(p, grown);
	}
	slot_getallattrs(slot);
	values = slot->tts_values;
	isnull = slot->tts_isnull;
	memset(&e, 0, sizeof(e));
	p->tids[n] = *((ItemPointer) DatumGetPointer(values[0]));
	e.entry = n + 1;
	for (int i = 0; i < 2; i++)
	{
		if (p->flag_pos[i] >= 0 && !isnull[p->flag_pos[i]] && DatumGetBool(values[p->flag_pos[i]]))
			e.entry |= SLOT_ALWAYS;
	}
	p->nentries++;

	oldcxt = MemoryContextSwitchTo(p->rowcxt);
	if (!key_hash(p, values, isnull, 1, NULL, &e.keyhash))
	{
		/* never matched: kept aside, to come out missing */
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(p->rowcxt);
		if (p->nnullkeys == p->nullkeys_room)
		{
			p->nullkeys_room = Max(64, p->nullkeys_room * 2);
			p->nullkeys = p->nullkeys ?
				repalloc_huge(p->nullkeys, sizeof(uint32) * p->nullkeys_room) :
				MemoryContextAlloc(p->cxt, sizeof(uint32) * p->nullkeys_room);
		}
		p->nullkeys[p->nnullkeys++] = n;
		return true;
	}
	e.rowhash = row_hash(p, values, isnull, p->cols_pos, false);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(p->rowcxt);

	for (int i = 0; i < p->nkeys; i++)
	{
		Datum		v = hash_column_keep(&p->keys[i], values[1 + i], p->keycxt);

		if (i == 0)
			e.key0 = v;
		else
			p->morekeys[(size_t) n * (p->nkeys - 1) + i - 1] = v;
	}
	p->pending[p->npending++] = e;
	__builtin_prefetch(&p->slots[slot_home(p, e.keyhash)], 1);
	if (p->npending == PLACE_BATCH)
		place_pending(p);
	if ((n & 1023) == 0 && table_bytes(p, p->capacity) > p->limit)
	{
		p->overflow = true;
		return false;
	}
	return true;
}

static void
build_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	ProbeTable *p = (ProbeTable *) self;

	/* the rows are fetched again under the snapshot that found them */
	p->snapshot = RegisterSnapshot(GetActiveSnapshot());
}

static void
receiver_noop(DestReceiver *self)
{
}

static void
receiver_noop_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

/*
 * Fill the dimension's side of the joined row from the current row of
 * entry n (0-based), fetched by tid, or with NULLs with n < 0.
 */
static void
join_target(ProbeTable *p, int64 n)
{
	ItemPointer tidp = n >= 0 ? &p->tids[n] : NULL;

	if (tidp != NULL)
	{
		ItemPointerData tid = *tidp;

		if (!table_tuple_fetch_row_version(p->target, &tid, p->snapshot, p->tslot))
			elog(ERROR, "current row (%u,%u) of dimension \"%s\" not found",
				 ItemPointerGetBlockNumber(tidp), ItemPointerGetOffsetNumber(tidp),
				 p->m->target.display);
		slot_getallattrs(p->tslot);
	}
	for (int pos = p->nnames + 1; pos < p->width; pos++)
	{
		int			att = p->tattnum[pos];

		if (att == TARGET_NONE)
			continue;
		if (tidp == NULL)
			p->isnull[pos] = true;
		else if (att == TARGET_TID)
		{
			p->values[pos] = PointerGetDatum(tidp);
			p->isnull[pos] = false;
		}
		else
		{
			p->values[pos] = p->tslot->tts_values[att - 1];
			p->isnull[pos] = p->tslot->tts_isnull[att - 1];
		}
	}
}

/* Whether the source's key (at r->key_attrs) is the one of slot e. */
static inline bool
keys_equal(ProbeTable *p, const ProbeSlot *e, Datum *values)
{
	if (p->key_is_datum)
		return e->key0 == values[p->r->key_attrs[0]];
	for (int i = 0; i < p->nkeys; i++)
	{
		HashColumn *k = &p->keys[i];

		if (!DatumGetBool(FunctionCall2Coll(&k->eq, k->collation, slot_key(p, e, i),
											values[p->r->key_attrs[i]])))
			return false;
	}
	return true;
}

/*
 * Settle one source row (the source's columns, its effective time and its
 * presence column) against the current rows of its natural key, whose
 * hash is keyhash (keyed false: a key part is NULL, it matches nothing),
 * rowhash being the hash of its compared columns.
 */
static void
probe_row(ProbeTable *p, Datum *values, bool *isnull, bool keyed, uint32 keyhash,
		  uint64 rowhash)
{
	ClassifyReceiver *r = p->r;
	bool		matched = false;
	MemoryContext oldcxt;

	memcpy(p->values, values, sizeof(Datum) * (p->nnames + 1));
	memcpy(p->isnull, isnull, sizeof(bool) * (p->nnames + 1));
	p->values[r->in_attr] = values[p->nnames + 1];
	p->isnull[r->in_attr] = isnull[p->nnames + 1];

	oldcxt = MemoryContextSwitchTo(p->rowcxt);
	for (size_t at = slot_home(p, keyhash); keyed && p->slots[at].entry != 0;
		 at = at + 1 == p->nslots ? 0 : at + 1)
	{
		ProbeSlot  *e = &p->slots[at];

		if (e->keyhash != keyhash || !keys_equal(p, e, values))
			continue;
		matched = true;
		if (e->entry & SLOT_MATCHED)
			p->duplicate = true;
		e->entry |= SLOT_MATCHED;
		if (!(e->entry & SLOT_ALWAYS))
		{
			if (rowhash == e->rowhash)
			{
				classify_count(r, CLASS_UNCHANGED);
				if (!(e->entry & SLOT_MULTI))
					break;
				continue;
			}
		}
		MemoryContextSwitchTo(oldcxt);
		join_target(p, (e->entry & SLOT_ENTRY) - 1);
		classify_values(r, p->values, p->isnull);
		oldcxt = MemoryContextSwitchTo(p->rowcxt);
		if (!(e->entry & SLOT_MULTI))
			break;				/* the only current row of its key */
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(p->rowcxt);
	if (!matched)
	{
		join_target(p, -1);
		classify_values(r, p->values, p->isnull);
	}
}

/*
 * The probe query's receiver.  The row's key is hashed and its first slot
 * asked for at once; the hash of its compared columns, computed next, does
 * not need the slot, so that the slot's cache miss (the table is far
 * larger than the caches) overlaps that work.  The row is then settled
 * where it is, with nothing copied.
 */
static bool
probe_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ProbeTable *p = (ProbeTable *) self;
	MemoryContext oldcxt;
	uint32		keyhash = 0;
	uint64		rowhash = 0;
	bool		keyed;

	slot_getallattrs(slot);
	oldcxt = MemoryContextSwitchTo(p->rowcxt);
	keyed = key_hash(p, slot->tts_values, slot->tts_isnull, 0, p->r->key_attrs, &keyhash);
	if (keyed)
	{
		ProbeSlot  *home = &p->slots[slot_home(p, keyhash)];

		/* the home slot and the next two: most keys are found there */
		__builtin_prefetch(home);
		__builtin_prefetch((char *) home + 2 * sizeof(ProbeSlot) + sizeof(ProbeSlot) - 1);
		rowhash = row_hash(p, slot->tts_values, slot->tts_isnull, 0, true);
	}
	MemoryContextSwitchTo(oldcxt);
	probe_row(p, slot->tts_values, slot->tts_isnull, keyed, keyhash, rowhash);
	return true;
}

/*
 * Set up the hashing of the key and compared columns; false when one of
 * them cannot be hashed as it is compared, or when the source's key type
 * is not the dimension's.
 */
static bool
probe_columns(ProbeTable *p)
{
	DimMerge   *m = p->m;
	ListCell   *lc;

	p->nkeys = list_length(m->key);
	p->keys = palloc0(sizeof(HashColumn) * p->nkeys);
	foreach(lc, m->key)
	{
		const char *name = lfirst(lc);
		AttrNumber	attnum = get_attnum(m->target.relid, name);
		Oid			typid;
		int32		typmod;
		Oid			collation;
		ListCell   *sc;
		bool		same = false;

		if (attnum == InvalidAttrNumber)
			return false;
		get_atttypetypmodcoll(m->target.relid, attnum, &typid, &typmod, &collation);
		foreach(sc, m->source.columns)
		{
			ModelColumn *col = lfirst(sc);

			if (strcmp(col->name, name) == 0)
				same = col->typid == typid;
		}
		if (!same || !hash_column_init(&p->keys[foreach_current_index(lc)], typid,
									   collation, true, true))
			return false;
	}
	p->key_is_datum = p->nkeys == 1 && p->keys[0].how == HASH_DATUM;
	p->ncols = p->r->ncols;
	p->cols = palloc0(sizeof(HashColumn) * Max(p->ncols, 1));
	for (int i = 0; i < p->ncols; i++)
	{
		CompareColumn *c = &p->r->cols[i];
		const char *name = list_nth(m->names, c->sattr);
		AttrNumber	attnum = get_attnum(m->target.relid, name);

		if (attnum == InvalidAttrNumber ||
			!hash_column_init(&p->cols[i], get_atttype(m->target.relid, attnum),
							  c->collation, c->comparable, false))
			return false;
	}
	return true;
}

/* The dimension column at each position of the joined row. */
static void
map_joined_row(ProbeTable *p)
{
	DimMerge   *m = p->m;
	ClassifyReceiver *r = p->r;

	p->tattnum = palloc0(sizeof(int) * p->width);
	p->tattnum[r->sk_attr] = get_attnum(m->target.relid, m->sk);
	p->tattnum[r->sk_attr + 1] = TARGET_TID;
	if (r->inferred_attr >= 0)
		p->tattnum[r->inferred_attr] = get_attnum(m->target.relid, MODEL_IS_INFERRED);
	if (r->deleted_attr >= 0)
		p->tattnum[r->deleted_attr] = get_attnum(m->target.relid, MODEL_IS_DELETED);
	if (r->from_attr >= 0)
		p->tattnum[r->from_attr] = get_attnum(m->target.relid, MODEL_VALID_FROM);
	for (int i = 0; i < r->ncols; i++)
		p->tattnum[r->cols[i].tattr] =
			get_attnum(m->target.relid, list_nth(m->names, r->cols[i].sattr));
	p->values = palloc0(sizeof(Datum) * p->width);
	p->isnull = palloc0(sizeof(bool) * p->width);
}

/* The query reading the current rows into the table. */
static char *
build_query(ProbeTable *p)
{
	DimMerge   *m = p->m;
	StringInfoData q;
	int			next;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT t.ctid, ");
	model_append_names(&q, m->key, "t");
	next = 1 + p->nkeys;
	p->flag_pos[0] = p->flag_pos[1] = -1;
	if (m->has_inferred)
	{
		appendStringInfoString(&q, ", t." MODEL_IS_INFERRED);
		p->flag_pos[0] = next++;
	}
	if (m->has_deleted)
	{
		appendStringInfoString(&q, ", t." MODEL_IS_DELETED);
		p->flag_pos[1] = next++;
	}
	p->cols_pos = next;
	for (int i = 0; i < p->ncols; i++)
		appendStringInfo(&q, ", %s",
						 model_column_ref("t", list_nth(m->names, p->r->cols[i].sattr)));
	/*
	 * The surrogate key and the start of the version are not needed here
	 * (they are fetched with the rows that lead to a write), but the join
	 * reads them: selecting them asks the caller for the same column
	 * privileges.
	 */
	appendStringInfo(&q, ", t.%s", m->qsk);
	if (m->scd_type == 2)
		appendStringInfoString(&q, ", t." MODEL_VALID_FROM);
	appendStringInfo(&q, " FROM %s AS t WHERE ", m->target.qualified);
	append_candidate_rows(&q, m);
	return q.data;
}

/*
 * Read the current rows into the table; false, with nothing kept, when
 * they do not fit in the limit.
 */
static bool
build_table(ProbeTable *p)
{
	double		reltuples = p->target->rd_rel->reltuples;
	uint32		capacity;

	/* room for the estimated rows and a few more, grown if need be */
	p->limit = get_hash_memory_limit();
	capacity = (uint32) Min(Max(reltuples, 0) * 1.02 + 1024, (double) MAX_ENTRIES);
	if (table_bytes(p, capacity) > p->limit)
		return false;
	table_resize(p, capacity);
	p->pub.receiveSlot = build_receive;
	p->pub.rStartup = build_startup;
	p->pub.rShutdown = receiver_noop;
	p->pub.rDestroy = receiver_noop;
	p->pub.mydest = DestNone;
	(void) internal_sql_exec_caller_into(build_query(p), &p->pub);
	if (p->overflow)
	{
		UnregisterSnapshot(p->snapshot);
		return false;
	}
	place_pending(p);
	return true;
}

/*
 * Classify the rows of sfrom (see classify_query: the source's columns,
 * effective time and presence column) against the current rows held in
 * memory, into r's work table, r being set up as for the joining query
 * with a joined row of width positions.  Sets *duplicate when a current
 * row was matched twice (a duplicated natural key).  Returns false, having
 * written and counted nothing, when the pass cannot run in memory here:
 * then the joining query classifies.
 */
bool
probe_classify(DimMerge *m, ClassifyReceiver *r, const char *sfrom, int width,
			   bool *duplicate)
{
	ProbeTable *p;
	MemoryContext cxt;
	MemoryContext oldcxt;
	StringInfoData q;
	bool		done = false;

	if (!elt_merge_in_memory || m->citus || r->in_attr < 0 || r->flag_attr >= 0 ||
		get_rel_relkind(m->target.relid) != RELKIND_RELATION)
		return false;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_elt merge probe",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	p = palloc0(sizeof(ProbeTable));
	p->m = m;
	p->r = r;
	p->nnames = list_length(m->names);
	p->width = width;
	p->cxt = cxt;
	p->keycxt = AllocSetContextCreate(cxt, "pg_elt merge probe keys", ALLOCSET_DEFAULT_SIZES);
	p->rowcxt = AllocSetContextCreate(cxt, "pg_elt merge probe row", ALLOCSET_DEFAULT_SIZES);
	if (probe_columns(p))
	{
		p->target = table_open(m->target.relid, AccessShareLock);
		if (build_table(p))
		{
			map_joined_row(p);
			p->tslot = table_slot_create(p->target, NULL);
			classify_startup_work(r);

			initStringInfo(&q);
			appendStringInfoString(&q, "SELECT ");
			model_append_names(&q, m->names, "s");
			appendStringInfo(&q, ", s." WORK_EFF ", s." WORK_IN " FROM %s AS s", sfrom);
			p->pub.receiveSlot = probe_receive;
			p->pub.rStartup = receiver_noop_startup;
			p->pub.rShutdown = receiver_noop;
			(void) internal_sql_exec_caller_into(q.data, &p->pub);

			/* the current rows no source row matched: missing */
			memset(p->isnull, true, sizeof(bool) * p->width);
			for (size_t at = 0; at < p->nslots; at++)
			{
				if (p->slots[at].entry == 0 || (p->slots[at].entry & SLOT_MATCHED))
					continue;
				join_target(p, (p->slots[at].entry & SLOT_ENTRY) - 1);
				classify_values(r, p->values, p->isnull);
			}
			for (uint32 i = 0; i < p->nnullkeys; i++)
			{
				join_target(p, p->nullkeys[i]);
				classify_values(r, p->values, p->isnull);
			}
			classify_shutdown_work(r);
			ExecDropSingleTupleTableSlot(p->tslot);
			UnregisterSnapshot(p->snapshot);
			*duplicate = p->duplicate;
			done = true;
		}
		table_close(p->target, AccessShareLock);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	return done;
}

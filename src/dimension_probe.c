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

#include <sys/mman.h>

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

#define PROBE_ALWAYS	0x01	/* inferred or deleted: always classified */
#define PROBE_MATCHED	0x02	/* a source row matched it */
#define PROBE_NULL_KEY	0x04	/* a NULL key part: matches nothing */

/* The hash standing for a NULL value among the compared columns. */
#define PROBE_NULL_HASH	UINT64CONST(0x9e3779b97f4a7c15)

/* Positions of the joined row that are not the dimension's columns. */
#define TARGET_NONE		0
#define TARGET_TID		(-1)

/* One current row. */
typedef struct ProbeEntry
{
	uint64		rowhash;		/* of the compared columns */
	Datum		key0;			/* the first key part (others: morekeys) */
	ItemPointerData tid;
	uint8		flags;
} ProbeEntry;

/*
 * One slot of the open-addressing table (linear probing): the key's hash
 * and the entry (1-based; 0 is an empty slot), so that a probe reads the
 * slots of one cache line and only the entry its key's hash points at.
 */
typedef struct ProbeSlot
{
	uint32		keyhash;
	uint32		entry;
} ProbeSlot;

/* How one column's values are hashed. */
typedef enum HashHow
{
	HASH_DATUM,					/* by-value type whose equality is identity */
	HASH_FIXED,					/* fixed-length by-reference, likewise (uuid) */
	HASH_VARLENA,				/* variable-length, likewise (text, bytea) */
	HASH_PROC,					/* the type's extended hash function */
	HASH_TEXT					/* the text form (types compared as text) */
} HashHow;

typedef struct HashColumn
{
	HashHow		how;
	int16		typlen;
	bool		typbyval;
	Oid			collation;
	FmgrInfo	proc;			/* hash function (HASH_PROC), output (HASH_TEXT) */
	FmgrInfo	eq;				/* equality (key columns) */
} HashColumn;

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

	ProbeEntry *entries;
	uint32	   *keyhashes;		/* of each entry, while the table is built */
	uint32		nentries;
	uint32		capacity;
	Datum	   *morekeys;		/* nkeys - 1 per entry */
	ProbeSlot  *slots;
	uint32		mask;
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
 * How to hash the values of a type so that equal values, as its equality
 * operator (comparable) or its text form decides, hash alike; false when
 * it cannot be done.
 */
static bool
hash_column_init(HashColumn *c, Oid typid, Oid collation, bool comparable, bool key)
{
	TypeCacheEntry *tc;

	get_typlenbyval(typid, &c->typlen, &c->typbyval);
	c->collation = OidIsValid(collation) ? collation : get_typcollation(typid);
	if (!comparable)
	{
		Oid			outfunc;
		bool		varlena;

		if (key)
			return false;
		getTypeOutputInfo(typid, &outfunc, &varlena);
		fmgr_info(outfunc, &c->proc);
		c->how = HASH_TEXT;
		return true;
	}
	tc = lookup_type_cache(typid, TYPECACHE_EQ_OPR | TYPECACHE_HASH_OPFAMILY |
						   TYPECACHE_HASH_EXTENDED_PROC);
	if (!OidIsValid(tc->eq_opr))
		return false;
	if (key)
		fmgr_info(get_opcode(tc->eq_opr), &c->eq);
	switch (typid)
	{
		case BOOLOID:
		case CHAROID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case DATEOID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			if (c->typbyval)
			{
				c->how = HASH_DATUM;
				return true;
			}
			break;
		case UUIDOID:
			c->how = HASH_FIXED;
			return true;
		case BYTEAOID:
			c->how = HASH_VARLENA;
			return true;
		case TEXTOID:
		case VARCHAROID:
			if (OidIsValid(c->collation) && get_collation_isdeterministic(c->collation))
			{
				c->how = HASH_VARLENA;
				return true;
			}
			break;
		default:
			break;
	}

	/* The hash function must be of the same equality as the operator. */
	if (!OidIsValid(tc->hash_extended_proc) || !OidIsValid(tc->hash_opf) ||
		get_opfamily_member(tc->hash_opf, tc->hash_opintype, tc->hash_opintype,
							HTEqualStrategyNumber) != tc->eq_opr)
		return false;
	fmgr_info(tc->hash_extended_proc, &c->proc);
	c->how = HASH_PROC;
	return true;
}

/* The 64-bit finalizer of MurmurHash3: every bit of k moves every bit. */
static inline uint64
mix64(uint64 k)
{
	k ^= k >> 33;
	k *= UINT64CONST(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64CONST(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return k;
}

/* The hash of one non-null value. */
static uint64
hash_value(HashColumn *c, Datum value)
{
	switch (c->how)
	{
		case HASH_DATUM:
			return mix64((uint64) value);
		case HASH_FIXED:
			return DatumGetUInt64(hash_any_extended((unsigned char *) DatumGetPointer(value),
													c->typlen, 0));
		case HASH_VARLENA:
			{
				struct varlena *v = PG_DETOAST_DATUM_PACKED(value);

				return DatumGetUInt64(hash_any_extended((unsigned char *) VARDATA_ANY(v),
														VARSIZE_ANY_EXHDR(v), 0));
			}
		case HASH_PROC:
			return DatumGetUInt64(FunctionCall2Coll(&c->proc, c->collation, value,
													UInt64GetDatum(0)));
		case HASH_TEXT:
			{
				char	   *s = OutputFunctionCall(&c->proc, value);

				return DatumGetUInt64(hash_any_extended((unsigned char *) s, strlen(s), 0));
			}
	}
	return 0;					/* keep compiler quiet */
}

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
 * Ask for huge pages under a large array about to be written: a probe is
 * a random read into it, and with small pages most such reads also miss
 * the TLB.  Where the kernel gives none, nothing changes.
 */
static void
advise_huge_pages(void *ptr, size_t len)
{
#ifdef MADV_HUGEPAGE
	uintptr_t	huge = 2 * 1024 * 1024;
	uintptr_t	start = TYPEALIGN(huge, (uintptr_t) ptr);
	uintptr_t	end = TYPEALIGN_DOWN(huge, (uintptr_t) ptr + len);

	if (end > start)
		(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
#endif
}

/* The slots for n entries: a power of two, at most three quarters full. */
static size_t
slot_count(uint32 n)
{
	size_t		nslots = 1024;

	while (nslots < (size_t) n + n / 3)
		nslots <<= 1;
	return nslots;
}

/*
 * The memory the table takes with room for capacity entries: the entries,
 * their slots and the keys passed by reference.
 */
static size_t
table_bytes(ProbeTable *p, uint32 capacity)
{
	return (size_t) capacity * (sizeof(ProbeEntry) + sizeof(uint32) +
								sizeof(Datum) * (p->nkeys - 1)) +
		slot_count(capacity) * sizeof(ProbeSlot) + MemoryContextMemAllocated(p->keycxt, false);
}

/* The build query's receiver: one entry a current row. */
static bool
build_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ProbeTable *p = (ProbeTable *) self;
	Datum	   *values;
	bool	   *isnull;
	ProbeEntry *e;
	MemoryContext oldcxt;

	if (p->nentries == p->capacity)
	{
		uint32		grown = p->capacity >= PG_UINT32_MAX / 3 * 2 ? PG_UINT32_MAX :
			p->capacity + p->capacity / 2;

		if (grown == p->capacity || table_bytes(p, grown) > p->limit)
		{
			p->overflow = true;
			return false;		/* stops the query: the joining query runs */
		}
		p->entries = repalloc_huge(p->entries, sizeof(ProbeEntry) * grown);
		p->keyhashes = repalloc_huge(p->keyhashes, sizeof(uint32) * grown);
		if (p->nkeys > 1)
			p->morekeys = repalloc_huge(p->morekeys, sizeof(Datum) * (p->nkeys - 1) * grown);
		p->capacity = grown;
	}
	slot_getallattrs(slot);
	values = slot->tts_values;
	isnull = slot->tts_isnull;
	e = &p->entries[p->nentries];
	memset(e, 0, sizeof(ProbeEntry));
	e->tid = *((ItemPointer) DatumGetPointer(values[0]));
	for (int i = 0; i < 2; i++)
	{
		if (p->flag_pos[i] >= 0 && !isnull[p->flag_pos[i]] && DatumGetBool(values[p->flag_pos[i]]))
			e->flags |= PROBE_ALWAYS;
	}

	oldcxt = MemoryContextSwitchTo(p->rowcxt);
	if (!key_hash(p, values, isnull, 1, NULL, &p->keyhashes[p->nentries]))
		e->flags |= PROBE_NULL_KEY;
	e->rowhash = row_hash(p, values, isnull, p->cols_pos, false);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(p->rowcxt);

	if (!(e->flags & PROBE_NULL_KEY))
	{
		for (int i = 0; i < p->nkeys; i++)
		{
			Datum		v = values[1 + i];

			if (!p->keys[i].typbyval)
			{
				oldcxt = MemoryContextSwitchTo(p->keycxt);
				v = datumCopy(v, false, p->keys[i].typlen);
				MemoryContextSwitchTo(oldcxt);
			}
			if (i == 0)
				e->key0 = v;
			else
				p->morekeys[(size_t) p->nentries * (p->nkeys - 1) + i - 1] = v;
		}
		if ((p->nentries & 1023) == 0 && table_bytes(p, p->capacity) > p->limit)
		{
			p->overflow = true;
			return false;
		}
	}
	p->nentries++;
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
probe_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
receiver_noop(DestReceiver *self)
{
}

/* Place the entries in their slots, once they are all read. */
static void
build_slots(ProbeTable *p)
{
	size_t		nslots = slot_count(p->nentries);

	p->mask = (uint32) (nslots - 1);
	p->slots = palloc_extended(sizeof(ProbeSlot) * nslots, MCXT_ALLOC_HUGE);
	advise_huge_pages(p->slots, sizeof(ProbeSlot) * nslots);
	memset(p->slots, 0, sizeof(ProbeSlot) * nslots);
	for (uint32 i = 0; i < p->nentries; i++)
	{
		uint32		at;

		if (p->entries[i].flags & PROBE_NULL_KEY)
			continue;
		for (at = p->keyhashes[i] & p->mask; p->slots[at].entry != 0; at = (at + 1) & p->mask)
			;
		p->slots[at].keyhash = p->keyhashes[i];
		p->slots[at].entry = i + 1;
	}
	pfree(p->keyhashes);
	p->keyhashes = NULL;
}

/*
 * Fill the dimension's side of the joined row from the current row of
 * entry e, fetched by tid, or with NULLs without one.
 */
static void
join_target(ProbeTable *p, ProbeEntry *e)
{
	if (e != NULL)
	{
		ItemPointerData tid = e->tid;

		if (!table_tuple_fetch_row_version(p->target, &tid, p->snapshot, p->tslot))
			elog(ERROR, "current row (%u,%u) of dimension \"%s\" not found",
				 ItemPointerGetBlockNumber(&e->tid), ItemPointerGetOffsetNumber(&e->tid),
				 p->m->target.display);
		slot_getallattrs(p->tslot);
	}
	for (int pos = p->nnames + 1; pos < p->width; pos++)
	{
		int			att = p->tattnum[pos];

		if (att == TARGET_NONE)
			continue;
		if (e == NULL)
			p->isnull[pos] = true;
		else if (att == TARGET_TID)
		{
			p->values[pos] = PointerGetDatum(&e->tid);
			p->isnull[pos] = false;
		}
		else
		{
			p->values[pos] = p->tslot->tts_values[att - 1];
			p->isnull[pos] = p->tslot->tts_isnull[att - 1];
		}
	}
}

/* Whether the source's key (at r->key_attrs) is entry e's. */
static bool
keys_equal(ProbeTable *p, uint32 idx, Datum *values)
{
	for (int i = 0; i < p->nkeys; i++)
	{
		HashColumn *k = &p->keys[i];
		Datum		v = i == 0 ? p->entries[idx].key0 :
			p->morekeys[(size_t) idx * (p->nkeys - 1) + i - 1];

		if (!DatumGetBool(FunctionCall2Coll(&k->eq, k->collation, v,
											values[p->r->key_attrs[i]])))
			return false;
	}
	return true;
}

/*
 * The probe query's receiver: one source row (the source's columns, its
 * effective time and its presence column), settled against the current
 * rows of its natural key.
 */
static bool
probe_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ProbeTable *p = (ProbeTable *) self;
	ClassifyReceiver *r = p->r;
	Datum	   *values;
	bool	   *isnull;
	uint32		keyhash;
	bool		matched = false;
	bool		hashed = false;
	uint64		rowhash = 0;
	MemoryContext oldcxt;

	slot_getallattrs(slot);
	values = slot->tts_values;
	isnull = slot->tts_isnull;
	memcpy(p->values, values, sizeof(Datum) * (p->nnames + 1));
	memcpy(p->isnull, isnull, sizeof(bool) * (p->nnames + 1));
	p->values[r->in_attr] = values[p->nnames + 1];
	p->isnull[r->in_attr] = isnull[p->nnames + 1];

	oldcxt = MemoryContextSwitchTo(p->rowcxt);
	if (key_hash(p, values, isnull, 0, r->key_attrs, &keyhash))
	{
		for (uint32 at = keyhash & p->mask; p->slots[at].entry != 0; at = (at + 1) & p->mask)
		{
			uint32		idx = p->slots[at].entry;
			ProbeEntry *e = &p->entries[idx - 1];

			if (p->slots[at].keyhash == keyhash && keys_equal(p, idx - 1, values))
			{
				matched = true;
				if (e->flags & PROBE_MATCHED)
					p->duplicate = true;
				e->flags |= PROBE_MATCHED;
				if (!(e->flags & PROBE_ALWAYS))
				{
					if (!hashed)
					{
						rowhash = row_hash(p, values, isnull, 0, true);
						hashed = true;
					}
					if (rowhash == e->rowhash)
					{
						classify_count(r, CLASS_UNCHANGED);
						continue;
					}
				}
				MemoryContextSwitchTo(oldcxt);
				join_target(p, e);
				classify_values(r, p->values, p->isnull);
				oldcxt = MemoryContextSwitchTo(p->rowcxt);
			}
		}
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(p->rowcxt);
	if (!matched)
	{
		join_target(p, NULL);
		classify_values(r, p->values, p->isnull);
	}
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
	capacity = (uint32) Min(Max(reltuples, 0) * 1.02 + 1024, (double) (PG_UINT32_MAX / 2));
	if (table_bytes(p, capacity) > p->limit)
		return false;
	p->capacity = capacity;
	p->entries = palloc_extended(sizeof(ProbeEntry) * capacity, MCXT_ALLOC_HUGE);
	advise_huge_pages(p->entries, sizeof(ProbeEntry) * capacity);
	p->keyhashes = palloc_extended(sizeof(uint32) * capacity, MCXT_ALLOC_HUGE);
	if (p->nkeys > 1)
		p->morekeys = palloc_extended(sizeof(Datum) * (p->nkeys - 1) * capacity,
									  MCXT_ALLOC_HUGE);
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
	build_slots(p);
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
			p->pub.rStartup = probe_startup;
			(void) internal_sql_exec_caller_into(q.data, &p->pub);

			/* the current rows no source row matched: missing */
			memset(p->isnull, true, sizeof(bool) * p->width);
			for (uint32 i = 0; i < p->nentries; i++)
			{
				if (p->entries[i].flags & PROBE_MATCHED)
					continue;
				join_target(p, &p->entries[i]);
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

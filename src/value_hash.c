/*
 * value_hash.c
 *	  Hashing values as their type's equality compares them: each type's
 *	  extended hash function (numeric 1.0 and 1.00, float -0 and 0, NaN,
 *	  char(n) padding, nondeterministic collations hash alike), the bytes
 *	  of types whose equality is byte equality, the text form of types
 *	  compared as text.  Equal values always hash alike.  Used by the
 *	  in-memory passes of the models (dimension_probe.c, keyset.c).
 */
#include "postgres.h"

#include <sys/mman.h>

#include "access/hash.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "value_hash.h"

/*
 * How to hash the values of a type so that equal values, as its equality
 * operator (comparable) or its text form decides, hash alike; false when
 * it cannot be done.
 */
bool
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
uint64
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
 * Ask for huge pages under a large array about to be written: a probe is
 * a random read into it, and with small pages most such reads also miss
 * the TLB.  Where the kernel gives none, nothing changes.
 */
void
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


/*
 * A copy of a value of the column in cxt that outlives the query that read
 * it: detoasted (a toast pointer would outlive its snapshot), or the value
 * itself when passed by value.
 */
Datum
hash_column_keep(HashColumn *c, Datum value, MemoryContext cxt)
{
	MemoryContext oldcxt;

	if (c->typbyval)
		return value;
	oldcxt = MemoryContextSwitchTo(cxt);
	value = c->typlen == -1 ? PointerGetDatum(PG_DETOAST_DATUM_COPY(value)) :
		datumCopy(value, false, c->typlen);
	MemoryContextSwitchTo(oldcxt);
	return value;
}

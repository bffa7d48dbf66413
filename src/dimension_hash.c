/*
 * dimension_hash.c
 *	  The stored row hash of merge_dimension: a 64-bit hash of a row's
 *	  compared columns, kept in the dimension's _elt_row_hash column, so
 *	  that the classifying pass (dimension_classify.c) joins the source to a
 *	  narrow projection of the current rows and settles an unchanged row
 *	  with one comparison.
 *
 * Each value is hashed with its type's extended hash support function (the
 * default hash opclass, whose equality is the one the merge compares
 * with), so that values the merge calls equal hash alike: numeric 1.0 and
 * 1.00, float -0 and 0, every NaN, jsonb objects whatever their key order.
 * A type without such a function (json, point, ...) is compared as text,
 * and so its text form is hashed.  NULL-ness and column order are mixed
 * in, and the hash is seeded with the dimension's signature: the compared
 * columns' names, types, collations and roles (versioned or overwritten)
 * and the scd type, so that a hash written under another signature (a
 * column added, a type changed, a column moved to type1_columns) no longer
 * matches and its row is compared column by column, then rehashed.
 *
 * A stored hash equal to the source row's is taken as unchanged; any other
 * stored hash (or NULL) only makes the classifier fetch the current row
 * and compare its columns, so a stale hash can cost time but never a
 * wrong class.  A change is missed only if the changed row's hash equals
 * the stored hash of the version it replaces: 2^-64 per changed row.
 */
#include "postgres.h"

#include "access/hash.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "dimension_merge.h"

/* mixed in for a NULL value, so that NULL and a value hash apart */
#define HASH_NULL_MARK	UINT64CONST(0x9e3779b97f4a7c15)

/*
 * Set up the hashing of one compared column of type typid (with its
 * collation, InvalidOid for the type's) at position attr of the rows.
 */
static void
init_hash_column(RowHashColumn *h, int attr, Oid typid, Oid collation)
{
	TypeCacheEntry *tc = lookup_type_cache(typid, TYPECACHE_EQ_OPR |
										   TYPECACHE_HASH_OPFAMILY |
										   TYPECACHE_HASH_EXTENDED_PROC);

	h->attr = attr;
	h->collation = OidIsValid(collation) ? collation : get_typcollation(typid);

	/*
	 * The hash function is usable only when its opclass' equality is the
	 * one the classifier compares with (the type's default equality).
	 */
	h->by_text = true;
	if (OidIsValid(tc->hash_extended_proc) && OidIsValid(tc->eq_opr) &&
		OidIsValid(tc->hash_opf) &&
		get_opfamily_member(tc->hash_opf, typid, typid, HTEqualStrategyNumber) == tc->eq_opr)
	{
		fmgr_info(tc->hash_extended_proc, &h->proc);
		h->by_text = false;
	}
	else
	{
		Oid			outfunc;
		bool		varlena;

		getTypeOutputInfo(typid, &outfunc, &varlena);
		fmgr_info(outfunc, &h->proc);
	}
}

/*
 * Set up the row hash of the compared columns cols (ModelColumn, in the
 * classifier's order), found in the rows at the positions of their names
 * in names.  collations (may be NULL) are the dimension's columns'
 * collations, in the order of cols.
 */
void
row_hash_init(RowHash *rh, DimMerge *m, List *cols, List *names, Oid *collations)
{
	StringInfoData sig;
	ListCell   *lc;

	rh->ncols = list_length(cols);
	rh->cols = palloc0(sizeof(RowHashColumn) * Max(rh->ncols, 1));
	initStringInfo(&sig);
	appendStringInfo(&sig, "pg_elt row hash 1; scd %d", m->scd_type);
	foreach(lc, cols)
	{
		ModelColumn *col = lfirst(lc);
		int			i = foreach_current_index(lc);
		int			attr = -1;
		ListCell   *nc;
		RowHashColumn *h = &rh->cols[i];

		foreach(nc, names)
		{
			if (strcmp(lfirst(nc), col->name) == 0)
			{
				attr = foreach_current_index(nc);
				break;
			}
		}
		if (attr < 0)
			elog(ERROR, "column \"%s\" not found", col->name);
		init_hash_column(h, attr, col->typid, collations ? collations[i] : InvalidOid);
		/* the name with its length, so that no two lists run together */
		appendStringInfo(&sig, "; %d:%s %u/%u %s %s", (int) strlen(col->name), col->name,
						 col->typid, h->collation,
						 list_member_ptr(m->attr2, col) ? "versioned" : "overwritten",
						 h->by_text ? "text" : "hash");
	}
	rh->seed = hash_bytes_extended((unsigned char *) sig.data, sig.len, 0);
	pfree(sig.data);
}

/*
 * The hash of one row's compared columns (values and isnull as in the
 * rows row_hash_init was given positions in).  Allocates in the current
 * memory context (detoasted values, text forms): call it in a short-lived
 * one.
 */
uint64
row_hash_compute(RowHash *rh, Datum *values, bool *isnull)
{
	uint64		h = rh->seed;

	for (int i = 0; i < rh->ncols; i++)
	{
		RowHashColumn *c = &rh->cols[i];
		uint64		v;

		if (isnull[c->attr])
			v = HASH_NULL_MARK + (uint64) i;
		else if (c->by_text)
		{
			char	   *s = OutputFunctionCall(&c->proc, values[c->attr]);

			v = hash_bytes_extended((unsigned char *) s, strlen(s), (uint64) i + 1);
		}
		else
			v = DatumGetUInt64(FunctionCall2Coll(&c->proc, c->collation, values[c->attr],
												 UInt64GetDatum((uint64) i + 1)));
		h = hash_combine64(h, v);
	}
	return h;
}

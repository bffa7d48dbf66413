/*
 * value_hash.h
 *	  Hashing values as their type's equality compares them, for the
 *	  in-memory passes of the models (dimension_probe.c, keyset.c).
 */
#ifndef ELT_VALUE_HASH_H
#define ELT_VALUE_HASH_H

#include "postgres.h"

#include "fmgr.h"

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

extern bool hash_column_init(HashColumn *c, Oid typid, Oid collation, bool comparable,
							 bool key);
extern uint64 hash_value(HashColumn *c, Datum value);
extern void advise_huge_pages(void *ptr, size_t len);
extern Datum hash_column_keep(HashColumn *c, Datum value, MemoryContext cxt);

#endif							/* ELT_VALUE_HASH_H */

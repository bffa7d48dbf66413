/*
 * keyset.h
 *	  Whether every key a source refers to is among a dimension's keys,
 *	  found in memory (keyset.c).
 */
#ifndef ELT_KEYSET_H
#define ELT_KEYSET_H

#include "postgres.h"

/* One dimension's keys, for keyset_covers(). */
typedef struct KeySetSpec
{
	const char *build_sql;		/* the dimension's keys, nkeys columns */
	int			first;			/* the first key column in the probe query */
	int			nkeys;
	const Oid  *typids;
	const Oid  *collations;
	bool		covers;			/* set: every source key is a dimension key */
} KeySetSpec;

/*
 * For each spec: whether every row of probe_sql with no NULL part in
 * columns first .. first + nkeys - 1 has its key among the rows of the
 * spec's build query; false when some key is missing, or when that cannot
 * be told in memory.  The source is read once for every spec; the queries
 * run with the caller's privileges.
 */
extern void keyset_covers(KeySetSpec *specs, int nsets, const char *probe_sql);

#endif							/* ELT_KEYSET_H */

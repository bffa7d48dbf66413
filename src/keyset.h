/*
 * keyset.h
 *	  Whether every key a source refers to is among a dimension's keys,
 *	  found in memory (keyset.c).
 */
#ifndef ELT_KEYSET_H
#define ELT_KEYSET_H

#include "postgres.h"

/*
 * Whether every row of probe_sql with no NULL part has its key (nkeys
 * columns, of types typids and collations) among the rows of build_sql
 * (the same columns); false when some key is missing, or when that cannot
 * be told in memory.  Both run with the caller's privileges.
 */
extern bool keyset_covers(const char *build_sql, const char *probe_sql, int nkeys,
						  const Oid *typids, const Oid *collations);

#endif							/* ELT_KEYSET_H */

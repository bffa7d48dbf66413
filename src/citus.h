/*
 * citus.h
 *	  What pg_elt needs to know about Citus tables: whether Citus is there,
 *	  what kind of table a relation is, and its distribution column.
 *
 * Everything here answers "local" when the Citus extension is not created
 * in the current database, without touching any Citus catalog, so callers
 * need no test of their own.
 */
#ifndef ELT_CITUS_H
#define ELT_CITUS_H

#include "postgres.h"

typedef enum EltTableKind
{
	ELT_TABLE_LOCAL,			/* a plain table (or Citus is absent) */
	ELT_TABLE_REFERENCE,		/* replicated to every node */
	ELT_TABLE_DISTRIBUTED,		/* sharded (hash, range, append, single shard) */
	ELT_TABLE_CITUS_LOCAL		/* a Citus managed local table */
} EltTableKind;

/* The Citus extension is created in this database. */
extern bool elt_citus_loaded(void);

/* What kind of table relid is; ELT_TABLE_LOCAL when Citus is absent. */
extern EltTableKind elt_table_kind(Oid relid);

/* Its distribution column's name (palloc'd), NULL unless it has one. */
extern char *elt_distribution_column(Oid relid);

/*
 * Its pg_dist_partition.partmethod: 'h' hash, 'r' range, 'a' append, 'n'
 * none (reference, single shard, Citus local); '\0' when not a Citus table.
 */
extern char elt_distribution_method(Oid relid);

/* "local table", "reference table"... for messages. */
extern const char *elt_table_kind_name(EltTableKind kind);

#endif							/* ELT_CITUS_H */

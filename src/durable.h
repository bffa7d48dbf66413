/*
 * durable.h
 *	  Writing a record that must survive the caller's rollback: a failed
 *	  batch, the result of a failed check.
 *
 * The statement runs in a background worker, in a transaction of its own,
 * and the caller waits for it.  It runs through internal_sql.c, so with
 * search_path pinned, as the bootstrap superuser or as a given role.
 */
#ifndef ELT_DURABLE_H
#define ELT_DURABLE_H

#include "postgres.h"

#define DURABLE_MAX_ARGS 24

extern bool durable_exec(const char *what, const char *sql, int nargs,
						 const Oid *types, const char *const *values,
						 Oid as_role);

#endif							/* ELT_DURABLE_H */

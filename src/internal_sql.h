/*
 * internal_sql.h
 *	  The one way pg_elt runs SQL of its own: bookkeeping, catalog look-ups,
 *	  history records, anything not written by the caller.
 *
 * Such statements often run with rights the caller does not have (as the
 * extension's owner, the bootstrap superuser in a worker, a pipeline's
 * owner).  A name in them that resolved through the caller's search_path
 * would let the caller substitute a type, function, operator or cast of
 * its own and run it with those rights (CVE-2018-1058).  So every statement
 * run here sees search_path = pg_catalog, pg_temp, set in a GUC nest level
 * of its own, and runs as another role only with
 * SECURITY_RESTRICTED_OPERATION, as PostgreSQL runs maintenance commands.
 * The statements themselves must still schema-qualify every name.
 */
#ifndef ELT_INTERNAL_SQL_H
#define ELT_INTERNAL_SQL_H

#include "postgres.h"

#include "executor/spi.h"
#include "tcop/dest.h"

/* What internal_sql_begin changed, for internal_sql_end to restore. */
typedef struct InternalSqlScope
{
	Oid			saved_userid;
	int			saved_sec_context;
	int			nestlevel;
} InternalSqlScope;

/* Any SPI result code that is not an error (for "expected"). */
#define INTERNAL_SQL_ANY (-1)
/* No check at all: the caller reports an SPI failure itself. */
#define INTERNAL_SQL_UNCHECKED (-2)

extern void internal_sql_begin(InternalSqlScope *scope, Oid as_role);
extern void internal_sql_end(InternalSqlScope *scope);
extern int	internal_sql_exec(const char *sql, int nargs, Oid *types,
							  Datum *values, const char *nulls,
							  bool read_only, int expected);
extern int	internal_sql_exec_as(Oid as_role, const char *sql, int nargs,
								 Oid *types, Datum *values, const char *nulls,
								 bool read_only, int expected);

/*
 * A statement prepared once per backend and kept (for hot paths such as
 * secret look-ups); planned and run with search_path pinned, so the plan
 * never depends on a caller's path.
 */
typedef struct InternalSqlPlan
{
	SPIPlanPtr	plan;
} InternalSqlPlan;

extern int	internal_sql_exec_plan(InternalSqlPlan *cache, Oid as_role,
								   const char *sql, int nargs, Oid *types,
								   Datum *values, const char *nulls,
								   bool read_only, int expected);
extern void internal_sql_forget_plan(InternalSqlPlan *cache);

/*
 * Statements that embed SQL the caller wrote (a model's source SELECT, a
 * pipeline step's command) run as the caller, under the caller's own
 * search_path, like any query the caller writes.  They go through here too,
 * so that every SPI call of pg_elt is in this module.
 */
extern int	internal_sql_exec_caller(const char *sql, int expected);
extern int	internal_sql_exec_caller_args(const char *sql, int nargs, Oid *types,
										  Datum *values, const char *nulls,
										  bool read_only, int expected);
extern int	internal_sql_exec_caller_into(const char *sql, DestReceiver *dest);

/* Column getters over SPI_tuptable; a NULL reads as the given default. */
extern bool internal_sql_isnull(uint64 row, int col);
extern int64 internal_sql_int64(uint64 row, int col, int64 dflt);
extern int32 internal_sql_int32(uint64 row, int col, int32 dflt);
extern bool internal_sql_bool(uint64 row, int col, bool dflt);
extern Oid	internal_sql_oid(uint64 row, int col);
extern char *internal_sql_text(uint64 row, int col);
extern Datum internal_sql_datum(uint64 row, int col, bool *isnull);

#endif							/* ELT_INTERNAL_SQL_H */

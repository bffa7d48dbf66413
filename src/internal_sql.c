/*
 * internal_sql.c
 *	  Running pg_elt's own statements so that no role can hijack them.
 *
 * See internal_sql.h for the rules.  Errors need no special care: the
 * abort of the (sub)transaction restores the user id and unwinds the GUC
 * nest level.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "internal_sql.h"

/*
 * Raise an error unless an SPI result code is what the statement had to
 * give: "expected", or with INTERNAL_SQL_ANY any success.
 */
static void
check_result(int rc, int expected, const char *sql, const char *what)
{
	if (rc < 0 || (expected != INTERNAL_SQL_ANY && rc != expected))
		elog(ERROR, "%s (%s): %s", what, SPI_result_code_string(rc), sql);
}

/*
 * Pin search_path for our own statements, and when as_role is valid and
 * not the current user, become that role for them.  Must be paired with
 * internal_sql_end in the same (sub)transaction.
 */
void
internal_sql_begin(InternalSqlScope *scope, Oid as_role)
{
	GetUserIdAndSecContext(&scope->saved_userid, &scope->saved_sec_context);
	if (OidIsValid(as_role) && as_role != scope->saved_userid)
		SetUserIdAndSecContext(as_role,
							   scope->saved_sec_context |
							   SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
	scope->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

/* Undo internal_sql_begin. */
void
internal_sql_end(InternalSqlScope *scope)
{
	AtEOXact_GUC(true, scope->nestlevel);
	SetUserIdAndSecContext(scope->saved_userid, scope->saved_sec_context);
}

/*
 * Run one statement of ours with search_path pinned, as the current user.
 * Raises an error unless SPI returns "expected" (or, with
 * INTERNAL_SQL_ANY, any success).  Returns the SPI result code.
 */
int
internal_sql_exec(const char *sql, int nargs, Oid *types, Datum *values,
				  const char *nulls, bool read_only, int expected)
{
	return internal_sql_exec_as(InvalidOid, sql, nargs, types, values, nulls,
								read_only, expected);
}

/* internal_sql_exec as another role (InvalidOid: the current user). */
int
internal_sql_exec_as(Oid as_role, const char *sql, int nargs, Oid *types,
					 Datum *values, const char *nulls, bool read_only,
					 int expected)
{
	InternalSqlScope scope;
	int			rc;

	internal_sql_begin(&scope, as_role);
	if (nargs > 0)
		rc = SPI_execute_with_args(sql, nargs, types, values, nulls,
								   read_only, 0);
	else
		rc = SPI_execute(sql, read_only, 0);
	internal_sql_end(&scope);
	check_result(rc, expected, sql, "pg_elt internal statement failed");
	return rc;
}

/*
 * internal_sql_exec_as with a plan prepared on first use and kept for the
 * life of the backend.  The plan cache replans by itself when a relation
 * it uses changes.
 */
int
internal_sql_exec_plan(InternalSqlPlan *cache, Oid as_role, const char *sql,
					   int nargs, Oid *types, Datum *values, const char *nulls,
					   bool read_only, int expected)
{
	InternalSqlScope scope;
	int			rc;

	internal_sql_begin(&scope, as_role);
	if (cache->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

		if (plan == NULL)
			elog(ERROR, "pg_elt internal statement could not be prepared (%s): %s",
				 SPI_result_code_string(SPI_result), sql);
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "pg_elt internal statement could not be kept: %s", sql);
		cache->plan = plan;
	}
	rc = SPI_execute_plan(cache->plan, values, nulls, read_only, 0);
	internal_sql_end(&scope);
	check_result(rc, expected, sql, "pg_elt internal statement failed");
	return rc;
}

/* Free a kept plan (a cache about to serve another statement). */
void
internal_sql_forget_plan(InternalSqlPlan *cache)
{
	if (cache->plan != NULL)
		SPI_freeplan(cache->plan);
	cache->plan = NULL;
}

/*
 * Run a statement that embeds the caller's SQL, as the caller, with the
 * caller's search_path.  Raises an error unless SPI returns "expected" (or
 * any success, with INTERNAL_SQL_ANY).  Returns the SPI result code.
 */
int
internal_sql_exec_caller(const char *sql, int expected)
{
	int			rc = SPI_execute(sql, false, 0);

	if (expected != INTERNAL_SQL_UNCHECKED)
		check_result(rc, expected, sql, "generated statement failed");
	return rc;
}

/*
 * The same with parameters ($1, $2...), for a query of the caller's that
 * reads values pg_elt supplies (a fan-out query's last run time); with
 * read_only, only a query can run.  The query may be another role's (a
 * stream's owner's, run in a superuser's session): settings it changes
 * (set_config) are undone when it ends, as PostgreSQL undoes those of an
 * index expression, so that it cannot leave a search_path behind.
 */
int
internal_sql_exec_caller_args(const char *sql, int nargs, Oid *types,
							  Datum *values, const char *nulls,
							  bool read_only, int expected)
{
	int			nestlevel = NewGUCNestLevel();
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls,
										   read_only, 0);

	AtEOXact_GUC(false, nestlevel);

	if (expected != INTERNAL_SQL_UNCHECKED &&
		(rc < 0 || (expected != INTERNAL_SQL_ANY && rc != expected)))
		elog(ERROR, "generated statement failed: %s (%s)", SPI_result_code_string(rc), sql);
	return rc;
}

/*
 * The same, sending the result rows to a receiver of the caller's instead
 * of a tuple table (a classifier that keeps only the rows it needs).
 */
int
internal_sql_exec_caller_into(const char *sql, DestReceiver *dest)
{
	SPIExecuteOptions options;
	int			rc;

	memset(&options, 0, sizeof(options));
	options.read_only = false;
	options.dest = dest;
	rc = SPI_execute_extended(sql, &options);
	if (rc < 0)
		elog(ERROR, "generated statement failed: %s (%s)", SPI_result_code_string(rc), sql);
	return rc;
}

bool
internal_sql_isnull(uint64 row, int col)
{
	bool		isnull;

	(void) SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col,
						 &isnull);
	return isnull;
}

Datum
internal_sql_datum(uint64 row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col,
						 isnull);
}

int64
internal_sql_int64(uint64 row, int col, int64 dflt)
{
	bool		isnull;
	Datum		d = internal_sql_datum(row, col, &isnull);

	return isnull ? dflt : DatumGetInt64(d);
}

int32
internal_sql_int32(uint64 row, int col, int32 dflt)
{
	bool		isnull;
	Datum		d = internal_sql_datum(row, col, &isnull);

	return isnull ? dflt : DatumGetInt32(d);
}

bool
internal_sql_bool(uint64 row, int col, bool dflt)
{
	bool		isnull;
	Datum		d = internal_sql_datum(row, col, &isnull);

	return isnull ? dflt : DatumGetBool(d);
}

/* An oid column; NULL reads as InvalidOid. */
Oid
internal_sql_oid(uint64 row, int col)
{
	bool		isnull;
	Datum		d = internal_sql_datum(row, col, &isnull);

	return isnull ? InvalidOid : DatumGetObjectId(d);
}

/* A column in its text form, palloc'd in the current context; NULL reads as NULL. */
char *
internal_sql_text(uint64 row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

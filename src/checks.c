/*
 * checks.c
 *	  Keeping the results of failed data-quality checks.
 *
 * elt.check() (src/sql/60_checks.sql) records every result in
 * elt.check_result.  A check of severity 'error' that fails raises an
 * error, which rolls back the transaction that called it, result included.
 * So the result of such a check is written in a transaction of its own
 * (durable.c), and survives: a failed step of a pipeline leaves its
 * evidence behind.  The row's owner is the role that ran the check, taken
 * from the caller's identity and not from the payload, so no role can file
 * results in another's name.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/jsonb.h"

#include "checks.h"
#include "durable.h"

PG_FUNCTION_INFO_V1(elt_keep_check_result);

/*
 * elt._keep_check_result(result jsonb): write the result of a failed check
 * so that it outlives the caller's transaction.  Returns false, after a
 * warning, when it could not be written.
 */
Datum
elt_keep_check_result(PG_FUNCTION_ARGS)
{
	Jsonb	   *result = PG_GETARG_JSONB_P(0);
	Oid			types[2] = {TEXTOID, OIDOID};
	const char *values[2];

	values[0] = JsonbToCString(NULL, &result->root, VARSIZE(result));
	values[1] = psprintf("%u", GetUserId());
	PG_RETURN_BOOL(durable_exec("the result of the failed check in elt.check_result",
								"INSERT INTO elt.check_result "
								"(checked_at, run_id, owner, relation, test, column_name, args, "
								" severity, passed, failures, sample, detail) "
								"SELECT r.checked_at, r.run_id, $2::pg_catalog.regrole, r.relation, "
								"       r.test, r.column_name, "
								"       coalesce(r.args, '{}'::pg_catalog.jsonb), "
								"       r.severity, r.passed, r.failures, r.sample, r.detail "
								"FROM pg_catalog.jsonb_populate_record(NULL::elt.check_result, "
								"                                      $1::pg_catalog.jsonb) r",
								2, types, values, InvalidOid));
}

/*
 * chaining.c
 *	  Pipelines that run after others.
 *
 * A pipeline whose "after" option names other pipelines gets a run (trigger
 * 'after') each time a run of one of them succeeds, covering the data
 * interval of that run, so that a chain of pipelines works on the same
 * slice of data.  The run is queued by the worker of the succeeded run in
 * the transaction that ends it, so it is queued exactly once; the launcher
 * then starts it like any queued run.  Only pipelines whose owner has the
 * privileges of the succeeded pipeline's owner follow it: naming another
 * role's pipeline is refused when the option is set (row-level security
 * hides it), and checked again here in case the name was reused since.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"

#include "chaining.h"
#include "internal_sql.h"

/* Kept plans: they run at the end of every successful run */
static InternalSqlPlan any_after_plan;
static InternalSqlPlan queue_after_plan;

/*
 * Queue the runs that follow the succeeded run run_id.  Runs inside the
 * caller's transaction, as superuser with internal_sql's scope.  A
 * pipeline that is paused gets none; one with a run in progress and
 * overlap "skip" gets a skipped run.  Returns how many runs were added.
 */
int
chaining_queue_after(int64 run_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(run_id)};

	/* most installations chain nothing: a cheap look before the statement */
	internal_sql_exec_plan(&any_after_plan, InvalidOid,
						   "SELECT 1 FROM elt.pipeline "
						   "WHERE options OPERATOR(pg_catalog.?) 'after' LIMIT 1",
						   0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return 0;
	internal_sql_exec_plan(&queue_after_plan, InvalidOid, "WITH u AS MATERIALIZED ("
					  "  SELECT u.run_id, u.interval_start, u.interval_end, up.name, up.owner "
					  "  FROM elt.run u JOIN elt.pipeline up "
					  "  ON up.pipeline_id OPERATOR(pg_catalog.=) u.pipeline_id "
					  "  WHERE u.run_id OPERATOR(pg_catalog.=) $1 "
					  "  AND u.status OPERATOR(pg_catalog.=) 'succeeded') "
					  "INSERT INTO elt.run (pipeline_id, pipeline, owner, trigger, status, "
					  "interval_start, interval_end, triggered_by, finished_at, error) "
					  "SELECT d.pipeline_id, d.name, d.owner, 'after', "
					  "CASE WHEN a.run_id IS NULL OR d.options OPERATOR(pg_catalog.->>) 'overlap' "
					  "  OPERATOR(pg_catalog.=) 'queue' THEN 'queued' ELSE 'skipped' END, "
					  "u.interval_start, u.interval_end, u.run_id, "
					  "CASE WHEN a.run_id IS NULL OR d.options OPERATOR(pg_catalog.->>) 'overlap' "
					  "  OPERATOR(pg_catalog.=) 'queue' THEN NULL ELSE pg_catalog.clock_timestamp() END, "
					  "CASE WHEN a.run_id IS NULL OR d.options OPERATOR(pg_catalog.->>) 'overlap' "
					  "  OPERATOR(pg_catalog.=) 'queue' THEN NULL "
					  "  ELSE pg_catalog.format('run %s was still in progress', a.run_id) END "
					  "FROM u "
					  "JOIN elt.pipeline d "
					  "  ON (d.options OPERATOR(pg_catalog.->) 'after') OPERATOR(pg_catalog.?) u.name "
					  "  AND pg_catalog.pg_has_role(d.owner, u.owner, 'USAGE') "
					  "LEFT JOIN LATERAL (SELECT pg_catalog.max(x.run_id) AS run_id FROM elt.run x "
					  "  WHERE x.pipeline_id OPERATOR(pg_catalog.=) d.pipeline_id "
					  "  AND x.status OPERATOR(pg_catalog.=) ANY ('{queued,running}'::pg_catalog.text[])) a "
					  "  ON true "
					  "WHERE NOT d.paused "
					  "AND NOT EXISTS (SELECT 1 FROM elt.run t "
					  "  WHERE t.triggered_by OPERATOR(pg_catalog.=) u.run_id "
					  "  AND t.pipeline_id OPERATOR(pg_catalog.=) d.pipeline_id) "
					  "ORDER BY d.pipeline_id",
					  1, types, values, NULL, false, SPI_OK_INSERT);
	return (int) SPI_processed;
}

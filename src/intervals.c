/*
 * intervals.c
 *	  Data intervals of pipeline runs.
 *
 * A run covers the data interval from the previous fire time of its
 * pipeline's schedule to its own fire time, so that an incremental step
 * can select exactly the rows of its interval and a rerun of the same
 * interval redoes the same work.  The launcher (scheduler.c) gives
 * scheduled and catch-up runs their interval; elt.backfill() queues one
 * run per interval of a past period, oldest first, and the launcher then
 * executes them one at a time like any other queued run.
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "internal_sql.h"
#include "intervals.h"
#include "options.h"
#include "pg_elt.h"
#include "shmem.h"

/* At most this many runs are queued by one backfill */
#define MAX_BACKFILL_RUNS 1000
/* A schedule that did not fire in this long before t has no previous time */
#define MAX_LOOKBACK_US (INT64CONST(10) * 366 * USECS_PER_DAY)

PG_FUNCTION_INFO_V1(elt_backfill);

/*
 * The latest fire time of a schedule before t, or 0 when there is none
 * within ten years.  cron.c computes only next times, so look back over
 * growing windows and walk forward from the first window that holds a
 * fire time: the walk stays short whatever the schedule.
 */
TimestampTz
intervals_previous_fire(const CronSchedule *s, TimestampTz t, pg_tz *tz)
{
	int64		window = USECS_PER_SEC;

	if (s->kind == CRON_INTERVAL)
		return t - s->interval_us;
	while (window <= MAX_LOOKBACK_US)
	{
		TimestampTz f = cron_next(s, t - window, tz);

		if (f < t)
		{
			TimestampTz prev = f;
			int			steps = 0;

			while (steps++ < 1000000)
			{
				f = cron_next(s, f, tz);
				if (f >= t || f == DT_NOEND)
					break;
				prev = f;
			}
			return prev;
		}
		window *= 4;
	}
	return 0;
}

/*
 * elt.backfill(pipeline, from, to): queue one run per interval of the
 * pipeline's schedule that lies within [from, to], oldest first.  The
 * runs wait in 'queued' and execute one at a time, like any run of the
 * pipeline; each sees its own interval through elt.run_interval().
 */
Datum
elt_backfill(PG_FUNCTION_ARGS)
{
	char	   *name;
	TimestampTz from;
	TimestampTz to;
	Oid			types[4] = {TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	int64		pipeline_id;
	char	   *schedule;
	char	   *tzname = NULL;
	bool		paused;
	bool		isnull;
	CronSchedule s;
	pg_tz	   *tz;
	TimestampTz *times;
	int			ntimes = 0;
	TimestampTz t;
	const char *dbname;
	InternalSqlScope st;
	int			i;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("pipeline name must not be null")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the \"from\" and \"to\" times of a backfill must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	from = PG_GETARG_TIMESTAMPTZ(1);
	to = PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(from) || TIMESTAMP_NOT_FINITE(to))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the \"from\" and \"to\" times of a backfill must be finite")));
	if (from >= to)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("backfill \"from\" %s is not before \"to\" %s",
						timestamptz_to_str(from), timestamptz_to_str(to))));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* as the caller: row-level security hides other roles' pipelines */
	internal_sql_exec("SELECT p.pipeline_id, p.schedule, "
					  "p.options OPERATOR(pg_catalog.->>) 'timezone', p.paused "
					  "FROM elt.pipeline p WHERE p.name OPERATOR(pg_catalog.=) $1",
					  1, types, (Datum[]) {CStringGetTextDatum(name)}, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("pipeline \"%s\" does not exist", name)));
	pipeline_id = internal_sql_int64(0, 1, 0);
	(void) internal_sql_datum(0, 2, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pipeline \"%s\" has no schedule", name),
				 errdetail("A backfill runs the pipeline once per interval of its schedule."),
				 errhint("Give it one with elt.alter_pipeline(), or run it for an interval with elt.trigger(name, interval_start, interval_end).")));
	schedule = internal_sql_text(0, 2);
	(void) internal_sql_datum(0, 3, &isnull);
	if (!isnull)
		tzname = internal_sql_text(0, 3);
	paused = internal_sql_bool(0, 4, false);

	dbname = get_database_name(MyDatabaseId);
	if (elt_shared == NULL || dbname == NULL || strcmp(dbname, elt_database) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the pg_elt scheduler does not run in database \"%s\"",
						dbname ? dbname : "?"),
				 errdetail("pg_elt.database is \"%s\"%s.", elt_database,
						   elt_shared == NULL ? " and pg_elt is not in shared_preload_libraries" : ""),
				 errhint("Use elt.run_pipeline(name, interval_start, interval_end) for each interval.")));

	cron_parse(schedule, &s);
	tz = cron_lookup_tz(tzname);
	times = palloc(sizeof(TimestampTz) * (MAX_BACKFILL_RUNS + 1));
	/* the fire times within [from, to]: cron_next is strictly after */
	for (t = cron_next(&s, from - 1, tz); t != DT_NOEND && t <= to; t = cron_next(&s, t, tz))
	{
		if (ntimes > MAX_BACKFILL_RUNS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a backfill of pipeline \"%s\" from %s to %s would queue more than %d runs",
							name, timestamptz_to_str(from), timestamptz_to_str(to),
							MAX_BACKFILL_RUNS),
					 errhint("Backfill a shorter period at a time.")));
		times[ntimes++] = t;
	}
	if (ntimes < 2)
	{
		ereport(NOTICE,
				(errmsg("no whole interval of schedule \"%s\" lies between %s and %s",
						schedule, timestamptz_to_str(from), timestamptz_to_str(to))));
		SPI_finish();
		PG_RETURN_INT32(0);
	}

	internal_sql_begin(&st, BOOTSTRAP_SUPERUSERID);
	for (i = 1; i < ntimes; i++)
	{
		Datum		values[4] = {(Datum) 0, Int64GetDatum(pipeline_id),
			TimestampTzGetDatum(times[i - 1]), TimestampTzGetDatum(times[i])};

		internal_sql_exec("INSERT INTO elt.run (pipeline_id, pipeline, owner, trigger, status, "
						  "interval_start, interval_end) "
						  "SELECT pipeline_id, name, owner, 'backfill', 'queued', $2, $3 "
						  "FROM elt.pipeline WHERE pipeline_id OPERATOR(pg_catalog.=) $1",
						  3, &types[1], &values[1], NULL, false, SPI_OK_INSERT);
	}
	internal_sql_end(&st);
	SPI_finish();

	shmem_wake_launcher_at_commit();
	if (paused)
		ereport(NOTICE,
				(errmsg("pipeline \"%s\" is paused: the backfill starts when it is resumed", name)));
	PG_RETURN_INT32(ntimes - 1);
}

/*
 * date_dimension.c
 *	  elt.create_date_dimension: a calendar dimension, one row per day, and
 *	  its unknown member.
 *
 * Unlike the other models it has no source: its rows are computed from the
 * dates, in one set-based INSERT of the days not yet present, so extending
 * the range later adds only the new days.  The statement embeds no SQL of
 * the caller's, so it runs with search_path pinned (internal_sql.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "date_dimension.h"
#include "internal_sql.h"
#include "model.h"

PG_FUNCTION_INFO_V1(elt_create_date_dimension);

/*
 * The columns of a date dimension, with their types and definitions over
 * the day d.
 */
static const struct
{
	const char *name;
	const char *type;
	const char *expr;
}			date_columns[] =
{
	{"date_key", "integer", "(extract(year FROM d) * 10000 + extract(month FROM d) * 100 + extract(day FROM d))::integer"},
	{"date", "date", "d"},
	{"day_of_week", "smallint", "extract(isodow FROM d)::smallint"},
	{"day_name", "text", "to_char(d::timestamp, 'FMDay')"},
	{"day_of_month", "smallint", "extract(day FROM d)::smallint"},
	{"day_of_year", "smallint", "extract(doy FROM d)::smallint"},
	{"iso_week", "smallint", "extract(week FROM d)::smallint"},
	{"iso_year", "integer", "extract(isoyear FROM d)::integer"},
	{"month", "smallint", "extract(month FROM d)::smallint"},
	{"month_name", "text", "to_char(d::timestamp, 'FMMonth')"},
	{"quarter", "smallint", "extract(quarter FROM d)::smallint"},
	{"year", "integer", "extract(year FROM d)::integer"},
	{"is_weekend", "boolean", "extract(isodow FROM d) >= 6"},
	{"first_day_of_month", "date", "date_trunc('month', d::timestamp)::date"},
	{"last_day_of_month", "date", "(date_trunc('month', d::timestamp) + interval '1 month - 1 day')::date"},
};

/*
 * Check that an existing table can take the rows of a date dimension.
 */
static void
check_date_dimension(ModelRelation *target)
{
	List	   *cols = model_relation_columns(target->relid);

	for (int i = 0; i < lengthof(date_columns); i++)
	{
		ModelColumn *col = model_find_column(cols, date_columns[i].name);

		if (col == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("date dimension \"%s\" has no column \"%s\"",
							target->display, date_columns[i].name)));
		if (strcmp(format_type_be(col->typid), date_columns[i].type) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of date dimension \"%s\" has type %s, expected %s",
							date_columns[i].name, target->display,
							format_type_be(col->typid), date_columns[i].type)));
	}
}

/*
 * elt.create_date_dimension(target, start_date, end_date)
 *
 * Create (or extend) a calendar dimension with one row per day and the
 * unknown member; days already present are kept.  Returns the number of
 * days added.
 */
Datum
elt_create_date_dimension(PG_FUNCTION_ARGS)
{
	TimestampTz started = GetCurrentTimestamp();
	char	   *target_arg = text_to_cstring(PG_GETARG_TEXT_PP(0));
	DateADT		start = PG_GETARG_DATEADT(1);
	DateADT		end = PG_GETARG_DATEADT(2);
	DateADT		lo = date2j(1, 1, 1) - POSTGRES_EPOCH_JDATE;
	DateADT		hi = date2j(9999, 12, 31) - POSTGRES_EPOCH_JDATE;
	ModelRelation target;
	ModelCounts counts = {0, -1, -1, -1, -1};
	StringInfoData sql;
	Oid			argtypes[2] = {DATEOID, DATEOID};
	Datum		args[2] = {DateADTGetDatum(start), DateADTGetDatum(end)};

	if (DATE_NOT_FINITE(start) || DATE_NOT_FINITE(end) ||
		start < lo || end > hi)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date dimension range must lie between 0001-01-01 and 9999-12-31")));
	if (start > end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start_date must not be after end_date")));

	SPI_connect();
	model_resolve_relation(&target, target_arg, true);
	model_lock_name(&target);
	initStringInfo(&sql);
	if (OidIsValid(target.relid))
	{
		model_check_table(&target);
		model_lock_table(&target);
		check_date_dimension(&target);
	}
	else
	{
		appendStringInfo(&sql, "CREATE TABLE %s (", target.qualified);
		for (int i = 0; i < lengthof(date_columns); i++)
			appendStringInfo(&sql, "%s%s %s%s", i ? ", " : "",
							 quote_identifier(date_columns[i].name), date_columns[i].type,
							 i == 0 ? " PRIMARY KEY" : i == 1 ? " UNIQUE" : "");
		appendStringInfoChar(&sql, ')');
		model_exec(sql.data, SPI_OK_UTILITY);
		model_refresh_relation(&target);
	}

	/* The unknown member. */
	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (date_key, day_name, month_name)"
					 " SELECT -1, 'Unknown', 'Unknown'"
					 " WHERE NOT EXISTS (SELECT FROM %s WHERE date_key = -1)",
					 target.qualified, target.qualified);
	model_exec(sql.data, SPI_OK_INSERT);

	/* The days not yet present. */
	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (", target.qualified);
	for (int i = 0; i < lengthof(date_columns); i++)
		appendStringInfo(&sql, "%s%s", i ? ", " : "", quote_identifier(date_columns[i].name));
	appendStringInfoString(&sql, ") SELECT ");
	for (int i = 0; i < lengthof(date_columns); i++)
		appendStringInfo(&sql, "%s%s", i ? ", " : "", date_columns[i].expr);
	appendStringInfo(&sql, " FROM generate_series($1::timestamp, $2::timestamp, interval '1 day') AS g(ts),"
					 " LATERAL (SELECT g.ts::date AS d) AS x"
					 " WHERE NOT EXISTS (SELECT FROM %s AS t WHERE t.\"date\" = x.d)",
					 target.qualified);
	(void) internal_sql_exec(sql.data, 2, argtypes, args, NULL, false, SPI_OK_INSERT);
	counts.inserted = SPI_processed;

	model_record_run("create_date_dimension", &target, NULL, &counts, started, NULL);
	SPI_finish();
	PG_RETURN_INT64(counts.inserted);
}

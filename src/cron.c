/*
 * cron.c
 *	  Pipeline schedules: parsing and next fire time.
 *
 * A schedule is a 5-field cron expression ("*\/5 * * * *", with lists,
 * ranges, steps and month/day names), an @-shorthand (@hourly, @daily,
 * @weekly, @monthly, @yearly) or a fixed interval of at least one second
 * ("30 seconds", "2 hours").  Cron schedules are evaluated in local time of
 * pg_elt.timezone (or a pipeline's own "timezone" option); intervals fire
 * at whole multiples of the interval counted from 2000-01-01 00:00 UTC, so
 * a "1 minute" pipeline fires on the minute whatever the time zone.
 *
 * Where cron implementations differ, this follows Vixie cron, as pg_cron
 * does: day fields beginning with "*" are unrestricted, steps may exceed a
 * field's range, and daylight-saving changes are handled as its cron.c
 * does (see local_fire_instants), which docs/pipelines.md spells out.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "fmgr.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "cron.h"

char	   *elt_timezone = NULL;

/* Search this many years ahead before declaring that a schedule never fires */
#define CRON_SEARCH_YEARS 9

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

PG_FUNCTION_INFO_V1(elt_next_runs);

/*
 * GUC check hook: pg_elt.timezone must name a zone the server knows, so a
 * typo is refused at SET/reload rather than breaking the scheduler later.
 */
static bool
check_elt_timezone(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("The time zone must not be empty.");
		return false;
	}
	if (pg_tzset(*newval) == NULL)
	{
		GUC_check_errdetail("Time zone \"%s\" is not recognized.", *newval);
		return false;
	}
	return true;
}

/*
 * Define pg_elt.timezone.  Reloadable, because the launcher re-evaluates
 * every cron schedule when it changes.
 */
void
cron_define_gucs(void)
{
	DefineCustomStringVariable("pg_elt.timezone",
							   "Time zone in which cron schedules of pipelines are evaluated.",
							   "A pipeline's \"timezone\" option overrides it. Interval schedules do not depend on it.",
							   &elt_timezone,
							   "UTC",
							   PGC_SIGHUP,
							   0,
							   check_elt_timezone, NULL, NULL);
}

/*
 * Find a time zone by name, with a clear error for an unknown one.
 */
pg_tz *
cron_lookup_tz(const char *name)
{
	pg_tz	   *tz;

	if (name == NULL || name[0] == '\0')
		name = elt_timezone ? elt_timezone : "UTC";
	tz = pg_tzset(name);
	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", name)));
	return tz;
}

/*
 * Report a malformed cron field, naming the field, so the user knows which
 * of the five to fix.
 */
static void
field_error(const char *schedule, const char *field, const char *item,
			const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid schedule \"%s\"", schedule),
			 errdetail("The %s field \"%s\" %s.", field, item, problem),
			 errhint("A cron schedule has five fields: minute, hour, day of month, month and day of week.")));
}

/*
 * Read one value of a cron field: a number, or a three-letter name where
 * the field has names.  Returns false when the text is neither.
 */
static bool
parse_value(const char *text, const char *const *names, int name_base, int *value)
{
	if (text[0] == '\0')
		return false;
	if (isdigit((unsigned char) text[0]))
	{
		long		v = 0;
		const char *p;

		for (p = text; *p; p++)
		{
			if (!isdigit((unsigned char) *p))
				return false;
			v = v * 10 + (*p - '0');
			if (v > 1000)
				return false;
		}
		*value = (int) v;
		return true;
	}
	if (names != NULL)
	{
		int			i;

		for (i = 0; names[i] != NULL; i++)
		{
			if (pg_strcasecmp(text, names[i]) == 0)
			{
				*value = i + name_base;
				return true;
			}
		}
	}
	return false;
}

/*
 * Parse one cron field into a bit set of the values it selects.  Accepts
 * comma lists of "*", "N", "A-B", each optionally followed by "/STEP"
 * ("N/STEP" meaning N to the maximum).  Day of week 7 is Sunday.
 */
static uint64
parse_field(const char *schedule, const char *text, const char *field,
			int min, int max, const char *const *names, int name_base,
			bool *star)
{
	uint64		bits = 0;
	char	   *copy = pstrdup(text);
	char	   *item;
	char	   *save = NULL;
	bool		is_dow = (names == day_names);
	int			nitems = 0;
	const char *p;

	/* as in Vixie cron: "*" and "*\/N" count as unrestricted */
	*star = (text[0] == '*');

	/* empty items ("1,,2" or a trailing comma) are not skipped silently */
	if (text[0] == ',' || text[strlen(text) - 1] == ',')
		field_error(schedule, field, text, "has an empty list item");
	for (p = text; *p; p++)
		if (p[0] == ',' && p[1] == ',')
			field_error(schedule, field, text, "has an empty list item");

	for (item = strtok_r(copy, ",", &save); item != NULL;
		 item = strtok_r(NULL, ",", &save))
	{
		char	   *slash = strchr(item, '/');
		char	   *dash;
		int			lo,
					hi,
					step = 1,
					v;
		int			top = is_dow ? 7 : max;

		nitems++;
		if (slash != NULL)
		{
			*slash = '\0';
			if (!parse_value(slash + 1, NULL, 0, &step))
				field_error(schedule, field, text, "has a step that is not a number");
			/* as in Vixie cron, a step beyond the range selects its start */
			if (step < 1)
				field_error(schedule, field, text, "has a step of 0");
		}
		if (strcmp(item, "*") == 0)
		{
			lo = min;
			hi = max;
		}
		else if ((dash = strchr(item, '-')) != NULL)
		{
			*dash = '\0';
			if (!parse_value(item, names, name_base, &lo) ||
				!parse_value(dash + 1, names, name_base, &hi))
				field_error(schedule, field, text, "has a range bound that is not a valid value");
			/* "fri-sun": Sunday closes a range as 7 */
			if (is_dow && hi == 0 && lo > 0)
				hi = 7;
			if (lo < min || lo > top || hi < min || hi > top)
				field_error(schedule, field, text,
							psprintf("is out of range %d-%d", min, top));
			if (lo > hi)
				field_error(schedule, field, text, "has a range whose start is after its end");
		}
		else
		{
			if (!parse_value(item, names, name_base, &lo))
				field_error(schedule, field, text, "is not a number, range, list or step");
			if (lo < min || lo > top)
				field_error(schedule, field, text,
							psprintf("is out of range %d-%d", min, top));
			hi = (slash != NULL) ? top : lo;
		}
		for (v = lo; v <= hi; v += step)
			bits |= UINT64CONST(1) << (is_dow && v == 7 ? 0 : v);
	}
	if (nitems == 0)
		field_error(schedule, field, text, "is empty");
	pfree(copy);
	return bits;
}

/*
 * Try to read the schedule as an interval ("30 seconds", "2 hours",
 * "PT5M").  Returns false when it is not an interval at all; refuses
 * intervals that are not fixed or shorter than a second.
 */
static bool
parse_interval(const char *schedule, int64 *interval_us)
{
	char		workbuf[256];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_itm_in itm_in;
	Interval	span;
	int			rc;

	if (strlen(schedule) >= sizeof(workbuf) / 2)
		return false;
	rc = ParseDateTime(schedule, workbuf, sizeof(workbuf), field, ftype,
					   MAXDATEFIELDS, &nf);
	if (rc == 0)
		rc = DecodeInterval(field, ftype, nf, INTERVAL_FULL_RANGE, &dtype, &itm_in);
	if (rc != 0)
	{
		char	   *copy = pstrdup(schedule);

		rc = DecodeISO8601Interval(copy, &dtype, &itm_in);
	}
	if (rc != 0 || dtype != DTK_DELTA)
		return false;
	if (itmin2interval(&itm_in, &span) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid schedule \"%s\"", schedule),
				 errdetail("The interval is out of range.")));
	if (span.month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid schedule \"%s\"", schedule),
				 errdetail("Months and years do not have a fixed length."),
				 errhint("Use a cron schedule such as \"@monthly\" or \"0 0 1 * *\".")));
	*interval_us = (int64) span.day * USECS_PER_DAY + span.time;
	if (*interval_us < USECS_PER_SEC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid schedule \"%s\"", schedule),
				 errdetail("An interval schedule must be at least 1 second.")));
	return true;
}

/*
 * Parse a schedule, raising an error that names the wrong part when it is
 * malformed.
 */
void
cron_parse(const char *text, CronSchedule *out)
{
	char	   *s;
	char	   *tokens[8];
	int			ntokens = 0;
	char	   *p;
	bool		cronlike = true;

	memset(out, 0, sizeof(*out));
	s = pstrdup(text);
	/* trim */
	while (*s && isspace((unsigned char) *s))
		s++;
	p = s + strlen(s);
	while (p > s && isspace((unsigned char) p[-1]))
		*--p = '\0';
	if (*s == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schedule must not be empty"),
				 errhint("Pass NULL for a pipeline that only runs when asked.")));

	if (s[0] == '@')
	{
		static const struct
		{
			const char *name;
			const char *expr;
		}			macros[] = {
			{"@yearly", "0 0 1 1 *"},
			{"@annually", "0 0 1 1 *"},
			{"@monthly", "0 0 1 * *"},
			{"@weekly", "0 0 * * 0"},
			{"@daily", "0 0 * * *"},
			{"@midnight", "0 0 * * *"},
			{"@hourly", "0 * * * *"},
		};
		int			i;

		for (i = 0; i < lengthof(macros); i++)
			if (pg_strcasecmp(s, macros[i].name) == 0)
			{
				cron_parse(macros[i].expr, out);
				return;
			}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid schedule \"%s\"", text),
				 errdetail("Unknown shorthand \"%s\".", s),
				 errhint("Known shorthands are @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly.")));
	}

	/* split on white space */
	{
		char	   *copy = pstrdup(s);
		char	   *save = NULL;
		char	   *tok;

		for (tok = strtok_r(copy, " \t\r\n", &save); tok != NULL;
			 tok = strtok_r(NULL, " \t\r\n", &save))
		{
			const char *c;

			if (ntokens < lengthof(tokens))
				tokens[ntokens] = tok;
			ntokens++;
			for (c = tok; *c; c++)
				if (!isdigit((unsigned char) *c) && strchr("*,/-", *c) == NULL)
					cronlike = false;
		}
	}

	/*
	 * Cron syntax in the wrong number of fields is an error, never an
	 * interval: PostgreSQL's interval input skips "*" and "/", so that
	 * "*\/5 * * *" would otherwise read as "5 seconds".
	 */
	if (ntokens != 5 && (cronlike || strpbrk(s, "*/,") != NULL) &&
		(ntokens > 1 || strpbrk(s, "*/,") != NULL))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid schedule \"%s\"", text),
				 errdetail("A cron schedule has 5 fields, this one has %d.", ntokens),
				 errhint("The fields are minute, hour, day of month, month and day of week.")));

	if (ntokens == 5)
	{
		bool		minute_star;
		bool		hour_star;
		bool		month_star;

		out->kind = CRON_FIELDS;
		out->minutes = parse_field(text, tokens[0], "minute", 0, 59, NULL, 0,
								   &minute_star);
		out->hours = (uint32) parse_field(text, tokens[1], "hour", 0, 23, NULL, 0,
										  &hour_star);
		out->wildcard = minute_star || hour_star;
		out->days = (uint32) parse_field(text, tokens[2], "day of month", 1, 31,
										 NULL, 0, &out->days_star);
		out->months = (uint32) parse_field(text, tokens[3], "month", 1, 12,
										   month_names, 1, &month_star);
		out->weekdays = (uint32) parse_field(text, tokens[4], "day of week", 0, 6,
											 day_names, 0, &out->weekdays_star);
		/* a day of month that no selected month has never fires */
		if (cron_next(out, 0, pg_tzset("UTC")) == DT_NOEND)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid schedule \"%s\"", text),
					 errdetail("The day of month and month fields select no existing date, so the schedule never fires.")));
		return;
	}

	if (parse_interval(s, &out->interval_us))
	{
		out->kind = CRON_INTERVAL;
		return;
	}

	if (cronlike)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid schedule \"%s\"", text),
				 errdetail("A cron schedule has 5 fields, this one has %d.", ntokens),
				 errhint("The fields are minute, hour, day of month, month and day of week.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid schedule \"%s\"", text),
			 errdetail("It is neither a 5-field cron expression, an @-shorthand nor an interval."),
			 errhint("Examples: \"*/5 * * * *\", \"@daily\", \"30 seconds\".")));
}

/*
 * Do the cron day fields select this date?  Vixie cron's rule, which
 * pg_cron follows too: when either day field begins with "*" (so "*\/2"
 * as well as "*"), a day must match both; when both are restricted, a day
 * matching either one is enough.
 */
static bool
day_matches(const CronSchedule *s, int year, int month, int mday)
{
	bool		dom = (s->days & (((uint32) 1) << mday)) != 0;
	bool		dow = (s->weekdays & (((uint32) 1) << j2day(date2j(year, month, mday)))) != 0;

	if (s->days_star || s->weekdays_star)
		return dom && dow;
	return dom || dow;
}

/*
 * Move tm forward to the first local minute, at or after it, that the
 * fields select, skipping whole months, days and hours that cannot match,
 * so that even a yearly schedule takes few steps.  Returns false past
 * last_year.
 */
static bool
next_local_match(const CronSchedule *s, struct pg_tm *tm, int last_year)
{
	int			guard = 0;

	for (;;)
	{
		int			mdays;

		if (++guard > 1000000)
			return false;
		if (tm->tm_min > 59)
		{
			tm->tm_min = 0;
			tm->tm_hour++;
		}
		if (tm->tm_hour > 23)
		{
			tm->tm_hour = 0;
			tm->tm_mday++;
		}
		mdays = day_tab[isleap(tm->tm_year)][tm->tm_mon - 1];
		if (tm->tm_mday > mdays)
		{
			tm->tm_mday = 1;
			tm->tm_mon++;
		}
		if (tm->tm_mon > 12)
		{
			tm->tm_mon = 1;
			tm->tm_year++;
		}
		if (tm->tm_year > last_year)
			return false;

		if ((s->months & (((uint32) 1) << tm->tm_mon)) == 0)
		{
			tm->tm_mon++;
			tm->tm_mday = 1;
			tm->tm_hour = 0;
			tm->tm_min = 0;
			continue;
		}
		if (!day_matches(s, tm->tm_year, tm->tm_mon, tm->tm_mday))
		{
			tm->tm_mday++;
			tm->tm_hour = 0;
			tm->tm_min = 0;
			continue;
		}
		if ((s->hours & (((uint32) 1) << tm->tm_hour)) == 0)
		{
			tm->tm_hour++;
			tm->tm_min = 0;
			continue;
		}
		if ((s->minutes & (UINT64CONST(1) << tm->tm_min)) == 0)
		{
			tm->tm_min++;
			continue;
		}
		return true;
	}
}

/* The UTC offset (seconds east) in force at an instant */
static long
offset_at(pg_time_t t, pg_tz *tz)
{
	struct pg_tm *tm = pg_localtime(&t, tz);

	return tm ? tm->tm_gmtoff : 0;
}

/*
 * The instants at which a local wall-clock time (in seconds since
 * 1970-01-01 00:00 local) fires, following Vixie cron across
 * daylight-saving changes: a local time that occurs twice (the repeated
 * hour when clocks go back) fires in both passes for a wildcard schedule
 * (minute or hour field beginning with "*") and in the first pass only for
 * a fixed-time one; a local time that does not exist (the hour skipped
 * when clocks go forward) fires at the end of the gap for a fixed-time
 * schedule and not at all for a wildcard one.  Returns how many (0-2),
 * earliest first.
 */
static int
local_fire_instants(const CronSchedule *s, pg_time_t local, pg_tz *tz,
					pg_time_t *out)
{
	long		guess = offset_at(local - offset_at(local, tz), tz);
	long		offs[3];
	int			n = 0;
	int			i;

	offs[0] = offset_at(local - guess - 3 * SECS_PER_HOUR, tz);
	offs[1] = guess;
	offs[2] = offset_at(local - guess + 3 * SECS_PER_HOUR, tz);
	for (i = 0; i < 3; i++)
	{
		pg_time_t	t = local - offs[i];
		int			k;
		bool		dup = false;

		if (offset_at(t, tz) != offs[i])
			continue;
		for (k = 0; k < n; k++)
			if (out[k] == t)
				dup = true;
		if (dup)
			continue;
		if (n == 2)
			break;
		out[n++] = t;
	}
	if (n == 2 && out[0] > out[1])
	{
		pg_time_t	swap = out[0];

		out[0] = out[1];
		out[1] = swap;
	}
	if (n == 2 && !s->wildcard)
		n = 1;					/* fixed time: the first pass only */
	if (n == 0 && !s->wildcard)
	{
		/* fixed time in a gap: at the end of the gap, on a whole minute */
		pg_time_t	from = local - Max(offs[0], offs[2]) - 1;
		pg_time_t	boundary;
		long		before_off,
					after_off;
		int			before_dst,
					after_dst;

		if (pg_next_dst_boundary(&from, &before_off, &before_dst, &boundary,
								 &after_off, &after_dst, tz) == 1 &&
			boundary <= local - Min(offs[0], offs[2]))
		{
			out[n++] = boundary + (SECS_PER_MINUTE - boundary % SECS_PER_MINUTE) % SECS_PER_MINUTE;
		}
	}
	return n;
}

/*
 * Does the UTC offset change within margin seconds of t?  Only near such
 * a change can local time repeat itself.
 */
static bool
offset_changes_near(TimestampTz t, int64 margin, pg_tz *tz)
{
	pg_time_t	u = timestamptz_to_time_t(t);

	return offset_at(u - margin, tz) != offset_at(u + margin, tz);
}

/*
 * The first fire time strictly after "after".  Cron fields are matched
 * against local time in tz.  Because a repeated hour makes local time run
 * backwards, the search starts a few hours before "after" and keeps the
 * earliest fire time found past it.  Returns DT_NOEND when the schedule
 * never fires.
 */
TimestampTz
cron_next(const CronSchedule *s, TimestampTz after, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;
	int			last_year;
	TimestampTz best = DT_NOEND;
	pg_time_t	best_local = 0;
	const int64 margin = 3 * SECS_PER_HOUR;

	if (s->kind == CRON_INTERVAL)
	{
		int64		n = after / s->interval_us;

		if (after < 0 && after % s->interval_us != 0)
			n--;
		return (n + 1) * s->interval_us;
	}

	/* look back only near a change of offset: the common case stays fast */
	if (timestamp2tm(offset_changes_near(after, margin, tz) ? after - margin * USECS_PER_SEC : after,
					 &tzoff, &tm, &fsec, NULL, tz) != 0)
		return DT_NOEND;
	last_year = tm.tm_year + CRON_SEARCH_YEARS;
	tm.tm_sec = 0;

	while (next_local_match(s, &tm, last_year))
	{
		pg_time_t	local;
		pg_time_t	fires[2];
		int			n,
					i;

		local = (pg_time_t) (date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - UNIX_EPOCH_JDATE) * SECS_PER_DAY +
			tm.tm_hour * SECS_PER_HOUR + tm.tm_min * SECS_PER_MINUTE;
		/* local times this far past the best one cannot fire earlier */
		if (best != DT_NOEND && local > best_local + margin)
			break;
		n = local_fire_instants(s, local, tz, fires);
		for (i = 0; i < n; i++)
		{
			TimestampTz t = time_t_to_timestamptz(fires[i]);

			if (t > after && t < best)
			{
				best = t;
				best_local = local;
			}
		}
		/* far from a change of offset, local time runs forward: done */
		if (best != DT_NOEND && !offset_changes_near(best, margin, tz))
			break;
		tm.tm_min++;
	}
	return best;
}

/*
 * elt.next_runs(schedule, count, after, timezone): the next fire times of a
 * schedule, to check a schedule before using it and to show when a
 * pipeline will run.
 */
Datum
elt_next_runs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CronSchedule s;
	int32		count;
	TimestampTz t;
	pg_tz	   *tz;
	int			i;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("schedule must not be null")));
	count = PG_ARGISNULL(1) ? 5 : PG_GETARG_INT32(1);
	if (count < 0 || count > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("count must be between 0 and 10000")));
	t = PG_ARGISNULL(2) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("after must be a finite time")));
	cron_parse(text_to_cstring(PG_GETARG_TEXT_PP(0)), &s);
	tz = cron_lookup_tz(PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	{
		MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
		TupleDesc	desc = CreateTemplateTupleDesc(1);

		TupleDescInitEntry(desc, (AttrNumber) 1, "next_run", TIMESTAMPTZOID, -1, 0);
		rsinfo->returnMode = SFRM_Materialize;
		rsinfo->setDesc = BlessTupleDesc(desc);
		rsinfo->setResult = tuplestore_begin_heap(false, false, work_mem);
		MemoryContextSwitchTo(old);
	}
	for (i = 0; i < count; i++)
	{
		Datum		value;
		bool		isnull = false;

		t = cron_next(&s, t, tz);
		if (t == DT_NOEND)
			break;
		value = TimestampTzGetDatum(t);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	return (Datum) 0;
}

/*
 * cron.h
 *	  Pipeline schedules: 5-field cron expressions, @-shorthands and fixed
 *	  intervals, and the computation of their next fire time.
 */
#ifndef PG_ELT_CRON_H
#define PG_ELT_CRON_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "pgtime.h"

typedef enum CronKind
{
	CRON_FIELDS,				/* minute hour day-of-month month day-of-week */
	CRON_INTERVAL				/* every N microseconds, aligned to 2000-01-01 UTC */
} CronKind;

typedef struct CronSchedule
{
	CronKind	kind;
	int64		interval_us;	/* CRON_INTERVAL */
	uint64		minutes;		/* bit i set: minute i fires (0-59) */
	uint32		hours;			/* 0-23 */
	uint32		days;			/* 1-31 */
	uint32		months;			/* 1-12 */
	uint32		weekdays;		/* 0-6, Sunday is 0 */
	bool		days_star;		/* day-of-month field began with "*" */
	bool		weekdays_star;	/* day-of-week field began with "*" */
	bool		wildcard;		/* minute or hour field began with "*" */
} CronSchedule;

/* pg_elt.timezone: the zone cron schedules are evaluated in */
extern char *elt_timezone;

extern void cron_define_gucs(void);
extern void cron_parse(const char *text, CronSchedule *out);
extern TimestampTz cron_next(const CronSchedule *s, TimestampTz after, pg_tz *tz);
extern pg_tz *cron_lookup_tz(const char *name);

#endif							/* PG_ELT_CRON_H */

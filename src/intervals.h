/*
 * intervals.h
 *	  Data intervals of pipeline runs: the previous fire time of a
 *	  schedule, and elt.backfill().
 */
#ifndef ELT_INTERVALS_H
#define ELT_INTERVALS_H

#include "postgres.h"

#include "cron.h"

extern TimestampTz intervals_previous_fire(const CronSchedule *s, TimestampTz t, pg_tz *tz);

#endif							/* ELT_INTERVALS_H */

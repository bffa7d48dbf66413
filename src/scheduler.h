/*
 * scheduler.h
 *	  The launcher background worker: it turns due schedules into runs and
 *	  starts a run worker for each.
 */
#ifndef PG_ELT_SCHEDULER_H
#define PG_ELT_SCHEDULER_H

#include "postgres.h"

extern void scheduler_init(void);

extern PGDLLEXPORT void elt_launcher_main(Datum main_arg);

#endif							/* PG_ELT_SCHEDULER_H */

/*
 * run_history.h
 *	  The end of a run in elt.run and elt.step_run, the elt_run
 *	  notification, the failing of runs that lost their worker, and the
 *	  pruning of old history.
 */
#ifndef ELT_RUN_HISTORY_H
#define ELT_RUN_HISTORY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

extern void run_history_finish(int64 run_id, const char *status,
							   const char *error, const char *from_status);
extern void run_history_defer_notifications(bool on);
extern void run_history_send_notifications(void);
extern bool run_history_fail_lost(List *stopped, bool server_restarted);
extern void run_history_prune(TimestampTz now);

#endif							/* ELT_RUN_HISTORY_H */

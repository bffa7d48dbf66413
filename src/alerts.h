/*
 * alerts.h
 *	  Alerts at the end of a run: a JSON message POSTed to the pipeline's
 *	  webhook, as the pipeline's owner, retried, kept in elt.alert.
 */
#ifndef ELT_ALERTS_H
#define ELT_ALERTS_H

#include "postgres.h"

extern void alerts_after_run(int64 run_id, Oid owner);

#endif							/* ELT_ALERTS_H */

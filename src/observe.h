/*
 * observe.h
 *	  SQL-callable helpers of the metrics and lineage views.
 */
#ifndef ELT_OBSERVE_H
#define ELT_OBSERVE_H

#include "postgres.h"

#include "fmgr.h"

extern Datum elt_redact_url(PG_FUNCTION_ARGS);

#endif							/* ELT_OBSERVE_H */

/*
 * extract.h
 *	  elt.extract: run a stream, page by page, into its staging table.
 *
 * Pages are requested through the HTTP layer as streams (several at once
 * where the paging kind allows it), split into records as they arrive and
 * loaded in page order.  Each page is loaded in a subtransaction so that a
 * retried page never leaves a partial copy; the whole batch, its elt.batch
 * row and the stream's new incremental cursor commit together.
 */
#ifndef ELT_EXTRACT_H
#define ELT_EXTRACT_H

#include "postgres.h"

#include "fmgr.h"

extern Datum elt_extract(PG_FUNCTION_ARGS);

#endif							/* ELT_EXTRACT_H */

/*
 * export.h
 *	  elt.export(): a query's result streamed to an object store (s3://)
 *	  or an HTTP(S) endpoint as CSV, NDJSON or JSON, optionally gzipped.
 *
 * Rows are formatted as the executor produces them into a bounded buffer
 * that goes out as an S3 part or as the next piece of a chunked request
 * body, so memory does not grow with the size of the result.
 */
#ifndef ELT_EXPORT_H
#define ELT_EXPORT_H

#include "postgres.h"

#include "fmgr.h"

extern Datum elt_export(PG_FUNCTION_ARGS);

#endif							/* ELT_EXPORT_H */

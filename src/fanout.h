/*
 * fanout.h
 *	  Parent/child fan-out of a stream (for_each) and request bodies: the
 *	  parent rows of a query, the {name} placeholders of path, params and
 *	  body filled from one row, and paging values written into a body.
 *
 * A fan-out stream's for_each query is the user's SQL: it runs as the
 * stream's owner with the caller's search_path, like any query the owner
 * writes.  Each of its rows becomes a JSON object whose keys are the
 * query's column names; every child request of the batch is built from one.
 */
#ifndef ELT_FANOUT_H
#define ELT_FANOUT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/*
 * The names of the {name} placeholders of a template, in order (a
 * {{secret:NAME}} reference is not one).
 */
extern List *fanout_placeholders(const char *tmpl);

/* The names of the placeholders in the string values of a body. */
extern List *fanout_body_placeholders(Jsonb *body);

/*
 * The parent rows: for_each run with $1 = the start of the stream's last
 * successful batch and $2 = its cursor (NULL when none, or on a full
 * refresh).  The rows are allocated in the current memory context.
 */
extern Jsonb **fanout_rows(const char *query, TimestampTz last_run,
						   const char *cursor, int *nrows);

/*
 * A template with its placeholders replaced by the row's values; with
 * encode, each value percent-encoded for a URL path.  A missing column
 * or a null is an error naming what (e.g. "path").
 */
extern char *fanout_fill(const char *tmpl, Jsonb *row, bool encode,
						 const char *what);

/* A body whose string values have their placeholders filled from row. */
extern Jsonb *fanout_fill_body(Jsonb *body, Jsonb *row);

/*
 * The body with a paging value set at a dotted key path ("page",
 * "variables.after"); as_number for page numbers and offsets.
 */
extern Jsonb *fanout_body_set(Jsonb *body, const char *dotted,
							  const char *value, bool as_number);

/* The body as text, for a request. */
extern char *fanout_body_text(Jsonb *body);

#endif							/* ELT_FANOUT_H */

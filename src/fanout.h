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

#include "http.h"
#include "source.h"

/*
 * One parent row of a fan-out and the paging state of its requests; the
 * extract's own paging fields hold a child's while its page is added or
 * finished.
 */
typedef struct FanoutChild
{
	MemoryContext cxt;
	int			index;			/* 0-based row of the for_each query */
	Jsonb	   *parent;			/* the row, stored in _elt_parent */
	char	   *path;			/* the path, filled from the row */
	List	   *param_values;	/* the params' values, filled */
	Jsonb	   *body;			/* the body, filled, or NULL */
	int			next_seq;
	bool		no_more;
	char	   *next_ref;
	int64		total;
	int			pages;
	int64		records;
	int			inflight;		/* its pages in the window (0 or 1) */
} FanoutChild;

/* The rows of a fan-out's query and the children started from them. */
typedef struct Fanout Fanout;

/*
 * Run a stream's for_each query (as whoever runs this: the extract runs as
 * the stream's owner) and keep its rows, in the current memory context.
 */
extern Fanout *fanout_begin(int32 stream_id, const char *query, bool full_refresh,
							const char *cursor, const char *path,
							List *param_values, Jsonb *body);

/* The child of the next row, or NULL when every row has one. */
extern FanoutChild *fanout_next_child(Fanout *f);

/* The children started and not done (a copy of the list). */
extern List *fanout_started(Fanout *f);

/* A child whose last page is loaded: forget it. */
extern void fanout_child_done(Fanout *f, FanoutChild *c);

/* A paging value: a query parameter, or with in_body a key of the body. */
extern void fanout_add_paging(UrlPair *u, Jsonb **body, bool in_body,
							  const char *name, const char *value, bool number);

/*
 * A request's headers: the source's, then the stream's (which replace the
 * source's of the same name), and a JSON content type for a body unless
 * one is given.  Returns whether an Accept header was given.
 */
extern bool fanout_add_headers(HttpRequest *req, List *src_names, List *src_values,
							   List *names, List *values, bool has_body,
							   const char *replaced);

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

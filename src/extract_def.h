/*
 * extract_def.h
 *	  An extract's state (the stream's definition and the pages in flight)
 *	  and reading the definition (src/extract_def.c).  Shared by extract.c
 *	  and extract_def.c only.
 */
#ifndef ELT_EXTRACT_DEF_H
#define ELT_EXTRACT_DEF_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "fanout.h"
#include "http.h"
#include "incremental.h"
#include "load.h"
#include "paging.h"
#include "records.h"
#include "source.h"

#define MAX_WINDOW			64

typedef enum PagingKind
{
	PAGING_NONE,
	PAGING_PAGE,
	PAGING_OFFSET,
	PAGING_CURSOR,
	PAGING_NEXT_URL,
	PAGING_LINK,
	PAGING_NEXT_REQUEST
} PagingKind;

typedef struct ApiPage
{
	MemoryContext pcxt;			/* the page, freed when it is done */
	int			seq;			/* 0-based position in this extract */
	char	   *url;			/* real URL: never print */
	char	   *display;		/* printable URL */
	MemoryContext cxt;			/* the request and the buffers */
	HttpRequest *req;
	StringInfoData buf;			/* body bytes not yet split */
	StringInfoData errbody;		/* start of an error response */
	int			attempts;
	TimestampTz not_before;		/* backoff: start no earlier */
	bool		deferred;		/* dropped while prefetched */
	bool		loading;		/* its records are being loaded */
	bool		unfed;			/* buf has bytes the splitter has not seen */
	bool		auth_retried;	/* already retried after a 401 */
	FanoutChild *child;			/* the fan-out row it is for, or NULL */
	char	   *body;			/* request body, or NULL */
	PageDigest	digest;			/* of the body received */
	char	   *next_value;		/* next_request: the header's value */
} ApiPage;

typedef struct Extract
{
	MemoryContext cxt;

	/* definition */
	int32		stream_id;
	Oid			owner;			/* the stream's owner, whose rights it runs with */
	char	   *stream;			/* source.stream */
	char	   *target;
	char	   *base_url;
	char	   *path;
	List	   *param_names;
	List	   *param_values;
	List	   *header_names;
	List	   *header_values;
	SourceAuth	auth;
	RecordFormat format;
	RecordCsvOptions csv;		/* format csv: how it is written */
	RecordPath *records_path;
	PagingKind	kind;
	char	   *page_param;
	int64		page_start;
	char	   *size_param;
	int64		size;
	int			max_pages;		/* 0: no limit */
	RecordPath *total_path;
	char	   *total_header;
	char	   *total_pages_header;
	char	   *offset_param;
	char	   *limit_param;
	int64		limit;
	RecordPath *cursor_path;
	char	   *cursor_param;
	RecordPath *next_path;
	char	   *next_header;	/* next_request: header to send the value in */
	char	   *next_body;		/* next_request: body key to set it at */
	char	   *origin;			/* of the base URL, for next links */
	RecordPath *cursor_field;	/* incremental */
	char	   *inc_param;
	char	   *inc_initial;
	char	   *lag;
	bool		lag_is_number;
	int			timeout_ms;
	int			max_attempts;
	double		backoff_ms;
	double		max_backoff_ms;
	double		rate_limit;
	int			concurrency;
	bool		full_refresh;
	char	   *for_each;		/* fan-out query, or NULL */
	char	   *method;
	Jsonb	   *body;			/* body template, or NULL */
	List	   *sheader_names;	/* the stream's own headers */
	List	   *sheader_values;
	bool		paging_in_body;

	/* state */
	char	   *cursor_before;
	char	   *cursor_sent;
	int64		batch_id;
	RecordSplitter *splitter;
	int			cap_total;
	int			cap_cursor;
	int			cap_next;
	LoadState  *ls;
	ApiPage	   *win[MAX_WINDOW];
	int			nwin;
	int			next_seq;
	bool		no_more;
	char	   *next_ref;		/* next cursor or URL (sequential kinds) */
	HTAB	   *seen;
	int64		total;			/* -1: unknown */
	int64		total_pages;	/* -1: unknown */
	PageDigest	last_digest;	/* of the last page loaded */
	bool		have_digest;
	const char *stop_reason;	/* why the last page was the last */
	const char *limit_reason;	/* why no further page was requested */
	TimestampTz next_request_at;
	TimestampTz reserved_at;	/* shared rate-limit slot held, or 0 */
	MemoryContext oldcxt;		/* around page subtransactions */
	ResourceOwner oldowner;
	Fanout	   *fanout;			/* the for_each rows and their children */
	FanoutChild *child;			/* whose paging state is in use, or NULL */

	/* counters */
	int			pages;
	int64		records;
	int64		bytes;
	int			requests;
	int			retries;
	int64		page_records;
	CursorVal	page_max;
	CursorVal	batch_max;

	/* for error context */
	ApiPage	   *cur_page;
	int64		cur_offset;
} Extract;

extern void extract_load_definition(Extract *ex, const char *name);

#endif							/* ELT_EXTRACT_DEF_H */

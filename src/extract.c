/*
 * extract.c
 *	  elt.extract: streams of a source into staging tables, with paging,
 *	  retries, rate limiting, incremental state and exactly-once loading.
 *
 * An extract keeps a window of pages.  For page and offset paging the
 * window holds up to `concurrency` pages in flight; for the kinds where the
 * next request depends on the current response (cursor, next URL, Link
 * header) it holds one.  Every started request's bytes are moved into its
 * page's buffer as they arrive; the head page's buffer is split into
 * records and loaded at once, the others wait their turn (loading is in
 * page order).  A prefetched page that grows too large is dropped and
 * fetched again when its turn comes, so memory stays bounded.
 *
 * Exactly once: the whole extract runs in a subtransaction, each page in a
 * nested one.  A page that fails and is retried is rolled back first, so
 * no record is loaded twice.  The batch's rows, its elt.batch row and the
 * stream's cursor are written in the caller's transaction; a failure rolls
 * them all back and writes a 'failed' elt.batch row through load.c's
 * background worker before the error is raised again.
 */
#include "postgres.h"

#include <curl/curl.h>
#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "pg_elt.h"
#include "extract.h"
#include "extract_def.h"
#include "fanout.h"
#include "internal_sql.h"
#include "ratelimit.h"
#include "redact.h"
#include "http.h"
#include "incremental.h"
#include "link_header.h"
#include "load.h"
#include "normalize.h"
#include "options.h"
#include "paging.h"
#include "records.h"
#include "secrets.h"
#include "source.h"

/* a prefetched page larger than this is dropped and fetched again later */
#define PREFETCH_LIMIT		(16 * 1024 * 1024)
/* how much of an error response is kept for the message */
#define ERRBODY_MAX			300
/* marks pg_elt's entries among COPY progress reports */
#define PROGRESS_MAGIC		0x454c54
#define PROGRESS_BATCH_ID	10
#define PROGRESS_STREAM_ID	11
#define PROGRESS_PAGES		12
#define PROGRESS_REQUESTS	13
#define PROGRESS_RETRIES	14
#define PROGRESS_MARK		19


PG_FUNCTION_INFO_V1(elt_extract);

static void on_record(void *arg, const char *rec, size_t len, int64 offset);

/* ------------------------------------------------------------- pages */

/* The seed of the seen set: each fan-out child pages apart. */
#define SEEN_SEED(ex) ((ex)->child ? (uint64) (ex)->child->index + 1 : 0)

/*
 * Whether a page's paging sets this query parameter itself: a static
 * parameter of the same name (a first page number, a page size left in
 * params) is then left out, so the API sees one value, the right one.
 */
static bool
param_is_paged(Extract *ex, const char *name, int seq)
{
	const char *paged[3] = {NULL, NULL, NULL};

	if (ex->kind == PAGING_PAGE)
	{
		paged[0] = ex->page_param;
		paged[1] = ex->size_param;
	}
	else if (ex->kind == PAGING_OFFSET)
	{
		paged[0] = ex->offset_param;
		paged[1] = ex->limit_param;
	}
	else if ((ex->kind == PAGING_CURSOR || ex->kind == PAGING_NEXT_REQUEST) && seq > 0)
		paged[0] = ex->cursor_param;
	if (ex->inc_param && ex->cursor_sent)
		paged[2] = ex->inc_param;
	for (int i = 0; i < 3; i++)
		if (paged[i] && strcmp(paged[i], name) == 0)
			return true;
	return false;
}

/*
 * Create the next page of the window, or mark the end.
 */
static bool
add_page(Extract *ex)
{
	int			seq = ex->next_seq;
	UrlPair		u;
	ApiPage	   *p;
	MemoryContext old;
	MemoryContext pcxt;
	ListCell   *ln;
	ListCell   *lv;
	FanoutChild *c = ex->child;
	Jsonb	   *body = c ? c->body : ex->body;

	if (ex->no_more)
		return false;
	if (ex->max_pages > 0 && seq >= ex->max_pages)
	{
		ex->no_more = true;
		ex->limit_reason = "max_pages";
		return false;
	}
	if (ex->kind == PAGING_NONE && seq > 0)
	{
		ex->no_more = true;
		return false;
	}
	if ((ex->kind == PAGING_CURSOR || ex->kind == PAGING_NEXT_URL ||
		 ex->kind == PAGING_LINK || ex->kind == PAGING_NEXT_REQUEST) && seq > 0)
	{
		if (c ? c->inflight > 0 : ex->nwin > 0)
			return false;		/* the next one is known once this is done */
		if (ex->next_ref == NULL)
		{
			ex->no_more = true;
			return false;
		}
	}
	if (ex->total >= 0)
	{
		if ((ex->kind == PAGING_OFFSET && seq * ex->limit >= ex->total) ||
			(ex->kind == PAGING_PAGE && ex->size > 0 && seq * ex->size >= ex->total))
		{
			ex->no_more = true;
			ex->limit_reason = "total_reached";
			return false;
		}
	}
	if (ex->total_pages >= 0 && seq >= ex->total_pages)
	{
		ex->no_more = true;
		ex->limit_reason = "total_reached";
		return false;
	}

	pcxt = AllocSetContextCreate(ex->cxt, "pg_elt page", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(pcxt);
	if (seq > 0 && (ex->kind == PAGING_NEXT_URL || ex->kind == PAGING_LINK))
		url_init_absolute(&u, ex->next_ref);
	else
	{
		url_init(&u, ex->base_url, c ? c->path : ex->path);
		forboth(ln, ex->param_names, lv, c ? c->param_values : ex->param_values)
		{
			/*
			 * a parameter the paging sets is replaced, not sent twice (unless
			 * the paging values go in the body)
			 */
			if (ex->paging_in_body || !param_is_paged(ex, lfirst(ln), seq))
				url_add_param(&u, lfirst(ln), lfirst(lv));
		}
		if (ex->kind == PAGING_PAGE)
		{
			fanout_add_paging(&u, &body, ex->paging_in_body, ex->page_param,
							  psprintf(INT64_FORMAT, ex->page_start + seq), true);
			if (ex->size_param)
				fanout_add_paging(&u, &body, ex->paging_in_body, ex->size_param,
								  psprintf(INT64_FORMAT, ex->size), true);
		}
		else if (ex->kind == PAGING_OFFSET)
		{
			fanout_add_paging(&u, &body, ex->paging_in_body, ex->offset_param,
							  psprintf(INT64_FORMAT, ex->page_start + seq * ex->limit),
							  true);
			fanout_add_paging(&u, &body, ex->paging_in_body, ex->limit_param,
							  psprintf(INT64_FORMAT, ex->limit), true);
		}
		else if ((ex->kind == PAGING_CURSOR ||
				  (ex->kind == PAGING_NEXT_REQUEST && ex->cursor_param)) && seq > 0)
			fanout_add_paging(&u, &body, ex->kind == PAGING_CURSOR && ex->paging_in_body,
							  ex->cursor_param, ex->next_ref, false);
		else if (ex->kind == PAGING_NEXT_REQUEST && ex->next_body && seq > 0)
			body = fanout_body_set(body, ex->next_body, ex->next_ref, false);
		if (ex->inc_param && ex->cursor_sent)
			url_add_value_param(&u, ex->inc_param, ex->cursor_sent);
	}
	source_auth_query(&ex->auth, &u);

	p = palloc0(sizeof(ApiPage));
	p->pcxt = pcxt;
	p->seq = seq;
	p->url = u.real.data;
	p->display = url_display(&u);
	p->body = body ? fanout_body_text(body) : NULL;
	p->child = c;
	if (c)
		c->inflight++;
	p->cxt = AllocSetContextCreate(pcxt, "pg_elt request", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(p->cxt);
	initStringInfo(&p->buf);
	initStringInfo(&p->errbody);
	page_digest_init(&p->digest);
	if (seq > 0 && ex->kind == PAGING_NEXT_REQUEST && ex->next_header)
		p->next_value = pstrdup(ex->next_ref);
	MemoryContextSwitchTo(old);
	if (seq == 0 && (ex->kind == PAGING_NEXT_URL || ex->kind == PAGING_LINK))
		paging_check_not_seen(ex->seen, SEEN_SEED(ex), ex->stream, ex->pages, p->url, "next URL");
	if (ex->next_ref)
		pfree(ex->next_ref);
	ex->next_ref = NULL;
	ex->win[ex->nwin++] = p;
	ex->next_seq++;
	return true;
}

/*
 * Forget a page's request and buffers (the request is aborted).
 */
static void
page_reset(ApiPage *p)
{
	MemoryContext old;

	MemoryContextReset(p->cxt);
	p->req = NULL;
	p->unfed = false;
	old = MemoryContextSwitchTo(p->cxt);
	initStringInfo(&p->buf);
	initStringInfo(&p->errbody);
	MemoryContextSwitchTo(old);
	page_digest_init(&p->digest);
}

/*
 * Drop every page after the head (the end was reached).
 */
static void
drop_following(Extract *ex)
{
	int			i;

	if (ex->child)
	{
		/* a child has one page in the window: the others are not its own */
		ex->no_more = true;
		return;
	}
	for (i = 1; i < ex->nwin; i++)
		MemoryContextDelete(ex->win[i]->pcxt);
	ex->nwin = Min(ex->nwin, 1);
	ex->no_more = true;
}

/*
 * Publish the counters to the backend's progress report.
 */
static void
report_progress(Extract *ex)
{
	pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED,
								 ex->records + ex->page_records);
	pgstat_progress_update_param(PROGRESS_COPY_BYTES_PROCESSED, ex->bytes);
	pgstat_progress_update_param(PROGRESS_PAGES, ex->pages);
	pgstat_progress_update_param(PROGRESS_REQUESTS, ex->requests);
	pgstat_progress_update_param(PROGRESS_RETRIES, ex->retries);
}

/*
 * Start a page's request.
 */
static void
start_page(Extract *ex, ApiPage *p)
{
	MemoryContext old;
	HttpRequest *req;
	bool		accept;

	old = MemoryContextSwitchTo(p->cxt);
	req = http_request_new(ex->method, p->url, p->display);
	req->streaming = true;
	req->timeout_ms = ex->timeout_ms;
	if (p->body)
	{
		req->body = p->body;
		req->body_len = strlen(p->body);
	}
	accept = fanout_add_headers(req, ex->header_names, ex->header_values,
								ex->sheader_names, ex->sheader_values, p->body != NULL,
								p->next_value ? ex->next_header : NULL);
	if (!accept)
		http_request_add_header(req, "Accept",
								ex->format == RECORD_CSV ? "text/csv" :
								ex->format == RECORD_NDJSON ? "application/x-ndjson" :
								"application/json");
	/* the next_request header replaces a static one of its name */
	if (p->next_value)
		http_request_add_header(req, ex->next_header, p->next_value);
	source_auth_headers(&ex->auth, req);
	MemoryContextSwitchTo(old);
	p->req = req;
	p->attempts++;
	p->deferred = false;
	ex->requests++;
	ex->next_request_at = ex->rate_limit > 0 ?
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) (1000.0 / ex->rate_limit)) : 0;
	http_request_start(req);
}

/*
 * ApiPage subtransactions: a page's records are loaded in one, so that a
 * retried page leaves nothing behind.
 */
static void
page_begin_load(Extract *ex, ApiPage *p)
{
	ex->oldcxt = CurrentMemoryContext;
	ex->oldowner = CurrentResourceOwner;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(ex->oldcxt);
	records_reset(ex->splitter);
	ex->page_records = 0;
	extract_cursor_clear(&ex->page_max);
	load_set_parent(ex->ls, p->child ? p->child->parent : NULL);
	p->loading = true;
}

/*
 * End a page's subtransaction: keep its rows, or roll them back.
 */
static void
page_end_load(Extract *ex, ApiPage *p, bool commit)
{
	if (commit)
	{
		load_flush(ex->ls);
		load_discard(ex->ls);	/* releases the bulk insert pin */
		ReleaseCurrentSubTransaction();
	}
	else
	{
		load_discard(ex->ls);
		RollbackAndReleaseCurrentSubTransaction();
	}
	MemoryContextSwitchTo(ex->oldcxt);
	CurrentResourceOwner = ex->oldowner;
	p->loading = false;
}

/*
 * Split and load what the head page has received.
 */
static void
feed_head(Extract *ex, ApiPage *p)
{
	size_t		drop;

	if (!p->loading)
		page_begin_load(ex, p);
	ex->cur_page = p;
	ex->cur_offset = -1;
	p->unfed = false;
	drop = records_feed(ex->splitter, p->buf.data, p->buf.len);
	if (drop > 0)
	{
		memmove(p->buf.data, p->buf.data + drop, p->buf.len - drop);
		p->buf.len -= drop;
		p->buf.data[p->buf.len] = '\0';
	}
}

/*
 * Schedule another attempt of a page, or fail when attempts are exhausted.
 */
static void
retry_page(Extract *ex, ApiPage *p, const char *reason, int errcode_if_final,
		   double wait_hint_ms)
{
	double		delay;

	if (p->loading)
		page_end_load(ex, p, false);
	if (p->attempts >= ex->max_attempts)
		ereport(ERROR,
				(errcode(errcode_if_final),
				 errmsg("HTTP %s %s failed after %d attempts: %s",
						ex->method, p->display, p->attempts, reason)));
	delay = ex->backoff_ms * pow(2.0, p->attempts - 1);
	delay = Min(delay, ex->max_backoff_ms);
	/* equal jitter: half fixed, half random */
	delay = delay / 2 + pg_prng_double(&pg_global_prng_state) * delay / 2;
	if (wait_hint_ms >= 0)
		delay = Max(delay, wait_hint_ms);
	ereport(DEBUG1,
			(errmsg("stream %s: retrying page %d in %.0f ms (attempt %d of %d): %s",
					ex->stream, p->seq + 1, delay, p->attempts + 1, ex->max_attempts, reason)));
	page_reset(p);
	p->not_before = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) delay);
	ex->retries++;
	report_progress(ex);
}

/*
 * Why the stream ends, kept for elt.batch: the first reason found on the
 * last page loaded; a later page cannot make it end again.
 */
static void
set_stop_reason(Extract *ex, const char *reason)
{
	if (ex->stop_reason == NULL)
		ex->stop_reason = reason;
}

static void page_done(Extract *ex, ApiPage *p);

/*
 * The head page's response is complete: retry it, fail, or finish loading
 * it and decide what comes next.
 */
static void
finish_head(Extract *ex, ApiPage *p)
{
	HttpRequest *req = p->req;
	int			status = req->status;
	bool		empty;
	MemoryContext old;

	ex->cur_page = p;
	ex->cur_offset = -1;
	if (req->failed)
	{
		int			code = http_request_errcode(req);

		if (http_request_transient(req))
		{
			retry_page(ex, p, http_request_error(req), code, -1);
			return;
		}
		http_request_check(req);
	}
	if (status == 401 && ex->auth.type == AUTH_OAUTH2 && !p->auth_retried)
	{
		/* the token expired or was revoked: fetch a new one, once */
		if (p->loading)
			page_end_load(ex, p, false);
		drop_following(ex);
		ex->no_more = false;
		source_auth_invalidate(&ex->auth);
		page_reset(p);
		p->auth_retried = true;
		p->not_before = 0;
		ex->next_seq = p->seq + 1;
		return;
	}
	if (status == 429 || status >= 500)
	{
		retry_page(ex, p, psprintf("HTTP status %d", status), ERRCODE_ELT_HTTP_STATUS,
				   http_retry_after_ms(req));
		return;
	}
	if (status < 200 || status >= 300)
		ereport(ERROR,
				(errcode(ERRCODE_ELT_HTTP_STATUS),
				 errmsg("HTTP %s %s returned status %d", ex->method, p->display, status),
				 p->errbody.len > 0 ?
				 errdetail("The response began: %s", redact_text(p->errbody.data)) : 0));

	/* success: the last records, then the page's commit */
	if (!p->loading)
		page_begin_load(ex, p);
	feed_head(ex, p);
	records_finish(ex->splitter, p->buf.data, p->buf.len);
	empty = (records_emitted(ex->splitter) == 0);
	if (!empty && (ex->kind == PAGING_PAGE || ex->kind == PAGING_OFFSET) &&
		ex->have_digest && page_digest_equal(&p->digest, &ex->last_digest))
	{
		/* a page past the end answered with the last one again */
		page_end_load(ex, p, false);
		ex->page_records = 0;
		drop_following(ex);
		set_stop_reason(ex, "repeated_page");
		ereport(DEBUG1,
				(errmsg("stream %s: page %d is the same as page %d, the stream ends there",
						ex->stream, p->seq + 1, p->seq)));
		page_done(ex, p);
		return;
	}
	page_end_load(ex, p, true);
	ex->last_digest = p->digest;
	ex->have_digest = true;

	ex->pages++;
	ex->records += ex->page_records;
	ex->bytes += req->bytes_received;
	if (ex->child)
	{
		ex->child->pages++;
		ex->child->records += ex->page_records;
	}
	old = MemoryContextSwitchTo(ex->cxt);
	extract_cursor_merge(&ex->batch_max, &ex->page_max);
	MemoryContextSwitchTo(old);
	ex->page_records = 0;
	report_progress(ex);
	ereport(DEBUG1,
			(errmsg("stream %s: page %d loaded, %lld records and %lld bytes so far",
					ex->stream, ex->pages, (long long) ex->records, (long long) ex->bytes)));

	/* what comes next */
	old = MemoryContextSwitchTo(ex->cxt);
	if (ex->cap_total >= 0 && records_captured(ex->splitter, ex->cap_total))
	{
		const char *t = records_captured(ex->splitter, ex->cap_total);

		ex->total = (int64) strtod(t, NULL);
	}
	if (ex->total_header)
	{
		int64		n = paging_header_count(req, ex->total_header, ex->stream);

		if (n >= 0)
			ex->total = n;
	}
	if (ex->total_pages_header)
		ex->total_pages = paging_header_count(req, ex->total_pages_header, ex->stream);
	switch (ex->kind)
	{
		case PAGING_NONE:
			ex->no_more = true;
			set_stop_reason(ex, "single_request");
			break;
		case PAGING_PAGE:
		case PAGING_OFFSET:
			if (empty)
			{
				drop_following(ex);
				set_stop_reason(ex, "empty_page");
			}
			else if ((ex->total >= 0 &&
					  (ex->child ? ex->child->records : ex->records) >= ex->total) ||
					 (ex->total_pages >= 0 && p->seq + 1 >= ex->total_pages))
			{
				drop_following(ex);
				set_stop_reason(ex, "total_reached");
			}
			break;
		case PAGING_CURSOR:
		case PAGING_NEXT_REQUEST:
			{
				const char *c = records_captured(ex->splitter, ex->cap_cursor);

				if (empty || c == NULL || c[0] == '\0')
				{
					ex->no_more = true;
					set_stop_reason(ex, empty ? "empty_page" : "no_next");
				}
				else
				{
					paging_check_not_seen(ex->seen, SEEN_SEED(ex), ex->stream, ex->pages, c, ex->kind == PAGING_CURSOR ?
								   "next-page cursor" : "next-request value");
					if (ex->next_ref)
						pfree(ex->next_ref);
					ex->next_ref = pstrdup(c);
				}
				break;
			}
		case PAGING_NEXT_URL:
		case PAGING_LINK:
			{
				const char *ref;
				char	   *url;

				if (ex->kind == PAGING_NEXT_URL)
					ref = records_captured(ex->splitter, ex->cap_next);
				else
				{
					char	   *h = http_response_header_list(req, "link");

					ref = h ? link_header_next(h) : NULL;
				}
				if (empty || ref == NULL || ref[0] == '\0')
				{
					ex->no_more = true;
					set_stop_reason(ex, empty ? "empty_page" : "no_next");
					break;
				}
				url = url_resolve(p->url, ref);
				if (url == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_ELT_PARSE),
							 errmsg("next page link of stream \"%s\" is not a valid URL", ex->stream)));
				if (strcmp(http_url_origin(url), ex->origin) != 0)
					ereport(ERROR,
							(errcode(ERRCODE_ELT_ADDRESS_REFUSED),
							 errmsg("next page link of stream \"%s\" leads to another site: %s",
									ex->stream, redact_text(secrets_redact_url(url))),
							 errdetail("Credentials are only sent to the source's own origin, %s.",
									   secrets_redact_url(ex->origin))));
				paging_check_not_seen(ex->seen, SEEN_SEED(ex), ex->stream, ex->pages, url, "next URL");
				ex->next_ref = url;
				break;
			}
	}
	if (ex->max_pages > 0 && (ex->child ? ex->child->pages : ex->pages) >= ex->max_pages &&
		ex->stop_reason == NULL)
	{
		drop_following(ex);
		set_stop_reason(ex, "max_pages");
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("stream \"%s\" stopped at max_pages (%d) with more to read",
						ex->stream, ex->max_pages),
				 (ex->next_ref || ex->total >= 0 || ex->total_pages >= 0) ?
				 errdetail("%lld records were loaded; the API had more to send.",
						   (long long) ex->records) :
				 errdetail("%lld records were loaded; the last page was not empty, so the API may have more to send.",
						   (long long) ex->records),
				 errhint("Raise max_pages, or remove it to read every page.")));
	}
	MemoryContextSwitchTo(old);

	/* the head is done */
	if (p->child)
		p->child->inflight--;
	page_done(ex, p);
}

/*
 * Take the finished head page out of the window.
 */
static void
page_done(Extract *ex, ApiPage *p)
{
	ex->cur_page = NULL;
	MemoryContextDelete(p->pcxt);
	memmove(&ex->win[0], &ex->win[1], sizeof(ApiPage *) * (ex->nwin - 1));
	ex->nwin--;
}

/*
 * Make a child's paging state the extract's, to add or finish its page.
 */
static void
child_enter(Extract *ex, FanoutChild *c)
{
	ex->child = c;
	ex->next_seq = c->next_seq;
	ex->no_more = c->no_more;
	ex->next_ref = c->next_ref;
	ex->total = c->total;
}

/*
 * Keep the child's paging state; a child whose last page is done is
 * forgotten (its rows are written: the parent value is no longer needed).
 */
static void
child_leave(Extract *ex, FanoutChild *c)
{
	c->next_seq = ex->next_seq;
	c->no_more = ex->no_more;
	c->next_ref = ex->next_ref;
	c->total = ex->total;
	ex->child = NULL;
	ex->next_ref = NULL;
	if (c->no_more && c->inflight == 0)
		fanout_child_done(ex->fanout, c);
}

/*
 * Fill the window with the fan-out's children: the next page of each
 * started child that has none in flight, then new children, up to
 * concurrency requests in all.
 */
static void
fanout_fill_window(Extract *ex)
{
	List	   *started = fanout_started(ex->fanout);
	FanoutChild *c;
	ListCell   *lc;

	foreach(lc, started)
	{
		c = lfirst(lc);
		if (ex->nwin >= ex->concurrency)
			break;
		if (c->inflight > 0)
			continue;
		child_enter(ex, c);
		(void) add_page(ex);
		child_leave(ex, c);		/* deletes c when it is done */
	}
	list_free(started);
	while (ex->nwin < ex->concurrency && (c = fanout_next_child(ex->fanout)) != NULL)
	{
		child_enter(ex, c);
		(void) add_page(ex);
		child_leave(ex, c);
	}
}

/*
 * Move the bytes every request received into its page, load the head's,
 * and handle the head's completion.  Returns true if anything happened.
 */
static bool
pump(Extract *ex)
{
	bool		moved = false;
	int			i;

	for (i = 0; i < ex->nwin; i++)
	{
		ApiPage	   *p = ex->win[i];
		HttpRequest *req = p->req;

		if (req == NULL)
			continue;
		if (req->data.len > 0)
		{
			if (req->status >= 200 && req->status < 300)
			{
				appendBinaryStringInfo(&p->buf, req->data.data, req->data.len);
				if (ex->kind == PAGING_PAGE || ex->kind == PAGING_OFFSET)
					page_digest_add(&p->digest, req->data.data, req->data.len);
				p->unfed = true;
			}
			else if (p->errbody.len < ERRBODY_MAX)
				appendBinaryStringInfo(&p->errbody, req->data.data,
									   Min(req->data.len, ERRBODY_MAX - p->errbody.len));
			http_request_consume(req, req->data.len);
			moved = true;
		}
		if (i > 0 && p->buf.len > PREFETCH_LIMIT)
		{
			/* too much to hold while earlier pages load: fetch it later */
			page_reset(p);
			p->deferred = true;
			p->attempts--;
		}
	}
	if (ex->nwin > 0 && ex->win[0]->req != NULL)
	{
		ApiPage	   *head = ex->win[0];

		if (head->unfed)
		{
			feed_head(ex, head);
			moved = true;
		}
		if (head->req->done)
		{
			FanoutChild *c = head->child;

			if (c)
				child_enter(ex, c);
			finish_head(ex, head);
			if (c)
				child_leave(ex, c);
			moved = true;
		}
	}
	return moved;
}

/*
 * Is any request of the window still transferring?
 */
static bool
requests_active(Extract *ex)
{
	int			i;

	for (i = 0; i < ex->nwin; i++)
		if (ex->win[i]->req && !ex->win[i]->req->done)
			return true;
	return false;
}

/*
 * Start the requests that may start now; returns how long until the next
 * one may (-1: none waiting).
 */
static long
start_requests(Extract *ex)
{
	long		wait = -1;
	int			i;

	for (i = 0; i < ex->nwin; i++)
	{
		ApiPage	   *p = ex->win[i];
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz at;

		if (p->req != NULL || (p->deferred && i > 0))
			continue;
		if (!source_auth_ready(&ex->auth) && requests_active(ex))
		{
			/* fetch a new token only while no transfer is running */
			continue;
		}
		at = Max(p->not_before, ex->next_request_at);

		/*
		 * The source's rate limit is shared with every session: once this
		 * page could go, reserve the source's next slot and keep it until
		 * its time comes.
		 */
		if (at <= now && ex->rate_limit > 0)
		{
			if (ex->reserved_at == 0)
				ex->reserved_at = ratelimit_reserve(ex->auth.source, ex->rate_limit, now);
			at = ex->reserved_at;
		}
		if (at > now)
		{
			long		ms = (long) ((at - now + 999) / 1000);

			wait = (wait < 0) ? ms : Min(wait, ms);
			continue;
		}
		ex->reserved_at = 0;
		start_page(ex, p);
	}
	return wait;
}

/*
 * Sleep until a request makes progress or a timer is due.
 */
static void
wait_for_progress(Extract *ex, long wait_ms)
{
	if (requests_active(ex))
		http_wait((int) wait_ms);
	else
	{
		/* only timers (backoff, rate limit) are pending */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms >= 0 ? Max(wait_ms, 1) : 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Load one record, with its page and offset known to the error context.
 */
static void
on_record(void *arg, const char *rec, size_t len, int64 offset)
{
	Extract    *ex = (Extract *) arg;
	Jsonb	   *jb;

	ex->cur_offset = offset;
	jb = load_record(ex->ls, rec, len);
	ex->cur_offset = -1;
	ex->page_records++;
	if (ex->cursor_field)
		extract_cursor_track(&ex->page_max, ex->cursor_field, jb);
	if ((ex->page_records & 1023) == 0)
	{
		CHECK_FOR_INTERRUPTS();
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED,
									 ex->records + ex->page_records);
	}
}

/*
 * Error context: which stream, page, URL and record an error is about.
 */
static void
extract_error_context(void *arg)
{
	Extract    *ex = (Extract *) arg;

	if (ex->cur_page && ex->cur_offset >= 0)
		errcontext("extract of stream %s, page %d (%s), record at byte %lld",
				   ex->stream, ex->cur_page->seq + 1, ex->cur_page->display,
				   (long long) ex->cur_offset);
	else if (ex->cur_page)
		errcontext("extract of stream %s, page %d (%s)",
				   ex->stream, ex->cur_page->seq + 1, ex->cur_page->display);
	else
		errcontext("extract of stream %s", ex->stream);
}

/*
 * Fetch and load every page.
 */
static void
run_pages(Extract *ex)
{
	for (;;)
	{
		long		wait;

		if (ex->for_each)
			fanout_fill_window(ex);
		else
			while (ex->nwin < ((ex->kind == PAGING_PAGE || ex->kind == PAGING_OFFSET) ?
							   ex->concurrency : 1) && add_page(ex))
				;
		if (ex->nwin == 0)
			break;
		wait = start_requests(ex);
		if (!pump(ex))
			wait_for_progress(ex, wait);
	}
}

/* ------------------------------------------------------------ SQL entry */

/*
 * Who called elt.extract, and when.  The extract runs as the stream's owner
 * and gives the caller's identity back when it ends, whether it succeeds or
 * fails; the batch records who ran it.
 */
typedef struct ExtractCall
{
	Oid			caller;
	int			caller_context;
	char	   *caller_name;	/* in the caller's memory context */
	TimestampTz started;
	MemoryContext callcxt;
	ResourceOwner callowner;
} ExtractCall;

/*
 * The stream named by elt.extract's first argument, which must be given.
 */
static char *
extract_stream_arg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("stream name must not be null")));
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

/*
 * A new extract, before its definition is read: everything it allocates
 * lives in its own memory context, deleted when it ends.
 */
static Extract *
extract_new(bool full_refresh)
{
	Extract    *ex = palloc0(sizeof(Extract));

	ex->cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_elt extract",
									ALLOCSET_DEFAULT_SIZES);
	ex->full_refresh = full_refresh;
	ex->total = -1;
	ex->total_pages = -1;
	ex->cap_total = ex->cap_cursor = ex->cap_next = -1;
	return ex;
}

/*
 * Run as the stream's owner: its secrets, its target, its history.  Row
 * security let the caller see the stream only if it has the owner's
 * privileges; the check here says so for superusers too.  The caller's
 * identity is kept in call, to be given back.
 */
static void
extract_become_owner(Extract *ex, const char *name, ExtractCall *call)
{
	GetUserIdAndSecContext(&call->caller, &call->caller_context);
	if (!has_privs_of_role(call->caller, ex->owner))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("stream \"%s\" does not exist", name)));
	call->caller_name = MemoryContextStrdup(call->callcxt,
											GetUserNameFromId(call->caller, false));
	if (ex->owner != call->caller)
		SetUserIdAndSecContext(ex->owner, call->caller_context |
							   SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
}

/*
 * Set up what the pages need once the definition is known: the origin for
 * next links, the set of pages seen, the record splitter and its captures,
 * the cursor value to send, and the batch id.  Runs in the extract's
 * memory context.
 */
static void
extract_prepare(Extract *ex)
{
	ex->origin = http_url_origin(secrets_substitute_url(ex->base_url));
	ex->seen = paging_seen_new(ex->cxt);
	ex->splitter = records_splitter_new(ex->format, ex->records_path, on_record, ex);
	if (ex->format == RECORD_CSV)
		records_set_csv(ex->splitter, &ex->csv);
	if (ex->total_path)
		ex->cap_total = records_add_capture(ex->splitter, ex->total_path);
	if (ex->kind == PAGING_CURSOR)
		ex->cap_cursor = records_add_capture(ex->splitter, ex->cursor_path);
	if (ex->kind == PAGING_NEXT_REQUEST)
		ex->cap_cursor = records_add_capture(ex->splitter, ex->next_path);
	if (ex->kind == PAGING_NEXT_URL)
		ex->cap_next = records_add_capture(ex->splitter, ex->next_path);
	ex->cursor_sent = ex->cursor_field ?
		extract_cursor_to_send(ex->full_refresh ? NULL : ex->cursor_before,
							   ex->inc_initial, ex->lag, ex->lag_is_number) : NULL;
	internal_sql_exec("SELECT pg_catalog.nextval('elt.batch_id_seq'::pg_catalog.regclass)",
					  0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	ex->batch_id = internal_sql_int64(0, 1, 0);
}

/*
 * The batch's elt.batch row, 'running' until the extract ends; it is
 * written in the caller's transaction, with the rows it counts.
 */
static void
batch_insert_running(Extract *ex, const ExtractCall *call)
{
	Oid			types[9] = {INT8OID, INT4OID, TEXTOID, TEXTOID, BOOLOID,
	TIMESTAMPTZOID, TEXTOID, OIDOID, NAMEOID};
	Datum		vals[9];
	char		nls[9] = "         ";

	vals[0] = Int64GetDatum(ex->batch_id);
	vals[1] = Int32GetDatum(ex->stream_id);
	vals[2] = CStringGetTextDatum(ex->stream);
	vals[3] = CStringGetTextDatum(ex->target);
	vals[4] = BoolGetDatum(ex->full_refresh);
	vals[5] = TimestampTzGetDatum(call->started);
	if (ex->cursor_before)
		vals[6] = CStringGetTextDatum(ex->cursor_before);
	else
		nls[6] = 'n';
	vals[7] = ObjectIdGetDatum(ex->owner);
	vals[8] = DirectFunctionCall1(namein, CStringGetDatum(call->caller_name));
	internal_sql_exec("INSERT INTO elt.batch (batch_id, stream_id, stream, target, full_refresh, "
			"started_at, cursor_before, status, owner, username) "
			"VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8::pg_catalog.regrole, $9)",
					  9, types, vals, nls, false, SPI_OK_INSERT);
}

/*
 * Make sure the staging table exists, report the extract as a COPY in
 * progress, and start loading into it.
 */
static void
extract_begin_load(Extract *ex)
{
	bool		created;
	Oid			relid;
	MemoryContext oldcxt;

	relid = load_prepare_target(ex->target, &created);
	if (ex->for_each)
		load_add_parent_column(relid);
	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, relid);
	pgstat_progress_update_param(PROGRESS_COPY_COMMAND, PROGRESS_COPY_COMMAND_FROM);
	pgstat_progress_update_param(PROGRESS_COPY_TYPE, PROGRESS_COPY_TYPE_CALLBACK);
	pgstat_progress_update_param(PROGRESS_BATCH_ID, ex->batch_id);
	pgstat_progress_update_param(PROGRESS_STREAM_ID, ex->stream_id);
	pgstat_progress_update_param(PROGRESS_MARK, PROGRESS_MAGIC);
	if (created)
		ereport(DEBUG1, (errmsg("created staging table %s", ex->target)));

	oldcxt = MemoryContextSwitchTo(ex->cxt);
	ex->ls = load_begin(relid, ex->batch_id, GetCurrentTransactionStartTimestamp());
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Mark the batch succeeded, with its counters and the new cursor.
 */
static void
batch_record_success(Extract *ex, const char *cursor_after)
{
	Oid			types[8] = {INT8OID, INT4OID, INT8OID, INT8OID, INT4OID, INT4OID, TEXTOID,
	TEXTOID};
	Datum		vals[8];
	char		nls[8] = "        ";

	vals[0] = Int64GetDatum(ex->batch_id);
	vals[1] = Int32GetDatum(ex->pages);
	vals[2] = Int64GetDatum(ex->records);
	vals[3] = Int64GetDatum(ex->bytes);
	vals[4] = Int32GetDatum(ex->requests);
	vals[5] = Int32GetDatum(ex->retries);
	if (cursor_after)
		vals[6] = CStringGetTextDatum(cursor_after);
	else
		nls[6] = 'n';
	/* the last page's reason, else why no further page was requested */
	vals[7] = CStringGetTextDatum(ex->stop_reason ? ex->stop_reason :
								  ex->limit_reason ? ex->limit_reason : "no_next");
	internal_sql_exec("UPDATE elt.batch SET status = 'succeeded', finished_at = clock_timestamp(), "
			"pages = $2, records = $3, bytes = $4, requests = $5, retries = $6, "
			"cursor_after = $7, stop_reason = $8 WHERE batch_id = $1",
					  8, types, vals, nls, false, SPI_OK_UPDATE);
}

/*
 * Keep the stream's new cursor, for the next run to send.
 */
static void
stream_save_cursor(Extract *ex, const char *cursor_after)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		vals[2];
	char		nls[2] = {' ', cursor_after ? ' ' : 'n'};

	vals[0] = Int32GetDatum(ex->stream_id);
	vals[1] = cursor_after ? CStringGetTextDatum(cursor_after) : (Datum) 0;
	internal_sql_exec("UPDATE elt.stream SET cursor_value = $2 WHERE stream_id = $1 "
			"AND cursor_value IS DISTINCT FROM $2",
					  2, types, vals, nls, false, SPI_OK_UPDATE);
}

/*
 * The extract itself, inside its subtransaction: the running batch row,
 * every page loaded, then the batch marked succeeded and the cursor moved.
 */
static void
extract_run(Extract *ex, const ExtractCall *call)
{
	char	   *cursor_after = NULL;

	batch_insert_running(ex, call);
	extract_begin_load(ex);
	if (ex->for_each)
	{
		MemoryContext old = MemoryContextSwitchTo(ex->cxt);

		ex->fanout = fanout_begin(ex->stream_id, ex->for_each, ex->full_refresh,
								  ex->cursor_before, ex->path, ex->param_values, ex->body);
		MemoryContextSwitchTo(old);
	}
	run_pages(ex);
	ex->cur_page = NULL;
	load_end(ex->ls);
	ex->ls = NULL;

	/* the new cursor: the highest value loaded (never lower, unless a full refresh) */
	if (ex->cursor_field)
		cursor_after = extract_cursor_new_value(&ex->batch_max,
												ex->full_refresh ? NULL : ex->cursor_before);
	batch_record_success(ex, cursor_after);
	if (ex->cursor_field)
		stream_save_cursor(ex, cursor_after);
	/* typed tables, when the stream asks for them on each extract */
	normalize_after_extract(ex->stream_id);
}

/*
 * The record of a failed extract, copied out of the extract's memory
 * (about to be deleted) into the current context: its counters, and the
 * message with where it happened (page, byte).
 */
static void
batch_failure_fill(Extract *ex, const ErrorData *edata, const ExtractCall *call,
				   BatchFailure *f)
{
	StringInfoData where;

	memset(f, 0, sizeof(*f));
	f->batch_id = ex->batch_id;
	f->stream_id = ex->stream_id;
	f->full_refresh = ex->full_refresh;
	f->pages = ex->pages;
	f->records = ex->records;
	f->bytes = ex->bytes;
	f->requests = ex->requests;
	f->retries = ex->retries;
	f->started_at = call->started;
	f->finished_at = GetCurrentTimestamp();
	f->stream = ex->stream ? pstrdup(ex->stream) : NULL;
	f->target = ex->target ? pstrdup(ex->target) : NULL;
	f->cursor_before = ex->cursor_before ? pstrdup(ex->cursor_before) : NULL;
	f->owner = ex->owner;
	f->run_by = call->caller_name;

	initStringInfo(&where);
	if (ex->cur_page && ex->cur_offset >= 0)
		appendStringInfo(&where, "; page %d, record at byte %lld",
						 ex->cur_page->seq + 1, (long long) ex->cur_offset);
	else if (ex->cur_page)
		appendStringInfo(&where, "; page %d", ex->cur_page->seq + 1);
	f->error = psprintf("%s%s", edata->message, where.data);
	strlcpy(f->sqlstate, unpack_sql_state(edata->sqlerrcode), sizeof(f->sqlstate));
}

/*
 * The shape of elt.extract's result row, known before any work is done.
 */
static TupleDesc
extract_result_desc(FunctionCallInfo fcinfo)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return BlessTupleDesc(tupdesc);
}

/*
 * elt.extract's result row: batch id, pages, records, bytes, elapsed.
 */
static Datum
extract_result(TupleDesc tupdesc, Extract *ex, const ExtractCall *call)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	Interval   *elapsed;

	values[0] = Int64GetDatum(ex->batch_id);
	values[1] = Int32GetDatum(ex->pages);
	values[2] = Int64GetDatum(ex->records);
	values[3] = Int64GetDatum(ex->bytes);
	elapsed = palloc0(sizeof(Interval));
	elapsed->time = GetCurrentTimestamp() - call->started;
	values[4] = IntervalPGetDatum(elapsed);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * elt.extract(stream, full_refresh): run a stream into its staging table.
 *
 * The whole extract runs in a subtransaction.  On failure it is rolled
 * back, a 'failed' batch is recorded in a transaction of its own, the
 * caller's identity is given back and the error raised again.
 */
Datum
elt_extract(PG_FUNCTION_ARGS)
{
	char	   *name = extract_stream_arg(fcinfo);
	bool		full_refresh = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	Extract    *ex;
	ExtractCall call;
	ErrorContextCallback errcb;
	TupleDesc	tupdesc = extract_result_desc(fcinfo);
	Datum		result;
	int			level;

	memset(&call, 0, sizeof(call));
	call.callcxt = CurrentMemoryContext;
	call.callowner = CurrentResourceOwner;
	ex = extract_new(full_refresh);
	call.started = GetCurrentTimestamp();

	SPI_connect();
	MemoryContextSwitchTo(ex->cxt);
	extract_load_definition(ex, name);
	extract_become_owner(ex, name, &call);
	extract_prepare(ex);
	MemoryContextSwitchTo(call.callcxt);

	errcb.callback = extract_error_context;
	errcb.arg = ex;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	level = GetCurrentTransactionNestLevel();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(call.callcxt);
	PG_TRY();
	{
		extract_run(ex, &call);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(call.callcxt);
		CurrentResourceOwner = call.callowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		BatchFailure f;

		MemoryContextSwitchTo(call.callcxt);
		edata = CopyErrorData();
		FlushErrorState();
		/* pg_elt's messages are masked already, not those of other code */
		redact_error_data(edata);
		while (GetCurrentTransactionNestLevel() > level)
			RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(call.callcxt);
		CurrentResourceOwner = call.callowner;
		error_context_stack = errcb.previous;

		batch_failure_fill(ex, edata, &call, &f);
		/* abort every transfer still running */
		MemoryContextDelete(ex->cxt);
		pgstat_progress_end_command();
		/* nothing of the batch remains: say so where it was counted */
		if (f.stream && f.target)
			load_record_failure(&f);
		SetUserIdAndSecContext(call.caller, call.caller_context);
		ReThrowError(edata);
	}
	PG_END_TRY();
	SetUserIdAndSecContext(call.caller, call.caller_context);
	error_context_stack = errcb.previous;
	pgstat_progress_end_command();
	SPI_finish();

	result = extract_result(tupdesc, ex, &call);
	MemoryContextDelete(ex->cxt);
	PG_RETURN_DATUM(result);
}

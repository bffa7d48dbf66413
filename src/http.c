/*
 * http.c
 *	  HTTP client on libcurl: one multi handle per backend, requests driven
 *	  by waiting on curl's sockets and the process latch.
 *
 * Why a multi handle even for one request: it keeps connections, DNS and
 * TLS sessions across calls (keep-alive), lets extraction run several
 * requests at once, and, above all, leaves the waiting to us, so that a
 * transfer is interruptible by cancel, statement_timeout and postmaster
 * death.  Curl callbacks never raise errors or allocate with palloc's
 * error-throwing variants; they record what went wrong and the error is
 * raised once curl has returned (http_request_check).
 *
 * Redirects are followed here rather than by curl, so that each new URL is
 * checked against the scheme and host rules and credentials are not sent to
 * another origin.  Every connection is checked by the address guard in the
 * open-socket callback, after DNS resolution.
 */
#include "postgres.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include "lib/ilist.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "pg_elt.h"
#include "http.h"
#include "netguard.h"
#include "redact.h"
#include "secrets.h"

/* Per-request state that callers do not see. */
typedef struct HttpPriv
{
	HttpRequest *req;
	CURL	   *easy;
	struct curl_slist *slist;
	List	   *secret_headers; /* names (lower case) of credential headers */
	MemoryContext cxt;
	MemoryContextCallback cb;
	dlist_node	node;
	bool		in_list;
	bool		in_multi;
	bool		paused;
	bool		new_data;		/* body bytes arrived since the last wake-up */
	bool		discard_body;	/* body of a redirect we will follow */
	bool		too_large;
	bool		oom;
	bool		guard_refused;
	char		guard_msg[160];
	char		errbuf[CURL_ERROR_SIZE];
	CURLcode	result;
	int			fail_errcode;	/* failure found outside curl, or 0 */
	char	   *fail_msg;
	char	   *hbuf;			/* raw header lines of the current response */
	size_t		hlen;
	size_t		hcap;
	TimestampTz start;
	TimestampTz deadline;
	char	   *cur_url;		/* real URL being fetched */
	char	   *cur_display;
	bool		as_get;			/* method turned into GET by a redirect */
	StringInfoData up;			/* upload: body bytes not yet taken by curl */
	size_t		up_off;			/* of up, taken already */
	bool		up_last;		/* no more bytes will come */
	bool		up_paused;		/* read_cb paused the transfer: nothing to send */
} HttpPriv;

/* A socket curl wants watched. */
typedef struct SockWatch
{
	curl_socket_t fd;
	int			what;			/* CURL_POLL_IN / OUT / INOUT */
} SockWatch;

static CURLM *multi = NULL;
static bool multi_private_allowed;	/* guard settings the pool was made with */
static char *multi_private_ranges = NULL;
static dlist_head active = DLIST_STATIC_INIT(active);
static SockWatch *socks = NULL;
static int	nsocks = 0;
static int	socks_cap = 0;
static bool socks_changed = true;
static TimestampTz curl_timer_at = 0;	/* 0: no timer */
static WaitEventSet *wes = NULL;

static void http_priv_cleanup(HttpPriv *priv);

/* ---------------------------------------------------------------------
 * curl callbacks: no ereport, no palloc that can throw.
 * ---------------------------------------------------------------------
 */

/* Grow a buffer without throwing; returns false when out of memory. */
static bool
grow_buffer(MemoryContext cxt, char **buf, size_t *cap, size_t len, size_t add)
{
	size_t		need = len + add + 1;
	size_t		newcap;
	char	   *n;

	if (need <= *cap)
		return true;
	newcap = Max(*cap * 2, Max(need, (size_t) 8192));
	if (newcap > MaxAllocHugeSize)
		return false;
	n = MemoryContextAllocExtended(cxt, newcap, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (n == NULL)
		return false;
	if (*buf)
	{
		memcpy(n, *buf, len);
		pfree(*buf);
	}
	*buf = n;
	*cap = newcap;
	return true;
}

static bool
is_redirect_status(long code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	HttpPriv   *priv = (HttpPriv *) userdata;
	HttpRequest *req = priv->req;
	size_t		n = size * nmemb;
	size_t		cap = req->data.maxlen;

	if (priv->discard_body)
		return n;
	if (req->streaming)
	{
		if (req->data.len > 0 && (size_t) req->data.len >= req->high_water)
		{
			priv->paused = true;
			return CURL_WRITEFUNC_PAUSE;
		}
	}
	else if ((size_t) req->data.len + n > req->max_size)
	{
		priv->too_large = true;
		return 0;
	}
	if (!grow_buffer(priv->cxt, &req->data.data, &cap, req->data.len, n))
	{
		priv->oom = true;
		return 0;
	}
	req->data.maxlen = (int) Min(cap, (size_t) INT_MAX);
	memcpy(req->data.data + req->data.len, ptr, n);
	req->data.len += n;
	priv->new_data = true;
	req->data.data[req->data.len] = '\0';
	req->bytes_received += n;
	return n;
}

/*
 * Upload body: give curl what the caller handed over; pause the transfer
 * when it has taken everything and more is to come.
 */
static size_t
read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	HttpPriv   *priv = (HttpPriv *) userdata;
	size_t		max = size * nitems;
	size_t		avail = priv->up.len - priv->up_off;
	size_t		n;

	if (avail == 0)
	{
		if (priv->up_last)
			return 0;
		priv->up_paused = true;
		return CURL_READFUNC_PAUSE;
	}
	n = Min(max, avail);
	memcpy(buf, priv->up.data + priv->up_off, n);
	priv->up_off += n;
	priv->req->bytes_sent += n;
	priv->new_data = true;
	return n;
}

/* Do the raw header lines hold a Location header?  No allocation. */
static bool
has_location(const char *hbuf, size_t hlen)
{
	size_t		i = 0;

	while (i < hlen)
	{
		if (hlen - i >= 9 && pg_strncasecmp(hbuf + i, "location:", 9) == 0)
			return true;
		while (i < hlen && hbuf[i] != '\n')
			i++;
		i++;
	}
	return false;
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	HttpPriv   *priv = (HttpPriv *) userdata;
	HttpRequest *req = priv->req;
	size_t		n = size * nitems;

	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0)
	{
		/* a new response (after 100 Continue, for one) */
		priv->hlen = 0;
		return n;
	}
	if (n <= 2 && (buf[0] == '\r' || buf[0] == '\n'))
	{
		long		code = 0;

		curl_easy_getinfo(priv->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200)
		{
			req->status = (int) code;
			/* a redirect we will follow: its body is of no use */
			priv->discard_body = is_redirect_status(code) && req->max_redirects > 0 &&
				has_location(priv->hbuf, priv->hlen);
		}
		return n;
	}
	if (!grow_buffer(priv->cxt, &priv->hbuf, &priv->hcap, priv->hlen, n))
	{
		priv->oom = true;
		return 0;
	}
	memcpy(priv->hbuf + priv->hlen, buf, n);
	priv->hlen += n;
	priv->hbuf[priv->hlen] = '\0';
	return n;
}

/* The address guard, at the moment curl opens a connection. */
static curl_socket_t
opensocket_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	HttpPriv   *priv = (HttpPriv *) clientp;

	if (!netguard_address_allowed(&address->addr, priv->guard_msg,
								  sizeof(priv->guard_msg)))
	{
		priv->guard_refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	int			i;

	for (i = 0; i < nsocks; i++)
		if (socks[i].fd == s)
			break;
	if (what == CURL_POLL_REMOVE)
	{
		if (i < nsocks)
		{
			socks[i] = socks[nsocks - 1];
			nsocks--;
		}
	}
	else if (i < nsocks)
		socks[i].what = what;
	else
	{
		if (nsocks == socks_cap)
		{
			int			ncap = socks_cap ? socks_cap * 2 : 16;
			SockWatch  *n = realloc(socks, ncap * sizeof(SockWatch));

			if (n == NULL)
				return -1;
			socks = n;
			socks_cap = ncap;
		}
		socks[nsocks].fd = s;
		socks[nsocks].what = what;
		nsocks++;
	}
	socks_changed = true;
	return 0;
}

static int
timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	if (timeout_ms < 0)
		curl_timer_at = 0;
	else
		curl_timer_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	return 0;
}

/* ---------------------------------------------------------------------
 * The shared multi handle.
 * ---------------------------------------------------------------------
 */

/*
 * Create the multi handle on first use.  When the guard's settings changed
 * since the pooled connections were made, drop them: a connection opened
 * while an address was allowed must not be reused after.
 */
static void
ensure_multi(void)
{
	static bool curl_ready = false;

	if (multi != NULL && dlist_is_empty(&active) &&
		(multi_private_allowed != elt_allow_private_networks ||
		 strcmp(multi_private_ranges ? multi_private_ranges : "",
				elt_allowed_private_networks ? elt_allowed_private_networks : "") != 0))
	{
		curl_multi_cleanup(multi);
		multi = NULL;
		nsocks = 0;
		socks_changed = true;
		curl_timer_at = 0;
	}
	if (multi != NULL)
		return;
	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not initialize libcurl")));
		curl_ready = true;
	}
	multi = curl_multi_init();
	if (multi == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 32L);
	multi_private_allowed = elt_allow_private_networks;
	free(multi_private_ranges);
	multi_private_ranges = strdup(elt_allowed_private_networks ? elt_allowed_private_networks : "");
}

/* Memory context reset callback: free what curl allocated. */
static void
request_reset_cb(void *arg)
{
	http_priv_cleanup((HttpPriv *) arg);
}

static void
http_priv_cleanup(HttpPriv *priv)
{
	if (priv->easy != NULL)
	{
		if (priv->in_multi && multi != NULL)
			curl_multi_remove_handle(multi, priv->easy);
		curl_easy_cleanup(priv->easy);
		priv->easy = NULL;
	}
	priv->in_multi = false;
	if (priv->slist != NULL)
	{
		curl_slist_free_all(priv->slist);
		priv->slist = NULL;
	}
	if (priv->in_list)
	{
		dlist_delete(&priv->node);
		priv->in_list = false;
	}
}

/* ---------------------------------------------------------------------
 * Building and starting requests.
 * ---------------------------------------------------------------------
 */

/* RFC 9110 token characters, for methods and header names. */
static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (!(isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL))
			return false;
	}
	return true;
}

HttpRequest *
http_request_new(const char *method, const char *url, const char *display_url)
{
	HttpRequest *req = palloc0(sizeof(HttpRequest));
	HttpPriv   *priv = palloc0(sizeof(HttpPriv));
	char	   *m = pstrdup(method);
	char	   *p;

	for (p = m; *p; p++)
		*p = pg_toupper((unsigned char) *p);
	if (!is_token(m))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid HTTP method \"%s\"", method)));

	req->method = m;
	req->url = pstrdup(url);
	req->display_url = display_url ? pstrdup(display_url) : secrets_redact_url(url);
	req->max_redirects = 5;
	req->high_water = 4 * 1024 * 1024;
	req->data.data = palloc(1024);
	req->data.data[0] = '\0';
	req->data.maxlen = 1024;
	req->priv = priv;

	priv->req = req;
	priv->cxt = CurrentMemoryContext;
	priv->cb.func = request_reset_cb;
	priv->cb.arg = priv;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &priv->cb);
	return req;
}

/* Add a header after checking it cannot smuggle a second header line. */
static void
add_header(HttpRequest *req, const char *name, const char *value, bool secret)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;
	const char *v;

	if (!is_token(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid HTTP header name \"%s\"", name)));
	for (v = value; *v; v++)
		if (*v == '\r' || *v == '\n')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("value of HTTP header \"%s\" contains a line break", name)));
	/* "Name;" is how curl sends a header with an empty value */
	if (*value == '\0')
		req->headers = lappend(req->headers, psprintf("%s;", name));
	else
		req->headers = lappend(req->headers, psprintf("%s: %s", name, value));
	if (secret)
		priv->secret_headers = lappend(priv->secret_headers, asc_tolower(name, strlen(name)));
}

void
http_request_add_header(HttpRequest *req, const char *name, const char *value)
{
	add_header(req, name, value, false);
}

void
http_request_add_secret_header(HttpRequest *req, const char *name, const char *value)
{
	add_header(req, name, value, true);
}

/* Does the request carry a header of that name (any case)? */
static bool
has_header(HttpRequest *req, const char *name)
{
	ListCell   *lc;
	size_t		len = strlen(name);

	foreach(lc, req->headers)
	{
		const char *h = lfirst(lc);

		if (pg_strncasecmp(h, name, len) == 0 && (h[len] == ':' || h[len] == ';'))
			return true;
	}
	return false;
}

/* Remaining time before the request's deadline, in ms (at least 1). */
static long
remaining_ms(HttpPriv *priv)
{
	long		secs;
	int			usecs;

	TimestampDifference(GetCurrentTimestamp(), priv->deadline, &secs, &usecs);
	return Max(1L, secs * 1000L + usecs / 1000);
}

/* (Re)configure the easy handle for the current URL and method. */
static void
setup_easy(HttpPriv *priv)
{
	HttpRequest *req = priv->req;
	CURL	   *e = priv->easy;
	ListCell   *lc;
	struct curl_slist *sl = NULL;
	int			timeout = req->timeout_ms > 0 ? req->timeout_ms : elt_http_timeout;
	const char *method = priv->as_get ? "GET" : req->method;

	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, priv->cur_url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, priv);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, priv->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, elt_user_agent);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, priv);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, priv);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, priv);

	if (req->streaming || req->upload)
	{
		/* a long transfer is fine as long as data keeps moving */
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) timeout);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, Max(1L, (long) timeout / 1000));
	}
	else
	{
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, remaining_ms(priv));
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) req->max_size);
	}

	if (req->aws_sigv4 != NULL)
		curl_easy_setopt(e, CURLOPT_AWS_SIGV4, req->aws_sigv4);
	if (req->userpwd != NULL)
		curl_easy_setopt(e, CURLOPT_USERPWD, req->userpwd);

	if (req->upload)
	{
		/* length unknown: HTTP/1.1 chunked transfer encoding */
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) -1);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, priv);
		if (strcmp(method, "PUT") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}
	else if (strcmp(method, "GET") == 0 && req->body == NULL)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else
	{
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
		if (req->body != NULL && !priv->as_get)
		{
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
		}
		else if (strcmp(method, "POST") == 0)
		{
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) 0);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		}
	}

	if (priv->slist != NULL)
	{
		curl_slist_free_all(priv->slist);
		priv->slist = NULL;
	}
	foreach(lc, req->headers)
	{
		struct curl_slist *n = curl_slist_append(sl, (const char *) lfirst(lc));

		if (n == NULL)
		{
			curl_slist_free_all(sl);
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		}
		sl = n;
	}
	/* no "Expect: 100-continue" round trip for large bodies */
	{
		struct curl_slist *n = curl_slist_append(sl, "Expect:");

		if (n == NULL)
		{
			curl_slist_free_all(sl);
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		}
		sl = n;
	}
	priv->slist = sl;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl);
}

static void
add_to_multi(HttpPriv *priv)
{
	CURLMcode	mc = curl_multi_add_handle(multi, priv->easy);

	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not start HTTP request: %s", curl_multi_strerror(mc))));
	priv->in_multi = true;
}

void
http_request_start(HttpRequest *req)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;
	int			timeout = req->timeout_ms > 0 ? req->timeout_ms : elt_http_timeout;

	if (req->started)
		elog(ERROR, "HTTP request started twice");
	netguard_check_url(req->url, req->display_url);
	ensure_multi();

	if (req->max_size == 0)
		req->max_size = (size_t) elt_max_response_size * 1024;
	if (req->upload)
	{
		/* a body cannot be sent twice: never follow a redirect */
		req->max_redirects = 0;
		initStringInfo(&priv->up);
	}
	if (req->body != NULL && !req->upload && !has_header(req, "Content-Type"))
	{
		const char *b = req->body;

		while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
			b++;
		http_request_add_header(req, "Content-Type",
								(*b == '{' || *b == '[') ? "application/json" :
								"text/plain; charset=utf-8");
	}

	priv->cur_url = req->url;
	priv->cur_display = req->display_url;
	priv->start = GetCurrentTimestamp();
	priv->deadline = TimestampTzPlusMilliseconds(priv->start, timeout);
	priv->easy = curl_easy_init();
	if (priv->easy == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	setup_easy(priv);
	dlist_push_tail(&active, &priv->node);
	priv->in_list = true;
	req->started = true;
	add_to_multi(priv);
}

/* ---------------------------------------------------------------------
 * Completion, redirects and errors.
 * ---------------------------------------------------------------------
 */

/*
 * "scheme://host:port" of a URL (empty parts when it is invalid), to tell
 * whether a redirect or a next link changes origin.
 */
char *
http_url_origin(const char *url)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL;
	char	   *host = NULL;
	char	   *port = NULL;
	char	   *result;

	if (u == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	curl_url_set(u, CURLUPART_URL, url, 0);
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	result = psprintf("%s://%s:%s", scheme ? scheme : "", host ? host : "", port ? port : "");
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return result;
}

/* Drop credential headers before following a redirect to another origin. */
static void
drop_secret_headers(HttpRequest *req)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, req->headers)
	{
		const char *h = lfirst(lc);
		size_t		nlen = strcspn(h, ":;");
		char	   *name = asc_tolower(h, nlen);
		bool		drop = strcmp(name, "authorization") == 0 ||
			strcmp(name, "proxy-authorization") == 0 ||
			strcmp(name, "cookie") == 0;
		ListCell   *sc;

		foreach(sc, priv->secret_headers)
			if (strcmp(name, (const char *) lfirst(sc)) == 0)
				drop = true;
		if (!drop)
			kept = lappend(kept, (void *) h);
	}
	req->headers = kept;
}

static void
set_failure(HttpPriv *priv, int code, char *msg)
{
	priv->fail_errcode = code;
	priv->fail_msg = msg;
}

/*
 * The response was a redirect: follow it if allowed.  Returns true when the
 * request was restarted on the new URL.
 */
static bool
follow_redirect(HttpPriv *priv)
{
	HttpRequest *req = priv->req;
	MemoryContext old;
	char	   *location = NULL;
	char	   *new_url;
	char	   *new_display;
	long		code = req->status;

	curl_easy_getinfo(priv->easy, CURLINFO_REDIRECT_URL, &location);
	if (location == NULL)
		return false;			/* a 3xx without Location is a result */

	old = MemoryContextSwitchTo(priv->cxt);
	if (req->redirects >= req->max_redirects)
	{
		set_failure(priv, ERRCODE_ELT_HTTP_REDIRECTS,
					psprintf("more than %d redirects", req->max_redirects));
		MemoryContextSwitchTo(old);
		return false;
	}
	new_url = pstrdup(location);
	/* the API may have put a value into the URL: mask it here, once */
	new_display = redact_text(secrets_redact_url(new_url));
	netguard_check_url(new_url, new_display);
	if (strcmp(http_url_origin(new_url), http_url_origin(priv->cur_url)) != 0)
	{
		drop_secret_headers(req);
		req->userpwd = NULL;
		req->aws_sigv4 = NULL;
	}
	if (code == 303 && strcmp(req->method, "HEAD") != 0)
		priv->as_get = true;
	if ((code == 301 || code == 302) && strcmp(req->method, "POST") == 0)
		priv->as_get = true;

	priv->cur_url = new_url;
	priv->cur_display = new_display;
	priv->hlen = 0;
	priv->discard_body = false;
	req->status = 0;
	req->data.len = 0;
	req->data.data[0] = '\0';
	req->redirects++;
	MemoryContextSwitchTo(old);

	if (GetCurrentTimestamp() >= priv->deadline && !req->streaming)
	{
		priv->result = CURLE_OPERATION_TIMEDOUT;
		return false;
	}
	setup_easy(priv);
	add_to_multi(priv);
	return true;
}

/* Parse the raw header lines into req->resp_headers. */
static void
parse_headers(HttpPriv *priv)
{
	HttpRequest *req = priv->req;
	MemoryContext old = MemoryContextSwitchTo(priv->cxt);
	char	   *p = priv->hbuf;
	char	   *end = priv->hbuf ? priv->hbuf + priv->hlen : NULL;

	req->resp_headers = NIL;
	while (p && p < end)
	{
		char	   *eol = memchr(p, '\n', end - p);
		char	   *line_end = eol ? eol : end;
		char	   *colon = memchr(p, ':', line_end - p);

		if (colon != NULL && colon > p)
		{
			HttpHeader *h = palloc(sizeof(HttpHeader));
			char	   *v = colon + 1;
			char	   *ve = line_end;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			h->name = asc_tolower(p, colon - p);
			h->value = pnstrdup(v, ve - v);
			req->resp_headers = lappend(req->resp_headers, h);
		}
		p = line_end + 1;
	}
	MemoryContextSwitchTo(old);
}

/* A transfer ended: record the outcome and free the curl handles. */
static void
finish_request(HttpPriv *priv)
{
	HttpRequest *req = priv->req;
	long		code = 0;

	if (priv->easy)
		curl_easy_getinfo(priv->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code > 0)
		req->status = (int) code;
	req->done = true;
	req->elapsed_us = GetCurrentTimestamp() - priv->start;
	req->final_url = priv->cur_display;
	if (priv->result != CURLE_OK || priv->fail_errcode != 0 || priv->too_large || priv->oom)
		req->failed = true;
	parse_headers(priv);
	http_priv_cleanup(priv);
}

/* Collect finished transfers; returns true if any request is now done. */
static bool
collect_finished(void)
{
	CURLMsg    *msg;
	int			left;
	bool		any = false;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL)
	{
		CURL	   *easy = msg->easy_handle;
		CURLcode	rc = msg->data.result;
		HttpPriv   *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &priv);
		curl_multi_remove_handle(multi, easy);
		priv->in_multi = false;
		priv->result = rc;
		if (rc == CURLE_OK && priv->discard_body && follow_redirect(priv))
			continue;
		finish_request(priv);
		any = true;
	}
	return any;
}

/*
 * Did a streaming request receive data since the last wake-up?  Only new
 * data counts: a consumer may leave a partial record in the buffer and wait
 * for more, and must not be woken again for the bytes it already saw.
 */
static bool
streaming_data_ready(void)
{
	dlist_iter	it;
	bool		ready = false;

	dlist_foreach(it, &active)
	{
		HttpPriv   *priv = dlist_container(HttpPriv, node, it.cur);

		if ((priv->req->streaming || priv->req->upload) && priv->new_data)
		{
			priv->new_data = false;
			ready = true;
		}
	}
	return ready;
}

/* Rebuild the wait event set when curl's sockets changed. */
static void
rebuild_wait_set(void)
{
	int			i;

	if (wes != NULL && !socks_changed)
		return;
	if (wes != NULL)
	{
		FreeWaitEventSet(wes);
		wes = NULL;
	}
	wes = CreateWaitEventSet(TopMemoryContext, nsocks + 2);
	AddWaitEventToSet(wes, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	if (IsUnderPostmaster)
		AddWaitEventToSet(wes, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (i = 0; i < nsocks; i++)
	{
		uint32		ev = 0;

		if (socks[i].what == CURL_POLL_IN || socks[i].what == CURL_POLL_INOUT)
			ev |= WL_SOCKET_READABLE;
		if (socks[i].what == CURL_POLL_OUT || socks[i].what == CURL_POLL_INOUT)
			ev |= WL_SOCKET_WRITEABLE;
		if (ev != 0)
			AddWaitEventToSet(wes, ev, socks[i].fd, NULL, NULL);
	}
	socks_changed = false;
}

bool
http_wait(int max_wait_ms)
{
	TimestampTz start = GetCurrentTimestamp();
	int			running;

	if (multi == NULL)
		return false;
	for (;;)
	{
		WaitEvent	events[16];
		long		wait_ms = 1000;
		int			nev;
		int			i;
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();
		if (collect_finished())
			return true;
		if (streaming_data_ready() || dlist_is_empty(&active))
			return false;

		now = GetCurrentTimestamp();
		if (curl_timer_at != 0)
		{
			if (now >= curl_timer_at)
			{
				curl_timer_at = 0;
				curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
				continue;
			}
			wait_ms = Min(wait_ms, (long) ((curl_timer_at - now + 999) / 1000));
		}
		if (max_wait_ms >= 0)
		{
			long		left = max_wait_ms - (long) ((now - start) / 1000);

			if (left <= 0)
				return false;
			wait_ms = Min(wait_ms, left);
		}

		rebuild_wait_set();
		nev = WaitEventSetWait(wes, wait_ms, events, lengthof(events), PG_WAIT_EXTENSION);
		for (i = 0; i < nev; i++)
		{
			if (events[i].events & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
			else if (events[i].events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
			{
				int			flags = 0;

				if (events[i].events & WL_SOCKET_READABLE)
					flags |= CURL_CSELECT_IN;
				if (events[i].events & WL_SOCKET_WRITEABLE)
					flags |= CURL_CSELECT_OUT;
				curl_multi_socket_action(multi, events[i].fd, flags, &running);
			}
		}
		if (nev == 0)
		{
			curl_timer_at = 0;
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
	}
}

/*
 * One round of socket work with a zero timeout: ready sockets are served,
 * due timers run, finished transfers are collected.
 */
void
http_poll(void)
{
	WaitEvent	events[16];
	int			running;
	int			nev;
	int			i;

	CHECK_FOR_INTERRUPTS();
	if (multi == NULL || dlist_is_empty(&active))
		return;
	if (curl_timer_at != 0 && GetCurrentTimestamp() >= curl_timer_at)
	{
		curl_timer_at = 0;
		curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	rebuild_wait_set();
	nev = WaitEventSetWait(wes, 0, events, lengthof(events), PG_WAIT_EXTENSION);
	for (i = 0; i < nev; i++)
	{
		int			flags = 0;

		if (events[i].events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (events[i].events & WL_SOCKET_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events[i].events & WL_SOCKET_WRITEABLE)
			flags |= CURL_CSELECT_OUT;
		if (flags != 0)
			curl_multi_socket_action(multi, events[i].fd, flags, &running);
	}
	(void) collect_finished();
}

void
http_request_consume(HttpRequest *req, size_t n)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;

	if (n > (size_t) req->data.len)
		n = req->data.len;
	if (n < (size_t) req->data.len)
		memmove(req->data.data, req->data.data + n, req->data.len - n);
	req->data.len -= n;
	req->data.data[req->data.len] = '\0';
	if (priv->paused && priv->easy != NULL && (size_t) req->data.len < req->high_water)
	{
		priv->paused = false;
		curl_easy_pause(priv->easy, CURLPAUSE_CONT);
	}
}

/*
 * Hand body bytes to an upload and wait until curl took them all, so the
 * caller's buffer stays bounded; see http.h.
 */
void
http_request_upload(HttpRequest *req, const char *data, size_t len, bool last)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;

	Assert(req->upload && req->started);
	if (!req->done)
	{
		MemoryContext old = MemoryContextSwitchTo(priv->cxt);

		/* drop what curl took already, then append */
		if (priv->up_off > 0)
		{
			memmove(priv->up.data, priv->up.data + priv->up_off,
					priv->up.len - priv->up_off);
			priv->up.len -= priv->up_off;
			priv->up_off = 0;
		}
		appendBinaryStringInfo(&priv->up, data, len);
		MemoryContextSwitchTo(old);
		priv->up_last = last;
		if (priv->up_paused && priv->easy != NULL)
		{
			priv->up_paused = false;
			curl_easy_pause(priv->easy, CURLPAUSE_CONT);
		}
	}
	PG_TRY();
	{
		while (!req->done &&
			   (last || priv->up_off < (size_t) priv->up.len))
			http_wait(-1);
	}
	PG_CATCH();
	{
		http_request_cancel(req);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (req->done)
		http_request_check(req);
}

int
http_request_errcode(HttpRequest *req)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;

	if (!req->failed)
		return 0;
	if (priv->fail_errcode != 0)
		return priv->fail_errcode;
	if (priv->too_large || priv->result == CURLE_FILESIZE_EXCEEDED)
		return ERRCODE_ELT_HTTP_TOO_LARGE;
	if (priv->oom)
		return ERRCODE_OUT_OF_MEMORY;
	if (priv->guard_refused && priv->result == CURLE_COULDNT_CONNECT)
		return ERRCODE_ELT_ADDRESS_REFUSED;
	switch (priv->result)
	{
		case CURLE_OPERATION_TIMEDOUT:
			return ERRCODE_ELT_HTTP_TIMEOUT;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
			return ERRCODE_ELT_HTTP_CONNECT;
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		default:
			return ERRCODE_ELT_HTTP_TRANSFER;
	}
}

/*
 * Whether another attempt could succeed: a timeout, a refused or dropped
 * connection, a broken transfer.  A name that does not resolve, a
 * certificate that does not verify, a refused scheme or address will fail
 * the same way again, so retrying them only delays the error.
 */
bool
http_request_transient(HttpRequest *req)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;
	int			code = http_request_errcode(req);

	if (code != ERRCODE_ELT_HTTP_TIMEOUT && code != ERRCODE_ELT_HTTP_CONNECT &&
		code != ERRCODE_ELT_HTTP_TRANSFER)
		return false;
	if (priv->fail_errcode != 0)
		return true;
	switch (priv->result)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		case CURLE_SSL_INVALIDCERTSTATUS:
		case CURLE_SSL_CRL_BADFILE:
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			return false;
		default:
			return true;
	}
}

const char *
http_request_error(HttpRequest *req)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;
	int			code = http_request_errcode(req);
	int			timeout = req->timeout_ms > 0 ? req->timeout_ms : elt_http_timeout;

	if (code == 0)
		return NULL;
	if (priv->fail_msg)
		return priv->fail_msg;
	if (code == ERRCODE_ELT_HTTP_TOO_LARGE)
		return psprintf("response body exceeds %zu bytes", req->max_size);
	if (code == ERRCODE_OUT_OF_MEMORY)
		return "out of memory while receiving the response";
	if (code == ERRCODE_ELT_ADDRESS_REFUSED)
		return psprintf("connection refused by the address guard: %s",
						redact_text(priv->guard_msg));
	if (code == ERRCODE_ELT_HTTP_TIMEOUT)
	{
		if (req->streaming)
			return psprintf("no data received for %d ms", timeout);
		return psprintf("timed out after %d ms", timeout);
	}
	/* curl's text may quote the URL, or what a server sent */
	if (priv->errbuf[0] != '\0')
		return pstrdup(redact_text(priv->errbuf));
	return curl_easy_strerror(priv->result);
}

void
http_request_check(HttpRequest *req)
{
	int			code = http_request_errcode(req);
	const char *msg;
	const char *hint = NULL;

	if (code == 0)
		return;
	msg = http_request_error(req);
	if (code == ERRCODE_ELT_ADDRESS_REFUSED)
		hint = "A superuser can allow such addresses with pg_elt.allow_private_networks or pg_elt.allowed_private_networks.";
	else if (code == ERRCODE_ELT_HTTP_TOO_LARGE && !req->streaming)
		hint = psprintf("Raise pg_elt.max_response_size (now %d kB) or extract the data with elt.extract(), which streams it.",
						elt_max_response_size);
	ereport(ERROR,
			(errcode(code),
			 errmsg("HTTP %s %s failed: %s", req->method,
					redact_text(req->display_url), msg),
			 req->redirects > 0 ?
			 errdetail("The request was redirected %d times; the last URL was %s.",
					   req->redirects, redact_text(req->final_url)) : 0,
			 hint ? errhint("%s", hint) : 0));
}

void
http_request_cancel(HttpRequest *req)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;

	http_priv_cleanup(priv);
	if (!req->done)
	{
		req->done = true;
		req->failed = true;
		if (priv->fail_errcode == 0)
			set_failure(priv, ERRCODE_QUERY_CANCELED, "request cancelled");
	}
}

/*
 * Start a request and wait for it.  The handles are released at once if
 * waiting is interrupted, even when the caller catches the error.
 */
void
http_perform(HttpRequest *req)
{
	http_request_start(req);
	PG_TRY();
	{
		while (!req->done)
			http_wait(-1);
	}
	PG_CATCH();
	{
		http_request_cancel(req);
		PG_RE_THROW();
	}
	PG_END_TRY();
	http_request_check(req);
}

const char *
http_response_header(HttpRequest *req, const char *name)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;
	ListCell   *lc;

	if (!req->done && priv->hlen > 0)
		parse_headers(priv);
	foreach(lc, req->resp_headers)
	{
		HttpHeader *h = lfirst(lc);

		if (pg_strcasecmp(h->name, name) == 0)
			return h->value;
	}
	return NULL;
}

/*
 * Milliseconds a Retry-After header asks for, or -1.
 */
double
http_retry_after_ms(HttpRequest *req)
{
	const char *v = http_response_header(req, "retry-after");
	char	   *end;
	double		secs;

	if (v == NULL)
		return -1;
	secs = strtod(v, &end);
	if (end != v && *end == '\0')
		return Max(secs, 0) * 1000.0;
	{
		time_t		t = curl_getdate(v, NULL);

		if (t < 0)
			return -1;
		return Max((double) (t - time(NULL)), 0) * 1000.0;
	}
}

/*
 * Every field of a list-valued response header, joined by ", " as RFC 9110
 * section 5.3 allows: a Link header may come as several fields, and a
 * reader of only the first would miss links.
 */
char *
http_response_header_list(HttpRequest *req, const char *name)
{
	HttpPriv   *priv = (HttpPriv *) req->priv;
	ListCell   *lc;
	StringInfoData v;
	bool		any = false;

	if (!req->done && priv->hlen > 0)
		parse_headers(priv);
	initStringInfo(&v);
	foreach(lc, req->resp_headers)
	{
		HttpHeader *h = lfirst(lc);

		if (pg_strcasecmp(h->name, name) != 0)
			continue;
		if (any)
			appendStringInfoString(&v, ", ");
		appendStringInfoString(&v, h->value);
		any = true;
	}
	if (!any)
	{
		pfree(v.data);
		return NULL;
	}
	return v.data;
}

Jsonb *
http_response_headers_jsonb(HttpRequest *req)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;
	ListCell   *lc;
	List	   *seen = NIL;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	foreach(lc, req->resp_headers)
	{
		HttpHeader *h = lfirst(lc);
		StringInfoData v;
		JsonbValue	k;
		JsonbValue	jv;
		ListCell   *lc2;

		if (list_member(seen, makeString(h->name)))
			continue;
		seen = lappend(seen, makeString(h->name));
		initStringInfo(&v);
		for_each_cell(lc2, req->resp_headers, lc)
		{
			HttpHeader *h2 = lfirst(lc2);

			if (strcmp(h2->name, h->name) == 0)
			{
				if (v.len > 0)
					appendStringInfoString(&v, ", ");
				appendStringInfoString(&v, h2->value);
			}
		}
		k.type = jbvString;
		k.val.string.val = h->name;
		k.val.string.len = strlen(h->name);
		jv.type = jbvString;
		jv.val.string.val = v.data;
		jv.val.string.len = v.len;
		pushJsonbValue(&state, WJB_KEY, &k);
		pushJsonbValue(&state, WJB_VALUE, &jv);
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/*
 * http.h
 *	  HTTP client on libcurl for the whole extension.
 *
 * All requests of a backend share one curl multi handle, so connections
 * (keep-alive), DNS and TLS sessions are reused across calls.  A request is
 * started, then driven by http_wait(), which waits on curl's sockets and on
 * the process latch, so cancel and statement_timeout interrupt it.  Curl
 * callbacks never raise errors: they record them, and the error is raised
 * by http_request_check() once curl has returned.
 *
 * Every connection is checked by the address guard (pg_elt.allowed_hosts,
 * pg_elt.allow_private_networks) after DNS resolution, redirects included.
 *
 * A request's curl handles are freed when the memory context it was
 * created in is reset or deleted, so an error anywhere leaks nothing.
 */
#ifndef ELT_HTTP_H
#define ELT_HTTP_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef struct HttpRequest HttpRequest;

/* What the caller sets (before http_request_start) and what it reads. */
struct HttpRequest
{
	/* ---- set by the caller ---- */
	char	   *method;			/* upper case */
	char	   *url;			/* real URL, secrets substituted: never print */
	char	   *display_url;	/* URL safe to print (secrets not substituted,
								 * sensitive query values masked) */
	List	   *headers;		/* of char * "Name: value", secrets substituted */
	const char *body;			/* request body or NULL */
	size_t		body_len;
	int			timeout_ms;		/* whole request; 0 = pg_elt.http_timeout */
	int			max_redirects;	/* 0 = do not follow */
	bool		streaming;		/* body delivered incrementally, see below */
	size_t		max_size;		/* non-streaming: body limit (0 = GUC) */
	size_t		high_water;		/* streaming: pause transfer above this */
	void	   *user_data;		/* for the caller */
	bool		upload;			/* body sent as it is produced (chunked), by
								 * http_request_upload(); body is ignored */
	char	   *aws_sigv4;		/* CURLOPT_AWS_SIGV4 ("aws:amz:region:s3") */
	char	   *userpwd;		/* "key:secret" for SigV4, a credential */

	/* ---- results, valid once done ---- */
	bool		started;
	bool		done;
	bool		failed;			/* transport failure: see http_request_check */
	int			status;			/* HTTP status of the final response */
	List	   *resp_headers;	/* of HttpHeader, names lower case */
	StringInfoData data;		/* body received; streaming: not yet consumed */
	int64		bytes_received; /* total body bytes received */
	int64		bytes_sent;		/* upload: body bytes handed to curl */
	int64		elapsed_us;		/* start to completion */
	int			redirects;		/* redirects followed */
	char	   *final_url;		/* display form of the URL that answered */

	/* ---- private to http.c ---- */
	void	   *priv;
};

typedef struct HttpHeader
{
	char	   *name;			/* lower case */
	char	   *value;
} HttpHeader;

/* Build a request; url is the real URL, display_url its printable form. */
extern HttpRequest *http_request_new(const char *method, const char *url,
									 const char *display_url);
extern void http_request_add_header(HttpRequest *req, const char *name,
									const char *value);

/*
 * Same, for a header that carries a credential: it is not sent again when a
 * redirect leads to another origin (scheme, host or port).
 */
extern void http_request_add_secret_header(HttpRequest *req, const char *name,
										   const char *value);
extern void http_request_start(HttpRequest *req);

/*
 * Drive every started request until at least one makes progress (finishes,
 * or, when streaming, received new data) or max_wait_ms passes (-1: no
 * limit).
 * Checks for interrupts.  Returns true if any request finished.
 */
extern bool http_wait(int max_wait_ms);

/*
 * Let curl move whatever data it can right now, without waiting: for a
 * caller that keeps a transfer going in the background while it works.
 * Checks for interrupts.
 */
extern void http_poll(void);

/* Streaming: drop the first n bytes of req->data and resume the transfer. */
extern void http_request_consume(HttpRequest *req, size_t n);

/*
 * Upload: hand the next len bytes of the body to a started upload request
 * and wait until curl has taken them (or the request ended early: the
 * server answered or the transfer failed; the caller checks req->done).
 * With last, the body ends there and this waits for the response and
 * raises transport failures.
 */
extern void http_request_upload(HttpRequest *req, const char *data, size_t len,
								bool last);

/* Raise the request's transport failure, if any, as an ERROR. */
extern void http_request_check(HttpRequest *req);

/* Transport failure as text, NULL if none (for retry decisions and logs). */
extern const char *http_request_error(HttpRequest *req);

/* Whether another attempt at a failed request could succeed. */
extern bool http_request_transient(HttpRequest *req);

/* SQLSTATE the transport failure would be raised with (0 if none). */
extern int	http_request_errcode(HttpRequest *req);

/* Abort and free the request's curl resources now (also done on reset). */
extern void http_request_cancel(HttpRequest *req);

/* Start, wait until done, raise transport failures.  Not streaming. */
extern void http_perform(HttpRequest *req);

/* "scheme://host:port" of a URL, for same-origin decisions. */
extern char *http_url_origin(const char *url);

/* First response header of that name (lower case), or NULL. */
extern const char *http_response_header(HttpRequest *req, const char *name);

/* Milliseconds a Retry-After header asks for, or -1. */
extern double http_retry_after_ms(HttpRequest *req);

/* Every field of that name joined by ", " (palloc'd), or NULL. */
extern char *http_response_header_list(HttpRequest *req, const char *name);

/* Response headers as a jsonb object (repeated names joined by ", "). */
extern Jsonb *http_response_headers_jsonb(HttpRequest *req);

#endif							/* ELT_HTTP_H */

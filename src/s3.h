/*
 * s3.h
 *	  Writing one object to an S3-compatible store: a single PUT, or a
 *	  multipart upload (create, parts, complete; abort on failure).
 *
 * Requests go through http.c (address guard, limits, interrupts), signed
 * with AWS Signature V4 by libcurl; they never follow redirects.  Keys are
 * addressed path-style (endpoint/bucket/key), which every S3-compatible
 * store accepts.
 */
#ifndef ELT_S3_H
#define ELT_S3_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "http.h"

typedef struct S3Object
{
	char	   *endpoint;		/* scheme://host[:port], no trailing slash */
	char	   *bucket;
	char	   *key;
	char	   *region;
	char	   *userpwd;		/* "access_key:secret_key", substituted */
	char	   *content_type;
	int			timeout_ms;		/* per request; 0 = pg_elt.http_timeout */
	MemoryContext cxt;			/* for upload_id, etags and etag; requests
								 * use the current context */
	/* state of a multipart upload */
	char	   *upload_id;		/* NULL: none started */
	List	   *etags;			/* of char *, one per part */
	/* result */
	char	   *etag;
	int			status;
} S3Object;

/* "s3://bucket/key" for messages and history. */
extern char *s3_display(S3Object *obj);

/* One PUT of the whole object. */
extern void s3_put(S3Object *obj, const char *data, size_t len);

/* Multipart: start, send the next part, finish. */
extern void s3_multipart_start(S3Object *obj);
extern void s3_multipart_part(S3Object *obj, const char *data, size_t len);

/*
 * The same in two halves, so that the caller can prepare the next part
 * while this one is sent (http_poll): start, then finish (wait for the
 * answer and keep the part's ETag).  data must stay intact until then.
 */
extern HttpRequest *s3_multipart_part_start(S3Object *obj, const char *data,
											size_t len);
extern void s3_multipart_part_finish(S3Object *obj, HttpRequest *req);
extern void s3_multipart_complete(S3Object *obj);

/*
 * Abort a started multipart upload so no parts are left behind; never
 * raises (a WARNING says when it could not be done).
 */
extern void s3_multipart_abort(S3Object *obj);

#endif							/* ELT_S3_H */

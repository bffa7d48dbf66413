/*
 * s3.c
 *	  The S3 object protocol, as much of it as writing one object needs.
 *
 * Why here and not in export.c: the protocol (URLs, query parameters,
 * XML bodies, ETags, aborting a multipart upload) is independent of how the
 * bytes are produced.  Every request goes through http.c, so the address
 * guard, the limits and cancel apply; libcurl signs it (CURLOPT_AWS_SIGV4)
 * over the exact bytes sent.  Requests never follow redirects: a body is
 * not sent twice, and credentials not to another host.
 */
#include "postgres.h"

#include <openssl/evp.h>

#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "pg_elt.h"
#include "http.h"
#include "redact.h"
#include "s3.h"

/*
 * Percent-encode a key for the URL path, keeping "/" (RFC 3986 unreserved
 * characters stay as they are, as SigV4's canonical URI wants).
 */
static char *
encode_key(const char *key)
{
	StringInfoData b;
	const unsigned char *p;

	initStringInfo(&b);
	for (p = (const unsigned char *) key; *p; p++)
	{
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || *p == '/')
			appendStringInfoChar(&b, (char) *p);
		else
			appendStringInfo(&b, "%%%02X", *p);
	}
	return b.data;
}

char *
s3_display(S3Object *obj)
{
	return psprintf("s3://%s/%s", obj->bucket, obj->key);
}

/* A request on the object, query string appended (may be NULL). */
static HttpRequest *
s3_request(S3Object *obj, const char *method, const char *query)
{
	char	   *url = psprintf("%s/%s/%s%s%s", obj->endpoint, obj->bucket,
							   encode_key(obj->key), query ? "?" : "",
							   query ? query : "");
	char	   *display = psprintf("%s/%s/%s", obj->endpoint, obj->bucket,
								   encode_key(obj->key));
	HttpRequest *req = http_request_new(method, url, display);

	req->max_redirects = 0;
	req->timeout_ms = obj->timeout_ms;
	req->aws_sigv4 = psprintf("aws:amz:%s:s3", obj->region);
	req->userpwd = obj->userpwd;
	return req;
}

/*
 * Raise the error of a request the store answered with a status other than
 * 2xx; its S3 error code (<Code>) and message go into the detail, masked.
 */
static void
s3_check_status(S3Object *obj, HttpRequest *req, const char *what)
{
	char	   *code = NULL;
	char	   *b;
	char	   *e;

	obj->status = req->status;
	if (req->status >= 200 && req->status < 300)
		return;
	b = strstr(req->data.data, "<Code>");
	e = b ? strstr(b, "</Code>") : NULL;
	if (b && e)
		code = pnstrdup(b + 6, e - b - 6);
	ereport(ERROR,
			(errcode(req->status == 403 ? ERRCODE_INSUFFICIENT_PRIVILEGE :
					 ERRCODE_ELT_HTTP_STATUS),
			 errmsg("%s of %s failed with HTTP status %d",
					what, s3_display(obj), req->status),
			 code ? errdetail("The object store answered %s.", redact_text(code)) :
			 errdetail("The response began: %s",
					   redact_text(pnstrdup(req->data.data,
											Min(req->data.len, 200)))),
			 req->status == 403 ?
			 errhint("Check access_key_id, secret_access_key and region in the options.") : 0));
}

/*
 * Set the request's body and its SHA-256 (x-amz-content-sha256), which S3
 * requires and libcurl signs; the hash makes the store refuse a body
 * altered on the way.
 */
static void
s3_set_body(HttpRequest *req, const char *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char		hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int i;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the SHA-256 of a request body")));
	for (i = 0; i < mdlen; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	hex[2 * mdlen] = '\0';
	http_request_add_header(req, "x-amz-content-sha256", hex);
	req->body = data;
	req->body_len = len;
}

/* Value of the first <tag>...</tag> in an XML body, or NULL. */
static char *
xml_value(const char *xml, const char *tag)
{
	char	   *open = psprintf("<%s>", tag);
	char	   *close = psprintf("</%s>", tag);
	const char *b = strstr(xml, open);
	const char *e;

	if (b == NULL)
		return NULL;
	b += strlen(open);
	e = strstr(b, close);
	if (e == NULL)
		return NULL;
	return pnstrdup(b, e - b);
}

void
s3_put(S3Object *obj, const char *data, size_t len)
{
	HttpRequest *req = s3_request(obj, "PUT", NULL);
	const char *etag;

	http_request_add_header(req, "Content-Type", obj->content_type);
	s3_set_body(req, data, len);
	http_perform(req);
	s3_check_status(obj, req, "upload");
	etag = http_response_header(req, "etag");
	obj->etag = etag ? MemoryContextStrdup(obj->cxt, etag) : NULL;
}

void
s3_multipart_start(S3Object *obj)
{
	HttpRequest *req = s3_request(obj, "POST", "uploads=");

	http_request_add_header(req, "Content-Type", obj->content_type);
	s3_set_body(req, "", 0);
	http_perform(req);
	s3_check_status(obj, req, "start of the multipart upload");
	obj->upload_id = xml_value(req->data.data, "UploadId");
	if (obj->upload_id != NULL)
		obj->upload_id = MemoryContextStrdup(obj->cxt, obj->upload_id);
	if (obj->upload_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_ELT_PARSE),
				 errmsg("start of the multipart upload of %s returned no upload id",
						s3_display(obj))));
}

HttpRequest *
s3_multipart_part_start(S3Object *obj, const char *data, size_t len)
{
	int			part = list_length(obj->etags) + 1;
	HttpRequest *req = s3_request(obj, "PUT",
								  psprintf("partNumber=%d&uploadId=%s", part,
										   obj->upload_id));

	http_request_add_header(req, "Content-Type", "application/octet-stream");
	s3_set_body(req, data, len);
	http_request_start(req);
	return req;
}

void
s3_multipart_part_finish(S3Object *obj, HttpRequest *req)
{
	int			part;
	const char *etag;

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
	part = list_length(obj->etags) + 1;
	http_request_check(req);
	s3_check_status(obj, req, psprintf("upload of part %d", part));
	etag = http_response_header(req, "etag");
	if (etag == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_ELT_PARSE),
				 errmsg("upload of part %d of %s returned no ETag", part,
						s3_display(obj))));
	{
		MemoryContext old = MemoryContextSwitchTo(obj->cxt);

		obj->etags = lappend(obj->etags, pstrdup(etag));
		MemoryContextSwitchTo(old);
	}
}

void
s3_multipart_part(S3Object *obj, const char *data, size_t len)
{
	s3_multipart_part_finish(obj, s3_multipart_part_start(obj, data, len));
}

void
s3_multipart_complete(S3Object *obj)
{
	HttpRequest *req = s3_request(obj, "POST",
								  psprintf("uploadId=%s", obj->upload_id));
	StringInfoData body;
	ListCell   *lc;
	char	   *etag;

	initStringInfo(&body);
	appendStringInfoString(&body, "<CompleteMultipartUpload>");
	foreach(lc, obj->etags)
		appendStringInfo(&body, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
						 foreach_current_index(lc) + 1, (char *) lfirst(lc));
	appendStringInfoString(&body, "</CompleteMultipartUpload>");
	http_request_add_header(req, "Content-Type", "application/xml");
	s3_set_body(req, body.data, body.len);
	http_perform(req);
	s3_check_status(obj, req, "completion of the multipart upload");
	/* S3 may answer 200 with an error document */
	if (strstr(req->data.data, "<Error>") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_ELT_HTTP_STATUS),
				 errmsg("completion of the multipart upload of %s failed",
						s3_display(obj)),
				 errdetail("The object store answered %s.",
						   redact_text(xml_value(req->data.data, "Code") ?
									   xml_value(req->data.data, "Code") : "an error"))));
	etag = xml_value(req->data.data, "ETag");
	if (etag != NULL && strncmp(etag, "&quot;", 6) == 0)
	{
		/* the ETag in XML is quoted with entities */
		size_t		l = strlen(etag);

		if (l >= 12 && strcmp(etag + l - 6, "&quot;") == 0)
			etag = psprintf("\"%s\"", pnstrdup(etag + 6, l - 12));
	}
	obj->etag = etag ? MemoryContextStrdup(obj->cxt, etag) : NULL;
	obj->upload_id = NULL;
}

void
s3_multipart_abort(S3Object *obj)
{
	MemoryContext cxt = CurrentMemoryContext;

	if (obj->upload_id == NULL)
		return;
	PG_TRY();
	{
		HttpRequest *req = s3_request(obj, "DELETE",
									  psprintf("uploadId=%s", obj->upload_id));

		s3_set_body(req, "", 0);
		req->body = NULL;
		http_perform(req);
		if (req->status < 200 || req->status >= 300)
			ereport(WARNING,
					(errmsg("could not abort the multipart upload of %s: HTTP status %d",
							s3_display(obj), req->status),
					 errhint("Parts already sent may stay in the bucket until it is cleaned up.")));
		obj->upload_id = NULL;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(WARNING,
				(errmsg("could not abort the multipart upload of %s: %s",
						s3_display(obj), redact_text(edata->message)),
				 errhint("Parts already sent may stay in the bucket until it is cleaned up.")));
	}
	PG_END_TRY();
}

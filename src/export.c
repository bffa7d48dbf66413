/*
 * export.c
 *	  elt.export(query, destination, format, options): a query's result
 *	  written to s3://bucket/key or to an HTTP(S) URL.
 *
 * Why a DestReceiver: the caller's query runs through
 * internal_sql_exec_caller_into, as the caller and with the caller's
 * search_path, and each row reaches us as the executor produces it.  Rows
 * are formatted (as COPY's CSV, or as JSON) into a buffer of bounded size;
 * a full buffer is sent at once, as the next part of an S3 multipart
 * upload or as the next piece of a chunked HTTP request body.  So memory
 * stays bounded whatever the size of the result, and nothing is kept.
 *
 * A failed export leaves no object behind (a multipart upload is aborted;
 * an HTTP body is cut off before its end) and is recorded in
 * elt.export_run by a record writer (durable.c), since the caller's
 * transaction rolls back.  The destination recorded is the printable one:
 * secret references stay references.
 */
#include "postgres.h"

#include <zlib.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "parser/parser.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "pg_elt.h"
#include "build_progress.h"
#include "durable.h"
#include "export.h"
#include "http.h"
#include "internal_sql.h"
#include "redact.h"
#include "s3.h"
#include "secrets.h"

PG_FUNCTION_INFO_V1(elt_export);

typedef enum ExportFormat
{
	EXPORT_CSV,
	EXPORT_NDJSON,
	EXPORT_JSON
} ExportFormat;

/* An HTTP body goes out in pieces of this size. */
#define EXPORT_CHUNK (256 * 1024)
#define S3_MIN_PART (5 * 1024 * 1024)
#define S3_DEFAULT_PART (8 * 1024 * 1024)
#define S3_MAX_PARTS 10000

typedef struct Export
{
	DestReceiver pub;			/* must be first */
	MemoryContext cxt;			/* buffers, requests: outlive a rollback */
	MemoryContext rowcxt;		/* reset per row */
	MemoryContext sendcxt;		/* S3 requests, reset after each */
	MemoryContext partcxt;		/* S3: the request of the part in flight */

	/* what */
	ExportFormat format;
	bool		header;
	char		delimiter;
	bool		gzip;
	char	   *content_type;
	int			timeout_ms;

	/* where */
	bool		is_s3;
	char	   *display;		/* printable destination */
	S3Object	s3;
	size_t		part_size;
	char	   *url;			/* HTTP: real URL */
	char	   *method;
	List	   *headers;		/* of char *name, char *value pairs */
	List	   *secret_headers; /* names whose values carried secrets */
	HttpRequest *req;			/* HTTP: the request, once started */

	/* buffers */
	StringInfoData raw;			/* formatted, not yet compressed */
	StringInfoData out;			/* bytes to send */
	StringInfoData spare;		/* S3: the part in flight, then reused */
	HttpRequest *inflight;		/* S3: its request, or NULL */
	int			poll_countdown;
	z_stream	zs;
	bool		zs_ready;

	/* rows */
	TupleDesc	tupdesc;
	TupleDesc	blessed;		/* JSON: a copy to form records with */
	FmgrInfo   *outfuncs;
	char	   *intkind;		/* CSV: 2, 4 or 8 for integers written directly */
	char		csv_special[5]; /* what makes a CSV field quoted */
	int			unreported;		/* rows not yet counted in build_progress */
	int64		rows;
	int64		bytes;
	bool		finished;
} Export;

/* ---------------------------------------------------------------------
 * Sending.
 * ---------------------------------------------------------------------
 */

/* Wait for the S3 part in flight, if any, and keep its ETag. */
static void
finish_inflight(Export *ex)
{
	MemoryContext old;

	if (ex->inflight == NULL)
		return;
	old = MemoryContextSwitchTo(ex->partcxt);
	s3_multipart_part_finish(&ex->s3, ex->inflight);
	ex->inflight = NULL;
	MemoryContextSwitchTo(old);
	MemoryContextReset(ex->partcxt);
}

/*
 * Send what is in out: an S3 part once it is large enough (a single PUT
 * when the whole object fits in one part), or the next piece of the HTTP
 * body.
 */
static void
send_out(Export *ex, bool last)
{
	if (ex->is_s3)
	{
		MemoryContext old;

		if (!last && ex->out.len < ex->part_size)
			return;
		old = MemoryContextSwitchTo(ex->sendcxt);
		if (last && ex->s3.upload_id == NULL)
		{
			build_progress_phase("sending");
			s3_put(&ex->s3, ex->out.data, ex->out.len);
		}
		else
		{
			if (ex->s3.upload_id == NULL)
				s3_multipart_start(&ex->s3);
			finish_inflight(ex);
			if (list_length(ex->s3.etags) >= S3_MAX_PARTS)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("export to %s needs more than %d parts",
								ex->display, S3_MAX_PARTS),
						 errhint("Raise part_size in the options.")));
			if (!last || ex->out.len > 0 || list_length(ex->s3.etags) == 0)
			{
				char		phase[32];

				snprintf(phase, sizeof(phase), "sending part %d",
						 list_length(ex->s3.etags) + 1);
				build_progress_phase(phase);
			}
			if (!last)
			{
				/* send this part while the next one is formatted */
				StringInfoData t = ex->spare;

				ex->spare = ex->out;
				ex->out = t;
				resetStringInfo(&ex->out);
				MemoryContextSwitchTo(ex->partcxt);
				ex->inflight = s3_multipart_part_start(&ex->s3, ex->spare.data,
													   ex->spare.len);
				MemoryContextSwitchTo(old);
				MemoryContextReset(ex->sendcxt);
				ex->bytes += ex->spare.len;
				build_progress_bytes(ex->spare.len);
				return;
			}
			if (ex->out.len > 0 || list_length(ex->s3.etags) == 0)
				s3_multipart_part(&ex->s3, ex->out.data, ex->out.len);
			build_progress_phase("completing");
			s3_multipart_complete(&ex->s3);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(ex->sendcxt);
	}
	else
	{
		if (!last && ex->out.len < EXPORT_CHUNK)
			return;
		if (ex->req == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(ex->cxt);
			ListCell   *lc;

			ex->req = http_request_new(ex->method, ex->url, ex->display);
			ex->req->upload = true;
			ex->req->timeout_ms = ex->timeout_ms;
			http_request_add_header(ex->req, "Content-Type", ex->content_type);
			for (lc = list_head(ex->headers); lc; lc = lnext(ex->headers, lc))
			{
				char	   *name = lfirst(lc);
				char	   *value;

				lc = lnext(ex->headers, lc);
				value = lfirst(lc);
				if (list_member(ex->secret_headers, makeString(name)))
					http_request_add_secret_header(ex->req, name, value);
				else
					http_request_add_header(ex->req, name, value);
			}
			http_request_start(ex->req);
			MemoryContextSwitchTo(old);
			build_progress_phase("sending");
		}
		/* the last piece: then the answer is awaited */
		if (last)
			build_progress_phase("completing");
		build_progress_bytes(ex->out.len);
		http_request_upload(ex->req, ex->out.data, ex->out.len, last);
		if (ex->req->done && !last)
			ereport(ERROR,
					(errcode(ERRCODE_ELT_HTTP_STATUS),
					 errmsg("export to %s failed: the server answered HTTP status %d before the end of the body",
							ex->display, ex->req->status)));
		if (last && (ex->req->status < 200 || ex->req->status >= 300))
			ereport(ERROR,
					(errcode(ERRCODE_ELT_HTTP_STATUS),
					 errmsg("export to %s failed with HTTP status %d",
							ex->display, ex->req->status),
					 errdetail("The response began: %s",
							   redact_text(pnstrdup(ex->req->data.data,
													Min(ex->req->data.len, 200))))));
	}
	if (ex->is_s3)
		build_progress_bytes(ex->out.len);
	ex->bytes += ex->out.len;
	resetStringInfo(&ex->out);
}

/* Compress what is in raw into out (all of it, and the trailer if last). */
static void
deflate_raw(Export *ex, bool last)
{
	ex->zs.next_in = (Bytef *) ex->raw.data;
	ex->zs.avail_in = ex->raw.len;
	for (;;)
	{
		int			rc;
		size_t		room;

		enlargeStringInfo(&ex->out, 64 * 1024);
		room = ex->out.maxlen - ex->out.len - 1;
		ex->zs.next_out = (Bytef *) ex->out.data + ex->out.len;
		ex->zs.avail_out = room;
		rc = deflate(&ex->zs, last ? Z_FINISH : Z_NO_FLUSH);
		if (rc == Z_STREAM_ERROR)
			elog(ERROR, "could not compress the export: %s",
				 ex->zs.msg ? ex->zs.msg : "stream error");
		ex->out.len += room - ex->zs.avail_out;
		if (last ? rc == Z_STREAM_END : (ex->zs.avail_in == 0 && ex->zs.avail_out > 0))
			break;
	}
	resetStringInfo(&ex->raw);
}

/* Formatted rows reached a flush point: compress if asked, then send. */
static void
flush_rows(Export *ex, bool last)
{
	if (ex->gzip)
		deflate_raw(ex, last);
	send_out(ex, last);
}

/* Where rows are formatted: out directly, unless they are compressed. */
static inline StringInfo
fmt_buf(Export *ex)
{
	return ex->gzip ? &ex->raw : &ex->out;
}

/* ---------------------------------------------------------------------
 * Formatting.
 * ---------------------------------------------------------------------
 */

/*
 * One CSV field, quoted as COPY ... (FORMAT csv) quotes it: when it is
 * empty, holds the delimiter, a quote or a line break, or is the end-of-data
 * marker alone on a line.  special is those characters (csv_special).
 */
static void
csv_field(StringInfo buf, const char *s, const char *special, bool single)
{
	size_t		n = strcspn(s, special);
	const char *p;

	if (s[n] == '\0' && n > 0 && !(single && strcmp(s, "\\.") == 0))
	{
		/* the length is known: no second strlen */
		appendBinaryStringInfo(buf, s, n);
		return;
	}
	appendStringInfoCharMacro(buf, '"');
	for (p = s; *p; p++)
	{
		if (*p == '"')
			appendStringInfoCharMacro(buf, '"');
		appendStringInfoCharMacro(buf, *p);
	}
	appendStringInfoCharMacro(buf, '"');
}

/*
 * An integer column written straight into the buffer, without its output
 * function's palloc'd string: the same digits int2out, int4out and int8out
 * give, never quoted (a delimiter that is a digit or '-' disables this).
 */
static inline void
csv_integer(StringInfo buf, char kind, Datum value)
{
	enlargeStringInfo(buf, MAXINT8LEN + 1);
	if (kind == 8)
		buf->len += pg_lltoa(DatumGetInt64(value), buf->data + buf->len);
	else if (kind == 4)
		buf->len += pg_ltoa(DatumGetInt32(value), buf->data + buf->len);
	else
		buf->len += pg_itoa(DatumGetInt16(value), buf->data + buf->len);
	buf->data[buf->len] = '\0';
}

static void
export_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	Export	   *ex = (Export *) self;
	MemoryContext old = MemoryContextSwitchTo(ex->cxt);
	int			i;
	int			nlive = 0;

	ex->tupdesc = typeinfo;
	ex->outfuncs = palloc0(sizeof(FmgrInfo) * typeinfo->natts);
	ex->intkind = palloc0(typeinfo->natts);
	snprintf(ex->csv_special, sizeof(ex->csv_special), "%c\"\n\r", ex->delimiter);
	for (i = 0; i < typeinfo->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(typeinfo, i);
		Oid			func;
		bool		varlena;

		if (att->attisdropped)
			continue;
		nlive++;
		getTypeOutputInfo(att->atttypid, &func, &varlena);
		fmgr_info(func, &ex->outfuncs[i]);
		if (strchr("-0123456789", ex->delimiter) == NULL)
			ex->intkind[i] = att->atttypid == INT8OID ? 8 :
				att->atttypid == INT4OID ? 4 :
				att->atttypid == INT2OID ? 2 : 0;
	}
	if (ex->format != EXPORT_CSV)
	{
		ex->blessed = CreateTupleDescCopy(typeinfo);
		BlessTupleDesc(ex->blessed);
	}
	if (ex->format == EXPORT_CSV && ex->header)
	{
		bool		first = true;

		for (i = 0; i < typeinfo->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(typeinfo, i);

			if (att->attisdropped)
				continue;
			if (!first)
				appendStringInfoChar(fmt_buf(ex), ex->delimiter);
			first = false;
			csv_field(fmt_buf(ex), NameStr(att->attname), ex->csv_special, nlive == 1);
		}
		appendStringInfoChar(fmt_buf(ex), '\n');
	}
	else if (ex->format == EXPORT_JSON)
		appendStringInfoChar(fmt_buf(ex), '[');
	MemoryContextSwitchTo(old);
}

static bool
export_receive(TupleTableSlot *slot, DestReceiver *self)
{
	Export	   *ex = (Export *) self;
	StringInfo	buf = fmt_buf(ex);
	MemoryContext old = MemoryContextSwitchTo(ex->rowcxt);
	int			natts = ex->tupdesc->natts;
	int			i;

	slot_getallattrs(slot);
	if (ex->format == EXPORT_CSV)
	{
		bool		first = true;

		for (i = 0; i < natts; i++)
		{
			if (TupleDescAttr(ex->tupdesc, i)->attisdropped)
				continue;
			if (!first)
				appendStringInfoCharMacro(buf, ex->delimiter);
			first = false;
			if (slot->tts_isnull[i])
				continue;
			if (ex->intkind[i] != 0)
				csv_integer(buf, ex->intkind[i], slot->tts_values[i]);
			else
				csv_field(buf, OutputFunctionCall(&ex->outfuncs[i], slot->tts_values[i]),
						  ex->csv_special, natts == 1);
		}
		appendStringInfoCharMacro(buf, '\n');
	}
	else
	{
		HeapTuple	tup = heap_form_tuple(ex->blessed, slot->tts_values, slot->tts_isnull);
		text	   *j = DatumGetTextPP(DirectFunctionCall1(row_to_json,
														   HeapTupleGetDatum(tup)));

		if (ex->format == EXPORT_JSON && ex->rows > 0)
			appendStringInfoString(buf, ",\n");
		appendBinaryStringInfo(buf, VARDATA_ANY(j), VARSIZE_ANY_EXHDR(j));
		if (ex->format == EXPORT_NDJSON)
			appendStringInfoCharMacro(buf, '\n');
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(ex->rowcxt);
	ex->rows++;
	if (++ex->unreported >= 1024)
	{
		build_progress_rows(ex->unreported);
		ex->unreported = 0;
	}
	/* keep the part in flight moving */
	if (ex->inflight != NULL && ++ex->poll_countdown >= 256)
	{
		ex->poll_countdown = 0;
		http_poll();
	}

	if (buf->len >= (ex->gzip ? EXPORT_CHUNK : (ex->is_s3 ? (int) ex->part_size : EXPORT_CHUNK)))
	{
		old = MemoryContextSwitchTo(ex->cxt);
		flush_rows(ex, false);
		MemoryContextSwitchTo(old);
	}
	return true;
}

static void
export_shutdown(DestReceiver *self)
{
}

static void
export_destroy(DestReceiver *self)
{
}

/* ---------------------------------------------------------------------
 * Arguments.
 * ---------------------------------------------------------------------
 */

/*
 * The query must be one SELECT (or VALUES, or WITH ... SELECT): anything
 * else would run a command, not produce rows to export.
 */
static void
check_query(const char *query)
{
	List	   *stmts = raw_parser(query, RAW_PARSE_DEFAULT);
	RawStmt    *rs;

	if (list_length(stmts) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("query must be a single SELECT statement")));
	rs = linitial_node(RawStmt, stmts);
	if (!IsA(rs->stmt, SelectStmt) || ((SelectStmt *) rs->stmt)->intoClause != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("query must be a SELECT statement"),
				 errdetail("elt.export() writes the rows a query returns; it does not run commands.")));
}

/* A jsonb scalar as text; what names it in errors. */
static char *
jsonb_scalar_text(JsonbValue *v, const char *what)
{
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return v->val.boolean ? "true" : "false";
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" must be a string, number or boolean", what)));
	}
	return NULL;
}

static bool
parse_bool_option(const char *name, const char *v)
{
	bool		b;

	if (!parse_bool(v, &b))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a boolean, not \"%s\"", name, v)));
	return b;
}

/*
 * Replace {{interval_start}} and {{interval_end}} in a destination by the
 * bounds of the pipeline run's interval, from elt.run_interval() when that
 * function exists (it comes with pipelines' run intervals).
 */
static char *
expand_interval(const char *dest)
{
	Oid			fn;
	char	   *start;
	char	   *end;
	StringInfoData b;
	const char *p;

	if (strstr(dest, "{{interval_") == NULL)
		return pstrdup(dest);
	fn = LookupFuncName(list_make2(makeString("elt"), makeString("run_interval")),
						0, NULL, true);
	if (!OidIsValid(fn))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("destination references the run interval, but this installation has no elt.run_interval()"),
				 errhint("Use {{interval_start}} and {{interval_end}} only in pipelines with run intervals, or write the destination out.")));
	/*
	 * In UTC, as a date when the bound is a midnight (daily intervals read
	 * reports/2026-03-01.csv) and as an ISO 8601 timestamp otherwise: no
	 * spaces, so the key needs no quoting.
	 */
	internal_sql_exec("SELECT pg_catalog.to_char(b.v AT TIME ZONE 'UTC', "
					  "  CASE WHEN (b.v AT TIME ZONE 'UTC')::pg_catalog.time "
					  "            OPERATOR(pg_catalog.=) '00:00'::pg_catalog.time "
					  "       THEN 'YYYY-MM-DD' ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"' END) "
					  "FROM elt.run_interval() r, "
					  "     LATERAL (VALUES (1, r.interval_start), (2, r.interval_end)) AS b(n, v) "
					  "ORDER BY b.n", 0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	if (SPI_processed != 2 || internal_sql_isnull(0, 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("destination references the run interval, but there is no run interval here"),
				 errhint("Call elt.export() with such a destination from a pipeline step.")));
	start = internal_sql_text(0, 1);
	end = internal_sql_isnull(1, 1) ? "" : internal_sql_text(1, 1);
	initStringInfo(&b);
	for (p = dest; *p;)
	{
		if (strncmp(p, "{{interval_start}}", 18) == 0)
		{
			appendStringInfoString(&b, start);
			p += 18;
		}
		else if (strncmp(p, "{{interval_end}}", 16) == 0)
		{
			appendStringInfoString(&b, end);
			p += 16;
		}
		else
			appendStringInfoChar(&b, *p++);
	}
	return b.data;
}

/* Parse destination, format and options into ex; all errors come here. */
static void
export_configure(Export *ex, const char *dest_in, const char *format, Jsonb *options)
{
	char	   *access_key = NULL;
	char	   *secret_key = NULL;
	char	   *endpoint = NULL;
	char	   *region = "us-east-1";
	char	   *dest;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (pg_strcasecmp(format, "csv") == 0)
		ex->format = EXPORT_CSV;
	else if (pg_strcasecmp(format, "ndjson") == 0)
		ex->format = EXPORT_NDJSON;
	else if (pg_strcasecmp(format, "json") == 0)
		ex->format = EXPORT_JSON;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown export format \"%s\"", format),
				 errhint("The formats are csv, ndjson and json.")));
	ex->header = true;
	ex->delimiter = ',';
	ex->part_size = S3_DEFAULT_PART;
	ex->method = "PUT";

	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a JSON object")));
	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *val;

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		if (strcmp(key, "headers") == 0)
		{
			JsonbIterator *hit;
			JsonbValue	hv;
			char	   *hname = NULL;

			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"headers\" must be a JSON object")));
			hit = JsonbIteratorInit(v.val.binary.data);
			while ((tok = JsonbIteratorNext(&hit, &hv, true)) != WJB_DONE)
			{
				if (tok == WJB_KEY)
					hname = pnstrdup(hv.val.string.val, hv.val.string.len);
				else if (tok == WJB_VALUE)
				{
					char	   *hval = jsonb_scalar_text(&hv, hname);

					if (secrets_referenced(hval))
					{
						ex->secret_headers = lappend(ex->secret_headers, makeString(hname));
						hval = secrets_substitute(hval);
					}
					ex->headers = lappend(ex->headers, hname);
					ex->headers = lappend(ex->headers, hval);
				}
			}
			continue;
		}
		val = jsonb_scalar_text(&v, key);
		if (strcmp(key, "header") == 0)
			ex->header = parse_bool_option(key, val);
		else if (strcmp(key, "gzip") == 0)
			ex->gzip = parse_bool_option(key, val);
		else if (strcmp(key, "delimiter") == 0)
		{
			if (strlen(val) != 1 || *val == '"' || *val == '\n' || *val == '\r')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"delimiter\" must be one character other than a quote or a line break")));
			ex->delimiter = *val;
		}
		else if (strcmp(key, "content_type") == 0)
			ex->content_type = val;
		else if (strcmp(key, "method") == 0)
		{
			if (pg_strcasecmp(val, "PUT") != 0 && pg_strcasecmp(val, "POST") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"method\" must be PUT or POST, not \"%s\"", val)));
			ex->method = asc_toupper(val, strlen(val));
		}
		else if (strcmp(key, "timeout") == 0)
		{
			Interval   *iv = DatumGetIntervalP(DirectFunctionCall3(interval_in,
																   CStringGetDatum(val),
																   ObjectIdGetDatum(InvalidOid),
																   Int32GetDatum(-1)));
			double		ms = (double) iv->time / 1000.0 +
				((double) iv->day + (double) iv->month * DAYS_PER_MONTH) * 86400000.0;

			if (ms < 1.0 || ms > (double) INT_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"timeout\" must be between 1 millisecond and 24 days")));
			ex->timeout_ms = (int) ms;
		}
		else if (strcmp(key, "part_size") == 0)
		{
			int64		n = pg_strtoint64(val);

			if (n < S3_MIN_PART || n > (int64) 1024 * 1024 * 1024)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"part_size\" must be between 5 MiB and 1 GiB (in bytes)")));
			ex->part_size = (size_t) n;
		}
		else if (strcmp(key, "endpoint") == 0)
			endpoint = val;
		else if (strcmp(key, "region") == 0)
			region = val;
		else if (strcmp(key, "access_key_id") == 0)
			access_key = val;
		else if (strcmp(key, "secret_access_key") == 0)
			secret_key = val;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown export option \"%s\"", key),
					 errhint("The options are header, delimiter, gzip, content_type, timeout, method, headers (HTTP), endpoint, region, access_key_id, secret_access_key and part_size (S3).")));
	}
	if (ex->content_type == NULL)
		ex->content_type = ex->gzip ? "application/gzip" :
			ex->format == EXPORT_CSV ? "text/csv; charset=utf-8" :
			ex->format == EXPORT_NDJSON ? "application/x-ndjson" : "application/json";

	dest = expand_interval(dest_in);
	if (pg_strncasecmp(dest, "s3://", 5) == 0)
	{
		char	   *b = dest + 5;
		char	   *slash = strchr(b, '/');

		if (secrets_referenced(dest))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("an s3:// destination cannot reference a secret"),
					 errhint("Put credentials in the options access_key_id and secret_access_key.")));
		if (slash == NULL || slash == b || slash[1] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid destination \"%s\"", dest),
					 errhint("An object store destination is s3://bucket/key.")));
		if (access_key == NULL || secret_key == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("an s3:// destination needs the options access_key_id and secret_access_key"),
					 errhint("Reference stored secrets: {\"access_key_id\": \"{{secret:aws_key}}\", \"secret_access_key\": \"{{secret:aws_secret}}\"}.")));
		if (ex->headers != NIL || strcmp(ex->method, "PUT") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("options \"method\" and \"headers\" apply to HTTP destinations only")));
		ex->is_s3 = true;
		ex->s3.bucket = pnstrdup(b, slash - b);
		ex->s3.key = pstrdup(slash + 1);
		ex->s3.region = region;
		if (endpoint == NULL)
			endpoint = psprintf("https://s3.%s.amazonaws.com", region);
		if (pg_strncasecmp(endpoint, "http://", 7) != 0 &&
			pg_strncasecmp(endpoint, "https://", 8) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"endpoint\" must be an http:// or https:// URL")));
		secrets_check_url_template(endpoint, "endpoint");
		while (strlen(endpoint) > 8 && endpoint[strlen(endpoint) - 1] == '/')
			endpoint[strlen(endpoint) - 1] = '\0';
		ex->s3.endpoint = endpoint;
		ex->s3.userpwd = psprintf("%s:%s", secrets_substitute(access_key),
								  secrets_substitute(secret_key));
		ex->s3.content_type = ex->content_type;
		ex->s3.timeout_ms = ex->timeout_ms;
		ex->display = s3_display(&ex->s3);
	}
	else if (pg_strncasecmp(dest, "http://", 7) == 0 || pg_strncasecmp(dest, "https://", 8) == 0)
	{
		if (endpoint || access_key || secret_key)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("options \"endpoint\", \"access_key_id\" and \"secret_access_key\" apply to s3:// destinations only"),
					 errhint("Send credentials to an HTTP destination in \"headers\".")));
		secrets_check_url_template(dest, "destination");
		ex->display = secrets_redact_url(dest);
		ex->url = secrets_substitute_url(dest);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unsupported export destination \"%s\"", secrets_redact_url(dest)),
				 errhint("A destination is s3://bucket/key, http://... or https://....")));
}

/* ---------------------------------------------------------------------
 * History.
 * ---------------------------------------------------------------------
 */

/*
 * Write the run to elt.export_run in a transaction of its own, so that a
 * failed export is recorded although its caller rolls back; the owner is
 * the calling role, never a value from the arguments.
 */
static void
record_run(Export *ex, const char *query, const char *format, TimestampTz started,
		   ErrorData *edata)
{
	Oid			types[12] = {OIDOID, TEXTOID, TEXTOID, INT8OID, INT8OID, TEXTOID,
	TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, INT4OID, TEXTOID};
	const char *values[12];
	char	   *q = pstrdup(query);
	int			status = ex->is_s3 ? ex->s3.status : (ex->req ? ex->req->status : 0);

	values[0] = psprintf("%u", GetUserId());
	values[1] = redact_text(ex->display);
	values[2] = asc_tolower(format, strlen(format));
	values[3] = psprintf(INT64_FORMAT, ex->rows);
	values[4] = psprintf(INT64_FORMAT, ex->bytes);
	values[5] = edata ? "failed" : "succeeded";
	values[6] = edata ? redact_text(edata->message) : NULL;
	values[7] = edata ? unpack_sql_state(edata->sqlerrcode) : NULL;
	values[8] = timestamptz_to_str(started);
	values[9] = ex->is_s3 && !edata ? ex->s3.etag : NULL;
	values[10] = status > 0 ? psprintf("%d", status) : NULL;
	/* the query is kept short, as a model's source is: the record is for reading */
	if (strlen(q) > 1000)
		q[pg_mbcliplen(q, strlen(q), 1000)] = '\0';
	values[11] = redact_text(q);
	(void) durable_exec("the export in elt.export_run",
						"INSERT INTO elt.export_run (owner, destination, format, rows, bytes, "
						"status, error, error_code, started_at, finished_at, etag, http_status, "
						"query) "
						"VALUES ($1::pg_catalog.regrole, $2, $3, $4, $5, $6, $7, $8, $9, "
						"pg_catalog.clock_timestamp(), $10, $11, $12)",
						12, types, values, InvalidOid);
}

/* ---------------------------------------------------------------------
 * elt.export()
 * ---------------------------------------------------------------------
 */

/*
 * elt.export(query, destination, format, options) returns (rows, bytes,
 * elapsed, etag, status).
 */
Datum
elt_export(PG_FUNCTION_ARGS)
{
	MemoryContext callcxt = CurrentMemoryContext;
	ResourceOwner callowner = CurrentResourceOwner;
	TupleDesc	tupdesc;
	Export	   *ex;
	char	   *query;
	char	   *format;
	TimestampTz started = GetCurrentTimestamp();
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	Interval   *elapsed;
	int			status;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("query and destination must not be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	format = PG_ARGISNULL(2) ? "csv" : text_to_cstring(PG_GETARG_TEXT_PP(2));

	ex = palloc0(sizeof(Export));
	ex->cxt = AllocSetContextCreate(callcxt, "elt.export", ALLOCSET_DEFAULT_SIZES);
	ex->rowcxt = AllocSetContextCreate(ex->cxt, "elt.export row", ALLOCSET_DEFAULT_SIZES);
	ex->sendcxt = AllocSetContextCreate(ex->cxt, "elt.export request", ALLOCSET_DEFAULT_SIZES);
	ex->partcxt = AllocSetContextCreate(ex->cxt, "elt.export part", ALLOCSET_DEFAULT_SIZES);
	ex->s3.cxt = ex->cxt;
	ex->pub.receiveSlot = export_receive;
	ex->pub.rStartup = export_startup;
	ex->pub.rShutdown = export_shutdown;
	ex->pub.rDestroy = export_destroy;
	ex->pub.mydest = DestNone;

	check_query(query);
	SPI_connect();
	MemoryContextSwitchTo(ex->cxt);
	export_configure(ex, text_to_cstring(PG_GETARG_TEXT_PP(1)), format,
					 PG_ARGISNULL(3) ? DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))) :
					 PG_GETARG_JSONB_P(3));
	initStringInfo(&ex->raw);
	initStringInfo(&ex->out);
	initStringInfo(&ex->spare);
	if (ex->gzip)
	{
		if (deflateInit2(&ex->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
						 Z_DEFAULT_STRATEGY) != Z_OK)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		ex->zs_ready = true;
	}

	/* seen in elt.build_progress until it ends; a failure's abort clears it */
	build_progress_start("export", ex->display);
	build_progress_phase("query");

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(ex->cxt);
	PG_TRY();
	{
		internal_sql_exec_caller_into(query, &ex->pub);
		if (ex->tupdesc == NULL)
			elog(ERROR, "query of elt.export() returned no row description");
		if (ex->format == EXPORT_JSON)
			appendStringInfoString(fmt_buf(ex), "]\n");
		build_progress_rows(ex->unreported);
		ex->unreported = 0;
		flush_rows(ex, true);
		ex->finished = true;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(ex->cxt);
		CurrentResourceOwner = callowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(ex->cxt);
		edata = CopyErrorData();
		FlushErrorState();
		redact_error_data(edata);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(ex->cxt);
		CurrentResourceOwner = callowner;

		if (ex->zs_ready)
			deflateEnd(&ex->zs);
		/* cut an HTTP body off before its end, so nothing is stored */
		if (ex->req != NULL)
			http_request_cancel(ex->req);
		if (ex->inflight != NULL)
			http_request_cancel(ex->inflight);
		if (ex->is_s3)
			s3_multipart_abort(&ex->s3);
		record_run(ex, query, format, started, edata);
		MemoryContextSwitchTo(callcxt);
		ReThrowError(edata);
	}
	PG_END_TRY();

	if (ex->zs_ready)
		deflateEnd(&ex->zs);
	build_progress_end();
	record_run(ex, query, format, started, NULL);
	SPI_finish();
	MemoryContextSwitchTo(callcxt);

	values[0] = Int64GetDatum(ex->rows);
	values[1] = Int64GetDatum(ex->bytes);
	elapsed = palloc0(sizeof(Interval));
	elapsed->time = GetCurrentTimestamp() - started;
	values[2] = IntervalPGetDatum(elapsed);
	if (ex->is_s3 && ex->s3.etag)
		values[3] = CStringGetTextDatum(ex->s3.etag);
	else
		nulls[3] = true;
	status = ex->is_s3 ? ex->s3.status : ex->req->status;
	values[4] = Int32GetDatum(status);
	MemoryContextDelete(ex->cxt);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

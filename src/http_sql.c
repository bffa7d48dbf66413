/*
 * http_sql.c
 *	  elt.http(), elt.http_get() and elt.http_post(): one HTTP request from
 *	  SQL, answered as a row.
 *
 * An HTTP error status is a result (404 is a row, not an exception), so a
 * caller can branch on it; only transport failures (timeouts, refused
 * connections, dropped transfers, the address guard) are errors.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "datatype/timestamp.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/jsonb.h"

#include "pg_elt.h"
#include "http.h"
#include "http_sql.h"
#include "secrets.h"

PG_FUNCTION_INFO_V1(elt_http);
PG_FUNCTION_INFO_V1(elt_http_get);
PG_FUNCTION_INFO_V1(elt_http_post);

/* Interval argument to milliseconds; must be positive. */
static int
interval_to_ms(Interval *iv)
{
	double		ms = (double) iv->time / 1000.0 +
		((double) iv->day + (double) iv->month * DAYS_PER_MONTH) * 86400000.0;

	if (ms < 1.0 || ms > (double) INT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout must be between 1 millisecond and 24 days")));
	return (int) ms;
}

/*
 * Add the headers of a jsonb object to the request.  Values must be
 * scalars; {{secret:NAME}} references in them are substituted here, and
 * such headers are marked as credentials.
 */
static void
add_headers_from_jsonb(HttpRequest *req, Jsonb *headers)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *name = NULL;

	if (headers == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(headers))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("headers must be a JSON object"),
				 errhint("For example: '{\"Accept\": \"application/json\"}'.")));

	it = JsonbIteratorInit(&headers->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *value;

		if (tok == WJB_KEY)
		{
			name = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		switch (v.type)
		{
			case jbvString:
				value = pnstrdup(v.val.string.val, v.val.string.len);
				break;
			case jbvNumeric:
				value = DatumGetCString(DirectFunctionCall1(numeric_out,
															NumericGetDatum(v.val.numeric)));
				break;
			case jbvBool:
				value = v.val.boolean ? "true" : "false";
				break;
			default:
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("value of header \"%s\" must be a string, number or boolean", name)));
		}
		if (secrets_referenced(value))
			http_request_add_secret_header(req, name, secrets_substitute(value));
		else
			http_request_add_header(req, name, value);
	}
}

/* Make one request and build the elt.http_response row. */
static Datum
do_http(FunctionCallInfo fcinfo, const char *method, text *url_t, Jsonb *headers,
		text *body_t, Interval *timeout)
{
	TupleDesc	tupdesc;
	char	   *url_template;
	char	   *display;
	HttpRequest *req;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Interval   *elapsed;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	url_template = text_to_cstring(url_t);
	display = secrets_redact_url(url_template);
	req = http_request_new(method, secrets_substitute_url(url_template), display);
	add_headers_from_jsonb(req, headers);
	if (body_t != NULL)
	{
		req->body = VARDATA_ANY(body_t);
		req->body_len = VARSIZE_ANY_EXHDR(body_t);
	}
	if (timeout != NULL)
		req->timeout_ms = interval_to_ms(timeout);

	http_perform(req);

	if (pg_verifymbstr(req->data.data, req->data.len, true) == false ||
		memchr(req->data.data, '\0', req->data.len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("response body of %s is not valid text in encoding \"%s\"",
						req->display_url, GetDatabaseEncodingName()),
				 errhint("elt.http returns text bodies only.")));

	values[0] = Int32GetDatum(req->status);
	values[1] = JsonbPGetDatum(http_response_headers_jsonb(req));
	if (strcmp(req->method, "HEAD") == 0)
		nulls[2] = true;
	else
		values[2] = PointerGetDatum(cstring_to_text_with_len(req->data.data, req->data.len));
	elapsed = palloc0(sizeof(Interval));
	elapsed->time = req->elapsed_us;
	values[3] = IntervalPGetDatum(elapsed);

	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* Argument n, or NULL when SQL NULL. */
#define ARG_OR_NULL(n, getter) (PG_ARGISNULL(n) ? NULL : getter(n))

/*
 * elt.http(method, url, headers, body, timeout)
 */
Datum
elt_http(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("method and url must not be null")));
	return do_http(fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)),
				   PG_GETARG_TEXT_PP(1),
				   ARG_OR_NULL(2, PG_GETARG_JSONB_P),
				   ARG_OR_NULL(3, PG_GETARG_TEXT_PP),
				   ARG_OR_NULL(4, PG_GETARG_INTERVAL_P));
}

/*
 * elt.http_get(url, headers)
 */
Datum
elt_http_get(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("url must not be null")));
	return do_http(fcinfo, "GET", PG_GETARG_TEXT_PP(0),
				   ARG_OR_NULL(1, PG_GETARG_JSONB_P), NULL, NULL);
}

/*
 * elt.http_post(url, body, headers)
 */
Datum
elt_http_post(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("url must not be null")));
	return do_http(fcinfo, "POST", PG_GETARG_TEXT_PP(0),
				   ARG_OR_NULL(2, PG_GETARG_JSONB_P),
				   ARG_OR_NULL(1, PG_GETARG_TEXT_PP), NULL);
}

/*
 * validate.c
 *	  Definition-time checks of sources, streams and pipeline options:
 *	  everything that can be checked without a request.
 *
 * The JSON settings are checked by their option tables (options.c); what
 * is checked here is the rest of a definition: names, URLs, headers,
 * query parameters, format, records path, primary key and target.  The
 * messages are those of the PL/pgSQL checks these replace.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "fanout.h"
#include "options.h"
#include "records.h"
#include "secrets.h"
#include "validate.h"

PG_FUNCTION_INFO_V1(elt_validate_source);
PG_FUNCTION_INFO_V1(elt_validate_stream);
PG_FUNCTION_INFO_V1(elt_check_pipeline_options);
PG_FUNCTION_INFO_V1(elt_validate_format_options);
PG_FUNCTION_INFO_V1(elt_validate_normalize_options);

/* A token as RFC 9110 defines header names. */
#define HEADER_NAME_RE	"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"

/*
 * A text argument, NULL for SQL NULL.
 */
static char *
arg_text(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * A jsonb argument, NULL for SQL NULL.
 */
static Jsonb *
arg_jsonb(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : PG_GETARG_JSONB_P(n);
}

/*
 * A value for a message: quoted as a literal, or NULL.
 */
static char *
quoted_or_null(const char *s)
{
	return s ? psprintf("\"%s\"", s) : "NULL";
}

/*
 * Source and stream names are joined with a dot into a stream's qualified
 * name, and printed in messages and records.
 */
static void
check_name(const char *name, const char *what)
{
	if (name == NULL || name[0] == '\0' || strchr(name, '.') ||
		options_regex_match(name, "[[:cntrl:]]", false))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid %s name %s", what, quoted_or_null(name)),
				 errdetail("A %s name is a non-empty string without dots or control characters.",
						   what)));
}

/*
 * Headers are sent as they are written: names must be tokens, values
 * must not break the request's lines.
 */
static void
check_headers(Jsonb *headers)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	char	   *key = NULL;

	if (headers == NULL || !JB_ROOT_IS_OBJECT(headers))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("headers must be a JSON object of strings")));
	it = JsonbIteratorInit(&headers->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			if (!options_regex_match(key, HEADER_NAME_RE, false))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid header name \"%s\"", key)));
		}
		else if (tok == WJB_VALUE &&
				 (v.type != jbvString ||
				  memchr(v.val.string.val, '\r', v.val.string.len) ||
				  memchr(v.val.string.val, '\n', v.val.string.len)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("value of header \"%s\" must be a string without line breaks", key)));
	}
}

/*
 * elt._validate_source(name, base_url, headers, auth, options): raise an
 * error for anything wrong in a source definition.
 */
static Datum
validate_source_body(PG_FUNCTION_ARGS)
{
	char	   *name = arg_text(fcinfo, 0);
	char	   *base_url = arg_text(fcinfo, 1);
	Jsonb	   *auth = arg_jsonb(fcinfo, 3);
	Jsonb	   *options = arg_jsonb(fcinfo, 4);
	OptionValues ov;

	check_name(name, "source");
	if (base_url == NULL ||
		!options_regex_match(base_url, "^https?://[^/?#[:space:]]+", true) ||
		options_regex_match(base_url, "[[:space:]]", false))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid base URL %s", quoted_or_null(base_url)),
				 errdetail("A base URL is an absolute http:// or https:// URL.")));
	secrets_check_url_template(base_url, "base URL");
	check_headers(arg_jsonb(fcinfo, 2));

	if (auth != NULL && !options_jsonb_is_null(auth))
	{
		if (!JB_ROOT_IS_OBJECT(auth))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("auth must be a JSON object with a \"type\"")));
		options_parse(&ov, &source_auth_table, &auth->root, 0);
	}

	if (options == NULL || !JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a JSON object")));
	options_parse(&ov, &source_options_table, &options->root, 0);
	PG_RETURN_VOID();
}

/*
 * Query parameters are sent as text: scalars only.
 */
static void
check_params(Jsonb *params)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	char	   *key = NULL;

	if (params == NULL || !JB_ROOT_IS_OBJECT(params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params must be a JSON object")));
	it = JsonbIteratorInit(&params->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE && v.type != jbvString && v.type != jbvNumeric &&
				 v.type != jbvBool)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("query parameter \"%s\" must be a string, number or boolean", key)));
	}
}

/*
 * A primary key names each field once.
 */
static void
check_primary_key(ArrayType *pk)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(pk) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("searching for elements in multidimensional arrays is not supported")));
	deconstruct_array(pk, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (nulls[i] || VARSIZE_ANY_EXHDR(DatumGetPointer(elems[i])) == 0)
			n = 0;
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("primary_key must list non-empty field names")));
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(TextDatumGetCString(elems[i]), TextDatumGetCString(elems[j])) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("primary_key lists a field twice")));
}

/*
 * The parts of a qualified name as parse_ident gives them, or NULL when it
 * is not one (parse_ident's error is replaced by the caller's, so only
 * that error is caught).
 */
static ArrayType *
try_parse_ident(const char *name)
{
	MemoryContext cxt = CurrentMemoryContext;
	ArrayType  *volatile parts = NULL;

	PG_TRY();
	{
		parts = DatumGetArrayTypeP(DirectFunctionCall2(parse_ident,
													   CStringGetTextDatum(name),
													   BoolGetDatum(true)));
	}
	PG_CATCH();
	{
		ErrorData  *err;

		MemoryContextSwitchTo(cxt);
		err = CopyErrorData();
		if (err->sqlerrcode != ERRCODE_INVALID_PARAMETER_VALUE)
			PG_RE_THROW();
		FlushErrorState();
		FreeErrorData(err);
		parts = NULL;
	}
	PG_END_TRY();
	return parts;
}

/*
 * A target is schema-qualified: an unqualified name would be resolved
 * through whichever search_path runs the extract (a pipeline's, another
 * caller's).
 */
static void
check_target(const char *target)
{
	ArrayType  *parts = try_parse_ident(target);
	Datum	   *elems = NULL;
	bool	   *nulls;
	int			n = 0;

	if (parts)
		deconstruct_array(parts, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (parts == NULL || n > 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid target table name \"%s\"", target),
				 errhint("Write schema.table, quoting names as in SQL: \"My Schema\".\"My Table\".")));
	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("target table name \"%s\" must be schema-qualified", target),
				 errhint("Write schema.table, for example staging.orders.")));
	if (VARSIZE_ANY_EXHDR(DatumGetPointer(elems[0])) > NAMEDATALEN - 1 ||
		VARSIZE_ANY_EXHDR(DatumGetPointer(elems[1])) > NAMEDATALEN - 1)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("target table name \"%s\" is too long", target),
				 errdetail("Schema and table names are limited to 63 bytes each.")));
}

/*
 * Every placeholder of a template must have a query to fill it: without
 * for_each, a "{name}" would be sent as it is written.
 */
static void
check_placeholders(List *names, const char *what, bool fanout)
{
	if (names != NIL && !fanout)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("placeholder {%s} in the %s of a stream without for_each",
						(char *) linitial(names), what),
				 errhint("Give the stream a for_each query whose columns fill the placeholders.")));
}

/*
 * A paging value set in the body at a dotted key path: the body is an
 * object, and the keys above the last exist in it and hold objects (else
 * the value could not be set, and every request would be the first).
 */
static void
check_body_key(Jsonb *body, const char *dotted, const char *setting)
{
	JsonbContainer *c = &body->root;
	char	   *copy = pstrdup(dotted);
	char	   *key = copy;
	char	   *dot;

	if (!JB_ROOT_IS_OBJECT(body))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pagination setting \"%s\" sets the body's key \"%s\", but the body is not a JSON object",
						setting, dotted)));
	while ((dot = strchr(key, '.')) != NULL)
	{
		JsonbValue *v;

		*dot = '\0';
		v = getKeyJsonValueFromContainer(c, key, strlen(key), NULL);
		if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pagination setting \"%s\" sets the body's key \"%s\", but the body has no object at \"%s\"",
							setting, dotted, copy),
					 errhint("The keys above the last must be in the body, each an object: the last is set.")));
		c = v->val.binary.data;
		*dot = '.';
		key = dot + 1;
	}
	pfree(copy);
}

/*
 * The request settings of a stream: method, body, headers, the fan-out
 * query and the placeholders they fill, and paging values sent in the
 * body (which needs one).
 */
static void
check_request(FunctionCallInfo fcinfo, const char *path, Jsonb *params,
			  OptionValues *pagination)
{
	char	   *for_each = PG_NARGS() > 9 ? arg_text(fcinfo, 9) : NULL;
	char	   *method = PG_NARGS() > 10 ? arg_text(fcinfo, 10) : NULL;
	Jsonb	   *body = PG_NARGS() > 11 ? arg_jsonb(fcinfo, 11) : NULL;
	Jsonb	   *headers = PG_NARGS() > 12 ? arg_jsonb(fcinfo, 12) : NULL;
	bool		fanout;
	char	   *in;

	if (method == NULL)
		method = "GET";
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
		strcmp(method, "PUT") != 0 && strcmp(method, "PATCH") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown method \"%s\"", method),
				 errhint("Known methods: GET, POST, PUT, PATCH.")));
	if (body != NULL && options_jsonb_is_null(body))
		body = NULL;
	if (body != NULL && !JB_ROOT_IS_OBJECT(body) && !JB_ROOT_IS_ARRAY(body))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("body must be a JSON object or array")));
	if (body != NULL && JB_ROOT_IS_SCALAR(body))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("body must be a JSON object or array")));
	if (body != NULL && strcmp(method, "GET") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a stream with a body needs method POST, PUT or PATCH")));
	if (headers != NULL)
		check_headers(headers);
	if (for_each != NULL &&
		!options_regex_match(for_each, "^[[:space:]]*(select|with|values|table)[[:space:](]",
							 true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("for_each must be a query"),
				 errdetail("The for_each query is a SELECT (or WITH, VALUES, TABLE) whose columns fill the placeholders of path, params and body.")));
	fanout = for_each != NULL;

	check_placeholders(fanout_placeholders(path), "path", fanout);
	if (params != NULL && JB_ROOT_IS_OBJECT(params))
	{
		List	   *names = NIL;
		List	   *values = NIL;
		ListCell   *lc;

		options_object_pairs(&params->root, &names, &values);
		foreach(lc, values)
		{
			JsonbValue *v = lfirst(lc);

			if (v->type == jbvString)
				check_placeholders(fanout_placeholders(options_value_text(v)), "params", fanout);
		}
	}
	check_placeholders(fanout_body_placeholders(body), "body", fanout);

	in = options_has_key(pagination, "in") ? options_get_text(pagination, "in") : NULL;
	if (in && strcmp(in, "body") == 0 && body == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s pagination with \"in\": \"body\" needs a body",
						options_kind_name(pagination)),
				 errhint("Give the stream a body (and method POST), in which the paging value is set.")));
	if (in && strcmp(in, "body") == 0)
	{
		const char *keys[] = {"param", "size_param", "offset_param", "limit_param"};

		for (int i = 0; i < lengthof(keys); i++)
			if (options_get_text(pagination, keys[i]) != NULL)
				check_body_key(body, options_get_text(pagination, keys[i]), "in");
	}
	if (strcmp(options_kind_name(pagination), "next_request") == 0 &&
		options_has_key(pagination, "body"))
	{
		if (body == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("next_request pagination with \"body\" needs a body"),
					 errhint("Give the stream a body (and method POST), in which the next value is set.")));
		check_body_key(body, options_get_text(pagination, "body"), "body");
	}
}

/*
 * elt._validate_stream(name, path, params, records, pagination,
 * incremental, primary_key, target, format): raise an error for anything
 * wrong in a stream definition.
 */
static Datum
validate_stream_body(PG_FUNCTION_ARGS)
{
	char	   *name = arg_text(fcinfo, 0);
	char	   *path = arg_text(fcinfo, 1);
	char	   *records = arg_text(fcinfo, 3);
	Jsonb	   *pagination = arg_jsonb(fcinfo, 4);
	Jsonb	   *incremental = arg_jsonb(fcinfo, 5);
	char	   *target = arg_text(fcinfo, 7);
	char	   *format = arg_text(fcinfo, 8);
	bool		json;
	const char *kind;
	OptionValues ov;

	check_name(name, "stream");
	if (path == NULL || options_regex_match(path, "[[:space:]#]", false) ||
		options_regex_match(path, "^[a-z][a-z0-9+.-]*:", true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid stream path %s", quoted_or_null(path)),
				 errdetail("A stream path is appended to the source's base URL, e.g. '/users'.")));
	check_params(arg_jsonb(fcinfo, 2));

	if (format == NULL || (strcmp(format, "json") != 0 && strcmp(format, "ndjson") != 0 &&
						   strcmp(format, "csv") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown format %s", quoted_or_null(format)),
				 errhint("Known formats: json, ndjson, csv.")));
	json = strcmp(format, "json") == 0;
	if (records == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("records path must not be null")));
	records_parse_path(records, "records");
	if (!json && strcmp(records, "$") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a records path other than '$' needs format json"),
				 errdetail("Every line of %s is a record.", format)));

	if (pagination == NULL || !JB_ROOT_IS_OBJECT(pagination))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pagination must be a JSON object with a \"type\"")));
	options_parse(&ov, &stream_pagination_table, &pagination->root, 0);
	kind = options_kind_name(&ov);
	if (!json && (strcmp(kind, "cursor") == 0 || strcmp(kind, "next_url") == 0 ||
				  strcmp(kind, "next_request") == 0 ||
				  options_has_key(&ov, "total_path")))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s pagination reading the response body needs format json", kind)));
	check_request(fcinfo, path, arg_jsonb(fcinfo, 2), &ov);

	if (incremental != NULL && !options_jsonb_is_null(incremental))
	{
		if (!JB_ROOT_IS_OBJECT(incremental))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("incremental must be a JSON object with a \"cursor_field\"")));
		options_parse(&ov, &stream_incremental_table, &incremental->root, 0);
	}

	if (!PG_ARGISNULL(6))
		check_primary_key(PG_GETARG_ARRAYTYPE_P(6));
	if (target != NULL)
		check_target(target);
	PG_RETURN_VOID();
}

/*
 * elt._validate_format_options(format, options): the settings of how a
 * stream's bodies are written.  Only CSV has some; JSON and NDJSON take
 * none, so a setting there is a mistake worth saying.
 */
static Datum
validate_format_options_body(PG_FUNCTION_ARGS)
{
	char	   *format = arg_text(fcinfo, 0);
	Jsonb	   *options = arg_jsonb(fcinfo, 1);
	OptionValues ov;

	if (options == NULL || !JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("format_options must be a JSON object")));
	if (format != NULL && strcmp(format, "csv") == 0)
		options_parse(&ov, &stream_csv_table, &options->root, 0);
	else if (JB_ROOT_COUNT(options) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("format %s takes no format_options", format ? format : "NULL"),
				 errhint("Only format csv has options: delimiter, quote, null_string, header, columns.")));
	PG_RETURN_VOID();
}

/*
 * elt._check_pipeline_options(options): raise an error naming the first
 * invalid pipeline option.
 */
static Datum
check_pipeline_options_body(PG_FUNCTION_ARGS)
{
	Jsonb	   *options = arg_jsonb(fcinfo, 0);
	OptionValues ov;

	if (options == NULL || !JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pipeline options must be a JSON object")));
	options_parse(&ov, &pipeline_options_table, &options->root, 0);
	PG_RETURN_VOID();
}

/*
 * The validators are called only by pg_elt's own SQL (elt.create_source and
 * the others, the triggers on the definition tables).  What they refuse is
 * what the user wrote, so their errors carry no CONTEXT lines naming those
 * internal callers (an ERROR unwinds error_context_stack itself).
 */
static Datum
without_caller_context(Datum (*body) (PG_FUNCTION_ARGS), FunctionCallInfo fcinfo)
{
	ErrorContextCallback *saved = error_context_stack;
	Datum		result;

	error_context_stack = NULL;
	result = body(fcinfo);
	error_context_stack = saved;
	return result;
}

Datum
elt_validate_source(PG_FUNCTION_ARGS)
{
	return without_caller_context(validate_source_body, fcinfo);
}

Datum
elt_validate_stream(PG_FUNCTION_ARGS)
{
	return without_caller_context(validate_stream_body, fcinfo);
}

Datum
elt_validate_format_options(PG_FUNCTION_ARGS)
{
	return without_caller_context(validate_format_options_body, fcinfo);
}

Datum
elt_check_pipeline_options(PG_FUNCTION_ARGS)
{
	return without_caller_context(check_pipeline_options_body, fcinfo);
}

/*
 * elt._validate_normalize_options(options): raise an error for anything
 * wrong in the options of elt.normalize (and of a stream's normalization
 * on each extract), by their option table.
 */
static Datum
validate_normalize_options_body(PG_FUNCTION_ARGS)
{
	Jsonb	   *options = arg_jsonb(fcinfo, 0);
	OptionValues ov;

	if (options == NULL || !JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("normalize options must be a JSON object")));
	options_parse(&ov, &normalize_options_table, &options->root, 0);
	PG_RETURN_VOID();
}

Datum
elt_validate_normalize_options(PG_FUNCTION_ARGS)
{
	return without_caller_context(validate_normalize_options_body, fcinfo);
}

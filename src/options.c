/*
 * options.c
 *	  The tables of every JSON option pg_elt knows, and the one piece of
 *	  code that checks and reads them.
 *
 * A table lists an object's options with their type, default, bounds and
 * the kinds (pagination types, auth types) they belong to.  options_parse
 * checks an object against its table when a definition is written (from
 * the validators in validate.c, which the definition functions and the
 * triggers on the definition tables call) and again when it is read (the
 * extract, the runner, the scheduler, merge_fact); the getters then give
 * each value or its default from the same table.
 *
 * The messages are those users have seen from each object since the
 * options were checked in PL/pgSQL; the style of a table keeps them.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/varlena.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "cron.h"
#include "options.h"
#include "secrets.h"
#include "records.h"

/* ------------------------------------------------------------- tables */

#define KIND(k)		(1U << (k))

/* Sources: how hard to push the API (elt.create_source's options). */
static const OptionDef source_option_defs[] = {
	{"timeout", OPT_INTERVAL, OPT_ALL_KINDS, 0, NULL, 1},
	{"max_attempts", OPT_INT, OPT_ALL_KINDS, 0, "5", 1},
	{"backoff", OPT_INTERVAL, OPT_ALL_KINDS, 0, "1 second"},
	{"max_backoff", OPT_INTERVAL, OPT_ALL_KINDS, 0, "1 minute"},
	{"rate_limit", OPT_NUMBER, OPT_ALL_KINDS, 0, NULL, 0, 0, "requests per second"},
	{"concurrency", OPT_INT, OPT_ALL_KINDS, 0, "2", 1, 64},
};

const OptionTable source_options_table = {
	"source", OPT_STYLE_SETTING, NULL, NULL, NULL,
	source_option_defs, lengthof(source_option_defs)
};

/* Auth of a source; the kinds are the auth types. */
enum
{
	AUTHK_BEARER, AUTHK_API_KEY, AUTHK_BASIC, AUTHK_OAUTH2
};
static const char *const auth_kinds[] = {
	"bearer", "api_key", "basic", "oauth2_client_credentials", NULL
};

static void check_api_key_header(const OptionValues *ov, const OptionDef *def,
								 const char *value);
static void check_no_colon(const OptionValues *ov, const OptionDef *def,
						   const char *value);
static void check_token_url(const OptionValues *ov, const OptionDef *def,
							const char *value);

static const OptionDef auth_defs[] = {
	{"type", OPT_TEXT, OPT_ALL_KINDS, OPTF_REQUIRED},
	{"token", OPT_SECRET, KIND(AUTHK_BEARER), OPTF_REQUIRED},
	{"name", OPT_TEXT, KIND(AUTHK_API_KEY), OPTF_REQUIRED},
	{"in", OPT_CHOICE, KIND(AUTHK_API_KEY), 0, "header", 0, 0, "header|query", NULL,
	check_api_key_header},
	{"value", OPT_SECRET, KIND(AUTHK_API_KEY), OPTF_REQUIRED},
	{"username", OPT_TEXT, KIND(AUTHK_BASIC), OPTF_REQUIRED, NULL, 0, 0, NULL, NULL,
	check_no_colon},
	{"password", OPT_SECRET, KIND(AUTHK_BASIC), OPTF_REQUIRED},
	{"token_url", OPT_TEXT, KIND(AUTHK_OAUTH2), OPTF_REQUIRED, NULL, 0, 0, NULL, NULL,
	check_token_url},
	{"client_id", OPT_TEXT, KIND(AUTHK_OAUTH2), OPTF_REQUIRED},
	{"client_secret", OPT_SECRET, KIND(AUTHK_OAUTH2), OPTF_REQUIRED},
	{"scope", OPT_TEXT, KIND(AUTHK_OAUTH2)},
	{"audience", OPT_TEXT, KIND(AUTHK_OAUTH2)},
	{"client_auth", OPT_CHOICE, KIND(AUTHK_OAUTH2), 0, "body", 0, 0, "body|basic", "oauth2"},
};

const OptionTable source_auth_table = {
	"%s auth", OPT_STYLE_SETTING, "type", "auth", auth_kinds,
	auth_defs, lengthof(auth_defs)
};

/* Pagination of a stream; the kinds are the pagination types. */
enum
{
	PAGEK_NONE, PAGEK_PAGE, PAGEK_OFFSET, PAGEK_CURSOR, PAGEK_NEXT_URL, PAGEK_LINK,
	PAGEK_NEXT_REQUEST
};
static const char *const pagination_kinds[] = {
	"none", "page", "offset", "cursor", "next_url", "link_header", "next_request", NULL
};

static void check_size_pair(const OptionValues *ov, const OptionDef *def,
							const char *value);
static void check_one_total(const OptionValues *ov, const OptionDef *def,
							const char *value);
static void check_header_name(const OptionValues *ov, const OptionDef *def,
							  const char *value);
static void check_next_request_target(const OptionValues *ov, const OptionDef *def,
									  const char *value);

/*
 * One row per option and kind where kinds differ in default or meaning;
 * the order of the rows is the order of the known settings in hints.
 */
static const OptionDef pagination_defs[] = {
	{"type", OPT_TEXT, OPT_ALL_KINDS, OPTF_REQUIRED},
	{"param", OPT_TEXT, KIND(PAGEK_PAGE), 0, "page"},
	{"start", OPT_INT, KIND(PAGEK_PAGE), 0, "1", 0},
	{"size_param", OPT_TEXT, KIND(PAGEK_PAGE)},
	{"size", OPT_INT, KIND(PAGEK_PAGE), 0, NULL, 1, 0, NULL, NULL, check_size_pair},
	{"offset_param", OPT_TEXT, KIND(PAGEK_OFFSET), 0, "offset"},
	{"limit_param", OPT_TEXT, KIND(PAGEK_OFFSET), 0, "limit"},
	{"limit", OPT_INT, KIND(PAGEK_OFFSET), 0, "100", 1},
	{"start", OPT_INT, KIND(PAGEK_OFFSET), 0, "0", 0},
	{"cursor_path", OPT_PATH, KIND(PAGEK_CURSOR), OPTF_REQUIRED},
	{"param", OPT_TEXT, KIND(PAGEK_CURSOR), OPTF_REQUIRED},
	{"path", OPT_PATH, KIND(PAGEK_NEXT_URL), OPTF_REQUIRED},
	{"max_pages", OPT_INT, KIND(PAGEK_PAGE) | KIND(PAGEK_OFFSET) | KIND(PAGEK_CURSOR) |
	KIND(PAGEK_NEXT_URL) | KIND(PAGEK_LINK) | KIND(PAGEK_NEXT_REQUEST), 0, NULL, 1},
	{"total_path", OPT_PATH, KIND(PAGEK_PAGE) | KIND(PAGEK_OFFSET), OPTF_NULL_REFUSED},
	/* where the paging values go: the query string, or keys of the body */
	{"in", OPT_CHOICE, KIND(PAGEK_PAGE) | KIND(PAGEK_OFFSET) | KIND(PAGEK_CURSOR), 0,
	"query", 0, 0, "query|body"},
	{"total_header", OPT_TEXT, KIND(PAGEK_PAGE) | KIND(PAGEK_OFFSET), 0, NULL, 0, 0, NULL, NULL,
	check_one_total},
	{"total_pages_header", OPT_TEXT, KIND(PAGEK_PAGE), 0, NULL, 0, 0, NULL, NULL,
	check_one_total},
	{"path", OPT_PATH, KIND(PAGEK_NEXT_REQUEST), OPTF_REQUIRED},
	{"param", OPT_TEXT, KIND(PAGEK_NEXT_REQUEST)},
	{"header", OPT_TEXT, KIND(PAGEK_NEXT_REQUEST), 0, NULL, 0, 0, NULL, NULL,
	check_next_request_target},
	{"body", OPT_TEXT, KIND(PAGEK_NEXT_REQUEST), 0, NULL, 0, 0, NULL, NULL,
	check_next_request_target},
};

const OptionTable stream_pagination_table = {
	"%s pagination", OPT_STYLE_SETTING, "type", "pagination", pagination_kinds,
	pagination_defs, lengthof(pagination_defs)
};

/* Incremental settings of a stream. */
static const OptionDef incremental_defs[] = {
	{"cursor_field", OPT_PATH, OPT_ALL_KINDS, OPTF_REQUIRED},
	{"param", OPT_TEXT, OPT_ALL_KINDS, OPTF_REQUIRED},
	{"initial", OPT_SCALAR, OPT_ALL_KINDS},
	{"lag", OPT_LAG, OPT_ALL_KINDS, OPTF_NULL_REFUSED},
};

const OptionTable stream_incremental_table = {
	"incremental", OPT_STYLE_SETTING, NULL, NULL, NULL,
	incremental_defs, lengthof(incremental_defs)
};

/* How a stream's CSV bodies are written (its format_options). */
static void check_csv_char(const OptionValues *ov, const OptionDef *def,
						   const char *value);
static void check_csv_columns(const OptionValues *ov, const OptionDef *def,
							  const char *value);

static const OptionDef csv_defs[] = {
	{"delimiter", OPT_TEXT, OPT_ALL_KINDS, 0, ",", 0, 0, NULL, NULL, check_csv_char},
	{"quote", OPT_TEXT, OPT_ALL_KINDS, 0, "\"", 0, 0, NULL, NULL, check_csv_char},
	{"null_string", OPT_TEXT, OPT_ALL_KINDS},
	{"header", OPT_BOOL, OPT_ALL_KINDS, 0, "true"},
	{"columns", OPT_NAMES, OPT_ALL_KINDS, 0, NULL, 0, 0, NULL, NULL, check_csv_columns},
};

const OptionTable stream_csv_table = {
	"csv format", OPT_STYLE_SETTING, NULL, NULL, NULL,
	csv_defs, lengthof(csv_defs)
};

/* Options of elt.normalize and of a stream's normalization on extract. */
static void check_normalize_contracts(const OptionValues *ov, const OptionDef *def,
									  const char *value);

#define NORMALIZE_CONTRACTS "evolve|freeze|discard_value|discard_row"

static const OptionDef normalize_defs[] = {
	{"table", OPT_TEXT, OPT_ALL_KINDS},
	{"contract", OPT_CHOICE, OPT_ALL_KINDS, 0, "evolve", 0, 0, NORMALIZE_CONTRACTS},
	{"contracts", OPT_OBJECT, OPT_ALL_KINDS, 0, NULL, 0, 0, NULL, NULL,
	check_normalize_contracts},
	{"on_extract", OPT_BOOL, OPT_ALL_KINDS, 0, "false"},
};

const OptionTable normalize_options_table = {
	"normalize", OPT_STYLE_OPTION, NULL, NULL, NULL,
	normalize_defs, lengthof(normalize_defs)
};

/* Options of a pipeline (elt.create_pipeline). */
static const OptionDef pipeline_defs[] = {
	{"retries", OPT_INT, OPT_ALL_KINDS, 0, "0", 0, 1000},
	{"retry_delay", OPT_INTERVAL, OPT_ALL_KINDS, 0, "1 second", 0},
	{"timeout", OPT_INTERVAL, OPT_ALL_KINDS, 0, NULL, 1},
	{"overlap", OPT_CHOICE, OPT_ALL_KINDS, 0, "skip", 0, 0, "skip|queue"},
	{"catchup", OPT_BOOL, OPT_ALL_KINDS, 0, "false"},
	{"notify", OPT_CHANNEL, OPT_ALL_KINDS},
	{"timezone", OPT_TIMEZONE, OPT_ALL_KINDS},
	{"max_parallel", OPT_INT, OPT_ALL_KINDS, 0, "1", 1, 64},
	{"after", OPT_PIPELINES, OPT_ALL_KINDS},
	{"alert_url", OPT_TEXT, OPT_ALL_KINDS},
	{"alert_headers", OPT_OBJECT, OPT_ALL_KINDS},
	{"alert_on", OPT_CHOICE, OPT_ALL_KINDS, 0, "failure", 0, 0, "failure|always"},
	{"sla", OPT_INTERVAL, OPT_ALL_KINDS, 0, NULL, 1},
};

const OptionTable pipeline_options_table = {
	"pipeline", OPT_STYLE_OPTION, NULL, NULL, NULL,
	pipeline_defs, lengthof(pipeline_defs)
};

/* One element of elt.merge_fact's dimensions argument. */
static const OptionDef fact_dimension_defs[] = {
	{"dimension", OPT_TEXT, OPT_ALL_KINDS, OPTF_REQUIRED},
	{"on", OPT_OBJECT, OPT_ALL_KINDS, OPTF_REQUIRED},
	{"as_of", OPT_TEXT, OPT_ALL_KINDS},
	{"key", OPT_TEXT, OPT_ALL_KINDS},
	{"late_arriving", OPT_TEXT, OPT_ALL_KINDS},
};

const OptionTable fact_dimension_table = {
	"dimensions", OPT_STYLE_ELEMENT, NULL, NULL, NULL,
	fact_dimension_defs, lengthof(fact_dimension_defs)
};

/* ------------------------------------------------------- JSON helpers */

/*
 * The name jsonb_typeof gives a value, for messages that name what was
 * found instead of what was expected.
 */
const char *
options_json_typeof(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvObject:
			return "object";
		case jbvArray:
			return "array";
		case jbvBinary:
			if (JsonContainerIsScalar(v->val.binary.data))
			{
				JsonbValue	s;
				Jsonb	   *jb = JsonbValueToJsonb(v);

				JsonbExtractScalar(&jb->root, &s);
				return options_json_typeof(&s);
			}
			return JsonContainerIsObject(v->val.binary.data) ? "object" : "array";
		default:
			return "unknown";
	}
}

/*
 * jsonb_typeof of a whole jsonb datum (a scalar root included).
 */
const char *
options_jsonb_typeof(Jsonb *jb)
{
	JsonbValue	v;

	if (JB_ROOT_IS_SCALAR(jb))
	{
		JsonbExtractScalar(&jb->root, &v);
		return options_json_typeof(&v);
	}
	return JB_ROOT_IS_OBJECT(jb) ? "object" : "array";
}

/*
 * True for the jsonb 'null', which the definition functions take as "no
 * auth" or "not incremental".
 */
bool
options_jsonb_is_null(Jsonb *jb)
{
	JsonbValue	v;

	return JB_ROOT_IS_SCALAR(jb) && JsonbExtractScalar(&jb->root, &v) &&
		v.type == jbvNull;
}

/*
 * A value as ->> gives it: a string without quotes, other scalars as
 * jsonb prints them, containers as JSON text; NULL for null.
 */
char *
options_value_text(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return NULL;
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			return options_value_json(v);
	}
}

/*
 * A value as jsonb prints it (strings quoted), for messages.
 */
char *
options_value_json(JsonbValue *v)
{
	Jsonb	   *jb = JsonbValueToJsonb(v);

	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

/* A key and its value, for sorting. */
typedef struct KeyValue
{
	char	   *key;
	JsonbValue *value;
} KeyValue;

/*
 * Order of keys as ORDER BY key gives them in the database's collation.
 */
static int
key_cmp(const ListCell *a, const ListCell *b)
{
	const KeyValue *x = lfirst(a);
	const KeyValue *y = lfirst(b);

	return varstr_cmp(x->key, strlen(x->key), y->key, strlen(y->key),
					  DEFAULT_COLLATION_OID);
}

/*
 * The keys of an object and their values (JsonbValue *), in the order of
 * their names: query parameters and headers are sent, and key mappings
 * applied, in that order.
 */
void
options_object_pairs(JsonbContainer *obj, List **keys, List **values)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbIteratorToken tok;
	JsonbValue	v;
	List	   *pairs = NIL;
	ListCell   *lc;
	KeyValue   *cur = NULL;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			cur = palloc(sizeof(KeyValue));
			cur->key = pnstrdup(v.val.string.val, v.val.string.len);
		}
		else if (tok == WJB_VALUE && cur)
		{
			cur->value = palloc(sizeof(JsonbValue));
			*cur->value = v;
			pairs = lappend(pairs, cur);
			cur = NULL;
		}
	}
	list_sort(pairs, key_cmp);
	foreach(lc, pairs)
	{
		KeyValue   *kv = lfirst(lc);

		*keys = lappend(*keys, kv->key);
		*values = lappend(*values, kv->value);
	}
}

/*
 * Whether a text matches a POSIX regular expression as the ~ and ~*
 * operators match it in the database's collation.
 */
bool
options_regex_match(const char *s, const char *pattern, bool icase)
{
	return DatumGetBool(DirectFunctionCall2Coll(icase ? texticregexeq : textregexeq,
												DEFAULT_COLLATION_OID,
												CStringGetTextDatum(s),
												CStringGetTextDatum(pattern)));
}

/* ----------------------------------------------------------- messages */

/*
 * Raise the error of a value that is not what its option takes, worded as
 * its table words such errors; detail and hint may be NULL.
 */
static void
value_error(const OptionValues *ov, const char *what, const OptionDef *def,
			const char *problem, const char *detail, const char *hint)
{
	if (ov->table->style == OPT_STYLE_OPTION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s option \"%s\" %s", what, def->name, problem),
				 detail ? errdetail("%s", detail) : 0,
				 hint ? errhint("%s", hint) : 0));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s setting \"%s\" %s", what, def->name, problem),
			 detail ? errdetail("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0));
}

/*
 * Raise the error of an element value of the wrong JSON type.
 */
static void
element_type_error(const OptionValues *ov, const OptionDef *def,
				   const char *expected, JsonbValue *v)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("\"%s\" in element %d of %s must be a JSON %s, not %s",
					def->name, ov->element, ov->table->what, expected,
					options_json_typeof(v))));
}

/*
 * Raise the error of a required option that is absent.
 */
static void
required_error(const OptionValues *ov, const char *what, const OptionDef *def)
{
	if (ov->table->style == OPT_STYLE_ELEMENT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("element %d of %s has no \"%s\"",
						ov->element, ov->table->what, def->name)));
	value_error(ov, what, def, "is required", NULL, NULL);
}

/*
 * "a, b and c" or "a, b, c" of the options of the current kind, each
 * between quote and quote, for hints.
 */
static char *
known_list(const OptionValues *ov, const char *quote, const char *last_sep)
{
	StringInfoData buf;
	int			n = 0;
	int			count = 0;

	for (int i = 0; i < ov->table->ndefs; i++)
		if (ov->table->defs[i].kinds == OPT_ALL_KINDS ||
			(ov->table->defs[i].kinds & KIND(ov->kind)))
			count++;
	initStringInfo(&buf);
	for (int i = 0; i < ov->table->ndefs; i++)
	{
		const OptionDef *def = &ov->table->defs[i];

		if (def->kinds != OPT_ALL_KINDS && !(def->kinds & KIND(ov->kind)))
			continue;
		if (n > 0)
			appendStringInfoString(&buf, n == count - 1 ? last_sep : ", ");
		appendStringInfo(&buf, "%s%s%s", quote, def->name, quote);
		n++;
	}
	return buf.data;
}

/*
 * "a, b" or '"a" or "b"' of a choice's values.
 */
static char *
choice_list(const char *choices, const char *sep, const char *quote)
{
	StringInfoData buf;
	char	   *copy = pstrdup(choices);
	char	   *tok;
	char	   *save;
	bool		first = true;

	initStringInfo(&buf);
	for (tok = strtok_r(copy, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
	{
		if (!first)
			appendStringInfoString(&buf, sep);
		appendStringInfo(&buf, "%s%s%s", quote, tok, quote);
		first = false;
	}
	return buf.data;
}

/* --------------------------------------------------------- the checks */

/*
 * The row of the table for an option of the current kind, or NULL.
 */
static const OptionDef *
find_def(const OptionValues *ov, const char *name, int len)
{
	for (int i = 0; i < ov->table->ndefs; i++)
	{
		const OptionDef *def = &ov->table->defs[i];

		if ((def->kinds == OPT_ALL_KINDS ||
			 (ov->kind >= 0 && (def->kinds & KIND(ov->kind)))) &&
			strlen(def->name) == len && strncmp(def->name, name, len) == 0)
			return def;
	}
	return NULL;
}

/*
 * The value of a key, NULL when absent.
 */
static JsonbValue *
lookup(const OptionValues *ov, const char *name)
{
	if (ov->obj == NULL)
		return NULL;
	return getKeyJsonValueFromContainer(ov->obj, name, strlen(name), NULL);
}

/*
 * Parse an interval as a cast to interval would, and a number of seconds
 * as make_interval(secs => ...) would; NULL when it is not one.  Only the
 * errors of malformed input are turned into NULL, as the PL/pgSQL checks
 * this replaces caught them; anything else is raised.
 */
static Interval *
parse_interval(const char *str, Numeric secs)
{
	MemoryContext cxt = CurrentMemoryContext;
	Interval   *volatile result = NULL;

	PG_TRY();
	{
		if (str)
			result = DatumGetIntervalP(DirectFunctionCall3(interval_in,
														   CStringGetDatum(str),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1)));
		else
		{
			Datum		zero = Int32GetDatum(0);

			result = DatumGetIntervalP(DirectFunctionCall7(make_interval, zero, zero, zero,
														   zero, zero, zero,
														   DirectFunctionCall1(numeric_float8,
																			   NumericGetDatum(secs))));
		}
	}
	PG_CATCH();
	{
		ErrorData  *err;

		MemoryContextSwitchTo(cxt);
		err = CopyErrorData();
		if (err->sqlerrcode != ERRCODE_INVALID_TEXT_REPRESENTATION &&
			err->sqlerrcode != ERRCODE_INVALID_DATETIME_FORMAT &&
			err->sqlerrcode != ERRCODE_DATETIME_FIELD_OVERFLOW &&
			err->sqlerrcode != ERRCODE_INTERVAL_FIELD_OVERFLOW)
			PG_RE_THROW();
		FlushErrorState();
		FreeErrorData(err);
		result = NULL;
	}
	PG_END_TRY();
	return result;
}

/*
 * The comparison of an interval with zero.
 */
static int
interval_sign(Interval *iv)
{
	Interval	zero;

	memset(&zero, 0, sizeof(zero));
	return DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(iv),
											 IntervalPGetDatum(&zero)));
}

/*
 * Compare a number with an integer.
 */
static int
numeric_cmp_int(Numeric n, int64 i)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(n),
											 DirectFunctionCall1(int8_numeric,
																 Int64GetDatum(i))));
}

/*
 * Whether a number is an integer: written with digits only for settings
 * (1.0 is refused), equal to its integral part for options.
 */
static bool
numeric_is_integer(const OptionValues *ov, Numeric n)
{
	if (ov->table->style == OPT_STYLE_OPTION)
	{
		Datum		t = DirectFunctionCall2(numeric_trunc, NumericGetDatum(n),
										   Int32GetDatum(0));

		return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(n), t)) == 0;
	}
	return options_regex_match(DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(n))),
					   "^-?[0-9]+$", false);
}

/*
 * Check a string option; return its value.
 */
static char *
check_string(const OptionValues *ov, const char *what, const OptionDef *def,
			 JsonbValue *v)
{
	if (ov->table->style == OPT_STYLE_ELEMENT)
	{
		if (v->type != jbvString)
			element_type_error(ov, def, "string", v);
	}
	else if (v->type != jbvString || v->val.string.len == 0)
		value_error(ov, what, def,
					psprintf("must be a non-empty string, not %s", options_value_json(v)),
					NULL, NULL);
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * Check an integer option.
 */
static void
check_int(const OptionValues *ov, const char *what, const OptionDef *def,
		  JsonbValue *v)
{
	int32		max = def->max ? def->max : PG_INT32_MAX;

	if (ov->table->style == OPT_STYLE_OPTION)
	{
		if (v->type != jbvNumeric || !numeric_is_integer(ov, v->val.numeric) ||
			numeric_cmp_int(v->val.numeric, def->min) < 0 ||
			numeric_cmp_int(v->val.numeric, max) > 0)
			value_error(ov, what, def,
						psprintf("must be an integer between %d and %d", def->min, max),
						NULL, NULL);
		return;
	}
	if (v->type != jbvNumeric || !numeric_is_integer(ov, v->val.numeric) ||
		numeric_cmp_int(v->val.numeric, def->min) < 0 ||
		numeric_cmp_int(v->val.numeric, PG_INT32_MAX) > 0)
		value_error(ov, what, def,
					psprintf("must be an integer of at least %d, not %s",
							 def->min, options_value_json(v)),
					NULL, NULL);
	if (numeric_cmp_int(v->val.numeric, max) > 0)
		value_error(ov, what, def, psprintf("must be at most %d", max), NULL, NULL);
}

/*
 * Check an interval option.  Settings take a string or a number of
 * seconds; options a string, without months or years (a run's delays are
 * exact durations).
 */
static void
check_interval(const OptionValues *ov, const char *what, const OptionDef *def,
			   JsonbValue *v)
{
	Interval   *iv = NULL;

	if (ov->table->style == OPT_STYLE_OPTION)
	{
		if (v->type == jbvString)
			iv = parse_interval(pnstrdup(v->val.string.val, v->val.string.len), NULL);
		if (iv == NULL)
			value_error(ov, what, def, "must be an interval such as \"30 seconds\"",
						NULL, NULL);
		if (iv->month != 0)
			value_error(ov, what, def, "must not use months or years", NULL, NULL);
		if (interval_sign(iv) < (def->min > 0 ? 1 : 0))
			value_error(ov, what, def,
						def->min > 0 ? "must be positive" : "must be zero or positive",
						NULL, NULL);
		return;
	}
	if (v->type == jbvString)
		iv = parse_interval(pnstrdup(v->val.string.val, v->val.string.len), NULL);
	else if (v->type == jbvNumeric)
		iv = parse_interval(NULL, v->val.numeric);
	if (iv == NULL)
		value_error(ov, what, def,
					psprintf("must be an interval such as '2 seconds' or a number of seconds, not %s",
							 options_value_json(v)),
					NULL, NULL);
	if (interval_sign(iv) < 0)
		value_error(ov, what, def, "must not be negative", NULL, NULL);
	if (def->min > 0 && interval_sign(iv) == 0)
		value_error(ov, what, def, "must be positive", NULL, NULL);
}

/*
 * Check the incremental lag: an interval for time cursors, a number for
 * numeric ones.
 */
static void
check_lag(const OptionValues *ov, const char *what, const OptionDef *def,
		  JsonbValue *v)
{
	if (v->type == jbvString)
	{
		if (parse_interval(pnstrdup(v->val.string.val, v->val.string.len), NULL) == NULL)
			value_error(ov, what, def,
						psprintf("must be an interval such as '5 minutes' (for time cursors) or a non-negative number, not %s",
								 options_value_json(v)),
						NULL, NULL);
	}
	else if (v->type != jbvNumeric || numeric_cmp_int(v->val.numeric, 0) < 0)
		value_error(ov, what, def,
					"must be an interval (for time cursors) or a non-negative number",
					NULL, NULL);
}

/*
 * Check a list of names (pipelines named by "after"): a JSON array of
 * distinct non-empty strings.  Whether they name anything is for the
 * caller to check.
 */
static void
check_names(const OptionValues *ov, const char *what, const OptionDef *def,
			JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;
	List	   *seen = NIL;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		value_error(ov, what, def,
					psprintf("must be an array of pipeline names, not %s", options_value_json(v)),
					NULL, NULL);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		char	   *name;
		ListCell   *lc;

		if (tok != WJB_ELEM)
			continue;
		if (elem.type != jbvString || elem.val.string.len == 0)
			value_error(ov, what, def,
						psprintf("must be an array of pipeline names, not one holding %s",
								 options_value_json(&elem)),
						NULL, NULL);
		name = pnstrdup(elem.val.string.val, elem.val.string.len);
		foreach(lc, seen)
			if (strcmp((char *) lfirst(lc), name) == 0)
				value_error(ov, what, def,
							psprintf("names pipeline \"%s\" twice", name), NULL, NULL);
		seen = lappend(seen, name);
	}
}

/*
 * Check one option's value (v NULL when absent) against its row.
 */
static void
check_value(const OptionValues *ov, const OptionDef *def, JsonbValue *v)
{
	const char *what = ov->what;
	OptionStyle style = ov->table->style;
	char	   *text = NULL;

	if (v != NULL && v->type == jbvNull && style != OPT_STYLE_OPTION)
	{
		if (!(def->flags & OPTF_NULL_REFUSED))
			v = NULL;
		else if (def->type != OPT_LAG)
			required_error(ov, what, def);
	}
	if (v == NULL)
	{
		if (def->flags & OPTF_REQUIRED)
			required_error(ov, what, def);
		if (def->check)
			def->check(ov, def, NULL);
		return;
	}

	switch (def->type)
	{
		case OPT_TEXT:
			text = check_string(ov, what, def, v);
			break;
		case OPT_CHOICE:
			if (style == OPT_STYLE_OPTION)
			{
				text = v->type == jbvString ?
					pnstrdup(v->val.string.val, v->val.string.len) : NULL;
			}
			else
				text = check_string(ov, what, def, v);
			{
				char	   *list = pstrdup(def->choices);
				char	   *save;
				bool		found = false;

				for (char *tok = strtok_r(list, "|", &save); tok && text;
					 tok = strtok_r(NULL, "|", &save))
					if (strcmp(tok, text) == 0)
						found = true;
				if (!found)
					value_error(ov, def->label ? def->label : what, def,
								psprintf("must be %s", choice_list(def->choices, " or ", "\"")),
								NULL, NULL);
			}
			break;
		case OPT_SECRET:
			text = check_string(ov, what, def, v);
			if (!options_regex_match(text, "\\{\\{secret:[^{}]+\\}\\}", false))
				value_error(ov, what, def, "must reference a secret",
							"Credentials are not stored in source definitions.",
							"Store the value with elt.set_secret('name', '...') and write {{secret:name}}.");
			break;
		case OPT_PATH:
			text = check_string(ov, what, def, v);
			records_parse_path(text, def->name);
			break;
		case OPT_INT:
			check_int(ov, what, def, v);
			break;
		case OPT_NUMBER:
			if (v->type != jbvNumeric || numeric_cmp_int(v->val.numeric, 0) <= 0)
				value_error(ov, what, def,
							psprintf("must be a positive number of %s, not %s",
									 def->choices, options_value_json(v)),
							NULL, NULL);
			break;
		case OPT_INTERVAL:
			check_interval(ov, what, def, v);
			break;
		case OPT_BOOL:
			if (v->type != jbvBool)
				value_error(ov, what, def, "must be true or false", NULL, NULL);
			break;
		case OPT_SCALAR:
			if (v->type != jbvString && v->type != jbvNumeric)
				value_error(ov, what, def, "must be a string or a number", NULL, NULL);
			break;
		case OPT_LAG:
			check_lag(ov, what, def, v);
			break;
		case OPT_OBJECT:
			if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
				element_type_error(ov, def, "object", v);
			break;
		case OPT_CHANNEL:
			if (v->type != jbvString || v->val.string.len == 0 ||
				pg_mbstrlen_with_len(v->val.string.val, v->val.string.len) > 63)
				value_error(ov, what, def, "must be a channel name of 1 to 63 characters",
							NULL, NULL);
			break;
		case OPT_PIPELINES:
			check_names(ov, what, def, v);
			break;
		case OPT_TIMEZONE:
			if (v->type != jbvString)
				value_error(ov, what, def, "must be a time zone name", NULL, NULL);
			(void) cron_lookup_tz(pnstrdup(v->val.string.val, v->val.string.len));
			break;
		case OPT_NAMES:
			{
				List	   *names;

				if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
					JsonContainerSize(v->val.binary.data) == 0)
					value_error(ov, what, def, "must be a non-empty array of names", NULL, NULL);
				names = options_get_names(ov, def->name);
				if (names == NIL)
					value_error(ov, what, def, "must be an array of non-empty strings", NULL, NULL);
				for (int i = 0; i < list_length(names); i++)
					for (int j = 0; j < i; j++)
						if (strcmp(list_nth(names, i), list_nth(names, j)) == 0)
							value_error(ov, what, def,
										psprintf("names \"%s\" twice", (char *) list_nth(names, i)),
										NULL, NULL);
				break;
			}
	}
	if (def->check)
		def->check(ov, def, text);
}

/*
 * Raise the error of a key no option of the current kind has.
 */
static void
unknown_error(const OptionValues *ov, const char *key)
{
	if (ov->table->style == OPT_STYLE_OPTION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown %s option \"%s\"", ov->what, key),
				 errhint("Known options are %s.", known_list(ov, "", " and "))));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown %s setting \"%s\"", ov->what, key),
			 errhint("Known settings: %s.", known_list(ov, "", ", "))));
}

/*
 * Find the kind an object names, checking its kind key.
 */
static void
parse_kind(OptionValues *ov)
{
	const OptionTable *t = ov->table;
	OptionDef	kdef = {t->kind_key, OPT_TEXT, OPT_ALL_KINDS, OPTF_REQUIRED};
	OptionValues kov = *ov;
	JsonbValue *v = lookup(ov, t->kind_key);
	StringInfoData known;
	char	   *name;

	kov.what = t->kind_what;
	if (v == NULL || v->type == jbvNull)
		required_error(&kov, kov.what, &kdef);
	name = check_string(&kov, kov.what, &kdef, v);
	for (int k = 0; t->kinds[k]; k++)
		if (strcmp(t->kinds[k], name) == 0)
		{
			ov->kind = k;
			ov->what = psprintf(t->what, name);
			return;
		}
	initStringInfo(&known);
	for (int k = 0; t->kinds[k]; k++)
		appendStringInfo(&known, "%s%s", k > 0 ? ", " : "", t->kinds[k]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown %s type \"%s\"", t->kind_what, name),
			 errhint("Known types: %s.", known.data)));
}

/*
 * Check obj, an object, against table: every key known for its kind, every
 * value of its option's type and within its bounds, every required one
 * present.  Then ov reads it.  element is the position of the object in
 * its array, for OPT_STYLE_ELEMENT.
 */
void
options_parse(OptionValues *ov, const OptionTable *table, JsonbContainer *obj,
			  int element)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	StringInfoData unknown;

	ov->table = table;
	ov->obj = obj;
	ov->kind = -1;
	ov->what = table->what;
	ov->element = element;
	if (table->kind_key)
		parse_kind(ov);

	/* the keys, in the object's order */
	initStringInfo(&unknown);
	it = JsonbIteratorInit(obj);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const OptionDef *def;
		char	   *key;
		JsonbValue	val;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		def = find_def(ov, key, v.val.string.len);
		tok = JsonbIteratorNext(&it, &val, true);
		Assert(tok == WJB_VALUE);
		if (def == NULL && table->style == OPT_STYLE_ELEMENT)
			appendStringInfo(&unknown, "%s%s", unknown.len > 0 ? ", " : "", key);
		else if (def == NULL)
			unknown_error(ov, key);
		else if (table->style == OPT_STYLE_OPTION)
			check_value(ov, def, &val);
	}
	if (unknown.len > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("element %d of %s has unknown keys: %s", element, table->what,
						unknown.data),
				 errhint("Valid keys are %s.", known_list(ov, "\"", " and "))));
	if (table->style == OPT_STYLE_OPTION)
		return;

	/* the values, in the table's order */
	for (int i = 0; i < table->ndefs; i++)
	{
		const OptionDef *def = &table->defs[i];

		if (def->kinds != OPT_ALL_KINDS && !(def->kinds & KIND(ov->kind)))
			continue;
		if (table->kind_key && strcmp(def->name, table->kind_key) == 0)
			continue;
		check_value(ov, def, lookup(ov, def->name));
	}
}

/* ------------------------------------------------------- extra checks */

/*
 * An API key sent as a header must have a header's name.
 */
static void
check_api_key_header(const OptionValues *ov, const OptionDef *def, const char *value)
{
	char	   *name = options_get_text(ov, "name");

	if ((value == NULL || strcmp(value, "header") == 0) &&
		!options_regex_match(name, "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", false))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid header name \"%s\"", name)));
}

/*
 * A basic auth user name ends at the first colon.
 */
static void
check_no_colon(const OptionValues *ov, const OptionDef *def, const char *value)
{
	if (strchr(value, ':'))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("basic auth username must not contain a colon")));
}

/*
 * An OAuth2 token endpoint is a URL, or a path on the source's base URL.
 */
static void
check_token_url(const OptionValues *ov, const OptionDef *def, const char *value)
{
	if (!options_regex_match(value, "^(https?://[^/?#[:space:]]+|/)", true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("oauth2 token_url must be an absolute http(s) URL or a path on the base URL")));
	secrets_check_url_template(value, "oauth2 token_url");
}

/*
 * A page size is sent with its parameter name, so both or neither.
 */
static void
check_size_pair(const OptionValues *ov, const OptionDef *def, const char *value)
{
	if (options_has_key(ov, "size") != options_has_key(ov, "size_param"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s settings \"size\" and \"size_param\" go together", ov->what)));
}

/*
 * A response header to read a count from must be a valid header name, or
 * it could never be found.
 */
static void
check_header_name(const OptionValues *ov, const OptionDef *def, const char *value)
{
	if (value == NULL)
		return;
	for (const char *c = value; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || strchr("!#$%&'*+-.^_`|~", *c) != NULL))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s setting \"%s\" is not a valid header name: \"%s\"",
							ov->what, def->name, value),
					 errhint("A header name is made of letters, digits and !#$%%&'*+-.^_`|~.")));
}

/*
 * One source of the total per stream: two could disagree, and which one
 * ends the stream would then be a surprise.
 */
static void
check_one_total(const OptionValues *ov, const OptionDef *def, const char *value)
{
	int			n = options_has_key(ov, "total_path") + options_has_key(ov, "total_header") +
		options_has_key(ov, "total_pages_header");

	check_header_name(ov, def, value);
	if (n > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s settings \"total_path\", \"total_header\" and \"total_pages_header\" exclude each other",
						ov->what),
				 errhint("Give the one place where the API states its total.")));
}

/*
 * next_request paging sends the next value as a query parameter, as a
 * header or at a key of the request body: exactly one of the three.  A
 * body key is a dotted path of non-empty keys ("page.cursor").
 */
static void
check_next_request_target(const OptionValues *ov, const OptionDef *def, const char *value)
{
	int			n = 0;

	if (strcmp(def->name, "header") == 0)
		check_header_name(ov, def, value);
	else if (value != NULL &&
			 (value[0] == '\0' || value[0] == '.' || value[strlen(value) - 1] == '.' ||
			  strstr(value, "..") != NULL))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s setting \"body\" is not a key path: \"%s\"", ov->what, value),
				 errhint("Name the body's key, or a dotted path to a nested key (\"page.cursor\").")));
	n += options_has_key(ov, "param") ? 1 : 0;
	n += options_has_key(ov, "header") ? 1 : 0;
	n += options_has_key(ov, "body") ? 1 : 0;
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs exactly one of the settings \"param\", \"header\" and \"body\"",
						ov->what),
				 errdetail("They say where the value found at \"path\" is sent in the next request.")));
}

/*
 * A CSV delimiter or quote is one ASCII character that cannot end a row,
 * and the two differ, or no field could be told from the next.
 */
static void
check_csv_char(const OptionValues *ov, const OptionDef *def, const char *value)
{
	char	   *d;
	char	   *q;

	if (value != NULL &&
		(strlen(value) != 1 || (unsigned char) value[0] >= 0x80 ||
		 value[0] == '\r' || value[0] == '\n'))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s setting \"%s\" must be one ASCII character other than a line break",
						ov->what, def->name)));
	if (strcmp(def->name, "quote") != 0)
		return;
	d = options_get_text(ov, "delimiter");
	q = options_get_text(ov, "quote");
	if (d && q && strcmp(d, q) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s settings \"delimiter\" and \"quote\" must differ", ov->what)));
}

/*
 * Column names come from the header row or from "columns": exactly one.
 */
static void
check_csv_columns(const OptionValues *ov, const OptionDef *def, const char *value)
{
	bool		header = options_get_bool(ov, "header");
	bool		columns = options_has_key(ov, "columns");

	if (header && columns)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s setting \"columns\" needs \"header\": false", ov->what),
				 errdetail("With a header row the column names are the header's.")));
	if (!header && !columns)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s setting \"header\": false needs \"columns\"", ov->what),
				 errhint("Name the columns, e.g. \"columns\": [\"id\", \"name\"].")));
}

/*
 * Each table named in "contracts" gets one of the contracts "contract"
 * takes: a typo must not leave a table evolving that was meant frozen.
 */
static void
check_normalize_contracts(const OptionValues *ov, const OptionDef *def, const char *value)
{
	JsonbValue *v = options_get_value(ov, "contracts");
	List	   *keys = NIL;
	List	   *values = NIL;
	ListCell   *lk;
	ListCell   *lv;

	if (v == NULL || v->type != jbvBinary)
		return;
	options_object_pairs(v->val.binary.data, &keys, &values);
	forboth(lk, keys, lv, values)
	{
		char	   *table = lfirst(lk);
		JsonbValue *c = lfirst(lv);
		char	   *text = c->type == jbvString ?
			pnstrdup(c->val.string.val, c->val.string.len) : NULL;

		if (table[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s option \"contracts\" names a table with an empty name", ov->what)));
		if (text == NULL ||
			!options_regex_match(text, "^(" NORMALIZE_CONTRACTS ")$", false))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s option \"contracts\" gives table \"%s\" an unknown contract",
							ov->what, table),
					 errhint("A contract is one of evolve, freeze, discard_value, discard_row.")));
	}
}

/* ------------------------------------------------------------ getters */

/*
 * The name of the kind of a parsed object.
 */
const char *
options_kind_name(const OptionValues *ov)
{
	return ov->kind >= 0 ? ov->table->kinds[ov->kind] : NULL;
}

/*
 * Whether the object has the key, null values included.
 */
bool
options_has_key(const OptionValues *ov, const char *name)
{
	return lookup(ov, name) != NULL;
}

/*
 * The value of an option, NULL when absent or null.
 */
JsonbValue *
options_get_value(const OptionValues *ov, const char *name)
{
	JsonbValue *v = find_def(ov, name, strlen(name)) ? lookup(ov, name) : NULL;

	return (v && v->type != jbvNull) ? v : NULL;
}

/*
 * The default of an option of the current kind, NULL without one.
 */
static const char *
get_default(const OptionValues *ov, const char *name)
{
	const OptionDef *def = find_def(ov, name, strlen(name));

	return def ? def->dflt : NULL;
}

/*
 * An option's value as text (->>), or its default, or NULL.
 */
char *
options_get_text(const OptionValues *ov, const char *name)
{
	JsonbValue *v = options_get_value(ov, name);
	const char *d;

	if (v)
		return options_value_text(v);
	d = get_default(ov, name);
	return d ? pstrdup(d) : NULL;
}

/*
 * An integer option, its default, or absent.
 */
int32
options_get_int(const OptionValues *ov, const char *name, int32 absent)
{
	JsonbValue *v = options_get_value(ov, name);
	const char *d;

	if (v && v->type == jbvNumeric)
		return DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v->val.numeric)));
	d = get_default(ov, name);
	return d ? pg_strtoint32(d) : absent;
}

/*
 * A number option, its default, or absent.
 */
double
options_get_number(const OptionValues *ov, const char *name, double absent)
{
	JsonbValue *v = options_get_value(ov, name);
	const char *d;

	if (v && v->type == jbvNumeric)
		return DatumGetFloat8(DirectFunctionCall1(numeric_float8,
												  NumericGetDatum(v->val.numeric)));
	d = get_default(ov, name);
	return d ? strtod(d, NULL) : absent;
}

/*
 * A boolean option or its default (false without one).
 */
bool
options_get_bool(const OptionValues *ov, const char *name)
{
	JsonbValue *v = options_get_value(ov, name);
	const char *d;

	if (v && v->type == jbvBool)
		return v->val.boolean;
	d = get_default(ov, name);
	return d && strcmp(d, "true") == 0;
}

/*
 * The strings of an array option, in order; NIL when absent, or when an
 * element is not a non-empty string (which the check then reports).
 */
List *
options_get_names(const OptionValues *ov, const char *name)
{
	JsonbValue *v = options_get_value(ov, name);
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	List	   *out = NIL;

	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		return NIL;
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (e.type != jbvString || e.val.string.len == 0)
			return NIL;
		out = lappend(out, pnstrdup(e.val.string.val, e.val.string.len));
	}
	return out;
}

/*
 * An interval option, its default, or NULL.
 */
Interval *
options_get_interval(const OptionValues *ov, const char *name)
{
	JsonbValue *v = options_get_value(ov, name);
	const char *d;
	Interval   *iv = NULL;

	if (v && v->type == jbvString)
		iv = parse_interval(pnstrdup(v->val.string.val, v->val.string.len), NULL);
	else if (v && v->type == jbvNumeric)
		iv = parse_interval(NULL, v->val.numeric);
	else if ((d = get_default(ov, name)) != NULL)
		iv = parse_interval(d, NULL);
	return iv;
}

/*
 * extract(epoch FROM iv) * 1000, the numeric both readings below round.
 */
static Datum
interval_ms_numeric(Interval *iv)
{
	Datum		epoch = DirectFunctionCall2(extract_interval,
											CStringGetTextDatum("epoch"),
											IntervalPGetDatum(iv));

	return DirectFunctionCall2(numeric_mul, epoch,
							   DirectFunctionCall1(int4_numeric, Int32GetDatum(1000)));
}

/*
 * Milliseconds of an interval, rounded as a cast to bigint rounds them.
 */
int64
options_interval_ms(Interval *iv)
{
	return DatumGetInt64(DirectFunctionCall1(numeric_int8, interval_ms_numeric(iv)));
}

/*
 * Milliseconds of an interval, as a float8.
 */
double
options_interval_ms_float(Interval *iv)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, interval_ms_numeric(iv)));
}

/*
 * The CSV settings of a stream, from its format_options; every value was
 * checked when the stream was written, and is checked again here.
 */
void
options_csv(Jsonb *format_options, RecordCsvOptions *o)
{
	OptionValues ov;

	options_parse(&ov, &stream_csv_table, &format_options->root, 0);
	o->delimiter = options_get_text(&ov, "delimiter")[0];
	o->quote = options_get_text(&ov, "quote")[0];
	o->null_string = options_get_text(&ov, "null_string");
	o->header = options_get_bool(&ov, "header");
	o->columns = options_get_names(&ov, "columns");
}

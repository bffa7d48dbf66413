/*
 * fanout.c
 *	  Parent/child fan-out (for_each) and request bodies.
 *
 * A fan-out stream requests its path once per row of a query: the row's
 * values fill the {name} placeholders of the path (percent-encoded), of
 * the params and of the body's string values.  This file yields the rows
 * and builds each child's parts; extract.c runs the children through its
 * window of requests, as it runs pages.
 *
 * A value is never read as a template again: path values are encoded (a
 * brace cannot survive), and a value that would bring a secret reference
 * into a param is refused, so a parent row cannot make pg_elt send a
 * secret.  Bodies are not templates of secrets at all.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "fanout.h"
#include "internal_sql.h"
#include "source.h"

/*
 * Length of the placeholder name starting at s (just after a single "{"),
 * 0 when what follows is not a name closed by "}".
 */
static int
placeholder_len(const char *s)
{
	int			n = 0;

	if (!(isalpha((unsigned char) s[0]) || s[0] == '_'))
		return 0;
	while (isalnum((unsigned char) s[n]) || s[n] == '_')
		n++;
	return s[n] == '}' ? n : 0;
}

/*
 * Placeholders are found the same way when a definition is checked and
 * when it is filled, so what is checked is what is sent.  A "{{" opens a
 * secret reference, which is skipped up to its "}}".
 */
List *
fanout_placeholders(const char *tmpl)
{
	List	   *names = NIL;
	const char *s = tmpl;

	while (s && *s)
	{
		if (s[0] == '{' && s[1] == '{')
		{
			const char *end = strstr(s + 2, "}}");

			if (end == NULL)
				break;
			s = end + 2;
			continue;
		}
		if (s[0] == '{')
		{
			int			n = placeholder_len(s + 1);

			if (n > 0)
			{
				names = lappend(names, pnstrdup(s + 1, n));
				s += n + 2;
				continue;
			}
		}
		s++;
	}
	return names;
}

/*
 * Every placeholder of a body's string values, for the definition check.
 */
List *
fanout_body_placeholders(Jsonb *body)
{
	List	   *names = NIL;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;

	if (body == NULL)
		return NIL;
	it = JsonbIteratorInit(&body->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
		if ((tok == WJB_VALUE || tok == WJB_ELEM) && v.type == jbvString)
			names = list_concat(names,
								fanout_placeholders(pnstrdup(v.val.string.val,
															 v.val.string.len)));
	return names;
}

/*
 * The user's query as a subquery: a trailing semicolon is dropped, so that
 * one statement, and only one, is what it may hold.
 */
static char *
query_body(const char *query)
{
	char	   *q = pstrdup(query);
	int			n = strlen(q);

	while (n > 0 && (isspace((unsigned char) q[n - 1]) || q[n - 1] == ';'))
		q[--n] = '\0';
	return q;
}

/*
 * The parent rows, one JSON object per row of for_each.  The query runs
 * read-only, as whoever runs this (the extract runs as the stream's
 * owner), with the caller's search_path: it is the user's SQL.  Only the
 * wrapper's names are pg_elt's, and those are qualified.
 */
Jsonb **
fanout_rows(const char *query, TimestampTz last_run, const char *cursor, int *nrows)
{
	char	   *sql = psprintf("SELECT pg_catalog.to_jsonb(q) FROM (%s\n) q",
							   query_body(query));
	Oid			types[2] = {TIMESTAMPTZOID, TEXTOID};
	Datum		vals[2];
	char		nls[3] = "  ";
	Jsonb	  **rows;
	uint64		i;

	vals[0] = TimestampTzGetDatum(last_run);
	if (last_run == 0)
		nls[0] = 'n';
	vals[1] = cursor ? CStringGetTextDatum(cursor) : (Datum) 0;
	if (cursor == NULL)
		nls[1] = 'n';
	internal_sql_exec_caller_args(sql, 2, types, vals, nls, true, SPI_OK_SELECT);
	if (SPI_processed > (uint64) (MaxAllocSize / sizeof(Jsonb *)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("for_each query returned too many rows")));
	*nrows = (int) SPI_processed;
	rows = palloc(sizeof(Jsonb *) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = internal_sql_datum(i, 1, &isnull);

		rows[i] = DatumGetJsonbPCopy(d);
	}
	SPI_freetuptable(SPI_tuptable);
	return rows;
}

/*
 * The value of a row's column, or an error: a placeholder must name a
 * column of the query, and its value must not be null.
 */
static JsonbValue *
row_value(Jsonb *row, const char *name, const char *what)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&row->root, name, strlen(name), NULL);

	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("placeholder {%s} of the %s is not a column of the for_each query", name, what),
				 errdetail("The for_each query returns the columns %s.",
						   JsonbToCString(NULL, &row->root, VARSIZE(row))),
				 errhint("Name the column in the query's select list, e.g. SELECT id AS %s.", name)));
	if (v->type == jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("column \"%s\" of a for_each row is null", name),
				 errdetail("The %s needs a value for {%s}; the row is %s.", what, name,
						   JsonbToCString(NULL, &row->root, VARSIZE(row)))));
	return v;
}

/*
 * A value as text: strings as they are, other scalars as JSON writes them.
 */
static char *
value_text(JsonbValue *v)
{
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out,
												   NumericGetDatum(v->val.numeric)));
	if (v->type == jbvBool)
		return pstrdup(v->val.boolean ? "true" : "false");
	return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
}

/*
 * Percent-encode everything but letters, digits and "-_~": a value is one
 * path segment, so "/", "." and braces are encoded too.
 */
static void
append_path_value(StringInfo buf, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (isalnum(c) || c == '-' || c == '_' || c == '~')
			appendStringInfoChar(buf, c);
		else
		{
			appendStringInfoChar(buf, '%');
			appendStringInfoChar(buf, hex[c >> 4]);
			appendStringInfoChar(buf, hex[c & 15]);
		}
	}
}

/*
 * Fill a path or param template from a row.  The result of a param is a
 * template of secrets still (the definition's own references), so a value
 * from the row must not bring one in.
 */
char *
fanout_fill(const char *tmpl, Jsonb *row, bool encode, const char *what)
{
	StringInfoData buf;
	const char *s = tmpl;

	initStringInfo(&buf);
	while (*s)
	{
		if (s[0] == '{' && s[1] == '{')
		{
			const char *end = strstr(s + 2, "}}");
			int			n = end ? (int) (end + 2 - s) : (int) strlen(s);

			appendBinaryStringInfo(&buf, s, n);
			s += n;
			continue;
		}
		if (s[0] == '{')
		{
			int			n = placeholder_len(s + 1);

			if (n > 0)
			{
				char	   *name = pnstrdup(s + 1, n);
				char	   *val = value_text(row_value(row, name, what));

				if (encode)
					append_path_value(&buf, val);
				else if (strstr(val, "{{") != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("value of column \"%s\" of a for_each row contains \"{{\"", name),
							 errdetail("A value from the for_each query cannot hold a secret reference.")));
				else
					appendStringInfoString(&buf, val);
				s += n + 2;
				continue;
			}
		}
		appendStringInfoChar(&buf, *s);
		s++;
	}
	return buf.data;
}

/*
 * A string of a body filled from a row: a string that is one placeholder
 * takes the column's JSON value (a number stays a number), others get the
 * values' text.
 */
static void
fill_string(JsonbValue *v, Jsonb *row)
{
	char	   *s = pnstrdup(v->val.string.val, v->val.string.len);
	int			n;
	char	   *out;

	if (s[0] == '{' && (n = placeholder_len(s + 1)) > 0 && s[n + 2] == '\0')
	{
		char	   *name = pnstrdup(s + 1, n);
		JsonbValue *val = getKeyJsonValueFromContainer(&row->root, name, n, NULL);

		if (val == NULL)
			(void) row_value(row, name, "body");
		*v = *val;
		return;
	}
	if (fanout_placeholders(s) == NIL)
		return;
	out = fanout_fill(s, row, false, "body");
	v->val.string.val = out;
	v->val.string.len = strlen(out);
}

/*
 * The body for one parent row.
 */
Jsonb *
fanout_fill_body(Jsonb *body, Jsonb *row)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbParseState *st = NULL;
	JsonbValue	v;
	JsonbValue *res = NULL;

	if (body == NULL || row == NULL)
		return body;
	it = JsonbIteratorInit(&body->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if ((tok == WJB_VALUE || tok == WJB_ELEM) && v.type == jbvString)
			fill_string(&v, row);
		res = pushJsonbValue(&st, tok, tok < WJB_BEGIN_ARRAY ? &v : NULL);
	}
	return JsonbValueToJsonb(res);
}

/*
 * Set a paging value in a body with jsonb_set: the keys above the last
 * must exist in the body (GraphQL's "variables"), the last is created.
 */
Jsonb *
fanout_body_set(Jsonb *body, const char *dotted, const char *value, bool as_number)
{
	List	   *parts = NIL;
	char	   *copy = pstrdup(dotted);
	char	   *tok;
	char	   *save = NULL;
	Datum	   *elems;
	ArrayType  *path;
	JsonbValue	jv;
	ListCell   *lc;
	int			i = 0;

	for (tok = strtok_r(copy, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
		parts = lappend(parts, tok);
	elems = palloc(sizeof(Datum) * Max(list_length(parts), 1));
	foreach(lc, parts)
		elems[i++] = CStringGetTextDatum(lfirst(lc));
	path = construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT);
	if (as_number)
	{
		jv.type = jbvNumeric;
		jv.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
															 CStringGetDatum(value),
															 ObjectIdGetDatum(InvalidOid),
															 Int32GetDatum(-1)));
	}
	else
	{
		jv.type = jbvString;
		jv.val.string.val = (char *) value;
		jv.val.string.len = strlen(value);
	}
	return DatumGetJsonbP(DirectFunctionCall4(jsonb_set, JsonbPGetDatum(body),
											  PointerGetDatum(path),
											  JsonbPGetDatum(JsonbValueToJsonb(&jv)),
											  BoolGetDatum(true)));
}

/*
 * A body as the request sends it.
 */
char *
fanout_body_text(Jsonb *body)
{
	return JsonbToCString(NULL, &body->root, VARSIZE(body));
}

struct Fanout
{
	Jsonb	  **rows;			/* the query's rows; NULL once started */
	int			nrows;
	int			next;			/* the next row to start */
	List	   *started;		/* children started and not done */
	const char *path;			/* the templates */
	List	   *param_values;
	Jsonb	   *body;
	MemoryContext cxt;
};

/*
 * The rows of the stream's query: $1 is the start of the stream's last
 * successful batch and $2 its cursor, so that a query can fan out over the
 * parents changed since (both NULL on a full refresh or before the first
 * success).
 */
Fanout *
fanout_begin(int32 stream_id, const char *query, bool full_refresh,
			 const char *cursor, const char *path, List *param_values, Jsonb *body)
{
	Fanout	   *f = palloc0(sizeof(Fanout));
	Oid			types[1] = {INT4OID};
	Datum		vals[1];
	TimestampTz last_run = 0;

	vals[0] = Int32GetDatum(stream_id);
	internal_sql_exec("SELECT pg_catalog.max(started_at) FROM elt.batch "
					  "WHERE stream_id OPERATOR(pg_catalog.=) $1 "
					  "AND status OPERATOR(pg_catalog.=) 'succeeded'",
					  1, types, vals, NULL, false, SPI_OK_SELECT);
	if (!full_refresh && !internal_sql_isnull(0, 1))
	{
		bool		isnull;

		last_run = DatumGetTimestampTz(internal_sql_datum(0, 1, &isnull));
	}
	f->cxt = CurrentMemoryContext;
	f->rows = fanout_rows(query, last_run, full_refresh ? NULL : cursor, &f->nrows);
	f->path = path;
	f->param_values = param_values;
	f->body = body;
	ereport(DEBUG1, (errmsg("fanning out over %d rows", f->nrows)));
	return f;
}

/*
 * A child for the next row: its path, params and body filled from the row,
 * in a memory context of its own, freed when it is done.
 */
FanoutChild *
fanout_next_child(Fanout *f)
{
	MemoryContext cxt;
	MemoryContext old;
	FanoutChild *c;
	ListCell   *lc;

	if (f->next >= f->nrows)
		return NULL;
	cxt = AllocSetContextCreate(f->cxt, "pg_elt fan-out child", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	c = palloc0(sizeof(FanoutChild));
	c->cxt = cxt;
	c->index = f->next;
	c->parent = f->rows[f->next];
	f->rows[f->next++] = NULL;
	c->path = fanout_fill(f->path, c->parent, true, "path");
	foreach(lc, f->param_values)
		c->param_values = lappend(c->param_values,
								  fanout_fill(lfirst(lc), c->parent, false, "params"));
	c->body = fanout_fill_body(f->body, c->parent);
	c->total = -1;
	MemoryContextSwitchTo(f->cxt);
	f->started = lappend(f->started, c);
	MemoryContextSwitchTo(old);
	return c;
}

/*
 * A copy, so that the caller may finish children while walking it.
 */
List *
fanout_started(Fanout *f)
{
	return list_copy(f->started);
}

/*
 * The child's rows are written (its parent value is no longer needed).
 */
void
fanout_child_done(Fanout *f, FanoutChild *c)
{
	f->started = list_delete_ptr(f->started, c);
	pfree(c->parent);
	MemoryContextDelete(c->cxt);
}

/*
 * Paging values go where the API reads them: a POST search or a GraphQL
 * query pages through its body, not its URL.
 */
void
fanout_add_paging(UrlPair *u, Jsonb **body, bool in_body, const char *name,
				  const char *value, bool number)
{
	if (in_body)
		*body = fanout_body_set(*body, name, value, number);
	else
		url_add_value_param(u, name, value);	/* sent as written: no secrets */
}

/*
 * Is name among the header names (case-insensitive)?
 */
static bool
name_listed(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (pg_strcasecmp(lfirst(lc), name) == 0)
			return true;
	return false;
}

/*
 * A stream may need headers of its own (a GraphQL endpoint's token, a
 * search's content type) beside those the source sends with every stream.
 */
bool
fanout_add_headers(HttpRequest *req, List *src_names, List *src_values,
				   List *names, List *values, bool has_body, const char *replaced)
{
	ListCell   *ln;
	ListCell   *lv;
	bool		accept = false;

	forboth(ln, src_names, lv, src_values)
	{
		if (name_listed(names, lfirst(ln)) ||
			(replaced && pg_strcasecmp(lfirst(ln), replaced) == 0))
			continue;
		source_add_header(req, lfirst(ln), lfirst(lv));
		if (pg_strcasecmp(lfirst(ln), "Accept") == 0)
			accept = true;
	}
	forboth(ln, names, lv, values)
	{
		if (replaced && pg_strcasecmp(lfirst(ln), replaced) == 0)
			continue;
		source_add_header(req, lfirst(ln), lfirst(lv));
		if (pg_strcasecmp(lfirst(ln), "Accept") == 0)
			accept = true;
	}
	if (has_body && !name_listed(names, "Content-Type") &&
		!name_listed(src_names, "Content-Type"))
		http_request_add_header(req, "Content-Type", "application/json");
	return accept;
}

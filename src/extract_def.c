/*
 * extract_def.c
 *	  An extract's state, and reading a stream's definition into it.
 *
 * The stream and its source are read once, locked, at the start of an
 * extract; every option's value and default comes from the option tables
 * (options.c), so nothing here restates a default.  Apart from extract.c,
 * which runs the pages, so that each stays a readable size.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "extract_def.h"
#include "internal_sql.h"
#include "options.h"
#include "records.h"

/*
 * A jsonb column of the definition's row, NULL for null.
 */
static Jsonb *
col_jsonb(int col)
{
	bool		isnull;
	Datum		d = internal_sql_datum(0, col, &isnull);

	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/*
 * The key/value pairs of a jsonb object as two lists of text, in the
 * order of the keys; non-string values (query parameters) as JSON.
 */
static void
load_pairs(Jsonb *obj, List **names, List **values)
{
	List	   *vals = NIL;
	ListCell   *lc;

	options_object_pairs(&obj->root, names, &vals);
	foreach(lc, vals)
	{
		JsonbValue *v = lfirst(lc);

		*values = lappend(*values, v->type == jbvString ? options_value_text(v) :
						  options_value_json(v));
	}
}

/*
 * A records path setting, parsed; NULL when absent.
 */
static RecordPath *
path_setting(OptionValues *ov, const char *name)
{
	char	   *v = options_get_text(ov, name);

	return v ? records_parse_path(v, name) : NULL;
}

/*
 * Read and lock the stream, read its source; the row lock makes concurrent
 * extracts of one stream run one after the other, each seeing the cursor
 * the previous one committed.  Every setting and its default comes from
 * the option tables (options.c) that checked the definition.
 */
void
extract_load_definition(Extract *ex, const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	Jsonb	   *pagination;
	Jsonb	   *incremental;
	Jsonb	   *auth;
	Jsonb	   *options;
	Jsonb	   *params;
	Jsonb	   *headers;
	OptionValues ov;
	const char *kind;
	Interval   *iv;
	JsonbValue *lag;

	args[0] = CStringGetTextDatum(name);
	internal_sql_exec("SELECT stream_id FROM elt._resolve_stream($1)",
					  1, argtypes, args, NULL, true, SPI_OK_SELECT);
	ex->stream_id = internal_sql_int32(0, 1, 0);
	argtypes[0] = INT4OID;
	args[0] = Int32GetDatum(ex->stream_id);
	if (internal_sql_exec("SELECT s.source OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) s.name, "
						  " s.target, so.base_url, s.path, s.records, s.format, s.cursor_value, "
						  " s.pagination, s.incremental, so.auth, so.options, s.params, so.headers, "
						  " s.source, s.owner::pg_catalog.oid, s.for_each, s.method, s.body, "
						  " s.headers, s.format_options "
						  "FROM elt.stream s JOIN elt.source so ON so.name OPERATOR(pg_catalog.=) s.source "
						  "WHERE s.stream_id OPERATOR(pg_catalog.=) $1 FOR UPDATE OF s",
						  1, argtypes, args, NULL, false, INTERNAL_SQL_ANY) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("stream \"%s\" does not exist", name)));
	ex->stream = internal_sql_text(0, 1);
	ex->target = internal_sql_text(0, 2);
	ex->base_url = internal_sql_text(0, 3);
	ex->path = internal_sql_text(0, 4);
	ex->records_path = records_parse_path(internal_sql_text(0, 5), "records");
	ex->format = records_parse_format(internal_sql_text(0, 6));
	ex->cursor_before = internal_sql_text(0, 7);
	pagination = col_jsonb(8);
	incremental = col_jsonb(9);
	auth = col_jsonb(10);
	options = col_jsonb(11);
	params = col_jsonb(12);
	headers = col_jsonb(13);
	ex->auth.source = internal_sql_text(0, 14);
	ex->owner = internal_sql_oid(0, 15);
	ex->for_each = internal_sql_text(0, 16);
	ex->method = internal_sql_text(0, 17);
	ex->body = col_jsonb(18);
	load_pairs(col_jsonb(19), &ex->sheader_names, &ex->sheader_values);
	if (ex->format == RECORD_CSV)
		options_csv(col_jsonb(20), &ex->csv);

	options_parse(&ov, &stream_pagination_table, &pagination->root, 0);
	kind = options_kind_name(&ov);
	ex->kind = strcmp(kind, "none") == 0 ? PAGING_NONE :
		strcmp(kind, "page") == 0 ? PAGING_PAGE :
		strcmp(kind, "offset") == 0 ? PAGING_OFFSET :
		strcmp(kind, "cursor") == 0 ? PAGING_CURSOR :
		strcmp(kind, "next_url") == 0 ? PAGING_NEXT_URL :
		strcmp(kind, "next_request") == 0 ? PAGING_NEXT_REQUEST : PAGING_LINK;
	ex->page_param = options_get_text(&ov, "param");
	ex->page_start = options_get_int(&ov, "start", 1);
	ex->size_param = options_get_text(&ov, "size_param");
	ex->size = options_get_int(&ov, "size", 0);
	ex->max_pages = options_get_int(&ov, "max_pages", 0);
	ex->total_path = path_setting(&ov, "total_path");
	ex->total_header = options_get_text(&ov, "total_header");
	ex->total_pages_header = options_get_text(&ov, "total_pages_header");
	ex->offset_param = options_get_text(&ov, "offset_param");
	ex->limit_param = options_get_text(&ov, "limit_param");
	ex->limit = options_get_int(&ov, "limit", 0);
	ex->cursor_path = path_setting(&ov, "cursor_path");
	ex->cursor_param = options_get_text(&ov, "param");
	ex->next_path = path_setting(&ov, "path");
	ex->paging_in_body = options_has_key(&ov, "in") &&
		strcmp(options_get_text(&ov, "in"), "body") == 0;
	ex->next_header = options_get_text(&ov, "header");
	ex->next_body = options_get_text(&ov, "body");

	if (incremental && !options_jsonb_is_null(incremental))
	{
		options_parse(&ov, &stream_incremental_table, &incremental->root, 0);
		ex->cursor_field = path_setting(&ov, "cursor_field");
		ex->inc_param = options_get_text(&ov, "param");
		ex->inc_initial = options_get_text(&ov, "initial");
		lag = options_get_value(&ov, "lag");
		ex->lag = lag ? options_value_text(lag) : NULL;
		ex->lag_is_number = lag && lag->type == jbvNumeric;
	}

	ex->auth.type = AUTH_NONE;
	if (auth && !options_jsonb_is_null(auth))
	{
		options_parse(&ov, &source_auth_table, &auth->root, 0);
		kind = options_kind_name(&ov);
		ex->auth.type = strcmp(kind, "bearer") == 0 ? AUTH_BEARER :
			strcmp(kind, "api_key") == 0 ? AUTH_API_KEY :
			strcmp(kind, "basic") == 0 ? AUTH_BASIC : AUTH_OAUTH2;
		ex->auth.token = options_get_text(&ov, "token");
		ex->auth.name = options_get_text(&ov, "name");
		ex->auth.in_query = ex->auth.type == AUTH_API_KEY &&
			strcmp(options_get_text(&ov, "in"), "query") == 0;
		ex->auth.value = options_get_text(&ov, "value");
		ex->auth.username = options_get_text(&ov, "username");
		ex->auth.password = options_get_text(&ov, "password");
		ex->auth.token_url = options_get_text(&ov, "token_url");
		ex->auth.client_id = options_get_text(&ov, "client_id");
		ex->auth.client_secret = options_get_text(&ov, "client_secret");
		ex->auth.scope = options_get_text(&ov, "scope");
		ex->auth.audience = options_get_text(&ov, "audience");
		ex->auth.client_basic = ex->auth.type == AUTH_OAUTH2 &&
			strcmp(options_get_text(&ov, "client_auth"), "basic") == 0;
	}

	options_parse(&ov, &source_options_table, &options->root, 0);
	iv = options_get_interval(&ov, "timeout");
	ex->timeout_ms = iv ? (int) Min(options_interval_ms(iv), INT_MAX) : 0;
	ex->max_attempts = options_get_int(&ov, "max_attempts", 0);
	ex->backoff_ms = options_interval_ms_float(options_get_interval(&ov, "backoff"));
	ex->max_backoff_ms = options_interval_ms_float(options_get_interval(&ov, "max_backoff"));
	ex->rate_limit = options_get_number(&ov, "rate_limit", 0);
	ex->concurrency = Min(options_get_int(&ov, "concurrency", 0), MAX_WINDOW);
	ex->auth.base_url = ex->base_url;
	ex->auth.timeout_ms = ex->timeout_ms;

	load_pairs(params, &ex->param_names, &ex->param_values);
	load_pairs(headers, &ex->header_names, &ex->header_values);
}

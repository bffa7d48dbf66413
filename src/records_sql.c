/*
 * records_sql.c
 *	  The record splitter's SQL functions: elt.split_records, to try a
 *	  records path, format and CSV settings on a body, and the
 *	  definition-time check of a records path.
 *
 * Apart from records.c so that the splitter itself depends on nothing of
 * pg_elt's settings; these functions read a stream's format_options
 * through the option tables (options.c).
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "options.h"
#include "records.h"
#include "records_sql.h"

PG_FUNCTION_INFO_V1(elt_check_records_path);
PG_FUNCTION_INFO_V1(elt_split_records);

/*
 * elt._check_records_path(path, what): definition-time check of a path.
 */
Datum
elt_check_records_path(PG_FUNCTION_ARGS)
{
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *what = text_to_cstring(PG_GETARG_TEXT_PP(1));

	records_parse_path(path, what);
	PG_RETURN_VOID();
}

typedef struct SplitState
{
	Tuplestorestate *store;
	TupleDesc	desc;
} SplitState;

/*
 * Callback of elt.split_records: one jsonb row per record.
 */
static void
split_collect(void *arg, const char *rec, size_t len, int64 offset)
{
	SplitState *st = arg;
	Datum		value;
	bool		isnull = false;

	value = JsonbPGetDatum(records_jsonb(rec, len, false));
	tuplestore_putvalues(st->store, st->desc, &value, &isnull);
}

/*
 * elt.split_records(body, records, format): the records elt.extract would
 * load from a body, for trying out a records path or a format.
 */
Datum
elt_split_records(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *body = PG_GETARG_TEXT_PP(0);
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *format = text_to_cstring(PG_GETARG_TEXT_PP(2));
	RecordFormat fmt = records_parse_format(format);
	RecordPath *rp = records_parse_path(path, "records");
	Jsonb	   *format_options = PG_GETARG_JSONB_P(3);
	RecordSplitter *s;
	SplitState	st;
	RecordCsvOptions csv;
	size_t		len = VARSIZE_ANY_EXHDR(body);
	const char *data = VARDATA_ANY(body);
	size_t		drop;

	if (fmt != RECORD_JSON && rp->nkeys > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a records path other than '$' needs format json")));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	st.store = rsinfo->setResult;
	st.desc = rsinfo->setDesc;
	s = records_splitter_new(fmt, rp, split_collect, &st);
	if (fmt != RECORD_CSV && JB_ROOT_COUNT(format_options) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("format %s takes no format_options", format),
				 errhint("Only format csv has options: delimiter, quote, null_string, header, columns.")));
	if (fmt == RECORD_CSV)
	{
		options_csv(format_options, &csv);
		records_set_csv(s, &csv);
	}
	drop = records_feed(s, data, len);
	records_finish(s, data + drop, len - drop);
	return (Datum) 0;
}

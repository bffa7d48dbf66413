/*
 * observe.c
 *	  Helpers of the metrics and lineage views (src/sql/75_observe.sql).
 *
 * The views show where data goes (export destinations), and a destination
 * may carry credentials in its URL.  They are masked here with the same
 * rules as every URL pg_elt prints, so that metrics and lineage never show
 * more than an error message would.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "observe.h"
#include "redact.h"
#include "secrets.h"

PG_FUNCTION_INFO_V1(elt_redact_url);

/*
 * elt._redact_url(url text): the URL as it may be shown to anyone who may
 * read the history it comes from.
 */
Datum
elt_redact_url(PG_FUNCTION_ARGS)
{
	char	   *url = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(redact_text(secrets_redact_url(url))));
}

/*
 * step_output.c
 *	  Keeping what a pipeline step said with its attempt.
 *
 * A step runs in a background worker, which has no client: the NOTICEs and
 * WARNINGs of its command would only reach the server log, if that.  While
 * an attempt runs, an emit_log_hook keeps them, and the run worker writes
 * them into elt.step_run with the first row of the step's last statement,
 * so that "what did the step say" is answered from the run history.
 *
 * PostgreSQL builds a message only when it goes somewhere, so during the
 * attempt log_min_messages is lowered to INFO and the hook keeps the
 * messages below the level the server really logs out of the log.  Each
 * message is masked of the secret values substituted in the attempt's
 * transaction (redact.c) when it is made, and capped in number and size.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "redact.h"
#include "step_output.h"

static emit_log_hook_type prev_emit_log_hook = NULL;
static bool capturing = false;
static bool hook_installed = false;
static int	saved_log_min_messages = WARNING;
static char *saved_log_min_messages_text = NULL;
static MemoryContext output_cxt = NULL;
static StringInfo messages = NULL;
static int	nmessages = 0;
static int	ndropped = 0;

/*
 * Would the server log this message at its own log_min_messages?  The
 * levels kept here are all below ERROR, where LOG ranks above WARNING.
 */
static bool
server_would_log(int elevel)
{
	if (saved_log_min_messages == LOG)
		return false;
	return elevel >= saved_log_min_messages;
}

/* The name of a level, as psql shows it */
static const char *
level_name(int elevel)
{
	switch (elevel)
	{
		case INFO:
			return "INFO";
		case NOTICE:
			return "NOTICE";
		default:
			return "WARNING";
	}
}

/* Copy of text cut to at most STEP_OUTPUT_MAX_LEN bytes, on a character */
static char *
capped(const char *text)
{
	int			len = strlen(text);

	if (len <= STEP_OUTPUT_MAX_LEN)
		return pstrdup(text);
	len = pg_mbcliplen(text, len, STEP_OUTPUT_MAX_LEN - 3);
	return psprintf("%.*s...", len, text);
}

/*
 * emit_log_hook: keep the messages of the attempt.
 */
static void
step_output_emit_log_hook(ErrorData *edata)
{
	if (capturing && (edata->elevel == INFO || edata->elevel == NOTICE ||
					  edata->elevel == WARNING))
	{
		if (nmessages < STEP_OUTPUT_MAX_MESSAGES)
		{
			MemoryContext old = MemoryContextSwitchTo(output_cxt);
			char	   *text = capped(redact_text(edata->message ? edata->message : ""));

			appendStringInfoString(messages, nmessages > 0 ? ", {\"level\": " : "{\"level\": ");
			escape_json(messages, level_name(edata->elevel));
			appendStringInfoString(messages, ", \"message\": ");
			escape_json(messages, text);
			appendStringInfoChar(messages, '}');
			nmessages++;
			MemoryContextSwitchTo(old);
		}
		else
			ndropped++;
		if (!server_would_log(edata->elevel))
			edata->output_to_server = false;
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * Start keeping messages; see step_output.h.
 */
void
step_output_begin(void)
{
	if (!hook_installed)
	{
		prev_emit_log_hook = emit_log_hook;
		emit_log_hook = step_output_emit_log_hook;
		hook_installed = true;
	}
	if (output_cxt == NULL)
		output_cxt = AllocSetContextCreate(TopMemoryContext, "pg_elt step output",
										   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(output_cxt);
	{
		MemoryContext old = MemoryContextSwitchTo(output_cxt);

		messages = makeStringInfo();
		MemoryContextSwitchTo(old);
	}
	nmessages = 0;
	ndropped = 0;

	/* have PostgreSQL make INFO and NOTICE messages, which we keep */
	saved_log_min_messages = log_min_messages;
	saved_log_min_messages_text = MemoryContextStrdup(output_cxt,
													  GetConfigOption("log_min_messages", false, false));
	if (log_min_messages > INFO || log_min_messages == LOG)
		(void) set_config_option("log_min_messages", "info", PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SET, true, 0, false);
	capturing = true;
}

/*
 * Stop keeping messages and return them; see step_output.h.
 */
char *
step_output_end(MemoryContext cxt)
{
	char	   *result = NULL;

	capturing = false;
	if (saved_log_min_messages_text != NULL)
		(void) set_config_option("log_min_messages", saved_log_min_messages_text,
								 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
	saved_log_min_messages_text = NULL;
	if (messages != NULL && (nmessages > 0 || ndropped > 0))
	{
		StringInfoData buf;
		MemoryContext old = MemoryContextSwitchTo(cxt);

		initStringInfo(&buf);
		appendStringInfoChar(&buf, '[');
		appendBinaryStringInfo(&buf, messages->data, messages->len);
		if (ndropped > 0)
			appendStringInfo(&buf, "%s{\"level\": \"INFO\", \"message\": \"%d more messages were not kept\"}",
							 nmessages > 0 ? ", " : "", ndropped);
		appendStringInfoChar(&buf, ']');
		result = buf.data;
		MemoryContextSwitchTo(old);
	}
	messages = NULL;
	MemoryContextReset(output_cxt);
	return result;
}

/*
 * The first row of a result as text; see step_output.h.
 */
char *
step_output_result(SPITupleTable *tuptable, uint64 processed, MemoryContext cxt)
{
	StringInfoData buf;
	TupleDesc	desc;
	int			i;
	bool		first = true;
	char	   *text;
	MemoryContext old;

	if (tuptable == NULL || tuptable->numvals == 0)
		return NULL;
	desc = tuptable->tupdesc;
	initStringInfo(&buf);
	for (i = 1; i <= desc->natts && buf.len <= STEP_OUTPUT_MAX_LEN; i++)
	{
		char	   *value;

		if (TupleDescAttr(desc, i - 1)->attisdropped)
			continue;
		value = SPI_getvalue(tuptable->vals[0], desc, i);
		appendStringInfo(&buf, "%s%s=%s", first ? "" : ", ",
						 NameStr(TupleDescAttr(desc, i - 1)->attname),
						 value ? value : "NULL");
		first = false;
	}
	if (processed > 1)
		appendStringInfo(&buf, " (and %llu more rows)", (unsigned long long) (processed - 1));
	text = capped(redact_text(buf.data));
	old = MemoryContextSwitchTo(cxt);
	text = pstrdup(text);
	MemoryContextSwitchTo(old);
	return text;
}

/*
 * redact.c
 *	  Masking of substituted secret values in messages.
 *
 * A role may be allowed to use a secret without being allowed to read it,
 * yet many messages quote text that came back from the request: curl's
 * error text can quote the URL, an API can put the value into a redirect
 * or next-page URL or echo it in an error body, and any error raised while
 * the response is processed may quote the response.  So every value
 * substituted in the current transaction is remembered here, and masked
 * where pg_elt builds a message from such text, before ereport: an error
 * caught in PL/pgSQL and stored from SQLERRM is masked as well.  The log
 * hook masks what is printed to the log and sent to the client, for errors
 * that other code raises.
 *
 * Values are remembered in a memory context below TopTransactionContext:
 * they are wiped and forgotten when the transaction ends.  Each value is
 * also remembered percent-encoded, the form it takes in URLs, and matching
 * ignores case (host names and percent-encoding change case).  Values
 * shorter than REDACT_MIN_LEN bytes are never substituted: they would match
 * ordinary text everywhere, and where they were masked would reveal them.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/elog.h"
#include "utils/memutils.h"

#include "pg_elt.h"
#include "redact.h"

typedef struct RedactEntry
{
	char	   *value;
	size_t		len;
	char	   *label;
} RedactEntry;

typedef struct RedactSet
{
	MemoryContext cxt;
	MemoryContextCallback cb;
	int			n;
	int			cap;
	RedactEntry *e;				/* longest first */
} RedactSet;

static RedactSet *remembered = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;

/*
 * Reset callback of the set's context: wipe the values before the memory
 * is released, and forget the set.
 */
static void
redact_forget(void *arg)
{
	RedactSet  *set = (RedactSet *) arg;
	int			i;

	for (i = 0; i < set->n; i++)
		explicit_bzero(set->e[i].value, set->e[i].len);
	if (remembered == set)
		remembered = NULL;
}

/* The current transaction's set, created on first use. */
static RedactSet *
redact_set(void)
{
	MemoryContext cxt;

	if (remembered != NULL)
		return remembered;
	if (TopTransactionContext == NULL)
		elog(ERROR, "secret values can only be used in a transaction");
	cxt = AllocSetContextCreate(TopTransactionContext, "pg_elt redact",
								ALLOCSET_SMALL_SIZES);
	remembered = MemoryContextAllocZero(cxt, sizeof(RedactSet));
	remembered->cxt = cxt;
	remembered->cb.func = redact_forget;
	remembered->cb.arg = remembered;
	MemoryContextRegisterResetCallback(cxt, &remembered->cb);
	return remembered;
}

/* Add one form of a value, keeping the entries longest first. */
static void
add_entry(RedactSet *set, const char *value, size_t len, const char *label)
{
	int			i;
	int			pos;

	for (i = 0; i < set->n; i++)
		if (set->e[i].len == len && memcmp(set->e[i].value, value, len) == 0)
			return;
	if (set->n == set->cap)
	{
		int			ncap = set->cap ? set->cap * 2 : 8;

		set->e = set->e ? repalloc(set->e, ncap * sizeof(RedactEntry)) :
			MemoryContextAlloc(set->cxt, ncap * sizeof(RedactEntry));
		set->cap = ncap;
	}
	for (pos = 0; pos < set->n && set->e[pos].len >= len; pos++)
		;
	memmove(&set->e[pos + 1], &set->e[pos], (set->n - pos) * sizeof(RedactEntry));
	set->e[pos].value = MemoryContextAlloc(set->cxt, len + 1);
	memcpy(set->e[pos].value, value, len);
	set->e[pos].value[len] = '\0';
	set->e[pos].len = len;
	set->e[pos].label = MemoryContextStrdup(set->cxt, label);
	set->n++;
}

/*
 * Remember a value and its percent-encoded form (every byte but the
 * unreserved ones encoded, as pg_elt and most clients encode).
 */
void
redact_remember(const char *value, const char *label)
{
	static const char hex[] = "0123456789ABCDEF";
	RedactSet  *set;
	size_t		len = strlen(value);
	char	   *enc;
	size_t		elen = 0;
	size_t		i;

	if (len == 0)
		return;
	set = redact_set();
	add_entry(set, value, len, label);

	enc = MemoryContextAlloc(set->cxt, len * 3 + 1);
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) value[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			enc[elen++] = c;
		else
		{
			enc[elen++] = '%';
			enc[elen++] = hex[c >> 4];
			enc[elen++] = hex[c & 15];
		}
	}
	enc[elen] = '\0';
	if (elen != len)
		add_entry(set, enc, elen, label);
	explicit_bzero(enc, elen);
	pfree(enc);
}

/*
 * Replace every remembered value in text by its label.  Returns text itself
 * (not a copy) when there is nothing to replace, so it is cheap to call on
 * every message.
 */
char *
redact_text(const char *text)
{
	RedactSet  *set = remembered;
	StringInfoData buf;
	size_t		tlen;
	size_t		i;
	size_t		copied = 0;
	bool		any = false;

	if (text == NULL || set == NULL || set->n == 0)
		return (char *) text;
	tlen = strlen(text);
	for (i = 0; i < tlen;)
	{
		int			k;

		for (k = 0; k < set->n; k++)
			if (set->e[k].len <= tlen - i &&
				pg_strncasecmp(text + i, set->e[k].value, set->e[k].len) == 0)
				break;
		if (k == set->n)
		{
			i++;
			continue;
		}
		if (!any)
		{
			initStringInfo(&buf);
			any = true;
		}
		appendBinaryStringInfo(&buf, text + copied, i - copied);
		appendStringInfoString(&buf, set->e[k].label);
		i += set->e[k].len;
		copied = i;
	}
	if (!any)
		return (char *) text;
	appendBinaryStringInfo(&buf, text + copied, tlen - copied);
	return buf.data;
}

/*
 * Mask the texts of an error.  Used where an error is caught and kept
 * (elt.batch, elt.step_run) and by the log hook.
 */
void
redact_error_data(ErrorData *edata)
{
	if (remembered == NULL || remembered->n == 0)
		return;
	edata->message = redact_text(edata->message);
	edata->detail = redact_text(edata->detail);
	edata->detail_log = redact_text(edata->detail_log);
	edata->hint = redact_text(edata->hint);
	edata->context = redact_text(edata->context);
	edata->internalquery = redact_text(edata->internalquery);
}

/*
 * Log hook: what is printed to the server log and sent to the client is
 * masked too, whoever raised it.
 */
static void
redact_emit_log_hook(ErrorData *edata)
{
	redact_error_data(edata);
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* Install the log hook (from _PG_init). */
void
redact_init(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = redact_emit_log_hook;
}

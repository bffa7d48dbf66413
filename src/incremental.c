/*
 * incremental.c
 *	  An extract's incremental cursor: tracking the highest value loaded,
 *	  and computing the value sent on the next run.
 *
 * The cursor field is looked up in each record's jsonb (already parsed for
 * loading), so tracking costs a key lookup per record.  A candidate is
 * copied only when it is a new maximum.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "incremental.h"

/*
 * Does a string look like an ISO 8601 timestamp (compared as a time)?
 */
static bool
looks_like_time(const char *s, int len)
{
	return len >= 16 && isdigit((unsigned char) s[0]) && isdigit((unsigned char) s[3]) &&
		s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') && s[13] == ':';
}

/*
 * Set cv from a scalar: numbers compare as numbers, ISO timestamps as
 * times, other strings as text.
 */
static void
cursor_set(CursorVal *cv, CursorKind kind, const char *text, int len, Numeric num,
		   TimestampTz ts)
{
	if (cv->text.data == NULL)
		initStringInfo(&cv->text);
	resetStringInfo(&cv->text);
	appendBinaryStringInfo(&cv->text, text, len);
	if (cv->num)
		pfree(cv->num);
	cv->num = num ? DatumGetNumericCopy(NumericGetDatum(num)) : NULL;
	cv->ts = ts;
	cv->kind = kind;
}

/*
 * Compare a candidate with the value kept: > 0 when the candidate is higher.
 */
static int
cursor_cmp(CursorKind kind, const char *text, int len, Numeric num,
		   TimestampTz ts, CursorVal *cv)
{
	if (cv->kind == CURSOR_NONE)
		return 1;
	if (kind == CURSOR_NUMBER && cv->kind == CURSOR_NUMBER)
		return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(num),
												 NumericGetDatum(cv->num)));
	if (kind == CURSOR_TIME && cv->kind == CURSOR_TIME)
		return ts < cv->ts ? -1 : ts > cv->ts ? 1 : 0;
	{
		int			c = memcmp(text, cv->text.data, Min(len, cv->text.len));

		return c != 0 ? c : len - cv->text.len;
	}
}

/*
 * Classify a cursor value given as text (a stored cursor).
 */
static CursorKind
cursor_parse(const char *text, Numeric *num, TimestampTz *ts)
{
	int			len = strlen(text);

	*num = NULL;
	*ts = 0;
	if (looks_like_time(text, len))
	{
		*ts = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(text),
													  ObjectIdGetDatum(InvalidOid),
													  Int32GetDatum(-1)));
		return CURSOR_TIME;
	}
	if (len > 0 && strspn(text, "0123456789.-+eE") == (size_t) len &&
		(isdigit((unsigned char) text[0]) || text[0] == '-'))
	{
		*num = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
		return CURSOR_NUMBER;
	}
	return CURSOR_TEXT;
}

/*
 * Follow the cursor field in a loaded record and keep the maximum.
 */
void
extract_cursor_track(CursorVal *max, RecordPath *field, Jsonb *jb)
{
	JsonbContainer *c = &jb->root;
	JsonbValue	v;
	int			i;
	CursorKind	kind;
	const char *text;
	int			len;
	Numeric		num = NULL;
	TimestampTz ts = 0;
	char	   *tmp = NULL;

	for (i = 0; i < field->nkeys; i++)
	{
		const char *key = field->keys[i];

		if (!JsonContainerIsObject(c) ||
			getKeyJsonValueFromContainer(c, key, strlen(key), &v) == NULL)
			return;
		if (i < field->nkeys - 1)
		{
			if (v.type != jbvBinary)
				return;
			c = v.val.binary.data;
		}
	}
	if (field->nkeys == 0)
		return;
	if (v.type == jbvNumeric)
	{
		num = v.val.numeric;
		tmp = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
		text = tmp;
		len = strlen(tmp);
		kind = CURSOR_NUMBER;
	}
	else if (v.type == jbvString)
	{
		text = v.val.string.val;
		len = v.val.string.len;
		kind = CURSOR_TEXT;
		if (looks_like_time(text, len))
		{
			tmp = pnstrdup(text, len);
			ts = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(tmp),
														 ObjectIdGetDatum(InvalidOid),
														 Int32GetDatum(-1)));
			kind = CURSOR_TIME;
		}
	}
	else
		return;
	if (cursor_cmp(kind, text, len, num, ts, max) > 0)
		cursor_set(max, kind, text, len, num, ts);
	if (tmp)
		pfree(tmp);
}

/*
 * The value sent as the incremental parameter: the stored cursor (or the
 * initial value) moved back by the lag.
 */
char *
extract_cursor_to_send(const char *before, const char *initial, const char *lag,
					   bool lag_is_number)
{
	const char *base = before ? before : initial;
	Numeric		num;
	TimestampTz ts;
	CursorKind	kind;

	if (base == NULL || lag == NULL)
		return base ? pstrdup(base) : NULL;
	kind = cursor_parse(base, &num, &ts);
	if (lag_is_number)
	{
		if (kind != CURSOR_NUMBER)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("incremental lag \"%s\" is a number but cursor value \"%s\" is not", lag, base)));
		return DatumGetCString(DirectFunctionCall1(numeric_out,
												   DirectFunctionCall2(numeric_sub, NumericGetDatum(num),
																	   DirectFunctionCall3(numeric_in, CStringGetDatum(lag),
																						   ObjectIdGetDatum(InvalidOid),
																						   Int32GetDatum(-1)))));
	}
	if (kind != CURSOR_TIME)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("incremental lag \"%s\" is an interval but cursor value \"%s\" is not a timestamp",
						lag, base)));
	{
		Datum		iv = DirectFunctionCall3(interval_in, CStringGetDatum(lag),
											 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		struct pg_tm tm;
		fsec_t		fsec;

		ts = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													 TimestampTzGetDatum(ts), iv));
		if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		if (fsec != 0)
			return psprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year, tm.tm_mon,
							tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
		return psprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year, tm.tm_mon,
						tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
}

/*
 * Forget the value (a new page starts).
 */
void
extract_cursor_clear(CursorVal *cv)
{
	cv->kind = CURSOR_NONE;
}

/*
 * Keep the higher of the two in into.
 */
void
extract_cursor_merge(CursorVal *into, CursorVal *from)
{
	if (from->kind != CURSOR_NONE &&
		cursor_cmp(from->kind, from->text.data, from->text.len, from->num,
				   from->ts, into) > 0)
		cursor_set(into, from->kind, from->text.data, from->text.len,
				   from->num, from->ts);
}

/*
 * What the stream's cursor becomes: the highest value loaded, never lower
 * than the one before (NULL for a full refresh).
 */
char *
extract_cursor_new_value(CursorVal *max, const char *before)
{
	Numeric		num;
	TimestampTz ts;
	CursorKind	k;

	if (max->kind == CURSOR_NONE)
		return before ? pstrdup(before) : NULL;
	if (before == NULL)
		return pstrdup(max->text.data);
	k = cursor_parse(before, &num, &ts);
	if (cursor_cmp(k, before, strlen(before), num, ts, max) > 0)
		return pstrdup(before);
	return pstrdup(max->text.data);
}

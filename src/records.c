/*
 * records.c
 *	  Streaming record splitter for JSON-at-a-path, NDJSON and CSV bodies.
 *
 * The JSON splitter is a small state machine over bytes.  Outside records it
 * checks the document's structure (so that malformed input is reported at
 * its byte offset) and tracks the keys leading to the current value; inside
 * a record it only tracks strings, escapes and depth to find where the
 * record ends, leaving the full parse to jsonb_in.  No tree is built and
 * only the record being received is kept, so memory does not grow with the
 * size of the body.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "pg_elt.h"
#include "records.h"

/* A record may not be larger than this (jsonb cannot hold much more). */
#define MAX_RECORD_BYTES	((size_t) 256 * 1024 * 1024)
/* Nesting deeper than this outside records is refused. */
#define MAX_DEPTH			10000
/* Longest literal (number, true, false, null) outside records. */
#define MAX_LITERAL			1024

/*
 * The bytes the hot loop of a record stops at: inside a string, a quote or
 * a backslash; outside, a quote or a bracket.
 */
static const bool rec_string_byte[256] = {['"'] = true, ['\\'] = true};
static const bool rec_struct_byte[256] = {
	['"'] = true, ['{'] = true, ['['] = true, ['}'] = true, [']'] = true
};

typedef enum JsonState
{
	J_VALUE,					/* expecting a value */
	J_ARRAY_FIRST,				/* after '[': a value or ']' */
	J_OBJECT_FIRST,				/* after '{': a key or '}' */
	J_KEY,						/* after ',' in an object: a key */
	J_COLON,					/* after a key */
	J_AFTER_VALUE,				/* ',' or a closing bracket */
	J_STRING,					/* inside a string (key or value) */
	J_STRING_ESC,				/* after a backslash */
	J_STRING_HEX,				/* reading the digits of \uXXXX */
	J_LITERAL,					/* number, true, false or null */
	J_RECORD,					/* inside a record: fast scan */
	J_RECORD_LITERAL,			/* a record that is a bare literal */
	J_DONE						/* after the root value */
} JsonState;

typedef enum CsvState
{
	C_FIELD_START,
	C_UNQUOTED,
	C_QUOTED,
	C_QUOTE_IN_QUOTED
} CsvState;

struct RecordSplitter
{
	RecordFormat format;
	RecordPath *records;
	RecordCallback callback;
	void	   *arg;

	/* scalars to capture */
	int			ncaptures;
	RecordPath *captures[8];
	StringInfoData capvals[8];
	bool		capset[8];
	int			maxkeys;		/* longest of all paths */

	/* position */
	size_t		pos;			/* next byte of the buffer to scan */
	int64		base;			/* body offset of buffer byte 0 */
	int64		nrecords;
	StringInfoData scratch;		/* a record, NUL-terminated */

	/* JSON */
	JsonState	state;
	bool		str_is_key;
	bool		collect;		/* accumulating the current token into tok */
	int			hexleft;
	int			capture_cur;	/* capture being read, or -1 */
	char	   *stack;			/* '{' or '[' per open container */
	int			depth;
	int			stacksize;
	StringInfoData *keys;		/* current key of the object at each level */
	StringInfoData tok;
	int			recarr_depth;	/* depth of the records array, or -1 */
	bool		root_seen;
	size_t		rec_start;
	int			rec_depth;
	bool		rec_instr;
	bool		rec_esc;

	/* NDJSON, CSV */
	size_t		line_start;
	CsvState	cstate;
	bool		skip_lf;
	bool		field_quoted;
	StringInfoData row;			/* fields, each NUL-terminated */
	int		   *fstart;
	bool	   *fnull;
	int			nfields;
	int			fcap;
	char	  **header;
	int			nheader;
	int64		rowno;
	bool		row_blank;		/* the row so far is one empty unquoted field */
	RecordCsvOptions csv;
	char	  **columns;		/* csv.columns as an array, or NULL */
	int			ncolumns;
};

static void json_feed(RecordSplitter *s, const char *buf, size_t len);
static void csv_feed(RecordSplitter *s, const char *buf, size_t len);
static void ndjson_feed(RecordSplitter *s, const char *buf, size_t len,
						bool at_end);
static void literal_end(RecordSplitter *s);
static void csv_field_end(RecordSplitter *s, bool quoted);
static void csv_row_end(RecordSplitter *s, int64 offset);

/*
 * Map a format name to its value; unknown names are an error.
 */
RecordFormat
records_parse_format(const char *format)
{
	if (strcmp(format, "json") == 0)
		return RECORD_JSON;
	if (strcmp(format, "ndjson") == 0)
		return RECORD_NDJSON;
	if (strcmp(format, "csv") == 0)
		return RECORD_CSV;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown format \"%s\"", format),
			 errhint("Known formats: json, ndjson, csv.")));
	return RECORD_JSON;			/* keep compiler quiet */
}

/*
 * Parse a JSON path of object keys: $, $.a.b, $."odd key", $['a'].  A
 * records path may end in [*] (the elements of the array, as without it).
 * Array indexes and filters are refused: the splitter follows one path
 * through the document while streaming.
 */
RecordPath *
records_parse_path(const char *path, const char *what)
{
	RecordPath *rp = palloc0(sizeof(RecordPath));
	const char *p = path;
	List	   *keys = NIL;
	ListCell   *lc;
	int			i;

	rp->text = pstrdup(path);
	if (*p != '$')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid JSON path \"%s\" for %s", path, what),
				 errdetail("A path starts with $, as in $.data.items.")));
	p++;
	while (*p)
	{
		StringInfoData key;

		initStringInfo(&key);
		if (*p == '.' && p[1] != '"')
		{
			p++;
			while (*p && *p != '.' && *p != '[')
			{
				if (*p == '"' || *p == '\'' || *p == ']' || isspace((unsigned char) *p))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid JSON path \"%s\" for %s", path, what),
							 errdetail("Unexpected character \"%c\" in a key; quote such keys: $.\"my key\".", *p)));
				appendStringInfoChar(&key, *p++);
			}
		}
		else if ((*p == '.' && p[1] == '"') ||
				 (*p == '[' && (p[1] == '\'' || p[1] == '"')))
		{
			char		quote;
			bool		bracket = (*p == '[');

			p++;
			quote = *p++;
			while (*p && *p != quote)
			{
				if (*p == '\\' && (p[1] == quote || p[1] == '\\'))
					p++;
				appendStringInfoChar(&key, *p++);
			}
			if (*p != quote || (bracket && p[1] != ']'))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid JSON path \"%s\" for %s", path, what),
						 errdetail("A quoted key is not closed.")));
			p += bracket ? 2 : 1;
		}
		else if (*p == '[' && p[1] == '*' && p[2] == ']' && p[3] == '\0' &&
				 strcmp(what, "records") == 0)
		{
			p += 3;
			break;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid JSON path \"%s\" for %s", path, what),
					 errdetail("Only object keys are supported, as in $.data.items or $.\"my key\"%s.",
							   strcmp(what, "records") == 0 ? ", with an optional [*] at the end" : "")));
		if (key.len == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid JSON path \"%s\" for %s", path, what),
					 errdetail("A key is empty.")));
		keys = lappend(keys, key.data);
	}
	rp->nkeys = list_length(keys);
	rp->keys = palloc(sizeof(char *) * Max(rp->nkeys, 1));
	i = 0;
	foreach(lc, keys)
		rp->keys[i++] = lfirst(lc);
	return rp;
}

/*
 * Create a splitter for one format; records is the path to the records of
 * a JSON body (NULL means "$").
 */
RecordSplitter *
records_splitter_new(RecordFormat format, RecordPath *records,
					 RecordCallback callback, void *arg)
{
	RecordSplitter *s = palloc0(sizeof(RecordSplitter));

	s->format = format;
	s->records = records ? records : records_parse_path("$", "records");
	s->callback = callback;
	s->arg = arg;
	s->maxkeys = s->records->nkeys;
	s->stacksize = 64;
	s->stack = palloc(s->stacksize);
	initStringInfo(&s->tok);
	initStringInfo(&s->scratch);
	initStringInfo(&s->row);
	s->fcap = 16;
	s->fstart = palloc(sizeof(int) * s->fcap);
	s->fnull = palloc(sizeof(bool) * s->fcap);
	s->keys = NULL;
	s->csv.delimiter = ',';
	s->csv.quote = '"';
	s->csv.header = true;
	records_reset(s);
	return s;
}

/*
 * Read CSV bodies with other settings than RFC 4180's.
 */
void
records_set_csv(RecordSplitter *s, const RecordCsvOptions *o)
{
	ListCell   *lc;
	int			i = 0;

	s->csv = *o;
	s->ncolumns = list_length(o->columns);
	s->columns = s->ncolumns ? palloc(sizeof(char *) * s->ncolumns) : NULL;
	foreach(lc, o->columns)
		s->columns[i++] = pstrdup(lfirst(lc));
	records_reset(s);
}

/*
 * Capture the scalar at path in every body (JSON only).
 */
int
records_add_capture(RecordSplitter *s, RecordPath *path)
{
	int			n = s->ncaptures;

	if (n >= lengthof(s->captures))
		elog(ERROR, "too many captures");
	s->captures[n] = path;
	initStringInfo(&s->capvals[n]);
	s->capset[n] = false;
	s->ncaptures++;
	s->maxkeys = Max(s->maxkeys, path->nkeys);
	s->keys = NULL;				/* reallocated by records_reset */
	records_reset(s);
	return n;
}

/*
 * Prepare for a new body.
 */
void
records_reset(RecordSplitter *s)
{
	int			i;

	if (s->keys == NULL)
	{
		s->keys = palloc(sizeof(StringInfoData) * (s->maxkeys + 1));
		for (i = 0; i <= s->maxkeys; i++)
			initStringInfo(&s->keys[i]);
	}
	for (i = 0; i < s->ncaptures; i++)
	{
		resetStringInfo(&s->capvals[i]);
		s->capset[i] = false;
	}
	s->pos = 0;
	s->base = 0;
	s->nrecords = 0;
	s->state = J_VALUE;
	s->capture_cur = -1;
	s->depth = 0;
	s->recarr_depth = -1;
	s->root_seen = false;
	s->collect = false;
	resetStringInfo(&s->tok);
	s->line_start = 0;
	s->cstate = C_FIELD_START;
	s->skip_lf = false;
	s->field_quoted = false;
	resetStringInfo(&s->row);
	s->nfields = 0;
	s->header = s->csv.header ? NULL : s->columns;
	s->nheader = s->csv.header ? 0 : s->ncolumns;
	s->rowno = 0;
	s->row_blank = false;
}

/*
 * Records handed to the callback since the last reset.
 */
int64
records_emitted(RecordSplitter *s)
{
	return s->nrecords;
}

/*
 * A captured scalar of the current body, or NULL.
 */
const char *
records_captured(RecordSplitter *s, int capture)
{
	return s->capset[capture] ? s->capvals[capture].data : NULL;
}

/*
 * Hand one record to the callback, NUL-terminated.
 */
static void
emit_record(RecordSplitter *s, const char *rec, size_t len, int64 offset)
{
	resetStringInfo(&s->scratch);
	appendBinaryStringInfo(&s->scratch, rec, len);
	s->nrecords++;
	s->callback(s->arg, s->scratch.data, len, offset);
}

/*
 * Raise a parse error at a body offset.
 */
static void
parse_error(RecordSplitter *s, int64 offset, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_ELT_PARSE),
			 errmsg("malformed %s at byte %lld of the response: %s",
					s->format == RECORD_CSV ? "CSV" :
					s->format == RECORD_NDJSON ? "NDJSON" : "JSON",
					(long long) offset, what)));
}

/*
 * Scan what is new in buf, emit complete records, and tell the caller how
 * many leading bytes it may drop (all of them, except a record in progress).
 */
size_t
records_feed(RecordSplitter *s, const char *buf, size_t len)
{
	size_t		keep;

	switch (s->format)
	{
		case RECORD_JSON:
			json_feed(s, buf, len);
			keep = (s->state == J_RECORD || s->state == J_RECORD_LITERAL) ?
				s->rec_start : s->pos;
			break;
		case RECORD_NDJSON:
			ndjson_feed(s, buf, len, false);
			keep = s->line_start;
			break;
		case RECORD_CSV:
			csv_feed(s, buf, len);
			keep = s->pos;
			break;
		default:
			keep = 0;
	}
	if (len - keep > MAX_RECORD_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("record at byte %lld of the response is larger than %zu MB",
						(long long) (s->base + keep), MAX_RECORD_BYTES >> 20)));
	s->pos -= keep;
	s->rec_start -= Min(keep, s->rec_start);
	s->line_start -= Min(keep, s->line_start);
	s->base += keep;
	return keep;
}

/*
 * The body ended: flush the last line or row, and check that the JSON
 * document is complete.
 */
void
records_finish(RecordSplitter *s, const char *buf, size_t len)
{
	switch (s->format)
	{
		case RECORD_JSON:
			json_feed(s, buf, len);
			if (s->state == J_LITERAL && s->depth == 0)
			{
				/* a bare literal as the whole body ends with the body */
				s->pos = len;
				literal_end(s);
			}
			if (s->state == J_VALUE && s->depth == 0 && !s->root_seen)
				return;			/* empty body: no records */
			if (s->state != J_DONE)
				parse_error(s, s->base + len, "the body ends inside a value");
			break;
		case RECORD_NDJSON:
			ndjson_feed(s, buf, len, true);
			break;
		case RECORD_CSV:
			csv_feed(s, buf, len);
			if (s->cstate == C_QUOTED)
				parse_error(s, s->base + len, "the body ends inside a quoted field");
			if (s->cstate != C_FIELD_START || s->nfields > 0)
			{
				/* the last row has no line break */
				csv_field_end(s, s->field_quoted);
				s->field_quoted = false;
				csv_row_end(s, s->base + len);
				s->cstate = C_FIELD_START;
			}
			break;
	}
}

/* ---------------------------------------------------------------- JSON */

/*
 * Decode the raw bytes of a JSON string (between the quotes) into out.
 */
static void
json_unescape(RecordSplitter *s, const char *raw, int len, StringInfo out)
{
	int			i = 0;

	resetStringInfo(out);
	while (i < len)
	{
		char		c = raw[i++];

		if (c != '\\')
		{
			appendStringInfoChar(out, c);
			continue;
		}
		c = raw[i++];
		switch (c)
		{
			case 'b':
				appendStringInfoChar(out, '\b');
				break;
			case 'f':
				appendStringInfoChar(out, '\f');
				break;
			case 'n':
				appendStringInfoChar(out, '\n');
				break;
			case 'r':
				appendStringInfoChar(out, '\r');
				break;
			case 't':
				appendStringInfoChar(out, '\t');
				break;
			case 'u':
				{
					pg_wchar	cp = strtol(pnstrdup(raw + i, 4), NULL, 16);
					unsigned char utf8[8];

					i += 4;
					if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= len &&
						raw[i] == '\\' && raw[i + 1] == 'u')
					{
						pg_wchar	lo = strtol(pnstrdup(raw + i + 2, 4), NULL, 16);

						if (lo >= 0xDC00 && lo <= 0xDFFF)
						{
							cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
							i += 6;
						}
					}
					if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
						parse_error(s, s->base + s->pos, "invalid \\u escape in a string");
					unicode_to_utf8(cp, utf8);
					appendBinaryStringInfo(out, (char *) utf8, pg_utf_mblen(utf8));
					break;
				}
			default:
				appendStringInfoChar(out, c);
		}
	}
}

/*
 * Does the value starting now sit exactly at path?
 */
static bool
at_path(RecordSplitter *s, RecordPath *path)
{
	int			i;

	if (s->depth != path->nkeys)
		return false;
	for (i = 0; i < s->depth; i++)
	{
		if (s->stack[i] != '{' || strcmp(s->keys[i].data, path->keys[i]) != 0)
			return false;
	}
	return true;
}

/*
 * Enter an object or an array.
 */
static void
push(RecordSplitter *s, char c)
{
	if (s->depth >= MAX_DEPTH)
		parse_error(s, s->base + s->pos, "nested too deeply");
	if (s->depth >= s->stacksize)
	{
		s->stacksize *= 2;
		s->stack = repalloc(s->stack, s->stacksize);
	}
	s->stack[s->depth++] = c;
	s->state = (c == '{') ? J_OBJECT_FIRST : J_ARRAY_FIRST;
}

/*
 * A literal outside records has ended: check it, and keep it if captured.
 */
static void
literal_end(RecordSplitter *s)
{
	const char *t = s->tok.data;
	bool		ok;

	if (strcmp(t, "true") == 0 || strcmp(t, "false") == 0 || strcmp(t, "null") == 0)
		ok = true;
	else
	{
		/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
		const char *p = t;

		if (*p == '-')
			p++;
		if (*p == '0')
			p++;
		else if (*p >= '1' && *p <= '9')
			while (isdigit((unsigned char) *p))
				p++;
		else
			p = NULL;
		if (p && *p == '.')
		{
			p++;
			if (!isdigit((unsigned char) *p))
				p = NULL;
			else
				while (isdigit((unsigned char) *p))
					p++;
		}
		if (p && (*p == 'e' || *p == 'E'))
		{
			p++;
			if (*p == '+' || *p == '-')
				p++;
			if (!isdigit((unsigned char) *p))
				p = NULL;
			else
				while (isdigit((unsigned char) *p))
					p++;
		}
		ok = (p != NULL && *p == '\0');
	}
	if (!ok && !pg_verify_mbstr(PG_UTF8, s->tok.data, s->tok.len, true))
		parse_error(s, s->base + s->pos - s->tok.len,
					"invalid token (the body is not valid UTF-8 there)");
	if (!ok)
		parse_error(s, s->base + s->pos - s->tok.len,
					psprintf("invalid token \"%s\"", s->tok.data));
	if (s->capture_cur >= 0)
	{
		if (strcmp(t, "null") != 0)
		{
			appendStringInfoString(&s->capvals[s->capture_cur], t);
			s->capset[s->capture_cur] = true;
		}
		s->capture_cur = -1;
	}
	s->state = (s->depth == 0) ? J_DONE : J_AFTER_VALUE;
}

/*
 * Whether a JSON value can start with byte c.
 */
static bool
is_value_start(char c)
{
	return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') ||
		c == 't' || c == 'f' || c == 'n';
}

/*
 * What an unexpected byte is, for a message: the character if it is
 * printable ASCII; otherwise its value, since printing half a UTF-8
 * sequence (or a byte that is no UTF-8 at all) would make the message
 * itself invalid.
 */
static char *
unexpected(char c)
{
	unsigned char u = (unsigned char) c;

	if (u >= 0x20 && u < 0x7f)
		return psprintf("unexpected character \"%c\"", c);
	if (u >= 0x80)
		return psprintf("unexpected byte 0x%02X (a character outside JSON's syntax, or not UTF-8)", u);
	return psprintf("unexpected control character 0x%02X", u);
}

/*
 * A value starts with byte c at buffer position i (outside any record).
 */
static void
value_start(RecordSplitter *s, size_t i, char c)
{
	int			k;

	s->root_seen = true;
	if (s->recarr_depth >= 0 && s->depth == s->recarr_depth)
	{
		/* an element of the records array: a record */
		s->rec_start = i;
		s->rec_instr = false;
		s->rec_esc = false;
		if (c == '{' || c == '[')
		{
			s->rec_depth = 1;
			s->state = J_RECORD;
		}
		else if (c == '"')
		{
			s->rec_depth = 0;
			s->rec_instr = true;
			s->state = J_RECORD;
		}
		else
			s->state = J_RECORD_LITERAL;
		return;
	}
	if (at_path(s, s->records))
	{
		if (c == '[')
		{
			push(s, '[');
			s->recarr_depth = s->depth;
			return;
		}
		if (c == '{')
		{
			/* an object where the records are: that object is the record */
			s->rec_start = i;
			s->rec_instr = false;
			s->rec_esc = false;
			s->rec_depth = 1;
			s->state = J_RECORD;
			return;
		}
		if (c != 'n' && !is_value_start(c))
			parse_error(s, s->base + i, unexpected(c));
		if (c != 'n')
			ereport(ERROR,
					(errcode(ERRCODE_ELT_PARSE),
					 errmsg("records path %s holds a scalar at byte %lld of the response",
							s->records->text, (long long) (s->base + i)),
					 errdetail("The records path must lead to an array of records or to one object.")));
	}
	for (k = 0; k < s->ncaptures; k++)
	{
		if (at_path(s, s->captures[k]))
		{
			s->capture_cur = k;
			resetStringInfo(&s->capvals[k]);
			s->capset[k] = false;
			break;
		}
	}
	switch (c)
	{
		case '{':
		case '[':
			s->capture_cur = -1;	/* only scalars are captured */
			push(s, c);
			break;
		case '"':
			s->state = J_STRING;
			s->str_is_key = false;
			s->collect = (s->capture_cur >= 0);
			resetStringInfo(&s->tok);
			break;
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
		case 't':
		case 'f':
		case 'n':
			s->state = J_LITERAL;
			resetStringInfo(&s->tok);
			appendStringInfoChar(&s->tok, c);
			break;
		default:
			parse_error(s, s->base + i, unexpected(c));
	}
}

/*
 * A string outside records has ended: store a key, or a captured value.
 */
static void
string_end(RecordSplitter *s)
{
	if (s->str_is_key)
	{
		if (s->collect)
			json_unescape(s, s->tok.data, s->tok.len, &s->keys[s->depth - 1]);
		s->state = J_COLON;
	}
	else
	{
		if (s->capture_cur >= 0)
		{
			if (!pg_verify_mbstr(PG_UTF8, s->tok.data, s->tok.len, true))
				parse_error(s, s->base + s->pos - s->tok.len,
							"invalid UTF-8 in a string");
			json_unescape(s, s->tok.data, s->tok.len,
						  &s->capvals[s->capture_cur]);
			s->capset[s->capture_cur] = true;
			s->capture_cur = -1;
		}
		s->state = (s->depth == 0) ? J_DONE : J_AFTER_VALUE;
	}
	s->collect = false;
}

/*
 * Scan the new bytes of a JSON body.
 */
static void
json_feed(RecordSplitter *s, const char *buf, size_t len)
{
	size_t		i = s->pos;

	/* a UTF-8 byte order mark before the document is not part of it */
	if (s->base == 0 && i == 0 && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		i = 3;

	while (i < len)
	{
		char		c = buf[i];

		switch (s->state)
		{
			case J_RECORD:
				{
					/* the hot loop: find the end of the record */
					int			d = s->rec_depth;
					bool		instr = s->rec_instr;
					bool		esc = s->rec_esc;
					bool		ended = false;

					while (i < len)
					{
						if (instr)
						{
							if (esc)
							{
								esc = false;
								i++;
								continue;
							}
							/* skip to the next quote or backslash */
							while (i < len && !rec_string_byte[(unsigned char) buf[i]])
								i++;
							if (i >= len)
								break;
							c = buf[i++];
							if (c == '\\')
								esc = true;
							else
							{
								instr = false;
								if (d == 0)
								{
									ended = true;
									break;
								}
							}
							continue;
						}
						/* skip to the next quote or bracket */
						while (i < len && !rec_struct_byte[(unsigned char) buf[i]])
							i++;
						if (i >= len)
							break;
						c = buf[i++];
						if (c == '"')
							instr = true;
						else if (c == '{' || c == '[')
							d++;
						else if (--d == 0)
						{
							ended = true;
							break;
						}
					}
					s->rec_depth = d;
					s->rec_instr = instr;
					s->rec_esc = esc;
					if (ended)
					{
						s->pos = i;
						emit_record(s, buf + s->rec_start, i - s->rec_start,
									s->base + s->rec_start);
						s->state = (s->depth == 0) ? J_DONE : J_AFTER_VALUE;
					}
					continue;
				}

			case J_RECORD_LITERAL:
				if (c == ',' || c == ']' || c == '}' || isspace((unsigned char) c))
				{
					s->pos = i;
					emit_record(s, buf + s->rec_start, i - s->rec_start,
								s->base + s->rec_start);
					s->state = J_AFTER_VALUE;
					continue;	/* the delimiter is seen again */
				}
				i++;
				continue;

			case J_STRING:
				if (c == '"')
				{
					i++;
					s->pos = i;
					string_end(s);
					continue;
				}
				if (c == '\\')
					s->state = J_STRING_ESC;
				else if ((unsigned char) c < 0x20)
					parse_error(s, s->base + i, "control character in a string");
				if (s->collect)
					appendStringInfoChar(&s->tok, c);
				i++;
				continue;

			case J_STRING_ESC:
				if (strchr("\"\\/bfnrtu", c) == NULL || c == '\0')
					parse_error(s, s->base + i, "invalid escape in a string");
				s->state = (c == 'u') ? J_STRING_HEX : J_STRING;
				s->hexleft = 4;
				if (s->collect)
					appendStringInfoChar(&s->tok, c);
				i++;
				continue;

			case J_STRING_HEX:
				if (!isxdigit((unsigned char) c))
					parse_error(s, s->base + i, "invalid \\u escape in a string");
				if (--s->hexleft == 0)
					s->state = J_STRING;
				if (s->collect)
					appendStringInfoChar(&s->tok, c);
				i++;
				continue;

			case J_LITERAL:
				if (isalnum((unsigned char) c) || c == '.' || c == '+' || c == '-')
				{
					if (s->tok.len >= MAX_LITERAL)
						parse_error(s, s->base + i, "literal too long");
					appendStringInfoChar(&s->tok, c);
					i++;
					continue;
				}
				s->pos = i;
				literal_end(s);
				continue;		/* the delimiter is seen again */

			default:
				break;
		}

		/* structural states: skip whitespace */
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
		{
			i++;
			continue;
		}
		s->pos = i;
		switch (s->state)
		{
			case J_VALUE:
				value_start(s, i, c);
				break;
			case J_ARRAY_FIRST:
				if (c == ']')
					goto close;
				value_start(s, i, c);
				break;
			case J_OBJECT_FIRST:
				if (c == '}')
					goto close;
				/* FALLTHROUGH */
			case J_KEY:
				if (c != '"')
					parse_error(s, s->base + i, "expected a key");
				s->state = J_STRING;
				s->str_is_key = true;
				s->collect = (s->depth - 1 < s->maxkeys);
				resetStringInfo(&s->tok);
				break;
			case J_COLON:
				if (c != ':')
					parse_error(s, s->base + i, "expected \":\" after a key");
				s->state = J_VALUE;
				break;
			case J_AFTER_VALUE:
				if (c == ',')
				{
					s->state = (s->stack[s->depth - 1] == '{') ? J_KEY : J_VALUE;
					break;
				}
				if (c == '}' || c == ']')
					goto close;
				parse_error(s, s->base + i, unexpected(c));
				break;
			case J_DONE:
				parse_error(s, s->base + i, "unexpected data after the end of the document");
				break;
			default:
				elog(ERROR, "unexpected splitter state %d", (int) s->state);
		}
		i++;
		continue;

close:
		if (s->stack[s->depth - 1] != (c == '}' ? '{' : '['))
			parse_error(s, s->base + i,
						psprintf("unexpected \"%c\"", c));
		if (s->recarr_depth == s->depth)
			s->recarr_depth = -1;
		s->depth--;
		s->state = (s->depth == 0) ? J_DONE : J_AFTER_VALUE;
		i++;
	}
	s->pos = i;
}

/* -------------------------------------------------------------- NDJSON */

/*
 * Each non-blank line is a record.
 */
static void
ndjson_feed(RecordSplitter *s, const char *buf, size_t len, bool at_end)
{
	size_t		i = s->pos;

	for (;;)
	{
		const char *nl = (i < len) ? memchr(buf + i, '\n', len - i) : NULL;
		size_t		end;
		size_t		b;

		if (nl != NULL)
		{
			end = nl - buf;
			i = end + 1;
		}
		else if (at_end && s->line_start < len)
		{
			end = len;			/* the last line has no line break */
			i = len;
		}
		else
			break;
		b = s->line_start;
		while (b < end && isspace((unsigned char) buf[b]))
			b++;
		while (end > b && isspace((unsigned char) buf[end - 1]))
			end--;
		if (end > b)
			emit_record(s, buf + b, end - b, s->base + b);
		s->line_start = i;
	}
	s->pos = len;
}

/* ----------------------------------------------------------------- CSV */

/*
 * A field of the current row is complete.
 */
static void
csv_field_end(RecordSplitter *s, bool quoted)
{
	int			start;

	if (s->nfields >= s->fcap)
	{
		s->fcap *= 2;
		s->fstart = repalloc(s->fstart, sizeof(int) * s->fcap);
		s->fnull = repalloc(s->fnull, sizeof(bool) * s->fcap);
	}
	/* fields are stored one after another, each NUL-terminated */
	start = (s->nfields == 0) ? 0 : s->fstart[s->nfields - 1] +
		strlen(s->row.data + s->fstart[s->nfields - 1]) + 1;
	appendStringInfoChar(&s->row, '\0');
	s->fstart[s->nfields] = start;
	/* as COPY reads CSV: null is an unquoted empty field, or null_string */
	if (quoted)
		s->fnull[s->nfields] = false;
	else if (s->csv.null_string)
		s->fnull[s->nfields] = strcmp(s->row.data + start, s->csv.null_string) == 0;
	else
		s->fnull[s->nfields] = (s->row.data[start] == '\0');
	if (s->nfields == 0)
		s->row_blank = !quoted && s->row.data[start] == '\0';
	s->nfields++;
}

/*
 * A row is complete: the header, or a record.
 */
static void
csv_row_end(RecordSplitter *s, int64 offset)
{
	int			i;

	s->rowno++;

	/*
	 * A blank line: in a file of one column it is a record whose value is
	 * empty (RFC 4180); before the header, or among rows of several
	 * columns, it separates nothing and is skipped.
	 */
	if (s->nfields == 1 && s->row_blank && s->nheader != 1)
		goto done;
	if (s->header == NULL)
	{
		s->header = palloc(sizeof(char *) * s->nfields);
		for (i = 0; i < s->nfields; i++)
		{
			int			j;

			s->header[i] = pstrdup(s->row.data + s->fstart[i]);
			if (s->header[i][0] == '\0')
				parse_error(s, offset, psprintf("column %d of the header row has no name", i + 1));
			for (j = 0; j < i; j++)
				if (strcmp(s->header[i], s->header[j]) == 0)
					parse_error(s, offset, psprintf("the header row names column \"%s\" twice",
													s->header[i]));
		}
		s->nheader = s->nfields;
		goto done;
	}
	if (s->nfields != s->nheader)
		parse_error(s, offset,
					psprintf("row %lld has %d fields, the header has %d",
							 (long long) s->rowno, s->nfields, s->nheader));
	resetStringInfo(&s->tok);
	appendStringInfoChar(&s->tok, '{');
	for (i = 0; i < s->nfields; i++)
	{
		if (i > 0)
			appendStringInfoChar(&s->tok, ',');
		escape_json(&s->tok, s->header[i]);
		appendStringInfoChar(&s->tok, ':');
		if (s->fnull[i])
			appendStringInfoString(&s->tok, "null");
		else
			escape_json(&s->tok, s->row.data + s->fstart[i]);
	}
	appendStringInfoChar(&s->tok, '}');
	s->nrecords++;
	s->callback(s->arg, s->tok.data, s->tok.len, offset);
done:
	resetStringInfo(&s->row);
	s->nfields = 0;
}

/*
 * A quote inside an unquoted field.
 */
static void
csv_stray_quote(RecordSplitter *s, int64 offset)
{
	ereport(ERROR,
			(errcode(ERRCODE_ELT_PARSE),
			 errmsg("malformed CSV at byte %lld of the response: a quote inside an unquoted field",
					(long long) offset),
			 errdetail("Row %lld: a field holding a quote must be quoted, with the quote doubled.",
					   (long long) s->rowno + 1),
			 errhint("If the file does not quote fields this way, set format_options \"quote\" to a character it does not use.")));
}

/*
 * RFC 4180 CSV: fields separated by commas, quoted with double quotes
 * (doubled inside), rows ended by LF, CRLF or CR; the delimiter and the
 * quote may be others.  An empty unquoted field is null (or null_string,
 * as for COPY), an empty quoted one an empty string.  A quote may only
 * open a field or, doubled, stand for itself inside a quoted one (RFC 4180
 * section 2.5): a quote inside an unquoted field and anything but a
 * delimiter or a line break after a closing quote are errors, since every
 * guess at what was meant (a literal, a quoted part) loads some files
 * wrong without a word.
 */
static void
csv_feed(RecordSplitter *s, const char *buf, size_t len)
{
	size_t		i = s->pos;
	const char	delim = s->csv.delimiter;
	const char	quote = s->csv.quote;

	if (s->base == 0 && i == 0 && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		i = 3;

	for (; i < len; i++)
	{
		char		c = buf[i];

		if (s->skip_lf)
		{
			s->skip_lf = false;
			if (c == '\n')
				continue;
		}
		switch (s->cstate)
		{
			case C_FIELD_START:
			case C_UNQUOTED:
				if (c == quote && s->cstate == C_FIELD_START)
				{
					s->cstate = C_QUOTED;
					s->field_quoted = true;
				}
				else if (c == quote)
					csv_stray_quote(s, s->base + i);
				else if (c == delim)
				{
					csv_field_end(s, s->field_quoted);
					s->field_quoted = false;
					s->cstate = C_FIELD_START;
				}
				else if (c == '\n' || c == '\r')
				{
					csv_field_end(s, s->field_quoted);
					s->field_quoted = false;
					csv_row_end(s, s->base + i);
					s->cstate = C_FIELD_START;
					s->skip_lf = (c == '\r');
				}
				else
				{
					appendStringInfoChar(&s->row, c);
					s->cstate = C_UNQUOTED;
				}
				break;
			case C_QUOTED:
				if (c == quote)
					s->cstate = C_QUOTE_IN_QUOTED;
				else
					appendStringInfoChar(&s->row, c);
				break;
			case C_QUOTE_IN_QUOTED:
				if (c == quote)
				{
					appendStringInfoChar(&s->row, quote);
					s->cstate = C_QUOTED;
				}
				else if (c == delim || c == '\n' || c == '\r')
				{
					s->cstate = C_UNQUOTED;
					i--;		/* handled as after an unquoted field */
				}
				else
					parse_error(s, s->base + i, "unexpected character after a closing quote");
				break;
		}
		if (s->row.len > (int) MAX_RECORD_BYTES)
			parse_error(s, s->base + i, "row too large");
	}
	s->pos = i;
}

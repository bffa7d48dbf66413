/*
 * records_jsonb.c
 *	  A record's jsonb built straight from its JSON text.
 *
 * jsonb_in lexes into a copied token per string (one byte at a time), hands
 * each token to a builder that sorts every object with qsort, and needs a
 * NUL-terminated copy of each number.  This parser builds the JsonbValue
 * tree in one pass over the record: a string without escapes points into
 * the record (no copy), objects are sorted by insertion while short, and
 * whole numbers of up to 18 digits skip numeric_in.  The tree is then
 * written by JsonbValueToJsonb, as jsonb_in does, so the bytes stored are
 * the same: keys sorted by length and bytes, the last of duplicate keys
 * kept, numbers as numeric_in reads them.
 *
 * It accepts only what it is sure jsonb_in accepts alike.  Anything else
 * (a syntax error, an escape jsonb refuses such as \u0000, a lone
 * surrogate, nesting deeper than FAST_MAX_DEPTH, a container too large, or
 * a \u escape beyond ASCII in a database that is not UTF-8) makes it give
 * up and call jsonb_in on the same text, so errors, their codes and
 * messages, and the edge cases stay exactly jsonb_in's.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "records.h"

/* Deeper records are left to jsonb_in (its own stack checks apply). */
#define FAST_MAX_DEPTH		64
/* Objects up to this many pairs are sorted by insertion. */
#define INSERTION_SORT_MAX	32

/* JSON's characters, whatever the locale says */
#define IS_DIGIT(c)		((c) >= '0' && (c) <= '9')
#define IS_ALNUM(c)		(IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))

typedef struct Parser
{
	const char *p;				/* next byte */
	const char *end;
	int			depth;
	bool		utf8;			/* the database encoding is UTF-8 */
	/* pending children of the open containers, reused for each */
	JsonbPair  *pairs;
	int			npairs;
	int			maxpairs;
	JsonbValue *elems;
	int			nelems;
	int			maxelems;
} Parser;

static bool parse_value(Parser *ps, JsonbValue *out);

static inline void
skip_ws(Parser *ps)
{
	while (ps->p < ps->end &&
		   (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

static inline int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
read_hex4(const char *p, const char *end, pg_wchar *out)
{
	pg_wchar	v = 0;

	if (end - p < 4)
		return false;
	for (int i = 0; i < 4; i++)
	{
		int			h = hexval(p[i]);

		if (h < 0)
			return false;
		v = (v << 4) | h;
	}
	*out = v;
	return true;
}

/*
 * A string, the opening quote consumed.  Without escapes the value points
 * into the record; with escapes it is decoded into a copy.
 */
static bool
parse_string(Parser *ps, char **val, int *len)
{
	const char *start = ps->p;
	const char *s = start;
	char	   *buf;
	char	   *out;

	while (s < ps->end && *s != '"' && *s != '\\' && (unsigned char) *s >= 0x20)
		s++;
	if (s >= ps->end || (unsigned char) *s < 0x20)
		return false;
	if (*s == '"')
	{
		if (s - start > JENTRY_OFFLENMASK)
			return false;
		*val = (char *) start;
		*len = s - start;
		ps->p = s + 1;
		return true;
	}

	/* escapes: find the end, then decode into a copy no longer than that */
	while (s < ps->end && *s != '"')
	{
		if ((unsigned char) *s < 0x20)
			return false;
		s += (*s == '\\') ? 2 : 1;
	}
	if (s >= ps->end)
		return false;
	out = buf = palloc(s - start + 1);
	for (const char *r = start; r < s;)
	{
		pg_wchar	c;
		pg_wchar	lo;

		if (*r != '\\')
		{
			*out++ = *r++;
			continue;
		}
		r++;
		switch (*r++)
		{
			case '"':
				*out++ = '"';
				break;
			case '\\':
				*out++ = '\\';
				break;
			case '/':
				*out++ = '/';
				break;
			case 'b':
				*out++ = '\b';
				break;
			case 'f':
				*out++ = '\f';
				break;
			case 'n':
				*out++ = '\n';
				break;
			case 'r':
				*out++ = '\r';
				break;
			case 't':
				*out++ = '\t';
				break;
			case 'u':
				if (!read_hex4(r, s, &c))
					return false;
				r += 4;
				if (is_utf16_surrogate_first(c))
				{
					/* a pair, or jsonb_in says what is wrong */
					if (s - r < 6 || r[0] != '\\' || r[1] != 'u' ||
						!read_hex4(r + 2, s, &lo) || !is_utf16_surrogate_second(lo))
						return false;
					r += 6;
					c = surrogate_pair_to_codepoint(c, lo);
				}
				else if (is_utf16_surrogate_second(c) || c == 0)
					return false;	/* refused by jsonb_in */
				if (c < 0x80)
					*out++ = (char) c;
				else if (ps->utf8)
				{
					unicode_to_utf8(c, (unsigned char *) out);
					out += pg_utf_mblen((unsigned char *) out);
				}
				else
					return false;	/* jsonb_in converts (or refuses) */
				break;
			default:
				return false;
		}
	}
	ps->p = s + 1;
	if (out - buf > JENTRY_OFFLENMASK)
		return false;
	*val = buf;
	*len = out - buf;
	return true;
}

/*
 * A number by JSON's grammar; the value as numeric_in reads it.
 */
static bool
parse_number(Parser *ps, JsonbValue *out)
{
	const char *start = ps->p;
	const char *s = start;
	bool		neg = false;
	bool		integral = true;
	int			ndigits;
	char		local[64];
	char	   *text;

	if (*s == '-')
	{
		neg = true;
		s++;
	}
	if (s >= ps->end || !IS_DIGIT(*s))
		return false;
	if (*s == '0')
		s++;
	else
		while (s < ps->end && IS_DIGIT(*s))
			s++;
	ndigits = s - start - (neg ? 1 : 0);
	if (s < ps->end && *s == '.')
	{
		integral = false;
		s++;
		if (s >= ps->end || !IS_DIGIT(*s))
			return false;
		while (s < ps->end && IS_DIGIT(*s))
			s++;
	}
	if (s < ps->end && (*s == 'e' || *s == 'E'))
	{
		integral = false;
		s++;
		if (s < ps->end && (*s == '+' || *s == '-'))
			s++;
		if (s >= ps->end || !IS_DIGIT(*s))
			return false;
		while (s < ps->end && IS_DIGIT(*s))
			s++;
	}
	/* a number runs into a letter or a dot: jsonb_in's to refuse */
	if (s < ps->end && (IS_ALNUM(*s) || *s == '.' || *s == '_' ||
						(unsigned char) *s >= 0x80))
		return false;
	ps->p = s;
	out->type = jbvNumeric;
	if (integral && ndigits <= 18)
	{
		int64		v = 0;

		for (const char *d = start + (neg ? 1 : 0); d < s; d++)
			v = v * 10 + (*d - '0');
		out->val.numeric = int64_to_numeric(neg ? -v : v);
		return true;
	}
	if (s - start < (ptrdiff_t) sizeof(local))
	{
		memcpy(local, start, s - start);
		local[s - start] = '\0';
		text = local;
	}
	else
		text = pnstrdup(start, s - start);
	out->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
														   CStringGetDatum(text),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1)));
	return true;
}

/*
 * jsonb's key order: shorter keys first, then by bytes; of equal keys the
 * later one first, so that it is the one kept.
 */
static inline int
pair_cmp(const JsonbPair *a, const JsonbPair *b)
{
	int			la = a->key.val.string.len;
	int			lb = b->key.val.string.len;
	int			r;

	if (la != lb)
		return la > lb ? 1 : -1;
	r = memcmp(a->key.val.string.val, b->key.val.string.val, la);
	if (r != 0)
		return r;
	return a->order > b->order ? -1 : 1;
}

static int
pair_qsort_cmp(const void *a, const void *b)
{
	return pair_cmp(a, b);
}

/*
 * Sort an object's pairs and drop all but the last of duplicate keys.
 */
static int
sort_pairs(JsonbPair *pairs, int n)
{
	int			kept;

	if (n < 2)
		return n;
	if (n <= INSERTION_SORT_MAX)
	{
		for (int i = 1; i < n; i++)
		{
			JsonbPair	t = pairs[i];
			int			j = i - 1;

			while (j >= 0 && pair_cmp(&pairs[j], &t) > 0)
			{
				pairs[j + 1] = pairs[j];
				j--;
			}
			pairs[j + 1] = t;
		}
	}
	else
		qsort(pairs, n, sizeof(JsonbPair), pair_qsort_cmp);
	kept = 1;
	for (int i = 1; i < n; i++)
	{
		JsonbPair  *prev = &pairs[kept - 1];

		if (pairs[i].key.val.string.len == prev->key.val.string.len &&
			memcmp(pairs[i].key.val.string.val, prev->key.val.string.val,
				   prev->key.val.string.len) == 0)
			continue;
		pairs[kept++] = pairs[i];
	}
	return kept;
}

static bool
parse_object(Parser *ps, JsonbValue *out)
{
	int			base = ps->npairs;
	int			n;
	JsonbPair  *pairs;

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}')
		ps->p++;
	else
		for (;;)
		{
			JsonbPair  *pair;
			JsonbValue	v;
			char	   *key;
			int			keylen;

			if (ps->p >= ps->end || *ps->p != '"')
				return false;
			ps->p++;
			if (!parse_string(ps, &key, &keylen))
				return false;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return false;
			ps->p++;
			skip_ws(ps);
			if (!parse_value(ps, &v))
				return false;
			if (ps->npairs >= ps->maxpairs)
			{
				if (ps->maxpairs >= (int) (MaxAllocSize / sizeof(JsonbPair) / 2))
					return false;
				ps->maxpairs *= 2;
				ps->pairs = repalloc(ps->pairs, ps->maxpairs * sizeof(JsonbPair));
			}
			pair = &ps->pairs[ps->npairs];
			pair->key.type = jbvString;
			pair->key.val.string.val = key;
			pair->key.val.string.len = keylen;
			pair->value = v;
			pair->order = ps->npairs - base;
			ps->npairs++;
			skip_ws(ps);
			if (ps->p >= ps->end)
				return false;
			if (*ps->p == ',')
			{
				ps->p++;
				skip_ws(ps);
				continue;
			}
			if (*ps->p != '}')
				return false;
			ps->p++;
			break;
		}
	n = ps->npairs - base;
	if (n > (int) JB_CMASK)
		return false;
	pairs = NULL;
	if (n > 0)
	{
		n = sort_pairs(&ps->pairs[base], n);
		pairs = palloc(n * sizeof(JsonbPair));
		memcpy(pairs, &ps->pairs[base], n * sizeof(JsonbPair));
	}
	ps->npairs = base;
	out->type = jbvObject;
	out->val.object.nPairs = n;
	out->val.object.pairs = pairs;
	return true;
}

static bool
parse_array(Parser *ps, JsonbValue *out)
{
	int			base = ps->nelems;
	int			n;
	JsonbValue *elems;

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']')
		ps->p++;
	else
		for (;;)
		{
			JsonbValue	v;

			if (!parse_value(ps, &v))
				return false;
			if (ps->nelems >= ps->maxelems)
			{
				if (ps->maxelems >= (int) (MaxAllocSize / sizeof(JsonbValue) / 2))
					return false;
				ps->maxelems *= 2;
				ps->elems = repalloc(ps->elems, ps->maxelems * sizeof(JsonbValue));
			}
			ps->elems[ps->nelems++] = v;
			skip_ws(ps);
			if (ps->p >= ps->end)
				return false;
			if (*ps->p == ',')
			{
				ps->p++;
				skip_ws(ps);
				continue;
			}
			if (*ps->p != ']')
				return false;
			ps->p++;
			break;
		}
	n = ps->nelems - base;
	if (n > (int) JB_CMASK)
		return false;
	elems = NULL;
	if (n > 0)
	{
		elems = palloc(n * sizeof(JsonbValue));
		memcpy(elems, &ps->elems[base], n * sizeof(JsonbValue));
	}
	ps->nelems = base;
	out->type = jbvArray;
	out->val.array.nElems = n;
	out->val.array.elems = elems;
	out->val.array.rawScalar = false;
	return true;
}

static inline bool
literal(Parser *ps, const char *word, int len)
{
	if (ps->end - ps->p < len || memcmp(ps->p, word, len) != 0)
		return false;
	ps->p += len;
	/* "truex" is one token to jsonb_in: leave it to refuse */
	return !(ps->p < ps->end &&
			 (IS_ALNUM(*ps->p) || *ps->p == '_' || (unsigned char) *ps->p >= 0x80));
}

static bool
parse_value(Parser *ps, JsonbValue *out)
{
	bool		ok;

	if (ps->p >= ps->end)
		return false;
	switch (*ps->p)
	{
		case '{':
		case '[':
			if (++ps->depth > FAST_MAX_DEPTH)
				return false;
			ps->p++;
			ok = (ps->p[-1] == '{') ? parse_object(ps, out) : parse_array(ps, out);
			ps->depth--;
			return ok;
		case '"':
			ps->p++;
			out->type = jbvString;
			return parse_string(ps, &out->val.string.val, &out->val.string.len);
		case 't':
			out->type = jbvBool;
			out->val.boolean = true;
			return literal(ps, "true", 4);
		case 'f':
			out->type = jbvBool;
			out->val.boolean = false;
			return literal(ps, "false", 5);
		case 'n':
			out->type = jbvNull;
			return literal(ps, "null", 4);
		default:
			if (*ps->p == '-' || IS_DIGIT(*ps->p))
				return parse_number(ps, out);
			return false;
	}
}

/*
 * The jsonb of a record, NUL-terminated JSON text: in UTF-8 from a body
 * (checked and converted to the database's encoding first, as a body must
 * be) when from_body, else text already in the database's encoding.
 * Allocates in the current memory context.
 */
Jsonb *
records_jsonb(const char *json, size_t len, bool from_body)
{
	char	   *conv = (char *) json;
	Parser		ps;
	JsonbValue	root;
	Jsonb	   *jb = NULL;

	if (from_body)
	{
		conv = pg_any_to_server(json, len, PG_UTF8);
		if (conv != json)
			len = strlen(conv);
	}

	ps.p = conv;
	ps.end = conv + len;
	ps.depth = 0;
	ps.utf8 = (GetDatabaseEncoding() == PG_UTF8);
	ps.npairs = 0;
	ps.maxpairs = 32;
	ps.pairs = palloc(ps.maxpairs * sizeof(JsonbPair));
	ps.nelems = 0;
	ps.maxelems = 32;
	ps.elems = palloc(ps.maxelems * sizeof(JsonbValue));

	skip_ws(&ps);
	if (parse_value(&ps, &root))
	{
		skip_ws(&ps);
		if (ps.p == ps.end)
			jb = JsonbValueToJsonb(&root);
	}
	pfree(ps.pairs);
	pfree(ps.elems);
	if (jb == NULL)
		jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(conv)));
	if (conv != json)
		pfree(conv);
	return jb;
}

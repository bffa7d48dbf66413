/*
 * normalize.c
 *	  Typed landing (elt.normalize): the C parts of turning a stream's
 *	  staged jsonb records into typed root and child tables.
 *
 * The SQL it generates and the bookkeeping live in the extension script
 * (34_normalize.sql); what is here is what SQL would do slowly or not at
 * all: one walk over each record's binary jsonb that finds every path,
 * array and value kind of a set of batches (the shape aggregate), the kind
 * of one value (for routing values of a path to its variant columns), and
 * the entry points that run a normalization as the stream's owner, from
 * elt.normalize and from an extract's commit.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "storage/itemptr.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/uuid.h"

#include "internal_sql.h"
#include "normalize.h"

PG_FUNCTION_INFO_V1(elt_normalize_shape_step);
PG_FUNCTION_INFO_V1(elt_normalize_shape_final);
PG_FUNCTION_INFO_V1(elt_jsonb_kind);
PG_FUNCTION_INFO_V1(elt_normalize);
PG_FUNCTION_INFO_V1(elt_normalize_entered);
PG_FUNCTION_INFO_V1(elt_normalize_row_key);

/*
 * How many runs elt.normalize and an extract's normalization have under way
 * in this backend: elt._normalize_run works only inside one of them, so
 * that calling it directly (it is PUBLIC, being run as each stream's
 * owner) does not get around EXECUTE on elt.normalize.
 */
static int	normalize_entered = 0;

/*
 * Kinds of values, one bit each; the SQL side (34_normalize.sql) uses the
 * same numbers.
 */
#define KIND_NULL		0x001
#define KIND_BOOL		0x002
#define KIND_INT		0x004	/* a number that is a bigint as written */
#define KIND_NUM		0x008	/* any other number */
#define KIND_TS			0x010	/* an ISO 8601 timestamp with a zone */
#define KIND_DATE		0x020	/* an ISO 8601 date */
#define KIND_TEXT		0x040	/* any other string */
#define KIND_OBJECT		0x080
#define KIND_ARRAY		0x100
#define NKINDS			9

/*
 * A path key is a byte string: a first byte saying what it is (a column
 * path or a table's own entry), then tokens: a key of the path (TOK_KEY, its
 * length, its bytes as they are) or the end of a table level (TOK_TABLE:
 * the path so far is an array).  Key bytes are never scanned, only skipped
 * by their length, so any key is safe in it.
 */
#define KEY_COLUMN		'C'
#define KEY_TABLE		'T'
#define TOK_KEY			'\x01'
#define TOK_TABLE		'\x02'

/*
 * One path (or table) found, and what was seen at it.  The entry of a
 * column path is also a node of the walk: it remembers the entry of the
 * key found at each position of the object at that path in the last
 * record, so that records of the same shape (the usual case) find each
 * path by comparing one key, without building and hashing the path.
 */
typedef struct ShapeEntry ShapeEntry;
struct ShapeEntry
{
	char	   *key;
	int			keylen;
	uint32		hash;
	int			kinds;			/* KIND_* bits seen */
	int64		first_batch[NKINDS];	/* first batch per kind; tables: [0] */
	int64		count;			/* values (rows, for a table) seen */
	/* the walk's cache (column paths only) */
	const char *seg;			/* the path's last key, within key */
	int			seglen;
	ShapeEntry **bypos;			/* child entries by key position, last seen */
	int			nbypos;
	ShapeEntry *elem;			/* the column path of this path's array elements */
	ShapeEntry *table;			/* the table entry of this path's array */
};

/* The aggregate's state: an open-addressing hash of path keys. */
typedef struct ShapeState
{
	MemoryContext cxt;			/* the aggregate's: entries and keys */
	ShapeEntry **slots;			/* NULL: free slot */
	int			nslots;			/* a power of two */
	int			nused;
	StringInfoData key;			/* scratch for building a path key */
	ShapeEntry *root;			/* the record's own column path (no key) */
	int64		batch;			/* the current record's batch */
	int64		records;
} ShapeState;

/* ------------------------------------------------------------ kinds */

static bool
digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/*
 * Whether s[0..9] is a real calendar date written YYYY-MM-DD, so that a
 * cast to date (in any DateStyle) cannot fail on it.
 */
static bool
iso_date(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y,
				m,
				d;

	if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
		!digits(s + 8, 2))
		return false;
	y = num2(s) * 100 + num2(s + 2);
	m = num2(s + 5);
	d = num2(s + 8);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	return true;
}

/*
 * The kind of a string: a date (YYYY-MM-DD), a timestamp with a zone
 * (YYYY-MM-DDTHH:MM[:SS[.fraction]] then Z or +HH[:MM] / -HH[:MM]; a space
 * for the T too), or text.  A timestamp without a zone stays text: which
 * instant it means would depend on the session's TimeZone.
 */
static int
string_kind(const char *s, int len)
{
	int			i;

	if (len < 10 || len > 40 || !iso_date(s))
		return KIND_TEXT;
	if (len == 10)
		return KIND_DATE;
	if ((s[10] != 'T' && s[10] != ' ') || len < 17)
		return KIND_TEXT;
	if (!digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
		num2(s + 11) > 23 || num2(s + 14) > 59)
		return KIND_TEXT;
	i = 16;
	if (i < len && s[i] == ':')
	{
		if (i + 3 > len || !digits(s + i + 1, 2) || num2(s + i + 1) > 59)
			return KIND_TEXT;
		i += 3;
		if (i < len && s[i] == '.')
		{
			int			start = ++i;

			while (i < len && s[i] >= '0' && s[i] <= '9')
				i++;
			if (i == start || i - start > 9)
				return KIND_TEXT;
		}
	}
	if (i == len - 1 && s[i] == 'Z')
		return KIND_TS;
	if (i < len && (s[i] == '+' || s[i] == '-'))
	{
		const char *z = s + i + 1;
		int			zl = len - i - 1;

		if ((zl == 2 && digits(z, 2)) ||
			(zl == 5 && digits(z, 2) && z[2] == ':' && digits(z + 3, 2) && num2(z + 3) <= 59) ||
			(zl == 4 && digits(z, 4) && num2(z + 2) <= 59))
		{
			if (num2(z) <= 15)
				return KIND_TS;
		}
	}
	return KIND_TEXT;
}

/*
 * The kind of a number: a bigint when it is written without a fraction and
 * fits, so that its text casts to bigint; any other number otherwise.
 */
static int
numeric_kind(Numeric n)
{
	static Numeric int8_min = NULL;
	static Numeric int8_max = NULL;

	if (numeric_is_nan(n) || numeric_is_inf(n))
		return KIND_NUM;
	if (DatumGetInt32(DirectFunctionCall1(numeric_scale, NumericGetDatum(n))) != 0)
		return KIND_NUM;
	if (int8_min == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		int8_min = int64_to_numeric(PG_INT64_MIN);
		int8_max = int64_to_numeric(PG_INT64_MAX);
		MemoryContextSwitchTo(old);
	}
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(n),
										  NumericGetDatum(int8_min))) < 0 ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(n),
										  NumericGetDatum(int8_max))) > 0)
		return KIND_NUM;
	return KIND_INT;
}

static int
scalar_kind(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return KIND_NULL;
		case jbvBool:
			return KIND_BOOL;
		case jbvNumeric:
			return numeric_kind(v->val.numeric);
		case jbvString:
			return string_kind(v->val.string.val, v->val.string.len);
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? KIND_ARRAY : KIND_OBJECT;
		case jbvArray:
			return KIND_ARRAY;
		case jbvObject:
			return KIND_OBJECT;
		default:
			return KIND_TEXT;
	}
}

static int
kind_index(int kind)
{
	int			i = 0;

	while (kind > 1)
	{
		kind >>= 1;
		i++;
	}
	return i;
}

/*
 * elt._jsonb_kind(value jsonb) returns int: the KIND_* bit of a value, as
 * the shape aggregate classifies it.  The generated SQL uses it to route
 * the values of one path to the column that takes their kind.
 */
Datum
elt_jsonb_kind(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	JsonbValue	v;

	if (JB_ROOT_IS_SCALAR(jb))
	{
		if (!JsonbExtractScalar(&jb->root, &v))
			PG_RETURN_INT32(KIND_TEXT);
		PG_RETURN_INT32(scalar_kind(&v));
	}
	PG_RETURN_INT32(JB_ROOT_IS_ARRAY(jb) ? KIND_ARRAY : KIND_OBJECT);
}

/* ------------------------------------------------------------ shape */

static void
shape_grow(ShapeState *st)
{
	ShapeEntry **old = st->slots;
	int			oldn = st->nslots;

	st->nslots = oldn * 2;
	st->slots = MemoryContextAllocZero(st->cxt, sizeof(ShapeEntry *) * st->nslots);
	for (int i = 0; i < oldn; i++)
	{
		if (old[i])
		{
			int			j = old[i]->hash & (st->nslots - 1);

			while (st->slots[j])
				j = (j + 1) & (st->nslots - 1);
			st->slots[j] = old[i];
		}
	}
	pfree(old);
}

/*
 * The entry of a key, created when new.  Entries do not move: the walk
 * keeps pointers to them.
 */
static ShapeEntry *
shape_lookup(ShapeState *st, const char *key, int keylen, uint32 h)
{
	int			j = h & (st->nslots - 1);
	ShapeEntry *e;

	while (st->slots[j])
	{
		e = st->slots[j];
		if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
			return e;
		j = (j + 1) & (st->nslots - 1);
	}
	if ((st->nused + 1) * 2 > st->nslots)
	{
		shape_grow(st);
		return shape_lookup(st, key, keylen, h);
	}
	e = MemoryContextAllocZero(st->cxt, sizeof(ShapeEntry));
	e->key = MemoryContextAlloc(st->cxt, keylen + 1);
	memcpy(e->key, key, keylen);
	e->key[keylen] = '\0';
	e->keylen = keylen;
	e->hash = h;
	st->slots[j] = e;
	st->nused++;
	return e;
}

static void
shape_note(ShapeState *st, ShapeEntry *e, int kind)
{
	if (!(e->kinds & kind))
	{
		e->kinds |= kind;
		e->first_batch[kind_index(kind)] = st->batch;
	}
	e->count++;
}

/*
 * The entry of the key k under the column path of e: the one found at the
 * same position of the last record when it is that key, else looked up by
 * the whole path (and remembered for the position).
 */
static ShapeEntry *
shape_child(ShapeState *st, ShapeEntry *e, int pos, const char *k, int len)
{
	ShapeEntry *c;
	int32		l = len;

	if (pos < e->nbypos && (c = e->bypos[pos]) != NULL &&
		c->seglen == len && memcmp(c->seg, k, len) == 0)
		return c;

	resetStringInfo(&st->key);
	appendBinaryStringInfo(&st->key, e->key, e->keylen);
	appendStringInfoChar(&st->key, TOK_KEY);
	appendBinaryStringInfo(&st->key, (const char *) &l, sizeof(l));
	appendBinaryStringInfo(&st->key, k, len);
	c = shape_lookup(st, st->key.data, st->key.len,
					 hash_combine(e->hash, hash_bytes((const unsigned char *) k, len)));
	if (c->seg == NULL)
	{
		c->seg = c->key + c->keylen - len;
		c->seglen = len;
	}
	if (pos >= e->nbypos)
	{
		int			n = Max(8, e->nbypos * 2);

		while (n <= pos)
			n *= 2;
		if (e->bypos == NULL)
			e->bypos = MemoryContextAllocZero(st->cxt, sizeof(ShapeEntry *) * n);
		else
		{
			e->bypos = repalloc(e->bypos, sizeof(ShapeEntry *) * n);
			memset(e->bypos + e->nbypos, 0, sizeof(ShapeEntry *) * (n - e->nbypos));
		}
		e->nbypos = n;
	}
	e->bypos[pos] = c;
	return c;
}

/* The entries of an array at the column path of e: its elements', its table's. */
static void
shape_array_entries(ShapeState *st, ShapeEntry *e)
{
	resetStringInfo(&st->key);
	appendBinaryStringInfo(&st->key, e->key, e->keylen);
	appendStringInfoChar(&st->key, TOK_TABLE);
	e->elem = shape_lookup(st, st->key.data, st->key.len, hash_combine(e->hash, 0x9e3779b9));
	st->key.data[0] = KEY_TABLE;
	e->table = shape_lookup(st, st->key.data, st->key.len,
							hash_combine(e->elem->hash, 0x5bd1e995));
}

static void shape_walk_container(ShapeState *st, ShapeEntry *e, JsonbContainer *c);

/*
 * A value of a container, read from its JEntry in place: noted at the
 * column path of e, or walked into.
 */
static void
shape_walk_entry(ShapeState *st, ShapeEntry *e, JEntry je, const char *base,
				 uint32 off, uint32 len)
{
	if (JBE_ISSTRING(je))
		shape_note(st, e, string_kind(base + off, len));
	else if (JBE_ISNUMERIC(je))
		shape_note(st, e, numeric_kind((Numeric) (base + INTALIGN(off))));
	else if (JBE_ISBOOL(je))
		shape_note(st, e, KIND_BOOL);
	else if (JBE_ISNULL(je))
		shape_note(st, e, KIND_NULL);
	else
	{
		JsonbContainer *c = (JsonbContainer *) (base + INTALIGN(off));

		Assert(JBE_ISCONTAINER(je));
		/* noted too: a path that also holds scalars routes them by kind */
		shape_note(st, e, JsonContainerIsArray(c) ? KIND_ARRAY : KIND_OBJECT);
		shape_walk_container(st, e, c);
	}
}

/*
 * Walk an object (its keys extend the column path of e) or an array (each
 * element is a row of the table of e's path, and its values are at the
 * column path of the elements).  The binary jsonb is read in place, as
 * jsonb_util.c lays it out: the JEntries of the keys then of the values
 * (of the elements, for an array), then their data, each at the end of the
 * one before it, an offset instead of a length every few entries.
 */
static void
shape_walk_container(ShapeState *st, ShapeEntry *e, JsonbContainer *c)
{
	int			n = JsonContainerSize(c);

	check_stack_depth();
	if (JsonContainerIsObject(c))
	{
		const char *base = (const char *) &c->children[n * 2];
		uint32		koff = 0;
		uint32		voff = n > 0 ? getJsonbOffset(c, n) : 0;

		for (int i = 0; i < n; i++)
		{
			JEntry		kj = c->children[i];
			JEntry		vj = c->children[n + i];
			uint32		kend = koff;
			uint32		vend = voff;
			ShapeEntry *child;

			JBE_ADVANCE_OFFSET(kend, kj);
			JBE_ADVANCE_OFFSET(vend, vj);
			child = shape_child(st, e, i, base + koff, kend - koff);
			shape_walk_entry(st, child, vj, base, voff, vend - voff);
			koff = kend;
			voff = vend;
		}
	}
	else
	{
		const char *base = (const char *) &c->children[n];
		uint32		off = 0;

		if (e->elem == NULL)
			shape_array_entries(st, e);
		for (int i = 0; i < n; i++)
		{
			JEntry		je = c->children[i];
			uint32		end = off;
			ShapeEntry *t = e->table;

			JBE_ADVANCE_OFFSET(end, je);
			if (t->count == 0)
				t->first_batch[0] = st->batch;
			t->kinds |= KIND_ARRAY;
			t->count++;
			shape_walk_entry(st, e->elem, je, base, off, end - off);
			off = end;
		}
	}
}

/*
 * elt._normalize_shape(record jsonb, batch_id bigint): the transition
 * function.  Records that are not objects have no columns.
 */
Datum
elt_normalize_shape_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	ShapeState *st;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "elt._normalize_shape_step called in non-aggregate context");
	if (PG_ARGISNULL(0))
	{
		MemoryContext old;

		st = MemoryContextAllocZero(aggcxt, sizeof(ShapeState));
		st->cxt = aggcxt;
		st->nslots = 256;
		st->slots = MemoryContextAllocZero(aggcxt, sizeof(ShapeEntry *) * st->nslots);
		old = MemoryContextSwitchTo(aggcxt);
		initStringInfo(&st->key);
		MemoryContextSwitchTo(old);
		st->root = shape_lookup(st, (char[]) {KEY_COLUMN}, 1, 0);
	}
	else
		st = (ShapeState *) PG_GETARG_POINTER(0);

	if (!PG_ARGISNULL(1))
	{
		Jsonb	   *jb = PG_GETARG_JSONB_P(1);

		st->batch = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2);
		st->records++;
		if (JB_ROOT_IS_OBJECT(jb))
			shape_walk_container(st, st->root, &jb->root);
		if ((Pointer) jb != PG_GETARG_POINTER(1))
			pfree(jb);
	}
	PG_RETURN_POINTER(st);
}

/*
 * A key as {"t": [[table keys] ...], "c": [column keys]}: the table path
 * (one key path per array level) and, for a column, its path within the
 * table's row.
 */
static void
append_key_json(StringInfo out, const ShapeEntry *e)
{
	const char *p = e->key + 1;
	const char *end = e->key + e->keylen;
	bool		first_key = true;
	bool		first_level = true;
	StringInfoData level;

	initStringInfo(&level);
	appendStringInfoString(out, "{\"t\":[");
	while (p < end)
	{
		if (*p == TOK_TABLE)
		{
			appendStringInfo(out, "%s[%s]", first_level ? "" : ",", level.data);
			resetStringInfo(&level);
			first_level = false;
			first_key = true;
			p++;
		}
		else
		{
			int32		l;
			char	   *k;

			Assert(*p == TOK_KEY);
			memcpy(&l, p + 1, sizeof(l));
			k = pnstrdup(p + 1 + sizeof(l), l);
			if (!first_key)
				appendStringInfoChar(&level, ',');
			escape_json(&level, k);
			pfree(k);
			first_key = false;
			p += 1 + sizeof(l) + l;
		}
	}
	appendStringInfoChar(out, ']');
	if (e->key[0] == KEY_COLUMN)
		appendStringInfo(out, ",\"c\":[%s]", level.data);
	pfree(level.data);
}

/*
 * The final function: a jsonb array of
 *   {"t": table path, "rows": n, "b": first batch} for each table seen, and
 *   {"t": table path, "c": column path, "k": kinds, "n": values,
 *	  "b": {"<kind>": first batch, ...}} for each column path.
 */
Datum
elt_normalize_shape_final(PG_FUNCTION_ARGS)
{
	ShapeState *st;
	StringInfoData out;
	bool		first = true;

	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum("[]")));
	st = (ShapeState *) PG_GETARG_POINTER(0);
	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	for (int i = 0; i < st->nslots; i++)
	{
		ShapeEntry *e = st->slots[i];
		bool		is_table;

		/* nodes of the walk that saw nothing (an empty array's) */
		if (e == NULL || e->kinds == 0)
			continue;
		is_table = e->key[0] == KEY_TABLE;
		if (!first)
			appendStringInfoChar(&out, ',');
		first = false;
		append_key_json(&out, e);
		if (is_table)
			appendStringInfo(&out, ",\"rows\":" INT64_FORMAT ",\"b\":" INT64_FORMAT "}",
							 e->count, e->first_batch[0]);
		else
		{
			bool		firstb = true;

			appendStringInfo(&out, ",\"k\":%d,\"n\":" INT64_FORMAT ",\"b\":{",
							 e->kinds, e->count);
			for (int k = 0; k < NKINDS; k++)
			{
				if (!(e->kinds & (1 << k)))
					continue;
				appendStringInfo(&out, "%s\"%d\":" INT64_FORMAT, firstb ? "" : ",",
								 1 << k, e->first_batch[k]);
				firstb = false;
			}
			appendStringInfoString(&out, "}}");
		}
	}
	appendStringInfoChar(&out, ']');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

/* ------------------------------------------------------------ keys */

/*
 * elt._normalize_row_key(batch_id bigint, row tid) returns uuid: the root
 * row key of a staged row of a stream without a primary key: its batch
 * (8 bytes, big-endian), its block (4) and its line (2), then two zero
 * bytes, so that two staged rows of a table never share one, and a row
 * has the same key in every statement of a run.  (Much cheaper per row
 * than hashing the text of both.)
 */
Datum
elt_normalize_row_key(PG_FUNCTION_ARGS)
{
	uint64		batch = (uint64) PG_GETARG_INT64(0);
	ItemPointer tid = (ItemPointer) PG_GETARG_POINTER(1);
	BlockNumber block = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber line = ItemPointerGetOffsetNumberNoCheck(tid);
	pg_uuid_t  *key = palloc0(sizeof(pg_uuid_t));

	for (int i = 0; i < 8; i++)
		key->data[i] = (unsigned char) (batch >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		key->data[8 + i] = (unsigned char) (block >> (24 - 8 * i));
	key->data[12] = (unsigned char) (line >> 8);
	key->data[13] = (unsigned char) line;
	PG_RETURN_UUID_P(key);
}

/* ------------------------------------------------------------ running */

/*
 * elt._normalize_entered() returns boolean: whether elt.normalize or an
 * extract's normalization is running in this backend.
 */
Datum
elt_normalize_entered(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(normalize_entered > 0);
}

/* Run an SPI statement of a normalization with normalize_entered raised. */
static void
normalize_exec_entered(Oid owner, const char *sql, int nargs, Oid *types, Datum *vals,
					   const char *nls)
{
	normalize_entered++;
	PG_TRY();
	{
		/* InvalidOid: as the current user */
		internal_sql_exec_as(owner, sql, nargs, types, vals, nls, false, SPI_OK_SELECT);
	}
	PG_FINALLY();
	{
		normalize_entered--;
	}
	PG_END_TRY();
}

/*
 * Run one normalization of a stream as its owner: the owner creates and
 * owns the typed tables, and the caller's rights and search_path play no
 * part.  Returns the result row's four counters.
 */
static void
normalize_run_as_owner(int32 stream_id, Oid owner, Datum target_schema, bool schema_null,
					   Datum options, bool options_null, int64 *counters)
{
	Oid			types[3] = {INT4OID, TEXTOID, JSONBOID};
	Datum		vals[3];
	char		nls[3] = {' ', schema_null ? 'n' : ' ', options_null ? 'n' : ' '};

	vals[0] = Int32GetDatum(stream_id);
	vals[1] = target_schema;
	vals[2] = options;
	normalize_exec_entered(owner,
						   "SELECT batches, root_rows, child_rows, schema_changes "
						   "FROM elt._normalize_run($1, $2, $3)",
						   3, types, vals, nls);
	for (int i = 0; i < 4; i++)
		counters[i] = internal_sql_int64(0, i + 1, 0);
}

/*
 * elt.normalize(stream, target_schema, options): normalize the stream's
 * batches not normalized yet.  The stream is the one the caller sees (row
 * security on elt.stream); the work is done as its owner.
 */
Datum
elt_normalize(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Oid			types[1] = {TEXTOID};
	Datum		vals[1];
	int32		stream_id;
	Oid			owner;
	int64		counters[4];
	Datum		result[4];
	bool		nulls[4] = {false, false, false, false};

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("stream name must not be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "elt.normalize must return a row");
	tupdesc = BlessTupleDesc(tupdesc);

	SPI_connect();
	vals[0] = PG_GETARG_DATUM(0);
	internal_sql_exec("SELECT s.stream_id, s.owner::pg_catalog.oid "
					  "FROM elt._resolve_stream($1) s",
					  1, types, vals, NULL, true, SPI_OK_SELECT);
	stream_id = internal_sql_int32(0, 1, 0);
	owner = internal_sql_oid(0, 2);
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to normalize stream \"%s\"",
						text_to_cstring(PG_GETARG_TEXT_PP(0))),
				 errhint("Only roles with the privileges of the stream's owner may normalize it.")));
	normalize_run_as_owner(stream_id, owner,
						   PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1), PG_ARGISNULL(1),
						   PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2), PG_ARGISNULL(2),
						   counters);
	SPI_finish();

	for (int i = 0; i < 4; i++)
		result[i] = Int64GetDatum(counters[i]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, result, nulls)));
}

/*
 * After an extract has loaded a batch, in its transaction and as the
 * stream's owner: normalize the stream when it asks for that on each
 * extract (its on_extract option).  A failure fails the extract, so the
 * batch and its typed rows commit together or not at all.
 */
void
normalize_after_extract(int32 stream_id)
{
	Oid			types[1] = {INT4OID};
	Datum		vals[1];

	/*
	 * A library newer than the installed extension (before ALTER EXTENSION
	 * pg_elt UPDATE) has no such function to call, and no stream there can
	 * ask for normalization.
	 */
	if (!OidIsValid(LookupFuncName(list_make2(makeString("elt"),
											  makeString("_normalize_on_extract")),
								   1, types, true)))
		return;
	vals[0] = Int32GetDatum(stream_id);
	normalize_exec_entered(InvalidOid, "SELECT elt._normalize_on_extract($1)",
						   1, types, vals, NULL);
}

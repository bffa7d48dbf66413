/*
 * model.c
 *	  Shared machinery of the transformation functions.
 *
 * The model functions (merge_dimension, merge_fact, merge,
 * create_date_dimension) generate set-based SQL and run it through SPI, with
 * the caller's privileges.  This file holds what they have in common:
 * reading arguments, parsing relation names the way SQL does (so that
 * dbt's '"db"."schema"."table"' works), telling a SELECT source from a
 * relation, introspecting columns, locking, quoting every identifier that
 * goes back into SQL, and writing the elt.model_run record.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/relcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "internal_sql.h"
#include "build_progress.h"
#include "model.h"

static int	temp_counter = 0;

/*
 * Return a required text argument as a C string; a NULL is a clear error
 * rather than a silently empty model.
 */
char *
model_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not be null", argname)));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * Turn a text[] of column names into a List of C strings.  Names are taken
 * literally (as format('%I') would quote them), so an element may contain
 * spaces, quotes or upper case.  NULL elements, empty names, names too long
 * to exist and repeated names are refused.  A NULL array is an empty list.
 */
List *
model_name_array(ArrayType *arr, const char *argname)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	if (arr == NULL)
		return NIL;
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("argument \"%s\" must be a one-dimensional array", argname)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *name;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"%s\" must not contain nulls", argname)));
		name = TextDatumGetCString(elems[i]);
		if (name[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument \"%s\" must not contain empty names", argname)));
		model_check_name_length(name, argname);
		if (model_list_contains(result, name))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column \"%s\" appears more than once in argument \"%s\"",
							name, argname)));
		result = lappend(result, name);
	}
	return result;
}

/*
 * Whether a list of C strings holds the name (exact, case-sensitive match,
 * as for quoted identifiers).
 */
bool
model_list_contains(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		if (strcmp((char *) lfirst(lc), name) == 0)
			return true;
	}
	return false;
}

/*
 * Refuse a name PostgreSQL would silently truncate: a truncated column or
 * table name would make the next call look for a column that is not there.
 */
void
model_check_name_length(const char *name, const char *what)
{
	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("name \"%s\" in %s is too long", name, what),
				 errdetail("Names are limited to %d bytes.", NAMEDATALEN - 1)));
}

/*
 * Resolve a relation name written in SQL syntax (optionally qualified,
 * optionally quoted, as dbt's {{ this }} renders it).  A missing relation
 * is an error unless missing_ok, in which case the schema it would be
 * created in is resolved (that schema must exist).
 */
void
model_resolve_relation(ModelRelation *rel, const char *name, bool missing_ok)
{
	List	   *names;
	RangeVar   *rv;

	rel->given = name;
	{
		char	   *copy = pstrdup(name);
		List	   *parts;

		if (!SplitIdentifierString(copy, '.', &parts) || parts == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid relation name: \"%s\"", name),
					 errhint("Quote names that hold special characters, as in \"schema\".\"Table Name\"; a source may also be a SELECT statement.")));
	}
	/* each part as written: stringToQualifiedNameList truncates silently */
	{
		ArrayType  *arr = DatumGetArrayTypeP(DirectFunctionCall2(parse_ident,
																 CStringGetTextDatum(name),
																 BoolGetDatum(true)));
		Datum	   *elems;
		int			nelems;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &nelems);
		for (int i = 0; i < nelems; i++)
			model_check_name_length(TextDatumGetCString(elems[i]), "a relation name");
	}
	names = stringToQualifiedNameList(name);
	rv = makeRangeVarFromNameList(names);
	rel->relid = RangeVarGetRelid(rv, NoLock, true);
	if (OidIsValid(rel->relid))
	{
		rel->nspid = get_rel_namespace(rel->relid);
		rel->relname = get_rel_name(rel->relid);
	}
	else
	{
		if (!missing_ok)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s\" does not exist",
							rv->schemaname ? psprintf("%s.%s", rv->schemaname, rv->relname) : rv->relname)));
		rel->nspid = RangeVarGetCreationNamespace(rv);
		rel->relname = pstrdup(rv->relname);
	}
	rel->nspname = get_namespace_name(rel->nspid);
	if (isTempNamespace(rel->nspid))
		rel->nspname = "pg_temp";
	rel->qualified = quote_qualified_identifier(rel->nspname, rel->relname);
}

/*
 * Look the relation up again after it was created in this call.
 */
void
model_refresh_relation(ModelRelation *rel)
{
	rel->relid = get_relname_relid(rel->relname, rel->nspid);
	if (!OidIsValid(rel->relid))
		elog(ERROR, "relation %s was not created", rel->qualified);
}

/*
 * Refuse a target that exists but is not a table (a view, a sequence...).
 */
void
model_check_table(ModelRelation *rel)
{
	char		kind = get_rel_relkind(rel->relid);

	if (IsCatalogNamespace(rel->nspid) || IsToastNamespace(rel->nspid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("\"%s.%s\" is a system catalog", rel->nspname, rel->relname)));
	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s.%s\" is not a table", rel->nspname, rel->relname)));
}

/*
 * Whether a source text is a query rather than a relation name: it starts
 * (after blanks and opening parentheses) with SELECT, WITH, VALUES or TABLE
 * as a whole word.  A relation with such a name can still be used quoted.
 */
static bool
looks_like_query(const char *s)
{
	static const char *const keywords[] = {"select", "with", "values", "table"};

	while (*s && (isspace((unsigned char) *s) || *s == '('))
		s++;
	for (int i = 0; i < lengthof(keywords); i++)
	{
		size_t		len = strlen(keywords[i]);

		if (pg_strncasecmp(s, keywords[i], len) == 0)
		{
			char		c = s[len];

			if (c == '\0' || !(isalnum((unsigned char) c) || c == '_' || c == '$'))
				return true;
		}
	}
	return false;
}

/*
 * Whether an error the raw parser raised is about the text it was given:
 * syntax errors and the other complaints of the grammar and the scanner
 * (class 42, invalid literals and escapes of class 22, and syntax that is
 * refused as not supported), as opposed to running out of memory, a cancel
 * or a terminated backend, which must stay what they are.
 */
static bool
is_parser_complaint(int sqlerrcode)
{
	int			category = ERRCODE_TO_CATEGORY(sqlerrcode);

	return category == ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION ||
		category == ERRCODE_DATA_EXCEPTION ||
		sqlerrcode == ERRCODE_FEATURE_NOT_SUPPORTED;
}

/*
 * Parse SQL text given as an argument.  A syntax error is reported as an
 * error in that argument: the parser's own report would place its cursor in
 * the calling statement, where the text does not appear.  Any other error
 * (out of memory, a cancel) is raised again as it came.  The parser only
 * allocates memory, so nothing needs cleaning up before the new error.
 */
static List *
parse_argument(const char *sql, const char *argname)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *result = NIL;

	PG_TRY();
	{
		result = raw_parser(sql, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* CopyErrorData must not run in ErrorContext */
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (!is_parser_complaint(edata->sqlerrcode))
		{
			/* still the current error: raise it again untouched */
			FreeErrorData(edata);
			PG_RE_THROW();
		}
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("argument \"%s\" is not valid SQL: %s", argname, edata->message)));
	}
	PG_END_TRY();
	return result;
}

/*
 * Check that a source query is exactly one SELECT (no second statement, no
 * SELECT INTO) and return its text without the trailing semicolon, ready to
 * be wrapped in parentheses.
 */
char *
model_check_query(const char *query, const char *argname)
{
	List	   *stmts;
	RawStmt    *raw;
	SelectStmt *sel;
	int			len;

	stmts = parse_argument(query, argname);
	if (list_length(stmts) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" must be a relation name or a single SELECT statement",
						argname)));
	raw = linitial_node(RawStmt, stmts);
	if (!IsA(raw->stmt, SelectStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" must be a relation name or a single SELECT statement",
						argname)));
	sel = (SelectStmt *) raw->stmt;
	if (sel->intoClause != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"%s\" must not be SELECT INTO", argname)));
	len = raw->stmt_len > 0 ? raw->stmt_len : (int) strlen(query) - raw->stmt_location;
	return pnstrdup(query + raw->stmt_location, len);
}

/*
 * Check that an expression over the source (such as effective_at) is one
 * scalar expression, so that it cannot carry a second statement or clause,
 * and return it parenthesized.  Its columns are resolved against the source
 * when the generated statement runs.
 */
char *
model_check_expression(const char *expr, const char *argname)
{
	char	   *sql = psprintf("SELECT %s", expr);
	List	   *stmts;
	RawStmt    *raw;
	SelectStmt *sel;
	ResTarget  *rt;
	int			len;

	stmts = parse_argument(sql, argname);
	if (list_length(stmts) != 1)
		goto bad;
	raw = linitial_node(RawStmt, stmts);
	if (!IsA(raw->stmt, SelectStmt))
		goto bad;
	sel = (SelectStmt *) raw->stmt;
	if (sel->op != SETOP_NONE || sel->fromClause || sel->whereClause ||
		sel->groupClause || sel->havingClause || sel->windowClause ||
		sel->sortClause || sel->limitCount || sel->limitOffset ||
		sel->lockingClause || sel->withClause || sel->distinctClause ||
		sel->intoClause || sel->valuesLists ||
		list_length(sel->targetList) != 1)
		goto bad;
	rt = linitial_node(ResTarget, sel->targetList);
	if (rt->name != NULL)
		goto bad;
	len = raw->stmt_len > 0 ? raw->stmt_len : (int) strlen(sql) - raw->stmt_location;
	return psprintf("(\n%s\n)", pnstrdup(sql + raw->stmt_location + 7, len - 7));

bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("argument \"%s\" must be a column name or a single expression", argname)));
	return NULL;				/* keep compiler quiet */
}

/*
 * Open a source: a relation name or a SELECT.  Resolves it to something
 * that can follow FROM and reads its columns.
 */
void
model_open_source(ModelSource *src, const char *source)
{
	src->given = source;
	src->is_query = looks_like_query(source);
	if (src->is_query)
		src->from_item = psprintf("(\n%s\n)", model_check_query(source, "source"));
	else
	{
		ModelRelation rel;

		model_resolve_relation(&rel, source, false);
		src->from_item = rel.qualified;
	}
	src->columns = model_query_columns(src->from_item);
}

/*
 * Fill in what the generated SQL needs to know about a column's type.
 */
static void
describe_type(ModelColumn *col)
{
	TypeCacheEntry *tce = lookup_type_cache(col->typid, TYPECACHE_EQ_OPR);
	char		category;
	bool		preferred;

	col->typname = format_type_with_typemod(col->typid, col->typmod);
	col->comparable = OidIsValid(tce->eq_opr);
	get_type_category_preferred(col->typid, &category, &preferred);
	col->stringy = category == TYPCATEGORY_STRING &&
		(col->typmod < 0 || col->typmod - VARHDRSZ >= 7);
}

/*
 * The columns a FROM item produces, read from a LIMIT 0 query so that views
 * and SELECT sources are described exactly as the generated SQL sees them.
 * Unnamed and repeated output columns are refused: they could not be
 * stored in a table.
 */
List *
model_query_columns(const char *from_item)
{
	char	   *sql = psprintf("SELECT * FROM %s AS src LIMIT 0", from_item);
	TupleDesc	desc;
	List	   *result = NIL;

	model_exec(sql, SPI_OK_SELECT);
	desc = SPI_tuptable->tupdesc;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ModelColumn *col;

		if (att->attisdropped)
			continue;
		if (strcmp(NameStr(att->attname), "?column?") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_COLUMN_DEFINITION),
					 errmsg("the source has an unnamed column"),
					 errhint("Name every column of the source query with AS.")));
		if (model_find_column(result, NameStr(att->attname)))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("the source has more than one column named \"%s\"",
							NameStr(att->attname))));
		col = palloc0(sizeof(ModelColumn));
		col->name = pstrdup(NameStr(att->attname));
		col->typid = att->atttypid;
		col->typmod = att->atttypmod;
		describe_type(col);
		result = lappend(result, col);
	}
	return result;
}

/*
 * The columns of an existing table, with what the shape checks need
 * (NOT NULL, whether the column fills itself).
 */
List *
model_relation_columns(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *result = NIL;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ModelColumn *col;

		if (att->attisdropped)
			continue;
		col = palloc0(sizeof(ModelColumn));
		col->name = pstrdup(NameStr(att->attname));
		col->typid = att->atttypid;
		col->typmod = att->atttypmod;
		col->notnull = att->attnotnull;
		col->has_default = att->atthasdef || att->attidentity || att->attgenerated;
		col->identity = att->attidentity;
		describe_type(col);
		result = lappend(result, col);
	}
	relation_close(rel, NoLock);
	return result;
}

/*
 * Find a column by exact name, or NULL.
 */
ModelColumn *
model_find_column(List *columns, const char *name)
{
	ListCell   *lc;

	foreach(lc, columns)
	{
		ModelColumn *col = lfirst(lc);

		if (strcmp(col->name, name) == 0)
			return col;
	}
	return NULL;
}

/*
 * The names of a list of columns.
 */
List *
model_column_names(List *columns)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, columns)
		result = lappend(result, ((ModelColumn *) lfirst(lc))->name);
	return result;
}

/*
 * Serialize model builds of one target: a transaction-level advisory lock
 * keyed on the target's schema and name, taken before the target is looked
 * at, so that two first calls cannot both create it and two merges cannot
 * both classify against the same current rows.  The target is looked up
 * again once the lock is held, since its holder may have created it.
 */
void
model_lock_name(ModelRelation *rel)
{
	char	   *sql;
	uint32		h = hash_bytes((const unsigned char *) rel->relname, strlen(rel->relname));

	sql = psprintf("SELECT pg_catalog.pg_advisory_xact_lock(%d, %d)",
				   (int32) rel->nspid, (int32) h);
	model_exec(sql, SPI_OK_SELECT);

	/* Whoever held the lock may have created or dropped the target. */
	AcceptInvalidationMessages();
	rel->relid = get_relname_relid(rel->relname, rel->nspid);
}

/*
 * Lock an existing target against concurrent writers (and other model
 * builds) while leaving it readable: SHARE ROW EXCLUSIVE conflicts with
 * itself and with ordinary INSERT/UPDATE/DELETE, not with SELECT.
 */
void
model_lock_table(ModelRelation *rel)
{
	model_exec(psprintf("LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE", rel->qualified),
			   SPI_OK_UTILITY);
}

/*
 * Mark a dimension as written by this transaction before its current rows
 * are read for a write: a no-op update of the unknown member (setting
 * column to itself).  A transaction running under REPEATABLE READ or
 * SERIALIZABLE whose snapshot predates another build of the dimension that
 * committed while it waited for the lock then fails here with a
 * serialization failure, instead of classifying against rows that are no
 * longer current and adding a second current row for a key.  In READ
 * COMMITTED every statement after the lock sees the committed build, and
 * this costs one row.  With the merges serialized, this is what keeps one
 * current row per natural key without a unique index on the current rows
 * (see create_indexes in dimension.c).
 */
void
model_claim_dimension(ModelRelation *rel, const char *sk, const char *column)
{
	const char *qcol = quote_identifier(column);

	model_exec(psprintf("UPDATE %s SET %s = %s WHERE %s = " MODEL_UNKNOWN_KEY,
						rel->qualified, qcol, qcol, quote_identifier(sk)),
			   SPI_OK_UPDATE);
}

/*
 * Run one generated statement and return the number of rows it processed.
 * expected is the SPI result code it must give (or -1 for any success).
 */
uint64
model_exec(const char *sql, int expected)
{
	(void) internal_sql_exec_caller(sql, expected >= 0 ? expected : INTERNAL_SQL_ANY);
	if (expected == SPI_OK_INSERT || expected == SPI_OK_UPDATE || expected == SPI_OK_DELETE)
		build_progress_rows((int64) SPI_processed);
	return SPI_processed;
}

/*
 * Run a query returning one bigint (NULL reads as 0).
 */
int64
model_query_int64(const char *sql)
{
	bool		isnull;
	Datum		d;

	model_exec(sql, SPI_OK_SELECT);
	if (SPI_processed != 1 || SPI_tuptable->tupdesc->natts != 1 ||
		SPI_gettypeid(SPI_tuptable->tupdesc, 1) != INT8OID)
		elog(ERROR, "generated query did not return one bigint: %s", sql);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * Run a query returning at most one row and return its first column as
 * text, or NULL when there is no row or the value is NULL.
 */
char *
model_query_text(const char *sql)
{
	model_exec(sql, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * A fresh name for a temporary work table of this session.
 */
char *
model_temp_name(const char *purpose)
{
	return psprintf("pg_temp.elt_%s_%d", purpose, ++temp_counter);
}

/*
 * Drop a temporary work table as soon as it is no longer needed, so that a
 * transaction calling several models does not keep them all.
 */
void
model_drop_temp(const char *name)
{
	model_exec(psprintf("DROP TABLE IF EXISTS %s", name), SPI_OK_UTILITY);
}

/*
 * Settings for the generated statements of one model build, undone by
 * model_settings_pop (or by the end of the (sub)transaction on error), the
 * way a function's SET clause is.  JIT compilation is turned off: the
 * statements are few, large and run once, so compiling their expressions
 * costs more time than it saves (a tenth of a second per statement on a
 * million-row merge).
 */
int
model_settings_push(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/*
 * Restore the settings model_settings_push changed.
 */
void
model_settings_pop(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Run a generated UPDATE that joins a work table to a large target, with
 * hash and merge joins turned off for that one statement, so that each
 * work row finds its target row through an index.  The planner, costing
 * every index probe as a disk read, would rather scan the whole target and
 * hash it, which on a large dimension reads and dirties every page to
 * change a tenth of them.  Only for work sets known to be a small part of
 * the target.
 */
uint64
model_exec_by_index(const char *sql, int expected)
{
	int			nestlevel = NewGUCNestLevel();
	uint64		result;

	(void) set_config_option("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	result = model_exec(sql, expected);
	AtEOXact_GUC(true, nestlevel);
	return result;
}

/*
 * A column reference, alias."name" (or just "name" without alias).
 */
char *
model_column_ref(const char *alias, const char *name)
{
	if (alias)
		return psprintf("%s.%s", alias, quote_identifier(name));
	return pstrdup(quote_identifier(name));
}

/*
 * Append  a."x", a."y"  for a list of names.
 */
void
model_append_names(StringInfo buf, List *names, const char *alias)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, ", ");
		appendStringInfoString(buf, model_column_ref(alias, lfirst(lc)));
	}
}

/*
 * Append  "x" = a."x", "y" = a."y"  for the SET list of an UPDATE.
 */
void
model_append_set(StringInfo buf, List *names, const char *alias)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, ", ");
		appendStringInfo(buf, "%s = %s", quote_identifier(lfirst(lc)),
						 model_column_ref(alias, lfirst(lc)));
	}
}

/*
 * Append the match of two rows on a key: plain equality (hashable and
 * indexable, never true for NULL parts) or IS NOT DISTINCT FROM (NULL parts
 * match NULL parts).
 */
void
model_append_key_match(StringInfo buf, List *key, const char *left,
					   const char *right, bool null_safe)
{
	ListCell   *lc;

	foreach(lc, key)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, " AND ");
		appendStringInfo(buf, "%s %s %s",
						 model_column_ref(left, lfirst(lc)),
						 null_safe ? "IS NOT DISTINCT FROM" : "=",
						 model_column_ref(right, lfirst(lc)));
	}
}

/*
 * Append a test that some part of a key is NULL.
 */
void
model_append_any_null(StringInfo buf, List *key, const char *alias)
{
	ListCell   *lc;

	appendStringInfoChar(buf, '(');
	foreach(lc, key)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, " OR ");
		appendStringInfo(buf, "%s IS NULL", model_column_ref(alias, lfirst(lc)));
	}
	appendStringInfoChar(buf, ')');
}

/*
 * Append a null-safe "these columns differ" test: NULL to a value and a
 * value to NULL are differences, NULL to NULL is not.  Types without an
 * equality operator (json, point, ...) are compared as text.
 */
void
model_append_distinct(StringInfo buf, List *columns, const char *left,
					  const char *right)
{
	ListCell   *lc;

	appendStringInfoChar(buf, '(');
	foreach(lc, columns)
	{
		ModelColumn *col = lfirst(lc);
		const char *cast = col->comparable ? "" : "::text";

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, " OR ");
		appendStringInfo(buf, "%s%s IS DISTINCT FROM %s%s",
						 model_column_ref(left, col->name), cast,
						 model_column_ref(right, col->name), cast);
	}
	appendStringInfoChar(buf, ')');
}

/*
 * Refuse a source in which a key appears more than once, naming one such
 * key the way a unique violation would.  table is a FROM item, what names
 * the kind of key ("natural key", "grain"), target the model built.
 */
void
model_check_duplicates(const char *table, List *key, const char *what,
					   const char *target)
{
	StringInfoData sql;
	StringInfoData keynames;
	StringInfoData values;
	ListCell   *lc;
	int			nkey = list_length(key);
	HeapTuple	tup;
	TupleDesc	desc;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	foreach(lc, key)
		appendStringInfo(&sql, "%s, ", model_column_ref(NULL, lfirst(lc)));
	appendStringInfo(&sql, "count(*) FROM %s AS d GROUP BY ", table);
	model_append_names(&sql, key, NULL);
	appendStringInfoString(&sql, " HAVING count(*) > 1 LIMIT 1");
	model_exec(sql.data, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return;

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	initStringInfo(&keynames);
	initStringInfo(&values);
	for (int i = 0; i < nkey; i++)
	{
		char	   *v = SPI_getvalue(tup, desc, i + 1);

		if (i > 0)
		{
			appendStringInfoString(&keynames, ", ");
			appendStringInfoString(&values, ", ");
		}
		appendStringInfoString(&keynames, quote_identifier(list_nth(key, i)));
		appendStringInfoString(&values, v ? v : "null");
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("duplicate %s in the source of %s", what, target),
			 errdetail("Key (%s)=(%s) appears %s times in the source.",
					   keynames.data, values.data, SPI_getvalue(tup, desc, nkey + 1)),
			 errhint("Make the source hold one row per key, for example with DISTINCT ON.")));
}

/*
 * Record one model build in elt.model_run, in the caller's transaction, so
 * that an operator sees what each build did and how long it took.
 *
 * The callers run with their own privileges and cannot write the history
 * table themselves (they could otherwise forge or erase it): the insert is
 * done as the table's owner, the same way a SECURITY DEFINER function would,
 * with no SQL path left open to other statements.  run_by records the
 * caller.
 */
void
model_record_run(const char *function, ModelRelation *target,
				 const char *source, ModelCounts *counts,
				 TimestampTz started, const char *detail_json)
{
	Oid			caller;
	int			sec_context;
	Oid			nsp = get_namespace_oid("elt", false);
	Oid			relid = get_relname_relid("model_run", nsp);
	HeapTuple	tup;
	Oid			owner;
	Oid			argtypes[12] = {TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID,
	INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, NAMEOID, TEXTOID};
	Datum		values[12];
	char		nulls[12];
	int64		nums[5] = {counts->inserted, counts->updated, counts->deleted,
	counts->closed, counts->unchanged};
	char	   *src = source ? pstrdup(source) : NULL;
	int			ret;

	if (!OidIsValid(relid))
		elog(ERROR, "table elt.model_run is missing");
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	/* A query source is kept short: the record is for reading. */
	if (src && strlen(src) > 1000)
		src[pg_mbcliplen(src, strlen(src), 1000)] = '\0';

	memset(nulls, ' ', sizeof(nulls));
	GetUserIdAndSecContext(&caller, &sec_context);
	values[0] = CStringGetTextDatum(function);
	values[1] = CStringGetTextDatum(target->qualified);
	if (src)
		values[2] = CStringGetTextDatum(src);
	else
		nulls[2] = 'n';
	for (int i = 0; i < 5; i++)
	{
		if (nums[i] < 0)
			nulls[3 + i] = 'n';
		else
			values[3 + i] = Int64GetDatum(nums[i]);
	}
	values[8] = TimestampTzGetDatum(started);
	values[9] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[10] = DirectFunctionCall1(namein,
									 CStringGetDatum(GetUserNameFromId(caller, false)));
	if (detail_json)
		values[11] = CStringGetTextDatum(detail_json);
	else
		nulls[11] = 'n';

	ret = internal_sql_exec_as(owner,
							   "INSERT INTO elt.model_run (function, target, source,"
							   " inserted, updated, deleted, closed, unchanged,"
							   " started_at, elapsed, run_by, detail)"
							   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
							   " $10 OPERATOR(pg_catalog.-) $9, $11, $12::pg_catalog.jsonb)",
							   12, argtypes, values, nulls, false, INTERNAL_SQL_ANY);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record the model run: %s", SPI_result_code_string(ret));
	build_progress_end();
}

/*
 * model.h
 *	  Shared machinery of the transformation functions (dimensions, facts,
 *	  incremental models): names, sources, columns, locks, SQL building and
 *	  the elt.model_run record.
 *
 * Every function that builds SQL from a caller's names goes through here, so
 * that identifiers are always parsed the way SQL parses them and always
 * quoted when they are spliced back into generated statements.  All of it
 * runs inside an SPI connection opened by the SQL-callable function.
 */
#ifndef ELT_MODEL_H
#define ELT_MODEL_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/timestamp.h"

/* A relation named by the caller, e.g. '"dw"."Dim User"' or 'dim_user'. */
typedef struct ModelRelation
{
	const char *given;			/* the name as the caller wrote it */
	Oid			relid;			/* InvalidOid while it does not exist */
	Oid			nspid;			/* its schema (existing or to create in) */
	char	   *nspname;
	char	   *relname;
	char	   *qualified;		/* quoted "schema"."name", safe to splice */
	char	   *display;		/* schema.name, for messages, in double quotes */
} ModelRelation;

/* A column of a source or a target. */
typedef struct ModelColumn
{
	char	   *name;
	Oid			typid;
	int32		typmod;
	char	   *typname;		/* format_type_with_typemod, safe to splice */
	bool		notnull;
	bool		has_default;	/* default, identity or generated */
	char		identity;		/* attidentity: '\0', 'a' (always), 'd' */
	bool		comparable;		/* type has an equality operator */
	bool		stringy;		/* string category: holds 'Unknown' */
} ModelColumn;

/* A source: a relation or a single SELECT, ready to use in FROM. */
typedef struct ModelSource
{
	const char *given;
	bool		is_query;
	char	   *from_item;		/* "schema"."rel" or (\n<query>\n) */
	List	   *columns;		/* of ModelColumn * */
} ModelSource;

/* Counts one call reports and records. */
typedef struct ModelCounts
{
	int64		inserted;
	int64		updated;
	int64		deleted;
	int64		closed;
	int64		unchanged;
} ModelCounts;

/* Names of the columns a dimension manages itself. */
#define MODEL_VALID_FROM	"valid_from"
#define MODEL_VALID_TO		"valid_to"
#define MODEL_IS_CURRENT	"is_current"
#define MODEL_IS_INFERRED	"is_inferred"
#define MODEL_IS_DELETED	"is_deleted"
#define MODEL_UNKNOWN_KEY	"-1"

/* Arguments */
extern char *model_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname);
extern List *model_name_array(ArrayType *arr, const char *argname);
extern bool model_list_contains(List *names, const char *name);

/* Relations and sources */
extern void model_resolve_relation(ModelRelation *rel, const char *name, bool missing_ok);
extern void model_refresh_relation(ModelRelation *rel);
extern void model_check_table(ModelRelation *rel);
extern void model_open_source(ModelSource *src, const char *source);
extern List *model_query_columns(const char *from_item);
extern List *model_relation_columns(Oid relid);
extern ModelColumn *model_find_column(List *columns, const char *name);
extern char *model_check_expression(const char *expr, const char *argname);
extern char *model_check_query(const char *query, const char *argname);

/* Locks */
extern void model_lock_name(ModelRelation *rel);
extern void model_lock_table(ModelRelation *rel);
extern void model_claim_dimension(ModelRelation *rel, const char *sk, const char *column);

/* SPI */
extern uint64 model_exec(const char *sql, int expected);
extern int64 model_query_int64(const char *sql);
extern char *model_query_text(const char *sql);
extern char *model_temp_name(const char *purpose);
extern void model_drop_temp(const char *name);
extern int	model_settings_push(void);
extern void model_settings_pop(int nestlevel);
extern uint64 model_exec_by_index(const char *sql, int expected);

/* SQL building */
extern void model_append_names(StringInfo buf, List *names, const char *alias);
extern void model_append_set(StringInfo buf, List *names, const char *alias);
extern void model_append_key_match(StringInfo buf, List *key, const char *left,
								   const char *right, bool null_safe);
extern void model_append_any_null(StringInfo buf, List *key, const char *alias);
extern void model_append_distinct(StringInfo buf, List *columns,
								  const char *left, const char *right);
extern char *model_column_ref(const char *alias, const char *name);
extern List *model_column_names(List *columns);

/* Checks */
extern void model_check_duplicates(const char *table, List *key,
								   const char *what, const char *target);
extern void model_check_name_length(const char *name, const char *what);

/* The elt.model_run record */
extern void model_record_run(const char *function, ModelRelation *target,
							 const char *source, ModelCounts *counts,
							 TimestampTz started, const char *detail_json);

#endif							/* ELT_MODEL_H */

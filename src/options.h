/*
 * options.h
 *	  One definition of every option of pg_elt's JSON settings: the
 *	  options of a source, its auth, a stream's pagination and incremental
 *	  settings, a pipeline's options and an element of merge_fact's
 *	  dimensions.
 *
 * Each object has one table (options.c) that gives every option its name,
 * type, default, bounds and the kinds it applies to, as postgres_fdw's
 * option.c does.  The same table checks a definition when it is written
 * and reads it when it is used, so a default or a bound is written once.
 */
#ifndef ELT_OPTIONS_H
#define ELT_OPTIONS_H

#include "postgres.h"

#include "records.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/* What a value must be. */
typedef enum OptionType
{
	OPT_TEXT,					/* a string (non-empty for settings) */
	OPT_CHOICE,					/* a string among the option's choices */
	OPT_SECRET,					/* a string that references a secret */
	OPT_PATH,					/* a string, a records path */
	OPT_INT,					/* an integer within the option's bounds */
	OPT_NUMBER,					/* a positive number */
	OPT_INTERVAL,				/* an interval (settings: or seconds) */
	OPT_BOOL,					/* true or false */
	OPT_SCALAR,					/* a string or a number */
	OPT_LAG,					/* an interval string or a number >= 0 */
	OPT_OBJECT,					/* a JSON object */
	OPT_CHANNEL,				/* a NOTIFY channel name */
	OPT_TIMEZONE,				/* a time zone name */
	OPT_NAMES,					/* a non-empty array of distinct non-empty
								 * strings */
	OPT_PIPELINES				/* an array (possibly empty) of distinct
								 * pipeline names */
} OptionType;

/*
 * How a table's messages read, and how it treats null values and unknown
 * keys: the wording users already know from each object.
 */
typedef enum OptionStyle
{
	OPT_STYLE_SETTING,			/* 'page pagination setting "size" ...';
								 * null is absent, unknown keys first */
	OPT_STYLE_OPTION,			/* 'pipeline option "retries" ...'; keys in
								 * order, null refused */
	OPT_STYLE_ELEMENT			/* '"on" in element 2 of dimensions ...';
								 * null is absent, all unknown keys named */
} OptionStyle;

/* A null value is refused rather than taken as absent. */
#define OPTF_NULL_REFUSED	0x01
/* Required: absence is an error. */
#define OPTF_REQUIRED		0x02

/* Every kind of a table. */
#define OPT_ALL_KINDS		0

struct OptionValues;
struct OptionDef;

/* A check of its own an option makes after its type's. */
typedef void (*OptionCheck) (const struct OptionValues *ov,
							 const struct OptionDef *def, const char *value);

typedef struct OptionDef
{
	const char *name;
	OptionType	type;
	uint32		kinds;			/* bit (1 << kind) per kind, or OPT_ALL_KINDS */
	int			flags;			/* OPTF_* */
	const char *dflt;			/* default, written as the value is; or NULL */
	int32		min;			/* OPT_INT: lowest; OPT_INTERVAL: 1 = positive */
	int32		max;			/* OPT_INT: highest, 0 for PG_INT32_MAX */
	const char *choices;		/* OPT_CHOICE: "a|b"; OPT_NUMBER: its unit */
	const char *label;			/* what a failed choice is said of, if not
								 * the table's what */
	OptionCheck check;			/* or NULL */
} OptionDef;

typedef struct OptionTable
{
	const char *what;			/* "source"; with kinds "%s pagination" */
	OptionStyle style;
	const char *kind_key;		/* the option that names the kind, or NULL */
	const char *kind_what;		/* what the kind key is said of: "auth" */
	const char *const *kinds;	/* names of the kinds, NULL-terminated */
	const OptionDef *defs;
	int			ndefs;
} OptionTable;

/* A checked object and its table, to read values from. */
typedef struct OptionValues
{
	const OptionTable *table;
	JsonbContainer *obj;		/* NULL: every option absent */
	int			kind;			/* index into table->kinds, or -1 */
	const char *what;			/* for messages */
	int			element;		/* OPT_STYLE_ELEMENT: 1-based position */
} OptionValues;

extern const OptionTable source_options_table;
extern const OptionTable source_auth_table;
extern const OptionTable stream_pagination_table;
extern const OptionTable stream_incremental_table;
extern const OptionTable pipeline_options_table;
extern const OptionTable fact_dimension_table;
extern const OptionTable stream_csv_table;
extern const OptionTable normalize_options_table;

/* Check obj (an object) against table; ov then reads it. */
extern void options_parse(OptionValues *ov, const OptionTable *table,
						  JsonbContainer *obj, int element);

/* Values, or their defaults, of a parsed object. */
extern const char *options_kind_name(const OptionValues *ov);
extern bool options_has_key(const OptionValues *ov, const char *name);
extern JsonbValue *options_get_value(const OptionValues *ov, const char *name);
extern char *options_get_text(const OptionValues *ov, const char *name);
extern int32 options_get_int(const OptionValues *ov, const char *name, int32 absent);
extern double options_get_number(const OptionValues *ov, const char *name, double absent);
extern bool options_get_bool(const OptionValues *ov, const char *name);
extern Interval *options_get_interval(const OptionValues *ov, const char *name);

/* An OPT_NAMES option as a List of char *, NIL when absent. */
extern List *options_get_names(const OptionValues *ov, const char *name);

/* Milliseconds of an interval, as extract(epoch ...) * 1000 gives them. */
extern int64 options_interval_ms(Interval *iv);
extern double options_interval_ms_float(Interval *iv);

/* JSON helpers shared by the readers of definitions. */
extern const char *options_json_typeof(JsonbValue *v);
extern const char *options_jsonb_typeof(Jsonb *jb);
extern bool options_jsonb_is_null(Jsonb *jb);
extern char *options_value_text(JsonbValue *v);
extern char *options_value_json(JsonbValue *v);
extern bool options_regex_match(const char *s, const char *pattern, bool icase);
extern void options_object_pairs(JsonbContainer *obj, List **keys, List **values);

/* The CSV settings of a stream's format_options, for the record splitter. */
extern void options_csv(Jsonb *format_options, RecordCsvOptions *o);

#endif							/* ELT_OPTIONS_H */

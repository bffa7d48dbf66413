/*
 * merge.h
 *	  Incremental models (elt.merge) and the load into a target table
 *	  (MergeLoad, merge_load_*) that elt.merge_fact shares with it:
 *	  strategies, watermark, schema changes.
 */
#ifndef ELT_MERGE_H
#define ELT_MERGE_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "model.h"

#define STRATEGY_APPEND			0
#define STRATEGY_MERGE			1
#define STRATEGY_DELETE_INSERT	2

#define SCHEMA_FAIL				0
#define SCHEMA_IGNORE			1
#define SCHEMA_APPEND_NEW		2
#define SCHEMA_SYNC_ALL			3

/* One load into a target table, with a strategy and a watermark. */
typedef struct MergeLoad
{
	ModelRelation target;
	List	   *unique_key;		/* names; required by merge, delete+insert */
	int			strategy;
	const char *watermark;		/* column name or NULL */
	int			on_schema_change;
	List	   *not_null;		/* names made NOT NULL when created */
	const char *schema_hint;	/* hint for a schema mismatch, or NULL */
	const char *key_label;		/* "unique key" or "grain", for messages */

	/* set by merge_load_begin / merge_load_write */
	bool		existed;
	bool		citus;			/* the target is a Citus table */
	char	   *watermark_filter;	/* condition on alias src, or NULL */
	StringInfoData detail;		/* JSON members for elt.model_run.detail */
} MergeLoad;

extern int	merge_parse_strategy(const char *s);
extern int	merge_parse_schema_change(const char *s);
extern void merge_load_begin(MergeLoad *inc, const char *target);
extern char *merge_load_past_watermark(MergeLoad *inc, const char *from_item);
extern void merge_load_write(MergeLoad *inc, const char *from_item,
							 List *columns, ModelCounts *counts);
extern char *merge_load_detail(MergeLoad *inc);
extern void merge_load_detail_add(MergeLoad *inc, const char *key, const char *json);

extern Datum elt_merge(PG_FUNCTION_ARGS);

#endif							/* ELT_MERGE_H */

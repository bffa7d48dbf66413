/*
 * dimension_merge.h
 *	  What dimension.c, dimension_classify.c and dimension_probe.c share
 *	  about one merge_dimension call: its arguments and findings
 *	  (DimMerge), the classes of the classifying pass, its receiver and the
 *	  work table's columns.  Private to those three files.
 */
#ifndef ELT_DIMENSION_MERGE_H
#define ELT_DIMENSION_MERGE_H

#include "postgres.h"

#include "access/heapam.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "tcop/dest.h"
#include "utils/rel.h"

#include "model.h"

#define DELETES_IGNORE	0
#define DELETES_CLOSE	1
#define DELETES_FLAG	2

/* Column names of the work table; source columns may not use the prefix. */
#define WORK_PREFIX		"__elt_"
#define WORK_EFF		"__elt_eff"
#define WORK_SK			"__elt_sk"
#define WORK_CLASS		"__elt_class"
#define WORK_IN			"__elt_in"
#define WORK_TID		"__elt_tid"

/* Largest surrogate key range the duplicate check keeps a bitmap for. */
#define SEEN_MAX_BITS	(INT64CONST(1) << 30)

/*
 * What the classifying pass decides for a row, and so what the merge writes
 * for it.  The work table keeps it in its class column as a "char": each
 * member's value is the letter stored, the CLASS_SQL_* literals are the same
 * letters for the statements that read the work table, and the counts of
 * the classes are arrays indexed by it.
 */
typedef enum RowClass
{
	/* a source row without a current row of its natural key: a new member */
	CLASS_NEW = 'n',
	/* a versioned column differs (type 2): close the version, insert one */
	CLASS_CHANGED = 'c',
	/* only columns overwritten in place differ (type 0 or 1, type-1 columns) */
	CLASS_OVERWRITE = 'u',
	/* the source delivers an inferred member: complete it in place */
	CLASS_INFERRED = 'i',
	/* a change dated before the version it replaces: the merge is refused */
	CLASS_BACKDATED = 'x',
	/* nothing differs: counted, not written */
	CLASS_UNCHANGED = '=',
	/* a current row whose natural key is no longer in the source */
	CLASS_DELETED = 'd',

	/*
	 * an inferred member missing from the source, which deletes leave
	 * alone: facts point at it and the source has not delivered it yet
	 */
	CLASS_INFERRED_MISSING = 'o',

	/*
	 * a source row flagged deleted (deleted_flag) without a current row:
	 * nothing to delete, counted, not written
	 */
	CLASS_FLAGGED_GONE = 'g'
} RowClass;

/* The classes the statements on the work table name, as "char" literals. */
#define CLASS_SQL_NEW		"'n'"
#define CLASS_SQL_CHANGED	"'c'"
#define CLASS_SQL_OVERWRITE	"'u'"
#define CLASS_SQL_UNCHANGED	"'='"
#define CLASS_SQL_DELETED	"'d'"

typedef struct DimMerge
{
	ModelRelation target;
	ModelSource source;
	List	   *key;			/* natural key column names */
	int			scd_type;
	List	   *type1;			/* names of type-1 columns */
	List	   *ignore;			/* names of columns not compared */
	const char *effective;		/* SQL expression for the change time */
	int			deletes;
	char	   *sk;				/* surrogate key column name */
	const char *qsk;			/* ... quoted */

	List	   *attr2;			/* ModelColumn: compared, versioned (type 2) */
	List	   *attr1;			/* ModelColumn: type-1 columns */
	List	   *attrs;			/* names of every non-key source column */
	List	   *names;			/* names of every source column */
	List	   *tcolumns;		/* columns of the existing target */
	bool		exists;
	bool		has_deleted;
	bool		has_inferred;
	char	   *work;			/* work table name */
	int64		sk_range;		/* surrogate keys in use (highest - lowest) */
	double		max_delete_share;	/* of the current members, see check_delete_share */
	bool		citus;			/* the dimension is a Citus table: see below */
	char	   *watermark;		/* source column: read only rows newer than the dimension's */
	char	   *deleted_flag;	/* boolean source column: true deletes the member */
	char	   *now;			/* the transaction's time, as a literal */
	bool		in_memory;		/* classified against the current rows in memory */
} DimMerge;

/*
 * One compared column in the classifying pass: where its source and
 * dimension values are in the row, and how to tell them apart.
 */
typedef struct CompareColumn
{
	int			sattr;			/* source value (0-based position) */
	int			tattr;			/* dimension value */
	bool		versioned;		/* a change makes a new version (type 2) */
	bool		typbyval;
	int16		typlen;
	bool		comparable;		/* equality operator, else compared as text */
	Oid			collation;
	FmgrInfo	proc;			/* equality function or output function */
} CompareColumn;

/*
 * The receiver of the classifying pass.  It sees every source row once (and,
 * when deletes are detected, every current row missing from the source),
 * classifies it, counts the classes, notes whether a current row was matched
 * twice (a duplicated natural key), and keeps only the rows that lead to a
 * write in the work table, the way CREATE TABLE AS stores a query's rows.
 * The unchanged rows, most of a full source, are counted and dropped.
 *
 * The incoming row is the work row (source columns, effective time,
 * surrogate key, tid) followed by what classifying needs: whether the
 * source side is present, the current row's flags and start, and its
 * compared columns.
 */
typedef struct ClassifyReceiver
{
	DestReceiver pub;
	DimMerge   *m;
	Relation	work;
	TupleTableSlot *wslot;
	MemoryContext rowcxt;		/* what comparing one row allocates */
	BulkInsertState bistate;
	CommandId	cid;
	bool		keep_missing;	/* store CLASS_DELETED rows (deletes handled) */
	bool		keep_unchanged; /* store CLASS_UNCHANGED rows too */
	int64	   *classes;
	int64		nullkeys;		/* new rows with NULL key parts */
	int64		undated;		/* new members and versions without a time */
	int64		unreported;		/* rows not yet added to the build's progress */

	/* Positions in the incoming row (-1: not selected). */
	int			nwork;			/* work columns, the class excluded */
	int			eff_attr;
	int			sk_attr;
	int			in_attr;
	int			inferred_attr;
	int			deleted_attr;
	int			from_attr;
	int			flag_attr;		/* the source's deleted flag, -1 without */
	bool		null_safe;		/* the pass of classify_null_keys */
	int		   *key_attrs;
	int			nkeys;
	CompareColumn *cols;
	int			ncols;

	uint64	   *seen;			/* matched surrogate keys, one bit each */
	int64		seen_base;		/* surrogate key of bit 0 */
	int64		seen_bits;
	bool		duplicate;		/* a current row matched twice */
	bool		unsure;			/* a key fell outside the bitmap */
} ClassifyReceiver;

/* dimension_classify.c */
extern bool classify_source(DimMerge *m, int64 classes[256], int64 *nullkeys, int64 *undated);
extern void build_work_table(DimMerge *m);
extern void classify_null_keys(DimMerge *m, int64 classes[256]);
extern int64 count_classes(DimMerge *m, int64 counts[256], int64 *undated);
extern void append_candidate_rows(StringInfo buf, DimMerge *m);
extern void classify_values(ClassifyReceiver *r, Datum *values, bool *isnull);
extern void classify_count(ClassifyReceiver *r, RowClass cls);
extern void classify_startup_work(ClassifyReceiver *r);
extern void classify_shutdown_work(ClassifyReceiver *r);

/* dimension_probe.c */
extern bool probe_classify(DimMerge *m, ClassifyReceiver *r, const char *sfrom,
						   int ntotal, bool *duplicate);

#endif							/* ELT_DIMENSION_MERGE_H */

/*
 * load.h
 *	  Bulk loading of records into staging tables, and the batch log.
 *
 * Records are turned into jsonb and written with table_multi_insert and a
 * BulkInsertState, with index maintenance, constraints and column defaults,
 * as COPY FROM does, so a record costs its jsonb parse and its heap write.
 * A Citus table's records are buffered as rows and written by a routed
 * INSERT ... SELECT from elt._load_rows() (see load.c).
 */
#ifndef ELT_LOAD_H
#define ELT_LOAD_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

typedef struct LoadState LoadState;

/* Find the staging table named target, creating it (and its schema). */
extern Oid	load_prepare_target(const char *target, bool *created);

/* Add the _elt_parent column of fan-out streams, when missing. */
extern void load_add_parent_column(Oid relid);

extern LoadState *load_begin(Oid relid, int64 batch_id, TimestampTz loaded_at);

/*
 * Add one record (JSON text in UTF-8, NUL-terminated).  Returns its jsonb,
 * valid until the next call.
 */
extern Jsonb *load_record(LoadState *ls, const char *json, size_t len);

/* The parent row stored with the records that follow (NULL: none). */
extern void load_set_parent(LoadState *ls, Jsonb *parent);

/* Write what is buffered (call before the end of a subtransaction). */
extern void load_flush(LoadState *ls);

/* Forget what is buffered (the subtransaction is being rolled back). */
extern void load_discard(LoadState *ls);

extern void load_end(LoadState *ls);

/* What a failed extract leaves in elt.batch. */
typedef struct BatchFailure
{
	int64		batch_id;
	int32		stream_id;
	bool		full_refresh;
	int32		pages;
	int64		records;
	int64		bytes;
	int32		requests;
	int32		retries;
	TimestampTz started_at;
	TimestampTz finished_at;
	const char *stream;
	const char *target;
	const char *cursor_before;
	const char *error;
	const char *run_by;			/* the role that called elt.extract */
	Oid			owner;			/* the stream's owner, who owns the record */
	char		sqlstate[6];
} BatchFailure;

/*
 * Write a failed batch to elt.batch in a transaction of its own (through a
 * short-lived background worker), so that it outlives the rollback of the
 * caller's.  Returns false (with a WARNING) when it could not.
 */
extern bool load_record_failure(const BatchFailure *f);

#endif							/* ELT_LOAD_H */

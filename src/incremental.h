/*
 * incremental.h
 *	  An extract's incremental cursor (extract_cursor_*): the highest value
 *	  of a stream's cursor field seen in the records loaded, and the value
 *	  sent on the next run.
 *
 * Numbers compare as numbers, ISO 8601 timestamps as times and other
 * strings as text; the value is kept as the API wrote it.
 */
#ifndef ELT_INCREMENTAL_H
#define ELT_INCREMENTAL_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "records.h"

typedef enum CursorKind
{
	CURSOR_NONE,
	CURSOR_NUMBER,
	CURSOR_TIME,
	CURSOR_TEXT
} CursorKind;

/* The highest cursor value seen so far. */
typedef struct CursorVal
{
	CursorKind	kind;
	Numeric		num;			/* CURSOR_NUMBER */
	TimestampTz ts;				/* CURSOR_TIME */
	StringInfoData text;		/* as received */
} CursorVal;

extern void extract_cursor_clear(CursorVal *cv);

/* Follow field in a record and keep the highest value in max. */
extern void extract_cursor_track(CursorVal *max, RecordPath *field, Jsonb *jb);

/* Keep from in into when it is higher (into's memory context current). */
extern void extract_cursor_merge(CursorVal *into, CursorVal *from);

/* The value to store after a run: the higher of max and before. */
extern char *extract_cursor_new_value(CursorVal *max, const char *before);

/* The value to send: before (or initial) moved back by lag. */
extern char *extract_cursor_to_send(const char *before, const char *initial,
									const char *lag, bool lag_is_number);

#endif							/* ELT_INCREMENTAL_H */

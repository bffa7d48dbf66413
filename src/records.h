/*
 * records.h
 *	  Streaming record splitter: finds the records of a response body as its
 *	  bytes arrive, without building a tree of the document.
 *
 * Formats: JSON with the records in the array at a path ("$.results"),
 * NDJSON (one record per line) and CSV (a header row whose names become
 * the keys of each record).  A splitter is fed the unconsumed bytes of the
 * body again and again; it hands each complete record to a callback and
 * says how many leading bytes the caller may drop.  Besides records it can
 * capture scalar values at other paths of a JSON body (a next-page cursor,
 * a next URL, a total).
 */
#ifndef ELT_RECORDS_H
#define ELT_RECORDS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef enum RecordFormat
{
	RECORD_JSON,
	RECORD_NDJSON,
	RECORD_CSV
} RecordFormat;

/* A path of object keys from the root: "$.data.items" is {"data","items"}. */
typedef struct RecordPath
{
	int			nkeys;
	char	  **keys;
	char	   *text;			/* as written, for messages */
} RecordPath;

/*
 * Called for each record: the record as JSON text (NUL-terminated), its
 * length and the byte offset of its start in the body.
 */
typedef void (*RecordCallback) (void *arg, const char *rec, size_t len,
								int64 offset);

typedef struct RecordSplitter RecordSplitter;

/* How CSV bodies are written; records_csv_defaults() gives RFC 4180's. */
typedef struct RecordCsvOptions
{
	char		delimiter;
	char		quote;
	char	   *null_string;	/* unquoted text read as null; NULL: an
								 * empty unquoted field */
	bool		header;			/* the first row names the columns */
	List	   *columns;		/* of char *: the names when !header */
} RecordCsvOptions;

extern RecordFormat records_parse_format(const char *format);
extern RecordPath *records_parse_path(const char *path, const char *what);

extern RecordSplitter *records_splitter_new(RecordFormat format,
											RecordPath *records,
											RecordCallback callback,
											void *arg);

/* The CSV settings of a stream's format_options (checked by options.c). */

/* Read CSV bodies as o says (the default is RFC 4180 with a header row). */
extern void records_set_csv(RecordSplitter *s, const RecordCsvOptions *o);

/* Ask for the scalar at path to be captured; returns its capture number. */
extern int	records_add_capture(RecordSplitter *s, RecordPath *path);

/* Start over for a new body (keeps the paths, drops the captures). */
extern void records_reset(RecordSplitter *s);

/*
 * Scan buf[0..len), which starts with the bytes kept from the previous call.
 * Returns how many leading bytes the caller may now drop.
 */
extern size_t records_feed(RecordSplitter *s, const char *buf, size_t len);

/* The body is complete: emit what is pending, raise if it was cut short. */
extern void records_finish(RecordSplitter *s, const char *buf, size_t len);

/* Captured scalar (strings unescaped), or NULL when absent or JSON null. */
extern const char *records_captured(RecordSplitter *s, int capture);

/*
 * The jsonb of a record (NUL-terminated JSON text), exactly as jsonb_in
 * would make it (records_jsonb.c).  from_body: the text is a body's UTF-8,
 * checked and converted first; else it is in the database's encoding.
 */
extern Jsonb *records_jsonb(const char *json, size_t len, bool from_body);

/* Records emitted since the last reset. */
extern int64 records_emitted(RecordSplitter *s);

#endif							/* ELT_RECORDS_H */

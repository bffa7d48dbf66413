/*
 * paging.h
 *	  What a page says about the end of its stream (src/paging.c): a digest
 *	  of its body, to see an API answer the same page again, and counts
 *	  stated in its headers.
 */
#ifndef ELT_PAGING_H
#define ELT_PAGING_H

#include "postgres.h"

#include "http.h"
#include "utils/hsearch.h"

/* A running digest of a body, the same however its bytes were split. */
typedef struct PageDigest
{
	uint64		h;
	uint64		carry;			/* bytes not yet mixed in */
	int			ncarry;
	int64		len;
} PageDigest;

extern void page_digest_init(PageDigest *d);
extern void page_digest_add(PageDigest *d, const char *data, size_t len);
extern bool page_digest_equal(const PageDigest *a, const PageDigest *b);

/*
 * A count stated in a response header (X-Total-Count, X-Total-Pages):
 * -1 when the header is absent; a value that is not a count is an error.
 */
extern int64 paging_header_count(HttpRequest *req, const char *name,
								 const char *stream);

/* Cursors and URLs followed: a repeated one is an error (the API loops). */
extern HTAB *paging_seen_new(MemoryContext cxt);
extern void paging_check_not_seen(HTAB *seen, uint64 seed, const char *stream, int pages,
								  const char *value, const char *what);

#endif							/* ELT_PAGING_H */

/*
 * paging.c
 *	  What a page says about the end of its stream: a digest of its body,
 *	  so that an API that answers a page past the end with the last page
 *	  again (json-server 1.x does) ends the stream instead of loading
 *	  duplicates forever, and the counts some APIs state in headers only.
 */
#include "postgres.h"

#include "common/hashfn.h"

#include "pg_elt.h"
#include "paging.h"
#include "redact.h"

#define DIGEST_MUL	UINT64CONST(0x9E3779B97F4A7C15)

/*
 * Mix one 64-bit word into a digest.
 */
static inline uint64
digest_mix(uint64 h, uint64 w)
{
	h ^= w * UINT64CONST(0xC2B2AE3D27D4EB4F);
	h = (h << 31) | (h >> 33);
	return h * DIGEST_MUL;
}

/*
 * A digest of nothing yet.
 */
void
page_digest_init(PageDigest *d)
{
	memset(d, 0, sizeof(*d));
	d->h = UINT64CONST(0x243F6A8885A308D3);
}

/*
 * Add a body's next bytes.  Words are taken from the body's own positions,
 * not from the pieces it arrived in, so two equal bodies have equal
 * digests whatever the network did; eight bytes per multiplication keep it
 * far cheaper than parsing them.
 */
void
page_digest_add(PageDigest *d, const char *data, size_t len)
{
	const char *p = data;
	const char *end = data + len;

	d->len += len;
	while (d->ncarry > 0 && d->ncarry < 8 && p < end)
		d->carry |= ((uint64) (unsigned char) *p++) << (8 * d->ncarry++);
	if (d->ncarry == 8)
	{
		d->h = digest_mix(d->h, d->carry);
		d->carry = 0;
		d->ncarry = 0;
	}
	while (end - p >= 8)
	{
		uint64		w;

		memcpy(&w, p, 8);
		d->h = digest_mix(d->h, w);
		p += 8;
	}
	while (p < end)
		d->carry |= ((uint64) (unsigned char) *p++) << (8 * d->ncarry++);
}

/*
 * Whether two bodies were the same (length and digest).
 */
bool
page_digest_equal(const PageDigest *a, const PageDigest *b)
{
	return a->len == b->len && a->h == b->h && a->carry == b->carry &&
		a->ncarry == b->ncarry;
}

/*
 * The count in a response header; -1 when absent.  A header that is there
 * but holds no count is an error rather than "unknown": the stream would
 * otherwise run to an empty page the API may never send.
 */
int64
paging_header_count(HttpRequest *req, const char *name, const char *stream)
{
	const char *v = http_response_header(req, name);
	char	   *end;
	long long	n;

	if (v == NULL)
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (end == v || *end != '\0' || errno != 0 || n < 0 || *v == '-' || *v == '+')
		ereport(ERROR,
				(errcode(ERRCODE_ELT_PARSE),
				 errmsg("header \"%s\" of a response of stream \"%s\" is not a count: \"%s\"",
						name, stream, redact_text(v)),
				 errhint("Check the pagination setting that names this header.")));
	return (int64) n;
}

/*
 * The set of cursors and URLs an extract has followed, in its memory
 * context.
 */
HTAB *
paging_seen_new(MemoryContext cxt)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(uint64);
	ctl.hcxt = cxt;
	return hash_create("pg_elt seen pages", 64, &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * Remember a cursor or URL; a repeated one means the API loops.  seed keeps
 * the values of different fan-out children apart (two children may well
 * be given the same cursor).
 */
void
paging_check_not_seen(HTAB *seen, uint64 seed, const char *stream, int pages,
					  const char *value, const char *what)
{
	uint64		h = hash_bytes_extended((const unsigned char *) value, strlen(value), seed);
	bool		found;

	hash_search(seen, &h, HASH_ENTER, &found);
	if (found)
		ereport(ERROR,
				(errcode(ERRCODE_ELT_PARSE),
				 errmsg("stream \"%s\" returned the same %s twice", stream, what),
				 errdetail("Page %d led back to a page already fetched; the API would loop forever.",
						   pages),
				 errhint("Check the pagination settings, or set max_pages.")));
}

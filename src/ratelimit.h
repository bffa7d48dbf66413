/*
 * ratelimit.h
 *	  Source-wide request rate limits, shared by every backend.
 */
#ifndef ELT_RATELIMIT_H
#define ELT_RATELIMIT_H

#include "postgres.h"

#include "datatype/timestamp.h"

/*
 * Reserve the next request slot of a source limited to rps requests per
 * second, across all sessions of this database.  Returns the time at
 * which the caller may start the request (now or later); the slot is the
 * caller's from then on.  Without shared memory (pg_elt not preloaded) the
 * limit holds within the calling extract only, and this returns now.
 */
extern TimestampTz ratelimit_reserve(const char *source, double rps, TimestampTz now);

#endif							/* ELT_RATELIMIT_H */

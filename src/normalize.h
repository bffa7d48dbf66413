/*
 * normalize.h
 *	  Typed landing: staged jsonb records into typed root and child tables
 *	  (elt.normalize).
 */
#ifndef ELT_NORMALIZE_H
#define ELT_NORMALIZE_H

#include "postgres.h"

/* In an extract's transaction, as the stream's owner, after its batch. */
extern void normalize_after_extract(int32 stream_id);

#endif							/* ELT_NORMALIZE_H */

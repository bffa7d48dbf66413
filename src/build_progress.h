/*
 * build_progress.h
 *	  The phase and rows done of the model build or export this backend
 *	  runs, in shared memory for elt.build_progress, and at DEBUG1 as it
 *	  goes.
 */
#ifndef ELT_BUILD_PROGRESS_H
#define ELT_BUILD_PROGRESS_H

#include "postgres.h"

#include "fmgr.h"

extern void build_progress_start(const char *function, const char *target);
extern void build_progress_phase(const char *phase);
extern void build_progress_rows(int64 rows);
extern void build_progress_bytes(int64 bytes);
extern void build_progress_end(void);

extern Datum elt_build_progress(PG_FUNCTION_ARGS);

#endif							/* ELT_BUILD_PROGRESS_H */

/*
 * step_output.h
 *	  What a pipeline step said: the INFO, NOTICE and WARNING messages an
 *	  attempt raised, and the first row of its last statement, masked of
 *	  secret values and capped in size, for elt.step_run.
 */
#ifndef ELT_STEP_OUTPUT_H
#define ELT_STEP_OUTPUT_H

#include "postgres.h"

#include "executor/spi.h"

/* Kept per attempt: at most this many messages of at most this length */
#define STEP_OUTPUT_MAX_MESSAGES 100
#define STEP_OUTPUT_MAX_LEN 1000

/*
 * Start keeping the messages of a step attempt.  Called outside the
 * attempt's transaction, before it starts.
 */
extern void step_output_begin(void);

/*
 * Stop keeping messages; returns them as a JSON array of {level, message}
 * (NULL when there were none), allocated in cxt.  Called after the
 * attempt's transaction ended, committed or not.
 */
extern char *step_output_end(MemoryContext cxt);

/*
 * The first row of a statement's result as "column=value, ..." text, with
 * the count of further rows, or NULL when it returned none; allocated in
 * cxt.  Called in the attempt's transaction, which knows the secret values
 * to mask.
 */
extern char *step_output_result(SPITupleTable *tuptable, uint64 processed,
								MemoryContext cxt);

#endif							/* ELT_STEP_OUTPUT_H */

/*
 * chaining.h
 *	  Pipelines that run after others: queuing their runs when a run of a
 *	  pipeline they name in "after" succeeds.
 */
#ifndef ELT_CHAINING_H
#define ELT_CHAINING_H

#include "postgres.h"

extern int	chaining_queue_after(int64 run_id);

#endif							/* ELT_CHAINING_H */

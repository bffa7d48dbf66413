/*
 * fact.h
 *	  Fact tables keyed by dimension surrogate keys (elt.merge_fact).
 */
#ifndef ELT_FACT_H
#define ELT_FACT_H

#include "postgres.h"

#include "fmgr.h"

extern Datum elt_merge_fact(PG_FUNCTION_ARGS);

#endif							/* ELT_FACT_H */

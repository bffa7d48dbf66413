/*
 * dimension.h
 *	  Slowly changing dimensions (elt.merge_dimension).
 */
#ifndef ELT_DIMENSION_H
#define ELT_DIMENSION_H

#include "postgres.h"

#include "fmgr.h"

extern Datum elt_merge_dimension(PG_FUNCTION_ARGS);

#endif							/* ELT_DIMENSION_H */

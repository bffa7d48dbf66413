/*
 * date_dimension.h
 *	  elt.create_date_dimension (src/date_dimension.c).
 */
#ifndef ELT_DATE_DIMENSION_H
#define ELT_DATE_DIMENSION_H

#include "postgres.h"

#include "fmgr.h"

extern PGDLLEXPORT Datum elt_create_date_dimension(PG_FUNCTION_ARGS);

#endif							/* ELT_DATE_DIMENSION_H */

/*
 * checks.h
 *	  Data-quality checks: keeping the result of a failed check even though
 *	  the check then raises an error that rolls its transaction back.
 */
#ifndef PG_ELT_CHECKS_H
#define PG_ELT_CHECKS_H

#include "postgres.h"

#include "fmgr.h"

extern PGDLLEXPORT Datum elt_keep_check_result(PG_FUNCTION_ARGS);

#endif							/* PG_ELT_CHECKS_H */

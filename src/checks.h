/*
 * checks.h
 *	  Data-quality checks: keeping the result of a failed check even though
 *	  the check then raises an error that rolls its transaction back.
 */
#ifndef PG_ELT_CHECKS_H
#define PG_ELT_CHECKS_H

#include "postgres.h"

extern PGDLLEXPORT void elt_keep_worker_main(Datum main_arg);

#endif							/* PG_ELT_CHECKS_H */

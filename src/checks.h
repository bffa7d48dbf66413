/*
 * checks.h
 *	  Data-quality checks: keeping the result of a failed check even though
 *	  the check then raises an error that rolls its transaction back.
 */
#ifndef PG_ELT_CHECKS_H
#define PG_ELT_CHECKS_H

#include "postgres.h"

/* SQLSTATE of a failed error-severity check (class EL, see pg_elt.h) */
#define ERRCODE_ELT_CHECK_FAILED	MAKE_SQLSTATE('E','L','0','5','2')

extern PGDLLEXPORT void elt_keep_worker_main(Datum main_arg);

#endif							/* PG_ELT_CHECKS_H */

/*
 * run_sql.h
 *	  SQL functions that run, trigger and cancel pipelines (src/run_sql.c).
 */
#ifndef ELT_RUN_SQL_H
#define ELT_RUN_SQL_H

#include "postgres.h"

#include "fmgr.h"

extern PGDLLEXPORT Datum elt_run_pipeline(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum elt_trigger(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum elt_cancel(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum elt_current_run(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum elt_check_command(PG_FUNCTION_ARGS);

#endif							/* ELT_RUN_SQL_H */

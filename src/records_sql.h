/*
 * records_sql.h
 *	  SQL functions of the record splitter (src/records_sql.c).
 */
#ifndef ELT_RECORDS_SQL_H
#define ELT_RECORDS_SQL_H

#include "postgres.h"

#include "fmgr.h"

extern PGDLLEXPORT Datum elt_split_records(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum elt_check_records_path(PG_FUNCTION_ARGS);

#endif							/* ELT_RECORDS_SQL_H */

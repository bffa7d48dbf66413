/*
 * http_sql.h
 *	  SQL-callable HTTP functions (elt.http and its shorthands).
 */
#ifndef ELT_HTTP_SQL_H
#define ELT_HTTP_SQL_H

#include "postgres.h"

#include "fmgr.h"

extern Datum elt_http(PG_FUNCTION_ARGS);
extern Datum elt_http_get(PG_FUNCTION_ARGS);
extern Datum elt_http_post(PG_FUNCTION_ARGS);

#endif							/* ELT_HTTP_SQL_H */

/*
 * pg_elt.h
 *	  Settings and entry points shared by the whole extension.
 */
#ifndef PG_ELT_H
#define PG_ELT_H

#include "postgres.h"

#define PG_ELT_VERSION "0.2.0"

/*
 * pg_elt's own SQLSTATEs, class "EL", for failures PostgreSQL has no code
 * for.  Listed in docs/http.md; callers may trap them by name of the code.
 */
#define ERRCODE_ELT_HTTP_TIMEOUT			MAKE_SQLSTATE('E','L','0','0','1')
#define ERRCODE_ELT_HTTP_CONNECT			MAKE_SQLSTATE('E','L','0','0','2')
#define ERRCODE_ELT_HTTP_TRANSFER			MAKE_SQLSTATE('E','L','0','0','3')
#define ERRCODE_ELT_HTTP_TOO_LARGE			MAKE_SQLSTATE('E','L','0','0','4')
#define ERRCODE_ELT_ADDRESS_REFUSED			MAKE_SQLSTATE('E','L','0','0','5')
#define ERRCODE_ELT_HTTP_REDIRECTS			MAKE_SQLSTATE('E','L','0','0','6')
#define ERRCODE_ELT_HTTP_STATUS				MAKE_SQLSTATE('E','L','0','0','7')
#define ERRCODE_ELT_PARSE					MAKE_SQLSTATE('E','L','0','0','8')
#define ERRCODE_ELT_RUN_FAILED				MAKE_SQLSTATE('E','L','0','5','0')
#define ERRCODE_ELT_RUN_CANCELLED			MAKE_SQLSTATE('E','L','0','5','1')
#define ERRCODE_ELT_CHECK_FAILED			MAKE_SQLSTATE('E','L','0','5','2')
#define ERRCODE_ELT_MODEL_GUARD				MAKE_SQLSTATE('E','L','0','6','0')

/* GUCs (pg_elt.c) */
extern char *elt_database;
extern int	elt_max_workers;
extern bool elt_scheduler_enabled;
extern bool elt_merge_in_memory;
extern int	elt_history_retention;	/* seconds */
extern int	elt_http_timeout;		/* milliseconds */
extern int	elt_max_response_size;	/* kilobytes */
extern char *elt_allowed_hosts;
extern bool elt_allow_private_networks;
extern char *elt_allowed_private_networks;
extern char *elt_user_agent;
extern char *elt_secret_key_file;
extern char *elt_secret_key_command;

#endif							/* PG_ELT_H */

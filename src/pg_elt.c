/*
 * pg_elt.c
 *	  Module entry point: settings and the registration of other parts.
 *
 * Settings are defined with the narrowest context that still lets the
 * people who need them change them: the ones that protect the server
 * (address guard, host list, response size) are superuser-only, the
 * scheduler's are read at start or on reload.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "pg_elt.h"
#include "netguard.h"
#include "redact.h"
#include "secret_key.h"
#include "secrets.h"
#include "scheduler.h"
#include "shmem.h"

PG_MODULE_MAGIC;

char	   *elt_database = NULL;
int			elt_max_workers = 4;
bool		elt_scheduler_enabled = true;
bool		elt_merge_in_memory = true;
int			elt_history_retention = 30 * 24 * 3600;
int			elt_http_timeout = 30000;
int			elt_max_response_size = 64 * 1024;
char	   *elt_allowed_hosts = NULL;
bool		elt_allow_private_networks = false;
char	   *elt_allowed_private_networks = NULL;
char	   *elt_user_agent = NULL;
char	   *elt_secret_key_file = NULL;
char	   *elt_secret_key_command = NULL;

void		_PG_init(void);

/*
 * Define the settings, then let each part install its hooks.  Background
 * workers are only registered when loaded by shared_preload_libraries.
 *
 * pg_elt also loads into a session of a server that does not preload it
 * (CREATE EXTENSION, extraction, transformations and checks work there),
 * where a PGC_POSTMASTER setting cannot be defined: PostgreSQL ends the
 * session with FATAL.  Settings of that context are therefore defined only
 * while shared_preload_libraries is processed; elsewhere pg_elt.database
 * stays NULL, and what needs the scheduler says that it needs preloading.
 */
void
_PG_init(void)
{
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("pg_elt.database",
								   "Database in which the pg_elt scheduler runs.",
								   NULL,
								   &elt_database,
								   "postgres",
								   PGC_POSTMASTER,
								   0,
								   NULL, NULL, NULL);

	DefineCustomIntVariable("pg_elt.max_workers",
							"Maximum number of pipeline runs executing at once.",
							NULL,
							&elt_max_workers,
							4, 1, 256,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_elt.scheduler_enabled",
							 "Whether the scheduler starts scheduled pipeline runs.",
							 "When off, nothing new is launched; definitions and history are kept.",
							 &elt_scheduler_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_elt.merge_in_memory",
							 "Whether merge_dimension classifies a full source against its current rows held in memory.",
							 "Used when the current rows fit in work_mem times hash_mem_multiplier; when off, or when they do not fit, a join of the query classifies.",
							 &elt_merge_in_memory,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pg_elt.history_retention",
							"How long run history is kept.",
							NULL,
							&elt_history_retention,
							30 * 24 * 3600, 60, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_elt.http_timeout",
							"Default timeout of one HTTP request.",
							"Applies to the whole request, redirects included; a call may pass its own.",
							&elt_http_timeout,
							30000, 1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_elt.max_response_size",
							"Largest response body elt.http accepts.",
							"Extraction streams responses and is not bound by this limit.",
							&elt_max_response_size,
							64 * 1024, 1, 1024 * 1024 - 1,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pg_elt.allowed_hosts",
							   "Comma-separated host names that HTTP requests may reach; empty allows all.",
							   "An entry \"*.example.com\" allows every subdomain of example.com.",
							   &elt_allowed_hosts,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_elt.allow_private_networks",
							 "Allow HTTP requests to loopback, private, link-local and multicast addresses.",
							 NULL,
							 &elt_allow_private_networks,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("pg_elt.allowed_private_networks",
							   "Private address ranges HTTP requests may reach while pg_elt.allow_private_networks is off.",
							   "A comma-separated list of addresses or CIDR ranges, such as \"10.20.0.0/16, 192.168.1.5\".",
							   &elt_allowed_private_networks,
							   "",
							   PGC_SUSET,
							   0,
							   netguard_check_networks, netguard_assign_networks, NULL);

	DefineCustomStringVariable("pg_elt.user_agent",
							   "User-Agent header sent with HTTP requests.",
							   NULL,
							   &elt_user_agent,
							   "pg_elt/" PG_ELT_VERSION,
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	/*
	 * The key secrets are encrypted under: server-wide, so that every
	 * session and worker reads the same keys, and superuser-only, including
	 * to look at (a command may carry a credential).  No default: one inside
	 * the data directory would put the key into every base backup next to
	 * the secrets it protects.
	 */
	DefineCustomStringVariable("pg_elt.secret_key_file",
							   "File holding the keys secrets are encrypted under, one per line, the current one first.",
							   "A relative path is relative to the data directory. Created with mode 0600 when missing.",
							   &elt_secret_key_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, secret_key_assign, NULL);

	DefineCustomStringVariable("pg_elt.secret_key_command",
							   "Shell command that prints the keys secrets are encrypted under, one per line, the current one first.",
							   "Used instead of pg_elt.secret_key_file; set only one of the two.",
							   &elt_secret_key_command,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, secret_key_assign, NULL);

	secrets_init();
	redact_init();
	shmem_init();
	scheduler_init();

	MarkGUCPrefixReserved("pg_elt");
}

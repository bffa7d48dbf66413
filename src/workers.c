/*
 * workers.c
 *	  Registering pg_elt's background workers.
 *
 * Every worker of pg_elt is registered here, so they all share the same
 * flags and start time and differ only in what makes them different: the
 * entry point, the names shown in pg_stat_activity and the server log,
 * and their arguments.  The launcher (scheduler.c) and sessions that run a
 * pipeline at once (runner.c) both start run workers, so starting one
 * lives here too rather than in either of them.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "utils/syscache.h"

#include "workers.h"

/*
 * Fill and register one worker.  With handle NULL it is a worker of server
 * start (from _PG_init under shared_preload_libraries), restarted after
 * spec->restart_secs; otherwise a dynamic worker, never restarted, and
 * false says that no background worker slot is free.
 */
bool
workers_register(const EltWorkerSpec *spec, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	Assert(spec->extra_size <= BGW_EXTRALEN);
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = handle == NULL ? spec->restart_secs : BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "pg_elt", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, spec->function, BGW_MAXLEN);
	strlcpy(worker.bgw_name, spec->name, BGW_MAXLEN);
	strlcpy(worker.bgw_type, spec->type, BGW_MAXLEN);
	worker.bgw_main_arg = spec->main_arg;
	if (spec->extra != NULL)
		memcpy(worker.bgw_extra, spec->extra, spec->extra_size);
	worker.bgw_notify_pid = spec->notify_pid;

	if (handle == NULL)
	{
		RegisterBackgroundWorker(&worker);
		return true;
	}
	return RegisterDynamicBackgroundWorker(&worker, handle);
}

/*
 * Why the owner of a pipeline cannot run it, or NULL when it can.  A run
 * worker connects as the owner, so the role must exist and be able to log
 * in.  Needs a transaction.
 */
const char *
workers_run_owner_problem(Oid owner)
{
	HeapTuple	tup;
	const char *problem = NULL;

	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(owner));
	if (!HeapTupleIsValid(tup))
		return psprintf("role with OID %u that owned the pipeline no longer exists", owner);
	if (!((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin)
		problem = psprintf("role \"%s\" owns the pipeline but cannot log in, and runs execute as the pipeline's owner",
						   NameStr(((Form_pg_authid) GETSTRUCT(tup))->rolname));
	ReleaseSysCache(tup);
	return problem;
}

/*
 * Register a run worker (runner.c's elt_run_worker_main).  Returns false
 * when no background worker slot is free.
 */
bool
workers_start_run(const RunWorkerArgs *args, pid_t notify_pid,
				  BackgroundWorkerHandle **handle)
{
	EltWorkerSpec spec = {0};
	char		name[BGW_MAXLEN];

	StaticAssertStmt(sizeof(RunWorkerArgs) <= BGW_EXTRALEN, "RunWorkerArgs too large");
	if (args->run_id != 0)
		snprintf(name, sizeof(name), "pg_elt run %lld", (long long) args->run_id);
	else
		snprintf(name, sizeof(name), "pg_elt manual run of pipeline %lld",
				 (long long) args->pipeline_id);
	spec.function = "elt_run_worker_main";
	spec.name = name;
	spec.type = "pg_elt run worker";
	spec.extra = args;
	spec.extra_size = sizeof(RunWorkerArgs);
	spec.notify_pid = notify_pid;
	return workers_register(&spec, handle);
}

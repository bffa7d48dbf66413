/*
 * build_progress.c
 *	  What a long model build or export is doing now: its function, target,
 *	  phase and the rows it has handled (and, for an export, the bytes it
 *	  has sent), for elt.build_progress (src/sql/75_observe.sql).
 *
 * PostgreSQL's own progress reports (pg_stat_progress_*) hold one command
 * per backend and name it for PostgreSQL's views; a build runs statements
 * that report their own (CREATE INDEX on a new target), which would erase
 * or be taken for ours.  So the report lives in a slot of pg_elt's shared
 * memory (shmem.c), one per backend, written only by its backend with the
 * changecount protocol of pgstat's activity entries, so writes never wait.
 * Without shared_preload_libraries there are no slots: the NOTICEs at DEBUG1
 * are still sent, and the view is empty.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "build_progress.h"
#include "shmem.h"

PG_FUNCTION_INFO_V1(elt_build_progress);

static bool callbacks_registered = false;
static bool building = false;
static SubTransactionId building_subid = InvalidSubTransactionId;
static bool exporting = false;	/* the report is elt.export's */

/*
 * This backend's slot, or NULL without shared memory (or for a process
 * without a backend id).
 */
static EltBuildSlot *
my_slot(void)
{
	if (elt_build_slots == NULL || MyBackendId == InvalidBackendId ||
		MyBackendId > MaxBackends)
		return NULL;
	return &elt_build_slots[MyBackendId - 1];
}

/*
 * Clear the slot: the build ended, failed, or the backend exits.
 */
static void
clear_slot(void)
{
	volatile EltBuildSlot *s = my_slot();

	building = false;
	if (s == NULL || s->pid == 0)
		return;
	s->changecount++;
	pg_write_barrier();
	s->pid = 0;
	pg_write_barrier();
	s->changecount++;
}

/*
 * A failed build leaves no report behind: the transaction's end clears it.
 */
static void
progress_xact_callback(XactEvent event, void *arg)
{
	if (building && (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT))
		clear_slot();
}

/*
 * Nor does one caught in a subtransaction (a PL/pgSQL exception block)
 * while its transaction goes on.
 */
static void
progress_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (building && event == SUBXACT_EVENT_ABORT_SUB && mySubid == building_subid)
		clear_slot();
}

/*
 * Nor does a backend that exits during a build.
 */
static void
progress_exit(int code, Datum arg)
{
	clear_slot();
}

/*
 * A build begins: show its function and target.  A build that calls
 * another (a model function in a source SELECT) takes the slot over.
 */
void
build_progress_start(const char *function, const char *target)
{
	volatile EltBuildSlot *s = my_slot();
	TimestampTz now = GetCurrentTimestamp();
	int			tlen;

	if (!callbacks_registered)
	{
		RegisterXactCallback(progress_xact_callback, NULL);
		RegisterSubXactCallback(progress_subxact_callback, NULL);
		before_shmem_exit(progress_exit, (Datum) 0);
		callbacks_registered = true;
	}
	building = true;
	building_subid = GetCurrentSubTransactionId();
	exporting = (strcmp(function, "export") == 0);
	if (exporting)
		ereport(DEBUG1, (errmsg("export to %s: start", target)));
	else
		ereport(DEBUG1, (errmsg("%s of %s: start", function, target)));
	if (s == NULL)
		return;
	/* a long target (an export's URL) is cut on a character boundary */
	tlen = pg_mbcliplen(target, strlen(target), sizeof(s->target) - 1);
	s->changecount++;
	pg_write_barrier();
	s->pid = MyProcPid;
	s->dboid = MyDatabaseId;
	s->userid = GetUserId();
	strlcpy((char *) s->function, function, sizeof(s->function));
	memcpy((char *) s->target, target, tlen);
	s->target[tlen] = '\0';
	strlcpy((char *) s->phase, "start", sizeof(s->phase));
	s->rows_done = 0;
	s->bytes_done = 0;
	s->started_at = now;
	s->phase_started_at = now;
	pg_write_barrier();
	s->changecount++;
}

/*
 * The build enters a phase (classify, close, insert, ...; for an export:
 * query, sending part N, completing).
 */
void
build_progress_phase(const char *phase)
{
	volatile EltBuildSlot *s = my_slot();

	if (!building)
		return;
	if (exporting)
		ereport(DEBUG1, (errmsg("export phase: %s", phase)));
	else
		ereport(DEBUG1, (errmsg("model build phase: %s", phase)));
	if (s == NULL || s->pid == 0)
		return;
	s->changecount++;
	pg_write_barrier();
	strlcpy((char *) s->phase, phase, sizeof(s->phase));
	s->phase_started_at = GetCurrentTimestamp();
	pg_write_barrier();
	s->changecount++;
}

/*
 * rows more rows handled: read from the source, or written.
 */
void
build_progress_rows(int64 rows)
{
	volatile EltBuildSlot *s = my_slot();

	if (!building || s == NULL || s->pid == 0)
		return;
	s->changecount++;
	pg_write_barrier();
	s->rows_done += rows;
	pg_write_barrier();
	s->changecount++;
}

/*
 * bytes more bytes sent (an export).
 */
void
build_progress_bytes(int64 bytes)
{
	volatile EltBuildSlot *s = my_slot();

	if (!building || s == NULL || s->pid == 0)
		return;
	s->changecount++;
	pg_write_barrier();
	s->bytes_done += bytes;
	pg_write_barrier();
	s->changecount++;
}

/*
 * The build finished.
 */
void
build_progress_end(void)
{
	if (building && exporting)
		ereport(DEBUG1, (errmsg("export: done")));
	else if (building)
		ereport(DEBUG1, (errmsg("model build: done")));
	clear_slot();
}

/*
 * elt._build_progress(): the builds and exports running now in this database, one row
 * each, of the roles the caller has the privileges of (all of them for
 * members of pg_monitor), as row-level security shows the history.
 */
Datum
elt_build_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		monitor = has_privs_of_role(GetUserId(), ROLE_PG_MONITOR);

	InitMaterializedSRF(fcinfo, 0);
	if (elt_build_slots == NULL)
		return (Datum) 0;
	for (int i = 0; i < MaxBackends; i++)
	{
		volatile EltBuildSlot *s = &elt_build_slots[i];
		EltBuildSlot copy;
		int			tries = 0;
		Datum		values[9];
		bool		nulls[9] = {0};

		for (;;)
		{
			uint32		before = s->changecount;

			pg_read_barrier();
			memcpy(&copy, (EltBuildSlot *) s, sizeof(copy));
			pg_read_barrier();
			if (before == s->changecount && (before & 1) == 0)
				break;
			if (++tries > 1000)
			{
				copy.pid = 0;
				break;
			}
			CHECK_FOR_INTERRUPTS();
		}
		if (copy.pid == 0 || copy.dboid != MyDatabaseId)
			continue;
		if (!monitor && !has_privs_of_role(GetUserId(), copy.userid))
			continue;
		copy.function[sizeof(copy.function) - 1] = '\0';
		copy.target[sizeof(copy.target) - 1] = '\0';
		copy.phase[sizeof(copy.phase) - 1] = '\0';
		values[0] = Int32GetDatum(copy.pid);
		values[1] = ObjectIdGetDatum(copy.userid);
		values[2] = CStringGetTextDatum(copy.function);
		values[3] = CStringGetTextDatum(copy.target);
		values[4] = CStringGetTextDatum(copy.phase);
		values[5] = Int64GetDatum(copy.rows_done);
		values[6] = TimestampTzGetDatum(copy.started_at);
		values[7] = TimestampTzGetDatum(copy.phase_started_at);
		/* 0.1.0's declaration of elt._build_progress has no bytes_done */
		values[8] = Int64GetDatum(copy.bytes_done);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * run_history.c
 *	  Ending runs in the history, exactly once, and keeping the history
 *	  bounded.
 *
 * A run ends in one of three places: its worker finishes it, elt.cancel()
 * cancels it, or the launcher finds that it lost its worker (a crash, a
 * restart, a worker that exited early) and fails it.  All three go
 * through run_history_finish, so that the run's last attempt ends with it
 * and listeners of channel elt_run hear of every end, once.
 *
 * Every statement here runs through internal_sql.c with search_path
 * pinned, as a role that may write history (the caller's business).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "internal_sql.h"
#include "pg_elt.h"
#include "run_history.h"
#include "shmem.h"

/* Kept plans of the statements that end every run */
static InternalSqlPlan finish_run_plan;
static InternalSqlPlan finish_steps_plan;

static TimestampTz last_prune = 0;

/*
 * Notifications of run ends held back by run_history_defer_notifications,
 * in TopMemoryContext: payload, then channel (NULL: elt_run only).
 */
static bool defer_notifications = false;
static List *deferred = NIL;

static void
forget_deferred(void)
{
	ListCell   *lc;

	foreach(lc, deferred)
		if (lfirst(lc) != NULL)
			pfree(lfirst(lc));
	list_free(deferred);
	deferred = NIL;
}

/*
 * Send the end of a run to listeners of channel elt_run (and of the
 * pipeline's own "notify" channel), as JSON.
 */
static void
notify_run_end(int64 run_id, const char *pipeline, const char *status,
			   const char *channel)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"run_id\": %lld, \"pipeline\": ", (long long) run_id);
	escape_json(&buf, pipeline);
	appendStringInfoString(&buf, ", \"status\": ");
	escape_json(&buf, status);
	appendStringInfoChar(&buf, '}');
	if (defer_notifications)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		deferred = lappend(deferred, pstrdup(buf.data));
		deferred = lappend(deferred,
						   (channel != NULL && channel[0] != '\0') ? pstrdup(channel) : NULL);
		MemoryContextSwitchTo(old);
		return;
	}
	Async_Notify("elt_run", buf.data);
	if (channel != NULL && channel[0] != '\0')
		Async_Notify(channel, buf.data);
}

/*
 * Hold back the notifications of the runs that run_history_finish ends
 * from now on (on) until run_history_send_notifications.  A transaction
 * that notifies takes one lock of the whole server from its pre-commit to
 * its end, its WAL flush included: run workers that end runs at the same
 * moment would flush one after another instead of together.  Turning it on
 * forgets what an aborted transaction held back.
 */
void
run_history_defer_notifications(bool on)
{
	if (on)
		forget_deferred();
	defer_notifications = on;
}

/*
 * Send the notifications held back, in a transaction of their own, after
 * the transaction that ended the runs committed: listeners hear of an end
 * that is durable and visible.  That transaction changes nothing, so its
 * commit need not wait for a flush.  Not in a transaction; on an error
 * (the notification queue is full) the caller goes on without them.
 */
void
run_history_send_notifications(void)
{
	MemoryContext old = CurrentMemoryContext;
	ListCell   *lc;

	defer_notifications = false;
	if (deferred == NIL)
		return;
	/* a cancel of the run that ended comes too late to stop this */
	HOLD_CANCEL_INTERRUPTS();
	PG_TRY();
	{
		StartTransactionCommand();
		/* a notifying transaction gets an XID: its commit need not wait */
		(void) set_config_option("synchronous_commit", "off", PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
		for (lc = list_head(deferred); lc != NULL; lc = lnext(deferred, lnext(deferred, lc)))
		{
			const char *payload = lfirst(lc);
			const char *channel = lfirst(lnext(deferred, lc));

			Async_Notify("elt_run", payload);
			if (channel != NULL)
				Async_Notify(channel, payload);
		}
		CommitTransactionCommand();
		MemoryContextSwitchTo(old);
	}
	PG_CATCH();
	{
		RESUME_CANCEL_INTERRUPTS();
		forget_deferred();
		PG_RE_THROW();
	}
	PG_END_TRY();
	RESUME_CANCEL_INTERRUPTS();
	forget_deferred();
}

/*
 * Move a run from from_status to its final status and tell listeners.
 * Runs with SPI connected, as a role that may write history.  Does
 * nothing when the run is no longer in from_status, so a run is finished
 * exactly once.
 */
void
run_history_finish(int64 run_id, const char *status, const char *error,
				   const char *from_status)
{
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', error ? ' ' : 'n', ' '};

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(status);
	values[2] = error ? CStringGetTextDatum(error) : (Datum) 0;
	values[3] = CStringGetTextDatum(from_status);
	internal_sql_exec_plan(&finish_run_plan, InvalidOid, "UPDATE elt.run r SET status = $2, "
					  "finished_at = pg_catalog.clock_timestamp(), error = $3 "
					  "FROM elt.pipeline p "
					  "WHERE r.run_id OPERATOR(pg_catalog.=) $1 "
					  "AND r.status OPERATOR(pg_catalog.=) $4 "
					  "AND p.pipeline_id OPERATOR(pg_catalog.=) r.pipeline_id "
					  "RETURNING r.pipeline, p.options OPERATOR(pg_catalog.->>) 'notify'",
					  4, types, values, nulls, false, SPI_OK_UPDATE_RETURNING);
	if (SPI_processed == 1)
	{
		char	   *pipeline = internal_sql_text(0, 1);
		char	   *channel = internal_sql_text(0, 2);

		/* an attempt cut short with its run (crash, restart) ends with it */
		internal_sql_exec_plan(&finish_steps_plan, InvalidOid, "UPDATE elt.step_run SET status = $2, "
						  "finished_at = pg_catalog.clock_timestamp(), error = $3 "
						  "WHERE run_id OPERATOR(pg_catalog.=) $1 "
						  "AND status OPERATOR(pg_catalog.=) 'running'",
						  3, types, values, nulls, false, SPI_OK_UPDATE);
		notify_run_end(run_id, pipeline, status, channel);
	}
}

/*
 * Fail the runs that lost their worker: 'running' with no live slot (the
 * server restarted, or the worker died), or the 'queued' runs in stopped
 * (run ids, int64 *) whose worker exited before taking them.  They are
 * never started again.  server_restarted says which of the two reasons a
 * running run is given: at the launcher's first pass no worker can have
 * survived.
 *
 * Otherwise a running run without a live slot is failed only when the pass
 * before saw it so too: at a fast shutdown the run workers and the launcher
 * are told to stop at the same moment, and a pass still under way when a
 * worker has gone must not give its run "the worker exited" (the next start
 * gives it "the server restarted").  Returns whether such a run is waiting
 * for the next pass, which should then come soon.
 */
static int64 *lost_seen;		/* in TopMemoryContext */
static int	nlost_seen;

static bool
was_lost_before(int64 run_id)
{
	int			i;

	for (i = 0; i < nlost_seen; i++)
		if (lost_seen[i] == run_id)
			return true;
	return false;
}

bool
run_history_fail_lost(List *stopped, bool server_restarted)
{
	ListCell   *lc;
	int			i;
	int			n;
	int64	   *ids;
	int64	   *lost;
	int			nlost = 0;

	internal_sql_exec("SELECT run_id FROM elt.run "
					  "WHERE status OPERATOR(pg_catalog.=) 'running'",
					  0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	n = SPI_processed;
	ids = palloc(sizeof(int64) * (n + 1));
	lost = palloc(sizeof(int64) * (n + 1));
	for (i = 0; i < n; i++)
		ids[i] = internal_sql_int64(i, 1, 0);
	for (i = 0; i < n; i++)
	{
		Oid			types[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(ids[i])};

		if (run_slot_is_live(ids[i], MyDatabaseId))
			continue;

		/*
		 * Most often the run ended after the list was read: look again
		 * with a fresh snapshot before waiting on the row of a run that
		 * its worker is ending right now.  A worker takes its slot before
		 * its run becomes 'running', so a run still 'running' now whose
		 * slot is gone now has lost its worker (or has just ended, which
		 * the finish sees and leaves alone).
		 */
		internal_sql_exec("SELECT 1 FROM elt.run WHERE run_id OPERATOR(pg_catalog.=) $1 "
						  "AND status OPERATOR(pg_catalog.=) 'running'",
						  1, types, values, NULL, false, SPI_OK_SELECT);
		if (SPI_processed != 1 || run_slot_is_live(ids[i], MyDatabaseId))
			continue;
		if (server_restarted)
			run_history_finish(ids[i], "failed",
							   "the server restarted while the run was in progress",
							   "running");
		else if (was_lost_before(ids[i]))
			run_history_finish(ids[i], "failed",
							   "the run worker exited before the run finished; see the server log",
							   "running");
		else
			lost[nlost++] = ids[i];
	}
	if (lost_seen)
		pfree(lost_seen);
	lost_seen = MemoryContextAlloc(TopMemoryContext, sizeof(int64) * (nlost + 1));
	memcpy(lost_seen, lost, sizeof(int64) * nlost);
	nlost_seen = nlost;
	foreach(lc, stopped)
	{
		int64		id = *(int64 *) lfirst(lc);

		run_history_finish(id, "failed",
						   "the run worker exited before starting the run; see the server log",
						   "queued");
	}
	return nlost > 0;
}

/*
 * Delete history older than pg_elt.history_retention, at most once a
 * minute.  (OPERATOR() binds like any other operator, tighter than a
 * comparison but left to right among its kind: hence the parentheses.)
 */
void
run_history_prune(TimestampTz now)
{
	Oid			types[1] = {FLOAT8OID};
	Datum		values[1] = {Float8GetDatum((double) elt_history_retention)};

	if (now - last_prune < 60 * USECS_PER_SEC)
		return;
	last_prune = now;
	internal_sql_exec("DELETE FROM elt.run WHERE finished_at OPERATOR(pg_catalog.<) "
					  "(pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $1))",
					  1, types, values, NULL, false, SPI_OK_DELETE);
	internal_sql_exec("DELETE FROM elt.check_result WHERE checked_at OPERATOR(pg_catalog.<) "
					  "(pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $1))",
					  1, types, values, NULL, false, SPI_OK_DELETE);
}

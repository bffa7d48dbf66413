/*
 * alerts.c
 *	  Alerts at the end of a run.
 *
 * A pipeline with the option alert_url gets a JSON message POSTed there
 * when a run fails, when it succeeds too with alert_on "always", and when
 * a run ends later than its sla after its due time.  The message has a
 * "text" field, so a Slack-style incoming webhook takes it unchanged, and
 * the run's facts as fields of their own.
 *
 * The request is made by the run's worker as the pipeline's owner,
 * through elt.http() run with internal_sql's scope: the address guard
 * applies, {{secret:NAME}} references in the URL and alert_headers are
 * substituted with the owner's secrets (another role's secret does not
 * exist for it), and every message made on the way is masked.  A failure
 * (transport error or a status other than 2xx) is retried twice, after
 * one and two seconds.  Every alert's outcome is kept in elt.alert,
 * owned like the run and under row-level security; what is kept is the
 * URL as written (references, not values) and the masked error.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "alerts.h"
#include "internal_sql.h"
#include "redact.h"

#define ALERT_ATTEMPTS 3
#define ALERT_FIRST_DELAY_MS 1000
#define ALERT_TIMEOUT "10 seconds"

typedef struct Alert
{
	char	   *event;			/* failure, success, sla */
	char	   *url;			/* as written */
	char	   *headers;		/* jsonb text */
	char	   *body;			/* the message */
} Alert;

/* One transaction of this file's, SPI connected, with a snapshot */
static void
alert_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
alert_commit(MemoryContext cxt)
{
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
}

/*
 * Which alerts the run calls for, with their messages.  Read as superuser:
 * the owner's run and pipeline.
 */
static List *
alerts_due(int64 run_id, MemoryContext cxt)
{
	InternalSqlScope st;
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(run_id)};
	List	   *alerts = NIL;
	int			i;

	alert_begin();
	internal_sql_begin(&st, BOOTSTRAP_SUPERUSERID);
	internal_sql_exec("WITH r AS ("
					  " SELECT r.run_id, r.pipeline, r.status, r.error, r.trigger, "
					  "  r.scheduled_at, r.started_at, r.finished_at, r.interval_start, r.interval_end, "
					  "  p.options OPERATOR(pg_catalog.->>) 'alert_url' AS url, "
					  "  COALESCE(p.options OPERATOR(pg_catalog.->) 'alert_headers', '{}') AS headers, "
					  "  COALESCE(p.options OPERATOR(pg_catalog.->>) 'alert_on', 'failure') AS alert_on, "
					  "  (p.options OPERATOR(pg_catalog.->>) 'sla')::pg_catalog.interval AS sla "
					  " FROM elt.run r JOIN elt.pipeline p "
					  "  ON p.pipeline_id OPERATOR(pg_catalog.=) r.pipeline_id "
					  " WHERE r.run_id OPERATOR(pg_catalog.=) $1 "
					  "  AND p.options OPERATOR(pg_catalog.?) 'alert_url'), "
					  "e AS ("
					  " SELECT r.*, 'failure' AS event FROM r "
					  "  WHERE r.status OPERATOR(pg_catalog.=) 'failed' "
					  " UNION ALL SELECT r.*, 'success' FROM r "
					  "  WHERE r.status OPERATOR(pg_catalog.=) 'succeeded' "
					  "  AND r.alert_on OPERATOR(pg_catalog.=) 'always' "
					  " UNION ALL SELECT r.*, 'sla' FROM r WHERE r.sla IS NOT NULL "
					  "  AND r.finished_at OPERATOR(pg_catalog.-) "
					  "   COALESCE(r.scheduled_at, r.started_at) OPERATOR(pg_catalog.>) r.sla) "
					  "SELECT e.event, e.url, e.headers::pg_catalog.text, "
					  " pg_catalog.jsonb_build_object("
					  "  'text', pg_catalog.format('pg_elt: run %s of pipeline \"%s\" %s%s', e.run_id, e.pipeline, "
					  "   CASE e.event WHEN 'sla' THEN pg_catalog.format('missed its SLA of %s (%s)', e.sla, e.status) "
					  "   ELSE e.status END, "
					  "   CASE WHEN e.error IS NOT NULL THEN ': ' OPERATOR(pg_catalog.||) e.error ELSE '' END), "
					  "  'event', e.event, 'run_id', e.run_id, 'pipeline', e.pipeline, 'status', e.status, "
					  "  'trigger', e.trigger, 'error', e.error, 'scheduled_at', e.scheduled_at, "
					  "  'started_at', e.started_at, 'finished_at', e.finished_at, "
					  "  'interval_start', e.interval_start, 'interval_end', e.interval_end)::pg_catalog.text "
					  "FROM e ORDER BY e.event",
					  1, types, values, NULL, false, SPI_OK_SELECT);
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		for (i = 0; i < (int) SPI_processed; i++)
		{
			Alert	   *a = palloc0(sizeof(Alert));

			a->event = internal_sql_text(i, 1);
			a->url = internal_sql_text(i, 2);
			a->headers = internal_sql_text(i, 3);
			a->body = internal_sql_text(i, 4);
			alerts = lappend(alerts, a);
		}
		MemoryContextSwitchTo(old);
	}
	internal_sql_end(&st);
	alert_commit(cxt);
	return alerts;
}

/*
 * One attempt: POST the message as the owner.  Returns the HTTP status, or
 * 0 with *error set when the request failed.
 */
static int
alert_attempt(Alert *a, Oid owner, MemoryContext cxt, char **error)
{
	volatile int status = 0;

	*error = NULL;
	alert_begin();
	PG_TRY();
	{
		InternalSqlScope st;
		Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
		Datum		values[3] = {CStringGetTextDatum(a->url), CStringGetTextDatum(a->headers),
		CStringGetTextDatum(a->body)};

		internal_sql_begin(&st, owner);
		internal_sql_exec("SELECT (elt.http('POST', $1, $2::pg_catalog.jsonb "
						  "OPERATOR(pg_catalog.||) '{\"Content-Type\": \"application/json\"}', "
						  "$3, '" ALERT_TIMEOUT "')).status",
						  3, types, values, NULL, false, SPI_OK_SELECT);
		status = internal_sql_int32(0, 1, 0);
		internal_sql_end(&st);
		alert_commit(cxt);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		/* masked while the transaction still knows the values substituted */
		redact_error_data(edata);
		AbortCurrentTransaction();
		MemoryContextSwitchTo(cxt);
		*error = pstrdup(edata->message);
		FreeErrorData(edata);
		QueryCancelPending = false;
	}
	PG_END_TRY();
	if (status != 0 && (status < 200 || status > 299))
		*error = psprintf("the webhook answered with status %d", status);
	return status;
}

/*
 * Keep the outcome of one alert.
 */
static void
record_alert(int64 run_id, Alert *a, bool sent, int attempts, int status,
			 const char *error, MemoryContext cxt)
{
	InternalSqlScope st;
	Oid			types[7] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, TEXTOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', status ? ' ' : 'n', error ? ' ' : 'n'};

	values[0] = Int64GetDatum(run_id);
	values[1] = CStringGetTextDatum(a->event);
	values[2] = CStringGetTextDatum(a->url);
	values[3] = CStringGetTextDatum(sent ? "sent" : "failed");
	values[4] = Int32GetDatum(attempts);
	values[5] = Int32GetDatum(status);
	values[6] = error ? CStringGetTextDatum(error) : (Datum) 0;
	alert_begin();
	internal_sql_begin(&st, BOOTSTRAP_SUPERUSERID);
	internal_sql_exec("INSERT INTO elt.alert (run_id, pipeline, owner, event, url, status, "
					  "attempts, http_status, error) "
					  "SELECT r.run_id, r.pipeline, r.owner, $2, $3, $4, $5, $6, $7 "
					  "FROM elt.run r WHERE r.run_id OPERATOR(pg_catalog.=) $1",
					  7, types, values, nulls, false, SPI_OK_INSERT);
	internal_sql_end(&st);
	alert_commit(cxt);
}

/*
 * Send the alerts a finished run calls for.  Called by the run's worker
 * after the run's end is committed, outside any transaction.
 */
void
alerts_after_run(int64 run_id, Oid owner)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "pg_elt alerts",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	List	   *alerts = alerts_due(run_id, cxt);
	ListCell   *lc;

	foreach(lc, alerts)
	{
		Alert	   *a = lfirst(lc);
		int			attempt;
		int			status = 0;
		char	   *error = NULL;
		long		delay = ALERT_FIRST_DELAY_MS;

		pgstat_report_activity(STATE_RUNNING, "pg_elt: sending an alert");
		for (attempt = 1; attempt <= ALERT_ATTEMPTS; attempt++)
		{
			status = alert_attempt(a, owner, cxt, &error);
			if (error == NULL)
				break;
			if (attempt == ALERT_ATTEMPTS)
				break;
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 delay, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			if (ProcDiePending)
				CHECK_FOR_INTERRUPTS();
			delay *= 2;
		}
		record_alert(run_id, a, error == NULL, Min(attempt, ALERT_ATTEMPTS), status, error, cxt);
		pgstat_report_activity(STATE_IDLE, "");
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

# The scheduler with a real preloaded server: schedules fire, runs execute
# as the owner, NOTIFY arrives, cancel stops a running step, overlap skip
# and queue, scheduler_enabled, and history after a restart and after a
# run worker is killed with SIGKILL.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('scheduler');
$node->init(extra => [ '--encoding=UTF8', '--no-locale' ]);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_elt'
pg_elt.database = 'postgres'
pg_elt.max_workers = 4
max_worker_processes = 32
restart_after_crash = on
});
$node->start;

# The launcher waits quietly for the extension, then picks it up.
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_elt scheduler'")
  or die "launcher did not start";
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_elt;
CREATE ROLE alice LOGIN;
CREATE TABLE public.hits (pipeline text, run bigint, who text, at timestamptz DEFAULT clock_timestamp());
GRANT INSERT, SELECT ON public.hits TO PUBLIC;
});
ok($node->safe_psql('postgres', 'SELECT elt.scheduler_pid() IS NOT NULL') eq 't',
	'scheduler running');

# 1. A 1-second pipeline runs at least 5 times in 6 seconds, as its owner.
my $t_tick = time;
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('tick', '1 second');
SELECT elt.add_step('tick', 'hit',
  $$INSERT INTO public.hits (pipeline, run, who) VALUES ('tick', elt.current_run(), current_user)$$);
});
$node->poll_query_until('postgres',
	"SELECT count(*) >= 5 FROM public.hits WHERE pipeline = 'tick'")
  or die "1-second pipeline did not run 5 times";
my $tick_secs = time - $t_tick;
$node->safe_psql('postgres', "SELECT elt.pause('tick')");
cmp_ok($tick_secs, '<=', 6,
	sprintf('1-second pipeline ran 5 times in %.1f seconds', $tick_secs));
is($node->safe_psql('postgres',
		"SELECT count(*) FROM public.hits WHERE pipeline = 'tick' AND who <> 'alice'"),
	'0', 'every run executed as the owner');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT scheduled_at FROM elt.run WHERE pipeline = 'tick'
  GROUP BY scheduled_at HAVING count(*) > 1) d}), '0', 'no fire time ran twice');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM elt.run WHERE pipeline = 'tick' AND trigger = 'schedule'
  AND status NOT IN ('succeeded', 'running', 'queued')}), '0', 'all scheduled runs succeeded');

# 2. NOTIFY on elt_run when a run ends, with the run id and status as JSON.
$node->safe_psql('postgres', q{
SELECT elt.create_pipeline('notified', NULL, '{"notify": "my_channel"}');
SELECT elt.add_step('notified', 's', 'SELECT 1');
});
my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN elt_run; LISTEN my_channel');
my $notified = $listener->query_safe("SELECT elt.trigger('notified')");
$node->poll_query_until('postgres',
	"SELECT status = 'succeeded' FROM elt.run WHERE run_id = $notified")
  or die "triggered run did not succeed";
# psql prints the notifications that have arrived after its next command
my $stdout = '';
for (my $i = 0; $i < 10 * $PostgreSQL::Test::Utils::timeout_default; $i++)
{
	$stdout .= $listener->query_safe('SELECT 1');
	last if $stdout =~ /"elt_run"/ && $stdout =~ /"my_channel"/;
	usleep(100_000);
}
$listener->quit;
like($stdout, qr/Asynchronous notification "elt_run" with payload "\{"run_id": \d+, "pipeline": "notified", "status": "succeeded"\}"/,
	'NOTIFY elt_run arrives with the run id and status');
like($stdout, qr/Asynchronous notification "my_channel"/, "the pipeline's own channel too");

# 3. elt.cancel stops a running step at once.
$node->safe_psql('postgres', q{
SELECT elt.create_pipeline('long');
SELECT elt.add_step('long', 'sleep', 'SELECT pg_sleep(60)');
SELECT elt.add_step('long', 'after', 'SELECT 1', '{sleep}');
});
my $run = $node->safe_psql('postgres', "SELECT elt.trigger('long')");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'")
  or die "long step did not start";
my $t0 = time;
is($node->safe_psql('postgres', "SELECT elt.cancel($run)"), 't', 'cancel accepted');
$node->poll_query_until('postgres', "SELECT status = 'cancelled' FROM elt.run WHERE run_id = $run")
  or die "run not cancelled";
cmp_ok(time - $t0, '<', 10, 'cancel took effect at once');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'"),
	'0', 'the statement is no longer running');
is($node->safe_psql('postgres',
		"SELECT string_agg(step || ':' || status, ',' ORDER BY step) FROM elt.step_run WHERE run_id = $run"),
	'after:skipped,sleep:cancelled', 'step cancelled, dependent skipped');
is($node->safe_psql('postgres', "SELECT elt.cancel($run)"), 'f', 'a finished run cannot be cancelled again');

# 4. overlap: skip records skipped runs and never runs two at once; queue
# runs them one after another.
$node->safe_psql('postgres', q{
SELECT elt.create_pipeline('skipper', '1 second', '{"overlap": "skip"}');
SELECT elt.add_step('skipper', 's', $$INSERT INTO public.hits (pipeline) VALUES ('skipper'); SELECT pg_sleep(2.5)$$);
SELECT elt.create_pipeline('queuer', '1 second', '{"overlap": "queue"}');
SELECT elt.add_step('queuer', 's', $$INSERT INTO public.hits (pipeline) VALUES ('queuer'); SELECT pg_sleep(1.5)$$);
});
# until both have started runs one after another and met their overlap
$node->poll_query_until('postgres', q{
SELECT (SELECT count(*) FROM elt.run WHERE pipeline = 'skipper' AND status = 'skipped') >= 2
   AND (SELECT count(*) FROM elt.run WHERE pipeline = 'skipper' AND started_at IS NOT NULL) >= 2
   AND (SELECT count(*) FROM elt.run WHERE pipeline = 'queuer' AND status = 'queued') >= 1
   AND (SELECT count(*) FROM elt.run WHERE pipeline = 'queuer' AND started_at IS NOT NULL) >= 3})
  or die "overlapping schedules did not skip and queue";
$node->safe_psql('postgres', "SELECT elt.pause('skipper'); SELECT elt.pause('queuer')");
cmp_ok($node->safe_psql('postgres',
		"SELECT count(*) FROM elt.run WHERE pipeline = 'skipper' AND status = 'skipped'"),
	'>=', 2, 'overlap skip records skipped runs');
like($node->safe_psql('postgres',
		"SELECT error FROM elt.run WHERE pipeline = 'skipper' AND status = 'skipped' LIMIT 1"),
	qr/^run \d+ was still in progress$/, 'a skipped run says why');
cmp_ok($node->safe_psql('postgres',
		"SELECT count(*) FROM elt.run WHERE pipeline = 'queuer' AND status = 'queued'"),
	'>=', 1, 'overlap queue keeps due runs queued');
# no two runs of one pipeline overlapped in time
is($node->safe_psql('postgres', q{
SELECT count(*) FROM elt.run a JOIN elt.run b ON a.pipeline = b.pipeline AND a.run_id < b.run_id
WHERE a.pipeline IN ('skipper', 'queuer') AND a.started_at IS NOT NULL AND b.started_at IS NOT NULL
  AND b.started_at < coalesce(a.finished_at, 'infinity')}), '0', 'runs of a pipeline never overlap');
# cancel what is left
$node->safe_psql('postgres', q{
SELECT elt.cancel(run_id) FROM elt.run WHERE pipeline IN ('skipper', 'queuer') AND status IN ('queued', 'running')});
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM elt.run WHERE status IN ('queued', 'running')")
  or die "runs still active";

# 5. pg_elt.scheduler_enabled = off stops launching without losing state.
my $reload_at = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
$node->safe_psql('postgres', q{
ALTER SYSTEM SET pg_elt.scheduler_enabled = off; SELECT pg_reload_conf();});
# the launcher has woken since the reload (a reload sets its latch)
$node->poll_query_until('postgres', qq{
SELECT current_setting('pg_elt.scheduler_enabled') = 'off'
   AND EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pg_elt scheduler'
               AND state = 'idle' AND state_change > '$reload_at')})
  or die "launcher did not reload";
$node->safe_psql('postgres', "SELECT elt.resume('tick')");
my $before = $node->safe_psql('postgres', "SELECT count(*) FROM elt.run WHERE pipeline = 'tick'");
# until the resumed schedule has been due, unserved, for 2 seconds
$node->poll_query_until('postgres', q{
SELECT next_run_at < clock_timestamp() - interval '2 seconds' FROM elt.pipeline WHERE name = 'tick'})
  or die "the schedule of tick moved while the scheduler was disabled";
is($node->safe_psql('postgres', "SELECT count(*) FROM elt.run WHERE pipeline = 'tick'"),
	$before, 'no runs while the scheduler is disabled');
$node->safe_psql('postgres', q{
ALTER SYSTEM RESET pg_elt.scheduler_enabled; SELECT pg_reload_conf();});
$node->poll_query_until('postgres',
	"SELECT count(*) > $before FROM elt.run WHERE pipeline = 'tick' AND status = 'succeeded'")
  or die "no runs after re-enabling";
# catchup is off: the seconds missed while disabled gave one run, not a burst
cmp_ok($node->safe_psql('postgres',
		"SELECT count(*) FROM elt.run WHERE pipeline = 'tick' AND run_id > 0 AND trigger = 'catchup'"),
	'==', 0, 'no catchup burst without catchup');
$node->safe_psql('postgres', "SELECT elt.pause('tick')");

# 6. kill -9 of a run worker: the server restarts, the run is failed with
# the reason and never started again.
$run = $node->safe_psql('postgres', "SELECT elt.trigger('long')");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'")
  or die "long step did not start";
my $pid = $node->safe_psql('postgres', "SELECT pid FROM elt.run WHERE run_id = $run");
kill 'KILL', $pid;
$node->poll_query_until('postgres', "SELECT status = 'failed' FROM elt.run WHERE run_id = $run")
  or die "killed run not failed";
like($node->safe_psql('postgres', "SELECT error FROM elt.run WHERE run_id = $run"),
	qr/server restarted while the run was in progress/, 'killed run failed with the reason');
# a run triggered afterwards has been started and finished: the launcher
# has made its later passes
my $later = $node->safe_psql('postgres', "SELECT elt.trigger('notified')");
$node->poll_query_until('postgres', "SELECT status = 'succeeded' FROM elt.run WHERE run_id = $later")
  or die "a run after the crash did not succeed";
is($node->safe_psql('postgres', "SELECT count(*) FROM elt.step_run WHERE run_id = $run AND attempt > 0"),
	'1', 'the killed run was not started again');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'"),
	'0', 'nothing runs the step again');

# 7. A restart during a run: same, and scheduling resumes afterwards.
$run = $node->safe_psql('postgres', "SELECT elt.trigger('long')");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'")
  or die "long step did not start";
$node->restart;
$node->poll_query_until('postgres', "SELECT status = 'failed' FROM elt.run WHERE run_id = $run")
  or die "interrupted run not failed";
like($node->safe_psql('postgres', "SELECT error FROM elt.run WHERE run_id = $run"),
	qr/server restarted/, 'interrupted run failed with the reason');
$before = $node->safe_psql('postgres', "SELECT count(*) FROM elt.run WHERE pipeline = 'tick'");
$node->safe_psql('postgres', "SELECT elt.resume('tick')");
$node->poll_query_until('postgres',
	"SELECT count(*) >= $before + 2 FROM elt.run WHERE pipeline = 'tick' AND status = 'succeeded'")
  or die "schedule did not resume after restart";
pass('schedules fire again after a restart');

# 7a. A run worker terminated on its own (the server keeps running): its
# run is failed as having lost its worker, by a later pass of the launcher
# than the one that first sees it gone (a pass under way at a fast
# shutdown must not give this reason, as section 7 shows).
$run = $node->safe_psql('postgres', "SELECT elt.trigger('long')");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'")
  or die "long step did not start";
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'");
$node->poll_query_until('postgres', "SELECT status = 'failed' FROM elt.run WHERE run_id = $run")
  or die "run of a terminated worker not failed";
like($node->safe_psql('postgres', "SELECT error FROM elt.run WHERE run_id = $run"),
	qr/the run worker exited before the run finished/, 'a terminated worker\'s run failed with the reason');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM elt.run WHERE pipeline = 'long' AND status IN ('queued', 'running')"),
	'0', 'nothing of it is left running or queued');

# 7b. A step's commit is not flushed on its own: the worker's next durable
# history commit (here the start of the next step) flushes it.  Killed
# during the second step, the first step's change and its end survive
# the crash, the run is failed and nothing is executed again.
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('flushed');
SELECT elt.add_step('flushed', 'a',
  $$INSERT INTO public.hits (pipeline, run, who)
    VALUES ('flushed', elt.current_run(), current_setting('synchronous_commit'))$$);
SELECT elt.add_step('flushed', 'b', 'SELECT pg_sleep(60)', '{a}');
});
$run = $node->safe_psql('postgres', "SELECT elt.trigger('flushed')");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'")
  or die "second step of flushed did not start";
$pid = $node->safe_psql('postgres', "SELECT pid FROM elt.run WHERE run_id = $run");
kill 'KILL', $pid;
$node->poll_query_until('postgres', "SELECT status = 'failed' FROM elt.run WHERE run_id = $run")
  or die "killed run of flushed not failed";
is($node->safe_psql('postgres',
		"SELECT count(*) || ' ' || min(who) FROM public.hits WHERE pipeline = 'flushed' AND run = $run"),
	'1 off', "the first step's change survived the crash, committed without its own flush");
is($node->safe_psql('postgres', qq{
SELECT string_agg(step || ' ' || attempt || ' ' || status || ' ' || (finished_at IS NOT NULL), ', ' ORDER BY step)
FROM elt.step_run WHERE run_id = $run}),
	'a 1 succeeded true, b 1 failed true', 'the first step ended, the second failed with the run');
like($node->safe_psql('postgres', "SELECT error FROM elt.run WHERE run_id = $run"),
	qr/server restarted while the run was in progress/, 'the run failed with the reason');
$later = $node->safe_psql('postgres', "SELECT elt.trigger('notified')");
$node->poll_query_until('postgres', "SELECT status = 'succeeded' FROM elt.run WHERE run_id = $later")
  or die "a run after the second crash did not succeed";
is($node->safe_psql('postgres',
		"SELECT count(*) FROM public.hits WHERE pipeline = 'flushed'"),
	'1', 'the killed run was not started again');

# An owner's remote setting of synchronous_commit is kept for its steps.
$node->safe_psql('postgres', q{
CREATE ROLE carol LOGIN;
ALTER ROLE carol SET synchronous_commit = remote_apply;
SET ROLE carol;
SELECT elt.create_pipeline('carols');
SELECT elt.add_step('carols', 'a',
  $$INSERT INTO public.hits (pipeline, run, who)
    VALUES ('carols', elt.current_run(), current_setting('synchronous_commit'))$$);
SELECT elt.run_pipeline('carols');
});
is($node->safe_psql('postgres', "SELECT who FROM public.hits WHERE pipeline = 'carols'"),
	'remote_apply', "a step keeps its owner's remote_apply");

# 8. A role cannot see or change another role's pipelines or runs.
$node->safe_psql('postgres', 'CREATE ROLE bob LOGIN');
is($node->safe_psql('postgres', "SET ROLE bob; SELECT count(*) FROM elt.pipeline"), '0',
	'bob sees no pipelines');
is($node->safe_psql('postgres', "SET ROLE bob; SELECT count(*) FROM elt.run"), '0',
	'bob sees no runs');
my ($rc, $out, $err) = $node->psql('postgres', "SET ROLE bob; SELECT elt.trigger('tick')");
like($err, qr/pipeline "tick" does not exist/, "bob cannot trigger alice's pipeline");
($rc, $out, $err) = $node->psql('postgres', "SET ROLE bob; SELECT elt.pause('tick')");
like($err, qr/pipeline "tick" does not exist/, "bob cannot pause alice's pipeline");
my $alice_run = $node->safe_psql('postgres', "SELECT max(run_id) FROM elt.run WHERE pipeline = 'tick'");
($rc, $out, $err) = $node->psql('postgres', "SET ROLE bob; SELECT elt.cancel($alice_run)");
like($err, qr/run $alice_run does not exist/, "bob cannot cancel alice's run");
is($node->safe_psql('postgres', "SET ROLE alice; SELECT count(*) > 0 FROM elt.run WHERE pipeline = 'tick'"),
	't', 'alice sees her runs');

$node->safe_psql('postgres', "SELECT elt.pause('tick')");
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal 11/, 'no crash in the server log');
$node->stop;
done_testing();

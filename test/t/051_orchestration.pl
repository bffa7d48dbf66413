# Orchestration with a real preloaded server: independent steps of a DAG
# in parallel (max_parallel), data intervals of scheduled, manual and
# backfill runs, pipelines that run after others, cancel of a parallel
# run, and what another role can do with all of it.
use strict;
use warnings;
use EltTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = EltTest::new_node('orchestration', qq{
pg_elt.max_workers = 4
});
$node->safe_psql('postgres', q{
CREATE ROLE alice LOGIN;
CREATE ROLE mallory LOGIN;
CREATE TABLE public.seen (pipeline text, run bigint, step text, who text,
  interval_start timestamptz, interval_end timestamptz);
GRANT INSERT, SELECT ON public.seen TO PUBLIC;
});

# 1. A diamond a -> (b, c) -> d: b and c overlap in time, d starts after
#    both, every step as the owner.
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('diamond', NULL, '{"max_parallel": 4}');
SELECT elt.add_step('diamond', 'a', $$INSERT INTO public.seen VALUES ('diamond', elt.current_run(), 'a', current_user)$$);
SELECT elt.add_step('diamond', 'b', $$SELECT pg_sleep(1); INSERT INTO public.seen VALUES ('diamond', elt.current_run(), 'b', current_user)$$, '{a}');
SELECT elt.add_step('diamond', 'c', $$SELECT pg_sleep(1); INSERT INTO public.seen VALUES ('diamond', elt.current_run(), 'c', current_user)$$, '{a}');
SELECT elt.add_step('diamond', 'd', $$INSERT INTO public.seen VALUES ('diamond', elt.current_run(), 'd', current_user)$$, '{b,c}');
});
my $run = $node->safe_psql('postgres', q{SET ROLE alice; SELECT elt.run_pipeline('diamond')});
like($run, qr/^\d+$/, 'diamond run succeeded');
is($node->safe_psql('postgres', qq{
SELECT b.started_at < c.finished_at AND c.started_at < b.finished_at
FROM elt.step_run b, elt.step_run c
WHERE b.run_id = $run AND b.step = 'b' AND c.run_id = $run AND c.step = 'c'}),
	't', 'the two middle steps overlap in time');
is($node->safe_psql('postgres', qq{
SELECT d.started_at >= greatest(b.finished_at, c.finished_at)
   AND b.started_at >= a.finished_at AND c.started_at >= a.finished_at
FROM elt.step_run a, elt.step_run b, elt.step_run c, elt.step_run d
WHERE a.run_id = $run AND a.step = 'a' AND b.run_id = $run AND b.step = 'b'
  AND c.run_id = $run AND c.step = 'c' AND d.run_id = $run AND d.step = 'd'}),
	't', 'each step started after its dependencies finished');
is($node->safe_psql('postgres', qq{
SELECT string_agg(step || ':' || who || ':' || (run = $run), ',' ORDER BY step)
FROM public.seen WHERE pipeline = 'diamond'}),
	'a:alice:true,b:alice:true,c:alice:true,d:alice:true',
	'every step ran once, as the owner, knowing its run');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM elt.step_run WHERE run_id = $run AND status = 'succeeded' AND attempt = 1}),
	'4', 'one succeeded attempt per step');

# 2. A failed middle step: its dependent is skipped, the other branch runs,
#    retries as before.
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('forked', NULL, '{"max_parallel": 2, "retry_delay": "100 ms"}');
SELECT elt.add_step('forked', 'root', 'SELECT 1');
SELECT elt.add_step('forked', 'bad', 'SELECT 1/0', '{root}', retries => 1);
SELECT elt.add_step('forked', 'good', 'SELECT pg_sleep(0.3)', '{root}');
SELECT elt.add_step('forked', 'after_bad', 'SELECT 1', '{bad}');
SELECT elt.add_step('forked', 'after_good', 'SELECT 1', '{good}');
});
my ($rc, $out, $err) = $node->psql('postgres', q{SET ROLE alice; SELECT elt.run_pipeline('forked')});
like($err, qr/step "bad" failed: division by zero/, 'forked run failed naming the step');
is($node->safe_psql('postgres', q{
SELECT string_agg(step || ':' || attempt || ':' || status, ',' ORDER BY step, attempt)
FROM elt.step_run WHERE run_id = (SELECT max(run_id) FROM elt.run WHERE pipeline = 'forked')}),
	'after_bad:0:skipped,after_good:1:succeeded,bad:1:failed,bad:2:failed,good:1:succeeded,root:1:succeeded',
	'dependent of the failed step skipped, the other branch ran, the retry happened');

# 3. Cancel of a parallel run stops both branches.
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('long', NULL, '{"max_parallel": 2}');
SELECT elt.add_step('long', 'x', 'SELECT pg_sleep(60)');
SELECT elt.add_step('long', 'y', 'SELECT pg_sleep(60)');
SELECT elt.add_step('long', 'z', 'SELECT 1', '{x,y}');
});
my $long = $node->safe_psql('postgres', q{SET ROLE alice; SELECT elt.trigger('long')});
$node->poll_query_until('postgres', qq{
SELECT count(*) = 2 FROM elt.step_run WHERE run_id = $long AND status = 'running'})
  or die "parallel steps did not start";
is($node->safe_psql('postgres', qq{SELECT elt.cancel($long)}), 't', 'cancel of a parallel run');
$node->poll_query_until('postgres', qq{
SELECT status = 'cancelled' FROM elt.run WHERE run_id = $long})
  or die "parallel run not cancelled";
is($node->safe_psql('postgres', qq{
SELECT string_agg(step || ':' || status, ',' ORDER BY step) FROM elt.step_run WHERE run_id = $long}),
	'x:cancelled,y:cancelled,z:skipped', 'both running branches cancelled, the join skipped');
$node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_elt step worker'})
  or die "step workers left behind";
pass('no step worker is left after the cancel');

# a run worker terminated in the middle of a parallel run stops its step
# workers, and the run is failed as lost, never started again
my $lost = $node->safe_psql('postgres', q{SET ROLE alice; SELECT elt.trigger('long')});
$node->poll_query_until('postgres', qq{
SELECT count(*) = 2 FROM elt.step_run WHERE run_id = $lost AND status = 'running'})
  or die "parallel steps did not start";
$node->safe_psql('postgres', qq{SELECT pg_terminate_backend(pid) FROM elt.run WHERE run_id = $lost});
$node->poll_query_until('postgres', qq{SELECT status = 'failed' FROM elt.run WHERE run_id = $lost})
  or die "run of a terminated worker not failed";
$node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_elt step worker'})
  or die "step workers of a terminated run worker left behind";
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM elt.step_run WHERE run_id = $lost AND status = 'running'}), '0',
	'terminated run: step workers stopped, no attempt left running');

# 4. Intervals: a manual run with and without one, a scheduled run, a
#    backfill of three past intervals, each run seeing its own.
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('daily', '@daily');
SELECT elt.add_step('daily', 'load', $$INSERT INTO public.seen
  SELECT 'daily', elt.current_run(), 'load', current_user, i.interval_start, i.interval_end
  FROM elt.run_interval() i$$);
});
my $m = $node->safe_psql('postgres', q{SET ROLE alice;
SELECT elt.run_pipeline('daily', '2026-01-10 00:00+00', '2026-01-11 00:00+00')});
is($node->safe_psql('postgres', qq{
SELECT interval_start || ' ' || interval_end FROM public.seen WHERE run = $m}),
	'2026-01-10 00:00:00+00 2026-01-11 00:00:00+00', 'a manual run sees the interval it was given');
$m = $node->safe_psql('postgres', q{SET ROLE alice; SELECT elt.run_pipeline('daily')});
is($node->safe_psql('postgres', qq{
SELECT coalesce(interval_start::text, 'none') FROM public.seen WHERE run = $m}),
	'none', 'a manual run without an interval sees none');
is($node->safe_psql('postgres', q{SELECT elt.run_interval() IS NULL}), 't',
	'elt.run_interval() outside a run is null');

is($node->safe_psql('postgres', q{SET ROLE alice;
SELECT elt.backfill('daily', '2026-02-01 00:00+00', '2026-02-04 00:00+00')}), '3',
	'backfill of three days queues three runs');
$node->poll_query_until('postgres', q{
SELECT count(*) = 3 FROM elt.run WHERE pipeline = 'daily' AND trigger = 'backfill' AND status = 'succeeded'})
  or die "backfill runs did not succeed";
is($node->safe_psql('postgres', q{
SELECT string_agg(s.interval_start::date || '/' || s.interval_end::date, ',' ORDER BY r.run_id)
FROM elt.run r JOIN public.seen s ON s.run = r.run_id
WHERE r.pipeline = 'daily' AND r.trigger = 'backfill'
  AND s.interval_start = r.interval_start AND s.interval_end = r.interval_end}),
	'2026-02-01/2026-02-02,2026-02-02/2026-02-03,2026-02-03/2026-02-04',
	'each backfill run saw its own interval, oldest first');
is($node->safe_psql('postgres', q{
SELECT bool_and(a.finished_at <= b.started_at) FROM
 (SELECT run_id, started_at, finished_at, lead(run_id) OVER (ORDER BY run_id) nxt
  FROM elt.run WHERE pipeline = 'daily' AND trigger = 'backfill') a
 JOIN elt.run b ON b.run_id = a.nxt}), 't', 'backfill runs executed one after another');

# a scheduled run covers previous to this fire time
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('every2', '2 seconds');
SELECT elt.add_step('every2', 'load', $$INSERT INTO public.seen
  SELECT 'every2', elt.current_run(), 'load', current_user, i.interval_start, i.interval_end
  FROM elt.run_interval() i$$);
});
$node->poll_query_until('postgres', q{SELECT count(*) >= 1 FROM public.seen WHERE pipeline = 'every2'})
  or die "scheduled run did not run";
$node->safe_psql('postgres', q{SELECT elt.pause('every2')});
is($node->safe_psql('postgres', q{
SELECT bool_and(s.interval_end = r.scheduled_at AND s.interval_end - s.interval_start = '2 seconds')
FROM public.seen s JOIN elt.run r ON r.run_id = s.run WHERE s.pipeline = 'every2'}),
	't', 'a scheduled run covers the previous to its own fire time');

# bad input
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE alice;
SELECT elt.backfill('daily', '2026-02-04', '2026-02-01')});
like($err, qr/backfill "from" .* is not before "to"/, 'backfill: from after to refused');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE alice;
SELECT elt.backfill('diamond', '2026-02-01', '2026-02-04')});
like($err, qr/pipeline "diamond" has no schedule/, 'backfill: pipeline without schedule refused');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE alice;
SELECT elt.backfill('every2', '2000-01-01', '2026-01-01')});
like($err, qr/would queue more than 1000 runs/, 'backfill: too many runs refused');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE alice;
SELECT elt.trigger('daily', '2026-01-02', NULL)});
like($err, qr/needs both interval_start and interval_end/, 'trigger: half an interval refused');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE alice;
SELECT elt.run_pipeline('daily', '2026-01-02', '2026-01-01')});
like($err, qr/interval_start .* is after interval_end/, 'run_pipeline: reversed interval refused');

# catchup: the missed fire times get consecutive intervals
$node->safe_psql('postgres', q{
ALTER SYSTEM SET pg_elt.scheduler_enabled = off;
SELECT pg_reload_conf();
});
sleep 1;
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('caught', '1 second', '{"catchup": true, "overlap": "queue"}');
SELECT elt.add_step('caught', 'x', 'SELECT 1');
});
sleep 4;
$node->safe_psql('postgres', q{
ALTER SYSTEM RESET pg_elt.scheduler_enabled;
SELECT pg_reload_conf();
});
$node->poll_query_until('postgres', q{
SELECT count(*) >= 3 FROM elt.run WHERE pipeline = 'caught' AND status = 'succeeded'})
  or die "catchup runs did not run";
$node->safe_psql('postgres', q{SELECT elt.pause('caught')});
is($node->safe_psql('postgres', q{
SELECT count(*) >= 2 AND bool_and(interval_end = scheduled_at AND interval_end - interval_start = '1 second'
         AND (prev IS NULL OR interval_start = prev))
FROM (SELECT r.*, lag(scheduled_at) OVER (ORDER BY scheduled_at) AS prev
      FROM elt.run r WHERE pipeline = 'caught' AND trigger IN ('catchup', 'schedule')) c}),
	't', 'catch-up runs cover consecutive intervals');
cmp_ok($node->safe_psql('postgres', q{
SELECT count(*) FROM elt.run WHERE pipeline = 'caught' AND trigger = 'catchup'}), '>=', 2,
	'missed fire times were caught up');

# lasting run workers: runs of one owner reuse a worker, and a session
# setting of one run does not reach the next
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('leaky', '1 second');
SELECT elt.add_step('leaky', 'x', $$INSERT INTO public.seen (pipeline, run, step, who)
  VALUES ('leaky', elt.current_run(), current_setting('work_mem'), current_user);
  SET work_mem = '77MB'$$);
});
$node->poll_query_until('postgres', q{SELECT count(*) >= 4 FROM public.seen WHERE pipeline = 'leaky'})
  or die "leaky did not run";
$node->safe_psql('postgres', q{SELECT elt.pause('leaky')});
cmp_ok($node->safe_psql('postgres', q{
SELECT count(DISTINCT pid) FROM elt.run WHERE pipeline = 'leaky' AND status = 'succeeded'}), '<',
	$node->safe_psql('postgres', q{
SELECT count(*) FROM elt.run WHERE pipeline = 'leaky' AND status = 'succeeded'}),
	'a run worker executed several runs');
is($node->safe_psql('postgres', q{
SELECT string_agg(DISTINCT step || '/' || who, ',') FROM public.seen WHERE pipeline = 'leaky'}),
	'4MB/alice', 'each run starts with a fresh session, as the owner');

# with one worker and three pipelines of one owner due at once, the worker
# goes on from each run to the next by itself; nothing of a run's session
# (settings, temporary tables, advisory locks) reaches the next
$node->safe_psql('postgres', q{
ALTER SYSTEM SET pg_elt.max_workers = 1;
SELECT pg_reload_conf();
});
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('chain_' || i, '1 second'),
       elt.add_step('chain_' || i, 'x', $$INSERT INTO public.seen (pipeline, run, step, who)
  VALUES ('chain', elt.current_run(), current_setting('work_mem') || '/'
          || (SELECT count(*) FROM pg_catalog.pg_class WHERE relnamespace = pg_catalog.pg_my_temp_schema()) || '/'
          || (SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid()),
          current_user);
  SET work_mem = '77MB'; CREATE TEMP TABLE chained (); SELECT pg_catalog.pg_advisory_lock(42)$$)
FROM generate_series(1, 3) i;
});
$node->poll_query_until('postgres', q{SELECT count(*) >= 9 FROM public.seen WHERE pipeline = 'chain'})
  or die "chain did not run";
$node->safe_psql('postgres', q{SELECT elt.pause('chain_' || i) FROM generate_series(1, 3) i});
$node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM elt.run WHERE pipeline LIKE 'chain%' AND status = 'running'})
  or die "chain runs did not end";
is($node->safe_psql('postgres', q{
SELECT string_agg(DISTINCT step || '/' || who, ',') FROM public.seen WHERE pipeline = 'chain'}),
	'4MB/0/0/alice', 'a worker going on to the next run starts it with a fresh session');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM elt.run WHERE pipeline LIKE 'chain%' AND status NOT IN ('succeeded', 'skipped', 'queued', 'cancelled')}),
	'0', 'every chained run succeeded');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT pipeline_id FROM elt.run WHERE status = 'running'
  GROUP BY pipeline_id HAVING count(*) > 1) x}), '0', 'never two runs of one pipeline at once');
cmp_ok($node->safe_psql('postgres', q{
SELECT count(DISTINCT pipeline) FROM elt.run WHERE pipeline LIKE 'chain%' AND status = 'succeeded'
  AND pid = (SELECT pid FROM elt.run WHERE pipeline LIKE 'chain%' AND status = 'succeeded' LIMIT 1)}), '>=', 2,
	'one worker executed the runs of several pipelines');
$node->safe_psql('postgres', q{
ALTER SYSTEM RESET pg_elt.max_workers;
SELECT pg_reload_conf();
});

# 5. after: a pipeline that runs when another succeeds, with its interval.
$node->safe_psql('postgres', q{
SET ROLE alice;
SELECT elt.create_pipeline('extract_all');
SELECT elt.add_step('extract_all', 'e', 'SELECT 1');
SELECT elt.create_pipeline('transform', NULL, '{"after": ["extract_all"]}');
SELECT elt.add_step('transform', 't', $$INSERT INTO public.seen
  SELECT 'transform', elt.current_run(), 't', current_user, i.interval_start, i.interval_end
  FROM elt.run_interval() i$$);
});
my $up = $node->safe_psql('postgres', q{SET ROLE alice;
SELECT elt.run_pipeline('extract_all', '2026-03-01', '2026-03-02')});
$node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM elt.run WHERE pipeline = 'transform' AND status = 'succeeded'})
  or die "pipeline after extract_all did not run";
is($node->safe_psql('postgres', qq{
SELECT r.trigger || ' ' || r.triggered_by || ' ' || s.interval_start::date || ' ' || s.who
FROM elt.run r JOIN public.seen s ON s.run = r.run_id WHERE r.pipeline = 'transform'}),
	"after $up 2026-03-01 alice", 'the following run has trigger after, its interval and owner');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE alice;
SELECT elt.create_pipeline('broken', NULL, '{"after": ["diamond"]}');
SELECT elt.add_step('broken', 'x', 'SELECT 1/0');
SELECT elt.create_pipeline('never', NULL, '{"after": ["broken"]}');
SELECT elt.add_step('never', 'x', 'SELECT 1');
SELECT elt.run_pipeline('diamond')});
$node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM elt.run WHERE pipeline = 'broken' AND status = 'failed'})
  or die "chained failing pipeline did not run";
is($node->safe_psql('postgres', q{SELECT count(*) FROM elt.run WHERE pipeline = 'never'}),
	'0', 'a failed run triggers nothing');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE alice;
SELECT elt.create_pipeline('selfish', NULL, '{"after": ["selfish"]}')});
like($err, qr/cannot run after itself/, 'after: itself refused');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE alice;
SELECT elt.create_pipeline('odd', NULL, '{"after": "extract_all"}')});
like($err, qr/"after" must be an array of pipeline names/, 'after: not an array refused');

# 6. Another role: another's pipeline in after, backfill or trigger with
#    an interval of another's pipeline: "does not exist".
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE mallory;
SELECT elt.create_pipeline('spy', NULL, '{"after": ["extract_all"]}')});
like($err, qr/pipeline "extract_all" named in option "after" does not exist/,
	'attacker cannot follow another role\'s pipeline');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE mallory;
SELECT elt.create_pipeline('spy2');
SELECT elt.alter_pipeline('spy2', NULL, '{"after": ["daily"]}')});
like($err, qr/pipeline "daily" named in option "after" does not exist/,
	'attacker cannot add another role\'s pipeline to after');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE mallory;
SELECT elt.backfill('daily', '2026-02-01', '2026-02-04')});
like($err, qr/pipeline "daily" does not exist/, 'attacker cannot backfill another role\'s pipeline');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE mallory;
SELECT elt.trigger('daily', '2026-02-01', '2026-02-04')});
like($err, qr/pipeline "daily" does not exist/, 'attacker cannot trigger another role\'s pipeline');
is($node->safe_psql('postgres', q{SET ROLE mallory;
SELECT count(*) FROM elt.run}), '0', 'attacker sees no runs');
# a pipeline of mallory's that names alice's pipeline through a direct
# update as superuser is still not started by alice's runs
$node->safe_psql('postgres', q{
SET ROLE mallory;
SELECT elt.add_step('spy2', 'x', $$INSERT INTO public.seen VALUES ('spy2', elt.current_run(), 'x', current_user)$$);
RESET ROLE;
ALTER TABLE elt.pipeline DISABLE TRIGGER pipeline_before;
UPDATE elt.pipeline SET options = '{"after": ["extract_all"]}' WHERE name = 'spy2';
ALTER TABLE elt.pipeline ENABLE TRIGGER pipeline_before;
});
$node->safe_psql('postgres', q{SET ROLE alice; SELECT elt.run_pipeline('extract_all')});
$node->poll_query_until('postgres', q{
SELECT count(*) = 2 FROM elt.run WHERE pipeline = 'transform' AND status = 'succeeded'})
  or die "second following run did not run";
is($node->safe_psql('postgres', q{SELECT count(*) FROM elt.run WHERE pipeline = 'spy2'}),
	'0', 'a pipeline of another owner does not follow, whatever its options say');

$node->stop;
done_testing();

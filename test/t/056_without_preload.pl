# pg_elt on a server that does not preload it: CREATE EXTENSION and every
# function that needs no scheduler work in an ordinary session (which must
# not end with FATAL, as pooled connections are reused), the rate limit
# holds within the session, and what needs the scheduler or shared memory
# raises an ERROR with a HINT.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use EltTest;

my $base = EltTest::mock_base();
my $node = PostgreSQL::Test::Cluster->new('without_preload');
$node->init(extra => [ '--encoding=UTF8', '--no-locale' ]);
$node->append_conf('postgresql.conf', qq{
pg_elt.allow_private_networks = on
pg_elt.secret_key_file = '../pg_elt_secret.key'
max_worker_processes = 16
});
$node->start;
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), '', 'pg_elt is not preloaded');

# One session: CREATE EXTENSION loads the library, and the session goes on.
my $s = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $s->query_safe('SELECT pg_backend_pid()');
$s->query_safe('CREATE EXTENSION pg_elt');
is($s->query_safe('SELECT pg_backend_pid()'), $pid, 'the session survives CREATE EXTENSION');
is($s->query_safe("SELECT extversion FROM pg_extension WHERE extname = 'pg_elt'"), '0.2.0',
	'the extension is created');
is($s->query_safe('SELECT elt.scheduler_pid() IS NULL'), 't', 'scheduler_pid() is NULL');

# HTTP, extraction with a rate limit, transformations and checks.
is($s->query_safe("SELECT (elt.http_get('$base/small')).status"), '200', 'elt.http_get works');
$s->query_safe(qq{
	SELECT elt.create_source('quota', '$base', options => '{"rate_limit": 4, "concurrency": 4}');
	SELECT elt.create_stream('quota', 'a', '/users/page', records => '\$.data',
		params => '{"total": 50, "seed": "a"}',
		pagination => '{"type": "page", "size_param": "per_page", "size": 10, "total_path": "\$.total"}');
});
my $t0 = time();
is($s->query_safe("SELECT records FROM elt.extract('quota.a')"), '50', 'elt.extract loads');
cmp_ok(time() - $t0, '>=', 0.95, 'the rate limit holds within the session (5 requests at 4/s)');
$s->query_safe(q{
	CREATE TABLE public.src AS
	SELECT _elt_record->'login'->>'uuid' AS id, _elt_record->>'email' AS email FROM staging.quota_a;
});
is($s->query_safe(q{SELECT inserted FROM elt.merge_dimension('public.dim_user', 'public.src', '{id}')}),
	'50', 'elt.merge_dimension works');
is($s->query_safe(q{SELECT passed FROM elt.check('public.dim_user', 'unique', 'user_key')}),
	't', 'elt.check works');

# A failed check is kept although its error rolls the caller back (the
# record is written by a worker of its own, which needs no preloading).
my ($ret, $out, $err) = $node->psql('postgres',
	q{SELECT elt.check('public.dim_user', 'row_count', args => '{"min": 1000}')});
like($err, qr/ERROR/, 'a failing check of severity error raises');
is($s->query_safe(q{SELECT count(*) FROM elt.check_result WHERE NOT passed}), '1',
	'its result is kept');

# What needs the scheduler or shared memory: an ERROR with a HINT.
$s->query_safe(q{
	SELECT elt.create_pipeline('adhoc');
	SELECT elt.add_step('adhoc', 'one', 'SELECT 1');
});
$node->psql('postgres', "SELECT elt.run_pipeline('adhoc')", stdout => \$out, stderr => \$err);
like($err, qr/elt\.run_pipeline\(\) requires pg_elt to be loaded by shared_preload_libraries/,
	'run_pipeline() needs preloading');
like($err, qr/HINT:  Add pg_elt to shared_preload_libraries/, '... with a hint');
$node->psql('postgres', "SELECT elt.trigger('adhoc')", stdout => \$out, stderr => \$err);
like($err, qr/elt\.trigger\(\) requires pg_elt to be loaded by shared_preload_libraries/,
	'trigger() needs preloading');
$node->psql('postgres', "SELECT elt.create_pipeline('timed', '*/5 * * * *')",
	stdout => \$out, stderr => \$err);
like($err, qr/pipeline "timed" cannot have a schedule: the pg_elt scheduler is not running/,
	'a schedule is refused');
like($err, qr/HINT:  Add pg_elt to shared_preload_libraries/, '... with a hint');
$node->psql('postgres', q{SELECT elt.schedule('timed', '@daily', 'SELECT 1')},
	stdout => \$out, stderr => \$err);
like($err, qr/cannot have a schedule/, 'elt.schedule() is refused too');
is($s->query_safe("SELECT count(*) FROM elt.pipeline WHERE schedule IS NOT NULL"), '0',
	'no schedule was stored');

# After all that the first session is still the same one.
is($s->query_safe('SELECT pg_backend_pid()'), $pid, 'the session was never ended');
$s->quit;

# Log redaction without preloading (docs/security.md, "Values in the text
# of indirect calls"), with every statement logged.
$node->safe_psql('postgres', "ALTER SYSTEM SET log_statement = 'all'; SELECT pg_reload_conf()");
sleep 1;
my $log_from = -s $node->logfile;

# A session that has loaded pg_elt: its set_secret is kept out of the log.
my $s2 = $node->background_psql('postgres', on_error_stop => 0);
$s2->query_safe('SELECT elt.scheduler_pid()');
$s2->query_safe("SELECT elt.set_secret('loaded_session', 'VAL-aa11-loaded')");
$s2->query_safe("DO \$\$ BEGIN PERFORM elt.set_secret('in_do', 'VAL-cc33-in-do'); END \$\$");
$s2->quit;

# Another session, never loading pg_elt, logs its own statements as usual.
$node->safe_psql('postgres', "SELECT 'VAL-dd44-unrelated'");

# A fresh session whose very first statement calls set_secret: the library
# loads while that statement runs, after its log_statement line was written
# (the documented limit of running without preloading).
$node->safe_psql('postgres', "SELECT elt.set_secret('first_call', 'VAL-ee55-first')");

# session_preload_libraries (a reload, no restart) closes that gap: the
# library, with its log hook, is loaded when each new session starts.
$node->safe_psql('postgres', "ALTER SYSTEM SET session_preload_libraries = 'pg_elt'; SELECT pg_reload_conf()");
sleep 1;
$node->safe_psql('postgres', "SELECT elt.set_secret('session_preload', 'VAL-ff66-preloaded')");
is($node->safe_psql('postgres', 'SELECT elt.scheduler_pid() IS NULL'), 't',
	'with session_preload_libraries there is still no scheduler');

my $log = slurp_file($node->logfile);
my $redaction = substr($log, $log_from);
like($redaction, qr/set_secret/, 'statements calling set_secret are logged (redacted)');
unlike($redaction, qr/VAL-aa11-loaded/, 'a session that loaded pg_elt: set_secret is kept out of the log');
unlike($redaction, qr/VAL-cc33-in-do/, 'a DO block naming set_secret is kept out of the log');
like($redaction, qr/VAL-dd44-unrelated/, 'other statements are logged as they are');
like($redaction, qr/VAL-ee55-first/,
	'the first statement of a session that had not loaded pg_elt is logged before the library loads (documented)');
unlike($redaction, qr/VAL-ff66-preloaded/,
	'with session_preload_libraries, even the first statement of a session is kept out of the log');
is($node->safe_psql('postgres', "SELECT count(*) FROM elt.secrets WHERE name IN ('loaded_session', 'in_do', 'first_call', 'session_preload')"),
	'4', 'every secret was set');

# No FATAL reached the log.
unlike($log, qr/FATAL/, 'no FATAL in the server log');

$node->stop;
done_testing();

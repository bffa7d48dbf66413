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

# No FATAL reached the log.
my $log = slurp_file($node->logfile);
unlike($log, qr/FATAL/, 'no FATAL in the server log');

$node->stop;
done_testing();

# Cancel, statement_timeout and pg_terminate_backend stop an HTTP request
# to a server that never answers, promptly, and leave the backend usable.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use EltTest;

my $base = EltTest::mock_base();
my $node = EltTest::new_node('interrupt');

# statement_timeout: the request to /hang must end with the timeout error.
my $t0 = time();
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET statement_timeout = '1s'; SELECT elt.http_get('$base/hang')");
my $elapsed = time() - $t0;
isnt($ret, 0, 'request to a silent server fails under statement_timeout');
like($stderr, qr/canceling statement due to statement timeout/, 'with the statement timeout error');
# A generous bound: what matters is that it did not wait for the request's
# own 30 s timeout or the server's 300 s.
cmp_ok($elapsed, '<', 15, 'statement_timeout interrupted the transfer');

# pg_cancel_backend from another session.
my $bg = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/start/, "\\echo start\nSELECT elt.http_get('$base/hang');\n");
$node->poll_query_until('postgres',
	"SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $pid")
  or die 'request did not start waiting';
$t0 = time();
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
my $res = $bg->query('SELECT 1');
$elapsed = time() - $t0;
like($bg->{stderr}, qr/canceling statement due to user request/, 'pg_cancel_backend cancels the request');
cmp_ok($elapsed, '<', 15, 'cancel is prompt');
$bg->{stderr} = '';
is($bg->query_safe("SELECT (elt.http_get('$base/small')).status"), '200',
	'the session makes requests again after a cancel');
$bg->quit;

# pg_terminate_backend ends the backend during the transfer.
$bg = $node->background_psql('postgres', on_error_stop => 0);
$pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/start/, "\\echo start\nSELECT elt.http_get('$base/hang');\n");
$node->poll_query_until('postgres',
	"SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $pid")
  or die 'request did not start waiting';
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'pg_terminate_backend ends a backend waiting on HTTP');
# psql has lost its server: closing it may hit a broken pipe
eval { $bg->quit; };

$node->stop;
done_testing();

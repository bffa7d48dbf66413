# Failures that another attempt would only repeat fail at once, with no
# retry and no backoff: a TLS certificate that does not verify, here a
# self-signed one served on the loopback interface.  (A name that does not
# resolve and an address the guard refuses are tested in
# sql/extract_paging.sql.)
use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my ($openssl) = grep { -x $_ } map { "$_/openssl" } split /:/, ($ENV{PATH} // '');
plan skip_all => 'openssl is not installed' unless $openssl;

my $dir = PostgreSQL::Test::Utils::tempdir();
system($openssl, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
	'-subj', '/CN=127.0.0.1', '-keyout', "$dir/key.pem", '-out', "$dir/cert.pem")
  == 0 or die 'could not make a certificate';
open(my $devnull, '>', "$dir/server.log") or die;
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $pid = fork();
if ($pid == 0)
{
	open(STDOUT, '>&', $devnull);
	open(STDERR, '>&', $devnull);
	open(STDIN, '<', '/dev/null');
	exec($openssl, 's_server', '-accept', "127.0.0.1:$port", '-cert', "$dir/cert.pem",
		'-key', "$dir/key.pem", '-www', '-quiet');
	exit 1;
}
my $up = 0;
for (1 .. 100)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
	if ($s) { close $s; $up = 1; last; }
	sleep 0.1;
}
ok($up, 'a TLS server with a self-signed certificate listens');

my $node = EltTest::new_node('permanent_errors');
$node->safe_psql('postgres', qq{
	SELECT elt.create_source('tls', 'https://127.0.0.1:$port',
		options => '{"backoff": "5 seconds", "max_attempts": 5}');
	SELECT elt.create_stream('tls', 'users', '/users');
});
my $t0 = time();
my ($ret, $out, $err) = $node->psql('postgres', "SELECT * FROM elt.extract('tls.users')");
my $elapsed = time() - $t0;
isnt($ret, 0, 'an unverifiable certificate fails the extract');
like($err, qr/SSL certificate problem/, 'the error says why') or diag($err);
cmp_ok($elapsed, '<', 4, 'at once, without the backoff of a retry');
is( $node->safe_psql('postgres',
		"SELECT status || ' ' || requests || ' ' || retries || ' ' || error_code || ' ' || stop_reason "
		  . "FROM elt.batch WHERE stream = 'tls.users'"),
	'failed 1 0 EL002 error',
	'one request, no retry');

kill 'TERM', $pid;
waitpid($pid, 0);
$node->stop;
done_testing();

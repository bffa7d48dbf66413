# Extract with every auth kind, failures included, at the most verbose log
# level: no secret value may reach the server log, elt.batch or an error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $base = EltTest::mock_base();
my $node = EltTest::new_node('extract_secrets',
	"log_min_messages = debug1\nlog_statement = 'all'\nlog_error_verbosity = verbose\n");

my %secrets = (
	s_token => 'test-token',
	s_key => 'test-key',
	s_password => 's3cret',
	s_client => 'client-secret',
	s_wrong => 'Wr0ng-Val-9f3a');

# the secrets are set by a session that does not log its statements
$node->safe_psql('postgres',
	"SET log_statement = 'none'; SET log_min_messages = 'warning'; "
	  . join(' ', map { "SELECT elt.set_secret('$_', '$secrets{$_}');" } sort keys %secrets));

$node->safe_psql('postgres', qq{
	SET client_min_messages = warning;
	SELECT elt.create_source('a_bearer', '$base', auth => '{"type": "bearer", "token": "{{secret:s_token}}"}');
	SELECT elt.create_source('a_key', '$base', auth => '{"type": "api_key", "name": "api_key", "in": "query", "value": "{{secret:s_key}}"}');
	SELECT elt.create_source('a_basic', '$base', auth => '{"type": "basic", "username": "alice", "password": "{{secret:s_password}}"}');
	SELECT elt.create_source('a_oauth', '$base', auth => '{"type": "oauth2_client_credentials", "token_url": "/oauth/token", "client_id": "client", "client_secret": "{{secret:s_client}}"}');
	SELECT elt.create_source('a_wrong_key', '$base', auth => '{"type": "api_key", "name": "api_key", "in": "query", "value": "{{secret:s_wrong}}"}');
	SELECT elt.create_source('a_wrong_oauth', '$base', auth => '{"type": "oauth2_client_credentials", "token_url": "/oauth/token", "client_id": "client", "client_secret": "{{secret:s_wrong}}"}');
	SELECT elt.create_source('a_header', '$base', headers => '{"X-Api-Key": "{{secret:s_key}}"}');
	SELECT elt.create_stream('a_bearer', 'users', '/auth/bearer/users', records => '\$.data');
	SELECT elt.create_stream('a_key', 'users', '/auth/api_key/users', records => '\$.data',
		pagination => '{"type": "page", "size_param": "per_page", "size": 5, "max_pages": 2}');
	SELECT elt.create_stream('a_basic', 'users', '/auth/basic/users', records => '\$.data');
	SELECT elt.create_stream('a_oauth', 'users', '/auth/oauth/users', records => '\$.data');
	SELECT elt.create_stream('a_wrong_key', 'users', '/auth/api_key/users', records => '\$.data');
	SELECT elt.create_stream('a_wrong_oauth', 'users', '/auth/oauth/users', records => '\$.data');
	SELECT elt.create_stream('a_header', 'users', '/auth/api_key/users', records => '\$.data');
	-- a retried failure logs its URL at DEBUG1
	SELECT elt.create_stream('a_key', 'flaky', '/auth/api_key/users', records => '\$.data',
		params => '{"fail": 503, "fail_times": 1, "fail_key": "secrets-flaky", "retry_after": 0}');
});

for my $s (qw(a_bearer a_key a_basic a_oauth a_header))
{
	is($node->safe_psql('postgres', "SELECT records > 0 FROM elt.extract('$s.users')"),
		't', "$s extracts");
}
is($node->safe_psql('postgres', "SELECT records FROM elt.extract('a_key.flaky')"), '10',
	'a retried request succeeds');
$node->safe_psql('postgres', "SELECT status FROM elt.http('POST', '$base/_control/oauth/revoke')");
is($node->safe_psql('postgres', "SELECT records > 0 FROM elt.extract('a_oauth.users')"),
	't', 'a revoked token is replaced');

my ($ret, $out, $err);
($ret, $out, $err) = $node->psql('postgres', "SET client_min_messages = debug1; SELECT elt.extract('a_wrong_key.users')");
isnt($ret, 0, 'a wrong API key fails');
like($err, qr/returned status 401/, 'with the status');
like($err, qr/api_key=\{\{secret:s_wrong\}\}/, 'and the URL with the secret reference, not its value');
($ret, $out, $err) = $node->psql('postgres', "SELECT elt.extract('a_wrong_oauth.users')");
isnt($ret, 0, 'a wrong OAuth2 client secret fails');
like($err, qr/OAuth2 token request/, 'at the token request');

my $batches = $node->safe_psql('postgres',
	"SELECT string_agg(concat_ws(' ', stream, status, error, cursor_before, cursor_after), E'\\n') FROM elt.batch");
like($batches, qr/a_wrong_key.users failed/, 'the failures are in elt.batch');
my $log = slurp_file($node->logfile);
like($log, qr/retrying page 1/, 'the log has the DEBUG1 retry report');
for my $name (sort keys %secrets)
{
	my $value = $secrets{$name};
	unlike($log, qr/\Q$value\E/, "the server log never shows secret $name");
	unlike($batches, qr/\Q$value\E/, "elt.batch never shows secret $name");
	unlike($err, qr/\Q$value\E/, "the error never shows secret $name");
}

$node->stop;
done_testing();

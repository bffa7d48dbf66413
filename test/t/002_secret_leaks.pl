# A secret's value never reaches the server log (at every level),
# pg_stat_activity, or the messages a role that uses it receives.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $base = EltTest::mock_base();
my $value = 'S3CR3T-value-7c1e90';
my $node = EltTest::new_node('secrets', <<CONF);
log_statement = 'all'
log_min_messages = debug5
log_min_error_statement = debug5
log_min_duration_statement = 0
log_error_verbosity = verbose
CONF

$node->safe_psql('postgres', qq{
	CREATE ROLE alice LOGIN;
	CREATE ROLE bob LOGIN;
	GRANT EXECUTE ON FUNCTION elt.set_secret(text, text), elt.grant_secret(text, regrole),
		elt.http(text, text, jsonb, text, interval), elt.http_get(text, jsonb) TO alice, bob;
	GRANT pg_read_all_stats TO bob;
});

# alice sets the secret in a statement that stays running for a moment,
# while bob, who may read every session's query text, looks at it.
my $bg = $node->background_psql('postgres', extra_params => ['-U', 'alice']);
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/start/,
	"\\echo start\nSELECT elt.set_secret('tok', '$value'), pg_sleep(3);\n");
$node->poll_query_until('postgres',
	"SELECT wait_event = 'PgSleep' FROM pg_stat_activity WHERE pid = $pid")
  or die 'set_secret did not run';
my $seen = $node->safe_psql('postgres',
	"SELECT query FROM pg_stat_activity WHERE pid = $pid", extra_params => ['-U', 'bob']);
like($seen, qr/set_secret\(<redacted>\)/, 'pg_stat_activity shows the redacted text while running');
unlike($seen, qr/\Q$value\E/, 'pg_stat_activity does not show the value while running');
$bg->query_safe("SELECT elt.grant_secret('tok', 'bob')");
$seen = $node->safe_psql('postgres',
	"SELECT string_agg(query, ' | ') FROM pg_stat_activity WHERE usename = 'alice'",
	extra_params => ['-U', 'bob']);
unlike($seen, qr/\Q$value\E/, 'nor afterwards');
$bg->quit;

# bob uses it, at the most verbose client level, in requests that succeed
# and requests that fail in every way.
my $out = '';
for my $sql (
	"SELECT status FROM elt.http_get('$base/echo', '{\"Authorization\": \"Bearer {{secret:tok}}\"}')",
	"SELECT elt.http_get('http://127.0.0.1:1/?token={{secret:tok}}')",
	"SELECT elt.http_get('$base/echo?key={{secret:tok}}&drop=5')",
	"SELECT elt.http('GET', '$base/echo?delay=2000&t={{secret:tok}}', timeout => '100ms')",
	"SELECT elt.http_get('$base/redirect?code=302&to=http://127.0.0.1:1/', '{\"X-Key\": \"{{secret:tok}}\"}')",
	# references where they cannot be kept out of messages are refused
	"SELECT elt.http_get('http://{{secret:tok}}/x')",
	"SELECT elt.http_get('http{{secret:tok}}://127.0.0.1:1/')",
	"SELECT elt.http_get('http://127.0.0.1:{{secret:tok}}/')",
	# what comes back carries the value: redirects that fail or are
	# refused, an error of other code on a response that echoes it
	"SELECT elt.http_get('http://u:{{secret:tok}}\@127.0.0.1:1/')",
	"SELECT elt.http_get('$base/redirect?code=302&to=http://127.0.0.1:1/{{secret:tok}}')",
	"SELECT elt.http_get('$base/redirect?code=302&to=ftp://127.0.0.1/{{secret:tok}}')",
	"SELECT elt.http_get('$base/redirect?code=302&to=http{{secret:tok}}://127.0.0.1/')",
	"SELECT (elt.http_get('$base/echo?v={{secret:tok}}')).body::int",
	"DO \$\$BEGIN PERFORM elt.http_get('$base/redirect?code=302&to=http://127.0.0.1:1/{{secret:tok}}'); "
	  . "EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'caught: %', SQLERRM; END\$\$",
	"SELECT * FROM elt.secret",
	"SELECT elt.set_secret('tok', 'x')")
{
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"SET client_min_messages = debug5; $sql", extra_params => ['-U', 'bob']);
	$out .= "$stdout\n$stderr\n";
}
unlike($out, qr/\Q$value\E/i, 'no message to the user carries the value');
like($out, qr/token=\{\{secret:tok\}\}/, 'errors show the reference instead');
like($out, qr/caught: .*127\.0\.0\.1:1\/\{\{secret:tok\}\}/, 'a caught error is masked too');
like($out, qr/references a secret in its host or port/, 'a reference in the host is refused');

# an extract whose error response echoes the value, and a pipeline step
# that fails on a response that echoes it: elt.batch and elt.step_run
$node->safe_psql('postgres', qq{
	SELECT elt.create_source('leaky', '$base');
	SELECT elt.create_stream('leaky', 'echoed', '/nosuch/{{secret:tok}}');
	SELECT elt.create_pipeline('leaky');
	SELECT elt.add_step('leaky', 'cast', \$\$SELECT (elt.http_get('$base/echo?v={{secret:tok}}')).body::int\$\$);
});
my ($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT elt.extract('leaky.echoed')");
like($stderr, qr/not found.*\{\{secret:tok\}\}/, 'the echoed error body is masked');
$out = "$stdout\n$stderr\n";
($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT elt.run_pipeline('leaky')");
$out .= "$stdout\n$stderr\n";
unlike($out, qr/\Q$value\E/i, 'nor do extract and pipeline errors');
my $history = $node->safe_psql('postgres', q{
	SELECT string_agg(error, E'\n') FROM (
		SELECT error FROM elt.batch UNION ALL SELECT error FROM elt.step_run
		UNION ALL SELECT error FROM elt.run) e});
like($history, qr/\{\{secret:tok\}\}/, 'history rows show the reference');
unlike($history, qr/\Q$value\E/i, 'elt.batch, elt.step_run and elt.run never show the value');

# a superuser's mistakes do not log it either
$node->psql('postgres', "SELECT elt.set_secret('tok2', '$value'");
$node->psql('postgres', "SELECT elt.set_secret('tok2', '$value') FROM nowhere");
$node->psql('postgres', "SELECT elt.set_secret('bad name', '$value')");

my $log = slurp_file($node->logfile);
like($log, qr/set_secret\(<redacted>\)/, 'the log shows set_secret statements redacted');
unlike($log, qr/\Q$value\E/i, 'the server log never contains the value');

$node->stop;
done_testing();

# Alerts with a real preloaded server and the mock API: a failed run
# POSTs a Slack-style JSON message to the pipeline's webhook as the owner
# (secret headers substituted with the owner's secrets, never kept), a
# success alert with alert_on "always", an SLA alert, a failing webhook
# retried and its outcome kept, and another role's secret refused.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $base = EltTest::mock_base();
my $node = EltTest::new_node('alerts');
$node->safe_psql('postgres', q{
CREATE ROLE alice LOGIN;
CREATE ROLE mallory LOGIN;
CREATE ROLE plain LOGIN;
GRANT EXECUTE ON FUNCTION elt.set_secret(text, text) TO alice;
GRANT EXECUTE ON FUNCTION elt.http(text, text, jsonb, text, interval) TO alice, mallory;
});
$node->safe_psql('postgres', qq{SELECT * FROM elt.http('DELETE', '$base/_control/hooks')});

sub hooks
{
	return $node->safe_psql('postgres', qq{
SELECT coalesce(jsonb_agg(h), '[]') FROM jsonb_array_elements(
  (SELECT body::jsonb FROM elt.http_get('$base/_control/hooks'))) h});
}

# 1. A failed run: one alert, with the text and the facts, the secret
#    header substituted at the receiver, recorded as sent.
$node->safe_psql('postgres', qq{
SET ROLE alice;
SELECT elt.set_secret('hook_token', 'tok-s3cr3t-value');
SELECT elt.create_pipeline('nightly', NULL, '{"alert_url": "$base/_control/hooks",
  "alert_headers": {"Authorization": "Bearer {{secret:hook_token}}"}}');
SELECT elt.add_step('nightly', 'boom', 'SELECT 1/0');
});
my ($rc, $out, $err) = $node->psql('postgres', q{SET ROLE alice;
SELECT elt.run_pipeline('nightly', '2026-03-01', '2026-03-02')});
like($err, qr/division by zero/, 'the run failed');
my $run = $node->safe_psql('postgres', q{SELECT max(run_id) FROM elt.run WHERE pipeline = 'nightly'});
$node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM elt.alert WHERE run_id = $run})
  or die "no alert recorded";
is($node->safe_psql('postgres', qq{
SELECT event || ' ' || status || ' ' || attempts || ' ' || http_status || ' ' || owner
FROM elt.alert WHERE run_id = $run}), 'failure sent 1 200 alice', 'failure alert sent once, as alice');
my $h = $node->safe_psql('postgres', qq{
SELECT h->'body'->>'text' || '|' || (h->'body'->>'run_id') || '|' || (h->'body'->>'status') || '|' ||
       (h->'body'->>'interval_start') || '|' || (h->'headers'->>'authorization')
FROM jsonb_array_elements(
  (SELECT body::jsonb FROM elt.http_get('$base/_control/hooks'))) h
WHERE (h->'body'->>'run_id')::bigint = $run});
like($h, qr/^pg_elt: run $run of pipeline "nightly" failed: step "boom" failed: division by zero\|$run\|failed\|2026-03-01T00:00:00\+00:00\|Bearer tok-s3cr3t-value$/,
	'the webhook got a Slack-style text, the facts and the substituted secret header');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM elt.alert WHERE url LIKE '%s3cr3t%' OR error LIKE '%s3cr3t%'}), '0',
	'no secret value in elt.alert');

# 2. alert_on always: a success alert; sla: an SLA alert for a slow run.
$node->safe_psql('postgres', qq{
SET ROLE alice;
SELECT elt.create_pipeline('chatty', NULL, '{"alert_url": "$base/_control/hooks",
  "alert_on": "always", "sla": "100 ms"}');
SELECT elt.add_step('chatty', 'slow', 'SELECT pg_sleep(0.3)');
SELECT elt.run_pipeline('chatty');
});
$run = $node->safe_psql('postgres', q{SELECT max(run_id) FROM elt.run WHERE pipeline = 'chatty'});
$node->poll_query_until('postgres', qq{SELECT count(*) = 2 FROM elt.alert WHERE run_id = $run})
  or die "no success and sla alerts";
is($node->safe_psql('postgres', qq{
SELECT string_agg(event || ':' || status, ',' ORDER BY event) FROM elt.alert WHERE run_id = $run}),
	'sla:sent,success:sent', 'success and SLA alerts sent');

# 3. A failing webhook: retried, outcome kept as failed with the status.
$node->safe_psql('postgres', qq{
SET ROLE alice;
SELECT elt.create_pipeline('unlucky', NULL, '{"alert_url": "$base/status/500"}');
SELECT elt.add_step('unlucky', 'boom', 'SELECT 1/0');
});
$node->psql('postgres', q{SET ROLE alice; SELECT elt.run_pipeline('unlucky')});
$run = $node->safe_psql('postgres', q{SELECT max(run_id) FROM elt.run WHERE pipeline = 'unlucky'});
$node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM elt.alert WHERE run_id = $run})
  or die "failing webhook not recorded";
is($node->safe_psql('postgres', qq{
SELECT status || ' ' || attempts || ' ' || http_status || ' ' || error FROM elt.alert WHERE run_id = $run}),
	'failed 3 500 the webhook answered with status 500', 'failing webhook retried 3 times, kept as failed');

# 4. Another role: alice's secret does not exist for mallory's alert, and
#    mallory sees none of alice's alerts.
$node->safe_psql('postgres', qq{
SET ROLE mallory;
SELECT elt.create_pipeline('spy', NULL, '{"alert_url": "$base/_control/hooks",
  "alert_headers": {"X-Steal": "{{secret:hook_token}}"}}');
SELECT elt.add_step('spy', 'boom', 'SELECT 1/0');
});
$node->psql('postgres', q{SET ROLE mallory; SELECT elt.run_pipeline('spy')});
$run = $node->safe_psql('postgres', q{SELECT max(run_id) FROM elt.run WHERE pipeline = 'spy'});
$node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM elt.alert WHERE run_id = $run})
  or die "attacker's alert not recorded";
like($node->safe_psql('postgres', qq{SELECT status || ' ' || error FROM elt.alert WHERE run_id = $run}),
	qr/^failed .*secret "hook_token" does not exist/, 'another role\'s secret does not exist for the alert');
is($node->safe_psql('postgres', q{SET ROLE mallory; SELECT string_agg(DISTINCT pipeline, ',') FROM elt.alert}),
	'spy', 'mallory sees only its own alerts');
unlike(hooks(), qr/"x-steal": "[^"]*s3cr3t/, 'the secret never reached the attacker\'s webhook');

# a role that may not use elt.http cannot make requests through alerts
$node->safe_psql('postgres', qq{
SET ROLE plain;
SELECT elt.create_pipeline('sneaky', NULL, '{"alert_url": "$base/_control/hooks"}');
SELECT elt.add_step('sneaky', 'boom', 'SELECT 1/0');
});
$node->psql('postgres', q{SET ROLE plain; SELECT elt.run_pipeline('sneaky')});
$run = $node->safe_psql('postgres', q{SELECT max(run_id) FROM elt.run WHERE pipeline = 'sneaky'});
$node->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM elt.alert WHERE run_id = $run})
  or die "alert of a role without elt.http not recorded";
like($node->safe_psql('postgres', qq{SELECT status || ' ' || error FROM elt.alert WHERE run_id = $run}),
	qr/^failed permission denied for function http/, 'alerts need the right to use elt.http');

# 5. Bad input.
($rc, $out, $err) = $node->psql('postgres', q{
SELECT elt.create_pipeline('bad', NULL, '{"alert_url": "ftp://example.com/x"}')});
like($err, qr/"alert_url" must be an http or https URL/, 'a non-http alert_url is refused');
($rc, $out, $err) = $node->psql('postgres', q{
SELECT elt.create_pipeline('bad', NULL, '{"alert_on": "sometimes"}')});
like($err, qr/"alert_on" must be/, 'an unknown alert_on is refused');

$node->stop;
done_testing();

# pg_elt's metrics through the real prometheus-postgres-exporter: a known
# sequence of extracts, pipeline runs and checks, the exporter started on a
# loopback port with the documented queries file, and every documented
# metric found in its scrape with the value elt.metric gives.  Another
# role sees none of the owner's metrics.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use EltTest;

my $exporter = '/usr/bin/prometheus-postgres-exporter';
plan skip_all => "$exporter is not installed (scripts/setup.sh installs it)"
  unless -x $exporter;
my ($curl) = grep { -x $_ } map { "$_/curl" } split(/:/, $ENV{PATH} // ''), '/usr/bin';
plan skip_all => 'curl is not installed' unless $curl;

my $root = "$FindBin::RealBin/../..";
my $base = EltTest::mock_base();
my $node = EltTest::new_node('metrics');

$node->safe_psql('postgres', <<'SQL');
CREATE ROLE obs_owner LOGIN;
CREATE ROLE obs_other LOGIN;
CREATE ROLE obs_monitor LOGIN IN ROLE pg_monitor;
GRANT EXECUTE ON FUNCTION elt.create_source(text, text, jsonb, jsonb, jsonb),
	elt.create_stream(text, text, text, jsonb, text, jsonb, jsonb, text[], text, text, text, text, jsonb, jsonb, jsonb),
	elt.extract(text, boolean) TO obs_owner;
CREATE SCHEMA staging;
GRANT USAGE, CREATE ON SCHEMA staging TO obs_owner;
CREATE SCHEMA dw;
GRANT USAGE, CREATE ON SCHEMA dw TO obs_owner;
SQL

# the known sequence, as the owner
$node->safe_psql('postgres', <<SQL);
SET ROLE obs_owner;
SELECT elt.create_source('obs', '$base');
SELECT elt.create_stream('obs', 'users', '/users/page', params => '{"total": 25}', records => '\$.data',
	pagination => '{"type": "page", "size_param": "per_page", "size": 10, "total_path": "\$.total"}');
SELECT elt.extract('obs.users');
SELECT elt.extract('obs.users');
SELECT elt.create_stream('obs', 'broken', '/status/500');
SELECT elt.create_pipeline('obs_nightly');
SELECT elt.add_step('obs_nightly', 'load', \$\$SELECT 1\$\$);
SELECT elt.run_pipeline('obs_nightly');
SELECT elt.create_pipeline('obs_broken');
SELECT elt.add_step('obs_broken', 'extract', \$\$SELECT elt.extract('obs.broken')\$\$, retries => 0);
CREATE TABLE dw."odd ""name"" \\ here" (id int);
INSERT INTO dw."odd ""name"" \\ here" VALUES (1), (NULL);
SELECT elt.check('dw."odd ""name"" \\ here"', 'not_null', 'id', severity => 'warn');
SELECT elt.check('dw."odd ""name"" \\ here"', 'row_count', NULL, '{"min": 1}');
SQL
# two exports, as elt.export() records them (the destination carries
# credentials, which the metrics must mask)
$node->safe_psql('postgres', <<'SQL');
INSERT INTO elt.export_run (owner, query, destination, format, rows, bytes, status, started_at)
VALUES ('obs_owner', 'SELECT 1', 'https://u:pw@files.example/up?token=abc', 'csv', 1, 100, 'succeeded', now()),
	   ('obs_owner', 'SELECT 1', 'https://u:pw@files.example/up?token=abc', 'csv', 1, 50, 'succeeded', now());
SQL
my ($ret, $out, $err) = $node->psql('postgres',
	"SET ROLE obs_owner; SELECT elt.run_pipeline('obs_broken')");
isnt($ret, 0, 'the broken pipeline fails');

# the expected samples, as the monitoring role sees them
my %want;
for my $line (split /\n/, $node->safe_psql('postgres', <<'SQL'))
SET ROLE obs_monitor;
SELECT m.name || COALESCE('{' || (SELECT string_agg(l.key || '="' || elt._prometheus_label(l.value) || '"',
							',' ORDER BY l.key COLLATE "C") FROM jsonb_each_text(m.labels) l) || '}', '')
	   || ' ' || m.value
  FROM elt.metric m;
SQL
{
	my ($k, $v) = $line =~ /^(.*) (\S+)$/ or next;
	$want{$k} = $v;
}
ok(scalar(keys %want) > 15, 'the monitoring role sees metrics');
is($want{'pg_elt_runs_total{pipeline="obs_broken",status="failed"}'}, 1, 'a failed run is counted');
is($want{'pg_elt_extract_records_total{stream="obs.users",target="staging.obs_users"}'}, 50, 'records of two extracts');
is($want{'pg_elt_extract_errors_total{stream="obs.broken"}'}, 1, 'the failed extract is counted');
is($want{'pg_elt_check_failing{column="id",relation="dw.\"odd \"\"name\"\" \\\\ here\"",severity="warn",test="not_null"}'},
	1, 'the failing check, its relation escaped');
is($want{'pg_elt_scheduler_up'}, 1, 'the scheduler is up');
is($want{'pg_elt_export_bytes_total{destination="https://u:***@files.example/up?token=***",status="succeeded"}'},
	150, 'export bytes, the destination masked');

# the exporter, on loopback only, with the documented queries file
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $host = $node->host;
my $pgport = $node->port;
local $ENV{DATA_SOURCE_NAME} =
  "host=$host port=$pgport user=obs_monitor dbname=postgres sslmode=disable";
my $log = "$PostgreSQL::Test::Utils::tmp_check/exporter.log";
my $h = IPC::Run::start(
	[
		$exporter, "--web.listen-address=127.0.0.1:$port",
		"--extend.query-path=$root/docs/prometheus/queries.yaml",
		'--disable-default-metrics', '--disable-settings-metrics'
	],
	'<', \undef, '>', $log, '2>&1');

my $scrape = '';
for (my $i = 0; $i < 100; $i++)
{
	$scrape = `$curl -s --max-time 5 http://127.0.0.1:$port/metrics`;
	last if $scrape =~ /^pg_elt_runs_total/m;
	select(undef, undef, undef, 0.2);
}
like($scrape, qr/^pg_elt_runs_total/m, 'the exporter publishes pg_elt metrics');
note(join("\n", grep { /^pg_elt/ } split /\n/, $scrape));

my %got;
for my $line (split /\n/, $scrape)
{
	next if $line =~ /^#/;
	my ($k, $v) = $line =~ /^(pg_elt.*) (\S+)$/ or next;
	# the exporter may add labels of its own (server)
	$k =~ s/,?server="[^"]*"//;
	$k =~ s/\{\}$//;
	$k =~ s/\{,/{/;
	$got{$k} = $v;
}

# every documented metric that has samples is in the scrape
my $doc = slurp_file("$root/docs/monitoring.md");
my %documented = map { $_ => 1 } $doc =~ /^\| `(pg_elt_\w+)`/mg;
ok(scalar(keys %documented) >= 16, 'the metrics are documented');
for my $name (sort keys %documented)
{
	my @samples = grep { /^\Q$name\E(\{|$)/ } keys %want;
	ok(scalar(@samples), "$name has samples") or next;
	for my $s (sort @samples)
	{
		ok(exists $got{$s}, "scraped: $s") or next;
		if ($name =~ /freshness|duration/)
		{
			# time passes between the two readings
			cmp_ok(abs($got{$s} - $want{$s}), '<', 120, "value of $s");
		}
		else
		{
			cmp_ok($got{$s}, '==', $want{$s}, "value of $s");
		}
	}
}
# and nothing of pg_elt is scraped that is not documented
my @undocumented = grep { my $n = $_; $n =~ s/\{.*//; !$documented{$n} } keys %got;
is_deeply(\@undocumented, [], 'every scraped pg_elt metric is documented');

# the metrics the alert rules use exist
my $alerts = slurp_file("$root/docs/prometheus/alerts.yaml");
for my $name ($alerts =~ /expr: (pg_elt_\w+)/g)
{
	ok($documented{$name}, "alert rule metric $name is documented");
}

$h->signal('TERM');
$h->finish;
ok(!$h->pumpable, 'the exporter stopped');

# another role sees nothing of the owner's
my $other = $node->safe_psql('postgres', "SET ROLE obs_other; SELECT elt.metrics()");
unlike($other, qr/obs|odd|files\.example/, "another role's metrics do not show the owner's names");
unlike($other, qr/pg_elt_runs_total/, 'nor its runs');
like($other, qr/^pg_elt_scheduler_up 1$/m, 'only what is not per role');

done_testing();

# elt.export() to an S3-compatible store (s3rver, installed into test/s3rver
# by scripts/setup_s3rver.sh) and to the mock API's upload endpoint: every
# format, gzip, single PUT and multipart, compared byte for byte with
# COPY ... TO; failures leave no object and are recorded without secret
# values; the query runs with the caller's rights; history is per owner.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use EltTest;

my $dir = ($ENV{TESTDIR} // '.') . '/test/s3rver';
plan skip_all => 'node is not installed'
  unless system('sh', '-c', 'command -v node >/dev/null 2>&1') == 0;
plan skip_all => 's3rver is not installed (scripts/setup_s3rver.sh)'
  unless -f "$dir/node_modules/s3rver/package.json";

my $base = EltTest::mock_base();
my $node = EltTest::new_node('export', "log_min_messages = debug1\nlog_statement = 'all'\n");

# s3rver on a free loopback port, with bucket "exports"
my $port = do {
	my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)
	  or die "no free port: $!";
	my $p = $s->sockport;
	close $s;
	$p;
};
my $s3dir = tempdir(CLEANUP => 1);
my $s3pid = fork();
if ($s3pid == 0)
{
	open(STDOUT, '>', "$s3dir.log");
	open(STDERR, '>&', \*STDOUT);
	exec('node', "$dir/node_modules/s3rver/bin/s3rver.js", '-d', $s3dir,
		'-a', '127.0.0.1', '-p', $port, '--configure-bucket', 'exports')
	  or exit 1;
}
END { kill 'TERM', $s3pid if $s3pid; }
my $up = 0;
for (1 .. 100)
{
	if (IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)) { $up = 1; last; }
	select(undef, undef, undef, 0.1);
}
BAIL_OUT('s3rver did not start') unless $up;
my $endpoint = "http://127.0.0.1:$port";

# The stored object, read from s3rver's directory; undef when absent.
sub object
{
	my ($key) = @_;
	my $f = "$s3dir/exports/$key._S3rver_object";
	return undef unless -f $f;
	open(my $fh, '<:raw', $f) or die;
	local $/;
	return <$fh>;
}

# Multipart uploads still open in the bucket.
sub open_uploads
{
	my $d = "$s3dir/exports/._S3rver_uploads";
	return 0 unless -d $d;
	opendir(my $dh, $d) or die;
	my @u = grep { !/^\./ } readdir($dh);
	return scalar @u;
}

# What COPY (query) TO writes, in CSV with a header.
sub copy_csv
{
	my ($query) = @_;
	my $f = $node->basedir . '/copy.csv';
	$node->safe_psql('postgres', "COPY ($query) TO '$f' (FORMAT csv, HEADER)");
	open(my $fh, '<:raw', $f) or die;
	local $/;
	return <$fh>;
}

$node->safe_psql('postgres', q{
	SET log_statement = 'none';
	SELECT elt.set_secret('s3_key', 'S3RVER');
	SELECT elt.set_secret('s3_secret', 'S3RVER');
	SELECT elt.set_secret('s3_wrong', 'NOT-A-KEY-5ab1');
	SELECT elt.set_secret('upload_token', 'tok-9c1e-secret');
});
$node->safe_psql('postgres', q{
	CREATE TABLE fact AS
	SELECT g AS id, md5(g::text) AS h, CASE WHEN g % 7 = 0 THEN NULL ELSE 'a,"b"' || chr(10) || 'c' END AS s,
		CASE WHEN g % 5 = 0 THEN '' ELSE 'x' END AS e, g * 1.5 AS amount,
		'2026-01-01'::timestamptz + g * interval '1 minute' AS at
	FROM generate_series(1, 200000) g;
	CREATE TABLE small AS SELECT * FROM fact WHERE id <= 100;
});

my $opts = qq{"endpoint": "$endpoint", "access_key_id": "{{secret:s3_key}}", "secret_access_key": "{{secret:s3_secret}}"};

# small CSV: a single PUT
my $r = $node->safe_psql('postgres',
	"SELECT rows, bytes > 0, etag IS NOT NULL, status FROM elt.export('SELECT * FROM small ORDER BY id', 's3://exports/small.csv', 'csv', '{$opts}')");
is($r, '100|t|t|200', 'small CSV export');
is(object('small.csv'), copy_csv('SELECT * FROM small ORDER BY id'), 'small CSV is what COPY writes');

# large CSV: multipart, at least 2 parts of 5 MiB
$r = $node->safe_psql('postgres',
	"SELECT rows, bytes > 5242880 FROM elt.export('SELECT * FROM fact ORDER BY id', 's3://exports/dir/large.csv', 'csv', '{$opts, \"part_size\": 5242880}')");
is($r, '200000|t', 'large CSV export');
my $large = object('dir/large.csv');
ok(length($large // '') > 2 * 5242880, 'large CSV has more than two parts');
is($large, copy_csv('SELECT * FROM fact ORDER BY id'), 'multipart CSV is what COPY writes');
like(slurp_file("$s3dir.log"), qr/partNumber=3/, 'the upload was in parts');
is(open_uploads(), 0, 'no multipart upload left open');

# options: no header, another delimiter
$node->safe_psql('postgres',
	"SELECT elt.export('SELECT * FROM small ORDER BY id', 's3://exports/semi.csv', 'csv', '{$opts, \"header\": false, \"delimiter\": \";\"}')");
$node->safe_psql('postgres',
	"COPY (SELECT * FROM small ORDER BY id) TO '" . $node->basedir . "/semi.csv' (FORMAT csv, DELIMITER ';')");
is(object('semi.csv'), slurp_file($node->basedir . '/semi.csv'), 'CSV without header, with ";"');

# integers are written without their output functions: the same digits,
# extremes and NULLs included, and quoted when the delimiter is '-' or a digit
$node->safe_psql('postgres', q{
	CREATE DOMAIN small_count AS int4;
	CREATE TABLE ints AS
	SELECT g AS i4, (g * 7919)::int8 * (CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END) AS i8,
		(g % 300 - 150)::int2 AS i2, g::small_count AS d, NULLIF(g % 3, 0)::int4 AS n
	FROM generate_series(-5, 5) g
	UNION ALL SELECT -2147483648, -9223372036854775808, -32768, 0, NULL
	UNION ALL SELECT 2147483647, 9223372036854775807, 32767, 1, 0;
});
for my $d (',', '-', '7')
{
	$node->safe_psql('postgres',
		"SELECT elt.export('SELECT * FROM ints', 's3://exports/ints.csv', 'csv', '{$opts, \"delimiter\": \"$d\"}')");
	$node->safe_psql('postgres',
		"COPY (SELECT * FROM ints) TO '" . $node->basedir . "/ints.csv' (FORMAT csv, HEADER, DELIMITER '$d')");
	is(object('ints.csv'), slurp_file($node->basedir . '/ints.csv'), "integers as COPY writes them, delimiter '$d'");
}
$node->safe_psql('postgres',
	"SELECT elt.export('SELECT n FROM ints', 's3://exports/one.csv', 'csv', '{$opts}')");
is(object('one.csv'), copy_csv('SELECT n FROM ints'), 'one integer column with NULLs as COPY writes it');
$node->safe_psql('postgres',
	q{CREATE TABLE texts AS SELECT * FROM (VALUES ('\.'), (''), (NULL), ('a"b'), ('x'), ('a;b'), (E'\r')) v(t)});
$node->safe_psql('postgres',
	"SELECT elt.export('SELECT t FROM texts', 's3://exports/texts.csv', 'csv', '{$opts}')");
is(object('texts.csv'), copy_csv('SELECT t FROM texts'), 'one text column (end marker, empty, quotes) as COPY writes it');

# NDJSON and JSON: compared with row_to_json's output for each row
my $ndjson = $node->safe_psql('postgres',
	"SELECT string_agg(row_to_json(q)::text, E'\\n' ORDER BY id) FROM (SELECT * FROM small) q");
$node->safe_psql('postgres',
	"SELECT elt.export('SELECT * FROM small ORDER BY id', 's3://exports/small.ndjson', 'ndjson', '{$opts}')");
is(object('small.ndjson'), "$ndjson\n", 'NDJSON export');
$node->safe_psql('postgres',
	"SELECT elt.export('SELECT * FROM small ORDER BY id', 's3://exports/small.json', 'json', '{$opts}')");
my $json = $node->safe_psql('postgres',
	"SELECT '[' || string_agg(row_to_json(q)::text, E',\\n' ORDER BY id) || E']' FROM (SELECT * FROM small) q");
is(object('small.json'), "$json\n", 'JSON export');
$node->safe_psql('postgres',
	"SELECT elt.export('SELECT * FROM small WHERE false', 's3://exports/empty.json', 'json', '{$opts}')");
is(object('empty.json'), "[]\n", 'JSON export of no rows');

# gzip (multipart too)
$node->safe_psql('postgres',
	"SELECT elt.export('SELECT * FROM fact ORDER BY id', 's3://exports/large.csv.gz', 'csv', '{$opts, \"gzip\": true}')");
my $gz = object('large.csv.gz');
ok(defined $gz && substr($gz, 0, 2) eq "\x1f\x8b", 'gzip export is gzip');
{
	my $f = $node->basedir . '/large.csv.gz';
	open(my $fh, '>:raw', $f) or die;
	print $fh $gz;
	close $fh;
	is(`gzip -dc $f`, $large, 'gzip export decompresses to the CSV');
}

# HTTP: PUT and POST with a header that carries a secret, streamed (chunked)
$r = $node->safe_psql('postgres',
	"SELECT rows, status FROM elt.export('SELECT * FROM fact ORDER BY id', '$base/upload/fact.csv', 'csv', '{\"headers\": {\"Authorization\": \"Bearer {{secret:upload_token}}\"}}')");
is($r, '200000|201', 'HTTP PUT export');
is(`curl -s $base/upload/fact.csv`, $large, 'HTTP upload is what COPY writes');
$r = $node->safe_psql('postgres',
	"SELECT rows, status FROM elt.export('SELECT * FROM small ORDER BY id', '$base/upload/small.ndjson', 'ndjson', '{\"method\": \"POST\"}')");
is($r, '100|200', 'HTTP POST export');
is(`curl -s $base/upload/small.ndjson`, "$ndjson\n", 'HTTP POST body');

# failures: an error with its code, no object, a failed history row
my ($ret, $out, $err);
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT * FROM small', '$base/upload/f500.csv?fail=503', 'csv', '{\"headers\": {\"Authorization\": \"Bearer {{secret:upload_token}}\"}}')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/EL007.*HTTP status 503/, '5xx is an error EL007');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT * FROM small', '$base/upload/drop.csv?drop=0', 'csv')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/EL003/, 'a dropped connection is an error EL003');
is($node->safe_psql('postgres', "SELECT status FROM elt.http_get('$base/upload/f500.csv')"), '404',
	'nothing stored after a 5xx');
is($node->safe_psql('postgres', "SELECT status FROM elt.http_get('$base/upload/drop.csv')"), '404',
	'nothing stored after a dropped connection');

# cancel works while the export waits for the server
($ret, $out, $err) = $node->psql('postgres',
	"SET statement_timeout = '500ms'; SELECT elt.export('SELECT * FROM small', '$base/upload/slow.csv?delay=5000', 'csv')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/57014.*statement timeout/, 'statement_timeout interrupts an export');
is($node->safe_psql('postgres', "SELECT error_code FROM elt.export_run WHERE destination LIKE '%slow.csv%'"),
	'57014', 'the interrupted export is recorded as failed');

# failure mid-multipart (the query fails after parts were sent): aborted
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT *, 1 / (200000 - id) FROM fact', 's3://exports/half.csv', 'csv', '{$opts, \"part_size\": 5242880}')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/22012/, 'a failing query is its own error');
like(slurp_file("$s3dir.log"), qr/half\.csv\?partNumber=2/, 'parts had been sent');
ok(!defined object('half.csv'), 'no object after a failure mid-upload');
# s3rver 3.7 answers AbortMultipartUpload with 405 (not implemented): the
# abort must have been sent, and said so in a warning when it was refused
ok(open_uploads() == 0 || $err =~ /WARNING:  (?:01000: )?could not abort the multipart upload of s3:\/\/exports\/half\.csv: HTTP status 405/,
	'the multipart upload was aborted (or the abort was sent and refused by s3rver)');

# a role granted only the use of the secrets: bad credentials
$node->safe_psql('postgres', q{
	CREATE ROLE exporter LOGIN;
	CREATE ROLE other LOGIN;
	GRANT USAGE ON SCHEMA elt TO exporter, other;
	GRANT EXECUTE ON FUNCTION elt.export(text, text, text, jsonb) TO exporter, other;
	SELECT elt.grant_secret('s3_wrong', 'exporter');
	SELECT elt.grant_secret('s3_secret', 'exporter');
	SELECT elt.grant_secret('upload_token', 'exporter');
	CREATE TABLE mine (a int);
	INSERT INTO mine VALUES (1), (2);
	ALTER TABLE mine OWNER TO exporter;
	CREATE TABLE private (a int);
});
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT * FROM mine', 's3://exports/wrong.csv', 'csv', '{\"endpoint\": \"$endpoint\", \"access_key_id\": \"{{secret:s3_wrong}}\", \"secret_access_key\": \"{{secret:s3_secret}}\"}')",
	extra_params => [ '-U', 'exporter', '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42501.*HTTP status 403/, 'bad credentials are an error 42501');
unlike($err, qr/NOT-A-KEY|S3RVER|tok-9c1e/, 'no secret value in the error');
ok(!defined object('wrong.csv'), 'no object with bad credentials');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT * FROM mine', '$base/upload/x.csv?fail=500', 'csv', '{\"headers\": {\"X-Token\": \"{{secret:upload_token}}\"}}')",
	extra_params => [ '-U', 'exporter' ]);
like($err, qr/HTTP status 500/, 'exporter: 5xx fails');
is($node->safe_psql('postgres', "SELECT count(*) FROM elt.export_run WHERE owner = 'exporter'::regrole AND status = 'failed' AND error IS NOT NULL"),
	'2', 'failed exports are recorded');
unlike($node->safe_psql('postgres', "SELECT string_agg(concat_ws(' ', destination, error), ' ') FROM elt.export_run"),
	qr/NOT-A-KEY|S3RVER|tok-9c1e/, 'no secret value in the history');
is($node->safe_psql('postgres', 'SELECT count(*) FROM elt.export_run', extra_params => [ '-U', 'other' ]),
	'0', "another role's history is invisible");
is($node->safe_psql('postgres', 'SELECT count(*) FROM elt.export_run', extra_params => [ '-U', 'exporter' ]),
	'2', 'the owner sees its own history');
$node->safe_psql('postgres', 'CREATE ROLE watcher LOGIN IN ROLE pg_monitor; GRANT USAGE ON SCHEMA elt TO watcher');
ok($node->safe_psql('postgres', 'SELECT count(*) > 2 FROM elt.export_run', extra_params => [ '-U', 'watcher' ]) eq 't',
	'pg_monitor reads every history row');

# the query runs with the caller's rights
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT * FROM private', '$base/upload/steal.csv', 'csv')",
	extra_params => [ '-U', 'exporter' ]);
like($err, qr/permission denied for table private/, "another role's table cannot be exported");
is($node->safe_psql('postgres', "SELECT status FROM elt.http_get('$base/upload/steal.csv')"), '404',
	'nothing was sent');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT 1', '$base/upload/y.csv')", extra_params => [ '-U', 'other' ]);
is($ret, 0, 'other may export once granted EXECUTE');
$node->safe_psql('postgres', 'CREATE ROLE nobody LOGIN; GRANT USAGE ON SCHEMA elt TO nobody');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT 1', '$base/upload/z.csv')", extra_params => [ '-U', 'nobody' ]);
like($err, qr/permission denied for function export/, 'a role without EXECUTE cannot export');

# bad inputs
for my $case (
	[ "'SELECT 1', '$base/upload/a', 'xml'", qr/unknown export format "xml"/ ],
	[ "'SELECT 1', '$base/upload/a', 'csv', '{\"colour\": 1}'", qr/unknown export option "colour"/ ],
	[ "'SELECT 1', 'ftp://example.com/a'", qr/unsupported export destination/ ],
	[ "'SELECT 1', 'file:///tmp/a'", qr/unsupported export destination/ ],
	[ "'DELETE FROM small', '$base/upload/a'", qr/query must be a SELECT statement/ ],
	[ "'SELECT 1; SELECT 2', '$base/upload/a'", qr/query must be a single SELECT statement/ ],
	[ "'SELECT 1 INTO x', '$base/upload/a'", qr/query must be a SELECT statement/ ],
	[ "'SELECT 1', 's3://exports'", qr/invalid destination/ ],
	[ "'SELECT 1', 's3://exports/a.csv'", qr/needs the options access_key_id/ ],
	[ "'SELECT 1', 's3://exports/a.csv', 'csv', '{$opts, \"part_size\": 1000}'", qr/part_size/ ],
	[ "'SELECT 1', '$base/upload/a', 'csv', '{\"method\": \"GET\"}'", qr/must be PUT or POST/ ],
	[ "'SELECT 1', 's3://exports/{{interval_start}}.csv', 'csv', '{$opts}'", qr/no run interval here/ ])
{
	($ret, $out, $err) = $node->psql('postgres', "SELECT elt.export($case->[0])");
	like($err, $case->[1], "refused: $case->[0]");
}
is($node->safe_psql('postgres', "SELECT count(*) FROM elt.export_run WHERE destination LIKE '%/a'"), '0',
	'refused arguments are not recorded as runs');

# the interval template, in a pipeline run for a data interval
$node->safe_psql('postgres', qq{
	SELECT elt.create_pipeline('daily_report');
	SELECT elt.add_step('daily_report', 'export', \$\$SELECT elt.export('SELECT 1 AS one',
		's3://exports/daily/{{interval_start}}_{{interval_end}}.csv', 'csv', '{$opts}')\$\$);
	SELECT elt.run_pipeline('daily_report', '2026-03-01 00:00+00', '2026-03-02 00:00+00');
	SELECT elt.run_pipeline('daily_report', '2026-03-02 06:00+00', '2026-03-02 12:00+00');
});
is(object('daily/2026-03-01_2026-03-02.csv'), "one\n1\n", 'the key is templated with the run interval (days)');
is(object('daily/2026-03-02T06:00:00Z_2026-03-02T12:00:00Z.csv'), "one\n1\n",
	'the key is templated with the run interval (times)');

# no secret value in the server log
my $log = slurp_file($node->logfile);
unlike($log, qr/NOT-A-KEY|tok-9c1e/, 'no secret value in the server log');

$node->stop;
done_testing();

# elt.export() to the mock API's S3-style store, which checks every write's
# AWS Signature V4 itself (test/mock_api/s3.py, written from AWS's
# description and checked against AWS's published examples): a single PUT
# and a multipart upload are accepted and read back equal to COPY; a wrong
# secret or access key is refused by the store; a connection dropped in
# the middle of a part's body, or of an HTTP upload's body, fails the
# export with the multipart upload aborted (seen by the store), nothing
# stored, the failure in elt.export_run, and no secret anywhere.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $base = EltTest::mock_base();
my $node = EltTest::new_node('export_signed');

# the store's state, as JSON fields picked with a regular expression
sub store
{
	my $s = `curl -s $base/_control/s3`;
	return $s;
}

sub store_field
{
	my ($name) = @_;
	my $s = store();
	return $s =~ /"$name":\s*(\d+)/ ? $1 : undef;
}

sub object
{
	my ($key) = @_;
	my $code = `curl -s -o /dev/null -w '%{http_code}' $base/s3/exports/$key`;
	return undef unless $code eq '200';
	return scalar `curl -s $base/s3/exports/$key`;
}

sub copy_csv
{
	my ($query) = @_;
	my $f = $node->basedir . '/copy.csv';
	$node->safe_psql('postgres', "COPY ($query) TO '$f' (FORMAT csv, HEADER)");
	return slurp_file($f);
}

system("curl -s -X POST $base/_control/s3/reset >/dev/null") == 0 or die;

$node->safe_psql('postgres', q{
	SET log_statement = 'none';
	SELECT elt.set_secret('mock_key', 'MOCKACCESSKEY0000001');
	SELECT elt.set_secret('mock_secret', 'mock/secret+key/0123456789abcdefghijklmn');
	SELECT elt.set_secret('wrong_secret', 'mock/WRONG+key/0123456789abcdefghijklmn');
	SELECT elt.set_secret('wrong_key', 'NOSUCHACCESSKEY99999');
	SELECT elt.set_secret('upload_token', 'tok-77d2-secret');
});
$node->safe_psql('postgres', q{
	CREATE TABLE fact AS
	SELECT g AS id, md5(g::text) AS h, 'a,"b"' || chr(10) || 'c' AS s, g * 1.5 AS amount
	FROM generate_series(1, 150000) g;
	CREATE TABLE small AS SELECT * FROM fact WHERE id <= 100;
});

my $endpoint = "$base/s3";
my $opts = qq{"endpoint": "$endpoint", "access_key_id": "{{secret:mock_key}}", "secret_access_key": "{{secret:mock_secret}}"};
my $secrets = qr/MOCKACCESSKEY|mock\/secret|mock\/WRONG|NOSUCHACCESSKEY|tok-77d2/;

# a single PUT, signed, checked by the store
my $r = $node->safe_psql('postgres',
	"SELECT rows, status, etag FROM elt.export('SELECT * FROM small ORDER BY id', 's3://exports/small.csv', 'csv', '{$opts}')");
like($r, qr/^100\|200\|"[0-9a-f]{32}"$/, 'signed single PUT accepted by the store');
is(object('small.csv'), copy_csv('SELECT * FROM small ORDER BY id'), 'the object is what COPY writes');

# multipart: every request (start, parts, completion) signed and checked
$r = $node->safe_psql('postgres',
	"SELECT rows, etag FROM elt.export('SELECT * FROM fact ORDER BY id', 's3://exports/dir/large file.csv', 'csv', '{$opts, \"part_size\": 5242880}')");
like($r, qr/^150000\|"[0-9a-f]{32}-[2-9]"$/, 'signed multipart upload accepted, in several parts');
is(object('dir/large%20file.csv'), copy_csv('SELECT * FROM fact ORDER BY id'),
	'the multipart object is what COPY writes');
is(store_field('open_uploads'), 0, 'no multipart upload left open');
is(store_field('signed_requests'), 1 + 2 + 1 + int(length(copy_csv('SELECT * FROM fact')) / 5242880),
	'each request was checked: a PUT, a start, every part and the completion');

# a wrong secret: the signature does not match
my ($ret, $out, $err);
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT * FROM small', 's3://exports/wrong.csv', 'csv', '{\"endpoint\": \"$endpoint\", \"access_key_id\": \"{{secret:mock_key}}\", \"secret_access_key\": \"{{secret:wrong_secret}}\"}')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42501.*HTTP status 403/, 'a wrong secret is refused by the store (403)');
like($err, qr/SignatureDoesNotMatch/, 'the store says the signature does not match');
unlike($err, $secrets, 'no secret value in the error');
ok(!defined object('wrong.csv'), 'no object with a wrong secret');
like(store(), qr/"SignatureDoesNotMatch":\s*1/, 'the store refused one request for its signature');

# an unknown access key
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT * FROM small', 's3://exports/wrong2.csv', 'csv', '{\"endpoint\": \"$endpoint\", \"access_key_id\": \"{{secret:wrong_key}}\", \"secret_access_key\": \"{{secret:mock_secret}}\"}')");
like($err, qr/InvalidAccessKeyId/, 'an unknown access key is refused');
unlike($err, $secrets, 'no secret value in the error');

# another region than the one signed for is a different signature
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT 1', 's3://exports/region.csv', 'csv', '{$opts, \"region\": \"eu-west-3\"}')");
is($ret, 0, 'any region signs consistently (the store derives the key from the scope)');

# the connection dropped in the middle of part 2's body
system("curl -s -X POST '$base/_control/s3/drop?part=2&bytes=100000' >/dev/null") == 0 or die;
my $dropped = store_field('dropped_requests');
my $aborted = store_field('aborted_uploads');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT * FROM fact ORDER BY id', 's3://exports/cut.csv', 'csv', '{$opts, \"part_size\": 5242880}')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a connection dropped mid-part fails the export');
like($err, qr/EL003/, 'with the transport error code');
unlike($err, $secrets, 'no secret value in the error');
is(store_field('dropped_requests'), $dropped + 1, 'the store did drop the part mid-body');
is(store_field('aborted_uploads'), $aborted + 1, 'the multipart upload was aborted (AbortMultipartUpload accepted)');
is(store_field('open_uploads'), 0, 'no multipart upload left open');
ok(!defined object('cut.csv'), 'no object after the dropped part');
is($node->safe_psql('postgres',
	"SELECT status, error_code, error IS NOT NULL FROM elt.export_run WHERE destination = 's3://exports/cut.csv'"),
	'failed|EL003|t', 'the failure is recorded in elt.export_run');

# HTTP: the connection dropped after 64 kB of a streamed PUT body
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT * FROM fact ORDER BY id', '$base/upload/cut.csv?drop_request=65536', 'csv', '{\"headers\": {\"Authorization\": \"Bearer {{secret:upload_token}}\"}}')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a connection dropped mid-body fails the HTTP export');
like($err, qr/EL003/, 'with the transport error code');
unlike($err, $secrets, 'no secret value in the error');
is(store_field('dropped_requests'), $dropped + 2, 'the server did drop the upload mid-body');
is($node->safe_psql('postgres', "SELECT status FROM elt.http_get('$base/upload/cut.csv')"), '404',
	'nothing stored after the dropped upload');
is($node->safe_psql('postgres',
	"SELECT status, error_code, rows IS NULL OR rows >= 0 FROM elt.export_run WHERE destination LIKE '%upload/cut.csv%'"),
	'failed|EL003|t', 'the failed HTTP export is recorded');

# POST, dropped before any byte of the body
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT * FROM small', '$base/upload/cut0.csv?drop_request=0', 'ndjson', '{\"method\": \"POST\"}')");
isnt($ret, 0, 'a POST dropped before its body fails');
is($node->safe_psql('postgres', "SELECT status FROM elt.http_get('$base/upload/cut0.csv')"), '404',
	'nothing stored');

# progress: an export is seen from another session while it runs, in
# elt.build_progress, with its phase, rows done and bytes sent
$node->safe_psql('postgres', 'CREATE ROLE export_other LOGIN');
sub watch_export
{
	my ($sql, $where) = @_;
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_until(qr/started/, "\\echo started\n$sql;\n");
	ok($node->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM elt.build_progress WHERE function = 'export' AND $where"),
		"the export is seen where $where");
	my $seen = $node->safe_psql('postgres',
		"SELECT target, phase, rows_done, bytes_done, run_by = current_user FROM elt.build_progress WHERE function = 'export'");
	my $other = $node->safe_psql('postgres',
		'SET ROLE export_other; SELECT count(*) FROM elt.build_progress');
	$bg->quit;
	return ($seen, $other);
}

# multipart: part 1 (the first 5 MiB, some 820 rows) is sent while the
# query, slow from row 1000 to 1600, goes on
my ($seen, $other) = watch_export(
	"SELECT rows FROM elt.export('SELECT i, repeat(md5(i::text), 200) AS pad FROM generate_series(1, 3000) i WHERE i <= 1000 OR i > 1600 OR pg_sleep(0.005) IS NOT NULL', 's3://exports/progress.csv', 'csv', '{$opts, \"part_size\": 5242880}')",
	"phase = 'sending part 1' AND rows_done > 1000");
like($seen, qr/^s3:\/\/exports\/progress\.csv\|sending part 1\|(\d+)\|(\d+)\|t$/,
	'export: destination, phase sending part 1, rows, bytes, role');
my ($rows_seen, $bytes_seen) = $seen =~ /\|(\d+)\|(\d+)\|t$/;
ok($rows_seen > 1000 && $rows_seen < 3000, "rows done while sending part 1 ($rows_seen)");
ok($bytes_seen >= 5242880 && $bytes_seen < 6600000, "bytes sent: part 1 ($bytes_seen)");
is($other, '0', 'another role does not see the export');
is($node->safe_psql('postgres',
	"SELECT status, rows, bytes > $bytes_seen FROM elt.export_run WHERE destination = 's3://exports/progress.csv'"),
	'succeeded|3000|t', 'the export went on to its end');
is($node->safe_psql('postgres', 'SELECT count(*) FROM elt.build_progress'), '0',
	'the report is gone when the export ends');

# HTTP, a slow destination: the body is sent, the answer awaited
($seen) = watch_export(
	"SELECT rows FROM elt.export('SELECT * FROM small ORDER BY id', '$base/upload/progress.csv?delay=3000', 'csv')",
	"phase = 'completing'");
my $bytes = $node->safe_psql('postgres',
	"SELECT bytes FROM elt.export_run WHERE destination LIKE '%upload/progress.csv%' AND status = 'succeeded'");
is($seen, "$base/upload/progress.csv?delay=3000|completing|100|$bytes|t",
	'export over HTTP: waiting for the answer, every row and byte sent');

# a destination longer than the report keeps is cut on a character
# boundary (14 ASCII bytes, then two-byte characters)
($seen) = watch_export(
	"SELECT rows FROM elt.export('SELECT pg_sleep(2)', 's3://exports/x' || repeat(chr(233), 80) || '.csv', 'csv', '{$opts}')",
	"phase = 'query'");
is($seen, 's3://exports/x' . ("\xc3\xa9" x 60) . '|query|0|0|t',
	'a long destination is cut before the character that does not fit');

# phases at DEBUG1; a failed export leaves no report behind
($ret, $out, $err) = $node->psql('postgres', <<SQL);
SET client_min_messages = debug1;
SELECT rows FROM elt.export('SELECT * FROM small', 's3://exports/debug.csv', 'csv', '{$opts}');
SQL
like($err, qr/export to s3:\/\/exports\/debug\.csv: start.*export phase: query.*export phase: sending.*export: done/s,
	'DEBUG1: start, query, sending, done');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.export('SELECT 1/(i - 50) FROM generate_series(1, 100) i', 's3://exports/fail.csv', 'csv', '{$opts}')");
like($err, qr/division by zero/, 'an export whose query fails');
is($node->safe_psql('postgres', 'SELECT count(*) FROM elt.build_progress'), '0',
	'leaves no report behind');
is($node->safe_psql('postgres', qq{
	DO \$\$ BEGIN
		PERFORM elt.export('SELECT 1/0', 's3://exports/fail2.csv', 'csv', '{$opts}');
	EXCEPTION WHEN division_by_zero THEN NULL;
	END \$\$;
	SELECT count(*) FROM elt.build_progress}), '0',
	'nor does one caught in an exception block');

unlike($node->safe_psql('postgres', "SELECT string_agg(concat_ws(' ', destination, error), ' ') FROM elt.export_run"),
	$secrets, 'no secret value in the history');
unlike(slurp_file($node->logfile), qr/mock\/secret|mock\/WRONG|NOSUCHACCESSKEY|tok-77d2/,
	'no secret value in the server log');

$node->stop;
done_testing();

# Secrets encrypted at rest: no value in the data directory (heap, WAL),
# in a superuser's pg_dump or in auto_explain's plans; the key file made
# with mode 0600 outside the data directory; a dump restored without the
# key fails clearly for the secrets only; rotation, a key command, bad key
# files, and who may rotate or configure the key.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $base = EltTest::mock_base();
my $value = 'AtRest-V4lue-5d2e71c9';
# statements of this test name the value only by its hash or its hex form,
# so that the server log can be searched for it
my $value_hash = sha256_hex($value);
my $value_hex = unpack('H*', $value);

my $node = EltTest::new_node('at_rest', <<CONF);
shared_preload_libraries = 'pg_elt, auto_explain'
auto_explain.log_min_duration = 0
auto_explain.log_nested_statements = on
auto_explain.log_analyze = on
auto_explain.log_verbose = on
log_statement = 'all'
log_min_duration_statement = 0
CONF
my $key_file = $node->basedir . '/pg_elt_secret.key';

# Files under dir whose bytes contain needle.
sub files_containing
{
	my ($dir, $needle) = @_;
	my @found;
	find(
		{
			no_chdir => 1,
			wanted => sub {
				return unless -f $_;
				open(my $fh, '<:raw', $_) or return;
				local $/;
				my $bytes = <$fh>;
				close $fh;
				push @found, $_ if defined $bytes && index($bytes, $needle) >= 0;
			}
		},
		$dir);
	return @found;
}

# Point the key settings somewhere and wait until new sessions see it.
sub set_key_conf
{
	my ($n, $file, $command) = @_;
	$command =~ s/'/''/g;
	$n->safe_psql('postgres', qq{
		ALTER SYSTEM SET pg_elt.secret_key_file = '$file';
		ALTER SYSTEM SET pg_elt.secret_key_command = '$command';
		SELECT pg_reload_conf();
	});
	$n->poll_query_until('postgres',
		"SELECT current_setting('pg_elt.secret_key_file') = '$file' "
		  . "AND current_setting('pg_elt.secret_key_command') = '$command'")
	  or die 'the key settings were not reloaded';
}

# Did header X-Tok reach the mock API with the expected value?
sub echoes_value
{
	my ($n, $db, $secret, $expected) = @_;
	my $hash = sha256_hex($expected);
	return $n->safe_psql($db,
		"SELECT encode(sha256(convert_to((body::jsonb)->'headers'->>'x-tok', 'UTF8')), 'hex') = '$hash' "
		  . "FROM elt.http_get('$base/echo', '{\"X-Tok\": \"{{secret:$secret}}\"}')");
}

ok(!-e $key_file, 'no key file before the first secret');
$node->safe_psql('postgres',
	"SELECT elt.set_secret('tok', convert_from(decode('$value_hex', 'hex'), 'UTF8'))");

# the key file: created on first use, outside the data directory, 0600
ok(-f $key_file, 'the key file is created on first use');
is(sprintf('%04o', (stat($key_file))[2] & 07777), '0600', 'with mode 0600');
like(slurp_file($key_file), qr/\A[0-9a-f]{64}\n\z/, 'holding one 256-bit key in hex');
is(scalar(files_containing($node->data_dir, slurp_file($key_file) =~ s/\n//r)), 0,
	'the key is nowhere in the data directory');

# the request carries the value
is(echoes_value($node, 'postgres', 'tok', $value), 't', 'the value reaches the API');

# nothing on disk has it: heap, WAL, anything else in the data directory;
# a plain value in an ordinary table shows the search would find it
$node->safe_psql('postgres',
	"CREATE TABLE canary (t text); INSERT INTO canary VALUES ('Canary-Plain-93e1f0')");
$node->safe_psql('postgres', 'CHECKPOINT');
my @canary = files_containing($node->data_dir, 'Canary-Plain-93e1f0');
ok((grep { m{/pg_wal/} } @canary) && (grep { m{/base/} } @canary),
	'the search finds a plain value in the heap and in pg_wal');
my @found = files_containing($node->data_dir, $value);
is_deeply(\@found, [], 'no file of the data directory contains the value');

# nor a superuser's dump, which carries the ciphertext
my $dump = $PostgreSQL::Test::Utils::tmp_check . '/at_rest_dump.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
my $dumped = slurp_file($dump);
unlike($dumped, qr/\Q$value\E/, 'the dump does not contain the value');
like($dumped, qr/COPY elt\.secret .*ciphertext/, 'it has the encrypted secrets');

# nor the server log, where auto_explain printed the plans of our statements
my $log = slurp_file($node->logfile);
like($log, qr/INSERT INTO elt\.secret/, 'auto_explain logged the INSERT of the secret');
unlike($log, qr/\Q$value\E/, 'the server log does not contain the value');

# the superuser sees ciphertext only
is($node->safe_psql('postgres',
	"SELECT position(decode('$value_hex', 'hex') IN ciphertext) FROM elt.secret WHERE name = 'tok'"),
	'0', 'the table holds no plain text');

# restore into a server without the key: the secrets say so, the rest works
my $other = EltTest::new_node('at_rest_other');
$other->safe_psql('postgres', 'CREATE DATABASE restored');
$other->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $other->connstr('restored'), '-f', $dump ],
	'the dump restores on a server without the key');
my ($ret, $out, $err) = $other->psql('restored',
	"SELECT elt.http_get('$base/echo', '{\"X-Tok\": \"{{secret:tok}}\"}')");
isnt($ret, 0, 'using a secret whose key is missing fails');
like($err, qr/secret "tok" cannot be decrypted/, 'saying the secret cannot be decrypted');
my $key_id = $node->safe_psql('postgres', "SELECT key_id FROM elt.secret WHERE name = 'tok'");
like($err, qr/DETAIL:  It is encrypted under key $key_id, and the secret key file "\.\.\/pg_elt_secret\.key" does not exist\./,
	'naming the key it needs');
like($err, qr/HINT:  Install the key file/, 'with a hint');
unlike($err, qr/\Q$value\E/, 'without the value');
is($other->safe_psql('restored', 'SELECT name FROM elt.secrets'), 'tok', 'the secret is listed');
$other->safe_psql('restored', "SELECT elt.set_secret('fresh', 'fresh-value')");
is(echoes_value($other, 'restored', 'fresh', 'fresh-value'), 't', 'new secrets work there');
is($other->safe_psql('restored', "SELECT status FROM elt.http_get('$base/small')"), '200',
	'and requests without secrets');
($ret, $out, $err) = $other->psql('restored',
	"SELECT elt.http_get('$base/echo', '{\"X-Tok\": \"{{secret:tok}}\"}')");
like($err, qr/It is encrypted under key $key_id, which is not among the keys of the secret key file/,
	'with another key the detail says the key is not there');
($ret, $out, $err) = $other->psql('restored', 'SELECT reencrypted, undecryptable FROM elt.rotate_secret_key()');
is($out, '1|1', 'rotation there re-encrypts what it can and counts the rest');
like($err, qr/secret "tok" cannot be decrypted and was left as it was/, 'with a warning');
# adding the old key (any line) makes it usable
my $other_key_file = $other->basedir . '/pg_elt_secret.key';
append_to_file($other_key_file, slurp_file($key_file));
is(echoes_value($other, 'restored', 'tok', $value), 't', 'with the old key added, the secret decrypts');
$other->stop;

# rotation: a new key first in the file, the old one kept, every secret
# re-encrypted; the old ciphertext is gone from the table
my $old_ct = $node->safe_psql('postgres', "SELECT encode(ciphertext, 'hex') FROM elt.secret WHERE name = 'tok'");
my $old_key_line = slurp_file($key_file);
my $rot = $node->safe_psql('postgres', 'SELECT key_id, reencrypted, undecryptable FROM elt.rotate_secret_key()');
my ($new_id, $count, $bad) = split /\|/, $rot;
isnt($new_id, $key_id, 'rotation makes a new key');
is("$count|$bad", '1|0', 'and re-encrypts the secret');
my $keys_now = slurp_file($key_file);
like($keys_now, qr/\A[0-9a-f]{64}\n\Q$old_key_line\E\z/, 'the new key is first in the file, the old one kept');
is(sprintf('%04o', (stat($key_file))[2] & 07777), '0600', 'the rewritten file has mode 0600');
is($node->safe_psql('postgres', "SELECT key_id FROM elt.secret WHERE name = 'tok'"), $new_id,
	'the secret is under the new key');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM elt.secret WHERE encode(ciphertext, 'hex') = '$old_ct'"), '0',
	'the old ciphertext is gone');
is(echoes_value($node, 'postgres', 'tok', $value), 't', 'the secret still works');

# a rotation rolled back leaves the secret decryptable
$node->safe_psql('postgres', 'BEGIN; SELECT elt.rotate_secret_key(); ROLLBACK;');
is(scalar(() = slurp_file($key_file) =~ /\n/g), 3, 'the rolled-back rotation left its key');
is(echoes_value($node, 'postgres', 'tok', $value), 't', 'and the secret still works');

# a key command printing the keys (here: the key file's lines)
my $keys_copy = $node->basedir . '/keys_for_command.txt';
append_to_file($keys_copy, slurp_file($key_file));
chmod 0600, $keys_copy;
set_key_conf($node, '', "cat $keys_copy");
is(echoes_value($node, 'postgres', 'tok', $value), 't', 'a key command gives the keys');
# a new current key printed by the command, then rotation under it
my $cmd_key = '5c' x 32;
my $cmd_file = $node->basedir . '/keys_for_command2.txt';
append_to_file($cmd_file, "$cmd_key\n" . slurp_file($key_file));
set_key_conf($node, '', "cat $cmd_file");
$rot = $node->safe_psql('postgres', 'SELECT key_id, reencrypted FROM elt.rotate_secret_key()');
($new_id, $count) = split /\|/, $rot;
is($count, '1', 'rotation with a key command re-encrypts');
is($node->safe_psql('postgres', "SELECT key_id FROM elt.secret WHERE name = 'tok'"), $new_id,
	'under the first key it prints');
is(echoes_value($node, 'postgres', 'tok', $value), 't', 'and the secret works');
set_key_conf($node, '', "printf '%s\\n' $cmd_key");
is(echoes_value($node, 'postgres', 'tok', $value), 't', 'a command printing only that key is enough');

# a failing command, both settings, none
set_key_conf($node, '', 'exit 3');
($ret, $out, $err) = $node->psql('postgres', "SELECT elt.set_secret('t2', 'x')");
like($err, qr/ERROR:  pg_elt.secret_key_command failed\nDETAIL:  child process exited with exit code 3/,
	'a failing key command is an error');
set_key_conf($node, '', "printf 'abc\\n'");
($ret, $out, $err) = $node->psql('postgres', "SELECT elt.set_secret('t2', 'x')");
like($err, qr/invalid secret key on line 1 of pg_elt.secret_key_command/, 'a bad key printed is refused');
unlike($err, qr/abc/, 'without quoting it');
set_key_conf($node, $key_file, "printf '%s\\n' $cmd_key");
($ret, $out, $err) = $node->psql('postgres', "SELECT elt.set_secret('t2', 'x')");
like($err, qr/pg_elt.secret_key_file and pg_elt.secret_key_command are both set/, 'both settings are refused');
set_key_conf($node, '', '');
($ret, $out, $err) = $node->psql('postgres', "SELECT elt.set_secret('t2', 'x')");
like($err, qr/ERROR:  no secret key is configured\n.*\nHINT:  A superuser can set pg_elt.secret_key_file/s,
	'no key configured is a clear error on set_secret');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.http_get('$base/echo', '{\"X-Tok\": \"{{secret:tok}}\"}')");
like($err, qr/ERROR:  no secret key is configured/, 'and on use');

# bad key files
my $bad_file = $node->basedir . '/bad.key';
append_to_file($bad_file, "0123abcd\n");
chmod 0600, $bad_file;
set_key_conf($node, $bad_file, '');
($ret, $out, $err) = $node->psql('postgres', "SELECT elt.set_secret('t2', 'x')");
like($err, qr/ERROR:  invalid secret key on line 1 of the secret key file "\Q$bad_file\E"\nDETAIL:  A key is 64 hexadecimal digits/,
	'a key of the wrong length is refused');
my $open_file = $node->basedir . '/open.key';
append_to_file($open_file, ('ab' x 32) . "\n");
chmod 0640, $open_file;
set_key_conf($node, $open_file, '');
($ret, $out, $err) = $node->psql('postgres', "SELECT elt.set_secret('t2', 'x')");
like($err, qr/ERROR:  secret key file "\Q$open_file\E" has group or world access/,
	'a group-readable key file is refused');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.http_get('$base/echo', '{\"X-Tok\": \"{{secret:tok}}\"}')");
like($err, qr/has group or world access/, 'also when a secret is used');

# back to the key file, which lacks the key printed by the command
set_key_conf($node, $key_file, '');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT elt.http_get('$base/echo', '{\"X-Tok\": \"{{secret:tok}}\"}')");
like($err, qr/which is not among the keys of the secret key file/,
	'a secret under a key the file lacks cannot be decrypted');
append_to_file($key_file, "$cmd_key\n");
is(echoes_value($node, 'postgres', 'tok', $value), 't', 'with that key added at the end, it works');

# only superusers may rotate or configure the key
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
for my $sql (
	'SELECT elt.rotate_secret_key()',
	"SET pg_elt.secret_key_file = '/tmp/x.key'",
	"SET pg_elt.secret_key_command = 'echo'",
	"ALTER SYSTEM SET pg_elt.secret_key_file = '/tmp/x.key'",
	'SHOW pg_elt.secret_key_command')
{
	($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-U', 'plain' ]);
	isnt($ret, 0, "a non-superuser cannot: $sql");
}
$node->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION elt.rotate_secret_key(boolean) TO plain');
($ret, $out, $err) = $node->psql('postgres', 'SELECT elt.rotate_secret_key()', extra_params => [ '-U', 'plain' ]);
like($err, qr/permission denied to rotate the secret key/, 'not even when granted EXECUTE');

# indirect calls: EXECUTE of a prepared statement (log_statement names the
# PREPARE in its detail), and a wrapper function whose duration line and
# auto_explain plan are logged after set_secret ran
$node->safe_psql('postgres', q{
	PREPARE setter(text, text) AS SELECT elt.set_secret($1, $2);
	EXECUTE setter('via_execute', 'Exec-V4lue-77ab01');
});
$node->safe_psql('postgres', q{
	CREATE FUNCTION set_token(v text) RETURNS void LANGUAGE sql
		AS $$ SELECT elt.set_secret('via_wrapper', v) $$;
	SET log_statement = 'none';
	SELECT set_token('Wrap-V4lue-88cd02');
});

$log = slurp_file($node->logfile);
unlike($log, qr/Exec-V4lue-77ab01/, 'EXECUTE of a prepared set_secret is redacted in the log');
unlike($log, qr/Wrap-V4lue-88cd02/, 'so are the duration and plan of a wrapper function');
like($log, qr/statement: <redacted>/, 'the log shows where it cut');
unlike($log, qr/\Q$value\E/, 'the server log never contained the value');
my $first_key = $old_key_line =~ s/\n//r;
unlike($log, qr/\Q$first_key\E/, 'nor the key of the key file');

$node->stop;
done_testing();

# elt.build_progress: while a build runs in one session (its source made
# slow with pg_sleep per row), another session sees its function, target
# and phase; another role does not, a pg_monitor member does; the report
# is gone once the build ends, also when it fails; phases are logged at
# DEBUG1.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $node = EltTest::new_node('progress');
$node->safe_psql('postgres', <<'SQL');
CREATE ROLE prog_owner LOGIN;
CREATE ROLE prog_other LOGIN;
CREATE ROLE prog_monitor LOGIN IN ROLE pg_monitor;
CREATE SCHEMA prog AUTHORIZATION prog_owner;
SET ROLE prog_owner;
CREATE TABLE prog.src AS SELECT i AS id, 'n' || i AS name FROM generate_series(1, 400) i;
CREATE VIEW prog.slow AS SELECT id, name FROM prog.src WHERE pg_sleep(0.01)::text = '';
SELECT elt.merge_dimension('prog.dim_thing', 'prog.src', '{id}');
SELECT elt.merge('prog.thing', 'prog.src', '{id}');
SELECT elt.merge_fact('prog.fact_thing', 'prog.src', '{id}');
SQL

is($node->safe_psql('postgres', 'SELECT count(*) FROM elt.build_progress'), '0',
	'no build in progress');

# Run a build in the background and wait until another session sees it in
# the given phase; return what that session saw.
sub watch_build
{
	my ($sql, $function, $phase) = @_;
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_safe('SET ROLE prog_owner');
	$bg->query_until(qr/started/, "\\echo started\n$sql;\n");
	ok( $node->poll_query_until(
			'postgres', <<SQL),
SELECT count(*) = 1 FROM elt.build_progress
 WHERE function = '$function' AND phase = '$phase'
SQL
		"$function is seen in phase $phase");
	my $seen = $node->safe_psql('postgres', <<SQL);
SELECT function, target, phase, run_by, rows_done >= 0, running_for >= '0', pid <> pg_backend_pid()
  FROM elt.build_progress
SQL
	my $other = $node->safe_psql('postgres',
		'SET ROLE prog_other; SELECT count(*) FROM elt.build_progress');
	my $monitor = $node->safe_psql('postgres',
		'SET ROLE prog_monitor; SELECT count(*) FROM elt.build_progress');
	$bg->quit;
	return ($seen, $other, $monitor);
}

my ($seen, $other, $monitor) = watch_build(
	"SELECT * FROM elt.merge_dimension('prog.dim_thing', 'SELECT id, name || ''x'' AS name FROM prog.slow', '{id}')",
	'merge_dimension', 'classify');
is($seen, 'merge_dimension|prog.dim_thing|classify|prog_owner|t|t|t',
	'merge_dimension: function, target, phase, role');
is($other, '0', 'another role does not see the build');
is($monitor, '1', 'a pg_monitor member sees it');

my $rows = $node->safe_psql('postgres', <<'SQL');
SELECT count(*) FROM elt.build_progress
SQL
is($rows, '0', 'the report is gone when the build ends');

($seen) = watch_build(
	"SELECT * FROM elt.merge('prog.thing', 'SELECT id, name || ''y'' AS name FROM prog.slow', '{id}')",
	'merge', 'read');
is($seen, 'merge|prog.thing|read|prog_owner|t|t|t', 'merge: reading its source');

($seen) = watch_build(
	"SELECT * FROM elt.merge_fact('prog.fact_thing', 'prog.slow', '{id}')",
	'merge_fact', 'read');
is($seen, 'merge_fact|prog.fact_thing|read|prog_owner|t|t|t', 'merge_fact: reading its source');

# rows done: the classifying pass has read every source row when the build
# waits in its close phase for a row another session has locked
{
	my $locker = $node->background_psql('postgres');
	$locker->query_safe('BEGIN');
	$locker->query_safe('SELECT id FROM prog.dim_thing WHERE id = 1 AND is_current FOR UPDATE');
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_safe('SET ROLE prog_owner');
	$bg->query_until(qr/started/,
		"\\echo started\nSELECT * FROM elt.merge_dimension('prog.dim_thing', 'SELECT id, name || ''w'' AS name FROM prog.src', '{id}');\n");
	ok( $node->poll_query_until(
			'postgres', <<'SQL'),
SELECT count(*) = 1 FROM elt.build_progress
 WHERE function = 'merge_dimension' AND phase = 'close' AND rows_done = 400
SQL
		'a build waiting in its close phase has counted the rows it read');
	$locker->query_safe('COMMIT');
	$locker->quit;
	$bg->quit;
}

# a failing build leaves no report behind
$node->safe_psql('postgres', <<'SQL');
SET ROLE prog_owner;
CREATE TABLE prog.dup AS SELECT 1 AS id, 'a' AS name UNION ALL SELECT 1, 'b';
SQL
my ($ret, $out, $err) = $node->psql('postgres', <<'SQL');
SET ROLE prog_owner;
SET client_min_messages = debug1;
SELECT * FROM elt.merge_dimension('prog.dim_thing', 'prog.dup', '{id}');
SQL
isnt($ret, 0, 'the build with duplicate keys fails');
like($err, qr/merge_dimension of prog\.dim_thing: start/, 'DEBUG1: the build starts');
like($err, qr/model build phase: classify/, 'DEBUG1: its phase');
is($node->safe_psql('postgres', 'SELECT count(*) FROM elt.build_progress'), '0',
	'no report is left by the failed build');

# nor does one caught by an exception block while its transaction goes on
{
	my $bg = $node->background_psql('postgres');
	$bg->query_safe('SET ROLE prog_owner');
	$bg->query_safe('BEGIN');
	$bg->query_safe(<<'SQL');
DO $$
BEGIN
	PERFORM elt.merge_dimension('prog.dim_thing', 'prog.dup', '{id}');
EXCEPTION WHEN unique_violation THEN
	NULL;
END
$$
SQL
	is($node->safe_psql('postgres', 'SELECT count(*) FROM elt.build_progress'), '0',
		'no report is left by a build caught in an exception block');
	$bg->query_safe('COMMIT');
	$bg->quit;
}

# a finished build logs its phases and its end
($ret, $out, $err) = $node->psql('postgres', <<'SQL');
SET ROLE prog_owner;
SET client_min_messages = debug1;
SELECT * FROM elt.merge('prog.thing', 'prog.src', '{id}');
SQL
is($ret, 0, 'a merge succeeds');
like($err, qr/model build phase: read.*model build phase: update.*model build phase: insert.*model build: done/s,
	'DEBUG1: read, update, insert, done');

done_testing();

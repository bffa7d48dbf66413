# Two databases with pg_elt, the scheduler in one of them (pg_elt.database):
# there schedules fire; in the other a schedule is refused with a hint
# (it would never fire), scheduler_pid() is NULL, elt.trigger() is
# refused, and elt.run_pipeline() still runs a pipeline in its own database.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $node = EltTest::new_node('two_databases');
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION pg_elt');
$node->safe_psql('postgres', 'CREATE ROLE alice LOGIN');

is($node->safe_psql('postgres', 'SELECT elt.scheduler_pid() IS NOT NULL'), 't',
	'scheduler_pid() in the scheduler database');
is($node->safe_psql('other', 'SELECT elt.scheduler_pid() IS NULL'), 't',
	'scheduler_pid() is NULL in the other database');

# The scheduler's database: a schedule fires.
$node->safe_psql('postgres', q{
	SET ROLE alice;
	SELECT elt.schedule('tick', '1 second', 'SELECT 1');
});
ok($node->poll_query_until('postgres',
		"SELECT count(*) >= 2 FROM elt.run WHERE pipeline = 'tick' AND status = 'succeeded'"),
	'a schedule fires in the scheduler database');

# The other database: refused, each way a schedule can be set.
my %ways = (
	'create_pipeline' => "SELECT elt.create_pipeline('p', '*/5 * * * *')",
	'schedule' => "SELECT elt.schedule('p', '\@daily', 'SELECT 1')",
	'alter_pipeline' => "SELECT elt.create_pipeline('q'); SELECT elt.alter_pipeline('q', '\@hourly')",
	'INSERT' => "INSERT INTO elt.pipeline (name, schedule) VALUES ('r', '1 hour')");
for my $way (sort keys %ways)
{
	my ($ret, $out, $err) = $node->psql('other', "SET ROLE alice; $ways{$way}");
	isnt($ret, 0, "$way: a schedule is refused in the other database");
	like($err, qr/cannot have a schedule in database "other"/, "$way: the message names the database");
	like($err, qr/HINT:  Define scheduled pipelines in database "postgres"/,
		"$way: the hint names the scheduler's database");
}
is($node->safe_psql('other', 'SELECT count(*) FROM elt.pipeline WHERE schedule IS NOT NULL'), '0',
	'no schedule was stored');

# Without a schedule a pipeline is fine there, and runs from a session.
$node->safe_psql('other', q{
	CREATE TABLE public.hits (db text, who text);
	GRANT INSERT ON public.hits TO alice;
	SET ROLE alice;
	SELECT elt.create_pipeline('adhoc');
	SELECT elt.add_step('adhoc', 'hit', 'INSERT INTO public.hits VALUES (current_database(), current_user)');
});
$node->safe_psql('other', "SET ROLE alice; SELECT elt.run_pipeline('adhoc')");
is($node->safe_psql('other', q{SELECT db || ' / ' || who FROM public.hits}), 'other / alice',
	'run_pipeline() runs in the pipeline\'s own database, as its owner');
my ($ret, $out, $err) = $node->psql('other', "SET ROLE alice; SELECT elt.trigger('adhoc')");
like($err, qr/the pg_elt scheduler does not run in database "other"/, 'trigger() is refused there');
like($err, qr/HINT:  Use elt.run_pipeline\(\)/, '... with a hint');

$node->stop;
done_testing();

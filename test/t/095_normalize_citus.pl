# elt.normalize on Citus: a coordinator and two workers, against the same
# normalization on a plain PostgreSQL node, step for step.  The staging
# tables are distributed (by _elt_record, as the Citus guide does), the
# typed root table by its key, the child tables by the root key,
# co-located with it; later batches are merged into them (new versions,
# new columns, a widened column, a new child table) and every typed table
# must equal its plain twin row for row after each step.  A stream without
# a primary key, whose row keys come from the position of a record in its
# staging table, must not meet a key twice across the shards.  Skipped
# when Citus is not installed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

plan skip_all => 'Citus is not installed' unless EltTest::citus_installed();

# --- the cluster: a coordinator and two workers holding the shards
my @nodes = EltTest::citus_cluster('nzcitus', "timezone = 'UTC'\n");
my $c = $nodes[0];

# --- the plain twin
my $p = EltTest::new_node('nzcitus_plain', "timezone = 'UTC'\n");

sub both
{
	my ($sql) = @_;
	return ($c->safe_psql('postgres', $sql), $p->safe_psql('postgres', $sql));
}

sub same
{
	my ($what, $sql) = @_;
	my ($co, $po) = both($sql);
	is($co, $po, "$what: the same on Citus and plain");
	return $co;
}

# Every typed table of the two streams, row for row (but _elt_loaded_at),
# the same on both.
sub same_tables
{
	my ($step) = @_;
	my $tables = $p->safe_psql('postgres',
		"SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM elt.normalize_table");
	is( $c->safe_psql('postgres',
			"SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM elt.normalize_table"),
		$tables, "$step: the same typed tables");
	for my $t (split / /, $tables)
	{
		# the row keys of a stream without a primary key come from where its
		# records lie in the staging table, which differs between the two:
		# those rows are compared without their keys, and joined back below
		my $strip = $t =~ /^events/
		  ? " - '_elt_id' - '_elt_parent_id' - '_elt_root_id'" : '';
		my $sql = <<SQL;
SELECT count(*) || ' ' || coalesce(md5(string_agg(r, E'\\n' ORDER BY r)), '')
  FROM (SELECT (to_jsonb(x) - '_elt_loaded_at'$strip)::text AS r FROM typed.$t x) y
SQL
		my ($co, $po) = both($sql);
		is($co, $po, "$step: typed.$t the same on Citus and plain");
		unlike($co, qr/^0 /, "$step: typed.$t has rows");
	}
	my $joined = <<'SQL';
SELECT count(*) || ' ' || md5(string_agg(r, E'\n' ORDER BY r))
  FROM (SELECT concat_ws('|', e._elt_batch_id, e.kind, e.at, t._elt_list_idx, t.value) AS r
		  FROM typed.events e JOIN typed.events__tags t ON t._elt_root_id = e._elt_id
		   AND t._elt_parent_id = e._elt_id) x
SQL
	my ($co, $po) = both($joined);
	is($co, $po, "$step: events joined to their tags the same on Citus and plain");
}

# two streams, one with a primary key, one without; staging tables as an
# extract leaves them, distributed on Citus before their first batch
both(<<'SQL');
SELECT elt.create_source('ct', 'http://127.0.0.1:1');
SELECT elt.create_stream('ct', 'users', '/unused', primary_key => '{login.uuid}');
SELECT elt.create_stream('ct', 'events', '/unused');
CREATE SCHEMA staging;
CREATE TABLE staging.ct_users (_elt_batch_id bigint NOT NULL,
	_elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
CREATE TABLE staging.ct_events (_elt_batch_id bigint NOT NULL,
	_elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
CREATE FUNCTION public.batch(stream text, id bigint, records jsonb[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	s elt.stream := elt._resolve_stream(stream);
BEGIN
	INSERT INTO elt.batch (batch_id, stream_id, stream, target, status, started_at)
	VALUES (id, s.stream_id, stream, s.target, 'succeeded', now());
	EXECUTE format('INSERT INTO %s (_elt_batch_id, _elt_record) SELECT $1, r FROM unnest($2) r', s.target)
		USING id, records;
END $$;
SQL
$c->safe_psql('postgres', <<'SQL');
SELECT create_distributed_table('staging.ct_users', '_elt_record');
SELECT create_distributed_table('staging.ct_events', '_elt_record');
SQL

# first batches: 200 users with orders and their items; 400 events, each
# twice (identical records, so on the same shard), that are no one's
# versions of anything: appended
both(<<'SQL');
SELECT public.batch('ct.users', 1, ARRAY(SELECT jsonb_build_object('login', jsonb_build_object('uuid', 'u' || g),
		'n', g, 'orders', jsonb_build_array(jsonb_build_object('sku', 'a' || g, 'items', jsonb_build_array(g, g + 1))))
	FROM generate_series(1, 200) g));
SELECT public.batch('ct.events', 11, ARRAY(SELECT jsonb_build_object('kind', 'e' || (g % 7), 'at', '2024-01-01T00:00:00Z',
		'tags', jsonb_build_array('x', g % 3))
	FROM generate_series(1, 400) g, generate_series(1, 2) twice));
SQL
same('first batch of users', "SELECT root_rows, child_rows FROM elt.normalize('ct.users', 'typed')");
same('first batch of events', "SELECT root_rows, child_rows FROM elt.normalize('ct.events', 'typed')");

# distribute: each root by its key, its children by the root key, co-located
$c->safe_psql('postgres', <<'SQL');
SELECT create_distributed_table('typed.users', '_elt_id');
SELECT create_distributed_table('typed.users__orders', '_elt_root_id', colocate_with => 'typed.users');
SELECT create_distributed_table('typed.users__orders__items', '_elt_root_id', colocate_with => 'typed.users');
SELECT create_distributed_table('typed.events', '_elt_id', colocate_with => 'typed.users');
SELECT create_distributed_table('typed.events__tags', '_elt_root_id', colocate_with => 'typed.users');
SQL
is( $c->safe_psql(
		'postgres',
		"SELECT count(DISTINCT colocationid) || ':' || count(*) FROM pg_dist_partition
		  WHERE logicalrelid::text LIKE 'typed.%'"),
	'1:5',
	'typed tables distributed and co-located');
is( $c->safe_psql(
		'postgres',
		"SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement p JOIN pg_dist_shard s USING (shardid)
		  WHERE s.logicalrelid IN ('typed.users'::regclass, 'staging.ct_events'::regclass)"),
	'2',
	'the shards spread over the two workers');
same_tables('after the first batches');

# later batches: new versions of 40 users (fewer items), new users, a new
# column, n widened to numeric, a new child table; more events, one with
# a new key and a text where integers were
both(<<'SQL');
SELECT public.batch('ct.users', 2, ARRAY(SELECT jsonb_build_object('login', jsonb_build_object('uuid', 'u' || g),
		'n', g + 0.5, 'nick', 'n' || g, 'tags', jsonb_build_array('t'),
		'orders', jsonb_build_array(jsonb_build_object('sku', 'b' || g, 'items', jsonb_build_array(g))))
	FROM generate_series(161, 240) g));
SELECT public.batch('ct.events', 12, ARRAY(SELECT jsonb_build_object('kind', 'e' || (g % 7), 'at', '2024-01-02T00:00:00Z',
		'tags', jsonb_build_array('y', CASE WHEN g = 5 THEN to_jsonb('five'::text) ELSE to_jsonb(g) END))
		|| CASE WHEN g = 7 THEN '{"extra": true}'::jsonb ELSE '{}' END
	FROM generate_series(1, 300) g));
SQL
same('second batch of users', "SELECT batches, root_rows, child_rows, schema_changes FROM elt.normalize('ct.users')");
same('second batch of events', "SELECT batches, root_rows, child_rows, schema_changes FROM elt.normalize('ct.events')");
same_tables('after the second batches');
is($c->safe_psql('postgres', 'SELECT count(*), count(nick) FROM typed.users'), '240|80',
	'240 users, none doubled, the new column filled for the new versions');
is( $c->safe_psql(
		'postgres', "SELECT data_type FROM information_schema.columns
		  WHERE table_schema = 'typed' AND table_name = 'users' AND column_name = 'n'"),
	'numeric',
	'n widened to numeric on the distributed table');
is($c->safe_psql('postgres', 'SELECT count(*), count(DISTINCT _elt_id) FROM typed.events'), '1100|1100',
	'every event a row of its own, its key unique across the shards');
is( $c->safe_psql(
		'postgres', "SELECT count(*) FROM typed.users u JOIN typed.users__orders o ON o._elt_root_id = u._elt_id
		  JOIN typed.users__orders__items i ON i._elt_root_id = o._elt_root_id AND i._elt_parent_id = o._elt_id"),
	160 * 2 + 80,
	'joins back across the co-located tables (by the root key)');
same('schema changes',
	"SELECT string_agg(table_name || ' ' || coalesce(column_name, '-') || ' ' || change, ', '
	   ORDER BY table_name, column_name, change) FROM elt.schema_change");

# the replayed call does nothing
same('nothing twice', "SELECT batches FROM elt.normalize('ct.users')");
same_tables('after the replayed call');

$_->stop for (@nodes, $p);
done_testing();

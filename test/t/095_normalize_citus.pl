# elt.normalize on Citus: the typed root table distributed by its key, the
# child tables co-located with it by the root key, and later batches merged
# into them (new versions, new columns, a widened column, a new child
# table).  Skipped when Citus is not installed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
plan skip_all => 'Citus is not installed' unless -f "$pkglibdir/citus.so";

my $node = EltTest::new_node('citus', "shared_preload_libraries = 'citus,pg_elt'\n");
$node->safe_psql('postgres', 'CREATE EXTENSION citus');
# a single-node cluster: the coordinator holds the shards
my ($host, $port) = ($node->host, $node->port);
$node->safe_psql('postgres', "SELECT citus_set_coordinator_host('$host', $port)");
$node->safe_psql('postgres',
	"SELECT citus_set_node_property('$host', $port, 'shouldhaveshards', true)");

# a stream with a primary key, its staging table filled by hand as an
# extract would have left it
$node->safe_psql('postgres', <<'SQL');
SELECT elt.create_source('ct', 'http://127.0.0.1:1');
SELECT elt.create_stream('ct', 'users', '/unused', primary_key => '{login.uuid}');
CREATE SCHEMA staging;
CREATE TABLE staging.ct_users (_elt_batch_id bigint NOT NULL,
	_elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
CREATE FUNCTION public.batch(id bigint, records jsonb[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO elt.batch (batch_id, stream_id, stream, target, status, started_at)
	SELECT id, s.stream_id, 'ct.users', s.target, 'succeeded', now() FROM elt.stream s;
	INSERT INTO staging.ct_users (_elt_batch_id, _elt_record) SELECT id, r FROM unnest(records) r;
END $$;
SELECT public.batch(1, ARRAY(SELECT jsonb_build_object('login', jsonb_build_object('uuid', 'u' || g),
		'n', g, 'orders', jsonb_build_array(jsonb_build_object('sku', 'a' || g, 'items', jsonb_build_array(g, g + 1))))
	FROM generate_series(1, 50) g));
SQL
is($node->safe_psql('postgres', "SELECT root_rows, child_rows FROM elt.normalize('ct.users', 'typed')"),
	'50|150', 'first batch normalized');

# distribute: the root by its key, the children by the root key, co-located
$node->safe_psql('postgres', <<'SQL');
SELECT create_distributed_table('typed.users', '_elt_id');
SELECT create_distributed_table('typed.users__orders', '_elt_root_id', colocate_with => 'typed.users');
SELECT create_distributed_table('typed.users__orders__items', '_elt_root_id', colocate_with => 'typed.users');
SQL
is( $node->safe_psql(
		'postgres',
		"SELECT count(DISTINCT colocationid) || ':' || count(*) FROM pg_dist_partition
		  WHERE logicalrelid::text LIKE 'typed.%'"),
	'1:3',
	'typed tables distributed and co-located');

# later batches: new versions of 10 users (fewer items), new users, a new
# column, n widened to numeric, a new child table
$node->safe_psql('postgres', <<'SQL');
SELECT public.batch(2, ARRAY(SELECT jsonb_build_object('login', jsonb_build_object('uuid', 'u' || g),
		'n', g + 0.5, 'nick', 'n' || g, 'tags', jsonb_build_array('t'),
		'orders', jsonb_build_array(jsonb_build_object('sku', 'b' || g, 'items', jsonb_build_array(g))))
	FROM generate_series(41, 60) g));
SQL
is($node->safe_psql('postgres', "SELECT batches, root_rows FROM elt.normalize('ct.users')"),
	'1|20', 'second batch merged on Citus');
my ($count, $nicks, $sum) = split /\|/,
  $node->safe_psql('postgres', "SELECT count(*), count(nick), sum(n) FROM typed.users");
is($count, 60, 'sixty users, none doubled');
is($nicks, 20, 'the new column filled for the new versions');
is($sum + 0, (1 + 40) * 40 / 2 + (41 + 60) * 20 / 2 + 10, 'n widened, values kept');
is( $node->safe_psql(
		'postgres', "SELECT data_type FROM information_schema.columns
		  WHERE table_schema = 'typed' AND table_name = 'users' AND column_name = 'n'"),
	'numeric',
	'n widened to numeric on the distributed table');
is( $node->safe_psql(
		'postgres', "SELECT count(*), count(*) FILTER (WHERE sku LIKE 'b%') FROM typed.users__orders"),
	'60|20',
	'child rows of the new versions replace the old ones');
is($node->safe_psql('postgres', 'SELECT count(*) FROM typed.users__orders__items'),
	40 * 2 + 20, 'grandchild rows replaced too');
is( $node->safe_psql(
		'postgres', "SELECT count(*) FROM typed.users u JOIN typed.users__orders o ON o._elt_root_id = u._elt_id
		  JOIN typed.users__orders__items i ON i._elt_root_id = o._elt_root_id AND i._elt_parent_id = o._elt_id"),
	100, 'joins back across the co-located tables (by the root key, no repartitioning)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM typed.users__tags'), 20,
	'a new child table, local until distributed, loaded');

# the replayed call does nothing
is($node->safe_psql('postgres', "SELECT batches FROM elt.normalize('ct.users')"), 0, 'nothing twice');

$node->stop;
done_testing();

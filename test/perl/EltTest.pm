# Helpers shared by pg_elt's TAP tests.
package EltTest;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# The mock API's base URL; the suite runner starts it and exports its port.
sub mock_base
{
	my $port = $ENV{MOCK_API_PORT}
	  or BAIL_OUT("MOCK_API_PORT is not set: run the suites through make test");
	return "http://127.0.0.1:$port";
}

# A started node with pg_elt preloaded and created in database postgres.
# Its secret key file is next to its data directory, not in it.
sub new_node
{
	my ($name, $extra) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	# the same encoding and collation whatever the machine's locale
	$node->init(extra => [ '--encoding=UTF8', '--no-locale' ]);
	$node->append_conf('postgresql.conf', <<CONF . ($extra // ''));
shared_preload_libraries = 'pg_elt'
pg_elt.allow_private_networks = on
pg_elt.database = 'postgres'
pg_elt.secret_key_file = '../pg_elt_secret.key'
max_worker_processes = 32
CONF
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_elt');
	return $node;
}

# Whether the PostgreSQL the tests run with has Citus installed.
sub citus_installed
{
	my $sharedir = `pg_config --sharedir`;
	chomp $sharedir;
	return -e "$sharedir/extension/citus.control";
}

# A coordinator and two workers on loopback with Citus and pg_elt preloaded
# (citus first), the workers added to the coordinator and pg_elt created
# there (Citus creates it on the workers).  EXTRA: configuration lines for
# every node; COORDINATOR_EXTRA: lines for the coordinator alone, after
# EXTRA so that they win.  Returns the nodes, the coordinator first.
sub citus_cluster
{
	my ($prefix, $extra, $coordinator_extra) = @_;
	my @nodes;
	for my $name ('coordinator', 'worker1', 'worker2')
	{
		my $node = PostgreSQL::Test::Cluster->new("${prefix}_$name");
		$node->init(extra => [ '--encoding=UTF8', '--no-locale' ]);
		$node->append_conf('postgresql.conf',
			    <<CONF
shared_preload_libraries = 'citus,pg_elt'
pg_elt.database = 'postgres'
pg_elt.scheduler_enabled = off
max_worker_processes = 32
listen_addresses = '127.0.0.1'
CONF
			  . ($extra // '')
			  . ($name eq 'coordinator' ? ($coordinator_extra // '') : ''));
		$node->start;
		$node->safe_psql('postgres', 'CREATE EXTENSION citus');
		push @nodes, $node;
	}
	my $c = $nodes[0];
	$c->safe_psql('postgres',
		"SELECT citus_set_coordinator_host('127.0.0.1', " . $c->port . ")");
	$c->safe_psql('postgres', "SELECT citus_add_node('127.0.0.1', " . $_->port . ")")
	  for @nodes[ 1 .. 2 ];
	$c->safe_psql('postgres', 'CREATE EXTENSION pg_elt');
	is($c->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_node'), '3',
		'a coordinator and two workers');
	return @nodes;
}

1;

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

1;

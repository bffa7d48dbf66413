# A source's rate_limit holds across sessions: two streams of one source
# extracted at the same time share its requests per second.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use EltTest;

my $base = EltTest::mock_base();
my $node = EltTest::new_node('rate_limit');

# 4 requests per second for the source; each stream needs 5 pages.
$node->safe_psql('postgres', qq{
	SELECT elt.create_source('quota', '$base', options => '{"rate_limit": 4, "concurrency": 4}');
	SELECT elt.create_stream('quota', 'a', '/users/page', records => '\$.data',
		params => '{"total": 50, "seed": "a"}',
		pagination => '{"type": "page", "size_param": "per_page", "size": 10, "total_path": "\$.total"}');
	SELECT elt.create_stream('quota', 'b', '/users/page', records => '\$.data',
		params => '{"total": 50, "seed": "b"}',
		pagination => '{"type": "page", "size_param": "per_page", "size": 10, "total_path": "\$.total"}');
	SELECT elt.create_source('other', '$base', options => '{"rate_limit": 4, "concurrency": 4}');
	SELECT elt.create_stream('other', 'c', '/users/page', records => '\$.data',
		params => '{"total": 50, "seed": "c"}',
		pagination => '{"type": "page", "size_param": "per_page", "size": 10, "total_path": "\$.total"}');
});

# One stream alone: 5 requests at 4 per second take at least 1 s.
my $t0 = time();
is($node->safe_psql('postgres', "SELECT records FROM elt.extract('quota.a')"), '50', 'one stream loads its records');
cmp_ok(time() - $t0, '>=', 0.95, 'one stream alone is paced');

# Two streams of the same source at once: 10 requests share 4 per second,
# so the pair takes at least 9 intervals (2.25 s), not 1 s each side by side.
my $s1 = $node->background_psql('postgres');
my $s2 = $node->background_psql('postgres');
$t0 = time();
$s1->query_until(qr/go/, "\\echo go\nSELECT records FROM elt.extract('quota.a', full_refresh => true);\n");
$s2->query_until(qr/go/, "\\echo go\nSELECT records FROM elt.extract('quota.b');\n");
my $r1 = $s1->query_safe('SELECT 1');
my $r2 = $s2->query_safe('SELECT 1');
my $both = time() - $t0;
cmp_ok($both, '>=', 2.2, 'two streams of one source share its rate limit');
is($node->safe_psql('postgres',
		"SELECT string_agg(records::text, ',' ORDER BY batch_id) FROM elt.batch WHERE status = 'succeeded'"),
	'50,50,50', 'both loaded all their records');

# Another source has a budget of its own.
is($node->safe_psql('postgres', "SELECT records FROM elt.extract('other.c')"), '50', 'another source loads');

$s1->quit;
$s2->quit;
$node->stop;
done_testing();

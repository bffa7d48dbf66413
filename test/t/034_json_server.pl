# elt.extract against json-server, 0.17 and 1.x, as installed from npm by
# scripts/json_server.sh: every paging style each version offers, each
# record loaded once.  A version that is not installed (npm unreachable) is
# skipped.
use strict;
use warnings;
use Cwd qw(getcwd);
use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use EltTest;

my $root = getcwd();
my %bin = map { $_ => "$root/test/json_server/$_/node_modules/.bin/json-server" } qw(v0 v1);
if (grep { !-x $bin{$_} } keys %bin)
{
	# try once to install what is missing; a failure leaves it skipped
	system("$root/scripts/json_server.sh >/dev/null 2>&1");
}
my $have_node = system('node --version >/dev/null 2>&1') == 0;
my @versions = grep { $have_node && -x $bin{$_} } qw(v0 v1);
plan skip_all => 'json-server is not installed and npm could not install it'
  unless @versions;

# 23 posts: pages of 10 are 10, 10 and 3
my $tmp = PostgreSQL::Test::Utils::tempdir();
my $fixture = '{"posts": ['
  . join(', ', map { qq({"id": "$_", "title": "post $_", "views": ) . ($_ * 10) . '}' } 1 .. 23)
  . ']}';

my %server;
# Start a version on a free loopback port, with a copy of the fixture.
sub start_json_server
{
	my ($v) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $db = "$tmp/db_$v.json";
	open(my $fh, '>', $db) or die "could not write $db: $!";
	print $fh $fixture;
	close($fh);
	my $h = IPC::Run::start(
		[ $bin{$v}, '--host', '127.0.0.1', '--port', $port, $db ],
		'>', "$tmp/json_server_$v.log", '2>&1');
	for (1 .. 300)
	{
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
		if ($s)
		{
			close($s);
			$server{$v} = $h;
			return "http://127.0.0.1:$port";
		}
		sleep(0.1);
	}
	$h->kill_kill;
	return undef;
}

END
{
	local $?;
	$_->kill_kill for values %server;
}

my $node = EltTest::new_node('json_server');

# Define a stream (0 on success, or the error) and extract it; returns
# "records/distinct ids", or the error.
sub run_style
{
	my ($src, $name, $args) = @_;
	$args = "records => '\$.data', $args" unless $args =~ /records =>/;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		SELECT elt.create_stream('$src', '$name', '/posts', $args);
	});
	return "create_stream failed: $err" if $ret != 0;
	($ret, $out, $err) = $node->psql('postgres',
		"SELECT records FROM elt.extract('$src.$name')");
	return "extract failed: $err" if $ret != 0;
	return $node->safe_psql('postgres', qq{
		SELECT count(*) || '/' || count(DISTINCT _elt_record->>'id')
		  FROM staging.${src}_$name});
}

# A counter (requests, pages) of the last batch of a stream.
sub batch_count
{
	my ($src, $name, $what) = @_;
	return $node->safe_psql('postgres',
		"SELECT $what FROM elt.batch WHERE stream = '$src.$name' ORDER BY batch_id DESC LIMIT 1");
}

SKIP:
{
	skip 'json-server 0.17 is not installed', 5 unless grep { $_ eq 'v0' } @versions;
	my $base = start_json_server('v0');
	skip 'json-server 0.17 did not start', 5 unless $base;
	$node->safe_psql('postgres', "SELECT elt.create_source('js0', '$base', options => '{\"concurrency\": 4}')");

	# 0.17 answers a plain array; _page/_limit, X-Total-Count, Link
	is(run_style('js0', 'page', q{records => '$',
		pagination => '{"type": "page", "param": "_page", "size_param": "_limit", "size": 10}'}),
		'23/23', '0.17: _page/_limit paging until the empty page, each record once');
	is(run_style('js0', 'offset', q{records => '$',
		pagination => '{"type": "offset", "offset_param": "_start", "limit_param": "_limit", "limit": 10}'}),
		'23/23', '0.17: _start/_limit offset paging, each record once');
	is(run_style('js0', 'link', q{records => '$', params => '{"_page": 1, "_limit": 10}',
		pagination => '{"type": "link_header"}'}),
		'23/23', '0.17: Link header rel="next" paging, each record once');
	is(batch_count('js0', 'link', 'requests'), '3', '0.17: the last page has no rel="next": 3 requests');

	is(run_style('js0', 'total', q{records => '$',
		pagination => '{"type": "page", "param": "_page", "size_param": "_limit", "size": 10, "total_header": "X-Total-Count"}'}),
		'23/23', '0.17: X-Total-Count ends the paging without an empty page');
}

SKIP:
{
	skip 'json-server 1.x is not installed', 5 unless grep { $_ eq 'v1' } @versions;
	my $base = start_json_server('v1');
	skip 'json-server 1.x did not start', 5 unless $base;
	$node->safe_psql('postgres', "SELECT elt.create_source('js1', '$base', options => '{\"concurrency\": 4}')");

	# 1.x: _page/_per_page answer {first, prev, next, last, pages, items, data}
	is(run_style('js1', 'page_total', q{
		pagination => '{"type": "page", "param": "_page", "size_param": "_per_page", "size": 10, "total_path": "$.items"}'}),
		'23/23', '1.x: _page/_per_page paging up to "items", each record once');
	is(batch_count('js1', 'page_total', 'pages'), '3', '1.x: no page loaded past "items"');
	is(run_style('js1', 'offset', q{records => '$',
		pagination => '{"type": "offset", "offset_param": "_start", "limit_param": "_limit", "limit": 10}'}),
		'23/23', '1.x: _start/_limit offset paging, each record once');

	is(run_style('js1', 'next', q{params => '{"_page": 1, "_per_page": 10}',
		pagination => '{"type": "cursor", "cursor_path": "$.next", "param": "_page"}'}),
		'23/23', '1.x: "next" as the page cursor, each record once');
	# 1.x answers the last page again for any page past it
	is(run_style('js1', 'clamped', q{
		pagination => '{"type": "page", "param": "_page", "size_param": "_per_page", "size": 10, "max_pages": 6}'}),
		'23/23', '1.x: paging without a total ends at the repeated last page');
}

$node->stop;
done_testing();

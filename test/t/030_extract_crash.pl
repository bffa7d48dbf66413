# Exactly once under failure: an extract stopped mid-way by
# pg_terminate_backend, by a cancel or by kill -9 of its backend leaves no
# row of its batch and the cursor unmoved; the next run loads each record
# once.  Also: progress is visible while an extract runs, concurrent
# extracts of one stream take turns, and DEBUG1 reports each page.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $base = EltTest::mock_base();
my $node = EltTest::new_node('extract_crash', "restart_after_crash = on\n");

$node->safe_psql('postgres', qq{
	SELECT status FROM elt.http('POST', '$base/_control/orders/reset');
	SELECT elt.create_source('shop', '$base', options => '{"backoff": "10 ms"}');
	-- 200 orders, 10 per page, each page 300 ms late: about 6 s in all
	SELECT elt.create_stream('shop', 'orders', '/orders', params => '{"limit": 10, "delay": 300}',
		records => '\$.orders',
		pagination => '{"type": "cursor", "cursor_path": "\$.next_cursor", "param": "cursor"}',
		incremental => '{"cursor_field": "\$.updated_at", "param": "updated_since"}');
});

# Start an extract in the background and wait until it has loaded a few
# pages (seen through elt.extract_progress); returns the session and pid.
sub start_extract
{
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_until(qr/start/, "\\echo start\nSELECT * FROM elt.extract('shop.orders');\n");
	$node->poll_query_until('postgres',
		"SELECT pages >= 3 AND records >= 30 FROM elt.extract_progress WHERE pid = $pid")
	  or die 'the extract did not make progress';
	return ($bg, $pid);
}

# Nothing of an interrupted batch may remain.
sub nothing_left
{
	my ($how) = @_;
	is($node->safe_psql('postgres', q{
			SELECT CASE WHEN to_regclass('staging.shop_orders') IS NULL THEN 0
				   ELSE (xpath('/row/c/text()', query_to_xml(
							'SELECT count(*) AS c FROM staging.shop_orders', false, true, '')))[1]::text::int
				   END}),
		'0', "$how: no rows of the batch remain");
	is($node->safe_psql('postgres',
			"SELECT cursor_value IS NULL FROM elt.stream WHERE name = 'orders'"),
		't', "$how: the cursor did not move");
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM elt.batch WHERE status IN ('running', 'succeeded')"),
		'0', "$how: no batch is recorded as running or succeeded");
}

# progress while running, then pg_terminate_backend
my ($bg, $pid) = start_extract();
my $progress = $node->safe_psql('postgres',
	"SELECT stream, target, pages > 0, records > 0, bytes > 0, requests > 0 FROM elt.extract_progress WHERE pid = $pid");
is($progress, 'shop.orders|staging.shop_orders|t|t|t|t', 'elt.extract_progress shows the running extract');
is($node->safe_psql('postgres',
		"SELECT command, type FROM pg_stat_progress_copy WHERE pid = $pid"),
	'COPY FROM|CALLBACK', 'and so does pg_stat_progress_copy');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
	'pg_terminate_backend ends the extract');
eval { $bg->quit; };
nothing_left('pg_terminate_backend');

# cancel: the failure is recorded in elt.batch by its own transaction
($bg, $pid) = start_extract();
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$bg->query('SELECT 1');
like($bg->{stderr}, qr/canceling statement due to user request/, 'the cancel stops the extract');
$bg->{stderr} = '';
is($bg->query_safe("SELECT 1"), '1', 'the session is usable after the cancel');
$bg->quit;
nothing_left('cancel');
is($node->safe_psql('postgres',
		"SELECT status || ' ' || error_code || ' ' || (error LIKE 'canceling statement due to user request%') FROM elt.batch"),
	'failed 57014 true', 'the cancelled batch is recorded as failed');

# kill -9 of the backend: the postmaster restarts, recovery leaves nothing
($bg, $pid) = start_extract();
kill 'KILL', $pid;
eval { $bg->quit; };
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'the server is back after kill -9');
nothing_left('kill -9');

# a clean run loads every record once and moves the cursor
$node->safe_psql('postgres', q{SELECT elt.alter_stream('shop.orders', params => '{"limit": 50}')});
my $out = $node->safe_psql('postgres', q{
	SET client_min_messages = debug1;
	SELECT pages, records FROM elt.extract('shop.orders');
});
is($out, '4|200', 'the retry after the failures loads all records');
is($node->safe_psql('postgres',
		"SELECT count(*) = count(DISTINCT _elt_record->>'order_id') FROM staging.shop_orders"),
	't', 'each record once');
isnt($node->safe_psql('postgres', "SELECT cursor_value FROM elt.stream WHERE name = 'orders'"),
	'', 'the cursor moved');
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
	SET client_min_messages = debug1;
	SELECT pages FROM elt.extract('shop.orders', full_refresh => true);
});
like($stderr, qr/stream "shop\.orders": page 1 loaded, 50 records/, 'DEBUG1 reports each page');

# new changes, another kill -9 mid-way, then a run: the changes once
$node->safe_psql('postgres', qq{
	TRUNCATE staging.shop_orders;
	SELECT elt.reset_stream('shop.orders', NULL);
	SELECT pages FROM elt.extract('shop.orders');
	SELECT status FROM elt.http('POST', '$base/_control/orders/advance?updated=30&new=25');
	SELECT elt.alter_stream('shop.orders', params => '{"limit": 5, "delay": 300}');
});
my $cursor = $node->safe_psql('postgres', "SELECT cursor_value FROM elt.stream WHERE name = 'orders'");
($bg, $pid) = start_extract();
kill 'KILL', $pid;
eval { $bg->quit; };
$node->poll_query_until('postgres', 'SELECT 1', '1') or die 'server did not come back';
is($node->safe_psql('postgres', "SELECT count(*) FROM staging.shop_orders"), '200',
	'after kill -9 only the earlier batch is there');
is($node->safe_psql('postgres', "SELECT cursor_value FROM elt.stream WHERE name = 'orders'"),
	$cursor, 'and the cursor is where it was');
$node->safe_psql('postgres', q{SELECT elt.alter_stream('shop.orders', params => '{"limit": 50}')});
is($node->safe_psql('postgres', "SELECT records FROM elt.extract('shop.orders')"), '55',
	'the next run loads the 55 changed orders');
is($node->safe_psql('postgres', q{
	SELECT count(*) = count(DISTINCT (_elt_record->>'order_id', _elt_record->>'updated_at'))
	  FROM staging.shop_orders}), 't', 'no record was loaded twice');

# two sessions extracting one stream take turns: the second sees the
# first one's cursor and loads nothing again
$node->safe_psql('postgres', qq{
	SELECT status FROM elt.http('POST', '$base/_control/orders/advance?updated=10&new=0');
	SELECT elt.alter_stream('shop.orders', params => '{"limit": 2, "delay": 200}');
});
my $rows_before = $node->safe_psql('postgres', "SELECT count(*) FROM staging.shop_orders");
my $a = $node->background_psql('postgres', on_error_stop => 0);
my $b = $node->background_psql('postgres', on_error_stop => 0);
$a->query_until(qr/start/, "\\echo start\nSELECT records FROM elt.extract('shop.orders');\n\\echo done\n");
$node->poll_query_until('postgres', "SELECT count(*) = 1 FROM elt.extract_progress")
  or die 'first extract did not start';
my $rb = $b->query_safe("SELECT records FROM elt.extract('shop.orders')");
$a->query_until(qr/done/, '');
is($rb, '0', 'the second extract waited for the first and found nothing new');
is($node->safe_psql('postgres', "SELECT count(*) FROM staging.shop_orders") - $rows_before, 10,
	'the changes are loaded once');
$a->quit;
$b->quit;

$node->stop;
done_testing();

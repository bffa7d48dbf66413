# The whole flow on Citus: a coordinator and two workers with Citus and
# pg_elt preloaded, against the same flow on a plain PostgreSQL node, step
# for step, both extracting from the same mock API between the same
# changes of its orders feed.  Staging tables are distributed (by
# _elt_record), dimensions are reference tables, facts are distributed by
# their grain; an incremental model goes into a distributed table and a
# summary into a reference table.  After every round each table must equal
# its plain twin row for row.  Then: an extract into a distributed staging
# table killed mid-way and run again loads exactly what the plain one
# loads; a scheduled pipeline (extract -> dimension -> fact -> checks) runs
# on both; unsupported staging tables are refused before any request.
# Skipped when Citus is not installed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

plan skip_all => 'Citus is not installed' unless EltTest::citus_installed();

my $base = EltTest::mock_base();

# --- the cluster: a coordinator (holding reference placements) and two workers
my @nodes = EltTest::citus_cluster('citus', <<CONF, "pg_elt.scheduler_enabled = on\n");
pg_elt.allow_private_networks = on
pg_elt.secret_key_file = '../pg_elt_secret.key'
timezone = 'UTC'
restart_after_crash = on
CONF
my $c = $nodes[0];

# --- the plain twin
my $p = EltTest::new_node('citus_plain', "timezone = 'UTC'\n");

# Run the same SQL on both; returns (citus output, plain output).
sub both
{
	my ($sql) = @_;
	return ($c->safe_psql('postgres', $sql), $p->safe_psql('postgres', $sql));
}

# Run on both, expecting the same output.
sub same
{
	my ($what, $sql) = @_;
	my ($co, $po) = both($sql);
	is($co, $po, "$what: the same on Citus and plain");
	return $co;
}

$c->safe_psql('postgres', "SELECT status FROM elt.http('POST', '$base/_control/orders/reset')");

# Staging tables distributed before their first extract; the plain ones
# are created by the extract.
$c->safe_psql('postgres', q{
	CREATE SCHEMA staging;
	CREATE TABLE staging.shop_orders (_elt_batch_id bigint NOT NULL,
		_elt_loaded_at timestamptz NOT NULL DEFAULT now(), _elt_record jsonb NOT NULL);
	SELECT create_distributed_table('staging.shop_orders', '_elt_record');
	CREATE TABLE staging.randomuser_users (LIKE staging.shop_orders INCLUDING DEFAULTS);
	SELECT create_distributed_table('staging.randomuser_users', '_elt_record');
	CREATE TABLE staging.shop_slow (LIKE staging.shop_orders INCLUDING DEFAULTS);
	SELECT create_distributed_table('staging.shop_slow', '_elt_record');
	CREATE TABLE staging.shop_ref (LIKE staging.shop_orders INCLUDING DEFAULTS);
	SELECT create_reference_table('staging.shop_ref');
	-- a fan-out stream's table: the extract adds _elt_parent (ALTER TABLE on Citus)
	CREATE TABLE staging.shop_user_orders (LIKE staging.shop_orders INCLUDING DEFAULTS);
	SELECT create_distributed_table('staging.shop_user_orders', '_elt_record');
});

both(qq{
	CREATE SCHEMA IF NOT EXISTS staging;
	CREATE SCHEMA dw;
	SELECT elt.create_source('randomuser', '$base');
	SELECT elt.create_stream('randomuser', 'users', '/api', params => '{"results": 100, "seed": "pgelt"}',
		records => '\$.results', pagination => '{"type": "page", "max_pages": 3}');
	SELECT elt.create_source('shop', '$base');
	SELECT elt.create_stream('shop', 'orders', '/orders', params => '{"limit": 50}',
		records => '\$.orders',
		pagination => '{"type": "cursor", "cursor_path": "\$.next_cursor", "param": "cursor"}',
		incremental => '{"cursor_field": "\$.updated_at", "param": "updated_since"}');
	SELECT elt.create_stream('shop', 'ref', '/orders', params => '{"limit": 70}',
		records => '\$.orders',
		pagination => '{"type": "cursor", "cursor_path": "\$.next_cursor", "param": "cursor"}');
	SELECT elt.create_stream('shop', 'user_orders', '/users/{id}/orders', params => '{"per_page": 2}',
		records => '\$.orders', pagination => '{"type": "page"}',
		for_each => 'SELECT id FROM generate_series(1, 20) id');
	-- the same feed, slowly: 10 per page, each page 150 ms late
	SELECT elt.create_stream('shop', 'slow', '/orders', params => '{"limit": 10, "delay": 150}',
		records => '\$.orders',
		pagination => '{"type": "cursor", "cursor_path": "\$.next_cursor", "param": "cursor"}',
		incremental => '{"cursor_field": "\$.updated_at", "param": "updated_since"}');
});

# --- the models, as a Citus user writes them (the same on both)
my $orders_sql = q{SELECT DISTINCT ON ((_elt_record ->> 'order_id')::bigint)
		(_elt_record ->> 'order_id')::bigint AS order_id,
		_elt_record ->> 'customer_uuid' AS customer_uuid,
		((_elt_record ->> 'ordered_at')::timestamptz AT TIME ZONE 'UTC')::date AS order_date,
		(_elt_record ->> 'ordered_at')::timestamptz AS ordered_at,
		(_elt_record ->> 'updated_at')::timestamptz AS updated_at,
		_elt_record ->> 'status' AS status,
		(_elt_record ->> 'amount')::numeric(12,2) AS amount
	FROM staging.shop_orders
	ORDER BY (_elt_record ->> 'order_id')::bigint, (_elt_record ->> 'updated_at')::timestamptz DESC};
my $orders_src = "\$\$$orders_sql\$\$";
my $users_src = q{$$SELECT DISTINCT ON (_elt_record #>> '{login,uuid}')
		_elt_record #>> '{login,uuid}' AS user_uuid,
		_elt_record ->> 'email' AS email,
		_elt_record #>> '{location,country}' AS country,
		timestamptz '2020-01-01' AS registered_at
	FROM staging.randomuser_users
	ORDER BY _elt_record #>> '{login,uuid}', _elt_batch_id DESC$$};
my %model = (
	dim_user => qq{SELECT * FROM elt.merge_dimension('dw.dim_user', $users_src,
		natural_key => '{user_uuid}', type1_columns => '{email}', effective_at => 'registered_at')},
	# the history of each order's status: closed on every change
	dim_order => qq{SELECT * FROM elt.merge_dimension('dw.dim_order', $orders_src,
		natural_key => '{order_id}', ignore_columns => '{customer_uuid,order_date,ordered_at,amount}',
		effective_at => 'updated_at')},
	dim_date => q{SELECT elt.create_date_dimension('dw.dim_date', '2023-12-01', '2025-12-31')},
	fact_orders => qq{SELECT * FROM elt.merge_fact('dw.fact_orders', $orders_src,
		grain => '{order_id}',
		dimensions => '[{"dimension": "dw.dim_user", "on": {"customer_uuid": "user_uuid"}, "as_of": "ordered_at"},
						{"dimension": "dw.dim_order", "on": {"order_id": "order_id"}, "as_of": "updated_at", "key": "order_version_key"},
						{"dimension": "dw.dim_date", "on": {"order_date": "date"}, "late_arriving": "unknown"}]',
		watermark => 'updated_at')},
	fact_status => qq{SELECT * FROM elt.merge_fact('dw.fact_status',
		\$\$SELECT order_id, customer_uuid, status, updated_at, amount FROM ($orders_sql) o\$\$,
		grain => '{order_id}', strategy => 'delete+insert',
		dimensions => '[{"dimension": "dw.dim_user", "on": {"customer_uuid": "user_uuid"}}]')},
	fact_events => qq{SELECT * FROM elt.merge_fact('dw.fact_events',
		\$\$SELECT order_id, customer_uuid, status, updated_at FROM ($orders_sql) o\$\$,
		strategy => 'append', watermark => 'updated_at',
		dimensions => '[{"dimension": "dw.dim_user", "on": {"customer_uuid": "user_uuid"}, "as_of": "updated_at"}]')},
	orders_latest => qq{SELECT * FROM elt.merge('dw.orders_latest', $orders_src, '{order_id}',
		watermark => 'updated_at', on_schema_change => 'append_new_columns')},
	orders_di => qq{SELECT * FROM elt.merge('dw.orders_di', $orders_src, '{order_id}',
		strategy => 'delete+insert')},
	# a merge target without a unique index on its key (no ON CONFLICT)
	orders_nokey => qq{SELECT * FROM elt.merge('dw.orders_nokey', $orders_src, '{order_id}')},
	status_summary => q{SELECT * FROM elt.merge('dw.status_summary',
		$$SELECT status, count(*) AS orders, sum(amount) AS amount FROM dw.orders_latest GROUP BY status$$,
		'{status}')});
my @model_order = qw(dim_user dim_order dim_date fact_orders fact_status fact_events
  orders_latest orders_di orders_nokey status_summary);
# where each built table goes on Citus
my %layout = (
	dim_user => "create_reference_table('dw.dim_user')",
	dim_order => "create_reference_table('dw.dim_order')",
	dim_date => "create_reference_table('dw.dim_date')",
	fact_orders => "create_distributed_table('dw.fact_orders', 'order_id')",
	fact_status => "create_distributed_table('dw.fact_status', 'order_id', colocate_with => 'dw.fact_orders')",
	fact_events => "create_distributed_table('dw.fact_events', 'order_id', colocate_with => 'dw.fact_orders')",
	orders_latest => "create_distributed_table('dw.orders_latest', 'order_id', colocate_with => 'dw.fact_orders')",
	orders_di => "create_distributed_table('dw.orders_di', 'order_id', colocate_with => 'dw.fact_orders')",
	orders_nokey => "create_distributed_table('dw.orders_nokey', 'order_id', colocate_with => 'dw.fact_orders')",
	status_summary => "create_reference_table('dw.status_summary')");

# Every table's rows, in an order that does not depend on the storage,
# without the given columns (surrogate keys handed out in the order a
# statement happens to produce rows: compared through what they resolve to).
sub table_rows
{
	my ($table, @drop) = @_;
	my $minus = @drop ? " - '{" . join(',', @drop) . "}'::text[]" : '';
	return qq{SELECT count(*), md5(coalesce(string_agg(r, E'\\n' ORDER BY r), ''))
		FROM (SELECT (to_jsonb(t)$minus)::text AS r FROM $table AS t) AS x};
}
my %surrogate = (
	dim_user => ['user_key'],
	dim_order => ['order_key'],
	fact_orders => [ 'user_key', 'order_version_key' ],
	fact_status => ['user_key'],
	fact_events => ['user_key']);

# The fact rows with their keys resolved to natural keys and versions.
my %resolved = (
	fact_orders => q{SELECT f.order_id, u.user_uuid, u.is_inferred, o.status AS version_status,
			o.valid_from, d.date, f.status, f.amount, f.updated_at
		FROM dw.fact_orders f JOIN dw.dim_user u USING (user_key)
		JOIN dw.dim_order o ON o.order_key = f.order_version_key
		JOIN dw.dim_date d USING (date_key) ORDER BY f.order_id},
	fact_status => q{SELECT f.order_id, u.user_uuid, f.status, f.amount FROM dw.fact_status f
		JOIN dw.dim_user u USING (user_key) ORDER BY f.order_id},
	fact_events => q{SELECT f.order_id, u.user_uuid, f.status, f.updated_at FROM dw.fact_events f
		JOIN dw.dim_user u USING (user_key) ORDER BY f.order_id, f.updated_at});

# On a mismatch, show some rows that only one side has.
sub show_difference
{
	my ($table, @drop) = @_;
	my $minus = @drop ? " - '{" . join(',', @drop) . "}'::text[]" : '';
	my ($co, $po) = both("SELECT (to_jsonb(t)$minus)::text FROM $table AS t");
	my %pl = map { $_ => 1 } split /\n/, $po;
	my %cl = map { $_ => 1 } split /\n/, $co;
	my @only_c = grep { !$pl{$_} } sort keys %cl;
	my @only_p = grep { !$cl{$_} } sort keys %pl;
	diag("only on Citus: $_") for @only_c[ 0 .. ($#only_c < 4 ? $#only_c : 4) ];
	diag("only on plain: $_") for @only_p[ 0 .. ($#only_p < 4 ? $#only_p : 4) ];
}

# A staging table's rows against elt.batch: every row carries the id of
# a succeeded batch of that table and a load time within it, and each
# batch's count of rows is what it recorded (batch ids differ between the
# two nodes; each side is checked against its own log).
sub batch_rows
{
	my ($t) = @_;
	return qq{SELECT count(*) FILTER (WHERE b.batch_id IS NULL OR s.rows IS NULL
									  OR s.rows <> b.records OR s.first < b.started_at - interval '1 hour'
									  OR s.last > b.finished_at) AS wrong,
					 count(*) AS batches
		FROM (SELECT _elt_batch_id, count(*) AS rows, min(_elt_loaded_at) AS first,
					 max(_elt_loaded_at) AS last FROM $t GROUP BY 1) s
		FULL JOIN (SELECT batch_id, records, started_at, finished_at FROM elt.batch
					WHERE target = '$t' AND status = 'succeeded' AND records > 0) b
		  ON b.batch_id = s._elt_batch_id};
}

sub compare_all
{
	my ($round) = @_;
	for my $t (qw(staging.shop_orders staging.randomuser_users))
	{
		same("$round: $t",
			qq{SELECT count(*), md5(coalesce(string_agg(_elt_record::text, ',' ORDER BY _elt_record::text), ''))
				 FROM $t});
		same("$round: $t: each row's batch id and load time are its batch's", batch_rows($t));
	}
	for my $m (@model_order)
	{
		my @drop = @{ $surrogate{$m} // [] };
		my ($co, $po) = both(table_rows("dw.$m", @drop));
		is($co, $po, "$round: dw.$m: the same on Citus and plain");
		show_difference("dw.$m", @drop) if $co ne $po;
	}
	same("$round: dw.$_ resolved", $resolved{$_}) for sort keys %resolved;
}

# --- round 1: extracts, first builds (local), then the Citus layout
my ($cx, $px) = both(q{SELECT records FROM elt.extract('randomuser.users');
	SELECT records FROM elt.extract('shop.orders')});
is($cx, $px, "first extracts load the same counts ($px)");
is($c->safe_psql('postgres', q{
	SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'staging.%'}),
	'5', 'the staging tables are Citus tables');
# the shell tables on the coordinator hold nothing: every row is in a shard
is($c->safe_psql('postgres', q{
	SELECT pg_relation_size('staging.shop_orders') + pg_relation_size('staging.randomuser_users')}),
	'0', 'no row went into the coordinator\'s shell tables');

for my $m (@model_order)
{
	same("first build of $m", $model{$m});
	both('ALTER TABLE dw.orders_nokey DROP CONSTRAINT orders_nokey_pkey') if $m eq 'orders_nokey';
	$c->safe_psql('postgres', "SELECT $layout{$m}");
	# the rows copied into the shards leave the coordinator's table
	$c->safe_psql('postgres',
		"SELECT truncate_local_data_after_distributing_table('dw.$m')");
}
is($c->safe_psql('postgres', q{
	SELECT string_agg(logicalrelid::text || ':' || partmethod::text, ' ' ORDER BY logicalrelid::text)
	  FROM pg_dist_partition WHERE logicalrelid::text LIKE 'dw.%'}),
	'dw.dim_date:n dw.dim_order:n dw.dim_user:n dw.fact_events:h dw.fact_orders:h '
	  . 'dw.fact_status:h dw.orders_di:h dw.orders_latest:h dw.orders_nokey:h dw.status_summary:n',
	'the star schema is laid out on Citus');
compare_all('round 1');

# --- rounds 2 and 3: the shop changes orders (closing versions) and takes new ones
for my $round (2, 3)
{
	$c->safe_psql('postgres',
		"SELECT status FROM elt.http('POST', '$base/_control/orders/advance?updated=40&new=15')");
	($cx, $px) = both(q{SELECT records FROM elt.extract('shop.orders')});
	is($cx, $px, "round $round: the incremental extracts load the same records ($px)");
	cmp_ok($cx, '==', 55, "round $round: 55 changed and new orders extracted");
	for my $m (@model_order)
	{
		same("round $round: $m", $model{$m});
	}
	compare_all("round $round");
}
ok($c->safe_psql('postgres', 'SELECT count(*) FROM dw.dim_order WHERE NOT is_current') >= 80,
	'order versions were closed on the reference dimension');
is($c->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT order_id FROM dw.dim_order WHERE is_current
						   GROUP BY 1 HAVING count(*) > 1) d}), '0',
	'one current version per order');
ok($c->safe_psql('postgres', q{
	SELECT count(*) FROM dw.fact_orders f JOIN dw.dim_order o ON o.order_key = f.order_version_key
	 WHERE NOT o.is_current}) == 0,
	'each fact points at its order\'s version as of its update');

# on_schema_change into a distributed target: a new column is added
same('a new column in a distributed model', qq{
	SELECT * FROM elt.merge('dw.orders_latest',
		\$\$SELECT o.*, o.amount * 2 AS double_amount FROM ($orders_sql) o\$\$, '{order_id}',
		on_schema_change => 'append_new_columns')});
same('the model with the new column', table_rows('dw.orders_latest'));

# --- checks, every kind, on distributed and reference tables
my $checks = q{
	SELECT passed, failures, detail FROM elt.check('dw.fact_orders', 'not_null', 'amount');
	SELECT passed, failures, detail FROM elt.check('dw.fact_orders', 'unique', 'order_id');
	SELECT passed, failures, detail FROM elt.check('dw.fact_orders', 'accepted_values', 'status',
		'{"values": ["placed", "shipped", "delivered", "cancelled"]}');
	SELECT passed, failures, detail FROM elt.check('dw.fact_orders', 'relationships', 'user_key',
		'{"to": "dw.dim_user"}');
	SELECT passed, failures, detail FROM elt.check('dw.fact_orders', 'row_count', args => '{"min": 1}');
	SELECT passed, failures FROM elt.check('dw.fact_orders', 'freshness', 'updated_at', '{"max_age": "100 years"}');
	SELECT passed, failures, detail FROM elt.check('dw.fact_orders', 'expression',
		args => '{"where": "amount < 0"}');
	SELECT passed, failures, detail FROM elt.check('dw.fact_orders', 'expression',
		args => '{"where": "status = ''cancelled''"}', severity => 'warn');
	SELECT passed, failures, detail FROM elt.check('dw.dim_order', 'not_null', 'status');
	SELECT passed, failures, detail FROM elt.check('dw.dim_order', 'expression',
		args => '{"where": "valid_from > valid_to"}');
	SELECT passed, failures, detail FROM elt.check('dw.dim_user', 'unique', 'user_key');
	SELECT passed, failures, detail FROM elt.check('dw.status_summary', 'row_count', args => '{"max": 4}');
	SELECT passed, failures, detail FROM elt.check('staging.shop_orders', 'expression',
		args => '{"where": "_elt_record ->> ''order_id'' IS NULL"}');
};
my $check_out = same('every check', $checks);
like($check_out, qr/^f\|\d+\|\d+ rows where status = 'cancelled'/m,
	'a failing warn check reports its failures');
my ($ret, $out, $err);
for my $node ($c, $p)
{
	($ret, $out, $err) = $node->psql('postgres',
		q{SELECT * FROM elt.check('dw.fact_orders', 'expression', args => '{"where": "amount > 0"}')});
	like($err, qr/check "expression" of "dw\.fact_orders" failed: \d+ rows where amount > 0/,
		'a failing check raises (' . $node->name . ')');
}
same('the failed check is kept', q{
	SELECT test, passed, failures, sample IS NOT NULL FROM elt.check_result ORDER BY check_id DESC LIMIT 1});

# --- exactly once: an extract into a distributed table killed mid-way, then run again
sub slow_progress
{
	my ($pid) = @_;
	$c->poll_query_until('postgres',
		"SELECT pages >= 3 FROM elt.extract_progress WHERE pid = $pid")
	  or die 'the extract did not make progress';
}
for my $how ('terminated', 'killed')
{
	my $bg = $c->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_until(qr/start/, "\\echo start\nSELECT * FROM elt.extract('shop.slow');\n");
	slow_progress($pid);
	if ($how eq 'terminated')
	{
		$c->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	}
	else
	{
		kill 'KILL', $pid;
	}
	eval { $bg->quit };
	$c->poll_query_until('postgres', 'SELECT true') or die 'the coordinator did not come back';
	is($c->safe_psql('postgres', q{
		SELECT (SELECT count(*) FROM staging.shop_slow) || ' '
			|| (SELECT coalesce(cursor_value, 'none') FROM elt.stream WHERE name = 'slow')}),
		'0 none', "$how: nothing of the batch is in the shards and the cursor did not move");
}
# no transaction left prepared on a worker
$c->safe_psql('postgres', 'SELECT recover_prepared_transactions()');
is($c->safe_psql('postgres', q{
	SELECT sum(result::int) FROM run_command_on_workers('SELECT count(*) FROM pg_prepared_xacts')}),
	'0', 'no prepared transaction is left on the workers');
($cx, $px) = both(q{SELECT records FROM elt.extract('shop.slow')});
is($cx, $px, "the retried extract loads what the plain one loads ($px records)");
same('the retried extract\'s rows', q{
	SELECT count(*), count(DISTINCT _elt_record), md5(string_agg(_elt_record::text, ',' ORDER BY _elt_record::text))
	  FROM staging.shop_slow});
same('its cursor', q{SELECT cursor_value FROM elt.stream WHERE name = 'slow'});
same('the retried extract\'s batch ids and load times', batch_rows('staging.shop_slow'));

# a page cut off mid-way is fetched again: the rows of the pages before it
# (buffered, not written yet) are kept, those it had buffered are dropped
$c->safe_psql('postgres', q{
	CREATE TABLE staging.shop_cut (LIKE staging.shop_orders INCLUDING DEFAULTS);
	SELECT create_distributed_table('staging.shop_cut', '_elt_record')});
for my $node ([ $c, 'citus' ], [ $p, 'plain' ])
{
	$node->[0]->safe_psql('postgres', qq{
		SELECT elt.create_stream('shop', 'cut', '/orders',
			params => '{"limit": 10, "drop": 700, "drop_page": 3, "fail_times": 1, "fail_key": "cut_$node->[1]"}',
			records => '\$.orders',
			pagination => '{"type": "cursor", "cursor_path": "\$.next_cursor", "param": "cursor"}')});
}
($cx, $px) = both(q{SELECT records FROM elt.extract('shop.cut')});
is($cx, $px, "an extract with a page cut off loads what the plain one loads ($px records)");
same('it fetched that page again', q{SELECT retries FROM elt.batch WHERE stream = 'shop.cut'});
is($c->safe_psql('postgres', q{SELECT retries FROM elt.batch WHERE stream = 'shop.cut'}), '1',
	'the page was fetched twice');
same('the rows of the extract with a page cut off', q{
	SELECT count(*), count(DISTINCT _elt_record), md5(string_agg(_elt_record::text, ',' ORDER BY _elt_record::text))
	  FROM staging.shop_cut});
same('their batch ids and load times', batch_rows('staging.shop_cut'));

# a reference staging table loads in full too
($cx, $px) = both(q{SELECT records FROM elt.extract('shop.ref')});
is($cx, $px, "an extract into a reference table ($px records)");
same('the reference staging table\'s rows', q{
	SELECT count(*), md5(string_agg(_elt_record::text, ',' ORDER BY _elt_record::text)) FROM staging.shop_ref});
same('the reference staging table\'s batch ids and load times', batch_rows('staging.shop_ref'));

# a fan-out stream into a distributed table: records with their parent rows
($cx, $px) = both(q{SELECT records FROM elt.extract('shop.user_orders')});
is($cx, $px, "a fan-out extract into a distributed table ($px records)");
same('the fan-out rows with their parents', q{
	SELECT count(*), count(_elt_parent), md5(string_agg(_elt_parent::text || _elt_record::text, ','
		ORDER BY _elt_parent::text || _elt_record::text)) FROM staging.shop_user_orders});
same('the fan-out rows\' batch ids and load times', batch_rows('staging.shop_user_orders'));

# a stream owned by a role that is not a superuser loads into a
# distributed table as that role (its routed INSERT included)
$c->safe_psql('postgres', qq{
	CREATE ROLE shop_loader LOGIN;
	CREATE TABLE staging.shop_owned (LIKE staging.shop_orders INCLUDING DEFAULTS);
	SELECT create_distributed_table('staging.shop_owned', '_elt_record');
	GRANT USAGE ON SCHEMA staging TO shop_loader;
	GRANT INSERT, SELECT ON staging.shop_owned TO shop_loader;
	SELECT elt.create_source('shop_owned', '$base');
	SELECT elt.create_stream('shop_owned', 'orders', '/orders', params => '{"limit": 70}',
		records => '\$.orders',
		pagination => '{"type": "cursor", "cursor_path": "\$.next_cursor", "param": "cursor"}',
		target => 'staging.shop_owned');
	UPDATE elt.source SET owner = 'shop_loader' WHERE name = 'shop_owned';
	UPDATE elt.stream SET owner = 'shop_loader' WHERE source = 'shop_owned';
});
$cx = $c->safe_psql('postgres', q{SELECT records FROM elt.extract('shop_owned.orders')});
is($c->safe_psql('postgres', qq{
	SELECT $cx = (SELECT count(*) FROM staging.shop_ref)
		   AND (SELECT count(*) FROM staging.shop_owned) = (SELECT count(*) FROM staging.shop_ref)
		   AND (SELECT owner::text FROM elt.batch WHERE target = 'staging.shop_owned') = 'shop_loader'}),
	't', "an extract run as a role without superuser loads every record into the shards ($cx)");
is($c->safe_psql('postgres', batch_rows('staging.shop_owned')), '0|1',
	'its rows carry its batch id');

# --- refused before any request: an append-distributed staging table, or
# a distribution column that no record fills
$c->safe_psql('postgres', q{
	CREATE TABLE staging.shop_append (LIKE staging.shop_orders INCLUDING DEFAULTS);
	SELECT create_distributed_table('staging.shop_append', '_elt_batch_id', 'append');
	CREATE TABLE staging.shop_bycol (LIKE staging.shop_orders INCLUDING DEFAULTS, region text);
	SELECT create_distributed_table('staging.shop_bycol', 'region');
	SELECT elt.create_stream('shop', 'to_append', '/orders', records => '$.orders', target => 'staging.shop_append');
	SELECT elt.create_stream('shop', 'to_bycol', '/orders', records => '$.orders', target => 'staging.shop_bycol');
});
for my $case ([ 'to_append', qr/staging table "staging\.shop_append" is append-distributed/ ],
	[ 'to_bycol', qr/staging table "staging\.shop_bycol" is distributed by column "region", which an extract does not fill/ ])
{
	my ($stream, $re) = @$case;
	($ret, $out, $err) = $c->psql('postgres', "SELECT * FROM elt.extract('shop.$stream')");
	like($err, $re, "$stream: refused with a reason");
	like($err, qr/HINT:/, "$stream: with a hint");
	is($c->safe_psql('postgres', qq{
		SELECT status || ' ' || requests || ' ' || records FROM elt.batch
		 WHERE stream = 'shop.$stream' ORDER BY batch_id DESC LIMIT 1}),
		'failed 0 0', "$stream: refused before a single request");
}

# --- a scheduled pipeline over these tables, on both
both(qq{
	SELECT elt.create_pipeline('warehouse', '1 second', '{"retries": 0, "overlap": "skip"}');
	SELECT elt.add_step('warehouse', 'extract', \$\$SELECT * FROM elt.extract('shop.orders')\$\$);
	SELECT elt.add_step('warehouse', 'dim_order', \$step\$$model{dim_order}\$step\$, '{extract}');
	SELECT elt.add_step('warehouse', 'fact_orders', \$step\$$model{fact_orders}\$step\$, '{dim_order}');
	SELECT elt.add_step('warehouse', 'checks', \$step\$
		SELECT * FROM elt.check('dw.fact_orders', 'unique', 'order_id');
		SELECT * FROM elt.check('dw.fact_orders', 'not_null', 'amount');
		SELECT * FROM elt.check('dw.dim_order', 'expression', args => '{"where": "valid_from > valid_to"}');
	\$step\$, '{fact_orders}');
	SELECT elt.pause('warehouse');
});
$c->safe_psql('postgres',
	"SELECT status FROM elt.http('POST', '$base/_control/orders/advance?updated=25&new=5')");
both(q{SELECT elt.resume('warehouse')});
for my $node ($c, $p)
{
	$node->poll_query_until('postgres', q{
		SELECT count(*) > 0 FROM elt.run WHERE pipeline = 'warehouse' AND trigger = 'schedule'
		   AND status IN ('succeeded', 'failed', 'cancelled')})
	  or die 'the scheduler did not run the pipeline';
	$node->safe_psql('postgres', q{SELECT elt.pause('warehouse')});
	# let a run that started meanwhile finish
	$node->poll_query_until('postgres', q{
		SELECT count(*) = 0 FROM elt.run WHERE pipeline = 'warehouse' AND status IN ('queued', 'running')})
	  or die 'a run did not finish';
}
same('the scheduled runs succeeded', q{
	SELECT bool_or(status = 'succeeded'), bool_and(status IN ('succeeded', 'skipped'))
	  FROM elt.run WHERE pipeline = 'warehouse' AND trigger = 'schedule'});
is($c->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT step || ':' || s.status, ' ')
	  FROM elt.step_run s JOIN elt.run r USING (run_id)
	 WHERE r.pipeline = 'warehouse' AND s.status <> 'skipped'}),
	'checks:succeeded dim_order:succeeded extract:succeeded fact_orders:succeeded',
	'every step of the scheduled runs succeeded on Citus');
compare_all('after the scheduled pipeline');

$_->stop for @nodes;
$p->stop;
done_testing();

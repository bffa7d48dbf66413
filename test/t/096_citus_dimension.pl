# merge_dimension into Citus reference dimensions: a coordinator and two
# workers with Citus and pg_elt preloaded.  Every combination of slowly
# changing type (0, 1, 2, and 2 with type-1 columns) and deletes mode (with
# a deleted flag and a watermark too) runs
# the same rounds of changes into a reference dimension and into the same
# dimension as a plain local table, in one transaction (so now() is the
# same), and the two must end equal row for row, times included, with the
# same counts, one unknown member and unique surrogate keys.  A distributed dimension is refused with
# a hint.  Skipped when Citus is not installed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

plan skip_all => 'Citus is not installed' unless EltTest::citus_installed();

my @nodes = EltTest::citus_cluster('citus_dim', "pg_elt.secret_key_file = '../pg_elt_secret.key'\n");
my $coord = $nodes[0];

# The source: members with a composite natural key, some with a NULL part.
$coord->safe_psql('postgres', q{
	SET timezone = 'UTC';
	CREATE SCHEMA src;
	CREATE TABLE src.member (id int, region text, name text, city text, segment text,
							 score numeric, changed_at timestamptz, removed boolean DEFAULT false);
	INSERT INTO src.member
	SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'r' || g % 3 END, 'name ' || g, 'city ' || g % 11,
		   'seg ' || g % 4, g * 1.5, timestamptz '2024-01-01' + g * interval '1 hour', false
	  FROM generate_series(1, 300) AS g;
	CREATE SCHEMA plain;
	CREATE SCHEMA cit;
});

# name => arguments after target and source
my %configs = (
	t2_ignore => q{'{id,region}', effective_at => 'changed_at'},
	t2_close => q{'{id,region}', effective_at => 'changed_at', deletes => 'close'},
	t2_flag => q{'{id,region}', effective_at => 'changed_at', deletes => 'flag'},
	t2_now_close => q{'{id,region}', ignore_columns => '{changed_at}', deletes => 'close'},
	t6_ignore => q{'{id,region}', type1_columns => '{segment}', effective_at => 'changed_at'},
	t6_close => q{'{id,region}', type1_columns => '{segment}', effective_at => 'changed_at', deletes => 'close'},
	t6_flag => q{'{id,region}', type1_columns => '{segment}', effective_at => 'changed_at', deletes => 'flag'},
	t1_ignore => q{'{id,region}', scd_type => 1},
	t1_flag => q{'{id,region}', scd_type => 1, deletes => 'flag'},
	t0_ignore => q{'{id,region}', scd_type => 0, type1_columns => '{segment}'},
	t0_flag => q{'{id,region}', scd_type => 0, type1_columns => '{segment}', deletes => 'flag'},
	t2_flagged => q{'{id,region}', effective_at => 'changed_at', deletes => 'close', deleted_flag => 'removed'},
	t2_watermark => q{'{id,region}', effective_at => 'changed_at', deletes => 'close', deleted_flag => 'removed', watermark => 'changed_at'},
	t1_watermark => q{'{id,region}', scd_type => 1, deletes => 'flag', deleted_flag => 'removed', watermark => 'changed_at'});

sub merge_both
{
	my ($name, $round) = @_;
	my $args = $configs{$name};
	my $out = $coord->safe_psql('postgres', qq{
		SET timezone = 'UTC';
		BEGIN;
		SELECT * FROM elt.merge_dimension('plain.dim_$name', 'src.member', $args);
		SELECT * FROM elt.merge_dimension('cit.dim_$name', 'src.member', $args);
		COMMIT;
	});
	my ($plain, $cit) = split /\n/, $out;
	is($cit, $plain, "$name, $round: the same counts on the reference table ($plain)");
}

sub same_rows
{
	my ($name, $round) = @_;
	# every column but the surrogate key, whose values follow the order in
	# which a merge's new rows come out of its join (a plan choice)
	my $row = "to_jsonb(d) - '${name}_key'";
	my $diff = $coord->safe_psql('postgres', qq{
		SELECT count(*) FROM ((SELECT $row FROM plain.dim_$name AS d EXCEPT ALL SELECT $row FROM cit.dim_$name AS d)
							  UNION ALL
							  (SELECT $row FROM cit.dim_$name AS d EXCEPT ALL SELECT $row FROM plain.dim_$name AS d)) AS x});
	is($diff, '0', "$name, $round: the reference dimension equals the local one");
	is($coord->safe_psql('postgres', qq{
		SELECT count(*) FILTER (WHERE ${name}_key = -1) || '/' || count(DISTINCT ${name}_key) || '/' || count(*)
		  FROM cit.dim_$name}),
		$coord->safe_psql('postgres', qq{
		SELECT count(*) FILTER (WHERE ${name}_key = -1) || '/' || count(DISTINCT ${name}_key) || '/' || count(*)
		  FROM plain.dim_$name}),
		"$name, $round: one unknown member and unique surrogate keys on the reference dimension");
}

# Round 1: both built locally, then one made a reference table.
for my $name (sort keys %configs)
{
	merge_both($name, 'first build');
	$coord->safe_psql('postgres', "SELECT create_reference_table('cit.dim_$name')");
	$coord->safe_psql('postgres', "SELECT truncate_local_data_after_distributing_table('cit.dim_$name')");
}
is($coord->safe_psql('postgres',
		"SELECT count(*) FROM pg_dist_partition WHERE partmethod = 'n' AND logicalrelid::text LIKE 'cit.dim_%'"),
	scalar(keys %configs), 'the cit dimensions are reference tables');

# Rounds of changes: changed versioned and type-1 columns (NULL key parts
# included), a value equal but written differently (numeric scale), deletes,
# members flagged deleted by the source, members coming back, new members.
my @rounds = (
	q{UPDATE src.member SET city = city || ' Nord', changed_at = changed_at + interval '30 days' WHERE id % 10 = 2;
	  UPDATE src.member SET segment = segment || '+' WHERE id % 10 = 3;
	  UPDATE src.member SET score = score::numeric(12, 4) WHERE id % 10 = 4;
	  CREATE TABLE src.gone AS SELECT * FROM src.member WHERE id % 25 = 1;
	  DELETE FROM src.member WHERE id % 25 = 1;
	  INSERT INTO src.member VALUES (301, NULL, 'new', 'Bergen', 'seg 0', 1, '2024-03-01'),
								   (302, 'r1', 'new', 'Bergen', 'seg 1', 2, '2024-03-01')},
	q{UPDATE src.member SET removed = true, changed_at = changed_at + interval '90 days' WHERE id % 17 = 0},
	q{INSERT INTO src.member SELECT * FROM src.gone WHERE id % 2 = 1;
	  UPDATE src.member SET name = name || ' again', changed_at = changed_at + interval '60 days' WHERE id % 10 = 2;
	  UPDATE src.member SET city = NULL, changed_at = changed_at + interval '61 days' WHERE id % 13 = 5;
	  DELETE FROM src.member WHERE id % 29 = 3},
	q{UPDATE src.member SET segment = NULL WHERE id % 9 = 0});
my $n = 1;
for my $change (@rounds)
{
	$n++;
	$coord->safe_psql('postgres', $change);
	for my $name (sort keys %configs)
	{
		merge_both($name, "round $n");
		same_rows($name, "round $n");
	}
}

# Each current member once, and history closed where deletes => 'close'.
is($coord->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT id, region FROM cit.dim_t2_close WHERE is_current
						   GROUP BY 1, 2 HAVING count(*) > 1) AS d}),
	'0', 'one current version per member on the reference dimension');
ok($coord->safe_psql('postgres',
		'SELECT count(*) FROM cit.dim_t2_close WHERE NOT is_current') > 0,
	'versions were closed on the reference dimension');

# The guard holds on Citus too, and leaves the dimension as it was.
$coord->safe_psql('postgres', 'CREATE TABLE src.empty (LIKE src.member)');
my ($ret, $out, $err) = $coord->psql('postgres', q{
	SELECT * FROM elt.merge_dimension('cit.dim_t2_close', 'src.empty', '{id,region}',
		effective_at => 'changed_at', deletes => 'close')});
like($err, qr/would close \d+ of its \d+ current members/, 'an empty source is refused');
same_rows('t2_close', 'after the refused merge');

# A distributed dimension is refused, with a hint to use a reference table.
$coord->safe_psql('postgres', q{
	SELECT * FROM elt.merge_dimension('cit.dim_spread', 'src.member', '{id,region}',
		effective_at => 'changed_at');
	SELECT create_distributed_table('cit.dim_spread', 'spread_key');
});
($ret, $out, $err) = $coord->psql('postgres', q{
	SELECT * FROM elt.merge_dimension('cit.dim_spread', 'src.member', '{id,region}',
		effective_at => 'changed_at', deletes => 'close')});
isnt($ret, 0, 'a merge into a distributed dimension fails');
like($err, qr/dimension "cit\.dim_spread" is a distributed table/, 'it says why');
like($err, qr/HINT:.*create_reference_table/, 'and hints at a reference table');

$_->stop for @nodes;
done_testing();

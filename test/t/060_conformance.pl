# The record splitter against public conformance corpora nobody on the
# project wrote: csv-spectrum and csv-test-data (CSV files and the records
# they hold) and JSONTestSuite (documents that must be accepted or
# rejected).  The corpora are read where they are kept, next to the
# project (or where PG_ELT_CONFORMANCE says); without them the test skips.
use strict;
use warnings;
use File::Basename qw(dirname basename);
use File::Spec;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $root = File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $corpora = $ENV{PG_ELT_CONFORMANCE} // "$root/../shared/conformance";
plan skip_all => "conformance corpora not found in $corpora"
  unless -d "$corpora/csv-spectrum" && -d "$corpora/csv-test-data"
  && -d "$corpora/JSONTestSuite/test_parsing";

my $node = EltTest::new_node('conformance');
my $json = JSON::PP->new->canonical;

sub slurp
{
	my ($file) = @_;
	open my $fh, '<:raw', $file or die "$file: $!";
	local $/;
	my $data = <$fh>;
	close $fh;
	return $data;
}

# The records elt.split_records gives for a body, as Perl data, or the
# error message; nulls read as empty strings (the corpora know no null).
sub split_body
{
	my ($body, $format, $options) = @_;
	my $hex = unpack('H*', $body);
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		SELECT coalesce(jsonb_agg(r ORDER BY n), '[]')
		  FROM elt.split_records(convert_from(decode('$hex', 'hex'), 'UTF8'), '\$', '$format',
								 '$options') WITH ORDINALITY AS t(r, n)});
	return (undef, $err) if $ret != 0;
	my $recs = decode_json($out);
	for my $r (@$recs)
	{
		next unless ref $r eq 'HASH';
		$_ = defined $_ ? $_ : '' for values %$r;
	}
	return ($recs, undef);
}

# csv-spectrum: a header row, records as objects of strings.  One file
# has a quote inside an unquoted field, which pg_elt refuses as RFC 4180
# says (csv-test-data's bad-unescaped-quote agrees; its JSON does not even
# hold the file's phone number).
for my $csv (sort glob("$corpora/csv-spectrum/csvs/*.csv"))
{
	my $name = basename($csv, '.csv');
	if ($name eq 'location_coordinates')
	{
		my ($got, $err) = split_body(slurp($csv), 'csv', '{}');
		like($err // '', qr/a quote inside an unquoted field/,
			"csv-spectrum $name: a stray quote is refused");
		next;
	}
	my $expected = decode_json(slurp("$corpora/csv-spectrum/json/$name.json"));
	my ($got, $err) = split_body(slurp($csv), 'csv', '{}');
	is_deeply($got, $expected, "csv-spectrum $name") or diag($err // $json->encode($got));
}

# csv-test-data: rows as arrays, the first one the header; read without a
# header row (columns c1..cN) so that every row is compared.  The bad-
# files must be refused, except two that only a schema could tell from
# good ones: an empty file (an empty page) and a header of other names.
my %undecidable = ('bad-header-no-header' => 1, 'bad-header-wrong-header' => 1);
for my $csv (sort glob("$corpora/csv-test-data/csv/*.csv"))
{
	my $name = basename($csv, '.csv');
	my $jfile = "$corpora/csv-test-data/json/$name.json";
	if (!-f $jfile)
	{
		next if $undecidable{$name};
		my ($got, $err) = split_body(slurp($csv), 'csv', '{}');
		ok(defined $err && $err =~ /malformed CSV/, "csv-test-data $name is refused")
		  or diag($err // $json->encode($got));
		next;
	}
	my $rows = decode_json(slurp($jfile));
	if (!@$rows || ref $rows->[0] eq 'HASH')
	{
		# records under the header's names
		my ($got, $err) = split_body(slurp($csv), 'csv', '{}');
		is_deeply($got, $rows, "csv-test-data $name") or diag($err // $json->encode($got));
		next;
	}
	my @cols = map { "c$_" } 1 .. scalar @{ $rows->[0] };
	my @expected = map {
		my $row = $_;
		+{ map { ($cols[$_] => $row->[$_]) } 0 .. $#cols }
	} @$rows;
	my $opts = $json->encode({ header => JSON::PP::false, columns => \@cols });
	my ($got, $err) = split_body(slurp($csv), 'csv', $opts);
	is_deeply($got, \@expected, "csv-test-data $name") or diag($err // $json->encode($got));
}

# JSONTestSuite: y_ documents are accepted, n_ ones refused, with the
# exceptions pg_elt documents: an empty or blank body (or a lone byte
# order mark) is a page without records, and a scalar where the records
# should be is refused (the same scalar inside an array is accepted).
# Documents jsonb cannot hold (a \u0000 escape) are refused by jsonb.
# Bodies that are not UTF-8 cannot be passed as text: they are served by
# the mock API and extracted.
my %empty_page = map { $_ => 1 } qw(n_single_space n_structure_no_data
  n_structure_UTF8_BOM_no_data);
my %jsonb_limit = map { $_ => 1 } qw(y_string_null_escape y_object_escaped_null_in_key);
my ($accepted, $refused, $served) = (0, 0, 0);
my $base = EltTest::mock_base();
$node->safe_psql('postgres', qq{SELECT elt.create_source('jts', '$base', options => '{"max_attempts": 1}')});
for my $file (sort glob("$corpora/JSONTestSuite/test_parsing/[yn]_*.json"))
{
	my $name = basename($file, '.json');
	my $body = slurp($file);
	my $copy = $body;
	my ($got, $err);
	if (!utf8::decode($copy) || $body =~ /\x00/)
	{
		my $b64 = encode_base64url($body);
		my $stream = "s$served";
		$served++;
		$node->safe_psql('postgres', qq{
			SELECT elt.create_stream('jts', '$stream', '/quirks/bytes', params => '{"b64": "$b64"}')});
		my ($ret, $out);
		($ret, $out, $err) = $node->psql('postgres', "SELECT records FROM elt.extract('jts.$stream')");
		$err = undef if $ret == 0;
	}
	else
	{
		($got, $err) = split_body($body, 'json', '{}');
	}
	if ($empty_page{$name})
	{
		is_deeply($got, [], "JSONTestSuite $name: an empty page") or diag($err // '');
		next;
	}
	if ($name =~ /^y_/ && $jsonb_limit{$name})
	{
		ok(defined $err, "JSONTestSuite $name: beyond jsonb");
		next;
	}
	if ($name =~ /^y_/ && defined $err && $err =~ /holds a scalar/)
	{
		my ($in_array, $err2) = split_body("[$body]", 'json', '{}');
		ok(!defined $err2, "JSONTestSuite $name: a scalar, accepted inside an array")
		  or diag($err2);
		next;
	}
	if ($name =~ /^y_/)
	{
		ok(!defined $err, "JSONTestSuite $name is accepted") or diag($err);
		$accepted++;
		# pg_elt's parser gives the records jsonb_in gives (a null where
		# the records should be is a page without records)
		if (!defined $err && defined $got)
		{
			my $hex = unpack('H*', $body);
			my $same = $node->safe_psql('postgres', qq{
				WITH b AS (SELECT convert_from(decode('$hex', 'hex'), 'UTF8') AS t),
				j AS (SELECT t::jsonb AS j FROM b)
				SELECT (SELECT coalesce(jsonb_agg(r ORDER BY n), '[]')
						  FROM b, elt.split_records(b.t) WITH ORDINALITY AS s(r, n))::text
					   = (CASE jsonb_typeof(j) WHEN 'array' THEN j WHEN 'null' THEN '[]'
							ELSE jsonb_build_array(j) END)::text
				  FROM j});
			is($same, 't', "JSONTestSuite $name: the records jsonb_in makes");
		}
	}
	else
	{
		ok(defined $err, "JSONTestSuite $name is refused")
		  or diag($json->encode($got // 'extracted'));
		$refused++;
	}
}
note("JSONTestSuite: $accepted accepted, $refused refused, $served served by the mock API");

# urlsafe base64 without padding, as /quirks/bytes reads it
sub encode_base64url
{
	require MIME::Base64;
	my $e = MIME::Base64::encode_base64($_[0], '');
	$e =~ tr{+/}{-_};
	$e =~ s/=+$//;
	return $e;
}

$node->stop;
done_testing();

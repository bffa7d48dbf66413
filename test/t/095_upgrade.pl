# ALTER EXTENSION pg_elt UPDATE from the previous release: the previous
# release's SQL (upgrade/pg_elt--0.1.0.sql) is installed with the current
# library (which checks that every C symbol it names still exists), filled
# with sources, streams, batches, a secret, dimensions, a fact, checks and a
# pipeline run, then upgraded.  The data must be kept and still work, and
# the upgraded catalog must equal a fresh install's: functions (signature,
# result, attributes, body), relations, columns (in order), constraints,
# indexes, policies, triggers, types, sequences, grants, comments and the
# extension's members and dumped tables.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $previous = '0.1.0';
my $base = EltTest::mock_base();
my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init(extra => [ '--encoding=UTF8', '--no-locale' ]);
$node->append_conf('postgresql.conf', <<CONF);
shared_preload_libraries = 'pg_elt'
pg_elt.allow_private_networks = on
pg_elt.database = 'postgres'
pg_elt.secret_key_file = '../pg_elt_secret.key'
max_worker_processes = 32
CONF
$node->start;

my $current = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'pg_elt'");
isnt($current, $previous, "the current version ($current) is not the previous one");
like(
	$node->safe_psql('postgres',
		"SELECT string_agg(path, ' ') FROM pg_extension_update_paths('pg_elt')
		  WHERE source = '$previous' AND target = '$current' AND path IS NOT NULL"),
	qr/^\Q$previous--$current\E$/, "a direct update path $previous -> $current");

# The previous release, installed with the current library.
$node->safe_psql('postgres', "CREATE EXTENSION pg_elt VERSION '$previous'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_elt'"),
	$previous, "version $previous installs with the current library");

# Fill it as a user would.
$node->safe_psql('postgres', qq{
SET client_min_messages = warning;
SELECT elt.set_secret('shop_token', 'test-token');
SELECT elt.create_source('users', '$base', headers => '{"Authorization": "Bearer {{secret:shop_token}}"}');
SELECT elt.create_stream('users', 'list', '/auth/bearer/users', params => '{"per_page": 20}',
	records => '\$.data', pagination => '{"type": "page", "max_pages": 2}', primary_key => '{login.uuid}');
SELECT * FROM elt.extract('users.list');
SELECT elt.create_source('shop', '$base');
SELECT elt.create_stream('shop', 'orders', '/orders', params => '{"limit": 50}', records => '\$.orders',
	pagination => '{"type": "cursor", "cursor_path": "\$.next_cursor", "param": "cursor"}',
	incremental => '{"cursor_field": "\$.updated_at", "param": "updated_since"}',
	primary_key => '{order_id}');
SELECT status FROM elt.http('POST', '$base/_control/orders/reset');
SELECT * FROM elt.extract('shop.orders');
CREATE SCHEMA dw;
SELECT * FROM elt.merge_dimension('dw.dim_user',
	\$\$SELECT DISTINCT ON (_elt_record #>> '{login,uuid}') _elt_record #>> '{login,uuid}' AS user_uuid,
	           _elt_record #>> '{name,first}' AS first_name, _elt_record ->> 'email' AS email
	      FROM staging.users_list ORDER BY _elt_record #>> '{login,uuid}', _elt_batch_id DESC\$\$,
	natural_key => '{user_uuid}', type1_columns => '{email}');
SELECT elt.create_date_dimension('dw.dim_date', '2020-01-01', '2030-12-31');
SELECT * FROM elt.merge_fact('dw.fact_orders',
	\$\$SELECT DISTINCT ON ((_elt_record ->> 'order_id')::bigint)
	           (_elt_record ->> 'order_id')::bigint AS order_id,
	           (_elt_record ->> 'amount')::numeric(12,2) AS amount,
	           ((_elt_record ->> 'ordered_at')::timestamptz AT TIME ZONE 'UTC')::date AS order_date
	      FROM staging.shop_orders
	     ORDER BY (_elt_record ->> 'order_id')::bigint, _elt_batch_id DESC\$\$,
	grain => '{order_id}',
	dimensions => '[{"dimension": "dw.dim_date", "on": {"order_date": "date"}, "late_arriving": "unknown"}]');
SELECT * FROM elt.check('dw.fact_orders', 'unique', 'order_id');
SELECT elt.create_pipeline('nightly', '0 3 * * *', '{"retries": 1}');
SELECT elt.add_step('nightly', 'orders', \$\$SELECT * FROM elt.extract('shop.orders')\$\$);
SELECT elt.add_step('nightly', 'checks',
	\$\$SELECT * FROM elt.check('dw.fact_orders', 'not_null', 'amount')\$\$, '{orders}');
SELECT elt.run_pipeline('nightly');
});

# Every table of the extension (the ones pg_dump keeps), row by row, over
# the columns the previous version had: an upgrade may add tables and
# columns, never lose a row or change a value.
$node->safe_psql('postgres', q{
CREATE TABLE public.upgrade_columns AS
SELECT c.relname, a.attname, a.attnum
  FROM pg_extension e, unnest(e.extconfig) AS t(oid) JOIN pg_class c ON c.oid = t.oid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE e.extname = 'pg_elt' AND c.relkind = 'r'
});
my $data_sql = q{
SELECT string_agg(format('%s %s', u.relname, (SELECT x FROM pg_temp.digest(u.relname, u.cols) x)),
                  E'\n' ORDER BY u.relname)
  FROM (SELECT relname, string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS cols
          FROM public.upgrade_columns GROUP BY relname) u
};
my $digest_fn = q{
CREATE FUNCTION pg_temp.digest(r name, cols text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
	EXECUTE format('SELECT count(*) || '' rows '' || coalesce(md5(string_agg(t::text, E''\n'' ORDER BY t::text)), '''') FROM (SELECT %s FROM elt.%I) t', cols, r) INTO d;
	RETURN d;
END $$;
};
my $data_before = $node->safe_psql('postgres', $digest_fn . $data_sql);
like($data_before, qr/^batch [1-9]\d* rows/m, 'batches were recorded');
like($data_before, qr/^run [1-9]\d* rows/m, 'the pipeline ran');
like($data_before, qr/^secret 1 rows/m, 'the secret is stored');

my ($rc, $out, $err) = $node->psql('postgres', 'ALTER EXTENSION pg_elt UPDATE');
is($rc, 0, "ALTER EXTENSION pg_elt UPDATE from $previous") or diag($err);
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_elt'"),
	$current, "the extension is at $current");

is($node->safe_psql('postgres', $digest_fn . $data_sql), $data_before,
	'every row of every table of the extension is kept');

# The kept data still works: the secret decrypts, the cursor is kept, the
# dimension is unchanged, the pipeline runs.
is($node->safe_psql('postgres', qq{
	SELECT status FROM elt.http_get('$base/auth/bearer/users?per_page=1',
	                                '{"Authorization": "Bearer {{secret:shop_token}}"}')}),
	'200', 'the secret is used after the upgrade');
is($node->safe_psql('postgres', "SELECT records FROM elt.extract('shop.orders')"),
	'0', 'the incremental cursor is kept: nothing new');
is($node->safe_psql('postgres', q{
	SELECT format('%s %s %s %s', inserted, updated, closed, unchanged > 0) FROM elt.merge_dimension('dw.dim_user',
	$$SELECT DISTINCT ON (_elt_record #>> '{login,uuid}') _elt_record #>> '{login,uuid}' AS user_uuid,
	         _elt_record #>> '{name,first}' AS first_name, _elt_record ->> 'email' AS email
	    FROM staging.users_list ORDER BY _elt_record #>> '{login,uuid}', _elt_batch_id DESC$$,
	natural_key => '{user_uuid}', type1_columns => '{email}')}),
	'0 0 0 t', 'the upgraded dimension merges again: every row kept, nothing changed');
my $run_id = $node->safe_psql('postgres', "SELECT elt.run_pipeline('nightly')");
is($node->safe_psql('postgres', "SELECT status FROM elt.run WHERE run_id = $run_id"),
	'succeeded', 'the pipeline runs after the upgrade');

# The catalog of the extension, one line per fact, in a stable order.
my $catalog_sql = q{
WITH ext AS (SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'pg_elt'),
mem AS (SELECT d.classid, d.objid FROM pg_depend d, ext
         WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
rel AS (SELECT c.* FROM pg_class c WHERE c.oid IN (SELECT objid FROM mem WHERE classid = 'pg_class'::regclass)),
facts(f) AS (
	SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM mem
	UNION ALL
	SELECT format('function %s returns %s; args %s; language %s; volatile %s strict %s secdef %s parallel %s leakproof %s cost %s rows %s; config %s; acl %s; owner %s; body %s; bin %s; comment %s',
	              p.oid::regprocedure, pg_get_function_result(p.oid), pg_get_function_arguments(p.oid),
	              l.lanname, p.provolatile, p.proisstrict, p.prosecdef, p.proparallel, p.proleakproof,
	              p.procost, p.prorows, p.proconfig, p.proacl, pg_get_userbyid(p.proowner),
	              md5(p.prosrc), p.probin, md5(coalesce(obj_description(p.oid, 'pg_proc'), '')))
	  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	 WHERE p.oid IN (SELECT objid FROM mem WHERE classid = 'pg_proc'::regclass)
	UNION ALL
	SELECT format('relation %s kind %s; rls %s force %s; acl %s; options %s; owner %s; comment %s; view %s',
	              c.oid::regclass, c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relacl,
	              c.reloptions, pg_get_userbyid(c.relowner), obj_description(c.oid, 'pg_class'),
	              CASE WHEN c.relkind = 'v' THEN md5(pg_get_viewdef(c.oid)) END)
	  FROM rel c
	UNION ALL
	SELECT format('column %s.%s #%s %s; not null %s; default %s; identity %s; generated %s; collation %s; acl %s; comment %s',
	              c.oid::regclass, a.attname,
	              rank() OVER (PARTITION BY c.oid ORDER BY a.attnum),
	              format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
	              a.attidentity, a.attgenerated, a.attcollation::regcollation, a.attacl,
	              col_description(c.oid, a.attnum))
	  FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	  LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
	UNION ALL
	SELECT format('constraint %s on %s: %s', co.conname, co.conrelid::regclass, pg_get_constraintdef(co.oid))
	  FROM pg_constraint co WHERE co.conrelid IN (SELECT oid FROM rel)
	UNION ALL
	SELECT 'index ' || pg_get_indexdef(i.indexrelid)
	  FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM rel)
	UNION ALL
	SELECT format('policy %s on %s: %s %s to %s using %s check %s', po.polname, po.polrelid::regclass,
	              po.polcmd, CASE WHEN po.polpermissive THEN 'permissive' ELSE 'restrictive' END,
	              po.polroles::regrole[], pg_get_expr(po.polqual, po.polrelid),
	              pg_get_expr(po.polwithcheck, po.polrelid))
	  FROM pg_policy po WHERE po.polrelid IN (SELECT oid FROM rel)
	UNION ALL
	SELECT 'trigger ' || pg_get_triggerdef(t.oid)
	  FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM rel) AND NOT t.tgisinternal
	UNION ALL
	SELECT format('sequence %s: %s start %s increment %s min %s max %s cache %s cycle %s owned by %s',
	              s.seqrelid::regclass, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
	              s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
	              (SELECT d.refobjid::regclass || '.' || a.attname FROM pg_depend d
	                 JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
	                WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
	                  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
	  FROM pg_sequence s WHERE s.seqrelid IN (SELECT oid FROM rel)
	UNION ALL
	SELECT format('type %s kind %s; acl %s; comment %s; fields %s; labels %s', t.oid::regtype, t.typtype,
	              t.typacl, obj_description(t.oid, 'pg_type'),
	              (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
	                 FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped),
	              (SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
	  FROM pg_type t WHERE t.oid IN (SELECT objid FROM mem WHERE classid = 'pg_type'::regclass)
	UNION ALL
	SELECT format('schema %s acl %s owner %s', n.nspname, n.nspacl, pg_get_userbyid(n.nspowner))
	  FROM pg_namespace n WHERE n.nspname = 'elt'
	UNION ALL
	SELECT format('dumped table %s where %s', c.oid::regclass, ext.extcondition[i])
	  FROM ext, generate_subscripts(ext.extconfig, 1) AS i JOIN pg_class c ON true
	 WHERE c.oid = ext.extconfig[i]
)
SELECT string_agg(f, E'\n' ORDER BY f) FROM facts
};
my $upgraded = $node->safe_psql('postgres', $catalog_sql);

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION pg_elt');
my $fresh = $node->safe_psql('fresh', $catalog_sql);
cmp_ok(scalar(() = $fresh =~ /^function /mg), '>', 50, 'the catalog lists the functions');

# Name what differs, so that a change missing from the upgrade script is
# found by reading the failure (docs/architecture.md, "Upgrades").
my %in_up = map { $_ => 1 } split /\n/, $upgraded;
my %in_fresh = map { $_ => 1 } split /\n/, $fresh;
my @missing = grep { !$in_up{$_} } split /\n/, $fresh;
my @extra = grep { !$in_fresh{$_} } split /\n/, $upgraded;
is(scalar(@missing) + scalar(@extra), 0, 'the upgraded catalog equals a fresh install')
  or diag(join("\n", (map { "fresh install only: $_" } @missing),
	(map { "upgraded only:      $_" } @extra)));

$node->stop;
done_testing();

# An unprivileged role attacks pg_elt as a hostile tenant of a shared
# warehouse would: it shadows types, functions, operators and casts (in
# pg_temp and in a schema of its own, first on its search_path), calls
# every public function, rewrites other roles' definitions and history,
# and fishes for secret values and other roles' object names.  Each attack
# must fail cleanly: no role gains rights, no code of the attacker runs as
# anyone else, another role's definitions stay as they were, and no secret
# value appears in any output or in the server log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use EltTest;

my $base = EltTest::mock_base();
my $alice_value = 'ALICE-secret-4f1d77aa';
my $node = EltTest::new_node('attacker', <<CONF);
log_statement = 'all'
log_min_messages = debug1
log_error_verbosity = verbose
CONF

# The victim, alice, and the attacker, mallory, are both loaders with
# EXECUTE on every function of pg_elt, as an administrator who grants a
# group role everything would have it.  analyst got SELECT on every table
# of the schema, a common habit.
$node->safe_psql('postgres', qq{
	CREATE ROLE loaders NOLOGIN;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA elt TO loaders;
	CREATE ROLE alice LOGIN IN ROLE loaders;
	CREATE ROLE mallory LOGIN IN ROLE loaders;
	CREATE ROLE analyst LOGIN;
	GRANT SELECT ON ALL TABLES IN SCHEMA elt TO analyst;
	CREATE SCHEMA alice AUTHORIZATION alice;
	CREATE SCHEMA mal AUTHORIZATION mallory;
	-- where hostile code records whose rights it ran with
	CREATE TABLE public.pwned (who name, via text);
	GRANT INSERT, SELECT ON public.pwned TO PUBLIC;
});

# alice's definitions: a secret, a source using it, a stream, a pipeline,
# a model build and a few batches.
$node->safe_psql('postgres', qq{
	SELECT elt.set_secret('alice_tok', '$alice_value');
	SELECT elt.create_source('alice_src', '$base',
		auth => '{"type": "bearer", "token": "{{secret:alice_tok}}"}');
	SELECT elt.create_stream('alice_src', 'users', '/users/page', records => '\$.data',
		pagination => '{"type": "page", "size_param": "per_page", "size": 20}',
		params => '{"total": 30}', target => 'alice.users');
	SELECT elt.extract('alice_src.users');
	SELECT elt.create_stream('alice_src', 'broken', '/status/500', target => 'alice.broken');
	SELECT elt.create_pipeline('alice_pipe');
	SELECT elt.add_step('alice_pipe', 'load', \$\$SELECT elt.extract('alice_src.users')\$\$);
	SELECT elt.run_pipeline('alice_pipe');
	SELECT * FROM elt.merge_dimension('alice.dim_user', 'SELECT 1 AS id, ''a''::text AS name', '{id}');
}, extra_params => [ '-U', 'alice' ]);
$node->psql('postgres', "SELECT elt.extract('alice_src.broken')",
	extra_params => [ '-U', 'alice' ]);

# What must stay as it is, read by a superuser.
my $fingerprint_sql = q{
	SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
		SELECT s::text AS t FROM elt.source s WHERE s.owner = 'alice'::regrole
		UNION ALL SELECT (st.stream_id, st.source, st.name, st.owner, st.path, st.params,
			st.records, st.pagination, st.target, st.format, st.cursor_value)::text
			FROM elt.stream st WHERE st.owner = 'alice'::regrole
		UNION ALL SELECT b::text FROM elt.batch b WHERE b.owner = 'alice'::regrole
		UNION ALL SELECT p::text FROM elt.pipeline p WHERE p.owner = 'alice'::regrole
		UNION ALL SELECT st::text FROM elt.step st JOIN elt.pipeline p USING (pipeline_id)
			WHERE p.owner = 'alice'::regrole
		UNION ALL SELECT r::text FROM elt.run r WHERE r.owner = 'alice'::regrole
		UNION ALL SELECT m::text FROM elt.model_run m WHERE m.run_by = 'alice'
		UNION ALL SELECT g::text FROM elt.secret_grant g WHERE g.secret LIKE 'alice%'
		UNION ALL SELECT (s.name, s.owner, s.created_at, s.updated_at)::text
			FROM elt.secret s WHERE s.owner = 'alice'::regrole) x
};
my $fingerprint = $node->safe_psql('postgres', $fingerprint_sql);
my $alice_counts = $node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM elt.stream WHERE owner = 'alice'::regrole) || '/' ||
		   (SELECT count(*) FROM elt.batch WHERE owner = 'alice'::regrole) || '/' ||
		   (SELECT count(*) FROM elt.model_run WHERE run_by = 'alice')});
is($alice_counts, '2/3/1', 'alice has two streams, three batches and a model build');

# Hostile objects, created at the start of each of mallory's sessions: for
# each shadowed type a composite type of the same name in pg_temp, with
# implicit casts into it (and on to the real type) that run mallory's code;
# functions and operators of pg_catalog's names in schema mal, which comes
# first on her search_path.
my $hostile = q{
CREATE FUNCTION pg_temp.pwn(via text) RETURNS void LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
	INSERT INTO public.pwned VALUES (current_user, via);
	BEGIN EXECUTE 'ALTER ROLE mallory SUPERUSER'; EXCEPTION WHEN others THEN NULL; END;
	BEGIN EXECUTE 'CREATE ROLE mallory_root SUPERUSER LOGIN'; EXCEPTION WHEN others THEN NULL; END;
	BEGIN
		INSERT INTO public.pwned SELECT current_user, 'secret:' || s.value::text FROM elt.secret s;
	EXCEPTION WHEN others THEN NULL;
	END;
END $f$;
CREATE OR REPLACE FUNCTION mal.hook(via text) RETURNS boolean LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS $f$
BEGIN PERFORM pg_temp.pwn(via); RETURN true; END $f$;
CREATE OR REPLACE FUNCTION mal.now() RETURNS timestamptz LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS $f$
BEGIN PERFORM mal.hook('now()'); RETURN pg_catalog.now(); END $f$;
CREATE OR REPLACE FUNCTION mal.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS $f$
BEGIN PERFORM mal.hook('clock_timestamp()'); RETURN pg_catalog.clock_timestamp(); END $f$;
CREATE OR REPLACE FUNCTION mal.nextval(regclass) RETURNS bigint LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS $f$
BEGIN PERFORM mal.hook('nextval'); RETURN pg_catalog.nextval($1); END $f$;
CREATE OR REPLACE FUNCTION mal.pg_has_role(regrole, text) RETURNS boolean LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS $f$
BEGIN PERFORM mal.hook('pg_has_role'); RETURN true; END $f$;
CREATE OR REPLACE FUNCTION mal.jsonb_populate_record(anyelement, jsonb) RETURNS anyelement
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
BEGIN PERFORM mal.hook('jsonb_populate_record'); RETURN pg_catalog.jsonb_populate_record($1, $2); END $f$;
CREATE OR REPLACE FUNCTION mal.eq(text, text) RETURNS boolean LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS $f$
BEGIN PERFORM mal.hook('text = text'); RETURN pg_catalog.texteq($1, $2); END $f$;
CREATE OR REPLACE FUNCTION mal.eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS $f$
BEGIN PERFORM mal.hook('bigint = bigint'); RETURN pg_catalog.int8eq($1, $2); END $f$;
CREATE OR REPLACE FUNCTION mal.eq(integer, integer) RETURNS boolean LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp AS $f$
BEGIN PERFORM mal.hook('int = int'); RETURN pg_catalog.int4eq($1, $2); END $f$;
DO $d$ BEGIN
	CREATE OPERATOR mal.= (LEFTARG = text, RIGHTARG = text, FUNCTION = mal.eq);
	CREATE OPERATOR mal.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = mal.eq);
	CREATE OPERATOR mal.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = mal.eq);
EXCEPTION WHEN duplicate_function THEN NULL;
END $d$;
DO $d$
DECLARE
	t text;
	src text;
BEGIN
	FOREACH t IN ARRAY ARRAY['jsonb', 'oid', 'regrole', 'text', 'int8', 'timestamptz', 'bool',
							 'regclass', 'name', 'bytea'] LOOP
		EXECUTE format('CREATE TEMP TABLE %I (x int)', t);
		FOREACH src IN ARRAY ARRAY['text', 'regrole', 'oid', 'int4', 'int8', 'name', 'unknown',
								   'timestamptz', 'bool', 'jsonb', 'bytea', 'regclass'] LOOP
			BEGIN
				EXECUTE format($q$CREATE FUNCTION pg_temp.%I(v pg_catalog.%I) RETURNS pg_temp.%I
					LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
					AS $b$ BEGIN PERFORM pg_temp.pwn('cast %s to pg_temp.%s'); RETURN NULL; END $b$$q$,
					'to_' || t || '_from_' || src, src, t, src, t);
				EXECUTE format('CREATE CAST (pg_catalog.%I AS pg_temp.%I) WITH FUNCTION pg_temp.%I(pg_catalog.%I) AS IMPLICIT',
					src, t, 'to_' || t || '_from_' || src, src);
			EXCEPTION WHEN others THEN NULL;
			END;
		END LOOP;
		BEGIN
			EXECUTE format($q$CREATE FUNCTION pg_temp.%I(v pg_temp.%I) RETURNS pg_catalog.%I
				LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
				AS $b$ BEGIN PERFORM pg_temp.pwn('cast pg_temp.%s back'); RETURN NULL; END $b$$q$,
				'back_' || t, t, t, t);
			EXECUTE format('CREATE CAST (pg_temp.%I AS pg_catalog.%I) WITH FUNCTION pg_temp.%I(pg_temp.%I) AS ASSIGNMENT',
				t, t, 'back_' || t, t);
		EXCEPTION WHEN others THEN NULL;
		END;
	END LOOP;
END $d$;
SET search_path = mal, pg_temp, pg_catalog;
};

# Every public function of pg_elt, called by mallory on her own objects,
# and on alice's where that makes sense.
my $calls = qq{
SELECT elt.set_secret('m_tok', 'mallory-value');
SELECT elt.grant_secret('m_tok', 'alice');
SELECT elt.revoke_secret('m_tok', 'alice');
SELECT * FROM elt.secrets;
SELECT status FROM elt.http_get('$base/echo', '{"X-Token": "{{secret:m_tok}}"}');
SELECT status FROM elt.http('POST', '$base/echo', '{"X-Token": "{{secret:m_tok}}"}', 'body');
SELECT status FROM elt.http_post('$base/echo', '{}', '{"X-Token": "{{secret:m_tok}}"}');
SELECT elt.create_source('m_src', '$base', headers => '{"X-Token": "{{secret:m_tok}}"}');
SELECT elt.create_stream('m_src', 'users', '/users/page', records => '\$.data',
	pagination => '{"type": "page", "size_param": "per_page", "size": 10}',
	params => '{"total": 15}', target => 'mal.users');
SELECT * FROM elt.extract('m_src.users');
SELECT elt.create_stream('m_src', 'fail', '/status/500', target => 'mal.fail');
SELECT * FROM elt.extract('m_src.fail');
SELECT elt.alter_stream('m_src.users', params => '{"total": 12}');
SELECT elt.infer_view('m_src.users', 'mal.users_v');
SELECT * FROM elt.streams;
SELECT * FROM elt.extract_progress;
SELECT * FROM elt.split_records('{"a": [1, 2]}', '\$.a');
CREATE TEMP TABLE src AS SELECT g AS id, 'n' || g AS name FROM generate_series(1, 5) g;
SELECT * FROM elt.merge('pg_temp.tgt', 'pg_temp.src', ARRAY['id']);
SELECT * FROM elt.merge('pg_temp.tgt', 'pg_temp.src', ARRAY['id']);
SELECT * FROM elt.merge_dimension('mal.dim_x', 'SELECT id, name FROM pg_temp.src', '{id}');
UPDATE pg_temp.src SET name = name || '!';
SELECT * FROM elt.merge_dimension('mal.dim_x', 'SELECT id, name FROM pg_temp.src', '{id}');
SELECT * FROM elt.merge_dimension('mal.dim_y', 'SELECT id, name FROM pg_temp.src', '{id}', scd_type => 1);
SELECT * FROM elt.merge_fact('mal.fact_x', 'SELECT id, id AS amount FROM pg_temp.src', '{id}',
	dimensions => '[{"dimension": "mal.dim_x", "on": {"id": "id"}}]');
SELECT * FROM elt.create_date_dimension('mal.dim_date', '2024-01-01', '2024-01-10');
SELECT * FROM elt.check('mal.dim_x', 'not_null', 'name');
SELECT * FROM elt.check('mal.dim_x', 'unique', 'x_key');
SELECT * FROM elt.check('mal.dim_x', 'row_count', args => '{"min": 1}');
SELECT * FROM elt.check('mal.dim_x', 'expression', args => '{"where": "name IS NULL"}');
SELECT * FROM elt.check('mal.dim_x', 'expression', args => '{"where": "true"}');
SELECT elt.create_pipeline('m_pipe', '1 hour');
SELECT elt.add_step('m_pipe', 'one', 'SELECT 1');
SELECT elt.add_step('m_pipe', 'two', 'SELECT 1/0', depends_on => '{one}');
SELECT elt.run_pipeline('m_pipe');
SELECT elt.trigger('m_pipe');
SELECT elt.pause('m_pipe');
SELECT elt.resume('m_pipe');
SELECT elt.cancel((SELECT max(run_id) FROM elt.run));
SELECT count(*) AS m_runs FROM elt.run WHERE pipeline = 'm_pipe';
SELECT * FROM elt.next_runs('*/5 * * * *', 2);
SELECT elt.scheduler_pid() IS NOT NULL;
SELECT elt.current_run();
SELECT * FROM elt.pipeline_status;
SELECT * FROM elt.pipeline_levels('m_pipe');
SELECT elt.pipeline_graph('m_pipe');
SELECT * FROM elt.run_timeline((SELECT max(run_id) FROM elt.run WHERE pipeline = 'm_pipe'));
SELECT elt.backfill('m_pipe', now() - interval '3 hours', now() - interval '1 hour');
SELECT * FROM elt.run_interval();
SELECT elt.drop_pipeline('m_pipe');
SELECT elt.schedule('m_sched', '1 hour', 'SELECT 1');
SELECT elt.unschedule('m_sched');
SELECT rows FROM elt.export('SELECT * FROM mal.dim_x', '$base/upload/m_dim.csv');
SELECT count(*) AS m_exports FROM elt.export_run;
SELECT elt.drop_stream('m_src.fail');
SELECT elt.drop_source('m_src', cascade => true);
SELECT elt.drop_secret('m_tok');
};

# Against alice's definitions: every way to change them.
my $tamper = qq{
UPDATE elt.source SET base_url = 'http://127.0.0.1:1' WHERE name = 'alice_src';
UPDATE elt.stream SET target = 'mal.loot', path = '/echo' WHERE source = 'alice_src';
UPDATE elt.stream SET owner = 'mallory' WHERE source = 'alice_src';
DELETE FROM elt.stream WHERE source = 'alice_src';
DELETE FROM elt.source WHERE name = 'alice_src';
INSERT INTO elt.source (name, owner, base_url) VALUES ('alice_src2', 'alice', '$base');
INSERT INTO elt.source (name, base_url) VALUES ('alice_src', 'http://127.0.0.1:1')
	ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url;
INSERT INTO elt.stream (source, name, owner, path, target)
	VALUES ('alice_src', 'steal', 'mallory', '/echo', 'mal.loot');
INSERT INTO elt.stream (source, name, owner, path, target)
	VALUES ('alice_src', 'steal2', 'alice', '/echo', 'alice.loot');
UPDATE elt.batch SET error = 'forged', status = 'failed';
DELETE FROM elt.batch;
INSERT INTO elt.batch (batch_id, stream_id, stream, target, status, started_at, owner)
	SELECT 999999, stream_id, 'x', 'x', 'succeeded', now(), 'alice' FROM elt.stream LIMIT 1;
UPDATE elt.pipeline SET schedule = '* * * * *' WHERE name = 'alice_pipe';
UPDATE elt.step SET command = 'ALTER ROLE mallory SUPERUSER';
INSERT INTO elt.step (pipeline_id, name, position, command)
	SELECT pipeline_id, 'evil', 99, 'ALTER ROLE mallory SUPERUSER' FROM elt.pipeline;
DELETE FROM elt.run;
UPDATE elt.model_run SET target = 'forged';
DELETE FROM elt.model_run;
UPDATE elt.secret_grant SET grantee = 'mallory';
INSERT INTO elt.secret_grant VALUES ('alice_tok', 'mallory');
SELECT elt.alter_source('alice_src', base_url => 'http://127.0.0.1:1');
SELECT elt.alter_stream('alice_src.users', target => 'mal.loot');
SELECT elt.reset_stream('alice_src.users');
SELECT elt.drop_stream('alice_src.users');
SELECT elt.drop_source('alice_src', cascade => true);
SELECT elt.create_stream('alice_src', 'steal3', '/echo', target => 'mal.loot');
SELECT * FROM elt.extract('alice_src.users');
SELECT * FROM elt.extract('users');
SELECT elt.infer_view('alice_src.users', 'mal.peek');
SELECT elt.run_pipeline('alice_pipe');
SELECT elt.trigger('alice_pipe');
SELECT elt.pause('alice_pipe');
SELECT elt.drop_pipeline('alice_pipe');
SELECT elt.add_step('alice_pipe', 'evil', 'ALTER ROLE mallory SUPERUSER');
SELECT elt.pipeline_graph('alice_pipe');
SELECT * FROM elt.pipeline_levels('alice_pipe');
SELECT * FROM elt.run_timeline((SELECT min(run_id) FROM elt.run));
SELECT elt.backfill('alice_pipe', now() - interval '3 hours', now());
SELECT elt.unschedule('alice_pipe');
SELECT elt.schedule('alice_pipe', '* * * * *', 'ALTER ROLE mallory SUPERUSER');
SELECT rows FROM elt.export('SELECT * FROM alice.users', '$base/upload/loot.csv');
SELECT elt.create_pipeline('m_after', options => '{"after": ["alice_pipe"]}');
SELECT elt.set_secret('alice_tok', 'overwritten');
SELECT elt.drop_secret('alice_tok');
SELECT elt.grant_secret('alice_tok', 'mallory');
SELECT status FROM elt.http_get('$base/echo', '{"X-Token": "{{secret:alice_tok}}"}');
};

# Reading: nothing of alice's, and no value at all.
my $peek = qq{
SELECT * FROM elt.secret;
SELECT * FROM elt.secret_grant;
SELECT * FROM elt.secrets;
SELECT count(*) AS sources FROM elt.source;
SELECT count(*) AS streams FROM elt.stream;
SELECT count(*) AS batches FROM elt.batch;
SELECT count(*) AS model_runs FROM elt.model_run;
SELECT count(*) AS pipelines FROM elt.pipeline;
SELECT count(*) AS runs FROM elt.run;
SELECT count(*) AS step_runs FROM elt.step_run;
SELECT error FROM elt.batch;
SELECT * FROM elt.streams;
};

# Runs a script as a role in one session and returns everything it printed.
sub run_as
{
	my ($role, $sql) = @_;
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"SET client_min_messages = debug1;\n$sql",
		extra_params => [ '-U', $role, '-v', 'VERBOSITY=verbose' ],
		on_error_stop => 0);
	return "$stdout\n$stderr";
}

# After each attack: the attacker gained nothing.
sub assert_contained
{
	my ($what, $out) = @_;
	is( $node->safe_psql('postgres',
			"SELECT count(*) FROM pg_roles WHERE rolsuper AND rolname <> current_user"),
		'0', "$what: no new superuser");
	is($node->safe_psql('postgres',
			"SELECT coalesce(string_agg(DISTINCT who || ' via ' || via, ', '), 'none')
			   FROM public.pwned WHERE who <> 'mallory'"),
		'none', "$what: mallory's code never ran with anyone else's rights");
	is($node->safe_psql('postgres', "SELECT count(*) FROM public.pwned WHERE via LIKE 'secret:%'"),
		'0', "$what: mallory's code read no secret");
	is($node->safe_psql('postgres', $fingerprint_sql), $fingerprint,
		"$what: alice's definitions, history and secrets are as they were");
	unlike($out, qr/\Q$alice_value\E/, "$what: alice's secret value is in no output");
}

# mallory's own work, in a plain session: it all works and is hers
my $out = run_as('mallory', $calls);
assert_contained('every public function, plainly', $out);
is($node->safe_psql('postgres', q{
		SELECT (SELECT count(*) FROM elt.batch WHERE owner = 'mallory'::regrole AND status = 'succeeded')
			|| '/' || (SELECT count(*) FROM elt.batch WHERE owner = 'mallory'::regrole AND status = 'failed')
			|| '/' || (SELECT count(*) FROM elt.check_result WHERE owner = 'mallory'::regrole)
			|| '/' || (SELECT count(*) FROM elt.check_result WHERE owner = 'mallory'::regrole AND NOT passed)
			|| '/' || (SELECT count(*) FROM elt.model_run WHERE run_by = 'mallory')}),
	'1/1/5/1/7',
	"mallory's own extracts, checks, builds and runs worked and were recorded as hers");

# the same with every hostile object in place
$out = run_as('mallory', $hostile . $calls);
like($out, qr/CREATE CAST|DO/, 'the hostile casts and operators were created');
is($node->safe_psql('postgres',
		"SELECT count(*) > 0 FROM public.pwned WHERE who = 'mallory'"),
	't', "mallory's own code did run in her session, as herself");
assert_contained('every public function with shadowed types and operators', $out);
unlike($out, qr/mallory-value/, "no output shows mallory's own secret value either");

$out = run_as('mallory', $hostile . $tamper);
assert_contained("rewriting alice's rows and calling on them", $out);
is($node->safe_psql('postgres', q{
		SELECT count(*) FROM elt.stream WHERE name LIKE 'steal%' OR owner = 'mallory'::regrole}),
	'0', 'no stream was slipped in over alice\'s source');
is($node->safe_psql('postgres', q{SELECT count(*) FROM elt.batch WHERE batch_id = 999999}),
	'0', 'no batch was forged in alice\'s name');
is($node->safe_psql('postgres', q{SELECT count(*) FROM elt.pipeline WHERE name = 'm_after'}),
	'0', 'no pipeline of mallory\'s follows alice\'s');
is($node->safe_psql('postgres', q{SELECT count(*) FROM elt.export_run WHERE destination LIKE '%loot%' AND status = 'succeeded'}),
	'0', 'alice\'s table was not exported by mallory');

# the same calls as plain statements, without hostile objects
$out = run_as('mallory', $tamper);
assert_contained('the same without hostile objects', $out);

# one message whether a name exists for someone else or not at all
$out = run_as('mallory', $peek);
assert_contained('reading', $out);
like($out, qr/permission denied for table secret/, 'elt.secret is closed to mallory');
for my $pair (
	[ "SELECT status FROM elt.http_get('$base/echo', '{\"X\": \"{{secret:alice_tok}}\"}')",
	  "SELECT status FROM elt.http_get('$base/echo', '{\"X\": \"{{secret:nobody_tok}}\"}')",
	  'alice_tok', 'nobody_tok', 'using a secret' ],
	[ "SELECT elt.drop_secret('alice_tok')", "SELECT elt.drop_secret('nobody_tok')",
	  'alice_tok', 'nobody_tok', 'dropping a secret' ],
	[ "SELECT elt.grant_secret('alice_tok', 'mallory')",
	  "SELECT elt.grant_secret('nobody_tok', 'mallory')",
	  'alice_tok', 'nobody_tok', 'granting a secret' ],
	[ "SELECT elt.run_pipeline('alice_pipe')", "SELECT elt.run_pipeline('nobody_pipe')",
	  'alice_pipe', 'nobody_pipe', 'running a pipeline' ],
	[ "SELECT elt.drop_pipeline('alice_pipe')", "SELECT elt.drop_pipeline('nobody_pipe')",
	  'alice_pipe', 'nobody_pipe', 'dropping a pipeline' ],
	[ "SELECT elt.extract('alice_src.users')", "SELECT elt.extract('nobody_src.users')",
	  'alice_src', 'nobody_src', 'running a stream' ],
	[ "SELECT elt.alter_source('alice_src', base_url => 'http://x')",
	  "SELECT elt.alter_source('nobody_src', base_url => 'http://x')",
	  'alice_src', 'nobody_src', 'changing a source' ])
{
	my ($exists, $missing, $n1, $n2, $what) = @$pair;
	my (undef, undef, $e1) = $node->psql('postgres', $exists, extra_params => [ '-U', 'mallory' ]);
	my (undef, undef, $e2) = $node->psql('postgres', $missing, extra_params => [ '-U', 'mallory' ]);
	$e1 =~ s/\Q$n1\E/NAME/g;
	$e2 =~ s/\Q$n2\E/NAME/g;
	isnt($e1, '', "$what someone else owns is an error");
	is($e1, $e2, "$what: another's reads like a missing one");
}

# analyst, with SELECT on every table of the schema, reads no value
$out = run_as('analyst', "SELECT * FROM elt.secret; SELECT * FROM elt.source;");
unlike($out, qr/\Q$alice_value\E/, 'a role with SELECT on every table reads no secret value');

# alice's stream still extracts, with her token, into her table
$node->safe_psql('postgres', "SELECT elt.extract('alice_src.users')",
	extra_params => [ '-U', 'alice' ]);
is($node->safe_psql('postgres', 'SELECT count(*) FROM alice.users'), '90',
	'alice\'s stream still loads into her table');

my $log = slurp_file($node->logfile);
unlike($log, qr/\Q$alice_value\E/, 'the server log never shows alice\'s secret value');
unlike($log, qr/mallory-value/, 'nor mallory\'s');

$node->stop;
done_testing();

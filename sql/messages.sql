-- Messages as a user reads them in psql: names in double quotes, and no
-- CONTEXT lines naming pg_elt's internal validators (elt._validate_*,
-- elt._check_pipeline_options) or the triggers that call them.
\set VERBOSITY default
\set SHOW_CONTEXT always

SELECT elt.create_source('msg.bad', 'http://example.com');
SELECT elt.create_source('msg_src', 'ftp://example.com');
SELECT elt.create_source('msg_src', 'http://example.com', headers => '{"Bad Name": "x"}');
SELECT elt.create_source('msg_src', 'http://example.com');
SELECT elt.create_stream('msg_src', 'a.b', '/p');
SELECT elt.create_stream('msg_src', 's', '/p', format => 'xml');
SELECT elt.create_stream('msg_src', 's', '/p', target => 'unqualified');
SELECT elt.create_stream('msg_src', 's', '/p', method => 'DELETE');
-- the same validation, through the table and its trigger
INSERT INTO elt.source (name, base_url) VALUES ('msg_direct', 'gopher://x');
UPDATE elt.source SET base_url = 'not a url' WHERE name = 'msg_src';
SELECT elt.create_pipeline('msg_pipe', NULL, '{"bogus": 1}');
-- relations, as PostgreSQL names them
SELECT * FROM elt.merge_dimension('public.msg_missing_dim', 'public.msg_missing_source', '{id}');
SELECT * FROM elt.merge('pg_catalog.pg_class', 'SELECT 1 AS oid', '{oid}');
SELECT elt.create_stream('msg_src', 's', '/p');
SELECT elt.infer_view('msg_src.s', 'a.b.c');
SELECT elt.drop_source('msg_src', cascade => true);

-- Sources and streams: definitions, validation at definition time, alter,
-- drop, and the record splitter behind them.

\i test/regress/helpers.sql
SET test.try_detail = on;

SELECT elt.set_secret('src_token', 'sEcReT-VaLuE');

-- a source with every option, and its defaults
SELECT elt.create_source('src_api', 'https://api.example.com/v1',
						 headers => '{"X-Team": "data", "X-Token": "{{secret:src_token}}"}',
						 auth => '{"type": "bearer", "token": "{{secret:src_token}}"}',
						 options => '{"timeout": "5 seconds", "max_attempts": 3, "backoff": 0.5,
									  "max_backoff": "10 s", "rate_limit": 2.5, "concurrency": 4}');
SELECT elt.create_source('src_min', 'http://example.com');
SELECT name, base_url, headers, auth, options FROM elt.source WHERE name LIKE 'src\_%' ORDER BY name;

-- streams: default target staging.<source>_<stream>, every paging kind
SELECT elt.create_stream('src_api', 'members', '/users', params => '{"results": 50, "nat": "fr", "active": true}',
						 records => '$.results', pagination => '{"type": "page", "param": "p", "start": 0,
						 "size_param": "per_page", "size": 50, "max_pages": 10, "total_path": "$.info.total"}');
SELECT elt.create_stream('src_api', 'items', 'items', records => '$.data.items[*]',
						 pagination => '{"type": "offset", "limit": 200, "total_path": "$.meta.\"total count\""}');
SELECT elt.create_stream('src_api', 'events', '/events', records => '$.events',
						 pagination => '{"type": "cursor", "cursor_path": "$.meta.next", "param": "after"}',
						 incremental => '{"cursor_field": "$.updated_at", "param": "since",
										  "initial": "2024-01-01T00:00:00Z", "lag": "5 minutes"}',
						 primary_key => '{id}');
SELECT elt.create_stream('src_api', 'logs', '/logs', format => 'ndjson',
						 pagination => '{"type": "link_header", "max_pages": 3}');
SELECT elt.create_stream('src_api', 'report', '/report.csv', format => 'csv',
						 target => 'raw."Report Rows"');
SELECT elt.create_stream('src_min', 'members', '/u', pagination => '{"type": "next_url", "path": "$.links.next"}',
						 incremental => '{"cursor_field": "$.seq", "param": "after", "lag": 10}');
SELECT stream, source, name, format, records, pagination, incremental, target
  FROM elt.streams WHERE source LIKE 'src\_%' ORDER BY stream;

-- bad sources: clear errors at definition time, nothing stored
SELECT pg_temp.try($$SELECT elt.create_source('src_api', 'http://example.com')$$);
SELECT pg_temp.try($$SELECT elt.create_source(NULL, 'http://example.com')$$);
SELECT pg_temp.try($$SELECT elt.create_source('a.b', 'http://example.com')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'ftp://example.com')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'example.com/api')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', NULL)$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', headers => '[]')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', headers => '{"Bad Name": "x"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', headers => '{"X-A": 1}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', headers => E'{"X-A": "a\\r\\nX-B: b"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', auth => '{"type": "digest"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', auth => '{"token": "x"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', auth => '"bearer"')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', auth => '{"type": "bearer", "token": "plain-text-token"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', auth => '{"type": "bearer", "token": "{{secret:t}}", "extra": 1}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', auth => '{"type": "api_key", "value": "{{secret:t}}"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', auth => '{"type": "api_key", "name": "k", "in": "cookie", "value": "{{secret:t}}"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', auth => '{"type": "basic", "username": "a:b", "password": "{{secret:t}}"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', auth => '{"type": "oauth2_client_credentials", "token_url": "token", "client_id": "c", "client_secret": "{{secret:t}}"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', auth => '{"type": "oauth2_client_credentials", "token_url": "/token", "client_secret": "{{secret:t}}"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', options => '{"retries": 3}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', options => '{"max_attempts": 0}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', options => '{"max_attempts": 2.5}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', options => '{"concurrency": 65}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', options => '{"timeout": "soon"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', options => '{"timeout": 0}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', options => '{"backoff": "-1 s"}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', options => '{"rate_limit": 0}')$$);
SELECT pg_temp.try($$SELECT elt.create_source('src_x', 'http://example.com', options => NULL)$$);
SELECT count(*) AS stored FROM elt.source WHERE name = 'src_x';

-- bad streams
SELECT pg_temp.try($$SELECT elt.create_stream('nope', 's', '/s')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 'members', '/users')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 'a.b', '/s')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', 'http://other.example.com/s')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s p')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', params => '{"a": [1]}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', records => 'results')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', records => '$.results[0]')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', records => '$..x')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', records => '$."open')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', records => NULL)$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', pagination => '{"type": "pages"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', pagination => '{"kind": "page"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', pagination => '{"type": "page", "limit": 10}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', pagination => '{"type": "page", "size": 10}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', pagination => '{"type": "page", "max_pages": 0}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', pagination => '{"type": "none", "max_pages": 2}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', pagination => '{"type": "cursor", "param": "c"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', pagination => '{"type": "cursor", "cursor_path": "next", "param": "c"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', pagination => '{"type": "next_url"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', pagination => '{"type": "offset", "total_path": "total"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', format => 'xml')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', format => 'csv', records => '$.rows')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', format => 'ndjson', pagination => '{"type": "cursor", "cursor_path": "$.n", "param": "c"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', incremental => '{"param": "since"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', incremental => '{"cursor_field": "updated", "param": "since"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', incremental => '{"cursor_field": "$.u", "param": "since", "lag": "a while"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', incremental => '{"cursor_field": "$.u", "param": "since", "lag": -1}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', incremental => '{"cursor_field": "$.u", "param": "since", "initial": [1]}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', primary_key => '{}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', primary_key => '{id,id}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', primary_key => '{id,NULL}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', target => 'a.b.c.d')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', target => 'x; DROP TABLE y')$$);
-- targets are schema-qualified, and no part is longer than PostgreSQL keeps
-- (a 70-byte name and its variant would land on the same truncated table)
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', 's', '/s', target => 'unqualified')$$);
SELECT pg_temp.try(format($$SELECT elt.create_stream('src_api', 's', '/s', target => 'staging.%s')$$, repeat('t', 70)));
SELECT pg_temp.try(format($$SELECT elt.create_stream('src_api', 's', '/s', target => '%s.t')$$, repeat('s', 64)));
SELECT pg_temp.try(format($$SELECT elt.create_stream('src_api', 's', '/s', target => 'staging.%s')$$, repeat('t', 63)));
SELECT pg_temp.try($$SELECT elt.drop_stream('src_api.s')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('src_api', repeat('s', 60), '/s')$$);
SELECT count(*) AS stored FROM elt.stream WHERE source = 'src_api' AND name = 's';

-- hostile but valid names are stored as they are and quoted in the target
SELECT elt.create_source('Src "Odd"; src', 'http://example.com');
SELECT elt.create_stream('Src "Odd"; src', 'Users List', '/u');
SELECT target FROM elt.stream WHERE source = 'Src "Odd"; src';

-- bare stream names resolve when unique, and are refused when ambiguous
SELECT pg_temp.try($$SELECT elt.drop_stream('members')$$);
SELECT pg_temp.try($$SELECT elt.drop_stream('nope.members')$$);
SELECT pg_temp.try($$SELECT elt.drop_stream(NULL)$$);

-- alter: NULL keeps a value; a bad change is refused and leaves the definition as it was
SELECT elt.alter_source('src_min', options => '{"concurrency": 8}');
SELECT elt.alter_source('src_min', auth => '{"type": "basic", "username": "u", "password": "{{secret:src_token}}"}');
SELECT base_url, auth, options FROM elt.source WHERE name = 'src_min';
SELECT pg_temp.try($$SELECT elt.alter_source('src_min', base_url => 'gopher://x')$$);
SELECT pg_temp.try($$SELECT elt.alter_source('src_none', base_url => 'http://x')$$);
SELECT elt.alter_source('src_min', auth => 'null');
SELECT base_url, auth FROM elt.source WHERE name = 'src_min';
SELECT elt.alter_stream('src_api.logs', params => '{"level": "warn"}', pagination => '{"type": "link_header"}');
SELECT pg_temp.try($$SELECT elt.alter_stream('src_api.logs', format => 'yaml')$$);
SELECT params, pagination, format FROM elt.stream WHERE source = 'src_api' AND name = 'logs';

-- the incremental cursor: set, reset, and reset by a change of incremental
SELECT elt.reset_stream('src_api.events', '2024-06-01T00:00:00Z');
SELECT cursor_value FROM elt.stream WHERE name = 'events';
SELECT elt.alter_stream('src_api.events', incremental => '{"cursor_field": "$.id", "param": "after"}');
SELECT cursor_value FROM elt.stream WHERE name = 'events';
SELECT pg_temp.try($$SELECT elt.reset_stream('src_api.logs')$$);

-- drop
SELECT pg_temp.try($$SELECT elt.drop_source('src_api')$$);
SELECT elt.drop_stream('src_api.report');
SELECT elt.drop_source('src_api', cascade => true);
SELECT elt.drop_source('Src "Odd"; src', cascade => true);
SELECT pg_temp.try($$SELECT elt.drop_source('src_api')$$);
SELECT count(*) FROM elt.stream WHERE source IN ('src_api', 'Src "Odd"; src');

-- the splitter: JSON at a path, NDJSON, CSV
SELECT elt.split_records('{"results": [{"a": 1}, {"b": [1, {"c": "}]\"x"}]}], "info": {"n": 2}}', '$.results');
SELECT elt.split_records('[1, "two", {"three": 3}, null, [4]]');
SELECT elt.split_records('{"data": {"only": "one"}}', '$.data');
SELECT elt.split_records('{"data": null}', '$.data');
SELECT elt.split_records('{"other": []}', '$.data');
SELECT elt.split_records('{"d\u0061ta": {"it\"ems": [{"k": 1}]}}', '$.data."it\"ems"');
SELECT elt.split_records('{"a b": {"c.d": [{"k": 2}]}}', '$."a b"[''c.d'']');
SELECT elt.split_records('');
SELECT elt.split_records(E'{"a": 1}\n\n{"a": 2}\r\n  {"a": 3}  ', format => 'ndjson');
SELECT elt.split_records(E'id,name,note\n1,"Smith, J","say ""hi"""\r\n2,,""\n\n3,"multi\nline",x', format => 'csv');
SELECT elt.split_records(E'\xc3\xa9t\xc3\xa9,n\ncaf\xc3\xa9,1\n', format => 'csv');
SELECT pg_temp.try($$SELECT elt.split_records('{"x": [1, 2', '$.x')$$);
SELECT pg_temp.try($$SELECT elt.split_records('{"x": [1, 2]} trailing', '$.x')$$);
SELECT pg_temp.try($$SELECT elt.split_records('{"x": "scalar"}', '$.x')$$);
SELECT pg_temp.try($$SELECT elt.split_records('{"x": [1], "y": tru}', '$.x')$$);
SELECT pg_temp.try($$SELECT elt.split_records('{"x": [1], "y": "a\qb"}', '$.x')$$);
SELECT pg_temp.try($$SELECT elt.split_records('{"x": [1], "y" 1}', '$.x')$$);
SELECT pg_temp.try($$SELECT elt.split_records('{"x": [{"a": 1}, {"a": 2]]}', '$.x')$$);
SELECT pg_temp.try($$SELECT elt.split_records(E'{"a": 1}\n{"a": }', format => 'ndjson')$$);
SELECT pg_temp.try($$SELECT elt.split_records(E'a,b\n1,2,3', format => 'csv')$$);
SELECT pg_temp.try($$SELECT elt.split_records(E'a,a\n1,2', format => 'csv')$$);
SELECT pg_temp.try($$SELECT elt.split_records(E'a,,c\n1,2,3', format => 'csv')$$);
SELECT pg_temp.try($$SELECT elt.split_records(E'a,b\n"1', format => 'csv')$$);
SELECT pg_temp.try($$SELECT elt.split_records(E'a,b\n"1"x,2', format => 'csv')$$);
SELECT pg_temp.try($$SELECT elt.split_records('[]', '$.x', 'csv')$$);
SELECT pg_temp.try($$SELECT elt.split_records('[]', '$', 'xml')$$);

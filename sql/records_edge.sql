-- Bodies at the edges of their formats: CSV blank lines, stray quotes and
-- dialects (delimiter, quote, null_string, header/columns); JSON bodies
-- that are empty, a lone byte order mark, or not UTF-8.

\i test/regress/helpers.sql
SET test.try_detail = on;
SET test.try_context = 'extract of stream [^\n]*';

-- CSV: a blank line in a file of one column is a record with an empty
-- (null) value; among several columns it is skipped
SELECT elt.split_records(E'id\n1\n\n2\n', format => 'csv');
SELECT elt.split_records(E'id\n\n', format => 'csv');
SELECT elt.split_records(E'\nid\n1\n', format => 'csv');
SELECT elt.split_records(E'a,b\n1,2\n\n3,4\n\n', format => 'csv');
SELECT elt.split_records(E'a\r1\r\r', format => 'csv');
-- a quote belongs at the start of a field, or doubled inside a quoted one
SELECT elt.split_records(E'a,b\n"x ""y""",z\n', format => 'csv');
SELECT pg_temp.try($$SELECT elt.split_records(E'a,b\n1,x"y\n', format => 'csv')$$);
SELECT pg_temp.try($$SELECT elt.split_records(E'a,b\n1, "y"\n', format => 'csv')$$);
SELECT pg_temp.try($$SELECT elt.split_records(E'a,b\n1,"x"y\n', format => 'csv')$$);
SELECT pg_temp.try($$SELECT elt.split_records(E'a,b\n1,"x\n', format => 'csv')$$);

-- dialects
SELECT elt.split_records(E'a;b\n1;"x;y"\n', format => 'csv', format_options => '{"delimiter": ";"}');
SELECT elt.split_records(E'a\tb\n1\t2 3\n', format => 'csv', format_options => '{"delimiter": "\t"}');
SELECT elt.split_records(E'a,b\n''x,y'',''it''''s''\n', format => 'csv', format_options => '{"quote": "''"}');
SELECT elt.split_records(E'a,b\n1,x"y\n', format => 'csv', format_options => '{"quote": "|"}');
-- null_string as COPY reads it: that unquoted text is null, an empty field is empty
SELECT elt.split_records(E'a,b,c\nNULL,,"NULL"\n', format => 'csv', format_options => '{"null_string": "NULL"}');
SELECT elt.split_records(E'a,b\n\\N,x\n', format => 'csv', format_options => '{"null_string": "\\N"}');
-- no header row: the names are given
SELECT elt.split_records(E'1,2\n3,4\n', format => 'csv', format_options => '{"header": false, "columns": ["x", "y"]}');
SELECT elt.split_records(E'1\n\n2', format => 'csv', format_options => '{"header": false, "columns": ["x"]}');
SELECT pg_temp.try($$SELECT elt.split_records(E'1,2,3\n', format => 'csv', format_options => '{"header": false, "columns": ["x", "y"]}')$$);

-- settings are checked
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"delimiter": ";;"}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"delimiter": "\n"}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"delimiter": "é"}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"delimiter": "\""}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"quote": ","}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"header": false}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"columns": ["a"]}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"header": false, "columns": ["a", "a"]}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"header": false, "columns": []}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"header": false, "columns": ["a", 1]}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"header": "no"}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('a', format => 'csv', format_options => '{"sep": ";"}')$$);
SELECT pg_temp.try($$SELECT elt.split_records('[]', format_options => '{"delimiter": ";"}')$$);

-- JSON: an empty or blank body, or a lone byte order mark, is a page
-- without records; a byte that cannot start a value is named by its value
SELECT count(*) FROM elt.split_records('');
SELECT count(*) FROM elt.split_records(E' \r\n\t ');
SELECT count(*) FROM elt.split_records(E'\uFEFF');
SELECT elt.split_records(E'\uFEFF[{"a": 1}]');
SELECT pg_temp.try($$SELECT elt.split_records(E'\uFEFF\uFEFF[]')$$);
SELECT pg_temp.try($$SELECT elt.split_records('é')$$);
SELECT pg_temp.try($$SELECT elt.split_records(E'{"a": 1}\x01')$$);
SELECT pg_temp.try($$SELECT elt.split_records('{"data": é}', '$.data')$$);

-- streams with format_options, and bodies that are not UTF-8
SELECT elt.create_source('re', :'base', options => '{"max_attempts": 1}');
SELECT elt.create_stream('re', 'semi', '/quirks/bytes',
						 params => jsonb_build_object('type', 'text/csv',
							 'b64', translate(encode(convert_to(E'id;name\r\n1;"Smith; J"\r\n2;\r\n', 'UTF8'), 'base64'), '+/=', '-_')),
						 format => 'csv', format_options => '{"delimiter": ";"}');
SELECT pages, records FROM elt.extract('re.semi');
SELECT _elt_record FROM staging.re_semi ORDER BY _elt_record->>'id';
SELECT pg_temp.try($$SELECT elt.alter_stream('re.semi', format_options => '{"delimiter": ""}')$$);
SELECT pg_temp.try($$SELECT elt.alter_stream('re.semi', format => 'json')$$);
SELECT pg_temp.try($$UPDATE elt.stream SET format_options = '{"quote": ","}' WHERE name = 'semi'$$);
SELECT elt.alter_stream('re.semi', format => 'json', format_options => '{}');
SELECT format, format_options FROM elt.stream WHERE name = 'semi';
SELECT pg_temp.try($$SELECT elt.create_stream('re', 'bad', '/x', format_options => '{"delimiter": ";"}')$$);
SELECT pg_temp.try($$SELECT elt.create_stream('re', 'bad', '/x', format => 'csv', format_options => '[]')$$);

CREATE FUNCTION pg_temp.bytes_stream(name text, body bytea) RETURNS void LANGUAGE sql AS $$
	SELECT elt.create_stream('re', name, '/quirks/bytes',
		params => jsonb_build_object('b64', translate(encode(body, 'base64'), E'+/=\n', '-_')))
$$;
SELECT pg_temp.bytes_stream('ff', '\xff5b315d');
SELECT pg_temp.try($$SELECT * FROM elt.extract('re.ff')$$);
SELECT pg_temp.bytes_stream('ff_in_record', convert_to('[{"a": "', 'UTF8') || '\xff'::bytea || convert_to('"}]', 'UTF8'));
SELECT pg_temp.try($$SELECT * FROM elt.extract('re.ff_in_record')$$);
SELECT pg_temp.bytes_stream('bom_only', '\xefbbbf');
SELECT pages, records FROM elt.extract('re.bom_only');
SELECT pg_temp.bytes_stream('empty', '');
SELECT pages, records FROM elt.extract('re.empty');
SELECT stream, status, records, error_code FROM elt.batch WHERE stream LIKE 're.%' ORDER BY batch_id;

-- Records are parsed into jsonb by pg_elt's own parser, which must give
-- what jsonb_in gives: the same text, the same value and the same size,
-- for duplicate keys (the last kept), key order, numbers (normalized as
-- numeric reads them, whole numbers past int64), escapes (surrogate
-- pairs, \/, control characters), white space and nesting.
CREATE TEMP TABLE docs (d text);
INSERT INTO docs VALUES
	('{"a": 1, "b": 2, "a": 3}'), ('{"a": 1, "a": {"x": 1}, "a": [2]}'),
	('{"bb": 1, "a": 2, "": 3, "ccc": 4, "ab": 5, "aa": 6, "b": 7}'),
	('-0'), ('0'), ('-0.0'), ('1.50'), ('1e5'), ('1E-3'), ('1.0e+2'), ('0.000001'), ('-1.5E2'),
	('123456789012345678'), ('1234567890123456789'), ('-9223372036854775808'),
	('99999999999999999999999999999999999999.000'), ('1e-400'),
	('"\u00e9\ud83d\ude00\n\t\"\\\/\b\f\r"'), ('"\u0041\u00DF"'), ('"é ✓ 😀"'),
	('{"k\u00e9": 1, "ké": 2}'), ('true'), ('false'), ('null'), ('"x"'),
	('[]'), ('{}'), ('[[], {}, "", [[[]]]]'), (E' \t\r\n{ "x" : [ 1 , 2 ] , "y" :{ }}\n'),
	('[1, "a", true, false, null, {"n": [1.25, -3]}]'),
	(repeat('[', 63) || '1' || repeat(']', 63)), (repeat('[', 200) || repeat(']', 200)),
	(repeat('{"a": ', 100) || '1' || repeat('}', 100)),
	('{' || (SELECT string_agg(format('"k%s": %s', i % 40, i), ', ') FROM generate_series(1, 100) i) || '}');
CREATE TEMP TABLE parsed AS
	SELECT d, r, d::jsonb AS j FROM docs, LATERAL elt.split_records('[' || d || ']') r;
SELECT count(*) AS documents,
	   count(*) FILTER (WHERE r::text = j::text) AS same_text,
	   count(*) FILTER (WHERE r = j) AS same_value,
	   count(*) FILTER (WHERE pg_column_size(r) = pg_column_size(j)) AS same_size
  FROM parsed;
SELECT d FROM parsed WHERE r::text IS DISTINCT FROM j::text OR pg_column_size(r) <> pg_column_size(j);
-- and refuses what jsonb_in refuses, with its error (the last ones are
-- refused by the splitter, before any parse)
CREATE TEMP TABLE bad_docs (d text);
INSERT INTO bad_docs VALUES ('"\u0000"'), ('{"\u0000": 1}'), ('"\ud800"'), ('"\udc00x"'),
	('"\ud800\u0041"'), ('"\x"'), ('"\u12"'), ('01'), ('1.'), ('.5'), ('-'), ('1e'), ('+1'),
	('truex'), ('nul'), ('[1,]'), ('{"a" 1}'), ('{"a": 1,}'), (E'"a\tb"'), ('1 2'), ('NaN'),
	('Infinity'), ('[1]x'), ('"abc');
SELECT d, pg_temp.try(format('SELECT elt.split_records(%L)', '[' || d || ']')) AS split,
	   pg_temp.try(format('SELECT %L::jsonb', d)) AS jsonb_in
  FROM bad_docs;
-- every kind of record, through a stream
SELECT pg_temp.bytes_stream('mixed', convert_to(
	'{"r": [' || (SELECT string_agg(d, ', ') FROM docs) || ']}', 'UTF8'));
SELECT elt.alter_stream('re.mixed', records => '$.r');
SELECT pages, records FROM elt.extract('re.mixed');
SELECT count(*) FILTER (WHERE _elt_record::text = d::jsonb::text) AS same_text
  FROM (SELECT _elt_record, row_number() OVER () AS n FROM staging.re_mixed) s
  JOIN (SELECT d, row_number() OVER () AS n FROM docs) t USING (n);

SELECT elt.drop_source('re', cascade => true);

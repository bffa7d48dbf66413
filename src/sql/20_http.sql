-- HTTP -------------------------------------------------------------------

CREATE TYPE elt.http_response AS (
	status		int,
	headers		jsonb,
	body		text,
	elapsed		interval
);
COMMENT ON TYPE elt.http_response IS 'One HTTP response: status, headers (lower-case names), body, time taken';

CREATE FUNCTION elt.http(method text, url text, headers jsonb DEFAULT '{}',
						 body text DEFAULT NULL, timeout interval DEFAULT NULL)
RETURNS elt.http_response
AS 'MODULE_PATHNAME', 'elt_http'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.http(text, text, jsonb, text, interval) IS
'Make one HTTP request; an HTTP error status is a result, a transport failure an error';

CREATE FUNCTION elt.http_get(url text, headers jsonb DEFAULT '{}')
RETURNS elt.http_response
AS 'MODULE_PATHNAME', 'elt_http_get'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.http_get(text, jsonb) IS 'HTTP GET; shorthand for elt.http(''GET'', ...)';

CREATE FUNCTION elt.http_post(url text, body text, headers jsonb DEFAULT '{}')
RETURNS elt.http_response
AS 'MODULE_PATHNAME', 'elt_http_post'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.http_post(text, text, jsonb) IS 'HTTP POST; shorthand for elt.http(''POST'', ...)';

CREATE FUNCTION elt._check_url_template(url text, what text DEFAULT 'URL')
RETURNS void
AS 'MODULE_PATHNAME', 'elt_check_url_template'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION elt._check_url_template(text, text) IS
'Raise an error if a URL template references a secret in its scheme, host or port';

-- Reaching the network is a privilege: granted by an administrator.
REVOKE ALL ON FUNCTION elt.http(text, text, jsonb, text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.http_get(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.http_post(text, text, jsonb) FROM PUBLIC;

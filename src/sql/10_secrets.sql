-- Secrets ----------------------------------------------------------------

-- Values are readable by superusers only: no grant on this table, and the
-- functions below are written in C so that they never hand a value back.
CREATE TABLE elt.secret (
	name		text PRIMARY KEY,
	owner		regrole NOT NULL,
	value		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON elt.secret FROM PUBLIC;
COMMENT ON TABLE elt.secret IS 'Named secrets; values are readable by superusers only';

CREATE TABLE elt.secret_grant (
	secret		text NOT NULL REFERENCES elt.secret (name) ON DELETE CASCADE,
	grantee		regrole NOT NULL,
	PRIMARY KEY (secret, grantee)
);
REVOKE ALL ON elt.secret_grant FROM PUBLIC;
COMMENT ON TABLE elt.secret_grant IS 'Roles other than the owner that may use a secret in requests';

SELECT pg_catalog.pg_extension_config_dump('elt.secret', '');
SELECT pg_catalog.pg_extension_config_dump('elt.secret_grant', '');

-- What a role may know about the secrets it can use: never the value.
CREATE VIEW elt.secrets AS
SELECT s.name, s.owner,
	   ARRAY(SELECT g.grantee FROM elt.secret_grant g
			 WHERE g.secret = s.name ORDER BY g.grantee::text) AS grantees,
	   s.created_at, s.updated_at
  FROM elt.secret s
 WHERE pg_catalog.pg_has_role(s.owner, 'USAGE')
	OR EXISTS (SELECT 1 FROM elt.secret_grant g
				WHERE g.secret = s.name AND pg_catalog.pg_has_role(g.grantee, 'USAGE'));
GRANT SELECT ON elt.secrets TO PUBLIC;
COMMENT ON VIEW elt.secrets IS 'Secrets the current role can use, without their values';

CREATE FUNCTION elt.set_secret(name text, value text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_set_secret'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.set_secret(text, text) IS
'Create or replace a secret, referenced as {{secret:NAME}}; the value is never returned';

CREATE FUNCTION elt.drop_secret(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_drop_secret'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.drop_secret(text) IS 'Drop a secret owned by the current role';

CREATE FUNCTION elt.grant_secret(name text, grantee regrole)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_grant_secret'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.grant_secret(text, regrole) IS
'Let another role use a secret in requests (it still cannot read it)';

CREATE FUNCTION elt.revoke_secret(name text, grantee regrole)
RETURNS void
AS 'MODULE_PATHNAME', 'elt_revoke_secret'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.revoke_secret(text, regrole) IS 'Take back elt.grant_secret';

REVOKE ALL ON FUNCTION elt.set_secret(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.drop_secret(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.grant_secret(text, regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.revoke_secret(text, regrole) FROM PUBLIC;

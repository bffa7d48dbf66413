-- Secrets ----------------------------------------------------------------

-- Values are stored encrypted (AES-256-GCM) under a key kept outside the
-- database (pg_elt.secret_key_file or pg_elt.secret_key_command), so only
-- ciphertext reaches the table, the WAL, backups and dumps.  The table has
-- no grant either, and the functions below are written in C so that they
-- never hand a value back.
CREATE TABLE elt.secret (
	name		text PRIMARY KEY,
	owner		regrole NOT NULL,
	ciphertext	bytea NOT NULL,
	key_id		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON elt.secret FROM PUBLIC;
COMMENT ON TABLE elt.secret IS 'Named secrets, encrypted; readable by superusers only';
COMMENT ON COLUMN elt.secret.ciphertext IS
'Version, key id, nonce, AES-256-GCM ciphertext and tag; the name is authenticated with it';
COMMENT ON COLUMN elt.secret.key_id IS 'Id of the key the value is encrypted under';

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
RETURNS text
AS 'MODULE_PATHNAME', 'elt_set_secret'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.set_secret(text, text) IS
'Create or replace a secret, referenced as {{secret:NAME}}; the value is never returned';

CREATE FUNCTION elt.drop_secret(name text)
RETURNS text
AS 'MODULE_PATHNAME', 'elt_drop_secret'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.drop_secret(text) IS 'Drop a secret owned by the current role';

CREATE FUNCTION elt.grant_secret(name text, grantee regrole)
RETURNS text
AS 'MODULE_PATHNAME', 'elt_grant_secret'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.grant_secret(text, regrole) IS
'Let another role use a secret in requests (it still cannot read it)';

CREATE FUNCTION elt.revoke_secret(name text, grantee regrole)
RETURNS text
AS 'MODULE_PATHNAME', 'elt_revoke_secret'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.revoke_secret(text, regrole) IS 'Take back elt.grant_secret';

CREATE FUNCTION elt.rotate_secret_key(new_key boolean DEFAULT true,
	OUT key_id text, OUT reencrypted bigint, OUT undecryptable bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'elt_rotate_secret_key'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION elt.rotate_secret_key(boolean) IS
'Re-encrypt every secret of this database under the current key, after making a new one (new_key, with a key file)';

REVOKE ALL ON FUNCTION elt.set_secret(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.rotate_secret_key(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.drop_secret(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.grant_secret(text, regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION elt.revoke_secret(text, regrole) FROM PUBLIC;

/*
 * secrets.c
 *	  Named secrets: storage, use in requests, and keeping values out of
 *	  every place a role that uses them could look.
 *
 * Values live in elt.secret, encrypted under a key from outside the
 * database (secret_key.c), in a table only superusers can read.  The
 * functions here read and write it as the extension's owner, after checking
 * what the calling role may do, and never return a value.  A value is
 * encrypted before anything is written, and decrypted only when a
 * reference such as {{secret:NAME}} is replaced, in C, right before a
 * request is made.
 *
 * A role learns nothing about the secrets it may not use: using, dropping
 * or granting one fails as if it did not exist.  Only set_secret must say
 * that a name is taken, since names are shared by all roles.
 *
 * The statement that sets a secret necessarily carries its value, so the
 * text is replaced in pg_stat_activity, and a log hook keeps it out of the
 * server log at every level (statement logging, errors, durations).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "catalog/pg_class.h"

#include "internal_sql.h"
#include "pg_elt.h"
#include "redact.h"
#include "secret_key.h"
#include "secrets.h"

#define SECRET_REF_OPEN "{{secret:"
#define SECRET_REF_CLOSE "}}"
#define SECRET_NAME_MAX 63

PG_FUNCTION_INFO_V1(elt_set_secret);
PG_FUNCTION_INFO_V1(elt_drop_secret);
PG_FUNCTION_INFO_V1(elt_grant_secret);
PG_FUNCTION_INFO_V1(elt_revoke_secret);
PG_FUNCTION_INFO_V1(elt_rotate_secret_key);

static emit_log_hook_type prev_emit_log_hook = NULL;

/*
 * The top-level statement during which set_secret last ran, so that what
 * is logged after it (durations, errors, plans) is redacted even when the
 * statement's text does not mention set_secret (a wrapper function, an
 * EXECUTE of a prepared statement).
 */
static const char *secret_statement = NULL;
static TimestampTz secret_statement_start = 0;

/* Case-insensitive search for a needle in a haystack. */
static const char *
find_ci(const char *hay, const char *needle)
{
	size_t		n = strlen(needle);

	for (; *hay; hay++)
		if (pg_strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* Does the current top-level statement set a secret, as far as we can tell? */
static bool
statement_sets_secret(ErrorData *edata)
{
	if (debug_query_string == NULL)
		return false;
	if (find_ci(debug_query_string, "set_secret") != NULL)
		return true;
	/* EXECUTE of a prepared statement: log_statement names its source */
	if (edata->detail && strncmp(edata->detail, "prepare:", 8) == 0 &&
		find_ci(edata->detail, "set_secret") != NULL)
		return true;
	return debug_query_string == secret_statement &&
		GetCurrentStatementStartTimestamp() == secret_statement_start;
}

/*
 * Log hook: a message or statement that mentions set_secret is cut right
 * after "set_secret(", and the statement and its parameters are not
 * printed, so the value reaches no log file.  In a statement known to set
 * a secret, a message that quotes the statement is cut where it starts.
 */
static void
secrets_emit_log_hook(ErrorData *edata)
{
	const char *p;
	bool		sets_secret = statement_sets_secret(edata);

	if (sets_secret)
	{
		edata->hide_stmt = true;
		if (edata->detail && strncmp(edata->detail, "parameters:", 11) == 0)
			edata->detail = pstrdup("parameters: <redacted>");
	}
	if (edata->message)
	{
		const char *call = find_ci(edata->message, "set_secret");
		const char *stmt = NULL;

		/* a statement that does not name set_secret is cut where quoted */
		if (sets_secret && debug_query_string[0] != '\0' &&
			find_ci(debug_query_string, "set_secret") == NULL)
			stmt = strstr(edata->message, debug_query_string);
		/* cut at whichever comes first */
		p = (call && (!stmt || call < stmt)) ? call : stmt;
		if (p != NULL)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			appendBinaryStringInfo(&buf, edata->message, p - edata->message);
			appendStringInfoString(&buf, p == call ? "set_secret(<redacted>)" : "<redacted>");
			edata->message = buf.data;
		}
	}
	if (edata->detail_log && find_ci(edata->detail_log, "set_secret") != NULL)
		edata->detail_log = NULL;
	if (edata->internalquery && find_ci(edata->internalquery, "set_secret") != NULL)
		edata->internalquery = NULL;

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
secrets_init(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = secrets_emit_log_hook;
}

/* Raise an error unless name is a valid secret name. */
static void
check_secret_name(const char *name)
{
	const char *p;
	size_t		len = strlen(name);

	if (len == 0 || len > SECRET_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("secret name must have between 1 and %d characters", SECRET_NAME_MAX)));
	for (p = name; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-' || *p == '.'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid secret name \"%s\"", name),
					 errdetail("A secret name may only contain letters, digits, \"_\", \"-\" and \".\".")));
}

/* The role that owns elt.secret: the extension's owner, a superuser. */
static Oid
secret_table_owner(void)
{
	Oid			nsp = get_namespace_oid("elt", false);
	Oid			relid = get_relname_relid("secret", nsp);
	HeapTuple	tp;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table elt.secret does not exist"),
				 errhint("Is the pg_elt extension installed in this database?")));
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);
	return owner;
}

/*
 * Run a fixed, schema-qualified statement as the owner of elt.secret, with
 * search_path pinned (internal_sql.c), so that no type or cast of the
 * caller's can run with the owner's rights.
 */
static int
spi_as_owner(const char *sql, int nargs, Oid *types, Datum *values,
			 const char *nulls, bool read_only)
{
	return internal_sql_exec_as(secret_table_owner(), sql, nargs, types,
								values, nulls, read_only, INTERNAL_SQL_ANY);
}

/*
 * Look up the owner of a secret, locking the row.  Returns InvalidOid when
 * it does not exist.
 */
static Oid
secret_owner_for_update(const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	bool		isnull;

	spi_as_owner("SELECT owner::pg_catalog.oid FROM elt.secret "
				 "WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
				 1, types, values, NULL, false);
	if (SPI_processed == 0)
		return InvalidOid;
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * May the current user use the secret: as its owner or a member, as a
 * grantee or a member, or as a superuser.  Must be called inside SPI.
 */
static bool
may_use_secret(const char *name, Oid owner)
{
	Oid			user = GetUserId();
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	uint64		i;

	if (has_privs_of_role(user, owner))
		return true;
	spi_as_owner("SELECT grantee::pg_catalog.oid FROM elt.secret_grant "
				 "WHERE secret OPERATOR(pg_catalog.=) $1",
				 1, types, values, NULL, true);
	for (i = 0; i < SPI_processed; i++)
		if (has_privs_of_role(user, internal_sql_oid(i, 1)))
			return true;
	return false;
}

/*
 * The error for a secret the current user may not use, the same as for a
 * missing one, so that it reveals no name.
 */
static void
report_no_such_secret(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("secret \"%s\" does not exist", name),
			 errhint("A secret can be used by its owner and by the roles it is granted to with elt.grant_secret().")));
}

/*
 * Raise an error unless the current user may change the secret (owner is
 * InvalidOid when it does not exist).  A role that may use it already
 * knows it exists and is told it may not change it; any other role is told
 * it does not exist.  The owner is never named.
 */
static void
check_may_change(const char *name, Oid owner)
{
	if (!OidIsValid(owner))
		report_no_such_secret(name);
	if (has_privs_of_role(GetUserId(), owner))
		return;
	if (may_use_secret(name, owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change secret \"%s\"", name),
				 errdetail("Only its owner can change it.")));
	report_no_such_secret(name);
}

/*
 * elt.set_secret(name, value): create or replace a secret owned by the
 * current role.  The value is encrypted before anything is written, so the
 * table, the WAL and the plans of our own statements only see ciphertext.
 * The statement's text is replaced in pg_stat_activity.
 */
Datum
elt_set_secret(PG_FUNCTION_ARGS)
{
	char	   *name;
	text	   *value;
	bytea	   *stored;
	char		key_id[SECRET_KEY_ID_HEX_LEN];
	Oid			owner;
	Oid			types[4] = {TEXTOID, BYTEAOID, OIDOID, TEXTOID};
	Datum		values[4];

	pgstat_report_activity(STATE_RUNNING, "SELECT elt.set_secret(<redacted>)");
	secret_statement = debug_query_string;
	secret_statement_start = GetCurrentStatementStartTimestamp();

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("secret name must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("secret value must not be null"),
				 errhint("Use elt.drop_secret() to remove a secret.")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	check_secret_name(name);

	SPI_connect();
	owner = secret_owner_for_update(name);
	if (OidIsValid(owner) && !has_privs_of_role(GetUserId(), owner))
	{
		if (may_use_secret(name, owner))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to change secret \"%s\"", name),
					 errdetail("Only its owner can change it.")));
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("secret name \"%s\" is already taken", name),
				 errdetail("Secret names are shared by all roles of the database."),
				 errhint("Choose another name.")));
	}

	/* read the keys afresh: another session may have rotated them */
	secret_key_refresh();
	value = PG_GETARG_TEXT_PP(1);
	stored = secret_encrypt(name, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value),
							key_id);
	if ((Pointer) value != PG_GETARG_POINTER(1))
		explicit_bzero(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));

	values[0] = CStringGetTextDatum(name);
	values[1] = PointerGetDatum(stored);
	values[2] = ObjectIdGetDatum(GetUserId());
	values[3] = CStringGetTextDatum(key_id);
	if (OidIsValid(owner))
		spi_as_owner("UPDATE elt.secret SET ciphertext = $2, key_id = $4, "
					 "updated_at = pg_catalog.now() "
					 "WHERE name OPERATOR(pg_catalog.=) $1",
					 4, types, values, NULL, false);
	else
		spi_as_owner("INSERT INTO elt.secret (name, ciphertext, owner, key_id) "
					 "VALUES ($1, $2, $3, $4)",
					 4, types, values, NULL, false);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(psprintf(OidIsValid(owner) ? "secret \"%s\" changed" :
											  "secret \"%s\" created", name)));
}

/* elt.drop_secret(name): remove a secret the current role owns. */
Datum
elt_drop_secret(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			owner;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("secret name must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	SPI_connect();
	owner = secret_owner_for_update(name);
	check_may_change(name, owner);
	values[0] = CStringGetTextDatum(name);
	spi_as_owner("DELETE FROM elt.secret WHERE name OPERATOR(pg_catalog.=) $1",
				 1, types, values, NULL, false);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("secret \"%s\" dropped", name)));
}

/* Shared body of grant_secret and revoke_secret. */
static void
change_grant(const char *name, Oid grantee, bool grant)
{
	Oid			owner;
	Oid			types[2] = {TEXTOID, OIDOID};
	Datum		values[2];

	SPI_connect();
	owner = secret_owner_for_update(name);
	check_may_change(name, owner);
	values[0] = CStringGetTextDatum(name);
	values[1] = ObjectIdGetDatum(grantee);
	if (grant)
		spi_as_owner("INSERT INTO elt.secret_grant (secret, grantee) VALUES ($1, $2) "
					 "ON CONFLICT DO NOTHING",
					 2, types, values, NULL, false);
	else
		spi_as_owner("DELETE FROM elt.secret_grant WHERE secret OPERATOR(pg_catalog.=) $1 "
					 "AND grantee::pg_catalog.oid OPERATOR(pg_catalog.=) $2",
					 2, types, values, NULL, false);
	SPI_finish();
}

Datum
elt_grant_secret(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			grantee = PG_GETARG_OID(1);

	change_grant(name, grantee, true);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("secret \"%s\" granted to \"%s\"", name,
											  GetUserNameFromId(grantee, false))));
}

Datum
elt_revoke_secret(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			grantee = PG_GETARG_OID(1);

	change_grant(name, grantee, false);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("secret \"%s\" revoked from \"%s\"", name,
											  GetUserNameFromId(grantee, false))));
}

/*
 * elt.rotate_secret_key(new_key): re-encrypt every secret of this database
 * under the current key, after making a new one when new_key is set and the
 * keys come from a key file.  The old keys stay in the file, so a failure
 * or a rollback leaves every secret decryptable.  A secret that cannot be
 * decrypted is left as it was, with a warning, and counted.
 */
Datum
elt_rotate_secret_key(PG_FUNCTION_ARGS)
{
	bool		new_key = PG_GETARG_BOOL(0);
	char		key_id[SECRET_KEY_ID_HEX_LEN];
	int64		reencrypted = 0;
	int64		undecryptable = 0;
	TupleDesc	tupdesc;
	Datum		result[3];
	bool		nulls[3] = {false, false, false};
	SPITupleTable *rows;
	uint64		nrows;
	uint64		i;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to rotate the secret key"),
				 errdetail("Only superusers may rotate the secret key.")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	secret_key_rotate(new_key, key_id);

	SPI_connect();
	spi_as_owner("SELECT name, ciphertext FROM elt.secret "
				 "ORDER BY name FOR UPDATE",
				 0, NULL, NULL, NULL, false);
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (i = 0; i < nrows; i++)
	{
		bool		isnull;
		char	   *name = SPI_getvalue(rows->vals[i], rows->tupdesc, 1);
		bytea	   *old = DatumGetByteaPP(SPI_getbinval(rows->vals[i],
														rows->tupdesc, 2,
														&isnull));
		char	   *plain = secret_decrypt(name, old, true);
		char		new_id[SECRET_KEY_ID_HEX_LEN];
		Oid			types[3] = {TEXTOID, BYTEAOID, TEXTOID};
		Datum		values[3];
		size_t		len;

		if (plain == NULL)
		{
			char		old_id[SECRET_KEY_ID_HEX_LEN];

			secret_stored_key_id(old, old_id);
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("secret \"%s\" cannot be decrypted and was left as it was", name),
					 errdetail("It is encrypted under key %s.", old_id[0] ? old_id : "(none)")));
			undecryptable++;
			continue;
		}
		len = strlen(plain);
		values[0] = CStringGetTextDatum(name);
		values[1] = PointerGetDatum(secret_encrypt(name, plain, len, new_id));
		values[2] = CStringGetTextDatum(new_id);
		explicit_bzero(plain, len);
		pfree(plain);
		spi_as_owner("UPDATE elt.secret SET ciphertext = $2, key_id = $3 "
					 "WHERE name OPERATOR(pg_catalog.=) $1",
					 3, types, values, NULL, false);
		reencrypted++;
	}
	SPI_finish();

	result[0] = CStringGetTextDatum(key_id);
	result[1] = Int64GetDatum(reencrypted);
	result[2] = Int64GetDatum(undecryptable);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, result, nulls)));
}

/*
 * Fetch a secret's value for use by the current user, checking that it
 * exists and that the user is its owner (or a member), a grantee (or a
 * member), or a superuser, and decrypt it.  A secret the user may not use
 * is reported as missing.  The result is palloc'd in the caller's context.
 */
static char *
secret_value_for_use(const char *name)
{
	static InternalSqlPlan use_plan;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	MemoryContext caller = CurrentMemoryContext;
	Oid			user = GetUserId();
	char	   *result = NULL;
	bool		allowed;
	bool		isnull;
	Datum		d;
	uint64		i;

	values[0] = CStringGetTextDatum(name);
	SPI_connect();
	internal_sql_exec_plan(&use_plan, secret_table_owner(),
						   "SELECT s.owner::pg_catalog.oid, s.ciphertext, g.grantee::pg_catalog.oid FROM elt.secret s "
						   "LEFT JOIN elt.secret_grant g ON g.secret OPERATOR(pg_catalog.=) s.name "
						   "WHERE s.name OPERATOR(pg_catalog.=) $1",
						   1, types, values, NULL, true, SPI_OK_SELECT);
	if (SPI_processed == 0)
		report_no_such_secret(name);

	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	allowed = superuser_arg(user) || has_privs_of_role(user, DatumGetObjectId(d));
	for (i = 0; !allowed && i < SPI_processed; i++)
	{
		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull);
		if (!isnull && has_privs_of_role(user, DatumGetObjectId(d)))
			allowed = true;
	}
	if (!allowed)
		report_no_such_secret(name);

	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		result = secret_decrypt(name, DatumGetByteaPP(d), false);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return result;
}

bool
secrets_referenced(const char *text)
{
	return text != NULL && strstr(text, SECRET_REF_OPEN) != NULL;
}

/*
 * Replace each {{secret:NAME}} in text by the secret's value.  A reference
 * that is not closed, or names an invalid secret, is an error that quotes
 * only the reference, never a value.  Each value is remembered until the
 * end of the transaction so that messages can mask it (redact.c); a value
 * too short to be masked without rewriting ordinary text is refused.
 */
char *
secrets_substitute(const char *text)
{
	StringInfoData buf;
	const char *p = text;
	const char *open;

	if (!secrets_referenced(text))
		return (char *) text;

	initStringInfo(&buf);
	while ((open = strstr(p, SECRET_REF_OPEN)) != NULL)
	{
		const char *name_start = open + strlen(SECRET_REF_OPEN);
		const char *close = strstr(name_start, SECRET_REF_CLOSE);
		char	   *name;
		char	   *value;

		if (close == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unterminated secret reference"),
					 errhint("Write a reference as {{secret:NAME}}.")));
		name = pnstrdup(name_start, close - name_start);
		check_secret_name(name);
		value = secret_value_for_use(name);
		if (value[0] != '\0' && strlen(value) < REDACT_MIN_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("secret \"%s\" is too short to be used", name),
					 errdetail("A value shorter than %d bytes cannot be kept out of messages.",
							   REDACT_MIN_LEN),
					 errhint("The secret's owner can set a longer value with elt.set_secret().")));
		redact_remember(value, psprintf(SECRET_REF_OPEN "%s" SECRET_REF_CLOSE, name));
		appendBinaryStringInfo(&buf, p, open - p);
		appendStringInfoString(&buf, value);
		p = close + strlen(SECRET_REF_CLOSE);
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}

/*
 * Does a query parameter name suggest a credential?  The name is split into
 * words at punctuation and at case changes ("X-Amz-Signature", "accessToken",
 * "SAMLResponse").  Distinctive stems match anywhere in the name with its
 * punctuation removed ("apikey", "client_secret", "pass_word"); short or
 * common words match only as whole words, so that "key" masks "api_key" and
 * "sortKey" but not "monkey", and "sig" masks "sig" but not "design"; "code"
 * (an OAuth authorization code, a one-time code) matches only as the whole
 * name and only for values longer than 3 bytes, so that "postcode",
 * "country_code" and a redirect's "code=302" stay readable.  Masking a
 * harmless value is cheap, printing a credential is not: when in doubt a
 * name is in the list.
 */
static bool
sensitive_param(const char *name, size_t len, size_t value_len)
{
	static const char *const stems[] = {
		"token", "secret", "passw", "passphrase", "credential", "signature",
		"apikey", "assertion", "samlresponse", "session", "bearer",
		"authorization", "privatekey", "accesskey", NULL
	};
	static const char *const words[] = {
		"key", "pwd", "pass", "sig", "auth", "jwt", "otp", "hmac", "pin",
		"sid", "sas", "ticket", NULL
	};
	static const char *const whole[] = {"code", NULL};
	char		squashed[64];
	char		split[128];
	size_t		ns = 0;
	size_t		nw = 0;
	size_t		i;
	char	   *tok;
	char	   *save = NULL;

	if (len >= sizeof(squashed))
		len = sizeof(squashed) - 1;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) name[i];

		if (!isalnum(c))
		{
			split[nw++] = ' ';
			continue;
		}
		/* a word starts at "aB" and at the "Re" of "SAMLResponse" */
		if (i > 0 && isupper(c) &&
			(islower((unsigned char) name[i - 1]) ||
			 (i + 1 < len && isupper((unsigned char) name[i - 1]) &&
			  islower((unsigned char) name[i + 1]))))
			split[nw++] = ' ';
		squashed[ns++] = pg_tolower(c);
		split[nw++] = pg_tolower(c);
	}
	squashed[ns] = '\0';
	split[nw] = '\0';

	for (i = 0; stems[i]; i++)
		if (strstr(squashed, stems[i]) != NULL)
			return true;
	for (i = 0; whole[i]; i++)
		if (strcmp(squashed, whole[i]) == 0 && value_len > 3)
			return true;
	for (tok = strtok_r(split, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
	{
		for (i = 0; words[i]; i++)
			if (strcmp(tok, words[i]) == 0)
				return true;
	}
	return false;
}

/*
 * Printable form of a URL: a password in the userinfo and the values of
 * query parameters whose names suggest credentials become "***".  Secret
 * references are kept: they reveal nothing.
 */
char *
secrets_redact_url(const char *url)
{
	StringInfoData buf;
	const char *scheme_end = strstr(url, "://");
	const char *auth_start = scheme_end ? scheme_end + 3 : url;
	const char *auth_end = auth_start + strcspn(auth_start, "/?#");
	const char *at = NULL;
	const char *p;
	const char *q;

	for (p = auth_start; p < auth_end; p++)
		if (*p == '@')
			at = p;

	initStringInfo(&buf);
	if (at != NULL)
	{
		const char *colon = NULL;

		/* the user name ends at the first ":" that is not in a reference */
		for (p = auth_start; p < at && colon == NULL; p++)
		{
			if (strncmp(p, SECRET_REF_OPEN, strlen(SECRET_REF_OPEN)) == 0 &&
				(q = strstr(p, SECRET_REF_CLOSE)) != NULL && q < at)
				p = q + strlen(SECRET_REF_CLOSE) - 1;
			else if (*p == ':')
				colon = p;
		}

		if (colon != NULL)
		{
			appendBinaryStringInfo(&buf, url, colon + 1 - url);
			appendStringInfoString(&buf, "***");
			appendBinaryStringInfo(&buf, at, auth_end - at);
		}
		else
			appendBinaryStringInfo(&buf, url, auth_end - url);
	}
	else
		appendBinaryStringInfo(&buf, url, auth_end - url);

	p = auth_end;
	q = strchr(p, '?');
	if (q == NULL)
	{
		/* no query: the rest up to a fragment */
		appendBinaryStringInfo(&buf, p, strcspn(p, "#"));
		return buf.data;
	}
	appendBinaryStringInfo(&buf, p, q + 1 - p);
	p = q + 1;
	while (*p && *p != '#')
	{
		size_t		plen = strcspn(p, "&#");
		const char *eq = memchr(p, '=', plen);

		if (eq != NULL && sensitive_param(p, eq - p, plen - (eq + 1 - p)) &&
			!(strncmp(eq + 1, SECRET_REF_OPEN, strlen(SECRET_REF_OPEN)) == 0))
		{
			appendBinaryStringInfo(&buf, p, eq + 1 - p);
			appendStringInfoString(&buf, "***");
		}
		else
			appendBinaryStringInfo(&buf, p, plen);
		p += plen;
		if (*p == '&')
		{
			appendStringInfoChar(&buf, '&');
			p++;
		}
	}
	return buf.data;
}

/*
 * Where the authority of a URL template lies: after "scheme://", up to the
 * first "/", "?" or "#".  *host_start is after the first "@" (the end of
 * the userinfo), as curl reads it; everything between it and *auth_end is
 * the host and port.  Returns false when the template has no "://".
 */
static bool
url_template_authority(const char *url, const char **auth_start,
					   const char **host_start, const char **auth_end)
{
	const char *sep = strstr(url, "://");
	const char *at;

	if (sep == NULL)
		return false;
	*auth_start = sep + 3;
	*auth_end = *auth_start + strcspn(*auth_start, "/?#");
	at = memchr(*auth_start, '@', *auth_end - *auth_start);
	*host_start = at ? at + 1 : *auth_start;
	return true;
}

/*
 * Raise an error when a URL template references a secret in its scheme,
 * host or port.  Those parts end up in messages that pg_elt does not write
 * (curl's "Could not resolve host", refusals that must name the host), and
 * a value there would also decide where the request, and the other
 * credentials, go.  what names the URL in the message ("URL", "base URL").
 */
void
secrets_check_url_template(const char *url, const char *what)
{
	const char *ref = strstr(url, SECRET_REF_OPEN);
	const char *auth_start;
	const char *host_start;
	const char *auth_end;
	bool		has_authority;

	if (ref == NULL)
		return;
	has_authority = url_template_authority(url, &auth_start, &host_start, &auth_end);
	for (; ref != NULL; ref = strstr(ref + 1, SECRET_REF_OPEN))
	{
		if (has_authority && ref >= auth_start &&
			(ref < host_start || ref >= auth_end))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" references a secret in its %s", what,
						secrets_redact_url(url),
						!has_authority || ref < auth_start ? "scheme" : "host or port"),
				 errdetail("The scheme, host and port of a URL are printed in messages, so they cannot hold a secret."),
				 errhint("Secret references belong in the userinfo (https://user:{{secret:NAME}}@host/), the path, the query, header values or auth settings.")));
	}
}

/*
 * Substitute the secrets of a URL template, after checking where they are
 * (secrets_check_url_template).  A value in the userinfo is percent-encoded,
 * as a user name or password in a URL must be, so that no character of it
 * (an "@", a "/") can move the end of the userinfo and turn the rest into
 * the host; elsewhere values are inserted as they are.
 */
char *
secrets_substitute_url(const char *url)
{
	static const char hex[] = "0123456789ABCDEF";
	StringInfoData buf;
	const char *auth_start;
	const char *host_start;
	const char *auth_end;
	const char *p = url;
	const char *ref;

	secrets_check_url_template(url, "URL");
	if (!secrets_referenced(url))
		return (char *) url;
	if (!url_template_authority(url, &auth_start, &host_start, &auth_end))
		host_start = NULL;

	initStringInfo(&buf);
	while ((ref = strstr(p, SECRET_REF_OPEN)) != NULL)
	{
		const char *close = strstr(ref, SECRET_REF_CLOSE);
		char	   *one;
		char	   *value;

		if (close == NULL)
			break;				/* secrets_substitute reports it */
		one = pnstrdup(ref, close + strlen(SECRET_REF_CLOSE) - ref);
		value = secrets_substitute(one);
		appendBinaryStringInfo(&buf, p, ref - p);
		if (host_start != NULL && ref < host_start)
		{
			const char *v;

			for (v = value; *v; v++)
			{
				unsigned char c = (unsigned char) *v;

				if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
					appendStringInfoChar(&buf, c);
				else
				{
					appendStringInfoChar(&buf, '%');
					appendStringInfoChar(&buf, hex[c >> 4]);
					appendStringInfoChar(&buf, hex[c & 15]);
				}
			}
		}
		else
			appendStringInfoString(&buf, value);
		explicit_bzero(value, strlen(value));
		p = close + strlen(SECRET_REF_CLOSE);
	}
	appendStringInfoString(&buf, secrets_substitute(p));
	return buf.data;
}

PG_FUNCTION_INFO_V1(elt_check_url_template);

/*
 * elt._check_url_template(url, what): the definition-time form of
 * secrets_check_url_template, for base and token URLs of sources.
 */
Datum
elt_check_url_template(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0))
		secrets_check_url_template(text_to_cstring(PG_GETARG_TEXT_PP(0)),
								   PG_ARGISNULL(1) ? "URL" :
								   text_to_cstring(PG_GETARG_TEXT_PP(1)));
	PG_RETURN_VOID();
}

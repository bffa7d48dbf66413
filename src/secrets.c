/*
 * secrets.c
 *	  Named secrets: storage, use in requests, and keeping values out of
 *	  every place a role that uses them could look.
 *
 * Values live in elt.secret, which only superusers can read.  The functions
 * here read and write it as the extension's owner, after checking what the
 * calling role may do, and never return a value.  References such as
 * {{secret:NAME}} are replaced in C right before a request is made.
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
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "catalog/pg_class.h"

#include "internal_sql.h"
#include "pg_elt.h"
#include "redact.h"
#include "secrets.h"

#define SECRET_REF_OPEN "{{secret:"
#define SECRET_REF_CLOSE "}}"
#define SECRET_NAME_MAX 63

PG_FUNCTION_INFO_V1(elt_set_secret);
PG_FUNCTION_INFO_V1(elt_drop_secret);
PG_FUNCTION_INFO_V1(elt_grant_secret);
PG_FUNCTION_INFO_V1(elt_revoke_secret);

static emit_log_hook_type prev_emit_log_hook = NULL;

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

/*
 * Log hook: a message or statement that mentions set_secret is cut right
 * after "set_secret(", and the statement and its parameters are not
 * printed, so the value reaches no log file.
 */
static void
secrets_emit_log_hook(ErrorData *edata)
{
	const char *p;

	if (debug_query_string && find_ci(debug_query_string, "set_secret") != NULL)
	{
		edata->hide_stmt = true;
		if (edata->detail && strncmp(edata->detail, "parameters:", 11) == 0)
			edata->detail = pstrdup("parameters: <redacted>");
	}
	if (edata->message && (p = find_ci(edata->message, "set_secret")) != NULL)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		appendBinaryStringInfo(&buf, edata->message, p - edata->message);
		appendStringInfoString(&buf, "set_secret(<redacted>)");
		edata->message = buf.data;
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

/* Raise an error unless the current user may change the secret. */
static void
check_may_change(const char *name, Oid owner)
{
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change secret \"%s\"", name),
				 errdetail("Only its owner, role \"%s\", can change it.",
						   GetUserNameFromId(owner, false))));
}

/*
 * elt.set_secret(name, value): create or replace a secret owned by the
 * current role.  The statement's text is replaced in pg_stat_activity.
 */
Datum
elt_set_secret(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			owner;
	Oid			types[3] = {TEXTOID, TEXTOID, OIDOID};
	Datum		values[3];

	pgstat_report_activity(STATE_RUNNING, "SELECT elt.set_secret(<redacted>)");

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
	values[0] = CStringGetTextDatum(name);
	values[1] = PointerGetDatum(PG_GETARG_TEXT_PP(1));
	values[2] = ObjectIdGetDatum(GetUserId());
	if (OidIsValid(owner))
	{
		check_may_change(name, owner);
		spi_as_owner("UPDATE elt.secret SET value = $2, updated_at = pg_catalog.now() "
					 "WHERE name OPERATOR(pg_catalog.=) $1",
					 2, types, values, NULL, false);
	}
	else
		spi_as_owner("INSERT INTO elt.secret (name, value, owner) VALUES ($1, $2, $3)",
					 3, types, values, NULL, false);
	SPI_finish();
	PG_RETURN_VOID();
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
	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secret \"%s\" does not exist", name)));
	check_may_change(name, owner);
	values[0] = CStringGetTextDatum(name);
	spi_as_owner("DELETE FROM elt.secret WHERE name OPERATOR(pg_catalog.=) $1",
				 1, types, values, NULL, false);
	SPI_finish();
	PG_RETURN_VOID();
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
	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secret \"%s\" does not exist", name)));
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
	change_grant(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_OID(1), true);
	PG_RETURN_VOID();
}

Datum
elt_revoke_secret(PG_FUNCTION_ARGS)
{
	change_grant(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_OID(1), false);
	PG_RETURN_VOID();
}

/*
 * Fetch a secret's value for use by the current user, checking that it
 * exists and that the user is its owner (or a member), a grantee (or a
 * member), or a superuser.  The result is palloc'd in the caller's context.
 */
static char *
secret_value_for_use(const char *name)
{
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
	spi_as_owner("SELECT s.owner::pg_catalog.oid, s.value, g.grantee::pg_catalog.oid FROM elt.secret s "
				 "LEFT JOIN elt.secret_grant g ON g.secret OPERATOR(pg_catalog.=) s.name "
				 "WHERE s.name OPERATOR(pg_catalog.=) $1",
				 1, types, values, NULL, true);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secret \"%s\" does not exist", name),
				 errhint("Create it with elt.set_secret().")));

	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	allowed = superuser_arg(user) || has_privs_of_role(user, DatumGetObjectId(d));
	for (i = 0; !allowed && i < SPI_processed; i++)
	{
		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull);
		if (!isnull && has_privs_of_role(user, DatumGetObjectId(d)))
			allowed = true;
	}
	if (!allowed)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for secret \"%s\"", name),
				 errhint("The secret's owner can allow it with elt.grant_secret().")));

	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		result = TextDatumGetCString(d);
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

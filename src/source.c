/*
 * source.c
 *	  URLs, headers and authentication of source requests, and the OAuth2
 *	  client-credentials token cache.
 *
 * Source definitions hold templates; a secret is substituted only into the
 * real URL and header values handed to the HTTP layer, never into anything
 * that is printed or stored.  OAuth2 tokens are cached per backend, per
 * role and per source until shortly before they expire; a 401 drops the
 * cached token so that the caller can fetch a fresh one once.
 */
#include "postgres.h"

#include <curl/curl.h>

#include "common/base64.h"
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_elt.h"
#include "redact.h"
#include "secrets.h"
#include "source.h"

/* A cached access token. */
typedef struct TokenEntry
{
	struct TokenEntry *next;
	Oid			userid;
	char	   *key;
	char	   *token;
	TimestampTz expires;		/* 0: until the API refuses it */
} TokenEntry;

static TokenEntry *token_cache = NULL;

/*
 * Percent-encode s into buf.  The display form leaves secret references
 * readable.
 */
static void
append_encoded(StringInfo buf, const char *s, bool display)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
			(display && (c == '{' || c == '}' || c == ':')))
			appendStringInfoChar(buf, c);
		else
		{
			appendStringInfoChar(buf, '%');
			appendStringInfoChar(buf, hex[c >> 4]);
			appendStringInfoChar(buf, hex[c & 15]);
		}
	}
}

/*
 * Join a base URL and a path ("/users", "users?x=1", "").  The path always
 * follows a "/" or starts the query, so nothing in it can reach the base
 * URL's host or port.
 */
static void
join_url(StringInfo buf, const char *base, const char *path)
{
	int			blen = strlen(base);

	while (blen > 0 && base[blen - 1] == '/' && path[0] != '\0')
		blen--;
	appendBinaryStringInfo(buf, base, blen);
	if (path[0] != '\0' && path[0] != '/' && path[0] != '?')
		appendStringInfoChar(buf, '/');
	appendStringInfoString(buf, path);
}

/*
 * Start a URL from the source's base URL and the stream's path.  Secrets
 * are substituted into the joined template, so that where each reference
 * lies (userinfo, path, query) is judged on the URL that is requested.
 */
void
url_init(UrlPair *u, const char *base_template, const char *path_template)
{
	initStringInfo(&u->real);
	initStringInfo(&u->display);
	join_url(&u->display, base_template, path_template);
	appendStringInfoString(&u->real, secrets_substitute_url(u->display.data));
	u->has_query = strchr(u->display.data, '?') != NULL;
}

/*
 * Start from a full URL received from the API (a next link).
 */
void
url_init_absolute(UrlPair *u, const char *real_url)
{
	initStringInfo(&u->real);
	initStringInfo(&u->display);
	appendStringInfoString(&u->real, real_url);
	appendStringInfoString(&u->display, real_url);
	u->has_query = strchr(real_url, '?') != NULL;
}

/*
 * Append name=value to the query; value is a template.
 */
void
url_add_param(UrlPair *u, const char *name, const char *value_template)
{
	char		sep = u->has_query ? '&' : '?';

	appendStringInfoChar(&u->real, sep);
	append_encoded(&u->real, name, false);
	appendStringInfoChar(&u->real, '=');
	append_encoded(&u->real, secrets_substitute(value_template), false);
	appendStringInfoChar(&u->display, sep);
	append_encoded(&u->display, name, true);
	appendStringInfoChar(&u->display, '=');
	append_encoded(&u->display, value_template, true);
	u->has_query = true;
}

/*
 * Append name=value to the query; value is data (a cursor or token an API
 * sent, a value loaded), never a template: a secret reference in it is
 * sent as written, or an API could have a secret sent to it by naming it.
 */
void
url_add_value_param(UrlPair *u, const char *name, const char *value)
{
	char		sep = u->has_query ? '&' : '?';

	appendStringInfoChar(&u->real, sep);
	append_encoded(&u->real, name, false);
	appendStringInfoChar(&u->real, '=');
	append_encoded(&u->real, value, false);
	appendStringInfoChar(&u->display, sep);
	append_encoded(&u->display, name, true);
	appendStringInfoChar(&u->display, '=');
	append_encoded(&u->display, value, true);
	u->has_query = true;
}

/*
 * The printable form: secret references kept, sensitive values masked.
 */
char *
url_display(UrlPair *u)
{
	/* a next link is the API's text: it may carry a value */
	return redact_text(secrets_redact_url(u->display.data));
}

/*
 * Resolve ref against base as a browser would; NULL if either is invalid.
 */
char *
url_resolve(const char *base, const char *ref)
{
	CURLU	   *h = curl_url();
	char	   *out = NULL;
	char	   *result = NULL;

	if (h == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (curl_url_set(h, CURLUPART_URL, base, 0) == CURLUE_OK &&
		curl_url_set(h, CURLUPART_URL, ref, 0) == CURLUE_OK &&
		curl_url_get(h, CURLUPART_URL, &out, 0) == CURLUE_OK)
	{
		result = pstrdup(out);
		curl_free(out);
	}
	curl_url_cleanup(h);
	return result;
}

/*
 * API key in the query: add it, unless a next link carries it already.
 */
void
source_auth_query(SourceAuth *auth, UrlPair *u)
{
	if (auth->type == AUTH_API_KEY && auth->in_query)
	{
		/* a next link may carry the key already */
		char	   *probe = psprintf("%s=", auth->name);
		const char *q = strchr(u->display.data, '?');

		if (q && (strstr(q, psprintf("?%s", probe)) || strstr(q, psprintf("&%s", probe))))
			return;
		url_add_param(u, auth->name, auth->value);
	}
}

/*
 * A source header; one that references a secret is sent as a credential
 * (not forwarded to another origin on redirect).
 */
void
source_add_header(HttpRequest *req, const char *name, const char *value_template)
{
	if (secrets_referenced(value_template))
		http_request_add_secret_header(req, name, secrets_substitute(value_template));
	else
		http_request_add_header(req, name, value_template);
}

/*
 * "Basic base64(user:password)".
 */
static char *
basic_credentials(const char *user, const char *password)
{
	char	   *raw = psprintf("%s:%s", user, password);
	int			len = strlen(raw);
	char	   *enc = palloc(pg_b64_enc_len(len) + 1);
	int			n = pg_b64_encode(raw, len, enc, pg_b64_enc_len(len));

	if (n < 0)
		elog(ERROR, "could not encode credentials");
	enc[n] = '\0';
	memset(raw, 0, len);
	redact_remember(enc, "***");
	return psprintf("Basic %s", enc);
}

/*
 * Cache key of a token: source, base URL, token URL and client.
 */
static char *
token_key(SourceAuth *auth)
{
	return psprintf("%s\x1f%s\x1f%s\x1f%s", auth->source, auth->base_url,
					auth->token_url, auth->client_id);
}

/*
 * The current role's cache entry for a source's token, or NULL.
 */
static TokenEntry *
token_lookup(SourceAuth *auth)
{
	char	   *key = token_key(auth);
	TokenEntry *e;

	for (e = token_cache; e; e = e->next)
		if (e->userid == GetUserId() && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/*
 * Drop a cached token (wiped from memory first).
 */
void
source_auth_invalidate(SourceAuth *auth)
{
	TokenEntry *e = token_lookup(auth);

	if (e && e->token)
	{
		memset(e->token, 0, strlen(e->token));
		pfree(e->token);
		e->token = NULL;
	}
}

/*
 * A string member of a jsonb object, or NULL.
 */
static char *
jsonb_member(Jsonb *jb, const char *key, bool *is_number)
{
	JsonbValue	v;

	if (!JB_ROOT_IS_OBJECT(jb))
		return NULL;
	if (!getKeyJsonValueFromContainer(&jb->root, key, strlen(key), &v))
		return NULL;
	if (is_number)
		*is_number = (v.type == jbvNumeric);
	if (v.type == jbvString)
		return pnstrdup(v.val.string.val, v.val.string.len);
	if (v.type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out,
												   NumericGetDatum(v.val.numeric)));
	return NULL;
}

/*
 * The body of a response as jsonb, or NULL when it is not valid JSON.
 */
static Jsonb *
parse_json_body(HttpRequest *req)
{
	JsonLexContext *lex;

	lex = makeJsonLexContextCstringLen(req->data.data, req->data.len,
									   GetDatabaseEncoding(), true);
	if (pg_parse_json(lex, &nullSemAction) != JSON_SUCCESS)
		return NULL;
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
											  CStringGetDatum(req->data.data)));
}

/*
 * Fetch a token from the token endpoint (client credentials grant).
 */
static void
fetch_token(SourceAuth *auth, TokenEntry *e)
{
	char	   *url_t = auth->token_url;
	UrlPair		u;
	HttpRequest *req;
	StringInfoData body;
	Jsonb	   *jb = NULL;
	char	   *token;
	char	   *expires;
	char	   *display;

	if (auth->token_url[0] == '/')
	{
		/* a path on the base URL's origin */
		char	   *origin = http_url_origin(secrets_substitute_url(auth->base_url));

		url_t = psprintf("%s%s", origin, auth->token_url);
	}
	url_init(&u, url_t, "");
	display = url_display(&u);
	req = http_request_new("POST", u.real.data, display);
	req->timeout_ms = auth->timeout_ms;
	req->max_redirects = 0;
	initStringInfo(&body);
	appendStringInfoString(&body, "grant_type=client_credentials");
	if (auth->client_basic)
	{
		StringInfoData id;
		StringInfoData secret;

		initStringInfo(&id);
		initStringInfo(&secret);
		append_encoded(&id, auth->client_id, false);
		append_encoded(&secret, secrets_substitute(auth->client_secret), false);
		http_request_add_secret_header(req, "Authorization",
									   basic_credentials(id.data, secret.data));
	}
	else
	{
		appendStringInfoString(&body, "&client_id=");
		append_encoded(&body, auth->client_id, false);
		appendStringInfoString(&body, "&client_secret=");
		append_encoded(&body, secrets_substitute(auth->client_secret), false);
	}
	if (auth->scope)
	{
		appendStringInfoString(&body, "&scope=");
		append_encoded(&body, auth->scope, false);
	}
	if (auth->audience)
	{
		appendStringInfoString(&body, "&audience=");
		append_encoded(&body, auth->audience, false);
	}
	req->body = body.data;
	req->body_len = body.len;
	http_request_add_header(req, "Content-Type", "application/x-www-form-urlencoded");
	http_request_add_header(req, "Accept", "application/json");
	http_perform(req);

	jb = parse_json_body(req);
	if (req->status < 200 || req->status >= 300)
	{
		char	   *err = jb ? jsonb_member(jb, "error", NULL) : NULL;

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("OAuth2 token request to %s failed with HTTP status %d",
						display, req->status),
				 err ? errdetail("The token endpoint answered \"%s\".", redact_text(err)) : 0));
	}
	token = jb ? jsonb_member(jb, "access_token", NULL) : NULL;
	if (token == NULL || token[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("OAuth2 token response from %s has no access_token", display)));
	expires = jsonb_member(jb, "expires_in", NULL);

	e->token = MemoryContextStrdup(TopMemoryContext, token);
	memset(token, 0, strlen(token));
	memset(req->data.data, 0, req->data.len);
	e->expires = 0;
	if (expires)
	{
		double		secs = strtod(expires, NULL);

		/* renew a little before the end, never use an expired token */
		secs = secs - Min(30.0, secs / 10.0);
		e->expires = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												 (int64) (Max(secs, 0.0) * 1000.0));
	}
}

/*
 * Whether the next request can be authenticated without fetching a token.
 */
bool
source_auth_ready(SourceAuth *auth)
{
	TokenEntry *e;

	if (auth->type != AUTH_OAUTH2)
		return true;
	e = token_lookup(auth);
	return e && e->token && (e->expires == 0 || GetCurrentTimestamp() < e->expires);
}

/*
 * Add the source's authentication to a request.
 */
void
source_auth_headers(SourceAuth *auth, HttpRequest *req)
{
	switch (auth->type)
	{
		case AUTH_NONE:
			break;
		case AUTH_BEARER:
			http_request_add_secret_header(req, "Authorization",
										   psprintf("Bearer %s", secrets_substitute(auth->token)));
			break;
		case AUTH_API_KEY:
			if (!auth->in_query)
				http_request_add_secret_header(req, auth->name,
											   secrets_substitute(auth->value));
			break;
		case AUTH_BASIC:
			http_request_add_secret_header(req, "Authorization",
										   basic_credentials(secrets_substitute(auth->username),
															 secrets_substitute(auth->password)));
			break;
		case AUTH_OAUTH2:
			{
				TokenEntry *e = token_lookup(auth);

				/* the role must still be allowed to use the client secret */
				(void) secrets_substitute(auth->client_secret);
				if (e == NULL)
				{
					e = MemoryContextAllocZero(TopMemoryContext, sizeof(TokenEntry));
					e->userid = GetUserId();
					e->key = MemoryContextStrdup(TopMemoryContext, token_key(auth));
					e->next = token_cache;
					token_cache = e;
				}
				if (e->token && e->expires != 0 && GetCurrentTimestamp() >= e->expires)
					source_auth_invalidate(auth);
				if (e->token == NULL)
					fetch_token(auth, e);
				redact_remember(e->token, "***");
				http_request_add_secret_header(req, "Authorization",
											   psprintf("Bearer %s", e->token));
				break;
			}
	}
}

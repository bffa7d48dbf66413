/*
 * source.h
 *	  What a source contributes to each request: its URL, headers and
 *	  authentication (with the OAuth2 token cache).
 *
 * Definitions are stored as templates: {{secret:NAME}} references are
 * substituted here, at request time only, and only into the real URL and
 * headers; the display forms keep the references.
 */
#ifndef ELT_SOURCE_H
#define ELT_SOURCE_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "http.h"

typedef enum AuthType
{
	AUTH_NONE,
	AUTH_BEARER,
	AUTH_API_KEY,
	AUTH_BASIC,
	AUTH_OAUTH2
} AuthType;

typedef struct SourceAuth
{
	const char *source;			/* source name, for the token cache */
	const char *base_url;		/* template */
	AuthType	type;
	char	   *token;			/* bearer */
	char	   *name;			/* api_key */
	bool		in_query;
	char	   *value;
	char	   *username;		/* basic */
	char	   *password;
	char	   *token_url;		/* oauth2 */
	char	   *client_id;
	char	   *client_secret;
	char	   *scope;
	char	   *audience;
	bool		client_basic;
	int			timeout_ms;
} SourceAuth;

/* A URL being built: the real one (secrets substituted) and its display. */
typedef struct UrlPair
{
	StringInfoData real;
	StringInfoData display;
	bool		has_query;
} UrlPair;

extern void url_init(UrlPair *u, const char *base_template, const char *path_template);
extern void url_init_absolute(UrlPair *u, const char *real_url);
extern void url_add_param(UrlPair *u, const char *name, const char *value_template);
extern void url_add_value_param(UrlPair *u, const char *name, const char *value);
extern char *url_display(UrlPair *u);

/* Resolve a (possibly relative) URL against base; NULL when invalid. */
extern char *url_resolve(const char *base, const char *ref);

/* scheme://host:port of a URL. */

/* Add the query parameter of API-key-in-query authentication. */
extern void source_auth_query(SourceAuth *auth, UrlPair *u);

/* Add authentication headers to a request (may fetch an OAuth2 token). */
extern void source_auth_headers(SourceAuth *auth, HttpRequest *req);

/* False when an OAuth2 token must be fetched before the next request. */
extern bool source_auth_ready(SourceAuth *auth);

/* Forget a cached OAuth2 token (the API answered 401). */
extern void source_auth_invalidate(SourceAuth *auth);

/* Add a source header: value is a template. */
extern void source_add_header(HttpRequest *req, const char *name,
							  const char *value_template);

#endif							/* ELT_SOURCE_H */

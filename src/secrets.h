/*
 * secrets.h
 *	  Named secrets and their substitution into requests.
 *
 * A secret is referenced as {{secret:NAME}} in header values, URLs and auth
 * settings.  Values are only ever read here, in C, at request time; no SQL
 * path returns them to a role that merely uses them.
 */
#ifndef ELT_SECRETS_H
#define ELT_SECRETS_H

#include "postgres.h"

extern void secrets_init(void);

/*
 * Substitute every {{secret:NAME}} in text.  Raises an error when a secret
 * does not exist or the current user may not use it.  Returns text itself
 * when nothing is referenced.
 */
extern char *secrets_substitute(const char *text);

/*
 * The same for a URL: references in the scheme, host or port are refused,
 * values in the userinfo are percent-encoded.
 */
extern char *secrets_substitute_url(const char *url);

/*
 * Raise an error if a URL template references a secret in its scheme, host
 * or port; what names the URL in the message.
 */
extern void secrets_check_url_template(const char *url, const char *what);

/* True if text references a secret. */
extern bool secrets_referenced(const char *text);

/*
 * Printable form of a URL: userinfo password and the values of query
 * parameters with sensitive names (token, key, secret, password, ...) are
 * replaced by "***".  Secret references stay as they are.
 */
extern char *secrets_redact_url(const char *url);

#endif							/* ELT_SECRETS_H */

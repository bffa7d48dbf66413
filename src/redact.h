/*
 * redact.h
 *	  Keeping substituted secret values out of every message pg_elt builds.
 *
 * Each value substituted for a request in the current transaction is
 * remembered, with the text that stands in for it ({{secret:NAME}}).  Text
 * that may carry a value (curl's error text, a URL an API sent back, the
 * start of an error response, an error raised by other code) is masked
 * before it goes into a message, so that not even a caught error (SQLERRM)
 * shows a value.  A log hook masks what reaches the log and the client as
 * well, for errors raised by code that does not mask.
 */
#ifndef ELT_REDACT_H
#define ELT_REDACT_H

#include "postgres.h"

/* Values shorter than this are refused (see secrets_substitute). */
#define REDACT_MIN_LEN 4

extern void redact_init(void);

/*
 * Remember a value substituted into a request, and the text that replaces
 * it in messages, until the end of the transaction.
 */
extern void redact_remember(const char *value, const char *label);

/* text with every remembered value replaced; text itself when none is in it. */
extern char *redact_text(const char *text);

/* Mask the message, detail, hint and context of an error in place. */
extern void redact_error_data(ErrorData *edata);

#endif							/* ELT_REDACT_H */

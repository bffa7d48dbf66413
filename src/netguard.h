/*
 * netguard.h
 *	  The address guard: which hosts and addresses HTTP requests may reach.
 */
#ifndef ELT_NETGUARD_H
#define ELT_NETGUARD_H

#include "postgres.h"

#include <sys/socket.h>

#include "utils/guc.h"

/*
 * Check an address against pg_elt.allow_private_networks.  Returns true if
 * the connection may be made; otherwise writes a message into msg.  Safe in
 * a libcurl callback: never raises, never allocates.
 */
extern bool netguard_address_allowed(const struct sockaddr *sa, char *msg,
									 size_t msglen);

/*
 * Check a URL's scheme (http or https) and host (pg_elt.allowed_hosts).
 * Raises an error naming display_url when refused.
 */
extern void netguard_check_url(const char *url, const char *display_url);

/* GUC hooks of pg_elt.allowed_private_networks (a list of CIDR ranges). */
extern bool netguard_check_networks(char **newval, void **extra, GucSource source);
extern void netguard_assign_networks(const char *newval, void *extra);

#endif							/* ELT_NETGUARD_H */

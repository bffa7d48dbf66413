/*
 * link_header.h
 *	  RFC 8288 Link headers (src/link_header.c).
 */
#ifndef ELT_LINK_HEADER_H
#define ELT_LINK_HEADER_H

#include "postgres.h"

extern char *link_header_next(const char *header);

#endif							/* ELT_LINK_HEADER_H */

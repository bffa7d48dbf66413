/*
 * netguard.c
 *	  The address guard.
 *
 * A database server usually sits inside a private network, so a function
 * that makes HTTP requests on behalf of SQL users could be turned against
 * the hosts next to it (server-side request forgery).  The guard refuses
 * loopback, private, link-local, multicast and reserved addresses unless a
 * superuser turns pg_elt.allow_private_networks on.  It checks the address
 * each connection is actually made to, after DNS resolution, so neither a
 * redirect nor a host name that resolves to 127.0.0.1 gets around it.
 * pg_elt.allowed_hosts further restricts which host names may be used.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <curl/curl.h>

#include "utils/guc.h"

#include "pg_elt.h"
#include "netguard.h"
#include "redact.h"

/* Does the IPv4 address (host byte order) fall in prefix/len? */
static bool
in4(uint32 addr, uint32 prefix, int len)
{
	uint32		mask = len == 0 ? 0 : (~(uint32) 0) << (32 - len);

	return (addr & mask) == (prefix & mask);
}

/* Classify an IPv4 address in host byte order; NULL when public. */
static const char *
class_v4(uint32 a)
{
	if (in4(a, 0x7F000000, 8))
		return "loopback";
	if (in4(a, 0x0A000000, 8) || in4(a, 0xAC100000, 12) ||
		in4(a, 0xC0A80000, 16))
		return "private";
	if (in4(a, 0x64400000, 10))
		return "carrier-grade NAT";
	if (in4(a, 0xA9FE0000, 16))
		return "link-local";
	if (in4(a, 0xE0000000, 4))
		return "multicast";
	if (in4(a, 0x00000000, 8))
		return "unspecified";
	if (in4(a, 0xF0000000, 4))
		return "reserved";
	if (in4(a, 0xC0000000, 24) || in4(a, 0xC6120000, 15) ||
		in4(a, 0xC0000200, 24) || in4(a, 0xC6336400, 24) ||
		in4(a, 0xCB007100, 24))
		return "reserved";
	return NULL;
}

/* The IPv4 address in four bytes of an IPv6 address, in host byte order. */
static uint32
v4_at(const uint8 *b, uint32 xor)
{
	return (((uint32) b[0] << 24) | ((uint32) b[1] << 16) |
			((uint32) b[2] << 8) | (uint32) b[3]) ^ xor;
}

/*
 * An IPv6 address that carries an IPv4 address: which form, and the IPv4
 * address a connection to it reaches in the end.  A packet to such an
 * address is translated (NAT64), tunnelled (6to4, Teredo) or, on a
 * dual-stack socket, sent to the IPv4 address itself (IPv4-mapped), so it
 * is judged by that IPv4 address.  Teredo carries two: the server's, and
 * the client's with its bits inverted, returned in *v4b with *two set.
 * Returns NULL when the address carries none.
 */
static const char *
embedded_v4(const uint8 *b, uint32 *v4, uint32 *v4b, bool *two)
{
	static const uint8 zero[12] = {0};
	static const uint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8 translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
	static const uint8 nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

	*two = false;
	if (memcmp(b, mapped, 12) == 0)
	{
		*v4 = v4_at(b + 12, 0);
		return "IPv4-mapped";
	}
	if (memcmp(b, translated, 12) == 0)
	{
		*v4 = v4_at(b + 12, 0);
		return "IPv4-translated";
	}
	/* ::a.b.c.d, but :: and ::1 are themselves */
	if (memcmp(b, zero, 12) == 0 && v4_at(b + 12, 0) > 1)
	{
		*v4 = v4_at(b + 12, 0);
		return "IPv4-compatible";
	}
	if (memcmp(b, nat64, 12) == 0)
	{
		*v4 = v4_at(b + 12, 0);
		return "NAT64";
	}
	if (b[0] == 0x20 && b[1] == 0x02)
	{
		*v4 = v4_at(b + 2, 0);
		return "6to4";
	}
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
	{
		*v4 = v4_at(b + 4, 0);
		*v4b = v4_at(b + 12, 0xffffffff);
		*two = true;
		return "Teredo";
	}
	return NULL;
}

/* Classify an IPv6 address that carries no IPv4 address; NULL when public. */
static const char *
class_v6(const uint8 *b)
{
	static const uint8 zero[16] = {0};

	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return "loopback";
	if (memcmp(b, zero, 16) == 0)
		return "unspecified";
	/* local-use NAT64 (RFC 8215): where it leads is the network's choice */
	if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
		b[4] == 0 && b[5] == 1)
		return "local-use NAT64";
	/* discard-only (RFC 6666) */
	if (b[0] == 0x01 && b[1] == 0 && memcmp(b + 2, zero, 6) == 0)
		return "reserved";
	if ((b[0] & 0xfe) == 0xfc)
		return "private";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "private";
	if (b[0] == 0xff)
		return "multicast";
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return "reserved";
	return NULL;
}

/* One parsed range of pg_elt.allowed_private_networks. */
typedef struct NetRange
{
	int			family;			/* AF_INET or AF_INET6 */
	uint8		addr[16];
	int			bits;
} NetRange;

typedef struct NetRanges
{
	int			n;
	NetRange	r[FLEXIBLE_ARRAY_MEMBER];
} NetRanges;

static NetRanges *allowed_ranges = NULL;

/*
 * Check hook: parse "10.1.2.0/24, 127.0.0.1, fd00::/8" into ranges, kept as
 * the setting's extra data so the connect-time check needs no parsing.
 */
bool
netguard_check_networks(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval);
	char	   *tok;
	char	   *save = NULL;
	int			count = 0;
	NetRanges  *ranges;

	for (tok = copy; *tok; tok++)
		if (*tok == ',')
			count++;
	ranges = malloc(offsetof(NetRanges, r) + sizeof(NetRange) * (count + 1));
	if (ranges == NULL)
		return false;
	ranges->n = 0;
	strcpy(copy, *newval);
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
	{
		NetRange   *r = &ranges->r[ranges->n];
		char	   *slash = strchr(tok, '/');
		int			max;

		if (slash)
			*slash = '\0';
		memset(r->addr, 0, sizeof(r->addr));
		if (inet_pton(AF_INET, tok, r->addr) == 1)
		{
			r->family = AF_INET;
			max = 32;
		}
		else if (inet_pton(AF_INET6, tok, r->addr) == 1)
		{
			r->family = AF_INET6;
			max = 128;
		}
		else
		{
			GUC_check_errdetail("\"%s\" is not an IP address.", tok);
			free(ranges);
			return false;
		}
		r->bits = max;
		if (slash)
		{
			char	   *end;
			long		bits = strtol(slash + 1, &end, 10);

			if (*end != '\0' || end == slash + 1 || bits < 0 || bits > max)
			{
				GUC_check_errdetail("\"%s\" is not a valid prefix length.", slash + 1);
				free(ranges);
				return false;
			}
			r->bits = (int) bits;
		}
		ranges->n++;
	}
	pfree(copy);
	*extra = ranges;
	return true;
}

void
netguard_assign_networks(const char *newval, void *extra)
{
	allowed_ranges = (NetRanges *) extra;
}

/* Is the address (4 or 16 bytes) inside one of the allowed ranges? */
static bool
in_allowed_ranges(int family, const uint8 *a)
{
	int			i;

	if (allowed_ranges == NULL)
		return false;
	for (i = 0; i < allowed_ranges->n; i++)
	{
		const NetRange *r = &allowed_ranges->r[i];
		int			full = r->bits / 8;
		int			rest = r->bits % 8;

		if (r->family != family)
			continue;
		if (memcmp(a, r->addr, full) != 0)
			continue;
		if (rest != 0 && ((a[full] ^ r->addr[full]) & (0xff << (8 - rest))) != 0)
			continue;
		return true;
	}
	return false;
}

/* Write an IPv4 address (host byte order) as text. */
static void
v4_text(uint32 v4, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", v4 >> 24, (v4 >> 16) & 0xff,
			 (v4 >> 8) & 0xff, v4 & 0xff);
}

/*
 * Decide whether a connection to sa may be made.  Called from libcurl's
 * open-socket callback, so it only formats into the caller's buffer.
 *
 * An IPv6 address that carries an IPv4 address (embedded_v4) is refused
 * when that IPv4 address is not public.  A range of
 * pg_elt.allowed_private_networks allows the addresses of its own family;
 * an IPv4 range also allows the IPv4-mapped form of its addresses, which a
 * dual-stack socket connects to the very same IPv4 address, but not the
 * forms that go through a translator or a tunnel (NAT64, 6to4, Teredo,
 * IPv4-compatible, IPv4-translated): those are allowed by listing their
 * IPv6 range.
 */
bool
netguard_address_allowed(const struct sockaddr *sa, char *msg, size_t msglen)
{
	char		ip[INET6_ADDRSTRLEN] = "?";
	char		inner[INET_ADDRSTRLEN];

	if (elt_allow_private_networks)
		return true;
	if (sa->sa_family == AF_INET)
	{
		const struct sockaddr_in *s4 = (const struct sockaddr_in *) sa;
		const char *cls = class_v4(ntohl(s4->sin_addr.s_addr));

		if (cls == NULL || in_allowed_ranges(AF_INET, (const uint8 *) &s4->sin_addr))
			return true;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(msg, msglen, "%s is not a public address (%s)", ip, cls);
		return false;
	}
	if (sa->sa_family == AF_INET6)
	{
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) sa;
		const uint8 *b = s6->sin6_addr.s6_addr;
		uint32		v4 = 0;
		uint32		v4b = 0;
		bool		two;
		const char *form = embedded_v4(b, &v4, &v4b, &two);
		const char *cls;

		if (in_allowed_ranges(AF_INET6, b))
			return true;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		if (form == NULL)
		{
			cls = class_v6(b);
			if (cls == NULL)
				return true;
			snprintf(msg, msglen, "%s is not a public address (%s)", ip, cls);
			return false;
		}
		cls = class_v4(v4);
		if (cls == NULL && two)
		{
			cls = class_v4(v4b);
			v4 = v4b;
		}
		if (cls == NULL)
			return true;
		if (strcmp(form, "IPv4-mapped") == 0 && in_allowed_ranges(AF_INET, b + 12))
			return true;
		v4_text(v4, inner, sizeof(inner));
		snprintf(msg, msglen, "%s is not a public address (%s address %s in %s form)",
				 ip, cls, inner, form);
		return false;
	}
	snprintf(msg, msglen, "address family %d is not supported", (int) sa->sa_family);
	return false;
}

/*
 * Case-insensitive match of a host against a list such as
 * "api.example.com, *.example.org".  A "*." entry matches subdomains only.
 */
static bool
netguard_host_matches(const char *host, const char *list)
{
	const char *p = list;
	size_t		hlen = strlen(host);

	while (*p)
	{
		const char *start;
		size_t		len;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		len = p - start;
		if (len == 0)
			continue;
		if (len > 2 && start[0] == '*' && start[1] == '.')
		{
			size_t		slen = len - 1;	/* ".example.com" */

			if (hlen > slen && pg_strncasecmp(host + hlen - slen, start + 1, slen) == 0)
				return true;
		}
		else if (len == hlen && pg_strncasecmp(host, start, len) == 0)
			return true;
	}
	return false;
}

/*
 * Refuse a URL whose scheme is not http or https, or whose host is not in
 * pg_elt.allowed_hosts when that is set.  Done before every request and
 * every redirect; addresses are checked later, at connect time.
 */
void
netguard_check_url(const char *url, const char *display_url)
{
	CURLU	   *u;
	char	   *scheme = NULL;
	char	   *host = NULL;
	CURLUcode	rc;
	char		schemebuf[16];
	char		hostbuf[256];
	size_t		slen = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	/* a redirect or next link comes from the API: it may carry a value */
	display_url = redact_text(display_url);

	/* an explicit scheme other than http(s) gets its own message */
	if (slen > 0 && strncmp(url + slen, "://", 3) == 0 && !(slen == 4 && pg_strncasecmp(url, "http", 4) == 0) &&
		!(slen == 5 && pg_strncasecmp(url, "https", 5) == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("URL scheme \"%s\" is not allowed in \"%s\"",
						redact_text(pnstrdup(url, slen)), display_url),
				 errhint("Only http and https URLs can be requested.")));

	u = curl_url();
	if (u == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
	strlcpy(schemebuf, scheme ? scheme : "", sizeof(schemebuf));
	strlcpy(hostbuf, host ? host : "", sizeof(hostbuf));
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);

	if (rc != CURLUE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid URL \"%s\"", display_url),
				 errdetail("%s.", curl_url_strerror(rc)),
				 errhint("A URL has the form http://host[:port]/path?query or https://...")));
	if (strcmp(schemebuf, "http") != 0 && strcmp(schemebuf, "https") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("URL scheme \"%s\" is not allowed in \"%s\"",
						redact_text(schemebuf), display_url),
				 errhint("Only http and https URLs can be requested.")));
	if (elt_allowed_hosts && elt_allowed_hosts[0] != '\0' &&
		!netguard_host_matches(hostbuf, elt_allowed_hosts))
		ereport(ERROR,
				(errcode(ERRCODE_ELT_ADDRESS_REFUSED),
				 errmsg("host \"%s\" is not in pg_elt.allowed_hosts", redact_text(hostbuf)),
				 errdetail("Request to \"%s\" refused.", display_url),
				 errhint("A superuser can add the host to pg_elt.allowed_hosts.")));
}

/*
 * link_header.c
 *	  Reading the next page's URL from an HTTP Link header (RFC 8288), for
 *	  link_header pagination.
 *
 * The grammar (RFC 8288 section 3, with RFC 9110's list rules):
 *
 *	  Link       = #link-value
 *	  link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
 *	  link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
 *
 * Several Link header fields are one list joined by ", " (the caller joins
 * them).  Only the first rel parameter of a link counts (section 3.3), its
 * value is a list of relation types separated by white space, compared
 * without regard to case.  A link-value that does not follow the grammar is
 * skipped up to the next comma outside quotes and angle brackets, so one
 * bad link does not hide the others.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "link_header.h"

PG_FUNCTION_INFO_V1(elt_link_header_next);

/* RFC 9110 tchar */
static bool
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Skip optional white space (SP and HTAB). */
static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Skip the rest of a malformed link-value: up to the next comma that is
 * outside a quoted string and outside angle brackets.
 */
static const char *
skip_to_comma(const char *p)
{
	bool		inq = false;
	bool		inuri = false;

	for (; *p; p++)
	{
		if (inq)
		{
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				inq = false;
		}
		else if (inuri)
		{
			if (*p == '>')
				inuri = false;
		}
		else if (*p == '"')
			inq = true;
		else if (*p == '<')
			inuri = true;
		else if (*p == ',')
			break;
	}
	return p;
}

/*
 * Read a parameter value (token or quoted-string) at p into *out (palloc'd,
 * escapes removed); returns the position after it, or NULL if malformed.
 */
static const char *
read_value(const char *p, char **out)
{
	StringInfoData v;

	initStringInfo(&v);
	if (*p == '"')
	{
		for (p++; *p && *p != '"'; p++)
		{
			if (*p == '\\' && p[1])
				p++;
			appendStringInfoChar(&v, *p);
		}
		if (*p != '"')
			return NULL;
		p++;
	}
	else
	{
		while (is_tchar(*p))
			appendStringInfoChar(&v, *p++);
	}
	*out = v.data;
	return p;
}

/*
 * Whether a rel value (relation types separated by white space) holds
 * "next".
 */
static bool
rel_has_next(const char *rel)
{
	const char *p = rel;

	for (;;)
	{
		size_t		n;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return false;
		n = strcspn(p, " \t");
		if (n == 4 && pg_strncasecmp(p, "next", 4) == 0)
			return true;
		p += n;
	}
}

/*
 * The rel="next" target of a Link header (all its fields joined by
 * commas), or NULL: what link_header pagination follows.
 */
char *
link_header_next(const char *header)
{
	const char *p = header;

	while (*p)
	{
		const char *uri;
		size_t		urilen;
		char	   *rel = NULL;
		bool		ok = true;

		p = skip_ows(p);
		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p != '<')
		{
			p = skip_to_comma(p);
			continue;
		}
		uri = p + 1;
		p = strchr(uri, '>');
		if (p == NULL)
			return NULL;
		urilen = p - uri;
		p++;
		for (;;)
		{
			const char *name;
			size_t		namelen;
			char	   *value = NULL;

			p = skip_ows(p);
			if (*p == '\0' || *p == ',')
				break;
			if (*p != ';')
			{
				ok = false;
				break;
			}
			p = skip_ows(p + 1);
			name = p;
			while (is_tchar(*p))
				p++;
			namelen = p - name;
			if (namelen == 0)
			{
				ok = false;
				break;
			}
			p = skip_ows(p);
			if (*p == '=')
			{
				p = read_value(skip_ows(p + 1), &value);
				if (p == NULL)
					return NULL;	/* an unterminated quote runs to the end */
			}
			/* only the first rel counts (RFC 8288 section 3.3) */
			if (rel == NULL && namelen == 3 && pg_strncasecmp(name, "rel", 3) == 0)
				rel = value ? value : pstrdup("");
		}
		if (ok && rel != NULL && rel_has_next(rel))
			return pnstrdup(uri, urilen);
		if (!ok)
			p = skip_to_comma(p);
	}
	return NULL;
}

/*
 * elt._link_header_next(header): the rel="next" target of a Link header,
 * for trying a header and for the tests of the parser.
 */
Datum
elt_link_header_next(PG_FUNCTION_ARGS)
{
	char	   *next = link_header_next(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (next == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(next));
}

/*
 * link_header.c
 *	  Reading the next page's URL from an HTTP Link header (RFC 8288), for
 *	  link_header pagination.
 */
#include "postgres.h"

#include "link_header.h"

/*
 * The rel="next" target of an RFC 8288 Link header, or NULL.
 */
char *
link_header_next(const char *header)
{
	const char *p = header;

	while (p && *p)
	{
		const char *lt = strchr(p, '<');
		const char *gt;
		const char *end;
		char	   *params;

		if (lt == NULL)
			return NULL;
		gt = strchr(lt, '>');
		if (gt == NULL)
			return NULL;
		/* parameters run to the next ",<" (commas may appear in quotes) */
		end = gt + 1;
		{
			bool		inq = false;

			while (*end && !(*end == ',' && !inq))
			{
				if (*end == '"')
					inq = !inq;
				end++;
			}
		}
		params = pnstrdup(gt + 1, end - gt - 1);
		{
			char	   *r = params;

			while ((r = strcasestr(r, "rel")) != NULL)
			{
				char	   *q = r + 3;

				while (*q == ' ')
					q++;
				if (*q == '=')
				{
					char	   *val;
					char	   *tok;
					char	   *save;

					q++;
					while (*q == ' ')
						q++;
					if (*q == '"')
					{
						char	   *close = strchr(q + 1, '"');

						val = close ? pnstrdup(q + 1, close - q - 1) : pstrdup(q + 1);
					}
					else
						val = pnstrdup(q, strcspn(q, ";, "));
					for (tok = strtok_r(val, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
						if (pg_strcasecmp(tok, "next") == 0)
							return pnstrdup(lt + 1, gt - lt - 1);
				}
				r = q;
			}
		}
		p = *end ? end + 1 : NULL;
	}
	return NULL;
}

/*
 * str.c: string predicates. See str.h.
 */
#include <string.h>
#include <strings.h>

#include "base/str.h"

int
has_crlf(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

int
streq_ci(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int
startswith_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

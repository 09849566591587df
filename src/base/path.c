/*
 * path.c: paths built whole or not at all. See path.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/path.h"
#include "base/mem.h"

char *
path_fmt(const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	char *p = NULL;
	int r;

	/* MAX_PATH counts the NUL, as PATH_MAX does. */
	buf_init(&b, MAX_PATH - 1);
	va_start(ap, fmt);
	r = buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (r == -1) {
		errno = ENAMETOOLONG;
		goto out;
	}
	p = buf_steal(&b);
out:
	buf_free(&b);
	return p;
}

char *
path_name(const char *name)
{
	char *s = xstrdup(name), *p;

	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			*p = '_';
	return s;
}

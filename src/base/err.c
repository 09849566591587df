/*
 * err.c: failure records. See err.h.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"

void
err_init(struct err *e)
{
	memset(e, 0, sizeof(*e));
}

/* Messages are one line: a CR or LF from a server or a config value must not split it. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

int
err_vset(struct err *e, enum err_kind kind, enum err_cause cause, const char *fmt, va_list ap)
{
	if (e == NULL || e->kind != ERR_OK)
		return -1;
	e->kind = kind == ERR_OK ? ERR_PERM : kind;
	e->cause = cause;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	one_line(e->msg);
	return -1;
}

int
err_set(struct err *e, enum err_kind kind, enum err_cause cause, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, kind, cause, fmt, ap);
	va_end(ap);
	return -1;
}

void
err_reply(struct err *e, int code, const char *text)
{
	if (e == NULL)
		return;
	e->code = code;
	if (text == NULL)
		e->reply[0] = '\0';
	else if (code > 0)
		snprintf(e->reply, sizeof(e->reply), "%d %s", code, text);
	else
		snprintf(e->reply, sizeof(e->reply), "%s", text);
	one_line(e->reply);
}

void
err_prefix(struct err *e, const char *fmt, ...)
{
	char pre[MAX_ERROR_TEXT];
	size_t plen, mlen;
	va_list ap;

	if (e == NULL || e->kind == ERR_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	plen = strlen(pre);
	mlen = strlen(e->msg);
	if (plen >= sizeof(e->msg) - 1)
		plen = sizeof(e->msg) - 1;
	if (plen + mlen >= sizeof(e->msg))
		mlen = sizeof(e->msg) - 1 - plen;
	memmove(e->msg + plen, e->msg, mlen);
	memcpy(e->msg, pre, plen);
	e->msg[plen + mlen] = '\0';
	one_line(e->msg);
}

const char *
err_str(const struct err *e, char *buf, size_t len)
{
	if (e->reply[0] != '\0')
		snprintf(buf, len, "%s: server said: %s", e->msg, e->reply);
	else
		snprintf(buf, len, "%s", e->msg);
	return buf;
}

int
err_failed(const struct err *e)
{
	return e->kind != ERR_OK;
}

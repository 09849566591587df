/*
 * buf.c: the growable buffer with a cap. See buf.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_init_secret(struct buf *b, size_t max)
{
	buf_init(b, max);
	b->secret = 1;
}

/* Mark b failed; always -1, for "return fail(b)". */
static int
fail(struct buf *b)
{
	b->failed = 1;
	return -1;
}

/* Room for len + n bytes and the NUL, or -1 (b marked failed). */
static int
buf_grow(struct buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (b->failed || n > b->max - b->len)
		return fail(b);
	need = b->len + n;
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if (b->secret) {
		/* realloc could leave a copy of the secret behind: move it by hand. */
		if ((p = malloc(ncap)) == NULL)
			return fail(b);
		if (b->data != NULL) {
			memcpy(p, b->data, b->len + 1);
			explicit_bzero(b->data, b->cap);
			free(b->data);
		}
	} else if ((p = realloc(b->data, ncap)) == NULL)
		return fail(b);
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return fail(b);
	if (buf_grow(b, (size_t)n) == -1)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

int
buf_addjoin(struct buf *b, char *const *v, size_t n, const char *sep)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++)
		r = buf_addf(b, "%s%s", i ? sep : "", v[i]);
	return r;
}

int
buf_failed(const struct buf *b)
{
	return b->failed;
}

void
buf_reset(struct buf *b)
{
	if (b->data != NULL) {
		if (b->secret)
			explicit_bzero(b->data, b->cap);
		b->data[0] = '\0';
	}
	b->len = 0;
	b->failed = 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (b->data == NULL)
		return;
	if (n > b->len)
		n = b->len;
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	if (b->secret)
		explicit_bzero(b->data + b->len, b->cap - b->len);
	b->data[b->len] = '\0';
}

const char *
buf_cstr(struct buf *b)
{
	if (b->failed)
		return NULL;
	return b->data != NULL ? b->data : "";
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (b->failed) {
		buf_free(b);
		return NULL;
	}
	if (p == NULL)
		p = xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	if (b->data != NULL) {
		if (b->secret)
			explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

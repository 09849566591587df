/*
 * buf.h: the one growable byte buffer, with a mandatory maximum.
 *
 * Growing past max is an error, not a crash and not silent truncation, and the error
 * sticks (curl's dynbuf frees the buffer; ours marks it): an append that does not fit
 * (over max, or no memory) appends nothing, returns -1 and marks the buffer failed;
 * every later append on a failed buffer returns -1 and appends nothing; buf_cstr and
 * buf_steal return NULL for a failed buffer. So a run of appends can be checked once,
 * where the buffer is used:
 *
 *	r = buf_addstr(&b, "a");
 *	r |= buf_addf(&b, "%d", n);
 *	if (r != 0)			(or: if (buf_cstr(&b) == NULL))
 *		goto out;
 *
 * buf_reset and buf_free clear the mark. The data is always NUL-terminated (the NUL is
 * not counted in len); on a failed buffer, data and len still hold what fitted before
 * the failure, which is never the whole of what was asked for. A buffer marked secret
 * is wiped before its memory is released or reallocated, failed or not.
 */
#ifndef MAILOUT_BUF_H
#define MAILOUT_BUF_H

#include <stddef.h>
#include <stdarg.h>

#include "base/attr.h"

struct buf {
	char *data; /* NULL until the first add */
	size_t len;
	size_t cap;
	size_t max; /* len may never exceed this */
	int secret;
	int failed; /* an append did not fit: sticky until buf_reset/buf_free */
};

void buf_init(struct buf *b, size_t max);
void buf_init_secret(struct buf *b, size_t max);
/* Appends: 0, or -1 (b marked failed) over max, out of memory, or b already failed. */
int buf_add(struct buf *b, const void *p, size_t n) MUST_CHECK;
int buf_addstr(struct buf *b, const char *s) MUST_CHECK;
int buf_addc(struct buf *b, char c) MUST_CHECK;
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3))) MUST_CHECK;
int buf_vaddf(struct buf *b, const char *fmt, va_list ap) MUST_CHECK;
/* Append the n strings of v with sep between them. 0, or -1 when they did not all fit. */
int buf_addjoin(struct buf *b, char *const *v, size_t n, const char *sep) MUST_CHECK;
/* 1 if an append has failed since buf_init, buf_reset or buf_free, else 0. */
int buf_failed(const struct buf *b) MUST_CHECK;
/* len = 0 and the failure mark cleared; keeps the memory (wiped if secret). */
void buf_reset(struct buf *b);
/* Drop n bytes from the front. The failure mark stays. */
void buf_consume(struct buf *b, size_t n);
/* The data as a string, "" when empty; NULL when b is failed. */
const char *buf_cstr(struct buf *b) MUST_CHECK;
/*
 * The data as a string the caller owns (free, or secret_free), "" when empty; b is left
 * empty as after buf_free. NULL when b is failed: its memory is then released (wiped if
 * secret) and b is left as after buf_free.
 */
char *buf_steal(struct buf *b) MUST_CHECK;
/* Release the memory (wiped if secret); b is empty, not failed, ready for reuse. */
void buf_free(struct buf *b);

/* Wipe then free a C string (secrets). NULL is fine. */
void secret_free(char *s);

#endif

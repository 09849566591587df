/*
 * buf.h: the one growable byte buffer, with a mandatory maximum.
 *
 * Growing past max is an error (-1), not a crash and not silent truncation. The data
 * is always NUL-terminated (the NUL is not counted in len). A buffer marked secret is
 * wiped before its memory is released or reallocated.
 */
#ifndef MAILOUT_BUF_H
#define MAILOUT_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char	*data;	/* NULL until the first add */
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* len may never exceed this */
	int	 secret;
};

void	 buf_init(struct buf *b, size_t max);
void	 buf_init_secret(struct buf *b, size_t max);
int	 buf_add(struct buf *b, const void *p, size_t n);	/* 0, or -1 over max / no memory */
int	 buf_addstr(struct buf *b, const char *s);
int	 buf_addc(struct buf *b, char c);
int	 buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int	 buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Append the n strings of v with sep between them. 0, or -1 if one did not fit. */
int	 buf_addjoin(struct buf *b, char *const *v, size_t n, const char *sep);
void	 buf_reset(struct buf *b);		/* len = 0, keeps memory (wiped if secret) */
void	 buf_consume(struct buf *b, size_t n);	/* drop n bytes from the front */
const char *buf_cstr(struct buf *b);		/* never NULL: "" when empty */
char	*buf_steal(struct buf *b);		/* caller owns the string; b is empty */
void	 buf_free(struct buf *b);

/* Wipe then free a C string (secrets). NULL is fine. */
void	 secret_free(char *s);

#endif

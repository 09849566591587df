/*
 * stream.c: the buffered connection over a struct stream. See stream.h.
 */
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "net/stream.h"
#include "base/mem.h"

/* Replies and commands are short; 16 KiB holds a whole pipelined batch of replies. */
#define CONN_RBUF	(16 * 1024)
/*
 * Output leaves in pieces of exactly this size: one system call (and one TLS record
 * group) per 64 KiB, never a small write that waits for a delayed ACK.
 */
#define CONN_FLUSH_AT	IO_BLOCK

struct conn {
	struct stream	*s;
	size_t		 rpos;
	size_t		 rlen;
	int		 eof;		/* the peer closed its side */
	struct buf	 wbuf;
	char		 rbuf[CONN_RBUF];
};

struct conn *
conn_new(struct stream *s)
{
	struct conn *c;

	c = xcalloc(1, sizeof(*c));
	c->s = s;
	/* AUTH lines pass through here: wipe what was sent. */
	buf_init_secret(&c->wbuf, CONN_FLUSH_AT);
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->s != NULL)
		c->s->ops->close(c->s);
	buf_free(&c->wbuf);
	/* On the server side (-bs) the input held the client's AUTH exchange. */
	explicit_bzero(c->rbuf, sizeof(c->rbuf));
	free(c);
}

/* Refill the empty read buffer: >0, 0 at end of stream (err set), -1 (err set). */
static ssize_t
conn_fill(struct conn *c, struct err *e)
{
	ssize_t n;

	c->rpos = c->rlen = 0;
	n = c->s->ops->read(c->s, c->rbuf, sizeof(c->rbuf), e);
	if (n == 0) {
		c->eof = 1;
		err_set(e, ERR_TEMP, CAUSE_TEMP, "connection closed by %s", c->s->name);
	}
	else if (n > 0)
		c->rlen = (size_t)n;
	return n;
}

ssize_t
conn_readline(struct conn *c, char *line, size_t max, struct err *e)
{
	ssize_t ret = -1;
	size_t len = 0;
	int cr = 0;
	char ch;

	if (max == 0) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "conn_readline: no room for a line");
		goto out;
	}
	for (;;) {
		if (c->rpos == c->rlen && conn_fill(c, e) <= 0)
			goto out;
		ch = c->rbuf[c->rpos++];
		if (ch == '\n')
			break;
		/* A CR is held back: it is stripped if LF follows, kept otherwise. */
		if (cr) {
			if (len + 1 >= max)
				goto toolong;
			line[len++] = '\r';
			cr = 0;
		}
		if (ch == '\r') {
			cr = 1;
			continue;
		}
		if (len + 1 >= max)
			goto toolong;
		line[len++] = ch;
	}
	line[len] = '\0';
	ret = (ssize_t)len;
	goto out;
toolong:
	/* Leave the byte that did not fit for the next read: nothing is lost. */
	c->rpos--;
	line[len] = '\0';
	err_set(e, ERR_PERM, CAUSE_PROTOCOL, "%s sent a line longer than %zu bytes",
	    c->s->name, max - 1);
out:
	return ret;
}

int
conn_read_exact(struct conn *c, void *p, size_t n, struct err *e)
{
	char *d = p;
	size_t k;
	int ret = -1;

	while (n > 0) {
		if (c->rpos == c->rlen && conn_fill(c, e) <= 0)
			goto out;
		k = c->rlen - c->rpos;
		if (k > n)
			k = n;
		memcpy(d, c->rbuf + c->rpos, k);
		c->rpos += k;
		d += k;
		n -= k;
	}
	ret = 0;
out:
	return ret;
}

int
conn_flush(struct conn *c, struct err *e)
{
	int ret = 0;

	if (c->wbuf.len > 0) {
		ret = c->s->ops->write(c->s, c->wbuf.data, c->wbuf.len, e);
		buf_reset(&c->wbuf);
	}
	return ret;
}

int
conn_write(struct conn *c, const void *p, size_t n, struct err *e)
{
	const char *s = p;
	size_t k;
	int ret = -1;

	while (n > 0) {
		/* Nothing to join it with: a large piece needs no copy. */
		if (c->wbuf.len == 0 && n >= CONN_FLUSH_AT) {
			if (c->s->ops->write(c->s, s, n, e) == -1)
				goto out;
			break;
		}
		k = CONN_FLUSH_AT - c->wbuf.len;
		if (k > n)
			k = n;
		if (buf_add(&c->wbuf, s, k) == -1) {
			err_set(e, ERR_TEMP, CAUSE_OSERR, "out of memory for the output buffer");
			goto out;
		}
		s += k;
		n -= k;
		if (c->wbuf.len == CONN_FLUSH_AT && conn_flush(c, e) == -1)
			goto out;
	}
	ret = 0;
out:
	return ret;
}

int
conn_puts(struct conn *c, const char *s, struct err *e)
{
	return conn_write(c, s, strlen(s), e);
}

int
conn_eof(const struct conn *c)
{
	return c->eof;
}

size_t
conn_pending(const struct conn *c)
{
	return c->rlen - c->rpos;
}

struct stream *
conn_stream(struct conn *c)
{
	return c->s;
}

void
conn_swap(struct conn *c, struct stream *s)
{
	/* Bytes from before the swap must never be taken as coming through the new layer. */
	explicit_bzero(c->rbuf, sizeof(c->rbuf));
	c->rpos = c->rlen = 0;
	buf_reset(&c->wbuf);
	c->s = s;
}

int
conn_set_timeout(struct conn *c, int timeout_s)
{
	if (c->s->ops->timeout == NULL)
		return -1;
	return c->s->ops->timeout(c->s, timeout_s);
}

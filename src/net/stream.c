/*
 * stream.c: the buffered connection over a struct stream. See stream.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/attr.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "net/stream.h"
#include "base/mem.h"

/* Replies and commands are short; 16 KiB holds a whole pipelined batch of replies. */
#define CONN_RBUF (16 * 1024)
/*
 * Output leaves in pieces of exactly this size: one system call (and one TLS record
 * group) per 64 KiB, never a small write that waits for a delayed ACK.
 */
#define CONN_FLUSH_AT IO_BLOCK

struct conn {
	struct stream *s;
	size_t rpos;
	size_t rlen;
	size_t rhigh; /* rbuf[0..rhigh) has held input since the last wipe */
	int eof; /* the peer closed its side */
	int64_t deadline; /* every read and write (now_ms), 0: none */
	int64_t rdeadline; /* reads only, 0: none */
	int rtimeout_s; /* what rdeadline was set from, for the error */
	char dlabel[128]; /* what deadline stands for, for the error */
	struct buf wbuf;
	char rbuf[CONN_RBUF];
};

struct conn *
conn_new(struct stream *s)
{
	struct conn *c;

	/*
	 * rbuf is left as malloc gives it: a -bd worker keeps every page it dirties, and a
	 * short session reads a few hundred bytes. Only rbuf[0..rhigh) is ever read back.
	 */
	c = xmalloc(sizeof(*c));
	memset(c, 0, offsetof(struct conn, rbuf));
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
	explicit_bzero(c->rbuf, c->rhigh);
	free(c);
}

/* The deadline that binds the next read (reading) or write; 0: none. */
static int64_t
conn_due(const struct conn *c, int reading)
{
	int64_t at = c->deadline;

	if (reading && c->rdeadline != 0 && (at == 0 || c->rdeadline < at))
		at = c->rdeadline;
	return at;
}

/* The deadline that bound a read or write passed: that is the cause, into e (not failed). */
static void
conn_timed_out(const struct conn *c, int reading, int64_t at, struct err *e)
{
	if (reading && at == c->rdeadline)
		err_set(e, ERR_TEMP, CAUSE_TEMP,
		    "no complete reply from %s within %d s "
		    "(timeout)",
		    c->s->name, c->rtimeout_s);
	else
		err_set(e, ERR_TEMP, CAUSE_TEMP,
		    "the time allowed for the session with %s "
		    "ran out (%s)",
		    c->s->name, c->dlabel);
}

/*
 * After a failed read or write, its error in e (which was clean before: the stream's error
 * goes straight in, no second struct err of 5 KiB on the stack of every read and write):
 * if a deadline has passed, that is the cause, in place of the stream's words.
 */
static void
conn_failed_in(const struct conn *c, int reading, struct err *e)
{
	int64_t at = conn_due(c, reading);

	if (at != 0 && now_ms() >= at) {
		err_init(e);
		conn_timed_out(c, reading, at, e);
	}
}

/*
 * The deadline passed before a read or write: into e, unless e failed. NOINLINE
 * (base/attr.h): conn_arm is the deepest call of every read, and a -bd worker keeps every
 * stack page it touched.
 */
static NOINLINE void
conn_expired(const struct conn *c, int reading, struct err *e)
{
	if (!err_failed(e))
		conn_timed_out(c, reading, conn_due(c, reading), e);
}

/* Before a read or write: the stream stops at the binding deadline. -1 if it has passed. */
static int
conn_arm(struct conn *c, int reading, struct err *e)
{
	int64_t at = conn_due(c, reading);

	if (at != 0 && now_ms() >= at) {
		conn_expired(c, reading, e);
		return -1;
	}
	stream_set_deadline(c->s, at);
	return 0;
}

/* A read into rbuf that worked: the wipe must reach as far as the input did. */
static void
conn_got(struct conn *c, ssize_t n)
{
	c->rlen = (size_t)n;
	if (c->rlen > c->rhigh)
		c->rhigh = c->rlen;
}

/*
 * conn_fill for an err that has failed already: the stream's words go to a scratch err,
 * and e keeps its first cause. NOINLINE: the common read does not carry its frame.
 */
static NOINLINE ssize_t
conn_fill_failed(struct conn *c)
{
	struct err le;
	ssize_t n;

	err_init(&le);
	n = c->s->ops->read(c->s, c->rbuf, sizeof(c->rbuf), &le);
	if (n == 0)
		c->eof = 1;
	else if (n > 0)
		conn_got(c, n);
	return n;
}

/* Refill the empty read buffer: >0, 0 at end of stream (err set), -1 (err set). */
static ssize_t
conn_fill(struct conn *c, struct err *e)
{
	ssize_t n;

	c->rpos = c->rlen = 0;
	if (conn_arm(c, 1, e) == -1)
		return -1;
	if (err_failed(e))
		return conn_fill_failed(c);
	/* e is clean: the stream's own error, if any, is the first and goes straight in. */
	n = c->s->ops->read(c->s, c->rbuf, sizeof(c->rbuf), e);
	if (n == 0) {
		c->eof = 1;
		err_set(e, ERR_TEMP, CAUSE_TEMP, "connection closed by %s", c->s->name);
	} else if (n > 0)
		conn_got(c, n);
	else
		conn_failed_in(c, 1, e);
	return n;
}

int
conn_wait_input(struct conn *c, int timeout_s, struct err *e)
{
	struct err le;
	int64_t rdeadline = c->rdeadline, at;
	ssize_t n;
	int rtimeout_s = c->rtimeout_s, ret = 1;

	if (c->rpos < c->rlen)
		goto out;
	/* A deadline of its own for this one read, then the conn's own again. */
	at = now_ms() + (int64_t)timeout_s * 1000;
	c->rdeadline = rdeadline != 0 && rdeadline < at ? rdeadline : at;
	c->rtimeout_s = timeout_s;
	err_init(&le);
	n = conn_fill(c, &le);
	c->rdeadline = rdeadline;
	c->rtimeout_s = rtimeout_s;
	if (n > 0)
		goto out;
	/* Nothing came by our deadline (and the session's has not passed): keep waiting. */
	if (n < 0 && !c->eof && now_ms() >= at && !conn_deadline_passed(c)) {
		ret = 0;
		goto out;
	}
	err_set(e, le.kind, le.cause, "%s", le.msg);
	ret = -1;
out:
	return ret;
}

/* conn_put for an err that has failed already (see conn_fill_failed). */
static NOINLINE int
conn_put_failed(struct conn *c, const void *p, size_t n)
{
	struct err le;

	err_init(&le);
	return c->s->ops->write(c->s, p, n, &le);
}

/* One write of the stream, under the session deadline. 0 or -1 (err set). */
static int
conn_put(struct conn *c, const void *p, size_t n, struct err *e)
{
	int ret = -1;

	if (conn_arm(c, 0, e) == -1)
		goto out;
	if (err_failed(e)) {
		ret = conn_put_failed(c, p, n);
		goto out;
	}
	if (c->s->ops->write(c->s, p, n, e) == -1) {
		conn_failed_in(c, 0, e);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

ssize_t
conn_readline(struct conn *c, char *line, size_t max, struct err *e)
{
	int crlf;

	return conn_readline_crlf(c, line, max, &crlf, e);
}

ssize_t
conn_readline_crlf(struct conn *c, char *line, size_t max, int *crlf, struct err *e)
{
	ssize_t ret = -1;
	size_t len = 0;
	int cr = 0;
	char ch;

	*crlf = 0;
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
	*crlf = cr;
	ret = (ssize_t)len;
	goto out;
toolong:
	/* Leave the byte that did not fit for the next read: nothing is lost. */
	c->rpos--;
	line[len] = '\0';
	err_set(e, ERR_PERM, CAUSE_PROTOCOL, "%s sent a line longer than %zu bytes", c->s->name,
	    max - 1);
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
		ret = conn_put(c, c->wbuf.data, c->wbuf.len, e);
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
			if (conn_put(c, s, n, e) == -1)
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
	explicit_bzero(c->rbuf, c->rhigh);
	c->rpos = c->rlen = c->rhigh = 0;
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

void
conn_set_deadline(struct conn *c, int64_t at_ms, const char *label)
{
	c->deadline = at_ms;
	snprintf(c->dlabel, sizeof(c->dlabel), "%s", label != NULL ? label : "");
	stream_set_deadline(c->s, conn_due(c, 0));
}

void
conn_read_within(struct conn *c, int timeout_s)
{
	c->rtimeout_s = timeout_s > 0 ? timeout_s : 0;
	c->rdeadline = timeout_s > 0 ? now_ms() + (int64_t)timeout_s * 1000 : 0;
	/* Between replies the stream keeps only the session's deadline (a TLS handshake). */
	if (c->rdeadline == 0)
		stream_set_deadline(c->s, c->deadline);
}

int
conn_deadline_passed(const struct conn *c)
{
	return c->deadline != 0 && now_ms() >= c->deadline;
}

void
stream_set_deadline(struct stream *s, int64_t at_ms)
{
	if (s->ops->deadline != NULL)
		s->ops->deadline(s, at_ms);
}

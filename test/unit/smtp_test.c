/*
 * smtp_test.c: the reply parser, and the SMTP engine driven against a scripted in-memory
 * server that records every write the client makes.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "smtp/smtp.h"
#include "net/stream.h"
#include "unit.h"

#define NSEGS 32
#define NWRITES 4096

/*
 * The fake server: each segment is one "packet" (a read never crosses into the next
 * one, so bytes sent together by a server arrive together); after the last, end of
 * stream. Every write call is recorded with its length.
 */
struct fake {
	struct stream s;
	const char *seg[NSEGS];
	size_t nseg, cur, pos;
	struct buf out;
	size_t nw;
	size_t wlen[NWRITES];
	int closed;
	int timeout;
};

static struct fake F;

static ssize_t
fake_read(struct stream *s, void *p, size_t n, struct err *e)
{
	struct fake *f = (struct fake *)s;
	size_t left;

	(void)e;
	if (f->cur == f->nseg)
		return 0;
	left = strlen(f->seg[f->cur]) - f->pos;
	if (n > left)
		n = left;
	memcpy(p, f->seg[f->cur] + f->pos, n);
	f->pos += n;
	if (f->pos == strlen(f->seg[f->cur])) {
		f->cur++;
		f->pos = 0;
	}
	return (ssize_t)n;
}

static int
fake_write(struct stream *s, const void *p, size_t n, struct err *e)
{
	struct fake *f = (struct fake *)s;

	(void)e;
	if (f->nw < NWRITES)
		f->wlen[f->nw] = n;
	f->nw++;
	return buf_add(&f->out, p, n);
}

static void
fake_close(struct stream *s)
{
	((struct fake *)s)->closed = 1;
}

static int
fake_timeout(struct stream *s, int t)
{
	struct fake *f = (struct fake *)s;
	int old = f->timeout;

	f->timeout = t;
	return old;
}

static const struct stream_ops fake_ops = {
	.read = fake_read,
	.write = fake_write,
	.close = fake_close,
	.timeout = fake_timeout,
};

/* Segments, NULL-terminated. */
static struct smtp *
session(int verbose, ...)
{
	struct smtp_opts o;
	va_list ap;
	const char *sg;

	buf_free(&F.out);
	memset(&F, 0, sizeof(F));
	F.s.ops = &fake_ops;
	F.s.name = "fake:25";
	F.timeout = 60;
	buf_init(&F.out, 64 * 1024 * 1024);
	va_start(ap, verbose);
	while ((sg = va_arg(ap, const char *)) != NULL && F.nseg < NSEGS)
		F.seg[F.nseg++] = sg;
	va_end(ap);
	memset(&o, 0, sizeof(o));
	o.helo = "client.example";
	o.verbose = verbose;
	return smtp_new(conn_new(&F.s), &o);
}

/* The bytes of write number i (0-based). */
static const char *
wr(size_t i, size_t *len)
{
	size_t off = 0, k;

	for (k = 0; k < i && k < F.nw; k++)
		off += F.wlen[k];
	if (len != NULL)
		*len = i < F.nw ? F.wlen[i] : 0;
	return F.out.data != NULL ? F.out.data + off : "";
}

static int
wr_is(size_t i, const char *want)
{
	size_t len;
	const char *p = wr(i, &len);

	if (i >= F.nw || len != strlen(want) || memcmp(p, want, len) != 0) {
		printf("#   write %zu: got \"%.*s\"\n#   want \"%s\"\n", i,
		    i < F.nw ? (int)len : 0, p, want);
		return 0;
	}
	return 1;
}

static int
spool(const void *data, size_t n)
{
	char path[] = "/tmp/smtp_test.XXXXXX";
	int fd;

	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		exit(2);
	}
	unlink(path);
	if (write(fd, data, n) != (ssize_t)n) {
		perror("write");
		exit(2);
	}
	return fd;
}

static void
env_init(struct smtp_envelope *env, char *const *rcpts, size_t n, size_t size)
{
	memset(env, 0, sizeof(*env));
	env->sender = "a@x.example";
	env->rcpts = rcpts;
	env->nrcpts = n;
	env->size = size;
}

#define GREET "220 mx.example ESMTP ready\r\n"
#define EHLO_P "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n"
#define EHLO_N "250-mx.example\r\n250 8BITMIME\r\n"
#define LOST "connection lost after the message was sent, before the server confirmed it"
#define MSG "Subject: t\r\n\r\nhello\r\n"

static char *two[] = { "b@y.example", "c@y.example" };

/* Greeting and EHLO with the given EHLO reply; 0 when both went well. */
static int
up(struct smtp *s)
{
	struct err e;

	err_init(&e);
	return smtp_greeting(s, &e) == 0 && smtp_ehlo(s, &e) == 0 ? 0 : -1;
}

static void
test_parser(void)
{
	const char *t = NULL;
	int code = 0, last = -1;
	char big[3000];

	CHECK(smtp_parse_reply_line("250 ok", 6, &code, &last, &t) == 0 && code == 250 &&
		last == 1 && strcmp(t, "ok") == 0,
	    "parse: '250 ok'");
	CHECK(smtp_parse_reply_line("250-PIPELINING", 14, &code, &last, &t) == 0 && code == 250 &&
		last == 0 && strcmp(t, "PIPELINING") == 0,
	    "parse: '250-' continues");
	CHECK(smtp_parse_reply_line("250", 3, &code, &last, &t) == 0 && code == 250 && last == 1 &&
		*t == '\0',
	    "parse: bare '250' is a last line");
	CHECK(smtp_parse_reply_line("354 ", 4, &code, &last, &t) == 0 && code == 354 &&
		last == 1 && *t == '\0',
	    "parse: '354 ' with empty text");
	CHECK(smtp_parse_reply_line("550 5.1.1 <x>: no", 17, &code, &last, &t) == 0 &&
		code == 550 && strcmp(t, "5.1.1 <x>: no") == 0,
	    "parse: enhanced code kept");
	CHECK(smtp_parse_reply_line("2500 x", 6, &code, &last, &t) == -1, "parse: '2500 x'");
	CHECK(smtp_parse_reply_line("25 x", 4, &code, &last, &t) == -1, "parse: '25 x'");
	CHECK(smtp_parse_reply_line("650 x", 5, &code, &last, &t) == -1, "parse: '650 x'");
	CHECK(smtp_parse_reply_line("150 x", 5, &code, &last, &t) == -1, "parse: '150 x'");
	CHECK(smtp_parse_reply_line("260 x", 5, &code, &last, &t) == -1,
	    "parse: second digit above 5");
	CHECK(smtp_parse_reply_line("250x", 4, &code, &last, &t) == -1, "parse: '250x'");
	CHECK(smtp_parse_reply_line("25a x", 5, &code, &last, &t) == -1, "parse: '25a x'");
	CHECK(smtp_parse_reply_line("", 0, &code, &last, &t) == -1, "parse: empty line");
	CHECK(smtp_parse_reply_line("hello", 5, &code, &last, &t) == -1, "parse: no code");
	memset(big, 'x', sizeof(big));
	memcpy(big, "250 ", 4);
	big[sizeof(big) - 1] = '\0';
	CHECK(smtp_parse_reply_line(big, strlen(big), &code, &last, &t) == 0 &&
		strlen(t) == sizeof(big) - 5,
	    "parse: a long line parses (length is the reader's)");
}

static void
test_conn(void)
{
	struct smtp *s;
	struct conn *c;
	struct err e;
	char line[8];
	int i, ok = 1;

	s = session(0, "ab\rc\r\nabcdefg\r\nabcdefgh\r\n", NULL);
	c = smtp_conn(s);
	err_init(&e);
	CHECK(conn_readline(c, line, sizeof(line), &e) == 4 && memcmp(line, "ab\rc", 5) == 0,
	    "conn: CRLF stripped, a bare CR kept");
	CHECK(conn_readline(c, line, sizeof(line), &e) == 7, "conn: a line of max-1 fits");
	CHECK(conn_readline(c, line, sizeof(line), &e) == -1 && e.kind == ERR_PERM &&
		e.cause == CAUSE_PROTOCOL,
	    "conn: a line of max bytes is a protocol error");
	for (i = 0; i < 1000; i++)
		ok &= conn_write(c, "0123456789", 10, &e) == 0;
	CHECK(ok && F.nw == 0, "conn: small writes are queued");
	CHECK(conn_flush(c, &e) == 0 && F.nw == 1 && F.wlen[0] == 10000,
	    "conn: flush sends the queue in one write");
	smtp_free(s);
	CHECK(F.closed, "conn: smtp_free closes the stream");
}

static void
test_ehlo(void)
{
	const struct smtp_caps *c;
	struct smtp *s;
	struct err e;
	int rc;

	s = session(0, GREET,
	    "250-mx.example hello\r\n250-pipelining\r\n250-SIZE 35882577\r\n"
	    "250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250-CHUNKING\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-AUTH PLAIN login xoauth2\r\n"
	    "250-AUTH=LOGIN CRAM-MD5\r\n250 HELP\r\n",
	    NULL);
	err_init(&e);
	CHECK(smtp_greeting(s, &e) == 0 &&
		strcmp(smtp_greeting_text(s), "mx.example ESMTP ready") == 0,
	    "greeting: 220 read");
	rc = smtp_ehlo(s, &e);
	c = smtp_caps(s);
	CHECK(rc == 0 && wr_is(0, "EHLO client.example\r\n"), "ehlo: EHLO sent");
	CHECK(c->esmtp && c->pipelining && c->eightbitmime && c->smtputf8 && c->dsn &&
		c->chunking && c->enhanced && c->starttls,
	    "ehlo: keywords, any case");
	CHECK(c->size && c->size_max == 35882577, "ehlo: SIZE and its limit");
	CHECK_STR(c->auth, "PLAIN LOGIN XOAUTH2 CRAM-MD5", "ehlo: AUTH and AUTH= merged, upper");
	smtp_free(s);

	s = session(0, "421 4.3.2 busy\r\n", NULL);
	err_init(&e);
	CHECK(smtp_greeting(s, &e) == -1 && e.kind == ERR_TEMP && e.cause == CAUSE_UNAVAILABLE &&
		e.code == 421,
	    "greeting: 421 is TEMP");
	smtp_free(s);
	s = session(0, "554 go away\r\n", NULL);
	err_init(&e);
	CHECK(smtp_greeting(s, &e) == -1 && e.kind == ERR_PERM && e.cause == CAUSE_UNAVAILABLE &&
		strcmp(e.reply, "554 go away") == 0,
	    "greeting: 554 is PERM, reply quoted");
	smtp_free(s);

	s = session(0, GREET, "502 5.5.1 what?\r\n", "250 hi\r\n", NULL);
	err_init(&e);
	CHECK(up(s) == 0 && wr_is(1, "HELO client.example\r\n") && !smtp_caps(s)->esmtp &&
		!smtp_caps(s)->pipelining,
	    "ehlo: 5xx falls back to HELO, no extensions");
	smtp_free(s);

	s = session(0, GREET, "421 4.7.0 later\r\n", NULL);
	err_init(&e);
	CHECK(smtp_greeting(s, &e) == 0 && smtp_ehlo(s, &e) == -1 && e.kind == ERR_TEMP &&
		F.nw == 1,
	    "ehlo: 4xx is TEMP, no HELO");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "250 mx.example\r\n", NULL);
	err_init(&e);
	CHECK(up(s) == 0 && smtp_caps(s)->pipelining && smtp_ehlo(s, &e) == 0 &&
		!smtp_caps(s)->pipelining && !smtp_caps(s)->size,
	    "ehlo: old caps forgotten");
	smtp_free(s);

	s = session(0, GREET, "250-mx.example\r\n251 oops\r\n", NULL);
	err_init(&e);
	CHECK(smtp_greeting(s, &e) == 0 && smtp_ehlo(s, &e) == -1 && e.kind == ERR_PERM &&
		e.cause == CAUSE_PROTOCOL &&
		strcmp(e.msg, "server sent a malformed reply: '251 oops'") == 0,
	    "reply: lines with different codes are a protocol error");
	smtp_free(s);

	s = session(0, "hello\x1b[2J\r\n", NULL);
	err_init(&e);
	CHECK(smtp_greeting(s, &e) == -1 && e.cause == CAUSE_PROTOCOL &&
		strcmp(e.msg, "server sent a malformed reply: 'hello?[2J'") == 0,
	    "reply: no code is malformed, quoted printable");
	smtp_free(s);
}

static void
test_limits(void)
{
	static char line[3100], many[200 * 8 + 16];
	struct smtp *s;
	struct err e;
	size_t i;

	memset(line, 'x', sizeof(line));
	memcpy(line, "220 ", 4);
	memcpy(line + sizeof(line) - 3, "\r\n", 3);
	s = session(0, line, NULL);
	err_init(&e);
	CHECK(smtp_greeting(s, &e) == -1 && e.kind == ERR_PERM && e.cause == CAUSE_PROTOCOL,
	    "reply: a line over MAX_REPLY_LINE is a protocol error");
	smtp_free(s);

	for (i = 0; i < 200; i++)
		memcpy(many + i * 8, "220-xx\r\n", 8);
	many[200 * 8] = '\0';
	s = session(0, many, "220 end\r\n", NULL);
	err_init(&e);
	CHECK(smtp_greeting(s, &e) == -1 && e.cause == CAUSE_PROTOCOL &&
		strstr(e.msg, "more than 128 lines") != NULL,
	    "reply: too many lines refused");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, NULL);
	err_init(&e);
	CHECK(up(s) == 0 && smtp_greeting(s, &e) == -1 && e.kind == ERR_TEMP &&
		e.cause == CAUSE_TEMP && strstr(e.msg, "connection closed by fake:25") != NULL,
	    "reply: end of stream is TEMP");
	smtp_free(s);
}

static void
test_starttls(void)
{
	struct smtp *s;
	struct err e;

	s = session(0, GREET, "250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
	    "220 2.0.0 go ahead\r\n250-injected\r\n", NULL);
	err_init(&e);
	CHECK(up(s) == 0 && smtp_starttls(s, &e) == -1 && e.kind == ERR_PERM &&
		e.cause == CAUSE_PROTOCOL && strstr(e.msg, "STARTTLS injection") != NULL,
	    "starttls: bytes after the 220 are an injection");
	CHECK(wr_is(1, "STARTTLS\r\n"), "starttls: STARTTLS sent");
	smtp_free(s);

	s = session(0, GREET, "250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
	    "220 2.0.0 go ahead\r\n", NULL);
	err_init(&e);
	CHECK(up(s) == 0 && smtp_starttls(s, &e) == 0 && !smtp_caps(s)->starttls &&
		!smtp_caps(s)->pipelining,
	    "starttls: 220 alone is fine, caps forgotten");
	smtp_free(s);

	s = session(0, GREET, "250 STARTTLS\r\n", "454 4.7.0 TLS not available\r\n", NULL);
	err_init(&e);
	CHECK(up(s) == 0 && smtp_starttls(s, &e) == -1 && e.kind == ERR_TEMP,
	    "starttls: 454 is TEMP");
	smtp_free(s);

	s = session(0, GREET, "250 STARTTLS\r\n", "502 no\r\n", NULL);
	err_init(&e);
	CHECK(up(s) == 0 && smtp_starttls(s, &e) == -1 && e.kind == ERR_PERM &&
		e.cause == CAUSE_UNAVAILABLE,
	    "starttls: 5xx is PERM");
	smtp_free(s);
}

/* 250 recipients: groups of at most 100 commands, so replies cannot pile up unread. */
static void
test_window(int fd)
{
	static char names[250][24], *rcpts[250], replies[252 * 8 + 32];
	static struct smtp_rcpt_status st[250];
	struct smtp_envelope env;
	struct smtp *s;
	struct err e;
	size_t i, len;
	int rc, ok = 1;

	for (i = 0; i < 250; i++) {
		snprintf(names[i], sizeof(names[i]), "r%zu@y.example", i);
		rcpts[i] = names[i];
	}
	for (i = 0; i < 251; i++)
		memcpy(replies + i * 8, "250 ok\r\n", 8);
	memcpy(replies + 251 * 8, "354 go\r\n250 queued\r\n", 21);
	env_init(&env, rcpts, 250, strlen(MSG));
	s = session(0, GREET, EHLO_P, replies, NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	for (i = 0; i < 250; i++)
		ok &= st[i].kind == ERR_OK;
	CHECK(rc == 0 && ok && F.nw == 5, "window: 250 recipients in three groups");
	wr(1, &len);
	CHECK(strncmp(wr(1, NULL), "MAIL FROM:", 10) == 0 &&
		memmem(wr(1, NULL), len, "r98@", 4) != NULL &&
		memmem(wr(1, NULL), len, "r99@", 4) == NULL &&
		strncmp(wr(2, NULL), "RCPT TO:<r99@", 13) == 0,
	    "window: MAIL and 99 RCPTs, then the next group");
	wr(3, &len);
	CHECK(len > 6 && memcmp(wr(3, NULL) + len - 6, "DATA\r\n", 6) == 0 &&
		wr_is(4, MSG ".\r\n"),
	    "window: DATA ends the last group");
	smtp_free(s);
}

static void
test_pipelined(void)
{
	struct smtp_rcpt_status st[2];
	struct smtp_envelope env;
	struct smtp *s;
	struct err e;
	int fd, rc;

	fd = spool(MSG, strlen(MSG));
	env_init(&env, two, 2, strlen(MSG));

	s = session(0, GREET, EHLO_P,
	    "250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n"
	    "354 go\r\n",
	    "250 2.0.0 queued as X\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == 0 && st[0].kind == ERR_OK && st[1].kind == ERR_OK && st[1].code == 250,
	    "send: accepted");
	CHECK(wr_is(1,
		  "MAIL FROM:<a@x.example> SIZE=21\r\nRCPT TO:<b@y.example>\r\n"
		  "RCPT TO:<c@y.example>\r\nDATA\r\n"),
	    "send: MAIL, RCPTs and DATA in one write");
	CHECK(wr_is(2, MSG ".\r\n") && F.nw == 3, "send: body and dot in one write");
	smtp_free(s);

	s = session(0, GREET, EHLO_P,
	    "250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n"
	    "354 go\r\n",
	    "250 queued\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == 0 && st[0].kind == ERR_OK && st[1].kind == ERR_PERM && st[1].code == 550 &&
		strcmp(st[1].reply, "550 5.1.1 no such user") == 0,
	    "send: one recipient refused, the other delivered");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "250 ok\r\n550 no a\r\n550 no b\r\n554 no rcpts\r\n",
	    "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_PERM && e.cause == CAUSE_NOUSER &&
		strcmp(e.reply, "550 no a") == 0 && st[1].code == 550,
	    "send: all refused is NOUSER");
	CHECK(wr_is(2, "RSET\r\n") && F.nw == 3, "send: RSET after the failed transaction");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "250 ok\r\n550 no a\r\n550 no b\r\n354 go\r\n",
	    "554 no valid recipients\r\n", "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.cause == CAUSE_NOUSER && wr_is(2, ".\r\n") && wr_is(3, "RSET\r\n"),
	    "send: a 354 with no recipient gets a lone dot");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "250 ok\r\n550 no a\r\n451 4.3.0 later\r\n554 no\r\n",
	    "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_TEMP && strcmp(e.reply, "451 4.3.0 later") == 0 &&
		st[0].kind == ERR_PERM && st[1].kind == ERR_TEMP,
	    "send: a 4xx among refusals is TEMP");
	smtp_free(s);

	s = session(0, GREET, EHLO_P,
	    "550 5.7.1 sender denied\r\n503 no MAIL\r\n"
	    "503 no MAIL\r\n503 no MAIL\r\n",
	    "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_PERM && e.cause == CAUSE_UNAVAILABLE &&
		st[0].code == 550 && strcmp(st[1].reply, "550 5.7.1 sender denied") == 0 &&
		wr_is(2, "RSET\r\n"),
	    "send: refused MAIL, all replies read, RSET");
	smtp_free(s);

	s = session(0, GREET, "250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", NULL);
	env.size = 5000;
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_PERM && e.cause == CAUSE_DATA && F.nw == 1 &&
		strcmp(e.msg,
		    "the message is too large for the relay (SIZE): 5000 bytes, the relay "
		    "accepts at most 1000") == 0 &&
		st[0].kind == ERR_PERM,
	    "send: over SIZE refused before MAIL");
	env.size = strlen(MSG);
	smtp_free(s);

	/* Headers can be downgraded (rfc2047.c); an 8-bit envelope address cannot. */
	s = session(0, GREET, EHLO_P, NULL);
	env.smtputf8 = 1;
	env.sender = "j\xc3\xb6rg@x.example";
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.cause == CAUSE_DATA && F.nw == 1 &&
		strcmp(e.msg,
		    "the relay does not support SMTPUTF8 and an envelope address is not ASCII") ==
		    0,
	    "send: SMTPUTF8 needed for the envelope and missing");
	env.smtputf8 = 0;
	env.sender = "a@x.example";
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n",
	    "452 4.3.1 full\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_TEMP && e.code == 452 && st[0].kind == ERR_TEMP &&
		st[0].code == 452 && F.nw == 3,
	    "send: 4xx after the dot is TEMP for everyone");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n",
	    "552 5.3.4 too big\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_PERM && e.cause == CAUSE_DATA &&
		strcmp(st[1].reply, "552 5.3.4 too big") == 0,
	    "send: 552 after the dot is DATA");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_TEMP && strncmp(e.msg, LOST, strlen(LOST)) == 0 &&
		st[0].kind == ERR_TEMP,
	    "send: lost before the final reply is TEMP");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "250 ok\r\n421 4.4.2 bye\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_TEMP && e.code == 421 && F.nw == 2,
	    "send: 421 ends the session, no RSET");
	smtp_free(s);

	test_window(fd);
	close(fd);
}

static void
test_plain(void)
{
	static char *bad[] = { "b@y.example", "evil@y>\r\nRSET", "c@y.example" };
	struct smtp_rcpt_status st[3];
	struct smtp_envelope env;
	struct smtp *s;
	struct err e;
	int fd, rc;

	fd = spool(MSG, strlen(MSG));
	env_init(&env, bad, 3, strlen(MSG));
	env.body_8bit = 1;
	env.dsn_notify = "FAILURE,DELAY";
	env.dsn_ret = "HDRS";
	env.dsn_envid = "id+1 x";
	s = session(0, GREET, "250-mx\r\n250-DSN\r\n250 8BITMIME\r\n", "250 ok\r\n", "250 ok\r\n",
	    "250 ok\r\n", "354 go\r\n", "250 queued\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == 0 &&
		wr_is(1,
		    "MAIL FROM:<a@x.example> BODY=8BITMIME RET=HDRS "
		    "ENVID=id+2B1+20x\r\n"),
	    "plain: MAIL alone, with BODY, RET, ENVID (xtext)");
	CHECK(wr_is(2, "RCPT TO:<b@y.example> NOTIFY=FAILURE,DELAY\r\n") &&
		wr_is(3, "RCPT TO:<c@y.example> NOTIFY=FAILURE,DELAY\r\n") && wr_is(4, "DATA\r\n"),
	    "plain: one command per write, unsafe address skipped");
	CHECK(st[1].kind == ERR_PERM && st[1].code == 0 && st[0].kind == ERR_OK &&
		st[2].kind == ERR_OK,
	    "plain: the skipped address is refused, the others sent");
	smtp_free(s);

	env_init(&env, bad, 1, strlen(MSG));
	s = session(0, GREET, EHLO_N, "553 5.1.8 bad sender\r\n", "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_PERM && e.cause == CAUSE_UNAVAILABLE && F.nw == 3 &&
		wr_is(2, "RSET\r\n"),
	    "plain: refused MAIL stops at once");
	smtp_free(s);

	s = session(0, GREET, EHLO_N, "250 ok\r\n", "250 ok\r\n", "554 5.7.1 no\r\n",
	    "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_PERM && e.cause == CAUSE_DATA && st[0].code == 554 &&
		wr_is(4, "RSET\r\n"),
	    "plain: DATA refused is DATA");
	smtp_free(s);
	close(fd);
}

/* The reference: what the wire must carry for a spool of n bytes. */
static size_t
stuff(const char *in, size_t n, char *out)
{
	size_t i, o = 0;
	int bol = 1;

	for (i = 0; i < n; i++) {
		if (bol && in[i] == '.')
			out[o++] = '.';
		out[o++] = in[i];
		bol = in[i] == '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

static void
test_body(void)
{
	struct smtp_rcpt_status st[1];
	struct smtp_envelope env;
	struct smtp *s;
	struct err e;
	char *rc1[] = { "b@y.example" };
	char *msg, *want;
	size_t n, k, i, body, total, wl;
	int fd, rc, ok;

	/* Block 1 ends on a line end, block 2 starts with a dot; block 3 starts mid-line. */
	msg = malloc(3 * 65536);
	want = malloc(4 * 65536);
	n = 0;
	memcpy(msg, ".first\r\n", 8);
	n = 8;
	memset(msg + n, 'a', 65536 - 2 - n);
	n = 65534;
	memcpy(msg + n, "\r\n", 2);
	n += 2;
	memcpy(msg + n, ".second\r\n", 9);
	n += 9;
	memset(msg + n, 'b', 2 * 65536 - n);
	n = 2 * 65536;
	k = strlen(".mid-line\r\n.\r\n..two\r\nend\r\n");
	memcpy(msg + n, ".mid-line\r\n.\r\n..two\r\nend\r\n", k);
	n += k;
	fd = spool(msg, n);
	env_init(&env, rc1, 1, n);
	s = session(0, GREET, EHLO_P, "250 ok\r\n250 ok\r\n354 go\r\n", "250 queued\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	total = stuff(msg, n, want);
	body = F.out.len - (size_t)(wr(2, NULL) - F.out.data);
	CHECK(rc == 0 && body == total && memcmp(wr(2, NULL), want, total) == 0,
	    "body: dot-stuffing across 64 KiB blocks");
	smtp_free(s);
	close(fd);

	/* 192 KiB of 78-character lines, every tenth starting with a dot. */
	for (i = 0; i + 80 <= 3 * 65536; i += 80) {
		memset(msg + i, 'x', 78);
		msg[i] = i % 800 == 0 ? '.' : 'x';
		memcpy(msg + i + 78, "\r\n", 2);
	}
	n = i;
	fd = spool(msg, n);
	env_init(&env, rc1, 1, n);
	s = session(0, GREET, EHLO_P, "250 ok\r\n250 ok\r\n354 go\r\n", "250 queued\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	ok = rc == 0 && F.nw >= 4;
	for (i = 2; ok && i + 1 < F.nw; i++) {
		wr(i, &wl);
		ok = wl >= 65536;
	}
	CHECK(ok, "body: every write but the last is >= 64 KiB");
	total = stuff(msg, n, want);
	CHECK(F.nw == 2 + (total + 65535) / 65536, "body: as few writes as 64 KiB allow");
	smtp_free(s);
	close(fd);

	/* BDAT, pipelined with the envelope: raw bytes, no stuffing, one write. */
	fd = spool(".dot\r\n" MSG, strlen(".dot\r\n" MSG));
	env_init(&env, rc1, 1, strlen(".dot\r\n" MSG));
	s = session(0, GREET, "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n",
	    "250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == 0 && F.nw == 2 &&
		wr_is(1,
		    "MAIL FROM:<a@x.example>\r\n"
		    "RCPT TO:<b@y.example>\r\nBDAT 27 LAST\r\n.dot\r\n" MSG),
	    "bdat: envelope, BDAT and raw message in one write");
	smtp_free(s);

	s = session(0, GREET, "250-mx\r\n250 CHUNKING\r\n", "250 ok\r\n", "250 ok\r\n",
	    "250 2.0.0 queued\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == 0 && F.nw == 4 && wr_is(3, "BDAT 27 LAST\r\n.dot\r\n" MSG) &&
		st[0].kind == ERR_OK,
	    "bdat: without PIPELINING after the RCPT reply");
	smtp_free(s);
	close(fd);
	free(msg);
	free(want);
}

/* stderr into a temporary file while the engine traces, for the -v tests. */
struct capture {
	int fd;
	int saved;
};

static void
capture_start(struct capture *c)
{
	char path[] = "/tmp/smtp_test_v.XXXXXX";

	if ((c->fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		exit(2);
	}
	unlink(path);
	fflush(stderr);
	c->saved = dup(2);
	dup2(c->fd, 2);
}

/* stderr back; what was traced into log, NUL-terminated. */
static void
capture_end(struct capture *c, char *log, size_t size)
{
	ssize_t n;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	n = pread(c->fd, log, size - 1, 0);
	log[n > 0 ? n : 0] = '\0';
	close(c->fd);
}

static void
test_verbose(void)
{
	struct smtp_rcpt_status st[1];
	struct smtp_envelope env;
	struct smtp_reply r;
	struct smtp *s;
	struct err e;
	struct capture cap;
	char log[4096];
	char *rc1[] = { "b@y.example" };
	int sp;

	capture_start(&cap);
	sp = spool(MSG, strlen(MSG));
	env_init(&env, rc1, 1, strlen(MSG));
	s = session(1, GREET, "250-mx\r\n250 AUTH PLAIN LOGIN\r\n", "334 \r\n", "235 2.7.0 ok\r\n",
	    "334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n", "235 ok\r\n", "250 ok\r\n",
	    "250 ok\r\n", "354 go\r\n", "250 queued\r\n", NULL);
	err_init(&e);
	CHECK(up(s) == 0 && smtp_cmd(s, "AUTH PLAIN AGpvZQBzZWNyZXQ=", 1, &r, &e) == 0 &&
		r.code == 334 && smtp_cmd(s, "AGpvZQBzZWNyZXQ=", 1, &r, &e) == 0 && r.code == 235,
	    "verbose: AUTH exchange through smtp_cmd");
	CHECK(smtp_cmd(s, "AUTH LOGIN", 1, &r, &e) == 0 && smtp_cmd(s, "am9l", 1, &r, &e) == 0 &&
		smtp_cmd(s, "c2VjcmV0", 1, &r, &e) == 0 && r.code == 235,
	    "verbose: AUTH LOGIN exchange");
	CHECK(smtp_send(s, &env, sp, st, &e) == 0, "verbose: message sent");
	smtp_quit(s);
	capture_end(&cap, log, sizeof(log));
	CHECK(strstr(log, "--> AUTH PLAIN <redacted>\n") != NULL &&
		strstr(log, "--> AUTH LOGIN\n") != NULL &&
		strstr(log, "--> <redacted>\n--> <redacted>\n") == NULL &&
		strstr(log, "<-- 334 VXNlcm5hbWU6\n--> <redacted>\n<-- 334 UGFzc3dvcmQ6\n") !=
		    NULL,
	    "verbose: AUTH lines redacted, mechanism kept");
	CHECK(strstr(log, "AGpvZQ") == NULL && strstr(log, "c2VjcmV0") == NULL &&
		strstr(log, "am9l") == NULL,
	    "verbose: no secret in the transcript");
	CHECK(memmem(F.out.data, F.out.len, "AUTH PLAIN AGpvZQBzZWNyZXQ=\r\n", 29) != NULL,
	    "verbose: the wire still carries it");
	CHECK(strstr(log, "--> EHLO client.example\n<-- 250-mx\n<-- 250 AUTH PLAIN LOGIN\n") !=
		    NULL &&
		strstr(log, "--> (message body: 21 bytes)\n--> .\n<-- 250 queued\n") != NULL &&
		strstr(log, "hello") == NULL,
	    "verbose: commands, replies, no body lines");
	CHECK(strstr(log, "--> QUIT\n") != NULL && F.timeout == 60,
	    "quit: QUIT sent, timeout restored");
	smtp_free(s);
	close(sp);
}

/* Our words say what was refused, and the server's reply is quoted whole, apart. */
static void
test_words(void)
{
	struct smtp_rcpt_status st[2];
	struct smtp_envelope env;
	struct smtp *s;
	struct err e;
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];
	int fd, rc;

	fd = spool(MSG, strlen(MSG));
	env_init(&env, two, 2, strlen(MSG));

	s = session(0, "554-5.3.2 no SMTP service here\r\n554 5.3.2 go away\r\n", NULL);
	err_init(&e);
	CHECK(smtp_greeting(s, &e) == -1 && e.kind == ERR_PERM &&
		strcmp(err_str(&e, line, sizeof(line)),
		    "the relay refused the connection: server "
		    "said: 554 5.3.2 no SMTP service here 5.3.2 go away") == 0,
	    "words: a 5xx greeting quoted whole, every line");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "550 5.7.1 sender denied\r\n503 no\r\n503 no\r\n354 go\r\n",
	    "250 ok\r\n", "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.cause == CAUSE_UNAVAILABLE &&
		strcmp(e.msg, "the relay refused the sender <a@x.example>") == 0 &&
		strcmp(e.reply, "550 5.7.1 sender denied") == 0,
	    "words: a refused sender");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "552 5.3.4 too big\r\n503 no\r\n503 no\r\n503 no\r\n",
	    "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_PERM && e.cause == CAUSE_DATA &&
		strcmp(e.msg,
		    "the message is too large for the relay (SIZE): 21 bytes, "
		    "the relay accepts at most "
		    "1000000") == 0 &&
		e.code == 552,
	    "words: 552 to MAIL is the size, both sizes");
	smtp_free(s);

	s = session(0, GREET, EHLO_N, "250 ok\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n",
	    "554-5.3.4 message too big\r\n554 5.3.4 for this system\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.cause == CAUSE_DATA &&
		strcmp(e.msg,
		    "the message is too large "
		    "for the relay (SIZE): 21 bytes; the relay announced no limit") == 0 &&
		strcmp(e.reply, "554 5.3.4 message too big 5.3.4 for this system") == 0,
	    "words: 5.3.4 after the data is the size; no SIZE announced");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "250 ok\r\n550 5.1.1 no b\r\n550 5.1.1 no c\r\n554 no\r\n",
	    "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 &&
		strcmp(e.msg,
		    "the relay refused all 2 recipients (<b@y.example> "
		    "first)") == 0 &&
		strcmp(e.reply, "550 5.1.1 no b") == 0,
	    "words: every recipient refused, the first named");
	smtp_free(s);

	s = session(0, GREET, EHLO_P,
	    "250 ok\r\n550 5.1.1 no b\r\n451 4.3.0 later c\r\n"
	    "554 no\r\n",
	    "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.kind == ERR_TEMP &&
		strcmp(e.msg,
		    "the relay refused 1 of 2 "
		    "recipients (<c@y.example> first) for now") == 0,
	    "words: some refused for now");
	smtp_free(s);

	env.nrcpts = 1;
	s = session(0, GREET, EHLO_P, "250 ok\r\n550 5.1.1 no b\r\n554 no\r\n", "250 reset\r\n",
	    NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.cause == CAUSE_NOUSER &&
		strcmp(e.msg, "the relay refused the recipient <b@y.example>") == 0,
	    "words: the one recipient refused, named");
	smtp_free(s);

	s = session(0, GREET, EHLO_N, "250 ok\r\n", "250 ok\r\n", "554 5.7.1 no thanks\r\n",
	    "250 reset\r\n", NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.cause == CAUSE_DATA &&
		strcmp(e.msg, "the relay refused the message (at DATA)") == 0,
	    "words: the message refused at DATA");
	smtp_free(s);

	s = session(0, GREET, EHLO_P, "250 ok\r\n250 ok\r\n354 go\r\n", "554 5.7.1 spam\r\n",
	    NULL);
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.cause == CAUSE_DATA && e.kind == ERR_PERM &&
		strcmp(e.msg, "the relay refused the message") == 0 &&
		strcmp(e.reply, "554 5.7.1 spam") == 0,
	    "words: the message refused at its end");
	smtp_free(s);

	/* Headers are the caller's to downgrade (deliver.c): not done, nothing is sent. */
	s = session(0, GREET, EHLO_P, NULL);
	env.smtputf8 = 1;
	err_init(&e);
	rc = up(s) == 0 ? smtp_send(s, &env, fd, st, &e) : -9;
	CHECK(rc == -1 && e.cause == CAUSE_DATA && F.nw == 1 &&
		strcmp(e.msg,
		    "the relay does "
		    "not support SMTPUTF8 and the message's headers need it") == 0 &&
		st[0].kind == ERR_PERM,
	    "words: 8-bit headers not downgraded, nothing sent");
	CHECK(smtp_envelope_ascii(&env) == 1, "envelope: ASCII");
	env.sender = "j\xc3\xb6rg@x.example";
	CHECK(smtp_envelope_ascii(&env) == 0, "envelope: an 8-bit sender is not ASCII");
	smtp_free(s);
	close(fd);
}

/* Secrets the session sent never come back in a reply, whatever the relay echoes. */
static void
test_secrets(void)
{
	struct smtp_rcpt_status st[1];
	struct smtp_envelope env;
	struct smtp_reply r;
	struct smtp *s;
	struct err e;
	struct capture cap;
	char text[64], log[4096];
	char *rc1[] = { "b@y.example" };
	int sp;

	capture_start(&cap);
	sp = spool(MSG, strlen(MSG));
	env_init(&env, rc1, 1, strlen(MSG));
	s = session(1, GREET, "250-mx\r\n250 AUTH PLAIN LOGIN\r\n",
	    "535-5.7.8 you sent AGpvZQBzZWNyZXQ=\r\n535 5.7.8 bad (s3cret.pw)\r\n",
	    "334 VXNlcm5hbWU6\r\n", "334 am9l: UGFzc3dvcmQ6\r\n",
	    "535 5.7.8 c2VjcmV0 is not s3cret.pw\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n",
	    "250 queued s3cret.pw\r\n", "hello s3cret.pw\r\n", NULL);
	err_init(&e);
	CHECK(up(s) == 0 && smtp_secret(s, "s3cret.pw", &e) == 0 && smtp_secret(s, "=", &e) == 0 &&
		smtp_secret(s, "*", &e) == 0 && smtp_secret(s, "", &e) == 0,
	    "secrets: kept");
	CHECK(smtp_cmd(s, "AUTH PLAIN AGpvZQBzZWNyZXQ=", 1, &r, &e) == 0 && r.code == 535 &&
		strcmp(r.text, "5.7.8 you sent <redacted>\n5.7.8 bad (<redacted>)") == 0,
	    "secrets: the AUTH line's response and the password cut out of the reply");
	CHECK(smtp_cmd(s, "AUTH LOGIN", 1, &r, &e) == 0 && smtp_cmd(s, "am9l", 1, &r, &e) == 0 &&
		strcmp(r.text, "<redacted>: UGFzc3dvcmQ6") == 0 &&
		smtp_cmd(s, "c2VjcmV0", 1, &r, &e) == 0 && r.code == 535 &&
		strcmp(r.text, "5.7.8 <redacted> is not <redacted>") == 0,
	    "secrets: each LOGIN step cut out of later replies");
	CHECK(smtp_send(s, &env, sp, st, &e) == 0 &&
		strcmp(smtp_accepted_reply(s), "250 queued <redacted>") == 0,
	    "secrets: and of a transaction's replies");
	err_init(&e);
	CHECK(smtp_greeting(s, &e) == -1 && e.cause == CAUSE_PROTOCOL &&
		strcmp(e.msg, "server sent a malformed reply: 'hello <redacted>'") == 0,
	    "secrets: a malformed line is quoted scrubbed");
	smtp_free(s);
	capture_end(&cap, log, sizeof(log));
	CHECK(strstr(log, "s3cret") == NULL && strstr(log, "AGpvZQ") == NULL &&
		strstr(log, "c2VjcmV0") == NULL && strstr(log, "am9l") == NULL &&
		strstr(log, "<-- 535-5.7.8 you sent <redacted>\n") != NULL,
	    "secrets: none in the transcript");
	close(sp);

	/* The code is never touched, overlapping secrets go whole, a full buffer cuts. */
	s = session(0, GREET, "250 abc250def 250\r\n", NULL);
	err_init(&e);
	CHECK(smtp_secret(s, "250", &e) == 0 && up(s) == 0 && smtp_caps(s)->esmtp,
	    "secrets: a secret that looks like the code");
	snprintf(text, sizeof(text), "xxabcdefghyy");
	CHECK(smtp_secret(s, "abcdef", &e) == 0 && smtp_secret(s, "cdefgh", &e) == 0,
	    "secrets: two that overlap");
	smtp_scrub(s, text, sizeof(text));
	CHECK_STR(text, "xx<redacted>yy", "secrets: overlapping secrets cut out whole");
	snprintf(text, sizeof(text), "abcdef");
	smtp_scrub(s, text, 8);
	CHECK_STR(text, "", "secrets: no room for the mark: nothing of the secret");
	smtp_free(s);
}

int
main(void)
{
	test_parser();
	test_conn();
	test_ehlo();
	test_limits();
	test_starttls();
	test_pipelined();
	test_plain();
	test_body();
	test_verbose();
	test_words();
	test_secrets();
	buf_free(&F.out);
	UNIT_DONE();
}

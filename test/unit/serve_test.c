/*
 * serve_test.c: the -bs SMTP server dialogue, driven by scripted clients: a memory
 * stream that hands out input in chosen pieces and records every write, and a real
 * socketpair through fdstream_new for time-outs.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "smtp/serve.h"
#include "net/fdstream.h"
#include "net/stream.h"
#include "unit.h"
#include "base/clock.h"
#include "base/mem.h"

#define HOST "test.host"

/* A stream whose input is a list of pieces (one read never crosses a piece). */
struct mstream {
	struct stream s;
	const char *const *pieces;
	size_t npieces;
	size_t piece;
	size_t pos;
	struct buf *out;
	int *nwrites;
};

static ssize_t
m_read(struct stream *s, void *p, size_t n, struct err *e)
{
	struct mstream *m = (struct mstream *)s;
	size_t left;

	while (m->piece < m->npieces && m->pos == strlen(m->pieces[m->piece])) {
		m->piece++;
		m->pos = 0;
	}
	if (m->piece == m->npieces) {
		err_set(e, ERR_TEMP, CAUSE_TEMP, "connection closed by test");
		return 0;
	}
	left = strlen(m->pieces[m->piece]) - m->pos;
	if (n > left)
		n = left;
	memcpy(p, m->pieces[m->piece] + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int
m_write(struct stream *s, const void *p, size_t n, struct err *e)
{
	struct mstream *m = (struct mstream *)s;

	(void)e;
	(*m->nwrites)++;
	return buf_add(m->out, p, n);
}

static void
m_close(struct stream *s)
{
	free(s);
}

static const struct stream_ops m_ops = { m_read, m_write, m_close, NULL, NULL };

/* What the stub submit callback saw, and what it answers. */
struct stub {
	int calls;
	char sender[256];
	char rcpts[1024];
	char notify[256];
	char orcpt[256];
	struct buf msg;
	struct serve_params p;
	char envid[128];
	char ret[16];
	char helo[256];
	int unlinked; /* the file had no name left */
	int mode;
	int code; /* answer */
	const char *text;
	int rc;
};

static int
stub_submit(void *ctx, const char *sender, char *const *rcpts, size_t nrcpts, int fd,
    const struct serve_params *p, struct serve_result *res)
{
	struct stub *st = ctx;
	struct stat sb;
	char block[4096];
	ssize_t n;
	size_t i;

	st->calls++;
	snprintf(st->sender, sizeof(st->sender), "%s", sender);
	st->rcpts[0] = st->notify[0] = st->orcpt[0] = '\0';
	for (i = 0; i < nrcpts; i++) {
		snprintf(st->rcpts + strlen(st->rcpts), sizeof(st->rcpts) - strlen(st->rcpts),
		    "%s%s", i ? "," : "", rcpts[i]);
		snprintf(st->notify + strlen(st->notify), sizeof(st->notify) - strlen(st->notify),
		    "%s%s", i ? "|" : "", p->dsn_notify[i] ? p->dsn_notify[i] : "-");
		snprintf(st->orcpt + strlen(st->orcpt), sizeof(st->orcpt) - strlen(st->orcpt),
		    "%s%s", i ? "|" : "", p->dsn_orcpt[i] ? p->dsn_orcpt[i] : "-");
	}
	st->p = *p;
	snprintf(st->envid, sizeof(st->envid), "%s", p->dsn_envid ? p->dsn_envid : "-");
	snprintf(st->ret, sizeof(st->ret), "%s", p->dsn_ret ? p->dsn_ret : "-");
	snprintf(st->helo, sizeof(st->helo), "%s", p->helo);
	if (fstat(fd, &sb) == 0) {
		st->unlinked = sb.st_nlink == 0;
		st->mode = (int)(sb.st_mode & 07777);
	}
	buf_reset(&st->msg);
	while ((n = read(fd, block, sizeof(block))) > 0)
		MUST(buf_add(&st->msg, block, (size_t)n));
	res->code = st->code;
	snprintf(res->text, sizeof(res->text), "%s", st->text);
	return st->rc;
}

static void
stub_rcpt(void *ctx, const char *rcpt, struct serve_result *res)
{
	(void)ctx;
	if (strncmp(rcpt, "nobody", 6) == 0) {
		res->code = 550;
		snprintf(res->text, sizeof(res->text), "5.1.1 <%s>: alias loop", rcpt);
	} else
		res->code = 250;
}

static char tmpdir[] = "/tmp/serve_test.XXXXXX";

struct run {
	struct buf out;
	int nwrites;
	int rc;
	struct err e;
};

static void
opts_init(struct serve_opts *o, struct stub *st)
{
	memset(o, 0, sizeof(*o));
	o->hostname = HOST;
	o->tmp_dir = tmpdir;
	o->submit = stub_submit;
	o->ctx = st;
	o->timeout_s = 0;
}

static void
stub_init(struct stub *st)
{
	memset(st, 0, sizeof(*st));
	buf_init(&st->msg, 4 * 1024 * 1024);
	st->code = 250;
	st->text = "2.0.0 Ok: queued as Q1";
}

/* Run one session over the pieces; r->out holds everything the server wrote. */
static void
run_pieces(struct run *r, const struct serve_opts *o, const char *const *pieces, size_t n)
{
	struct mstream *m = xcalloc(1, sizeof(*m));
	struct conn *c;

	buf_init(&r->out, 4 * 1024 * 1024);
	r->nwrites = 0;
	err_init(&r->e);
	m->s.ops = &m_ops;
	m->s.name = "test client";
	m->pieces = pieces;
	m->npieces = n;
	m->out = &r->out;
	m->nwrites = &r->nwrites;
	c = conn_new(&m->s);
	r->rc = serve_run(c, o, &r->e);
	conn_free(c);
}

static void
run1(struct run *r, const struct serve_opts *o, const char *script)
{
	const char *pieces[1];

	pieces[0] = script;
	run_pieces(r, o, pieces, 1);
}

static int
has(const struct run *r, const char *s)
{
	return strstr(r->out.data ? r->out.data : "", s) != NULL;
}

static int
dir_empty(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n == 0;
}

static void
test_symfony(void)
{
	static const char *const pieces[] = {
		"HELO localhost\r\n",
		"MAIL FROM:<app@example.org>\r\n",
		"RCPT TO:<alice@example.com>\r\n",
		"DATA\r\n",
		("Subject: hi\r\nFrom: app@example.org\r\n\r\nbody\r\n..leading dot\r\n"
		 "...two\r\n. \r\n.\r\n"),
		"QUIT\r\n",
	};
	struct serve_opts o;
	struct stub st;
	struct run r;

	stub_init(&st);
	opts_init(&o, &st);
	run_pieces(&r, &o, pieces, 6);
	CHECK(r.rc == 0, "symfony session ends with 0");
	CHECK_STR(r.out.data,
	    "220 " HOST " ESMTP mailout\r\n"
	    "250 " HOST " Hello localhost\r\n"
	    "250 2.1.0 Ok\r\n"
	    "250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as Q1\r\n"
	    "221 2.0.0 " HOST " closing connection\r\n",
	    "symfony transcript (HELO)");
	CHECK(st.calls == 1, "one message submitted");
	CHECK_STR(st.sender, "app@example.org", "sender passed");
	CHECK_STR(st.rcpts, "alice@example.com", "recipient passed");
	CHECK_STR(st.msg.data,
	    "Subject: hi\r\nFrom: app@example.org\r\n\r\nbody\r\n"
	    ".leading dot\r\n..two\r\n \r\n",
	    "message dot-unstuffed, CRLF lines");
	CHECK_STR(st.helo, "localhost", "helo name passed");
	CHECK(st.p.esmtp == 0, "HELO is not ESMTP");
	CHECK(st.unlinked, "message file has no name while submitted");
	CHECK(st.mode == 0600, "message file is 0600");
	CHECK(r.nwrites == 7, "lock-step client: every reply flushed");
	CHECK(dir_empty(), "nothing left in the temp dir");
	buf_free(&r.out);
	buf_free(&st.msg);
}

static void
test_ehlo_pipelined(void)
{
	static const char *const pieces[] = {
		"EHLO client.example\r\n",
		"MAIL FROM:<a@x.org> SIZE=120 BODY=8BITMIME SMTPUTF8 RET=hdrs ENVID=id+2B1\r\n"
		"RCPT TO:<b@y.org> NOTIFY=success,failure ORCPT=rfc822;b+40y.org\r\n"
		"RCPT TO:<@relay1,@relay2:c@y.org>\r\n"
		"RCPT TO:<b@y.org>\r\n"
		"DATA\r\n",
		("line 1\nline 2\r\n.\r\n"
		 "MAIL FROM:<>\r\nRCPT TO:<root>\r\nDATA\r\n"),
		"x\r\n.\r\nRSET\r\nMAIL FROM:<q@x.org>\r\nRSET\r\nDATA\r\nQUIT\r\n",
	};
	struct serve_opts o;
	struct stub st;
	struct run r;

	stub_init(&st);
	opts_init(&o, &st);
	o.max_size = 1000000;
	run_pieces(&r, &o, pieces, 4);
	CHECK(r.rc == 0, "pipelined session ends with 0");
	CHECK_STR(r.out.data,
	    "220 " HOST " ESMTP mailout\r\n"
	    "250-" HOST " Hello client.example\r\n"
	    "250-PIPELINING\r\n"
	    "250-8BITMIME\r\n"
	    "250-SIZE 1000000\r\n"
	    "250-DSN\r\n"
	    "250-SMTPUTF8\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n"
	    "250 HELP\r\n"
	    "250 2.1.0 Ok\r\n"
	    "250 2.1.5 Ok\r\n"
	    "250 2.1.5 Ok\r\n"
	    "250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as Q1\r\n"
	    "250 2.1.0 Ok\r\n"
	    "250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as Q1\r\n"
	    "250 2.0.0 Ok\r\n"
	    "250 2.1.0 Ok\r\n"
	    "250 2.0.0 Ok\r\n"
	    "503 5.5.1 Error: need MAIL command\r\n"
	    "221 2.0.0 " HOST " closing connection\r\n",
	    "EHLO, pipelining, two transactions");
	/* greeting, EHLO, batch up to 354, batch up to 354, the rest at QUIT */
	CHECK(r.nwrites == 5, "pipelined replies leave in one write per batch");
	if (r.nwrites != 5)
		printf("# writes: %d\n", r.nwrites);
	CHECK(st.calls == 2, "two messages submitted");
	CHECK_STR(st.sender, "", "null sender of the second message");
	CHECK_STR(st.rcpts, "root", "bare local recipient accepted");
	CHECK_STR(st.msg.data, "x\r\n", "second message");
	buf_free(&r.out);
	buf_free(&st.msg);

	/* The first transaction's details. */
	stub_init(&st);
	run1(&r, &o,
	    "EHLO c\r\nMAIL FROM:<a@x.org> SIZE=120 BODY=8BITMIME SMTPUTF8 "
	    "RET=hdrs ENVID=id+2B1\r\nRCPT TO:<b@y.org> NOTIFY=success,failure "
	    "ORCPT=rfc822;b+40y.org\r\nRCPT TO:<@r1,@r2:c@y.org>\r\nRCPT TO:<b@y.org>\r\n"
	    "DATA\r\nline 1\nline 2\r\n.\r\nQUIT\r\n");
	CHECK_STR(st.rcpts, "b@y.org,c@y.org", "source route dropped, duplicate RCPT once");
	CHECK_STR(st.msg.data, "line 1\r\nline 2\r\n", "LF-only lines become CRLF");
	CHECK(st.p.size == 120 && st.p.body_8bit && st.p.smtputf8 && st.p.esmtp,
	    "SIZE, BODY, SMTPUTF8 passed");
	CHECK_STR(st.ret, "HDRS", "RET upper-cased");
	CHECK_STR(st.envid, "id+1", "ENVID xtext-decoded");
	CHECK_STR(st.notify, "SUCCESS,FAILURE|-", "NOTIFY per recipient");
	CHECK_STR(st.orcpt, "rfc822;b+40y.org|-", "ORCPT per recipient");
	buf_free(&r.out);
	buf_free(&st.msg);
}

static void
test_errors(void)
{
	struct serve_opts o;
	struct stub st;
	struct run r;
	char *longline;

	stub_init(&st);
	opts_init(&o, &st);
	o.max_rcpts = 2;
	o.max_size = 500;
	o.check_rcpt = stub_rcpt;
	longline = xmalloc(3100);
	memset(longline, 'A', 3000);
	memcpy(longline, "NOOP ", 5);
	memcpy(longline + 3000, "\r\nNOOP\r\n", 9);
	run1(&r, &o,
	    "FOO bar\r\nRCPT TO:<a@b.org>\r\nDATA\r\nMAIL FROM:<a@b.org> FOO=1\r\n"
	    "MAIL FROM:<a@b.org> SIZE=501\r\nMAIL FROM:<a b@c.org>\r\nMAIL FROM:<a@b.org\r\n"
	    "MAIL FROM:<a@b.org>\r\nMAIL FROM:<a@b.org>\r\nDATA\r\nRCPT TO:<>\r\n"
	    "RCPT TO:<nobody@b.org>\r\nRCPT TO:<x@b.org> NOTIFY=NEVER,DELAY\r\n"
	    "RCPT TO:<x@b.org> BAR=1\r\n"
	    "RCPT TO:<r1@b.org>\r\nRCPT TO:<r2@b.org>\r\nRCPT TO:<r3@b.org>\r\n"
	    "VRFY root\r\nHELP\r\nNOOP\r\nEXPN root\r\nSTARTTLS\r\n\r\nHELO\r\n"
	    "DATA extra\r\nQUIT\r\n");
	CHECK(has(&r, "220 " HOST " ESMTP mailout\r\n500 5.5.2 Error: command not recognized\r\n"),
	    "unknown command: 500");
	CHECK(has(&r,
		  "recognized\r\n503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need "
		  "MAIL command\r\n"),
	    "RCPT and DATA before MAIL: 503");
	CHECK(has(&r, "555 5.5.4 Unsupported MAIL parameter FOO\r\n"), "unknown MAIL param: 555");
	CHECK(has(&r, "552 5.3.4 Message size exceeds fixed maximum message size (500)\r\n"),
	    "SIZE over the limit: 552");
	CHECK(has(&r, "501 5.1.7 Bad sender address syntax: special character in local part"),
	    "bad sender: 501");
	CHECK(has(&r, "501 5.1.7 Bad sender address syntax: missing '>'"), "missing >: 501");
	CHECK(has(&r,
		  "250 2.1.0 Ok\r\n503 5.5.1 Error: nested MAIL command\r\n"
		  "554 5.5.1 Error: no valid recipients\r\n"),
	    "nested MAIL 503, DATA without RCPT 554");
	CHECK(has(&r, "501 5.1.3 Bad recipient address syntax: empty local part\r\n"),
	    "RCPT TO:<> is 501");
	CHECK(has(&r, "550 5.1.1 <nobody@b.org>: alias loop\r\n"), "check_rcpt refusal passed on");
	CHECK(has(&r, "501 5.5.4 Bad value for RCPT parameter NOTIFY\r\n"), "NEVER,DELAY: 501");
	CHECK(has(&r, "555 5.5.4 Unsupported RCPT parameter BAR\r\n"), "unknown RCPT param: 555");
	CHECK(has(&r, "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n452 4.5.3 Error: too many recipients\r\n"),
	    "third recipient over max_rcpts: 452");
	CHECK(has(&r, "252 2.5.2 Cannot VRFY user"), "VRFY: 252");
	CHECK(has(&r, "214 2.0.0 Commands:"), "HELP: 214");
	CHECK(has(&r,
		  "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT\r\n"
		  "250 2.0.0 Ok\r\n502 5.5.1 Error: command not implemented\r\n502 5.5.1"),
	    "NOOP 250, EXPN and STARTTLS 502");
	CHECK(has(&r,
		  "502 5.5.1 Error: command not implemented\r\n500 5.5.2 Error: bad syntax\r\n"
		  "501 5.5.4 Syntax: HELO hostname\r\n501 5.5.4 Syntax: DATA\r\n221 "),
	    "empty line 500, HELO without name 501, DATA with argument 501");
	CHECK(r.rc == 0 && st.calls == 0, "no message submitted");
	buf_free(&r.out);

	run1(&r, &o, longline);
	CHECK(has(&r, "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n"),
	    "command line too long: 500, next command fine");
	buf_free(&r.out);

	/* Message over max_size, then a line over the data line limit. */
	{
		struct buf big;

		buf_init(&big, 3 * 1024 * 1024);
		MUST(buf_addstr(&big, "MAIL FROM:<a@b.org>\r\nRCPT TO:<c@d.org>\r\nDATA\r\n"));
		while (big.len < 2000)
			MUST(buf_addstr(&big, "0123456789012345678901234567890123456789\r\n"));
		MUST(
		    buf_addstr(&big, ".\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<c@d.org>\r\nDATA\r\n"));
		while (big.len < 1200 * 1024)
			MUST(buf_addstr(&big, "0123456789012345678901234567890123456789"));
		MUST(buf_addstr(&big, "\r\nshort\r\n.\r\nNOOP\r\nQUIT\r\n"));
		o.max_size = 0;
		run1(&r, &o, big.data);
		CHECK(!has(&r, "size exceeds") &&
			has(&r,
			    "5.3.4 Error: a message line is longer "
			    "than 1048575 bytes\r\n250 2.0.0 Ok\r\n221"),
		    "data line too long: 552, "
		    "session goes on");
		buf_free(&r.out);
		o.max_size = 500;
		st.calls = 0;
		run1(&r, &o, big.data);
		CHECK(has(&r,
			  "354 End data with <CR><LF>.<CR><LF>\r\n552 5.3.4 Error: message "
			  "size exceeds fixed maximum message size (500)\r\n"),
		    "message over max_size: 552");
		CHECK(st.calls == 0, "refused messages are not submitted");
		buf_free(&r.out);
		buf_free(&big);
	}
	free(longline);
	buf_free(&st.msg);
}

static void
test_results(void)
{
	struct serve_opts o;
	struct stub st;
	struct run r;
	int i;
	struct buf many;
	const char *txn = "MAIL FROM:<a@b.org>\r\nRCPT TO:<c@d.org>\r\nDATA\r\nhi\r\n.\r\n";

	stub_init(&st);
	opts_init(&o, &st);
	st.code = 451;
	st.text = "4.4.1 relay unreachable and queueing is off";
	run1(&r, &o, txn);
	CHECK(has(&r,
		  "354 End data with <CR><LF>.<CR><LF>\r\n451 4.4.1 relay unreachable and "
		  "queueing is off\r\n"),
	    "temporary failure passed on");
	CHECK(r.rc == 0, "end of input after a transaction is a normal end");
	buf_free(&r.out);

	st.code = 554;
	st.text = "";
	run1(&r, &o, txn);
	CHECK(has(&r, "\r\n554 5.3.0 Message refused\r\n"), "permanent failure, default text");
	buf_free(&r.out);

	st.code = 0;
	run1(&r, &o, txn);
	CHECK(has(&r, "\r\n451 4.3.0 Error: internal error, try again\r\n"),
	    "invalid callback code becomes 451");
	buf_free(&r.out);

	st.code = 421;
	st.text = "4.3.2 shutting down\r\n250 injected";
	st.rc = -1;
	run1(&r, &o, "MAIL FROM:<a@b.org>\r\nRCPT TO:<c@d.org>\r\nDATA\r\nhi\r\n.\r\nNOOP\r\n");
	CHECK(has(&r, "\r\n421 4.3.2 shutting down??250 injected\r\n") && !has(&r, "2.0.0 Ok\r\n"),
	    "callback -1 ends the session; its text cannot inject a line");
	CHECK(r.rc == -1, "callback -1: serve_run returns -1");
	if (r.rc != -1 || !has(&r, "injected\r\n"))
		printf("# %s\n# err: %s\n", r.out.data, r.e.msg);
	buf_free(&r.out);

	st.code = 250;
	st.text = "2.0.0 Ok: queued as Q1";
	st.rc = 0;
	st.calls = 0;
	run1(&r, &o, "MAIL FROM:<a@b.org>\r\nRCPT TO:<c@d.org>\r\nDATA\r\nhalf a message\r\n");
	CHECK(r.rc == -1 && st.calls == 0 && strstr(r.e.msg, "during DATA") != NULL,
	    "end of input during DATA: nothing submitted, -1");
	buf_free(&r.out);

	buf_init(&many, 64 * 1024);
	for (i = 0; i < 25; i++)
		MUST(buf_addstr(&many, "BOGUS\r\n"));
	run1(&r, &o, many.data);
	CHECK(has(&r, "421 4.7.0 " HOST " Error: too many errors\r\n") && r.rc == -1,
	    "too many bad commands: 421");
	buf_free(&r.out);
	buf_free(&many);

	/* The message directory is made when missing. */
	{
		char sub[64];

		snprintf(sub, sizeof(sub), "%s/spool", tmpdir);
		o.tmp_dir = sub;
		st.calls = 0;
		run1(&r, &o, txn);
		CHECK(st.calls == 1 && has(&r, "\r\n250 2.0.0 Ok: queued as Q1\r\n"),
		    "missing message directory is created");
		CHECK(rmdir(sub) == 0, "and left empty");
		o.tmp_dir = tmpdir;
		buf_free(&r.out);
	}
	CHECK(dir_empty(), "nothing left in the temp dir");
	buf_free(&st.msg);
}

/*
 * SMTP smuggling: a client that speaks CRLF ends DATA only with CRLF.CRLF; a dot after a
 * bare LF or a bare CR, or one that ends in a bare LF, is data. A bare-LF client is
 * taken at its word.
 */
static void
test_smuggling(void)
{
	struct serve_opts o;
	struct stub st;
	struct run r;

	stub_init(&st);
	opts_init(&o, &st);
	run1(&r, &o,
	    "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\n"
	    "Subject: s\r\n\r\nbody\n.\nMAIL FROM:<ceo@x.org>\nRCPT TO:<victim@y.org>\nDATA\n"
	    "evil\n.\r\n.\r\nQUIT\r\n");
	CHECK(r.rc == 0 && st.calls == 1, "smuggled transaction: one message");
	CHECK_STR(st.rcpts, "b@y.org", "smuggled transaction: the real recipient only");
	CHECK_STR(st.msg.data,
	    "Subject: s\r\n\r\nbody\r\n.\r\nMAIL FROM:<ceo@x.org>\r\n"
	    "RCPT TO:<victim@y.org>\r\nDATA\r\nevil\r\n.\r\n",
	    "smuggled lines are the message's data");
	CHECK(!has(&r, "250 2.1.0 Ok\r\n250 2.1.0") && has(&r, "221 2.0.0"),
	    "no second MAIL answered");
	buf_free(&r.out);
	buf_free(&st.msg);

	stub_init(&st);
	run1(&r, &o,
	    "HELO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\n"
	    "one\r\n.\ntwo\r.\r\nthree\r\n\r\n.\r\nQUIT\r\n");
	CHECK(st.calls == 1, "dot ending in a bare LF, dot after a bare CR: data");
	CHECK_STR(st.msg.data, "one\r\n.\r\ntwo\r.\r\nthree\r\n\r\n",
	    "only CRLF.CRLF ended the data");
	buf_free(&r.out);
	buf_free(&st.msg);

	/* Bare LF throughout (a hand-typed or scripted client): works as before. */
	stub_init(&st);
	run1(&r, &o,
	    "HELO c\nMAIL FROM:<a@x.org>\nRCPT TO:<b@y.org>\nDATA\nhello\n..dot\n.\n"
	    "MAIL FROM:<a@x.org>\nRCPT TO:<c@y.org>\nDATA\nagain\n.\nQUIT\n");
	CHECK(r.rc == 0 && st.calls == 2, "bare-LF client: two messages");
	CHECK_STR(st.msg.data, "again\r\n", "bare-LF client: a lone dot ends its data");
	CHECK(has(&r, "250 2.0.0 Ok: queued as Q1\r\n250 2.1.0 Ok\r\n"),
	    "bare-LF client: the second MAIL is its own");
	buf_free(&r.out);
	buf_free(&st.msg);
}

static void
test_socket_timeout(void)
{
	struct serve_opts o;
	struct stub st;
	struct conn *c;
	struct err e;
	char out[4096];
	int sv[2], rc;
	ssize_t n;
	int64_t t0;

	stub_init(&st);
	opts_init(&o, &st);
	o.timeout_s = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("socketpair");
		exit(1);
	}
	/* A whole pipelined transaction, then silence with the connection left open. */
	if (write(sv[1],
		"EHLO c\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<c@d.org>\r\nDATA\r\n"
		"Subject: s\r\n\r\n..x\r\n.\r\nNOOP\r\n",
		83) != 83) {
		perror("write");
		exit(1);
	}
	c = conn_new(fdstream_new(sv[0], sv[0], 1));
	err_init(&e);
	t0 = now_ms();
	rc = serve_run(c, &o, &e);
	conn_free(c);
	n = read(sv[1], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	CHECK(rc == -1 && e.kind == ERR_TEMP, "silent client: -1, temporary");
	CHECK(now_ms() - t0 >= 900 && now_ms() - t0 < 5000, "time-out after about 1 s");
	CHECK(strstr(out,
		  "250 2.0.0 Ok: queued as Q1\r\n250 2.0.0 Ok\r\n421 4.4.2 " HOST
		  " Error: timeout exceeded\r\n") != NULL,
	    "over a socket: message, NOOP, then 421");
	CHECK_STR(st.msg.data, "Subject: s\r\n\r\n.x\r\n", "message through fdstream");
	close(sv[0]);
	close(sv[1]);

	/* The client goes away without QUIT: a normal end. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		exit(1);
	if (write(sv[1], "HELO c\r\n", 8) != 8)
		exit(1);
	shutdown(sv[1], SHUT_WR);
	c = conn_new(fdstream_new(sv[0], sv[0], 1));
	err_init(&e);
	t0 = now_ms();
	rc = serve_run(c, &o, &e);
	conn_free(c);
	CHECK(rc == 0 && now_ms() - t0 < 900, "client closing is not a time-out");
	close(sv[0]);
	close(sv[1]);
	buf_free(&st.msg);
}

/* The listener: only CRLF.CRLF ends DATA; a dot next to a bare LF is data, dot and all. */
static void
test_strict_crlf(void)
{
	static const char script[] =
	    "EHLO d\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
	    "Subject: s\r\n\r\nx\n.\r\nMAIL FROM:<ceo@example.org>\r\ny\r\n.\nz\r\n"
	    "..two\r\n.\r\nQUIT\r\n";
	struct serve_opts o;
	struct stub st;
	struct run r;

	stub_init(&st);
	opts_init(&o, &st);
	o.strict_crlf = 1;
	run1(&r, &o, script);
	CHECK(r.rc == 0 && st.calls == 1, "strict: one message, session ends well");
	CHECK(strstr(st.msg.data,
		  "x\r\n.\r\nMAIL FROM:<ceo@example.org>\r\ny\r\n.\r\nz\r\n"
		  ".two\r\n") != NULL,
	    "strict: the smuggled lines are data, dots kept, CRLF lines");
	CHECK(has(&r, "221 "), "strict: QUIT read as a command after the real end");
	buf_free(&r.out);
	/* Without strict_crlf (-bs), a client of bare LFs still ends its message so. */
	buf_free(&st.msg);
	stub_init(&st);
	opts_init(&o, &st);
	run1(&r, &o,
	    "EHLO d\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.com>\nDATA\n"
	    "x\n.\nMAIL FROM:<ceo@example.org>\nQUIT\n");
	CHECK(st.calls == 1 && strstr(st.msg.data, "ceo") == NULL,
	    "-bs: an LF client's bare LF dot ends it");
	buf_free(&r.out);
	buf_free(&st.msg);
}

static int
stub_auth(void *ctx, const char *user, const char *password)
{
	(void)ctx;
	return strcmp(user, "printer") == 0 && strcmp(password, "pw") == 0;
}

/* AUTH PLAIN and LOGIN, 530 before it, 535 after a bad one, 421 after three. */
static void
test_auth(void)
{
	struct serve_opts o;
	struct stub st;
	struct run r;

	stub_init(&st);
	opts_init(&o, &st);
	o.auth = stub_auth;
	o.auth_offer = 1;
	o.auth_required = 1;
	/* "\0printer\0pw" and "\0printer\0no" in base64; LOGIN: printer, pw. */
	run1(&r, &o,
	    "EHLO d\r\nMAIL FROM:<a@example.org>\r\nAUTH PLAIN AHByaW50ZXIAbm8=\r\n"
	    "AUTH PLAIN AHByaW50ZXIAcHc=\r\nAUTH PLAIN AHByaW50ZXIAcHc=\r\n"
	    "MAIL FROM:<a@example.org>\r\nQUIT\r\n");
	CHECK(has(&r, "250-AUTH PLAIN LOGIN\r\n"), "auth: offered");
	CHECK(has(&r, "530 5.7.0 Authentication required\r\n"), "auth: MAIL before it: 530");
	CHECK(has(&r, "535 5.7.8 "), "auth: a wrong password: 535");
	CHECK(has(&r, "235 2.7.0 "), "auth: PLAIN: 235");
	CHECK(has(&r, "503 5.5.1 Error: already authenticated"), "auth: twice: 503");
	CHECK(has(&r, "250 2.1.0 Ok"), "auth: MAIL after it: 250");
	buf_free(&r.out);
	run1(&r, &o, "EHLO d\r\nAUTH LOGIN\r\ncHJpbnRlcg==\r\ncHc=\r\nQUIT\r\n");
	CHECK(has(&r, "334 VXNlcm5hbWU6\r\n") && has(&r, "334 UGFzc3dvcmQ6\r\n") &&
		has(&r, "235 2.7.0 "),
	    "auth: LOGIN: prompts, 235");
	buf_free(&r.out);
	run1(&r, &o,
	    "EHLO d\r\nAUTH PLAIN AHByaW50ZXIAbm8=\r\nAUTH PLAIN AHByaW50ZXIAbm8=\r\n"
	    "AUTH PLAIN AHByaW50ZXIAbm8=\r\nAUTH PLAIN AHByaW50ZXIAcHc=\r\n");
	CHECK(r.rc == -1 && has(&r, "421 4.7.0 ") && !has(&r, "235 "),
	    "auth: three failures end the session before a fourth try");
	buf_free(&r.out);
	/* Not offered (a network client before STARTTLS): not accepted either. */
	o.auth_offer = 0;
	run1(&r, &o, "EHLO d\r\nAUTH PLAIN AHByaW50ZXIAcHc=\r\nQUIT\r\n");
	CHECK(!has(&r, "AUTH PLAIN LOGIN") && has(&r, "502 5.5.1 ") && !has(&r, "235 "),
	    "auth: not offered, refused");
	buf_free(&r.out);
	buf_free(&st.msg);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_symfony();
	test_ehlo_pipelined();
	test_errors();
	test_results();
	test_smuggling();
	test_socket_timeout();
	test_strict_crlf();
	test_auth();
	rmdir(tmpdir);
	UNIT_DONE();
}

/*
 * smtp_reply.c: what a relay says to the SMTP client engine (smtp.c): the reply line
 * parser on every line of the input, then a whole session read from the input as the
 * server's side: greeting, EHLO (capabilities), STARTTLS, an AUTH line, one message with
 * three recipients (pipelined or not, DATA or BDAT, as the capabilities say), RSET, QUIT.
 *
 * Option byte: bits 0-2 the read size, 3 STARTTLS, 4 AUTH, 5 an 8-bit body, 6 SMTPUTF8
 * (with an 8-bit Subject: the 7-bit downgrade when the relay lacks it), 7 a second message.
 * What the client writes is kept: never a bare CR or LF on the wire, whatever was said.
 */
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "net/stream.h"
#include "smtp/smtp.h"
#include "fuzz.h"

#define MSG "From: a@x.example\r\nSubject: caf\xc3\xa9\r\n\r\nhello\r\n.dot\r\n"

static char *rcpts[] = { "b@y.example", "c@y.example", "d@y.example" };

/* Every line on its own: the pure parser's promises. */
static void
lines(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl, *text;
	int code, last;
	size_t n;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (smtp_parse_reply_line(p, n, &code, &last, &text) == 0) {
			FUZZ_ASSERT(code >= 200 && code <= 599, "reply code out of range");
			FUZZ_ASSERT(last == 0 || last == 1, "last is 0 or 1");
			FUZZ_ASSERT(text >= p + 3 && text <= p + n, "text inside the line");
		}
	}
}

static void
check_status(const struct smtp_rcpt_status *st, size_t n, int rc, const struct err *e)
{
	size_t i, ok = 0;

	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(memchr(st[i].reply, '\0', sizeof(st[i].reply)) != NULL,
		    "status reply terminated");
		FUZZ_ASSERT(strchr(st[i].reply, '\n') == NULL, "status reply on one line");
		if (st[i].kind == ERR_OK)
			ok++;
	}
	/* smtp.h: 0 when the server accepted the message for at least one recipient. */
	FUZZ_ASSERT(rc != 0 || ok > 0, "accepted with no recipient accepted");
	FUZZ_ASSERT(rc != -1 || err_failed(e), "failure without an error");
}

static int
spool(void)
{
	static int fd = -1;

	if (fd == -1)
		fd = fuzz_memfd((const uint8_t *)MSG, sizeof(MSG) - 1);
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_rcpt_status st[3];
	struct smtp_envelope env;
	struct smtp_opts o;
	struct smtp_reply r;
	struct smtp *s;
	struct buf wire;
	struct err e;
	unsigned opt;
	int rc, i;

	opt = fuzz_byte(&data, &size);
	lines(data, size);
	memset(&o, 0, sizeof(o));
	o.helo = "client.example";
	buf_init(&wire, 1024 * 1024);
	s = smtp_new(conn_new(fuzz_stream(data, size, fuzz_chunk(opt), &wire)), &o);
	err_init(&e);
	if (smtp_greeting(s, &e) == -1 || smtp_ehlo(s, &e) == -1)
		goto out;
	FUZZ_ASSERT(memchr(smtp_caps(s)->auth, '\0', sizeof(smtp_caps(s)->auth)) != NULL,
	    "AUTH list terminated");
	if ((opt & 0x08) && (smtp_starttls(s, &e) == -1 || smtp_ehlo(s, &e) == -1))
		goto out;
	if ((opt & 0x10) && smtp_cmd(s, "AUTH PLAIN AGFAeC5leGFtcGxlAHNlY3JldA==", 1, &r, &e) == 0)
		FUZZ_ASSERT(r.code >= 200 && r.code <= 599, "AUTH reply code");
	memset(&env, 0, sizeof(env));
	env.sender = "a@x.example";
	env.rcpts = rcpts;
	env.nrcpts = 3;
	env.body_8bit = (opt & 0x20) != 0;
	env.smtputf8 = (opt & 0x40) != 0;
	env.dsn_notify = "success,failure";
	env.dsn_ret = "hdrs";
	env.dsn_envid = "id+1=x";
	for (i = 0; i < ((opt & 0x80) ? 2 : 1); i++) {
		err_init(&e);
		memset(st, 0, sizeof(st));
		rc = smtp_send(s, &env, spool(), st, &e);
		check_status(st, 3, rc, &e);
		if (!smtp_alive(s))
			goto out;
	}
	err_init(&e);
	smtp_rset(s, &e);
	smtp_quit(s);
out:
	smtp_free(s);
	FUZZ_ASSERT(wire.len == wire.max || fuzz_crlf_clean(wire.data, wire.len),
	    "no bare CR or LF on the wire");
	buf_free(&wire);
	return 0;
}

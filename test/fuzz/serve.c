/*
 * serve.c: what a client of `sendmail -bs` says (smtp/serve.c): the input is the client's
 * side of a whole session, read through an in-memory stream; the replies are kept and
 * checked, each message handed over is read back and checked.
 *
 * Option byte: bits 0-2 the read size, 3 a size limit of 100 bytes, 4 a recipient check
 * that refuses "nobody..." addresses, 5 a submit that answers 451, 6 one that ends the
 * session, 7 a limit of two recipients.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "net/stream.h"
#include "smtp/serve.h"
#include "fuzz.h"

/* Replies kept for the checks; a session that says more is cut off there. */
#define OUT_MAX (1024 * 1024)

static unsigned opt;

static int
submit(void *ctx, const char *sender, char *const *rcpts, size_t nrcpts, int fd,
    const struct serve_params *p, struct serve_result *res)
{
	struct buf msg;
	char block[4096];
	ssize_t n;
	size_t i;

	(void)ctx;
	FUZZ_ASSERT(sender != NULL && nrcpts > 0, "a message has a sender and recipients");
	for (i = 0; i < nrcpts; i++)
		FUZZ_ASSERT(rcpts[i] != NULL && rcpts[i][0] != '\0', "recipient not empty");
	FUZZ_ASSERT(p->dsn_notify != NULL && p->dsn_orcpt != NULL, "per-recipient arrays");
	FUZZ_ASSERT(p->helo != NULL, "helo is never NULL");
	/* serve.h: at offset 0, every line ends in CRLF, dot-stuffing undone. */
	buf_init(&msg, 64 * 1024 * 1024);
	while ((n = read(fd, block, sizeof(block))) > 0)
		FUZZ_ASSERT(buf_add(&msg, block, (size_t)n) == 0, "message fits");
	FUZZ_ASSERT(n == 0, "the message file reads");
	FUZZ_ASSERT(msg.len == 0 ||
		(msg.len >= 2 && memcmp(msg.data + msg.len - 2, "\r\n", 2) == 0),
	    "the message ends with CRLF");
	/* A CR inside a line is data as received; an LF only ever ends a line. */
	for (i = 0; i < msg.len; i++)
		FUZZ_ASSERT(msg.data[i] != '\n' || (i > 0 && msg.data[i - 1] == '\r'),
		    "every line of the message ends in CRLF");
	buf_free(&msg);
	res->code = (opt & 0x20) ? 451 : 250;
	snprintf(res->text, sizeof(res->text), "%s",
	    (opt & 0x20) ? "4.3.0 try later" : "2.0.0 Ok: queued as FUZZ");
	return (opt & 0x40) ? -1 : 0;
}

static void
check_rcpt(void *ctx, const char *rcpt, struct serve_result *res)
{
	(void)ctx;
	if (strncmp(rcpt, "nobody", 6) == 0) {
		res->code = 550;
		snprintf(res->text, sizeof(res->text), "5.1.1 <%s>: alias loop", rcpt);
	} else
		res->code = 250;
}

/* Every reply line: three digits, space or '-', printable text, CRLF. */
static void
check_replies(const struct buf *out)
{
	const char *p = out->data, *end = out->data + out->len, *nl, *q;

	if (out->len == 0)
		return;
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		/* The last line may be cut by OUT_MAX. */
		if (nl == NULL)
			break;
		FUZZ_ASSERT(nl - p >= 5 && nl[-1] == '\r', "reply line ends in CRLF");
		FUZZ_ASSERT(p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' &&
			p[2] >= '0' && p[2] <= '9' && (p[3] == ' ' || p[3] == '-'),
		    "reply line starts with a code");
		for (q = p + 4; q < nl - 1; q++)
			FUZZ_ASSERT((unsigned char)*q >= 0x20 && (unsigned char)*q < 0x7f,
			    "reply text is printable");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serve_opts o;
	struct conn *c;
	struct buf out;
	struct err e;

	opt = fuzz_byte(&data, &size);
	buf_init(&out, OUT_MAX);
	memset(&o, 0, sizeof(o));
	o.hostname = "fuzz.example";
	o.tmp_dir = fuzz_dir();
	o.max_size = (opt & 0x08) ? 100 : 0;
	o.max_rcpts = (opt & 0x80) ? 2 : 0;
	o.submit = submit;
	o.check_rcpt = (opt & 0x10) ? check_rcpt : NULL;
	c = conn_new(fuzz_stream(data, size, fuzz_chunk(opt), &out));
	err_init(&e);
	if (serve_run(c, &o, &e) == -1)
		FUZZ_ASSERT(err_failed(&e), "failure without an error");
	else
		FUZZ_ASSERT(!err_failed(&e), "success with an error");
	conn_free(c);
	check_replies(&out);
	buf_free(&out);
	return 0;
}

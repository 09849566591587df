/*
 * smtp.c: the SMTP client engine. See smtp.h.
 *
 * Everything the server sends is parsed under the limits of bounds.h; nothing it sends
 * decides how much we allocate. The transcript (-v) goes to stderr, one line per line on
 * the wire, with AUTH secrets and the message body left out.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "message/rfc2047.h"
#include "smtp/smtp.h"
#include "net/stream.h"
#include "base/util.h"

/* How much of a malformed reply is quoted in the error message. */
#define QUOTE_MAX		80
/*
 * With PIPELINING and CHUNKING, a message up to this size leaves in the same write as its
 * envelope; a larger one waits for the RCPT replies, so a refused envelope costs no upload.
 */
#define BDAT_PIPELINE_MAX	(1024 * 1024)
/* RFC 4422 3.1: a SASL mechanism name is 1 to 20 characters. */
#define MECH_MAX		20
/* "RCPT TO:<>" and CRLF around an address. */
#define PATH_OVERHEAD		12
/*
 * Commands sent before their replies are read: the replies to a larger group could fill
 * the socket buffers while we are still writing, and both sides would wait (RFC 2920 3.1).
 */
#define PIPE_WINDOW		100
/* Marks a pipelined RCPT whose reply is still to be read. */
#define RCPT_PENDING		(-1)

struct smtp {
	struct conn		*conn;
	char			*helo;
	int			 verbose;
	int			 broken;	/* after an I/O or protocol error, or 421 */
	int			 stale;		/* see smtp_stale() */
	struct smtp_caps	 caps;
	char			 greeting[MAX_REPLY_TEXT];
	char			 accepted[512];	/* the reply that accepted the last message */
};

struct smtp *
smtp_new(struct conn *c, const struct smtp_opts *o)
{
	struct smtp *s;

	s = xcalloc(1, sizeof(*s));
	s->conn = c;
	s->helo = xstrdup(o->helo != NULL && o->helo[0] != '\0' ? o->helo : "localhost");
	s->verbose = o->verbose;
	return s;
}

void
smtp_free(struct smtp *s)
{
	if (s == NULL)
		return;
	conn_free(s->conn);
	free(s->helo);
	free(s);
}

struct conn *
smtp_conn(struct smtp *s)
{
	return s->conn;
}

const char *
smtp_accepted_reply(const struct smtp *s)
{
	return s->accepted;
}

const char *
smtp_greeting_text(const struct smtp *s)
{
	return s->greeting;
}

const struct smtp_caps *
smtp_caps(const struct smtp *s)
{
	return &s->caps;
}

/* Server text may hold terminal escapes: controls are shown as '?'. */
static void
trace(const struct smtp *s, const char *prefix, const char *line)
{
	const unsigned char *p;

	if (!s->verbose)
		return;
	fputs(prefix, stderr);
	for (p = (const unsigned char *)line; *p != '\0'; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
	fputc('\n', stderr);
}

/*
 * A redacted AUTH line keeps its mechanism ("AUTH PLAIN <redacted>"), which is what one
 * needs to debug; any other redacted line is a step of the exchange and shows nothing.
 */
static void
trace_cmd(const struct smtp *s, const char *line, int redact)
{
	char shown[64];
	size_t n;

	if (!s->verbose)
		return;
	if (!redact) {
		trace(s, "--> ", line);
		return;
	}
	if (startswith_ci(line, "AUTH ")) {
		n = 5 + strcspn(line + 5, " ");
		if (n - 5 <= MECH_MAX && line[n] == '\0') {
			trace(s, "--> ", line);
			return;
		}
		if (n - 5 <= MECH_MAX) {
			snprintf(shown, sizeof(shown), "%.*s <redacted>", (int)n, line);
			trace(s, "--> ", shown);
			return;
		}
	}
	trace(s, "--> ", "<redacted>");
}

/* The session is dead after an I/O or protocol failure or a 421. */
static int
usable(struct smtp *s, struct err *e)
{
	if (!s->broken)
		return 0;
	return err_set(e, ERR_TEMP, CAUSE_TEMP, "the connection to the relay was lost earlier");
}

/* Queue one command line. A line break inside it would be a second command: refused. */
static int
put_line(struct smtp *s, const char *line, int redact, struct err *e)
{
	int ret = -1;

	if (has_crlf(line)) {
		err_set(e, ERR_PERM, CAUSE_DATA,
		    "refusing to send a command that contains a line break");
		goto out;
	}
	trace_cmd(s, line, redact);
	if (conn_puts(s->conn, line, e) == -1 || conn_write(s->conn, "\r\n", 2, e) == -1) {
		s->broken = 1;
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static int
command(struct smtp *s, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
command(struct smtp *s, struct err *e, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int r, ret = -1;

	buf_init(&b, MAX_COMMAND_LINE - 2);
	va_start(ap, fmt);
	r = buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (r == -1) {
		err_set(e, ERR_PERM, CAUSE_DATA, "command longer than %d bytes, not sent",
		    MAX_COMMAND_LINE);
		goto out;
	}
	ret = put_line(s, buf_cstr(&b), 0, e);
out:
	buf_free(&b);
	return ret;
}

static int
flush(struct smtp *s, struct err *e)
{
	if (conn_flush(s->conn, e) == -1) {
		s->broken = 1;
		return -1;
	}
	return 0;
}

int
smtp_parse_reply_line(const char *line, size_t len, int *code, int *last, const char **text)
{
	int ret = -1;

	if (len < 3)
		goto out;
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
	    line[2] < '0' || line[2] > '9')
		goto out;
	if (len == 3) {
		/* A bare "250" ends a reply: some servers send no text. */
		*last = 1;
		*text = line + 3;
	} else if (line[3] == ' ' || line[3] == '-') {
		*last = line[3] == ' ';
		*text = line + 4;
	} else
		goto out;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	ret = 0;
out:
	return ret;
}

/* The message quotes the offending line: printable, and short. */
static int
malformed(const char *line, struct err *e)
{
	char q[QUOTE_MAX + 4];
	size_t i;

	for (i = 0; line[i] != '\0' && i < QUOTE_MAX; i++)
		q[i] = (unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f ?
		    '?' : line[i];
	q[i] = '\0';
	if (line[i] != '\0')
		memcpy(q + i, "...", 4);
	return err_set(e, ERR_PERM, CAUSE_PROTOCOL, "server sent a malformed reply: '%s'", q);
}

static int
has_word(const char *list, const char *w, size_t n)
{
	const char *p = list;

	while (*p != '\0') {
		if (strncmp(p, w, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	return 0;
}

/* Mechanisms are kept upper case, once each; names that are no SASL names are dropped. */
static void
add_mechs(struct smtp_caps *c, const char *arg)
{
	char m[MECH_MAX + 1];
	size_t n, i, have;
	int ok;

	for (;;) {
		arg += strspn(arg, " ");
		if ((n = strcspn(arg, " ")) == 0)
			break;
		ok = n <= MECH_MAX;
		for (i = 0; ok && i < n; i++) {
			if (arg[i] >= 'a' && arg[i] <= 'z')
				m[i] = (char)(arg[i] - 'a' + 'A');
			else if ((arg[i] >= 'A' && arg[i] <= 'Z') ||
			    (arg[i] >= '0' && arg[i] <= '9') || arg[i] == '-' || arg[i] == '_')
				m[i] = arg[i];
			else
				ok = 0;
		}
		have = strlen(c->auth);
		if (ok && !has_word(c->auth, m, n) && have + n + 2 <= sizeof(c->auth)) {
			if (have > 0)
				c->auth[have++] = ' ';
			memcpy(c->auth + have, m, n);
			c->auth[have + n] = '\0';
		}
		arg += n;
	}
}

/* One EHLO line after the first: a keyword and its parameters (RFC 5321 4.1.1.1). */
static void
parse_cap(struct smtp_caps *c, const char *t)
{
	char kw[32], num[24];
	const char *arg;
	uint64_t v;
	size_t n;

	n = strcspn(t, " =");
	if (n == 0 || n >= sizeof(kw))
		return;
	memcpy(kw, t, n);
	kw[n] = '\0';
	arg = t + n;
	/* "AUTH=LOGIN PLAIN" is how servers spoke to pre-RFC 2554 clients. */
	if (*arg == '=' && !streq_ci(kw, "AUTH"))
		return;
	if (*arg != '\0')
		arg++;
	if (streq_ci(kw, "PIPELINING"))
		c->pipelining = 1;
	else if (streq_ci(kw, "SIZE")) {
		c->size = 1;
		arg += strspn(arg, " ");
		n = strcspn(arg, " ");
		/* RFC 1870: 0 or no number means no fixed limit. */
		if (n > 0 && n < sizeof(num)) {
			memcpy(num, arg, n);
			num[n] = '\0';
			if (parse_uint(num, 0, UINT64_MAX, &v) == 0)
				c->size_max = v;
		}
	} else if (streq_ci(kw, "8BITMIME"))
		c->eightbitmime = 1;
	else if (streq_ci(kw, "SMTPUTF8"))
		c->smtputf8 = 1;
	else if (streq_ci(kw, "DSN"))
		c->dsn = 1;
	else if (streq_ci(kw, "CHUNKING"))
		c->chunking = 1;
	else if (streq_ci(kw, "ENHANCEDSTATUSCODES"))
		c->enhanced = 1;
	else if (streq_ci(kw, "STARTTLS"))
		c->starttls = 1;
	else if (streq_ci(kw, "AUTH"))
		add_mechs(c, arg);
}

/*
 * Read one whole reply: every line carries the same code, at most MAX_REPLY_LINES lines.
 * With caps, the lines after the first are EHLO keywords. Any failure leaves the session
 * unusable: we cannot find the start of the next reply.
 */
static int
read_reply(struct smtp *s, struct smtp_reply *r, struct smtp_caps *caps, struct err *e)
{
	char line[MAX_REPLY_LINE];
	const char *text;
	size_t tlen = 0, n;
	ssize_t len;
	int code, last = 0, nlines = 0, ret = -1;

	r->code = 0;
	r->text[0] = '\0';
	while (!last) {
		if (nlines == MAX_REPLY_LINES) {
			err_set(e, ERR_PERM, CAUSE_PROTOCOL,
			    "server sent a reply of more than %d lines", MAX_REPLY_LINES);
			goto fail;
		}
		if ((len = conn_readline(s->conn, line, sizeof(line), e)) == -1)
			goto fail;
		trace(s, "<-- ", line);
		if (smtp_parse_reply_line(line, (size_t)len, &code, &last, &text) == -1 ||
		    (nlines > 0 && code != r->code)) {
			malformed(line, e);
			goto fail;
		}
		r->code = code;
		if (nlines > 0 && tlen + 1 < sizeof(r->text))
			r->text[tlen++] = '\n';
		n = strlen(text);
		if (n > sizeof(r->text) - 1 - tlen)
			n = sizeof(r->text) - 1 - tlen;
		memcpy(r->text + tlen, text, n);
		tlen += n;
		r->text[tlen] = '\0';
		if (caps != NULL && nlines > 0)
			parse_cap(caps, text);
		nlines++;
	}
	/* RFC 5321 3.8: 421 announces that the server closes the connection. */
	if (r->code == 421)
		s->broken = 1;
	ret = 0;
	goto out;
fail:
	s->broken = 1;
out:
	return ret;
}

static int
fail_reply(struct err *e, enum err_kind kind, enum err_cause cause, const struct smtp_reply *r,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Our words, and the server's reply quoted apart from them. */
static int
fail_reply(struct err *e, enum err_kind kind, enum err_cause cause, const struct smtp_reply *r,
    const char *fmt, ...)
{
	va_list ap;

	if (err_failed(e))
		return -1;
	va_start(ap, fmt);
	err_vset(e, kind, cause, fmt, ap);
	va_end(ap);
	err_reply(e, r->code, r->text);
	return -1;
}

static enum err_kind
reply_kind(int code)
{
	if (code / 100 == 2)
		return ERR_OK;
	return code / 100 == 4 ? ERR_TEMP : ERR_PERM;
}

int
smtp_greeting(struct smtp *s, struct err *e)
{
	struct smtp_reply r;
	int ret = -1;

	if (usable(s, e) == -1 || read_reply(s, &r, NULL, e) == -1)
		goto out;
	snprintf(s->greeting, sizeof(s->greeting), "%s", r.text);
	if (r.code == 220)
		ret = 0;
	else if (r.code / 100 == 4)
		fail_reply(e, ERR_TEMP, CAUSE_UNAVAILABLE, &r,
		    "the relay does not accept connections now");
	else if (r.code / 100 == 5)
		fail_reply(e, ERR_PERM, CAUSE_UNAVAILABLE, &r, "the relay refused the connection");
	else
		fail_reply(e, ERR_PERM, CAUSE_PROTOCOL, &r, "the relay sent no 220 greeting");
out:
	return ret;
}

int
smtp_ehlo(struct smtp *s, struct err *e)
{
	struct smtp_caps caps;
	struct smtp_reply r;
	int ret = -1;

	/* What a server said before (TLS, or a previous EHLO) is not to be trusted now. */
	memset(&s->caps, 0, sizeof(s->caps));
	memset(&caps, 0, sizeof(caps));
	if (usable(s, e) == -1 || command(s, e, "EHLO %s", s->helo) == -1 ||
	    flush(s, e) == -1 || read_reply(s, &r, &caps, e) == -1)
		goto out;
	if (r.code / 100 == 2) {
		caps.esmtp = 1;
		s->caps = caps;
		ret = 0;
		goto out;
	}
	if (r.code / 100 == 4) {
		fail_reply(e, ERR_TEMP, CAUSE_TEMP, &r, "the relay refused EHLO for now");
		goto out;
	}
	if (r.code / 100 != 5) {
		fail_reply(e, ERR_PERM, CAUSE_PROTOCOL, &r, "unexpected reply to EHLO");
		goto out;
	}
	/* An old server that knows no EHLO: plain SMTP, no extensions. */
	if (command(s, e, "HELO %s", s->helo) == -1 || flush(s, e) == -1 ||
	    read_reply(s, &r, NULL, e) == -1)
		goto out;
	if (r.code / 100 == 2)
		ret = 0;
	else if (r.code / 100 == 4)
		fail_reply(e, ERR_TEMP, CAUSE_TEMP, &r, "the relay refused HELO for now");
	else if (r.code / 100 == 5)
		fail_reply(e, ERR_PERM, CAUSE_UNAVAILABLE, &r, "the relay refused EHLO and HELO");
	else
		fail_reply(e, ERR_PERM, CAUSE_PROTOCOL, &r, "unexpected reply to HELO");
out:
	return ret;
}

int
smtp_starttls(struct smtp *s, struct err *e)
{
	struct smtp_reply r;
	int ret = -1;

	if (usable(s, e) == -1 || command(s, e, "STARTTLS") == -1 || flush(s, e) == -1 ||
	    read_reply(s, &r, NULL, e) == -1)
		goto out;
	if (r.code == 220) {
		/*
		 * Bytes already here were sent in the clear but would be read as if they came
		 * through TLS (CVE-2011-0411 and its kin).
		 */
		if (conn_pending(s->conn) != 0) {
			s->broken = 1;
			err_set(e, ERR_PERM, CAUSE_PROTOCOL, "server sent data after its "
			    "STARTTLS reply (possible STARTTLS injection attack): aborting");
			goto out;
		}
		memset(&s->caps, 0, sizeof(s->caps));
		ret = 0;
	} else if (r.code / 100 == 4)
		fail_reply(e, ERR_TEMP, CAUSE_TEMP, &r, "the relay cannot start TLS now");
	else
		fail_reply(e, ERR_PERM, CAUSE_UNAVAILABLE, &r, "the relay refused STARTTLS");
out:
	return ret;
}

int
smtp_cmd(struct smtp *s, const char *line, int redact, struct smtp_reply *r, struct err *e)
{
	int ret = -1;

	if (usable(s, e) == -1)
		goto out;
	if (strlen(line) > MAX_AUTH_LINE - 2) {
		err_set(e, ERR_PERM, CAUSE_DATA, "command longer than %d bytes, not sent",
		    MAX_AUTH_LINE);
		goto out;
	}
	if (put_line(s, line, redact, e) == -1 || flush(s, e) == -1 ||
	    read_reply(s, r, NULL, e) == -1)
		goto out;
	ret = 0;
out:
	return ret;
}

int
smtp_rset(struct smtp *s, struct err *e)
{
	struct smtp_reply r;
	int ret = -1;

	if (usable(s, e) == -1 || command(s, e, "RSET") == -1 || flush(s, e) == -1 ||
	    read_reply(s, &r, NULL, e) == -1)
		goto out;
	if (r.code / 100 != 2) {
		fail_reply(e, reply_kind(r.code), CAUSE_TEMP, &r, "the relay refused RSET");
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/*
 * QUIT is sent and its 221 not awaited, as Postfix's own client does
 * (smtp_skip_quit_response): every message was settled by its own reply already, so
 * waiting would only cost each run a round trip.
 */
void
smtp_quit(struct smtp *s)
{
	struct err e;

	if (s == NULL || s->broken)
		return;
	err_init(&e);
	if (command(s, &e, "QUIT") == 0)
		flush(s, &e);
	s->broken = 1;
}

int
smtp_stale(const struct smtp *s)
{
	return s->stale;
}

int
smtp_alive(const struct smtp *s)
{
	return !s->broken;
}

/* Addresses go between < and >: no controls, no brackets, and within the line limit. */
static const char *
bad_path(const char *a)
{
	const unsigned char *p;

	if (strlen(a) > MAX_COMMAND_LINE - PATH_OVERHEAD)
		return "the address is too long for SMTP";
	for (p = (const unsigned char *)a; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return "the address contains a control character";
		if (*p == '<' || *p == '>')
			return "the address contains '<' or '>'";
	}
	return NULL;
}

/* A DSN keyword list (NOTIFY=, RET=): letters and commas only, or it is not sent. */
static int
dsn_word_ok(const char *v)
{
	size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz,");

	return v[0] != '\0' && v[n] == '\0' && n <= 40;
}

/* RET= and NOTIFY= keywords in the upper case RFC 3461 writes them in. */
static int
add_upper(struct buf *b, const char *v)
{
	int r = 0;

	for (; *v != '\0' && r == 0; v++)
		r = buf_addc(b, (char)toupper((unsigned char)*v));
	return r;
}

/* RFC 3461 4: xtext. */
static int
add_xtext(struct buf *b, const char *v)
{
	const unsigned char *p;
	int r = 0;

	for (p = (const unsigned char *)v; *p != '\0' && r == 0; p++) {
		if (*p >= 33 && *p <= 126 && *p != '+' && *p != '=')
			r = buf_addc(b, (char)*p);
		else
			r = buf_addf(b, "+%02X", *p);
	}
	return r;
}

/*
 * Extension parameters may lengthen MAIL and RCPT beyond 512 octets (RFC 5321 4.5.3.1.4):
 * the path is held to the base limit, the whole line to the AUTH line limit.
 */
static int
mail_line(const struct smtp *s, const struct smtp_envelope *env, uint64_t size, struct buf *b)
{
	int r;

	r = buf_addf(b, "MAIL FROM:<%s>", env->sender);
	if (r == 0 && s->caps.size)
		r = buf_addf(b, " SIZE=%llu", (unsigned long long)size);
	/*
	 * 8-bit data to a relay without 8BITMIME goes as it is: RFC 6152 asks for a downgrade
	 * we cannot do for binary data, and real relays take it.
	 */
	if (r == 0 && env->body_8bit && s->caps.eightbitmime)
		r = buf_addstr(b, " BODY=8BITMIME");
	if (r == 0 && env->smtputf8 && s->caps.smtputf8)
		r = buf_addstr(b, " SMTPUTF8");
	if (r == 0 && s->caps.dsn && env->dsn_ret != NULL && dsn_word_ok(env->dsn_ret))
		if ((r = buf_addstr(b, " RET=")) == 0)
			r = add_upper(b, env->dsn_ret);
	if (r == 0 && s->caps.dsn && env->dsn_envid != NULL && env->dsn_envid[0] != '\0' &&
	    strlen(env->dsn_envid) <= MAX_ENVID) {
		r = buf_addstr(b, " ENVID=");
		if (r == 0)
			r = add_xtext(b, env->dsn_envid);
	}
	return r;
}

static int
rcpt_line(const struct smtp *s, const struct smtp_envelope *env, const char *rcpt,
    struct buf *b)
{
	int r;

	r = buf_addf(b, "RCPT TO:<%s>", rcpt);
	if (r == 0 && s->caps.dsn && env->dsn_notify != NULL && dsn_word_ok(env->dsn_notify))
		if ((r = buf_addstr(b, " NOTIFY=")) == 0)
			r = add_upper(b, env->dsn_notify);
	return r;
}

static void
st_set(struct smtp_rcpt_status *st, enum err_kind kind, int code, const char *text)
{
	char *p;

	st->kind = kind;
	st->code = code;
	if (code > 0)
		snprintf(st->reply, sizeof(st->reply), "%d %s", code, text);
	else
		snprintf(st->reply, sizeof(st->reply), "%s", text);
	for (p = st->reply; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
}

/* A reply within a transaction; 421 ends the session whatever command it answers. */
static int
txn_reply(struct smtp *s, struct smtp_reply *r, struct err *e)
{
	if (read_reply(s, r, NULL, e) == -1)
		return -1;
	if (r->code == 421)
		return fail_reply(e, ERR_TEMP, CAUSE_TEMP, r, "the relay closed the session");
	return 0;
}

/* The reply to the end of the message. */
static int
final_reply(struct smtp *s, struct smtp_reply *r, struct err *e)
{
	struct err le;

	err_init(&le);
	if (read_reply(s, r, NULL, &le) == 0)
		return 0;
	/* The server may have taken it: keep it queued, as a duplicate beats a loss. */
	return err_set(e, ERR_TEMP, CAUSE_TEMP, "connection lost after the message was sent, "
	    "before the server confirmed it (%s)", le.msg);
}

static ssize_t
spool_read(int fd, char *p, size_t n, off_t off, struct err *e)
{
	ssize_t r;

	do
		r = pread(fd, p, n, off);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot read the spool file: %s",
		    strerror(errno));
	return r;
}

static void
trace_body(const struct smtp *s, uint64_t n)
{
	char line[64];

	snprintf(line, sizeof(line), "(message body: %llu bytes)", (unsigned long long)n);
	trace(s, "--> ", line);
}

/*
 * DATA: the spool is canonical CRLF; only the dots need stuffing. Pieces go through the
 * conn's buffer, which leaves in 64 KiB writes, never one per line.
 */
static int
send_data_body(struct smtp *s, int fd, struct err *e)
{
	const char *p, *seg, *end, *nl;
	uint64_t total = 0;
	char *in, lastc = '\n';
	ssize_t n;
	int bol = 1, ret = -1;

	in = xmalloc(IO_BLOCK);
	for (;;) {
		if ((n = spool_read(fd, in, IO_BLOCK, (off_t)total, e)) == -1)
			goto fail;
		if (n == 0)
			break;
		total += (uint64_t)n;
		end = in + n;
		seg = p = in;
		/* bol carries "at the start of a line" across blocks. */
		while (p < end) {
			if (bol && *p == '.') {
				if (conn_write(s->conn, seg, (size_t)(p - seg), e) == -1 ||
				    conn_write(s->conn, ".", 1, e) == -1)
					goto fail;
				seg = p;
			}
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
				bol = 0;
				break;
			}
			p = nl + 1;
			bol = 1;
		}
		if (conn_write(s->conn, seg, (size_t)(end - seg), e) == -1)
			goto fail;
		lastc = end[-1];
	}
	trace_body(s, total);
	trace(s, "--> ", ".");
	/* The terminating dot must start a line, even if the spool's last one is unended. */
	if (lastc != '\n' && conn_write(s->conn, "\r\n", 2, e) == -1)
		goto fail;
	if (conn_write(s->conn, ".\r\n", 3, e) == -1 || conn_flush(s->conn, e) == -1)
		goto fail;
	ret = 0;
	goto out;
fail:
	/* Half a message is on the wire: only dropping the connection cannot deliver it. */
	s->broken = 1;
out:
	free(in);
	return ret;
}

/* BDAT n LAST and exactly n raw bytes, queued; the caller flushes. */
static int
send_bdat(struct smtp *s, int fd, uint64_t size, struct err *e)
{
	uint64_t off = 0;
	size_t want;
	char *in;
	ssize_t n;
	int ret = -1;

	in = xmalloc(IO_BLOCK);
	if (command(s, e, "BDAT %llu LAST", (unsigned long long)size) == -1)
		goto fail;
	trace_body(s, size);
	while (off < size) {
		want = size - off < IO_BLOCK ? (size_t)(size - off) : IO_BLOCK;
		if ((n = spool_read(fd, in, want, (off_t)off, e)) == -1)
			goto fail;
		if (n == 0) {
			err_set(e, ERR_TEMP, CAUSE_IOERR,
			    "the spool file shrank while it was sent");
			goto fail;
		}
		if (conn_write(s->conn, in, (size_t)n, e) == -1)
			goto fail;
		off += (uint64_t)n;
	}
	ret = 0;
	goto out;
fail:
	/* The chunk length is promised: the session cannot continue. */
	s->broken = 1;
out:
	free(in);
	return ret;
}

/*
 * Read the replies still owed for MAIL (unless read) and the pending RCPTs before upto.
 * After a refused MAIL the server still answers every RCPT: they are read, not kept.
 */
static int
read_pending(struct smtp *s, struct smtp_reply *mr, struct smtp_rcpt_status *st,
    size_t upto, size_t *next, struct err *e)
{
	struct smtp_reply r;
	int ret = -1;

	if (mr->code == 0 && txn_reply(s, mr, e) == -1)
		goto out;
	for (; *next < upto; (*next)++) {
		if (st[*next].code != RCPT_PENDING)
			continue;
		if (txn_reply(s, &r, e) == -1)
			goto out;
		if (mr->code / 100 == 2)
			st_set(&st[*next], reply_kind(r.code), r.code, r.text);
	}
	ret = 0;
out:
	return ret;
}

/* After a failure, every recipient without its own refusal carries the failure. */
static void
st_fail(struct smtp_rcpt_status *st, size_t n, const struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (st[i].kind != ERR_OK && st[i].reply[0] != '\0' && st[i].code != RCPT_PENDING)
			continue;
		st_set(&st[i], e->kind, 0, e->reply[0] != '\0' ? e->reply : e->msg);
		st[i].code = e->code;
	}
}

/* compat hook: 1 if the envelope's addresses are ASCII (only headers can be downgraded). */
static int
envelope_ascii(const struct smtp_envelope *env)
{
	const unsigned char *p;
	size_t i;

	for (p = (const unsigned char *)env->sender; *p != '\0'; p++)
		if (*p >= 0x80)
			return 0;
	for (i = 0; i < env->nrcpts; i++)
		for (p = (const unsigned char *)env->rcpts[i]; *p != '\0'; p++)
			if (*p >= 0x80)
				return 0;
	return 1;
}

int
smtp_send(struct smtp *s, const struct smtp_envelope *env, int fd,
    struct smtp_rcpt_status *st, struct err *e)
{
	struct smtp_reply r, mr, dr, fr;
	struct smtp_envelope env7;
	struct stat sb;
	struct err le;
	struct buf b;
	const struct smtp_rcpt_status *refused = NULL;
	const char *why;
	uint64_t size, fsize;
	size_t i, next = 0, nok = 0, ntemp = 0, unread, window;
	int piped, bdat, early_data, early_bdat, open = 0, dfd = -1, ret = -1;

	buf_init(&b, MAX_AUTH_LINE);
	mr.code = dr.code = fr.code = 0;
	s->stale = 0;
	for (i = 0; i < env->nrcpts; i++)
		st_set(&st[i], ERR_TEMP, 0, "");
	if (usable(s, e) == -1)
		goto out;
	if (env->nrcpts == 0 || env->nrcpts > MAX_RECIPIENTS) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "%zu recipients: 1 to %d are allowed",
		    env->nrcpts, MAX_RECIPIENTS);
		goto out;
	}
	if (fstat(fd, &sb) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot read the spool file: %s",
		    strerror(errno));
		goto out;
	}
	fsize = (uint64_t)sb.st_size;
	size = env->size != 0 ? env->size : fsize;
	/* --- compat hook (rfc2047.c): 8-bit headers for a relay without SMTPUTF8. --- */
	if (env->smtputf8 && !s->caps.smtputf8) {
		if (!envelope_ascii(env)) {
			err_set(e, ERR_PERM, CAUSE_DATA, "the relay does not support SMTPUTF8 "
			    "and an envelope address is not ASCII");
			goto out;
		}
		/* A copy with RFC 2047 encoded words goes instead; the spool stays as it is. */
		if ((dfd = rfc2047_downgrade(fd, NULL, e)) == -1 || fstat(dfd, &sb) == -1) {
			err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot read the 7-bit copy: %s",
			    strerror(errno));
			goto out;
		}
		fd = dfd;
		size = fsize = (uint64_t)sb.st_size;
		env7 = *env;
		env7.smtputf8 = 0;
		env = &env7;
	}
	/* --- end of compat hook --- */
	if (s->caps.size && s->caps.size_max != 0 && size > s->caps.size_max) {
		err_set(e, ERR_PERM, CAUSE_DATA,
		    "message is %llu bytes, the relay accepts at most %llu (SIZE)",
		    (unsigned long long)size, (unsigned long long)s->caps.size_max);
		goto out;
	}
	if ((why = bad_path(env->sender)) != NULL) {
		err_set(e, ERR_PERM, CAUSE_DATA, "sender <%.100s> not sent: %s", env->sender, why);
		goto out;
	}
	piped = s->caps.pipelining;
	bdat = s->caps.chunking;
	early_data = piped && !bdat;
	early_bdat = piped && bdat && fsize <= BDAT_PIPELINE_MAX;

	/*
	 * Without PIPELINING each command waits for its reply; with it, they go together,
	 * PIPE_WINDOW at most before the replies are read.
	 */
	window = piped ? PIPE_WINDOW : 1;
	if (mail_line(s, env, size, &b) == -1) {
		err_set(e, ERR_PERM, CAUSE_DATA, "MAIL command too long, not sent");
		goto out;
	}
	if (put_line(s, buf_cstr(&b), 0, e) == -1)
		goto out;
	open = 1;
	unread = 1;
	for (i = 0; i < env->nrcpts; i++) {
		if (unread >= window) {
			if (flush(s, e) == -1 || read_pending(s, &mr, st, i, &next, e) == -1)
				goto out;
			unread = 0;
			if (mr.code / 100 != 2)
				goto mail_failed;
		}
		buf_reset(&b);
		if ((why = bad_path(env->rcpts[i])) != NULL) {
			st_set(&st[i], ERR_PERM, 0, why);
			continue;
		}
		if (rcpt_line(s, env, env->rcpts[i], &b) == -1) {
			st_set(&st[i], ERR_PERM, 0, "RCPT command too long, not sent");
			continue;
		}
		if (put_line(s, buf_cstr(&b), 0, e) == -1)
			goto out;
		st[i].code = RCPT_PENDING;
		unread++;
	}
	if (early_data && command(s, e, "DATA") == -1)
		goto out;
	if (early_bdat && send_bdat(s, fd, fsize, e) == -1)
		goto out;
	if (flush(s, e) == -1 || read_pending(s, &mr, st, env->nrcpts, &next, e) == -1)
		goto out;
	if (early_data && txn_reply(s, &dr, e) == -1)
		goto out;
	if (early_bdat && final_reply(s, &fr, e) == -1)
		goto out;
	if (mr.code / 100 != 2)
		goto mail_failed;
	for (i = 0; i < env->nrcpts; i++) {
		if (st[i].kind == ERR_OK)
			nok++;
		else if (refused == NULL || (st[i].kind == ERR_TEMP && ntemp == 0))
			refused = &st[i];
		if (st[i].kind == ERR_TEMP)
			ntemp++;
	}
	if (nok == 0) {
		if (early_data && dr.code == 354)
			goto abort_data;
		goto no_rcpt;
	}

	if (bdat) {
		if (!early_bdat && (send_bdat(s, fd, fsize, e) == -1 || flush(s, e) == -1 ||
		    final_reply(s, &fr, e) == -1))
			goto out;
	} else {
		if (!early_data && (command(s, e, "DATA") == -1 || flush(s, e) == -1 ||
		    txn_reply(s, &dr, e) == -1))
			goto out;
		if (dr.code != 354) {
			if (dr.code / 100 == 4)
				fail_reply(e, ERR_TEMP, CAUSE_TEMP, &dr,
				    "the relay refused DATA for now");
			else if (dr.code / 100 == 5)
				fail_reply(e, ERR_PERM, CAUSE_DATA, &dr, "the relay refused DATA");
			else
				fail_reply(e, ERR_PERM, CAUSE_PROTOCOL, &dr,
				    "unexpected reply to DATA");
			goto out;
		}
		if (send_data_body(s, fd, e) == -1 || final_reply(s, &fr, e) == -1)
			goto out;
	}
	/* The transaction is over either way: no RSET needed. */
	open = 0;
	if (fr.code / 100 == 2) {
		/* First line only: it carries the relay's queue id, for logs and --test. */
		snprintf(s->accepted, sizeof(s->accepted), "%d %.*s", fr.code,
		    (int)strcspn(fr.text, "\n"), fr.text);
		ret = 0;
	}
	else if (fr.code / 100 == 4)
		fail_reply(e, ERR_TEMP, CAUSE_TEMP, &fr, "the relay did not take the message now");
	else if (fr.code / 100 == 5)
		fail_reply(e, ERR_PERM, CAUSE_DATA, &fr, "the relay refused the message");
	else
		fail_reply(e, ERR_PERM, CAUSE_PROTOCOL, &fr,
		    "unexpected reply to the end of the message");
	goto out;

abort_data:
	/* RFC 2920 3.1: DATA was accepted with no recipient; end it empty. */
	trace(s, "--> ", ".");
	if (conn_write(s->conn, ".\r\n", 3, e) == -1 || flush(s, e) == -1 ||
	    txn_reply(s, &r, e) == -1)
		goto out;
no_rcpt:
	if (ntemp > 0)
		err_set(e, ERR_TEMP, CAUSE_TEMP, "no recipient accepted, %zu refused for now",
		    ntemp);
	else
		err_set(e, ERR_PERM, CAUSE_NOUSER, "the relay refused every recipient");
	/* st_set wrote "NNN text": quote the first refusal the way fail_reply does. */
	if (refused != NULL && refused->code > 0)
		err_reply(e, refused->code, refused->reply + 4);
	goto out;

mail_failed:
	if (early_data && dr.code == 354) {
		trace(s, "--> ", ".");
		if (conn_write(s->conn, ".\r\n", 3, e) == -1 || flush(s, e) == -1 ||
		    txn_reply(s, &r, e) == -1)
			goto out;
	}
	if (mr.code / 100 == 4)
		fail_reply(e, ERR_TEMP, CAUSE_TEMP, &mr, "the relay refused the sender <%.100s> "
		    "for now", env->sender);
	else if (mr.code == 552 || strncmp(mr.text, "5.3.4", 5) == 0)
		fail_reply(e, ERR_PERM, CAUSE_DATA, &mr, "the relay refused the message size");
	else if (mr.code / 100 == 5)
		fail_reply(e, ERR_PERM, CAUSE_UNAVAILABLE, &mr,
		    "the relay refused the sender <%.100s>", env->sender);
	else
		fail_reply(e, ERR_PERM, CAUSE_PROTOCOL, &mr, "unexpected reply to MAIL");
out:
	if (ret == -1) {
		/* The transaction may still be open on a live session: close it. */
		if (open && !s->broken) {
			err_init(&le);
			smtp_rset(s, &le);
		}
		/* Dead before MAIL was answered (or with 421 to it): nothing was taken. */
		s->stale = s->broken && (mr.code == 0 || mr.code == 421);
		st_fail(st, env->nrcpts, e);
	}
	if (dfd != -1)
		close(dfd);
	buf_free(&b);
	return ret;
}

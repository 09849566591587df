/*
 * smtp.c: the SMTP client engine. See smtp.h.
 *
 * A session and its transactions go through the states of enum state, as OpenSMTPD's
 * smtp_client.c does: put() is the one place that sends the command of a state, and the
 * rules[] table the one place that judges the reply to it (accepted, or TEMP or PERM with
 * a cause and our words), so "4xx is temporary, 5xx permanent" is written once. Within a
 * transaction, commands that PIPELINING lets go together are noted with their state in
 * the order sent (struct txn's owed[]), and collect() reads their replies in that order.
 *
 * Everything the server sends is parsed under the limits of bounds.h; nothing it sends
 * decides how much we allocate. Every reply line is scrubbed of the secrets the session
 * sent (smtp_secret) before it is traced, kept or quoted. The transcript (-v) goes to
 * stderr, one line per line on the wire, with AUTH secrets and the message body left out.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/attr.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/str.h"
#include "net/stream.h"
#include "smtp/smtp.h"

/* "RCPT TO:<>" and CRLF around an address. */
#define PATH_OVERHEAD 12
/*
 * Commands sent before their replies are read: the replies to a larger group could fill
 * the socket buffers while we are still writing, and both sides would wait (RFC 2920 3.1).
 */
#define PIPE_WINDOW 100
/* What a secret in a reply becomes. */
#define REDACTED "<redacted>"

/* The states of a session; each but the greeting is a command the engine sends. */
enum state {
	S_GREETING, /* nothing to send: the server speaks first */
	S_EHLO,
	S_HELO, /* after a refused EHLO: a server without extensions */
	S_STARTTLS,
	S_AUTH, /* a line of an AUTH exchange with no secret ("AUTH LOGIN", "*") */
	S_AUTH_SECRET, /* one with a secret: redacted in the transcript, cut out of replies */
	S_MAIL,
	S_RCPT,
	S_DATA,
	S_BODY, /* the message, dot-stuffed, and the final dot */
	S_DOT, /* a lone dot: ends a DATA that no recipient is left for */
	S_BDAT, /* BDAT <size> LAST and the message's raw bytes */
	S_RSET,
	S_QUIT, /* its reply is not awaited */
	S_COUNT
};

/* What a reply that does not accept a command means, and our words; %s: what was refused. */
struct verdict {
	enum err_kind kind;
	enum err_cause cause;
	const char *words;
};

/* The reply that accepts the command of a state, and the verdict on any other. */
struct rule {
	int want; /* the one code that accepts; 0: any 2xx */
	struct verdict by_class[4]; /* on a reply of class 2xx, 3xx, 4xx, 5xx */
};

/* clang-format off */
#define NO(k, c, w)	{ ERR_##k, CAUSE_##c, w }
#define ODD(what)	NO(PERM, PROTOCOL, "unexpected reply to " what)
/* The usual row: a 2xx other than the one wanted, or a 3xx, breaks the protocol. */
#define ROW(want, what, temp, perm)	{ want, { ODD(what), ODD(what), temp, perm } }
#define AUTH_ROW	ROW(235, "AUTH", \
			    NO(TEMP, NOPERM, "the relay could not check the login now"), \
			    NO(PERM, NOPERM, "the relay rejected the login"))
/* The final reply, however the message went. */
#define END_ROW(what)	ROW(0, what, \
			    NO(TEMP, TEMP, "the relay did not take the message now"), \
			    NO(PERM, DATA, "the relay refused the message"))
/* clang-format on */

/*
 * The judgement of every reply. AUTH replies are auth.c's to judge, with the provider's
 * hints (smtp_cmd returns them); their rows say what the engine would make of them.
 */
static const struct rule rules[S_COUNT] = {
	[S_GREETING] = { 220,
	    { NO(PERM, PROTOCOL, "the relay sent no 220 greeting"),
		NO(PERM, PROTOCOL, "the relay sent no 220 greeting"),
		NO(TEMP, UNAVAILABLE, "the relay does not accept connections now"),
		NO(PERM, UNAVAILABLE, "the relay refused the connection") } },
	[S_EHLO] = ROW(0, "EHLO", NO(TEMP, TEMP, "the relay refused EHLO for now"),
	    NO(PERM, UNAVAILABLE, "the relay refused EHLO")),
	[S_HELO] = ROW(0, "HELO", NO(TEMP, TEMP, "the relay refused HELO for now"),
	    NO(PERM, UNAVAILABLE, "the relay refused EHLO and HELO")),
	[S_STARTTLS] = { 220,
	    { NO(PERM, UNAVAILABLE, "the relay refused STARTTLS"),
		NO(PERM, UNAVAILABLE, "the relay refused STARTTLS"),
		NO(TEMP, TEMP, "the relay cannot start TLS now"),
		NO(PERM, UNAVAILABLE, "the relay refused STARTTLS") } },
	[S_AUTH] = AUTH_ROW,
	[S_AUTH_SECRET] = AUTH_ROW,
	[S_MAIL] = ROW(0, "MAIL", NO(TEMP, TEMP, "the relay refused the sender <%s> for now"),
	    NO(PERM, UNAVAILABLE, "the relay refused the sender <%s>")),
	[S_RCPT] = ROW(0, "RCPT", NO(TEMP, TEMP, "the relay refused %s for now"),
	    NO(PERM, NOUSER, "the relay refused %s")),
	[S_DATA] = ROW(354, "DATA",
	    NO(TEMP, TEMP, "the relay did not take the message now (at DATA)"),
	    NO(PERM, DATA, "the relay refused the message (at DATA)")),
	[S_BODY] = END_ROW("the end of the message"),
	[S_DOT] = END_ROW("the end of an empty DATA"),
	[S_BDAT] = END_ROW("BDAT"),
	[S_RSET] = { 0,
	    { NO(PERM, TEMP, "the relay refused RSET"), NO(PERM, TEMP, "the relay refused RSET"),
		NO(TEMP, TEMP, "the relay refused RSET"),
		NO(PERM, TEMP, "the relay refused RSET") } },
	[S_QUIT] = ROW(0, "QUIT", ODD("QUIT"), ODD("QUIT")),
};

/* Two more rows: replies that mean the same after whichever command they answer. */
static const struct verdict closed = NO(TEMP, TEMP, "the relay closed the session");
static const struct verdict too_big = NO(PERM, DATA,
    "the message is too large for the relay (SIZE): %s");

#undef NO
#undef ODD
#undef ROW
#undef AUTH_ROW
#undef END_ROW

/* A command whose reply is owed, in a transaction. */
struct owed {
	enum state state;
	size_t rcpt; /* S_RCPT: which recipient */
};

/* One message's transaction (smtp_send). */
struct txn {
	const struct smtp_envelope *env;
	struct smtp_rcpt_status *st;
	int fd;
	uint64_t size; /* declared (SIZE=), checked against the relay's */
	uint64_t fsize; /* bytes in fd: what BDAT sends */
	int open; /* MAIL sent, and no final reply ended it */
	struct smtp_reply mail, data, final; /* code 0 until read */
	struct owed owed[PIPE_WINDOW + 2]; /* sent, reply not read; oldest first */
	size_t nowed;
};

struct smtp {
	struct conn *conn;
	char *helo;
	const char *line; /* the AUTH line smtp_cmd is sending */
	int verbose;
	int timeout_s; /* for each reply, however it trickles in */
	int broken; /* after an I/O or protocol error, or 421 */
	int stale; /* see smtp_stale() */
	struct smtp_caps caps;
	struct buf secrets; /* smtp_secret's strings, each NUL-ended; wiped */
	char greeting[MAX_REPLY_TEXT];
	char accepted[512]; /* the reply that accepted the last message */
};

struct smtp *
smtp_new(struct conn *c, const struct smtp_opts *o)
{
	struct smtp *s;

	s = xcalloc(1, sizeof(*s));
	s->conn = c;
	s->helo = xstrdup(o->helo != NULL && o->helo[0] != '\0' ? o->helo : "localhost");
	s->verbose = o->verbose;
	s->timeout_s = o->timeout_s;
	buf_init_secret(&s->secrets, MAX_SCRUB_TEXT);
	return s;
}

void
smtp_free(struct smtp *s)
{
	if (s == NULL)
		return;
	conn_free(s->conn);
	free(s->helo);
	buf_free(&s->secrets);
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

/* The secrets kept: NUL-ended strings one after the other. */
static const char *
next_secret(const struct smtp *s, const char *p)
{
	const char *end;

	/* None kept: the buffer has no data (NULL), and NULL + 0 is undefined. */
	if (s->secrets.len == 0)
		return NULL;
	end = s->secrets.data + s->secrets.len;
	p = p == NULL ? s->secrets.data : p + strlen(p) + 1;
	return p < end ? p : NULL;
}

int
smtp_secret(struct smtp *s, const char *secret, struct err *e)
{
	const char *p;

	/* The empty response ("=", "") and the cancel ("*") hide nothing. */
	if (secret == NULL || secret[0] == '\0' || strcmp(secret, "=") == 0 ||
	    strcmp(secret, "*") == 0)
		return 0;
	for (p = next_secret(s, NULL); p != NULL; p = next_secret(s, p))
		if (strcmp(p, secret) == 0)
			return 0;
	if (buf_add(&s->secrets, secret, strlen(secret) + 1) == 0)
		return 0;
	return err_set(e, ERR_PERM, CAUSE_SOFTWARE,
	    "more secrets than can be kept out of the "
	    "relay's replies (%d bytes); the AUTH line was not sent",
	    MAX_SCRUB_TEXT);
}

/*
 * Every byte that belongs to an occurrence of a secret is marked first, so that secrets
 * which overlap in the text are cut out whole; each run of marked bytes becomes one
 * REDACTED. What does not fit in size is dropped, never a piece of a secret.
 */
void
smtp_scrub(const struct smtp *s, char *text, size_t size)
{
	const char *p, *q;
	unsigned char *hit = NULL;
	char *copy = NULL;
	size_t len, k, i, out = 0, nhit = 0;

	if (s->secrets.len == 0 || size == 0)
		return;
	len = strlen(text);
	hit = xcalloc(len + 1, 1);
	for (p = next_secret(s, NULL); p != NULL; p = next_secret(s, p)) {
		k = strlen(p);
		for (q = text; (q = memmem(q, len - (size_t)(q - text), p, k)) != NULL; q++) {
			memset(hit + (q - text), 1, k);
			nhit++;
		}
	}
	if (nhit == 0)
		goto out;
	copy = xstrdup(text);
	for (i = 0; i < len;) {
		if (!hit[i]) {
			if (out + 1 >= size)
				break;
			text[out++] = copy[i++];
			continue;
		}
		if (out + strlen(REDACTED) >= size)
			break;
		memcpy(text + out, REDACTED, strlen(REDACTED));
		out += strlen(REDACTED);
		while (i < len && hit[i])
			i++;
	}
	text[out] = '\0';
	/* Nothing of the original text stays behind the new end either. */
	if (len > out)
		explicit_bzero(text + out + 1, len - out);
	explicit_bzero(copy, len);
out:
	free(copy);
	free(hit);
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
		if (n - 5 <= MAX_MECH_NAME && line[n] == '\0') {
			trace(s, "--> ", line);
			return;
		}
		if (n - 5 <= MAX_MECH_NAME) {
			snprintf(shown, sizeof(shown), "%.*s " REDACTED, (int)n, line);
			trace(s, "--> ", shown);
			return;
		}
	}
	trace(s, "--> ", REDACTED);
}

/* What a line with a secret hides: all after "AUTH MECH " on an AUTH line, else all. */
static int
remember(struct smtp *s, const char *line, struct err *e)
{
	size_t n;

	if (startswith_ci(line, "AUTH ")) {
		n = 5 + strcspn(line + 5, " ");
		line += line[n] == ' ' ? n + 1 : n;
	}
	return smtp_secret(s, line, e);
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
	if (redact && remember(s, line, e) == -1)
		goto out;
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
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' || line[2] < '0' ||
	    line[2] > '9')
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
	char q[MAX_REPLY_QUOTE + 4];
	size_t i;

	for (i = 0; line[i] != '\0' && i < MAX_REPLY_QUOTE; i++)
		q[i] = (unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f ? '?'
										       : line[i];
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
	char m[MAX_MECH_NAME + 1];
	size_t n, i, have;
	int ok;

	for (;;) {
		arg += strspn(arg, " ");
		if ((n = strcspn(arg, " ")) == 0)
			break;
		ok = n <= MAX_MECH_NAME;
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
 * With caps, the lines after the first are EHLO keywords. Each line's text is scrubbed
 * of the secrets before it is traced or kept. Any failure leaves the session unusable:
 * we cannot find the start of the next reply.
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
	/* The whole reply in time: a relay dripping a byte at a time cannot hold us longer. */
	conn_read_within(s->conn, s->timeout_s);
	while (!last) {
		if (nlines == MAX_REPLY_LINES) {
			err_set(e, ERR_PERM, CAUSE_PROTOCOL,
			    "server sent a reply of more than %d lines", MAX_REPLY_LINES);
			goto fail;
		}
		if ((len = conn_readline(s->conn, line, sizeof(line), e)) == -1)
			goto fail;
		if (smtp_parse_reply_line(line, (size_t)len, &code, &last, &text) == -1 ||
		    (nlines > 0 && code != r->code)) {
			smtp_scrub(s, line, sizeof(line));
			trace(s, "<-- ", line);
			malformed(line, e);
			goto fail;
		}
		/* The text only: a secret must not eat the code. */
		smtp_scrub(s, line + (text - line), sizeof(line) - (size_t)(text - line));
		trace(s, "<-- ", line);
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
	conn_read_within(s->conn, 0);
	return ret;
}

/*
 * A refusal of the message's size: RFC 1870 6.1's 552 to MAIL, or RFC 3463's 5.3.4
 * (message too big) wherever the message is judged. After the data a 552 with another
 * enhanced code is something else (5.2.2 is a full mailbox).
 */
static int
too_large(enum state st, const struct smtp_reply *r)
{
	const char *t = r->text;
	int enhanced = isdigit((unsigned char)t[0]) && t[1] == '.';

	if (st != S_MAIL && st != S_DATA && st != S_BODY && st != S_BDAT)
		return 0;
	if (strncmp(t, "5.3.4", 5) == 0 && !isdigit((unsigned char)t[5]))
		return 1;
	return r->code == 552 && (st == S_MAIL || !enhanced);
}

/* NULL when r accepts the command of state st; else the verdict on it (rules[]). */
static const struct verdict *
judge(enum state st, const struct smtp_reply *r)
{
	const struct rule *u = &rules[st];

	if (u->want != 0 ? r->code == u->want : r->code / 100 == 2)
		return NULL;
	/* 421 ends the session whatever command of the envelope it answers. */
	if (r->code == 421 && (st == S_MAIL || st == S_RCPT || st == S_DATA || st == S_DOT))
		return &closed;
	if (r->code / 100 == 5 && too_large(st, r))
		return &too_big;
	return &u->by_class[r->code / 100 - 2];
}

/* e: our words for v (subject fills its %s), and the server's reply apart, if any. */
static int
refuse(struct err *e, const struct verdict *v, const char *subject, const struct smtp_reply *r)
{
	if (err_failed(e))
		return -1;
	err_set(e, v->kind, v->cause, v->words, subject);
	if (r != NULL)
		err_reply(e, r->code, r->text);
	return -1;
}

/* 0 when r accepts the command of st, else -1 with e. */
static int
judged(enum state st, const struct smtp_reply *r, struct err *e)
{
	const struct verdict *v = judge(st, r);

	return v == NULL ? 0 : refuse(e, v, "", r);
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
rcpt_line(const struct smtp *s, const struct smtp_envelope *env, const char *rcpt, struct buf *b)
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
 * S_BODY: the spool is canonical CRLF; only the dots need stuffing. Pieces go through the
 * conn's buffer, which leaves in 64 KiB writes, never one per line.
 */
static int
send_body(struct smtp *s, int fd, struct err *e)
{
	const char *p, *seg, *end, *nl;
	uint64_t total = 0;
	char *in, lastc = '\n';
	size_t blk = io_block_for(fd);
	ssize_t n;
	int bol = 1, ret = -1;

	in = xmalloc(blk);
	for (;;) {
		if ((n = spool_read(fd, in, blk, (off_t)total, e)) == -1)
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
	if (conn_write(s->conn, ".\r\n", 3, e) == -1)
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

/* S_BDAT: "BDAT n LAST" and exactly n raw bytes, queued. */
static int
send_bdat(struct smtp *s, int fd, uint64_t size, struct err *e)
{
	char cmd[64], *in;
	uint64_t off = 0;
	size_t want;
	ssize_t n;
	int ret = -1;

	in = xmalloc(IO_BLOCK);
	snprintf(cmd, sizeof(cmd), "BDAT %llu LAST", (unsigned long long)size);
	if (put_line(s, cmd, 0, e) == -1)
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

/* S_RCPT: an address that cannot be sent is refused alone; NULL when it can go. */
static const char *
rcpt_unsendable(const struct smtp *s, const struct smtp_envelope *env, size_t i, struct buf *b)
{
	const char *why;

	if ((why = bad_path(env->rcpts[i])) != NULL)
		return why;
	return rcpt_line(s, env, env->rcpts[i], b) != 0 ? "RCPT command too long, not sent" : NULL;
}

/*
 * The one place that sends the command of each state, queued in the conn (flush() sends
 * it). Within a transaction t the reply is owed from now on, and collect() reads it.
 */
static int
put(struct smtp *s, enum state st, struct txn *t, size_t i, struct err *e)
{
	struct buf b;
	const char *why;
	int r = 0, ret = -1;

	buf_init(&b, st == S_MAIL || st == S_RCPT ? MAX_AUTH_LINE : MAX_COMMAND_LINE - 2);
	switch (st) {
	case S_GREETING:
	case S_COUNT:
		ret = 0;
		goto out;
	case S_EHLO:
	case S_HELO:
		r = buf_addf(&b, "%s %s", st == S_EHLO ? "EHLO" : "HELO", s->helo);
		break;
	case S_STARTTLS:
	case S_DATA:
	case S_RSET:
	case S_QUIT:
		r = buf_addstr(&b,
		    st == S_STARTTLS   ? "STARTTLS"
			: st == S_DATA ? "DATA"
			: st == S_RSET ? "RSET"
				       : "QUIT");
		break;
	case S_AUTH:
	case S_AUTH_SECRET:
		ret = put_line(s, s->line, st == S_AUTH_SECRET, e);
		goto out;
	case S_MAIL:
		if (mail_line(s, t->env, t->size, &b) != 0) {
			err_set(e, ERR_PERM, CAUSE_DATA, "MAIL command too long, not sent");
			goto out;
		}
		break;
	case S_RCPT:
		if ((why = rcpt_unsendable(s, t->env, i, &b)) != NULL) {
			st_set(&t->st[i], ERR_PERM, 0, why);
			ret = 0;
			goto out;
		}
		break;
	case S_BODY:
		ret = send_body(s, t->fd, e);
		goto owed;
	case S_DOT:
		trace(s, "--> ", ".");
		if ((ret = conn_write(s->conn, ".\r\n", 3, e)) == -1)
			s->broken = 1;
		goto owed;
	case S_BDAT:
		ret = send_bdat(s, t->fd, t->fsize, e);
		goto owed;
	}
	if (r != 0) {
		err_set(e, ERR_PERM, CAUSE_DATA, "command longer than %d bytes, not sent",
		    MAX_COMMAND_LINE);
		goto out;
	}
	ret = put_line(s, buf_cstr(&b), 0, e);
owed:
	if (ret == 0 && t != NULL) {
		/* PIPE_WINDOW commands and DATA or BDAT at most: a reply lost would desync. */
		if (t->nowed == sizeof(t->owed) / sizeof(t->owed[0])) {
			s->broken = 1;
			ret = err_set(e, ERR_PERM, CAUSE_SOFTWARE,
			    "more commands sent than "
			    "replies awaited");
			goto out;
		}
		t->owed[t->nowed].state = st;
		t->owed[t->nowed++].rcpt = i;
		t->open |= st == S_MAIL;
	}
out:
	buf_free(&b);
	return ret;
}

/* Outside a transaction: send the command of st and read its reply. */
static int
ask(struct smtp *s, enum state st, struct smtp_reply *r, struct smtp_caps *caps, struct err *e)
{
	if (usable(s, e) == -1 || put(s, st, NULL, 0, e) == -1 || flush(s, e) == -1)
		return -1;
	return read_reply(s, r, caps, e);
}

int
smtp_greeting(struct smtp *s, struct err *e)
{
	struct smtp_reply r;
	int ret = -1;

	if (ask(s, S_GREETING, &r, NULL, e) == -1)
		goto out;
	snprintf(s->greeting, sizeof(s->greeting), "%s", r.text);
	ret = judged(S_GREETING, &r, e);
out:
	return ret;
}

int
smtp_ehlo(struct smtp *s, struct err *e)
{
	struct smtp_caps caps;
	struct smtp_reply r;
	const struct verdict *v;
	int ret = -1;

	/* What a server said before (TLS, or a previous EHLO) is not to be trusted now. */
	memset(&s->caps, 0, sizeof(s->caps));
	memset(&caps, 0, sizeof(caps));
	if (ask(s, S_EHLO, &r, &caps, e) == -1)
		goto out;
	if ((v = judge(S_EHLO, &r)) == NULL) {
		caps.esmtp = 1;
		s->caps = caps;
		ret = 0;
		goto out;
	}
	/* Refused: an old server that knows no EHLO. Plain SMTP, no extensions. */
	if (v->kind != ERR_PERM || v->cause != CAUSE_UNAVAILABLE) {
		refuse(e, v, "", &r);
		goto out;
	}
	if (ask(s, S_HELO, &r, NULL, e) == -1)
		goto out;
	ret = judged(S_HELO, &r, e);
out:
	return ret;
}

int
smtp_starttls(struct smtp *s, struct err *e)
{
	struct smtp_reply r;
	int ret = -1;

	if (ask(s, S_STARTTLS, &r, NULL, e) == -1 || judged(S_STARTTLS, &r, e) == -1)
		goto out;
	/*
	 * Bytes already here were sent in the clear but would be read as if they came
	 * through TLS (CVE-2011-0411 and its kin).
	 */
	if (conn_pending(s->conn) != 0) {
		s->broken = 1;
		err_set(e, ERR_PERM, CAUSE_PROTOCOL,
		    "server sent data after its "
		    "STARTTLS reply (possible STARTTLS injection attack): aborting");
		goto out;
	}
	memset(&s->caps, 0, sizeof(s->caps));
	ret = 0;
out:
	return ret;
}

int
smtp_cmd(struct smtp *s, const char *line, int redact, struct smtp_reply *r, struct err *e)
{
	int ret = -1;

	if (strlen(line) > MAX_AUTH_LINE - 2) {
		err_set(e, ERR_PERM, CAUSE_DATA, "command longer than %d bytes, not sent",
		    MAX_AUTH_LINE);
		goto out;
	}
	s->line = line;
	ret = ask(s, redact ? S_AUTH_SECRET : S_AUTH, r, NULL, e);
	s->line = NULL;
out:
	return ret;
}

int
smtp_rset(struct smtp *s, struct err *e)
{
	struct smtp_reply r;

	if (ask(s, S_RSET, &r, NULL, e) == -1)
		return -1;
	return judged(S_RSET, &r, e);
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
	if (put(s, S_QUIT, NULL, 0, &e) == 0)
		flush(s, &e);
	s->broken = 1;
}

int
smtp_envelope_ascii(const struct smtp_envelope *env)
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

/* Both sizes, for a refusal of the message's size. */
static void
size_words(const struct smtp *s, uint64_t size, char *w, size_t n)
{
	if (s->caps.size_max != 0)
		snprintf(w, n, "%llu bytes, the relay accepts at most %llu",
		    (unsigned long long)size, (unsigned long long)s->caps.size_max);
	else
		snprintf(w, n, "%llu bytes; the relay announced no limit",
		    (unsigned long long)size);
}

/* 0 when r accepts the command of st; else -1 with e, in words that name what it refused. */
static int
txn_judged(const struct smtp *s, const struct txn *t, enum state st, const struct smtp_reply *r,
    struct err *e)
{
	const struct verdict *v = judge(st, r);
	char subject[160];

	if (v == NULL)
		return 0;
	if (v == &too_big)
		size_words(s, t->size, subject, sizeof(subject));
	else
		snprintf(subject, sizeof(subject), "%.100s", t->env->sender);
	return refuse(e, v, subject, r);
}

/* What is refused before a byte is sent: the count, SMTPUTF8, SIZE, the sender. */
static int
txn_check(struct smtp *s, struct txn *t, struct err *e)
{
	const struct smtp_envelope *env = t->env;
	struct stat sb;
	const char *why;
	char w[160];
	int ret = -1;

	if (usable(s, e) == -1)
		goto out;
	if (env->nrcpts == 0 || env->nrcpts > MAX_RECIPIENTS) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "%zu recipients: 1 to %d are allowed",
		    env->nrcpts, MAX_RECIPIENTS);
		goto out;
	}
	if (fstat(t->fd, &sb) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot read the spool file: %s",
		    strerror(errno));
		goto out;
	}
	t->fsize = (uint64_t)sb.st_size;
	t->size = env->size != 0 ? env->size : t->fsize;
	/* Headers can be downgraded, by the caller (smtp.h); an address cannot. */
	if (env->smtputf8 && !s->caps.smtputf8) {
		err_set(e, ERR_PERM, CAUSE_DATA, "the relay does not support SMTPUTF8 and %s",
		    smtp_envelope_ascii(env) ? "the message's headers need it"
					     : "an envelope address is not ASCII");
		goto out;
	}
	if (s->caps.size && s->caps.size_max != 0 && t->size > s->caps.size_max) {
		size_words(s, t->size, w, sizeof(w));
		refuse(e, &too_big, w, NULL);
		goto out;
	}
	if ((why = bad_path(env->sender)) != NULL) {
		err_set(e, ERR_PERM, CAUSE_DATA, "sender <%.100s> not sent: %s", env->sender, why);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/*
 * The reply to the message itself failed: e (clean before) says so in words of its own,
 * with the cause read_reply gave. NOINLINE (base/attr.h): the copy of that cause is
 * on the stack only when it happens.
 */
static NOINLINE void
lost_final(struct err *e)
{
	char why[MAX_ERROR_TEXT];

	snprintf(why, sizeof(why), "%s", e->msg);
	err_init(e);
	err_set(e, ERR_TEMP, CAUSE_TEMP,
	    "connection lost after the message was "
	    "sent, before the server confirmed it (%s)",
	    why);
}

/* read_reply's failure under an err that failed already: e keeps its first cause. */
static NOINLINE int
read_final_failed(struct smtp *s, struct smtp_reply *r)
{
	struct err le;

	err_init(&le);
	return read_reply(s, r, NULL, &le);
}

/*
 * The reply after the message's data: a failure to read it is the connection lost at the
 * worst moment, said so. read_reply writes into e directly (no second struct err, 5 KiB,
 * on the deepest stack of every message sent) and lost_final words it afterwards.
 */
static int
read_final(struct smtp *s, struct smtp_reply *r, struct err *e)
{
	int ret;

	if (err_failed(e))
		return read_final_failed(s, r);
	if ((ret = read_reply(s, r, NULL, e)) == -1)
		lost_final(e);
	return ret;
}

/*
 * The reply owed for a command of state st. 421 fails the transaction, whatever it
 * answers. Lost after the message was sent, the message may have been taken: TEMP, so
 * that it stays queued (a duplicate beats a loss).
 */
static int
read_owed(struct smtp *s, const struct txn *t, enum state st, struct smtp_reply *r, struct err *e)
{
	int ret = -1;

	if (st == S_BODY || st == S_BDAT) {
		if (read_final(s, r, e) == -1)
			goto out;
	} else if (read_reply(s, r, NULL, e) == -1 ||
	    (judge(st, r) == &closed && txn_judged(s, t, st, r, e) == -1))
		goto out;
	ret = 0;
out:
	return ret;
}

/* A recipient's own verdict, with the relay's reply. */
static void
rcpt_status(struct smtp_rcpt_status *st, const struct smtp_reply *r)
{
	const struct verdict *v = judge(S_RCPT, r);

	st_set(st, v == NULL ? ERR_OK : v->kind, r->code, r->text);
}

/*
 * Send what put() queued, then read every reply owed, oldest first, and keep each where
 * it belongs: MAIL's, each recipient's status, DATA's, the final one.
 */
static int
collect(struct smtp *s, struct txn *t, struct err *e)
{
	struct smtp_reply r;
	const struct owed *o;
	size_t k;
	int ret = -1;

	if (flush(s, e) == -1)
		goto out;
	for (k = 0; k < t->nowed; k++) {
		o = &t->owed[k];
		if (read_owed(s, t, o->state, &r, e) == -1)
			goto out;
		if (o->state == S_MAIL)
			t->mail = r;
		else if (o->state == S_DATA)
			t->data = r;
		else if (o->state == S_BODY || o->state == S_BDAT)
			t->final = r;
		/* After a refused MAIL the server still answers every RCPT: read, not kept. */
		else if (o->state == S_RCPT && judge(S_MAIL, &t->mail) == NULL)
			rcpt_status(&t->st[o->rcpt], &r);
	}
	ret = 0;
out:
	t->nowed = 0;
	return ret;
}

/*
 * MAIL and every RCPT, then DATA, or BDAT with a small message, when PIPELINING lets them
 * go together; their replies read. Without PIPELINING each command waits for its reply;
 * with it, PIPE_WINDOW commands at most go before the replies are read.
 */
static int
send_envelope(struct smtp *s, struct txn *t, struct err *e)
{
	size_t i, window = s->caps.pipelining ? PIPE_WINDOW : 1;
	int ret = -1;

	if (put(s, S_MAIL, t, 0, e) == -1)
		goto out;
	for (i = 0; i < t->env->nrcpts; i++) {
		if (t->nowed >= window) {
			if (collect(s, t, e) == -1)
				goto out;
			/* Refused: send_message says so. */
			if (judge(S_MAIL, &t->mail) != NULL) {
				ret = 0;
				goto out;
			}
		}
		if (put(s, S_RCPT, t, i, e) == -1)
			goto out;
	}
	if (s->caps.pipelining && !s->caps.chunking && put(s, S_DATA, t, 0, e) == -1)
		goto out;
	if (s->caps.pipelining && s->caps.chunking && t->fsize <= MAX_BDAT_PIPELINE &&
	    put(s, S_BDAT, t, 0, e) == -1)
		goto out;
	ret = collect(s, t, e);
out:
	return ret;
}

/*
 * No recipient accepted: the words name the first refused, or the first refused for now
 * when some were (then the message is worth another try), and quote its reply.
 */
static int
no_rcpt(const struct txn *t, struct err *e)
{
	const struct smtp_rcpt_status *st = t->st;
	size_t i, n = t->env->nrcpts, ntemp = 0, at = 0;
	char subject[MAX_COMMAND_LINE + 64];

	for (i = 0; i < n; i++)
		if (st[i].kind == ERR_TEMP && ntemp++ == 0)
			at = i;
	if (n == 1)
		snprintf(subject, sizeof(subject), "the recipient <%s>", t->env->rcpts[at]);
	else if (ntemp > 0 && ntemp < n)
		snprintf(subject, sizeof(subject), "%zu of %zu recipients (<%s> first)", ntemp, n,
		    t->env->rcpts[at]);
	else
		snprintf(subject, sizeof(subject), "all %zu recipients (<%s> first)", n,
		    t->env->rcpts[at]);
	refuse(e, &rules[S_RCPT].by_class[ntemp > 0 ? 2 : 3], subject, NULL);
	/* st_set wrote "NNN text": quote the refusal the way refuse() does. */
	if (st[at].code > 0)
		err_reply(e, st[at].code, st[at].reply + 4);
	return -1;
}

/* RFC 2920 3.1: a DATA accepted with the envelope, but with nothing to carry, ends empty. */
static int
end_data(struct smtp *s, struct txn *t, struct err *e)
{
	if (t->data.code != 354)
		return 0;
	return put(s, S_DOT, t, 0, e) == -1 || collect(s, t, e) == -1 ? -1 : 0;
}

/*
 * After the envelope: the message by DATA and its body, or by BDAT (unless it went with
 * the envelope), and the verdict on the relay's final reply.
 */
static int
send_message(struct smtp *s, struct txn *t, struct err *e)
{
	enum state fin = s->caps.chunking ? S_BDAT : S_BODY;
	size_t i, nok = 0;
	int ret = -1;

	for (i = 0; i < t->env->nrcpts; i++)
		nok += t->st[i].kind == ERR_OK;
	/* A refused sender, or no recipient left: nothing to send but the reason. */
	if (judge(S_MAIL, &t->mail) != NULL || nok == 0) {
		if (end_data(s, t, e) == -1)
			goto out;
		if (judge(S_MAIL, &t->mail) != NULL)
			txn_judged(s, t, S_MAIL, &t->mail, e);
		else
			no_rcpt(t, e);
		goto out;
	}
	if (fin == S_BODY && t->data.code == 0 &&
	    (put(s, S_DATA, t, 0, e) == -1 || collect(s, t, e) == -1))
		goto out;
	if (fin == S_BODY && txn_judged(s, t, S_DATA, &t->data, e) == -1)
		goto out;
	if (t->final.code == 0 && (put(s, fin, t, 0, e) == -1 || collect(s, t, e) == -1))
		goto out;
	/* The transaction is over either way: no RSET needed. */
	t->open = 0;
	if (txn_judged(s, t, fin, &t->final, e) == -1)
		goto out;
	/* First line only: it carries the relay's queue id, for logs and --test. */
	snprintf(s->accepted, sizeof(s->accepted), "%d %.*s", t->final.code,
	    (int)strcspn(t->final.text, "\n"), t->final.text);
	ret = 0;
out:
	return ret;
}

/*
 * RSET after a failed transaction; its own failure changes nothing (the first error
 * stands). NOINLINE (base/attr.h): its error is on the stack only on this path, not under
 * every transaction's replies, which a -bd worker would keep dirty.
 */
static NOINLINE void
txn_abort(struct smtp *s)
{
	struct err le;

	err_init(&le);
	smtp_rset(s, &le);
}

/* After a failure, every recipient without its own refusal carries the failure. */
static void
st_fail(struct smtp_rcpt_status *st, size_t n, const struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (st[i].kind != ERR_OK && st[i].reply[0] != '\0')
			continue;
		st_set(&st[i], e->kind, 0, e->reply[0] != '\0' ? e->reply : e->msg);
		st[i].code = e->code;
	}
}

int
smtp_send(struct smtp *s, const struct smtp_envelope *env, int fd, struct smtp_rcpt_status *st,
    struct err *e)
{
	struct txn t;
	size_t i;
	int ret = -1;

	memset(&t, 0, sizeof(t));
	t.env = env;
	t.st = st;
	t.fd = fd;
	s->stale = 0;
	for (i = 0; i < env->nrcpts; i++)
		st_set(&st[i], ERR_TEMP, 0, "");
	if (txn_check(s, &t, e) == -1 || send_envelope(s, &t, e) == -1 ||
	    send_message(s, &t, e) == -1)
		goto fail;
	ret = 0;
	goto out;
fail:
	/* The transaction may still be open on a live session: close it. */
	if (t.open && !s->broken)
		txn_abort(s);
	/* Dead before MAIL was answered (or with 421 to it): nothing was taken. */
	s->stale = s->broken && (t.mail.code == 0 || t.mail.code == 421);
	st_fail(st, env->nrcpts, e);
out:
	return ret;
}

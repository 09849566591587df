/*
 * serve.c: the SMTP server dialogue of `sendmail -bs`. See serve.h.
 *
 * The client is a local program (Symfony Mailer, SwiftMailer, Laravel) that believes it
 * talks to sendmail. Everything it sends is treated as hostile all the same: every line
 * is bounded, every address and parameter checked, and a client that only produces
 * errors is sent away.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/attr.h"
#include "base/base64.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/path.h"
#include "base/priv.h"
#include "smtp/serve.h"
#include "net/stream.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/str.h"

enum rd {
	RD_LINE, /* a line is in the buffer */
	RD_LONG, /* a line was too long; it has been skipped */
	RD_EOF, /* the client closed its side */
	RD_TIMEOUT, /* the client was silent for timeout_s */
	RD_ERROR, /* read error (err set) */
};

struct session {
	struct conn *c;
	const struct serve_opts *o;
	struct err *e;
	int dead; /* a write failed: stop talking */
	int nerrors;
	int crlf; /* a command line ended in CRLF (see cmd_data) */
	int last_crlf; /* the last line read ended in CRLF */
	char helo[MAX_DOMAIN + 1];
	int esmtp;
	int tls; /* STARTTLS done */
	int authed; /* a good AUTH in this session */
	int auth_failures;
	char *dline; /* DATA line buffer (xmap), MAX_SERVE_DATA_LINE, made at first DATA */

	/* The current transaction. */
	int in_mail;
	char *sender;
	char **rcpts;
	char **notify;
	char **orcpt;
	size_t nrcpts;
	size_t cap;
	uint64_t size;
	int body_8bit;
	int smtputf8;
	char *ret;
	char *envid;
};

/* The session's name in errors: "-bs", or the listener's "client 192.0.2.7". */
#define WHO(s) ((s)->o->who != NULL ? (s)->o->who : "-bs")

/* AUTH is offered: on loopback (auth_offer), or once the session is encrypted. */
#define AUTH_NOW(s) ((s)->o->auth != NULL && ((s)->o->auth_offer || (s)->tls))

static int reply(struct session *, int, const char *, ...) __attribute__((format(printf, 3, 4)));
static int reply_more(struct session *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct session *, int, const char *, ...) __attribute__((format(printf, 3, 4)));

/* Client text echoed in a reply must not end the line or smuggle a control. */
static void
sanitize(char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
}

/* Queue one reply line; sep is ' ' for the last line of a reply, '-' before more. */
static int
vreply(struct session *s, int code, char sep, const char *fmt, va_list ap)
{
	char text[MAX_REPLY_LINE];
	char head[8];
	int ret = -1;

	vsnprintf(text, sizeof(text), fmt, ap);
	sanitize(text);
	snprintf(head, sizeof(head), "%03d%c", code, sep);
	if (s->dead)
		goto out;
	if (conn_puts(s->c, head, s->e) == -1 || conn_puts(s->c, text, s->e) == -1 ||
	    conn_puts(s->c, "\r\n", s->e) == -1) {
		s->dead = 1;
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static int
reply(struct session *s, int code, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vreply(s, code, ' ', fmt, ap);
	va_end(ap);
	return ret;
}

static int
reply_more(struct session *s, int code, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vreply(s, code, '-', fmt, ap);
	va_end(ap);
	return ret;
}

/* A reply to a broken or out-of-place command: too many of them end the session. */
static int
bad(struct session *s, int code, const char *fmt, ...)
{
	va_list ap;
	int ret;

	s->nerrors++;
	va_start(ap, fmt);
	ret = vreply(s, code, ' ', fmt, ap);
	va_end(ap);
	return ret;
}

/* Send what is queued unless more pipelined commands are already waiting (RFC 2920). */
static int
flush_if_idle(struct session *s)
{
	if (!s->dead && conn_pending(s->c) == 0 && conn_flush(s->c, s->e) == -1)
		s->dead = 1;
	return s->dead ? -1 : 0;
}

static enum rd
get_line(struct session *s, char *line, size_t max, size_t *len)
{
	struct err le;
	int64_t t0 = now_ms();
	ssize_t n;
	enum rd ret = RD_LINE;

	if (flush_if_idle(s) == -1) {
		ret = RD_ERROR;
		goto out;
	}
	err_init(&le);
	if ((n = conn_readline_crlf(s->c, line, max, &s->last_crlf, &le)) >= 0) {
		*len = (size_t)n;
		goto out;
	}
	if (le.cause == CAUSE_PROTOCOL) {
		/* Too long: skip the rest, so that the next line starts clean. */
		do {
			err_init(&le);
			n = conn_readline_crlf(s->c, line, max, &s->last_crlf, &le);
		} while (n < 0 && le.cause == CAUSE_PROTOCOL);
		if (n >= 0) {
			ret = RD_LONG;
			goto out;
		}
	}
	/*
	 * conn_readline reports end of input and a time-out alike (TEMP): the time that
	 * passed tells them apart. A read error is an error whenever it happens.
	 */
	if (le.cause == CAUSE_IOERR) {
		err_set(s->e, le.kind, le.cause, "%s", le.msg);
		ret = RD_ERROR;
	} else if (s->o->timeout_s > 0 && now_ms() - t0 >= (int64_t)s->o->timeout_s * 1000 - 50)
		ret = RD_TIMEOUT;
	else
		ret = RD_EOF;
out:
	return ret;
}

static void
txn_reset(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++) {
		free(s->rcpts[i]);
		free(s->notify[i]);
		free(s->orcpt[i]);
	}
	free(s->rcpts);
	free(s->notify);
	free(s->orcpt);
	free(s->sender);
	free(s->ret);
	free(s->envid);
	s->rcpts = s->notify = s->orcpt = NULL;
	s->sender = s->ret = s->envid = NULL;
	s->nrcpts = s->cap = 0;
	s->in_mail = 0;
	s->size = 0;
	s->body_8bit = s->smtputf8 = 0;
}

/*
 * Check an address from a path: printable, bounded, local part quoted or without
 * specials, a domain (if any) of letters, digits, '-', '.', UTF-8, or a [literal].
 * NULL if fine, else why not.
 */
static const char *
addr_problem(const char *a)
{
	const char *p, *at = NULL;
	int q = 0;

	if (strlen(a) > MAX_ADDRESS)
		return "address too long";
	for (p = a; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "control character in address";
		if (q && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			q = !q;
		else if (!q && *p == '@')
			at = p;
		else if (!q && at == NULL && strchr(" ()<>,;:\\[]", *p) != NULL)
			return "special character in local part (it needs quotes)";
	}
	if (q)
		return "unterminated quoted string";
	if (at == a || a[0] == '\0')
		return "empty local part";
	if (at == NULL)
		return NULL;
	p = at + 1;
	if (*p == '\0')
		return "empty domain";
	if (*p == '[')
		return p[strlen(p) - 1] == ']' && strchr(p + 1, '[') == NULL
		    ? NULL
		    : "bad domain literal";
	for (; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' &&
		    (unsigned char)*p < 0x80)
			return "bad character in domain";
	return NULL;
}

/*
 * Parse "<path> params" after "FROM:" or "TO:". *addr points into s (the path without
 * brackets and source route), *rest at the parameters. A missing bracket is tolerated
 * (sendmail does). NULL if fine, else why not.
 */
static const char *
parse_path(char *s, char **addr, char **rest)
{
	char *p, *a;
	int q = 0;

	while (*s == ' ')
		s++;
	if (*s != '<') {
		a = s;
		for (p = s; *p != '\0' && *p != ' '; p++)
			;
	} else {
		a = ++s;
		for (p = s; *p != '\0'; p++) {
			if (q && *p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				q = !q;
			else if (!q && *p == '>')
				break;
		}
		if (*p != '>')
			return "missing '>'";
	}
	if (*p != '\0')
		*p++ = '\0';
	/* A source route (@a,@b:user@c) is obsolete; RFC 5321 C says to ignore it. */
	if (*a == '@') {
		while (*a != '\0' && *a != ':')
			a++;
		if (*a != ':')
			return "bad source route";
		a++;
	}
	while (*p == ' ')
		p++;
	*addr = a;
	*rest = p;
	return NULL;
}

/* Next "KEY[=VALUE]" from a parameter list; NULL at the end. */
static char *
next_param(char **rest, char **value)
{
	char *p = *rest, *k, *eq;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return NULL;
	k = p;
	while (*p != '\0' && *p != ' ')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*rest = p;
	*value = NULL;
	if ((eq = strchr(k, '=')) != NULL) {
		*eq = '\0';
		*value = eq + 1;
	}
	return k;
}

/* RFC 3461 4: xtext, "+" and two upper-case hex digits for anything special. */
static char *
xtext_decode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;
	const char *h, *l;
	char *ret = NULL;

	buf_init(&b, strlen(s));
	for (; *s != '\0'; s++) {
		if (*s < 33 || *s > 126 || *s == '=')
			goto out;
		if (*s != '+') {
			if (buf_addc(&b, *s) == -1)
				goto out;
			continue;
		}
		if (s[1] == '\0' || s[2] == '\0' || (h = strchr(hex, s[1])) == NULL ||
		    (l = strchr(hex, s[2])) == NULL)
			goto out;
		if (buf_addc(&b, (char)((h - hex) * 16 + (l - hex))) == -1)
			goto out;
		s += 2;
	}
	ret = buf_steal(&b);
out:
	buf_free(&b);
	return ret;
}

static void
upcase(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)toupper((unsigned char)*s);
}

static int
cmd_helo(struct session *s, char *arg, int esmtp)
{
	const struct serve_opts *o = s->o;
	int ret = -1;

	if (*arg == '\0') {
		ret = bad(s, 501, "5.5.4 Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		goto out;
	}
	txn_reset(s);
	snprintf(s->helo, sizeof(s->helo), "%s", arg);
	sanitize(s->helo);
	s->esmtp = esmtp;
	if (!esmtp) {
		ret = reply(s, 250, "%s Hello %s", o->hostname, s->helo);
		goto out;
	}
	/* Only what we honour: no CHUNKING, AUTH or STARTTLS on a local pipe. */
	if (reply_more(s, 250, "%s Hello %s", o->hostname, s->helo) == -1 ||
	    reply_more(s, 250, "PIPELINING") == -1 || reply_more(s, 250, "8BITMIME") == -1 ||
	    reply_more(s, 250, "SIZE %llu", (unsigned long long)o->max_size) == -1 ||
	    reply_more(s, 250, "DSN") == -1 || reply_more(s, 250, "SMTPUTF8") == -1 ||
	    reply_more(s, 250, "ENHANCEDSTATUSCODES") == -1 ||
	    (o->starttls != NULL && !s->tls && reply_more(s, 250, "STARTTLS") == -1) ||
	    (AUTH_NOW(s) && reply_more(s, 250, "AUTH PLAIN LOGIN") == -1))
		goto out;
	ret = reply(s, 250, "HELP");
out:
	return ret;
}

/*
 * One MAIL parameter into the transaction. 0 if taken; else the reply code (501 bad
 * value, 552 too big, 555 unknown) with *why.
 */
static int
mail_param(struct session *s, const char *k, const char *v, const char **why)
{
	uint64_t size;
	int code = 501;

	*why = "Bad value for";
	if (streq_ci(k, "SIZE") && v != NULL) {
		if (parse_uint(v, 0, UINT64_MAX, &size) == -1)
			goto out;
		if (s->o->max_size > 0 && size > s->o->max_size) {
			code = 552;
			goto out;
		}
		s->size = size;
	} else if (streq_ci(k, "BODY") && v != NULL) {
		if (streq_ci(v, "8BITMIME"))
			s->body_8bit = 1;
		else if (!streq_ci(v, "7BIT"))
			goto out;
	} else if (streq_ci(k, "SMTPUTF8") && v == NULL)
		s->smtputf8 = 1;
	else if (streq_ci(k, "RET") && v != NULL) {
		if (s->ret != NULL) {
			*why = "Duplicate";
			goto out;
		}
		if (!streq_ci(v, "FULL") && !streq_ci(v, "HDRS"))
			goto out;
		s->ret = xstrdup(v);
		upcase(s->ret);
	} else if (streq_ci(k, "ENVID") && v != NULL) {
		if (s->envid != NULL) {
			*why = "Duplicate";
			goto out;
		}
		if ((s->envid = xtext_decode(v)) == NULL || strlen(s->envid) > MAX_ENVID)
			goto out;
	} else {
		*why = "Unsupported";
		code = 555;
		goto out;
	}
	code = 0;
out:
	return code;
}

static int
cmd_mail(struct session *s, char *arg)
{
	struct serve_result res;
	char *addr, *rest, *k = NULL, *v;
	const char *why = NULL;
	int code = 0, ret = -1;

	if (s->in_mail) {
		ret = bad(s, 503, "5.5.1 Error: nested MAIL command");
		goto out;
	}
	if (!startswith_ci(arg, "FROM:")) {
		ret = bad(s, 501, "5.5.4 Syntax: MAIL FROM:<address>");
		goto out;
	}
	if (s->o->auth_required && !s->authed) {
		ret = bad(s, 530, "5.7.0 Authentication required");
		goto out;
	}
	if ((why = parse_path(arg + 5, &addr, &rest)) != NULL ||
	    (addr[0] != '\0' && (why = addr_problem(addr)) != NULL)) {
		ret = bad(s, 501, "5.1.7 Bad sender address syntax: %s", why);
		goto out;
	}
	while (code == 0 && (k = next_param(&rest, &v)) != NULL)
		code = mail_param(s, k, v, &why);
	if (code == 0 && s->o->check_sender != NULL) {
		memset(&res, 0, sizeof(res));
		s->o->check_sender(s->o->ctx, addr, &res);
		if (res.code != 250) {
			txn_reset(s);
			ret = reply(s, res.code >= 400 && res.code <= 599 ? res.code : 451, "%s",
			    res.text[0] != '\0' ? res.text : "4.3.0 Sender refused");
			goto out;
		}
	}
	if (code == 0) {
		s->sender = xstrdup(addr);
		s->in_mail = 1;
		ret = reply(s, 250, "2.1.0 Ok");
		goto out;
	}
	/* A refused MAIL leaves no half-made transaction behind. */
	txn_reset(s);
	if (code == 552)
		ret = reply(s, 552,
		    "5.3.4 Message size exceeds fixed maximum message size "
		    "(%llu)",
		    (unsigned long long)s->o->max_size);
	else
		ret = bad(s, code, "5.5.4 %s MAIL parameter %s", why, k);
out:
	return ret;
}

/* NOTIFY=NEVER, or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1). */
static int
notify_ok(const char *v)
{
	char *copy = xstrdup(v), *p, *next;
	int never = 0, n = 0, ok = 0;

	for (p = copy; p != NULL; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		n++;
		if (streq_ci(p, "NEVER"))
			never = 1;
		else if (!streq_ci(p, "SUCCESS") && !streq_ci(p, "FAILURE") &&
		    !streq_ci(p, "DELAY"))
			goto out;
	}
	ok = !never || n == 1;
out:
	free(copy);
	return ok;
}

static int
cmd_rcpt(struct session *s, char *arg)
{
	struct serve_result res;
	char *addr, *rest, *k, *v, *notify = NULL, *orcpt = NULL;
	const char *why;
	unsigned max = s->o->max_rcpts ? s->o->max_rcpts : MAX_RECIPIENTS;
	size_t i;
	int ret;

	if (!s->in_mail) {
		ret = bad(s, 503, "5.5.1 Error: need MAIL command");
		goto out;
	}
	if (!startswith_ci(arg, "TO:")) {
		ret = bad(s, 501, "5.5.4 Syntax: RCPT TO:<address>");
		goto out;
	}
	if ((why = parse_path(arg + 3, &addr, &rest)) != NULL ||
	    (why = addr_problem(addr)) != NULL) {
		ret = bad(s, 501, "5.1.3 Bad recipient address syntax: %s", why);
		goto out;
	}
	while ((k = next_param(&rest, &v)) != NULL) {
		if (streq_ci(k, "NOTIFY") && v != NULL && notify == NULL && notify_ok(v)) {
			notify = xstrdup(v);
			upcase(notify);
		} else if (streq_ci(k, "ORCPT") && v != NULL && orcpt == NULL &&
		    strchr(v, ';') != NULL && strlen(v) <= 500)
			orcpt = xstrdup(v);
		else if (streq_ci(k, "NOTIFY") || streq_ci(k, "ORCPT")) {
			ret = bad(s, 501, "5.5.4 Bad value for RCPT parameter %s", k);
			goto out;
		} else {
			ret = bad(s, 555, "5.5.4 Unsupported RCPT parameter %s", k);
			goto out;
		}
	}
	for (i = 0; i < s->nrcpts; i++)
		if (strcmp(s->rcpts[i], addr) == 0) {
			ret = reply(s, 250, "2.1.5 Ok");
			goto out;
		}
	if (s->nrcpts >= max) {
		ret = reply(s, 452, "4.5.3 Error: too many recipients");
		goto out;
	}
	if (s->o->check_rcpt != NULL) {
		memset(&res, 0, sizeof(res));
		s->o->check_rcpt(s->o->ctx, addr, &res);
		if (res.code < 200 || res.code > 599 || (res.code >= 300 && res.code < 400)) {
			ret = reply(s, 451, "4.3.0 Error: internal error checking the recipient");
			goto out;
		}
		if (res.code >= 400) {
			ret = reply(s, res.code, "%s",
			    res.text[0] != '\0'  ? res.text
				: res.code < 500 ? "4.1.1 Recipient refused for now"
						 : "5.1.1 Recipient refused");
			goto out;
		}
	}
	if (s->nrcpts == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->rcpts = xrealloc(s->rcpts, s->cap * sizeof(*s->rcpts));
		s->notify = xrealloc(s->notify, s->cap * sizeof(*s->notify));
		s->orcpt = xrealloc(s->orcpt, s->cap * sizeof(*s->orcpt));
	}
	s->rcpts[s->nrcpts] = xstrdup(addr);
	s->notify[s->nrcpts] = notify;
	s->orcpt[s->nrcpts] = orcpt;
	s->nrcpts++;
	notify = orcpt = NULL;
	ret = reply(s, 250, "2.1.5 Ok");
out:
	free(notify);
	free(orcpt);
	return ret;
}

/* A private file for one message, already unlinked: only our descriptor reaches it. */
static int
msg_file(struct session *s)
{
	char *path;
	int fd = -1;

	if ((path = path_fmt("%s/serve.XXXXXX", s->o->tmp_dir)) == NULL)
		goto out;
	/* System mode: tmp/ is the group's (priv.h); the descriptor is all we keep. */
	priv_raise();
	/* mkostemp creates with O_EXCL and mode 0600. */
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1 && errno == ENOENT &&
	    mkdir(s->o->tmp_dir, 0700) == 0) {
		memcpy(path + strlen(path) - 6, "XXXXXX", 6);
		fd = mkostemp(path, O_CLOEXEC);
	}
	if (fd != -1)
		unlink(path);
	priv_lower();
out:
	free(path);
	return fd;
}

/* Hand the message to the caller and reply with its verdict. */
static int
submit(struct session *s, int fd)
{
	struct serve_params p;
	struct serve_result res;
	int r, code;

	memset(&p, 0, sizeof(p));
	p.helo = s->helo;
	p.esmtp = s->esmtp;
	p.size = s->size;
	p.body_8bit = s->body_8bit;
	p.smtputf8 = s->smtputf8;
	p.dsn_ret = s->ret;
	p.dsn_envid = s->envid;
	p.dsn_notify = s->notify;
	p.dsn_orcpt = s->orcpt;
	memset(&res, 0, sizeof(res));
	r = s->o->submit(s->o->ctx, s->sender, s->rcpts, s->nrcpts, fd, &p, &res);
	code = res.code;
	if (code < 200 || code > 599 || (code >= 300 && code < 400)) {
		code = 451;
		snprintf(res.text, sizeof(res.text), "4.3.0 Error: internal error, try again");
	}
	res.text[sizeof(res.text) - 1] = '\0';
	if (reply(s, code, "%s",
		res.text[0] != '\0' ? res.text
		    : code < 300    ? "2.0.0 Ok: message accepted"
		    : code < 500    ? "4.3.0 Try again later"
				    : "5.3.0 Message refused") == -1 ||
	    r == -1) {
		err_set(s->e, ERR_TEMP, CAUSE_TEMP,
		    "%s session ended after a message was "
		    "answered %d",
		    WHO(s), code);
		return -1;
	}
	return 0;
}

/*
 * DATA: read to the lone dot, undo dot-stuffing, keep CRLF lines. The reply to the
 * dot is the submit callback's. Returns -1 when the session must end.
 *
 * SMTP smuggling (CVE-2023-51764 and kin): a body holding "\n.\nMAIL FROM:<ceo@...>\n..."
 * must not end the data early, or the lines after it run as a second transaction that
 * we would relay. As Postfix's smtpd_forbid_bare_newline does: for a client that ends
 * its commands in CRLF, only CRLF "." CRLF ends the data; a dot line after a bare LF
 * (or a bare CR, which stays inside the line) is data, and so is a dot line that ends
 * in a bare LF. A client that has ended every command line so far in a bare LF is
 * taken at its word as before: any lone dot line ends its data.
 */
static int
cmd_data(struct session *s, const char *arg)
{
	struct buf out;
	char *p;
	size_t len;
	uint64_t total = 0;
	enum rd r;
	int fd = -1, ret = -1, toolong = 0, toobig = 0, werr = 0, prev_crlf, was_crlf;

	buf_init(&out, IO_BLOCK + MAX_SERVE_DATA_LINE + 2);
	if (*arg != '\0') {
		ret = bad(s, 501, "5.5.4 Syntax: DATA");
		goto out;
	}
	if (!s->in_mail) {
		ret = bad(s, 503, "5.5.1 Error: need MAIL command");
		goto out;
	}
	if (s->nrcpts == 0) {
		ret = reply(s, 554, "5.5.1 Error: no valid recipients");
		goto out;
	}
	if ((fd = msg_file(s)) == -1) {
		ret = reply(s, 451, "4.3.0 Error: cannot create a file for the message: %s",
		    strerror(errno));
		goto out;
	}
	/* Its own mapping: a line of 80 bytes touches one page of the 1 MiB (mem.h). */
	if (s->dline == NULL)
		s->dline = xmap(MAX_SERVE_DATA_LINE);
	if (reply(s, 354, "End data with <CR><LF>.<CR><LF>") == -1)
		goto out;
	/* The line before the first data line is the DATA command. */
	prev_crlf = s->last_crlf;
	for (;;) {
		r = get_line(s, s->dline, MAX_SERVE_DATA_LINE, &len);
		if (r == RD_LONG) {
			toolong = 1;
			prev_crlf = s->last_crlf;
			continue;
		}
		if (r == RD_TIMEOUT) {
			reply(s, 421, "4.4.2 %s Error: timeout exceeded", s->o->hostname);
			err_set(s->e, ERR_TEMP, CAUSE_TEMP,
			    "%s client silent for %d s during "
			    "DATA; message discarded",
			    WHO(s), s->o->timeout_s);
			goto out;
		}
		if (r == RD_EOF)
			err_set(s->e, ERR_TEMP, CAUSE_IOERR,
			    "%s input ended during DATA; "
			    "message discarded",
			    WHO(s));
		if (r != RD_LINE)
			goto out;
		/*
		 * The end is CRLF "." CRLF. For a client that ends its commands in CRLF, and
		 * always on the network listener (strict_crlf), a dot line after a bare LF or
		 * ended by one is data, never the end (SMTP smuggling).
		 */
		if (len == 1 && s->dline[0] == '.' &&
		    ((!s->crlf && !s->o->strict_crlf) || (prev_crlf && s->last_crlf)))
			break;
		was_crlf = prev_crlf;
		prev_crlf = s->last_crlf;
		p = s->dline;
		/*
		 * Dot-stuffing undone; a lone dot that did not end the data stays as it is, and
		 * so does (strict_crlf) a dotted line next to a bare LF: it is data as sent.
		 */
		if (p[0] == '.' && len > 1 && (!s->o->strict_crlf || (was_crlf && s->last_crlf))) {
			p++;
			len--;
		}
		total += len + 2;
		if (toolong || werr || toobig)
			continue;
		if (s->o->max_size > 0 && total > s->o->max_size) {
			toobig = 1;
			continue;
		}
		/* out is flushed at IO_BLOCK and holds a whole line more: only memory can fail. */
		if (buf_add(&out, p, len) == -1 || buf_add(&out, "\r\n", 2) == -1) {
			werr = ENOMEM;
			continue;
		}
		if (out.len >= IO_BLOCK) {
			if (write_all(fd, out.data, out.len) == -1)
				werr = errno;
			buf_reset(&out);
		}
	}
	if (!werr && write_all(fd, out.data, out.len) == -1)
		werr = errno;
	if (toolong)
		ret = reply(s, 552, "5.3.4 Error: a message line is longer than %d bytes",
		    MAX_SERVE_DATA_LINE - 1);
	else if (toobig)
		ret = reply(s, 552,
		    "5.3.4 Error: message size exceeds fixed maximum message "
		    "size (%llu)",
		    (unsigned long long)s->o->max_size);
	else if (werr)
		ret = reply(s, 451, "4.3.0 Error: cannot write the message: %s", strerror(werr));
	else if (lseek(fd, 0, SEEK_SET) == -1)
		ret = reply(s, 451, "4.3.0 Error: cannot read the message back: %s",
		    strerror(errno));
	else
		ret = submit(s, fd);
	txn_reset(s);
out:
	if (fd != -1)
		close(fd);
	buf_free(&out);
	return ret;
}

/* One line of an AUTH exchange, base64-decoded (a secret buffer). "*" cancels: 1. */
static int
auth_line(struct session *s, const char *prompt, const char *initial, struct buf *out)
{
	char line[MAX_SERVE_COMMAND];
	size_t len;
	int ret = -1;

	if (initial == NULL) {
		if (reply(s, 334, "%s", prompt) == -1 ||
		    get_line(s, line, sizeof(line), &len) != RD_LINE)
			goto out;
		initial = line;
	}
	if (strcmp(initial, "*") == 0) {
		ret = 1;
		goto out;
	}
	buf_reset(out);
	/* "=" alone is the empty initial response (RFC 4954 4). */
	if (strcmp(initial, "=") != 0 && base64_decode(out, initial, strlen(initial)) == -1)
		goto out;
	ret = buf_addc(out, '\0') == -1 ? -1 : 0;
out:
	explicit_bzero(line, sizeof(line));
	return ret;
}

/*
 * AUTH PLAIN and LOGIN. Returns -1 when the session must end: a broken exchange, or too
 * many failures (a guesser gets MAX_AUTH_FAILURES tries per connection).
 */
static int
cmd_auth(struct session *s, char *arg)
{
	struct buf user, pass;
	char *mech = arg, *initial, *p;
	const char *u = NULL, *pw = NULL;
	size_t n;
	int r, ret = -1;

	buf_init_secret(&user, MAX_SERVE_COMMAND);
	buf_init_secret(&pass, MAX_SERVE_COMMAND);
	if (!AUTH_NOW(s)) {
		ret = bad(s, 502, "5.5.1 Error: command not implemented");
		goto out;
	}
	if (s->authed || s->in_mail) {
		ret = bad(s, 503, "5.5.1 Error: %s",
		    s->authed ? "already authenticated" : "AUTH not allowed during a transaction");
		goto out;
	}
	if ((initial = strchr(arg, ' ')) != NULL) {
		*initial++ = '\0';
		while (*initial == ' ')
			initial++;
	}
	if (streq_ci(mech, "PLAIN")) {
		/* authzid NUL authcid NUL passwd; an authzid other than the user is refused. */
		if ((r = auth_line(s, "", initial, &pass)) != 0)
			goto broken;
		n = pass.len - 1;
		if ((p = memchr(pass.data, '\0', n)) == NULL ||
		    memchr(p + 1, '\0', n - (size_t)(p + 1 - pass.data)) == NULL)
			goto broken_syntax;
		u = p + 1;
		pw = u + strlen(u) + 1;
		if (p != pass.data && strcmp(pass.data, u) != 0)
			u = NULL;
	} else if (streq_ci(mech, "LOGIN")) {
		if ((r = auth_line(s, "VXNlcm5hbWU6", initial, &user)) != 0 ||
		    (r = auth_line(s, "UGFzc3dvcmQ6", NULL, &pass)) != 0)
			goto broken;
		u = user.data;
		pw = pass.data;
	} else {
		ret = bad(s, 504, "5.5.4 Unrecognized authentication type");
		goto out;
	}
	r = u == NULL || u[0] == '\0' ? 0 : s->o->auth(s->o->ctx, u, pw);
	if (r == 1) {
		s->authed = 1;
		ret = reply(s, 235, "2.7.0 Authentication successful");
	} else if (r == -1)
		ret = reply(s, 454, "4.7.0 Temporary authentication failure");
	else if (++s->auth_failures >= MAX_AUTH_FAILURES) {
		reply(s, 421, "4.7.0 %s Error: too many failed logins", s->o->hostname);
		err_set(s->e, ERR_PERM, CAUSE_NOPERM, "%s client failed to log in %d times",
		    WHO(s), s->auth_failures);
	} else
		ret = reply(s, 535, "5.7.8 Authentication credentials invalid");
	goto out;
broken:
	if (r == 1) {
		ret = reply(s, 501, "5.7.0 Authentication cancelled");
		goto out;
	}
	if (s->dead || err_failed(s->e))
		goto out;
broken_syntax:
	ret = bad(s, 501, "5.5.2 Error: bad AUTH exchange");
out:
	buf_free(&user);
	buf_free(&pass);
	return ret;
}

/*
 * STARTTLS: the client starts over on the encrypted stream (RFC 3207 4.2): what it said
 * before (EHLO, a transaction) is forgotten. Bytes pipelined after the command would be
 * read as if they had come encrypted: refused, and the session ended.
 */
static int
cmd_starttls(struct session *s, const char *arg)
{
	int ret = -1;

	if (s->o->starttls == NULL || s->tls) {
		ret = bad(s, s->tls ? 503 : 502, "5.5.1 Error: %s",
		    s->tls ? "TLS already active" : "command not implemented");
		goto out;
	}
	if (*arg != '\0') {
		ret = bad(s, 501, "5.5.4 Syntax: STARTTLS");
		goto out;
	}
	if (conn_pending(s->c) > 0) {
		reply(s, 554, "5.5.1 Error: commands pipelined after STARTTLS");
		err_set(s->e, ERR_PERM, CAUSE_PROTOCOL,
		    "%s client pipelined commands after "
		    "STARTTLS",
		    WHO(s));
		goto out;
	}
	if (reply(s, 220, "2.0.0 Ready to start TLS") == -1 || conn_flush(s->c, s->e) == -1) {
		s->dead = 1;
		goto out;
	}
	if (s->o->starttls(s->o->ctx, s->c, s->e) == -1) {
		s->dead = 1;
		goto out;
	}
	s->tls = 1;
	txn_reset(s);
	s->helo[0] = '\0';
	s->esmtp = 0;
	ret = 0;
out:
	return ret;
}

/* Dispatch one command line. Returns 1 after QUIT, 0 to go on, -1 to end the session. */
static int
command(struct session *s, char *line)
{
	char *arg;
	size_t vlen, alen;
	int ret;

	for (vlen = 0; line[vlen] != '\0' && line[vlen] != ' '; vlen++)
		;
	for (arg = line + vlen; *arg == ' '; arg++)
		;
	/* Trailing spaces are common from hand-typed or sloppy clients. */
	for (alen = strlen(arg); alen > 0 && arg[alen - 1] == ' '; alen--)
		arg[alen - 1] = '\0';
	line[vlen] = '\0';

	if (streq_ci(line, "HELO"))
		ret = cmd_helo(s, arg, 0);
	else if (streq_ci(line, "EHLO"))
		ret = cmd_helo(s, arg, 1);
	else if (streq_ci(line, "MAIL"))
		ret = cmd_mail(s, arg);
	else if (streq_ci(line, "RCPT"))
		ret = cmd_rcpt(s, arg);
	else if (streq_ci(line, "DATA"))
		ret = cmd_data(s, arg);
	else if (streq_ci(line, "STARTTLS"))
		ret = cmd_starttls(s, arg);
	else if (streq_ci(line, "AUTH"))
		ret = cmd_auth(s, arg);
	else if (streq_ci(line, "RSET")) {
		txn_reset(s);
		ret = reply(s, 250, "2.0.0 Ok");
	} else if (streq_ci(line, "NOOP"))
		ret = reply(s, 250, "2.0.0 Ok");
	else if (streq_ci(line, "VRFY"))
		ret = *arg == '\0' ? bad(s, 501, "5.5.4 Syntax: VRFY address")
				   : reply(s, 252,
					 "2.5.2 Cannot VRFY user, but will accept message and "
					 "attempt delivery");
	else if (streq_ci(line, "HELP"))
		ret = reply(s, 214,
		    "2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY "
		    "HELP QUIT");
	else if (streq_ci(line, "QUIT")) {
		if (s->o->quit != NULL)
			s->o->quit(s->o->ctx);
		reply(s, 221, "2.0.0 %s closing connection", s->o->hostname);
		ret = s->dead ? -1 : 1;
	} else if (streq_ci(line, "EXPN") || streq_ci(line, "BDAT") || streq_ci(line, "ETRN") ||
	    streq_ci(line, "TURN"))
		ret = bad(s, 502, "5.5.1 Error: command not implemented");
	else if (line[0] == '\0')
		ret = bad(s, 500, "5.5.2 Error: bad syntax");
	else
		ret = bad(s, 500, "5.5.2 Error: command not recognized");
	return ret;
}

/*
 * Whatever was said last (421 above all) must reach the client. After QUIT or the
 * client's own close, a lost 221 changes nothing: the session still ended well (ret 0).
 * NOINLINE (base/attr.h): its struct err (5 KiB) stays out of serve_run's frame, above
 * every call of the session.
 */
static NOINLINE void
final_flush(struct session *s, int ret)
{
	struct err fe;

	err_init(&fe);
	if (!s->dead && conn_flush(s->c, &fe) == -1)
		s->dead = 1;
	if (ret == -1 && !err_failed(s->e))
		err_set(s->e, ERR_TEMP, CAUSE_IOERR, "%s: cannot write to the client%s%s", WHO(s),
		    err_failed(&fe) ? ": " : "", fe.msg);
}

int
serve_run(struct conn *c, const struct serve_opts *o, struct err *e)
{
	struct session s;
	char line[MAX_SERVE_COMMAND];
	size_t len;
	int r, ret = -1;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.o = o;
	s.e = e;
	if (o->timeout_s > 0)
		conn_set_timeout(c, o->timeout_s);
	if (reply(&s, 220, "%s ESMTP mailout", o->hostname) == -1)
		goto out;
	for (;;) {
		if (s.nerrors >= MAX_SERVE_ERRORS) {
			reply(&s, 421, "4.7.0 %s Error: too many errors", o->hostname);
			err_set(e, ERR_PERM, CAUSE_PROTOCOL, "%s client sent %d bad commands",
			    WHO(&s), s.nerrors);
			goto out;
		}
		switch (get_line(&s, line, sizeof(line), &len)) {
		case RD_LINE:
			/* One command in CRLF, and only CRLF.CRLF ends this client's data. */
			s.crlf |= s.last_crlf;
			break;
		case RD_LONG:
			if (bad(&s, 500, "5.5.2 Error: line too long") == -1)
				goto out;
			continue;
		case RD_TIMEOUT:
			reply(&s, 421, "4.4.2 %s Error: timeout exceeded", o->hostname);
			err_set(e, ERR_TEMP, CAUSE_TEMP, "%s client silent for %d s", WHO(&s),
			    o->timeout_s);
			goto out;
		case RD_EOF:
			/* Between transactions the client may simply go; nothing is lost. */
			ret = 0;
			goto out;
		case RD_ERROR:
		default:
			goto out;
		}
		if ((r = command(&s, line)) == 1)
			break;
		if (r == -1 && (s.dead || err_failed(e)))
			goto out;
	}
	ret = 0;
out:
	final_flush(&s, ret);
	txn_reset(&s);
	xunmap(s.dline, MAX_SERVE_DATA_LINE);
	return ret;
}

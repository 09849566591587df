/*
 * probe.c: mailout --test. See probe.h.
 *
 * It walks the same code as a real send (deliver_open, smtp_send), with a step callback
 * for the stages deliver.c goes through, so what it reports is what a send would meet.
 * Nothing is queued: a test that fails must say so, not hide it in the queue.
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/clock.h"
#include "base/buf.h"
#include "config/config.h"
#include "send/deliver.h"
#include "base/err.h"
#include "send/probe.h"
#include "send/rate.h"
#include "send/submit.h"
#include "queue/queue.h"
#include "base/clock.h"
#include "base/mem.h"
#include "secrets/oauth2.h"
#include "base/str.h"
#include "base/user.h"

static void
line(FILE *out, const char *stage, int ok, const char *detail)
{
	fprintf(out, "%-10s %s: %s\n", stage, ok ? "ok" : "FAILED", detail);
	fflush(out);
}

/* The account's sending limits and its use of them now (rate.h): what a send would meet. */
static void
limits(const struct config *cfg, const struct account *a, FILE *out)
{
	struct queue q;
	struct err e;
	char *dir = NULL, what[MAX_ERROR_TEXT];

	err_init(&e);
	memset(&q, 0, sizeof(q));
	fprintf(out, "%-10s %s\n", "limits", rate_describe(a, what, sizeof(what)));
	if (submit_queue_dir(cfg, &dir, &e) == 0 && queue_open(&q, dir, 0, &e) == 0)
		rate_show(&q, a, now_s(), "usage      ", out);
	queue_close(&q);
	free(dir);
}

struct progress {
	FILE *out;
	const char *stages[4]; /* the lines, in the order deliver.c passes them */
	size_t done;
	char greeting[MAX_REPLY_TEXT]; /* shown once EHLO has passed too */
	int ehlo; /* the first EHLO has passed */
};

static void
passed(struct progress *p, const char *stage, const char *detail)
{
	line(p->out, stage, 1, detail);
	if (p->done < 4 && p->stages[p->done] != NULL && strcmp(p->stages[p->done], stage) == 0)
		p->done++;
}

/*
 * A line for each stage that passed. The greeting line stands for the greeting and the
 * first EHLO; a failure is shown by probe_run, under the first stage not passed.
 */
static void
on_step(void *ctx, const struct deliver_step *st)
{
	struct progress *p = ctx;

	if (st->err != NULL)
		return;
	if (st->stage == DELIVER_GREETING)
		snprintf(p->greeting, sizeof(p->greeting), "%s", st->detail);
	else if (st->stage == DELIVER_EHLO) {
		if (!p->ehlo)
			passed(p, "greeting", p->greeting);
		p->ehlo = 1;
	} else
		passed(p, st->name, st->detail);
}

/* The stage that failed: the first one deliver.c did not report. */
static const char *
failed_stage(const struct progress *p)
{
	return p->done < 4 && p->stages[p->done] != NULL ? p->stages[p->done] : "session";
}

/* Print the relay's addresses; a name that does not resolve fails here, clearly. */
static const char *shown(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* fmt's text in b (reset first), for a line of the report; a stand-in when too long. */
static const char *
shown(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	buf_reset(b);
	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r == 0 ? b->data : "(too long to show)";
}

static int
resolve(const struct account *a, FILE *out, struct err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char addr[INET6_ADDRSTRLEN];
	struct buf b;
	int rc, r, ret = -1;

	buf_init(&b, MAX_REPORT_LINE);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(a->host, NULL, &hints, &res);
	if (rc == EAI_AGAIN) {
		/* The resolver did not answer: nothing is known about the name yet. */
		err_set(e, ERR_TEMP, CAUSE_TEMP,
		    "temporary DNS failure resolving %s: %s; try again later", a->host,
		    gai_strerror(rc));
		line(out, "resolve", 0, e->msg);
		goto out;
	}
	if (rc != 0) {
		err_set(e, ERR_PERM, CAUSE_NOHOST,
		    "relay host '%s' not found (%s): check host = in the config", a->host,
		    gai_strerror(rc));
		line(out, "resolve", 0, e->msg);
		goto out;
	}
	r = buf_addf(&b, "%s:", a->host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr,
			    addr, sizeof(addr));
		else if (ai->ai_family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, addr,
			    sizeof(addr));
		else
			continue;
		r |= buf_addf(&b, " %s", addr);
	}
	line(out, "resolve", 1, r == 0 ? b.data : "(too many addresses to show)");
	ret = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	buf_free(&b);
	return ret;
}

/*
 * OAuth2 before the connection: which grant, which token endpoint, and the token (got
 * now or cached, and until when). The send then uses the same token (the file, or the
 * run's memory for an app grant). Only the relay can tell whether it takes it.
 */
static int
oauth_steps(const struct account *a, FILE *out, struct err *e)
{
	struct oauth2_info info;
	struct buf b;
	char *token = NULL, when[64], why[MAX_ERROR_TEXT + 32];
	time_t exp;
	struct tm tm;
	int rc = -1;

	buf_init(&b, MAX_REPORT_LINE);
	if (oauth2_access_token_ex(a, NULL, &token, &info, e) == -1) {
		line(out, "oauth2", 0, err_str(e, why, sizeof(why)));
		goto out;
	}
	line(out, "oauth2", 1,
	    shown(&b, "grant %s, token endpoint %s", info.grant, info.token_url));
	exp = (time_t)info.expires_at;
	gmtime_r(&exp, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	line(out, "token", 1,
	    shown(&b, "%s; expires %s (in %lld s)", info.how, when,
		(long long)(info.expires_at - now_s())));
	rc = 0;
out:
	secret_free(token);
	buf_free(&b);
	return rc;
}

/* The test message, canonical CRLF, in an unlinked temporary file. */
static int
message(const struct account *a, const char *sender, const char *rcpt, uint64_t *size,
    struct err *e)
{
	struct buf b;
	char date[64];
	struct tm tm;
	time_t t = time(NULL);
	FILE *f;
	int fd = -1;

	localtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_init(&b, MAX_TEST_MESSAGE);
	if (buf_addf(&b,
		"From: <%s>\r\nTo: <%s>\r\nSubject: mailout test message (account %s)\r\n"
		"Date: %s\r\nMessage-ID: <%lld.%ld.test@%s>\r\nMIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
		"This is a test message sent by mailout --test through account %s\r\n"
		"(relay %s port %u). No reply is needed.\r\n",
		sender, rcpt, a->name, date, (long long)t, (long)getpid(), a->domain, a->name,
		a->host, a->port) == -1) {
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "the test message does not fit in %d bytes: "
		    "the addresses or the account's names are too long",
		    MAX_TEST_MESSAGE);
		goto out;
	}
	if ((f = tmpfile()) == NULL || fwrite(b.data, 1, b.len, f) != b.len || fflush(f) != 0) {
		err_set(e, ERR_PERM, CAUSE_CANTCREAT,
		    "cannot write the test message to a "
		    "temporary file (check TMPDIR)");
		if (f != NULL)
			fclose(f);
		goto out;
	}
	*size = b.len;
	fd = dup(fileno(f));
	fclose(f);
out:
	buf_free(&b);
	return fd;
}

int
probe_run(const struct config *cfg, const struct account *a, const char *sender, const char *rcpt,
    int verbose, FILE *out, struct err *e)
{
	struct deliver_opts o;
	struct progress pg;
	struct deliver *d = NULL;
	struct smtp_envelope env;
	struct smtp_rcpt_status st;
	struct buf b;
	char *from = NULL, *rcpts[1];
	char why[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];
	uint64_t size = 0;
	int fd = -1, ret = -1;

	buf_init(&b, MAX_REPORT_LINE);
	if (sender != NULL)
		from = xstrdup(sender);
	else if (a->from != NULL && strpbrk(a->from, "*?[") == NULL)
		from = config_expand(a->from);
	else if (buf_addf(&b, "%s@%s", user_name(),
		     cfg->default_domain != NULL ? cfg->default_domain : a->domain) == -1 ||
	    (from = buf_steal(&b)) == NULL) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "the sender %s@ and the domain are too long "
		    "for an address",
		    user_name());
		goto out;
	}
	fprintf(out, "%-10s %s (%s)\n", "account", a->name, a->file ? a->file : "");
	limits(cfg, a, out);
	if (has_crlf(rcpt) || has_crlf(from)) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "a line break in an address");
		goto out;
	}
	if (resolve(a, out, e) == -1)
		goto out;
	if (a->oauth != OAUTH_NONE && oauth_steps(a, out, e) == -1)
		goto out;
	memset(&o, 0, sizeof(o));
	o.verbose = verbose;
	memset(&pg, 0, sizeof(pg));
	pg.out = out;
	pg.stages[0] = "connect";
	pg.stages[1] = a->tls == TLS_IMPLICIT ? "tls" : "greeting";
	pg.stages[2] = a->tls == TLS_IMPLICIT ? "greeting" : a->tls == TLS_OFF ? "auth" : "tls";
	pg.stages[3] = a->tls == TLS_OFF ? NULL : "auth";
	o.step = on_step;
	o.step_ctx = &pg;
	if ((d = deliver_open(a, &o, e)) == NULL) {
		line(out, failed_stage(&pg), 0, err_str(e, why, sizeof(why)));
		goto out;
	}
	if ((fd = message(a, from, rcpt, &size, e)) == -1)
		goto out;
	memset(&env, 0, sizeof(env));
	memset(&st, 0, sizeof(st));
	rcpts[0] = (char *)rcpt;
	env.sender = from;
	env.rcpts = rcpts;
	env.nrcpts = 1;
	env.size = size;
	if (deliver_send(d, &env, fd, &st, e) == 0) {
		line(out, "sender", 1, shown(&b, "<%s>", from));
		line(out, "recipient", 1, shown(&b, "<%s>: %s", rcpt, st.reply));
		line(out, "delivered", 1, smtp_accepted_reply(deliver_smtp(d)));
		ret = 0;
		goto out;
	}
	/* The first failure is the one to show: sender, else recipient, else the data. */
	if (st.code == 0 || e->cause == CAUSE_UNAVAILABLE)
		line(out, "sender", 0, err_str(e, why, sizeof(why)));
	else if (st.kind != ERR_OK) {
		line(out, "recipient", 0, shown(&b, "<%s>: %s", rcpt, st.reply));
	} else
		line(out, "delivered", 0, err_str(e, why, sizeof(why)));
out:
	if (fd != -1)
		close(fd);
	deliver_close(d);
	free(from);
	buf_free(&b);
	return ret;
}

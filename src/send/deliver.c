/*
 * deliver.c: bring a relay session up to the point where it takes mail. See deliver.h.
 *
 * The order matters for security: nothing but EHLO and STARTTLS goes out before TLS when
 * the account asks for TLS, and everything learnt before TLS is forgotten.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/path.h"
#include "message/rfc2047.h"
#include "smtp/auth.h"
#include "config/config.h"
#include "send/deliver.h"
#include "net/net.h"
#include "base/priv.h"
#include "net/stream.h"
#include "net/tls.h"
#include "base/mem.h"
#include "base/user.h"

/*
 * session_timeout grows with the message: one second more for every this many bytes, so
 * that a large upload on a slow line still fits (80 kbit/s: 25 MiB get 43 minutes more).
 */
#define DELIVER_MIN_RATE (10 * 1024)

/*
 * Seconds of silence after connect (tls not implicit) before a second connection checks
 * whether the port speaks TLS first: long enough for any server that greets at once.
 */
#define DELIVER_GREETING_PROBE 3

struct deliver {
	struct smtp *smtp;
	const struct account *a;
	int tls; /* the session runs over TLS (credentials may go) */
	int64_t t0; /* when connecting began (now_ms) */
	unsigned nsent; /* deliver_send calls so far */
	char relay[300];
};

/*
 * The deadline of a session begun at t0 (now_ms) for a message of size bytes (0 before
 * there is one), in *at (0: session_timeout = off), and what it stands for in label.
 */
static void
session_deadline(const struct account *a, int64_t t0, uint64_t size, int64_t *at, char *label,
    size_t n)
{
	uint64_t extra = size / DELIVER_MIN_RATE;

	*at = 0;
	label[0] = '\0';
	if (a->session_timeout == 0)
		return;
	*at = t0 + (int64_t)(a->session_timeout + extra) * 1000;
	if (extra > 0)
		snprintf(label, n,
		    "session_timeout = %llu s, and %llu s for the %llu-byte "
		    "message",
		    (unsigned long long)a->session_timeout, (unsigned long long)extra,
		    (unsigned long long)size);
	else
		snprintf(label, n, "session_timeout = %llu s",
		    (unsigned long long)a->session_timeout);
}

static void
trace_tls(const struct tls_info *ti)
{
	const struct tls_cert_info *c = &ti->chain[0];

	if (ti->nchain == 0 && ti->resumed)
		fprintf(stderr, "--- TLS %s, %s, verified, session resumed\n", ti->version,
		    ti->cipher);
	else if (ti->nchain == 0)
		fprintf(stderr, "--- TLS %s, %s, no certificate\n", ti->version, ti->cipher);
	else
		fprintf(stderr, "--- TLS %s, %s, certificate %s (issuer %s, sha256:%s)%s%s\n",
		    ti->version, ti->cipher, c->subject, c->issuer, c->sha256,
		    ti->verified ? ", verified" : ", NOT verified (tls_verify = off)",
		    ti->resumed ? ", session resumed" : "");
}

/*
 * Where the account's TLS session is cached for the next run (tls.h), or NULL for none:
 * in the user's state directory, tls-sessions/ACCOUNT.session. Not in system mode: the
 * file holds a session secret, and the setgid binary has no private place per caller
 * (the shared queue is the group's); each run there makes a full handshake. Not with
 * tls_verify = off either: nothing was judged that a session could stand for.
 */
static char *
session_file(const struct account *a)
{
	const char *dir;
	char *name, *p;

	if (priv_system() ||
	    (!a->tls_verify && (a->tls_fingerprint == NULL || a->tls_fingerprint[0] == '\0')))
		return NULL;
	/* No state directory (its name too long): no cache, a full handshake each run. */
	if ((dir = user_state_dir()) == NULL)
		return NULL;
	name = path_name(a->name);
	p = path_fmt("%s/tls-sessions/%s.session", dir, name);
	free(name);
	return p;
}

/* o from the account's tls_* settings; server_name is tls_server_name, else host. */
static void
tls_opts_of(struct tls_opts *o, const struct account *a)
{
	memset(o, 0, sizeof(*o));
	o->server_name = a->tls_server_name != NULL && a->tls_server_name[0] != '\0'
	    ? a->tls_server_name
	    : a->host;
	o->verify = a->tls_verify;
	o->ca_file = a->tls_ca_file;
	o->fingerprint = a->tls_fingerprint;
	o->cert_file = a->tls_cert_file;
	o->key_file = a->tls_key_file;
	o->min_version = a->tls_min_version;
}

/* Where deliver_open is, for the watcher. */
struct progress {
	const struct deliver_opts *o;
	enum deliver_stage stage; /* the stage under way */
	int started; /* the configuration passed: stages began */
	int secure; /* the session runs over TLS */
	const struct tls_info *tls; /* the last handshake's, once one began */
};

static const char *
stage_name(enum deliver_stage st)
{
	switch (st) {
	case DELIVER_CONNECT:
		return "connect";
	case DELIVER_TLS:
		return "tls";
	case DELIVER_GREETING:
		return "greeting";
	case DELIVER_EHLO:
		return "ehlo";
	case DELIVER_AUTH:
		return "auth";
	default:
		return "?";
	}
}

/* The stage under way passed: tell the watcher, with caps for EHLO. */
static void
passed(struct progress *pg, const struct smtp_caps *caps, const char *detail)
{
	struct deliver_step st;

	if (pg->o->step == NULL)
		return;
	memset(&st, 0, sizeof(st));
	st.stage = pg->stage;
	st.name = stage_name(pg->stage);
	st.detail = detail;
	st.tls = pg->stage == DELIVER_TLS ? pg->tls : NULL;
	st.caps = caps;
	st.secure = pg->secure;
	pg->o->step(pg->o->step_ctx, &st);
}

/* The stage under way failed with e (before the relay prefix). */
static void
failed(struct progress *pg, const struct err *e)
{
	struct deliver_step st;

	if (pg->o->step == NULL || !pg->started)
		return;
	memset(&st, 0, sizeof(st));
	st.stage = pg->stage;
	st.name = stage_name(pg->stage);
	st.detail = "";
	st.err = e;
	st.tls = pg->stage == DELIVER_TLS ? pg->tls : NULL;
	st.secure = pg->secure;
	pg->o->step(pg->o->step_ctx, &st);
}

/* The handshake passed: its line for --test. */
static void
passed_tls(struct progress *pg, const struct tls_info *ti)
{
	const struct tls_cert_info *c = &ti->chain[0];
	char detail[1024];

	pg->secure = 1;
	if (ti->nchain == 0)
		snprintf(detail, sizeof(detail), "%s, %s", ti->version, ti->cipher);
	else
		snprintf(detail, sizeof(detail),
		    "%s, %s; certificate %s, issuer %s, valid "
		    "until %s, %s",
		    ti->version, ti->cipher, c->subject, c->issuer, c->not_after,
		    ti->verified ? "verified" : "NOT verified (tls_verify = off)");
	passed(pg, NULL, detail);
}

/*
 * A minimal TLS 1.2 ClientHello (two AES-GCM suites, no extensions). Any TLS server
 * answers it with a record of its own (a ServerHello, or an alert): enough to tell that
 * a port speaks TLS first, which is all it is for.
 */
static const unsigned char client_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0x2f, /* handshake record, 47 bytes */
	0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, /* ClientHello, 43 bytes, TLS 1.2 */
	'm', 'a', 'i', 'l', 'o', 'u', 't', ' ', 'p', 'r', 'o', 'b', 'e', ' ', 'f', 'o', 'r', ' ',
	'a', ' ', 'T', 'L', 'S', ' ', 'f', 'i', 'r', 's', 't', ' ', 'p', '.',
	0x00, /* no session id */
	0x00, 0x04, 0xc0, 0x2f, 0x00, 0x9c, /* two cipher suites */
	0x01, 0x00, /* no compression */
};

/* 1 if host:port answers a ClientHello with a TLS record within seconds, else 0. */
static int
speaks_tls(const struct account *a, int seconds)
{
	struct stream *s;
	struct err e;
	unsigned char r[5];
	size_t got = 0;
	ssize_t n;
	int yes = 0;

	err_init(&e);
	if ((s = net_connect(a->host, a->port, seconds, seconds, &e)) == NULL)
		return 0;
	if (s->ops->write(s, client_hello, sizeof(client_hello), &e) == 0)
		while (got < sizeof(r) && (n = s->ops->read(s, r + got, sizeof(r) - got, &e)) > 0)
			got += (size_t)n;
	/* A handshake (22) or alert (21) record of TLS 1.x. */
	yes = got == sizeof(r) && (r[0] == 0x16 || r[0] == 0x15) && r[1] == 0x03;
	s->ops->close(s);
	return yes;
}

/*
 * tls = starttls (or off, opportunistic) on a port that speaks TLS first (465): the
 * server waits for our ClientHello and we for its greeting, until the timeout, with no
 * hint. When no greeting came within DELIVER_GREETING_PROBE seconds, a ClientHello on a
 * second connection settles it: answered in TLS, that is a configuration error with the
 * fix; otherwise the first connection goes on waiting (a slow server is not disturbed).
 * 0, or -1 with err.
 */
static int
silent_tls_port(struct deliver *d, const struct account *a, struct err *e)
{
	int w, rc = 0;

	if (a->timeout > 0 && a->timeout <= DELIVER_GREETING_PROBE)
		goto out;
	if ((w = conn_wait_input(smtp_conn(d->smtp), DELIVER_GREETING_PROBE, e)) == -1) {
		rc = -1;
		goto out;
	}
	if (w == 0 && speaks_tls(a, DELIVER_GREETING_PROBE))
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "port %u expects TLS from the first "
		    "byte: set tls = implicit in account %s (the server sent no greeting in %d "
		    "s, and answered a TLS handshake)",
		    a->port, a->name, DELIVER_GREETING_PROBE);
out:
	return rc;
}

/* The TCP connection, and implicit TLS over it when the account says so. NULL with err. */
static struct stream *
open_stream(const struct account *a, const struct tls_opts *to, struct tls_info *ti,
    struct progress *pg, int64_t at, struct err *e)
{
	struct stream *s, *t;
	char where[1024];

	pg->stage = DELIVER_CONNECT;
	if ((s = net_connect(a->host, a->port, (int)a->timeout, (int)a->timeout, e)) == NULL)
		goto out;
	/* The TLS handshake too is bound by the session's deadline. */
	stream_set_deadline(s, at);
	snprintf(where, sizeof(where), "%s port %u", a->host, a->port);
	passed(pg, NULL, where);
	if (a->tls == TLS_IMPLICIT) {
		pg->stage = DELIVER_TLS;
		pg->tls = ti;
		if ((t = tls_wrap(s, to, ti, e)) == NULL) {
			s->ops->close(s);
			s = NULL;
			goto out;
		}
		s = t;
		passed_tls(pg, ti);
		if (pg->o->verbose)
			trace_tls(ti);
	}
out:
	return s;
}

/*
 * STARTTLS when the account asks for it (opportunistic: when offered), then EHLO again.
 * 0, or -1 with err; *quit is 0 when the connection is in no state for a QUIT.
 */
static int
starttls(struct deliver *d, const struct account *a, const struct tls_opts *to,
    struct tls_info *ti, struct progress *pg, int *quit, struct err *e)
{
	struct stream *t;
	int rc = -1;

	pg->stage = DELIVER_TLS;
	pg->tls = ti;
	if (!smtp_caps(d->smtp)->starttls) {
		if (a->tls == TLS_STARTTLS) {
			err_set(e, ERR_PERM, CAUSE_UNAVAILABLE,
			    "the server does not offer "
			    "STARTTLS, and account %s requires it (tls = starttls); nothing was "
			    "sent",
			    a->name);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (smtp_starttls(d->smtp, e) == -1)
		goto out;
	if ((t = tls_wrap(conn_stream(smtp_conn(d->smtp)), to, ti, e)) == NULL) {
		/* Half a handshake on the wire: a plain QUIT would be noise. */
		*quit = 0;
		goto out;
	}
	conn_swap(smtp_conn(d->smtp), t);
	d->tls = 1;
	passed_tls(pg, ti);
	if (pg->o->verbose)
		trace_tls(ti);
	pg->stage = DELIVER_EHLO;
	if (smtp_ehlo(d->smtp, e) == -1)
		goto out;
	passed(pg, smtp_caps(d->smtp), "");
	rc = 0;
out:
	return rc;
}

/*
 * TLS per the account: implicit right after connect; STARTTLS after the first EHLO
 * (opportunistic: only when offered), then EHLO again over TLS, since nothing learnt in
 * the clear may be trusted. With tls = starttls a server that does not offer it gets
 * nothing but EHLO (and QUIT): no MAIL, no AUTH.
 */
struct deliver *
deliver_open(const struct account *a, const struct deliver_opts *o, struct err *e)
{
	struct deliver *d = NULL;
	struct stream *s;
	struct smtp_opts so;
	struct tls_opts to;
	struct tls_info ti;
	struct progress pg;
	char used[128], *sfile, label[128];
	int64_t t0, at;
	int quit = 1;

	memset(&ti, 0, sizeof(ti));
	memset(&pg, 0, sizeof(pg));
	pg.o = o;
	tls_opts_of(&to, a);
	/* A watcher (--test, --serverinfo) sees a full handshake, the certificate, its checks. */
	to.session_file = sfile = a->tls != TLS_OFF && o->step == NULL ? session_file(a) : NULL;
	if (a->tls != TLS_OFF) {
		/* Configuration errors before any network traffic. */
		if (tls_check_opts(&to, e) == -1)
			goto out;
		if (!a->tls_verify &&
		    (a->tls_fingerprint == NULL || a->tls_fingerprint[0] == '\0'))
			fprintf(stderr,
			    "mailout: warning: TLS certificate verification is off "
			    "for account %s\n",
			    a->name);
	}
	pg.started = 1;
	/* The session's deadline: connection, TLS, EHLO, AUTH and the first message. */
	t0 = now_ms();
	session_deadline(a, t0, 0, &at, label, sizeof(label));
	if ((s = open_stream(a, &to, &ti, &pg, at, e)) == NULL)
		goto out;
	d = xcalloc(1, sizeof(*d));
	d->a = a;
	d->t0 = t0;
	d->tls = a->tls == TLS_IMPLICIT;
	snprintf(d->relay, sizeof(d->relay), "%s:%u", a->host, a->port);
	memset(&so, 0, sizeof(so));
	so.helo = a->domain;
	so.verbose = o->verbose;
	so.timeout_s = (int)a->timeout;
	d->smtp = smtp_new(conn_new(s), &so);
	conn_set_deadline(smtp_conn(d->smtp), at, label);
	pg.stage = DELIVER_GREETING;
	if (a->tls != TLS_IMPLICIT && silent_tls_port(d, a, e) == -1)
		goto fail;
	if (smtp_greeting(d->smtp, e) == -1)
		goto fail;
	passed(&pg, NULL, smtp_greeting_text(d->smtp));
	pg.stage = DELIVER_EHLO;
	if (smtp_ehlo(d->smtp, e) == -1)
		goto fail;
	passed(&pg, smtp_caps(d->smtp), "");
	if ((a->tls == TLS_STARTTLS || a->tls == TLS_OPPORTUNISTIC) &&
	    starttls(d, a, &to, &ti, &pg, &quit, e) == -1)
		goto fail;
	if (o->look)
		goto out;
	/* Credentials only now, after TLS: auth.c refuses cleartext mechanisms without it. */
	pg.stage = DELIVER_AUTH;
	if (auth_login_ex(d->smtp, a, d->tls, used, sizeof(used), e) == -1)
		goto fail;
	passed(&pg, NULL, used[0] != '\0' ? used : "none (no user configured, or auth = off)");
	goto out;
fail:
	if (quit)
		deliver_close(d);
	else {
		smtp_free(d->smtp);
		free(d);
	}
	d = NULL;
out:
	free(sfile);
	if (d == NULL) {
		failed(&pg, e);
		/* net.c's message already names the host and the port. */
		if (pg.stage != DELIVER_CONNECT || !pg.started)
			err_prefix(e, "relay %s port %u: ", a->host, a->port);
	}
	return d;
}

/* No transaction happened: every recipient carries the failure, as smtp_send's would. */
static void
not_sent(struct smtp_rcpt_status *st, size_t n, const struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		st[i].kind = e->kind;
		st[i].code = 0;
		snprintf(st[i].reply, sizeof(st[i].reply), "%s", e->msg);
	}
}

/*
 * 8-bit headers and a relay that does not offer SMTPUTF8 (known after EHLO): a copy with
 * RFC 2047 encoded words goes instead (rfc2047.c), and the spool stays as it is. Only the
 * headers can be downgraded: with an 8-bit envelope address smtp_send refuses the message.
 */
int
deliver_send(struct deliver *d, const struct smtp_envelope *env, int fd,
    struct smtp_rcpt_status *st, struct err *e)
{
	struct smtp_envelope env7;
	char label[128];
	int64_t at;
	int dfd = -1, ret = -1;

	/*
	 * The first message counts from the connection; each later one on the same
	 * connection (a queue run) gets the time again from its MAIL.
	 */
	session_deadline(d->a, d->nsent++ == 0 ? d->t0 : now_ms(), env->size, &at, label,
	    sizeof(label));
	conn_set_deadline(smtp_conn(d->smtp), at, label);
	if (env->smtputf8 && !smtp_caps(d->smtp)->smtputf8 && smtp_envelope_ascii(env)) {
		if (env->dkim_signed) {
			/* Said, then done as for any message: delivered beats refused. */
			fprintf(stderr,
			    "mailout: warning: relay %s does not offer SMTPUTF8: "
			    "the message's 8-bit header fields are sent RFC 2047-encoded, which "
			    "breaks its DKIM signature\n",
			    d->relay);
			log_line(LOG_WARNING,
			    "relay=%s status=dkim-broken reason=\"no SMTPUTF8: "
			    "8-bit header fields re-encoded\"",
			    d->relay);
		}
		if ((dfd = rfc2047_downgrade(fd, NULL, e)) == -1) {
			not_sent(st, env->nrcpts, e);
			goto out;
		}
		env7 = *env;
		env7.smtputf8 = 0;
		env7.size = 0; /* the copy's own, which smtp_send takes from dfd */
		env = &env7;
		fd = dfd;
	}
	ret = smtp_send(d->smtp, env, fd, st, e);
out:
	if (dfd != -1)
		close(dfd);
	return ret;
}

int
deliver_timed_out(const struct deliver *d)
{
	return conn_deadline_passed(smtp_conn(d->smtp));
}

void
deliver_close(struct deliver *d)
{
	if (d == NULL)
		return;
	smtp_quit(d->smtp);
	smtp_free(d->smtp);
	free(d);
}

struct smtp *
deliver_smtp(struct deliver *d)
{
	return d->smtp;
}

const char *
deliver_relay(const struct deliver *d)
{
	return d->relay;
}

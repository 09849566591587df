/*
 * trial.c: candidates tried through deliver_open. See trial.h.
 *
 * There is no second connection path: the account a trial builds in memory goes
 * through the very code a send and --serverinfo use, stopped before AUTH, and a
 * watcher of its stages records what the server showed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "net/tls.h"
#include "send/candidate.h"
#include "send/deliver.h"
#include "send/trial.h"
#include "smtp/smtp.h"

/* The watcher: what each stage of deliver_open learnt about the server. */
static void
on_step(void *ctx, const struct deliver_step *st)
{
	struct trial *t = ctx;
	const struct tls_cert_info *c;

	if (st->stage == DELIVER_TLS && st->tls != NULL && st->tls->nchain > 0) {
		c = &st->tls->chain[0];
		snprintf(t->cert, sizeof(t->cert), "%s, issuer %s, valid until %s", c->subject,
		    c->issuer, c->not_after);
		snprintf(t->fingerprint, sizeof(t->fingerprint), "sha256:%s", c->sha256);
	}
	if (st->err != NULL) {
		snprintf(t->why, sizeof(t->why), "%s", st->err->msg);
		if (st->stage == DELIVER_TLS && st->err->cause == CAUSE_CONFIG &&
		    st->tls != NULL && st->tls->nchain > 0)
			t->result = TRIAL_CERT;
		else if (st->stage == DELIVER_TLS && st->err->cause == CAUSE_UNAVAILABLE)
			t->result = TRIAL_NOTLS;
		return;
	}
	if (st->stage == DELIVER_EHLO && st->caps != NULL) {
		t->esmtp = st->caps->esmtp;
		if (st->secure)
			snprintf(t->auth, sizeof(t->auth), "%s", st->caps->auth);
	}
}

/* One attempt at host:port with tls. */
static void
attempt(const struct candidate *c, unsigned port, enum tls_mode tls, const struct trial_opts *o,
    struct trial *t)
{
	struct account a;
	struct deliver_opts d;
	struct deliver *s;
	struct err e;

	memset(t, 0, sizeof(*t));
	snprintf(t->host, sizeof(t->host), "%s", c->host);
	t->port = port;
	t->tls = tls;
	t->result = TRIAL_FAILED;
	memset(&a, 0, sizeof(a));
	a.name = "configure";
	a.host = c->host;
	a.port = port;
	a.tls = tls;
	a.tls_verify = 1;
	a.tls_ca_file = (char *)o->ca_file;
	a.tls_fingerprint = (char *)o->fingerprint;
	a.tls_min_version = 12;
	a.auth = "auto";
	a.timeout = o->timeout;
	a.domain = (char *)o->domain;
	memset(&d, 0, sizeof(d));
	d.verbose = o->verbose;
	d.look = 1;
	d.step = on_step;
	d.step_ctx = t;
	err_init(&e);
	if ((s = deliver_open(&a, &d, &e)) != NULL) {
		t->result = TRIAL_OK;
		deliver_close(s);
	} else if (t->why[0] == '\0')
		snprintf(t->why, sizeof(t->why), "%s", e.msg);
}

static void
report(FILE *out, const struct trial *t, int pinned)
{
	if (out == NULL)
		return;
	fprintf(out, "  trying %s port %u (%s): ", t->host, t->port, candidate_tls_name(t->tls));
	switch (t->result) {
	case TRIAL_OK:
		fprintf(out, "ok, certificate %s (%s)%s%s\n",
		    pinned ? "matches the pinned "
			     "fingerprint"
			   : "verified",
		    t->cert, t->auth[0] != '\0' ? "; AUTH " : "", t->auth);
		break;
	case TRIAL_CERT:
		fprintf(out, "reached, but %s\n", t->why);
		break;
	case TRIAL_NOTLS:
		fprintf(out, "reached, but it offers no STARTTLS: not proposed\n");
		break;
	default:
		fprintf(out, "%s\n", t->why);
		break;
	}
	fflush(out);
}

int
trial_run(const struct candidate *c, const struct trial_opts *o, struct trial **t, size_t *n)
{
	static const struct {
		unsigned port;
		enum tls_mode tls;
	} usual[] = {
		{ 465, TLS_IMPLICIT },
		{ 587, TLS_STARTTLS },
		{ 25, TLS_STARTTLS },
	};
	struct trial *x;
	size_t i, count = c->port != 0 ? 1 : sizeof(usual) / sizeof(usual[0]);
	int ok = -1;

	for (i = 0; i < count && ok == -1; i++) {
		*t = xrealloc(*t, (*n + 1) * sizeof(**t));
		x = &(*t)[*n];
		attempt(c, c->port != 0 ? c->port : usual[i].port,
		    c->port != 0 ? c->tls : usual[i].tls, o, x);
		report(o->out, x, o->fingerprint != NULL);
		if (x->result == TRIAL_OK)
			ok = (int)*n;
		(*n)++;
	}
	return ok;
}

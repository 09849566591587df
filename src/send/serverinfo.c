/*
 * serverinfo.c: mailout --serverinfo. See serverinfo.h.
 *
 * It is deliver_open() itself, stopped before AUTH, with a watcher (deliver.h, step) that
 * prints what each stage learnt: its point is to help set up an account, and to show the
 * certificate (with the fingerprint to pin) precisely when verification fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/err.h"
#include "send/deliver.h"
#include "send/serverinfo.h"
#include "smtp/smtp.h"
#include "net/tls.h"

static const char *
tls_mode_name(enum tls_mode m)
{
	switch (m) {
	case TLS_OFF:
		return "off";
	case TLS_OPPORTUNISTIC:
		return "opportunistic";
	case TLS_STARTTLS:
		return "starttls";
	case TLS_IMPLICIT:
		return "implicit";
	default:
		return "?";
	}
}

/* "PIPELINING, SIZE 10240000, ..." from what EHLO said. */
static void
print_caps(FILE *out, const char *label, const struct smtp_caps *c)
{
	struct buf b;
	int r = 0;

	buf_init(&b, MAX_REPORT_LINE);
	if (!c->esmtp) {
		fprintf(out, "%s: none (the server refused EHLO: plain SMTP, HELO only)\n", label);
		goto out;
	}
	if (c->starttls)
		r |= buf_addstr(&b, ", STARTTLS");
	if (c->auth[0] != '\0')
		r |= buf_addf(&b, ", AUTH %s", c->auth);
	if (c->size && c->size_max != 0)
		r |= buf_addf(&b, ", SIZE %llu (%.1f MiB)", (unsigned long long)c->size_max,
		    (double)c->size_max / (1024.0 * 1024.0));
	else if (c->size)
		r |= buf_addstr(&b, ", SIZE (no limit given)");
	if (c->pipelining)
		r |= buf_addstr(&b, ", PIPELINING");
	if (c->chunking)
		r |= buf_addstr(&b, ", CHUNKING");
	if (c->eightbitmime)
		r |= buf_addstr(&b, ", 8BITMIME");
	if (c->smtputf8)
		r |= buf_addstr(&b, ", SMTPUTF8");
	if (c->dsn)
		r |= buf_addstr(&b, ", DSN");
	if (c->enhanced)
		r |= buf_addstr(&b, ", ENHANCEDSTATUSCODES");
	fprintf(out, "%s: %s\n", label,
	    r != 0          ? "(too many to show)"
		: b.len > 2 ? b.data + 2
			    : "(none)");
	if (c->auth[0] == '\0')
		fprintf(out, "%s: no AUTH offered%s\n", label,
		    c->starttls ? " (many servers offer it only after STARTTLS)" : "");
out:
	buf_free(&b);
}

static void
print_tls(FILE *out, const struct account *a, const struct tls_info *ti, const struct err *terr)
{
	const struct tls_cert_info *c;
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];
	size_t i;

	if (!ti->done)
		return;
	fprintf(out, "TLS: %s, %s (%s)\n", ti->version, ti->cipher, tls_library_version());
	if (terr != NULL && err_failed(terr))
		fprintf(out, "certificate: FAILED: %s\n", err_str(terr, line, sizeof(line)));
	else if (a->tls_fingerprint != NULL && a->tls_fingerprint[0] != '\0')
		fprintf(out, "certificate: ok, matches tls_fingerprint\n");
	else if (!a->tls_verify)
		fprintf(out, "certificate: NOT verified (tls_verify = off)\n");
	else
		fprintf(out, "certificate: ok, verified for %s against %s\n",
		    a->tls_server_name != NULL && a->tls_server_name[0] != '\0'
			? a->tls_server_name
			: a->host,
		    ti->ca);
	for (i = 0; i < ti->nchain; i++) {
		c = &ti->chain[i];
		fprintf(out, "certificate %zu%s:\n", i, i == 0 ? " (the server's)" : "");
		fprintf(out, "  subject: %s\n", c->subject);
		fprintf(out, "  issuer:  %s\n", c->issuer);
		if (c->names[0] != '\0')
			fprintf(out, "  names:   %s\n", c->names);
		fprintf(out, "  valid:   %s to %s\n", c->not_before, c->not_after);
		fprintf(out, "  sha256:  %s\n", c->sha256);
	}
	if (ti->nchain > 0)
		fprintf(out,
		    "to pin this certificate, put in [%s]:\ntls_fingerprint = "
		    "sha256:%s\n",
		    a->name, ti->chain[0].sha256);
}

/* serverinfo_run's watcher of deliver_open. */
struct look {
	FILE *out;
	const struct account *a;
};

/* The greeting's lines on one line, control characters shown as '?'. */
static void
print_greeting(FILE *out, const char *text)
{
	const char *p;

	fputs("greeting: 220 ", out);
	for (p = text; *p != '\0'; p++)
		if (*p == '\n')
			fputs(" / ", out);
		else
			fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, out);
	fputc('\n', out);
}

/* What EHLO said, and what it means for TLS. */
static void
print_ehlo(FILE *out, const struct account *a, const struct deliver_step *st)
{
	int upgrade = a->tls == TLS_STARTTLS || a->tls == TLS_OPPORTUNISTIC;

	if (upgrade && st->secure) {
		print_caps(out, "capabilities after TLS", st->caps);
		return;
	}
	if (upgrade && st->caps->starttls) {
		print_caps(out, "capabilities before TLS", st->caps);
		return;
	}
	print_caps(out, "capabilities", st->caps);
	if (a->tls == TLS_STARTTLS)
		fprintf(out, "TLS: none: the server does not offer STARTTLS\n");
	else if (a->tls != TLS_IMPLICIT)
		fprintf(out, "TLS: none (tls = %s%s)\n", tls_mode_name(a->tls),
		    a->tls == TLS_OPPORTUNISTIC ? ", STARTTLS not offered" : "");
}

static void
on_step(void *ctx, const struct deliver_step *st)
{
	struct look *l = ctx;

	switch (st->stage) {
	case DELIVER_TLS:
		if (st->tls != NULL)
			print_tls(l->out, l->a, st->tls, st->err);
		break;
	case DELIVER_GREETING:
		if (st->err == NULL)
			print_greeting(l->out, st->detail);
		break;
	case DELIVER_EHLO:
		if (st->err == NULL)
			print_ehlo(l->out, l->a, st);
		break;
	default:
		break;
	}
	/* Each line as it is learnt: a relay that hangs next still shows what it said. */
	fflush(l->out);
}

/*
 * deliver_open as a send would go, stopped before AUTH, with a watcher that prints each
 * stage: the certificate of a failed handshake is shown too (tls_info holds the chain).
 */
int
serverinfo_run(const struct account *a, int verbose, FILE *out, struct err *e)
{
	struct deliver_opts o;
	struct deliver *d;
	struct look l;

	fprintf(out, "account: %s\nrelay: %s port %u, tls = %s\n", a->name, a->host, a->port,
	    tls_mode_name(a->tls));
	fflush(out);
	l.out = out;
	l.a = a;
	memset(&o, 0, sizeof(o));
	o.verbose = verbose;
	o.look = 1;
	o.step = on_step;
	o.step_ctx = &l;
	d = deliver_open(a, &o, e);
	deliver_close(d);
	fflush(out);
	return d != NULL ? 0 : -1;
}

/*
 * serverinfo.c: mailout --serverinfo. See serverinfo.h.
 *
 * It walks the same steps as deliver_open() but keeps going where it can and prints
 * what it learns: its point is to help set up an account, and to show the certificate
 * (with the fingerprint to pin) precisely when verification fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/err.h"
#include "net/net.h"
#include "send/deliver.h"
#include "send/serverinfo.h"
#include "smtp/smtp.h"
#include "net/stream.h"
#include "net/tls.h"

static const char *
tls_mode_name(enum tls_mode m)
{
	switch (m) {
	case TLS_OFF:		return "off";
	case TLS_OPPORTUNISTIC:	return "opportunistic";
	case TLS_STARTTLS:	return "starttls";
	case TLS_IMPLICIT:	return "implicit";
	default:		return "?";
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
		fprintf(out, "%s: none (the server refused EHLO: plain SMTP, HELO only)\n",
		    label);
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
	fprintf(out, "%s: %s\n", label, r != 0 ? "(too many to show)" : b.len > 2 ?
	    b.data + 2 : "(none)");
	if (c->auth[0] == '\0')
		fprintf(out, "%s: no AUTH offered%s\n", label, c->starttls ?
		    " (many servers offer it only after STARTTLS)" : "");
out:
	buf_free(&b);
}

static void
print_tls(FILE *out, const struct account *a, const struct tls_info *ti,
    const struct err *terr)
{
	const struct tls_cert_info *c;
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];
	size_t i;

	if (!ti->done)
		return;
	fprintf(out, "TLS: %s, %s (%s)\n", ti->version, ti->cipher, tls_library_version());
	if (err_failed(terr))
		fprintf(out, "certificate: FAILED: %s\n", err_str(terr, line, sizeof(line)));
	else if (a->tls_fingerprint != NULL && a->tls_fingerprint[0] != '\0')
		fprintf(out, "certificate: ok, matches tls_fingerprint\n");
	else if (!a->tls_verify)
		fprintf(out, "certificate: NOT verified (tls_verify = off)\n");
	else
		fprintf(out, "certificate: ok, verified for %s against %s\n",
		    a->tls_server_name != NULL && a->tls_server_name[0] != '\0' ?
		    a->tls_server_name : a->host, ti->ca);
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
		fprintf(out, "to pin this certificate, put in [%s]:\ntls_fingerprint = "
		    "sha256:%s\n", a->name, ti->chain[0].sha256);
}

int
serverinfo_run(const struct account *a, int verbose, FILE *out, struct err *e)
{
	struct smtp *s = NULL;
	struct stream *ns = NULL, *t;
	struct smtp_opts so;
	struct tls_opts to;
	struct tls_info ti;
	struct err terr;
	const char *p;
	int ret = -1, quit = 1;

	memset(&ti, 0, sizeof(ti));
	err_init(&terr);
	deliver_tls_opts(&to, a);
	fprintf(out, "account: %s\nrelay: %s port %u, tls = %s\n", a->name, a->host, a->port,
	    tls_mode_name(a->tls));
	if (a->tls != TLS_OFF) {
		if (tls_check_opts(&to, e) == -1)
			goto out;
		if (!a->tls_verify && (a->tls_fingerprint == NULL ||
		    a->tls_fingerprint[0] == '\0'))
			fprintf(stderr, "mailout: warning: TLS certificate verification is off "
			    "for account %s\n", a->name);
	}
	fflush(out);
	if ((ns = net_connect(a->host, a->port, (int)a->timeout, (int)a->timeout, e)) == NULL)
		goto out;
	if (a->tls == TLS_IMPLICIT) {
		if ((t = tls_wrap(ns, &to, &ti, &terr)) == NULL) {
			print_tls(out, a, &ti, &terr);
			err_set(e, terr.kind, terr.cause, "%s", terr.msg);
			goto out;
		}
		ns = t;
		print_tls(out, a, &ti, &terr);
	}
	memset(&so, 0, sizeof(so));
	so.helo = a->domain;
	so.verbose = verbose;
	s = smtp_new(conn_new(ns), &so);
	ns = NULL;
	if (smtp_greeting(s, e) == -1)
		goto out;
	fputs("greeting: 220 ", out);
	for (p = smtp_greeting_text(s); *p != '\0'; p++)
		if (*p == '\n')
			fputs(" / ", out);
		else
			fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, out);
	fputc('\n', out);
	if (smtp_ehlo(s, e) == -1)
		goto out;
	if ((a->tls == TLS_STARTTLS || a->tls == TLS_OPPORTUNISTIC) && smtp_caps(s)->starttls) {
		print_caps(out, "capabilities before TLS", smtp_caps(s));
		fflush(out);
		if (smtp_starttls(s, e) == -1)
			goto out;
		if ((t = tls_wrap(conn_stream(smtp_conn(s)), &to, &ti, &terr)) == NULL) {
			quit = 0;
			print_tls(out, a, &ti, &terr);
			err_set(e, terr.kind, terr.cause, "%s", terr.msg);
			goto out;
		}
		conn_swap(smtp_conn(s), t);
		print_tls(out, a, &ti, &terr);
		if (smtp_ehlo(s, e) == -1)
			goto out;
		print_caps(out, "capabilities after TLS", smtp_caps(s));
	} else {
		print_caps(out, "capabilities", smtp_caps(s));
		if (a->tls == TLS_STARTTLS) {
			fprintf(out, "TLS: none: the server does not offer STARTTLS\n");
			err_set(e, ERR_PERM, CAUSE_UNAVAILABLE, "the server does not offer "
			    "STARTTLS, and account %s requires it (tls = starttls)", a->name);
			goto out;
		}
		if (a->tls != TLS_IMPLICIT)
			fprintf(out, "TLS: none (tls = %s%s)\n", tls_mode_name(a->tls),
			    a->tls == TLS_OPPORTUNISTIC ? ", STARTTLS not offered" : "");
	}
	ret = 0;
out:
	fflush(out);
	if (s != NULL) {
		if (quit)
			smtp_quit(s);
		smtp_free(s);
	}
	if (ns != NULL)
		ns->ops->close(ns);
	if (ret == -1)
		err_prefix(e, "relay %s port %u: ", a->host, a->port);
	return ret;
}

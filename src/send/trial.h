/*
 * trial.h: a candidate server tried the way --serverinfo tries an account's relay
 * (deliver_open with a watcher, stopped before AUTH), to see which one setup can
 * propose: reached, TLS up, its certificate verified, and what it offers to sign in.
 */
#ifndef MAILOUT_TRIAL_H
#define MAILOUT_TRIAL_H

#include <stdio.h>

#include "base/bounds.h"
#include "config/config.h"

struct candidate;

enum trial_result {
	TRIAL_OK, /* TLS up and the certificate verified (or pinned) */
	TRIAL_CERT, /* reached, but its certificate did not verify */
	TRIAL_NOTLS, /* reached, but it offers no STARTTLS */
	TRIAL_FAILED, /* not reached, or no SMTP there */
};

struct trial {
	char host[MAX_DOMAIN + 1];
	unsigned port;
	enum tls_mode tls;
	enum trial_result result;
	char why[MAX_ERROR_TEXT]; /* the failure, one line */
	char cert[MAX_REPORT_LINE]; /* the server's certificate, for people */
	char fingerprint[128]; /* "sha256:AA:..." once it was sent */
	char auth[256]; /* the AUTH mechanisms offered over TLS */
	int esmtp; /* EHLO was answered */
};

struct trial_opts {
	const char *ca_file; /* NULL: the system bundle */
	const char *fingerprint; /* pin: accept the server with this certificate */
	const char *domain; /* the EHLO name */
	unsigned timeout; /* seconds per step */
	int verbose; /* the SMTP dialogue on stderr */
	FILE *out; /* a line per attempt, for people; NULL: silent */
};

/*
 * Try candidate c: its own port and TLS mode, or (port 0) 465 with implicit TLS, then
 * 587 and 25 with STARTTLS, stopping at the first that verifies. Each attempt is
 * appended to *t (n of them; free()) and printed as one line on o->out. Returns the
 * index in *t of the attempt that verified, or -1 when none did.
 */
int trial_run(const struct candidate *c, const struct trial_opts *o, struct trial **t, size_t *n);

#endif

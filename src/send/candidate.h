/*
 * candidate.h: a submission server that setup may propose, as discovery found it
 * (discover.h) and as the probe judged it (trial.h).
 */
#ifndef MAILOUT_CANDIDATE_H
#define MAILOUT_CANDIDATE_H

#include <stddef.h>

#include "config/config.h"

struct candidate {
	char *host;
	unsigned port; /* 0: not known; the probe tries 465, 587, 25 */
	enum tls_mode tls; /* with port: implicit or starttls (off: plain) */
	enum oauth_provider oauth; /* the provider signs in with OAuth2 there */
	int password; /* it takes a password (1), or says not (0) */
	char *user; /* the user name the source gives, or NULL */
	char *source; /* where it came from, for people */
	char *note; /* what a person should know, or NULL */
};

struct candidates {
	struct candidate *c;
	size_t n;
};

/*
 * Add a copy of c (its strings copied) unless the same host, port and TLS mode is
 * there already or the list holds MAX_CANDIDATES. 1 added, 0 not.
 */
int candidate_add(struct candidates *l, const struct candidate *c);
void candidates_free(struct candidates *l);

/* "implicit TLS", "STARTTLS", "no TLS": for people. */
const char *candidate_tls_name(enum tls_mode m);

#endif

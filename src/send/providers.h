/*
 * providers.h: the built-in table of the large mail providers: which addresses are
 * theirs (by domain, or by the MX of a domain they host, as Google Workspace and
 * Microsoft 365 do), their submission server, and what a person must know to sign in.
 */
#ifndef MAILOUT_PROVIDERS_H
#define MAILOUT_PROVIDERS_H

#include "config/config.h"

struct candidates;

struct provider_port {
	unsigned port;
	enum tls_mode tls;
};

struct provider {
	const char *name; /* "Gmail" */
	const char *const *domains; /* address domains, NULL-terminated */
	const char *const *mx; /* MX host suffixes, NULL-terminated */
	const char *host;
	struct provider_port ports[2]; /* in the order to try; port 0 ends */
	enum oauth_provider oauth; /* OAuth2 sign-in, or OAUTH_NONE */
	int password; /* a password (often an app password) works */
	const char *note; /* how to sign in, for people */
};

/* The provider of an address domain (case-insensitive), or NULL. */
const struct provider *provider_by_domain(const char *domain);
/* The provider hosting a domain whose MX is mx ("aspmx.l.google.com"), or NULL. */
const struct provider *provider_by_mx(const char *mx);

/* p's servers as candidates (user: the address), added to l with source. */
void provider_candidates(const struct provider *p, const char *address, const char *source,
    struct candidates *l);

#endif

/*
 * discover.h: where an address's mail is submitted, found the way mail programs find
 * it, one source after the other:
 *
 *   1. the built-in table of large providers (providers.h), by the address's domain;
 *   2. RFC 6186 SRV records: _submissions._tcp.DOMAIN (implicit TLS), then
 *      _submission._tcp.DOMAIN (STARTTLS);
 *   3. the domain's own autoconfig file: https://autoconfig.DOMAIN/mail/config-v1.1.xml
 *      ?emailaddress=ADDRESS, then https://DOMAIN/.well-known/autoconfig/mail/
 *      config-v1.1.xml (autoconfig.h);
 *   4. Thunderbird's public ISP database: https://autoconfig.thunderbird.net/v1.1/DOMAIN;
 *   5. the domain's MX: one of Google's or Microsoft's makes it a Google Workspace or
 *      Microsoft 365 domain (the table again);
 *   6. a guess: smtp.DOMAIN, mail.DOMAIN and the first MX host, on the usual ports.
 *
 * Each source that is asked prints one line on out (what it found, or why nothing).
 */
#ifndef MAILOUT_DISCOVER_H
#define MAILOUT_DISCOVER_H

#include <stdio.h>

struct candidates;

struct discover_opts {
	const char *ca_file; /* HTTPS checked against it; NULL: the system bundle */
	int timeout_s; /* for each HTTPS request */
	FILE *out; /* a line per source, for people; NULL: silent */
};

struct discover {
	const char *address;
	const char *domain; /* in address */
	struct discover_opts o;
	int next; /* the next source to ask */
	char *mx; /* the first MX host, once asked */
};

/* Start at the first source. address must hold an '@' and stay valid meanwhile. */
void discover_init(struct discover *d, const char *address, const struct discover_opts *o);

/*
 * Ask the next sources until one of them adds candidates to out (those it finds
 * that are there already do not count). Returns how many it added, or 0 when every
 * source has been asked. A source that cannot be reached is reported on out and
 * passed over: finding nothing is not an error.
 */
int discover_next(struct discover *d, struct candidates *out);

void discover_free(struct discover *d);

#endif

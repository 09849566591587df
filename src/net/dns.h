/*
 * dns.h: the DNS records mail setup asks for: SRV (RFC 6186's _submissions._tcp and
 * _submission._tcp) and MX, through the system resolver (/etc/resolv.conf; libc's
 * res_query and ns_parse).
 */
#ifndef MAILOUT_DNS_H
#define MAILOUT_DNS_H

#include <stddef.h>

#include "base/attr.h"

struct err;

struct dns_srv {
	char *target; /* host name, without the final dot */
	unsigned port;
	unsigned priority;
	unsigned weight;
};

struct dns_mx {
	char *host; /* without the final dot */
	unsigned preference;
};

/*
 * The SRV records of name ("_submissions._tcp.example.com"), lowest priority first,
 * then highest weight (RFC 2782's order without its random pick: a setup wants the
 * same answer twice). 1 with *out (n records; dns_srv_free), 0 when there are none:
 * no such name, no SRV record, or the single "." target that says the service is not
 * offered. -1 with err (TEMP CAUSE_TEMP): the resolver could not say.
 */
int dns_srv(const char *name, struct dns_srv **out, size_t *n, struct err *e) MUST_CHECK;
void dns_srv_free(struct dns_srv *r, size_t n);

/* The MX records of domain, lowest preference first. 1, 0 or -1 as for dns_srv. */
int dns_mx(const char *domain, struct dns_mx **out, size_t *n, struct err *e) MUST_CHECK;
void dns_mx_free(struct dns_mx *r, size_t n);

/*
 * The parsers of a resolver answer (msg, len bytes as res_query returns it), exposed
 * for the unit tests. 1 with records, 0 none, -1 malformed.
 */
int dns_parse_srv(const unsigned char *msg, int len, struct dns_srv **out, size_t *n);
int dns_parse_mx(const unsigned char *msg, int len, struct dns_mx **out, size_t *n);

#endif

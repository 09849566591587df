/*
 * cidr.h: IP addresses and address ranges (192.168.1.0/24, 2001:db8::/32), parsed and
 * matched, for the listener's access rules. Pure: no I/O, no name resolution.
 *
 * An IPv4 address that arrives as IPv4-mapped IPv6 (::ffff:192.0.2.1, what a dual-stack
 * socket reports) is taken as the IPv4 address, so that one rule covers both spellings.
 */
#ifndef MAILOUT_CIDR_H
#define MAILOUT_CIDR_H

#include <stddef.h>

struct sockaddr;

/* A range: family, network bytes (IPv4 in the first 4), prefix length. A host is /32, /128. */
struct cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned bits;
};

/* Room for cidr_str's text: an IPv6 address, '/', three digits. */
#define CIDR_STR_LEN 64

/*
 * Parse "ADDR" (a host) or "ADDR/BITS"; an IPv6 address may be in brackets. Host bits
 * set under the prefix (192.168.1.5/24) are refused: the writer meant another range.
 * 0, or -1 if s is not a range.
 */
int cidr_parse(const char *s, struct cidr *out);
/* The host address of a socket address (AF_INET/AF_INET6; mapped IPv4 unwrapped). 0 or -1. */
int cidr_from_sockaddr(const struct sockaddr *sa, struct cidr *out);
/* 1 if the host address h lies in the range r. */
int cidr_contains(const struct cidr *r, const struct cidr *h);
/* 1 if h is in any of the n ranges. */
int cidr_in_list(const struct cidr *v, size_t n, const struct cidr *h);
/* 1 for a loopback address (127.0.0.0/8, ::1). */
int cidr_is_loopback(const struct cidr *h);
/* "192.168.1.0/24", or the bare address for a host; into buf (CIDR_STR_LEN). */
const char *cidr_str(const struct cidr *c, char *buf, size_t n);

#endif

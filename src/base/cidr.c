/*
 * cidr.c: address ranges. See cidr.h.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "base/cidr.h"
#include "base/parse.h"

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static size_t
addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* ::ffff:a.b.c.d becomes a.b.c.d/32. */
static void
unmap(struct cidr *c)
{
	if (c->family != AF_INET6 || c->bits != 128 ||
	    memcmp(c->addr, v4mapped, sizeof(v4mapped)) != 0)
		return;
	memmove(c->addr, c->addr + 12, 4);
	memset(c->addr + 4, 0, 12);
	c->family = AF_INET;
	c->bits = 32;
}

/* 1 if every bit of c->addr past the prefix is zero. */
static int
host_bits_clear(const struct cidr *c)
{
	size_t i, len = addr_len(c->family);
	unsigned char mask;

	for (i = c->bits / 8; i < len; i++) {
		/* The byte the prefix ends in keeps its top bits; the ones after, none. */
		mask = i == c->bits / 8 && c->bits % 8 != 0
		    ? (unsigned char)(0xff << (8 - c->bits % 8))
		    : 0;
		if ((c->addr[i] & (unsigned char)~mask) != 0)
			return 0;
	}
	return 1;
}

int
cidr_parse(const char *s, struct cidr *out)
{
	char text[CIDR_STR_LEN];
	const char *slash;
	char *a = text;
	size_t n;
	uint64_t bits;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(text))
		goto out;
	memcpy(text, s, n);
	text[n] = '\0';
	if (a[0] == '[') {
		if (n < 3 || a[n - 1] != ']')
			goto out;
		a[n - 1] = '\0';
		a++;
		if (inet_pton(AF_INET6, a, out->addr) != 1)
			goto out;
		out->family = AF_INET6;
	} else if (inet_pton(AF_INET, a, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, a, out->addr) == 1)
		out->family = AF_INET6;
	else
		goto out;
	out->bits = out->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (parse_uint(slash + 1, 0, out->bits, &bits) == -1)
			goto out;
		out->bits = (unsigned)bits;
	}
	if (!host_bits_clear(out))
		goto out;
	unmap(out);
	rc = 0;
out:
	return rc;
}

int
cidr_from_sockaddr(const struct sockaddr *sa, struct cidr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		memcpy(out->addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		out->family = AF_INET;
		out->bits = 32;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(out->addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		out->family = AF_INET6;
		out->bits = 128;
		unmap(out);
	} else
		return -1;
	return 0;
}

int
cidr_contains(const struct cidr *r, const struct cidr *h)
{
	unsigned full = r->bits / 8, rest = r->bits % 8;
	unsigned char mask;

	if (r->family != h->family)
		return 0;
	if (memcmp(r->addr, h->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (r->addr[full] & mask) == (h->addr[full] & mask);
}

int
cidr_in_list(const struct cidr *v, size_t n, const struct cidr *h)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_contains(&v[i], h))
			return 1;
	return 0;
}

int
cidr_is_loopback(const struct cidr *h)
{
	static const unsigned char v6lo[16] = { [15] = 1 };

	if (h->family == AF_INET)
		return h->addr[0] == 127;
	return h->family == AF_INET6 && memcmp(h->addr, v6lo, 16) == 0;
}

const char *
cidr_str(const struct cidr *c, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	if (c->bits == (c->family == AF_INET ? 32u : 128u))
		snprintf(buf, n, "%s", a);
	else
		snprintf(buf, n, "%s/%u", a, c->bits);
	return buf;
}

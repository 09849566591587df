/*
 * dns_test.c: SRV and MX answers as a resolver hands them over, parsed; malformed
 * ones refused without reading past their end.
 */
#include <stdlib.h>
#include <string.h>

#include "net/dns.h"
#include "unit.h"

struct msg {
	unsigned char b[1024];
	int n;
};

static void
put(struct msg *m, const void *p, int n)
{
	memcpy(m->b + m->n, p, (size_t)n);
	m->n += n;
}

static void
put16(struct msg *m, unsigned v)
{
	unsigned char x[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(m, x, 2);
}

/* "a.b" as labels. */
static void
put_name(struct msg *m, const char *name)
{
	const char *p = name, *dot;
	unsigned char len;

	while (*p != '\0') {
		dot = strchr(p, '.');
		len = (unsigned char)(dot != NULL ? dot - p : (long)strlen(p));
		put(m, &len, 1);
		put(m, p, len);
		p += len;
		if (*p == '.')
			p++;
	}
	len = 0;
	put(m, &len, 1);
}

/* Header and question for name/type with an answers. */
static void
begin(struct msg *m, const char *name, unsigned type, unsigned an)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180); /* response, RD, RA, no error */
	put16(m, 1);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
}

/* An answer record named by a pointer to the question (offset 12). */
static void
rr(struct msg *m, unsigned type, const unsigned char *rdata, unsigned rdlen)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 300);
	put16(m, rdlen);
	put(m, rdata, (int)rdlen);
}

static void
srv_rr(struct msg *m, unsigned prio, unsigned weight, unsigned port, const char *target)
{
	struct msg rd;

	rd.n = 0;
	put16(&rd, prio);
	put16(&rd, weight);
	put16(&rd, port);
	put_name(&rd, target);
	rr(m, 33, rd.b, (unsigned)rd.n);
}

static void
mx_rr(struct msg *m, unsigned pref, const char *host)
{
	struct msg rd;

	rd.n = 0;
	put16(&rd, pref);
	put_name(&rd, host);
	rr(m, 15, rd.b, (unsigned)rd.n);
}

static void
test_srv(void)
{
	struct dns_srv *r;
	struct msg m;
	size_t n;

	begin(&m, "_submissions._tcp.example.com", 33, 3);
	srv_rr(&m, 10, 0, 465, "backup.example.com");
	srv_rr(&m, 0, 5, 465, "b.example.com");
	srv_rr(&m, 0, 50, 465, "a.example.com");
	CHECK(dns_parse_srv(m.b, m.n, &r, &n) == 1 && n == 3, "three SRV records");
	CHECK(n == 3 && strcmp(r[0].target, "a.example.com") == 0 &&
		strcmp(r[1].target, "b.example.com") == 0 &&
		strcmp(r[2].target, "backup.example.com") == 0 && r[0].port == 465,
	    "lowest priority first, then highest weight");
	dns_srv_free(r, n);

	begin(&m, "_submission._tcp.example.com", 33, 1);
	srv_rr(&m, 0, 0, 0, "");
	CHECK(dns_parse_srv(m.b, m.n, &r, &n) == 0 && n == 0 && r == NULL,
	    "a lone '.' target says the service is not offered");

	begin(&m, "_submission._tcp.example.com", 33, 0);
	CHECK(dns_parse_srv(m.b, m.n, &r, &n) == 0, "no answer, no records");

	begin(&m, "_submission._tcp.example.com", 33, 1);
	srv_rr(&m, 0, 0, 587, "mail.example.com");
	CHECK(dns_parse_srv(m.b, m.n - 4, &r, &n) == -1 && r == NULL,
	    "an answer cut short is malformed");
	begin(&m, "_submission._tcp.example.com", 33, 1);
	rr(&m, 33, (const unsigned char *)"\0\0\0\0\0\x01\xc0", 7);
	CHECK(dns_parse_srv(m.b, m.n, &r, &n) == -1, "a name pointing past the end is refused");
}

static void
test_mx(void)
{
	struct dns_mx *r;
	struct msg m;
	size_t n;

	begin(&m, "example.com", 15, 3);
	mx_rr(&m, 10, "alt1.aspmx.l.google.com");
	mx_rr(&m, 1, "aspmx.l.google.com");
	srv_rr(&m, 0, 0, 25, "not-an-mx.example.com");
	CHECK(dns_parse_mx(m.b, m.n, &r, &n) == 1 && n == 2, "MX records, other types skipped");
	CHECK(n == 2 && strcmp(r[0].host, "aspmx.l.google.com") == 0 && r[0].preference == 1,
	    "lowest preference first");
	dns_mx_free(r, n);
	begin(&m, "example.com", 15, 1);
	mx_rr(&m, 0, "");
	CHECK(dns_parse_mx(m.b, m.n, &r, &n) == 0, "a null MX (RFC 7505) is no MX");
}

int
main(void)
{
	test_srv();
	test_mx();
	UNIT_DONE();
}

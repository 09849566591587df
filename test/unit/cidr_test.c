/*
 * cidr_test.c: address ranges parsed, printed and matched, IPv4 and IPv6, and IPv4
 * that a dual-stack socket reports as mapped IPv6.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "base/cidr.h"
#include "unit.h"

static int
in(const char *range, const char *host)
{
	struct cidr r, h;

	if (cidr_parse(range, &r) == -1 || cidr_parse(host, &h) == -1)
		return -1;
	return cidr_contains(&r, &h);
}

static const char *
norm(const char *s)
{
	static char buf[CIDR_STR_LEN];
	struct cidr c;

	if (cidr_parse(s, &c) == -1)
		return "(bad)";
	return cidr_str(&c, buf, sizeof(buf));
}

int
main(void)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	struct cidr c, r;
	char buf[CIDR_STR_LEN];

	CHECK_STR(norm("192.168.1.0/24"), "192.168.1.0/24", "IPv4 range");
	CHECK_STR(norm("10.1.2.3"), "10.1.2.3", "IPv4 host");
	CHECK_STR(norm("10.1.2.3/32"), "10.1.2.3", "a /32 is a host");
	CHECK_STR(norm("0.0.0.0/0"), "0.0.0.0/0", "everything");
	CHECK_STR(norm("2001:DB8::/32"), "2001:db8::/32", "IPv6 range");
	CHECK_STR(norm("[::1]"), "::1", "IPv6 in brackets");
	CHECK_STR(norm("::ffff:192.0.2.1"), "192.0.2.1", "mapped IPv4 is IPv4");
	CHECK_STR(norm("192.168.1.5/24"), "(bad)", "host bits set");
	CHECK_STR(norm("192.168.1.128/25"), "192.168.1.128/25", "a /25 on its boundary");
	CHECK_STR(norm("192.168.1.64/25"), "(bad)", "a /25 off its boundary");
	CHECK_STR(norm("10.0.0.0/33"), "(bad)", "prefix too long for IPv4");
	CHECK_STR(norm("2001:db8::/129"), "(bad)", "prefix too long for IPv6");
	CHECK_STR(norm("10.0.0.0/"), "(bad)", "empty prefix");
	CHECK_STR(norm("10.0.0.0/-1"), "(bad)", "negative prefix");
	CHECK_STR(norm("10.0.0"), "(bad)", "three octets");
	CHECK_STR(norm("example.com"), "(bad)", "a name");
	CHECK_STR(norm(""), "(bad)", "empty");
	CHECK_STR(norm("[10.0.0.1]"), "(bad)", "IPv4 in brackets");

	CHECK(in("192.168.1.0/24", "192.168.1.77") == 1, "in an IPv4 range");
	CHECK(in("192.168.1.0/24", "192.168.2.1") == 0, "out of an IPv4 range");
	CHECK(in("192.168.1.128/25", "192.168.1.127") == 0, "just below a /25");
	CHECK(in("192.168.1.128/25", "192.168.1.255") == 1, "top of a /25");
	CHECK(in("0.0.0.0/0", "203.0.113.9") == 1, "/0 holds everything IPv4");
	CHECK(in("0.0.0.0/0", "2001:db8::1") == 0, "but no IPv6");
	CHECK(in("2001:db8::/32", "2001:db8:ffff::1") == 1, "in an IPv6 range");
	CHECK(in("2001:db8::/32", "2001:db9::1") == 0, "out of an IPv6 range");
	CHECK(in("10.0.0.0/8", "::ffff:10.9.8.7") == 1, "mapped IPv4 in an IPv4 range");
	CHECK(in("10.1.2.3", "10.1.2.3") == 1 && in("10.1.2.3", "10.1.2.4") == 0,
	    "a host matches itself only");

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.2", &s4.sin_addr);
	CHECK(cidr_from_sockaddr((struct sockaddr *)&s4, &c) == 0 && cidr_is_loopback(&c),
	    "127.0.0.2 from a socket is loopback");
	CHECK_STR(cidr_str(&c, buf, sizeof(buf)), "127.0.0.2", "and reads back");
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.168.1.9", &s6.sin6_addr);
	CHECK(cidr_from_sockaddr((struct sockaddr *)&s6, &c) == 0 && c.family == AF_INET,
	    "a mapped address from a dual-stack socket is IPv4");
	CHECK(cidr_parse("192.168.1.0/24", &r) == 0 && cidr_in_list(&r, 1, &c) == 1,
	    "and matches an IPv4 range");
	CHECK(!cidr_is_loopback(&c), "not loopback");
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	CHECK(cidr_from_sockaddr((struct sockaddr *)&s6, &c) == 0 && cidr_is_loopback(&c),
	    "::1 is loopback");
	CHECK(cidr_in_list(NULL, 0, &c) == 0, "an empty list holds nothing");
	UNIT_DONE();
}

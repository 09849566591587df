/*
 * rfc5322_test.c: address-list parsing, field names, dedup and the SMTP path check.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "message/rfc5322.h"
#include "unit.h"

static char result[8192];

/* The addresses joined by single spaces, or "ERR: message". */
static const char *
parse(const char *s, int strict)
{
	struct addrlist l;
	struct err e;
	size_t i, off = 0;

	addrlist_init(&l);
	err_init(&e);
	result[0] = '\0';
	if (rfc5322_parse_addrlist(s, strlen(s), &l, strict, &e) == -1) {
		snprintf(result, sizeof(result), "ERR: %s", e.msg);
		if (e.cause != CAUSE_DATA)
			snprintf(result, sizeof(result), "ERR with wrong cause");
	} else {
		for (i = 0; i < l.n && off < sizeof(result); i++)
			off += snprintf(result + off, sizeof(result) - off, "%s%s", i ? " " : "",
			    l.v[i]);
	}
	addrlist_free(&l);
	return result;
}

#define STRICT(in, want) CHECK_STR(parse(in, 1), want, tname("strict: ", in))
#define LAX(in, want) CHECK_STR(parse(in, 0), want, tname("lax: ", in))

/* A test name on one TAP line: controls shown as '?'. */
static const char *
tname(const char *pre, const char *in)
{
	static char n[160];
	size_t i;

	snprintf(n, sizeof(n), "%.20s%.120s", pre, in);
	for (i = 0; n[i] != '\0'; i++)
		if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f)
			n[i] = '?';
	return n;
}
/* clang-format off */
#define BOTH(in, want)		do { STRICT(in, want); LAX(in, want); } while (0)
/* clang-format on */

static int
is_err(const char *r)
{
	return strncmp(r, "ERR: ", 5) == 0;
}

/* Lax output must never hold a byte that could break a path or a command line. */
static int
lax_clean(const char *s)
{
	struct addrlist l;
	struct err e;
	size_t i;
	const unsigned char *a;
	int ok = 1, inq;

	addrlist_init(&l);
	err_init(&e);
	if (rfc5322_parse_addrlist(s, strlen(s), &l, 0, &e) == -1 && e.cause != CAUSE_DATA)
		ok = 0;
	for (i = 0; i < l.n; i++) {
		inq = 0;
		for (a = (const unsigned char *)l.v[i]; *a; a++) {
			if (*a == '"')
				inq = !inq;
			if (*a < 0x20 || *a == 0x7f || *a == '<' || *a == '>' ||
			    (*a == ' ' && !inq))
				ok = 0;
		}
		if (l.v[i][0] == '\0')
			ok = 0;
	}
	addrlist_free(&l);
	return ok;
}

static void
test_callers(void)
{
	/* The shapes real callers write (mailutils, cron, Nodemailer). */
	BOTH("<a@x>,<b@x>", "a@x b@x");
	BOTH("a@x,b@x", "a@x b@x");
	BOTH("root (Cron Daemon)", "root");
	BOTH("root", "root");
	BOTH("alice", "alice");
	BOTH("root@localhost", "root@localhost");
	BOTH("app@x", "app@x");
	BOTH("  a@x ,\r\n\tb@x  ", "a@x b@x");
	BOTH("Joe User <joe@example.com>", "joe@example.com");
	BOTH("\"Joe, User\" <joe@example.com>, ann@x", "joe@example.com ann@x");
	BOTH("=?UTF-8?B?SsO8cmdlbg==?= <j@x>", "j@x");
	BOTH("J\xc3\xbcrgen <j\xc3\xbc@b\xc3\xbc.de>", "j\xc3\xbc@b\xc3\xbc.de");
}

static void
test_appendix_a(void)
{
	/* RFC 5322 Appendix A. */
	BOTH("John Doe <jdoe@machine.example>", "jdoe@machine.example");
	BOTH("Mary Smith <mary@example.net>", "mary@example.net");
	BOTH("\"Joe Q. Public\" <john.q.public@example.com>", "john.q.public@example.com");
	BOTH("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	    "mary@x.test jdoe@example.org one@y.test");
	BOTH("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	    "boss@nil.test sysservices@example.net");
	BOTH("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	    "c@a.test joe@where.test jdoe@one.test");
	BOTH("Undisclosed recipients:;", "");
	BOTH("undisclosed-recipients:;", "");
	BOTH("undisclosed-recipients:", "");
	BOTH("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", "pete@silly.test");
	BOTH("A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
	     "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end)",
	    "c@public.example joe@example.org jdoe@one.test");
	BOTH("(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;", "");
	BOTH("Joe Q. Public <john.q.public@example.com>", "john.q.public@example.com");
	BOTH("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
	    "mary@example.net jdoe@test.example");
	BOTH("<@a,@b:x@y>", "x@y");
	BOTH("John Doe <jdoe@machine(comment).  example>", "jdoe@machine.example");
}

static void
test_forms(void)
{
	BOTH("\"john doe\"@example.com", "\"john doe\"@example.com");
	BOTH("\"john\"@example.com", "john@example.com");
	BOTH("\"a\\\"b\"@x", "\"a\\\"b\"@x");
	BOTH("user@[192.0.2.1]", "user@[192.0.2.1]");
	BOTH("a@x, <>, b@x", "a@x b@x");
	BOTH("a@x, , b@x,", "a@x b@x");
	BOTH("A@X.com, a@x.COM, A@x.com", "A@X.com a@x.COM");
	BOTH("((((nested)))) a@x", "a@x");
	BOTH("first.last@sub.example.org", "first.last@sub.example.org");
	BOTH("", "");
	BOTH("   (only a comment)  ", "");
}

static void
test_strict_errors(void)
{
	const char *r;

	r = parse("foo@", 1);
	CHECK(is_err(r) && strstr(r, "'foo@'") != NULL, "strict: foo@ names the text");
	CHECK(is_err(parse("foo@bar.com.", 1)), "strict: trailing dot is an error");
	CHECK(is_err(parse("Name foo@bar", 1)), "strict: name without brackets");
	CHECK(is_err(parse("\"unbalanced", 1)), "strict: unbalanced quote");
	CHECK(is_err(parse("<a@b", 1)), "strict: missing >");
	CHECK(is_err(parse("a@b@c", 1)), "strict: two @");
	CHECK(is_err(parse("@x", 1)), "strict: no local part");
	CHECK(is_err(parse("a..b@x", 1)), "strict: double dot");
	CHECK(is_err(parse("a@x (open comment", 1)), "strict: unterminated comment");
	CHECK(is_err(parse("a\x01@x", 1)), "strict: control character");
	CHECK(is_err(parse("\"a\x01\"@x", 1)), "strict: control in quotes");
	CHECK(is_err(parse("a@x;", 1)), "strict: ; outside group");
	r = parse("good@x, bad@", 1);
	CHECK(is_err(r) && strstr(r, "'bad@'") != NULL, "strict: second element named");
}

static void
test_lax(void)
{
	LAX("foo@bar.com.", "foo@bar.com");
	LAX("Name foo@bar", "foo@bar");
	LAX("\"unbalanced", "unbalanced");
	LAX("\"Joe <joe@x>", "joe@x");
	LAX("a@b, , c@d", "a@b c@d");
	LAX("<a@b", "a@b");
	LAX("<a@b, c@d", "a@b c@d");
	LAX("<a@x> <b@x>", "a@x b@x");
	LAX("root alice", "root alice");
	LAX("foo@", "foo");
	LAX("a@b@c, d@e", "d@e");
	LAX("joe@x <joe@x>", "joe@x");
	LAX("a@x>", "a@x");
	LAX("a@[1.2.3.4", "a@1.2.3.4");
	LAX("root (Cron Daemon", "root");
	LAX("a\x01@x", "a@x");
}

static void
test_hostile(void)
{
	struct buf b;
	size_t i;
	const char *r;
	char junk[4096];
	unsigned seed = 12345;
	int clean = 1;

	buf_init(&b, 64 * 1024 * 1024);
	for (i = 0; i < 1000; i++)
		MUST(buf_addc(&b, '('));
	MUST(buf_addstr(&b, "x"));
	for (i = 0; i < 1000; i++)
		MUST(buf_addc(&b, ')'));
	MUST(buf_addstr(&b, " a@x"));
	CHECK_STR(parse(buf_cstr(&b), 1), "a@x", "1000 nested comments");
	buf_reset(&b);
	for (i = 0; i < 1000000; i++)
		MUST(buf_addc(&b, '('));
	CHECK(is_err(parse(buf_cstr(&b), 1)), "a million open comments: strict error");
	CHECK_STR(parse(buf_cstr(&b), 0), "", "a million open comments: lax empty");
	buf_reset(&b);
	for (i = 0; i < 2000000; i++)
		MUST(buf_addc(&b, 'a'));
	CHECK(is_err(parse(buf_cstr(&b), 1)), "2 MB atom: strict error");
	CHECK_STR(parse(buf_cstr(&b), 0), "", "2 MB atom: lax drops it");
	buf_reset(&b);
	for (i = 0; i < 20000; i++)
		MUST(buf_addf(&b, "u%zu@x,", i));
	r = parse(buf_cstr(&b), 0);
	CHECK(is_err(r) && strstr(r, "more than") != NULL, "20000 addresses: limit");
	buf_reset(&b);
	for (i = 0; i < 5000; i++)
		MUST(buf_addstr(&b, "a "));
	MUST(buf_addstr(&b, "<b@x>"));
	CHECK(is_err(parse(buf_cstr(&b), 1)), "5000-word display name: strict too long");
	buf_reset(&b);
	for (i = 0; i < 100000; i++)
		MUST(buf_addstr(&b, "\"<"));
	CHECK(lax_clean(buf_cstr(&b)), "quotes and brackets: lax clean");
	buf_free(&b);
	CHECK(lax_clean("\xff\xfe@\x80\x81, \"\xc3\xa9\"@x"), "high bytes: lax clean");
	CHECK_STR(parse("\xff\xfe@\x80\x81", 1), "\xff\xfe@\x80\x81", "high bytes kept");

	/* Random bytes from a small alphabet of specials: lax never yields a bad address. */
	for (int round = 0; round < 3000 && clean; round++) {
		static const char alpha[] = "a@.<>\"(),:;[]\\ \t\r\nbx\x01\x7f\xc3";
		size_t n = (size_t)(rand_r(&seed) % (sizeof(junk) - 1));

		for (i = 0; i < n; i++)
			junk[i] = alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
		junk[n] = '\0';
		clean = lax_clean(junk);
		if (!clean)
			printf("# bad lax output for: %s\n", tname("", junk));
		(void)parse(junk, 1);
	}
	CHECK(clean, "3000 random inputs: lax output clean, strict does not crash");
}

static void
test_addrlist(void)
{
	struct addrlist l;

	addrlist_init(&l);
	CHECK(addrlist_add(&l, "a@x") == 1, "add new");
	CHECK(addrlist_add(&l, "a@X") == 0, "domain case-insensitive");
	CHECK(addrlist_add(&l, "A@x") == 1, "local part exact");
	CHECK(addrlist_add(&l, "a") == 1, "bare name differs from qualified");
	CHECK(addrlist_add(&l, "a") == 0, "bare name duplicate");
	CHECK(addrlist_add(&l, "\"a@b\"@x") == 1, "quoted @ in local part");
	CHECK(addrlist_add(&l, "\"a@b\"@X") == 0, "quoted @ duplicate");
	CHECK(l.n == 4, "four kept");
	addrlist_free(&l);
}

static void
test_field_name(void)
{
	const char *v = NULL;
	size_t n = 0;

	CHECK(rfc5322_field_name("Subject: hi", 11, &n, &v) == 0 && n == 7 &&
		strcmp(v, " hi") == 0,
	    "field name");
	CHECK(rfc5322_field_name("Subject : hi", 12, &n, &v) == 0 && n == 7,
	    "obs space before colon");
	CHECK(rfc5322_field_name("From foo@bar Mon", 16, &n, &v) == -1, "mbox From_ line");
	CHECK(rfc5322_field_name(" cont: x", 8, &n, &v) == -1, "continuation");
	CHECK(rfc5322_field_name(": x", 3, &n, &v) == -1, "empty name");
	CHECK(rfc5322_field_name("no colon", 8, &n, &v) == -1, "no colon");
	CHECK(rfc5322_field_name("X-\xc3\xa9: x", 7, &n, &v) == -1, "8-bit name");
}

static void
test_addr_invalid(void)
{
	CHECK(rfc5322_addr_invalid("a@example.com") == 0, "plain address valid");
	CHECK(rfc5322_addr_invalid("first.last+tag@sub.example.com") == 0, "dots and plus");
	CHECK(rfc5322_addr_invalid("\"john doe\"@x.org") == 0, "quoted local part");
	CHECK(rfc5322_addr_invalid("u@[192.0.2.1]") == 0, "address literal");
	CHECK(rfc5322_addr_invalid("postmaster") == 0, "postmaster alone");
	CHECK(rfc5322_addr_invalid("j\xc3\xbc@b\xc3\xbc.de") == 0, "UTF-8");
	CHECK(rfc5322_addr_invalid("") == 1, "empty");
	CHECK(rfc5322_addr_invalid("root") == 1, "bare name");
	CHECK(rfc5322_addr_invalid("a b@x") == 1, "space");
	CHECK(rfc5322_addr_invalid("a@b@x") == 1, "two @");
	CHECK(rfc5322_addr_invalid("a@x>\r\nRCPT TO:<b@y") == 1, "injection");
	CHECK(rfc5322_addr_invalid("<a@x>") == 1, "brackets");
	CHECK(rfc5322_addr_invalid("a@x.") == 1, "trailing dot");
	CHECK(rfc5322_addr_invalid(".a@x") == 1, "leading dot");
	CHECK(rfc5322_addr_invalid("a@") == 1, "no domain");
	CHECK(rfc5322_addr_invalid("\"a\rb\"@x") == 1, "CR in quotes");
	CHECK(rfc5322_addr_invalid("a@ex ample.com") == 1, "space in domain");
}

int
main(void)
{
	test_callers();
	test_appendix_a();
	test_forms();
	test_strict_errors();
	test_lax();
	test_hostile();
	test_addrlist();
	test_field_name();
	test_addr_invalid();
	UNIT_DONE();
}

/*
 * rfc2047_test.c: mailboxes with display names, encoded words, the header downgrade.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "message/mailbox.h"
#include "message/rfc2047.h"
#include "unit.h"

/* "name|addr;name|addr" for a parsed list, "-" for a refusal. */
static const char *
parse(const char *s)
{
	static char out[1024];
	struct mailbox_list l;
	struct buf b;
	size_t i;

	if (mailbox_parse(s, strlen(s), 100, &l) == -1)
		return "-";
	buf_init(&b, sizeof(out) - 1);
	for (i = 0; i < l.n; i++)
		MUST(buf_addf(&b, "%s%s|%s", i ? ";" : "", l.v[i].name ? l.v[i].name : "",
		    l.v[i].addr));
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_free(&b);
	mailbox_list_free(&l);
	return out;
}

static void
test_parse(void)
{
	struct mailbox_list l;

	CHECK_STR(parse("root (Cron Daemon)"), "Cron Daemon|root", "comment as name");
	CHECK_STR(parse("alice"), "|alice", "bare local name");
	CHECK_STR(parse("Joe <joe@x.org>"), "Joe|joe@x.org", "phrase and angle");
	CHECK_STR(parse("\"Doe, J\" <j@x>, b@y"), "Doe, J|j@x;|b@y", "quoted name, two");
	CHECK_STR(parse(" <a@b> "), "|a@b", "angle only");
	CHECK_STR(parse("Joe\r\n <joe@x>"), "Joe|joe@x", "folded");
	CHECK_STR(parse("<@route,@r2:a@b>"), "|a@b", "route dropped");
	CHECK_STR(parse("\"john doe\"@x.org"), "|\"john doe\"@x.org", "quoted local part");
	CHECK_STR(parse("Cron Daemon root@host"), "Cron Daemon|root@host", "missing brackets");
	CHECK_STR(parse("a@b, , c@d,"), "|a@b;|c@d", "empty elements skipped");
	CHECK_STR(parse("undisclosed-recipients:;"), "-", "group refused");
	CHECK_STR(parse("Joe <joe@x"), "-", "unterminated angle refused");
	CHECK_STR(parse("two words"), "-", "words without address refused");
	CHECK_STR(parse("J\xc3\xb6rg <j@x>"), "J\xc3\xb6rg|j@x", "8-bit name");
	/* Found by fuzzing: a NUL cut the address short ("\"a), a rewrite wrote that. */
	CHECK(mailbox_parse("\"a\0b\"@x.org", 11, 100, &l) == -1 && l.n == 0,
	    "a NUL byte refused");
	/* Found by fuzzing: written bare, these would read back as something else. */
	CHECK_STR(parse("<a,b@x.org>, c@x.org"), "-", "a comma in an angle address refused");
	CHECK_STR(parse("<@r1,@r2:u@x;g>"), "-", "a special after the route refused");
	CHECK_STR(parse("<u@[192.0.2.1]>"), "-", "a domain literal refused");
	CHECK_STR(parse("<\"a,b\"@x.org>"), "|\"a,b\"@x.org", "specials in quotes are fine");
	CHECK_STR(parse("<@r:u@x\"\".org>"), "-", "a quote after the local part refused");
}

static const char *
down(const char *f)
{
	static char out[4096];
	struct buf b;
	const char *why = NULL;

	buf_init(&b, sizeof(out) - 1);
	if (rfc2047_downgrade_field(f, strlen(f), &b, &why) == -1)
		snprintf(out, sizeof(out), "- %s", why);
	else
		snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_free(&b);
	return out;
}

static void
test_downgrade_field(void)
{
	CHECK_STR(down("Subject: Gr\xc3\xbc\xc3\x9f"
		       "e aus K\xc3\xb6ln\r\n"),
	    "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n", "subject encoded");
	CHECK_STR(down("Subject: [cron] caf\xc3\xa9 done\r\n"),
	    "Subject: [cron] =?UTF-8?B?Y2Fmw6k=?= done\r\n", "ASCII words around stay");
	CHECK_STR(down("Subject: caf\xe9\r\n"), "Subject: =?ISO-8859-1?B?Y2Fm6Q==?=\r\n",
	    "Latin-1 subject");
	CHECK_STR(down("From: J\xc3\xb6rg <j@x.org>\r\n"),
	    "From: =?UTF-8?B?SsO2cmc=?= <j@x.org>\r\n", "display name encoded");
	CHECK_STR(down("To: \"M\xc3\xbcller, Hans\" <h@x>, b@y\r\n"),
	    "To: =?UTF-8?B?TcO8bGxlciwgSGFucw==?= <h@x>, b@y\r\n", "quoted name encoded");
	CHECK_STR(down("To: j\xc3\xb6rg@x.org\r\n"), "- an address that is not ASCII",
	    "non-ASCII address cannot be downgraded");
	CHECK_STR(down("Content-Type: application/pdf; name=\"\xc3\x9c"
		       "bersicht.pdf\"\r\n"),
	    "Content-Type: application/pdf; name=\"=?UTF-8?B?w5xiZXJzaWNodC5wZGY=?=\"\r\n",
	    "parameter value encoded inside quotes");
	CHECK_STR(down("X-Note: a\r\n b \xc3\xa9\r\n"), "X-Note: a b =?UTF-8?B?w6k=?=\r\n",
	    "unknown field unfolded and encoded");
	/* Found by fuzzing: an empty value was arithmetic on NULL (UB). */
	CHECK_STR(down("Subject:  \r\n"), "Subject: \r\n", "an empty value");
	CHECK_STR(down("To:\r\n"), "To: \r\n", "an empty address field");
}

static void
test_long_encode(void)
{
	struct buf b;
	char s[200];
	const char *p, *q;
	int ok = 1;

	/* 60 two-byte characters: several words, none over 75, no character split. */
	for (size_t i = 0; i < 120; i += 2) {
		s[i] = (char)0xc3;
		s[i + 1] = (char)0xa9;
	}
	buf_init(&b, 4096);
	MUST(rfc2047_encode(&b, (unsigned char *)s, 120, "\r\n "));
	for (p = b.data; p != NULL; p = q ? q + 3 : NULL) {
		q = strstr(p, "\r\n ");
		if ((q ? (size_t)(q - p) : strlen(p)) > 75)
			ok = 0;
	}
	CHECK(ok && strstr(b.data, "\r\n =?UTF-8?B?") != NULL, "long text: words of <= 75");

	/* Found by fuzzing: ISO-8859-1's longer label made 77-character words. */
	memset(s, 0xe9, 100);
	buf_reset(&b);
	MUST(rfc2047_encode(&b, (unsigned char *)s, 100, "\r\n "));
	for (ok = 1, p = b.data; p != NULL; p = q ? q + 3 : NULL) {
		q = strstr(p, "\r\n ");
		if ((q ? (size_t)(q - p) : strlen(p)) > 75)
			ok = 0;
	}
	CHECK(ok && strstr(b.data, "\r\n =?ISO-8859-1?B?") != NULL,
	    "long Latin-1 text: words of <= 75");
	buf_free(&b);
}

static void
test_downgrade_file(void)
{
	static const char msg[] = "From: J\xc3\xb6rg <j@x.org>\r\nSubject: \xc3\xa9t\xc3\xa9\r\n"
				  "To: b@y\r\n\r\nbody \xc3\xa9\r\n";
	static const char want[] =
	    "From: =?UTF-8?B?SsO2cmc=?= <j@x.org>\r\n"
	    "Subject: =?UTF-8?B?w6l0w6k=?=\r\nTo: b@y\r\n\r\nbody \xc3\xa9\r\n";
	char path[] = "/tmp/rfc2047_test.XXXXXX", got[1024];
	struct err e;
	ssize_t n;
	int fd = mkstemp(path), nfd;

	unlink(path);
	if (write(fd, msg, sizeof(msg) - 1) != (ssize_t)sizeof(msg) - 1)
		return;
	err_init(&e);
	nfd = rfc2047_downgrade(fd, NULL, &e);
	CHECK(nfd != -1, "downgrade copy made");
	n = nfd != -1 ? read(nfd, got, sizeof(got) - 1) : 0;
	got[n > 0 ? n : 0] = '\0';
	CHECK_STR(got, want, "headers 7-bit, body as it was");
	if (nfd != -1)
		close(nfd);
	close(fd);

	fd = mkstemp(path);
	unlink(path);
	if (write(fd, "To: \xc3\xa9@x\r\n\r\nb\r\n", 15) != 15)
		return;
	err_init(&e);
	nfd = rfc2047_downgrade(fd, NULL, &e);
	CHECK(nfd == -1 && e.cause == CAUSE_DATA && strstr(e.msg, "To header"),
	    "downgrade refused, naming the header");
	close(fd);
}

int
main(void)
{
	test_parse();
	test_downgrade_field();
	test_long_encode();
	test_downgrade_file();
	UNIT_DONE();
}

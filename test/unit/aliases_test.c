/*
 * aliases_test.c: the aliases file format, expansion, local names and qualification.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "message/aliases.h"
#include "base/buf.h"
#include "base/err.h"
#include "message/rfc5322.h"
#include "unit.h"
#include "base/user.h"

static char dir[] = "/tmp/aliases_test.XXXXXX";
static char path[256];
static struct buf warnings;
static int nwarn;

static void
collect(void *ctx, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	nwarn++;
	MUST(buf_addf(&warnings, "%s:%u: %s\n", file, line, msg));
}

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* Load text as the aliases file; NULL on error (e filled). */
static struct aliases *
load(const char *text, struct err *e)
{
	write_file(text);
	err_init(e);
	buf_reset(&warnings);
	nwarn = 0;
	return aliases_load(path, collect, NULL, e);
}

/* Expand rcpt and join the result with commas; "ERR: msg" on failure. */
static const char *
expand(const struct aliases *t, const char *rcpt)
{
	static char res[8192];
	struct addrlist l;
	struct buf b;
	struct err e;
	size_t i;

	addrlist_init(&l);
	err_init(&e);
	buf_init(&b, sizeof(res) - 1);
	if (aliases_expand(t, rcpt, NULL, &l, &e) == -1)
		MUST(buf_addf(&b, "ERR: %s", e.msg));
	else
		for (i = 0; i < l.n; i++)
			MUST(buf_addf(&b, "%s%s", i ? "," : "", l.v[i]));
	snprintf(res, sizeof(res), "%s", buf_cstr(&b));
	buf_free(&b);
	addrlist_free(&l);
	return res;
}

static int
contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static void
test_debian_default(void)
{
	struct aliases *t;
	struct err e;

	/* Debian's postfix package installs exactly this. */
	t = load("# See man 5 aliases for format\npostmaster:    root\n", &e);
	CHECK(t != NULL, "debian postfix default loads");
	CHECK(aliases_count(t) == 1, "debian postfix default: one alias");
	CHECK_STR(expand(t, "postmaster"), "root", "postmaster -> root");
	CHECK_STR(expand(t, "PostMaster@localhost"), "root",
	    "names are case-insensitive, @localhost is local");
	CHECK_STR(expand(t, "root"), "root", "root without alias stays root");
	CHECK_STR(expand(t, "postmaster@example.com"), "postmaster@example.com",
	    "remote address is not aliased");
	aliases_free(t);

	/* Debian's exim4-config default. */
	t = load("# /etc/aliases\nmailer-daemon: postmaster\npostmaster: root\n"
		 "nobody: root\nhostmaster: root\nusenet: root\nnews: root\nwebmaster: root\n"
		 "www: root\nftp: root\nabuse: root\nnoc: root\nsecurity: root\nroot: alice\n",
	    &e);
	CHECK(t != NULL && aliases_count(t) == 13, "debian exim default loads, 13 aliases");
	CHECK_STR(expand(t, "MAILER-DAEMON"), "alice",
	    "mailer-daemon -> postmaster -> root -> alice");
	CHECK_STR(expand(t, "www@localhost.localdomain"), "alice",
	    "localhost.localdomain is local");
	CHECK(nwarn == 0, "debian defaults: no warnings");
	aliases_free(t);
}

static void
test_format(void)
{
	struct aliases *t;
	struct err e;

	t = load("team: alice,\n  bob@example.com,\n\tcarol\n"
		 "team2: a@x.org,\n# a comment inside the entry\n\n   b@x.org  \n"
		 "  # indented comment\n"
		 "many: one@x.org,two@x.org ,  three@x.org,, four\n"
		 "\"a b\": quoted@x.org\n"
		 "boss: \"The Boss\" <boss@example.com>, other@example.com (comment)\n"
		 "qt: \"x y\"@example.com\n"
		 "crlf: c@x.org\r\n"
		 "spaced   :   s@x.org\n",
	    &e);
	CHECK(t != NULL, "format file loads");
	if (t == NULL) {
		printf("# %s\n", e.msg);
		return;
	}
	CHECK(aliases_count(t) == 8, "eight aliases");
	CHECK_STR(expand(t, "team"), "alice,bob@example.com,carol", "continuation lines");
	CHECK_STR(expand(t, "team2"), "a@x.org,b@x.org", "comments and blanks inside an entry");
	CHECK_STR(expand(t, "many"), "one@x.org,two@x.org,three@x.org,four",
	    "several targets, empty ones ignored");
	CHECK_STR(expand(t, "\"a b\""), "quoted@x.org", "quoted name");
	CHECK_STR(expand(t, "\"A B\"@localhost"), "quoted@x.org",
	    "quoted name, any case, @localhost");
	CHECK_STR(expand(t, "boss"), "boss@example.com,other@example.com",
	    "display name and comment reduced to the address");
	CHECK_STR(expand(t, "qt"), "\"x y\"@example.com", "quoted local part target");
	CHECK_STR(expand(t, "crlf"), "c@x.org", "CRLF line ending");
	CHECK_STR(expand(t, "spaced"), "s@x.org", "space before the colon");
	CHECK_STR(expand(t, "nobody-here"), "nobody-here", "unknown name stays");
	aliases_free(t);
}

static void
test_recursion(void)
{
	struct aliases *t;
	struct err e;
	const char *r;

	t = load("l1: l2, z@x.org\nl2: l3@localhost, l3\nl3: final@x.org\n"
		 "la: lb\nlb: lc, ok@x.org\nlc: la\n"
		 "root: root, admin@example.com\n"
		 "ops: \\ops, pager@example.com\n"
		 "me: me@localhost\n"
		 "both: l3, final@x.org, l2\n",
	    &e);
	CHECK(t != NULL, "recursion file loads");
	if (t == NULL)
		return;
	CHECK_STR(expand(t, "l1"), "final@x.org,z@x.org", "recursion, deduplicated");
	r = expand(t, "la");
	CHECK(contains(r, "alias loop: la -> lb -> lc -> la"), "loop names the chain");
	if (!contains(r, "alias loop"))
		printf("# %s\n", r);
	CHECK(contains(r, ":6: ") || contains(r, ":4: "), "loop names a line");
	CHECK(contains(expand(t, "lb"), "alias loop: lb -> lc -> la -> lb"),
	    "loop found from inside the cycle");
	CHECK_STR(expand(t, "root"), "root,admin@example.com", "self-reference stops expansion");
	CHECK_STR(expand(t, "ops"), "ops,pager@example.com", "backslash name is not expanded");
	CHECK_STR(expand(t, "me"), "me", "self-reference through @localhost");
	CHECK_STR(expand(t, "both"), "final@x.org", "same address reached twice is no loop");
	aliases_free(t);
}

static void
test_limits(void)
{
	struct aliases *t;
	struct buf b;
	struct err e;
	int i;

	buf_init(&b, 1024 * 1024);
	for (i = 0; i < 12; i++)
		MUST(buf_addf(&b, "d%d: d%d\n", i, i + 1));
	MUST(buf_addstr(&b, "d12: end@x.org\n"));
	for (i = 0; i < 9; i++)
		MUST(buf_addf(&b, "s%d: s%d\n", i, i + 1));
	MUST(buf_addstr(&b, "s9: end@x.org\nbig: "));
	for (i = 0; i < 1001; i++)
		MUST(buf_addf(&b, "%su%d@x.org", i ? ", " : "", i));
	MUST(buf_addstr(&b, "\n"));
	t = load(buf_cstr(&b), &e);
	CHECK(t != NULL, "limits file loads");
	if (t != NULL) {
		CHECK(contains(expand(t, "d0"), "nested more than 10 deep"), "depth is bounded");
		CHECK_STR(expand(t, "s0"), "end@x.org", "ten levels are fine");
		CHECK(contains(expand(t, "big"), "more than 1000 addresses"),
		    "expansion size is bounded");
	}
	aliases_free(t);

	buf_reset(&b);
	MUST(buf_addstr(&b, "long: "));
	for (i = 0; i < 7000; i++)
		MUST(buf_addf(&b, "user%d@x.org,", i));
	MUST(buf_addstr(&b, "\n"));
	t = load(buf_cstr(&b), &e);
	CHECK(t == NULL && contains(e.msg, ":1: line longer than"), "line length is bounded");
	buf_free(&b);
}

static void
test_skipped(void)
{
	struct aliases *t;
	struct err e;
	const char *r;

	t = load("# skipped targets\n"
		 "list: :include:/etc/mail/list,\n"
		 "   \"|/usr/bin/procmail -a x\", /var/mail/list,\n"
		 "   real@x.org\n"
		 "bounce: |/bin/false\n",
	    &e);
	CHECK(t != NULL, "file with skipped targets loads");
	if (t == NULL)
		return;
	CHECK(nwarn == 5, "four skipped targets, one undeliverable alias warned");
	CHECK(contains(buf_cstr(&warnings),
		  ":2: alias \"list\": :include: target "
		  ":include:/etc/mail/list skipped"),
	    ":include: warned with its line");
	CHECK(contains(buf_cstr(&warnings),
		  ":3: alias \"list\": pipe target "
		  "\"|/usr/bin/procmail -a x\" skipped"),
	    "pipe warned with its continuation line");
	CHECK(contains(buf_cstr(&warnings), ":3: alias \"list\": file target /var/mail/list"),
	    "file warned with its line");
	CHECK(contains(buf_cstr(&warnings), ":5: alias \"bounce\": pipe target |/bin/false"),
	    "unquoted pipe warned");
	if (nwarn != 5)
		printf("# %s", buf_cstr(&warnings));
	CHECK_STR(expand(t, "list"), "real@x.org", "skipped targets are left out");
	r = expand(t, "bounce");
	CHECK(contains(r, "no target mailout can deliver to") && contains(r, ":5: |/bin/false"),
	    "alias with only skipped targets is refused");
	aliases_free(t);

	/* Found by fuzzing: the file's control characters went into the one-line warning. */
	t = load("only: /dev/x\r\x1b[2Jy, real@x.org\n", &e);
	CHECK(t != NULL && contains(buf_cstr(&warnings), "file target /dev/x??[2Jy skipped"),
	    "a warning shows control characters as '?'");
	aliases_free(t);
}

static void
test_errors(void)
{
	struct aliases *t;
	struct err e;

	t = load("a: b\n\nbad line without colon\nc: d\n", &e);
	CHECK(t == NULL && e.cause == CAUSE_CONFIG, "syntax error fails the load");
	CHECK(contains(e.msg, "aliases:3: missing ':' after alias name \"bad\""),
	    "syntax error names file and line");
	t = load("root@example.com: x\n", &e);
	CHECK(t == NULL && contains(e.msg, ":1: ") && contains(e.msg, "without @domain"),
	    "name with a domain is refused");
	t = load("  x@y.org\nroot: a\n", &e);
	CHECK(t == NULL && contains(e.msg, ":1: continuation line without"),
	    "continuation first is an error");
	t = load("a: b\nempty:\n", &e);
	CHECK(t == NULL && contains(e.msg, ":2: alias \"empty\" has no targets"),
	    "entry without targets");
	t = load("a: \"unterminated@x.org\n", &e);
	CHECK(t == NULL && contains(e.msg, ":1: ") && contains(e.msg, "unbalanced quotes"),
	    "unbalanced quotes");
	t = load("a: b\nb: c\na: d\n", &e);
	CHECK(t != NULL && nwarn == 1 &&
		contains(buf_cstr(&warnings),
		    ":3: duplicate alias \"a\" ignored (first defined on line 1)"),
	    "duplicate is a warning");
	CHECK_STR(expand(t, "a"), "c", "first duplicate wins");
	aliases_free(t);

	snprintf(path, sizeof(path), "%s/none", dir);
	err_init(&e);
	t = aliases_load(path, NULL, NULL, &e);
	CHECK(t != NULL && aliases_count(t) == 0, "missing file is an empty table");
	CHECK_STR(expand(t, "root@localhost"), "root", "empty table: local part only");
	aliases_free(t);
	CHECK_STR(expand(NULL, "alice@localhost"), "alice", "no table: local part only");
	CHECK_STR(expand(NULL, "alice@example.com"), "alice@example.com", "no table: remote kept");
	snprintf(path, sizeof(path), "%s/aliases", dir);
}

static void
test_check(void)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;
	struct err e;
	int n;

	write_file("postmaster: root\nteam: a@x.org,\n  b@x.org\n");
	f = open_memstream(&out, &outlen);
	err_init(&e);
	n = aliases_check(path, f, &e);
	fclose(f);
	CHECK(n == 2, "check counts aliases");
	CHECK(contains(out, "aliases: 2 aliases\n"), "check summary");
	free(out);

	write_file("ok: x@y.org\nbad line\nla: lb\nlb: la,\n  \"|cmd\"\nother\n");
	f = open_memstream(&out, &outlen);
	err_init(&e);
	n = aliases_check(path, f, &e);
	fclose(f);
	CHECK(n == -1 && e.cause == CAUSE_CONFIG, "check fails on errors");
	CHECK(contains(out, "aliases:2: missing ':' after alias name \"bad\""),
	    "check reports the first error with its line");
	CHECK(contains(out, "aliases:6: missing ':' after alias name \"other\""),
	    "check goes on and reports later errors");
	CHECK(contains(out, "aliases:5: warning: alias \"lb\": pipe target"),
	    "check reports warnings with lines");
	CHECK(contains(out, "alias loop: la -> lb -> la"), "check finds loops");
	CHECK(contains(e.msg, "4 errors in aliases: "), "check error counts");
	if (!contains(e.msg, "4 errors"))
		printf("# %s\n# %s", e.msg, out);
	free(out);

	snprintf(path, sizeof(path), "%s/none", dir);
	f = open_memstream(&out, &outlen);
	err_init(&e);
	n = aliases_check(path, f, &e);
	fclose(f);
	CHECK(n == 0 && contains(out, "no such file"), "check: missing file is 0 aliases");
	free(out);
	snprintf(path, sizeof(path), "%s/aliases", dir);
}

static void
test_local(void)
{
	static const char *const extra[] = { "mail.internal", NULL };
	char addr[512];
	char *q;

	CHECK(aliases_is_local("root", NULL), "bare name is local");
	CHECK(aliases_is_local("root@localhost", NULL), "@localhost is local");
	CHECK(aliases_is_local("root@LocalHost.", NULL), "@LocalHost. is local");
	CHECK(aliases_is_local("root@localhost.localdomain", NULL), "localhost.localdomain");
	snprintf(addr, sizeof(addr), "root@%s", host_name());
	CHECK(aliases_is_local(addr, NULL), "@host_name() is local");
	if (strchr(host_name(), '.') != NULL) {
		snprintf(addr, sizeof(addr), "root@%.*s",
		    (int)(strchr(host_name(), '.') - host_name()), host_name());
		CHECK(aliases_is_local(addr, NULL), "@short host name is local");
	}
	CHECK(aliases_is_local("a@mail.internal", extra), "configured local domain");
	CHECK(!aliases_is_local("a@mail.internal", NULL), "unconfigured domain is remote");
	CHECK(!aliases_is_local("root@example.com", NULL), "remote is not local");
	CHECK(!aliases_is_local("", NULL), "empty is not local");
	CHECK(!aliases_is_local("@localhost", NULL), "empty local part is not local");
	CHECK(aliases_is_local("\"a@b\"", NULL), "quoted @ does not make a domain");

	q = aliases_qualify("root", "example.com");
	CHECK_STR(q, "root@example.com", "bare name qualified");
	free(q);
	q = aliases_qualify("a@b.org", "example.com");
	CHECK_STR(q, "a@b.org", "qualified address unchanged");
	free(q);
	q = aliases_qualify("root", NULL);
	CHECK_STR(q, "root", "no default domain: unchanged");
	free(q);
	q = aliases_qualify("", "example.com");
	CHECK_STR(q, "", "null sender stays empty");
	free(q);
	q = aliases_qualify("\"a@b\"", "example.com");
	CHECK_STR(q, "\"a@b\"@example.com", "quoted local part qualified");
	free(q);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/aliases", dir);
	buf_init(&warnings, 64 * 1024);
	test_debian_default();
	test_format();
	test_recursion();
	test_limits();
	test_skipped();
	test_errors();
	test_check();
	test_local();
	buf_free(&warnings);
	unlink(path);
	rmdir(dir);
	UNIT_DONE();
}

/*
 * intake_test.c: standard input to spool file, byte for byte, and the envelope it yields.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "message/intake.h"
#include "message/rfc5322.h"
#include "unit.h"

#define DATE "Date: Sun, 22 Nov 2026 00:39:12 +0000\r\n"
#define ADDED "From: alice@example.org\r\n" DATE "Message-ID: <ID>\r\n"

static char topdir[64];
static char spooldir[128];
static char *bob[] = { "bob@example.org" };

static void
opts_default(struct intake_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->operands = bob;
	o->noperands = 1;
	o->sender = "alice@example.org";
	o->from_addr = "alice@example.org";
	o->domain = "example.org";
	o->qualify_domain = "example.org";
	o->spool_dir = spooldir;
	o->address_strict = 1;
}

/* Files in the spool directory: a failed intake must leave none. */
static int
spool_files(void)
{
	DIR *d = opendir(spooldir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The spool bytes with the generated Message-ID replaced by "ID". */
static void
read_spool(const struct msg *m, struct buf *out)
{
	char blk[65536];
	ssize_t r;
	off_t off = 0;
	char *p, *q;
	struct buf t;

	buf_reset(out);
	while ((r = pread(m->fd, blk, sizeof(blk), off)) > 0) {
		MUST(buf_add(out, blk, (size_t)r));
		off += r;
	}
	if (m->message_id == NULL || (p = strstr(buf_cstr(out), m->message_id)) == NULL ||
	    strstr(m->message_id, "@example.org") == NULL || strncmp(m->message_id, "17", 2))
		return;
	/* Only generated ids (time.pid.random@example.org) are replaced. */
	q = p + strlen(m->message_id);
	buf_init(&t, out->max);
	MUST(buf_add(&t, out->data, (size_t)(p - out->data)));
	MUST(buf_addstr(&t, "ID"));
	MUST(buf_addstr(&t, q));
	buf_free(out);
	*out = t;
}

/* The longest line of the spool bytes, without its CRLF. */
static size_t
longest_line(const struct buf *sp)
{
	size_t i, col = 0, max = 0;

	for (i = 0; i < sp->len; i++) {
		if (sp->data[i] != '\n') {
			col++;
			continue;
		}
		if (col > 0 && col - 1 > max)
			max = col - 1;
		col = 0;
	}
	return max;
}

/* A regular file holding in, at offset 0, already unlinked. */
static int
input_file(const char *in, size_t len)
{
	char path[] = "/tmp/intake_in.XXXXXX";
	int fd = mkstemp(path);

	if (fd == -1 || write(fd, in, len) != (ssize_t)len) {
		printf("# cannot write the input file\n");
		exit(1);
	}
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	return fd;
}

/* Run intake on input (through a temp file); spool gets the bytes on success. */
static int
run(const char *in, size_t len, const struct intake_opts *o, struct msg *m, struct err *e,
    struct buf *spool)
{
	int fd = input_file(in, len), rc;

	err_init(e);
	rc = intake_read(fd, o, m, e);
	close(fd);
	if (rc == 0 && spool != NULL)
		read_spool(m, spool);
	return rc;
}

/* Input and expected spool: LF, CRLF and the rest must all come out alike. */
static void
expect(const char *name, const char *in, size_t len, const char *want)
{
	struct intake_opts o;
	struct msg m;
	struct err e;
	struct buf s;
	int rc;

	opts_default(&o);
	buf_init(&s, 1 << 30);
	rc = run(in, len, &o, &m, &e, &s);
	CHECK(rc == 0, name);
	if (rc == 0) {
		CHECK_STR(buf_cstr(&s), want, name);
		struct stat st;

		CHECK(fstat(m.fd, &st) == 0 && m.size == (uint64_t)st.st_size,
		    "size is the spool size");
	} else
		printf("# %s\n", e.msg);
	msg_free(&m);
	buf_free(&s);
}

#define EXPECT(name, in, want) expect(name, in, sizeof(in) - 1, want)

static void
test_line_endings(void)
{
	static const char want[] = "Subject: hi\r\nTo: x@y\r\n" ADDED "\r\nline1\r\nline2\r\n";

	EXPECT("LF", "Subject: hi\nTo: x@y\n\nline1\nline2\n", want);
	EXPECT("CRLF", "Subject: hi\r\nTo: x@y\r\n\r\nline1\r\nline2\r\n", want);
	EXPECT("mixed CRLF headers LF body", "Subject: hi\r\nTo: x@y\r\n\r\nline1\nline2\n", want);
	EXPECT("bare CR", "Subject: hi\rTo: x@y\r\rline1\rline2\r", want);
	EXPECT("CR CR LF is one line end",
	    "Subject: hi\r\r\nTo: x@y\r\r\n\r\r\nline1\r\r\n"
	    "line2\r\r\n",
	    want);
	EXPECT("no final newline", "Subject: hi\nTo: x@y\n\nline1\nline2", want);
	EXPECT("two bare CRs are two lines", "Subject: s\n\na\r\rb\n",
	    "Subject: s\r\n" ADDED "\r\na\r\n\r\nb\r\n");
	EXPECT("lone dot lines survive", "Subject: s\n\n.\n..\n.",
	    "Subject: s\r\n" ADDED "\r\n.\r\n..\r\n.\r\n");
	EXPECT("empty lines at the end kept", "Subject: s\n\nb\n\n\n",
	    "Subject: s\r\n" ADDED "\r\nb\r\n\r\n\r\n");
}

static void
test_header_shapes(void)
{
	EXPECT("leading mbox From_ line dropped",
	    "From alice@example.org Sun Nov 22 00:00:00 2026\nSubject: s\n\nb\n",
	    "Subject: s\r\n" ADDED "\r\nb\r\n");
	EXPECT("header-less input is all body", "hello world\nsecond\n",
	    ADDED "\r\nhello world\r\nsecond\r\n");
	EXPECT("body starting with a space", " indented\n", ADDED "\r\n indented\r\n");
	EXPECT("empty input", "", ADDED "\r\n");
	EXPECT("only an empty line", "\n", ADDED "\r\n");
	EXPECT("headers and no body", "Subject: s", "Subject: s\r\n" ADDED "\r\n");
	EXPECT("non-header line ends the header block", "Subject: s\nthis is text\nmore\n",
	    "Subject: s\r\n" ADDED "\r\nthis is text\r\nmore\r\n");
	EXPECT("folded header kept as written", "Subject: a\n  b\n\tc\n\nx\n",
	    "Subject: a\r\n  b\r\n\tc\r\n" ADDED "\r\nx\r\n");
	EXPECT("existing From Date Message-ID kept",
	    "Message-ID: <k@x>\nFrom: root (Cron Daemon)\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "\nb\n",
	    "Message-ID: <k@x>\r\nFrom: root (Cron Daemon)\r\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nb\r\n");
	EXPECT("Bcc removed without -t", "To: a@x\nBcc: secret@x,\n  other@x\nSubject: s\n\nb\n",
	    "To: a@x\r\nSubject: s\r\n" ADDED "\r\nb\r\n");
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_added_headers(void)
{
	struct intake_opts o;
	struct msg m;
	struct err e;
	struct buf s;
	char want[256];

	opts_default(&o);
	buf_init(&s, 1 << 20);
	CHECK(run("x\n", 2, &o, &m, &e, &s) == 0, "added headers: ok");
	CHECK(m.message_id != NULL && strncmp(m.message_id, "1795307952.", 11) == 0 &&
		strstr(m.message_id, "@example.org") != NULL,
	    "generated Message-ID shape");
	CHECK_STR(buf_cstr(&s), ADDED "\r\nx\r\n", "From, Date, Message-ID in order");
	CHECK(m.header_size == strlen(ADDED) + 2 - 2 + strlen(m.message_id),
	    "header_size counts the empty line");
	CHECK_STR(m.sender, "alice@example.org", "sender copied");
	msg_free(&m);

	o.full_name = "Cron Daemon";
	run("x\n", 2, &o, &m, &e, &s);
	CHECK(starts(buf_cstr(&s), "From: Cron Daemon <alice@example.org>\r\n"),
	    "full name as atoms");
	msg_free(&m);
	o.full_name = "Doe, John \"JD\"";
	run("x\n", 2, &o, &m, &e, &s);
	CHECK(starts(buf_cstr(&s), "From: \"Doe, John \\\"JD\\\"\" <alice@example.org>\r\n"),
	    "full name quoted");
	msg_free(&m);
	o.full_name = "J\xc3\xbcrgen";
	run("x\n", 2, &o, &m, &e, &s);
	CHECK(starts(buf_cstr(&s), "From: =?UTF-8?B?SsO8cmdlbg==?= <alice@example.org>\r\n"),
	    "UTF-8 full name encoded");
	CHECK(m.hdr_8bit == 0, "encoded name is not 8-bit");
	msg_free(&m);
	o.full_name = "J\xfcrgen";
	run("x\n", 2, &o, &m, &e, &s);
	CHECK(starts(buf_cstr(&s), "From: =?ISO-8859-1?B?SvxyZ2Vu?= <alice@example.org>\r\n"),
	    "Latin-1 full name encoded");
	msg_free(&m);
	o.full_name = "Evil\r\nBcc: x@y";
	run("x\n", 2, &o, &m, &e, &s);
	CHECK(strstr(buf_cstr(&s), "\nBcc") == NULL, "CR LF in full name cannot add a header");
	msg_free(&m);

	o.full_name = NULL;
	run("Message-ID:   <abc@def.example>  \n\nx\n", 37, &o, &m, &e, &s);
	CHECK_STR(m.message_id, "abc@def.example", "existing Message-ID recorded");
	snprintf(want, sizeof(want),
	    "Message-ID:   <abc@def.example>  \r\nFrom: "
	    "alice@example.org\r\n" DATE "\r\nx\r\n");
	CHECK_STR(buf_cstr(&s), want, "no second Message-ID");
	msg_free(&m);
	buf_free(&s);
}

/* Recipients joined by spaces, or "ERR <cause>: msg". */
static const char *
rcpts(const char *in, int t, char **ops, size_t nops, int strict)
{
	static char r[4096];
	struct intake_opts o;
	struct msg m;
	struct err e;
	size_t i, off = 0;

	opts_default(&o);
	o.read_rcpts = t;
	o.operands = ops;
	o.noperands = nops;
	o.address_strict = strict;
	r[0] = '\0';
	if (run(in, strlen(in), &o, &m, &e, NULL) == -1)
		snprintf(r, sizeof(r), "ERR %d: %s", e.cause, e.msg);
	else
		for (i = 0; i < m.nrcpts; i++)
			off += snprintf(r + off, sizeof(r) - off, "%s%s", i ? " " : "",
			    m.rcpts[i]);
	msg_free(&m);
	return r;
}

static void
test_recipients(void)
{
	char *ops1[] = { "b@x,a@X", "c@x" };
	char *ops2[] = { "root" };
	char *ops3[] = { "a@" };
	char buf[64];
	const char *r;

	CHECK_STR(rcpts("To: a@x\nBcc: b@x,\n  c@x\nSubject: s\n\nb\n", 1, NULL, 0, 1),
	    "a@x b@x c@x", "-t: folded Bcc recipients taken");
	CHECK_STR(rcpts("To: a@x\nResent-To: r@x\nResent-Bcc: rb@x\nCc: c@x\n\nb\n", 1, NULL, 0,
		      1),
	    "r@x rb@x", "-t: Resent-* used when present");
	CHECK_STR(rcpts("To: Team: a@x, (c) b@x;, root (Cron Daemon)\n\n", 1, NULL, 0, 1),
	    "a@x b@x root@example.org", "-t: group, comments, bare name qualified");
	CHECK_STR(rcpts("To: a@x\nCc: A@X, b@x\nTo: <d@x>,<a@x>\n\n", 1, ops1, 2, 1),
	    "a@x A@X b@x d@x c@x", "dedupe across headers and operands");
	CHECK_STR(rcpts("To: a@x\n\n", 0, ops2, 1, 1), "root@example.org",
	    "without -t headers are not recipients");
	CHECK_STR(rcpts("To: root\n\n", 1, ops2, 1, 1), "root@example.org",
	    "bare name and qualified operand dedupe");
	CHECK_STR(rcpts("To: root@localhost\n\n", 1, NULL, 0, 1), "root@localhost",
	    "@localhost left alone");
	CHECK_STR(rcpts("To: undisclosed-recipients:;\n\n", 1, ops2, 1, 1), "root@example.org",
	    "empty group");
	r = rcpts("To: foo@\n\n", 1, NULL, 0, 1);
	snprintf(buf, sizeof(buf), "ERR %d: To header: malformed address 'foo@'", CAUSE_DATA);
	CHECK(strncmp(r, buf, strlen(buf)) == 0, "strict: bad To names header and address");
	CHECK(spool_files() == 0, "no spool file after a bad address");
	CHECK_STR(rcpts("To: foo@bar.com.\n\n", 1, NULL, 0, 0), "foo@bar.com",
	    "lax: trailing dot repaired");
	r = rcpts("x\n", 0, ops3, 1, 1);
	CHECK(strstr(r, "recipient argument: malformed address 'a@'") != NULL,
	    "strict: bad operand named");
	r = rcpts("Subject: s\n\nb\n", 0, NULL, 0, 1);
	snprintf(buf, sizeof(buf), "ERR %d: no recipients", CAUSE_USAGE);
	CHECK(strncmp(r, buf, strlen(buf)) == 0, "no operands, no -t: usage error");
	r = rcpts("Subject: s\n\nb\n", 1, NULL, 0, 1);
	CHECK(strncmp(r, buf, strlen(buf)) == 0, "-t without To/Cc/Bcc: usage error");
	CHECK(spool_files() == 0, "no spool file after no recipients");
}

static void
test_limits(void)
{
	struct intake_opts o;
	struct msg m;
	struct err e;
	struct buf in;
	int rc;

	opts_default(&o);
	buf_init(&in, 4 << 20);
	while (in.len < MAX_HEADER_BLOCK + 1000)
		MUST(buf_addstr(&in,
		    "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"));
	MUST(buf_addstr(&in, "\nbody\n"));
	rc = run(in.data, in.len, &o, &m, &e, NULL);
	CHECK(rc == -1 && e.cause == CAUSE_DATA && strstr(e.msg, "header block over 1 MiB"),
	    "header block over the limit");
	CHECK(spool_files() == 0 && m.path == NULL && m.fd == -1, "spool removed (header)");
	msg_free(&m);

	buf_reset(&in);
	MUST(buf_addstr(&in, "Subject: s\n\n"));
	while (in.len < 200000)
		MUST(buf_addstr(&in, "some body text\n"));
	o.max_size = 100000;
	rc = run(in.data, in.len, &o, &m, &e, NULL);
	CHECK(rc == -1 && e.cause == CAUSE_DATA && strstr(e.msg, "100000"),
	    "max_size exceeded names the limit");
	CHECK(spool_files() == 0, "spool removed (max_size)");
	msg_free(&m);
	o.max_size = 0;

	o.max_rcpts = 2;
	o.read_rcpts = 1;
	rc = run("To: a@x, b@x, c@x\n\n", 19, &o, &m, &e, NULL);
	CHECK(rc == -1 && e.cause == CAUSE_DATA && strstr(e.msg, "limit is 2"),
	    "max_rcpts exceeded");
	msg_free(&m);
	o.max_rcpts = 0;
	o.read_rcpts = 0;

	/* A 100 000-byte line is carried, not refused. */
	buf_reset(&in);
	MUST(buf_addstr(&in, "Subject: s\n\n"));
	while (in.len < 100012)
		MUST(buf_addc(&in, 'x'));
	rc = run(in.data, in.len, &o, &m, &e, NULL);
	CHECK(rc == 0 && m.max_line <= 76 && (m.repairs & INTAKE_BODY_QP),
	    "long line carried, re-encoded quoted-printable");
	msg_free(&m);
	buf_free(&in);
}

/* The body of the spool (after the empty line). */
static const char *
body_of(struct buf *spool)
{
	const char *p = strstr(buf_cstr(spool), "\r\n\r\n");

	return p != NULL ? p + 4 : "";
}

static int
map_root(void *ctx, const char *addr, struct addrlist *out, struct err *e)
{
	(void)ctx;
	(void)e;
	if (strncmp(addr, "root", 4) == 0) {
		addrlist_add(out, "admin@example.com");
		addrlist_add(out, "ops@example.com");
	} else if (strncmp(addr, "alice", 5) == 0)
		addrlist_add(out, "alice@example.com");
	return 0;
}

#define RUNS(str, o, m, e, sp) run((str), strlen(str), (o), (m), (e), (sp))

static void
test_repairs(void)
{
	struct intake_opts o;
	struct msg m;
	struct err e;
	struct buf in, sp, want;
	const char *b;
	int rc;

	buf_init(&in, 4 * 1024 * 1024);
	buf_init(&sp, 8 * 1024 * 1024);
	buf_init(&want, 8 * 1024 * 1024);
	opts_default(&o);
	o.local_domain = "example.com";

	/* rewrite_from = never: From stays as written. */
	rc = RUNS("From: root (Cron Daemon)\nSubject: s\n\nx\n", &o, &m, &e, &sp);
	CHECK(rc == 0 && strstr(sp.data, "From: root (Cron Daemon)\r\n") && m.repairs == 0,
	    "rewrite_from never keeps a local From");
	msg_free(&m);

	o.rewrite_from = REWRITE_LOCAL;
	rc = RUNS("From: root (Cron Daemon)\nSubject: s\n\nx\n", &o, &m, &e, &sp);
	CHECK(rc == 0 && strstr(sp.data, "From: Cron Daemon <root@example.com>\r\n") &&
		(m.repairs & INTAKE_FROM_QUALIFIED),
	    "local: cron's From qualified, name kept");
	msg_free(&m);
	rc = RUNS("From: alice\n\nx\n", &o, &m, &e, &sp);
	CHECK(rc == 0 && strstr(sp.data, "From: alice@example.com\r\n"),
	    "local: sudo's bare From qualified");
	msg_free(&m);
	rc = RUNS("From: \"Doe, J\" <j@localhost>\n\nx\n", &o, &m, &e, &sp);
	CHECK(rc == 0 && strstr(sp.data, "From: \"Doe, J\" <j@example.com>\r\n"),
	    "local: j@localhost qualified, quoted name kept");
	msg_free(&m);
	rc = RUNS("From: Joe <joe@example.net>\n\nx\n", &o, &m, &e, &sp);
	CHECK(rc == 0 && strstr(sp.data, "From: Joe <joe@example.net>\r\n") && m.repairs == 0,
	    "local: a qualified From is left alone");
	msg_free(&m);

	o.rewrite_from = REWRITE_ALWAYS;
	o.rewrite_addr = "joe@example.com";
	o.rewrite_name = "Joe";
	rc = RUNS("From: root (Cron Daemon)\nSubject: s\n\nx\n", &o, &m, &e, &sp);
	CHECK(rc == 0 && strstr(sp.data, "From: Joe <joe@example.com>\r\n") &&
		strstr(sp.data, "Reply-To: Cron Daemon <root@example.com>\r\n") &&
		!strstr(sp.data, "From: root"),
	    "always: account's From, original in Reply-To");
	msg_free(&m);
	rc = RUNS("From: a@b.org\nReply-To: c@d.org\n\nx\n", &o, &m, &e, &sp);
	CHECK(rc == 0 && strstr(sp.data, "From: Joe <joe@example.com>\r\n") &&
		strstr(sp.data, "Reply-To: c@d.org\r\n") && !strstr(sp.data, "a@b.org"),
	    "always: an existing Reply-To is kept");
	msg_free(&m);
	rc = RUNS("Subject: s\n\nx\n", &o, &m, &e, &sp);
	CHECK(rc == 0 && strstr(sp.data, "From: Joe <joe@example.com>\r\n"),
	    "always: an added From is the account's");
	msg_free(&m);
	o.rewrite_from = REWRITE_NEVER;
	o.rewrite_addr = o.rewrite_name = NULL;

	/* rewrite_to: local To/Cc through the map; others untouched. */
	o.map_local = map_root;
	rc = RUNS("To: Boss <root>, x@y.org\nCc: alice@localhost\n\nx\n", &o, &m, &e, &sp);
	CHECK(rc == 0 && strstr(sp.data, "To: admin@example.com, ops@example.com, x@y.org\r\n") &&
		strstr(sp.data, "Cc: alice@example.com\r\n"),
	    "rewrite_to maps local names");
	msg_free(&m);
	rc = RUNS("To: undisclosed-recipients:;\n\nx\n", &o, &m, &e, &sp);
	CHECK(rc == 0 && strstr(sp.data, "To: undisclosed-recipients:;\r\n"),
	    "rewrite_to leaves a group alone");
	msg_free(&m);
	o.map_local = NULL;

	/* A 2000-octet Subject is folded at white space; a 1500-octet word is cut. */
	buf_reset(&in);
	MUST(buf_addstr(&in, "Subject:"));
	while (in.len < 2000)
		MUST(buf_addstr(&in, " word"));
	MUST(buf_addstr(&in, "\nX-Long: "));
	while (in.len < 3600)
		MUST(buf_addc(&in, 'y'));
	MUST(buf_addstr(&in, "\n\nbody\n"));
	rc = run(in.data, in.len, &o, &m, &e, &sp);
	CHECK(rc == 0 && m.max_line <= 998 && (m.repairs & INTAKE_HEADER_FOLDED) &&
		strstr(sp.data, " word\r\n word"),
	    "long header lines folded");
	msg_free(&m);

	/*
	 * Found by fuzzing: the space a cut puts at the start of the next line counts too. A
	 * word cut once leaves 998 octets, or a fold at white space 998 octets after the cut.
	 */
	buf_reset(&in);
	MUST(buf_addstr(&in, "Subject:"));
	while (in.len < 1995)
		MUST(buf_addc(&in, 'y'));
	MUST(buf_addstr(&in, "\nX-Cut-Then-Fold:"));
	while (in.len < 1996 + 1995)
		MUST(buf_addc(&in, 'y'));
	MUST(buf_addstr(&in, " tail\n\nbody\n"));
	rc = run(in.data, in.len, &o, &m, &e, &sp);
	CHECK(rc == 0 && m.max_line <= 998 && longest_line(&sp) <= 998,
	    "a cut header line leaves no line over 998 octets");
	msg_free(&m);

	/* Quoted-printable: '=' encoded, trailing space encoded, soft breaks, 8-bit. */
	buf_reset(&in);
	MUST(buf_addstr(&in, "Subject: s\n\n"));
	while (in.len < 1100)
		MUST(buf_addstr(&in, "a=b \xc3\xa9 "));
	MUST(buf_addstr(&in, "\nshort line \n"));
	rc = run(in.data, in.len, &o, &m, &e, &sp);
	b = body_of(&sp);
	CHECK(rc == 0 && (m.repairs & INTAKE_BODY_QP) && m.max_line <= 76 &&
		strncmp(b, "a=3Db =C3=A9 a=3Db", 18) == 0 && strstr(b, "short line=20\r\n") &&
		strstr(sp.data, "MIME-Version: 1.0\r\n") &&
		strstr(sp.data, "Content-Type: text/plain; charset=UTF-8\r\n") &&
		strstr(sp.data, "Content-Transfer-Encoding: quoted-printable\r\n") && !m.body_8bit,
	    "single text part: quoted-printable with MIME headers");
	msg_free(&m);

	/* A declared 8bit encoding is replaced, not doubled. */
	buf_reset(&in);
	MUST(buf_addstr(&in,
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-8859-1\n"
	    "Content-Transfer-Encoding: 8bit\n\n"));
	while (in.len < 1200)
		MUST(buf_addstr(&in, "caf\xe9 "));
	MUST(buf_addstr(&in, "\n"));
	rc = run(in.data, in.len, &o, &m, &e, &sp);
	CHECK(rc == 0 && (m.repairs & INTAKE_BODY_QP) && !strstr(sp.data, ": 8bit") &&
		strstr(sp.data,
		    "charset=ISO-8859-1\r\nContent-Transfer-Encoding: "
		    "quoted-printable\r\n") &&
		strstr(body_of(&sp), "caf=E9 "),
	    "8bit text re-encoded, its Content-Type kept");
	msg_free(&m);

	/* Multipart: lines cut at 998 octets, nothing else changed. */
	buf_reset(&in);
	MUST(buf_addstr(&in,
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
	    "--b\n\n"));
	while (in.len < 2500)
		MUST(buf_addc(&in, 'z'));
	MUST(buf_addstr(&in, "\n--b--\n"));
	rc = run(in.data, in.len, &o, &m, &e, &sp);
	CHECK(rc == 0 && (m.repairs & INTAKE_BODY_FOLDED) && m.max_line == 998 &&
		!strstr(sp.data, "quoted-printable"),
	    "multipart: long lines folded at 998");
	msg_free(&m);

	buf_free(&in);
	buf_free(&sp);
	buf_free(&want);
}

static void
test_8bit(void)
{
	struct intake_opts o;
	struct msg m;
	struct err e;
	char text[64];
	int pos, ok = 1;

	opts_default(&o);
	RUNS("Subject: s\n\nJ\xfcrgen\n", &o, &m, &e, NULL);
	CHECK(m.body_8bit == 1 && m.hdr_8bit == 0, "8-bit body detected");
	msg_free(&m);
	RUNS("Subject: \xc3\xa9t\xc3\xa9\n\nplain\n", &o, &m, &e, NULL);
	CHECK(m.hdr_8bit == 1 && m.body_8bit == 1, "8-bit header detected");
	msg_free(&m);
	RUNS("Subject: s\n\nplain\n", &o, &m, &e, NULL);
	CHECK(m.hdr_8bit == 0 && m.body_8bit == 0, "7-bit message");
	msg_free(&m);
	/* The scan goes a word at a time: one 8-bit byte anywhere in a line is seen. */
	for (pos = 0; pos < 21; pos++) {
		snprintf(text, sizeof(text), "Subject: s\n\n%s\n", "abcdefghijklmnopqrstu");
		text[12 + pos] = (char)0xe9;
		RUNS(text, &o, &m, &e, NULL);
		ok &= m.body_8bit == 1 && m.hdr_8bit == 0;
		msg_free(&m);
	}
	CHECK(ok, "an 8-bit byte at any offset of a 21-byte line is detected");
	RUNS("Subject: s\n\nabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\n", &o, &m, &e,
	    NULL);
	CHECK(m.body_8bit == 0, "a long 7-bit line is 7-bit");
	msg_free(&m);
}

static void
test_spool_files(void)
{
	struct intake_opts o;
	struct msg m;
	struct err e;
	struct stat st;
	struct rlimit rl, small;
	char path[256], bad[192];
	struct buf in;
	int rc, fd;

	opts_default(&o);
	rc = RUNS("x\n", &o, &m, &e, NULL);
	CHECK(rc == 0 && stat(m.path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "spool file mode 0600");
	CHECK(stat(spooldir, &st) == 0 && (st.st_mode & 0777) == 0700, "spool dir made 0700");
	CHECK(strncmp(m.path, spooldir, strlen(spooldir)) == 0 && strstr(m.path, "/tmp.") != NULL,
	    "spool file in spool_dir");
	snprintf(path, sizeof(path), "%s", m.path);
	msg_release(&m);
	msg_free(&m);
	CHECK(access(path, F_OK) == 0, "msg_release keeps the file");
	unlink(path);
	rc = RUNS("x\n", &o, &m, &e, NULL);
	snprintf(path, sizeof(path), "%s", m.path);
	msg_free(&m);
	CHECK(access(path, F_OK) == -1, "msg_free removes the file");

	snprintf(bad, sizeof(bad), "%s/afile", topdir);
	close(open(bad, O_CREAT | O_WRONLY, 0600));
	snprintf(bad, sizeof(bad), "%s/afile/spool", topdir);
	o.spool_dir = bad;
	rc = RUNS("x\n", &o, &m, &e, NULL);
	CHECK(rc == -1 && e.cause == CAUSE_CANTCREAT && strstr(e.msg, bad) != NULL &&
		strstr(e.msg, "queue_dir") != NULL,
	    "cannot create: names dir and fix");
	msg_free(&m);
	o.spool_dir = spooldir;

	/* A full disk, as far as this process can tell: EFBIG from RLIMIT_FSIZE. */
	buf_init(&in, 1 << 20);
	while (in.len < 300000)
		MUST(buf_addstr(&in, "line of body text\n"));
	getrlimit(RLIMIT_FSIZE, &rl);
	small = rl;
	small.rlim_cur = 100000;
	signal(SIGXFSZ, SIG_IGN);
	fd = input_file(in.data, in.len);
	err_init(&e);
	setrlimit(RLIMIT_FSIZE, &small);
	rc = intake_read(fd, &o, &m, &e);
	setrlimit(RLIMIT_FSIZE, &rl);
	close(fd);
	CHECK(rc == -1 && e.cause == CAUSE_IOERR && strstr(e.msg, "cannot write spool file") &&
		strstr(e.msg, "too large") != NULL,
	    "write error: IOERR naming the file");
	CHECK(spool_files() == 0, "spool removed (write error)");
	msg_free(&m);
	buf_free(&in);
}

/* spool_anon: no name in the directory, none left behind; the long-line pass too. */
static void
test_spool_anon(void)
{
	struct intake_opts o;
	struct msg m;
	struct err e;
	struct buf in, sp;
	char bad[192];
	size_t i;
	int rc;

	opts_default(&o);
	o.spool_anon = 1;
	mkdir(spooldir, 0700);
	buf_init(&in, 1 << 20);
	buf_init(&sp, 1 << 20);
	if (buf_addstr(&in, "Subject: anon\n\n") == -1)
		CHECK(0, "buffer");
	for (i = 0; i < 1200; i++)
		if (buf_addstr(&in, "x") == -1)
			CHECK(0, "buffer");
	if (buf_addstr(&in, "\nend\n") == -1)
		CHECK(0, "buffer");
	rc = run(in.data, in.len, &o, &m, &e, &sp);
	CHECK(rc == 0 && m.path == NULL && m.fd != -1, "anonymous spool file: no path");
	CHECK(spool_files() == 0, "anonymous spool file: nothing in the directory");
	CHECK(rc == 0 && (m.repairs & INTAKE_BODY_QP) &&
		strstr(buf_cstr(&sp), "Subject: anon\r\n") != NULL &&
		strstr(buf_cstr(&sp), "end\r\n") != NULL,
	    "anonymous spool file: long line re-encoded, message intact");
	msg_free(&m);
	CHECK(spool_files() == 0, "anonymous spool file: nothing after msg_free");

	snprintf(bad, sizeof(bad), "%s/no/such/dir", topdir);
	o.spool_dir = bad;
	rc = RUNS("x\n", &o, &m, &e, NULL);
	CHECK(rc == -1 && e.cause == CAUSE_CANTCREAT && strstr(e.msg, bad) != NULL &&
		strstr(e.msg, "TMPDIR") != NULL,
	    "anonymous spool: a missing directory names TMPDIR");
	msg_free(&m);
	buf_free(&in);
	buf_free(&sp);
}

static void
test_pipe(void)
{
	struct intake_opts o;
	struct msg m;
	struct err e;
	struct buf s;
	int p[2], status, rc;
	pid_t pid;
	size_t i;

	opts_default(&o);
	o.read_rcpts = 1;
	if (pipe(p) == -1)
		return;
	if ((pid = fork()) == 0) {
		close(p[0]);
		/* Small pieces, CR and LF split across writes. */
		const char *msg = "To: a@x\r\nSubject: s\r\n\r\nb\r\r\nc\r";

		for (i = 0; msg[i] != '\0'; i++) {
			if (write(p[1], msg + i, 1) != 1)
				_exit(1);
			usleep(100);
		}
		_exit(0);
	}
	close(p[1]);
	err_init(&e);
	buf_init(&s, 1 << 20);
	rc = intake_read(p[0], &o, &m, &e);
	close(p[0]);
	waitpid(pid, &status, 0);
	CHECK(rc == 0, "pipe input");
	if (rc == 0) {
		read_spool(&m, &s);
		CHECK_STR(buf_cstr(&s), "To: a@x\r\nSubject: s\r\n" ADDED "\r\nb\r\nc\r\n",
		    "pipe input in one-byte writes");
		CHECK(m.nrcpts == 2, "pipe: -t and operand");
	}
	msg_free(&m);
	buf_free(&s);
}

/* 20 MB of body through intake: peak memory must not follow the message size. */
static void
test_big(void)
{
	struct intake_opts o;
	struct msg m;
	struct err e;
	struct rusage before, after;
	char path[] = "/tmp/intake_big.XXXXXX", line[101];
	int fd = mkstemp(path), rc;
	size_t i, lines = 20 * 1024 * 1024 / 100;
	char *blk = malloc(1 << 16);
	size_t bl = 0;

	memset(line, 'x', 99);
	line[99] = '\n';
	line[100] = '\0';
	if (write(fd, "Subject: big\n\n", 14) != 14)
		return;
	for (i = 0; i < lines; i++) {
		memcpy(blk + bl, line, 100);
		bl += 100;
		if (bl + 100 > (1 << 16)) {
			if (write(fd, blk, bl) != (ssize_t)bl)
				return;
			bl = 0;
		}
	}
	if (bl > 0 && write(fd, blk, bl) != (ssize_t)bl)
		return;
	free(blk);
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	opts_default(&o);
	err_init(&e);
	getrusage(RUSAGE_SELF, &before);
	rc = intake_read(fd, &o, &m, &e);
	getrusage(RUSAGE_SELF, &after);
	close(fd);
	CHECK(rc == 0, "20 MB body accepted");
	CHECK(m.size == m.header_size + lines * 101, "20 MB body: every line CRLF");
	CHECK(m.max_line == 99, "20 MB body: max_line");
	printf("# ru_maxrss before %ld KiB, after %ld KiB\n", before.ru_maxrss, after.ru_maxrss);
	CHECK(after.ru_maxrss - before.ru_maxrss < 4096, "20 MB body in constant memory");
	msg_free(&m);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	setenv("MAILOUT_NOW", "1795307952", 1);
	snprintf(topdir, sizeof(topdir), "/tmp/intake_test.XXXXXX");
	if (mkdtemp(topdir) == NULL)
		return 1;
	/* Two levels that do not exist yet: intake makes them. */
	snprintf(spooldir, sizeof(spooldir), "%s/var/spool", topdir);

	test_big();
	test_line_endings();
	test_header_shapes();
	test_added_headers();
	test_recipients();
	test_limits();
	test_8bit();
	test_repairs();
	test_spool_files();
	test_spool_anon();
	test_pipe();

	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", topdir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", topdir);
	}
	UNIT_DONE();
}

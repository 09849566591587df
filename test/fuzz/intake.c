/*
 * intake.c: a message on standard input (message/intake.c) into a spool file, then, when
 * its header is 8-bit, the 7-bit copy for a relay without SMTPUTF8 (rfc2047_downgrade).
 * The input comes through a descriptor in reads of a chosen size, so that CR, LF and
 * header lines fall across read boundaries. What intake.h promises about the spool file
 * is checked byte by byte.
 *
 * Option bytes. First: bits 0-2 the read size, 3 -t (recipients from the headers), 4
 * address_strict, 5-6 rewrite_from (never, local, always, always with a name), 7 rewrite_to
 * (map_local). Second: bit 0 max_size 2000, 1 max_rcpts 3, 2 operands, 3 an 8-bit -F name,
 * 4 no qualify domain, 5 local_domains, 6 the null sender, 7 no 7-bit copy.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "message/aliases.h"
#include "message/intake.h"
#include "message/rfc2047.h"
#include "message/rfc5322.h"
#include "fuzz.h"

/* RFC 5322 2.1.1, which intake.h promises for every line of the spool. */
#define MAX_LINE_OCTETS 998

static char *operands[] = { "root, Bob <bob@example.org>", "carol@Example.ORG" };
static const char *const local_domains[] = { "mail.example.org", "example.org", NULL };

/* rewrite_to: one list name, a loop, and the rest qualified. */
static int
map_local(void *ctx, const char *addr, struct addrlist *out, struct err *e)
{
	char *q;

	(void)ctx;
	if (strncasecmp(addr, "team", 4) == 0 && (addr[4] == '\0' || addr[4] == '@')) {
		addrlist_add(out, "ann@example.org");
		addrlist_add(out, "ben@example.net");
		return 0;
	}
	if (strncasecmp(addr, "loop", 4) == 0)
		return err_set(e, ERR_PERM, CAUSE_CONFIG, "alias loop: loop -> loop");
	q = aliases_qualify(addr, "example.org");
	addrlist_add(out, q);
	free(q);
	return 0;
}

static const char *
spool_dir(void)
{
	static char path[4200];

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "%s/spool", fuzz_dir());
	return path;
}

/* Files left in the spool directory. */
static int
spool_files(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(spool_dir())) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
read_all(int fd, struct buf *b)
{
	char block[65536];
	ssize_t n;
	off_t off = 0;

	while ((n = pread(fd, block, sizeof(block), off)) > 0) {
		FUZZ_ASSERT(buf_add(b, block, (size_t)n) == 0, "spool fits");
		off += n;
	}
	FUZZ_ASSERT(n == 0, "spool reads");
}

static int
has_8bit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* Does the header block h have a field named name (at a line start)? */
static int
has_field(const char *h, size_t n, const char *name)
{
	size_t i, k = strlen(name);

	for (i = 0; i + k < n; i++) {
		if (i > 0 && h[i - 1] != '\n')
			continue;
		if (strncasecmp(h + i, name, k) == 0 &&
		    (h[i + k] == ':' || h[i + k] == ' ' || h[i + k] == '\t'))
			return 1;
	}
	return 0;
}

/* The spool file's promises (intake.h) and the envelope's. */
static void
check_spool(const struct msg *m, const struct buf *s)
{
	size_t i, col, longest = 0;
	struct stat st;

	FUZZ_ASSERT(fstat(m->fd, &st) == 0 && (uint64_t)st.st_size == m->size,
	    "size is the spool file's size");
	FUZZ_ASSERT(s->len == m->size, "size is what the spool holds");
	FUZZ_ASSERT(s->len >= 2 && memcmp(s->data + s->len - 2, "\r\n", 2) == 0,
	    "the spool ends with CRLF");
	FUZZ_ASSERT(fuzz_crlf_clean(s->data, s->len), "every line ends in exactly one CRLF");
	for (i = col = 0; i < s->len; i++) {
		if (s->data[i] == '\n') {
			if (col - 1 > longest)
				longest = col - 1;
			col = 0;
		} else
			col++;
	}
	FUZZ_ASSERT(longest <= MAX_LINE_OCTETS, "no line longer than 998 octets");
	FUZZ_ASSERT(m->max_line == longest, "max_line is the longest line");
	FUZZ_ASSERT(m->header_size >= 2 && m->header_size <= m->size, "header_size in range");
	FUZZ_ASSERT(memcmp(s->data + m->header_size - 2, "\r\n", 2) == 0 &&
		(m->header_size == 2 || memcmp(s->data + m->header_size - 4, "\r\n\r\n", 4) == 0),
	    "the header block ends with the empty line");
	FUZZ_ASSERT(memmem(s->data, m->header_size, "\r\n\r\n", 4) == NULL ||
		(char *)memmem(s->data, m->header_size, "\r\n\r\n", 4) ==
		    s->data + m->header_size - 4,
	    "one empty line, at the end of the header block");
	FUZZ_ASSERT(!has_field(s->data, m->header_size, "bcc"), "Bcc removed");
	FUZZ_ASSERT(!has_field(s->data, m->header_size, "resent-bcc"), "Resent-Bcc removed");
	FUZZ_ASSERT(has_field(s->data, m->header_size, "date"), "Date present");
	FUZZ_ASSERT(has_field(s->data, m->header_size, "from"), "From present");
	FUZZ_ASSERT(has_field(s->data, m->header_size, "message-id"), "Message-ID present");
	FUZZ_ASSERT(m->body_8bit == has_8bit(s->data, s->len), "body_8bit: any 8-bit byte");
	FUZZ_ASSERT(m->hdr_8bit == has_8bit(s->data, m->header_size),
	    "hdr_8bit: an 8-bit byte in the header block");
	FUZZ_ASSERT(m->message_id != NULL && m->message_id[0] != '\0' &&
		strpbrk(m->message_id, "<> \t\r\n") == NULL,
	    "a Message-ID without brackets");
	FUZZ_ASSERT(m->nrcpts > 0, "at least one recipient");
	for (i = 0; i < m->nrcpts; i++)
		FUZZ_ASSERT(m->rcpts[i][0] != '\0', "no empty recipient");
}

/* rfc2047.h: every header field 7-bit, the body unchanged. */
static void
check_downgrade(const struct msg *m, const struct buf *s, int fd)
{
	struct buf d;
	const char *end;
	size_t hlen;

	buf_init(&d, 64 * 1024 * 1024);
	read_all(fd, &d);
	FUZZ_ASSERT(fuzz_crlf_clean(d.data, d.len), "7-bit copy: CRLF lines");
	end = d.len >= 2 && memcmp(d.data, "\r\n", 2) == 0 ? d.data
							   : memmem(d.data, d.len, "\r\n\r\n", 4);
	FUZZ_ASSERT(end != NULL, "7-bit copy has a header block");
	hlen = (size_t)(end - d.data) + (end == d.data ? 2 : 4);
	FUZZ_ASSERT(!has_8bit(d.data, hlen), "7-bit copy: the header block is 7-bit");
	FUZZ_ASSERT(d.len - hlen == s->len - m->header_size &&
		memcmp(d.data + hlen, s->data + m->header_size, d.len - hlen) == 0,
	    "7-bit copy: the body unchanged");
	buf_free(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct intake_opts o;
	struct msg m;
	struct buf s;
	struct err e;
	unsigned a, b;
	int fd, rc, dfd;

	a = fuzz_byte(&data, &size);
	b = fuzz_byte(&data, &size);
	memset(&o, 0, sizeof(o));
	o.read_rcpts = (a & 0x08) != 0;
	o.address_strict = (a & 0x10) != 0;
	o.rewrite_from = (a >> 5) & 3 ? ((a >> 5) & 3) >= 2 ? REWRITE_ALWAYS : REWRITE_LOCAL
				      : REWRITE_NEVER;
	o.rewrite_addr = "joe@example.org";
	o.rewrite_name = ((a >> 5) & 3) == 3 ? "Joe Sender" : NULL;
	o.local_domain = "example.org";
	o.map_local = (a & 0x80) ? map_local : NULL;
	o.max_size = (b & 0x01) ? 2000 : 0;
	o.max_rcpts = (b & 0x02) ? 3 : 0;
	o.operands = operands;
	o.noperands = (b & 0x04) ? 2 : 0;
	o.full_name = (b & 0x08) ? "J\xc3\xb6rg \"the\" Sch\xc3\xa4"
				   "fer"
				 : NULL;
	o.qualify_domain = (b & 0x10) ? NULL : "example.org";
	o.local_domains = (b & 0x20) ? local_domains : NULL;
	o.sender = (b & 0x40) ? "" : "joe@example.org";
	o.from_addr = "joe@example.org";
	o.domain = "example.org";
	o.spool_dir = spool_dir();
	/* Without -t nor operands intake refuses at once: give it an operand. */
	if (!o.read_rcpts && o.noperands == 0)
		o.noperands = 1;

	fd = fuzz_reader(data, size, fuzz_chunk(a));
	err_init(&e);
	rc = intake_read(fd, &o, &m, &e);
	close(fd);
	fuzz_reader_join();
	if (rc == -1) {
		fuzz_note("intake: %s", e.msg);
		FUZZ_ASSERT(err_failed(&e), "failure without an error");
		FUZZ_ASSERT(spool_files() == 0, "a failed intake leaves no spool file");
		return 0;
	}
	buf_init(&s, 64 * 1024 * 1024);
	read_all(m.fd, &s);
	check_spool(&m, &s);
	fuzz_note("intake: %zu recipients, %llu bytes, repairs 0x%x", m.nrcpts,
	    (unsigned long long)m.size, m.repairs);
	if (m.hdr_8bit && !(b & 0x80)) {
		err_init(&e);
		if ((dfd = rfc2047_downgrade(m.fd, fuzz_dir(), &e)) != -1) {
			check_downgrade(&m, &s, dfd);
			close(dfd);
		} else {
			fuzz_note("downgrade: %s", e.msg);
			FUZZ_ASSERT(e.cause == CAUSE_DATA, "only a field can stop the 7-bit copy");
		}
	}
	buf_free(&s);
	msg_free(&m);
	FUZZ_ASSERT(spool_files() == 0, "msg_free removes the spool file");
	return 0;
}

/*
 * intake.c: standard input to a private spool file. See intake.h.
 *
 * All input goes through one state machine that turns every line ending into CRLF. While in
 * the header block, lines are gathered in a bounded buffer and classified as they arrive, so
 * a body without headers is recognised on its first bytes. At the end of the block the
 * fields are examined (recipients, Bcc, Date, Message-ID, From) and written out, and from
 * then on the body is copied in IO_BLOCK pieces through a fixed output block: memory does
 * not grow with the message.
 *
 * Line endings: LF, CRLF and a bare CR each end a line. A run of CRs followed by LF ends
 * one line ("\r\r\n" comes from programs that turned LF into CRLF twice); a run of CRs
 * followed by anything else ends one line per CR. A final unterminated line is terminated.
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/path.h"
#include "message/aliases.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "message/intake.h"
#include "base/priv.h"
#include "message/mailbox.h"
#include "message/qp.h"
#include "message/rfc2047.h"
#include "message/rfc5322.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/user.h"

enum phase {
	PH_HEADER, /* in the header block */
	PH_MBOX, /* dropping a leading "From " line */
	PH_BODY,
};

/* What the current header-block line is, as far as its bytes so far tell. */
enum lstate {
	L_START, /* nothing yet */
	L_NAME, /* could be a field name */
	L_NAMEWSP, /* a name then white space: only ':' may follow */
	L_FIELD, /* a field or a continuation line */
};

enum fkind {
	F_OTHER,
	F_TO,
	F_CC,
	F_BCC,
	F_RTO,
	F_RCC,
	F_RBCC,
	F_FROM,
	F_DATE,
	F_MID,
	F_REPLYTO,
};

struct field {
	size_t start; /* offsets in the header block */
	size_t end; /* after the last CRLF, continuation lines included */
	size_t name_len;
	size_t value; /* after the colon */
	enum fkind kind;
	int drop;
};

struct intake {
	const struct intake_opts *o;
	struct msg *m;
	struct err *e;
	enum phase phase;
	enum lstate ls;
	size_t lines; /* lines completed in the header phase */
	size_t ncr; /* CRs not yet known to be CRLF or bare */
	struct buf hdr; /* the header block so far, CRLF lines */
	size_t line_start; /* in hdr: where the current line begins */
	char *out; /* output block */
	size_t outlen;
	size_t outcap; /* its size: IO_BLOCK, less for a small input file (io_block_for) */
	int in_header; /* the bytes being output belong to the header block */
	char dkim_h[MAX_DKIM_H]; /* ":from:to:date:": fields a DKIM-Signature
						   covers (its h=), lower case */
	size_t col; /* bytes in the current output line, CR included */
	size_t body_max; /* longest body line, without CRLF */
	struct addrlist rcpts;
	struct addrlist ops; /* from the operands, added after the headers' */
};

/* The spool file's name for errors: an anonymous one has none. */
static const char *
spool_name(const struct msg *m)
{
	return m->path != NULL ? m->path : "(anonymous temporary file)";
}

static int
spool_write(struct intake *in, const char *p, size_t n)
{
	int rc = 0;

	if (write_all(in->m->fd, p, n) == -1)
		rc = err_set(in->e, ERR_PERM, CAUSE_IOERR, "cannot write spool file %s: %s",
		    spool_name(in->m), strerror(errno));
	return rc;
}

static int
flush(struct intake *in)
{
	int rc = 0;

	if (in->outlen > 0)
		rc = spool_write(in, in->out, in->outlen);
	in->outlen = 0;
	return rc;
}

/* Does p hold a byte with the high bit set? */
static int
has_8bit(const unsigned char *p, size_t n)
{
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t w;
	size_t i = 0;

	/* A word at a time: the scan of a 100 MiB body is otherwise 0.1 s of CPU. */
	for (; i + sizeof(w) <= n; i += sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		if (w & high)
			return 1;
	}
	for (; i < n; i++)
		if (p[i] & 0x80)
			return 1;
	return 0;
}

/*
 * Every byte of the spool goes through here: it is counted (size, longest line, 8-bit)
 * on its way into the output block. Input is canonical by now, so '\n' follows '\r'.
 */
static int
out_put(struct intake *in, const void *p, size_t n)
{
	const unsigned char *s = p, *nl;
	struct msg *m = in->m;
	size_t i, k;

	for (i = 0; i < n; i = k) {
		nl = memchr(s + i, '\n', n - i);
		k = nl ? (size_t)(nl - s) : n;
		/* Once a flag is set there is nothing left to look for. */
		if ((!m->body_8bit || (in->in_header && !m->hdr_8bit)) && has_8bit(s + i, k - i)) {
			m->body_8bit = 1;
			m->hdr_8bit |= in->in_header;
		}
		in->col += k - i;
		if (nl != NULL) {
			if (in->col > 0 && in->col - 1 > m->max_line)
				m->max_line = in->col - 1;
			if (!in->in_header && in->col > 0 && in->col - 1 > in->body_max)
				in->body_max = in->col - 1;
			in->col = 0;
			k++;
		}
	}
	m->size += n;
	if (in->o->max_size > 0 && m->size > in->o->max_size)
		return err_set(in->e, ERR_PERM, CAUSE_DATA,
		    "message larger than the limit of %llu bytes (%.1f MiB, max_message_size); "
		    "nothing was sent or queued",
		    (unsigned long long)in->o->max_size, (double)in->o->max_size / (1024 * 1024));
	while (n > 0) {
		k = in->outcap - in->outlen;
		if (k > n)
			k = n;
		memcpy(in->out + in->outlen, s, k);
		in->outlen += k;
		s += k;
		n -= k;
		if (in->outlen == in->outcap && flush(in) == -1)
			return -1;
	}
	return 0;
}

static int
out_str(struct intake *in, const char *s)
{
	return out_put(in, s, strlen(s));
}

static int
name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static enum fkind
field_kind(const char *name, size_t n)
{
	static const struct {
		const char *name;
		enum fkind kind;
	} k[] = {
		{ "to", F_TO },
		{ "cc", F_CC },
		{ "bcc", F_BCC },
		{ "resent-to", F_RTO },
		{ "resent-cc", F_RCC },
		{ "resent-bcc", F_RBCC },
		{ "from", F_FROM },
		{ "date", F_DATE },
		{ "message-id", F_MID },
		{ "reply-to", F_REPLYTO },
	};
	size_t i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (name_is(name, n, k[i].name))
			return k[i].kind;
	return F_OTHER;
}

/*
 * Add the h= tag of a DKIM-Signature value (RFC 6376 3.5: "h=from:to : subject") to
 * in->dkim_h as ":from:to:subject:", lower case, white space dropped. A list too long for
 * the buffer covers everything (":*:"): nothing is added then.
 */
static void
dkim_fields(struct intake *in, const char *v, size_t n)
{
	size_t i = 0, j, len = strlen(in->dkim_h);
	int at_tag = 1;

	if (len == 0)
		in->dkim_h[len++] = ':';
	for (i = 0; i < n; i++) {
		if (v[i] == ';') {
			at_tag = 1;
			continue;
		}
		if (!at_tag || v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n')
			continue;
		at_tag = 0;
		for (j = i; j < n && v[j] != '=' && v[j] != ';'; j++)
			;
		if (j - i != 1 || (v[i] != 'h' && v[i] != 'H') || j == n || v[j] != '=')
			continue;
		for (j++; j < n && v[j] != ';'; j++) {
			if (v[j] == ' ' || v[j] == '\t' || v[j] == '\r' || v[j] == '\n')
				continue;
			if (len + 2 >= sizeof(in->dkim_h)) {
				snprintf(in->dkim_h, sizeof(in->dkim_h), ":*:");
				return;
			}
			in->dkim_h[len++] = v[j] == ':' ? ':' : (char)tolower((unsigned char)v[j]);
		}
		in->dkim_h[len++] = ':';
		in->dkim_h[len] = '\0';
		i = j - 1;
	}
	in->dkim_h[len] = '\0';
}

/* Whether adding the field name would break a DKIM signature of the message. */
static int
dkim_covers(const struct intake *in, const char *name)
{
	char want[32];

	if (!in->m->dkim_signed)
		return 0;
	snprintf(want, sizeof(want), ":%s:", name);
	return strstr(in->dkim_h, want) != NULL || strcmp(in->dkim_h, ":*:") == 0;
}

/* A bare name gets the qualify domain; addresses with a domain are kept as they are. */
static int
add_rcpt(struct intake *in, const char *addr)
{
	const char *qd = in->o->qualify_domain, *a = addr;
	unsigned max = in->o->max_rcpts ? in->o->max_rcpts : MAX_RECIPIENTS;
	struct buf q;
	int rc = 0;

	if (*a == '"')
		for (a++; *a != '\0' && *a != '"'; a++)
			if (*a == '\\' && a[1] != '\0')
				a++;
	buf_init(&q, MAX_ADDRESS * 2);
	if (strchr(a, '@') == NULL && qd != NULL && *qd != '\0' &&
	    buf_addf(&q, "%s@%s", addr, qd) == 0)
		addr = buf_cstr(&q);
	if (addrlist_add(&in->rcpts, addr) == 1 && in->rcpts.n > max)
		rc = err_set(in->e, ERR_PERM, CAUSE_DATA,
		    "too many recipients: the limit is %u (max_recipients)", max);
	buf_free(&q);
	return rc;
}

/*
 * Parse one address list; add what it names to the list to, or (to == NULL) to the
 * recipients. what names the source in an error ("To header").
 */
static int
add_list(struct intake *in, struct addrlist *to, const char *s, size_t len, const char *what)
{
	struct addrlist l;
	size_t i;
	int rc = -1;

	addrlist_init(&l);
	if (rfc5322_parse_addrlist(s, len, &l, in->o->address_strict, in->e) == -1) {
		err_prefix(in->e, "%s: ", what);
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		if (to != NULL)
			addrlist_add(to, l.v[i]);
		else if (add_rcpt(in, l.v[i]) == -1)
			goto out;
	}
	rc = 0;
out:
	addrlist_free(&l);
	return rc;
}

/* The id inside <...> of a Message-ID value, or a lone bare token; NULL if none. */
static char *
parse_msgid(const char *v, size_t n)
{
	const char *lt, *gt, *p;
	size_t a, b, i;

	lt = memchr(v, '<', n);
	gt = lt ? memchr(lt, '>', n - (size_t)(lt - v)) : NULL;
	if (lt != NULL && gt != NULL) {
		a = (size_t)(lt - v) + 1;
		b = (size_t)(gt - v);
	} else {
		for (a = 0; a < n && strchr(" \t\r\n", v[a]) != NULL; a++)
			;
		for (b = n; b > a && strchr(" \t\r\n", v[b - 1]) != NULL; b--)
			;
	}
	while (a < b && strchr(" \t\r\n", v[a]) != NULL)
		a++;
	while (b > a && strchr(" \t\r\n", v[b - 1]) != NULL)
		b--;
	if (a >= b || b - a > MAX_ADDRESS)
		return NULL;
	for (i = a, p = v + a; i < b; i++, p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			return NULL;
	return xstrndup(v + a, b - a);
}

/* A domain for the Message-ID: the given one if it is a plain name, else this host's. */
static const char *
msgid_domain(const char *d)
{
	const unsigned char *p;

	if (d == NULL || *d == '\0')
		return host_name();
	for (p = (const unsigned char *)d; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("<>@\"()[]\\,;:", *p) != NULL)
			return host_name();
	return d;
}

static int
add_date(struct intake *in)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	char line[128];
	time_t t = (time_t)now_s();
	struct tm tm;
	long off;

	/* Names by hand: strftime's %a and %b follow the locale, RFC 5322 wants English. */
	if (localtime_r(&t, &tm) == NULL)
		return err_set(in->e, ERR_PERM, CAUSE_SOFTWARE, "cannot convert the time");
	off = tm.tm_gmtoff / 60;
	snprintf(line, sizeof(line), "Date: %s, %d %s %d %02d:%02d:%02d %c%02ld%02ld\r\n",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	return out_str(in, line);
}

/* A new Message-ID's id (without the brackets), or NULL when the domain is too long. */
static char *
new_msgid(const char *domain)
{
	uint64_t r = 0;
	struct buf b;

	/* Uniqueness comes from the random part; time and pid only help a human reading it. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)now_ms() * 6364136223846793005ULL ^ (uint64_t)getpid() ^
		    (uint64_t)(uintptr_t)&r;
	buf_init(&b, MAX_ADDRESS * 2);
	if (buf_addf(&b, "%lld.%ld.%016llx@%s", (long long)now_s(), (long)getpid(),
		(unsigned long long)r, msgid_domain(domain)) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* An address that is safe to write into a header line as it is. */
static int
header_safe(const char *addr)
{
	const char *p;

	if (addr == NULL || *addr == '\0')
		return 0;
	for (p = addr; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int
add_from(struct intake *in)
{
	const char *addr = in->o->from_addr, *name = in->o->full_name;
	struct buf b;
	int rc;

	if (in->o->rewrite_from == REWRITE_ALWAYS && header_safe(in->o->rewrite_addr)) {
		addr = in->o->rewrite_addr;
		if (in->o->rewrite_name != NULL)
			name = in->o->rewrite_name;
	}
	/* The caller always gives an address; a missing or unsafe one adds no header. */
	if (!header_safe(addr))
		return 0;
	buf_init(&b, MAX_HEADER_FIELD);
	rc = buf_addstr(&b, "From: ");
	rc |= mailbox_format(&b, name, addr);
	rc |= buf_addstr(&b, "\r\n");
	if (rc == 0)
		rc = out_put(in, b.data, b.len);
	else
		rc = err_set(in->e, ERR_PERM, CAUSE_DATA, "the From header to add is too long");
	buf_free(&b);
	return rc;
}

static int
no_rcpts(struct intake *in)
{
	return err_set(in->e, ERR_PERM, CAUSE_USAGE,
	    "no recipients: give addresses as arguments or use -t with To/Cc/Bcc headers");
}

/*
 * Write one header field. A line longer than MAX_LINE_OCTETS is folded before the last
 * white space that keeps it short enough; a run with no white space at all is cut with
 * CRLF SP (a space appears in it when unfolded, which beats a refused message).
 */
static int
put_field(struct intake *in, const char *p, size_t n)
{
	const char *nl;
	size_t i, end, s, len, k, pad;

	for (i = 0; i < n; i = end) {
		nl = memchr(p + i, '\n', n - i);
		end = nl != NULL ? (size_t)(nl - p) + 1 : n;
		len = end - i;
		while (len > 0 && (p[i + len - 1] == '\n' || p[i + len - 1] == '\r'))
			len--;
		if (len <= MAX_LINE_OCTETS) {
			if (out_put(in, p + i, end - i) == -1)
				return -1;
			continue;
		}
		in->m->repairs |= INTAKE_HEADER_FOLDED;
		/*
		 * s: start of what is left of this line; the fold puts its white space first.
		 * pad: the space a cut put before it, which counts against the next line.
		 */
		for (s = i, pad = 0; pad + i + len - s > MAX_LINE_OCTETS;) {
			for (k = s + MAX_LINE_OCTETS - pad; k > s + 1; k--)
				if (p[k] == ' ' || p[k] == '\t')
					break;
			if (k > s + 1) {
				if (out_put(in, p + s, k - s) == -1 ||
				    out_put(in, "\r\n", 2) == -1)
					return -1;
				pad = 0;
			} else {
				k = s + MAX_LINE_OCTETS - 1 - pad;
				if (out_put(in, p + s, k - s) == -1 ||
				    out_put(in, "\r\n ", 3) == -1)
					return -1;
				pad = 1;
			}
			s = k;
		}
		if (out_put(in, p + s, end - s) == -1)
			return -1;
	}
	return 0;
}

/*
 * Local as far as a From is concerned: a bare name, localhost, a name of this host, or
 * any domain without a dot (an unqualified host name the world cannot reply to).
 */
static int
from_is_local(const struct intake *in, const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (*addr == '\0' || at == addr)
		return 0;
	if (at == NULL || strchr(at + 1, '.') == NULL)
		return 1;
	return aliases_is_local(addr, in->o->local_domains);
}

/*
 * addr's local part at the local domain, or NULL when there is no local domain or the
 * result would be too long (the header is then left as it was written).
 */
static char *
qualify_local(const struct intake *in, const char *addr)
{
	const char *d = in->o->local_domain, *at = strrchr(addr, '@');
	struct buf b;
	char *q = NULL;

	if (d == NULL || *d == '\0')
		return NULL;
	buf_init(&b, MAX_ADDRESS * 2);
	if (buf_add(&b, addr, at != NULL ? (size_t)(at - addr) : strlen(addr)) == 0 &&
	    buf_addf(&b, "@%s", d) == 0)
		q = buf_steal(&b);
	buf_free(&b);
	return q;
}

/* "Name: " and the mailboxes, folded between them when a line grows long; then CRLF. */
static int
put_mailboxes(struct intake *in, const char *name, size_t nlen, const struct mailbox_list *l)
{
	struct buf b, one;
	const char *nl;
	size_t i, col = nlen + 1;
	int r, rc;

	buf_init(&b, MAX_HEADER_FIELD);
	buf_init(&one, MAX_HEADER_FIELD);
	r = buf_add(&b, name, nlen);
	r |= buf_addc(&b, ':');
	for (i = 0; i < l->n && r == 0; i++) {
		buf_reset(&one);
		if (mailbox_format(&one, l->v[i].name, l->v[i].addr) == -1) {
			r = -1;
			break;
		}
		if (i > 0 && col + 2 + one.len > 78) {
			r |= buf_addstr(&b, ",\r\n ");
			col = 1;
		} else {
			r |= buf_addstr(&b, i > 0 ? ", " : " ");
			col += i > 0 ? 2 : 1;
		}
		r |= buf_add(&b, one.data, one.len);
		if ((nl = memrchr(one.data, '\n', one.len)) != NULL)
			col = one.len - (size_t)(nl - one.data) - 1;
		else
			col += one.len;
	}
	r |= buf_add(&b, "\r\n", 2);
	if (r == 0)
		rc = put_field(in, b.data, b.len);
	else
		rc = err_set(in->e, ERR_PERM, CAUSE_DATA, "a rewritten %.*s header is too long",
		    (int)nlen, name);
	buf_free(&b);
	buf_free(&one);
	return rc;
}

/*
 * The From field under rewrite_from. *orig gets the original mailboxes (qualified where
 * local) when a Reply-To should keep them. Returns 0 (written), -1 on error.
 */
static int
put_from(struct intake *in, const struct field *f, struct mailbox_list *orig)
{
	const struct intake_opts *o = in->o;
	const char *b = in->hdr.data;
	struct mailbox_list l, nl;
	struct mailbox mb;
	char *q;
	size_t i;
	int parsed, same = 1, rc = -1;

	memset(&nl, 0, sizeof(nl));
	parsed = mailbox_parse(b + f->value, f->end - f->value, MAX_REWRITE_MBOX, &l) == 0 &&
	    l.n > 0;
	if (o->rewrite_from == REWRITE_LOCAL && parsed && l.n == 1 &&
	    from_is_local(in, l.v[0].addr) && (q = qualify_local(in, l.v[0].addr)) != NULL) {
		free(l.v[0].addr);
		l.v[0].addr = q;
		in->m->repairs |= INTAKE_FROM_QUALIFIED;
		rc = put_mailboxes(in, b + f->start, f->name_len, &l);
		goto out;
	}
	for (i = 0; parsed && i < l.n; i++)
		same &= streq_ci(l.v[i].addr, o->rewrite_addr != NULL ? o->rewrite_addr : "");
	if (o->rewrite_from != REWRITE_ALWAYS || !header_safe(o->rewrite_addr) ||
	    (parsed && same)) {
		rc = put_field(in, b + f->start, f->end - f->start);
		goto out;
	}
	/* always: the account's address; the name is from_name, or the one written there. */
	mb.addr = (char *)o->rewrite_addr;
	mb.name = (char *)(o->rewrite_name != NULL ? o->rewrite_name
		: parsed && l.n == 1               ? l.v[0].name
						   : o->full_name);
	nl.v = &mb;
	nl.n = 1;
	in->m->repairs |= INTAKE_FROM_REPLACED;
	if (put_mailboxes(in, "From", 4, &nl) == -1)
		goto out;
	/* Replies still reach whoever wrote the original From, if it can be named. */
	for (i = 0; parsed && i < l.n; i++)
		if (from_is_local(in, l.v[i].addr)) {
			if ((q = qualify_local(in, l.v[i].addr)) == NULL)
				break;
			free(l.v[i].addr);
			l.v[i].addr = q;
		}
	if (parsed && i == l.n) {
		*orig = l;
		memset(&l, 0, sizeof(l));
	}
	rc = 0;
out:
	mailbox_list_free(&l);
	return rc;
}

/*
 * rewrite_to: a To or Cc (or Resent-) field with its local addresses replaced by their
 * resolution. A field that does not parse, or has nothing local, is written as it was.
 */
static int
put_rcpt_field(struct intake *in, const struct field *f)
{
	const char *b = in->hdr.data;
	struct mailbox_list l, out;
	struct addrlist r;
	size_t i, j, cap = 0;
	int changed = 0, rc = -1;

	memset(&out, 0, sizeof(out));
	addrlist_init(&r);
	if (mailbox_parse(b + f->value, f->end - f->value, MAX_REWRITE_MBOX, &l) == -1) {
		rc = put_field(in, b + f->start, f->end - f->start);
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		addrlist_free(&r);
		addrlist_init(&r);
		if (aliases_is_local(l.v[i].addr, in->o->local_domains) &&
		    in->o->map_local(in->o->map_ctx, l.v[i].addr, &r, in->e) == -1)
			goto out;
		if (r.n == 0)
			addrlist_add(&r, l.v[i].addr);
		else
			changed = 1;
		for (j = 0; j < r.n; j++) {
			if (out.n == cap) {
				cap = cap ? cap * 2 : 8;
				out.v = xrealloc(out.v, cap * sizeof(*out.v));
			}
			/* One target keeps the name; a list does not pretend to be one person. */
			out.v[out.n].name = r.n == 1 && l.v[i].name ? xstrdup(l.v[i].name) : NULL;
			out.v[out.n].addr = xstrdup(r.v[j]);
			out.n++;
		}
	}
	if (changed) {
		in->m->repairs |= INTAKE_TO_REWRITTEN;
		rc = put_mailboxes(in, b + f->start, f->name_len, &out);
	} else
		rc = put_field(in, b + f->start, f->end - f->start);
out:
	mailbox_list_free(&l);
	mailbox_list_free(&out);
	addrlist_free(&r);
	return rc;
}

/*
 * The header block hdr[0..blocklen) is complete: take the recipients from it, then write it
 * without Bcc and Resent-Bcc, add what is missing, and end it with the empty line.
 */
static int
finish_headers(struct intake *in, size_t blocklen)
{
	const char *b = in->hdr.data, *nl, *v;
	char what[32];
	struct field *f = NULL;
	size_t nf = 0, fcap = 0, i, pos, end, nlen;
	int resent = 0, has_from = 0, has_date = 0, has_reply_to = 0, from_done = 0, r;
	int rc = -1;
	struct msg *m = in->m;
	struct mailbox_list orig;

	memset(&orig, 0, sizeof(orig));

	for (pos = 0; pos < blocklen; pos = end) {
		nl = memchr(b + pos, '\n', blocklen - pos);
		end = nl ? (size_t)(nl - b) + 1 : blocklen;
		if (b[pos] == ' ' || b[pos] == '\t') {
			/* The line classifier lets a continuation line in only after a field. */
			if (nf > 0)
				f[nf - 1].end = end;
			continue;
		}
		/* The classifier let only field lines in; should one not parse, it is kept. */
		if (rfc5322_field_name(b + pos, end - pos, &nlen, &v) == -1) {
			nlen = 0;
			v = b + pos;
		}
		if (nf == fcap) {
			fcap = fcap ? fcap * 2 : 32;
			f = xrealloc(f, fcap * sizeof(*f));
		}
		f[nf].start = pos;
		f[nf].end = end;
		f[nf].name_len = nlen;
		f[nf].value = (size_t)(v - b);
		f[nf].kind = nlen ? field_kind(b + pos, nlen) : F_OTHER;
		f[nf].drop = f[nf].kind == F_BCC || f[nf].kind == F_RBCC;
		nf++;
	}
	for (i = 0; i < nf; i++)
		if (f[i].name_len > 0 &&
		    name_is(b + f[i].start, f[i].name_len, "dkim-signature")) {
			m->dkim_signed = 1;
			dkim_fields(in, b + f[i].value, f[i].end - f[i].value);
		}
	for (i = 0; i < nf; i++) {
		resent |= f[i].kind == F_RTO || f[i].kind == F_RCC || f[i].kind == F_RBCC;
		has_from |= f[i].kind == F_FROM;
		has_date |= f[i].kind == F_DATE;
		has_reply_to |= f[i].kind == F_REPLYTO;
		/* A Message-ID with no usable id is replaced by one that has. */
		if (f[i].kind == F_MID && m->message_id == NULL)
			m->message_id = parse_msgid(b + f[i].value, f[i].end - f[i].value);
		if (f[i].kind == F_MID && m->message_id == NULL && !m->dkim_signed)
			f[i].drop = 1;
	}
	/* RFC 5322 3.6.6 as sendmail applies it: a resent message goes to the Resent-*. */
	for (i = 0; in->o->read_rcpts && i < nf; i++) {
		if (resent ? f[i].kind != F_RTO && f[i].kind != F_RCC && f[i].kind != F_RBCC
			   : f[i].kind != F_TO && f[i].kind != F_CC && f[i].kind != F_BCC)
			continue;
		snprintf(what, sizeof(what), "%.*s header", (int)f[i].name_len, b + f[i].start);
		if (add_list(in, NULL, b + f[i].value, f[i].end - f[i].value, what) == -1)
			goto out;
	}
	for (i = 0; i < in->ops.n; i++)
		if (add_rcpt(in, in->ops.v[i]) == -1)
			goto out;
	if (in->rcpts.n == 0) {
		no_rcpts(in);
		goto out;
	}
	in->in_header = 1;
	for (i = 0; i < nf; i++) {
		if (f[i].drop)
			continue;
		/* A signed message's fields stay as the signer wrote them. */
		if (f[i].kind == F_FROM && !from_done && !m->dkim_signed) {
			from_done = 1;
			r = put_from(in, &f[i], &orig);
		} else if (in->o->map_local != NULL && !m->dkim_signed &&
		    (f[i].kind == F_TO || f[i].kind == F_CC || f[i].kind == F_RTO ||
			f[i].kind == F_RCC))
			r = put_rcpt_field(in, &f[i]);
		else
			r = put_field(in, b + f[i].start, f[i].end - f[i].start);
		if (r == -1)
			goto out;
	}
	if (orig.n > 0 && !has_reply_to) {
		m->repairs |= INTAKE_REPLY_TO_ADDED;
		if (put_mailboxes(in, "Reply-To", 8, &orig) == -1)
			goto out;
	}
	/* A field the signature covers was signed absent: adding it would break it. */
	if (!has_from && !dkim_covers(in, "from") && add_from(in) == -1)
		goto out;
	if (!has_date && !dkim_covers(in, "date") && add_date(in) == -1)
		goto out;
	if (m->message_id == NULL && !dkim_covers(in, "message-id")) {
		if ((m->message_id = new_msgid(in->o->domain)) == NULL) {
			err_set(in->e, ERR_PERM, CAUSE_CONFIG,
			    "the domain is too long for a "
			    "Message-ID: %.64s...",
			    in->o->domain);
			goto out;
		}
		if (out_str(in, "Message-ID: <") == -1 || out_str(in, m->message_id) == -1 ||
		    out_str(in, ">\r\n") == -1)
			goto out;
	}
	if (out_put(in, "\r\n", 2) == -1)
		goto out;
	in->in_header = 0;
	m->header_size = m->size;
	rc = 0;
out:
	mailbox_list_free(&orig);
	free(f);
	return rc;
}

/*
 * The current line is not a header line: the header block ends before it (the empty line
 * is supplied) and the line so far starts the body. Returns 1: the byte at hand is the
 * body's now.
 */
static int
to_body(struct intake *in)
{
	size_t start = in->line_start;

	if (finish_headers(in, start) == -1)
		return -1;
	if (in->hdr.len > start && out_put(in, in->hdr.data + start, in->hdr.len - start) == -1)
		return -1;
	buf_free(&in->hdr);
	in->phase = PH_BODY;
	return 1;
}

static int
header_too_big(struct intake *in)
{
	return err_set(in->e, ERR_PERM, CAUSE_DATA,
	    "header block over 1 MiB: is the empty line between header and body missing?");
}

/* Not a header line: a leading mbox "From " line is dropped (as sendmail does). */
static int
not_header(struct intake *in)
{
	if (in->lines == 0 && in->hdr.len >= 5 && memcmp(in->hdr.data, "From ", 5) == 0) {
		in->phase = PH_MBOX;
		buf_reset(&in->hdr);
		return 0;
	}
	return to_body(in);
}

/* One byte of a header-phase line. Returns 0 consumed, 1 not consumed (now body), -1. */
static int
hdr_byte(struct intake *in, unsigned char c)
{
	if (in->phase == PH_MBOX)
		return 0;
	switch (in->ls) {
	case L_START:
		if (c == ' ' || c == '\t') {
			if (in->line_start == 0)
				return to_body(in);
			in->ls = L_FIELD;
		} else if (c > ' ' && c < 0x7f && c != ':')
			in->ls = L_NAME;
		else
			return to_body(in);
		break;
	case L_NAME:
		if (c == ':')
			in->ls = L_FIELD;
		else if (c == ' ' || c == '\t')
			in->ls = L_NAMEWSP;
		else if (c <= ' ' || c >= 0x7f)
			return not_header(in);
		break;
	case L_NAMEWSP:
		if (c == ':')
			in->ls = L_FIELD;
		else if (c != ' ' && c != '\t')
			return not_header(in);
		break;
	case L_FIELD:
		break;
	}
	if (in->ls != L_FIELD && in->hdr.len - in->line_start >= MAX_FIELD_NAME)
		return not_header(in);
	if (buf_addc(&in->hdr, (char)c) == -1)
		return header_too_big(in);
	return 0;
}

/* A line ends during the header phase. */
static int
hdr_eol(struct intake *in)
{
	if (in->phase == PH_HEADER) {
		switch (in->ls) {
		case L_START:
			if (finish_headers(in, in->hdr.len) == -1)
				return -1;
			buf_free(&in->hdr);
			in->phase = PH_BODY;
			return 0;
		case L_NAME:
		case L_NAMEWSP:
			if (not_header(in) == -1)
				return -1;
			if (in->phase == PH_BODY)
				return out_put(in, "\r\n", 2);
			break;
		case L_FIELD:
			if (buf_add(&in->hdr, "\r\n", 2) == -1)
				return header_too_big(in);
			in->line_start = in->hdr.len;
			in->ls = L_START;
			in->lines++;
			return 0;
		}
	}
	/* The end of a dropped mbox line. */
	in->phase = PH_HEADER;
	in->ls = L_START;
	in->line_start = 0;
	in->lines++;
	return 0;
}

/* CRs held back, now known to be bare: each ends a line. */
static int
body_crs(struct intake *in)
{
	for (; in->ncr > 0; in->ncr--)
		if (out_put(in, "\r\n", 2) == -1)
			return -1;
	return 0;
}

static int
body_feed(struct intake *in, const unsigned char *p, size_t n)
{
	size_t i = 0, run;

	while (i < n) {
		if (p[i] == '\r') {
			in->ncr++;
			i++;
			continue;
		}
		if (p[i] == '\n') {
			in->ncr = 0;
			if (out_put(in, "\r\n", 2) == -1)
				return -1;
			i++;
			continue;
		}
		if (body_crs(in) == -1)
			return -1;
		for (run = i; run < n && p[run] != '\r' && p[run] != '\n'; run++)
			;
		if (out_put(in, p + i, run - i) == -1)
			return -1;
		i = run;
	}
	return 0;
}

static int
feed(struct intake *in, const unsigned char *p, size_t n)
{
	size_t i = 0;
	int r;

	while (i < n) {
		if (in->phase == PH_BODY)
			return body_feed(in, p + i, n - i);
		if (p[i] == '\r') {
			in->ncr++;
			i++;
			continue;
		}
		if (p[i] == '\n') {
			in->ncr = 0;
			if (hdr_eol(in) == -1)
				return -1;
			i++;
			continue;
		}
		if (in->ncr > 0) {
			/* Bare CRs, one line each; the phase may change on any of them. */
			in->ncr--;
			if (hdr_eol(in) == -1)
				return -1;
			continue;
		}
		if ((r = hdr_byte(in, p[i])) == -1)
			return -1;
		if (r == 0)
			i++;
	}
	return 0;
}

/* End of input: pending CRs, an unterminated line, a header block with no body. */
static int
finish(struct intake *in)
{
	for (; in->ncr > 0 && in->phase != PH_BODY; in->ncr--)
		if (hdr_eol(in) == -1)
			return -1;
	if (in->phase == PH_MBOX || (in->phase == PH_HEADER && in->ls != L_START))
		if (hdr_eol(in) == -1)
			return -1;
	if (in->phase == PH_HEADER) {
		if (finish_headers(in, in->hdr.len) == -1)
			return -1;
		buf_free(&in->hdr);
		in->phase = PH_BODY;
	}
	if (body_crs(in) == -1)
		return -1;
	if (in->col > 0 && out_put(in, "\r\n", 2) == -1)
		return -1;
	return flush(in);
}

/* A spool file lives in the group's directory in system mode: removing it takes the group. */
static void
spool_unlink(const char *path)
{
	priv_raise();
	unlink(path);
	priv_lower();
}

/*
 * spool_anon: a file with no name in the directory (O_TMPFILE, or mkostemp and unlink
 * where the file system has no O_TMPFILE); only our descriptor reaches it, and it goes
 * when the descriptor is closed, whatever happens to the process.
 */
static int
spool_create_anon(struct intake *in, char *path)
{
	const char *dir = in->o->spool_dir;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		if ((fd = mkostemp(path, O_CLOEXEC)) != -1)
			unlink(path);
	}
	if (fd == -1)
		err_set(in->e, ERR_PERM, CAUSE_CANTCREAT,
		    "cannot create a temporary spool "
		    "file in %s: %s (set TMPDIR to a writable directory)",
		    dir, strerror(errno));
	return fd;
}

static int
spool_create(struct intake *in)
{
	const char *dir = in->o->spool_dir;
	char *path = NULL;
	int rc = -1;

	if (dir == NULL || *dir == '\0' || (path = path_fmt("%s/tmp.XXXXXX", dir)) == NULL) {
		err_set(in->e, ERR_PERM, CAUSE_CANTCREAT, "bad spool directory name '%.200s'%s",
		    dir ? dir : "", dir != NULL && *dir != '\0' ? " (too long)" : "");
		goto out;
	}
	if (in->o->spool_anon) {
		if ((in->m->fd = spool_create_anon(in, path)) == -1)
			goto out;
		rc = 0;
		goto out;
	}
	/* System mode: the spool directory is the group's (priv.h); the descriptor is ours. */
	priv_raise();
	if (make_dirs(dir, 0700) == -1) {
		priv_lower();
		err_set(in->e, ERR_PERM, CAUSE_CANTCREAT,
		    "cannot create spool directory %s: %s (create it writable by uid %ld, "
		    "or set queue_dir in sendmail.conf)",
		    dir, strerror(errno), (long)getuid());
		goto out;
	}
	/* mkostemp: O_CREAT|O_EXCL, mode 0600 whatever the umask. */
	in->m->fd = mkostemp(path, O_CLOEXEC);
	priv_lower();
	/*
	 * Held while we live, so that the next run tells a dead run's leftover (SIGKILL
	 * from cron) from a live one however long we read (queue_sweep_dead). System mode:
	 * readable by the group as it will be in the queue, so that any user's run can
	 * check it.
	 */
	if (in->m->fd != -1 &&
	    (flock(in->m->fd, LOCK_EX | LOCK_NB) == -1 ||
		(priv_system() && fchmod(in->m->fd, 0640) == -1))) {
		/* No flock here (rare): the sweep then spares the file for a minute only. */
	}
	if (in->m->fd == -1) {
		err_set(in->e, ERR_PERM, CAUSE_CANTCREAT,
		    "cannot create a spool file in %s: %s (it must be writable by uid %ld, "
		    "or set queue_dir in sendmail.conf)",
		    dir, strerror(errno), (long)getuid());
		goto out;
	}
	in->m->path = path;
	path = NULL;
	rc = 0;
out:
	free(path);
	return rc;
}

/*
 * Long body lines, second pass. The spool holds the message as first written; it is copied
 * to a new spool file with the body re-encoded (quoted-printable) or folded, and the new
 * file takes the old one's place. Rare: only messages with a line over 998 octets.
 */

/* One byte of the body, quoted-printable (qp.c). */
static int
qp_put(struct intake *w, struct qp *q, unsigned char c)
{
	char t[QP_OUT];

	return out_put(w, t, qp_byte(q, c, t));
}

/* Cut at MAX_LINE_OCTETS, a little earlier rather than inside a UTF-8 character. */
static int
fold_byte(struct intake *w, size_t *col, unsigned char c)
{
	if (c == '\r' || c == '\n') {
		if (c == '\n')
			*col = 0;
		return out_put(w, &c, 1);
	}
	if (*col >= MAX_LINE_OCTETS || (*col >= MAX_LINE_OCTETS - 4 && c >= 0xc0)) {
		if (out_put(w, "\r\n", 2) == -1)
			return -1;
		*col = 0;
	}
	(*col)++;
	return out_put(w, &c, 1);
}

static ssize_t
spool_pread(struct intake *in, void *p, size_t n, off_t off)
{
	ssize_t r;

	do
		r = pread(in->m->fd, p, n, off);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		err_set(in->e, ERR_PERM, CAUSE_IOERR, "cannot read back spool file %s: %s",
		    spool_name(in->m), strerror(errno));
	return r;
}

/* 1 if the body (from off) is valid UTF-8, 0 if not, -1 on a read error. */
static int
body_utf8(struct intake *in, off_t off, unsigned char *blk)
{
	ssize_t r, i;
	int need = 0;

	while ((r = spool_pread(in, blk, IO_BLOCK, off)) > 0) {
		for (i = 0; i < r; i++) {
			if (need > 0) {
				if ((blk[i] & 0xc0) != 0x80)
					return 0;
				need--;
			} else if (blk[i] >= 0xc2 && blk[i] <= 0xdf)
				need = 1;
			else if (blk[i] >= 0xe0 && blk[i] <= 0xef)
				need = 2;
			else if (blk[i] >= 0xf0 && blk[i] <= 0xf4)
				need = 3;
			else if (blk[i] >= 0x80)
				return 0;
		}
		off += r;
	}
	return r == -1 ? -1 : need == 0;
}

/* The value of a field, trimmed and lower-cased, up to ';' (the type or the encoding). */
static void
field_token(const char *v, size_t n, char *out, size_t outlen)
{
	size_t i = 0, k = 0;

	while (i < n && strchr(" \t\r\n", v[i]) != NULL)
		i++;
	for (; i < n && k + 1 < outlen && strchr("; \t\r\n(", v[i]) == NULL; i++)
		out[k++] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
	out[k] = '\0';
}

#define QP_CTE "Content-Transfer-Encoding: quoted-printable\r\n"

/* What the top-level entity is, from its header block: only a single text part is re-encoded. */
struct entity {
	int has_mv; /* MIME-Version is there */
	int has_ct; /* Content-Type is there */
	int text; /* text/anything, or no Content-Type */
	int plain; /* 7bit, 8bit, binary, or no Content-Transfer-Encoding */
};

static void
entity_of(const struct buf *hdr, struct entity *en)
{
	const char *b = hdr->data, *nl, *v;
	char tok[64];
	size_t pos, end, nlen;

	memset(en, 0, sizeof(*en));
	en->text = en->plain = 1;
	for (pos = 0; pos < hdr->len; pos = end) {
		nl = memchr(b + pos, '\n', hdr->len - pos);
		end = nl ? (size_t)(nl - b) + 1 : hdr->len;
		if (rfc5322_field_name(b + pos, end - pos, &nlen, &v) == -1)
			continue;
		if (name_is(b + pos, nlen, "mime-version"))
			en->has_mv = 1;
		else if (name_is(b + pos, nlen, "content-type")) {
			en->has_ct = 1;
			field_token(v, (size_t)(b + end - v), tok, sizeof(tok));
			en->text = strncmp(tok, "text/", 5) == 0;
		} else if (name_is(b + pos, nlen, "content-transfer-encoding")) {
			field_token(v, (size_t)(b + end - v), tok, sizeof(tok));
			en->plain = strcmp(tok, "7bit") == 0 || strcmp(tok, "8bit") == 0 ||
			    strcmp(tok, "binary") == 0;
		}
	}
}

/*
 * The header block again into w, without its empty line; with qp, QP_CTE takes the
 * place of the first Content-Transfer-Encoding and the others go (*cte_done: it did).
 */
static int
put_header_again(struct intake *w, const struct buf *hdr, int qp, int *cte_done)
{
	const char *b = hdr->data, *nl, *v;
	size_t pos, end, nlen;
	int cte;

	*cte_done = 0;
	for (pos = 0; pos + 2 <= hdr->len && memcmp(b + pos, "\r\n", 2) != 0; pos = end) {
		end = pos;
		do {
			nl = memchr(b + end, '\n', hdr->len - end);
			end = nl ? (size_t)(nl - b) + 1 : hdr->len;
		} while (end < hdr->len && (b[end] == ' ' || b[end] == '\t'));
		cte = qp && rfc5322_field_name(b + pos, end - pos, &nlen, &v) == 0 &&
		    name_is(b + pos, nlen, "content-transfer-encoding");
		if (cte && !*cte_done && out_str(w, QP_CTE) == -1)
			return -1;
		*cte_done |= cte;
		if (!cte && out_put(w, b + pos, end - pos) == -1)
			return -1;
	}
	return 0;
}

/* The repaired copy nm takes m's place (the old spool file goes). */
static void
take_place(struct msg *m, struct msg *nm)
{
	close(m->fd);
	if (m->path != NULL)
		spool_unlink(m->path);
	free(m->path);
	m->fd = nm->fd;
	m->path = nm->path;
	nm->fd = -1;
	nm->path = NULL;
	m->size = nm->size;
	m->header_size = nm->header_size;
	m->body_8bit = nm->body_8bit;
	m->hdr_8bit = nm->hdr_8bit;
	m->max_line = nm->max_line;
}

/* The spool's header block into hdr (blk: a scratch block). 0, or -1 with err. */
static int
read_header(struct intake *in, unsigned char *blk, struct buf *hdr)
{
	const struct msg *m = in->m;
	off_t off;
	ssize_t r;
	int rc = -1;

	if (m->header_size > hdr->max)
		goto big;
	for (off = 0; (uint64_t)off < m->header_size; off += r) {
		if ((r = spool_pread(in, blk, IO_BLOCK, off)) == -1)
			goto out;
		if (r == 0) {
			err_set(in->e, ERR_PERM, CAUSE_IOERR,
			    "cannot read back spool file %s: "
			    "it is shorter than its header block",
			    spool_name(m));
			goto out;
		}
		if ((uint64_t)off + (uint64_t)r > m->header_size)
			r = (ssize_t)(m->header_size - (uint64_t)off);
		if (buf_add(hdr, blk, (size_t)r) == -1)
			goto big;
	}
	rc = 0;
	goto out;
big:
	err_set(in->e, ERR_PERM, CAUSE_DATA, "header block too large to re-encode the body");
out:
	return rc;
}

static int
repair_body(struct intake *in)
{
	struct msg *m = in->m, nm;
	struct intake_opts wo;
	struct intake w;
	struct entity en;
	struct qp q;
	struct buf hdr;
	unsigned char *blk = NULL;
	size_t col = 0, i;
	off_t off;
	ssize_t r;
	int qp, cte_done, utf8 = 1, rc = -1;

	memset(&nm, 0, sizeof(nm));
	nm.fd = -1;
	memset(&w, 0, sizeof(w));
	qp_init(&q);
	/* No max_size: the limit applied to what was read; encoding only makes it longer. */
	memset(&wo, 0, sizeof(wo));
	wo.spool_dir = in->o->spool_dir;
	wo.spool_anon = in->o->spool_anon;
	buf_init(&hdr, MAX_HEADER_BLOCK + 2 * MAX_LINE_OCTETS);
	blk = xmalloc(IO_BLOCK);
	w.o = &wo;
	w.m = &nm;
	w.e = in->e;
	w.out = xmalloc(IO_BLOCK);
	w.outcap = IO_BLOCK;
	if (read_header(in, blk, &hdr) == -1)
		goto out;
	entity_of(&hdr, &en);
	qp = en.text && en.plain;
	if (qp && !en.has_ct && m->body_8bit &&
	    (utf8 = body_utf8(in, (off_t)m->header_size, blk)) == -1)
		goto out;
	if (spool_create(&w) == -1)
		goto out;
	w.in_header = 1;
	if (put_header_again(&w, &hdr, qp, &cte_done) == -1)
		goto out;
	if (qp &&
	    ((!en.has_mv && out_str(&w, "MIME-Version: 1.0\r\n") == -1) ||
		(!en.has_ct && m->body_8bit &&
		    out_str(&w,
			utf8 ? "Content-Type: text/plain; charset=UTF-8\r\n"
			     : "Content-Type: text/plain; charset=ISO-8859-1\r\n") == -1) ||
		(!cte_done && out_str(&w, QP_CTE) == -1)))
		goto out;
	if (out_put(&w, "\r\n", 2) == -1)
		goto out;
	w.in_header = 0;
	nm.header_size = nm.size;
	for (off = (off_t)m->header_size;; off += r) {
		if ((r = spool_pread(in, blk, IO_BLOCK, off)) == -1)
			goto out;
		if (r == 0)
			break;
		for (i = 0; i < (size_t)r; i++)
			if ((qp ? qp_put(&w, &q, blk[i]) : fold_byte(&w, &col, blk[i])) == -1)
				goto out;
	}
	if (flush(&w) == -1)
		goto out;
	if (lseek(nm.fd, 0, SEEK_SET) == -1) {
		err_set(in->e, ERR_PERM, CAUSE_IOERR, "cannot read back spool file %s: %s",
		    spool_name(&nm), strerror(errno));
		goto out;
	}
	take_place(m, &nm);
	m->repairs |= qp ? INTAKE_BODY_QP : INTAKE_BODY_FOLDED;
	rc = 0;
out:
	if (nm.fd != -1)
		close(nm.fd);
	if (nm.path != NULL)
		spool_unlink(nm.path);
	free(nm.path);
	free(w.out);
	free(blk);
	buf_free(&hdr);
	return rc;
}

int
intake_read(int fd, const struct intake_opts *o, struct msg *m, struct err *e)
{
	struct intake in;
	unsigned char *ibuf = NULL;
	ssize_t r;
	size_t i, blk;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	memset(&in, 0, sizeof(in));
	in.o = o;
	in.m = m;
	in.e = e;
	buf_init(&in.hdr, MAX_HEADER_BLOCK);
	addrlist_init(&in.rcpts);
	addrlist_init(&in.ops);
	m->sender = xstrdup(o->sender ? o->sender : "");

	/* Operands first: a bad one fails before anything is created. */
	for (i = 0; i < o->noperands; i++)
		if (add_list(&in, &in.ops, o->operands[i], strlen(o->operands[i]),
			"recipient argument") == -1)
			goto out;
	if (!o->read_rcpts && in.ops.n == 0) {
		no_rcpts(&in);
		goto out;
	}
	if (spool_create(&in) == -1)
		goto out;
	/* A message from -bs or -bd is a file of known size: blocks to match. */
	blk = io_block_for(fd);
	in.outcap = blk;
	in.out = xmalloc(blk);
	ibuf = xmalloc(blk);
	for (;;) {
		r = read(fd, ibuf, blk);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err_set(e, ERR_PERM, CAUSE_IOERR,
			    "cannot read the message from standard input: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (feed(&in, ibuf, (size_t)r) == -1)
			goto out;
	}
	if (finish(&in) == -1)
		goto out;
	if (in.body_max > MAX_LINE_OCTETS && repair_body(&in) == -1)
		goto out;
	if (lseek(m->fd, 0, SEEK_SET) == -1) {
		err_set(e, ERR_PERM, CAUSE_IOERR, "cannot rewind spool file %s: %s", spool_name(m),
		    strerror(errno));
		goto out;
	}
	m->rcpts = in.rcpts.v;
	m->nrcpts = in.rcpts.n;
	addrlist_init(&in.rcpts);
	rc = 0;
out:
	if (rc == -1)
		msg_free(m);
	buf_free(&in.hdr);
	addrlist_free(&in.rcpts);
	addrlist_free(&in.ops);
	free(in.out);
	free(ibuf);
	return rc;
}

void
msg_free(struct msg *m)
{
	if (m->fd != -1)
		close(m->fd);
	if (m->path != NULL)
		spool_unlink(m->path);
	free(m->path);
	free(m->sender);
	xfree_strv(m->rcpts, m->nrcpts);
	free(m->message_id);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

void
msg_release(struct msg *m)
{
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
	free(m->path);
	m->path = NULL;
}

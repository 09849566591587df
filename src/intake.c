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
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "err.h"
#include "intake.h"
#include "rfc5322.h"
#include "util.h"

/* RFC 5322 2.1.1: no line, so no field name, is longer than 998 octets. */
#define FIELD_NAME_MAX	998
/* An added From: keeps its display name short enough for one unfolded line. */
#define FULL_NAME_MAX	(MAX_ADDRESS / 4)
/* RFC 2047 2: an encoded word is at most 75 characters; 45 bytes encode to 60. */
#define EW_CHUNK	45

enum phase {
	PH_HEADER,	/* in the header block */
	PH_MBOX,	/* dropping a leading "From " line */
	PH_BODY,
};

/* What the current header-block line is, as far as its bytes so far tell. */
enum lstate {
	L_START,	/* nothing yet */
	L_NAME,		/* could be a field name */
	L_NAMEWSP,	/* a name then white space: only ':' may follow */
	L_FIELD,	/* a field or a continuation line */
};

enum fkind {
	F_OTHER, F_TO, F_CC, F_BCC, F_RTO, F_RCC, F_RBCC, F_FROM, F_DATE, F_MID,
};

struct field {
	size_t		 start;		/* offsets in the header block */
	size_t		 end;		/* after the last CRLF, continuation lines included */
	size_t		 name_len;
	size_t		 value;		/* after the colon */
	enum fkind	 kind;
	int		 drop;
};

struct intake {
	const struct intake_opts *o;
	struct msg	*m;
	struct err	*e;
	enum phase	 phase;
	enum lstate	 ls;
	size_t		 lines;		/* lines completed in the header phase */
	size_t		 ncr;		/* CRs not yet known to be CRLF or bare */
	struct buf	 hdr;		/* the header block so far, CRLF lines */
	size_t		 line_start;	/* in hdr: where the current line begins */
	char		*out;		/* output block */
	size_t		 outlen;
	int		 in_header;	/* the bytes being output belong to the header block */
	size_t		 col;		/* bytes in the current output line, CR included */
	struct addrlist	 rcpts;
	struct addrlist	 ops;		/* from the operands, added after the headers' */
};

static int
write_all(struct intake *in, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(in->m->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return err_set(in->e, ERR_PERM, CAUSE_IOERR,
			    "cannot write spool file %s: %s", in->m->path, strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
flush(struct intake *in)
{
	int rc = 0;

	if (in->outlen > 0)
		rc = write_all(in, in->out, in->outlen);
	in->outlen = 0;
	return rc;
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
	size_t i, k, j;

	for (i = 0; i < n; i = k) {
		nl = memchr(s + i, '\n', n - i);
		k = nl ? (size_t)(nl - s) : n;
		/* Once a flag is set there is nothing left to look for. */
		if (!m->body_8bit || (in->in_header && !m->hdr_8bit))
			for (j = i; j < k; j++)
				if (s[j] & 0x80) {
					m->body_8bit = 1;
					m->hdr_8bit |= in->in_header;
					break;
				}
		in->col += k - i;
		if (nl != NULL) {
			if (in->col > 0 && in->col - 1 > m->max_line)
				m->max_line = in->col - 1;
			in->col = 0;
			k++;
		}
	}
	m->size += n;
	if (in->o->max_size > 0 && m->size > in->o->max_size)
		return err_set(in->e, ERR_PERM, CAUSE_DATA,
		    "message larger than the limit of %llu bytes (max_message_size)",
		    (unsigned long long)in->o->max_size);
	while (n > 0) {
		k = IO_BLOCK - in->outlen;
		if (k > n)
			k = n;
		memcpy(in->out + in->outlen, s, k);
		in->outlen += k;
		s += k;
		n -= k;
		if (in->outlen == IO_BLOCK && flush(in) == -1)
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
		const char	*name;
		enum fkind	 kind;
	} k[] = {
		{ "to", F_TO }, { "cc", F_CC }, { "bcc", F_BCC },
		{ "resent-to", F_RTO }, { "resent-cc", F_RCC }, { "resent-bcc", F_RBCC },
		{ "from", F_FROM }, { "date", F_DATE }, { "message-id", F_MID },
	};
	size_t i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (name_is(name, n, k[i].name))
			return k[i].kind;
	return F_OTHER;
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
	    tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 60,
	    labs(off) % 60);
	return out_str(in, line);
}

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
	buf_addf(&b, "%lld.%ld.%016llx@%s", (long long)now_s(), (long)getpid(),
	    (unsigned long long)r, msgid_domain(domain));
	return buf_steal(&b);
}

static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			need = 1;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			need = 2;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			need = 3;
		else
			return 0;
		for (k = 1; k <= need; k++)
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return 0;
		i += need + 1;
	}
	return 1;
}

static void
base64(struct buf *b, const unsigned char *s, size_t n)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		buf_addc(b, a[v >> 18]);
		buf_addc(b, a[(v >> 12) & 63]);
		buf_addc(b, a[(v >> 6) & 63]);
		buf_addc(b, a[v & 63]);
	}
	if (i < n) {
		v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
		buf_addc(b, a[v >> 18]);
		buf_addc(b, a[(v >> 12) & 63]);
		buf_addc(b, i + 1 < n ? a[(v >> 6) & 63] : '=');
		buf_addc(b, '=');
	}
}

/*
 * The display name for an added From: as atoms when it is plain, as a quoted string when
 * it has specials, as RFC 2047 encoded words when it has 8-bit bytes (UTF-8, or Latin-1 as
 * atd and mutt users still send). Controls become spaces; the name is capped.
 */
static void
display_name(struct buf *b, const char *name)
{
	unsigned char s[FULL_NAME_MAX];
	size_t n = 0, i, k;
	int eight = 0, special = 0;
	const char *cs;

	for (; *name == ' ' || *name == '\t'; name++)
		;
	for (i = 0; name[i] != '\0' && n < sizeof(s); i++) {
		s[n] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? ' ' : name[i];
		eight |= s[n] >= 0x80;
		n++;
	}
	/* Do not cut a UTF-8 character in two. */
	if (name[i] != '\0')
		while (n > 0 && (s[n - 1] & 0xc0) == 0x80)
			n--;
	if (n > 0 && name[i] != '\0' && s[n - 1] >= 0xc0)
		n--;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] < 0x80 && strchr("!#$%&'*+-/=?^_`{|}~", s[i]) == NULL &&
		    !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			special = 1;
	if (eight) {
		cs = utf8_valid(s, n) ? "UTF-8" : "ISO-8859-1";
		for (i = 0; i < n; i = k) {
			k = i + EW_CHUNK < n ? i + EW_CHUNK : n;
			while (k < n && k > i + 1 && (s[k] & 0xc0) == 0x80)
				k--;
			buf_addf(b, "%s=?%s?B?", i > 0 ? "\r\n " : "", cs);
			base64(b, s + i, k - i);
			buf_addstr(b, "?=");
		}
	} else if (special) {
		buf_addc(b, '"');
		for (i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_addc(b, '\\');
			buf_addc(b, (char)s[i]);
		}
		buf_addc(b, '"');
	} else
		buf_add(b, s, n);
}

static int
add_from(struct intake *in)
{
	const char *addr = in->o->from_addr, *p;
	struct buf b;
	int rc;

	/* The caller always gives an address; a missing or unsafe one adds no header. */
	if (addr == NULL || *addr == '\0')
		return 0;
	for (p = addr; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	buf_init(&b, MAX_HEADER_FIELD);
	buf_addstr(&b, "From: ");
	if (in->o->full_name != NULL)
		display_name(&b, in->o->full_name);
	if (b.len > strlen("From: "))
		buf_addf(&b, " <%s>\r\n", addr);
	else
		buf_addf(&b, "%s\r\n", addr);
	rc = out_put(in, b.data, b.len);
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
	int resent = 0, has_from = 0, has_date = 0, rc = -1;
	struct msg *m = in->m;

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
	for (i = 0; i < nf; i++) {
		resent |= f[i].kind == F_RTO || f[i].kind == F_RCC || f[i].kind == F_RBCC;
		has_from |= f[i].kind == F_FROM;
		has_date |= f[i].kind == F_DATE;
		/* A Message-ID with no usable id is replaced by one that has. */
		if (f[i].kind == F_MID && m->message_id == NULL)
			m->message_id = parse_msgid(b + f[i].value, f[i].end - f[i].value);
		if (f[i].kind == F_MID && m->message_id == NULL)
			f[i].drop = 1;
	}
	/* RFC 5322 3.6.6 as sendmail applies it: a resent message goes to the Resent-*. */
	for (i = 0; in->o->read_rcpts && i < nf; i++) {
		if (resent ? f[i].kind != F_RTO && f[i].kind != F_RCC && f[i].kind != F_RBCC :
		    f[i].kind != F_TO && f[i].kind != F_CC && f[i].kind != F_BCC)
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
	for (i = 0; i < nf; i++)
		if (!f[i].drop && out_put(in, b + f[i].start, f[i].end - f[i].start) == -1)
			goto out;
	if (!has_from && add_from(in) == -1)
		goto out;
	if (!has_date && add_date(in) == -1)
		goto out;
	if (m->message_id == NULL) {
		m->message_id = new_msgid(in->o->domain);
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
	if (in->ls != L_FIELD && in->hdr.len - in->line_start >= FIELD_NAME_MAX)
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

/* mkdir -p with mode 0700 for what it creates; existing directories are left as they are. */
static int
mkdir_p(const char *dir)
{
	char *p = xstrdup(dir), *s;
	struct stat st;
	int rc = -1;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (s[-1] != '/') {
			char save = *s;

			*s = '\0';
			if (mkdir(p, 0700) == -1 && errno != EEXIST &&
			    (stat(p, &st) == -1 || !S_ISDIR(st.st_mode)))
				goto out;
			*s = save;
		}
		if (*s == '\0')
			break;
	}
	if (stat(dir, &st) == -1)
		goto out;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto out;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

static int
spool_create(struct intake *in)
{
	const char *dir = in->o->spool_dir;
	struct buf path;
	int rc = -1;

	buf_init(&path, 4096);
	if (dir == NULL || *dir == '\0' || buf_addf(&path, "%s/tmp.XXXXXX", dir) == -1) {
		err_set(in->e, ERR_PERM, CAUSE_CANTCREAT, "bad spool directory name '%.200s'",
		    dir ? dir : "");
		goto out;
	}
	if (mkdir_p(dir) == -1) {
		err_set(in->e, ERR_PERM, CAUSE_CANTCREAT,
		    "cannot create spool directory %s: %s (create it writable by uid %ld, "
		    "or set queue_dir in sendmail.conf)", dir, strerror(errno), (long)getuid());
		goto out;
	}
	/* mkostemp: O_CREAT|O_EXCL, mode 0600 whatever the umask. */
	if ((in->m->fd = mkostemp(path.data, O_CLOEXEC)) == -1) {
		err_set(in->e, ERR_PERM, CAUSE_CANTCREAT,
		    "cannot create a spool file in %s: %s (it must be writable by uid %ld, "
		    "or set queue_dir in sendmail.conf)", dir, strerror(errno), (long)getuid());
		goto out;
	}
	in->m->path = buf_steal(&path);
	rc = 0;
out:
	buf_free(&path);
	return rc;
}

int
intake_read(int fd, const struct intake_opts *o, struct msg *m, struct err *e)
{
	struct intake in;
	unsigned char *ibuf = NULL;
	ssize_t r;
	size_t i;
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
	in.out = xmalloc(IO_BLOCK);
	ibuf = xmalloc(IO_BLOCK);
	for (;;) {
		r = read(fd, ibuf, IO_BLOCK);
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
	if (lseek(m->fd, 0, SEEK_SET) == -1) {
		err_set(e, ERR_PERM, CAUSE_IOERR, "cannot rewind spool file %s: %s", m->path,
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
		unlink(m->path);
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

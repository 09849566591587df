/*
 * rfc2047.c: encoded words, display names, and the header downgrade. See rfc2047.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/path.h"
#include "message/mailbox.h"
#include "message/rfc2047.h"
#include "message/rfc5322.h"
#include "base/file.h"
#include "base/mem.h"

int
rfc2047_utf8_valid(const unsigned char *s, size_t n)
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

static int
base64(struct buf *b, const unsigned char *s, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	size_t i;
	uint32_t v;
	int r = 0;

	for (i = 0; i + 2 < n && r == 0; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		q[0] = a[v >> 18];
		q[1] = a[(v >> 12) & 63];
		q[2] = a[(v >> 6) & 63];
		q[3] = a[v & 63];
		r = buf_add(b, q, 4);
	}
	if (r == 0 && i < n) {
		v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
		q[0] = a[v >> 18];
		q[1] = a[(v >> 12) & 63];
		q[2] = i + 1 < n ? a[(v >> 6) & 63] : '=';
		q[3] = '=';
		r = buf_add(b, q, 4);
	}
	return r;
}

int
rfc2047_encode(struct buf *b, const unsigned char *s, size_t n, const char *sep)
{
	const char *cs = rfc2047_utf8_valid(s, n) ? "UTF-8" : "ISO-8859-1";
	int utf8 = cs[0] == 'U';
	/* Bytes per word, around the 7 of =? ?B? ?=: 45 for UTF-8, 42 for ISO-8859-1. */
	size_t chunk = (MAX_ENCODED_WORD - 7 - strlen(cs)) / 4 * 3;
	size_t i, k;
	int r = 0;

	for (i = 0; i < n && r == 0; i = k) {
		k = i + chunk < n ? i + chunk : n;
		/* Do not cut a UTF-8 character in two: back up to its first byte. */
		while (utf8 && k < n && k > i + 1 && (s[k] & 0xc0) == 0x80)
			k--;
		r = buf_addf(b, "%s=?%s?B?", i > 0 ? sep : "", cs);
		if (r == 0)
			r = base64(b, s + i, k - i);
		if (r == 0)
			r = buf_addstr(b, "?=");
	}
	return r;
}

int
rfc2047_phrase(struct buf *b, const char *name, size_t max)
{
	unsigned char *s;
	size_t n = 0, i;
	int eight = 0, special = 0, r;

	s = xmalloc(max + 1);
	for (; *name == ' ' || *name == '\t' || *name == '\r' || *name == '\n'; name++)
		;
	for (i = 0; name[i] != '\0' && n < max; i++) {
		s[n] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? ' ' : name[i];
		eight |= s[n] >= 0x80;
		n++;
	}
	/* Cut short: do not leave half a UTF-8 character at the end. */
	if (name[i] != '\0') {
		while (n > 0 && (s[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && s[n - 1] >= 0xc0)
			n--;
	}
	while (n > 0 && s[n - 1] == ' ')
		n--;
	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] < 0x80 && strchr("!#$%&'*+-/=?^_`{|}~", s[i]) == NULL &&
		    !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9')))
			special = 1;
	if (eight)
		r = rfc2047_encode(b, s, n, "\r\n ");
	else if (special) {
		r = buf_addc(b, '"');
		for (i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				r |= buf_addc(b, '\\');
			r |= buf_addc(b, (char)s[i]);
		}
		r |= buf_addc(b, '"');
	} else
		r = buf_add(b, s, n);
	free(s);
	return r;
}

static int
has_8bit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

enum fclass { FC_TEXT, FC_ADDR, FC_PARAMS };

static enum fclass
field_class(const char *name, size_t n)
{
	static const char *const addr[] = {
		"from",
		"sender",
		"reply-to",
		"to",
		"cc",
		"bcc",
		"resent-from",
		"resent-sender",
		"resent-reply-to",
		"resent-to",
		"resent-cc",
		"resent-bcc",
		"disposition-notification-to",
		"errors-to",
		"return-receipt-to",
	};
	size_t i;

	for (i = 0; i < sizeof(addr) / sizeof(addr[0]); i++)
		if (strlen(addr[i]) == n && strncasecmp(name, addr[i], n) == 0)
			return FC_ADDR;
	if ((n == 12 && strncasecmp(name, "content-type", n) == 0) ||
	    (n == 19 && strncasecmp(name, "content-disposition", n) == 0))
		return FC_PARAMS;
	return FC_TEXT;
}

/*
 * The value without its folds (CRLF before white space goes) and without the final CRLF.
 * 0, or -1 when it does not fit in out.
 */
static int
unfold(const char *v, size_t n, struct buf *out)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++)
		if (v[i] != '\r' && v[i] != '\n')
			r = buf_addc(out, v[i]);
	while (out->len > 0 && is_wsp(out->data[out->len - 1]))
		out->len--;
	if (out->data != NULL)
		out->data[out->len] = '\0';
	return r;
}

/*
 * Unstructured: from the first word holding an 8-bit byte to the last, the text becomes
 * encoded words (the white space inside goes in with it: white space between encoded words
 * disappears when they are decoded); the ASCII words around it stay as they are.
 */
static int
down_text(const char *v, size_t n, struct buf *out)
{
	size_t a, z;
	int r;

	/* An empty value may have no data at all (NULL): nothing to point into. */
	if (n == 0)
		return buf_addc(out, ' ');
	for (a = 0; a < n && (unsigned char)v[a] < 0x80; a++)
		;
	for (z = n; z > a && (unsigned char)v[z - 1] < 0x80; z--)
		;
	while (a > 0 && !is_wsp(v[a - 1]))
		a--;
	while (z < n && !is_wsp(v[z]))
		z++;
	r = buf_add(out, v, a);
	if (a == 0 || !is_wsp(v[a - 1]))
		r |= buf_addc(out, ' ');
	r |= rfc2047_encode(out, (const unsigned char *)v + a, z - a, "\r\n ");
	r |= buf_add(out, v + z, n - z);
	return r;
}

/* Address fields: mailbox by mailbox, names encoded, addresses as they were (ASCII). */
static int
down_addr(const char *v, size_t n, size_t col, struct buf *out, const char **why)
{
	struct mailbox_list l;
	struct buf one;
	const char *nl;
	size_t i;
	int r, rc = -1;

	buf_init(&one, MAX_HEADER_FIELD);
	if (mailbox_parse(v, n, MAX_RECIPIENTS, &l) == -1) {
		*why = "an address field that has 8-bit bytes and cannot be parsed";
		goto out;
	}
	for (i = 0; i < l.n; i++)
		if (has_8bit(l.v[i].addr, strlen(l.v[i].addr))) {
			*why = "an address that is not ASCII";
			goto out;
		}
	r = buf_addc(out, ' ');
	col++;
	for (i = 0; i < l.n && r == 0; i++) {
		buf_reset(&one);
		if (mailbox_format(&one, l.v[i].name, l.v[i].addr) == -1) {
			*why = "an address field that grows too long";
			goto out;
		}
		if (i > 0) {
			/* One mailbox per line once the line is long. */
			if (col + 2 + one.len > 76) {
				r |= buf_addstr(out, ",\r\n ");
				col = 1;
			} else {
				r |= buf_addstr(out, ", ");
				col += 2;
			}
		}
		r |= buf_add(out, one.data, one.len);
		/* An encoded name may have been folded: count from its last line. */
		if ((nl = memrchr(one.data, '\n', one.len)) != NULL)
			col = one.len - (size_t)(nl - one.data) - 1;
		else
			col += one.len;
	}
	if (r != 0) {
		*why = "a header field that grows too long";
		goto out;
	}
	rc = 0;
out:
	mailbox_list_free(&l);
	buf_free(&one);
	return rc;
}

/*
 * Content-Type and Content-Disposition: a parameter value with 8-bit bytes, quoted or
 * not, becomes one quoted run of encoded words; the rest of the field stays as it was.
 */
static int
down_params(const char *v, size_t n, struct buf *out)
{
	struct buf text;
	size_t i = 0, k;
	int r = 0;

	buf_init(&text, MAX_HEADER_FIELD);
	while (i < n && r == 0) {
		if (v[i] == '"') {
			buf_reset(&text);
			for (k = i + 1; k < n && v[k] != '"'; k++) {
				if (v[k] == '\\' && k + 1 < n)
					k++;
				r |= buf_addc(&text, v[k]);
			}
			if (has_8bit(text.data, text.len)) {
				r |= buf_addc(out, '"');
				r |= rfc2047_encode(out, (unsigned char *)text.data, text.len,
				    " ");
				r |= buf_addc(out, '"');
			} else
				r |= buf_add(out, v + i, (k < n ? k + 1 : n) - i);
			i = k < n ? k + 1 : n;
		} else if (v[i] == '=' && i + 1 < n && v[i + 1] != '"') {
			for (k = i + 1; k < n && !is_wsp(v[k]) && v[k] != ';'; k++)
				;
			r |= buf_addc(out, '=');
			if (has_8bit(v + i + 1, k - i - 1)) {
				r |= buf_addc(out, '"');
				r |= rfc2047_encode(out, (const unsigned char *)v + i + 1,
				    k - i - 1, " ");
				r |= buf_addc(out, '"');
			} else
				r |= buf_add(out, v + i + 1, k - i - 1);
			i = k;
		} else
			r |= buf_addc(out, v[i++]);
	}
	buf_free(&text);
	/* Stray 8-bit bytes outside any value: as text. */
	return r;
}

int
rfc2047_downgrade_field(const char *f, size_t n, struct buf *out, const char **why)
{
	struct buf val, tmp;
	const char *v;
	size_t nlen;
	int r, rc = -1;

	buf_init(&val, MAX_HEADER_FIELD);
	buf_init(&tmp, MAX_HEADER_FIELD * 2);
	if (rfc5322_field_name(f, n, &nlen, &v) == -1) {
		*why = "a header line that is not a field";
		goto out;
	}
	/* What fails below, unless down_addr says otherwise. */
	*why = "a header field that grows too long";
	r = unfold(v, n - (size_t)(v - f), &val);
	r |= buf_add(out, f, nlen);
	r |= buf_addc(out, ':');
	if (r != 0)
		goto out;
	switch (field_class(f, nlen)) {
	case FC_ADDR:
		if (down_addr(val.data, val.len, nlen + 1, out, why) == -1)
			goto out;
		break;
	case FC_PARAMS:
		if (down_params(val.data, val.len, &tmp) == -1)
			goto out;
		if (has_8bit(tmp.data, tmp.len)) {
			buf_reset(&val);
			if (buf_add(&val, tmp.data, tmp.len) == -1)
				goto out;
			buf_reset(&tmp);
			if (down_text(val.data, val.len, &tmp) == -1)
				goto out;
		}
		if (buf_add(out, tmp.data, tmp.len) == -1)
			goto out;
		break;
	case FC_TEXT:
		if (down_text(val.data, val.len, out) == -1)
			goto out;
		break;
	}
	if (buf_add(out, "\r\n", 2) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&val);
	buf_free(&tmp);
	return rc;
}

/*
 * A new temporary file in dir (NULL or "": $TMPDIR, else /tmp), already unlinked. The
 * descriptor, or -1 with err (TEMP: the next attempt may have another TMPDIR).
 */
static int
tmp_open(const char *dir, struct err *e)
{
	const char *what = "the temporary directory";
	char *path = NULL;
	int fd;

	if (dir == NULL || *dir == '\0') {
		dir = getenv("TMPDIR");
		what = "TMPDIR";
	}
	if (dir == NULL || *dir != '/')
		dir = "/tmp";
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) != -1)
		goto out;
	if ((path = path_fmt("%s/mailout-7bit.XXXXXX", dir)) == NULL) {
		err_set(e, ERR_TEMP, CAUSE_IOERR,
		    "cannot write a 7-bit copy of the message "
		    "headers: %s is too long (%zu bytes, %.40s...) for a file name in it",
		    what, strlen(dir), dir);
		goto out;
	}
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR,
		    "cannot write a 7-bit copy of the message "
		    "headers in %s: %s",
		    dir, strerror(errno));
		goto out;
	}
	unlink(path);
out:
	free(path);
	return fd;
}

/* The header block of fd, up to and including the empty line, into hdr. */
static int
read_header(int fd, struct buf *hdr, struct err *e)
{
	char block[IO_BLOCK];
	const char *end;
	ssize_t r;
	off_t off = 0;

	for (;;) {
		if (hdr->len >= 2 && memcmp(hdr->data, "\r\n", 2) == 0) {
			hdr->len = 2;
			return 0;
		}
		if (hdr->len > 0 && (end = memmem(hdr->data, hdr->len, "\r\n\r\n", 4)) != NULL) {
			hdr->len = (size_t)(end - hdr->data) + 4;
			return 0;
		}
		do
			r = pread(fd, block, sizeof(block), off);
		while (r == -1 && errno == EINTR);
		if (r == -1)
			return err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot read the spool file: %s",
			    strerror(errno));
		if (r == 0)
			return err_set(e, ERR_PERM, CAUSE_DATA,
			    "the message has no end of header");
		if (buf_add(hdr, block, (size_t)r) == -1)
			return err_set(e, ERR_PERM, CAUSE_DATA, "the header block is too large");
		off += r;
	}
}

int
rfc2047_downgrade(int fd, const char *tmpdir, struct err *e)
{
	struct buf hdr, out;
	char block[IO_BLOCK];
	const char *why = NULL, *nl;
	size_t pos, end, nlen;
	const char *v;
	off_t off;
	ssize_t r;
	int nfd = -1, ret = -1;

	buf_init(&hdr, MAX_HEADER_BLOCK + IO_BLOCK);
	buf_init(&out, MAX_HEADER_BLOCK * 4);
	if (read_header(fd, &hdr, e) == -1)
		goto out;
	for (pos = 0; pos + 2 < hdr.len; pos = end) {
		/* A field and its continuation lines. */
		end = pos;
		do {
			nl = memchr(hdr.data + end, '\n', hdr.len - end);
			end = nl != NULL ? (size_t)(nl - hdr.data) + 1 : hdr.len;
		} while (end < hdr.len && is_wsp(hdr.data[end]));
		if (!has_8bit(hdr.data + pos, end - pos)) {
			if (buf_add(&out, hdr.data + pos, end - pos) == -1)
				break;
			continue;
		}
		if (rfc2047_downgrade_field(hdr.data + pos, end - pos, &out, &why) == -1) {
			/* The whole block, not this field, is too large: said below. */
			if (buf_failed(&out))
				break;
			if (rfc5322_field_name(hdr.data + pos, end - pos, &nlen, &v) == -1)
				nlen = 0;
			err_set(e, ERR_PERM, CAUSE_DATA,
			    "the relay does not support SMTPUTF8 and "
			    "the %.*s header cannot do without it: %s",
			    (int)(nlen < 64 ? nlen : 64), hdr.data + pos, why);
			goto out;
		}
	}
	if (buf_add(&out, "\r\n", 2) == -1) {
		err_set(e, ERR_PERM, CAUSE_DATA, "the header block is too large");
		goto out;
	}
	if ((nfd = tmp_open(tmpdir, e)) == -1)
		goto out;
	if (write_all(nfd, out.data, out.len) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR,
		    "cannot write a 7-bit copy of the message "
		    "headers: %s",
		    strerror(errno));
		goto out;
	}
	for (off = (off_t)hdr.len;; off += r) {
		do
			r = pread(fd, block, sizeof(block), off);
		while (r == -1 && errno == EINTR);
		if (r == 0)
			break;
		if (r == -1 || write_all(nfd, block, (size_t)r) == -1) {
			err_set(e, ERR_TEMP, CAUSE_IOERR,
			    "cannot copy the message for a 7-bit "
			    "header: %s",
			    strerror(errno));
			goto out;
		}
	}
	if (lseek(nfd, 0, SEEK_SET) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot rewind the 7-bit copy: %s",
		    strerror(errno));
		goto out;
	}
	ret = nfd;
	nfd = -1;
out:
	if (nfd != -1)
		close(nfd);
	buf_free(&hdr);
	buf_free(&out);
	return ret;
}

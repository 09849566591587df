/*
 * dsn.c: failure notices (RFC 3464, RFC 3462 multipart/report, RFC 3463 status codes).
 * See dsn.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "message/dsn.h"
#include "base/err.h"
#include "queue/queue.h"
#include "base/file.h"
#include "base/str.h"

struct out {
	int fd;
	uint64_t size;
	int eight;
};

int
dsn_wanted(const struct queue_meta *m)
{
	const char *n = m->dsn_notify;
	size_t i;
	int want = 0;

	/* RFC 3461 4.1: NOTIFY=NEVER, or a list without FAILURE, asks for no notice. */
	if (m->sender[0] == '\0' || m->notice ||
	    (n != NULL && n[0] != '\0' && strcasestr(n, "FAILURE") == NULL))
		goto out;
	for (i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i].state == QR_FAILED && !m->rcpts[i].notified)
			want = 1;
out:
	return want;
}

static int
put(struct out *o, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			o->eight = 1;
	o->size += n;
	return write_all(o->fd, p, n);
}

static void
date(char *s, size_t n, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	localtime_r(&tt, &tm);
	strftime(s, n, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

static int
is_smtp_reply(const char *r)
{
	return r[0] >= '2' && r[0] <= '5' && r[1] >= '0' && r[1] <= '9' && r[2] >= '0' &&
	    r[2] <= '9' && (r[3] == ' ' || r[3] == '\0');
}

/*
 * RFC 3463 status for a failed recipient: the enhanced code of a 5xx reply ("550 5.1.1
 * ..." -> 5.1.1), else 5.0.0; a recipient that was still being retried when the
 * lifetime ran out (no 5xx) gets 4.4.7, delivery time expired.
 */
static void
status_of(const char *reply, int expired, char *s, size_t n)
{
	size_t len = 0;

	if (is_smtp_reply(reply) && reply[0] == '5' && reply[3] == ' ' && reply[4] == '5' &&
	    reply[5] == '.')
		len = strspn(reply + 4, "0123456789.");
	if (len >= 5 && len < n) {
		memcpy(s, reply + 4, len);
		s[len] = '\0';
	} else if (expired && !(is_smtp_reply(reply) && reply[0] == '5'))
		snprintf(s, n, "4.4.7");
	else
		snprintf(s, n, "5.0.0");
}

/* The whole original, streamed: its lines are CRLF lines already. */
static int
copy_all(struct out *o, int msg_fd)
{
	char block[IO_BLOCK];
	off_t off = 0;
	ssize_t n;
	int ret = 0;

	while (ret == 0 && (n = pread(msg_fd, block, sizeof(block), off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || put(o, block, (size_t)n) == -1)
			ret = -1;
		else
			off += n;
	}
	return ret;
}

/* The original's header block, without the empty line that ends it (bounded). */
static int
copy_headers(struct out *o, int msg_fd)
{
	struct buf b;
	char block[IO_BLOCK];
	const char *end;
	off_t off = 0;
	ssize_t n;
	size_t keep;
	int ret = -1;

	buf_init(&b, MAX_HEADER_BLOCK + sizeof(block));
	while (b.len < MAX_HEADER_BLOCK && (n = pread(msg_fd, block, sizeof(block), off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || buf_add(&b, block, (size_t)n) == -1)
			goto out;
		off += n;
		if (memmem(b.data, b.len, "\r\n\r\n", 4) != NULL)
			break;
	}
	keep = b.len;
	if (b.len >= 2 && memcmp(b.data, "\r\n", 2) == 0)
		keep = 0;
	else if ((end = memmem(buf_cstr(&b), b.len, "\r\n\r\n", 4)) != NULL)
		keep = (size_t)(end - b.data) + 2;
	if (put(o, buf_cstr(&b), keep) == -1)
		goto out;
	/* Cut short (no body, or over the bound): still end on a line break. */
	if (keep > 0 && (keep < 2 || memcmp(b.data + keep - 2, "\r\n", 2) != 0) &&
	    put(o, "\r\n", 2) == -1)
		goto out;
	ret = 0;
out:
	buf_free(&b);
	return ret;
}

int
dsn_write(int out, const struct queue_meta *m, int msg_fd, const struct dsn_opts *o,
    struct queue_meta *n, struct err *e)
{
	struct out w;
	struct buf b;
	const struct queue_rcpt *rc;
	char boundary[80], now[64], arr[64], status[32];
	const char *ret = m->dsn_ret;
	size_t i;
	int full = ret != NULL && streq_ci(ret, "FULL"), bad = 0, rv = -1;
	uint32_t r1 = queue_random(), r2 = queue_random();

	memset(&w, 0, sizeof(w));
	w.fd = out;
	queue_meta_init(n);
	buf_init(&b, MAX_DSN_TEXT);
	snprintf(boundary, sizeof(boundary), "=_mailout_%08X%08X_%s", r1, r2, m->id);
	date(now, sizeof(now), o->now);
	date(arr, sizeof(arr), m->arrival);

	bad |= buf_addf(&b, "Date: %s\r\n", now);
	bad |= buf_addf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", o->domain);
	bad |= buf_addf(&b, "To: <%s>\r\n", m->sender);
	bad |= buf_addf(&b, "Subject: Undelivered Mail Returned to Sender%s\r\n",
	    o->expired ? " (delivery time expired)" : "");
	bad |= buf_addf(&b, "Message-ID: <%08X%08X.notice@%s>\r\n", r2, r1, o->domain);
	if (m->message_id != NULL && m->message_id[0] != '\0')
		bad |= buf_addf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", m->message_id,
		    m->message_id);
	/* RFC 3834: automatic; well-behaved responders will not answer it. */
	bad |= buf_addf(&b, "Auto-Submitted: auto-replied\r\n");
	bad |= buf_addf(&b, "MIME-Version: 1.0\r\n");
	bad |= buf_addf(&b,
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n\r\n",
	    boundary);
	bad |= buf_addf(&b, "This is a MIME-encapsulated message.\r\n\r\n");

	bad |= buf_addf(&b,
	    "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n",
	    boundary);
	bad |= buf_addf(&b, "This is the mail system at host %s.\r\n\r\n", o->domain);
	bad |= buf_addf(&b,
	    "Your message of %s could not be delivered to one or more\r\n"
	    "recipients. ",
	    arr);
	if (o->expired)
		bad |= buf_addf(&b,
		    "It stayed in the queue for %llu days, the longest\r\n"
		    "this system keeps a message, and the relay did not accept it.\r\n",
		    (unsigned long long)(o->lifetime / 86400));
	else
		bad |= buf_addf(&b, "The relay refused it permanently.\r\n");
	if (m->message_id != NULL)
		bad |= buf_addf(&b, "\r\nMessage-ID: <%s>\r\n", m->message_id);
	bad |= buf_addf(&b, "\r\n");
	for (i = 0; i < m->nrcpts; i++) {
		rc = &m->rcpts[i];
		if (rc->state != QR_FAILED || rc->notified)
			continue;
		bad |= buf_addf(&b, "<%s>: %s\r\n", rc->addr, rc->reply[0] ? rc->reply : "failed");
	}
	bad |= buf_addf(&b, "\r\n");

	/* RFC 3464 2.2 per-message fields, then 2.3 per-recipient fields. */
	bad |= buf_addf(&b, "--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary);
	bad |= buf_addf(&b, "Reporting-MTA: dns; %s\r\n", o->domain);
	if (m->dsn_envid != NULL)
		bad |= buf_addf(&b, "Original-Envelope-Id: %s\r\n", m->dsn_envid);
	bad |= buf_addf(&b, "Arrival-Date: %s\r\n", arr);
	for (i = 0; i < m->nrcpts; i++) {
		rc = &m->rcpts[i];
		if (rc->state != QR_FAILED || rc->notified)
			continue;
		status_of(rc->reply, o->expired, status, sizeof(status));
		bad |= buf_addf(&b,
		    "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\n"
		    "Status: %s\r\n",
		    rc->addr, status);
		if (rc->reply[0] != '\0')
			bad |= buf_addf(&b, "Diagnostic-Code: %s; %s\r\n",
			    is_smtp_reply(rc->reply) ? "smtp" : "X-mailout", rc->reply);
		if (m->last_attempt != 0) {
			date(arr, sizeof(arr), m->last_attempt);
			bad |= buf_addf(&b, "Last-Attempt-Date: %s\r\n", arr);
		}
	}
	bad |= buf_addf(&b, "\r\n--%s\r\nContent-Type: %s\r\n\r\n", boundary,
	    full ? "message/rfc822" : "text/rfc822-headers");
	if (bad != 0) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "failure notice too large");
		goto out;
	}
	if (put(&w, b.data, b.len) == -1 ||
	    (full ? copy_all(&w, msg_fd) : copy_headers(&w, msg_fd)) == -1)
		goto io;
	buf_reset(&b);
	if (buf_addf(&b, "\r\n--%s--\r\n", boundary) == -1) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "failure notice too large");
		goto out;
	}
	if (put(&w, b.data, b.len) == -1)
		goto io;

	queue_meta_set(&n->account, m->account);
	queue_meta_set(&n->sender, "");
	queue_meta_add_rcpt(n, m->sender, QR_PENDING, "");
	n->uid = (uint64_t)getuid();
	n->size = w.size;
	n->body_8bit = w.eight;
	for (i = 0; m->sender[i] != '\0'; i++)
		if ((unsigned char)m->sender[i] >= 0x80)
			n->smtputf8 = 1;
	buf_reset(&b);
	if (buf_addf(&b, "%08X%08X.notice@%s", r2, r1, o->domain) == -1 ||
	    (n->message_id = buf_steal(&b)) == NULL) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "failure notice: the domain is too long");
		goto out;
	}
	n->notice = 1;
	n->arrival = o->now;
	n->next_attempt = o->now;
	rv = 0;
	goto out;
io:
	err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot write the failure notice: %s", strerror(errno));
out:
	buf_free(&b);
	return rv;
}

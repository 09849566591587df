/*
 * rfc2047.h: non-ASCII text in header fields as RFC 2047 encoded words, and the downgrade
 * of a message's header block for a relay that does not offer SMTPUTF8.
 *
 * Raw UTF-8 in headers is sent as it is when the relay offers SMTPUTF8 (RFC 6531/6532).
 * When it does not, deliver.c asks rfc2047_downgrade() for a copy of the message in which
 * every header field is 7-bit: unstructured fields (Subject, Comments, X-..., any field
 * not listed below) get the words that hold 8-bit bytes encoded; address fields (From,
 * Sender, Reply-To, To, Cc, Bcc, their Resent- forms, Disposition-Notification-To,
 * Errors-To) are rewritten mailbox by mailbox with encoded display names; Content-Type and
 * Content-Disposition get their 8-bit parameter values as encoded words inside quotes
 * (name="=?UTF-8?B?...?=", the form mail readers decode for attachment names). An address
 * whose own bytes are not ASCII cannot be downgraded: the message then needs SMTPUTF8.
 *
 * Encoded words are B-encoded ("=?UTF-8?B?...?="), at most 75 characters each, never
 * splitting a character. The charset is UTF-8 when the bytes are valid UTF-8, otherwise
 * ISO-8859-1 (the Latin-1 that atd and mutt users still send).
 */
#ifndef MAILOUT_RFC2047_H
#define MAILOUT_RFC2047_H

#include <stddef.h>

#include "base/attr.h"

struct buf;
struct err;

/* 1 if the n bytes are valid UTF-8 (plain ASCII is), else 0. */
int rfc2047_utf8_valid(const unsigned char *s, size_t n);

/*
 * Append s as encoded words separated by sep ("\r\n " folds the field between words;
 * " " keeps them on one line). 0, or -1 when b would grow past its maximum.
 */
int rfc2047_encode(struct buf *b, const unsigned char *s, size_t n, const char *sep) MUST_CHECK;

/*
 * Append a display name: atoms when it is plain, a quoted string when it has specials,
 * encoded words when it has 8-bit bytes. Leading and trailing blanks are dropped,
 * controls (CR and LF among them) become spaces, at most max bytes of it are used.
 * 0, or -1 when b would grow past its maximum.
 */
int rfc2047_phrase(struct buf *b, const char *name, size_t max) MUST_CHECK;

/*
 * One complete header field f (name, value, folds, final CRLF), which has 8-bit bytes,
 * rewritten 7-bit into out (a complete field with its CRLF). Returns 0, or -1 with *why
 * (static text) when it cannot be: a non-ASCII address, an address field that does not
 * parse as mailboxes.
 */
int rfc2047_downgrade_field(const char *f, size_t n, struct buf *out, const char **why) MUST_CHECK;

/*
 * Copy the message in fd (the spool: CRLF lines, header block, empty line, body; read
 * from offset 0 with pread) to a new temporary file in tmpdir (NULL: $TMPDIR or /tmp),
 * unlinked at once, with every header field that has 8-bit bytes downgraded. The body is
 * copied unchanged. Returns the new file's descriptor (caller closes; read it from
 * offset 0), or -1 with err: PERM/CAUSE_DATA naming the field that needs SMTPUTF8,
 * TEMP/CAUSE_IOERR when the copy cannot be written (a temporary directory whose name is
 * too long for a file in it among the reasons).
 */
int rfc2047_downgrade(int fd, const char *tmpdir, struct err *e) MUST_CHECK;

#endif

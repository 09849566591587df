/*
 * mailbox.h: the mailboxes of an address header with their display names, for the header
 * repairs that rewrite From, To and Cc (rewrite_from, rewrite_to) or re-encode their names
 * (the RFC 2047 downgrade). Pure: no I/O.
 *
 * rfc5322.c gives the addresses a message goes to; this gives what a header shows, which a
 * rewrite must keep: "Cron Daemon <root@x>", "root (Cron Daemon)", "\"Doe, J\" <j@x>".
 * The parser is lenient in the way real programs need (missing angle brackets, a comment
 * as the only name) and refuses what it cannot rewrite faithfully (groups, stray
 * specials): a caller then leaves the header as it was written.
 */
#ifndef MAILOUT_MAILBOX_H
#define MAILOUT_MAILBOX_H

#include <stddef.h>

#include "base/attr.h"

struct buf;

struct mailbox {
	char *name; /* display name: the phrase (quotes removed) or else the comment
			   text; NULL if there is none */
	char *addr; /* addr-spec as written, without angle brackets, route or spaces;
			   a bare local name ("root") stays bare */
};

struct mailbox_list {
	struct mailbox *v;
	size_t n;
};

/*
 * Split an address-list header value (folds allowed) into mailboxes. Empty elements are
 * skipped. Returns 0 with out filled (free with mailbox_list_free), or -1 (out empty) for
 * a group ("undisclosed-recipients:;"), an unterminated quote, comment or angle address,
 * an element that is not one mailbox, an address with specials outside quotes that could
 * not be written without its angle brackets ("<a,b@x>", "<u@[192.0.2.1]>"), a NUL byte,
 * or more than max mailboxes.
 */
int mailbox_parse(const char *s, size_t len, size_t max, struct mailbox_list *out) MUST_CHECK;
void mailbox_list_free(struct mailbox_list *l);

/*
 * Append "name <addr>" (name as atoms, a quoted string, or RFC 2047 encoded words when it
 * has 8-bit bytes; see rfc2047_phrase), or the bare addr when name is NULL or blank.
 * Returns 0, or -1 when b would grow past its maximum.
 */
int mailbox_format(struct buf *b, const char *name, const char *addr) MUST_CHECK;

#endif

/*
 * intake.h: read the message on standard input into a private spool file.
 *
 * Constant memory: the header block is held (up to MAX_HEADER_BLOCK), the body is copied
 * in IO_BLOCK pieces. Output in the spool file is canonical: every line ends in exactly one
 * CRLF (LF, CRLF, mixed and bare CR input all handled; a final unterminated line is
 * terminated), not dot-stuffed. A lone "." line is ordinary content. Headers: Bcc and
 * Resent-Bcc removed; Date, Message-ID and From added when missing.
 *
 * Repairs, so that what real programs write is never a reason to fail:
 *   - From (rewrite_from): "local" turns a From that is only a local name (cron's
 *     "root (Cron Daemon)", sudo's "alice", "x@localhost") into "Cron Daemon
 *     <root@local_domain>", keeping the display name; "always" puts rewrite_name
 *     <rewrite_addr> in From and the original, qualified, in Reply-To when the message has
 *     none. "never" leaves From as written.
 *   - To and Cc (map_local, for rewrite_to): local addresses in them are replaced by what
 *     map_local resolves them to; display names are kept. A header with a group, or one
 *     that does not parse as mailboxes, stays as written.
 *   - Lines longer than 998 octets (RFC 5322 2.1.1): a header line is folded at white
 *     space (cut with CRLF SP where it has none). In the body, a single-part text message
 *     (no Content-Type or text/..., no Content-Transfer-Encoding or 7bit/8bit/binary) is
 *     re-encoded as quoted-printable, with MIME-Version, Content-Transfer-Encoding and, for
 *     an 8-bit body without one, Content-Type (charset UTF-8 when the body is valid UTF-8,
 *     else ISO-8859-1) set to match; any other body (multipart, base64...) has its long
 *     lines cut every 998 octets (not inside a UTF-8 character). This takes a second pass
 *     over the spool file, only for such messages. The size after re-encoding is not held
 *     to max_size (the relay's SIZE still is).
 *
 * A message that carries a DKIM-Signature (signed by the caller: PHPMailer, many
 * applications) keeps its header fields as written: no From or To/Cc rewrite, no field
 * added that the signature's h= names (a signed absence), an unparseable Message-ID kept.
 * Its body is untouched unless a line exceeds 998 octets, which SMTP cannot carry: then
 * the repair above happens and m->repairs says so (the caller warns that the signature
 * breaks).
 */
#ifndef MAILOUT_INTAKE_H
#define MAILOUT_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct addrlist;
struct err;

/* rewrite_to: the resolution of one local address (aliases, qualification) into out. */
typedef int (*intake_map_fn)(void *ctx, const char *addr, struct addrlist *out, struct err *e);

struct intake_opts {
	int read_rcpts; /* -t: To, Cc, Bcc (or Resent-* when present) */
	char *const *operands; /* recipient address lists from argv */
	size_t noperands;
	const char *sender; /* envelope sender, decided by the caller; "" = null */
	const char *from_addr; /* address for an added From: header */
	const char *full_name; /* -F: display name for an added From: */
	const char *domain; /* right side of an added Message-ID */
	/* bare names (root) become root@qualify_domain; NULL: keep them bare */
	const char *qualify_domain;
	const char *spool_dir; /* the spool file's directory (created 0700 if missing) */
	int spool_anon; /* spool_dir is a temporary directory ($TMPDIR): the
					   file has no name there (m->path NULL) and is never
					   committed to a queue */
	uint64_t max_size; /* 0: no limit; larger input is CAUSE_DATA */
	unsigned max_rcpts; /* 0: MAX_RECIPIENTS */
	int address_strict;

	enum rewrite_from rewrite_from; /* an existing From: (REWRITE_NEVER is 0) */
	const char *rewrite_addr; /* always: the account's address (an added From too) */
	const char *rewrite_name; /* always: its display name; NULL: the original's */
	const char *local_domain; /* qualifies a local From; NULL: it stays */
	const char *const *local_domains; /* more names of this host (aliases_is_local) */
	intake_map_fn map_local; /* NULL: To and Cc stay as written */
	void *map_ctx;
};

/* What intake changed (struct msg's repairs), for logs and -v. */
#define INTAKE_FROM_QUALIFIED 0x01 /* a local From got the local domain */
#define INTAKE_FROM_REPLACED 0x02 /* rewrite_from = always replaced From */
#define INTAKE_REPLY_TO_ADDED 0x04 /* ... and kept the original in Reply-To */
#define INTAKE_TO_REWRITTEN 0x08 /* rewrite_to changed To/Cc */
#define INTAKE_HEADER_FOLDED 0x10 /* a header line over 998 octets was folded */
#define INTAKE_BODY_QP 0x20 /* long body lines: now quoted-printable */
#define INTAKE_BODY_FOLDED 0x40 /* long body lines: cut at 998 octets */

struct msg {
	int fd; /* spool file, read-write, -1 if none */
	char *path; /* spool file path; NULL for an anonymous file */
	uint64_t size; /* bytes in the spool file */
	uint64_t header_size; /* bytes of the header block incl. the empty line */
	int body_8bit; /* some byte >= 0x80 anywhere */
	int hdr_8bit; /* raw 8-bit in the header block (SMTPUTF8) */
	size_t max_line; /* longest line, without CRLF (after repairs) */
	unsigned repairs; /* INTAKE_* flags */
	int dkim_signed; /* carries a DKIM-Signature: headers kept as written */
	char *sender; /* envelope sender; "" = null sender */
	char **rcpts; /* envelope recipients, deduplicated, in order given */
	size_t nrcpts;
	char *message_id; /* without angle brackets */
};

/*
 * Read all of fd (to end of input, before any network activity) into a new spool file.
 * Returns 0 with m filled, or -1 with err: CAUSE_CANTCREAT/CAUSE_IOERR for the spool,
 * CAUSE_DATA for a header block over the limit, a message over max_size, a bad address
 * in strict mode, or no recipients (CAUSE_USAGE). On failure no spool file is left.
 */
int intake_read(int fd, const struct intake_opts *o, struct msg *m, struct err *e);

/* Close and unlink the spool file (unless msg_release was called) and free. */
void msg_free(struct msg *m);
/* Forget the spool file without unlinking it (it now belongs to the queue). */
void msg_release(struct msg *m);

#endif

/*
 * intake.h: read the message on standard input into a private spool file.
 *
 * Constant memory: the header block is held (up to MAX_HEADER_BLOCK), the body is copied
 * in IO_BLOCK pieces. Output in the spool file is canonical: every line ends in exactly one
 * CRLF (LF, CRLF, mixed and bare CR input all handled; a final unterminated line is
 * terminated), not dot-stuffed. A lone "." line is ordinary content. Headers: Bcc and
 * Resent-Bcc removed; Date, Message-ID and From added when missing.
 */
#ifndef MAILOUT_INTAKE_H
#define MAILOUT_INTAKE_H

#include <stddef.h>
#include <stdint.h>

struct err;

struct intake_opts {
	int		 read_rcpts;	/* -t: To, Cc, Bcc (or Resent-* when present) */
	char *const	*operands;	/* recipient address lists from argv */
	size_t		 noperands;
	const char	*sender;	/* envelope sender, decided by the caller; "" = null */
	const char	*from_addr;	/* address for an added From: header */
	const char	*full_name;	/* -F: display name for an added From: */
	const char	*domain;	/* right side of an added Message-ID */
	const char	*qualify_domain; /* bare names (root) become root@qualify_domain; NULL: keep */
	const char	*spool_dir;	/* directory for the spool file (created 0700 if missing) */
	uint64_t	 max_size;	/* 0: no limit; larger input is CAUSE_DATA */
	unsigned	 max_rcpts;	/* 0: MAX_RECIPIENTS */
	int		 address_strict;
};

struct msg {
	int		 fd;		/* spool file, read-write, -1 if none */
	char		*path;		/* spool file path */
	uint64_t	 size;		/* bytes in the spool file */
	uint64_t	 header_size;	/* bytes of the header block incl. the empty line */
	int		 body_8bit;	/* some byte >= 0x80 anywhere */
	int		 hdr_8bit;	/* raw 8-bit in the header block (SMTPUTF8) */
	size_t		 max_line;	/* longest line, without CRLF */
	char		*sender;	/* envelope sender; "" = null sender */
	char		**rcpts;	/* envelope recipients, deduplicated, in order of appearance */
	size_t		 nrcpts;
	char		*message_id;	/* without angle brackets */
};

/*
 * Read all of fd (to end of input, before any network activity) into a new spool file.
 * Returns 0 with m filled, or -1 with err: CAUSE_CANTCREAT/CAUSE_IOERR for the spool,
 * CAUSE_DATA for a header block over the limit, a message over max_size, a bad address
 * in strict mode, or no recipients (CAUSE_USAGE). On failure no spool file is left.
 */
int	intake_read(int fd, const struct intake_opts *o, struct msg *m, struct err *e);

/* Close and unlink the spool file (unless msg_release was called) and free. */
void	msg_free(struct msg *m);
/* Forget the spool file without unlinking it (it now belongs to the queue). */
void	msg_release(struct msg *m);

#endif

/*
 * dsn.h: failure notices to the sender (RFC 3464 delivery status notifications), as new
 * messages that go through the queue and the relay like any other.
 *
 * Never for the null sender, never about a notice, never when the sender asked for no
 * failure notices (NOTIFY without FAILURE, or NEVER).
 */
#ifndef MAILOUT_DSN_H
#define MAILOUT_DSN_H

#include <stdint.h>

struct err;
struct queue_meta;

struct dsn_opts {
	const char *domain; /* Reporting-MTA; From: MAILER-DAEMON@domain */
	int64_t now;
	int expired; /* recipients failed because queue_lifetime ran out */
	uint64_t lifetime; /* seconds, for the explanation */
};

/* 1 if m has failed recipients without a notice yet and may get one. */
int dsn_wanted(const struct queue_meta *m);

/*
 * Write the notice about m's failed, not yet notified recipients to out (a new spool
 * file: CRLF lines, not dot-stuffed): a multipart/report with an explanation, the
 * message/delivery-status part, and the original headers (or the whole message when
 * the sender asked RET=FULL) read from msg_fd. Fills n (initialised here) as the notice's
 * envelope: null sender, the original sender as its one recipient, Notice set. Returns
 * 0, or -1 with err (CAUSE_IOERR).
 */
int dsn_write(int out, const struct queue_meta *m, int msg_fd, const struct dsn_opts *o,
    struct queue_meta *n, struct err *e);

#endif

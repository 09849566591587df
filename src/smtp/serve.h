/*
 * serve.h: the SMTP server side of `sendmail -bs` (RFC 5321 with PIPELINING, 8BITMIME,
 * SIZE, DSN, SMTPUTF8, ENHANCEDSTATUSCODES), over a struct conn (stdin/stdout through
 * fdstream_new). Only protocol goes to the conn; serve.c writes nothing else anywhere.
 *
 * serve.c delivers nothing itself. Each message, once the client's final "." arrives, is
 * in a private temporary file (mkstemp in tmp_dir, mode 0600, unlinked at once so nothing
 * is left behind even after SIGKILL): every line ends in CRLF, dot-stuffing is undone, the
 * bytes are otherwise as received. For a client that has ended a command line in CRLF, only
 * CRLF "." CRLF ends the data (a dot line after a bare LF or CR, or ending in a bare LF, is
 * data: no SMTP smuggling); for one that has written bare LF throughout, any lone dot
 * line does, as it always did. The submit callback gets the open descriptor at offset
 * 0 and says what became of the message; its answer is the reply to the final dot.
 * The intended callback feeds msg_fd to intake_read() with the RCPTs as operands and
 * read_rcpts = 0, then delivers or queues exactly as a message on standard input.
 *
 * Replies are buffered while more pipelined input is already buffered (RFC 2920) and
 * flushed before serve.c waits for input.
 */
#ifndef MAILOUT_SERVE_H
#define MAILOUT_SERVE_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct err;

/* What the client declared for one transaction (MAIL and RCPT parameters). */
struct serve_params {
	const char *helo; /* HELO/EHLO argument, "" if the client sent neither */
	int esmtp; /* the client said EHLO */
	uint64_t size; /* SIZE= from MAIL, 0 if not given */
	int body_8bit; /* BODY=8BITMIME */
	int smtputf8; /* SMTPUTF8 on MAIL */
	const char *dsn_ret; /* RET=: "FULL", "HDRS" (upper case) or NULL */
	const char *dsn_envid; /* ENVID=, xtext decoded, or NULL */
	char *const *dsn_notify; /* per RCPT: NOTIFY= in upper case, or NULL */
	char *const *dsn_orcpt; /* per RCPT: ORCPT= as sent ("rfc822;a+40b"), or NULL */
};

/* The answer to one message: code 200-599 and one line of text ("2.0.0 Queued as X"). */
struct serve_result {
	int code;
	char text[512]; /* should begin with the enhanced status code; "" = default */
};

/*
 * The message is in msg_fd (read it; do not close it). Fill res: 250 when delivered or
 * safely queued, 4xx when the client should retry, 5xx when it must not. A code outside
 * 200-599 becomes "451 4.3.0". Return 0 to go on with the session, -1 to end it after
 * the reply (the reply is then sent as given, e.g. 421).
 */
typedef int (*serve_submit_fn)(void *ctx, const char *sender, char *const *rcpts, size_t nrcpts,
    int msg_fd, const struct serve_params *p, struct serve_result *res);

/*
 * Optional check of one RCPT (an address from the client, angle brackets removed): fill
 * res with 250 to accept it or 4xx/5xx to refuse it (e.g. an alias loop).
 */
typedef void (*serve_rcpt_fn)(void *ctx, const char *rcpt, struct serve_result *res);

/*
 * AUTH PLAIN or LOGIN (RFC 4954) on the server side: the name and password the client
 * gave. 1 when they are good, 0 when not (535), -1 when they cannot be checked now (454).
 */
typedef int (*serve_auth_fn)(void *ctx, const char *user, const char *password);

/*
 * STARTTLS (RFC 3207) on the server side, after the 220: put TLS under c (conn_swap).
 * 0, or -1 with err (the session ends: the connection's state is unknown).
 */
typedef int (*serve_starttls_fn)(void *ctx, struct conn *c, struct err *e);

/*
 * The client said QUIT: its session is over but for the 221 reply, which is written after
 * this returns (the listener tells its parent the worker is free before the client can
 * see the 221 and come back).
 */
typedef void (*serve_quit_fn)(void *ctx);

struct serve_opts {
	const char *hostname; /* in the greeting and the EHLO reply */
	const char *tmp_dir; /* for message files (made 0700 if missing) */
	uint64_t max_size; /* 0: no limit; advertised as SIZE and enforced */
	unsigned max_rcpts; /* 0: MAX_RECIPIENTS; more get 452 */
	int timeout_s; /* client silent this long: 421 and end (<= 0: never) */
	serve_submit_fn submit; /* required */
	serve_rcpt_fn check_rcpt; /* may be NULL: every well-formed RCPT is accepted */
	serve_rcpt_fn check_sender; /* may be NULL: the same for MAIL FROM (250 takes it) */
	serve_auth_fn auth; /* NULL: no AUTH */
	int auth_offer; /* AUTH before STARTTLS too (the listener: loopback) */
	serve_starttls_fn starttls; /* NULL: no STARTTLS; else offered, and AUTH after it */
	int auth_required; /* MAIL needs a good AUTH first (530) */
	int strict_crlf; /* DATA ends only at CRLF.CRLF (the network listener) */
	serve_quit_fn quit; /* may be NULL */
	const char *who; /* the session in errors; NULL: "-bs" */
	void *ctx; /* passed to the callbacks */
};

/*
 * Run one session on c: greeting, commands until QUIT or end of input. Does not free c.
 * Sets the conn's timeout to timeout_s when that is > 0. Returns 0 after QUIT or when
 * input ends outside DATA (the client may just close; an unfinished MAIL/RCPT is dropped,
 * and the client was never told it was accepted). Returns -1 with err otherwise: the
 * client was silent too long (421 sent; TEMP/CAUSE_TEMP), input ended inside DATA (the
 * partial message is discarded; CAUSE_IOERR), too many bad commands (421 sent;
 * CAUSE_PROTOCOL), a read or write error, or a submit callback that returned -1.
 * Messages answered 250 before that stay submitted.
 */
int serve_run(struct conn *c, const struct serve_opts *o, struct err *e);

#endif

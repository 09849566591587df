/*
 * deliver.h: one connection to an account's relay, ready to take messages.
 *
 * deliver_open connects, reads the greeting, says EHLO, brings up TLS as the account
 * requires and authenticates; then any number of deliver_send calls (the queue runner
 * reuses one session for many messages); deliver_close says QUIT.
 *
 * Time: each reply must arrive whole within the account's timeout, however slowly its
 * bytes trickle in. The connection, TLS, EHLO, AUTH and the first message must be done
 * within session_timeout of the connection, each later message within session_timeout
 * of its start; the time grows by a second for every 10 KiB of the message. Past it the
 * message fails TEMP and deliver_timed_out says so.
 */
#ifndef MAILOUT_DELIVER_H
#define MAILOUT_DELIVER_H

#include "smtp/smtp.h"

struct account;
struct deliver;
struct tls_info;

/* The stages of deliver_open, in this order (TLS where the account has it). */
enum deliver_stage {
	DELIVER_CONNECT, /* the TCP connection */
	DELIVER_TLS, /* implicit TLS, or STARTTLS (the command and the handshake) */
	DELIVER_GREETING, /* the server's 220 */
	DELIVER_EHLO, /* EHLO answered; again over TLS after STARTTLS */
	DELIVER_AUTH, /* logged in, or nothing to log in with */
};

/*
 * What a watcher (deliver_opts.step) is told at the end of each stage: that it passed,
 * or that it failed (err set; deliver_open then returns NULL). A configuration error
 * found before connecting is no stage. Everything points into deliver_open's state:
 * valid during the call only.
 */
struct deliver_step {
	enum deliver_stage stage;
	const char *name; /* "connect", "tls", "greeting", "ehlo", "auth" */
	const char *detail; /* what it showed, one line; "" when it failed */
	const struct err *err; /* NULL: passed; else why (no relay prefix) */
	/* DELIVER_TLS: the handshake as far as it got (the chain, even when rejected) */
	const struct tls_info *tls;
	const struct smtp_caps *caps; /* DELIVER_EHLO passed: what is offered */
	int secure; /* the session runs over TLS */
};

struct deliver_opts {
	int verbose; /* protocol transcript on stderr */
	int look; /* stop before AUTH: --serverinfo sends EHLO, STARTTLS, QUIT */
	/*
	 * Optional: told of each stage (--test, --serverinfo). With it the TLS session
	 * cache is neither read nor written: a watcher sees a full handshake.
	 */
	void (*step)(void *ctx, const struct deliver_step *st);
	void *step_ctx;
};

/*
 * Connect, greet, EHLO, TLS and AUTH as the account says (with look: no AUTH). NULL with
 * err set (classified TEMP/PERM with a cause, prefixed "relay HOST port N: " unless the
 * message already names them) on failure.
 */
struct deliver *deliver_open(const struct account *a, const struct deliver_opts *o, struct err *e);
/*
 * smtp_send on the session, after the one decision that needs the relay's capabilities
 * and the message's format: a message with 8-bit headers (env->smtputf8) to a relay
 * without SMTPUTF8 goes as a copy with 7-bit headers (rfc2047_downgrade). When the copy
 * cannot be made, every recipient carries that failure and nothing is sent.
 */
int deliver_send(struct deliver *d, const struct smtp_envelope *env, int fd,
    struct smtp_rcpt_status *st, struct err *e);
/* 1 if the session's time (session_timeout) ran out: the relay is too slow to use now. */
int deliver_timed_out(const struct deliver *d);
void deliver_close(struct deliver *d);
struct smtp *deliver_smtp(struct deliver *d);
/* "host:port" of the relay, for messages and logs. */
const char *deliver_relay(const struct deliver *d);

#endif

/*
 * smtp.h: the SMTP client engine. It speaks to a struct conn and does no other I/O than
 * reading the message from the descriptor smtp_send is given; it knows nothing of TLS or
 * sockets, nor of the message's headers (a relay without SMTPUTF8 gets a copy with 7-bit
 * headers that the caller made, deliver.c through rfc2047.c).
 *
 * A session: smtp_new -> smtp_greeting -> smtp_ehlo -> [smtp_starttls, swap the conn's
 * stream to TLS, smtp_ehlo again] -> [AUTH via smtp_cmd] -> smtp_send ... -> smtp_quit.
 * Every reply is parsed with hard limits (bounds.h): a code of three digits 2xx-5xx
 * followed by space or '-', the same code on every line; anything else is a protocol error.
 *
 * Secrets never come back: every line sent with redaction (smtp_cmd) and every string
 * given to smtp_secret is cut out of each reply line ("<redacted>") before the line is
 * traced, kept in a struct smtp_reply, quoted in an err or returned, so a relay that
 * echoes the AUTH exchange cannot put a password on stderr, in the queue or in the log.
 */
#ifndef MAILOUT_SMTP_H
#define MAILOUT_SMTP_H

#include <stddef.h>
#include <stdint.h>
#include "base/attr.h"
#include "base/bounds.h"
#include "base/err.h"

struct conn;
struct smtp;

struct smtp_caps {
	int esmtp; /* EHLO was accepted */
	int pipelining;
	int size; /* SIZE offered */
	uint64_t size_max; /* 0: no limit given */
	int eightbitmime;
	int smtputf8;
	int dsn;
	int chunking;
	int enhanced; /* ENHANCEDSTATUSCODES */
	int starttls;
	char auth[512]; /* AUTH mechanisms, upper case, space-separated */
};

struct smtp_reply {
	int code; /* 200..599 */
	char text[MAX_REPLY_TEXT]; /* all lines' texts, joined with "\n", no codes */
};

struct smtp_opts {
	const char *helo; /* name for EHLO/HELO */
	int verbose; /* protocol transcript on stderr */
	int timeout_s; /* each reply whole within this (<= 0: no such limit) */
};

struct smtp_envelope {
	const char *sender; /* "" for the null sender <> */
	char *const *rcpts;
	size_t nrcpts;
	uint64_t size; /* message bytes (CRLF, not dot-stuffed) */
	int body_8bit; /* BODY=8BITMIME when offered */
	int smtputf8; /* needs SMTPUTF8 (8-bit headers): see smtp_send */
	int dkim_signed; /* a downgrade would break the caller's signature */
	const char *dsn_notify; /* NOTIFY= on each RCPT (with DSN); NULL: none */
	const char *dsn_ret; /* RET=FULL|HDRS on MAIL */
	const char *dsn_envid; /* ENVID= on MAIL (xtext-encoded by us) */
};

struct smtp_rcpt_status {
	int code; /* reply code to RCPT, 0 if never sent */
	enum err_kind kind; /* ERR_OK accepted, ERR_TEMP 4xx, ERR_PERM 5xx */
	char reply[512]; /* "550 5.1.1 no such user" */
};

/* Takes ownership of c. Never NULL. */
struct smtp *smtp_new(struct conn *c, const struct smtp_opts *o);
/* Closes the connection without QUIT and frees. NULL is fine. */
void smtp_free(struct smtp *s);
struct conn *smtp_conn(struct smtp *s);

/* Read the 220 greeting. A 4xx/5xx greeting is TEMP/PERM (CAUSE_UNAVAILABLE). */
int smtp_greeting(struct smtp *s, struct err *e);
const char *smtp_greeting_text(const struct smtp *s);
/* EHLO, falling back to HELO on 5xx; fills the capabilities (forgetting old ones). */
int smtp_ehlo(struct smtp *s, struct err *e);
const struct smtp_caps *smtp_caps(const struct smtp *s);

/*
 * Send STARTTLS and read the 220. Any byte received after that reply is a protocol
 * violation (response injection) and fails the session. On success the caller layers
 * TLS over conn_stream(smtp_conn(s)), swaps it in, and calls smtp_ehlo again.
 */
int smtp_starttls(struct smtp *s, struct err *e);

/*
 * Send one line of an AUTH exchange (CRLF added, at most MAX_AUTH_LINE) and read the
 * reply; the caller judges it. With redact set the line carries a secret: the transcript
 * shows "AUTH MECH <redacted>" for an AUTH line and only "<redacted>" for any other line,
 * and the secret (what follows "AUTH MECH ", or the whole line) is cut out of every reply
 * from now on, as with smtp_secret. Returns 0 when a reply was read (whatever its code),
 * -1 on I/O or protocol error (or, not sent, when no more secrets can be kept).
 */
int smtp_cmd(struct smtp *s, const char *line, int redact, struct smtp_reply *r, struct err *e);

/*
 * Keep secret (a password, a token, an encoding of one that the caller sent or might see
 * echoed) to cut out of every reply read from now on. The session's secrets are wiped on
 * smtp_free. "", "=" and "*" hide nothing and are not kept. 0, or -1 with err (PERM) when
 * more than MAX_SCRUB_TEXT bytes of them would be kept.
 */
int smtp_secret(struct smtp *s, const char *secret, struct err *e) MUST_CHECK;

/*
 * Cut the session's secrets out of text (NUL-terminated, in a buffer of size bytes), for
 * words the caller derives from a reply (a SASL mechanism's decoded error). Each run of
 * secret bytes becomes "<redacted>"; what then does not fit in size is dropped.
 */
void smtp_scrub(const struct smtp *s, char *text, size_t size);

/* 1 if every address of env is ASCII: only then can a relay without SMTPUTF8 take it. */
int smtp_envelope_ascii(const struct smtp_envelope *env);

/*
 * Submit one message from the spool file fd (read from offset 0): MAIL, every RCPT and
 * DATA in one write when PIPELINING is offered (groups of at most 100 commands), then the
 * body dot-stuffed in large writes (or BDAT <size> LAST when CHUNKING is offered, sent
 * with the envelope when it is small). st must have env->nrcpts entries and is filled for
 * every recipient: ERR_OK accepted; otherwise its own refusal, or (code 0) why it was not
 * sent, or the failure of the whole transaction. Returns 0 when the server accepted the
 * message for at least one recipient; otherwise -1 with err: TEMP for 4xx and connection
 * failures (also a connection lost before the final reply: the message may have been
 * taken), PERM for 5xx (CAUSE_NOUSER when every recipient was refused permanently,
 * CAUSE_DATA for a refused message or one over the server's SIZE, CAUSE_UNAVAILABLE for
 * MAIL). Our words say what was refused: the sender, the recipients (named), the message
 * (at DATA or at its end), or its size (both sizes, "(SIZE)"); the server's reply is
 * quoted apart in err. With env->smtputf8 set and a relay without SMTPUTF8 nothing is
 * sent (PERM CAUSE_DATA): a caller that can downgrade the headers does so first and
 * clears it. After a failed transaction on a live connection the engine sends RSET itself.
 */
int smtp_send(struct smtp *s, const struct smtp_envelope *env, int fd, struct smtp_rcpt_status *st,
    struct err *e);

/* "250 2.0.0 Ok: queued as X": the relay's reply to the last message it accepted. */
const char *smtp_accepted_reply(const struct smtp *s);

/*
 * 1 if the last smtp_send failed because the session was over before the relay answered
 * MAIL: the connection was closed or reset (an idle timeout), or MAIL got 421. The relay
 * took nothing of that transaction; it may be tried again at once on a new connection.
 */
int smtp_stale(const struct smtp *s);
/* 0 once the session is over (I/O or protocol error, 421, QUIT), else 1. */
int smtp_alive(const struct smtp *s);

int smtp_rset(struct smtp *s, struct err *e);
/* Send QUIT without waiting for the reply (errors are ignored); the session is over. */
void smtp_quit(struct smtp *s);

/*
 * Pure parser of one reply line, for the engine and the unit tests. Returns 0 and sets
 * code, *last (1 for "250 ", 0 for "250-") and *text; -1 if the line is malformed.
 */
int smtp_parse_reply_line(const char *line, size_t len, int *code, int *last, const char **text);

#endif

/*
 * err.h: results that say OK, temporary or permanent, with a cause for the exit code.
 *
 * Every layer reports failure through a struct err. The first error set wins: later
 * err_set() calls on an already failed err are ignored, so the root cause is kept.
 * Our own words go in msg; the server's reply, if any, in reply. main.c alone turns
 * the cause into an exit code.
 */
#ifndef MAILOUT_ERR_H
#define MAILOUT_ERR_H

#include <stdarg.h>
#include "base/bounds.h"

enum err_kind {
	ERR_OK = 0,
	ERR_TEMP, /* may succeed later: queue and retry */
	ERR_PERM, /* will not succeed as is */
};

enum err_cause {
	CAUSE_NONE = 0,
	CAUSE_USAGE, /* 64 EX_USAGE */
	CAUSE_DATA, /* 65 EX_DATAERR: the message is refused */
	CAUSE_NOUSER, /* 67 EX_NOUSER: every recipient refused */
	CAUSE_NOHOST, /* 68 EX_NOHOST: relay host does not exist */
	CAUSE_UNAVAILABLE, /* 69 EX_UNAVAILABLE: relay refuses us, or lacks STARTTLS/AUTH */
	CAUSE_SOFTWARE, /* 70 EX_SOFTWARE: internal error */
	CAUSE_OSERR, /* 71 EX_OSERR: out of memory, fork failed */
	CAUSE_CANTCREAT, /* 73 EX_CANTCREAT: cannot create spool/queue file */
	CAUSE_IOERR, /* 74 EX_IOERR: read/write error on spool, queue, stdin */
	CAUSE_TEMP, /* 75 EX_TEMPFAIL: temporary, not queued */
	CAUSE_PROTOCOL, /* 76 EX_PROTOCOL: the server broke the protocol */
	CAUSE_NOPERM, /* 77 EX_NOPERM: authentication rejected */
	CAUSE_CONFIG, /* 78 EX_CONFIG: configuration error */
};

struct err {
	enum err_kind kind;
	enum err_cause cause;
	int code; /* SMTP reply code, 0 if none */
	char msg[MAX_ERROR_TEXT]; /* our words, one line */
	char reply[MAX_REPLY_TEXT]; /* server's reply, one line, or "" */
};

/* Clear to OK. */
void err_init(struct err *e);

/*
 * Record a failure unless one is already recorded. Returns -1 so callers can write
 * "return err_set(...)". The message is one line: CR/LF and controls become spaces.
 */
int err_set(struct err *e, enum err_kind kind, enum err_cause cause, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int err_vset(struct err *e, enum err_kind kind, enum err_cause cause, const char *fmt, va_list ap);

/* Attach the server's reply (code and text) to the recorded failure. */
void err_reply(struct err *e, int code, const char *text);

/* Prefix the message with context ("account work: "), keeping the cause. */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "msg" or "msg: server said: reply", in buf. */
const char *err_str(const struct err *e, char *buf, size_t len);

int err_failed(const struct err *e);

#endif

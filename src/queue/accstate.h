/*
 * accstate.h: what the queue knows about an account as a whole, one small file per
 * account under the queue directory: QUEUE_DIR/accounts/NAME (NAME made safe by
 * path_name). Today it records a hold: the account failed in a way only a person fixes
 * (authentication rejected, TLS verification, the relay lacks STARTTLS or AUTH, a 5xx
 * greeting, an unreadable secret), when, and the fingerprint of what that person would
 * change (send/held.c makes it). The file is written whole (a new file, fsync, rename)
 * under an exclusive flock on the accounts/ directory; readers need no lock.
 *
 * Format, one "Key: value" per line; unknown keys are ignored, so a later version can
 * add its own (rate limits: "Paused-Until:") without breaking an older reader:
 *   Version: 1
 *   Account: work
 *   Held: the relay rejected the login: server said: 535 5.7.8 ...
 *   Since: 1700000000
 *   Fingerprint: 0123456789abcdef
 */
#ifndef MAILOUT_ACCSTATE_H
#define MAILOUT_ACCSTATE_H

#include <stdint.h>

#include "base/bounds.h"

struct err;
struct queue;

#define ACCSTATE_FP_LEN 16

struct accstate {
	char held[MAX_ERROR_TEXT]; /* "" = not held */
	int64_t since;
	char fingerprint[ACCSTATE_FP_LEN + 1];
};

/* Read the account's state: 1 when the account is held (st filled), else 0 (st empty). */
int accstate_read(const struct queue *q, const char *account, struct accstate *st);

/* Record st for the account, atomically. 0, or -1 with err (the old state stays). */
int accstate_write(const struct queue *q, const char *account, const struct accstate *st,
    struct err *e);

/* Forget the account's state: 1 when there was one, 0 when not, -1 when it stays. */
int accstate_clear(const struct queue *q, const char *account);

#endif

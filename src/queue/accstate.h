/*
 * accstate.h: what the queue knows about an account as a whole, one small file per
 * account under the queue directory: QUEUE_DIR/accounts/NAME (NAME made safe by
 * path_name). Today it records a hold: the account failed in a way only a person fixes
 * (authentication rejected, TLS verification, the relay lacks STARTTLS or AUTH, a 5xx
 * greeting, an unreadable secret), when, and the fingerprint of what that person would
 * change (send/held.c makes it). The file is written whole (a new file, fsync, rename)
 * under an exclusive flock on the accounts/ directory; readers need no lock.
 *
 * It also holds the account's sending windows and pause (send/rate.h): the counters
 * are shared by every process that sends through the account (in system mode, every
 * user's), so they are read, changed and written under the same lock
 * (accstate_lock, accstate_store).
 *
 * Format, one "Key: value" per line; unknown keys are ignored, so a later version can
 * add its own without breaking an older reader:
 *   Version: 2
 *   Account: work
 *   Held: the relay rejected the login: server said: 535 5.7.8 ...
 *   Since: 1700000000
 *   Fingerprint: 0123456789abcdef
 *   Paused-Until: 1700000060          (0 or absent: not paused)
 *   Paused: relay said: 554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExc...
 *   Slots-Second: LAST:COUNT          (one slot: COUNT messages, the newest at LAST)
 *   Slots-Minute: LAST:COUNT LAST:COUNT ...   (the window's slots, oldest first)
 *   Slots-Hour: ...
 *   Slots-Day: ...
 *   Slots-Recipients-Day: ...
 * Only the slots that still count are written (send/rate.c drops the others), at most
 * ACCSTATE_NSLOT a window. Version 1 had one fixed window a limit, "Window-Minute: START
 * COUNT": it is read as one slot whose newest message was at START (the moment the old
 * window ended is the moment that slot leaves).
 */
#ifndef MAILOUT_ACCSTATE_H
#define MAILOUT_ACCSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/bounds.h"

struct err;
struct queue;

#define ACCSTATE_FP_LEN 16
/* Windows: messages per second, minute, hour, day; recipients per day (config.h's order). */
#define ACCSTATE_NWIN 5
/* Slots a window keeps: its period's 60 and the one partly out of it (send/rate.c). */
#define ACCSTATE_NSLOT 61

/* What was counted in one slot of a window: count, the newest of it at last. */
struct accstate_slot {
	int64_t last;
	uint64_t count;
};

/* A sliding window: its slots that still count, oldest first; n == 0: none. */
struct accstate_window {
	size_t n;
	struct accstate_slot slot[ACCSTATE_NSLOT];
};

struct accstate {
	char held[MAX_ERROR_TEXT]; /* "" = not held */
	int64_t since;
	char fingerprint[ACCSTATE_FP_LEN + 1];
	int64_t paused_until; /* 0: not paused */
	char paused[MAX_ERROR_TEXT]; /* why */
	struct accstate_window win[ACCSTATE_NWIN];
};

/*
 * Read the account's state: 1 when the account is held, else 0; st is filled with what
 * the file has (all zero without one).
 */
int accstate_read(const struct queue *q, const char *account, struct accstate *st);

/*
 * Lock the state of every account of the queue (an exclusive flock, waiting for it): a
 * descriptor for accstate_store and accstate_unlock, or -1 (errno set).
 */
int accstate_lock(const struct queue *q);
void accstate_unlock(int lockfd);

/*
 * Record st under the lock taken by accstate_lock. With sync, durable before it returns
 * (a hold); counters are not worth an fsync each. 0, or -1 with err.
 */
int accstate_store(const struct queue *q, int lockfd, const char *account,
    const struct accstate *st, int sync, struct err *e);

/*
 * Change the account's state under the lock: read it, let change edit st (arg is the
 * caller's), store it durably (as accstate_store with sync), unlock. The one way a hold
 * or a pause is recorded without losing the windows other processes count. 0, or -1 with
 * err (the lock or the store; the old state stays).
 */
int accstate_update(const struct queue *q, const char *account,
    void (*change)(struct accstate *st, void *arg), void *arg, struct err *e) MUST_CHECK;

/* Record st for the account, atomically. 0, or -1 with err (the old state stays). */
int accstate_write(const struct queue *q, const char *account, const struct accstate *st,
    struct err *e);

/*
 * Forget the account's hold (its windows and pause stay): 1 when there was one, 0 when
 * not, -1 when it stays.
 */
int accstate_clear(const struct queue *q, const char *account);

#endif

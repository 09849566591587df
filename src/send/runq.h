/*
 * runq.h: queue runs (-q, --queue-run, -qI, the flush after a direct send), the listing
 * (mailq, -bp), removal (--remove), and failure notices for queued messages.
 *
 * A run takes entries oldest first, each under its lock (a locked entry is skipped: a
 * concurrent run has it), offers its pending recipients through send.c, and then
 * records the outcome: delivered entries are removed; refused recipients get a failure
 * notice; entries still pending get their next attempt (backoff with jitter: a minute,
 * doubling, at most an hour); entries older than queue_lifetime are expired: their
 * sender gets a notice and the entry moves to failed/. With parallel set, the entries
 * of each account are worked on by a child process of their own, so a relay that hangs
 * holds up only its own account.
 *
 * Binding and holds (held.h): an entry goes only through the account it was accepted
 * for, as it was then; an account that is gone or changed, or a -C file other than the
 * run's, holds the entry with the reason. An entry of a held account is not tried until
 * the account's fingerprint changes, unless release is set (a person ran -q, --release).
 */
#ifndef MAILOUT_RUNQ_H
#define MAILOUT_RUNQ_H

#include <stddef.h>
#include <stdio.h>

struct config;
struct deliver_opts;
struct err;
struct queue;
struct queue_meta;
struct send_ctx;

struct runq_opts {
	int all; /* every entry (-q, -qI), not only due */
	const char *match; /* only ids containing this (-qI) */
	const char *account; /* only this account's entries */
	size_t max; /* attempt at most this many (0: all) */
	size_t max_scan; /* look at most at this many (0: all) */
	int parallel; /* one child process per account */
	int cleanup; /* remove old debris (tmp/) first */
	const struct deliver_opts *dopts; /* for sessions the run opens itself */
	int release; /* a person asks: held entries are tried too
						   (-q, --release); else only once their
						   account's fingerprint changed (held.h) */
	const char *config_file; /* the run's -C: entries accepted with
						   another -C file are held (the binding) */
};

struct runq_stats {
	size_t entries; /* in the queue when the run started */
	size_t tried; /* attempted */
	size_t delivered; /* finished: every recipient accepted or notified */
	size_t deferred; /* still queued after an attempt */
	size_t expired; /* moved to failed/ */
	size_t notices; /* failure notices queued */
	size_t busy; /* skipped: locked by another run */
	size_t errors; /* unreadable entries, queue write errors */
	size_t held; /* waiting for a person after the run (held.h) */
};

/* What stays in the queue: for the line after a run. */
struct runq_left {
	size_t queued; /* waiting for their next attempt */
	size_t held; /* waiting for a person */
	int64_t next; /* the earliest next attempt of the queued ones */
};

/*
 * Run the queue. sc may be NULL (the run opens its own sessions) or a context whose open
 * sessions the run reuses (the flush after a direct send); with parallel set, children
 * always open their own. Returns 0 (entries left deferred are not an error), or -1 with
 * err when the queue cannot be read or a -qI match found nothing (CAUSE_USAGE).
 */
int runq_run(const struct config *cfg, struct queue *q, struct send_ctx *sc,
    const struct runq_opts *o, struct runq_stats *st, struct err *e);

/*
 * Queue a failure notice to m's sender about m's failed, not yet notified recipients
 * (if dsn_wanted), reading the original from msg_fd, and mark them notified in m. The
 * notice's id goes to notice_id (QUEUE_ID_LEN + 1 bytes; "" when none was needed).
 * The caller records m (queue_update) and may then send the notice (runq_run, match).
 * 0, or -1 with err.
 */
int runq_notify(const struct config *cfg, struct queue *q, struct queue_meta *m, int msg_fd,
    int expired, char *notice_id, struct err *e);

/*
 * Count the entries left (the caller's own, in system mode). 0, or -1 with err.
 */
int runq_left(struct queue *q, struct runq_left *l, struct err *e);

/*
 * --requeue ID -a ACCOUNT: bind the entry to account (as configured now: its identity
 * and chain; config_file is the run's -C) and clear its hold, with one log line naming
 * both accounts. Only the entry's owner or root. The caller then runs it (match).
 * 0, or -1 with err: CAUSE_USAGE for an unknown id or account, CAUSE_TEMP when busy.
 */
int runq_requeue(const struct config *cfg, struct queue *q, const char *id, const char *account,
    const char *config_file, struct err *e);

/*
 * The listing for mailq / -bp on out: entries waiting for their next attempt, then the
 * held ones apart, each with why and what to do; then cfg's accounts that have sending
 * limits or a pause (rate.h), with their use of each limit. 0, or -1 with err.
 */
int runq_list(const struct config *cfg, struct queue *q, FILE *out, struct err *e);

/*
 * Delete one entry. -1 with err: CAUSE_USAGE for a bad or unknown id, CAUSE_TEMP when a
 * run is delivering it right now.
 */
int runq_remove(struct queue *q, const char *id, struct err *e);

#endif

/*
 * send.h: one delivery attempt of one message through an account and its fallback
 * chain, recipient by recipient. New messages (mode_send) and queue runs both use it, so
 * the rules live in one place:
 *   - only recipients still pending are offered: one already accepted is never sent
 *     again;
 *   - a failure that is not a permanent refusal (no connection, 4xx, TLS or AUTH trouble)
 *     leaves the recipient pending and the next account of the `fallback` chain is tried
 *     with what is still pending;
 *   - a permanent refusal (5xx for the recipient or the message) is final for it.
 * The context caches sessions: one connection per account carries many messages, with
 * RSET between them; an account whose relay cannot be reached is not tried again within
 * the same context, so a run does not wait for a dead relay once per message.
 */
#ifndef MAILOUT_SEND_H
#define MAILOUT_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct account;
struct config;
struct deliver_opts;
struct queue;
struct queue_meta;
struct send_ctx;

struct send_result {
	size_t sent, failed, pending; /* recipients in each state, after */
	size_t sent_now, failed_now; /* changed by this attempt */
	struct err defer; /* why some are still pending (first cause) */
	int queueable; /* a pending one failed in a way worth a retry */
	struct err perm; /* first permanent refusal, if any */
	char relay[300]; /* host:port that accepted recipients, or "" */
	char first_relay[300]; /* host:port of the first account tried */
	const char *account; /* account that accepted recipients, or NULL */
	/*
	 * A sending limit or a quota pause (rate.h) kept some pending: the earliest time one
	 * of the accounts may take them (0: none did). waited_all: no relay was asked at all,
	 * every account tried was over its limit or paused (no attempt to count).
	 */
	int64_t wait_until;
	int waited_all;
};

/* Never NULL. cfg and o must outlive the context. */
struct send_ctx *send_new(const struct config *cfg, const struct deliver_opts *o);
/*
 * The queue whose per-account state holds the sending windows and pauses (rate.h), not
 * owned (NULL: no limits are counted); release: a person asked (sendmail -q), so a pause
 * is ignored. Returns the queue set before.
 */
const struct queue *send_set_queue(struct send_ctx *sc, const struct queue *q, int release);

/* QUIT every open session and free. NULL is fine. */
void send_free(struct send_ctx *sc);

/*
 * Offer m's pending recipients the message in fd (the spool file, read from offset 0)
 * through a, then its fallback chain while some stay pending: for a bound message
 * (m->relay set, held.h) the chain recorded in m, skipping (and logging) a fallback whose
 * identity changed; for an older entry the chain as configured. Updates each recipient's
 * state and reply in m (nothing else in m), logs one line per relay transaction, and
 * fills r. Returns 0 when no recipient is left pending, -1 otherwise.
 */
int send_attempt(struct send_ctx *sc, const struct account *a, struct queue_meta *m, int fd,
    struct send_result *r);

/*
 * Whether a failure is worth keeping the message for: temporary failures, a relay that
 * broke the protocol, and the permanent ones an administrator fixes without the sender's
 * help (held.h: the message is then kept as held).
 */
int send_queueable(const struct err *e);

#endif

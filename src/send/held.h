/*
 * held.h: where a queued message may go (its binding), and the held state: failures
 * that only a person can fix.
 *
 * Binding. A message is accepted for one account; the queue entry records that
 * account's relay identity (host, port, tls mode, user) and its fallback chain with each
 * fallback's identity (held_bind). A queue run sends it only through accounts that still
 * have the recorded identity: an account that is gone or changed holds the entry (runq.c),
 * a fallback that changed is skipped. Nothing ever picks another account for it.
 *
 * Held. Authentication rejected, TLS verification failed, STARTTLS or AUTH missing, a
 * 5xx greeting, an unreadable secret: retrying these without a person only costs the
 * provider failed logins (and may lock the account). With the queue on, the message is
 * kept as held and the account is marked held (queue/accstate.h) with a fingerprint of
 * what a person would change: the account's connection and auth settings and the
 * identity of its secret source (password_file, oauth_token_file, tls files: device,
 * inode, size, mtime; a literal password or a keyring secret: the config file's).
 * While the fingerprint is unchanged, new messages for the account are held without a
 * connection and the timer leaves held entries alone; once it changed, the next run tries
 * once more. `sendmail -q`, `mailout --release` and --store-password retry at once.
 */
#ifndef MAILOUT_HELD_H
#define MAILOUT_HELD_H

#include <stddef.h>

#include "queue/accstate.h"

struct account;
struct config;
struct err;
struct queue;
struct queue_meta;

/* 1 if e is a failure only a person can fix (see above), else 0. */
int held_kind(const struct err *e);

/* What to do about e on account a, one clause ("check the password of ..."), in buf. */
const char *held_fix(const struct account *a, const struct err *e, char *buf, size_t n);

/* a's relay identity, in buf. */
const char *held_identity(const struct account *a, char *buf, size_t n);

/* Record a's identity and its fallback chain (each with its identity) in m. */
void held_bind(const struct config *cfg, const struct account *a, struct queue_meta *m);

/* A -C file as recorded and compared: its real path when it has one (caller frees). */
char *held_config_path(const char *file);

/* The fingerprint of what a person changes to fix a held account. */
void held_fingerprint(const struct account *a, char fp[ACCSTATE_FP_LEN + 1]);

/*
 * Whether account a is held and nothing was changed since: 1 with st filled; 0 when it
 * is not held, or held with another fingerprint (worth one more try).
 */
int held_account(const struct queue *q, const struct account *a, struct accstate *st);

/*
 * Mark a held for reason (with the current fingerprint). One log line when it was not
 * held already with the same reason and fingerprint. Errors are logged only.
 */
void held_record(const struct queue *q, const struct account *a, const char *reason);

/* a works again (or a person asked): forget its hold, with one log line if it had one. */
void held_clear(const struct queue *q, const struct account *a, const char *why);

/*
 * A person changed a's secret (--store-password): forget its hold in the queue of cfg,
 * so that the next run tries it. Best effort.
 */
void held_forget(const struct config *cfg, const struct account *a);

#endif

/*
 * submit.h: the one path every new message takes, whether it came on standard input
 * (sendmail -t, operands) or in a -bs SMTP transaction:
 *
 *   account (-a, else by sender, else the default) -> envelope sender (-f/MAIL FROM,
 *   else the account's from, else the real user; local names qualified) -> intake (the
 *   spool file; headers repaired as the account says) -> aliases and qualification of
 *   local recipients -> delivery through send.c (the account and its fallbacks) -> on a
 *   temporary failure, the queue -> one log line.
 *
 * A struct submit lives for the process: it holds the aliases table (read once) and the
 * relay sessions, so the messages of one -bs session share a connection.
 *
 * Nothing here writes to standard output except --dry-run and -bv, which are asked for;
 * warnings (queued, refused recipients) go to standard error and the log.
 */
#ifndef MAILOUT_SUBMIT_H
#define MAILOUT_SUBMIT_H

#include <stddef.h>
#include <stdio.h>

#include "base/attr.h"
#include "base/err.h"
#include "queue/queue.h"

struct addrlist;
struct config;
struct submit;

struct submit_req {
	const char *account; /* -a; NULL: chosen by sender */
	int sender_set; /* -f/-r given, or MAIL FROM */
	const char *sender; /* "" = the null sender */
	const char *full_name; /* -F */
	int read_rcpts; /* -t */
	char *const *rcpts; /* operands (address lists), or the RCPTs */
	size_t nrcpts;
	const char *dsn_notify; /* -N or NOTIFY=; NULL: the account's */
	const char *dsn_ret; /* -R or RET=; NULL: the account's */
	const char *dsn_envid; /* -V or ENVID= */
	int body_8bit; /* -B8BITMIME or BODY=8BITMIME */
	int fd; /* the message, read to its end */
	int dry_run; /* print envelope and message; send nothing */
	const char *config_file; /* -C: recorded in a queue entry (its binding) */
};

enum submit_outcome {
	SUBMIT_FAILED = 0, /* nothing was delivered or queued: the caller keeps it */
	SUBMIT_SENT, /* every recipient accepted */
	SUBMIT_QUEUED, /* safely in the queue for a later attempt (or held) */
	SUBMIT_PARTIAL, /* some recipients accepted, others refused (err says) */
	SUBMIT_DRY_RUN,
};

struct submit_result {
	enum submit_outcome outcome;
	struct err e; /* why, unless SENT, QUEUED or DRY_RUN */
	int notice; /* PARTIAL: the sender gets a failure notice */
	char queue_id[QUEUE_ID_LEN + 1]; /* QUEUED */
	char message_id[256]; /* "" if intake did not get that far */
	size_t nrcpts, sent, refused;
};

/*
 * A context for cfg (which must outlive it). The aliases file is read here: a syntax
 * error in it is CAUSE_CONFIG (returns NULL with err). Never NULL otherwise.
 */
struct submit *submit_new(const struct config *cfg, int verbose, struct err *e);
void submit_free(struct submit *s);

/*
 * Forget what the messages so far left in s, so that the next ones are treated as in a
 * new process (the listener's workers serve one client after another): the relay
 * sessions (closed with QUIT), the relays found down or over their quota, the domain and
 * config file of the last message. What was made once for every message stays: the
 * aliases, the spool directory, the queue's state on disk.
 */
void submit_reset(struct submit *s);

/* Submit one message. Fills res; returns 0 for SENT, QUEUED, DRY_RUN, else -1. */
int submit_message(struct submit *s, const struct submit_req *r, struct submit_result *res);

/*
 * Where one envelope recipient goes: aliases (for a local address), then a bare name
 * gets default_domain (or the account's domain). Appends to out. 0, or -1 with err
 * (an alias loop, an alias with nothing deliverable).
 */
int submit_resolve(struct submit *s, const char *rcpt, struct addrlist *out, struct err *e);

/*
 * -bv: for each address (lists allowed) print how it resolves on out: alias targets,
 * qualification, then the account and relay a message would take. Returns 0 when every
 * address resolves, else -1 with err for the first one that does not.
 */
int submit_verify(struct submit *s, const char *account, const char *sender, char *const *addrs,
    size_t n, FILE *out, struct err *e);

/*
 * The directory where spool files of s are made, decided (and the queue's directories
 * made) on the first call: the queue's tmp/, or $TMPDIR (else /tmp) where they are
 * anonymous: with queue = off (no queue directory is made at all), and in per-user mode
 * when the user's queue cannot be made (the message is sent; if it cannot go now it is
 * refused with 75, saying there is no queue for this user). 0 with *dir (owned by s), or
 * -1 with err (CANTCREAT) when the name is too long.
 */
int submit_spool_dir(struct submit *s, const char **dir, struct err *e) MUST_CHECK;

/*
 * What dead runs left in the queue's tmp/ (a sendmail that cron killed mid-message): one
 * readdir when there is nothing, and never a live run's file (queue_sweep_dead). Every
 * message does it first, unless submit_set_sweep(s, 0) said the caller does: the
 * listener, whose concurrent sessions would each open and try the lock of every other
 * session's live spool file for every message, sweeps once at start and, after a session
 * dies by a signal (the only way one leaves a file behind), once that file is old enough
 * to be taken (QUEUE_DEAD_AGE); the queue runs sweep too (queue_cleanup).
 */
void submit_sweep(struct submit *s);
void submit_set_sweep(struct submit *s, int on);

/*
 * The queue directory for cfg: queue_dir, else the system queue (root, and everyone in
 * system mode), else the user's. 0 with *dir (caller frees), or -1 with err (CANTCREAT)
 * when the name built from $XDG_STATE_HOME or the home directory is too long.
 */
int submit_queue_dir(const struct config *cfg, char **dir, struct err *e) MUST_CHECK;

#endif

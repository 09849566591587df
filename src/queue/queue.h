/*
 * queue.h: the durable on-disk queue of messages waiting for another attempt.
 *
 * Layout under the queue directory (each directory created 0700 when missing; 2770 in a
 * shared queue, see below):
 *   tmp/		spool files being written by intake, metadata being written; a
 *			process that writes a spool file holds an flock on it until the
 *			file is committed or removed (queue_sweep_dead)
 *   queue/ID.msg	the message (CRLF lines, not dot-stuffed); the entry exists iff this
 *			file exists
 *   queue/ID.meta	its metadata: "Key: value" lines, documented in queue.c
 *   failed/		expired entries (same two files), kept for the administrator
 *
 * An entry is worked on only under an exclusive, non-blocking flock on ID.msg: a run
 * that finds an entry locked skips it, so concurrent runs never send one message twice.
 * Every change of state is a rename, so a crash at any point leaves either no entry or
 * a complete one. IDs sort by the time they were made and are unique: 8 hex digits of
 * seconds, 5 of microseconds, 6 random (QUEUE_ID_LEN upper-case hex digits).
 *
 * A shared queue is the system queue of a setgid install (priv.h): in system mode, or
 * when the queue directory is group-writable and setgid (make install-system makes it
 * root:mailout 2770). There the group of every file is the directory's, files are made
 * 0640 and directories 2770, so that any process holding the group (a user's sendmail,
 * the queue runner) can read what another one wrote; nobody else can. Every function
 * below that touches the disk holds the group for its duration (priv_raise) and only
 * then, so its callers run with the caller's ids.
 */
#ifndef MAILOUT_QUEUE_H
#define MAILOUT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/bounds.h"

struct buf;
struct err;

#define QUEUE_ID_LEN 19
/* Metadata without its message (or a file in tmp/ we cannot open) this old is debris. */
#define QUEUE_ORPHAN_AGE (24 * 60 * 60)
/*
 * A file in tmp/ that no process holds (see queue_sweep_dead) and that was not written
 * for this long is a dead run's: longer than a writer takes from creating its file to
 * locking it.
 */
#define QUEUE_DEAD_AGE 60
/* Backoff: the first retry after a minute, doubling, never more than an hour apart. */
#define QUEUE_BACKOFF_MIN 60

enum queue_rstate {
	QR_PENDING = 0, /* not yet accepted by a relay */
	QR_SENT, /* accepted: never sent again */
	QR_FAILED, /* refused permanently, or expired */
};

struct queue_rcpt {
	char *addr;
	enum queue_rstate state;
	int notified; /* failed, and the sender was told */
	char *reply; /* last reply or error; never NULL */
};

/* The envelope and delivery state of one message: what the metadata file holds. */
struct queue_meta {
	char id[QUEUE_ID_LEN + 1]; /* "" until committed */
	char *account;
	char *sender; /* "" = null sender */
	uint64_t uid; /* of the submitter */
	uint64_t size;
	char *message_id; /* without angle brackets; may be NULL */
	int body_8bit;
	int smtputf8;
	int dkim_signed; /* carries a DKIM-Signature (intake.h) */
	char *dsn_notify; /* NULL = none given */
	char *dsn_ret;
	char *dsn_envid;
	int notice; /* a failure notice: never a notice about it */
	int64_t arrival;
	int64_t last_attempt; /* 0 = never */
	int64_t next_attempt;
	int64_t expired; /* when the lifetime ran out; 0 = not */
	unsigned attempts;
	char *last_error; /* never NULL */
	/* The binding (send.h, send_bind): where the message may go, as at acceptance. */
	char *relay; /* the account's identity; NULL: older entry */
	char **fallbacks; /* "NAME IDENTITY", in chain order */
	size_t nfallbacks;
	char *config; /* the -C file it was accepted with, or NULL */
	char *held; /* why it waits for a person; NULL: not held */
	int64_t held_since;
	int held_binding; /* held because the binding broke */
	struct queue_rcpt *rcpts;
	size_t nrcpts;
};

struct queue {
	char *dir;
	char *tmp; /* dir/tmp */
	char *active; /* dir/queue */
	char *failed; /* dir/failed */
	int shared; /* group-shared queue: files 0640, directories 2770 */
	int unsynced; /* removals since queue/ was last fsync'd (queue_remove) */
};

/* An entry held under its lock. */
struct queue_entry {
	struct queue_meta meta;
	int fd; /* ID.msg, read-only, holding the flock */
};

/*
 * Prepare q for dir. With create set, make the directories (parents too); otherwise a
 * missing directory is fine (an empty queue). Returns 0, or -1 with CAUSE_CANTCREAT (a
 * directory that cannot be made, or a name too long for the entries' files); q is then
 * empty, safe for queue_close.
 */
int queue_open(struct queue *q, const char *dir, int create, struct err *e) MUST_CHECK;
void queue_close(struct queue *q);

/* Metadata: init to empty, add a recipient (copied), free what it owns. */
void queue_meta_init(struct queue_meta *m);
void queue_meta_add_rcpt(struct queue_meta *m, const char *addr, enum queue_rstate st,
    const char *reply);
void queue_meta_set(char **field, const char *value); /* free + copy (NULL ok) */
void queue_meta_add_fallback(struct queue_meta *m, const char *entry); /* copied */
void queue_meta_clear_fallbacks(struct queue_meta *m);
void queue_meta_free(struct queue_meta *m);
size_t queue_meta_count(const struct queue_meta *m, enum queue_rstate st);

/* Pure: format the metadata file (0, or -1 over MAX_QUEUE_META) and parse it back. */
int queue_meta_format(const struct queue_meta *m, struct buf *b);
int queue_meta_parse(const char *text, size_t len, struct queue_meta *m, struct err *e);

/* A new unique, sortable id. */
void queue_new_id(char id[QUEUE_ID_LEN + 1]);
/* 1 if s is syntactically an id (and so safe in a path). */
int queue_valid_id(const char *s);
/* Seconds to wait after the given number of failed attempts (>= 1); rnd gives jitter. */
int64_t queue_backoff(unsigned attempts, uint32_t rnd);
/* A random 32-bit number, for jitter. */
uint32_t queue_random(void);

/*
 * Make a new file in tmp/ for a message we write ourselves (a failure notice), locked
 * (flock) for as long as fd is open. Returns an fd open read-write and *path (caller
 * frees), or -1 with err.
 */
int queue_tmpfile(struct queue *q, char **path, struct err *e);

/* Remove a file of tmp/ that will not be committed (holding the group to do so). */
void queue_discard(struct queue *q, const char *path);

/*
 * Commit the spool file spool_path (in q's tmp/, open as spool_fd) as a new entry
 * described by m; m->id is set. On success the file belongs to the queue (the caller
 * must not unlink it) and the entry is durable. On failure (CAUSE_CANTCREAT or
 * CAUSE_IOERR) nothing of the entry is left in queue/; the spool file is left where
 * it was, for the caller to remove.
 */
int queue_commit(struct queue *q, int spool_fd, const char *spool_path, struct queue_meta *m,
    struct err *e);

/*
 * The ids of the entries in queue/, sorted (oldest first). *ids is NULL when the queue
 * is empty or its directory does not exist. Returns 0, or -1 with CAUSE_IOERR.
 */
int queue_scan(struct queue *q, char ***ids, size_t *nids, struct err *e);

/*
 * A look at queue/ from outside, to know without reading it that nothing has arrived or
 * left there since an earlier look: every rename or unlink of an entry sets the
 * directory's mtime. queue_stamp: 0, or -1 (st unusable) when queue/ cannot be looked at.
 * queue_stamp_same: 1 when now shows queue/ as it was at old, and old was taken long
 * enough after its mtime that no later change can carry the same time (the file system's
 * clock is coarse); else 0. A queue/ that does not exist is the same as itself.
 */
struct queue_stamp {
	int none; /* queue/ does not exist */
	uint64_t dev;
	uint64_t ino;
	int64_t mtime_ns;
	int64_t taken_ms; /* wall clock, when the stamp was taken */
};
int queue_stamp(const struct queue *q, struct queue_stamp *st) MUST_CHECK;
int queue_stamp_same(const struct queue_stamp *old, const struct queue_stamp *now);

/* Read an entry's metadata without locking it (listing, grouping). 0, or -1. */
int queue_read_meta(struct queue *q, const char *id, struct queue_meta *m, struct err *e);

/*
 * Lock an entry without waiting and read its metadata. Returns 1 when locked (qe
 * filled), 0 when another process holds it or it is gone, -1 on error. After -1 with
 * qe->fd != -1 the entry is locked but its metadata is unreadable (only its id is set):
 * it can still be removed. Call queue_unlock in every case.
 */
int queue_lock(struct queue *q, const char *id, struct queue_entry *qe, struct err *e);
/* Write qe's metadata back, atomically. 0, or -1 (the old metadata stays). */
int queue_update(struct queue *q, struct queue_entry *qe, struct err *e);
/* Delete the entry (delivered or removed by the user) and release it. 0, or -1. */
int queue_remove(struct queue *q, struct queue_entry *qe, struct err *e);
/* Move the entry to failed/ with its current metadata and release it. 0, or -1. */
int queue_fail(struct queue *q, struct queue_entry *qe, struct err *e);
/* Release the lock and free. Safe to call twice. */
void queue_unlock(struct queue_entry *qe);

/*
 * Remove the files in tmp/ of runs that died (SIGKILL from cron, a crash): every writer
 * holds an flock on its file while it lives (intake's spool files, queue_tmpfile's), so
 * a file that nobody holds and that was last written more than QUEUE_DEAD_AGE seconds
 * ago (real time) is a leftover. Safe with concurrent runs: a file being written stays,
 * however slowly its writer reads its input. A file this process cannot open (another
 * user's, outside system mode) is left to its owner's runs and to queue_cleanup.
 * Returns how many were removed. Cheap when tmp/ is empty: one readdir.
 */
size_t queue_sweep_dead(struct queue *q);

/*
 * queue_sweep_dead, then debris older than QUEUE_ORPHAN_AGE at now: files in tmp/ this
 * process cannot open to check, metadata in queue/ whose message never arrived. Returns
 * how many.
 */
size_t queue_cleanup(struct queue *q, int64_t now);

#endif

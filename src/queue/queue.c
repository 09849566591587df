/*
 * queue.c: the durable on-disk queue. See queue.h for the layout and the locking rule.
 *
 * Durability rules, all of which the crash tests exercise:
 *   - a name in queue/ only ever points at bytes that were fsync'd first;
 *   - every change of a file is write-to-tmp/ + fsync + rename, never an in-place edit;
 *   - the directory is fsync'd before we report success, so a rename survives power loss;
 *   - the entry's existence is decided by one rename (ID.msg arriving or leaving), and
 *     everything it needs is in place before that rename.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/path.h"
#include "base/priv.h"
#include "queue/queue.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/hooks.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/str.h"

/* Modes in a shared queue (see queue.h); a private queue keeps 0600 files, 0700 dirs. */
/* queue_remove() fsyncs queue/ once per this many removals, and queue_close() the rest. */
#define SYNC_REMOVALS 100
#define SHARED_FILE_MODE 0640
#define SHARED_DIR_MODE 02770

/*
 * dir/name+suffix. queue_open has refused a directory too long for its own entries'
 * names; a longer name (one read from a directory) becomes a name that fails every call
 * it is given to, never a truncated one.
 */
static char *
join(const char *dir, const char *name, const char *suffix)
{
	char *p;

	if ((p = path_fmt("%s/%s%s", dir, name, suffix)) == NULL)
		p = xstrdup("/nonexistent/path-too-long");
	return p;
}

/* The mode of the queue's directories; make_dirs gives it to new ones past the umask. */
static mode_t
dir_mode(const struct queue *q)
{
	return q->shared ? SHARED_DIR_MODE : 0700;
}

/* A file of a shared queue is readable by the group: the next run may be another user's. */
static int
share_file(const struct queue *q, int fd)
{
	return q->shared ? fchmod(fd, SHARED_FILE_MODE) : 0;
}

/* A rename or unlink is durable only once its directory is. */
static int
fsync_dir(const char *dir)
{
	int fd, ret = -1;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto out;
	/* Some file systems cannot fsync a directory (EINVAL); they have nothing to flush. */
	if (fsync(fd) == 0 || errno == EINVAL)
		ret = 0;
	close(fd);
out:
	return ret;
}

int
queue_open(struct queue *q, const char *dir, int create, struct err *e)
{
	struct stat sb;
	int ret = -1;

	memset(q, 0, sizeof(*q));
	priv_raise();
	/* The longest name an entry has: DIR/failed/ID.meta. */
	if (strlen(dir) + sizeof("/failed/") + QUEUE_ID_LEN + sizeof(".meta") > MAX_PATH) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT,
		    "the queue directory name %.64s... is too "
		    "long (%zu bytes, at most %d)",
		    dir, strlen(dir),
		    MAX_PATH - (int)(sizeof("/failed/") + QUEUE_ID_LEN + sizeof(".meta")));
		goto out;
	}
	q->dir = xstrdup(dir);
	q->tmp = join(dir, "tmp", "");
	q->active = join(dir, "queue", "");
	q->failed = join(dir, "failed", "");
	/* setgid and group-writable: what install-system makes, whoever runs us now (root). */
	q->shared = priv_system() ||
	    (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		(sb.st_mode & (S_ISGID | S_IWGRP)) == (S_ISGID | S_IWGRP));
	if (!create) {
		ret = 0;
		goto out;
	}
	if (make_dirs(q->tmp, dir_mode(q)) == -1 || make_dirs(q->active, dir_mode(q)) == -1 ||
	    make_dirs(q->failed, dir_mode(q)) == -1) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT, "cannot create the queue directory %s: %s",
		    dir, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	priv_lower();
	return ret;
}

void
queue_close(struct queue *q)
{
	if (q->unsynced > 0 && q->active != NULL) {
		priv_raise();
		fsync_dir(q->active);
		priv_lower();
	}
	free(q->dir);
	free(q->tmp);
	free(q->active);
	free(q->failed);
	memset(q, 0, sizeof(*q));
}

void
queue_meta_init(struct queue_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->account = xstrdup("");
	m->sender = xstrdup("");
	m->last_error = xstrdup("");
}

void
queue_meta_set(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? xstrdup(value) : NULL;
}

void
queue_meta_add_fallback(struct queue_meta *m, const char *entry)
{
	m->fallbacks = xrealloc(m->fallbacks, (m->nfallbacks + 1) * sizeof(*m->fallbacks));
	m->fallbacks[m->nfallbacks++] = xstrdup(entry);
}

void
queue_meta_clear_fallbacks(struct queue_meta *m)
{
	xfree_strv(m->fallbacks, m->nfallbacks);
	m->fallbacks = NULL;
	m->nfallbacks = 0;
}

void
queue_meta_add_rcpt(struct queue_meta *m, const char *addr, enum queue_rstate st,
    const char *reply)
{
	struct queue_rcpt *r;

	m->rcpts = xrealloc(m->rcpts, (m->nrcpts + 1) * sizeof(*m->rcpts));
	r = &m->rcpts[m->nrcpts++];
	memset(r, 0, sizeof(*r));
	r->addr = xstrdup(addr);
	r->state = st;
	r->reply = xstrdup(reply != NULL ? reply : "");
}

void
queue_meta_free(struct queue_meta *m)
{
	size_t i;

	free(m->account);
	free(m->sender);
	free(m->message_id);
	free(m->dsn_notify);
	free(m->dsn_ret);
	free(m->dsn_envid);
	free(m->last_error);
	free(m->relay);
	free(m->config);
	free(m->held);
	queue_meta_clear_fallbacks(m);
	for (i = 0; i < m->nrcpts; i++) {
		free(m->rcpts[i].addr);
		free(m->rcpts[i].reply);
	}
	free(m->rcpts);
	memset(m, 0, sizeof(*m));
}

size_t
queue_meta_count(const struct queue_meta *m, enum queue_rstate st)
{
	size_t i, n = 0;

	for (i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i].state == st)
			n++;
	return n;
}

static const char *const state_words[] = { "pending", "sent", "failed" };

/* A value on one line: a control character in it would end the line early. */
static int
add_clean(struct buf *b, const char *value)
{
	const unsigned char *p;
	int r = 0;

	for (p = (const unsigned char *)(value != NULL ? value : ""); r == 0 && *p; p++)
		r = buf_addc(b, (*p < 0x20 || *p == 0x7f) ? ' ' : (char)*p);
	return r;
}

static int
field(struct buf *b, const char *key, const char *value)
{
	return buf_addf(b, "%s: ", key) == -1 || add_clean(b, value) == -1 ||
		buf_addc(b, '\n') == -1
	    ? -1
	    : 0;
}

static int
field_num(struct buf *b, const char *key, long long v)
{
	return buf_addf(b, "%s: %lld\n", key, v);
}

/*
 * The metadata file, version 1. One "Key: value" line each (keys are case-insensitive
 * when read, values run to the end of the line and never contain control characters).
 * Unknown keys are ignored by readers, so new keys can be added without a new version.
 *
 *   Version: 1
 *   Id: 65A1B2C30F4231A2B3C          the entry id (also the file name)
 *   Account: work                    account chosen at submission (fallbacks follow it)
 *   Sender: joe@example.com          envelope sender; empty value = null sender <>
 *   Uid: 1000                        real uid of the submitter
 *   Size: 1234                       message bytes (CRLF, not dot-stuffed)
 *   Message-Id: abc@example.com      without angle brackets
 *   Body-8bit: yes|no                send with BODY=8BITMIME
 *   Smtputf8: yes|no                 send with SMTPUTF8
 *   Dkim-Signed: yes                 signed by the caller: a downgrade breaks it (absent: no)
 *   Dsn-Notify: FAILURE,DELAY        DSN parameters given at submission (absent: none)
 *   Dsn-Ret: HDRS
 *   Dsn-Envid: xyz
 *   Notice: yes|no                   this message is a failure notice we generated
 *   Arrival: 1700000000              seconds since the epoch, as are all times below
 *   Attempts: 3                      delivery attempts so far (the first one included)
 *   Last-Attempt: 1700000300         0 = never
 *   Next-Attempt: 1700000540         a run without -q leaves the entry alone until then
 *   Expired: 0                       when queue_lifetime ran out (0 = not yet)
 *   Last-Error: relay ...: 451 ...   why the last attempt did not finish the message
 *   Relay: smtp.example.com:587 tls=starttls user=joe
 *                                    the account's relay identity at acceptance: a run
 *                                    sends only through an account that still has it
 *                                    (absent in entries older than the binding)
 *   Fallback: backup mx.example.net:465 tls=implicit user=joe
 *                                    one per account of the fallback chain at acceptance,
 *                                    in order: name, then its identity
 *   Config: /root/test.conf          the -C file the message was accepted with
 *   Held: account t: 535 ...; fix    waiting for a person: not retried by the timer
 *   Held-Since: 1700000300           when it was held
 *   Held-Binding: yes                held because its account is gone or changed
 *   Recipient: STATE ADDRESS         one per recipient, in order; STATE is pending, sent
 *                                    or failed; the address is the rest of the line
 *   Reply: 250 2.1.5 ok              the last reply for the Recipient line above it
 *   Notified: yes                    failed, and the sender has been sent a notice
 *
 * Reply and Notified belong to the closest Recipient line before them.
 */
int
queue_meta_format(const struct queue_meta *m, struct buf *b)
{
	const struct queue_rcpt *rc;
	size_t i;
	int r = 0;

	r |= field_num(b, "Version", 1);
	r |= field(b, "Id", m->id);
	r |= field(b, "Account", m->account);
	r |= field(b, "Sender", m->sender);
	r |= field_num(b, "Uid", (long long)m->uid);
	/* Unsigned: the reader takes sizes up to UINT64_MAX, and "-1" would not read back. */
	r |= buf_addf(b, "Size: %llu\n", (unsigned long long)m->size);
	if (m->message_id != NULL)
		r |= field(b, "Message-Id", m->message_id);
	r |= field(b, "Body-8bit", m->body_8bit ? "yes" : "no");
	r |= field(b, "Smtputf8", m->smtputf8 ? "yes" : "no");
	if (m->dkim_signed)
		r |= field(b, "Dkim-Signed", "yes");
	if (m->dsn_notify != NULL)
		r |= field(b, "Dsn-Notify", m->dsn_notify);
	if (m->dsn_ret != NULL)
		r |= field(b, "Dsn-Ret", m->dsn_ret);
	if (m->dsn_envid != NULL)
		r |= field(b, "Dsn-Envid", m->dsn_envid);
	r |= field(b, "Notice", m->notice ? "yes" : "no");
	r |= field_num(b, "Arrival", m->arrival);
	r |= field_num(b, "Attempts", m->attempts);
	r |= field_num(b, "Last-Attempt", m->last_attempt);
	r |= field_num(b, "Next-Attempt", m->next_attempt);
	r |= field_num(b, "Expired", m->expired);
	r |= field(b, "Last-Error", m->last_error);
	if (m->relay != NULL)
		r |= field(b, "Relay", m->relay);
	for (i = 0; i < m->nfallbacks; i++)
		r |= field(b, "Fallback", m->fallbacks[i]);
	if (m->config != NULL)
		r |= field(b, "Config", m->config);
	if (m->held != NULL) {
		r |= field(b, "Held", m->held);
		r |= field_num(b, "Held-Since", m->held_since);
		if (m->held_binding)
			r |= field(b, "Held-Binding", "yes");
	}
	for (i = 0; i < m->nrcpts && r == 0; i++) {
		rc = &m->rcpts[i];
		r |= buf_addf(b, "Recipient: %s ", state_words[rc->state]);
		r |= add_clean(b, rc->addr);
		r |= buf_addc(b, '\n');
		if (rc->reply[0] != '\0')
			r |= field(b, "Reply", rc->reply);
		if (rc->state == QR_FAILED && rc->notified)
			r |= field(b, "Notified", "yes");
	}
	return r == 0 ? 0 : -1;
}

static int
parse_yes(const char *v)
{
	return parse_bool(v) == 1;
}

static int
parse_time(const char *v, int64_t *out)
{
	uint64_t u;
	int r;

	if ((r = parse_uint(v, 0, INT64_MAX, &u)) == 0)
		*out = (int64_t)u;
	return r;
}

static int
parse_rcpt(struct queue_meta *m, const char *v)
{
	size_t i, n;
	int r = -1;

	for (i = 0; i < 3 && r == -1; i++) {
		n = strlen(state_words[i]);
		if (strncmp(v, state_words[i], n) == 0 && v[n] == ' ' && v[n + 1] != '\0') {
			queue_meta_add_rcpt(m, v + n + 1, (enum queue_rstate)i, "");
			r = 0;
		}
	}
	return r;
}

/* One line, already split into key and value. */
static int
parse_field(struct queue_meta *m, const char *k, const char *v)
{
	struct queue_rcpt *last = m->nrcpts ? &m->rcpts[m->nrcpts - 1] : NULL;
	uint64_t u;
	int r = 0;

	if (streq_ci(k, "Id")) {
		if (queue_valid_id(v))
			memcpy(m->id, v, QUEUE_ID_LEN + 1);
		else
			r = -1;
	} else if (streq_ci(k, "Account"))
		queue_meta_set(&m->account, v);
	else if (streq_ci(k, "Sender"))
		queue_meta_set(&m->sender, v);
	else if (streq_ci(k, "Uid"))
		r = parse_uint(v, 0, UINT32_MAX, &m->uid);
	else if (streq_ci(k, "Size"))
		r = parse_uint(v, 0, UINT64_MAX, &m->size);
	else if (streq_ci(k, "Message-Id"))
		queue_meta_set(&m->message_id, v);
	else if (streq_ci(k, "Body-8bit"))
		m->body_8bit = parse_yes(v);
	else if (streq_ci(k, "Smtputf8"))
		m->smtputf8 = parse_yes(v);
	else if (streq_ci(k, "Dkim-Signed"))
		m->dkim_signed = parse_yes(v);
	else if (streq_ci(k, "Dsn-Notify"))
		queue_meta_set(&m->dsn_notify, v);
	else if (streq_ci(k, "Dsn-Ret"))
		queue_meta_set(&m->dsn_ret, v);
	else if (streq_ci(k, "Dsn-Envid"))
		queue_meta_set(&m->dsn_envid, v);
	else if (streq_ci(k, "Notice"))
		m->notice = parse_yes(v);
	else if (streq_ci(k, "Arrival"))
		r = parse_time(v, &m->arrival);
	else if (streq_ci(k, "Attempts")) {
		if ((r = parse_uint(v, 0, UINT32_MAX, &u)) == 0)
			m->attempts = (unsigned)u;
	} else if (streq_ci(k, "Last-Attempt"))
		r = parse_time(v, &m->last_attempt);
	else if (streq_ci(k, "Next-Attempt"))
		r = parse_time(v, &m->next_attempt);
	else if (streq_ci(k, "Expired"))
		r = parse_time(v, &m->expired);
	else if (streq_ci(k, "Last-Error"))
		queue_meta_set(&m->last_error, v);
	else if (streq_ci(k, "Relay"))
		queue_meta_set(&m->relay, v);
	else if (streq_ci(k, "Fallback"))
		queue_meta_add_fallback(m, v);
	else if (streq_ci(k, "Config"))
		queue_meta_set(&m->config, v);
	else if (streq_ci(k, "Held"))
		queue_meta_set(&m->held, v);
	else if (streq_ci(k, "Held-Since"))
		r = parse_time(v, &m->held_since);
	else if (streq_ci(k, "Held-Binding"))
		m->held_binding = parse_yes(v);
	else if (streq_ci(k, "Recipient"))
		r = parse_rcpt(m, v);
	else if (streq_ci(k, "Reply") && last != NULL)
		queue_meta_set(&last->reply, v);
	else if (streq_ci(k, "Notified") && last != NULL)
		last->notified = parse_yes(v);
	/* Anything else: a key from a newer version, or Version itself. */
	return r;
}

int
queue_meta_parse(const char *text, size_t len, struct queue_meta *m, struct err *e)
{
	const char *p = text, *end = text + len, *nl, *colon, *v;
	char *line = NULL;
	size_t n, lineno = 0;
	int have_sender = 0, ret = -1;

	queue_meta_init(m);
	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		free(line);
		line = xstrndup(p, n);
		p = nl < end ? nl + 1 : end;
		if (line[0] == '\0')
			continue;
		if (strlen(line) != n || (colon = strchr(line, ':')) == NULL)
			goto bad;
		line[colon - line] = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (parse_field(m, line, v) == -1)
			goto bad;
		if (streq_ci(line, "Sender"))
			have_sender = 1;
	}
	if (!have_sender || m->nrcpts == 0) {
		err_set(e, ERR_PERM, CAUSE_IOERR, "metadata has no %s",
		    have_sender ? "Recipient" : "Sender");
		goto out;
	}
	ret = 0;
	goto out;
bad:
	err_set(e, ERR_PERM, CAUSE_IOERR, "metadata line %zu is malformed", lineno);
out:
	free(line);
	if (ret == -1)
		queue_meta_free(m);
	return ret;
}

static void
random_bytes(void *p, size_t n)
{
	static unsigned long mix;
	unsigned char *c = p;
	size_t i;

	if (getrandom(p, n, GRND_NONBLOCK) != (ssize_t)n) {
		/* No entropy yet (early boot): uniqueness still comes from time and pid. */
		mix = mix * 6364136223846793005UL + (unsigned long)getpid() +
		    (unsigned long)now_ms();
		for (i = 0; i < n; i++)
			c[i] = (unsigned char)(mix >> (8 * (i % 8)));
	}
}

uint32_t
queue_random(void)
{
	uint32_t r;

	random_bytes(&r, sizeof(r));
	return r;
}

void
queue_new_id(char id[QUEUE_ID_LEN + 1])
{
	struct timespec ts;
	unsigned char r[3];

	/* Real time, not now_s(): ids must stay unique and sorted even under a test clock. */
	clock_gettime(CLOCK_REALTIME, &ts);
	random_bytes(r, sizeof(r));
	snprintf(id, QUEUE_ID_LEN + 1, "%08llX%05lX%02X%02X%02X",
	    (unsigned long long)ts.tv_sec & 0xffffffffULL, (unsigned long)(ts.tv_nsec / 1000),
	    r[0], r[1], r[2]);
}

int
queue_valid_id(const char *s)
{
	size_t i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			break;
	return i == QUEUE_ID_LEN && s[i] == '\0';
}

int64_t
queue_backoff(unsigned attempts, uint32_t rnd)
{
	int64_t base = QUEUE_BACKOFF_MIN;
	unsigned i;

	for (i = 1; i < attempts && base < MAX_QUEUE_BACKOFF; i++)
		base *= 2;
	if (base > MAX_QUEUE_BACKOFF)
		base = MAX_QUEUE_BACKOFF;
	/* Up to a fifth earlier, so entries queued together do not retry in lockstep. */
	return base - (int64_t)(rnd % (uint32_t)(base / 5 + 1));
}

int
queue_tmpfile(struct queue *q, char **path, struct err *e)
{
	char *p = join(q->tmp, "nXXXXXX", "");
	int fd;

	priv_raise();
	if ((fd = mkostemp(p, O_CLOEXEC)) == -1) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT, "cannot create a file in %s: %s", q->tmp,
		    strerror(errno));
		free(p);
	} else {
		/* Ours while we live: queue_sweep_dead leaves a held file alone. */
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			/* No flock here (rare): the sweep then spares it for a minute only. */
		}
		*path = p;
	}
	priv_lower();
	return fd;
}

void
queue_discard(struct queue *q, const char *path)
{
	size_t n = strlen(q->tmp);

	/* The group removes only what is in tmp/: never a path from anywhere else. */
	if (strncmp(path, q->tmp, n) != 0 || path[n] != '/' || strchr(path + n + 1, '/'))
		return;
	priv_raise();
	unlink(path);
	priv_lower();
}

/*
 * Write the metadata to tmp/ID.meta, fsync it, and rename it to dstdir/ID.meta. The
 * caller fsyncs dstdir when it needs the rename to be durable.
 */
static int
put_meta(struct queue *q, const struct queue_meta *m, const char *dstdir, struct err *e)
{
	struct buf b;
	char *tmp = join(q->tmp, m->id, ".meta"), *dst = join(dstdir, m->id, ".meta");
	int fd = -1, ret = -1;

	buf_init(&b, MAX_QUEUE_META);
	if (queue_meta_format(m, &b) == -1) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "queue metadata over %d bytes",
		    MAX_QUEUE_META);
		goto out;
	}
	/* Only the holder of the entry writes its metadata: a leftover is a crashed writer's. */
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT, "cannot create %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (share_file(q, fd) == -1 || write_all(fd, b.data, b.len) == -1 || fsync(fd) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, dst) == -1) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT, "cannot rename %s to %s: %s", tmp, dst,
		    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd != -1)
		close(fd);
	if (ret == -1)
		unlink(tmp);
	buf_free(&b);
	free(tmp);
	free(dst);
	return ret;
}

/*
 * Commit order, and what a crash between two steps leaves behind:
 *   1. fsync the spool file        crash: spool file in tmp/ (debris, cleaned after a day)
 *   2. tmp/ID.meta, fsync, rename to queue/ID.meta, fsync queue/
 *                                  crash: queue/ID.meta without ID.msg: not an entry
 *                                  (nothing reads it; cleaned after a day)
 *   3. rename the spool file to queue/ID.msg, fsync queue/
 *                                  the entry exists, complete: its metadata was durable
 *                                  before its name appeared
 * The caller reports success (exit 0) only after step 3, so a crash before it leaves the
 * message with the caller, and a crash after it leaves it in the queue.
 */
int
queue_commit(struct queue *q, int spool_fd, const char *spool_path, struct queue_meta *m,
    struct err *e)
{
	struct stat sb;
	char *meta = NULL, *msg = NULL;
	int tries, ret = -1;

	priv_raise();
	for (tries = 0; tries < 5; tries++) {
		queue_new_id(m->id);
		free(meta);
		free(msg);
		meta = join(q->active, m->id, ".meta");
		msg = join(q->active, m->id, ".msg");
		/* Ids carry 24 random bits per microsecond; this only guards the impossible. */
		if (lstat(msg, &sb) == -1 && lstat(meta, &sb) == -1)
			break;
	}
	if (share_file(q, spool_fd) == -1 || fsync(spool_fd) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot write the spool file %s: %s", spool_path,
		    strerror(errno));
		goto out;
	}
	if (put_meta(q, m, q->active, e) == -1)
		goto out;
	if (fsync_dir(q->active) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot sync %s: %s", q->active,
		    strerror(errno));
		goto undo_meta;
	}
	hooks_crash("commit-meta");
	if (rename(spool_path, msg) == -1) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT, "cannot move %s into the queue: %s",
		    spool_path, strerror(errno));
		goto undo_meta;
	}
	hooks_crash("commit-msg");
	if (fsync_dir(q->active) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot sync %s: %s", q->active,
		    strerror(errno));
		/* We will say "not queued": take the entry back so it cannot be sent later. */
		if (rename(msg, spool_path) == -1)
			unlink(msg);
		goto undo_meta;
	}
	ret = 0;
	goto out;
undo_meta:
	unlink(meta);
out:
	priv_lower();
	if (ret == -1)
		m->id[0] = '\0';
	free(meta);
	free(msg);
	return ret;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
queue_scan(struct queue *q, char ***ids, size_t *nids, struct err *e)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, len;
	int ret = -1;

	*ids = NULL;
	*nids = 0;
	priv_raise();
	if ((d = opendir(q->active)) == NULL) {
		/* No directory yet: nothing was ever queued here. */
		if (errno == ENOENT)
			ret = 0;
		else
			err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot read the queue %s: %s",
			    q->active, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len != QUEUE_ID_LEN + 4 || strcmp(de->d_name + QUEUE_ID_LEN, ".msg") != 0)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n] = xstrndup(de->d_name, QUEUE_ID_LEN);
		if (!queue_valid_id(v[n])) {
			free(v[n]);
			continue;
		}
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	*ids = v;
	*nids = n;
	ret = 0;
out:
	priv_lower();
	return ret;
}

/*
 * How long after its mtime a stamp must be taken to be trusted: file systems keep times in
 * coarse ticks (a jiffy; 2 s on FAT), so a change right after a look may not move mtime.
 */
#define STAMP_SLACK_MS 2000

int
queue_stamp(const struct queue *q, struct queue_stamp *st)
{
	struct stat sb;
	struct timespec now;
	int ret = -1;

	memset(st, 0, sizeof(*st));
	/* Wall clock, as mtime is: taken before the look, so the slack errs safe. */
	if (q->active == NULL || clock_gettime(CLOCK_REALTIME, &now) == -1)
		goto out;
	st->taken_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	priv_raise();
	if (stat(q->active, &sb) == 0) {
		st->dev = (uint64_t)sb.st_dev;
		st->ino = (uint64_t)sb.st_ino;
		st->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
		ret = 0;
	} else if (errno == ENOENT) {
		st->none = 1;
		ret = 0;
	}
	priv_lower();
out:
	return ret;
}

int
queue_stamp_same(const struct queue_stamp *old, const struct queue_stamp *now)
{
	if (old->none || now->none)
		return old->none && now->none;
	return old->dev == now->dev && old->ino == now->ino && old->mtime_ns == now->mtime_ns &&
	    old->taken_ms - old->mtime_ns / 1000000 > STAMP_SLACK_MS;
}

static int
read_file(const char *path, struct buf *b, struct err *e)
{
	int fd, ret = -1;

	/* The group opens the file; reading the descriptor needs nothing more. */
	priv_raise();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	priv_lower();
	if (fd == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (read_capped(fd, b, 0) == -1) {
		if (errno == EFBIG)
			err_set(e, ERR_PERM, CAUSE_IOERR, "%s is over %d bytes", path,
			    MAX_QUEUE_META);
		else
			err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot read %s: %s", path,
			    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd != -1)
		close(fd);
	return ret;
}

int
queue_read_meta(struct queue *q, const char *id, struct queue_meta *m, struct err *e)
{
	struct buf b;
	char *path = join(q->active, id, ".meta");
	int ret = -1;

	buf_init(&b, MAX_QUEUE_META);
	if (read_file(path, &b, e) == -1)
		goto out;
	if (queue_meta_parse(buf_cstr(&b), b.len, m, e) == -1) {
		err_prefix(e, "%s: ", path);
		goto out;
	}
	/* The file name is the authority: a copied file must not act as another entry. */
	memcpy(m->id, id, QUEUE_ID_LEN + 1);
	ret = 0;
out:
	buf_free(&b);
	free(path);
	return ret;
}

int
queue_lock(struct queue *q, const char *id, struct queue_entry *qe, struct err *e)
{
	struct stat fsb, psb;
	char *msg = NULL;
	int fd = -1, rv, ret = -1;

	memset(qe, 0, sizeof(*qe));
	qe->fd = -1;
	if (!queue_valid_id(id)) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "not a queue id: %.40s", id);
		goto out;
	}
	msg = join(q->active, id, ".msg");
	priv_raise();
	fd = open(msg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	priv_lower();
	if (fd == -1) {
		if (errno == ENOENT) {
			ret = 0;
			goto out;
		}
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot open %s: %s", msg, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			ret = 0;
			goto out;
		}
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot lock %s: %s", msg, strerror(errno));
		goto out;
	}
	/*
	 * The holder before us may have finished the entry (removed it, or moved it to
	 * failed/) while we waited between open and flock: then our fd is a stale inode.
	 */
	priv_raise();
	rv = stat(msg, &psb);
	priv_lower();
	if (fstat(fd, &fsb) == -1 || rv == -1 || fsb.st_ino != psb.st_ino ||
	    fsb.st_dev != psb.st_dev || fsb.st_nlink == 0) {
		ret = 0;
		goto out;
	}
	/* Held even when the metadata is unreadable, so that --remove can clear it. */
	qe->fd = fd;
	fd = -1;
	if (queue_read_meta(q, id, &qe->meta, e) == -1) {
		memcpy(qe->meta.id, id, QUEUE_ID_LEN + 1);
		goto out;
	}
	ret = 1;
out:
	if (fd != -1)
		close(fd);
	free(msg);
	return ret;
}

int
queue_update(struct queue *q, struct queue_entry *qe, struct err *e)
{
	int ret = -1;

	priv_raise();
	if (put_meta(q, &qe->meta, q->active, e) == -1)
		goto out;
	if (fsync_dir(q->active) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot sync %s: %s", q->active,
		    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	priv_lower();
	return ret;
}

/*
 * ID.msg goes first: from that moment the entry no longer exists. The directory is not
 * fsync'd for every removal (a flush of a thousand messages would wait for a thousand
 * syncs) but every SYNC_REMOVALS and at queue_close(): a removal lost in a crash brings
 * a delivered message back, to be sent a second time, and never loses one, which is the
 * guarantee the queue gives. Entries that arrive are synced at once.
 */
int
queue_remove(struct queue *q, struct queue_entry *qe, struct err *e)
{
	char *msg = join(q->active, qe->meta.id, ".msg");
	char *meta = join(q->active, qe->meta.id, ".meta");
	int ret = -1;

	priv_raise();
	if (unlink(msg) == -1 && errno != ENOENT) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot remove %s: %s", msg, strerror(errno));
		goto out;
	}
	hooks_crash("remove-msg");
	unlink(meta);
	if (++q->unsynced >= SYNC_REMOVALS) {
		fsync_dir(q->active);
		q->unsynced = 0;
	}
	ret = 0;
out:
	priv_lower();
	queue_unlock(qe);
	free(msg);
	free(meta);
	return ret;
}

/*
 * Order: the final metadata into failed/ first, then ID.msg moves (the entry leaves the
 * queue and arrives complete in failed/ in one step), then the old metadata goes.
 */
int
queue_fail(struct queue *q, struct queue_entry *qe, struct err *e)
{
	char *msg = join(q->active, qe->meta.id, ".msg");
	char *meta = join(q->active, qe->meta.id, ".meta");
	char *fmsg = join(q->failed, qe->meta.id, ".msg");
	int ret = -1;

	priv_raise();
	if (make_dirs(q->failed, dir_mode(q)) == -1) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT, "cannot create %s: %s", q->failed,
		    strerror(errno));
		goto out;
	}
	if (put_meta(q, &qe->meta, q->failed, e) == -1)
		goto out;
	if (fsync_dir(q->failed) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot sync %s: %s", q->failed,
		    strerror(errno));
		goto out;
	}
	if (rename(msg, fmsg) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot move %s to %s: %s", msg, fmsg,
		    strerror(errno));
		goto out;
	}
	hooks_crash("fail-msg");
	unlink(meta);
	fsync_dir(q->failed);
	fsync_dir(q->active);
	ret = 0;
out:
	priv_lower();
	queue_unlock(qe);
	free(msg);
	free(meta);
	free(fmsg);
	return ret;
}

void
queue_unlock(struct queue_entry *qe)
{
	/* Closing the only descriptor releases the flock. */
	if (qe->fd != -1)
		close(qe->fd);
	qe->fd = -1;
	queue_meta_free(&qe->meta);
}

/* Metadata in queue/ older than before whose message never arrived (a crashed commit). */
static size_t
sweep_meta(struct queue *q, int64_t before)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	char *path, *msg;
	size_t n = 0;

	if ((d = opendir(q->active)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != QUEUE_ID_LEN + 5 ||
		    strcmp(de->d_name + QUEUE_ID_LEN, ".meta") != 0)
			continue;
		path = join(q->active, de->d_name, "");
		msg = join(q->active, de->d_name, "");
		memcpy(msg + strlen(msg) - 5, ".msg", 5);
		if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    (int64_t)sb.st_mtime < before && lstat(msg, &sb) == -1 && unlink(path) == 0)
			n++;
		free(msg);
		free(path);
	}
	closedir(d);
	return n;
}

/*
 * 1 if the file at path is a dead writer's (removed then, under our lock, so that two
 * sweeps never race), 0 if it is live or fresh, -1 if it cannot be opened to tell.
 */
static int
sweep_one(const char *path, int64_t now)
{
	struct stat fsb, psb;
	int fd, ret = 0;

	/* O_NONBLOCK: a FIFO planted in tmp/ must not hang the run. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	/*
	 * The lock first, then the age: a writer between creating its file and locking it
	 * has a file younger than QUEUE_DEAD_AGE. The name must still be this file.
	 */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &fsb) == 0 && S_ISREG(fsb.st_mode) &&
	    (int64_t)fsb.st_mtime + QUEUE_DEAD_AGE < now && lstat(path, &psb) == 0 &&
	    psb.st_ino == fsb.st_ino && psb.st_dev == fsb.st_dev && unlink(path) == 0)
		ret = 1;
	close(fd);
	return ret;
}

/* The tmp/ sweep; orphan_before: also remove what cannot be opened and is older (or 0). */
static size_t
sweep_tmp(struct queue *q, int64_t orphan_before)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	char *path;
	size_t n = 0;
	int64_t now = (int64_t)time(NULL);
	int r;

	if ((d = opendir(q->tmp)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = join(q->tmp, de->d_name, "");
		if ((r = sweep_one(path, now)) == 1)
			n++;
		else if (r == -1 && orphan_before != 0 && lstat(path, &sb) == 0 &&
		    S_ISREG(sb.st_mode) && (int64_t)sb.st_mtime < orphan_before &&
		    unlink(path) == 0)
			n++;
		free(path);
	}
	closedir(d);
	return n;
}

size_t
queue_sweep_dead(struct queue *q)
{
	size_t n = 0;

	if (q->tmp != NULL) {
		priv_raise();
		n = sweep_tmp(q, 0);
		priv_lower();
	}
	return n;
}

size_t
queue_cleanup(struct queue *q, int64_t now)
{
	size_t n;

	priv_raise();
	n = sweep_tmp(q, now - QUEUE_ORPHAN_AGE) + sweep_meta(q, now - QUEUE_ORPHAN_AGE);
	priv_lower();
	return n;
}

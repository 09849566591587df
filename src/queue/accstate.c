/*
 * accstate.c: the per-account state file of the queue. See accstate.h.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/path.h"
#include "base/priv.h"
#include "base/str.h"
#include "queue/accstate.h"
#include "queue/queue.h"

/* QUEUE/accounts, and the account's file in it (with suffix); NULL when too long. */
static char *
state_path(const struct queue *q, const char *account, const char *suffix)
{
	char *name, *p;

	if ((name = path_name(account)) == NULL)
		return NULL;
	p = path_fmt("%s/accounts/%s%s", q->dir, name, suffix);
	free(name);
	return p;
}

static const char *const win_keys[ACCSTATE_NWIN] = {
	"Slots-Second",
	"Slots-Minute",
	"Slots-Hour",
	"Slots-Day",
	"Slots-Recipients-Day",
};

/* Version 1's fixed windows, read as one slot each. */
static const char *const old_keys[ACCSTATE_NWIN] = {
	"Window-Second",
	"Window-Minute",
	"Window-Hour",
	"Window-Day",
	"Window-Recipients-Day",
};

/*
 * One more slot at the end of w. A file with more than w holds (written by hand) adds
 * the rest to its newest slot: counted later than it was, never forgotten.
 */
static void
add_slot(struct accstate_window *w, int64_t last, uint64_t count)
{
	struct accstate_slot *s;

	if (w->n < ACCSTATE_NSLOT) {
		s = &w->slot[w->n++];
		s->last = last;
		s->count = count;
	} else {
		s = &w->slot[ACCSTATE_NSLOT - 1];
		if (s->last < last)
			s->last = last;
		s->count = count > UINT64_MAX - s->count ? UINT64_MAX : s->count + count;
	}
}

/* "LAST:COUNT LAST:COUNT ..." into w; a bad slot is skipped. */
static void
parse_slots(char *v, struct accstate_window *w)
{
	char *tok, *colon, *next;
	uint64_t a, b;

	w->n = 0;
	for (tok = v; tok != NULL && *tok != '\0'; tok = next) {
		if ((next = strchr(tok, ' ')) != NULL)
			*next++ = '\0';
		if ((colon = strchr(tok, ':')) == NULL)
			continue;
		*colon++ = '\0';
		if (parse_uint(tok, 1, INT64_MAX, &a) == 0 &&
		    parse_uint(colon, 1, UINT64_MAX, &b) == 0)
			add_slot(w, (int64_t)a, b);
	}
}

/* Version 1's "START COUNT": one slot; a bad value leaves w empty. */
static void
parse_window(char *v, struct accstate_window *w)
{
	char *sp = strchr(v, ' ');
	uint64_t a, b;

	if (sp == NULL)
		return;
	*sp++ = '\0';
	if (parse_uint(v, 1, INT64_MAX, &a) == 0 && parse_uint(sp, 1, UINT64_MAX, &b) == 0) {
		w->n = 0;
		add_slot(w, (int64_t)a, b);
	}
}

int
accstate_read(const struct queue *q, const char *account, struct accstate *st)
{
	struct buf b;
	char *text = NULL, *line, *next, *v;
	char *path = NULL;
	uint64_t u;
	size_t i;
	int fd = -1, ret = 0;

	memset(st, 0, sizeof(*st));
	buf_init(&b, MAX_ACCSTATE);
	if (q->dir == NULL || (path = state_path(q, account, "")) == NULL)
		goto out;
	priv_raise();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	priv_lower();
	if (fd == -1)
		goto out;
	/*
	 * On the heap, and only when there is a file: this is read on every message's path,
	 * and a -bd worker keeps every stack page its deepest session touched. Written by
	 * accstate_store under the same cap: a file over it is not ours, and says nothing.
	 */
	if (read_capped(fd, &b, 0) == -1 || b.len == 0 || (text = buf_steal(&b)) == NULL)
		goto out;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		while (*v == ' ')
			v++;
		if (streq_ci(line, "Held"))
			snprintf(st->held, sizeof(st->held), "%s", v);
		else if (streq_ci(line, "Since") && parse_uint(v, 0, INT64_MAX, &u) == 0)
			st->since = (int64_t)u;
		else if (streq_ci(line, "Fingerprint"))
			snprintf(st->fingerprint, sizeof(st->fingerprint), "%s", v);
		else if (streq_ci(line, "Paused-Until") && parse_uint(v, 0, INT64_MAX, &u) == 0)
			st->paused_until = (int64_t)u;
		else if (streq_ci(line, "Paused"))
			snprintf(st->paused, sizeof(st->paused), "%s", v);
		else
			for (i = 0; i < ACCSTATE_NWIN; i++)
				if (streq_ci(line, win_keys[i]))
					parse_slots(v, &st->win[i]);
				else if (streq_ci(line, old_keys[i]) && st->win[i].n == 0)
					parse_window(v, &st->win[i]);
	}
	ret = st->held[0] != '\0';
out:
	if (fd != -1)
		close(fd);
	buf_free(&b);
	free(text);
	free(path);
	return ret;
}

/* The accounts/ directory, made when missing, open and locked: an fd, or -1. */
static int
lock_dir(const struct queue *q)
{
	char *dir;
	int fd = -1;

	if ((dir = path_fmt("%s/accounts", q->dir)) == NULL)
		goto out;
	if (make_dirs(dir, q->shared ? 02770 : 0700) == -1 ||
	    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto out;
	if (flock(fd, LOCK_EX) == -1) {
		close(fd);
		fd = -1;
	}
out:
	free(dir);
	return fd;
}

int
accstate_lock(const struct queue *q)
{
	int fd = -1;

	if (q->dir == NULL) {
		errno = ENOENT;
		return -1;
	}
	priv_raise();
	fd = lock_dir(q);
	priv_lower();
	return fd;
}

void
accstate_unlock(int lockfd)
{
	if (lockfd != -1)
		close(lockfd);
}

/* A value on one line: a control character would end it early. */
static int
add_line_value(struct buf *b, const char *v)
{
	const char *p;

	for (p = v; *p != '\0'; p++)
		if (buf_addc(b, (unsigned char)*p < 0x20 ? ' ' : *p) == -1)
			return -1;
	return 0;
}

int
accstate_store(const struct queue *q, int lockfd, const char *account, const struct accstate *st,
    int sync, struct err *e)
{
	struct buf b;
	const char *text;
	char *path = NULL, *tmp = NULL;
	size_t i, j;
	int fd = -1, ret = -1;

	buf_init(&b, MAX_ACCSTATE);
	priv_raise();
	if (buf_addf(&b, "Version: 2\nAccount: %s\n", account) == -1)
		goto fail;
	if (st->held[0] != '\0' &&
	    (buf_addf(&b, "Held: ") == -1 || add_line_value(&b, st->held) == -1 ||
		buf_addf(&b, "\nSince: %lld\nFingerprint: %s\n", (long long)st->since,
		    st->fingerprint) == -1))
		goto fail;
	if (st->paused_until != 0 &&
	    (buf_addf(&b, "Paused-Until: %lld\nPaused: ", (long long)st->paused_until) == -1 ||
		add_line_value(&b, st->paused) == -1 || buf_addc(&b, '\n') == -1))
		goto fail;
	for (i = 0; i < ACCSTATE_NWIN; i++) {
		if (st->win[i].n == 0)
			continue;
		if (buf_addf(&b, "%s:", win_keys[i]) == -1)
			goto fail;
		for (j = 0; j < st->win[i].n && j < ACCSTATE_NSLOT; j++)
			if (buf_addf(&b, " %lld:%llu", (long long)st->win[i].slot[j].last,
				(unsigned long long)st->win[i].slot[j].count) == -1)
				goto fail;
		if (buf_addc(&b, '\n') == -1)
			goto fail;
	}
	if ((text = buf_cstr(&b)) == NULL)
		goto fail;
	if (q->dir == NULL || (path = state_path(q, account, "")) == NULL)
		goto fail;
	if (!sync) {
		/*
		 * Counters, on every message: rewritten in place under the lock. A new file and
		 * a rename cost ext4 a flush each (auto_da_alloc), ten times what the send
		 * notices. What precedes the windows (the hold) is the same bytes before and
		 * after, so a reader without the lock still reads the hold right; a crash may
		 * cost the windows, which start again. In a shared queue the file is the
		 * group's to write (0660): whoever made it, every user's process counts in it.
		 */
		if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) != -1) {
			if (pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text) ||
			    ftruncate(fd, (off_t)strlen(text)) == -1)
				goto fail;
			ret = 0;
			goto out;
		}
		/* None yet, or one this process may not write (an older 0640 one): a new one. */
	}
	if ((tmp = state_path(q, account, ".new")) == NULL)
		goto fail;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		 q->shared ? 0660 : 0600)) == -1 ||
	    (q->shared && fchmod(fd, 0660) == -1) || write_all(fd, text, strlen(text)) == -1 ||
	    (sync && fsync(fd) == -1) || rename(tmp, path) == -1)
		goto fail;
	if (sync)
		fsync(lockfd);
	ret = 0;
	goto out;
fail:
	err_set(e, ERR_TEMP, CAUSE_IOERR,
	    "cannot record the state of account %s in %s/"
	    "accounts: %s",
	    account, q->dir != NULL ? q->dir : "?", strerror(errno));
	if (tmp != NULL && fd != -1)
		unlink(tmp);
out:
	if (fd != -1)
		close(fd);
	priv_lower();
	free(path);
	free(tmp);
	buf_free(&b);
	return ret;
}

int
accstate_write(const struct queue *q, const char *account, const struct accstate *st,
    struct err *e)
{
	int dfd, ret = -1;

	if ((dfd = accstate_lock(q)) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR,
		    "cannot record the state of account %s in %s/accounts: %s", account,
		    q->dir != NULL ? q->dir : "?", strerror(errno));
		goto out;
	}
	ret = accstate_store(q, dfd, account, st, 1, e);
out:
	accstate_unlock(dfd);
	return ret;
}

int
accstate_update(const struct queue *q, const char *account,
    void (*change)(struct accstate *st, void *arg), void *arg, struct err *e)
{
	struct accstate st;
	int dfd, ret = -1;

	if ((dfd = accstate_lock(q)) == -1) {
		err_set(e, ERR_TEMP, CAUSE_IOERR, "cannot lock %s/accounts: %s",
		    q->dir != NULL ? q->dir : "(no queue directory)", strerror(errno));
		goto out;
	}
	accstate_read(q, account, &st);
	change(&st, arg);
	ret = accstate_store(q, dfd, account, &st, 1, e);
out:
	accstate_unlock(dfd);
	return ret;
}

/* Nothing but the hold to keep: the file can go. */
static int
only_held(const struct accstate *st)
{
	size_t i;

	for (i = 0; i < ACCSTATE_NWIN; i++)
		if (st->win[i].n != 0)
			return 0;
	return st->paused_until == 0;
}

int
accstate_clear(const struct queue *q, const char *account)
{
	struct accstate st;
	struct err e;
	char *path = NULL;
	int dfd = -1, ret = 0;

	err_init(&e);
	/* The common case (after every message sent): no hold, one read, no lock. */
	if (q->dir == NULL || accstate_read(q, account, &st) != 1 ||
	    (path = state_path(q, account, "")) == NULL)
		goto out;
	ret = -1;
	if ((dfd = accstate_lock(q)) == -1)
		goto out;
	/* Under the lock: the windows another process counted since stay. */
	if (accstate_read(q, account, &st) != 1) {
		ret = 0;
		goto out;
	}
	if (only_held(&st)) {
		priv_raise();
		if (unlink(path) == 0 || errno == ENOENT) {
			fsync(dfd);
			ret = 1;
		}
		priv_lower();
	} else {
		st.held[0] = '\0';
		st.since = 0;
		st.fingerprint[0] = '\0';
		if (accstate_store(q, dfd, account, &st, 1, &e) == 0)
			ret = 1;
	}
out:
	accstate_unlock(dfd);
	free(path);
	return ret;
}

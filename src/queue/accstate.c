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

int
accstate_read(const struct queue *q, const char *account, struct accstate *st)
{
	char text[MAX_ACCSTATE + 1], *line, *next, *v;
	char *path = NULL;
	ssize_t n;
	uint64_t u;
	int fd = -1, ret = 0;

	memset(st, 0, sizeof(*st));
	if (q->dir == NULL || (path = state_path(q, account, "")) == NULL)
		goto out;
	priv_raise();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	priv_lower();
	if (fd == -1 || (n = read(fd, text, MAX_ACCSTATE)) <= 0)
		goto out;
	text[n] = '\0';
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
	}
	ret = st->held[0] != '\0';
out:
	if (fd != -1)
		close(fd);
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
accstate_write(const struct queue *q, const char *account, const struct accstate *st,
    struct err *e)
{
	struct buf b;
	const char *text;
	char *path = NULL, *tmp = NULL;
	const char *p;
	int dfd = -1, fd = -1, ret = -1;

	buf_init(&b, MAX_ACCSTATE);
	priv_raise();
	if (buf_addf(&b, "Version: 1\nAccount: %s\nHeld: ", account) == -1)
		goto fail;
	/* One line each: a control character would end the value early. */
	for (p = st->held; *p != '\0'; p++)
		if (buf_addc(&b, (unsigned char)*p < 0x20 ? ' ' : *p) == -1)
			goto fail;
	if (buf_addf(&b, "\nSince: %lld\nFingerprint: %s\n", (long long)st->since,
		st->fingerprint) == -1)
		goto fail;
	if ((text = buf_cstr(&b)) == NULL)
		goto fail;
	if (q->dir == NULL || (path = state_path(q, account, "")) == NULL ||
	    (tmp = state_path(q, account, ".new")) == NULL || (dfd = lock_dir(q)) == -1)
		goto fail;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		 q->shared ? 0640 : 0600)) == -1 ||
	    (q->shared && fchmod(fd, 0640) == -1) || write_all(fd, text, strlen(text)) == -1 ||
	    fsync(fd) == -1 || rename(tmp, path) == -1)
		goto fail;
	fsync(dfd);
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
	if (dfd != -1)
		close(dfd);
	priv_lower();
	free(path);
	free(tmp);
	buf_free(&b);
	return ret;
}

int
accstate_clear(const struct queue *q, const char *account)
{
	char *path = NULL;
	int dfd = -1, ret = 0;

	if (q->dir == NULL || (path = state_path(q, account, "")) == NULL)
		goto out;
	priv_raise();
	if (access(path, F_OK) == 0) {
		ret = -1;
		if ((dfd = lock_dir(q)) != -1 && (unlink(path) == 0 || errno == ENOENT)) {
			fsync(dfd);
			ret = 1;
		}
	}
	priv_lower();
out:
	if (dfd != -1)
		close(dfd);
	free(path);
	return ret;
}

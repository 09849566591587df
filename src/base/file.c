/*
 * file.c: files and directories. See file.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/path.h"

size_t
io_block_for(int fd)
{
	struct stat sb;
	size_t n = IO_BLOCK;

	/* + 1: the read that returns the whole file is followed by one that says the end. */
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= 0 &&
	    (uint64_t)sb.st_size + 1 < IO_BLOCK)
		n = (size_t)sb.st_size + 1 > FILE_BLOCK ? (size_t)sb.st_size + 1 : FILE_BLOCK;
	return n;
}

int
write_all(int fd, const void *p, size_t n)
{
	const char *d = p;
	ssize_t w;
	int ret = 0;

	while (n > 0 && ret == 0) {
		if ((w = write(fd, d, n)) == -1) {
			if (errno != EINTR)
				ret = -1;
			continue;
		}
		d += w;
		n -= (size_t)w;
	}
	return ret;
}

int
read_capped(int fd, struct buf *b, int line)
{
	char block[FILE_BLOCK];
	size_t want;
	ssize_t n;
	int rc = -1;

	for (;;) {
		if (line && b->len > 0 && memchr(b->data, '\n', b->len) != NULL)
			break;
		want = sizeof(block);
		if (line) {
			/* Past max no newline can come: stop there rather than read on. */
			if (b->len >= b->max) {
				errno = EFBIG;
				goto out;
			}
			if (b->max - b->len < want)
				want = b->max - b->len;
		}
		if ((n = read(fd, block, want)) == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (buf_add(b, block, (size_t)n) == -1) {
			errno = EFBIG;
			goto out;
		}
	}
	rc = 0;
out:
	explicit_bzero(block, sizeof(block));
	return rc;
}

/* One directory of the path: made (then given mode whatever the umask), or already there. */
static int
one_dir(const char *p, mode_t mode)
{
	struct stat st;
	int saved, rc = 0;

	if (mkdir(p, mode) == 0)
		rc = chmod(p, mode);
	else if (errno != EEXIST) {
		/* A read-only or unwritable parent may say so before it says "exists". */
		saved = errno;
		if (stat(p, &st) == -1 || !S_ISDIR(st.st_mode)) {
			errno = saved; /* mkdir's reason (EACCES...), not stat's ENOENT */
			rc = -1;
		}
	}
	return rc;
}

int
make_dirs(const char *dir, mode_t mode)
{
	struct stat st;
	char *p = NULL, *s, save;
	int rc = -1;

	if (dir[0] == '\0') {
		errno = ENOENT;
		goto out;
	}
	p = xstrdup(dir);
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		/* "a//b" and a trailing '/' name no directory of their own. */
		if (s[-1] != '/') {
			save = *s;
			*s = '\0';
			if (one_dir(p, mode) == -1)
				goto out;
			*s = save;
		}
		if (*s == '\0')
			break;
	}
	if (stat(dir, &st) == -1)
		goto out;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto out;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

int
file_beside(const char *path, const struct iovec *iov, int n, mode_t mode, uid_t uid, gid_t gid,
    int flags, char **tmp, enum file_step *step)
{
	const char *slash = strrchr(path, '/');
	enum file_step at = FILE_CREATE;
	char *name;
	int fd = -1, i, saved, rc = -1;

	*tmp = NULL;
	name = slash == NULL ? path_fmt(".%s.XXXXXX", path)
			     : path_fmt("%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1);
	if (name == NULL || (fd = mkostemp(name, O_CLOEXEC)) == -1)
		goto out;
	at = FILE_WRITE;
	if ((uid != (uid_t)-1 && fchown(fd, uid, gid) == -1) || fchmod(fd, mode) == -1)
		goto out;
	for (i = 0; i < n; i++)
		if (write_all(fd, iov[i].iov_base, iov[i].iov_len) == -1)
			goto out;
	if ((flags & FILE_SYNC) && fsync(fd) == -1)
		goto out;
	rc = close(fd);
	fd = -1;
	if (rc == -1)
		goto out;
	*tmp = name;
	name = NULL;
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (rc == -1 && step != NULL)
		*step = at;
	if (name != NULL && at == FILE_WRITE)
		unlink(name);
	free(name);
	errno = saved;
	return rc;
}

int
file_replace(const char *path, const struct iovec *iov, int n, mode_t mode, uid_t uid, gid_t gid,
    int flags, enum file_step *step)
{
	char *tmp = NULL;
	int saved, rc = -1;

	if (file_beside(path, iov, n, mode, uid, gid, flags, &tmp, step) == -1)
		goto out;
	if (rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		if (step != NULL)
			*step = FILE_RENAME;
		goto out;
	}
	if (flags & FILE_SYNC_DIR)
		sync_parent(path);
	rc = 0;
out:
	free(tmp);
	return rc;
}

void
sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".")
	    : slash == path       ? xstrdup("/")
				  : xstrndup(path, (size_t)(slash - path));
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int
make_parents(const char *path, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc = 0;

	if (slash != NULL && slash != path) {
		dir = xstrndup(path, (size_t)(slash - path));
		rc = make_dirs(dir, mode);
		free(dir);
	}
	return rc;
}

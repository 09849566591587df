/*
 * file.c: files and directories. See file.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/mem.h"

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

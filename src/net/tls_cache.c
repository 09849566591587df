/*
 * tls_cache.c: the TLS session cache file. See tls_cache.h.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/path.h"
#include "net/tls_cache.h"
#include "base/bounds.h"

/* A session file is a header line and a serialized session of a few KiB. */
#define CACHE_FILE_SIZE 65536
#define CACHE_MAGIC "mailout-tls-session 1"

/* "CACHE_MAGIC <key in hex> " */
static void
head_of(const unsigned char key[32], char *buf, size_t len)
{
	size_t i, o;

	o = (size_t)snprintf(buf, len, "%s ", CACHE_MAGIC);
	for (i = 0; i < 32 && o + 3 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%02x", key[i]);
	if (o + 1 < len)
		snprintf(buf + o, len - o, " ");
}

int
tls_cache_load(const char *path, const unsigned char key[32], unsigned char **blob, size_t *len)
{
	unsigned char *data = NULL, *nl;
	char head[128], num[24];
	struct stat st;
	uint64_t saved;
	size_t got = 0, hl, nlen;
	ssize_t n;
	int fd, ok = 0;

	*blob = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		goto out;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0 || st.st_size <= 0 || st.st_size > CACHE_FILE_SIZE)
		goto out;
	data = xmalloc((size_t)st.st_size);
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	head_of(key, head, sizeof(head));
	hl = strlen(head);
	if (got <= hl || memcmp(data, head, hl) != 0 ||
	    (nl = memchr(data + hl, '\n', got - hl)) == NULL)
		goto out;
	nlen = (size_t)(nl - (data + hl));
	if (nlen == 0 || nlen >= sizeof(num))
		goto out;
	memcpy(num, data + hl, nlen);
	num[nlen] = '\0';
	if (parse_uint(num, 0, UINT64_MAX, &saved) == -1 || (int64_t)saved > now_s() ||
	    now_s() - (int64_t)saved > MAX_TLS_SESSION_AGE)
		goto out;
	nl++;
	*len = got - (size_t)(nl - data);
	*blob = xmalloc(*len);
	memcpy(*blob, nl, *len);
	ok = 1;
out:
	if (data != NULL) {
		explicit_bzero(data, got);
		free(data);
	}
	if (fd != -1)
		close(fd);
	return ok;
}

void
tls_cache_save(const char *path, const unsigned char key[32], const unsigned char *blob,
    size_t len)
{
	char head[128];
	struct iovec iov[2];
	size_t hl;

	if (len == 0 || len > CACHE_FILE_SIZE - sizeof(head))
		goto out;
	head_of(key, head, sizeof(head));
	hl = strlen(head);
	snprintf(head + hl, sizeof(head) - hl, "%lld\n", (long long)now_s());
	iov[0].iov_base = head;
	iov[0].iov_len = strlen(head);
	iov[1].iov_base = (void *)blob;
	iov[1].iov_len = len;
	make_parents(path, 0700);
	/*
	 * 0600: the file holds a session secret. No fsync: a cache a crash loses costs one
	 * full handshake; nothing else is lost when it cannot be written either.
	 */
	if (file_replace(path, iov, 2, 0600, (uid_t)-1, 0, 0, NULL) == -1)
		goto out;
out:
	return;
}

void
tls_cache_drop(const char *path)
{
	unlink(path);
}

void
tls_cache_free(unsigned char *blob, size_t len)
{
	if (blob == NULL)
		return;
	explicit_bzero(blob, len);
	free(blob);
}

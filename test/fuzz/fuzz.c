/*
 * fuzz.c: the fuzz targets' shared helpers. See fuzz.h.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "net/stream.h"
#include "fuzz.h"

struct fuzz_stream {
	struct stream s;
	const uint8_t *data;
	size_t size;
	size_t pos;
	size_t chunk;
	struct buf *out;
};

static ssize_t
fs_read(struct stream *s, void *p, size_t n, struct err *e)
{
	struct fuzz_stream *fs = (struct fuzz_stream *)s;

	(void)e;
	if (n > fs->size - fs->pos)
		n = fs->size - fs->pos;
	if (fs->chunk > 0 && n > fs->chunk)
		n = fs->chunk;
	memcpy(p, fs->data + fs->pos, n);
	fs->pos += n;
	return (ssize_t)n;
}

static int
fs_write(struct stream *s, const void *p, size_t n, struct err *e)
{
	struct fuzz_stream *fs = (struct fuzz_stream *)s;

	(void)e;
	/* Past out's max the rest is dropped: the peer stopped listening, not an error. */
	if (fs->out != NULL && n <= fs->out->max - fs->out->len && buf_add(fs->out, p, n) == -1)
		fuzz_fail(__FILE__, __LINE__, "cannot keep the output");
	return 0;
}

static void
fs_close(struct stream *s)
{
	free(s);
}

static int
fs_timeout(struct stream *s, int timeout_s)
{
	(void)s;
	(void)timeout_s;
	return 0;
}

static const struct stream_ops fs_ops = {
	.read = fs_read,
	.write = fs_write,
	.close = fs_close,
	.timeout = fs_timeout,
};

struct stream *
fuzz_stream(const uint8_t *data, size_t size, size_t chunk, struct buf *out)
{
	struct fuzz_stream *fs = xcalloc(1, sizeof(*fs));

	fs->s.ops = &fs_ops;
	fs->s.name = "fuzz";
	fs->data = data;
	fs->size = size;
	fs->chunk = chunk;
	fs->out = out;
	return &fs->s;
}

size_t
fuzz_chunk(unsigned opt)
{
	static const size_t sizes[8] = { 0, 1, 2, 3, 7, 64, 1000, 4096 };

	return sizes[opt & 7];
}

unsigned
fuzz_byte(const uint8_t **data, size_t *size)
{
	unsigned b = 0;

	if (*size > 0) {
		b = **data;
		(*data)++;
		(*size)--;
	}
	return b;
}

char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void
fuzz_note(const char *fmt, ...)
{
	static int verbose = -1;
	va_list ap;

	if (verbose == -1)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (!verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: broken promise: %s\n", file, line, what);
	abort();
}

static char *dir;

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
rm_dir(void)
{
	if (dir != NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	dir = NULL;
}

const char *
fuzz_dir(void)
{
	const char *t = getenv("TMPDIR");
	struct buf b;

	if (dir != NULL)
		return dir;
	buf_init(&b, 4096);
	if (buf_addf(&b, "%s/mailout-fuzz.XXXXXX", t != NULL && *t == '/' ? t : "/tmp") == -1 ||
	    mkdtemp(b.data) == NULL) {
		perror("fuzz: cannot make a scratch directory");
		abort();
	}
	dir = buf_steal(&b);
	atexit(rm_dir);
	return dir;
}

const char *
fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || write_all(fd, data, size) == -1 || close(fd) == -1) {
		perror(path);
		abort();
	}
	return path;
}

int
fuzz_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd == -1 || write_all(fd, data, size) == -1 || lseek(fd, 0, SEEK_SET) == -1) {
		perror("fuzz: memfd");
		abort();
	}
	return fd;
}

/* The writing side of fuzz_reader: one packet per chunk, so each read gets one. */
static struct {
	pthread_t thread;
	int running;
	int fd;
	const uint8_t *data;
	size_t size;
	size_t chunk;
} rd = { .fd = -1 };

static void *
reader_feed(void *arg)
{
	size_t off, n;
	ssize_t w;

	(void)arg;
	for (off = 0; off < rd.size; off += n) {
		n = rd.size - off < rd.chunk ? rd.size - off : rd.chunk;
		/* The reader may stop early (a refused message) and close its end. */
		do
			w = send(rd.fd, rd.data + off, n, MSG_NOSIGNAL);
		while (w == -1 && errno == EINTR);
		if (w != (ssize_t)n)
			break;
	}
	shutdown(rd.fd, SHUT_WR);
	return NULL;
}

int
fuzz_reader(const uint8_t *data, size_t size, size_t chunk)
{
	int sv[2];

	if (chunk == 0)
		return fuzz_memfd(data, size);
	/* A packet costs two system calls and a thread switch: at most 512 of them. */
	if (size / chunk > 512)
		chunk = size / 512 + 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		perror("fuzz: socketpair");
		abort();
	}
	rd.fd = sv[1];
	rd.data = data;
	rd.size = size;
	rd.chunk = chunk;
	if (pthread_create(&rd.thread, NULL, reader_feed, NULL) != 0) {
		perror("fuzz: pthread_create");
		abort();
	}
	rd.running = 1;
	return sv[0];
}

void
fuzz_reader_join(void)
{
	if (!rd.running)
		return;
	pthread_join(rd.thread, NULL);
	close(rd.fd);
	rd.fd = -1;
	rd.running = 0;
}

int
fuzz_crlf_clean(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return 0;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 0;
	}
	return 1;
}

/*
 * fdstream.c: a stream over file descriptors. See fdstream.h.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "net/fdstream.h"
#include "net/stream.h"

struct fdstream {
	struct stream s;
	int rfd;
	int wfd;
	int timeout_s;
	int64_t deadline_ms; /* see stream_ops.deadline; 0: none */
	int owned; /* close rfd (== wfd) with the stream */
	int tryfirst; /* non-blocking: try the call, wait only on EAGAIN */
	int quickack; /* a TCP connection we made (see fd_read) */
	int notsock; /* wfd is no socket: plain write(2) */
	enum err_cause cause; /* of a failed read, write or poll */
	char name[300]; /* s.name */
	char peer[320]; /* in timeout messages: "the server (NAME)" */
};

/*
 * Wait until fd is ready for events, at most until the instant until_ms of now_ms()'s
 * clock (0: no limit), going on through EINTR. 1 when ready, 0 at until_ms, -1 with errno
 * set if poll fails.
 */
static int
poll_fd(int fd, short events, int64_t until_ms)
{
	struct pollfd pfd;
	int64_t left;
	int r, ms = -1;

	for (;;) {
		if (until_ms != 0) {
			left = until_ms - now_ms();
			ms = left > INT_MAX ? INT_MAX : left > 0 ? (int)left : 0;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, ms);
		if (r >= 0 || errno != EINTR)
			break;
	}
	return r > 0 ? 1 : r;
}

/*
 * Wait until fd is ready for events: at most the step's timeout, and never past the
 * deadline (the timeout restarts with every byte, the deadline does not). 0, or -1 with
 * err set.
 */
static int
fd_wait(struct fdstream *fs, int fd, short events, struct err *e)
{
	int64_t until = 0;
	int ret = -1, r, late = 0;

	if (fs->timeout_s > 0)
		until = now_ms() + (int64_t)fs->timeout_s * 1000;
	if (fs->deadline_ms != 0 && (until == 0 || fs->deadline_ms < until)) {
		until = fs->deadline_ms;
		late = 1;
	}
	r = poll_fd(fd, events, until);
	if (r == 0 && late) {
		err_set(e, ERR_TEMP, CAUSE_TEMP, "out of time %s %s",
		    events == POLLIN ? "waiting for" : "sending to", fs->peer);
		goto out;
	}
	if (r == 0) {
		err_set(e, ERR_TEMP, CAUSE_TEMP, "timeout after %d s %s %s", fs->timeout_s,
		    events == POLLIN ? "waiting for" : "sending to", fs->peer);
		goto out;
	}
	if (r == -1) {
		err_set(e, ERR_TEMP, fs->cause, "poll on the connection to %s: %s", fs->s.name,
		    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	return ret;
}

static ssize_t
fd_read(struct stream *s, void *p, size_t n, struct err *e)
{
	struct fdstream *fs = (struct fdstream *)s;
	ssize_t r = -1;
	int one = 1;

	for (;;) {
		/* A blocking descriptor is polled first: the timeout must hold. */
		if (!fs->tryfirst && fd_wait(fs, fs->rfd, POLLIN, e) == -1)
			goto out;
		/*
		 * We wait for the server: what it sent so far is ACKed now, not after the
		 * delayed-ACK timer. A server whose last reply trails its previous segment
		 * (Postfix's greeting behind its TLS Finished) has Nagle hold that reply
		 * until our ACK: 40 ms per connection. The flag does not stick (the kernel
		 * clears it), so it is set before every read.
		 */
		if (fs->quickack)
			setsockopt(fs->rfd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		r = read(fs->rfd, p, n);
		if (r >= 0)
			goto out;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		if (fs->tryfirst && fd_wait(fs, fs->rfd, POLLIN, e) == -1)
			goto out;
	}
	err_set(e, ERR_TEMP, fs->cause, "connection to %s lost: %s", fs->s.name, strerror(errno));
out:
	return r;
}

static int
fd_write(struct stream *s, const void *p, size_t n, struct err *e)
{
	struct fdstream *fs = (struct fdstream *)s;
	const char *d = p;
	ssize_t r;
	int ret = -1;

	while (n > 0) {
		if (!fs->tryfirst && fd_wait(fs, fs->wfd, POLLOUT, e) == -1)
			goto out;
		/* send() can refuse SIGPIPE; a pipe or tty needs write() and the caller's mask. */
		if (!fs->notsock) {
			r = send(fs->wfd, d, n, MSG_NOSIGNAL);
			if (r == -1 && errno == ENOTSOCK) {
				fs->notsock = 1;
				continue;
			}
		} else
			r = write(fs->wfd, d, n);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				err_set(e, ERR_TEMP, fs->cause, "connection to %s lost: %s",
				    fs->s.name, strerror(errno));
				goto out;
			}
			if (fs->tryfirst && fd_wait(fs, fs->wfd, POLLOUT, e) == -1)
				goto out;
			continue;
		}
		d += r;
		n -= (size_t)r;
	}
	ret = 0;
out:
	return ret;
}

static void
fd_close(struct stream *s)
{
	struct fdstream *fs = (struct fdstream *)s;

	if (fs->owned && fs->rfd != -1)
		close(fs->rfd);
	free(fs);
}

static int
fd_timeout(struct stream *s, int timeout_s)
{
	struct fdstream *fs = (struct fdstream *)s;
	int old = fs->timeout_s;

	fs->timeout_s = timeout_s;
	return old;
}

static void
fd_deadline(struct stream *s, int64_t at_ms)
{
	((struct fdstream *)s)->deadline_ms = at_ms;
}

static const struct stream_ops fd_ops = {
	.read = fd_read,
	.write = fd_write,
	.close = fd_close,
	.timeout = fd_timeout,
	.deadline = fd_deadline,
};

static struct fdstream *
fdstream_alloc(int rfd, int wfd, int timeout_s)
{
	struct fdstream *fs;

	fs = xcalloc(1, sizeof(*fs));
	fs->s.ops = &fd_ops;
	fs->s.name = fs->name;
	fs->rfd = rfd;
	fs->wfd = wfd;
	fs->timeout_s = timeout_s;
	return fs;
}

struct stream *
fdstream_socket(int fd, const char *name, int timeout_s)
{
	struct fdstream *fs = fdstream_alloc(fd, fd, timeout_s);

	fs->owned = 1;
	fs->tryfirst = 1;
	fs->quickack = 1;
	fs->cause = CAUSE_TEMP;
	snprintf(fs->name, sizeof(fs->name), "%s", name);
	snprintf(fs->peer, sizeof(fs->peer), "the server (%s)", fs->name);
	return &fs->s;
}

struct stream *
fdstream_new(int rfd, int wfd, int timeout_s)
{
	struct fdstream *fs = fdstream_alloc(rfd, wfd, timeout_s);

	fs->cause = CAUSE_IOERR;
	snprintf(fs->name, sizeof(fs->name), "the client");
	snprintf(fs->peer, sizeof(fs->peer), "the client");
	return &fs->s;
}

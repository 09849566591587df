/*
 * net.c: plain TCP connections with deadlines. See net.h.
 *
 * The socket stays non-blocking; its stream is fdstream.c's, which tries every read and
 * write first and polls only when the kernel has nothing, so a step that makes no
 * progress for the I/O timeout fails instead of hanging a cron job forever.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "net/fdstream.h"
#include "net/net.h"
#include "base/clock.h"

/*
 * With several addresses (IPv6 and IPv4), one that drops packets must not eat the whole
 * deadline: each gets its share of what is left, but never less than this.
 */
#define NET_MIN_ATTEMPT_MS 2000

/*
 * One non-blocking connect within ms milliseconds (-1: no limit). Returns the connected
 * socket, or -1 with reason filled.
 */
static int
net_try(const struct addrinfo *ai, int ms, char *reason, size_t rlen)
{
	struct pollfd pfd;
	socklen_t sl;
	int64_t deadline = 0, left;
	int fd, r, soerr, one = 1, wait = ms;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1) {
		snprintf(reason, rlen, "%s", strerror(errno));
		goto out;
	}
	/*
	 * Every batch leaves in one write; Nagle would hold its tail back until the server's
	 * delayed ACK (the 40 ms stall per message that msmtp shows).
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* EINTR: the connection continues in the background, as EINPROGRESS. */
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto out;
	if (errno != EINPROGRESS && errno != EINTR) {
		snprintf(reason, rlen, "%s", strerror(errno));
		goto fail;
	}
	if (ms >= 0)
		deadline = now_ms() + ms;
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		r = poll(&pfd, 1, wait);
		if (r > 0)
			break;
		if (r == 0) {
			snprintf(reason, rlen, "connection timed out after %d s",
			    (ms + 999) / 1000);
			goto fail;
		}
		if (errno != EINTR) {
			snprintf(reason, rlen, "poll: %s", strerror(errno));
			goto fail;
		}
		if (ms >= 0) {
			left = deadline - now_ms();
			wait = left > 0 ? (int)left : 0;
		}
	}
	soerr = 0;
	sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
		soerr = errno;
	if (soerr == 0)
		goto out;
	snprintf(reason, rlen, "%s", strerror(soerr));
fail:
	close(fd);
	fd = -1;
out:
	return fd;
}

struct stream *
net_connect(const char *host, unsigned port, int connect_timeout_s, int io_timeout_s,
    struct err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct stream *s = NULL;
	char service[16], reason[256] = "no address to connect to", name[300];
	int64_t deadline = 0, left;
	int r, fd = -1, naddr = 0, ntried = 0, ms = -1;

	snprintf(service, sizeof(service), "%u", port);
	memset(&hints, 0, sizeof(hints));
	/* No AI_ADDRCONFIG: on a host with only loopback it hides 127.0.0.1 and ::1. */
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (connect_timeout_s > 0)
		deadline = now_ms() + (int64_t)connect_timeout_s * 1000;
	r = getaddrinfo(host, service, &hints, &res);
	if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_ADDRFAMILY) {
		err_set(e, ERR_PERM, CAUSE_NOHOST,
		    "relay host '%s' not found (DNS): check host = in the config", host);
		goto out;
	}
	if (r == EAI_SYSTEM) {
		err_set(e, ERR_TEMP, CAUSE_TEMP, "cannot look up %s: %s", host, strerror(errno));
		goto out;
	}
	if (r == EAI_AGAIN) {
		/*
		 * No answer from the resolver (offline, its server down): the name may exist.
		 * Whether it is retried is the caller's to say ("queued, will retry").
		 */
		err_set(e, ERR_TEMP, CAUSE_TEMP, "temporary DNS failure resolving %s: %s", host,
		    gai_strerror(r));
		goto out;
	}
	if (r != 0) {
		/* EAI_FAIL, EAI_MEMORY: the resolver, not the name, is at fault. */
		err_set(e, ERR_TEMP, CAUSE_TEMP, "cannot look up %s (DNS): %s", host,
		    gai_strerror(r));
		goto out;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		naddr++;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (connect_timeout_s > 0) {
			left = deadline - now_ms();
			if (left <= 0) {
				snprintf(reason, sizeof(reason), "connection timed out after %d s",
				    connect_timeout_s);
				break;
			}
			if (left > INT_MAX)
				left = INT_MAX;
			ms = (int)(left / (naddr - ntried));
			if (ms < NET_MIN_ATTEMPT_MS)
				ms = left < NET_MIN_ATTEMPT_MS ? (int)left : NET_MIN_ATTEMPT_MS;
		}
		ntried++;
		if ((fd = net_try(ai, ms, reason, sizeof(reason))) != -1)
			break;
	}
	if (fd == -1) {
		if (ntried > 1)
			err_set(e, ERR_TEMP, CAUSE_TEMP,
			    "cannot connect to %s port %u: %s "
			    "(%d addresses tried)",
			    host, port, reason, ntried);
		else
			err_set(e, ERR_TEMP, CAUSE_TEMP, "cannot connect to %s port %u: %s", host,
			    port, reason);
		goto out;
	}
	if (strchr(host, ':') != NULL)
		snprintf(name, sizeof(name), "[%s]:%u", host, port);
	else
		snprintf(name, sizeof(name), "%s:%u", host, port);
	s = fdstream_socket(fd, name, io_timeout_s);
out:
	if (res != NULL)
		freeaddrinfo(res);
	return s;
}

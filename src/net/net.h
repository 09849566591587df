/*
 * net.h: plain TCP connections with deadlines.
 */
#ifndef MAILOUT_NET_H
#define MAILOUT_NET_H

struct err;
struct stream;

/*
 * Connect to host:port, trying every address getaddrinfo returns, in order, within one
 * overall deadline of connect_timeout_s seconds. Each later read or write on the stream
 * fails if it makes no progress for io_timeout_s seconds, or if it is not done by the
 * stream's deadline (stream_set_deadline, or a conn's deadlines over it). Returns a
 * stream, or NULL with err set: an unknown host is PERM/CAUSE_NOHOST; a temporary
 * resolver failure, refused or timed-out connection is TEMP/CAUSE_TEMP. The message
 * names host, port and reason.
 */
struct stream *net_connect(const char *host, unsigned port, int connect_timeout_s,
    int io_timeout_s, struct err *e);

#endif

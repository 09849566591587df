/*
 * fdstream.h: a struct stream (stream.h) over file descriptors, the one under every
 * connection: a TCP connection to a server (net.c makes it), standard input and output for
 * the -bs dialogue, the browser's connection during --authorize.
 *
 * Each read or write waits at most the stream's timeout (stream_ops.timeout) for the
 * descriptor to be ready, and fails TEMP when it makes no progress for that long: a peer
 * that stalls cannot hold a cron job forever. It never waits past the stream's deadline
 * (stream_ops.deadline), which no trickle of bytes extends: "out of time waiting for
 * the server (NAME)". A peer that went away is an error to report, never a SIGPIPE.
 */
#ifndef MAILOUT_FDSTREAM_H
#define MAILOUT_FDSTREAM_H

struct stream;

/*
 * A connected non-blocking socket to a server, named name ("host:port", copied) in
 * messages. Reads and writes are tried first and wait only when the kernel has nothing.
 * Failures are TEMP/CAUSE_TEMP ("connection to NAME lost: ...", "timeout after N s
 * waiting for the server (NAME)"). The stream owns fd: closing it closes fd. Never NULL.
 */
struct stream *fdstream_socket(int fd, const char *name, int timeout_s);

/*
 * A stream that reads rfd and writes wfd (they may be one descriptor; a pipe, a terminal
 * or a socket, blocking or not: each call waits for readiness first), named "the client".
 * I/O failures are TEMP/CAUSE_IOERR, a timeout TEMP/CAUSE_TEMP. Closing it leaves the
 * descriptors open. Never NULL.
 */
struct stream *fdstream_new(int rfd, int wfd, int timeout_s);

#endif

/*
 * stream.h: the byte stream that protocol code talks to, and a buffered connection on it.
 *
 * A struct stream is a read/write/close triple. fdstream.c makes one over file descriptors
 * (net.c's sockets, -bs's standard input and output); tls.c makes one layered over another
 * stream. Protocol code (smtp.c, serve.c, http.c) sees only a
 * struct conn: bounded line reads and buffered writes over the current stream. STARTTLS
 * swaps the stream under the conn with conn_swap().
 */
#ifndef MAILOUT_STREAM_H
#define MAILOUT_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;
struct stream;

struct stream_ops {
	/* Read up to n bytes: >0 count, 0 end of stream, -1 error (err set). */
	ssize_t (*read)(struct stream *s, void *p, size_t n, struct err *e);
	/* Write all n bytes: 0, or -1 error (err set). */
	int (*write)(struct stream *s, const void *p, size_t n, struct err *e);
	/* Release everything, including any lower stream. */
	void (*close)(struct stream *s);
	/*
	 * Optional (NULL: not supported): set the per-step I/O timeout in seconds (<= 0: none)
	 * and return the previous one. A layered stream passes it down.
	 */
	int (*timeout)(struct stream *s, int timeout_s);
	/*
	 * Optional (NULL: not supported): from now on, a read or write that is not done at
	 * at_ms (now_ms()'s clock; 0: never) fails, however the data trickles in; the
	 * per-step timeout still applies before it. A layered stream passes it down.
	 */
	void (*deadline)(struct stream *s, int64_t at_ms);
};

struct stream {
	const struct stream_ops *ops;
	const char *name; /* for messages: "relay.example.com:587" */
};

struct conn;

/* Takes ownership of s. Never NULL. */
struct conn *conn_new(struct stream *s);
/* Closes the stream and frees everything. NULL is fine. */
void conn_free(struct conn *c);

/*
 * Read one line ending in LF (a preceding CR is stripped) into line (NUL-terminated).
 * Returns its length, or -1: end of stream, read error, or a line longer than max-1
 * (a protocol error). err says which.
 */
ssize_t conn_readline(struct conn *c, char *line, size_t max, struct err *e);
/*
 * conn_readline, and *crlf = 1 if the line ended in CRLF, 0 if in a bare LF: the -bs
 * server ends DATA only at CRLF.CRLF for a client that ends its commands in CRLF.
 */
ssize_t conn_readline_crlf(struct conn *c, char *line, size_t max, int *crlf, struct err *e);
/* Read exactly n bytes (for BDAT on the server side). 0 or -1. */
int conn_read_exact(struct conn *c, void *p, size_t n, struct err *e);

/* Queue bytes for writing; large writes go straight through. 0 or -1. */
int conn_write(struct conn *c, const void *p, size_t n, struct err *e);
int conn_puts(struct conn *c, const char *s, struct err *e);
/* Send everything queued in one write. 0 or -1. */
int conn_flush(struct conn *c, struct err *e);

/*
 * Wait at most timeout_s seconds for input, keeping whatever arrives for the next read:
 * 1 when there is some, 0 when nothing came in time (the connection stays usable, its
 * own deadlines as they were), -1 with err on end of stream or an error.
 */
int conn_wait_input(struct conn *c, int timeout_s, struct err *e);

/* 1 once the peer has closed its side (a read returned end of stream). */
int conn_eof(const struct conn *c);
/* Bytes received but not yet read by the protocol (STARTTLS injection check). */
size_t conn_pending(const struct conn *c);
/* The current stream, to layer TLS over it. */
struct stream *conn_stream(struct conn *c);
/*
 * Replace the stream (the new one owns the old). Buffered input must be empty; any
 * buffered input or unsent output is discarded, never passed to the new stream.
 */
void conn_swap(struct conn *c, struct stream *s);
/* Change the stream's per-step timeout; returns the old one, or -1 if not supported. */
int conn_set_timeout(struct conn *c, int timeout_s);

/*
 * Deadlines, which no trickle of bytes extends (the per-step timeout restarts with each
 * one). conn_set_deadline: every read and write fails once now_ms() passes at_ms (0:
 * none), for a whole session; label says what set it, for the error ("session_timeout =
 * 600 s"). conn_read_within: the reads that follow fail once timeout_s seconds from now
 * have passed (<= 0: no such limit), until it is called again: a whole reply must arrive
 * in that time. Past either, the failure is TEMP (CAUSE_TEMP) and says which. They take
 * effect on the stream in place at each read and write (after conn_swap too).
 */
void conn_set_deadline(struct conn *c, int64_t at_ms, const char *label);
void conn_read_within(struct conn *c, int timeout_s);
/* 1 once the deadline of conn_set_deadline has passed. */
int conn_deadline_passed(const struct conn *c);
/* Set a stream's deadline (stream_ops.deadline) if it has one; for a stream with no conn. */
void stream_set_deadline(struct stream *s, int64_t at_ms);

#endif

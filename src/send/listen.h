/*
 * listen.h: `mailout -bd`, the SMTP listener for the network's devices (printers,
 * scanners, applications in containers) that can only speak plain SMTP to a host and port.
 *
 * The parent process binds every [listen] address, gives up root (run_as), and accepts.
 * For each connection it decides, before any byte is read:
 *
 *   1. a safe IP (safe_ips), or one of this computer's addresses with own_addresses =
 *      safe: allowed, no authentication asked;
 *   2. one of this computer's addresses with own_addresses = block: refused;
 *   3. allow_from set and the client outside every range: refused;
 *   4. otherwise allowed (with auth = required, a client must also log in);
 *
 * then the limits: max_connections per listening address and max_connections_per_ip
 * (the next one gets 421). A refused connection gets one reply line, is closed, and
 * leaves one log line with the client's address.
 *
 * Each allowed connection is served by a worker process that serves one client at a time
 * (one hostile client cannot stall or crash the others) running smtp/serve.c over the
 * socket, with DATA ending only at CRLF.CRLF; the parent passes it the socket and reuses
 * it for the next client (a pool, see listen.c). Each message goes through send/submit.c
 * exactly as one on sendmail's standard input, and is answered 250 only once delivered or
 * in the queue (a 4xx otherwise); one log line per message names the client. A session
 * lasts at most
 * session_timeout seconds (its worker is killed); a client silent for command_timeout
 * is sent away with 421.
 *
 * Secure defaults: loopback addresses only; an address that is not loopback with neither
 * allow_from nor auth = required refuses to start, saying why (no open relay by accident).
 */
#ifndef MAILOUT_LISTEN_H
#define MAILOUT_LISTEN_H

#include "base/attr.h"

struct config;
struct err;

enum listen_end {
	LISTEN_STOPPED, /* the parent was asked to stop (SIGTERM, SIGINT) */
	LISTEN_SESSION_DONE, /* in a worker: its last session is over; the caller exits */
};

/*
 * Run the listener of cfg->listen in the foreground until SIGTERM or SIGINT. Returns
 * 0 with *end set (the caller exits 0 in both cases), or -1 with err when it cannot
 * start: a bad or unsafe address, a bind failure, no run_as user (CAUSE_CONFIG,
 * CAUSE_OSERR, CAUSE_NOPERM).
 */
int listen_run(const struct config *cfg, int verbose, enum listen_end *end,
    struct err *e) MUST_CHECK;

#endif

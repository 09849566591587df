/*
 * listen.c: `mailout -bd`. See listen.h.
 *
 * The parent only binds, accepts, decides and hands over: it never reads a byte from a
 * client, so a hostile one can cost it no more than an accept and a sendmsg. Sessions are
 * served by a pool of worker processes, each forked with a control channel of its own (a
 * Unix socketpair): an allowed connection goes to an idle worker as an SCM_RIGHTS message
 * (the socket, with the client's address and the decision), else to a newly forked one.
 * A worker serves one client at a time, forgets it (submit_reset, a fresh struct session,
 * the socket closed), writes one byte back ("done") and waits for the next. Forking per
 * connection cost 9 to 12 ms of CPU each (page tables, copy-on-write faults, symbols bound
 * again); a worker pays it once per MAX_WORKER_SESSIONS sessions.
 *
 * The pool forks without waiting up to POOL_WORKERS busy workers. Past them an accepted
 * connection waits in the parent, oldest first, for a worker to finish its session, for at
 * most POOL_WAIT_MS, and then gets one of its own. Short sessions free a worker within
 * milliseconds, and then the CPU bounds the rate, not the number of processes: 50 clients
 * at once are served by about POOL_WORKERS workers at the same rate, and each worker holds
 * a few hundred KiB of its own. Long or stalled sessions cannot starve the others: the pool
 * grows by one for each connection that waited POOL_WAIT_MS, up to the limits.
 *
 * The parent's state is the table of workers (pid, channel, busy or idle, and while busy the
 * listening socket and client address) and the connections waiting; the limits count connections,
 * served or waiting: an idle worker is not a connection. The parent alone retires a worker (after
 * MAX_WORKER_SESSIONS sessions, or MAX_WORKER_IDLE seconds idle) by closing its channel, so no
 * socket is ever sent to a worker that is leaving; a worker ends when it reads EOF, which is also
 * how it learns that the parent ended (SIGTERM or kill -9): a session under way finishes first. A
 * worker that dies (a kill, session_timeout's SIGALRM) is seen as EOF on its channel and by
 * waitpid; its slot is freed at once.
 * Signals reach the poll loop through a pipe (the self-pipe trick), so that no work is
 * done in a handler.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <malloc.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/cidr.h"
#include "base/err.h"
#include "base/log.h"
#include "base/clock.h"
#include "base/hooks.h"
#include "base/mem.h"
#include "base/priv.h"
#include "config/config.h"
#include "message/rfc5322.h"
#include "secrets/users.h"
#include "net/fdstream.h"
#include "net/stream.h"
#include "net/tls.h"
#include "queue/queue.h"
#include "send/listen.h"
#include "send/reply.h"
#include "send/submit.h"
#include "smtp/serve.h"

/* Connections waiting for accept(): the kernel's queue, beyond our limits. */
#define LISTEN_BACKLOG 128
/* Workers a connection is offered to when a handover fails, before it gets 421. */
#define HANDOVER_TRIES 3
/* Stack kept under the worker's loop when the dead part is released: its next calls. */
#define STACK_KEEP (16 * 1024)
/* Milliseconds a worker waits for its next client before giving back its memory. */
#define RELEASE_AFTER_MS 100

struct lsock {
	int fd;
	char name[NI_MAXHOST + 16]; /* "127.0.0.1:25", "[::1]:25" */
	unsigned active; /* its connections: served by a worker, or waiting for one */
};

/* A worker of the pool, in the parent's table. */
struct child {
	pid_t pid; /* 0: a free slot */
	int ch; /* the parent's end of its control channel */
	int busy;
	size_t sock; /* busy: the listening socket and the client */
	struct cidr ip;
	unsigned uses; /* sessions handed to it */
	int64_t idle_since; /* now_ms() when it last said done */
};

enum access { ACC_ALLOW, ACC_SAFE, ACC_REFUSE };

/* What the parent sends a worker with the client's socket (SCM_RIGHTS). */
struct handover {
	struct cidr ip;
	enum access acc;
	size_t sock; /* the listening socket's index */
};

/* An accepted and allowed connection waiting for a worker, in the parent. */
struct pending {
	int fd;
	struct handover h;
	int64_t since; /* now_ms() when accepted */
};

/* Failed logins of one client address, counted in the parent across its sessions. */
struct failures {
	struct cidr ip;
	unsigned n;
	time_t first; /* of the current window */
};

struct listener {
	const struct config *cfg;
	const struct listen_config *l;
	int verbose;
	struct lsock socks[MAX_LISTEN_SOCKETS];
	size_t nsocks;
	struct child *kids;
	size_t nkids; /* slots: every listening socket's max_connections */
	struct pollfd *pfd; /* sockets, signal pipe, failure pipe, then the channels */
	size_t *pkid; /* the slot of each channel in pfd */
	struct pending *pend; /* oldest first; never more than the slots */
	size_t npend;
	unsigned pool_workers; /* POOL_WORKERS, or the test's (hooks.h) */
	unsigned max_uses; /* MAX_WORKER_SESSIONS, or the test's (hooks.h) */
	int64_t max_idle_ms; /* MAX_WORKER_IDLE, likewise */
	struct cidr *own; /* this computer's addresses */
	size_t nown;
	struct failures *fails;
	size_t nfails;
	int failpipe[2]; /* children write a struct cidr per failure */
	/*
	 * Made once before any fork (aliases read, the queue's directories made): each
	 * session uses its own copy-on-write copy. NULL when that failed: then each session
	 * makes its own and says why it cannot.
	 */
	struct submit *sub;
	time_t sweep_at; /* 0, or when to sweep tmp/ for a session killed before */
};

/* What a worker serves: one client; made afresh for each. */
struct session {
	const struct listener *ls;
	struct submit *sub;
	char client[CIDR_STR_LEN];
	char who[CIDR_STR_LEN + 16];
	struct cidr ip;
	enum access acc;
	int ch; /* the worker's channel to the parent */
	int done; /* 1: said done to the parent, -1: could not (it is gone), 0: not yet */
	char *user; /* logged in as */
	struct str_list senders; /* the user's own senders (users_file) */
};

static int sigpipe_fds[2] = { -1, -1 };

static void
on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;
	ssize_t r;

	r = write(sigpipe_fds[1], &b, 1);
	(void)r;
	errno = saved;
}

static int
set_flags(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

/* "host:port" for messages; IPv6 in brackets. */
static void
sa_name(const struct sockaddr *sa, socklen_t len, char *out, size_t n)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
		NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, n, "?");
		return;
	}
	snprintf(out, n, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* This computer's addresses, for own_addresses = block or safe. */
static void
own_addresses(struct listener *ls)
{
	struct ifaddrs *ifa = NULL, *i;
	struct cidr c;

	if (getifaddrs(&ifa) == -1) {
		log_line(LOG_WARNING, "listen: cannot list this computer's addresses: %s",
		    strerror(errno));
		return;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || cidr_from_sockaddr(i->ifa_addr, &c) == -1)
			continue;
		ls->own = xrealloc(ls->own, (ls->nown + 1) * sizeof(*ls->own));
		ls->own[ls->nown++] = c;
	}
	freeifaddrs(ifa);
}

/* Bind one resolved address. 0, or -1 with err. */
static int
bind_one(struct listener *ls, const struct addrinfo *ai, struct err *e)
{
	struct lsock *s;
	struct cidr c;
	const struct listen_config *l = ls->l;
	int fd = -1, on = 1, rc = -1;

	if (ls->nsocks == MAX_LISTEN_SOCKETS) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "[listen] address: more than %d addresses",
		    MAX_LISTEN_SOCKETS);
		goto out;
	}
	s = &ls->socks[ls->nsocks];
	sa_name(ai->ai_addr, ai->ai_addrlen, s->name, sizeof(s->name));
	if (cidr_from_sockaddr(ai->ai_addr, &c) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "[listen] address %s: not an IP address",
		    s->name);
		goto out;
	}
	/* No open relay by accident: beyond loopback, someone must have said who may send. */
	if (!cidr_is_loopback(&c) && l->allow_from.n == 0 && l->auth == LAUTH_OFF) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "[listen] address %s is not a loopback "
		    "address, and neither allow_from nor auth = required is set: every host "
		    "that reaches it could send mail through the account (an open relay). Set "
		    "allow_from to the ranges of the devices, or auth = required",
		    s->name);
		goto out;
	}
	if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) == -1 ||
	    set_flags(fd) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (ai->ai_family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, LISTEN_BACKLOG) == -1) {
		/* The default ::1 on a host without IPv6: 127.0.0.1 is enough. */
		if (l->addrs_default && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) {
			log_line(LOG_NOTICE, "listen: not on %s: %s", s->name, strerror(errno));
			rc = 0;
			goto out;
		}
		err_set(e, ERR_TEMP, errno == EACCES ? CAUSE_NOPERM : CAUSE_OSERR,
		    "listen: cannot listen on %s: %s", s->name, strerror(errno));
		goto out;
	}
	s->fd = fd;
	s->active = 0;
	fd = -1;
	ls->nsocks++;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/* Resolve and bind every [listen] address. 0, or -1 with err. */
static int
bind_all(struct listener *ls, struct err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	const struct listen_addr *a;
	char port[16];
	size_t i;
	int r, rc = -1;

	for (i = 0; i < ls->l->addrs.n; i++) {
		a = &ls->l->addrs.v[i];
		snprintf(port, sizeof(port), "%u", a->port != 0 ? a->port : ls->l->port);
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		if ((r = getaddrinfo(a->host, port, &hints, &res)) != 0) {
			err_set(e, ERR_PERM, CAUSE_CONFIG, "[listen] address %s: %s", a->host,
			    gai_strerror(r));
			goto out;
		}
		/* A name is its first address: one IP to listen on, as the settings page says. */
		for (ai = res; ai != NULL; ai = ai->ai_next)
			if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
				break;
		if (ai == NULL) {
			err_set(e, ERR_PERM, CAUSE_CONFIG, "[listen] address %s: no IP address",
			    a->host);
			goto out;
		}
		if (bind_one(ls, ai, e) == -1)
			goto out;
		freeaddrinfo(res);
		res = NULL;
	}
	rc = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

/*
 * Bound, so root is no longer needed: become run_as, with its own group only (in system
 * mode the user's group is the one that owns the queue and the secrets).
 */
static int
drop_root(const struct listener *ls, struct err *e)
{
	const struct passwd *pw;
	int rc = -1;

	if (geteuid() != 0) {
		rc = 0;
		goto out;
	}
	errno = 0;
	if ((pw = getpwnam(ls->l->run_as)) == NULL) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "[listen] run_as = %s: no such user (the "
		    "listener does not stay root; create it as mailout(8) says, or name "
		    "another)",
		    ls->l->run_as);
		goto out;
	}
	if (pw->pw_uid == 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "[listen] run_as = %s: that is root",
		    ls->l->run_as);
		goto out;
	}
	if (setgroups(0, NULL) == -1 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1 || setuid(0) != -1) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "listen: cannot become %s: %s", ls->l->run_as,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	return rc;
}

static enum access
decide(const struct listener *ls, const struct cidr *ip, const char **why)
{
	const struct listen_config *l = ls->l;
	int own = cidr_in_list(ls->own, ls->nown, ip);

	*why = NULL;
	if (cidr_in_list(l->safe_ips.v, l->safe_ips.n, ip))
		return ACC_SAFE;
	if (own && l->own_addresses == OWN_SAFE)
		return ACC_SAFE;
	if (own && l->own_addresses == OWN_BLOCK) {
		*why = "an address of this computer (own_addresses = block)";
		return ACC_REFUSE;
	}
	if (l->allow_from.n > 0 && !cidr_in_list(l->allow_from.v, l->allow_from.n, ip)) {
		*why = "outside allow_from";
		return ACC_REFUSE;
	}
	return ACC_ALLOW;
}

/* A refusal in one line, as far as the socket takes it at once; then the connection ends. */
static void
refuse(int fd, const char *line)
{
	ssize_t r;

	r = send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)r;
	close(fd);
}

/* ---- the worker: one client at a time ---- */

static int
sess_submit(void *ctx, const char *sender, char *const *rcpts, size_t nrcpts, int msg_fd,
    const struct serve_params *p, struct serve_result *out)
{
	struct session *x = ctx;
	const struct listen_config *l = x->ls->l;
	struct submit_req r;
	struct submit_result res;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.account = l->relay == RELAY_FIXED ? l->account
	    : l->relay == RELAY_BY_USER     ? x->user
					    : NULL;
	r.sender_set = 1;
	r.sender = sender;
	r.rcpts = rcpts;
	r.nrcpts = nrcpts;
	for (i = 0; p->dsn_notify != NULL && i < nrcpts && r.dsn_notify == NULL; i++)
		r.dsn_notify = p->dsn_notify[i];
	r.dsn_ret = p->dsn_ret;
	r.dsn_envid = p->dsn_envid;
	r.body_8bit = p->body_8bit;
	r.fd = msg_fd;
	submit_message(x->sub, &r, &res);
	reply_from_submit(&res, out);
	log_line(out->code < 300 ? LOG_INFO : LOG_NOTICE,
	    "listen: client %s%s%s: from=<%s> "
	    "rcpts=%zu: %d %s",
	    x->client, x->user != NULL ? " user " : "", x->user != NULL ? x->user : "", sender,
	    nrcpts, out->code, out->text);
	return 0;
}

/* RCPT: a recipient whose aliases loop or lead nowhere is refused right away. */
static void
sess_rcpt(void *ctx, const char *rcpt, struct serve_result *out)
{
	struct session *x = ctx;

	reply_to_rcpt(x->sub, rcpt, out);
}

/* MAIL: senders = limits the envelope senders (a taken-over device cannot be the CEO). */
static void
sess_sender(void *ctx, const char *sender, struct serve_result *out)
{
	struct session *x = ctx;
	const struct str_list *s = x->senders.n > 0 ? &x->senders : &x->ls->l->senders;
	size_t i;

	out->code = s->n == 0 ? 250 : 550;
	for (i = 0; i < s->n && out->code != 250; i++)
		if (fnmatch(s->v[i], sender, FNM_CASEFOLD) == 0)
			out->code = 250;
	if (out->code != 250) {
		snprintf(out->text, sizeof(out->text),
		    "5.7.1 Sender <%s> not allowed "
		    "here",
		    sender);
		log_line(LOG_NOTICE,
		    "listen: client %s: sender <%s> refused (not in "
		    "senders)",
		    x->client, sender);
	}
}

/* AUTH: the users file or the one user. A failure is told to the parent, which counts. */
static int
sess_auth(void *ctx, const char *user, const char *password)
{
	struct session *x = ctx;
	const struct listen_config *l = x->ls->l;
	struct err e;
	ssize_t w;
	int r;

	err_init(&e);
	r = l->users_file != NULL ? users_check(l->users_file, user, password, &x->senders, &e)
				  : users_check_one(l->user, l->password_file, user, password, &e);
	if (r == 1) {
		x->user = xstrdup(user);
		log_line(LOG_INFO, "listen: client %s: logged in as %s", x->client, user);
	} else if (r == 0) {
		log_line(LOG_NOTICE, "listen: client %s: failed login as %s", x->client, user);
		w = write(x->ls->failpipe[1], &x->ip, sizeof(x->ip));
		(void)w;
	} else
		log_line(LOG_ERR, "listen: client %s: cannot check a login: %s", x->client, e.msg);
	return r;
}

/* STARTTLS: the server side of net/tls.c under the session's connection. */
static int
sess_starttls(void *ctx, struct conn *c, struct err *e)
{
	struct session *x = ctx;
	const struct listen_config *l = x->ls->l;
	struct stream *t;
	int rc = -1;

	if ((t = tls_accept(conn_stream(c), l->tls_cert_file, l->tls_key_file, l->tls_min_version,
		 e)) == NULL) {
		err_prefix(e, "-bd %s: STARTTLS: ", x->client);
		goto out;
	}
	conn_swap(c, t);
	rc = 0;
out:
	return rc;
}

/* Tell the parent this worker is free for the next client: 0, or -1 when it is gone. */
static int
say_done(int ch)
{
	return send(ch, "d", 1, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/*
 * QUIT: the worker is free before the client can read the 221, so that a client that
 * comes straight back is not refused by max_connections as if it were still here. What is
 * left (the 221, bounded by command_timeout) is not the session's any more: its timeout
 * ends here.
 */
static void
sess_quit(void *ctx)
{
	struct session *x = ctx;

	alarm(0);
	x->done = say_done(x->ch) == 0 ? 1 : -1;
}

/*
 * Serve the client on fd; closes it. Returns whether the parent was told the worker is
 * free (at QUIT): 1, -1 when it could not be (the parent is gone), 0 not yet.
 */
static int
serve_client(const struct listener *ls, int ch, int fd, const struct cidr *ip, enum access acc)
{
	struct session x;
	struct serve_opts o;
	struct conn *c = NULL;
	struct err e;
	const struct listen_config *l = ls->l;
	char line[MAX_REPLY_LINE];

	err_init(&e);
	memset(&x, 0, sizeof(x));
	x.ls = ls;
	x.ch = ch;
	x.acc = acc;
	x.ip = *ip;
	cidr_str(ip, x.client, sizeof(x.client));
	snprintf(x.who, sizeof(x.who), "-bd %s", x.client);
	/* No client holds a process longer than this, whatever it does. */
	if (l->session_timeout > 0)
		alarm(l->session_timeout);
	c = conn_new(fdstream_socket(fd, x.who, (int)l->command_timeout));
	memset(&o, 0, sizeof(o));
	x.sub = ls->sub;
	if ((x.sub == NULL && (x.sub = submit_new(ls->cfg, ls->verbose, &e)) == NULL) ||
	    submit_spool_dir(x.sub, &o.tmp_dir, &e) == -1) {
		snprintf(line, sizeof(line),
		    "421 4.3.0 %s Service not available, try again "
		    "later\r\n",
		    l->hostname);
		log_line(LOG_ERR, "listen: client %s: %s", x.client, e.msg);
		/* Best effort: the client is told to come back; a failure changes nothing. */
		err_init(&e);
		if (conn_puts(c, line, &e) == -1 || conn_flush(c, &e) == -1)
			goto out;
		goto out;
	}
	o.hostname = l->hostname;
	o.max_size = l->max_message_size;
	o.max_rcpts = l->max_recipients;
	o.timeout_s = (int)l->command_timeout;
	o.submit = sess_submit;
	o.check_rcpt = sess_rcpt;
	o.check_sender = sess_sender;
	if (l->auth == LAUTH_REQUIRED) {
		/*
		 * A password crosses the network in the clear only on this host's loopback;
		 * elsewhere AUTH waits for STARTTLS. A safe IP is never asked.
		 */
		o.auth = sess_auth;
		o.auth_offer = cidr_is_loopback(ip);
		o.auth_required = acc != ACC_SAFE;
	}
	if (l->tls_cert_file != NULL)
		o.starttls = sess_starttls;
	o.strict_crlf = 1;
	o.quit = sess_quit;
	o.who = x.who;
	o.ctx = &x;
	if (serve_run(c, &o, &e) == -1)
		log_line(LOG_NOTICE, "listen: %s", e.msg);
out:
	conn_free(c);
	/* The parent's (this process's copy) is freed by listen_run on the way out. */
	if (x.sub != ls->sub)
		submit_free(x.sub);
	free(x.user);
	users_senders_free(&x.senders);
	return x.done;
}

/*
 * When idle after a session: give back the memory it left dirty, so that an idle worker
 * costs the pages it shares with the parent and little more. The stack below this frame is dead
 * (the session's deepest calls wrote some 100 KiB there): MADV_DONTNEED turns it back into
 * untouched pages, which the next session faults in as it needs them. Its lowest address
 * is that of the mapping holding a local, from /proc/self/maps; when that cannot be read,
 * only the heap is trimmed. malloc_trim, last (stdio's buffer is freed by then), returns
 * the free pages of the heap. The memory is only advice to the kernel: nothing fails.
 */
static void
worker_release(void)
{
	char line[256], *end;
	FILE *f;
	uintptr_t here = (uintptr_t)&line, lo, hi, keep;
	long pg = sysconf(_SC_PAGESIZE);
	int bol = 1; /* line holds the beginning of a line of maps */

	if (pg <= 0 || (f = fopen("/proc/self/maps", "re")) == NULL)
		goto out;
	while (fgets(line, sizeof(line), f) != NULL) {
		lo = (uintptr_t)strtoull(line, &end, 16);
		if (bol && end != line && *end == '-') {
			hi = (uintptr_t)strtoull(end + 1, &end, 16);
			if (lo <= here && here < hi) {
				keep = (here - STACK_KEEP) & ~((uintptr_t)pg - 1);
				if (here > STACK_KEEP && keep > lo &&
				    madvise((void *)lo, keep - lo, MADV_DONTNEED) == -1)
					log_line(LOG_DEBUG, "listen: worker: madvise: %s",
					    strerror(errno));
				break;
			}
		}
		bol = strchr(line, '\n') != NULL;
	}
	fclose(f);
out:
	malloc_trim(0);
}

/*
 * One worker's life: take a client from the channel ch, serve it, forget it, say done;
 * until the channel ends (the parent retired this worker, or ended itself).
 */
static void
worker_run(const struct listener *ls, int ch)
{
	struct handover h;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct pollfd pfd;
	ssize_t n;
	int fd, done;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = &h;
		iov.iov_len = sizeof(h);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		if ((n = recvmsg(ch, &mh, MSG_CMSG_CLOEXEC)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		fd = -1;
		cm = CMSG_FIRSTHDR(&mh);
		if (cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		/* Only the parent writes here; anything else is a bug: stop rather than guess. */
		if (fd == -1 || n != (ssize_t)sizeof(h) ||
		    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
			if (fd != -1)
				close(fd);
			log_line(LOG_ERR, "listen: worker: a bad handover from the parent");
			break;
		}
		/* serve_client closes fd (its stream owns it) on every path. */
		done = serve_client(ls, ch, fd, &h.ip, h.acc);
		/* The session's timeout was this client's: it must not cut the next one. */
		alarm(0);
		if (ls->sub != NULL)
			submit_reset(ls->sub);
		if (done == -1 || (done == 0 && say_done(ch) == -1))
			break;
		/*
		 * Given back only when no client comes soon: a worker kept busy would fault it
		 * all in again at once, a cost per session for no gain.
		 */
		pfd.fd = ch;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, RELEASE_AFTER_MS) == 0)
			worker_release();
	}
}

/* ---- the parent ---- */

/* ip's connections, served or waiting: what max_connections_per_ip counts. */
static size_t
count_ip(const struct listener *ls, const struct cidr *ip)
{
	size_t i, n = 0;

	for (i = 0; i < ls->nkids; i++)
		if (ls->kids[i].pid != 0 && ls->kids[i].busy && cidr_contains(&ls->kids[i].ip, ip))
			n++;
	for (i = 0; i < ls->npend; i++)
		if (cidr_contains(&ls->pend[i].h.ip, ip))
			n++;
	return n;
}

static size_t
count_busy(const struct listener *ls)
{
	size_t i, n = 0;

	for (i = 0; i < ls->nkids; i++)
		if (ls->kids[i].pid != 0 && ls->kids[i].busy)
			n++;
	return n;
}

/* The entry of ip in the failure table, its window renewed when it ran out. */
static struct failures *
fails_of(struct listener *ls, const struct cidr *ip, int make)
{
	time_t now = time(NULL);
	size_t i, oldest = 0;
	struct failures *f = NULL;

	for (i = 0; i < ls->nfails; i++) {
		if (cidr_contains(&ls->fails[i].ip, ip))
			f = &ls->fails[i];
		if (ls->fails[i].first < ls->fails[oldest].first)
			oldest = i;
	}
	if (f == NULL && make) {
		/* Bounded: past the table's size the stalest address is forgotten. */
		if (ls->nfails < MAX_LISTEN_FAILURE_IPS)
			f = &ls->fails[ls->nfails++];
		else
			f = &ls->fails[oldest];
		f->ip = *ip;
		f->n = 0;
		f->first = now;
	}
	if (f != NULL && now - f->first >= LOGIN_FAILURE_WINDOW) {
		f->n = 0;
		f->first = now;
	}
	return f;
}

static void
read_failures(struct listener *ls)
{
	struct cidr ip;
	struct failures *f;

	while (read(ls->failpipe[0], &ip, sizeof(ip)) == (ssize_t)sizeof(ip))
		if ((f = fails_of(ls, &ip, 1)) != NULL)
			f->n++;
}

/*
 * Slot i is free again: its worker died (EOF on the channel, or reaped), or is retired (the
 * channel closed here; the worker reads EOF and ends, reaped later by its pid alone). A
 * busy worker's connection no longer counts.
 */
static void
slot_free(struct listener *ls, size_t i)
{
	struct child *k = &ls->kids[i];

	if (k->ch != -1)
		close(k->ch);
	if (k->busy)
		ls->socks[k->sock].active--;
	memset(k, 0, sizeof(*k));
	k->ch = -1;
}

static void
reap(struct listener *ls)
{
	pid_t pid;
	size_t i;
	int st, killed = 0;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (WIFSIGNALED(st))
			killed = 1;
		for (i = 0; i < ls->nkids; i++)
			if (ls->kids[i].pid == pid) {
				slot_free(ls, i);
				break;
			}
	}
	/*
	 * A session cut by a signal (its timeout, a kill) may have left its spool file; the
	 * sweep takes a dead writer's file only once it is QUEUE_DEAD_AGE old.
	 */
	if (killed && ls->sub != NULL && ls->sweep_at == 0)
		ls->sweep_at = time(NULL) + QUEUE_DEAD_AGE + 1;
}

/* What a worker's channel says: "done" (one byte a session), or EOF: it is gone. */
static void
read_channel(struct listener *ls, size_t i, int64_t now)
{
	struct child *k = &ls->kids[i];
	char b[16];
	ssize_t n, j;

	for (;;) {
		n = recv(k->ch, b, sizeof(b), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			slot_free(ls, i);
			break;
		}
		for (j = 0; j < n; j++) {
			if (!k->busy)
				continue;
			k->busy = 0;
			ls->socks[k->sock].active--;
			k->idle_since = now;
		}
		/* Retired by the parent, never by itself: no client is sent to a leaving one. */
		if (!k->busy && k->uses >= ls->max_uses) {
			slot_free(ls, i);
			break;
		}
	}
}

/* Idle workers past MAX_WORKER_IDLE end; returns when the next one will, or -1. */
static int64_t
retire_idle(struct listener *ls, int64_t now)
{
	int64_t next = -1, at;
	size_t i;

	for (i = 0; i < ls->nkids; i++) {
		if (ls->kids[i].pid == 0 || ls->kids[i].busy)
			continue;
		at = ls->kids[i].idle_since + ls->max_idle_ms;
		if (at <= now)
			slot_free(ls, i);
		else if (next == -1 || at < next)
			next = at;
	}
	return next;
}

/*
 * Milliseconds poll may wait: until the sweep, an idle worker's end or the oldest waiting
 * connection's own worker is due, else -1.
 */
static int
poll_wait(const struct listener *ls, int64_t idle_at, int64_t now)
{
	time_t t = time(NULL);
	int64_t ms = -1;

	if (ls->npend > 0) {
		if (idle_at == -1 || ls->pend[0].since + POOL_WAIT_MS < idle_at)
			idle_at = ls->pend[0].since + POOL_WAIT_MS;
	}
	if (ls->sweep_at != 0)
		ms = ls->sweep_at <= t ? 0 : (int64_t)(ls->sweep_at - t) * 1000;
	if (idle_at != -1 && (ms == -1 || idle_at - now < ms))
		ms = idle_at <= now ? 0 : idle_at - now;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/*
 * Fork a worker into free slot i. The client's socket cfd, which the parent holds, is not
 * the worker's: it comes over the channel like every other. Returns 0 in the parent, -1
 * when it failed (errno), and 1 in the worker once its life is over.
 */
static int
spawn(struct listener *ls, size_t i, int cfd)
{
	int sv[2], ret = -1;
	size_t j;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		goto out;
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		goto out;
	}
	if (pid == 0) {
		signal(SIGCHLD, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		close(sigpipe_fds[0]);
		close(sigpipe_fds[1]);
		close(ls->failpipe[0]);
		ls->failpipe[0] = -1;
		/* The connections waiting in the parent: a copy here would keep them open. */
		for (j = 0; j < ls->npend; j++)
			if (ls->pend[j].fd != cfd)
				close(ls->pend[j].fd);
		ls->npend = 0;
		close(cfd);
		close(sv[0]);
		/*
		 * The other workers' channels: a copy here would keep each open after the
		 * parent closed or lost it, and that worker would never read its EOF.
		 */
		for (j = 0; j < ls->nkids; j++)
			if (ls->kids[j].ch != -1) {
				close(ls->kids[j].ch);
				ls->kids[j].ch = -1;
			}
		/* Closed here, not again on the way out: their numbers may be reused by then. */
		for (j = 0; j < ls->nsocks; j++) {
			close(ls->socks[j].fd);
			ls->socks[j].fd = -1;
		}
		worker_run(ls, sv[1]);
		close(sv[1]);
		ret = 1;
		goto out;
	}
	close(sv[1]);
	memset(&ls->kids[i], 0, sizeof(ls->kids[i]));
	ls->kids[i].pid = pid;
	ls->kids[i].ch = sv[0];
	ret = 0;
out:
	return ret;
}

/* Send the client's socket to the worker in slot i. 0, or -1: the worker is gone. */
static int
hand_over(const struct listener *ls, size_t i, int fd, const struct handover *h)
{
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = (void *)h;
	iov.iov_len = sizeof(*h);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	/* An idle worker has nothing queued: this never waits. */
	while ((n = sendmsg(ls->kids[i].ch, &mh, MSG_DONTWAIT | MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	return n == (ssize_t)sizeof(*h) ? 0 : -1;
}

/* The idle worker that said done last (the others age out when fewer are needed), or -1. */
static ssize_t
idle_worker(const struct listener *ls)
{
	ssize_t best = -1;
	size_t i;

	for (i = 0; i < ls->nkids; i++)
		if (ls->kids[i].pid != 0 && !ls->kids[i].busy &&
		    (best == -1 || ls->kids[i].idle_since > ls->kids[best].idle_since))
			best = (ssize_t)i;
	return best;
}

enum give { GIVEN, WAIT, IN_WORKER };

/*
 * Give the oldest waiting connection to a worker: an idle one, else a new one if may_fork.
 * GIVEN: handed over, or refused (421) when neither a worker nor a fork would take it;
 * WAIT: no idle worker and may not fork; IN_WORKER: in a worker forked here, its life over.
 */
static enum give
give(struct listener *ls, int may_fork)
{
	struct pending *p = &ls->pend[0];
	struct lsock *s = &ls->socks[p->h.sock];
	char addr[CIDR_STR_LEN];
	ssize_t slot;
	int tries, r;
	enum give ret = GIVEN;

	cidr_str(&p->h.ip, addr, sizeof(addr));
	for (tries = 0; tries < HANDOVER_TRIES; tries++) {
		if ((slot = idle_worker(ls)) == -1) {
			if (!may_fork) {
				ret = WAIT;
				goto out;
			}
			for (slot = 0; (size_t)slot < ls->nkids && ls->kids[slot].pid != 0; slot++)
				;
			/* Connections are fewer than the slots (the limits): a bug if not. */
			if ((size_t)slot == ls->nkids)
				break;
			if ((r = spawn(ls, (size_t)slot, p->fd)) == 1) {
				ret = IN_WORKER;
				goto out;
			}
			if (r == -1) {
				log_line(LOG_ERR, "listen: refused %s on %s: cannot fork: %s",
				    addr, s->name, strerror(errno));
				refuse(p->fd, "421 4.3.0 Service busy, try again later\r\n");
				s->active--;
				goto out;
			}
		}
		if (hand_over(ls, (size_t)slot, p->fd, &p->h) == 0) {
			ls->kids[slot].busy = 1;
			ls->kids[slot].sock = p->h.sock;
			ls->kids[slot].ip = p->h.ip;
			ls->kids[slot].uses++;
			close(p->fd);
			goto out;
		}
		/* Gone between poll and now (a kill): the next one, or a new one, takes it. */
		log_line(LOG_WARNING, "listen: worker %ld is gone: %s", (long)ls->kids[slot].pid,
		    strerror(errno));
		slot_free(ls, (size_t)slot);
	}
	log_line(LOG_ERR, "listen: refused %s on %s: no worker took it", addr, s->name);
	refuse(p->fd, "421 4.3.0 Service busy, try again later\r\n");
	s->active--;
out:
	if (ret == GIVEN) {
		ls->npend--;
		memmove(&ls->pend[0], &ls->pend[1], ls->npend * sizeof(ls->pend[0]));
	}
	return ret;
}

/*
 * The waiting connections, oldest first, to idle workers, or to new ones while fewer than
 * pool_workers are busy or once one has waited POOL_WAIT_MS. Returns 1 in a worker forked
 * here (its life is over), 0 in the parent.
 */
static int
dispatch(struct listener *ls, int64_t now)
{
	enum give g = GIVEN;

	while (ls->npend > 0 && g == GIVEN)
		g = give(ls,
		    count_busy(ls) < ls->pool_workers || now - ls->pend[0].since >= POOL_WAIT_MS);
	return g == IN_WORKER;
}

/* Accept one connection on socket si: refused, or waiting for a worker (dispatch). */
static void
accept_one(struct listener *ls, size_t si)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct lsock *s = &ls->socks[si];
	struct handover h;
	struct failures *f;
	const char *why;
	char addr[CIDR_STR_LEN], line[MAX_REPLY_LINE];
	int fd;

	/* Non-blocking, as fdstream_socket wants it: a read that waits must time out. */
	if ((fd = accept4(s->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1)
		goto out;
	memset(&h, 0, sizeof(h));
	h.sock = si;
	if (cidr_from_sockaddr((struct sockaddr *)&ss, &h.ip) == -1) {
		close(fd);
		goto out;
	}
	cidr_str(&h.ip, addr, sizeof(addr));
	if ((h.acc = decide(ls, &h.ip, &why)) == ACC_REFUSE) {
		log_line(LOG_NOTICE, "listen: refused %s on %s: %s", addr, s->name, why);
		snprintf(line, sizeof(line), "554 5.7.1 %s: access denied\r\n", ls->l->hostname);
		refuse(fd, line);
		goto out;
	}
	if ((f = fails_of(ls, &h.ip, 0)) != NULL && f->n >= MAX_LOGIN_FAILURES) {
		log_line(LOG_NOTICE, "listen: refused %s on %s: %u failed logins in %d s", addr,
		    s->name, f->n, LOGIN_FAILURE_WINDOW);
		snprintf(line, sizeof(line),
		    "421 4.7.0 %s Too many failed logins, try again "
		    "later\r\n",
		    ls->l->hostname);
		refuse(fd, line);
		goto out;
	}
	if (s->active >= ls->l->max_connections ||
	    count_ip(ls, &h.ip) >= ls->l->max_connections_per_ip) {
		why = s->active >= ls->l->max_connections ? "max_connections"
							  : "max_connections_per_ip";
		log_line(LOG_NOTICE, "listen: refused %s on %s: %s reached", addr, s->name, why);
		snprintf(line, sizeof(line),
		    "421 4.7.0 %s Too many connections, try again "
		    "later\r\n",
		    ls->l->hostname);
		refuse(fd, line);
		goto out;
	}
	ls->pend[ls->npend].fd = fd;
	ls->pend[ls->npend].h = h;
	ls->pend[ls->npend].since = now_ms();
	ls->npend++;
	s->active++;
out:
	return;
}

int
listen_run(const struct config *cfg, int verbose, enum listen_end *end, struct err *e)
{
	struct listener ls;
	struct sigaction sa;
	struct err se;
	const char *spool;
	unsigned char sig;
	int64_t now, idle_at = -1;
	size_t i, np;
	int stop = 0, rc = -1;

	*end = LISTEN_STOPPED;
	memset(&ls, 0, sizeof(ls));
	ls.cfg = cfg;
	ls.l = &cfg->listen;
	ls.verbose = verbose;
	ls.failpipe[0] = ls.failpipe[1] = -1;
	ls.pool_workers = (unsigned)hooks_pool_workers(POOL_WORKERS);
	ls.max_uses = (unsigned)hooks_worker_uses(MAX_WORKER_SESSIONS);
	ls.max_idle_ms = (int64_t)hooks_worker_idle(MAX_WORKER_IDLE) * 1000;
	if (bind_all(&ls, e) == -1 || drop_root(&ls, e) == -1)
		goto out;
	if (ls.nsocks == 0) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "listen: no address to listen on");
		goto out;
	}
	/* Read in each session as run_as: a key only root can read would fail every one. */
	if (ls.l->tls_cert_file != NULL &&
	    (access(ls.l->tls_cert_file, R_OK) == -1 || access(ls.l->tls_key_file, R_OK) == -1)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "[listen] tls_cert_file %s or tls_key_file "
		    "%s: %s (both must be readable by the user the listener runs as, run_as)",
		    ls.l->tls_cert_file, ls.l->tls_key_file, strerror(errno));
		goto out;
	}
	own_addresses(&ls);
	/*
	 * What every session would otherwise do again (read the aliases, make the queue's
	 * directories, sweep tmp/), once here. A failure is each session's to report (421).
	 */
	err_init(&se);
	if ((ls.sub = submit_new(cfg, verbose, &se)) == NULL ||
	    submit_spool_dir(ls.sub, &spool, &se) == -1) {
		log_line(LOG_WARNING, "listen: %s (each session tries again)", se.msg);
		submit_free(ls.sub);
		ls.sub = NULL;
	} else {
		submit_set_sweep(ls.sub, 0);
		submit_sweep(ls.sub);
	}
	ls.nkids = ls.nsocks * ls.l->max_connections;
	ls.kids = xcalloc(ls.nkids + 1, sizeof(*ls.kids));
	for (i = 0; i < ls.nkids + 1; i++)
		ls.kids[i].ch = -1;
	ls.pfd = xcalloc(ls.nsocks + 2 + ls.nkids, sizeof(*ls.pfd));
	ls.pkid = xcalloc(ls.nkids + 1, sizeof(*ls.pkid));
	ls.pend = xcalloc(ls.nkids + 1, sizeof(*ls.pend));
	ls.fails = xcalloc(MAX_LISTEN_FAILURE_IPS, sizeof(*ls.fails));
	if (pipe(sigpipe_fds) == -1 || set_flags(sigpipe_fds[0]) == -1 ||
	    set_flags(sigpipe_fds[1]) == -1 || pipe(ls.failpipe) == -1 ||
	    set_flags(ls.failpipe[0]) == -1 || set_flags(ls.failpipe[1]) == -1) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "listen: pipe: %s", strerror(errno));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (i = 0; i < ls.nsocks; i++)
		log_line(LOG_INFO, "listen: accepting on %s", ls.socks[i].name);
	while (!stop) {
		for (i = 0; i < ls.nsocks; i++) {
			ls.pfd[i].fd = ls.socks[i].fd;
			ls.pfd[i].events = POLLIN;
		}
		ls.pfd[i].fd = sigpipe_fds[0];
		ls.pfd[i].events = POLLIN;
		ls.pfd[i + 1].fd = ls.failpipe[0];
		ls.pfd[i + 1].events = POLLIN;
		np = ls.nsocks + 2;
		for (i = 0; i < ls.nkids; i++)
			if (ls.kids[i].ch != -1) {
				ls.pkid[np - ls.nsocks - 2] = i;
				ls.pfd[np].fd = ls.kids[i].ch;
				ls.pfd[np].events = POLLIN;
				ls.pfd[np].revents = 0;
				np++;
			}
		if (poll(ls.pfd, np, poll_wait(&ls, idle_at, now_ms())) == -1) {
			if (errno == EINTR)
				continue;
			err_set(e, ERR_TEMP, CAUSE_OSERR, "listen: poll: %s", strerror(errno));
			goto out;
		}
		if (ls.pfd[ls.nsocks].revents & POLLIN)
			while (read(sigpipe_fds[0], &sig, 1) == 1)
				if (sig == SIGTERM || sig == SIGINT)
					stop = 1;
		reap(&ls);
		now = now_ms();
		/* Before any accept: a worker that said done is free for the next client. */
		for (i = ls.nsocks + 2; i < np; i++)
			if ((ls.pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    ls.kids[ls.pkid[i - ls.nsocks - 2]].ch == ls.pfd[i].fd)
				read_channel(&ls, ls.pkid[i - ls.nsocks - 2], now);
		idle_at = retire_idle(&ls, now);
		if (ls.sweep_at != 0 && time(NULL) >= ls.sweep_at) {
			ls.sweep_at = 0;
			submit_sweep(ls.sub);
		}
		/* Before any accept: a failure just reported counts for the next connection. */
		read_failures(&ls);
		for (i = 0; i < ls.nsocks && !stop; i++)
			if (ls.pfd[i].revents & POLLIN)
				accept_one(&ls, i);
		if (!stop && dispatch(&ls, now_ms()) == 1) {
			*end = LISTEN_SESSION_DONE;
			rc = 0;
			goto out;
		}
	}
	log_line(LOG_INFO, "listen: stopped; sessions under way end on their own");
	rc = 0;
out:
	for (i = 0; i < ls.nsocks; i++)
		if (ls.socks[i].fd != -1)
			close(ls.socks[i].fd);
	/*
	 * Idle workers read EOF and end now; a busy one finishes its session first (its done
	 * finds no reader), then reads EOF. In a worker, this table has no channel left.
	 */
	for (i = 0; i < ls.nkids; i++)
		if (ls.kids[i].ch != -1)
			close(ls.kids[i].ch);
	/* Accepted, never greeted: told, so that the client tries again later. */
	for (i = 0; i < ls.npend; i++)
		refuse(ls.pend[i].fd, "421 4.3.2 Service shutting down, try again later\r\n");
	submit_free(ls.sub);
	free(ls.kids);
	free(ls.pfd);
	free(ls.pkid);
	free(ls.pend);
	free(ls.own);
	free(ls.fails);
	if (ls.failpipe[0] != -1)
		close(ls.failpipe[0]);
	if (ls.failpipe[1] != -1)
		close(ls.failpipe[1]);
	return rc;
}

/*
 * submit.c: one message from its envelope to the relay or the queue. See submit.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/attr.h"
#include "base/bounds.h"
#include "base/path.h"
#include "message/aliases.h"
#include "base/buf.h"
#include "config/config.h"
#include "send/deliver.h"
#include "send/held.h"
#include "base/err.h"
#include "message/intake.h"
#include "base/log.h"
#include "base/priv.h"
#include "queue/queue.h"
#include "message/rfc5322.h"
#include "send/rate.h"
#include "send/runq.h"
#include "send/send.h"
#include "send/submit.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/user.h"

#define PROG "mailout"

struct submit {
	const struct config *cfg;
	struct aliases *aliases;
	struct deliver_opts dopts;
	struct send_ctx *sc;
	char *qdir;
	struct queue rq; /* qdir, for the accounts' sending windows (rate.h) */
	/*
	 * Where spool files are made (prepare_spool): the queue's tmp/, or with spool_anon a
	 * temporary directory where they are anonymous: queue = off, or a user whose queue
	 * cannot be made (noqueue says why: HOME not writable, /nonexistent, /var/www).
	 */
	char *spool_dir;
	int spool_anon;
	char *noqueue;
	const char *domain; /* qualifies local names for this message */
	const char *config_file; /* -C, for the queue runs made here */
	int verbose;
	int warned_short; /* short_domain_warning said it */
	int sweep_off; /* the caller sweeps tmp/ (submit_set_sweep) */
	/* queue/ as flush_after_send last found it empty (a -bd worker sends many). */
	struct queue_stamp empty;
	int empty_known;
};

static void warn_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr; callers may have pointed stderr at /dev/null: the log has it too. */
static void
warn_line(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* NOINLINE (base/attr.h): its 5 KiB line stays out of the frames of the sending path. */
static NOINLINE void
report(const struct err *e)
{
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];

	warn_line("%s", err_str(e, line, sizeof(line)));
}

static void
aliases_warning(void *ctx, const char *file, unsigned line, const char *msg)
{
	struct submit *s = ctx;

	log_line(LOG_WARNING, "aliases %s:%u: %s", file, line, msg);
	if (s->verbose)
		warn_line("%s:%u: %s", file, line, msg);
}

int
submit_queue_dir(const struct config *cfg, char **dir, struct err *e)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	int rc = -1;

	/*
	 * queue_dir from the config, else the system queue for root and in system mode (the
	 * setgid install: one queue for all users, priv.h), else the user's state directory
	 * (from getpwuid, never $HOME: cron keeps HOME=/root).
	 */
	if (cfg->queue_dir != NULL)
		*dir = xstrdup(cfg->queue_dir);
	else if (getuid() == 0 || priv_system())
		*dir = xstrdup(LOCALSTATEDIR "/spool/mailout");
	else if (xdg != NULL && xdg[0] == '/' && getuid() == geteuid()) {
		if ((*dir = path_fmt("%s/mailout/queue", xdg)) == NULL) {
			err_set(e, ERR_TEMP, CAUSE_CANTCREAT,
			    "no queue directory: "
			    "XDG_STATE_HOME is too long (%zu bytes)",
			    strlen(xdg));
			goto out;
		}
	} else if ((*dir = path_fmt("%s/.local/state/mailout/queue", user_home())) == NULL) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT,
		    "no queue directory: the home directory "
		    "%.64s... is too long",
		    user_home());
		goto out;
	}
	rc = 0;
out:
	return rc;
}

struct submit *
submit_new(const struct config *cfg, int verbose, struct err *e)
{
	struct submit *s = xcalloc(1, sizeof(*s)), *ret = NULL;

	s->cfg = cfg;
	s->verbose = verbose;
	s->dopts.verbose = verbose;
	s->sc = send_new(cfg, &s->dopts);
	if (submit_queue_dir(cfg, &s->qdir, e) == -1)
		goto out;
	/*
	 * The windows are counted in the queue directory even with queue = off (then a
	 * message over a limit fails with 75): every process must see the same counters.
	 */
	if (queue_open(&s->rq, s->qdir, 0, e) == -1)
		goto out;
	send_set_queue(s->sc, &s->rq, 0);
	/* A broken aliases file fails every message: mail to root must not go astray. */
	if (cfg->aliases != NULL && cfg->aliases[0] != '\0' &&
	    (s->aliases = aliases_load(cfg->aliases, aliases_warning, s, e)) == NULL)
		goto out;
	ret = s;
	s = NULL;
out:
	submit_free(s);
	return ret;
}

void
submit_free(struct submit *s)
{
	if (s == NULL)
		return;
	send_free(s->sc);
	queue_close(&s->rq);
	aliases_free(s->aliases);
	free(s->qdir);
	free(s->spool_dir);
	free(s->noqueue);
	free(s);
}

void
submit_reset(struct submit *s)
{
	send_free(s->sc);
	s->sc = send_new(s->cfg, &s->dopts);
	send_set_queue(s->sc, &s->rq, 0);
	s->domain = NULL;
	s->config_file = NULL;
}

/* $TMPDIR when it is absolute (never in system mode: secure_getenv), else /tmp. */
static const char *
tmp_dir(void)
{
	const char *t = secure_getenv("TMPDIR");

	return t != NULL && t[0] == '/' ? t : "/tmp";
}

/*
 * Decide once where spool files go. With the queue on, its directories are made now; in
 * per-user mode (no queue_dir, not root, not system mode) a queue that cannot be made is
 * no reason to refuse the message: it is spooled anonymously and sent, and only if it
 * cannot go now does the user hear that there is no queue (deliver_message). Anywhere
 * else the error stays the spool's (73), as the administrator chose the directory.
 * queue = off makes no directory at all. 0, or -1 with err (a name too long).
 */
static int
prepare_spool(struct submit *s, struct err *e)
{
	struct queue q;
	struct err qe;
	int per_user = s->cfg->queue_dir == NULL && getuid() != 0 && !priv_system();
	int rc = -1;

	if (s->spool_dir != NULL) {
		rc = 0;
		goto out;
	}
	err_init(&qe);
	if (!s->cfg->queue)
		s->spool_anon = 1;
	else {
		if (queue_open(&q, s->qdir, 1, &qe) == -1 && per_user) {
			s->spool_anon = 1;
			s->noqueue = xstrdup(qe.msg);
		}
		queue_close(&q);
	}
	if (s->spool_anon)
		s->spool_dir = xstrdup(tmp_dir());
	else if ((s->spool_dir = path_fmt("%s/tmp", s->qdir)) == NULL) {
		err_set(e, ERR_PERM, CAUSE_CANTCREAT,
		    "the queue directory name %.64s... is too "
		    "long",
		    s->qdir);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

int
submit_spool_dir(struct submit *s, const char **dir, struct err *e)
{
	int rc = -1;

	if (prepare_spool(s, e) == -1)
		goto out;
	*dir = s->spool_dir;
	rc = 0;
out:
	return rc;
}

/*
 * The domain that local names get: default_domain, else /etc/mailname (as Debian's MTAs
 * do), else the account's EHLO domain (by default the host's FQDN).
 */
static const char *
local_domain(const struct submit *s, const struct account *a)
{
	if (s->cfg->default_domain != NULL && s->cfg->default_domain[0] != '\0')
		return s->cfg->default_domain;
	if (mail_name() != NULL)
		return mail_name();
	return a != NULL ? a->domain : host_name();
}

/* A bare name qualified with a domain that has no dot: said once per run. */
static void
short_domain_warning(struct submit *s, const char *name)
{
	if (s->warned_short || strchr(s->domain, '.') != NULL)
		return;
	s->warned_short = 1;
	warn_line("warning: bare names like %s get the domain %s, which is only a host name "
		  "(no default_domain in sendmail.conf, no /etc/mailname, no domain in the host "
		  "name); set default_domain",
	    name, s->domain);
	log_line(LOG_WARNING,
	    "warning: bare names like %s get the domain %s (no "
	    "default_domain, no /etc/mailname)",
	    name, s->domain);
}

int
submit_resolve(struct submit *s, const char *rcpt, struct addrlist *out, struct err *e)
{
	struct addrlist x;
	size_t i;
	char *q;
	int rc = -1;

	addrlist_init(&x);
	if (s->domain == NULL)
		s->domain = local_domain(s, NULL);
	if (aliases_expand(s->aliases, rcpt, NULL, &x, e) == -1)
		goto out;
	for (i = 0; i < x.n; i++) {
		if (aliases_is_local(x.v[i], NULL) && strchr(x.v[i], '@') == NULL)
			short_domain_warning(s, x.v[i]);
		q = aliases_qualify(x.v[i], s->domain);
		addrlist_add(out, q);
		free(q);
	}
	rc = 0;
out:
	addrlist_free(&x);
	return rc;
}

static int
map_local(void *ctx, const char *addr, struct addrlist *out, struct err *e)
{
	return submit_resolve(ctx, addr, out, e);
}

/* The account's own address, if it names one (a pattern like *@x selects, it is no address). */
static char *
account_addr(const struct account *a)
{
	if (a->from != NULL && strpbrk(a->from, "*?[") == NULL)
		return config_expand(a->from);
	return NULL;
}

/* The n bytes of local, '@', domain: a new string, or NULL when that is too long. */
static char *
at_domain(const char *local, size_t n, const char *domain)
{
	struct buf b;
	char *p = NULL;

	buf_init(&b, MAX_ADDRESS * 2);
	if (buf_add(&b, local, n) == 0 && buf_addf(&b, "@%s", domain) == 0)
		p = buf_steal(&b);
	buf_free(&b);
	return p;
}

static int
sender_too_long(const struct submit *s, const char *sender, struct err *e)
{
	return err_set(e, ERR_PERM, CAUSE_USAGE,
	    "the sender %.64s%s at the domain %.64s%s is "
	    "too long for an address",
	    sender, strlen(sender) > 64 ? "..." : "", s->domain,
	    strlen(s->domain) > 64 ? "..." : "");
}

/*
 * A sender that is only a local name (cronie's -f root) gets the local domain. NULL
 * when the result would be too long.
 */
static char *
qualify_sender(const struct submit *s, const char *sender)
{
	const char *at;

	if (sender[0] == '\0' || !aliases_is_local(sender, NULL))
		return xstrdup(sender);
	at = strrchr(sender, '@');
	return at_domain(sender, at != NULL ? (size_t)(at - sender) : strlen(sender), s->domain);
}

/*
 * The envelope sender: -f (qualified), else the account's from, else the real user. 0,
 * or -1 with err when it would be too long.
 */
static int
envelope_sender(const struct submit *s, const struct submit_req *r, const struct account *a,
    char **sender, struct err *e)
{
	const char *who = r->sender_set ? r->sender : user_name();

	if (r->sender_set)
		*sender = qualify_sender(s, r->sender);
	else if ((*sender = account_addr(a)) == NULL)
		*sender = at_domain(who, strlen(who), s->domain);
	return *sender != NULL ? 0 : sender_too_long(s, who, e);
}

static void
print_dry_run(const struct account *a, const struct msg *m)
{
	char block[IO_BLOCK];
	ssize_t n;
	size_t i;

	printf("account: %s\nrelay: %s:%u\nsender: <%s>\n", a->name, a->host, a->port, m->sender);
	for (i = 0; i < m->nrcpts; i++)
		printf("recipient: <%s>\n", m->rcpts[i]);
	printf("\n");
	fflush(stdout);
	if (lseek(m->fd, 0, SEEK_SET) == -1)
		return;
	while ((n = read(m->fd, block, sizeof(block))) > 0)
		if (fwrite(block, 1, (size_t)n, stdout) != (size_t)n)
			break;
	fflush(stdout);
}

/*
 * Replace the recipients intake found by their resolution: aliases for local ones, then
 * the local domain for bare names. The result is deduplicated and held to the limit.
 */
static int
expand_rcpts(struct submit *s, const struct account *a, struct msg *m, struct err *e)
{
	struct addrlist out;
	unsigned max = a->max_recipients ? a->max_recipients : MAX_RECIPIENTS;
	size_t i;
	int rc = -1;

	addrlist_init(&out);
	for (i = 0; i < m->nrcpts; i++)
		if (submit_resolve(s, m->rcpts[i], &out, e) == -1)
			goto out;
	if (out.n > max) {
		err_set(e, ERR_PERM, CAUSE_DATA,
		    "too many recipients after alias expansion: "
		    "%zu, the limit is %u (max_recipients)",
		    out.n, max);
		goto out;
	}
	xfree_strv(m->rcpts, m->nrcpts);
	m->rcpts = out.v;
	m->nrcpts = out.n;
	addrlist_init(&out);
	rc = 0;
out:
	addrlist_free(&out);
	return rc;
}

/* "relay h port p: connect: refused" -> "connect: refused": the warning names the relay. */
static const char *
without_relay(const char *reason)
{
	const char *p;

	if (strncmp(reason, "relay ", 6) == 0 && (p = strstr(reason, ": ")) != NULL)
		return p + 2;
	return reason;
}

/*
 * After a direct send worked, the relay is up: send a few of this account's queued
 * messages that are due, through the session that is already open. One readdir when the
 * queue is empty, so the common case does not notice. Errors are the queue run's own:
 * this message is delivered whatever happens here.
 */
static void
flush_after_send(struct submit *s, const struct account *a, int took)
{
	struct queue q;
	struct queue_stamp st0;
	struct runq_opts o;
	struct runq_stats st;
	struct err e;
	int stamped;

	/* No queue of ours to look at (queue = off can still leave an old one to flush). */
	if (s->noqueue != NULL)
		return;
	err_init(&e);
	/* Best effort: the message itself is delivered already. */
	if (queue_open(&q, s->qdir, 0, &e) == 0) {
		/* The account took it: a hold left from before its fix is over. */
		if (took)
			held_clear(&q, a, "it took a message again");
		/*
		 * Empty at the last run here, and nothing has come or gone since: no run (its
		 * readdir costs a 32 KiB buffer and the time of a scan on every message). The
		 * stamp is taken before the scan: an entry that arrives after it changes it.
		 */
		stamped = queue_stamp(&q, &st0) == 0;
		if (s->empty_known && stamped && queue_stamp_same(&s->empty, &st0))
			goto out;
		s->empty_known = 0;
		memset(&o, 0, sizeof(o));
		o.account = a->name;
		o.config_file = s->config_file;
		o.max = 10;
		o.max_scan = 64;
		if (runq_run(s->cfg, &q, s->sc, &o, &st, &e) == 0 && st.entries == 0 && stamped) {
			s->empty = st0;
			s->empty_known = 1;
		}
	}
out:
	queue_close(&q);
}

/*
 * The warning for a message just queued: when it is retried, and by whom. The timer (or
 * cron) runs as root over the system queue; a user's own queue (per-user mode) is seen
 * only by that user's next send and `mailout -q` run by that user.
 */
static void
retry_warning(const struct submit *s, const struct queue *q, const char *relay, const char *reason,
    const struct queue_meta *qm)
{
	char when[32] = "?";
	struct tm tm;
	time_t t = (time_t)qm->next_attempt;

	if (localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%H:%M", &tm);
	if (q->shared || getuid() == 0)
		warn_line("relay %s unavailable (%s); message queued as %s, will retry after %s",
		    relay, reason, qm->id, when);
	else
		warn_line("relay %s unavailable (%s); message queued as %s in your own queue "
			  "%s, retried after %s only by your next send or your `mailout -q` (the "
			  "queue timer runs as root over the system queue)",
		    relay, reason, qm->id, s->qdir, when);
}

/*
 * Commit the message to the queue after a temporary failure: 0 with a one-line warning
 * and res->queue_id, or -1 with res->e when the queue cannot take it (then nothing of it
 * is left there). Recipients refused permanently get their failure notice queued first,
 * so that a run cannot pick up the entry before it knows the notice exists.
 */
static int
queue_message(struct submit *s, const struct account *a, struct msg *m, struct queue_meta *qm,
    const struct send_result *sr, const char *held, const char *said, struct submit_result *res)
{
	struct queue q;
	struct queue_entry qe;
	struct runq_opts o;
	struct runq_stats st;
	struct err e, le;
	struct buf to;
	char nid[QUEUE_ID_LEN + 1] = "", reason[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 64], who[LOG_USER_LEN];
	char **pending;
	const char *tolist;
	size_t i, np = 0;
	int rc = -1;

	err_init(&e);
	buf_init(&to, MAX_LOG_LIST);
	pending = xcalloc(qm->nrcpts + 1, sizeof(*pending));
	for (i = 0; i < qm->nrcpts; i++)
		if (qm->rcpts[i].state == QR_PENDING)
			pending[np++] = qm->rcpts[i].addr;
	tolist = log_join(&to, pending, np);
	free(pending);
	log_user(who, sizeof(who), qm->uid);
	snprintf(reason, sizeof(reason), "%s",
	    without_relay(err_str(&sr->defer, line, sizeof(line))));
	/* Only over a limit (no relay asked): no attempt yet, it goes when the window opens. */
	qm->attempts = sr->waited_all ? 0 : 1;
	qm->last_attempt = now_s();
	qm->next_attempt = sr->wait_until > 0
	    ? sr->wait_until
	    : qm->last_attempt + queue_backoff(1, queue_random());
	queue_meta_set(&qm->last_error, err_str(&sr->defer, line, sizeof(line)));
	if (held != NULL) {
		queue_meta_set(&qm->held, held);
		qm->held_since = qm->last_attempt;
	}
	if (queue_open(&q, s->qdir, 1, &e) == -1 ||
	    runq_notify(s->cfg, &q, qm, m->fd, 0, nid, &e) == -1 ||
	    queue_commit(&q, m->fd, m->path, qm, &e) == -1)
		goto fail;
	/* The spool file is the queue's now. */
	msg_release(m);
	snprintf(res->queue_id, sizeof(res->queue_id), "%s", qm->id);
	if (held != NULL) {
		warn_line("message held (not sent): %s; then run sendmail -q",
		    said != NULL ? said : held);
		log_line(LOG_WARNING,
		    "msgid=<%s> queue=%s %s account=%s from=<%s> to=%s "
		    "size=%llu status=held reason=\"%s\"",
		    qm->message_id ? qm->message_id : "", qm->id, who, qm->account, qm->sender,
		    tolist, (unsigned long long)qm->size, held);
		/* A new hold of the account (said is set when it was held already). */
		if (said == NULL)
			held_record(&q, a, held);
	} else if (sr->wait_until > 0) {
		/* Smoothing, not refusing: one line saying when it goes. */
		char t[96];

		if (sr->waited_all)
			warn_line("%s; message queued as %s, it goes then", reason, qm->id);
		else
			warn_line("relay %s: %s; account %s paused, message queued as %s, it goes "
				  "after %s",
			    sr->first_relay, reason, qm->account, qm->id,
			    rate_when(sr->wait_until, now_s(), t, sizeof(t)));
		log_line(LOG_WARNING,
		    "msgid=<%s> queue=%s %s account=%s from=<%s> to=%s "
		    "size=%llu status=queued until=%lld error=\"%s\"",
		    qm->message_id ? qm->message_id : "", qm->id, who, qm->account, qm->sender,
		    tolist, (unsigned long long)qm->size, (long long)sr->wait_until, reason);
	} else {
		retry_warning(s, &q, sr->first_relay, reason, qm);
		log_line(LOG_WARNING,
		    "msgid=<%s> queue=%s %s account=%s from=<%s> to=%s "
		    "size=%llu status=queued error=\"%s\"",
		    qm->message_id ? qm->message_id : "", qm->id, who, qm->account, qm->sender,
		    tolist, (unsigned long long)qm->size, reason);
	}
	if (nid[0] != '\0') {
		/* The relay may take the notice even if it would not take this message. */
		memset(&o, 0, sizeof(o));
		o.all = 1;
		o.match = nid;
		o.config_file = s->config_file;
		runq_run(s->cfg, &q, s->sc, &o, &st, &le);
	}
	rc = 0;
	goto out;
fail:
	/* The caller keeps the message: a notice about it must not go out either. */
	if (nid[0] != '\0' && queue_lock(&q, nid, &qe, &le) == 1)
		queue_remove(&q, &qe, &le);
	err_prefix(&e, "message NOT queued (relay %s unavailable: %s): ", sr->first_relay, reason);
	report(&e);
	log_line(LOG_ERR,
	    "msgid=<%s> %s account=%s from=<%s> to=%s size=%llu status=failed "
	    "error=\"%s\"",
	    qm->message_id ? qm->message_id : "", who, qm->account, qm->sender, tolist,
	    (unsigned long long)qm->size, err_str(&e, line, sizeof(line)));
	res->e = e;
out:
	queue_close(&q);
	buf_free(&to);
	return rc;
}

/* See submit.h. */
void
submit_sweep(struct submit *s)
{
	struct queue q;
	struct err e;

	err_init(&e);
	if (queue_open(&q, s->qdir, 0, &e) == 0)
		queue_sweep_dead(&q);
	queue_close(&q);
}

void
submit_set_sweep(struct submit *s, int on)
{
	s->sweep_off = !on;
}

/* The log line for a message that was neither delivered nor queued. */
static void
log_failure(const struct account *a, const struct msg *m, const char *sender, const struct err *e)
{
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32], who[LOG_USER_LEN];
	struct buf to;

	buf_init(&to, MAX_LOG_LIST);
	log_line(LOG_ERR,
	    "msgid=<%s> %s account=%s from=<%s> to=%s size=%llu status=%s "
	    "error=\"%s\"",
	    m->message_id ? m->message_id : "", log_user(who, sizeof(who), (uint64_t)getuid()),
	    a ? a->name : "-", m->sender ? m->sender : (sender ? sender : ""),
	    log_join(&to, m->rcpts, m->nrcpts), (unsigned long long)m->size,
	    e->kind == ERR_TEMP ? "deferred-not-queued" : "failed",
	    err_str(e, line, sizeof(line)));
	buf_free(&to);
}

/*
 * Whether account a is held (held.h) with nothing changed since: then sr is filled as
 * if the attempt had failed for that reason, *held is the reason and *said what the
 * user is told (both allocated, the caller frees). 1 or 0 (*held and *said untouched).
 */
static int
account_held(struct submit *s, const struct account *a, struct queue_meta *qm,
    struct send_result *sr, char **held, char **said)
{
	struct queue q;
	struct accstate st;
	struct err e;
	char when[32] = "?";
	struct tm tm;
	time_t t;
	size_t i, n;
	int rc = 0;

	err_init(&e);
	if (queue_open(&q, s->qdir, 0, &e) == 0 && held_account(&q, a, &st)) {
		t = (time_t)st.since;
		if (localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		memset(sr, 0, sizeof(*sr));
		err_init(&sr->perm);
		err_init(&sr->defer);
		err_set(&sr->defer, ERR_PERM, CAUSE_NOPERM,
		    "account %s is held since %s, not "
		    "tried again until its settings or secret change",
		    a->name, when);
		*held = xstrdup(st.held);
		n = strlen(sr->defer.msg) + 2 + strlen(st.held) + 1;
		*said = xmalloc(n);
		snprintf(*said, n, "%s: %s", sr->defer.msg, st.held);
		sr->queueable = 1;
		sr->pending = qm->nrcpts;
		snprintf(sr->first_relay, sizeof(sr->first_relay), "%s:%u", a->host, a->port);
		for (i = 0; i < qm->nrcpts; i++)
			queue_meta_set(&qm->rcpts[i].reply, sr->defer.msg);
		rc = 1;
	}
	queue_close(&q);
	return rc;
}

/*
 * Account a is held (account_held): queue the message as held, without a connection.
 * 1 when it was (res says how that went), 0 when a is not held. Kept out of
 * deliver_message (NOINLINE) so that the account's state read here is on the stack only
 * for this check, not under the whole SMTP transaction: a -bd worker keeps every stack
 * page its deepest session touched. For the same reason the texts are on the heap, and
 * only when the account is held.
 */
static NOINLINE int
deliver_held(struct submit *s, const struct account *a, struct msg *m, struct queue_meta *qm,
    struct send_result *sr, struct submit_result *res)
{
	char *held = NULL, *said = NULL;
	int rc = 0;

	if (!account_held(s, a, qm, sr, &held, &said))
		goto out;
	/* Held and unchanged: no connection, no failed login for the provider. */
	if (queue_message(s, a, m, qm, sr, held, said, res) == 0)
		res->outcome = SUBMIT_QUEUED;
	rc = 1;
out:
	free(held);
	free(said);
	return rc;
}

/*
 * The attempt left recipients pending or refused: partial delivery, refusal, queued or
 * failed. Fills res; reports and logs a failure. NOINLINE for the reason above: its
 * buffers are needed only after the attempt, never under it.
 */
static NOINLINE void
deliver_not_sent(struct submit *s, const struct account *a, struct msg *m, struct queue_meta *qm,
    struct send_result *sr, struct submit_result *res)
{
	const struct config *cfg = s->cfg;
	struct err *e = &res->e;
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32], why[sizeof(line)];
	char held[2 * sizeof(line)];

	if (sr->pending == 0 && sr->sent > 0) {
		/* Delivered to some: the caller must not resend to all, but must know. */
		res->outcome = SUBMIT_PARTIAL;
		err_set(e, ERR_PERM, CAUSE_NOUSER,
		    "delivered to %zu of %zu recipients; %zu "
		    "refused permanently",
		    sr->sent, qm->nrcpts, sr->failed);
		report(e);
		goto out;
	}
	if (sr->pending == 0) {
		*e = sr->perm;
		goto fail;
	}
	if (cfg->queue && sr->queueable && s->noqueue == NULL) {
		/* Only a person can fix it: kept, not retried by the timer (held.h). */
		if (held_kind(&sr->defer))
			snprintf(held, sizeof(held), "%s; %s",
			    err_str(&sr->defer, line, sizeof(line)),
			    held_fix(a, &sr->defer, why, sizeof(why)));
		if (queue_message(s, a, m, qm, sr, held_kind(&sr->defer) ? held : NULL, NULL,
			res) == 0)
			res->outcome = SUBMIT_QUEUED;
		goto out;
	}
	*e = sr->defer;
	if (sr->sent > 0 || sr->failed > 0) {
		err_init(e);
		err_set(e, sr->defer.kind, sr->defer.cause,
		    "delivered to %zu of %zu "
		    "recipients; %zu refused permanently, %zu not now (%s)",
		    sr->sent, qm->nrcpts, sr->failed, sr->pending,
		    err_str(&sr->defer, line, sizeof(line)));
	}
	if (cfg->queue && sr->queueable && !held_kind(&sr->defer)) {
		/*
		 * Per-user mode and this user has no queue (prepare_spool): 75, never "queued".
		 * Why comes first: a long relay reply may be cut at the end of the line.
		 */
		err_str(e, why, sizeof(why));
		if (sr->sent == 0 && sr->failed == 0)
			snprintf(line, sizeof(line), "relay %s unavailable (%s)", sr->first_relay,
			    without_relay(why));
		else
			snprintf(line, sizeof(line), "%s", why);
		err_init(e);
		err_set(e, ERR_TEMP, CAUSE_TEMP,
		    "message NOT queued: there is no queue for user "
		    "%s (%s; on a server, use the system install: README, \"Server install\"): "
		    "%s",
		    user_name(), s->noqueue, line);
	}
fail:
	res->outcome = SUBMIT_FAILED;
	report(e);
	log_failure(a, m, NULL, e);
out:
	return;
}

/* Deliver (or queue) the message in m through a. Fills res; reports and logs a failure. */
static void
deliver_message(struct submit *s, const struct submit_req *r, const struct account *a,
    struct msg *m, struct submit_result *res)
{
	const struct config *cfg = s->cfg;
	struct send_result sr;
	struct queue_meta qm;
	size_t i;

	queue_meta_init(&qm);
	queue_meta_set(&qm.account, a->name);
	queue_meta_set(&qm.sender, m->sender);
	qm.uid = (uint64_t)getuid();
	qm.size = m->size;
	queue_meta_set(&qm.message_id, m->message_id);
	qm.body_8bit = m->body_8bit || r->body_8bit;
	qm.smtputf8 = m->hdr_8bit;
	queue_meta_set(&qm.dsn_notify, r->dsn_notify != NULL ? r->dsn_notify : a->dsn_notify);
	queue_meta_set(&qm.dsn_ret, r->dsn_ret != NULL ? r->dsn_ret : a->dsn_return);
	queue_meta_set(&qm.dsn_envid, r->dsn_envid);
	qm.dkim_signed = m->dkim_signed;
	qm.arrival = now_s();
	for (i = 0; i < m->nrcpts; i++)
		queue_meta_add_rcpt(&qm, m->rcpts[i], QR_PENDING, "");
	/* Where it may go, now and from the queue: this account and its chain as they are. */
	held_bind(cfg, a, &qm);
	if (r->config_file != NULL) {
		free(qm.config);
		qm.config = held_config_path(r->config_file);
	}

	if (cfg->queue && s->noqueue == NULL && deliver_held(s, a, m, &qm, &sr, res))
		goto out;
	/* One attempt through the account and its fallbacks (send.c logs each relay's answer). */
	send_attempt(s->sc, a, &qm, m->fd, &sr);
	res->sent = sr.sent;
	res->refused = sr.failed;
	/*
	 * A refusal of the message itself (its sender, its size, its content) is no refusal
	 * of its recipients: it is said once, by the error below.
	 */
	for (i = 0; i < qm.nrcpts; i++)
		if (qm.rcpts[i].state == QR_FAILED &&
		    (!err_failed(&sr.perm) || sr.perm.cause == CAUSE_NOUSER))
			warn_line("recipient <%s> refused: %s", qm.rcpts[i].addr,
			    qm.rcpts[i].reply);
	if (sr.pending == 0 && sr.failed == 0) {
		res->outcome = SUBMIT_SENT;
		flush_after_send(s, a, sr.account != NULL && strcmp(sr.account, a->name) == 0);
		goto out;
	}
	deliver_not_sent(s, a, m, &qm, &sr, res);
out:
	queue_meta_free(&qm);
}

int
submit_message(struct submit *s, const struct submit_req *r, struct submit_result *res)
{
	const struct config *cfg = s->cfg;
	const struct account *a = NULL;
	struct intake_opts io;
	struct msg m;
	struct err *e = &res->e;
	const char *spool = NULL;
	char who[LOG_USER_LEN];
	char *sender = NULL, *from_addr = NULL, *acct_addr = NULL;

	memset(res, 0, sizeof(*res));
	err_init(e);
	memset(&m, 0, sizeof(m));
	m.fd = -1;
	s->domain = local_domain(s, NULL);
	s->config_file = r->config_file;

	/* The account: -a, else by the sender (qualified first: -f root selects root@dom). */
	if (r->sender_set && (sender = qualify_sender(s, r->sender)) == NULL) {
		sender_too_long(s, r->sender, e);
		goto fail;
	}
	if ((a = config_select(cfg, r->account, sender, e)) == NULL)
		goto fail;
	free(sender);
	sender = NULL;
	s->domain = local_domain(s, a);
	if (envelope_sender(s, r, a, &sender, e) == -1)
		goto fail;
	acct_addr = account_addr(a);
	if (sender[0] != '\0')
		from_addr = xstrdup(sender);
	else if (acct_addr != NULL)
		from_addr = xstrdup(acct_addr);
	else if ((from_addr = at_domain(user_name(), strlen(user_name()), s->domain)) == NULL) {
		sender_too_long(s, user_name(), e);
		goto fail;
	}
	if (submit_spool_dir(s, &spool, e) == -1)
		goto fail;

	memset(&io, 0, sizeof(io));
	io.read_rcpts = r->read_rcpts;
	io.operands = r->rcpts;
	io.noperands = r->nrcpts;
	io.sender = sender;
	io.from_addr = from_addr;
	io.full_name = r->full_name != NULL ? r->full_name : a->from_name;
	io.domain = a->domain;
	/* Bare names stay bare in intake: aliases see them first, then they are qualified. */
	io.qualify_domain = NULL;
	io.spool_dir = spool;
	io.spool_anon = s->spool_anon;
	io.max_size = a->max_message_size;
	io.max_rcpts = a->max_recipients;
	io.address_strict = a->address_strict;
	io.rewrite_from = a->rewrite_from;
	io.rewrite_addr = acct_addr != NULL ? acct_addr : sender;
	io.rewrite_name = a->from_name;
	io.local_domain = s->domain;
	if (cfg->rewrite_to) {
		io.map_local = map_local;
		io.map_ctx = s;
	}
	if (!s->sweep_off)
		submit_sweep(s);
	if (intake_read(r->fd, &io, &m, e) == -1 || expand_rcpts(s, a, &m, e) == -1)
		goto fail;
	snprintf(res->message_id, sizeof(res->message_id), "%s",
	    m.message_id != NULL ? m.message_id : "");
	res->nrcpts = m.nrcpts;
	if (s->verbose && m.repairs != 0)
		warn_line("message repaired:%s%s%s%s%s%s%s",
		    m.repairs & INTAKE_FROM_QUALIFIED ? " From qualified" : "",
		    m.repairs & INTAKE_FROM_REPLACED ? " From replaced" : "",
		    m.repairs & INTAKE_REPLY_TO_ADDED ? " Reply-To added" : "",
		    m.repairs & INTAKE_TO_REWRITTEN ? " To/Cc rewritten" : "",
		    m.repairs & INTAKE_HEADER_FOLDED ? " long header folded" : "",
		    m.repairs & INTAKE_BODY_QP ? " body quoted-printable" : "",
		    m.repairs & INTAKE_BODY_FOLDED ? " long body lines folded" : "");

	if (m.dkim_signed &&
	    (m.repairs & (INTAKE_HEADER_FOLDED | INTAKE_BODY_QP | INTAKE_BODY_FOLDED)) != 0) {
		/* SMTP cannot carry a line over 998 octets: mended as for any message, said. */
		warn_line("warning: the message's DKIM signature will break: it has lines over "
			  "998 octets, which SMTP cannot carry, and they were %s",
		    m.repairs & INTAKE_BODY_QP ? "re-encoded as quoted-printable" : "folded");
		log_line(LOG_WARNING,
		    "msgid=<%s> %s status=dkim-broken reason=\"lines over "
		    "998 octets %s\"",
		    m.message_id ? m.message_id : "",
		    log_user(who, sizeof(who), (uint64_t)getuid()),
		    m.repairs & INTAKE_BODY_QP ? "re-encoded as quoted-printable" : "folded");
	}
	if (r->dry_run) {
		print_dry_run(a, &m);
		res->outcome = SUBMIT_DRY_RUN;
		goto out;
	}
	deliver_message(s, r, a, &m, res);
	goto out;
fail:
	res->outcome = SUBMIT_FAILED;
	report(e);
	log_failure(a, &m, sender, e);
out:
	msg_free(&m);
	free(sender);
	free(from_addr);
	free(acct_addr);
	return res->outcome == SUBMIT_SENT || res->outcome == SUBMIT_QUEUED ||
		res->outcome == SUBMIT_DRY_RUN
	    ? 0
	    : -1;
}

/* How one address resolves, on one line. 0, or -1 with err. */
static int
verify_one(struct submit *s, const char *addr, FILE *out, struct err *e)
{
	struct addrlist x;
	struct err le;
	struct buf b;
	const char *at;
	size_t i, llen;
	int rc = -1;

	addrlist_init(&x);
	buf_init(&b, MAX_LOG_LIST);
	err_init(&le);
	if (submit_resolve(s, addr, &x, &le) == -1) {
		fprintf(out, "%s -> error: %s\n", addr, le.msg);
		err_set(e, le.kind, le.cause, "%s", le.msg);
		goto out;
	}
	if (buf_addjoin(&b, x.v, x.n, ", ") == -1) {
		fprintf(out, "%s -> %zu addresses, too many to list\n", addr, x.n);
		rc = 0;
		goto out;
	}
	at = strrchr(addr, '@');
	llen = at != NULL ? (size_t)(at - addr) : strlen(addr);
	if (!aliases_is_local(addr, NULL))
		fprintf(out, "%s -> %s\n", addr, buf_cstr(&b));
	else if (x.n == 1 && strncmp(x.v[0], addr, llen) == 0 && x.v[0][llen] == '@')
		fprintf(out, "%s -> %s (local name, %s %s)\n", addr, buf_cstr(&b),
		    s->cfg->default_domain != NULL ? "default_domain"
			: mail_name() != NULL      ? "/etc/mailname"
						   : "domain",
		    s->domain);
	else
		fprintf(out, "%s -> %s (alias in %s)\n", addr, buf_cstr(&b), s->cfg->aliases);
	for (i = 0; i < x.n; i++)
		if (rfc5322_addr_invalid(x.v[i]))
			fprintf(out, "%s -> warning: <%s> is not a valid SMTP address\n", addr,
			    x.v[i]);
	rc = 0;
out:
	addrlist_free(&x);
	buf_free(&b);
	return rc;
}

int
submit_verify(struct submit *s, const char *account, const char *sender, char *const *addrs,
    size_t n, FILE *out, struct err *e)
{
	const struct account *a;
	struct submit_req r;
	struct addrlist l;
	struct err le;
	char *snd = NULL;
	size_t i, k;
	int rc = -1;

	addrlist_init(&l);
	s->domain = local_domain(s, NULL);
	if (sender != NULL && (snd = qualify_sender(s, sender)) == NULL) {
		sender_too_long(s, sender, e);
		goto out;
	}
	if ((a = config_select(s->cfg, account, snd, e)) == NULL)
		goto out;
	s->domain = local_domain(s, a);
	free(snd);
	snd = NULL;
	memset(&r, 0, sizeof(r));
	r.sender_set = sender != NULL;
	r.sender = sender;
	if (envelope_sender(s, &r, a, &snd, e) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		addrlist_free(&l);
		addrlist_init(&l);
		err_init(&le);
		if (rfc5322_parse_addrlist(addrs[i], strlen(addrs[i]), &l, a->address_strict,
			&le) == -1) {
			fprintf(out, "%s -> error: %s\n", addrs[i], le.msg);
			err_set(e, le.kind, le.cause, "%s", le.msg);
			continue;
		}
		for (k = 0; k < l.n; k++)
			verify_one(s, l.v[k], out, e);
	}
	fprintf(out, "via account %s, relay %s:%u, sender <%s>\n", a->name, a->host, a->port, snd);
	rc = err_failed(e) ? -1 : 0;
out:
	free(snd);
	addrlist_free(&l);
	return rc;
}

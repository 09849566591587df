/*
 * runq.c: queue runs, the listing, removal and failure notices. See runq.h.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "send/deliver.h"
#include "send/held.h"
#include "message/dsn.h"
#include "base/err.h"
#include "base/log.h"
#include "base/priv.h"
#include "queue/queue.h"
#include "send/rate.h"
#include "send/runq.h"
#include "queue/accstate.h"
#include "send/send.h"
#include "base/clock.h"
#include "base/hooks.h"
#include "base/mem.h"
#include "base/user.h"
#include "base/bounds.h"

/* queue_lifetime when the configuration gives none. */
#define RUNQ_LIFETIME_DEFAULT (5 * 24 * 60 * 60)

struct run {
	const struct config *cfg;
	struct queue *q;
	struct send_ctx *sc;
	const struct runq_opts *o;
	struct runq_stats *st;
	int64_t now;
	uint64_t lifetime;
	char *config; /* the run's -C, as held_config_path has it */
};

/* One entry as seen by the scan, before it is locked. */
struct item {
	char *id;
	char *account; /* NULL: metadata unreadable for now */
	int due;
};

static const char *
notice_domain(const struct config *cfg, const char *account)
{
	const struct account *a = config_find(cfg, account);

	return a != NULL && a->domain != NULL && a->domain[0] != '\0' ? a->domain : host_name();
}

int
runq_notify(const struct config *cfg, struct queue *q, struct queue_meta *m, int msg_fd,
    int expired, char *notice_id, struct err *e)
{
	struct dsn_opts o;
	struct queue_meta n;
	char *path = NULL, who[LOG_USER_LEN];
	size_t i;
	int fd = -1, ret = -1;

	notice_id[0] = '\0';
	memset(&n, 0, sizeof(n));
	if (!dsn_wanted(m)) {
		ret = 0;
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.domain = notice_domain(cfg, m->account);
	o.now = now_s();
	o.expired = expired;
	o.lifetime = cfg->queue_lifetime ? cfg->queue_lifetime : RUNQ_LIFETIME_DEFAULT;
	if ((fd = queue_tmpfile(q, &path, e)) == -1)
		goto out;
	if (dsn_write(fd, m, msg_fd, &o, &n, e) == -1)
		goto discard;
	/* The notice is the submitter's: it shows in their mailq (system mode) like the rest. */
	n.uid = m->uid;
	/* It goes where the message was bound to go, and nowhere else. */
	queue_meta_set(&n.relay, m->relay);
	queue_meta_set(&n.config, m->config);
	for (i = 0; i < m->nfallbacks; i++)
		queue_meta_add_fallback(&n, m->fallbacks[i]);
	if (queue_commit(q, fd, path, &n, e) == -1)
		goto discard;
	memcpy(notice_id, n.id, QUEUE_ID_LEN + 1);
	for (i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i].state == QR_FAILED)
			m->rcpts[i].notified = 1;
	log_line(LOG_INFO, "msgid=<%s> queue=%s %s status=notice notice=%s to=<%s>",
	    m->message_id ? m->message_id : "", m->id[0] ? m->id : "-",
	    log_user(who, sizeof(who), m->uid), n.id, m->sender);
	ret = 0;
	goto out;
discard:
	queue_discard(q, path);
out:
	if (fd != -1)
		close(fd);
	free(path);
	queue_meta_free(&n);
	return ret;
}

/* An entry that could not be worked on; who is log_user's text, or NULL if unknown. */
static void
fail_log(const char *id, const char *who, const struct err *e)
{
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];

	log_line(LOG_ERR, "queue=%s %s status=error error=\"%s\"", id,
	    who != NULL ? who : "user=? uid=?", err_str(e, line, sizeof(line)));
}

static void process(struct run *r, const char *id);

/* Send a notice now, through the same sessions, if the run may touch its account. */
static void
send_notice(struct run *r, const char *id)
{
	if (id[0] != '\0')
		process(r, id);
}

/* Finish an entry: delete it when done, or move it to failed/ when it expired. */
static int
finish(struct run *r, struct queue_entry *qe, int expire, struct err *e)
{
	struct queue_meta *m = &qe->meta;
	char who[LOG_USER_LEN];
	int ret;

	if (expire) {
		r->st->expired++;
		log_line(LOG_WARNING,
		    "msgid=<%s> queue=%s %s from=<%s> status=expired "
		    "attempts=%u error=\"%s\"",
		    m->message_id ? m->message_id : "", m->id, log_user(who, sizeof(who), m->uid),
		    m->sender, m->attempts, m->last_error);
		ret = queue_fail(r->q, qe, e);
	} else
		ret = queue_remove(r->q, qe, e);
	return ret;
}

/* Record the outcome of an attempt and release the entry. */
static void
settle(struct run *r, struct queue_entry *qe, int attempted, int64_t until)
{
	struct queue_meta *m = &qe->meta;
	struct err e;
	char nid[QUEUE_ID_LEN + 1] = "", id[QUEUE_ID_LEN + 1], who[LOG_USER_LEN];
	size_t i, pending = queue_meta_count(m, QR_PENDING);
	int expire;

	err_init(&e);
	/* Kept: finishing the entry frees its metadata before an error can be logged. */
	memcpy(id, m->id, sizeof(id));
	log_user(who, sizeof(who), m->uid);
	if (pending > 0 && m->arrival + (int64_t)r->lifetime <= r->now) {
		/* Still pending at the end of its lifetime: fails with its last reply. */
		for (i = 0; i < m->nrcpts; i++)
			if (m->rcpts[i].state == QR_PENDING)
				m->rcpts[i].state = QR_FAILED;
		m->expired = r->now;
		pending = 0;
	}
	expire = m->expired != 0;
	if (pending > 0) {
		/* A limit or a quota pause says when; else the backoff. */
		m->next_attempt = until > 0
		    ? until
		    : r->now + queue_backoff(m->attempts ? m->attempts : 1, queue_random());
		if (m->held != NULL)
			r->st->held++;
		else
			r->st->deferred++;
	} else if (attempted && !expire)
		r->st->delivered++;
	if (pending == 0 && !dsn_wanted(m)) {
		if (finish(r, qe, expire, &e) == -1)
			goto error;
		goto out;
	}
	/* The attempt's result is durable before anything else happens. */
	if (queue_update(r->q, qe, &e) == -1)
		goto error;
	if (dsn_wanted(m)) {
		if (runq_notify(r->cfg, r->q, m, qe->fd, expire, nid, &e) == -1)
			goto error;
		r->st->notices++;
		/* Crash here: the notice is queued, the entry does not know: a second one. */
		if (pending > 0 && queue_update(r->q, qe, &e) == -1)
			goto error;
	}
	if (pending == 0 && finish(r, qe, expire, &e) == -1)
		goto error;
	goto out;
error:
	r->st->errors++;
	fail_log(id, who, &e);
out:
	queue_unlock(qe);
	send_notice(r, nid);
}

/*
 * In system mode, 1 if the caller's run may lock the entry: its metadata, read without the
 * lock, names the caller. Root's runs (and every run outside system mode) may lock all,
 * so that the unreadable ones are reported. The owner is checked again under the lock.
 */
static int
may_touch(struct queue *q, const char *id)
{
	struct queue_meta m;
	struct err e;
	int ok = !priv_restricted();

	err_init(&e);
	if (!ok && queue_read_meta(q, id, &m, &e) == 0) {
		ok = priv_owns(m.uid);
		queue_meta_free(&m);
	}
	return ok;
}

/* Hold the entry for reason; one log line when it was not held for that already. */
static int
hold(struct run *r, struct queue_meta *m, const char *reason, int binding)
{
	char who[LOG_USER_LEN];

	if (m->held != NULL && strcmp(m->held, reason) == 0)
		return 0;
	queue_meta_set(&m->held, reason);
	m->held_since = r->now;
	m->held_binding = binding;
	log_line(LOG_WARNING,
	    "msgid=<%s> queue=%s %s account=%s from=<%s> status=held "
	    "reason=\"%s\"",
	    m->message_id ? m->message_id : "", m->id, log_user(who, sizeof(who), m->uid),
	    m->account, m->sender, reason);
	return 1;
}

/* The entry waits no more (a person asked, or its cause is gone): one log line. */
static void
unhold(struct queue_meta *m, const char *why)
{
	char who[LOG_USER_LEN];

	if (m->held == NULL)
		return;
	log_line(LOG_NOTICE,
	    "msgid=<%s> queue=%s %s account=%s status=released by=%s "
	    "reason=\"%s\"",
	    m->message_id ? m->message_id : "", m->id, log_user(who, sizeof(who), m->uid),
	    m->account, user_name(), why);
	queue_meta_set(&m->held, NULL);
	m->held_since = 0;
	m->held_binding = 0;
}

/*
 * The account the entry is bound to, if it still is what it was at acceptance; else
 * NULL with why (and what to do) in why.
 */
static const struct account *
bound_account(struct run *r, const struct queue_meta *m, char *why, size_t n)
{
	const struct account *a = NULL;
	char id[MAX_RELAY_IDENTITY];

	if ((m->config != NULL || r->config != NULL) &&
	    (m->config == NULL || r->config == NULL || strcmp(m->config, r->config) != 0)) {
		snprintf(why, n,
		    "accepted with %s%s, and this run reads %s: run it with "
		    "that file (sendmail%s%s -q), or send it through an account of this one "
		    "(mailout --requeue %s -a ACCOUNT)",
		    m->config ? "-C "
			      : "the default "
				"configuration",
		    m->config ? m->config : "",
		    r->cfg->files_read ? r->cfg->files_read : "no file", m->config ? " -C " : "",
		    m->config ? m->config : "", m->id);
	} else if ((a = config_find(r->cfg, m->account)) == NULL) {
		snprintf(why, n,
		    "account %s is no longer in %s; restore it, or send the message "
		    "through another account: mailout --requeue %s -a ACCOUNT",
		    m->account, r->cfg->files_read ? r->cfg->files_read : "the configuration",
		    m->id);
	} else if (m->relay != NULL && strcmp(m->relay, held_identity(a, id, sizeof(id))) != 0) {
		snprintf(why, n,
		    "account %s's relay changed from %s to %s since the message "
		    "was accepted; to send it there: mailout --requeue %s -a %s",
		    m->account, m->relay, id, m->id, m->account);
		a = NULL;
	}
	return a;
}

/* Work on one entry: lock, attempt, record. Locked by someone else: skipped. */
static void
process(struct run *r, const char *id)
{
	struct queue_entry qe;
	struct queue_meta *m = &qe.meta;
	struct send_result res;
	struct accstate ast;
	struct err e;
	const struct account *a;
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32], fix[MAX_ERROR_TEXT];
	char why[2 * sizeof(line)], who[LOG_USER_LEN];
	int64_t until = 0;
	int rv, attempted = 0, changed = 0;

	err_init(&e);
	memset(&qe, 0, sizeof(qe));
	qe.fd = -1;
	/* Another user's entry is never locked, not even to find out whose it is. */
	if (!may_touch(r->q, id))
		goto skip;
	if ((rv = queue_lock(r->q, id, &qe, &e)) <= 0) {
		if (rv == 0)
			r->st->busy++;
		else {
			r->st->errors++;
			fail_log(id, NULL, &e);
		}
		goto skip;
	}
	/* Changed since the scan: no longer ours to try now. Another user's: never ours. */
	if (!priv_owns(m->uid) ||
	    (r->o->account != NULL && strcmp(m->account, r->o->account) != 0) ||
	    (!r->o->all && m->held == NULL && m->next_attempt > r->now &&
		m->arrival + (int64_t)r->lifetime > r->now))
		goto skip;
	if (queue_meta_count(m, QR_PENDING) > 0) {
		/* Never through another account: a broken binding waits for a person. */
		if ((a = bound_account(r, m, why, sizeof(why))) == NULL) {
			changed = hold(r, m, why, 1);
			goto held;
		}
		if (m->held != NULL && m->held_binding)
			unhold(m, "the account is as it was when the message was accepted");
		if (!r->o->release && held_account(r->q, a, &ast)) {
			/* Nothing changed since the account was held: no new failed login. */
			changed = hold(r, m, ast.held, 0);
			goto held;
		}
		if (m->held != NULL)
			unhold(m,
			    r->o->release ? "asked by a person"
					  : "the account's settings "
					    "or secret changed");
		send_attempt(r->sc, a, m, qe.fd, &res);
		until = res.wait_until;
		if (res.pending > 0 && res.waited_all) {
			/* Over a limit or paused: no relay was asked, no attempt to count. */
			queue_meta_set(&m->last_error, err_str(&res.defer, line, sizeof(line)));
			goto record;
		}
		r->st->tried++;
		attempted = 1;
		if (res.pending > 0)
			queue_meta_set(&m->last_error, err_str(&res.defer, line, sizeof(line)));
		else if (res.failed_now > 0)
			queue_meta_set(&m->last_error, err_str(&res.perm, line, sizeof(line)));
		else
			queue_meta_set(&m->last_error, "");
		if (res.pending > 0 && held_kind(&res.defer)) {
			snprintf(why, sizeof(why), "%s; %s", line,
			    held_fix(a, &res.defer, fix, sizeof(fix)));
			hold(r, m, why, 0);
			held_record(r->q, a, why);
		} else if (res.account != NULL && strcmp(res.account, a->name) == 0)
			held_clear(r->q, a, "it took a message again");
		m->attempts++;
		m->last_attempt = r->now;
		/* The relay has the message, our record does not say so yet. */
		hooks_crash("run-sent");
	}
record:
	/* settle() releases the entry. */
	settle(r, &qe, attempted, until);
	goto out;
held:
	/* Held entries still expire: the sender hears about them in time. */
	if (m->arrival + (int64_t)r->lifetime <= r->now) {
		settle(r, &qe, 0, 0);
		goto out;
	}
	r->st->held++;
	if (changed && queue_update(r->q, &qe, &e) == -1) {
		r->st->errors++;
		fail_log(id, log_user(who, sizeof(who), m->uid), &e);
	}
skip:
	queue_unlock(&qe);
out:;
}

static void
free_items(struct item *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].account);
	}
	free(v);
}

/* Work through the entries of one account (all of them when account is NULL). */
static void
run_items(struct run *r, struct item *v, size_t n, const char *account)
{
	size_t i, done = 0;

	for (i = 0; i < n; i++) {
		if (account != NULL &&
		    (v[i].account == NULL || strcmp(v[i].account, account) != 0))
			continue;
		if (r->o->max != 0 && done >= r->o->max)
			break;
		if (!v[i].due && !r->o->all)
			continue;
		done++;
		process(r, v[i].id);
	}
}

static void
add_stats(struct runq_stats *to, const struct runq_stats *from)
{
	to->tried += from->tried;
	to->delivered += from->delivered;
	to->deferred += from->deferred;
	to->expired += from->expired;
	to->notices += from->notices;
	to->busy += from->busy;
	to->errors += from->errors;
}

struct child {
	pid_t pid;
	int fd;
};

static void
reap(struct child *c, struct runq_stats *st)
{
	struct runq_stats cs;
	int status;

	if (read(c->fd, &cs, sizeof(cs)) == (ssize_t)sizeof(cs))
		add_stats(st, &cs);
	else
		st->errors++;
	close(c->fd);
	while (waitpid(c->pid, &status, 0) == -1 && errno == EINTR)
		;
}

/*
 * One child per account, so that a relay that hangs costs only its own account the
 * wait. Each child opens its own sessions and reports its counts through a pipe.
 */
static void
run_parallel(struct run *r, struct item *v, size_t n, char **accts, size_t na)
{
	struct child kids[MAX_RUNQ_CHILDREN];
	struct runq_stats cs;
	struct run cr;
	size_t i, nk = 0;
	int p[2];
	pid_t pid;

	for (i = 0; i < na; i++) {
		if (nk == MAX_RUNQ_CHILDREN) {
			reap(&kids[0], r->st);
			memmove(kids, kids + 1, --nk * sizeof(*kids));
		}
		fflush(NULL);
		if (pipe(p) == -1 || (pid = fork()) == -1) {
			/* No process to spare: this account's entries wait in line instead. */
			run_items(r, v, n, accts[i]);
			continue;
		}
		if (pid == 0) {
			close(p[0]);
			memset(&cs, 0, sizeof(cs));
			cr = *r;
			cr.st = &cs;
			cr.sc = send_new(r->cfg, r->o->dopts);
			send_set_queue(cr.sc, r->q, r->o->release);
			run_items(&cr, v, n, accts[i]);
			send_free(cr.sc);
			if (write(p[1], &cs, sizeof(cs)) != (ssize_t)sizeof(cs))
				cs.errors++;
			/* A forked child of a run: it ends here, without the parent's atexit. */
			_exit(0);
		}
		close(p[1]);
		kids[nk].pid = pid;
		kids[nk++].fd = p[0];
	}
	for (i = 0; i < nk; i++)
		reap(&kids[i], r->st);
}

int
runq_run(const struct config *cfg, struct queue *q, struct send_ctx *sc, const struct runq_opts *o,
    struct runq_stats *st, struct err *e)
{
	struct run r;
	struct item *v = NULL;
	struct queue_meta m;
	struct err le;
	char **ids = NULL, **accts = NULL;
	size_t nids = 0, n = 0, na = 0, i, j;
	const struct queue *prevq;
	int own = 0, mine, ret = -1;

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.q = q;
	r.o = o;
	r.st = st;
	r.now = now_s();
	r.lifetime = cfg->queue_lifetime ? cfg->queue_lifetime : RUNQ_LIFETIME_DEFAULT;
	r.config = o->config_file != NULL ? held_config_path(o->config_file) : NULL;
	if (o->cleanup)
		queue_cleanup(q, r.now);
	if (queue_scan(q, &ids, &nids, e) == -1)
		goto out;
	st->entries = nids;
	/* One look at each entry's metadata: its account, and whether it is due. */
	v = xcalloc(nids, sizeof(*v));
	for (i = 0; i < nids && (o->max_scan == 0 || i < o->max_scan); i++) {
		if (o->match != NULL && strstr(ids[i], o->match) == NULL)
			continue;
		err_init(&le);
		v[n].id = xstrdup(ids[i]);
		mine = !priv_restricted();
		if (queue_read_meta(q, ids[i], &m, &le) == 0) {
			v[n].account = xstrdup(m.account);
			/* A held entry is looked at every run: its account may be fixed. */
			v[n].due = m.next_attempt <= r.now || m.held != NULL ||
			    m.arrival + (int64_t)r.lifetime <= r.now;
			mine = priv_owns(m.uid);
			queue_meta_free(&m);
		} else
			v[n].due = 1; /* process() reports what is wrong with it */
		/* System mode: a user's run works on that user's entries; the runner on all. */
		if (!mine ||
		    (o->account != NULL &&
			(v[n].account == NULL || strcmp(v[n].account, o->account) != 0))) {
			free(v[n].id);
			free(v[n].account);
			continue;
		}
		n++;
	}
	if (o->match != NULL && n == 0) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "no queue entry matches %s", o->match);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (v[i].account == NULL || (!v[i].due && !o->all))
			continue;
		for (j = 0; j < na && strcmp(accts[j], v[i].account) != 0; j++)
			;
		if (j == na) {
			accts = xrealloc(accts, (na + 1) * sizeof(*accts));
			accts[na++] = v[i].account;
		}
	}
	if (sc == NULL) {
		sc = send_new(cfg, o->dopts);
		own = 1;
	}
	r.sc = sc;
	/* The run counts in the accounts' windows of its own queue; -q overrides a pause. */
	prevq = send_set_queue(sc, q, o->release);
	if (o->parallel && na > 1) {
		run_parallel(&r, v, n, accts, na);
		/* Entries whose metadata could not be read are reported here. */
		for (i = 0; i < n; i++)
			if (v[i].account == NULL)
				process(&r, v[i].id);
	} else
		run_items(&r, v, n, NULL);
	send_set_queue(sc, prevq, 0);
	ret = 0;
out:
	if (own)
		send_free(sc);
	free(accts);
	free_items(v, n);
	xfree_strv(ids, nids);
	free(r.config);
	return ret;
}

static void
when(char *s, size_t n, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	localtime_r(&tt, &tm);
	strftime(s, n, "%a %b %e %H:%M:%S", &tm);
}

static size_t
count_failed(struct queue *q)
{
	struct queue fq;
	struct queue_meta m;
	char **ids = NULL;
	size_t n = 0, i, mine = 0;
	struct err e;

	/* failed/ has the same file names as queue/: scan it as a queue of its own. */
	memset(&fq, 0, sizeof(fq));
	fq.active = q->failed;
	err_init(&e);
	if (queue_scan(&fq, &ids, &n, &e) == -1)
		n = 0;
	for (i = 0; i < n; i++) {
		/* System mode: a user counts only their own. */
		if (!priv_restricted())
			mine++;
		else if (queue_read_meta(&fq, ids[i], &m, &e) == 0) {
			mine += priv_owns(m.uid);
			queue_meta_free(&m);
		}
	}
	xfree_strv(ids, n);
	return mine;
}

static const char list_head[] = "-Queue ID-          --Size-- ----Arrival Time---- "
				"-Sender/Recipient-------\n";

/* One entry of the listing. */
static void
list_entry(FILE *out, const struct queue_meta *m)
{
	char t1[64], t2[64];
	size_t j;

	when(t1, sizeof(t1), m->arrival);
	fprintf(out, "%s %8llu %-20s %s%s\n", m->id, (unsigned long long)m->size, t1,
	    m->sender[0] ? m->sender : "<>", m->notice ? "  (failure notice)" : "");
	if (m->held != NULL)
		fprintf(out, "    (held: %s)\n", m->held);
	else if (m->last_error[0] != '\0')
		fprintf(out, "    (%s)\n", m->last_error);
	when(t2, sizeof(t2), m->next_attempt);
	if (m->held != NULL)
		fprintf(out,
		    "    account %s, %u attempt%s, held since %s: not retried until "
		    "fixed (mailout --release %s sends it on)\n",
		    m->account, m->attempts, m->attempts == 1 ? "" : "s",
		    (when(t2, sizeof(t2), m->held_since), t2), m->id);
	else
		fprintf(out, "    account %s, %u attempt%s, next attempt %s\n", m->account,
		    m->attempts, m->attempts == 1 ? "" : "s",
		    m->next_attempt <= now_s() ? "now (due)" : t2);
	for (j = 0; j < m->nrcpts; j++)
		if (m->rcpts[j].state == QR_PENDING)
			fprintf(out, "%50s%s\n", "", m->rcpts[j].addr);
	fprintf(out, "\n");
}

/* The accounts with limits or a pause, and their use of each limit (rate.h). */
static void
list_limits(const struct config *cfg, struct queue *q, FILE *out)
{
	struct accstate st;
	char what[MAX_ERROR_TEXT];
	int64_t now = now_s();
	size_t i, shown = 0;

	for (i = 0; i < cfg->naccounts; i++) {
		const struct account *a = &cfg->accounts[i];

		accstate_read(q, a->name, &st);
		if (!rate_any(a) && st.paused_until <= now)
			continue;
		if (shown++ == 0)
			fprintf(out, "-- Sending limits (sendmail.conf(5): send_limits) --\n");
		fprintf(out, "account %s: %s\n", a->name, rate_describe(a, what, sizeof(what)));
		rate_show(q, a, now, "    ", out);
	}
}

int
runq_list(const struct config *cfg, struct queue *q, FILE *out, struct err *e)
{
	struct queue_meta m;
	struct err le;
	char **ids = NULL;
	size_t n = 0, i, shown = 0, nheld = 0, nfailed;
	uint64_t bytes = 0;
	int pass, ret = -1;

	if (queue_scan(q, &ids, &n, e) == -1)
		goto out;
	/* Entries waiting for their next attempt first, then the held ones, apart. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			err_init(&le);
			if (queue_read_meta(q, ids[i], &m, &le) == -1) {
				/* Gone since the scan (delivered): not worth a line. */
				if (pass == 1 || strstr(le.msg, "No such file") != NULL ||
				    priv_restricted())
					continue;
				if (shown++ == 0)
					fputs(list_head, out);
				fprintf(out, "%s  (unreadable: %s)\n\n", ids[i], le.msg);
				continue;
			}
			/* System mode: a user sees their own entries only; root sees all. */
			if (!priv_owns(m.uid) || (m.held != NULL) != (pass == 1)) {
				queue_meta_free(&m);
				continue;
			}
			if (pass == 1 && nheld++ == 0)
				fprintf(out,
				    "%s-- Held: waiting for a person (the timer does not "
				    "retry these; sendmail -q or mailout --release does) --\n",
				    shown > 0 ? "" : list_head);
			else if (pass == 0 && shown == 0)
				fputs(list_head, out);
			shown++;
			bytes += m.size;
			list_entry(out, &m);
			queue_meta_free(&m);
		}
	}
	if (shown == 0)
		fprintf(out, "Mail queue is empty\n");
	else
		fprintf(out, "-- %llu Kbytes in %zu Request%s%s.\n",
		    (unsigned long long)((bytes + 1023) / 1024), shown, shown == 1 ? "" : "s",
		    nheld > 0 ? ", some held" : "");
	if ((nfailed = count_failed(q)) > 0)
		fprintf(out, "(%zu expired message%s kept in %s)\n", nfailed,
		    nfailed == 1 ? "" : "s", q->failed);
	if (cfg != NULL)
		list_limits(cfg, q, out);
	ret = 0;
out:
	xfree_strv(ids, n);
	return ret;
}

int
runq_left(struct queue *q, struct runq_left *l, struct err *e)
{
	struct queue_meta m;
	struct err le;
	char **ids = NULL;
	size_t n = 0, i;
	int ret = -1;

	memset(l, 0, sizeof(*l));
	if (queue_scan(q, &ids, &n, e) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		err_init(&le);
		if (queue_read_meta(q, ids[i], &m, &le) == -1)
			continue;
		if (priv_owns(m.uid) && m.held != NULL)
			l->held++;
		else if (priv_owns(m.uid)) {
			if (l->queued++ == 0 || m.next_attempt < l->next)
				l->next = m.next_attempt;
		}
		queue_meta_free(&m);
	}
	ret = 0;
out:
	xfree_strv(ids, n);
	return ret;
}

/* System mode does not tell a user whether another user's entry exists. */
static void
not_found(struct err *e, const char *id)
{
	err_set(e, ERR_PERM, CAUSE_USAGE, "no queue entry %s%s (see mailq)", id,
	    priv_restricted() ? " of yours" : "");
}

int
runq_remove(struct queue *q, const char *id, struct err *e)
{
	struct queue_entry qe;
	struct queue_meta m;
	struct err le;
	char who[LOG_USER_LEN];
	int rv, known = 0, ret = -1;

	err_init(&le);
	memset(&qe, 0, sizeof(qe));
	qe.fd = -1;
	if (!queue_valid_id(id)) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "not a queue id: %.40s (see mailq)", id);
		goto out;
	}
	/*
	 * Whose entry it is, before any lock: a user's --remove never holds another user's
	 * entry, not even for an instant (stopped there, it would pin the entry: every run
	 * skips a locked one). An owner that cannot be read counts as another user's, except
	 * for root (and outside system mode), who may clear a corrupt entry.
	 */
	if (queue_read_meta(q, id, &m, &le) == 0) {
		known = 1;
		rv = priv_owns(m.uid);
		queue_meta_free(&m);
		if (!rv) {
			not_found(e, id);
			goto out;
		}
	} else if (priv_restricted()) {
		not_found(e, id);
		goto out;
	}
	err_init(&le);
	rv = queue_lock(q, id, &qe, &le);
	if (rv == 0) {
		if (known)
			err_set(e, ERR_TEMP, CAUSE_TEMP,
			    "queue entry %s is being delivered "
			    "right now; try again in a moment",
			    id);
		else
			not_found(e, id);
		goto out;
	}
	/* Checked again under the lock: what was read before it may have been replaced. */
	if (qe.fd != -1 && (rv == -1 ? priv_restricted() : !priv_owns(qe.meta.uid))) {
		not_found(e, id);
		goto out;
	}
	if (qe.fd == -1) {
		*e = le;
		goto out;
	}
	log_line(LOG_NOTICE, "msgid=<%s> queue=%s %s from=<%s> status=removed by=%s",
	    qe.meta.message_id ? qe.meta.message_id : "", id,
	    rv == 1 ? log_user(who, sizeof(who), qe.meta.uid) : "user=? uid=?",
	    qe.meta.sender ? qe.meta.sender : "", user_name());
	if (queue_remove(q, &qe, e) == -1)
		goto out;
	ret = 0;
out:
	queue_unlock(&qe);
	return ret;
}

int
runq_requeue(const struct config *cfg, struct queue *q, const char *id, const char *account,
    const char *config_file, struct err *e)
{
	struct queue_entry qe;
	const struct account *a;
	struct err le;
	char who[LOG_USER_LEN];
	int rv, ret = -1;

	err_init(&le);
	memset(&qe, 0, sizeof(qe));
	qe.fd = -1;
	if (!queue_valid_id(id)) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "not a queue id: %.40s (see mailq)", id);
		goto out;
	}
	if ((a = config_find(cfg, account)) == NULL) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "--requeue: there is no account %s in %s",
		    account, cfg->files_read ? cfg->files_read : "the configuration");
		goto out;
	}
	if ((rv = queue_lock(q, id, &qe, &le)) == 0) {
		err_set(e, ERR_TEMP, CAUSE_TEMP,
		    "queue entry %s is being delivered right now, "
		    "or is gone; see mailq",
		    id);
		goto out;
	}
	if (rv == -1 || !priv_owns(qe.meta.uid)) {
		not_found(e, id);
		goto out;
	}
	log_line(LOG_NOTICE,
	    "msgid=<%s> queue=%s %s status=requeued account=%s previous=%s "
	    "by=%s",
	    qe.meta.message_id ? qe.meta.message_id : "", id,
	    log_user(who, sizeof(who), qe.meta.uid), a->name, qe.meta.account, user_name());
	queue_meta_set(&qe.meta.account, a->name);
	held_bind(cfg, a, &qe.meta);
	free(qe.meta.config);
	qe.meta.config = config_file != NULL ? held_config_path(config_file) : NULL;
	queue_meta_set(&qe.meta.held, NULL);
	qe.meta.held_since = 0;
	qe.meta.held_binding = 0;
	qe.meta.next_attempt = 0;
	if (queue_update(q, &qe, e) == -1)
		goto out;
	ret = 0;
out:
	queue_unlock(&qe);
	return ret;
}

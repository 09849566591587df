/*
 * send.c: one delivery attempt through an account and its fallback chain. See send.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "config/config.h"
#include "send/deliver.h"
#include "base/log.h"
#include "queue/queue.h"
#include "send/held.h"
#include "send/rate.h"
#include "send/send.h"
#include "base/clock.h"
#include "smtp/smtp.h"
#include "base/mem.h"

struct sess {
	const struct account *a;
	struct deliver *d;
	int used; /* carried a transaction: a failure may mean stale */
	int down; /* could not be opened: not tried again */
	int quota; /* the relay gave a quota reply: paused, even for a person's -q */
	struct err err; /* why it is down */
};

struct send_ctx {
	const struct config *cfg;
	struct deliver_opts o;
	struct sess *s;
	size_t n;
	const struct queue *q; /* sending windows and pauses (rate.h); NULL: none */
	int release; /* a person asked: pauses are ignored */
	size_t waited; /* accounts over a limit or paused in this attempt */
	size_t asked; /* accounts tried in this attempt */
};

const struct queue *
send_set_queue(struct send_ctx *sc, const struct queue *q, int release)
{
	const struct queue *old = sc->q;

	sc->q = q;
	sc->release = release;
	return old;
}

/* Whether the relay of a gave a quota reply in this context (a run, a process). */
static int
quota_now(const struct send_ctx *sc, const struct account *a)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		if (sc->s[i].a == a && sc->s[i].quota)
			return 1;
	return 0;
}

/*
 * A quota reply (rate.h) in reply: pause a, and say so in r; 1, or 0 for another reply.
 */
static int
quota_hit(struct send_ctx *sc, const struct account *a, const char *reply, struct send_result *r)
{
	const char *what = NULL;
	char reason[MAX_ERROR_TEXT];
	int64_t pause, until;
	size_t i;

	if ((pause = rate_quota(reply, &what)) == 0)
		return 0;
	until = now_s() + pause;
	/* A person's -q tried the account once; its other messages wait (rate_admit). */
	for (i = 0; i < sc->n; i++)
		if (sc->s[i].a == a)
			sc->s[i].quota = 1;
	snprintf(reason, sizeof(reason), "%s: relay said: %s", what, reply);
	if (sc->q != NULL)
		rate_pause(sc->q, a, until, reason);
	if (r->wait_until == 0 || until < r->wait_until)
		r->wait_until = until;
	return 1;
}

struct send_ctx *
send_new(const struct config *cfg, const struct deliver_opts *o)
{
	struct send_ctx *sc = xcalloc(1, sizeof(*sc));

	sc->cfg = cfg;
	if (o != NULL)
		sc->o = *o;
	return sc;
}

void
send_free(struct send_ctx *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->n; i++)
		deliver_close(sc->s[i].d);
	free(sc->s);
	free(sc);
}

int
send_queueable(const struct err *e)
{
	if (e->kind == ERR_TEMP)
		return 1;
	/* A relay that broke the protocol may speak it again later: a temporary failure. */
	return e->kind == ERR_PERM && (e->cause == CAUSE_PROTOCOL || held_kind(e));
}

/*
 * A session ready for a new transaction, or NULL with e set. No RSET between messages:
 * smtp_send leaves a live session ready for MAIL (it sends RSET itself after a failed
 * transaction), so RSET would only cost each message a round trip. A session the last
 * transaction broke is replaced by a new connection; one that the relay dropped while
 * we were not looking shows at MAIL, and try_account() retries there (smtp_stale).
 */
static struct sess *
session(struct send_ctx *sc, const struct account *a, struct err *e)
{
	struct sess *s = NULL;
	size_t i;

	for (i = 0; i < sc->n; i++)
		if (sc->s[i].a == a)
			s = &sc->s[i];
	if (s == NULL) {
		sc->s = xrealloc(sc->s, (sc->n + 1) * sizeof(*sc->s));
		s = &sc->s[sc->n++];
		memset(s, 0, sizeof(*s));
		s->a = a;
	}
	if (s->down)
		goto down;
	if (s->d != NULL && !smtp_alive(deliver_smtp(s->d))) {
		deliver_close(s->d);
		s->d = NULL;
	}
	if (s->d == NULL) {
		err_init(&s->err);
		s->used = 0;
		if ((s->d = deliver_open(a, &sc->o, &s->err)) == NULL) {
			s->down = 1;
			goto down;
		}
	}
	goto out;
down:
	*e = s->err;
	s = NULL;
out:
	return s;
}

/* Offer the pending recipients to one account. Returns how many are still pending. */
static size_t
try_account(struct send_ctx *sc, const struct account *a, struct queue_meta *m, int fd,
    struct send_result *r)
{
	struct smtp_envelope env;
	struct smtp_rcpt_status *st = NULL;
	struct sess *s;
	struct err e;
	struct buf to;
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];
	char **addrs = NULL, **ok = NULL;
	size_t *idx = NULL, i, np = 0, nok = 0, nleft = 0, nperm = 0;
	const char *relay = "", *tolist;
	char qid[QUEUE_ID_LEN + 16] = "", who[LOG_USER_LEN];
	int64_t until;
	int quota = 0;

	buf_init(&to, MAX_LOG_LIST);
	/* The submitter, from the entry: a queue run (root's) names the user, not itself. */
	log_user(who, sizeof(who), m->uid);
	err_init(&e);
	if (m->id[0] != '\0')
		snprintf(qid, sizeof(qid), " queue=%s", m->id);
	idx = xcalloc(m->nrcpts, sizeof(*idx));
	addrs = xcalloc(m->nrcpts, sizeof(*addrs));
	ok = xcalloc(m->nrcpts, sizeof(*ok));
	for (i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i].state == QR_PENDING) {
			idx[np] = i;
			addrs[np++] = m->rcpts[i].addr;
		}
	tolist = log_join(&to, addrs, np);
	if (r->first_relay[0] == '\0')
		snprintf(r->first_relay, sizeof(r->first_relay), "%s:%u", a->host, a->port);
	sc->asked++;
	if (sc->q != NULL &&
	    rate_admit(sc->q, a, np, now_s(), sc->release && !quota_now(sc, a), &until, line,
		sizeof(line)) == 1) {
		/* Over a limit or paused: no connection; the queue sends it when it may. */
		sc->waited++;
		if (r->wait_until == 0 || until < r->wait_until)
			r->wait_until = until;
		err_set(&e, ERR_TEMP, CAUSE_TEMP, "%s", line);
		for (i = 0; i < np; i++)
			queue_meta_set(&m->rcpts[idx[i]].reply, line);
		nleft = np;
		if (m->id[0] != '\0')
			log_line(LOG_INFO,
			    "msgid=<%s>%s %s account=%s from=<%s> to=%s status=waiting "
			    "until=%lld reason=\"%s\"",
			    m->message_id ? m->message_id : "", qid, who, a->name, m->sender,
			    tolist, (long long)until, line);
		goto out;
	}
	if ((s = session(sc, a, &e)) == NULL) {
		/* A relay that throttles at the greeting (421 4.7.0): the account waits. */
		if (e.code != 0)
			quota_hit(sc, a, e.reply, r);
		/* No transaction happened: every pending recipient carries the session error. */
		err_str(&e, line, sizeof(line));
		for (i = 0; i < np; i++)
			queue_meta_set(&m->rcpts[idx[i]].reply, line);
		nleft = np;
		/* A new message gets one line from main.c saying whether it was queued. */
		if (m->id[0] == '\0')
			goto out;
		log_line(LOG_WARNING,
		    "msgid=<%s>%s %s account=%s relay=%s:%u from=<%s> to=%s "
		    "status=deferred error=\"%s\"",
		    m->message_id ? m->message_id : "", qid, who, a->name, a->host, a->port,
		    m->sender, tolist, line);
		goto out;
	}
	relay = deliver_relay(s->d);
	memset(&env, 0, sizeof(env));
	env.sender = m->sender;
	env.rcpts = addrs;
	env.nrcpts = np;
	env.size = m->size;
	env.body_8bit = m->body_8bit;
	env.smtputf8 = m->smtputf8;
	env.dkim_signed = m->dkim_signed;
	env.dsn_notify = m->dsn_notify;
	env.dsn_ret = m->dsn_ret;
	env.dsn_envid = m->dsn_envid;
	st = xcalloc(np, sizeof(*st));
	if (deliver_send(s->d, &env, fd, st, &e) == -1 && s->used && !deliver_timed_out(s->d) &&
	    smtp_stale(deliver_smtp(s->d))) {
		/*
		 * The relay ended a session we had used before (idle timeout, a limit of
		 * messages per connection) and took nothing of this message: once more on a
		 * new connection. A second failure counts.
		 */
		deliver_close(s->d);
		s->d = NULL;
		err_init(&e);
		if ((s = session(sc, a, &e)) != NULL) {
			relay = deliver_relay(s->d);
			deliver_send(s->d, &env, fd, st, &e);
		} else {
			/* As when no session opens: every recipient waits, with its reason. */
			err_str(&e, line, sizeof(line));
			for (i = 0; i < np; i++) {
				st[i].kind = ERR_TEMP;
				st[i].code = 0;
				snprintf(st[i].reply, sizeof(st[i].reply), "%s", line);
			}
		}
	}
	if (s != NULL)
		s->used = 1;
	/*
	 * A relay too slow to finish one message in session_timeout gets no other in this
	 * run: each would hold the run as long (a relay dripping its replies).
	 */
	if (s != NULL && err_failed(&e) && deliver_timed_out(s->d)) {
		s->down = 1;
		s->err = e;
	}
	/*
	 * A relay that broke the protocol refused nobody: only a real 5xx to RCPT is final;
	 * the others wait for the next attempt (or fail with 76 when there is no queue).
	 */
	if (e.kind == ERR_PERM && e.cause == CAUSE_PROTOCOL)
		for (i = 0; i < np; i++)
			if (st[i].kind == ERR_PERM && (st[i].code < 500 || st[i].code > 599))
				st[i].kind = ERR_TEMP;
	/*
	 * A quota reply is temporary for the whole account, whatever its code: the
	 * recipients it refused wait (the queue keeps the message), and so does the account.
	 */
	if (err_failed(&e) && e.code != 0 && quota_hit(sc, a, e.reply, r))
		quota = 1;
	for (i = 0; i < np && !quota; i++)
		if (st[i].kind != ERR_OK && st[i].code != 0 && quota_hit(sc, a, st[i].reply, r))
			quota = 1;
	if (quota) {
		for (i = 0; i < np; i++)
			if (st[i].kind == ERR_PERM)
				st[i].kind = ERR_TEMP;
		if (e.kind == ERR_PERM) {
			e.kind = ERR_TEMP;
			e.cause = CAUSE_TEMP;
		}
	}
	for (i = 0; i < np; i++) {
		struct queue_rcpt *rc = &m->rcpts[idx[i]];

		/* A recipient accepted at RCPT is sent only if the whole transaction was. */
		if (st[i].kind == ERR_OK && st[i].code != 0 && !err_failed(&e)) {
			rc->state = QR_SENT;
			ok[nok++] = rc->addr;
			r->sent_now++;
		} else if (st[i].kind == ERR_PERM) {
			rc->state = QR_FAILED;
			nperm++;
			r->failed_now++;
			log_line(LOG_ERR,
			    "msgid=<%s>%s %s account=%s relay=%s from=<%s> "
			    "to=<%s> status=failed reply=\"%s\"",
			    m->message_id ? m->message_id : "", qid, who, a->name, relay,
			    m->sender, rc->addr, st[i].reply);
		} else
			nleft++;
		queue_meta_set(&rc->reply, st[i].reply);
	}
	if (nok > 0) {
		log_line(LOG_INFO,
		    "msgid=<%s>%s %s account=%s relay=%s from=<%s> to=%s "
		    "size=%llu status=sent accepted=%zu refused=%zu reply=\"%s\"",
		    m->message_id ? m->message_id : "", qid, who, a->name, relay, m->sender,
		    log_join(&to, ok, nok), (unsigned long long)m->size, nok, np - nok,
		    smtp_accepted_reply(deliver_smtp(s->d)));
		snprintf(r->relay, sizeof(r->relay), "%s", relay);
		r->account = a->name;
	}
	if (nleft > 0) {
		if (!err_failed(&e))
			err_set(&e, ERR_TEMP, CAUSE_TEMP, "%zu recipients refused for now", nleft);
		err_prefix(&e, "relay %s: ", relay);
		if (m->id[0] != '\0')
			log_line(LOG_WARNING,
			    "msgid=<%s>%s %s account=%s relay=%s from=<%s> "
			    "status=deferred pending=%zu error=\"%s\"",
			    m->message_id ? m->message_id : "", qid, who, a->name, relay,
			    m->sender, nleft, err_str(&e, line, sizeof(line)));
	}
out:
	if (nleft > 0) {
		if (send_queueable(&e))
			r->queueable = 1;
		if (!err_failed(&r->defer))
			r->defer = e;
	}
	if (nperm > 0 && !err_failed(&r->perm)) {
		if (e.kind == ERR_PERM)
			r->perm = e;
		else {
			err_set(&r->perm, ERR_PERM, CAUSE_NOUSER,
			    "relay %s refused %zu "
			    "recipients",
			    relay, nperm);
			for (i = 0; i < np; i++)
				if (st[i].kind == ERR_PERM && st[i].code > 0) {
					err_reply(&r->perm, st[i].code, st[i].reply + 4);
					break;
				}
		}
	}
	free(st);
	free(idx);
	free(addrs);
	free(ok);
	buf_free(&to);
	return nleft;
}

/*
 * The recorded fallback i of a bound message, if the account of that name still has the
 * identity it had at acceptance; else NULL, with one log line saying why it is skipped.
 */
static const struct account *
bound_fallback(const struct send_ctx *sc, const struct queue_meta *m, size_t i)
{
	const struct account *a;
	const char *sp = strchr(m->fallbacks[i], ' ');
	char name[MAX_ERROR_TEXT], id[MAX_RELAY_IDENTITY], who[LOG_USER_LEN];

	snprintf(name, sizeof(name), "%.*s",
	    sp != NULL ? (int)(sp - m->fallbacks[i]) : (int)strlen(m->fallbacks[i]),
	    m->fallbacks[i]);
	log_user(who, sizeof(who), m->uid);
	if ((a = config_find(sc->cfg, name)) == NULL) {
		log_line(LOG_WARNING,
		    "msgid=<%s> queue=%s %s account=%s status=fallback-skipped "
		    "reason=\"fallback %s is no longer configured\"",
		    m->message_id ? m->message_id : "", m->id[0] ? m->id : "-", who, m->account,
		    name);
	} else if (sp == NULL || strcmp(sp + 1, held_identity(a, id, sizeof(id))) != 0) {
		log_line(LOG_WARNING,
		    "msgid=<%s> queue=%s %s account=%s status=fallback-skipped "
		    "reason=\"fallback %s changed from %s to %s since the message was "
		    "accepted\"",
		    m->message_id ? m->message_id : "", m->id[0] ? m->id : "-", who, m->account,
		    name, sp != NULL ? sp + 1 : "?", id);
		a = NULL;
	}
	return a;
}

int
send_attempt(struct send_ctx *sc, const struct account *a, struct queue_meta *m, int fd,
    struct send_result *r)
{
	const struct account *cur = a, **seen;
	size_t i, nseen = 0, next = 0, pending = queue_meta_count(m, QR_PENDING);

	memset(r, 0, sizeof(*r));
	err_init(&r->defer);
	err_init(&r->perm);
	sc->waited = 0;
	sc->asked = 0;
	seen = xcalloc(sc->cfg->naccounts + 1, sizeof(*seen));
	while (cur != NULL && pending > 0) {
		/* A chain may loop (a -> b -> a): each account is tried once. */
		for (i = 0; i < nseen; i++)
			if (seen[i] == cur)
				break;
		if (i < nseen || nseen > sc->cfg->naccounts)
			break;
		seen[nseen++] = cur;
		pending = try_account(sc, cur, m, fd, r);
		if (m->relay == NULL) {
			/* An entry from before the binding: the chain as configured now. */
			cur = cur->fallback != NULL ? config_find(sc->cfg, cur->fallback) : NULL;
			continue;
		}
		/* Bound: the chain recorded at acceptance, each link only if unchanged. */
		for (cur = NULL; cur == NULL && next < m->nfallbacks; next++)
			cur = bound_fallback(sc, m, next);
	}
	free(seen);
	r->sent = queue_meta_count(m, QR_SENT);
	r->failed = queue_meta_count(m, QR_FAILED);
	r->pending = queue_meta_count(m, QR_PENDING);
	r->waited_all = sc->asked > 0 && sc->waited == sc->asked;
	return r->pending == 0 ? 0 : -1;
}

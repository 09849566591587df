/*
 * main.c: argv[0] dispatch, run modes, and the only place that turns results into exit
 * codes (sysexits.h) and calls exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "deliver.h"
#include "err.h"
#include "intake.h"
#include "log.h"
#include "serverinfo.h"
#include "tls.h"
#include "queue.h"
#include "runq.h"
#include "send.h"
#include "util.h"

#define PROG	"mailout"

static int
exit_code(const struct err *e)
{
	if (e->kind == ERR_OK)
		return EX_OK;
	switch (e->cause) {
	case CAUSE_USAGE:	return EX_USAGE;
	case CAUSE_DATA:	return EX_DATAERR;
	case CAUSE_NOUSER:	return EX_NOUSER;
	case CAUSE_NOHOST:	return EX_NOHOST;
	case CAUSE_UNAVAILABLE:	return e->kind == ERR_TEMP ? EX_TEMPFAIL : EX_UNAVAILABLE;
	case CAUSE_SOFTWARE:	return EX_SOFTWARE;
	case CAUSE_OSERR:	return EX_OSERR;
	case CAUSE_CANTCREAT:	return EX_CANTCREAT;
	case CAUSE_IOERR:	return EX_IOERR;
	case CAUSE_PROTOCOL:	return e->kind == ERR_TEMP ? EX_TEMPFAIL : EX_PROTOCOL;
	case CAUSE_NOPERM:	return e->kind == ERR_TEMP ? EX_TEMPFAIL : EX_NOPERM;
	case CAUSE_CONFIG:	return EX_CONFIG;
	case CAUSE_TEMP:
	case CAUSE_NONE:
	default:		return e->kind == ERR_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
	}
}

/* One line on stderr; callers may have pointed stderr at /dev/null, so the log gets it too. */
static void
report(const struct err *e)
{
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];

	fprintf(stderr, PROG ": %s\n", err_str(e, line, sizeof(line)));
}

static const char *
mode_name(enum cli_mode m)
{
	switch (m) {
	case MODE_SMTP:			return "-bs (SMTP on standard input)";
	case MODE_QUEUE_LIST:		return "listing the queue (-bp, mailq)";
	case MODE_QUEUE_FLUSH:		return "flushing the queue (-q)";
	case MODE_QUEUE_RUN:		return "--queue-run";
	case MODE_QUEUE_REMOVE:		return "--remove";
	case MODE_ALIASES:		return "checking aliases (-bi, newaliases)";
	case MODE_VERIFY:		return "-bv (verify recipients)";
	case MODE_DAEMON:		return "-bd (SMTP listener)";
	case MODE_SERVERINFO:		return "--serverinfo";
	case MODE_TEST:			return "--test";
	case MODE_STORE_PASSWORD:	return "--store-password";
	case MODE_FORGET_PASSWORD:	return "--forget-password";
	case MODE_AUTHORIZE:		return "--authorize";
	default:			return "this mode";
	}
}

static const char *
features(void)
{
	return "smtp pipelining chunking dsn 8bitmime smtputf8";
}

static int
mode_version(void)
{
	printf(PROG " %s\nfeatures: %s\ntls: %s%s\nsystem config: %s\n", VERSION,
	    features(), tls_library_version(), tls_has_tls13() ? " (TLS 1.2, 1.3)" :
	    " (TLS 1.2)", config_system_path());
	return EX_OK;
}

/*
 * The queue directory: queue_dir from the config, else the system queue for root, else
 * the user's state directory (from getpwuid, never $HOME: cron keeps HOME=/root).
 */
static char *
queue_dir(const struct config *cfg)
{
	struct buf b;
	const char *xdg = getenv("XDG_STATE_HOME");

	if (cfg->queue_dir != NULL)
		return xstrdup(cfg->queue_dir);
	buf_init(&b, 4096);
	if (getuid() == 0)
		buf_addstr(&b, LOCALSTATEDIR "/spool/mailout");
	else if (xdg != NULL && xdg[0] == '/' && getuid() == geteuid())
		buf_addf(&b, "%s/mailout/queue", xdg);
	else
		buf_addf(&b, "%s/.local/state/mailout/queue", user_home());
	return buf_steal(&b);
}

static void
print_dry_run(const struct account *a, const struct msg *m)
{
	char block[IO_BLOCK];
	ssize_t n;
	size_t i;

	printf("account: %s\nrelay: %s:%u\nsender: <%s>\n", a->name, a->host, a->port,
	    m->sender);
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

static void
join_rcpts(struct buf *b, char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_addf(b, "%s%s", i ? "," : "", v[i]);
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
flush_after_send(const struct config *cfg, const char *qdir, struct send_ctx *sc,
    const struct account *a)
{
	struct queue q;
	struct runq_opts o;
	struct runq_stats st;
	struct err e;

	err_init(&e);
	queue_open(&q, qdir, 0, &e);
	memset(&o, 0, sizeof(o));
	o.account = a->name;
	o.max = 10;
	o.max_scan = 64;
	runq_run(cfg, &q, sc, &o, &st, &e);
	queue_close(&q);
}

/*
 * Commit the message to the queue after a temporary failure: exit 0 with a one-line
 * warning, or 73/74 when the queue cannot take it (then nothing of it is left there).
 * Recipients refused permanently get their failure notice queued first, so that a
 * run cannot pick up the entry before it knows the notice exists.
 */
static int
queue_message(const struct config *cfg, const char *qdir, struct msg *m,
    struct queue_meta *qm, const struct send_result *res, struct send_ctx *sc)
{
	struct queue q;
	struct queue_entry qe;
	struct runq_opts o;
	struct runq_stats st;
	struct err e, le;
	struct buf to;
	char nid[QUEUE_ID_LEN + 1] = "", reason[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 64];
	size_t i;
	int rc;

	err_init(&e);
	buf_init(&to, 1024 * 1024);
	for (i = 0; i < qm->nrcpts; i++)
		if (qm->rcpts[i].state == QR_PENDING)
			buf_addf(&to, "%s%s", to.len ? "," : "", qm->rcpts[i].addr);
	snprintf(reason, sizeof(reason), "%s", without_relay(err_str(&res->defer, line,
	    sizeof(line))));
	qm->attempts = 1;
	qm->last_attempt = now_s();
	qm->next_attempt = qm->last_attempt + queue_backoff(1, queue_random());
	queue_meta_set(&qm->last_error, err_str(&res->defer, line, sizeof(line)));
	if (queue_open(&q, qdir, 1, &e) == -1 ||
	    runq_notify(cfg, &q, qm, m->fd, 0, nid, &e) == -1 ||
	    queue_commit(&q, m->fd, m->path, qm, &e) == -1)
		goto fail;
	/* The spool file is the queue's now. */
	msg_release(m);
	fprintf(stderr, PROG ": relay %s unavailable (%s); message queued as %s, will retry\n",
	    res->first_relay, reason, qm->id);
	log_line(LOG_WARNING, "msgid=<%s> queue=%s account=%s from=<%s> to=%s size=%llu "
	    "status=queued error=\"%s\"", qm->message_id ? qm->message_id : "", qm->id,
	    qm->account, qm->sender, buf_cstr(&to), (unsigned long long)qm->size, reason);
	if (nid[0] != '\0') {
		/* The relay may take the notice even if it would not take this message. */
		memset(&o, 0, sizeof(o));
		o.all = 1;
		o.match = nid;
		runq_run(cfg, &q, sc, &o, &st, &le);
	}
	rc = EX_OK;
	goto out;
fail:
	/* The caller keeps the message: a notice about it must not go out either. */
	if (nid[0] != '\0' && queue_lock(&q, nid, &qe, &le) == 1)
		queue_remove(&q, &qe, &le);
	err_prefix(&e, "message NOT queued (relay %s unavailable: %s): ", res->first_relay,
	    reason);
	report(&e);
	log_line(LOG_ERR, "msgid=<%s> account=%s from=<%s> to=%s size=%llu status=failed "
	    "error=\"%s\"", qm->message_id ? qm->message_id : "", qm->account, qm->sender,
	    buf_cstr(&to), (unsigned long long)qm->size, err_str(&e, line, sizeof(line)));
	rc = exit_code(&e);
out:
	queue_close(&q);
	buf_free(&to);
	return rc;
}

/* mailq / -bp, -q / --flush / -qI, --queue-run, --remove. Returns the exit code. */
static int
mode_queue(const struct cli *c, const struct config *cfg)
{
	struct queue q;
	struct runq_opts o;
	struct runq_stats st;
	struct deliver_opts dopts;
	struct err e;
	char *qdir = queue_dir(cfg);
	int rc = EX_SOFTWARE;

	err_init(&e);
	queue_open(&q, qdir, 0, &e);
	switch (c->mode) {
	case MODE_QUEUE_LIST:
		if (runq_list(&q, stdout, &e) == -1)
			goto fail;
		if (fflush(stdout) == EOF || ferror(stdout)) {
			err_set(&e, ERR_TEMP, CAUSE_IOERR, "cannot write the listing: %s",
			    strerror(errno));
			goto fail;
		}
		break;
	case MODE_QUEUE_REMOVE:
		if (runq_remove(&q, c->queue_id, &e) == -1)
			goto fail;
		break;
	default:
		memset(&dopts, 0, sizeof(dopts));
		dopts.verbose = c->verbose;
		memset(&o, 0, sizeof(o));
		o.all = c->mode == MODE_QUEUE_FLUSH;
		o.match = c->queue_id;
		o.parallel = 1;
		o.cleanup = 1;
		o.dopts = &dopts;
		if (runq_run(cfg, &q, NULL, &o, &st, &e) == -1)
			goto fail;
		if (st.tried > 0 || st.errors > 0 || st.busy > 0)
			log_line(LOG_INFO, "queue run: entries=%zu tried=%zu delivered=%zu "
			    "deferred=%zu expired=%zu notices=%zu busy=%zu errors=%zu",
			    st.entries, st.tried, st.delivered, st.deferred, st.expired,
			    st.notices, st.busy, st.errors);
		if (c->verbose)
			fprintf(stderr, PROG ": queue %s: %zu entries, %zu tried, %zu delivered, "
			    "%zu deferred, %zu expired, %zu skipped (busy)\n", q.active,
			    st.entries, st.tried, st.delivered, st.deferred, st.expired, st.busy);
		break;
	}
	rc = EX_OK;
	goto out;
fail:
	report(&e);
	rc = exit_code(&e);
out:
	queue_close(&q);
	free(qdir);
	return rc;
}

/*
 * Send one message read from stdin. Returns the exit code.
 */
static int
mode_send(const struct cli *c, const struct config *cfg)
{
	const struct account *a;
	struct intake_opts io;
	struct msg m;
	struct err e;
	struct deliver_opts dopts;
	struct send_ctx *sc = NULL;
	struct send_result res;
	struct queue_meta qm;
	struct buf rlist;
	char *sender = NULL, *from_addr = NULL, *qdir = NULL, *spool = NULL;
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];
	const char *domain;
	size_t i;
	int rc = EX_SOFTWARE;

	err_init(&e);
	memset(&m, 0, sizeof(m));
	m.fd = -1;
	queue_meta_init(&qm);
	buf_init(&rlist, 1024 * 1024);

	if ((a = config_select(cfg, c->account, c->sender_set ? c->sender : NULL, &e)) == NULL)
		goto fail;
	domain = cfg->default_domain != NULL ? cfg->default_domain : a->domain;

	/* Envelope sender: -f, else the account's from, else the real user at the domain. */
	if (c->sender_set)
		sender = xstrdup(c->sender);
	else if (a->from != NULL && strpbrk(a->from, "*?[") == NULL)
		sender = config_expand(a->from);
	else {
		buf_addf(&rlist, "%s@%s", user_name(), domain);
		sender = buf_steal(&rlist);
		buf_init(&rlist, 1024 * 1024);
	}
	if (sender[0] != '\0')
		from_addr = xstrdup(sender);
	else if (a->from != NULL && strpbrk(a->from, "*?[") == NULL)
		from_addr = config_expand(a->from);
	else {
		buf_addf(&rlist, "%s@%s", user_name(), domain);
		from_addr = buf_steal(&rlist);
		buf_init(&rlist, 1024 * 1024);
	}

	qdir = queue_dir(cfg);
	buf_addf(&rlist, "%s/tmp", qdir);
	spool = buf_steal(&rlist);
	buf_init(&rlist, 1024 * 1024);

	memset(&io, 0, sizeof(io));
	io.read_rcpts = c->read_rcpts;
	io.operands = c->operands;
	io.noperands = c->noperands;
	io.sender = sender;
	io.from_addr = from_addr;
	io.full_name = c->full_name != NULL ? c->full_name : a->from_name;
	io.domain = a->domain;
	io.qualify_domain = domain;
	io.spool_dir = spool;
	io.max_size = a->max_message_size;
	io.max_rcpts = a->max_recipients;
	io.address_strict = a->address_strict;
	if (intake_read(STDIN_FILENO, &io, &m, &e) == -1)
		goto fail;

	if (c->dry_run) {
		print_dry_run(a, &m);
		rc = EX_OK;
		goto out;
	}

	queue_meta_set(&qm.account, a->name);
	queue_meta_set(&qm.sender, m.sender);
	qm.uid = (uint64_t)getuid();
	qm.size = m.size;
	queue_meta_set(&qm.message_id, m.message_id);
	qm.body_8bit = m.body_8bit ||
	    (c->body_type != NULL && streq_ci(c->body_type, "8BITMIME"));
	qm.smtputf8 = m.hdr_8bit;
	queue_meta_set(&qm.dsn_notify, c->dsn_notify != NULL ? c->dsn_notify : a->dsn_notify);
	queue_meta_set(&qm.dsn_ret, c->dsn_ret != NULL ? c->dsn_ret : a->dsn_return);
	queue_meta_set(&qm.dsn_envid, c->dsn_envid);
	qm.arrival = now_s();
	for (i = 0; i < m.nrcpts; i++)
		queue_meta_add_rcpt(&qm, m.rcpts[i], QR_PENDING, "");

	/* One attempt through the account and its fallbacks (send.c logs each relay's answer). */
	memset(&dopts, 0, sizeof(dopts));
	dopts.verbose = c->verbose;
	sc = send_new(cfg, &dopts);
	send_attempt(sc, a, &qm, m.fd, &res);
	for (i = 0; i < qm.nrcpts; i++)
		if (qm.rcpts[i].state == QR_FAILED)
			fprintf(stderr, PROG ": recipient <%s> refused: %s\n", qm.rcpts[i].addr,
			    qm.rcpts[i].reply);
	if (res.pending == 0 && res.failed == 0) {
		rc = EX_OK;
		flush_after_send(cfg, qdir, sc, a);
		goto out;
	}
	if (res.pending == 0 && res.sent > 0) {
		/* Delivered to some: the caller must not resend to all, but must know. */
		err_set(&e, ERR_PERM, CAUSE_NOUSER, "delivered to %zu of %zu recipients; %zu "
		    "refused permanently", res.sent, qm.nrcpts, res.failed);
		report(&e);
		rc = exit_code(&e);
		goto out;
	}
	if (res.pending == 0) {
		e = res.perm;
		goto fail;
	}
	if (cfg->queue && res.queueable) {
		rc = queue_message(cfg, qdir, &m, &qm, &res, sc);
		goto out;
	}
	e = res.defer;
	if (res.sent > 0 || res.failed > 0) {
		err_init(&e);
		err_set(&e, res.defer.kind, res.defer.cause, "delivered to %zu of %zu "
		    "recipients; %zu refused permanently, %zu not now (%s)", res.sent,
		    qm.nrcpts, res.failed, res.pending, err_str(&res.defer, line, sizeof(line)));
	}
	goto fail;

fail:
	report(&e);
	buf_reset(&rlist);
	if (m.nrcpts > 0)
		join_rcpts(&rlist, m.rcpts, m.nrcpts);
	log_line(LOG_ERR, "msgid=<%s> account=%s from=<%s> to=%s size=%llu status=%s "
	    "error=\"%s\"", m.message_id ? m.message_id : "", a ? a->name : "-",
	    m.sender ? m.sender : (sender ? sender : ""), buf_cstr(&rlist),
	    (unsigned long long)m.size, e.kind == ERR_TEMP ? "deferred-not-queued" : "failed",
	    err_str(&e, line, sizeof(line)));
	rc = exit_code(&e);
out:
	send_free(sc);
	queue_meta_free(&qm);
	msg_free(&m);
	free(sender);
	free(from_addr);
	free(qdir);
	free(spool);
	buf_free(&rlist);
	return rc;
}

/* --serverinfo [-a ACCOUNT]: what the relay offers; the exit code says if TLS passed. */
static int
mode_serverinfo(const struct cli *c, const struct config *cfg)
{
	const struct account *a;
	struct err e;

	err_init(&e);
	if ((a = config_select(cfg, c->account, NULL, &e)) == NULL ||
	    serverinfo_run(a, c->verbose, stdout, &e) == -1) {
		report(&e);
		return exit_code(&e);
	}
	return EX_OK;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct config cfg;
	struct err e;
	int rc = EX_SOFTWARE;

	/* A relay that closes the socket must not kill us before we can queue the message. */
	signal(SIGPIPE, SIG_IGN);
	/* Over a file size limit (ulimit -f), a write must fail (74), not kill us silently. */
	signal(SIGXFSZ, SIG_IGN);
	umask(077);
	err_init(&e);
	memset(&cfg, 0, sizeof(cfg));

	if (cli_parse(&c, argc, argv, &e) == -1) {
		report(&e);
		return exit_code(&e);
	}
	switch (c.mode) {
	case MODE_HELP:
		fputs(cli_help_text, stdout);
		return EX_OK;
	case MODE_VERSION:
		return mode_version();
	case MODE_SEND:
	case MODE_SERVERINFO:
	case MODE_QUEUE_LIST:
	case MODE_QUEUE_FLUSH:
	case MODE_QUEUE_RUN:
	case MODE_QUEUE_REMOVE:
		break;
	default:
		fprintf(stderr, PROG ": %s is not supported yet in this build; "
		    "see mailout --help\n", mode_name(c.mode));
		return EX_USAGE;
	}

	if (config_load(&cfg, config_system_path(), c.config_file, &e) == -1) {
		report(&e);
		return exit_code(&e);
	}
	log_init(PROG, cfg.syslog_facility, cfg.logfile);
	switch (c.mode) {
	case MODE_QUEUE_LIST:
	case MODE_QUEUE_FLUSH:
	case MODE_QUEUE_RUN:
	case MODE_QUEUE_REMOVE:
		rc = mode_queue(&c, &cfg);
		break;
	case MODE_SERVERINFO:
		rc = mode_serverinfo(&c, &cfg);
		break;
	default:
		rc = mode_send(&c, &cfg);
		break;
	}
	log_close();
	config_free(&cfg);
	return rc;
}

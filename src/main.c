/*
 * main.c: argv[0] dispatch, run modes, and the only place that turns results into exit
 * codes (sysexits.h) and calls exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "base/path.h"
#include "message/aliases.h"
#include "secrets/authorize.h"
#include "secrets/password.h"
#include "base/buf.h"
#include "cli.h"
#include "config/config.h"
#include "send/deliver.h"
#include "send/held.h"
#include "base/err.h"
#include "secrets/keyring.h"
#include "base/log.h"
#include "base/priv.h"
#include "send/configure.h"
#include "send/migrate.h"
#include "send/listen.h"
#include "send/probe.h"
#include "send/serverinfo.h"
#include "net/tls.h"
#include "queue/queue.h"
#include "send/reply.h"
#include "send/runq.h"
#include "message/rfc5322.h"
#include "smtp/serve.h"
#include "net/fdstream.h"
#include "net/stream.h"
#include "send/submit.h"
#include "base/str.h"
#include "base/user.h"

#define PROG "mailout"
/* -bs: a client silent this long is sent away (Postfix's smtpd_timeout). */
#define BS_TIMEOUT 300

static int
exit_code(const struct err *e)
{
	if (e->kind == ERR_OK)
		return EX_OK;
	switch (e->cause) {
	case CAUSE_USAGE:
		return EX_USAGE;
	case CAUSE_DATA:
		return EX_DATAERR;
	case CAUSE_NOUSER:
		return EX_NOUSER;
	case CAUSE_NOHOST:
		return EX_NOHOST;
	case CAUSE_UNAVAILABLE:
		return e->kind == ERR_TEMP ? EX_TEMPFAIL : EX_UNAVAILABLE;
	case CAUSE_SOFTWARE:
		return EX_SOFTWARE;
	case CAUSE_OSERR:
		return EX_OSERR;
	case CAUSE_CANTCREAT:
		return EX_CANTCREAT;
	case CAUSE_IOERR:
		return EX_IOERR;
	case CAUSE_PROTOCOL:
		return e->kind == ERR_TEMP ? EX_TEMPFAIL : EX_PROTOCOL;
	case CAUSE_NOPERM:
		return e->kind == ERR_TEMP ? EX_TEMPFAIL : EX_NOPERM;
	case CAUSE_CONFIG:
		return EX_CONFIG;
	case CAUSE_TEMP:
	case CAUSE_NONE:
	default:
		return e->kind == ERR_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
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
	case MODE_SMTP:
		return "-bs (SMTP on standard input)";
	case MODE_QUEUE_LIST:
		return "listing the queue (-bp, mailq)";
	case MODE_QUEUE_FLUSH:
		return "flushing the queue (-q)";
	case MODE_QUEUE_RUN:
		return "--queue-run";
	case MODE_QUEUE_REMOVE:
		return "--remove";
	case MODE_QUEUE_RELEASE:
		return "--release";
	case MODE_QUEUE_REQUEUE:
		return "--requeue";
	case MODE_ALIASES:
		return "checking aliases (-bi, newaliases)";
	case MODE_VERIFY:
		return "-bv (verify recipients)";
	case MODE_DAEMON:
		return "-bd (SMTP listener)";
	case MODE_SERVERINFO:
		return "--serverinfo";
	case MODE_TEST:
		return "--test";
	case MODE_STORE_PASSWORD:
		return "--store-password";
	case MODE_FORGET_PASSWORD:
		return "--forget-password";
	case MODE_AUTHORIZE:
		return "--authorize";
	case MODE_CONFIGURE:
		return "--configure";
	case MODE_IMPORT:
		return "--import";
	default:
		return "this mode";
	}
}

static const char *
features(void)
{
	static char f[512];

	snprintf(f, sizeof(f),
	    "smtp pipelining chunking dsn 8bitmime smtputf8 oauth2 "
	    "auth(plain login cram-md5 scram-sha-1 scram-sha-256 external xoauth2 "
	    "oauthbearer) keyring=%s",
	    keyring_backend());
	return f;
}

static int
mode_version(void)
{
	const struct group *gr = priv_system() ? getgrgid(priv_group()) : NULL;

	printf(PROG " %s\nfeatures: %s\ntls: %s%s\nsystem config: %s\n", VERSION, features(),
	    tls_library_version(), tls_has_tls13() ? " (TLS 1.2, 1.3)" : " (TLS 1.2)",
	    config_system_path());
	if (priv_system())
		printf("system mode: setgid %s\n", gr != NULL ? gr->gr_name : "(unknown group)");
	return EX_OK;
}

/*
 * System mode (priv.h): what a caller other than root may not ask for. -C is refused
 * by config_load; here -X, --authorize and the keyring modes. Returns 0 or -1 with err.
 */
static int
system_mode_refuses(const struct cli *c, struct err *e)
{
	int rc = 0;

	if (priv_restricted() && c->log_file != NULL)
		rc = err_set(e, ERR_PERM, CAUSE_USAGE,
		    "-X %s: not allowed in system mode (the "
		    "binary is setgid) for users other than root",
		    c->log_file);
	else if (priv_restricted() && c->mode == MODE_AUTHORIZE)
		rc = err_set(e, ERR_PERM, CAUSE_USAGE,
		    "--authorize: in system mode (the binary "
		    "is setgid) only root authorizes the accounts of the system configuration");
	else if (priv_restricted() && c->mode == MODE_STORE_PASSWORD)
		rc = err_set(e, ERR_PERM, CAUSE_USAGE,
		    "--store-password: in system mode (the "
		    "binary is setgid) only root stores the password of an account, into its "
		    "password_file");
	else if (priv_system() && c->mode == MODE_FORGET_PASSWORD)
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: the keyring is not used in system "
		    "mode (the binary is setgid); put the password in a file in " SYSCONFDIR
		    "/mailout (mode 0640, the binary's group) and set password_file",
		    mode_name(c->mode));
	return rc;
}

/*
 * After a run: one line when anything stays (queued or held), so that the admin who
 * ran -q knows; nothing when the queue is empty.
 */
static void
queue_summary(struct queue *q)
{
	struct runq_left l;
	struct err e;
	struct tm tm;
	time_t t;
	char when[32] = "?";

	err_init(&e);
	if (runq_left(q, &l, &e) == -1 || (l.queued == 0 && l.held == 0))
		return;
	t = (time_t)l.next;
	if (localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%H:%M", &tm);
	if (l.queued > 0)
		fprintf(stderr, PROG ": %zu message%s still queued (next attempt %s)%s", l.queued,
		    l.queued == 1 ? "" : "s", when, l.held > 0 ? ", " : "; see mailq\n");
	if (l.held > 0)
		fprintf(stderr, "%s%zu held for a person (see mailq)\n",
		    l.queued > 0 ? "" : PROG ": ", l.held);
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
	char *qdir = NULL;
	int rc = EX_SOFTWARE;

	err_init(&e);
	memset(&q, 0, sizeof(q));
	if (submit_queue_dir(cfg, &qdir, &e) == -1 || queue_open(&q, qdir, 0, &e) == -1)
		goto fail;
	switch (c->mode) {
	case MODE_QUEUE_LIST:
		if (runq_list(cfg, &q, stdout, &e) == -1)
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
	case MODE_QUEUE_REQUEUE:
		/* Bound to the account named, then sent at once as --release does. */
		if (runq_requeue(cfg, &q, c->queue_id, c->account, c->config_file, &e) == -1)
			goto fail;
		/* FALLTHROUGH */
	default:
		memset(&dopts, 0, sizeof(dopts));
		dopts.verbose = c->verbose;
		memset(&o, 0, sizeof(o));
		/*
		 * -q and --release are a person asking: everything, held entries too. The
		 * timer's --queue-run takes what is due, and held entries only once their
		 * account changed.
		 */
		o.all = c->mode != MODE_QUEUE_RUN;
		o.release = c->mode != MODE_QUEUE_RUN;
		o.config_file = c->config_file;
		o.match = c->queue_id;
		o.parallel = 1;
		o.cleanup = 1;
		o.dopts = &dopts;
		if (runq_run(cfg, &q, NULL, &o, &st, &e) == -1)
			goto fail;
		if (st.tried > 0 || st.errors > 0 || st.busy > 0)
			log_line(LOG_INFO,
			    "queue run: entries=%zu tried=%zu delivered=%zu "
			    "deferred=%zu expired=%zu notices=%zu busy=%zu errors=%zu",
			    st.entries, st.tried, st.delivered, st.deferred, st.expired,
			    st.notices, st.busy, st.errors);
		if (c->verbose)
			fprintf(stderr,
			    PROG ": queue %s: %zu entries, %zu tried, %zu delivered, "
				 "%zu deferred, %zu expired, %zu skipped (busy)\n",
			    q.active, st.entries, st.tried, st.delivered, st.deferred, st.expired,
			    st.busy);
		queue_summary(&q);
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

/* Send one message read from stdin (or --dry-run it). Returns the exit code. */
static int
mode_send(const struct cli *c, const struct config *cfg)
{
	struct submit *s;
	struct submit_req r;
	struct submit_result res;
	struct err e;
	int rc;

	err_init(&e);
	if ((s = submit_new(cfg, c->verbose, &e)) == NULL) {
		report(&e);
		return exit_code(&e);
	}
	memset(&r, 0, sizeof(r));
	r.account = c->account;
	r.sender_set = c->sender_set;
	r.sender = c->sender;
	r.full_name = c->full_name;
	r.read_rcpts = c->read_rcpts;
	r.rcpts = c->operands;
	r.nrcpts = c->noperands;
	r.dsn_notify = c->dsn_notify;
	r.dsn_ret = c->dsn_ret;
	r.dsn_envid = c->dsn_envid;
	r.body_8bit = c->body_type != NULL && streq_ci(c->body_type, "8BITMIME");
	r.fd = STDIN_FILENO;
	r.dry_run = c->dry_run;
	r.config_file = c->config_file;
	/* submit.c has said on stderr and in the log what went wrong. */
	rc = submit_message(s, &r, &res) == 0 ? EX_OK : exit_code(&res.e);
	submit_free(s);
	return rc;
}

struct bs_ctx {
	const struct cli *c;
	struct submit *s;
};

/* A -bs message: submitted exactly as one on standard input, with the RCPTs as operands. */
static int
bs_submit(void *ctx, const char *sender, char *const *rcpts, size_t nrcpts, int msg_fd,
    const struct serve_params *p, struct serve_result *out)
{
	struct bs_ctx *x = ctx;
	struct submit_req r;
	struct submit_result res;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.account = x->c->account;
	r.sender_set = 1;
	r.sender = sender;
	r.full_name = x->c->full_name;
	r.rcpts = rcpts;
	r.nrcpts = nrcpts;
	/* The queue keeps one NOTIFY for a message: the first recipient's. */
	for (i = 0; p->dsn_notify != NULL && i < nrcpts && r.dsn_notify == NULL; i++)
		r.dsn_notify = p->dsn_notify[i];
	r.dsn_ret = p->dsn_ret;
	r.dsn_envid = p->dsn_envid;
	r.body_8bit = p->body_8bit;
	r.fd = msg_fd;
	r.config_file = x->c->config_file;
	submit_message(x->s, &r, &res);
	reply_from_submit(&res, out);
	return 0;
}

/* RCPT: a recipient whose aliases loop or lead nowhere is refused right away. */
static void
bs_rcpt(void *ctx, const char *rcpt, struct serve_result *out)
{
	struct bs_ctx *x = ctx;

	reply_to_rcpt(x->s, rcpt, out);
}

/*
 * -bs: an SMTP dialogue on standard input and output. Nothing but the protocol may reach
 * standard output; everything else (-v, warnings) goes to standard error.
 */
static int
mode_smtp(const struct cli *c, const struct config *cfg)
{
	struct bs_ctx x;
	struct serve_opts o;
	struct conn *conn = NULL;
	const struct account *a;
	struct err e;
	int rc;

	err_init(&e);
	memset(&x, 0, sizeof(x));
	x.c = c;
	if ((x.s = submit_new(cfg, c->verbose, &e)) == NULL)
		goto fail;
	memset(&o, 0, sizeof(o));
	o.hostname = host_name();
	/*
	 * serve.c keeps each message in an unlinked file until it is submitted: in the
	 * queue's tmp/, or in $TMPDIR when there is no queue (queue = off, or none for
	 * this user).
	 */
	if (submit_spool_dir(x.s, &o.tmp_dir, &e) == -1)
		goto fail;
	/* The limits of the account a message would most likely take. */
	if ((a = config_select(cfg, c->account, NULL, &e)) != NULL) {
		o.max_size = a->max_message_size;
		o.max_rcpts = a->max_recipients;
	}
	err_init(&e);
	o.timeout_s = BS_TIMEOUT;
	o.submit = bs_submit;
	o.check_rcpt = bs_rcpt;
	o.ctx = &x;
	conn = conn_new(fdstream_new(STDIN_FILENO, STDOUT_FILENO, BS_TIMEOUT));
	if (serve_run(conn, &o, &e) == -1)
		goto fail;
	rc = EX_OK;
	goto out;
fail:
	report(&e);
	log_line(LOG_ERR, "-bs: %s", e.msg);
	rc = exit_code(&e);
out:
	conn_free(conn);
	submit_free(x.s);
	return rc;
}

/* -bd: the SMTP listener (send/listen.h); each worker returns here when it is retired. */
static int
mode_daemon(const struct cli *c, const struct config *cfg)
{
	enum listen_end end;
	struct err e;
	int rc = EX_OK;

	err_init(&e);
	if (listen_run(cfg, c->verbose, &end, &e) == -1) {
		report(&e);
		log_line(LOG_ERR, "-bd: %s", e.msg);
		rc = exit_code(&e);
	}
	return rc;
}

/*
 * newaliases, -bi, -I: check the aliases file. mailout reads the text file itself for
 * every message, so there is no database to build: this only reports, on stdout when the
 * file is fine and on stderr when it is not.
 */
static int
mode_aliases(const struct config *cfg)
{
	struct err e;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int n, rc = EX_OK;

	err_init(&e);
	if (cfg->aliases == NULL || cfg->aliases[0] == '\0') {
		printf(PROG ": no aliases file is configured (aliases = in sendmail.conf)\n");
		goto out;
	}
	if ((f = open_memstream(&text, &len)) == NULL) {
		err_set(&e, ERR_TEMP, CAUSE_OSERR, "cannot check aliases: %s", strerror(errno));
		report(&e);
		rc = exit_code(&e);
		goto out;
	}
	n = aliases_check(cfg->aliases, f, &e);
	fclose(f);
	fputs(text != NULL ? text : "", n >= 0 ? stdout : stderr);
	if (n < 0)
		rc = exit_code(&e);
out:
	free(text);
	return rc;
}

/* -bv: how each recipient resolves, on stdout; nothing is sent. */
static int
mode_verify(const struct cli *c, const struct config *cfg)
{
	struct submit *s = NULL;
	struct err e;
	int rc = EX_OK;

	err_init(&e);
	if (c->noperands == 0)
		err_set(&e, ERR_PERM, CAUSE_USAGE, "-bv needs the recipients to verify");
	else if ((s = submit_new(cfg, c->verbose, &e)) != NULL)
		submit_verify(s, c->account, c->sender_set ? c->sender : NULL, c->operands,
		    c->noperands, stdout, &e);
	fflush(stdout);
	if (err_failed(&e)) {
		/* submit_verify printed its errors next to the addresses. */
		if (s == NULL || e.cause == CAUSE_USAGE)
			report(&e);
		rc = exit_code(&e);
	}
	submit_free(s);
	return rc;
}

/*
 * The modes that act on one account (-a, else the default; sender may choose it): the
 * account, then fn (0, or -1 with err); an error from either is reported and is the exit
 * code.
 */
static int
mode_account(const struct cli *c, const struct config *cfg, const char *sender,
    int (*fn)(const struct cli *, const struct config *, const struct account *, struct err *))
{
	const struct account *a;
	struct err e;
	int rc = EX_OK;

	err_init(&e);
	if ((a = config_select(cfg, c->account, sender, &e)) == NULL || fn(c, cfg, a, &e) == -1) {
		report(&e);
		rc = exit_code(&e);
	}
	return rc;
}

/* --authorize [--device] [-a ACCOUNT]: obtain and store the account's OAuth2 tokens. */
static int
run_authorize(const struct cli *c, const struct config *cfg, const struct account *a,
    struct err *e)
{
	(void)cfg;
	return authorize_run(a, c->device_flow, STDIN_FILENO, stdout, e);
}

/* --test RCPT [-a ACCOUNT] [-f FROM]: each step of a real send, shown; nothing queued. */
static int
run_test(const struct cli *c, const struct config *cfg, const struct account *a, struct err *e)
{
	return probe_run(cfg, a, c->sender_set ? c->sender : NULL, c->test_rcpt, c->verbose,
	    stdout, e);
}

/* --serverinfo [-a ACCOUNT]: what the relay offers; the exit code says if TLS passed. */
static int
run_serverinfo(const struct cli *c, const struct config *cfg, const struct account *a,
    struct err *e)
{
	(void)cfg;
	return serverinfo_run(a, c->verbose, stdout, e);
}

/* --store-password / --forget-password for the selected account (-a, else the default). */
static int
run_password(const struct cli *c, const struct config *cfg, const struct account *a, struct err *e)
{
	int rc = -1;

	if (c->mode != MODE_STORE_PASSWORD) {
		rc = password_forget(a, e);
		goto out;
	}
	/* System mode (root: system_mode_refuses): the password_file, never the keyring. */
	if ((priv_system() ? password_store_file(a, stdin, priv_group(), e)
			   : password_store(a, stdin, e)) == -1)
		goto out;
	held_forget(cfg, a); /* a new secret: a held account may be tried again */
	rc = 0;
out:
	return rc;
}

/*
 * --configure [ADDRESS] and --import FILE: they write the configuration, so they do not
 * load it first (a broken one is what they may be run to replace).
 */
static int
mode_setup(const struct cli *c)
{
	struct configure_opts o;
	struct migrate_opts io;
	struct err e;
	int r;

	err_init(&e);
	if (c->noperands > (c->mode == MODE_CONFIGURE ? 1u : 0u)) {
		err_set(&e, ERR_PERM, CAUSE_USAGE, "%s: unexpected argument '%s'",
		    mode_name(c->mode), c->operands[c->mode == MODE_CONFIGURE ? 1 : 0]);
		report(&e);
		return exit_code(&e);
	}
	if (c->mode == MODE_IMPORT) {
		memset(&io, 0, sizeof(io));
		io.file = c->setup.import_file;
		io.config_file = c->config_file;
		io.yes = c->setup.yes;
		r = migrate_run(&io, &e);
	} else {
		memset(&o, 0, sizeof(o));
		o.address = c->noperands == 1 ? c->operands[0] : NULL;
		o.account = c->account;
		o.config_file = c->config_file;
		o.host = c->setup.host;
		o.port = c->setup.port;
		o.tls = c->setup.tls;
		o.user = c->setup.user;
		o.password_file = c->setup.password_file;
		o.password_command = c->setup.password_command;
		o.oauth = c->setup.oauth;
		o.ca_file = c->setup.ca_file;
		o.fingerprint = c->setup.fingerprint;
		o.test_to = c->setup.test_to;
		o.sets = c->setup.sets;
		o.nsets = c->setup.nsets;
		o.no_auth = c->setup.no_auth;
		o.yes = c->setup.yes;
		o.make_default = c->setup.make_default;
		o.device = c->device_flow;
		o.verbose = c->verbose;
		r = configure_run(&o, &e);
	}
	if (r == -1) {
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

	/* System mode (setgid install): the group goes down before anything else is done. */
	if (priv_init() == -1) {
		fprintf(stderr, PROG ": system mode: cannot change the group ids: %s\n",
		    strerror(errno));
		return EX_OSERR;
	}
	/* A relay that closes the socket must not kill us before we can queue the message. */
	signal(SIGPIPE, SIG_IGN);
	/* Over a file size limit (ulimit -f), a write must fail (74), not kill us silently. */
	signal(SIGXFSZ, SIG_IGN);
	umask(077);
	err_init(&e);
	memset(&cfg, 0, sizeof(cfg));

	if (cli_parse(&c, argc, argv, &e) == -1 || system_mode_refuses(&c, &e) == -1) {
		report(&e);
		return exit_code(&e);
	}
	switch (c.mode) {
	case MODE_HELP:
		fputs(cli_help_text, stdout);
		return EX_OK;
	case MODE_VERSION:
		return mode_version();
	case MODE_CONFIGURE:
	case MODE_IMPORT:
		return mode_setup(&c);
	case MODE_DAEMON:
	case MODE_SEND:
	case MODE_STORE_PASSWORD:
	case MODE_FORGET_PASSWORD:
	case MODE_SMTP:
	case MODE_ALIASES:
	case MODE_VERIFY:
	case MODE_SERVERINFO:
	case MODE_TEST:
	case MODE_AUTHORIZE:
	case MODE_QUEUE_LIST:
	case MODE_QUEUE_FLUSH:
	case MODE_QUEUE_RUN:
	case MODE_QUEUE_REMOVE:
	case MODE_QUEUE_RELEASE:
	case MODE_QUEUE_REQUEUE:
		break;
	default:
		fprintf(stderr,
		    PROG ": %s is not supported yet in this build; "
			 "see mailout --help\n",
		    mode_name(c.mode));
		return EX_USAGE;
	}

	if (config_load(&cfg, config_system_path(), c.config_file, &e) == -1) {
		report(&e);
		return exit_code(&e);
	}
	/* A logfile of system mode is the group's (root:mailout 0660): opened with it. */
	priv_raise();
	log_init(PROG, cfg.syslog_facility, cfg.logfile);
	priv_lower();
	switch (c.mode) {
	case MODE_STORE_PASSWORD:
	case MODE_FORGET_PASSWORD:
		rc = mode_account(&c, &cfg, NULL, run_password);
		break;
	case MODE_QUEUE_LIST:
	case MODE_QUEUE_FLUSH:
	case MODE_QUEUE_RUN:
	case MODE_QUEUE_REMOVE:
	case MODE_QUEUE_RELEASE:
	case MODE_QUEUE_REQUEUE:
		rc = mode_queue(&c, &cfg);
		break;
	case MODE_SMTP:
		rc = mode_smtp(&c, &cfg);
		break;
	case MODE_DAEMON:
		rc = mode_daemon(&c, &cfg);
		break;
	case MODE_ALIASES:
		rc = mode_aliases(&cfg);
		break;
	case MODE_VERIFY:
		rc = mode_verify(&c, &cfg);
		break;
	case MODE_SERVERINFO:
		rc = mode_account(&c, &cfg, NULL, run_serverinfo);
		break;
	case MODE_TEST:
		rc = mode_account(&c, &cfg, c.sender_set ? c.sender : NULL, run_test);
		break;
	case MODE_AUTHORIZE:
		rc = mode_account(&c, &cfg, NULL, run_authorize);
		break;
	default:
		rc = mode_send(&c, &cfg);
		break;
	}
	log_close();
	config_free(&cfg);
	return rc;
}

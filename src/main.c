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
	printf(PROG " %s\nfeatures: %s\nsystem config: %s\n", VERSION, features(),
	    config_system_path());
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
	struct deliver *d = NULL;
	struct deliver_opts dopts;
	struct smtp_envelope env;
	struct smtp_rcpt_status *st = NULL;
	struct buf rlist;
	char *sender = NULL, *from_addr = NULL, *qdir = NULL, *spool = NULL;
	char line[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];
	const char *domain;
	size_t i, nok = 0, ntemp = 0, nperm = 0;
	int rc = EX_SOFTWARE;

	err_init(&e);
	memset(&m, 0, sizeof(m));
	m.fd = -1;
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

	memset(&env, 0, sizeof(env));
	env.sender = m.sender;
	env.rcpts = m.rcpts;
	env.nrcpts = m.nrcpts;
	env.size = m.size;
	env.body_8bit = m.body_8bit ||
	    (c->body_type != NULL && streq_ci(c->body_type, "8BITMIME"));
	env.smtputf8 = m.hdr_8bit;
	env.dsn_notify = c->dsn_notify != NULL ? c->dsn_notify : a->dsn_notify;
	env.dsn_ret = c->dsn_ret != NULL ? c->dsn_ret : a->dsn_return;
	env.dsn_envid = c->dsn_envid;
	st = xcalloc(m.nrcpts, sizeof(*st));

	memset(&dopts, 0, sizeof(dopts));
	dopts.verbose = c->verbose;
	if ((d = deliver_open(a, &dopts, &e)) == NULL)
		goto fail;
	deliver_send(d, &env, m.fd, st, &e);
	for (i = 0; i < m.nrcpts; i++) {
		if (st[i].kind == ERR_OK && st[i].code != 0 && !err_failed(&e))
			nok++;
		else if (st[i].kind == ERR_PERM) {
			nperm++;
			fprintf(stderr, PROG ": recipient <%s> refused: %s\n", m.rcpts[i],
			    st[i].reply);
			log_line(LOG_ERR, "msgid=<%s> account=%s relay=%s from=<%s> to=<%s> "
			    "status=failed reply=\"%s\"", m.message_id, a->name,
			    deliver_relay(d), m.sender, m.rcpts[i], st[i].reply);
		} else if (st[i].kind == ERR_TEMP)
			ntemp++;
	}
	if (nok > 0) {
		join_rcpts(&rlist, m.rcpts, m.nrcpts);
		log_line(LOG_INFO, "msgid=<%s> account=%s relay=%s from=<%s> to=%s size=%llu "
		    "status=sent accepted=%zu refused=%zu", m.message_id, a->name,
		    deliver_relay(d), m.sender, buf_cstr(&rlist), (unsigned long long)m.size,
		    nok, nperm + ntemp);
		if (nperm + ntemp == 0) {
			rc = EX_OK;
			goto out;
		}
		/* Delivered to some: the caller must not resend to all, but must know. */
		err_set(&e, ntemp > 0 ? ERR_TEMP : ERR_PERM, ntemp > 0 ? CAUSE_TEMP : CAUSE_NOUSER,
		    "delivered to %zu of %zu recipients; %zu refused permanently, %zu "
		    "temporarily", nok, m.nrcpts, nperm, ntemp);
		report(&e);
		rc = exit_code(&e);
		goto out;
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
	deliver_close(d);
	free(st);
	msg_free(&m);
	free(sender);
	free(from_addr);
	free(qdir);
	free(spool);
	buf_free(&rlist);
	return rc;
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
	rc = mode_send(&c, &cfg);
	log_close();
	config_free(&cfg);
	return rc;
}

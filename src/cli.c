/*
 * cli.c: the sendmail command line. See cli.h.
 *
 * The rules follow getopt, because that is what sendmail implementations use and what
 * callers were written against: boolean flags group (-ti), a flag that takes a value
 * takes the rest of its word or else the next word (-fX, -f X, -tif X), -q takes only
 * an attached value, and "--" ends the options. Like GNU getopt, options may follow
 * operands ("root -f x"): argv is permuted so that the operands end up, in their
 * original order, at its end, and c->operands points there.
 *
 * Two values are normalised in place in their argv strings, which the C standard lets
 * a program modify: "-f<a@b>" loses its angle brackets and a -N list is lowercased.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "base/err.h"
#include "base/str.h"

const char cli_help_text[] =
    "usage: sendmail [options] [--] [recipient ...]\n"
    "       mailq | newaliases\n"
    "Reads a message on standard input and sends it through the relay of an account in\n"
    "sendmail.conf; a temporary failure queues it for retry.\n"
    "\n"
    "Message:\n"
    "  -t                 also take recipients from the To, Cc and Bcc headers\n"
    "  -i, -oi            accepted (a line with a single dot never ends the message)\n"
    "  -f ADDR, -r ADDR   envelope sender; -f '<>' or -f '' is the null sender\n"
    "  -F NAME            full name of the sender, for an added From header\n"
    "  -N LIST            DSN notify: never, or a comma list of success,failure,delay\n"
    "  -R full|hdrs       DSN: return the full message or its headers only\n"
    "  -V ENVID           DSN envelope identifier\n"
    "  -B 7BIT|8BITMIME   body type\n"
    "  -a NAME, --account NAME  use this account instead of choosing by sender\n"
    "  -C FILE            read FILE instead of the user's sendmail.conf\n"
    "  -v                 verbose: show the SMTP dialogue on stderr (secrets redacted)\n"
    "  --dry-run          print the account, relay, envelope and message; send nothing\n"
    "\n"
    "Modes:\n"
    "  -bm                read a message and send it (the default)\n"
    "  -bs                speak SMTP on standard input and output\n"
    "  -bp, mailq         list the queue\n"
    "  -q, -q<time>       flush the queue now (the interval is ignored)\n"
    "  -qI<id>            flush one queued message\n"
    "  --queue-run        retry the queued messages that are due\n"
    "  --flush            retry every queued message now\n"
    "  --remove ID        remove a message from the queue\n"
    "  --release ID|--all send held messages on (after fixing what mailq says)\n"
    "  --requeue ID -a ACCOUNT  send a queued message through another account\n"
    "  -bi, -I, newaliases  check the aliases file\n"
    "  -bv                verify recipients without sending\n"
    "  -bd                run the SMTP listener of [listen] (mailout(8): the listener)\n"
    "  --serverinfo       show what the account's relay offers\n"
    "  --test RCPT        send a short test message to RCPT\n"
    "  --store-password   store the account's password in the keyring (read from stdin)\n"
    "  --forget-password  remove the account's password from the keyring\n"
    "  --authorize        obtain an OAuth2 refresh token for the account\n"
    "  --device           with --authorize: use the device flow (no browser here)\n"
    "  --configure [ADDR] set up an account: find the server, sign in, send a test\n"
    "                     (--host H --port P --tls implicit|starttls --user U\n"
    "                      --password-file F --password-command CMD --no-auth\n"
    "                      --oauth google|microsoft|custom --tls-ca-file F\n"
    "                      --tls-fingerprint FP --test-to ADDR --set KEY=VALUE\n"
    "                      --default --yes; see mailout(8))\n"
    "  --import FILE      turn msmtp, ssmtp, dma or nullmailer settings into accounts\n"
    "                     (printed for review; written with --yes)\n"
    "  --help             show this text\n"
    "  -bV, --version     show the version\n"
    "\n"
    "Accepted and ignored, for compatibility:\n"
    "  -o<opt> (-oem, -odi, ...), -O OPT=VAL, -L TAG, -h N, -X FILE, -A<x>, -m, -n, -G, -U\n"
    "\n"
    "Configuration: see sendmail.conf(5).\n";

/* Where the parse stands; the error names the word being looked at. */
struct parser {
	struct cli *c;
	struct err *e;
	int argc;
	char **argv;
	int i; /* index of the word being parsed */
	int help;
	int version;
	int device;
	const char *setup_opt; /* the first --configure option given, for errors */
};

static int
no_crlf(struct parser *p, const char *opt, const char *val)
{
	if (!has_crlf(val))
		return 0;
	return err_set(p->e, ERR_PERM, CAUSE_USAGE,
	    "%s: a line break (CR or LF) is not allowed in the value", opt);
}

static int
not_empty(struct parser *p, const char *opt, const char *val)
{
	if (*val != '\0')
		return 0;
	return err_set(p->e, ERR_PERM, CAUSE_USAGE, "%s: the value may not be empty", opt);
}

/* -f and -r: the caller's address as written, with or without <>; "<>" is the null sender. */
static int
set_sender(struct parser *p, const char *opt, char *val)
{
	size_t len;

	if (no_crlf(p, opt, val) == -1)
		return -1;
	len = strlen(val);
	if (len >= 2 && val[0] == '<' && val[len - 1] == '>') {
		val[len - 1] = '\0';
		val++;
	}
	p->c->sender_set = 1;
	p->c->sender = val;
	return 0;
}

/* RFC 3461 NOTIFY: NEVER alone, or any of SUCCESS, FAILURE, DELAY. */
static int
is_notify_word(const char *w, size_t n)
{
	static const char *const words[] = { "success", "failure", "delay" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == n && strncmp(w, words[i], n) == 0)
			return 1;
	return 0;
}

static int
set_notify(struct parser *p, char *val)
{
	const char *w, *end;
	char *s;
	int ok = 1;

	if (no_crlf(p, "-N", val) == -1)
		return -1;
	/* The keywords are case-insensitive; one spelling makes later comparisons plain. */
	for (s = val; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	if (strcmp(val, "never") != 0) {
		for (w = val;; w = end + 1) {
			end = strchr(w, ',');
			if (end == NULL)
				end = w + strlen(w);
			if (!is_notify_word(w, (size_t)(end - w))) {
				ok = 0;
				break;
			}
			if (*end == '\0')
				break;
		}
	}
	if (!ok)
		return err_set(p->e, ERR_PERM, CAUSE_USAGE,
		    "-N %s: not a DSN notify list "
		    "(accepted: never, or a comma list of success, failure, delay)",
		    val);
	p->c->dsn_notify = val;
	return 0;
}

static int
set_mode(struct parser *p, enum cli_mode m)
{
	p->c->mode = m;
	return 0;
}

/* -b<mode>: the sendmail operation modes we implement; others would silently misbehave. */
static int
set_bmode(struct parser *p, const char *val)
{
	static const struct {
		const char *name;
		enum cli_mode mode;
	} modes[] = {
		{ "m", MODE_SEND },
		{ "s", MODE_SMTP },
		{ "p", MODE_QUEUE_LIST },
		{ "i", MODE_ALIASES },
		{ "v", MODE_VERIFY },
		{ "d", MODE_DAEMON },
		{ "V", MODE_VERSION },
	};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(val, modes[i].name) == 0) {
			if (modes[i].mode == MODE_VERSION)
				p->version = 1;
			return set_mode(p, modes[i].mode);
		}
	return err_set(p->e, ERR_PERM, CAUSE_USAGE,
	    "unknown mode -b%s (accepted: -bm, -bs, -bp, -bi, -bv, -bd, -bV); "
	    "see mailout --help",
	    val);
}

/* -q, -q30m (an interval: we are not a daemon, so it is a flush), -qI<id>. */
static int
set_queue(struct parser *p, const char *val)
{
	if (no_crlf(p, "-q", val) == -1)
		return -1;
	if (val[0] == 'I') {
		if (val[1] == '\0')
			return err_set(p->e, ERR_PERM, CAUSE_USAGE,
			    "-qI: a queue id must follow (-qIID)");
		p->c->queue_id = val + 1;
	}
	return set_mode(p, MODE_QUEUE_FLUSH);
}

/* A flag that takes a value, once the value is known. */
static int
short_value(struct parser *p, char opt, char *val)
{
	char name[3] = { '-', opt, '\0' };
	struct cli *c = p->c;

	switch (opt) {
	case 'f':
	case 'r':
		return set_sender(p, name, val);
	case 'F':
		if (no_crlf(p, name, val) == -1)
			return -1;
		c->full_name = val;
		return 0;
	case 'N':
		return set_notify(p, val);
	case 'R':
		if (no_crlf(p, name, val) == -1)
			return -1;
		if (strcasecmp(val, "full") == 0)
			c->dsn_ret = "full";
		else if (strcasecmp(val, "hdrs") == 0)
			c->dsn_ret = "hdrs";
		else
			return err_set(p->e, ERR_PERM, CAUSE_USAGE,
			    "-R %s: not a DSN return type (accepted: full, hdrs)", val);
		return 0;
	case 'V':
		if (no_crlf(p, name, val) == -1 || not_empty(p, name, val) == -1)
			return -1;
		c->dsn_envid = val;
		return 0;
	case 'B':
		if (no_crlf(p, name, val) == -1)
			return -1;
		if (strcasecmp(val, "7BIT") == 0)
			c->body_type = "7BIT";
		else if (strcasecmp(val, "8BITMIME") == 0)
			c->body_type = "8BITMIME";
		else
			return err_set(p->e, ERR_PERM, CAUSE_USAGE,
			    "-B %s: not a body type (accepted: 7BIT, 8BITMIME)", val);
		return 0;
	case 'C':
		if (no_crlf(p, name, val) == -1 || not_empty(p, name, val) == -1)
			return -1;
		c->config_file = val;
		return 0;
	case 'a':
		if (no_crlf(p, name, val) == -1 || not_empty(p, name, val) == -1)
			return -1;
		c->account = val;
		return 0;
	case 'b':
		return set_bmode(p, val);
	case 'o':
		/* -oi is the only option with a meaning; -oem, -odi, -oQ... are sendmail's. */
		if (no_crlf(p, name, val) == -1)
			return -1;
		if (strcmp(val, "i") == 0)
			c->ignore_dots = 1;
		return 0;
	case 'X':
		/* Never opened; system mode refuses it for users (main.c). */
		c->log_file = val;
		return no_crlf(p, name, val);
	default:
		/* -O, -L, -h, -A: accepted and ignored. */
		return no_crlf(p, name, val);
	}
}

/* Flags with no value; they may be grouped. */
static int
short_flag(struct parser *p, char opt)
{
	struct cli *c = p->c;

	switch (opt) {
	case 't':
		c->read_rcpts = 1;
		break;
	case 'i':
		c->ignore_dots = 1;
		break;
	case 'v':
		c->verbose++;
		break;
	case 'I':
		set_mode(p, MODE_ALIASES);
		break;
	case 'm': /* me too: we never drop the sender from an alias expansion */
	case 'n': /* no aliasing: aliases are for local names, which we qualify anyway */
	case 'G': /* gateway submission */
	case 'U': /* initial user submission: we always are one */
		break;
	}
	return 0;
}

/* One word beginning with a single "-". */
static int
short_opts(struct parser *p)
{
	static const char flags[] = "tivImnGU";
	static const char valued[] = "frFNRVBCaboOLhXA";
	char *word = p->argv[p->i], *s, *val;
	char opt;
	int rc = -1;

	for (s = word + 1; *s != '\0'; s++) {
		opt = *s;
		if (strchr(flags, opt) != NULL) {
			short_flag(p, opt);
			continue;
		}
		if (opt == 'q') {
			rc = set_queue(p, s + 1);
			goto out;
		}
		if (strchr(valued, opt) == NULL) {
			err_set(p->e, ERR_PERM, CAUSE_USAGE,
			    "unknown option -%c; see mailout --help", opt);
			goto out;
		}
		if (s[1] != '\0')
			val = s + 1;
		else if (p->i + 1 < p->argc)
			val = p->argv[++p->i];
		else if (opt == 'f' || opt == 'r') {
			/* A bare trailing -f: some callers build "-f $from" with nothing in it. */
			rc = 0;
			goto out;
		} else {
			err_set(p->e, ERR_PERM, CAUSE_USAGE,
			    "option -%c needs a value; see mailout --help", opt);
			goto out;
		}
		rc = short_value(p, opt, val);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* A --configure (or --import) option: recorded, checked against the mode at the end. */
static int
setup_opt(struct parser *p, const char *name, char *val)
{
	struct cli_setup *s = &p->c->setup;
	static const struct {
		const char *name;
		size_t off;
	} vals[] = {
		{ "host", offsetof(struct cli_setup, host) },
		{ "port", offsetof(struct cli_setup, port) },
		{ "tls", offsetof(struct cli_setup, tls) },
		{ "user", offsetof(struct cli_setup, user) },
		{ "password-file", offsetof(struct cli_setup, password_file) },
		{ "password-command", offsetof(struct cli_setup, password_command) },
		{ "oauth", offsetof(struct cli_setup, oauth) },
		{ "tls-ca-file", offsetof(struct cli_setup, ca_file) },
		{ "tls-fingerprint", offsetof(struct cli_setup, fingerprint) },
		{ "test-to", offsetof(struct cli_setup, test_to) },
	};
	size_t i;

	if (strcmp(name, "yes") != 0 && p->setup_opt == NULL)
		p->setup_opt = name;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		if (strcmp(name, vals[i].name) == 0) {
			*(const char **)(void *)((char *)s + vals[i].off) = val;
			return 0;
		}
	if (strcmp(name, "set") == 0) {
		if (s->nsets == MAX_SETUP_SETS)
			return err_set(p->e, ERR_PERM, CAUSE_USAGE, "--set: at most %d of them",
			    MAX_SETUP_SETS);
		s->sets[s->nsets++] = val;
	} else if (strcmp(name, "no-auth") == 0)
		s->no_auth = 1;
	else if (strcmp(name, "yes") == 0)
		s->yes = 1;
	else if (strcmp(name, "default") == 0)
		s->make_default = 1;
	return 0;
}

/* One word beginning with "--" (not "--" itself): --name or --name=value or --name value. */
static int
long_opt(struct parser *p)
{
	static const struct {
		const char *name;
		int has_val;
		int mode; /* -1: not a mode */
	} opts[] = {
		{ "help", 0, MODE_HELP },
		{ "version", 0, MODE_VERSION },
		{ "dry-run", 0, -1 },
		{ "serverinfo", 0, MODE_SERVERINFO },
		{ "test", 1, MODE_TEST },
		{ "store-password", 0, MODE_STORE_PASSWORD },
		{ "forget-password", 0, MODE_FORGET_PASSWORD },
		{ "authorize", 0, MODE_AUTHORIZE },
		{ "device", 0, -1 },
		{ "queue-run", 0, MODE_QUEUE_RUN },
		{ "flush", 0, MODE_QUEUE_FLUSH },
		{ "remove", 1, MODE_QUEUE_REMOVE },
		{ "release", 1, MODE_QUEUE_RELEASE },
		{ "requeue", 1, MODE_QUEUE_REQUEUE },
		{ "account", 1, -1 },
		{ "configure", 0, MODE_CONFIGURE },
		{ "import", 1, MODE_IMPORT },
		{ "host", 1, -1 },
		{ "port", 1, -1 },
		{ "tls", 1, -1 },
		{ "user", 1, -1 },
		{ "password-file", 1, -1 },
		{ "password-command", 1, -1 },
		{ "oauth", 1, -1 },
		{ "tls-ca-file", 1, -1 },
		{ "tls-fingerprint", 1, -1 },
		{ "test-to", 1, -1 },
		{ "set", 1, -1 },
		{ "no-auth", 0, -1 },
		{ "yes", 0, -1 },
		{ "default", 0, -1 },
	};
	char *word = p->argv[p->i], *name = word + 2, *eq, *val = NULL;
	size_t i, n;
	int rc = -1;

	eq = strchr(name, '=');
	n = eq != NULL ? (size_t)(eq - name) : strlen(name);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strlen(opts[i].name) == n && strncmp(name, opts[i].name, n) == 0)
			break;
	if (i == sizeof(opts) / sizeof(opts[0])) {
		err_set(p->e, ERR_PERM, CAUSE_USAGE, "unknown option --%.*s; see mailout --help",
		    (int)n, name);
		goto out;
	}
	if (opts[i].has_val) {
		if (eq != NULL)
			val = eq + 1;
		else if (opts[i].mode == MODE_TEST && p->i + 1 < p->argc &&
		    p->argv[p->i + 1][0] == '-' && p->argv[p->i + 1][1] != '\0') {
			/*
			 * --test -a corp you@example.net: an option is never the recipient;
			 * the recipient is then the operand (cli_parse, at the end).
			 */
			set_mode(p, MODE_TEST);
			rc = 0;
			goto out;
		} else if (p->i + 1 < p->argc)
			val = p->argv[++p->i];
		else {
			err_set(p->e, ERR_PERM, CAUSE_USAGE,
			    "option --%s needs a value; see mailout --help", opts[i].name);
			goto out;
		}
		if (no_crlf(p, word, val) == -1 || not_empty(p, opts[i].name, val) == -1)
			goto out;
	} else if (eq != NULL) {
		err_set(p->e, ERR_PERM, CAUSE_USAGE, "option --%s takes no value", opts[i].name);
		goto out;
	}

	if (opts[i].mode >= 0)
		set_mode(p, (enum cli_mode)opts[i].mode);
	switch (opts[i].mode) {
	case MODE_HELP:
		p->help = 1;
		break;
	case MODE_VERSION:
		p->version = 1;
		break;
	case MODE_TEST:
		p->c->test_rcpt = val;
		break;
	case MODE_QUEUE_REMOVE:
	case MODE_QUEUE_REQUEUE:
		p->c->queue_id = val;
		break;
	case MODE_QUEUE_RELEASE:
		p->c->queue_id = strcmp(val, "--all") == 0 || strcmp(val, "all") == 0 ? NULL : val;
		break;
	case MODE_IMPORT:
		p->c->setup.import_file = val;
		break;
	case MODE_CONFIGURE:
		break;
	default:
		if (strcmp(opts[i].name, "dry-run") == 0)
			p->c->dry_run = 1;
		else if (strcmp(opts[i].name, "device") == 0)
			p->device = 1;
		else if (strcmp(opts[i].name, "account") == 0)
			p->c->account = val;
		else if (opts[i].mode == -1 && setup_opt(p, opts[i].name, val) == -1)
			goto out;
		break;
	}
	rc = 0;
out:
	return rc;
}

/*
 * Move the option words argv[from..to] in front of the operands collected so far
 * (argv[*first..from)), keeping both groups in order, as GNU getopt does.
 */
static void
move_before_operands(char **argv, int *first, int from, int to)
{
	char *w;
	int k;

	for (k = from; k <= to; k++) {
		w = argv[k];
		memmove(&argv[*first + 1], &argv[*first], (size_t)(k - *first) * sizeof(*argv));
		argv[*first] = w;
		(*first)++;
	}
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

int
cli_parse(struct cli *c, int argc, char **argv, struct err *e)
{
	struct parser p;
	int first, start, rc = -1;
	char *w;

	memset(c, 0, sizeof(*c));
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.e = e;
	p.argc = argc;
	p.argv = argv;

	c->prog = "mailout";
	if (argc >= 1 && argv[0] != NULL && *base_name(argv[0]) != '\0')
		c->prog = base_name(argv[0]);
	if (strcmp(c->prog, "mailq") == 0)
		c->mode = MODE_QUEUE_LIST;
	else if (strcmp(c->prog, "newaliases") == 0)
		c->mode = MODE_ALIASES;
	else
		c->mode = MODE_SEND;
	if (argc < 1) {
		rc = 0;
		goto out;
	}

	first = 1;
	for (p.i = 1; p.i < argc; p.i++) {
		w = argv[p.i];
		start = p.i;
		if (w[0] != '-' || w[1] == '\0') {
			/* An operand; "-" alone is one too, as in getopt. */
			if (has_crlf(w)) {
				err_set(e, ERR_PERM, CAUSE_USAGE,
				    "recipient '%s': a line break "
				    "(CR or LF) is not allowed in an address",
				    w);
				goto out;
			}
			continue;
		}
		if (strcmp(w, "--") == 0) {
			move_before_operands(argv, &first, start, start);
			break;
		}
		if (w[1] == '-') {
			if (long_opt(&p) == -1)
				goto out;
		} else if (short_opts(&p) == -1)
			goto out;
		move_before_operands(argv, &first, start, p.i);
	}
	/* Everything after "--" is an operand, however it looks. */
	for (p.i++; p.i < argc; p.i++)
		if (has_crlf(argv[p.i])) {
			err_set(e, ERR_PERM, CAUSE_USAGE,
			    "recipient '%s': a line break "
			    "(CR or LF) is not allowed in an address",
			    argv[p.i]);
			goto out;
		}

	if (p.device) {
		if (c->mode != MODE_AUTHORIZE && c->mode != MODE_CONFIGURE) {
			err_set(e, ERR_PERM, CAUSE_USAGE,
			    "--device is only meaningful with --authorize or --configure");
			goto out;
		}
		c->device_flow = 1;
	}
	if (p.setup_opt != NULL && c->mode != MODE_CONFIGURE) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "--%s is only meaningful with --configure",
		    p.setup_opt);
		goto out;
	}
	if (c->setup.yes && c->mode != MODE_CONFIGURE && c->mode != MODE_IMPORT) {
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "--yes is only meaningful with --configure or "
		    "--import");
		goto out;
	}
	c->operands = argv + first;
	c->noperands = (size_t)(argc - first);
	/* --test RCPT, or --test [options] RCPT: one recipient, never an option. */
	if (c->mode == MODE_TEST && c->test_rcpt == NULL && c->noperands == 1) {
		c->test_rcpt = c->operands[0];
		c->noperands = 0;
	}
	if (c->mode == MODE_TEST && !p.help && !p.version &&
	    (c->test_rcpt == NULL || c->noperands > 0)) {
		if (c->noperands > 0)
			err_set(e, ERR_PERM, CAUSE_USAGE,
			    "--test takes one recipient address; "
			    "'%s' is one too many",
			    c->operands[c->noperands - 1]);
		else
			err_set(e, ERR_PERM, CAUSE_USAGE,
			    "--test needs one recipient address "
			    "(mailout --test [-a ACCOUNT] ADDRESS)");
		goto out;
	}
	if (c->mode == MODE_QUEUE_REQUEUE && c->account == NULL && !p.help && !p.version) {
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "--requeue %s needs the account to send it "
		    "through: -a ACCOUNT",
		    c->queue_id);
		goto out;
	}
	/* --help and --version answer whatever else the line asks for. */
	if (p.help)
		c->mode = MODE_HELP;
	else if (p.version)
		c->mode = MODE_VERSION;
	rc = 0;
out:
	return rc;
}

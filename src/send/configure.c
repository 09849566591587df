/*
 * configure.c: mailout --configure. See configure.h.
 *
 * Nothing is written before the test message is delivered: the account is staged in
 * a temporary file beside the real one only so that the normal parser loads it (what
 * is tested is what will be written), and the password stays in memory until then.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/path.h"
#include "base/priv.h"
#include "base/prompt.h"
#include "base/user.h"
#include "config/confedit.h"
#include "config/config.h"
#include "secrets/authorize.h"
#include "secrets/password.h"
#include "send/candidate.h"
#include "send/configure.h"
#include "send/discover.h"
#include "send/probe.h"
#include "send/trial.h"

/* Each HTTPS request of discovery, and each step of a trial connection, in seconds. */
#define HTTP_TIMEOUT 10
#define TRIAL_TIMEOUT 10
/*
 * Keys of an account that setup owns: removed when it does not set them. They are the
 * server, TLS, sign-in and from; the rest (sending limits, queue, DKIM...) is the
 * person's and stays as it is.
 */
const char *const configure_owned[] = {
	"host",
	"port",
	"tls",
	"tls_verify",
	"tls_ca_file",
	"tls_fingerprint",
	"tls_server_name",
	"auth",
	"user",
	"password",
	"password_command",
	"password_file",
	"oauth",
	"oauth_client_id",
	"oauth_client_secret",
	/* An app grant (issue 15) is sign-in too: left behind, it would not even load. */
	"oauth_grant",
	"oauth_client_secret_file",
	"oauth_client_certificate",
	"oauth_client_key",
	"oauth_service_account",
	"oauth_tenant",
	"oauth_auth_url",
	"oauth_token_url",
	"oauth_device_url",
	"oauth_scope",
	"oauth_token_file",
	"from",
	NULL,
};
#define NOWNED CONFIGURE_NOWNED
/* The account's lines (MAX_SETUP_KEYS): the owned keys and what --set adds. */
_Static_assert(MAX_SETUP_KEYS >= NOWNED + 64, "room for the owned keys and 64 more");

struct kvlist {
	struct confedit_kv kv[MAX_SETUP_KEYS];
	char *own[MAX_SETUP_KEYS];
	size_t n;
};

struct setup {
	const struct configure_opts *o;
	struct err *e;
	FILE *out;
	int tty; /* questions may be asked */
	char *target; /* the file to write */
	struct buf old; /* its text as read */
	int exists;
	struct buf answer;
	char *address;
	char *name;
	int replacing; /* the account is in the file already */
	char *default_to; /* [defaults] account to write, or NULL */
	struct trial chosen;
	struct candidate cand; /* where chosen came from (strings owned) */
	char *pinned; /* tls_fingerprint, when pinned */
	char *fingerprint; /* --tls-fingerprint, checked (written as the user gave it) */
	int auth_off;
	enum oauth_provider oauth;
	char *client_id; /* asked on the terminal */
	struct buf client_secret; /* secret */
	char *user;
	struct buf secret; /* the password, held until it is kept */
	int have_secret;
	char *password_file; /* for the account */
	char *rcpt;
	char **set_keys; /* --set KEY=VALUE, split, keys lower case */
	char **set_vals;
	size_t nsets;
};

static void say(struct setup *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct setup *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(st->out, fmt, ap);
	va_end(ap);
	fflush(st->out);
}

/*
 * Ask on the terminal; the answer (or dflt for an empty one) is returned, valid until
 * the next question. NULL with err at the end of input.
 */
static const char *
ask(struct setup *st, const char *dflt, const char *question)
{
	int r;

	r = prompt_ask(STDIN_FILENO, st->out, &st->answer, "%s%s%s%s: ", question,
	    dflt != NULL ? " [" : "", dflt != NULL ? dflt : "", dflt != NULL ? "]" : "");
	if (r == -1) {
		err_set(st->e, ERR_PERM, CAUSE_USAGE,
		    "could not read the answer (at most %d "
		    "bytes)",
		    MAX_IMPORT_LINE);
		return NULL;
	}
	if (r == 0) {
		say(st, "\n");
		err_set(st->e, ERR_PERM, CAUSE_USAGE,
		    "no answer (end of input): nothing "
		    "was written");
		return NULL;
	}
	if (st->answer.len == 0 && dflt != NULL)
		return dflt;
	return st->answer.data != NULL ? st->answer.data : "";
}

/* A yes or no question: 1 yes, 0 no, -1 with err. --yes answers dflt without asking. */
static int
confirm(struct setup *st, int dflt, const char *question)
{
	const char *a;

	if (st->o->yes || !st->tty)
		return dflt;
	for (;;) {
		if ((a = ask(st, dflt ? "Y/n" : "y/N", question)) == NULL)
			return -1;
		if (strcmp(a, "Y/n") == 0 || strcmp(a, "y/N") == 0)
			return dflt;
		if (strcasecmp(a, "y") == 0 || strcasecmp(a, "yes") == 0)
			return 1;
		if (strcasecmp(a, "n") == 0 || strcasecmp(a, "no") == 0)
			return 0;
	}
}

static int
valid_address(const char *s)
{
	const char *at = strchr(s, '@'), *p;

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL ||
	    strlen(s) > MAX_ADDRESS || strchr(at + 1, '.') == NULL)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("<>()[],;:\\\"", *p) != NULL)
			return 0;
	return 1;
}

/* An account name config.c accepts, and not [defaults]. */
static int
valid_name(const char *s)
{
	return config_name_ok(s) && strcasecmp(s, "defaults") != 0;
}

/* 1 if the file read has section name (case-insensitive). */
static int
has_section(struct setup *st, const char *name)
{
	char **secs;
	size_t n, i;
	int found = 0;

	confedit_sections(st->old.data != NULL ? st->old.data : "", st->old.len, &secs, &n);
	for (i = 0; i < n; i++)
		found |= strcasecmp(secs[i], name) == 0;
	xfree_strv(secs, n);
	return found;
}

/* The value of key in section of the file read, or NULL; the caller frees it. */
static char *
old_value(struct setup *st, const char *section, const char *key)
{
	struct buf b;
	char *v = NULL;

	buf_init(&b, MAX_CONFIG_LINE);
	if (confedit_get(st->old.data != NULL ? st->old.data : "", st->old.len, section, key,
		&b) == 1 &&
	    b.len > 0)
		v = buf_steal(&b);
	buf_free(&b);
	return v;
}

char *
configure_target(const char *config_file, struct err *e)
{
	char *target, *real;

	if (config_file != NULL)
		target = xstrdup(config_file);
	else if (priv_restricted()) {
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "in system mode (the binary is setgid) only "
		    "root sets up the accounts of %s",
		    config_system_path());
		return NULL;
	} else if (priv_system())
		target = xstrdup(config_system_path());
	else if ((target = config_user_path(e)) == NULL)
		return NULL;
	/* A link (a configuration kept elsewhere) is edited where it points. */
	if ((real = realpath(target, NULL)) != NULL) {
		free(target);
		target = real;
	}
	return target;
}

/* The file to write, read now. */
static int
read_target(struct setup *st)
{
	int r;

	if ((st->target = configure_target(st->o->config_file, st->e)) == NULL)
		return -1;
	if ((r = confedit_read(st->target, &st->old, st->e)) == -1)
		return -1;
	st->exists = r;
	return 0;
}

static int
get_address(struct setup *st)
{
	const char *a = st->o->address;

	if (a == NULL && !st->tty)
		return err_set(st->e, ERR_PERM, CAUSE_USAGE,
		    "--configure: give the address "
		    "(mailout --configure ADDRESS): standard input is not a terminal");
	while (a == NULL) {
		if ((a = ask(st, NULL, "Email address")) == NULL)
			return -1;
		if (!valid_address(a)) {
			say(st, "'%s' is not an email address (name@domain)\n", a);
			a = NULL;
		}
	}
	if (!valid_address(a))
		return err_set(st->e, ERR_PERM, CAUSE_USAGE,
		    "--configure: '%s' is not an email "
		    "address (name@domain)",
		    a);
	st->address = xstrdup(a);
	return 0;
}

/* Whether [defaults] account must be written, and to what. */
static int
choose_default(struct setup *st)
{
	char **secs, *cur, *other = NULL;
	size_t n, i, others = 0;
	int r;

	confedit_sections(st->old.data != NULL ? st->old.data : "", st->old.len, &secs, &n);
	for (i = 0; i < n; i++)
		if (strcmp(secs[i], "defaults") != 0 && strcasecmp(secs[i], st->name) != 0) {
			others++;
			other = secs[i];
		}
	cur = old_value(st, "defaults", "account");
	r = st->o->make_default;
	if (!r && others > 0 && (cur == NULL || strcasecmp(cur, st->name) != 0) && st->tty &&
	    !st->o->yes &&
	    (r = confirm(st, 0,
		 "Make it the default account "
		 "(used when no -a is given and no account's from matches)?")) == -1)
		goto out;
	if (r)
		st->default_to = xstrdup(st->name);
	else if (cur == NULL && others == 0)
		st->default_to = xstrdup(st->name);
	else if (cur == NULL && others == 1)
		/* The old account was chosen as the only one: it stays the one chosen. */
		st->default_to = xstrdup(other);
	r = 0;
out:
	free(cur);
	xfree_strv(secs, n);
	return r;
}

/* The account's name: -a, else the domain, else the address; asked when it is taken. */
static int
choose_name(struct setup *st)
{
	const char *domain = strchr(st->address, '@') + 1, *a;
	char *from;
	int r;

	if (st->o->account != NULL) {
		if (!valid_name(st->o->account))
			return err_set(st->e, ERR_PERM, CAUSE_USAGE,
			    "-a %s: not an account name "
			    "(letters, digits, . _ - @ +; at most %d)",
			    st->o->account, MAX_ACCOUNT_NAME);
		st->name = xstrdup(st->o->account);
	} else {
		st->name = xstrdup(valid_name(domain) ? domain : "mail");
		from = has_section(st, st->name) ? old_value(st, st->name, "from") : NULL;
		if (from != NULL && strcasecmp(from, st->address) != 0 &&
		    valid_name(st->address)) {
			free(st->name);
			st->name = xstrdup(st->address);
		}
		free(from);
	}
	while (has_section(st, st->name)) {
		say(st, "Account [%s] is in %s already.\n", st->name, st->target);
		if ((r = confirm(st, 1, "Replace its server and sign-in settings?")) == -1)
			return -1;
		if (r) {
			st->replacing = 1;
			break;
		}
		if ((a = ask(st, NULL, "Name for the new account")) == NULL)
			return -1;
		if (!valid_name(a)) {
			say(st, "'%s' is not an account name (letters, digits, . _ - @ +)\n", a);
			continue;
		}
		free(st->name);
		st->name = xstrdup(a);
	}
	return choose_default(st);
}

/* The candidate --host, --port and --tls describe. */
static int
given_server(struct setup *st, const char *host, const char *port, const char *tls,
    struct candidate *c)
{
	uint64_t p = 0;

	memset(c, 0, sizeof(c[0]));
	c->host = (char *)host;
	c->password = 1;
	c->source = "the command line";
	if (port != NULL && parse_uint(port, 1, 65535, &p) == -1)
		return err_set(st->e, ERR_PERM, CAUSE_USAGE,
		    "--port %s: not a port number "
		    "(1-65535)",
		    port);
	if (tls != NULL && strcasecmp(tls, "implicit") == 0)
		c->tls = TLS_IMPLICIT;
	else if (tls != NULL && strcasecmp(tls, "starttls") == 0)
		c->tls = TLS_STARTTLS;
	else if (tls != NULL)
		return err_set(st->e, ERR_PERM, CAUSE_USAGE,
		    "--tls %s: not a TLS mode mailout "
		    "sets up (accepted: implicit, starttls)",
		    tls);
	else
		c->tls = p == 465 ? TLS_IMPLICIT : TLS_STARTTLS;
	c->port = (unsigned)p;
	if (p == 0 && tls != NULL)
		c->port = c->tls == TLS_IMPLICIT ? 465 : 587;
	return 0;
}

static void
keep_candidate(struct setup *st, const struct candidate *c, const struct trial *t)
{
	free(st->cand.host);
	free(st->cand.user);
	free(st->cand.source);
	free(st->cand.note);
	st->cand = *c;
	st->cand.host = xstrdup(c->host);
	st->cand.user = c->user != NULL ? xstrdup(c->user) : NULL;
	st->cand.source = xstrdup(c->source != NULL ? c->source : "");
	st->cand.note = c->note != NULL ? xstrdup(c->note) : NULL;
	st->chosen = *t;
}

/* None verified: show the first certificate problem and offer to pin it. 0 or -1. */
static int
offer_pin(struct setup *st, const struct trial *t, size_t nt, const struct candidates *l,
    const struct trial_opts *to)
{
	struct trial_opts pin = *to;
	struct candidate c;
	struct trial *again = NULL;
	size_t i, n = 0;
	int r = -1;

	for (i = 0; i < nt && t[i].result != TRIAL_CERT; i++)
		;
	if (i == nt)
		return 1;
	say(st,
	    "No server's certificate could be verified. %s port %u showed:\n"
	    "  certificate: %s\n  fingerprint: %s\n  problem:     %s\n",
	    t[i].host, t[i].port, t[i].cert, t[i].fingerprint, t[i].why);
	if (st->fingerprint != NULL) {
		err_set(st->e, ERR_PERM, CAUSE_CONFIG,
		    "the certificate of %s port %u does not "
		    "match --tls-fingerprint %s: nothing was written",
		    t[i].host, t[i].port, st->o->fingerprint);
		goto out;
	}
	if (!st->tty || st->o->yes) {
		err_set(st->e, ERR_PERM, CAUSE_CONFIG,
		    "the certificate of %s port %u did not "
		    "verify (%s); if it is the server's own (check the fingerprint with its "
		    "administrator), run again with --tls-fingerprint %s",
		    t[i].host, t[i].port, t[i].why, t[i].fingerprint);
		goto out;
	}
	say(st,
	    "Pinning accepts this one certificate, whoever issued it, and no other: do it "
	    "only if the fingerprint is the one the server's administrator gives (or it is "
	    "your own server, or Proton Mail Bridge).\n");
	if ((r = confirm(st, 0, "Pin this certificate (tls_fingerprint)?")) != 1) {
		if (r == 0)
			err_set(st->e, ERR_PERM, CAUSE_CONFIG,
			    "the certificate of %s port %u was "
			    "not accepted: nothing was written",
			    t[i].host, t[i].port);
		r = -1;
		goto out;
	}
	memset(&c, 0, sizeof(c));
	for (n = 0; n < l->n; n++)
		if (strcasecmp(l->c[n].host, t[i].host) == 0)
			c = l->c[n];
	c.host = (char *)t[i].host;
	c.port = t[i].port;
	c.tls = t[i].tls;
	pin.fingerprint = t[i].fingerprint;
	n = 0;
	if (trial_run(&c, &pin, &again, &n) != 0) {
		err_set(st->e, ERR_TEMP, CAUSE_TEMP,
		    "%s port %u failed when tried again with "
		    "the pinned certificate: %s",
		    t[i].host, t[i].port, n > 0 ? again[0].why : "");
		goto out;
	}
	st->pinned = xstrdup(t[i].fingerprint);
	keep_candidate(st, &c, &again[0]);
	r = 0;
out:
	free(again);
	return r;
}

/* Why nothing can be proposed, in err. */
static int
nothing_found(struct setup *st, const struct trial *t, size_t nt)
{
	const char *domain = strchr(st->address, '@') + 1;
	size_t i;

	for (i = 0; i < nt; i++)
		if (t[i].result == TRIAL_NOTLS)
			return err_set(st->e, ERR_PERM, CAUSE_UNAVAILABLE,
			    "%s port %u offers no "
			    "STARTTLS, and no server with TLS was found: nothing was written",
			    t[i].host, t[i].port);
	if (st->o->host != NULL)
		return err_set(st->e, ERR_TEMP, CAUSE_TEMP,
		    "%s could not be reached%s%s: "
		    "nothing was written",
		    st->o->host, nt > 0 ? ": " : "", nt > 0 ? t[nt - 1].why : "");
	return err_set(st->e, ERR_PERM, CAUSE_NOHOST,
	    "no submission server found for %s: "
	    "give it with --host HOST (and --port, --tls); nothing was written",
	    domain);
}

/* Discovery (or --host), trials, the proposal. 0 with st->chosen, or -1. */
static int
find_server(struct setup *st, const char *host, const char *port, const char *tls)
{
	struct candidates l = { NULL, 0 };
	struct discover d;
	struct discover_opts dopt;
	struct trial_opts to;
	struct trial *t = NULL;
	struct candidate c;
	size_t nt = 0, tried = 0;
	int ok = -1, rc = -1, r;

	memset(&to, 0, sizeof(to));
	to.ca_file = st->o->ca_file;
	to.fingerprint = st->o->fingerprint;
	to.domain = host_name();
	to.timeout = TRIAL_TIMEOUT;
	to.verbose = st->o->verbose;
	to.out = st->out;
	memset(&dopt, 0, sizeof(dopt));
	dopt.ca_file = st->o->ca_file;
	dopt.timeout_s = HTTP_TIMEOUT;
	dopt.out = st->out;
	discover_init(&d, st->address, &dopt);
	if (host != NULL) {
		if (given_server(st, host, port, tls, &c) == -1)
			goto out;
		c.user = (char *)st->address;
		candidate_add(&l, &c);
		say(st, "Trying %s:\n", host);
	} else
		say(st, "Looking for the submission server of %s:\n",
		    strchr(st->address, '@') + 1);
	while (ok == -1) {
		if (tried == l.n) {
			if (host != NULL || discover_next(&d, &l) == 0)
				break;
			continue;
		}
		if ((ok = trial_run(&l.c[tried], &to, &t, &nt)) >= 0)
			keep_candidate(st, &l.c[tried], &t[ok]);
		tried++;
	}
	if (ok == -1) {
		if ((r = offer_pin(st, t, nt, &l, &to)) == 1)
			nothing_found(st, t, nt);
		if (r != 0)
			goto out;
	}
	rc = 0;
out:
	discover_free(&d);
	candidates_free(&l);
	free(t);
	return rc;
}

/* Show the proposal; on a terminal, take it or another server. 0 or -1. */
static int
propose(struct setup *st)
{
	const char *h;
	char *host = NULL, *colon;
	int r, rc = -1;

	for (;;) {
		say(st, "Proposed: %s port %u, %s (from %s)\n", st->chosen.host, st->chosen.port,
		    candidate_tls_name(st->chosen.tls), st->cand.source);
		if (st->cand.note != NULL)
			say(st, "Note: %s.\n", st->cand.note);
		if ((r = confirm(st, 1, "Use it?")) == -1)
			goto out;
		if (r == 1)
			break;
		if ((h = ask(st, NULL,
			 "Server to use instead (HOST or HOST:PORT; empty to "
			 "stop)")) == NULL)
			goto out;
		if (*h == '\0') {
			err_set(st->e, ERR_PERM, CAUSE_USAGE, "stopped: nothing was written");
			goto out;
		}
		free(host);
		host = xstrdup(h);
		colon = strchr(host, ':');
		if (colon != NULL)
			*colon++ = '\0';
		free(st->pinned);
		st->pinned = NULL;
		if (find_server(st, host, colon, NULL) == -1)
			goto out;
	}
	rc = 0;
out:
	free(host);
	return rc;
}

static enum oauth_provider
oauth_of(const char *s)
{
	if (strcasecmp(s, "google") == 0)
		return OAUTH_GOOGLE;
	if (strcasecmp(s, "microsoft") == 0)
		return OAUTH_MICROSOFT;
	if (strcasecmp(s, "custom") == 0)
		return OAUTH_CUSTOM;
	return OAUTH_NONE;
}

static const char *
oauth_name(enum oauth_provider p)
{
	switch (p) {
	case OAUTH_GOOGLE:
		return "google";
	case OAUTH_MICROSOFT:
		return "microsoft";
	case OAUTH_CUSTOM:
		return "custom";
	default:
		return NULL;
	}
}

/* OAuth2 on a terminal for a Google or Microsoft server: the client id, if there is one. */
static int
ask_oauth(struct setup *st)
{
	const char *id;

	say(st,
	    "%s signs in with OAuth2. That needs the client id of an OAuth app you "
	    "registered with %s (mailout has none of its own).\n",
	    st->cand.source, st->cand.oauth == OAUTH_GOOGLE ? "Google Cloud" : "Microsoft Entra");
	if ((id = ask(st, NULL, "OAuth2 client id (empty: sign in with a password instead)")) ==
	    NULL)
		return -1;
	if (*id == '\0')
		return 0;
	st->client_id = xstrdup(id);
	st->oauth = st->cand.oauth;
	return prompt_password(&st->client_secret, st->e,
	    "OAuth2 client secret (empty if "
	    "the app has none; not shown): ");
}

/* The password: asked on a terminal, else the first line of standard input. */
static int
read_password(struct setup *st)
{
	buf_reset(&st->secret);
	if (st->tty) {
		if (prompt_password(&st->secret, st->e,
			"Password for %s at %s (not shown): ", st->user, st->chosen.host) == -1)
			return -1;
	} else if (prompt_line(STDIN_FILENO, &st->secret) == -1)
		return err_set(st->e, ERR_PERM, CAUSE_USAGE,
		    "could not read the password from "
		    "standard input (the first line, at most %d bytes)",
		    MAX_SECRET);
	if (st->secret.len > 0 && st->secret.data[st->secret.len - 1] == '\r')
		st->secret.data[--st->secret.len] = '\0';
	if (st->secret.len == 0 || memchr(st->secret.data, '\0', st->secret.len) != NULL)
		return err_set(st->e, ERR_PERM, CAUSE_USAGE,
		    "no password given%s: nothing was "
		    "written",
		    st->tty ? ""
			    : " on standard input (give it there, or "
			      "--password-file, --password-command, --oauth or --no-auth)");
	st->have_secret = 1;
	return 0;
}

/* How the account signs in. 0 or -1. */
static int
sign_in(struct setup *st)
{
	const struct configure_opts *o = st->o;
	const char *u;
	int r;

	if (o->no_auth) {
		st->auth_off = 1;
		return 0;
	}
	if (o->oauth != NULL && (st->oauth = oauth_of(o->oauth)) == OAUTH_NONE)
		return err_set(st->e, ERR_PERM, CAUSE_USAGE,
		    "--oauth %s: not an OAuth2 "
		    "provider (accepted: google, microsoft, custom)",
		    o->oauth);
	if (st->oauth == OAUTH_NONE && o->password_file == NULL && o->password_command == NULL &&
	    st->cand.oauth != OAUTH_NONE && st->tty && !o->yes && ask_oauth(st) == -1)
		return -1;
	u = o->user != NULL ? o->user : st->cand.user != NULL ? st->cand.user : st->address;
	if (o->user == NULL && st->tty && !o->yes && (u = ask(st, u, "User name")) == NULL)
		return -1;
	st->user = xstrdup(u);
	if (st->oauth != OAUTH_NONE || o->password_file != NULL || o->password_command != NULL)
		return 0;
	if (st->chosen.auth[0] == '\0') {
		say(st,
		    "%s offers no AUTH over TLS: it takes mail without signing in (by the "
		    "address you send from).\n",
		    st->chosen.host);
		if ((r = confirm(st, 1, "Send without signing in?")) == -1)
			return -1;
		if (r == 1) {
			st->auth_off = 1;
			return 0;
		}
	}
	return read_password(st);
}

static void
kv_set(struct kvlist *l, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->kv[i].key, key) == 0)
			break;
	if (i == l->n) {
		if (l->n == MAX_SETUP_KEYS)
			return;
		l->kv[l->n].key = key;
		l->own[l->n] = NULL;
		l->n++;
	}
	free(l->own[i]);
	l->own[i] = value != NULL ? xstrdup(value) : NULL;
	l->kv[i].value = l->own[i];
}

static void
kv_free(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->own[i]);
	l->n = 0;
}

/* The account's keys; password_file only when with_file. */
static int
build_kv(struct setup *st, int with_file, struct kvlist *l)
{
	const struct configure_opts *o = st->o;
	char port[MAX_NUMBER_TEXT];
	size_t i;

	for (i = 0; i < NOWNED; i++)
		kv_set(l, configure_owned[i], NULL);
	snprintf(port, sizeof(port), "%u", st->chosen.port);
	kv_set(l, "host", st->chosen.host);
	kv_set(l, "port", port);
	kv_set(l, "tls", st->chosen.tls == TLS_IMPLICIT ? "implicit" : "starttls");
	kv_set(l, "tls_ca_file", o->ca_file);
	/* Pinned on the terminal, or given: what the trial accepted, the account keeps. */
	kv_set(l, "tls_fingerprint", st->pinned != NULL ? st->pinned : st->o->fingerprint);
	kv_set(l, "from", st->address);
	if (st->auth_off) {
		kv_set(l, "auth", "off");
	} else {
		kv_set(l, "user", st->user);
		kv_set(l, "password_command", o->password_command);
		kv_set(l, "password_file",
		    o->password_file != NULL ? o->password_file
			: with_file          ? st->password_file
					     : NULL);
		kv_set(l, "oauth", oauth_name(st->oauth));
		kv_set(l, "oauth_client_id", st->client_id);
		if (st->client_secret.len > 0)
			kv_set(l, "oauth_client_secret", st->client_secret.data);
	}
	for (i = 0; i < st->nsets; i++)
		kv_set(l, st->set_keys[i], st->set_vals[i]);
	return 0;
}

/* The file's new text, into out. 0 or -1. */
static int
new_text(struct setup *st, int with_file, struct buf *out)
{
	struct kvlist l;
	struct confedit_kv dflt;
	struct buf tmp;
	int rc = -1;

	memset(&l, 0, sizeof(l));
	buf_init(&tmp, MAX_CONFIG_FILE);
	if (build_kv(st, with_file, &l) == -1 ||
	    confedit_set(st->old.data != NULL ? st->old.data : "", st->old.len, st->name, l.kv,
		l.n, &tmp, st->e) == -1)
		goto out;
	dflt.key = "account";
	dflt.value = st->default_to;
	if (st->default_to != NULL) {
		if (confedit_set(tmp.data, tmp.len, "defaults", &dflt, 1, out, st->e) == -1)
			goto out;
	} else {
		buf_reset(out);
		if (buf_add(out, tmp.data, tmp.len) == -1 || buf_cstr(out) == NULL) {
			err_set(st->e, ERR_PERM, CAUSE_CONFIG,
			    "the configuration would be too "
			    "large");
			goto out;
		}
	}
	rc = 0;
out:
	kv_free(&l);
	buf_free(&tmp);
	return rc;
}

char *
configure_secret_path(const char *target, const char *account)
{
	const char *slash = strrchr(target, '/');
	char *name = path_name(account), *p;

	if (slash == NULL)
		p = path_fmt(priv_system() ? "mailout/%s.password" : "%s.password", name);
	else
		p = path_fmt(priv_system() ? "%.*s/mailout/%s.password" : "%.*s/%s.password",
		    (int)(slash - target), target, name);
	free(name);
	return p;
}

/* Where the password file goes: the one the account names already, in system mode. */
static char *
secret_path(struct setup *st)
{
	char *have;

	have = has_section(st, st->name) ? old_value(st, st->name, "password_file") : NULL;
	if (have != NULL && priv_system())
		return have;
	free(have);
	return configure_secret_path(st->target, st->name);
}

/* 1 if the account as written holds oauth_client_secret itself (asked, or --set). */
static int
literal_client_secret(const struct setup *st)
{
	size_t i;

	if (st->client_secret.len > 0)
		return 1;
	for (i = 0; i < st->nsets; i++)
		if (strcmp(st->set_keys[i], "oauth_client_secret") == 0 &&
		    st->set_vals[i][0] != '\0')
			return 1;
	return 0;
}

/*
 * Stage the account, load it with the normal parser and send the test message through
 * it. With an OAuth2 provider, --authorize's step comes first. 0 or -1.
 */
static int
test_account(struct setup *st)
{
	struct config cfg;
	struct account *a = NULL;
	struct buf text;
	struct stat sb;
	char *tmp = NULL;
	size_t i;
	int device, rc = -1;

	memset(&cfg, 0, sizeof(cfg));
	buf_init(&text, MAX_CONFIG_FILE);
	/* The loader would refuse the staged copy; say it of the file the person can fix. */
	if (literal_client_secret(st) && stat(st->target, &sb) == 0 && !config_private(&sb)) {
		config_too_open(st->e, st->target, st->name, "oauth_client_secret", &sb);
		goto out;
	}
	if (new_text(st, 0, &text) == -1 ||
	    confedit_stage(st->target, text.data, text.len, priv_system() ? 0644 : 0600, &tmp,
		st->e) == -1)
		goto out;
	if (config_load(&cfg,
		priv_system() || st->o->config_file != NULL ? NULL : config_system_path(), tmp,
		st->e) == -1) {
		err_prefix(st->e, "the account as it would be written does not load: ");
		goto out;
	}
	for (i = 0; i < cfg.naccounts; i++)
		if (strcasecmp(cfg.accounts[i].name, st->name) == 0)
			a = &cfg.accounts[i];
	if (a == NULL) {
		err_set(st->e, ERR_PERM, CAUSE_SOFTWARE,
		    "account %s is not in the staged "
		    "configuration",
		    st->name);
		goto out;
	}
	free(a->file);
	a->file = xstrdup(st->target);
	if (st->have_secret) {
		secret_free(a->password);
		a->password = xstrdup(st->secret.data);
	}
	if (st->oauth != OAUTH_NONE) {
		device = st->o->device ||
		    (getenv("DISPLAY") == NULL && getenv("WAYLAND_DISPLAY") == NULL);
		say(st, "Signing in with OAuth2 (%s):\n",
		    device ? "the device flow: no display "
			     "here for a browser"
			   : "in a browser");
		if (authorize_run(a, device, st->tty ? STDIN_FILENO : -1, st->out, st->e) == -1)
			goto out;
	}
	say(st, "Sending a test message to %s through account %s:\n", st->rcpt, st->name);
	if (probe_run(&cfg, a, st->address, st->rcpt, st->o->verbose, st->out, st->e) == -1) {
		err_prefix(st->e, "the test message was not delivered, so nothing was written: ");
		goto out;
	}
	rc = 0;
out:
	confedit_discard(tmp);
	config_free(&cfg);
	buf_free(&text);
	return rc;
}

/* The password, where this mode keeps secrets. 0 or -1. */
static int
keep_secret(struct setup *st)
{
	struct account a;
	struct err ke;
	int rc = -1;

	if (!st->have_secret)
		return 0;
	memset(&a, 0, sizeof(a));
	a.name = st->name;
	a.host = st->chosen.host;
	a.user = st->user;
	if (priv_system()) {
		if ((st->password_file = secret_path(st)) == NULL) {
			err_set(st->e, ERR_PERM, CAUSE_CANTCREAT,
			    "the password file's name is "
			    "too long");
			goto out;
		}
		a.password_file = st->password_file;
		if (password_save(&a, st->secret.data, st->e) == -1)
			goto out;
		say(st, "The password is in %s (owner root, group of the binary, mode 0640).\n",
		    st->password_file);
		rc = 0;
		goto out;
	}
	err_init(&ke);
	if (password_save(&a, st->secret.data, &ke) == 0) {
		say(st, "The password is in the keyring (host %s, service smtp, user %s).\n",
		    a.host, a.user);
		rc = 0;
		goto out;
	}
	if ((st->password_file = secret_path(st)) == NULL) {
		err_set(st->e, ERR_PERM, CAUSE_CANTCREAT, "the password file's name is too long");
		goto out;
	}
	if (password_write_file(st->password_file, st->secret.data, st->e) == -1)
		goto out;
	say(st,
	    "The keyring could not take the password (%s): it is in %s (mode 0600) "
	    "instead, named by password_file.\n",
	    ke.msg, st->password_file);
	rc = 0;
out:
	return rc;
}

/* The account, written. 0 or -1. */
static int
write_account(struct setup *st)
{
	struct buf text;
	char *tmp = NULL, *bak = NULL;
	int rc = -1;

	buf_init(&text, MAX_CONFIG_FILE);
	if (new_text(st, 1, &text) == -1 ||
	    confedit_stage(st->target, text.data, text.len, priv_system() ? 0644 : 0600, &tmp,
		st->e) == -1)
		goto out;
	if (confedit_commit(st->target, tmp, st->exists ? &st->old : NULL, &bak, st->e) == -1)
		goto out;
	say(st, "Wrote account [%s] to %s%s%s%s.\n", st->name, st->target,
	    bak != NULL ? " (the old file is kept as " : "", bak != NULL ? bak : "",
	    bak != NULL ? ")" : "");
	if (st->default_to != NULL && strcasecmp(st->default_to, st->name) == 0)
		say(st, "It is the default account.\n");
	else
		say(st, "Send through it with -a %s, or with -f %s.\n", st->name, st->address);
	rc = 0;
out:
	free(bak);
	buf_free(&text);
	return rc;
}

/* --set KEY=VALUE, each split once; the values are checked when the account loads. */
static int
split_sets(struct setup *st)
{
	const char *s, *eq;
	size_t i, k;

	st->set_keys = xcalloc(st->o->nsets + 1, sizeof(char *));
	st->set_vals = xcalloc(st->o->nsets + 1, sizeof(char *));
	for (i = 0; i < st->o->nsets; i++) {
		s = st->o->sets[i];
		if ((eq = strchr(s, '=')) == NULL || eq == s)
			return err_set(st->e, ERR_PERM, CAUSE_USAGE,
			    "--set %s: KEY=VALUE "
			    "expected",
			    s);
		st->set_keys[i] = xstrndup(s, (size_t)(eq - s));
		for (k = 0; st->set_keys[i][k] != '\0'; k++)
			if (st->set_keys[i][k] >= 'A' && st->set_keys[i][k] <= 'Z')
				st->set_keys[i][k] = (char)(st->set_keys[i][k] - 'A' + 'a');
		st->set_vals[i] = xstrdup(eq + 1);
		st->nsets = i + 1;
	}
	return 0;
}

static void
setup_free(struct setup *st)
{
	xfree_strv(st->set_keys, st->nsets);
	xfree_strv(st->set_vals, st->nsets);
	free(st->target);
	buf_free(&st->old);
	buf_free(&st->answer);
	free(st->address);
	free(st->name);
	free(st->default_to);
	free(st->cand.host);
	free(st->cand.user);
	free(st->cand.source);
	free(st->cand.note);
	free(st->pinned);
	free(st->fingerprint);
	free(st->client_id);
	buf_free(&st->client_secret);
	free(st->user);
	buf_free(&st->secret);
	free(st->password_file);
	free(st->rcpt);
}

/* A file named on the command line is written into the account, so its name is whole. */
static int
absolute(const char *path, const char *opt, struct err *e)
{
	if (path == NULL || path[0] == '/')
		return 1;
	err_set(e, ERR_PERM, CAUSE_USAGE,
	    "%s %s: give the file's absolute name (it is "
	    "written into the account, which is read from anywhere)",
	    opt, path);
	return 0;
}

int
configure_run(const struct configure_opts *o, struct err *e)
{
	struct setup st;
	const char *r;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	st.o = o;
	st.e = e;
	st.out = stdout;
	st.tty = isatty(STDIN_FILENO);
	buf_init(&st.old, MAX_CONFIG_FILE);
	buf_init(&st.answer, MAX_IMPORT_LINE);
	buf_init_secret(&st.client_secret, MAX_SECRET);
	buf_init_secret(&st.secret, MAX_SECRET);
	if (!st.tty && !o->yes) {
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "--configure: standard input is not a "
		    "terminal, so nothing can be asked: give --yes to take what is found, with "
		    "the address and the sign-in on the command line (mailout(8))");
		goto out;
	}
	if (!absolute(o->ca_file, "--tls-ca-file", e) ||
	    !absolute(o->password_file, "--password-file", e))
		goto out;
	/* Checked before any probe: a typo must not cost a round of connections. */
	if (o->fingerprint != NULL &&
	    (st.fingerprint = config_fingerprint(o->fingerprint)) == NULL) {
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "--tls-fingerprint %s is not a certificate fingerprint: give sha256: and 64 "
		    "hex digits (colons allowed), as mailout --serverinfo prints it",
		    o->fingerprint);
		goto out;
	}
	if (split_sets(&st) == -1 || read_target(&st) == -1 || get_address(&st) == -1 ||
	    choose_name(&st) == -1 || find_server(&st, o->host, o->port, o->tls) == -1 ||
	    propose(&st) == -1 || sign_in(&st) == -1)
		goto out;
	r = o->test_to;
	if (r == NULL && st.tty && !o->yes &&
	    (r = ask(&st, st.address, "Send a test message to")) == NULL)
		goto out;
	st.rcpt = xstrdup(r != NULL ? r : st.address);
	if (!valid_address(st.rcpt)) {
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "'%s' is not an email address for the test "
		    "message",
		    st.rcpt);
		goto out;
	}
	if (test_account(&st) == -1 || keep_secret(&st) == -1 || write_account(&st) == -1)
		goto out;
	rc = 0;
out:
	setup_free(&st);
	return rc;
}

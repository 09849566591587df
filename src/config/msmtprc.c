/*
 * msmtprc.c: msmtp's configuration file (msmtp(1), "CONFIGURATION FILES") as
 * sendmail.conf accounts. See import.h.
 *
 * The file is read as msmtp reads it: blank lines and lines whose first non-blank
 * character is '#' are skipped; every other line is a command and an argument, which
 * may be in double quotes (with \" and \\ inside); "defaults" starts settings that
 * every later account gets; "account NAME [: A, B]" starts an account with those
 * defaults, then what A and B set; "account default : NAME" names the account used
 * when none is asked for. An empty argument means "on" for on/off commands.
 *
 * msmtp's defaults are not mailout's, so what msmtp would do is written out in full:
 * tls off unless "tls on" (mailout: starttls), port 25 or 465 (mailout: 587 for
 * STARTTLS), EHLO localhost (mailout: this host's name, kept).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "config/import.h"

/* One account (or the defaults) in msmtp's own words. */
struct macc {
	char *name;
	char **key;
	char **val;
	size_t n;
	int own; /* settings of its own lines, not inherited */
	int line;
};

static void
mset(struct macc *m, const char *key, const char *val)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0) {
			secret_free(m->val[i]);
			m->val[i] = xstrdup(val);
			return;
		}
	m->key = xrealloc(m->key, (m->n + 1) * sizeof(*m->key));
	m->val = xrealloc(m->val, (m->n + 1) * sizeof(*m->val));
	m->key[m->n] = xstrdup(key);
	m->val[m->n++] = xstrdup(val);
}

static const char *
mget(const struct macc *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0)
			return m->val[i];
	return NULL;
}

static void
mcopy(struct macc *dst, const struct macc *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		mset(dst, src->key[i], src->val[i]);
}

static void
mfree(struct macc *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->key[i]);
		secret_free(m->val[i]);
	}
	free(m->key);
	free(m->val);
	free(m->name);
	memset(m, 0, sizeof(*m));
}

/* "on" for on, "" (msmtp: an empty argument is on), yes or true. */
static int
is_on(const char *v)
{
	return v != NULL && (*v == '\0' || strcasecmp(v, "on") == 0);
}

/* The argument as msmtp reads it, into out. 0, or -1 for a bad quoted string. */
static int
argument(const char *s, struct buf *out)
{
	const char *p;
	int r = 0;

	buf_reset(out);
	if (*s != '"')
		return buf_addstr(out, s);
	for (p = s + 1; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		r |= buf_addc(out, *p);
	}
	if (*p != '"' || p[1] != '\0')
		return -1;
	return r;
}

/* 1 if msmtp's fingerprint (AA:BB:...) is a SHA-256 one (32 bytes), 0 if not. */
static int
is_sha256(const char *v)
{
	size_t hex = 0;
	const char *p;

	for (p = v; *p != '\0'; p++) {
		if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		    (*p >= 'A' && *p <= 'F'))
			hex++;
		else if (*p != ':')
			return 0;
	}
	return hex == 64;
}

/* from with msmtp's %C written as mailout's %H, into b. 0 or -1. */
static int
from_of(const char *v, struct buf *b)
{
	int r = 0;

	buf_reset(b);
	for (; *v != '\0'; v++) {
		if (v[0] == '%' && v[1] == 'C') {
			r |= buf_addstr(b, "%H");
			v++;
		} else
			r |= buf_addc(b, *v);
	}
	return buf_cstr(b) != NULL ? r : -1;
}

/* One msmtp account, converted. */
static void
convert(struct import *im, const struct macc *m, const char *label)
{
	struct import_account *a = import_account(im, m->name);
	const char *v, *tls = mget(m, "tls"), *starttls = mget(m, "tls_starttls");
	int tls_on = is_on(tls), implicit = tls_on && starttls != NULL && !is_on(starttls);
	struct buf b;
	size_t i;

	if (a == NULL) {
		import_note(im, "%s: more accounts than mailout imports at once (%d)", label,
		    MAX_IMPORT_ACCOUNTS);
		return;
	}
	buf_init(&b, MAX_IMPORT_LINE);
	import_set(a, "host", mget(m, "host"));
	/* msmtp's defaults, said out loud: they are not mailout's. */
	v = mget(m, "port");
	import_set(a, "port", v != NULL && *v != '\0' ? v : implicit ? "465" : "25");
	import_set(a, "tls", !tls_on ? "off" : implicit ? "implicit" : "starttls");
	for (i = 0; i < m->n; i++) {
		const char *k = m->key[i];

		v = m->val[i];
		if (strcmp(k, "host") == 0 || strcmp(k, "port") == 0 || strcmp(k, "tls") == 0 ||
		    strcmp(k, "tls_starttls") == 0)
			continue;
		if (strcmp(k, "user") == 0 || strcmp(k, "domain") == 0 ||
		    strcmp(k, "tls_key_file") == 0 || strcmp(k, "tls_cert_file") == 0)
			import_set(a, k, *v != '\0' ? v : NULL);
		else if (strcmp(k, "from") == 0) {
			/* mailout's %H is already the canonical name: msmtp's %C is %H. */
			if (strstr(v, "%M") != NULL)
				import_note(im,
				    "%s: from %s: %%M (the mail name) has no "
				    "equivalent in from; write the domain out",
				    label, v);
			else if (from_of(v, &b) == 0)
				import_set(a, "from", *v != '\0' ? b.data : NULL);
		} else if (strcmp(k, "password") == 0) {
			secret_free(a->secret);
			a->secret = *v != '\0' ? xstrdup(v) : NULL;
		} else if (strcmp(k, "passwordeval") == 0)
			import_set(a, "password_command", *v != '\0' ? v : NULL);
		else if (strcmp(k, "auth") == 0) {
			if (*v == '\0' || strcasecmp(v, "on") == 0)
				import_set(a, "auth", "auto");
			else if (strcasecmp(v, "off") == 0)
				import_set(a, "auth", "off");
			else if (strcasecmp(v, "gssapi") == 0 || strcasecmp(v, "ntlm") == 0 ||
			    strcasecmp(v, "digest-md5") == 0) {
				import_set(a, "auth", "auto");
				import_note(im,
				    "%s: auth %s: mailout does not speak it; auth = "
				    "auto picks what the server offers",
				    label, v);
			} else
				import_set(a, "auth", v);
		} else if (strcmp(k, "tls_trust_file") == 0) {
			if (*v == '\0')
				import_note(im,
				    "%s: tls_trust_file with no file (trust no CA): "
				    "pin the server with tls_fingerprint instead",
				    label);
			else if (strcmp(v, "system") != 0)
				import_set(a, "tls_ca_file", v);
		} else if (strcmp(k, "tls_fingerprint") == 0) {
			if (*v == '\0')
				continue;
			if (is_sha256(v)) {
				buf_reset(&b);
				if (buf_addf(&b, "sha256:%s", v) == 0)
					import_set(a, "tls_fingerprint", b.data);
			} else
				import_note(im,
				    "%s: tls_fingerprint %s is not a SHA-256 one: "
				    "mailout --serverinfo -a %s shows the SHA-256 fingerprint to "
				    "pin",
				    label, v, a->name);
		} else if (strcmp(k, "tls_certcheck") == 0) {
			if (!is_on(v)) {
				import_set(a, "tls_verify", "off");
				import_note(im,
				    "%s: tls_certcheck off: kept as tls_verify = off, "
				    "which leaves the connection open to interception; pin the "
				    "certificate with tls_fingerprint instead",
				    label);
			}
		} else if (strcmp(k, "tls_host_override") == 0)
			import_set(a, "tls_server_name", *v != '\0' ? v : NULL);
		else if (strcmp(k, "timeout") == 0) {
			if (strcasecmp(v, "off") != 0 && *v != '\0')
				import_set(a, "timeout", v);
		} else if (strcmp(k, "set_from_header") == 0 ||
		    strcmp(k, "add_missing_from_header") == 0) {
			if (strcasecmp(v, "on") == 0 && strcmp(k, "set_from_header") == 0)
				import_set(a, "rewrite_from", "always");
			else if (strcasecmp(v, "off") == 0) {
				import_set(a, "rewrite_from", "never");
				import_note(im,
				    "%s: %s off: mailout still adds a From header "
				    "to a message that has none",
				    label, k);
			}
		} else if (strcmp(k, "dsn_notify") == 0 || strcmp(k, "dsn_return") == 0) {
			if (strcasecmp(v, "off") != 0 && *v != '\0')
				import_set(a, k, strcasecmp(v, "headers") == 0 ? "hdrs" : v);
		} else if (strcmp(k, "aliases") == 0 || strcmp(k, "logfile") == 0 ||
		    strcmp(k, "syslog") == 0)
			continue; /* global in mailout: settled by msmtprc_parse */
		else if (strcmp(k, "remove_bcc_headers") == 0) {
			if (!is_on(v))
				import_note(im,
				    "%s: remove_bcc_headers off: mailout always "
				    "removes Bcc headers",
				    label);
		} else if (strcmp(k, "set_date_header") == 0 ||
		    strcmp(k, "add_missing_date_header") == 0 ||
		    strcmp(k, "set_msgid_header") == 0) {
			if (strcasecmp(v, "off") == 0)
				import_note(im,
				    "%s: %s off: mailout adds Date and Message-ID to "
				    "a message that has none",
				    label, k);
		} else if (strcmp(k, "protocol") == 0) {
			if (strcasecmp(v, "smtp") != 0)
				import_note(im, "%s: protocol %s: mailout speaks SMTP only", label,
				    v);
		} else if (strcmp(k, "allow_from_override") == 0) {
			if (!is_on(v))
				import_note(im,
				    "%s: allow_from_override off: mailout takes -f "
				    "as given; rewrite_from = always sets the From header",
				    label);
		} else if (*v != '\0' && strcasecmp(v, "off") != 0)
			import_note(im, "%s: %s %s: no equivalent in mailout", label, k,
			    strcmp(k, "eval") == 0 ? "(a command, not run)" : v);
	}
	if (!tls_on &&
	    (a->secret != NULL || import_get(a, "password_command") != NULL ||
		import_get(a, "user") != NULL))
		import_note(im,
		    "%s: tls off: mailout sends no password without TLS (set tls = "
		    "starttls, or allow_plaintext_auth = on)",
		    label);
	if (mget(m, "user") != NULL && a->secret == NULL && mget(m, "passwordeval") == NULL)
		import_note(im,
		    "%s: no password in the file: the keyring entry msmtp uses "
		    "(host %s, service smtp, user %s) works as it is",
		    label, mget(m, "host"), mget(m, "user"));
	buf_free(&b);
}

/* The global settings (aliases, logfile, syslog) from the account msmtp uses by default. */
static void
globals(struct import *im, struct macc *acc, size_t n, const struct macc *dflt)
{
	static const char *const keys[] = { "aliases", "logfile", "syslog" };
	const char *v, *w;
	size_t i, k;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		v = dflt != NULL ? mget(dflt, keys[k]) : NULL;
		for (i = 0; v == NULL && i < n; i++)
			v = mget(&acc[i], keys[k]);
		for (i = 0; v != NULL && i < n; i++)
			if ((w = mget(&acc[i], keys[k])) != NULL && strcmp(w, v) != 0)
				import_note(im,
				    "account %s: %s %s: mailout has one %s for every "
				    "account (%s is used)",
				    acc[i].name, keys[k], w, keys[k], v);
		if (v == NULL || *v == '\0')
			continue;
		if (strcmp(keys[k], "syslog") == 0) {
			if (strcasecmp(v, "off") == 0)
				import_default(im, "syslog", "off");
			else if (strcasecmp(v, "on") == 0)
				import_note(im,
				    "syslog on: msmtp logs as LOG_USER; mailout "
				    "logs as mail (syslog = user to keep it)");
			else
				import_default(im, "syslog",
				    strncasecmp(v, "LOG_", 4) == 0 ? v + 4 : v);
		} else if (strcmp(keys[k], "logfile") == 0 && strcmp(v, "-") == 0)
			import_note(im, "logfile -: mailout never writes to standard output");
		else
			import_default(im, keys[k], v);
	}
}

int
msmtprc_parse(const char *text, size_t len, struct import *im, struct err *e)
{
	const char *p = text, *end = text + len, *s, *dflt_of = NULL;
	struct macc defs, *acc = NULL, *cur = NULL, *d = NULL;
	struct buf line, arg;
	char *cmd = NULL, *name, *list, *next;
	size_t n = 0, i, k;
	int lineno = 0, rc = -1;

	im->format = "msmtp";
	memset(&defs, 0, sizeof(defs));
	buf_init_secret(&line, MAX_IMPORT_LINE);
	buf_init_secret(&arg, MAX_IMPORT_LINE);
	while (import_line(&p, end, &line)) {
		lineno++;
		for (s = buf_cstr(&line) != NULL ? line.data : ""; *s == ' ' || *s == '\t'; s++)
			;
		if (*s == '\0' || *s == '#')
			continue;
		free(cmd);
		cmd = xstrndup(s, strcspn(s, " \t"));
		for (s += strlen(cmd); *s == ' ' || *s == '\t'; s++)
			;
		if (argument(s, &arg) == -1) {
			err_set(e, ERR_PERM, CAUSE_DATA,
			    "line %d: %s: a quoted argument is not "
			    "closed",
			    lineno, cmd);
			goto out;
		}
		/* Trailing blanks are no part of an unquoted argument. */
		while (arg.len > 0 && *s != '"' &&
		    (arg.data[arg.len - 1] == ' ' || arg.data[arg.len - 1] == '\t'))
			arg.data[--arg.len] = '\0';
		if (strcmp(cmd, "defaults") == 0) {
			cur = &defs;
			continue;
		}
		if (strcmp(cmd, "account") != 0) {
			if (cur == NULL) {
				err_set(e, ERR_PERM, CAUSE_DATA,
				    "line %d: %s before any "
				    "account or defaults",
				    lineno, cmd);
				goto out;
			}
			mset(cur, cmd, arg.data != NULL ? arg.data : "");
			cur->own++;
			continue;
		}
		name = arg.data != NULL ? arg.data : "";
		list = strchr(name, ':');
		if (list != NULL)
			*list++ = '\0';
		for (k = strlen(name); k > 0 && (name[k - 1] == ' ' || name[k - 1] == '\t'); k--)
			name[k - 1] = '\0';
		if (*name == '\0') {
			err_set(e, ERR_PERM, CAUSE_DATA, "line %d: account without a name",
			    lineno);
			goto out;
		}
		acc = xrealloc(acc, (n + 1) * sizeof(*acc));
		cur = &acc[n++];
		memset(cur, 0, sizeof(*cur));
		cur->name = xstrdup(name);
		cur->line = lineno;
		mcopy(cur, &defs);
		for (; list != NULL; list = next) {
			if ((next = strchr(list, ',')) != NULL)
				*next++ = '\0';
			while (*list == ' ' || *list == '\t')
				list++;
			for (k = strlen(list);
			     k > 0 && (list[k - 1] == ' ' || list[k - 1] == '\t'); k--)
				list[k - 1] = '\0';
			for (i = 0; i + 1 < n && strcmp(acc[i].name, list) != 0; i++)
				;
			if (i + 1 == n) {
				err_set(e, ERR_PERM, CAUSE_DATA,
				    "line %d: account %s inherits "
				    "from %s, which is not defined before it",
				    lineno, cur->name, list);
				goto out;
			}
			mcopy(cur, &acc[i]);
			if (strcmp(cur->name, "default") == 0 && dflt_of == NULL)
				dflt_of = acc[i].name;
		}
	}
	for (i = 0; i < n; i++)
		if (strcmp(acc[i].name, "default") == 0)
			d = &acc[i];
	for (i = 0; i < n; i++) {
		char label[MAX_ACCOUNT_NAME + 64];

		/* "account default : work" with nothing of its own only names the default. */
		if (&acc[i] == d && dflt_of != NULL && acc[i].own == 0)
			continue;
		snprintf(label, sizeof(label), "account %.*s (line %d)", MAX_ACCOUNT_NAME,
		    acc[i].name, acc[i].line);
		if (mget(&acc[i], "host") == NULL) {
			import_note(im, "%s: no host: msmtp cannot use it either; not imported",
			    label);
			continue;
		}
		convert(im, &acc[i], label);
	}
	/* A default account with settings of its own stays an account of its own. */
	if (d != NULL)
		import_default(im, "account",
		    dflt_of != NULL && d->own == 0 ? dflt_of : "default");
	globals(im, acc, n, d);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		mfree(&acc[i]);
	free(acc);
	mfree(&defs);
	free(cmd);
	buf_free(&line);
	buf_free(&arg);
	return rc;
}

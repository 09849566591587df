/*
 * nullmailer.c: nullmailer's /etc/nullmailer files as sendmail.conf accounts. See
 * import.h.
 *
 * remotes: one relay a line, "HOST PROTOCOL [--option[=value]]..." ('#' lines are
 * comments), tried in order: each becomes an account, the next one its fallback. The
 * options are those of nullmailer's smtp module: --port, --user, --pass, --auth-login,
 * --ssl (--tls: TLS from the first byte, port 465), --starttls, --x509cafile,
 * --x509certfile, --insecure, --source. nullmailer's sender is USER@defaulthost (else
 * the me file's name), with defaultdomain appended to a name without a dot.
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

/* "--name=value", "--name" or "name=value": name and value (NULL for a flag). */
static void
option(char *w, char **name, char **val)
{
	char *eq;

	while (*w == '-')
		w++;
	*name = w;
	*val = NULL;
	if ((eq = strchr(w, '=')) != NULL) {
		*eq = '\0';
		*val = eq + 1;
	}
}

/* One remotes line, as account name. 0, or -1 when it is not an SMTP relay. */
static int
remote(struct import *im, struct import_account *a, char *line, int lineno)
{
	char *host, *proto, *w, *name, *val, *save = NULL;
	const char *port = NULL;
	int ssl = 0, starttls = 0;

	host = strtok_r(line, " \t", &save);
	proto = strtok_r(NULL, " \t", &save);
	if (proto == NULL || strcasecmp(proto, "smtp") != 0) {
		import_note(im, "remotes line %d: %s %s: mailout speaks SMTP only; not imported",
		    lineno, host, proto != NULL ? proto : "(no protocol)");
		return -1;
	}
	import_set(a, "host", host);
	while ((w = strtok_r(NULL, " \t", &save)) != NULL) {
		option(w, &name, &val);
		if (strcmp(name, "port") == 0 && val != NULL)
			port = val;
		else if (strcmp(name, "user") == 0 && val != NULL)
			import_set(a, "user", val);
		else if (strcmp(name, "pass") == 0 && val != NULL) {
			secret_free(a->secret);
			a->secret = xstrdup(val);
		} else if (strcmp(name, "auth-login") == 0)
			import_set(a, "auth", "login");
		else if (strcmp(name, "ssl") == 0 || strcmp(name, "tls") == 0)
			ssl = 1;
		else if (strcmp(name, "starttls") == 0)
			starttls = 1;
		else if (strcmp(name, "x509cafile") == 0 && val != NULL)
			import_set(a, "tls_ca_file", val);
		else if (strcmp(name, "x509certfile") == 0 && val != NULL) {
			import_set(a, "tls_cert_file", val);
			import_set(a, "tls_key_file", val);
		} else if (strcmp(name, "insecure") == 0) {
			import_set(a, "tls_verify", "off");
			import_note(im,
			    "remotes line %d: --insecure: kept as tls_verify = off, "
			    "which leaves the connection open to interception; pin the "
			    "certificate with tls_fingerprint instead",
			    lineno);
		} else
			import_note(im, "remotes line %d: --%s%s%s: no equivalent in mailout",
			    lineno, name, val != NULL ? "=" : "", val != NULL ? val : "");
	}
	import_set(a, "port", port != NULL ? port : ssl && !starttls ? "465" : "25");
	import_set(a, "tls", starttls ? "starttls" : ssl ? "implicit" : "off");
	if (!ssl && !starttls && a->secret != NULL)
		import_note(im,
		    "remotes line %d: no TLS: mailout sends no password without TLS "
		    "(set tls = starttls, or allow_plaintext_auth = on)",
		    lineno);
	return 0;
}

int
nullmailer_parse(const char *remotes, size_t rlen, const char *defaulthost,
    const char *defaultdomain, const char *adminaddr, const char *me, struct import *im,
    struct err *e)
{
	const char *p = remotes, *end = remotes + rlen, *host;
	struct import_account *a;
	struct buf line, b;
	char name[32], *s, *dom = NULL;
	size_t i;
	int lineno = 0, n = 0, r = -1, rc = -1;

	im->format = "nullmailer";
	buf_init_secret(&line, MAX_IMPORT_LINE);
	buf_init(&b, MAX_ADDRESS);
	while (import_line(&p, end, &line)) {
		lineno++;
		if (buf_cstr(&line) == NULL)
			continue;
		for (s = line.data; *s == ' ' || *s == '\t'; s++)
			;
		if (*s == '\0' || *s == '#')
			continue;
		snprintf(name, sizeof(name), n == 0 ? "nullmailer" : "nullmailer-%d", n + 1);
		if ((a = import_account(im, name)) == NULL)
			break;
		if (remote(im, a, s, lineno) == -1) {
			/* Not a relay: its account goes again. */
			while (a->nkv > 0)
				import_set(a, a->kv[0].key, NULL);
			free(a->kv);
			free(a->name);
			secret_free(a->secret);
			im->nacc--;
			continue;
		}
		/* nullmailer tries the next remote when one fails: mailout's fallback. */
		if (n > 0)
			import_set(&im->acc[im->nacc - 2], "fallback", a->name);
		n++;
	}
	if (n == 0) {
		err_set(e, ERR_PERM, CAUSE_DATA, "remotes names no SMTP relay");
		goto out;
	}
	/* The sender's domain, as nullmailer-inject makes it. */
	host = defaulthost != NULL ? defaulthost : me;
	if (host != NULL && strchr(host, '.') == NULL && defaultdomain != NULL &&
	    strcmp(host, "localhost") != 0)
		r = buf_addf(&b, "%s.%s", host, defaultdomain);
	else if (host != NULL)
		r = buf_addstr(&b, host);
	if (host != NULL && r == 0) {
		dom = xstrdup(b.data);
		import_default(im, "default_domain", dom);
		for (i = 0; i < im->nacc; i++) {
			buf_reset(&b);
			if (buf_addf(&b, "%%U@%s", dom) == 0)
				import_set(&im->acc[i], "from", b.data);
		}
	}
	if (adminaddr != NULL && *adminaddr != '\0')
		import_note(im,
		    "adminaddr %s: nullmailer sent all mail for local users there; "
		    "mailout follows the aliases file: put \"root: %s\" (and a line for each "
		    "user whose mail should go there) in it",
		    adminaddr, adminaddr);
	import_default(im, "account", im->acc[0].name);
	rc = 0;
out:
	free(dom);
	buf_free(&line);
	buf_free(&b);
	return rc;
}

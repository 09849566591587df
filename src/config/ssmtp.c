/*
 * ssmtp.c: ssmtp's /etc/ssmtp/ssmtp.conf and revaliases as one sendmail.conf account.
 * See import.h.
 *
 * ssmtp.conf is "Key=value" lines (keys without case); a '#' anywhere starts a comment,
 * as ssmtp itself cuts the line there. ssmtp's behaviour, written out for mailout:
 * the port is 25 unless the mailhub names one; UseSTARTTLS is STARTTLS, UseTLS alone is
 * TLS from the first byte; without FromLineOverride=YES ssmtp writes the From header
 * itself (rewrite_from = always); the sender is USER@RewriteDomain, else USER@HostName.
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

static void
trim(char **s)
{
	char *p = *s, *e;

	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	*s = p;
}

static int
yes(const char *v)
{
	return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* revaliases: "user:address[:mailhub[:port]]", each compared with what mailout does. */
static void
revaliases(struct import *im, const char *text, size_t len, const char *domain, const char *hub)
{
	const char *p = text, *end = text + len;
	struct buf line;
	char *s, *user, *addr, *mh, *c;
	int lineno = 0;

	buf_init(&line, MAX_IMPORT_LINE);
	while (import_line(&p, end, &line)) {
		lineno++;
		if (buf_cstr(&line) == NULL)
			continue;
		if ((c = strchr(line.data, '#')) != NULL)
			*c = '\0';
		s = line.data;
		trim(&s);
		if (*s == '\0' || (addr = strchr(s, ':')) == NULL)
			continue;
		user = s;
		*addr++ = '\0';
		mh = strchr(addr, ':');
		if (mh != NULL)
			*mh++ = '\0';
		trim(&user);
		trim(&addr);
		c = strchr(addr, '@');
		if (domain != NULL && c != NULL && strncmp(addr, user, (size_t)(c - addr)) == 0 &&
		    strlen(user) == (size_t)(c - addr) && strcasecmp(c + 1, domain) == 0)
			; /* what mailout does anyway (from = %U@domain) */
		else
			import_note(im,
			    "revaliases line %d: mail of local user %s left as %s; "
			    "mailout sends it as %s@%s (sendmail -f %s keeps the old address)",
			    lineno, user, addr, user, domain != NULL ? domain : "this host", addr);
		if (mh != NULL && *mh != '\0' && (hub == NULL || strcasecmp(mh, hub) != 0))
			import_note(im,
			    "revaliases line %d: user %s's own mailhub %s: mailout "
			    "chooses the relay by sender (from = in an account), not by user",
			    lineno, user, mh);
	}
	buf_free(&line);
}

int
ssmtp_parse(const char *conf, size_t clen, const char *rev, size_t rlen, struct import *im,
    struct err *e)
{
	const char *p = conf, *end = conf + clen, *domain;
	struct import_account *a;
	struct buf line, from;
	char *s, *key, *val, *c, *hub = NULL, *port = NULL;
	size_t i;
	int tls = 0, starttls = 0, override = 0, lineno = 0, rc = -1;

	im->format = "ssmtp";
	buf_init_secret(&line, MAX_IMPORT_LINE);
	buf_init(&from, MAX_ADDRESS);
	a = import_account(im, "ssmtp");
	while (import_line(&p, end, &line)) {
		lineno++;
		if (buf_cstr(&line) == NULL)
			continue;
		if ((c = strchr(line.data, '#')) != NULL)
			*c = '\0';
		s = line.data;
		trim(&s);
		if (*s == '\0')
			continue;
		if ((val = strchr(s, '=')) == NULL) {
			err_set(e, ERR_PERM, CAUSE_DATA, "line %d: Key=value expected", lineno);
			goto out;
		}
		*val++ = '\0';
		key = s;
		trim(&key);
		trim(&val);
		if (strcasecmp(key, "mailhub") == 0) {
			free(hub);
			free(port);
			port = NULL;
			hub = xstrdup(val);
			/* host:port; an IPv6 address is written [addr]:port. */
			if ((c = strrchr(hub, ':')) != NULL && strchr(c, ']') == NULL &&
			    (hub[0] == '[' || strchr(hub, ':') == c)) {
				*c = '\0';
				port = xstrdup(c + 1);
			}
			if (hub[0] == '[' && (c = strchr(hub, ']')) != NULL) {
				*c = '\0';
				memmove(hub, hub + 1, strlen(hub));
			}
		} else if (strcasecmp(key, "usetls") == 0)
			tls = yes(val);
		else if (strcasecmp(key, "usestarttls") == 0)
			starttls = yes(val);
		else if (strcasecmp(key, "fromlineoverride") == 0)
			override = yes(val);
		else if (strcasecmp(key, "authuser") == 0)
			import_set(a, "user", val);
		else if (strcasecmp(key, "authpass") == 0) {
			secret_free(a->secret);
			a->secret = xstrdup(val);
		} else if (strcasecmp(key, "authmethod") == 0)
			import_set(a, "auth",
			    strcasecmp(val, "cram-md5") == 0 ? "cram-md5" : "auto");
		else if (strcasecmp(key, "rewritedomain") == 0)
			import_default(im, "default_domain", val);
		else if (strcasecmp(key, "hostname") == 0)
			import_set(a, "domain", val);
		else if (strcasecmp(key, "tls_ca_file") == 0 || strcasecmp(key, "tls_ca_dir") == 0)
			import_set(a, "tls_ca_file", val);
		else if (strcasecmp(key, "tlscert") == 0)
			import_set(a, "tls_cert_file", val);
		else if (strcasecmp(key, "tlskey") == 0)
			import_set(a, "tls_key_file", val);
		else if (strcasecmp(key, "root") == 0)
			import_note(im,
			    "Root=%s: mailout sends mail for root where the aliases "
			    "file says: put \"root: %s\" in it (aliases =)",
			    val, val);
		else if (strcasecmp(key, "debug") == 0)
			import_note(im, "Debug=%s: use mailout -v for the SMTP dialogue", val);
		else
			import_note(im, "%s=%s: no equivalent in mailout", key, val);
	}
	if (hub == NULL) {
		err_set(e, ERR_PERM, CAUSE_DATA, "no mailhub: ssmtp has nowhere to send either");
		goto out;
	}
	import_set(a, "host", hub);
	import_set(a, "port", port != NULL ? port : "25");
	import_set(a, "tls", starttls ? "starttls" : tls ? "implicit" : "off");
	if (starttls || tls)
		import_note(im,
		    "ssmtp did not check the server's certificate; mailout does: "
		    "if it fails, mailout --serverinfo shows why");
	else if (a->secret != NULL)
		import_note(im,
		    "no TLS: mailout sends no password without TLS (set tls = "
		    "starttls, or allow_plaintext_auth = on)");
	/* ssmtp's sender and From: USER@RewriteDomain, else USER@HostName. */
	domain = NULL;
	for (i = 0; i < im->ndefaults; i++)
		if (strcmp(im->defaults[i].key, "default_domain") == 0)
			domain = im->defaults[i].value;
	if (domain == NULL)
		domain = import_get(a, "domain");
	if (domain != NULL && buf_addf(&from, "%%U@%s", domain) == 0)
		import_set(a, "from", from.data);
	import_set(a, "rewrite_from", override ? "local" : "always");
	if (rev != NULL)
		revaliases(im, rev, rlen, domain, hub);
	import_default(im, "account", a->name);
	rc = 0;
out:
	free(hub);
	free(port);
	buf_free(&line);
	buf_free(&from);
	return rc;
}

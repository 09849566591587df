/*
 * dma.c: the DragonFly Mail Agent's /etc/dma/dma.conf and auth.conf as one
 * sendmail.conf account. See import.h.
 *
 * dma.conf is "KEY value" lines and "KEY" flags, '#' to the end of a line a comment.
 * dma's behaviour, written out for mailout: port 25 unless PORT; SECURETRANSFER alone
 * is TLS from the first byte, with STARTTLS it is STARTTLS, with OPPORTUNISTIC_TLS too
 * it goes on in clear when STARTTLS fails; the sender is USER@MAILNAME unless
 * MASQUERADE says otherwise. auth.conf lines are "user|smarthost:password".
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

/* The next setting of dma.conf: *key and *val (NULL for a flag) point into line. */
static int
next(const char **p, const char *end, struct buf *line, char **key, char **val)
{
	char *s, *c, *e;

	while (import_line(p, end, line)) {
		if (buf_cstr(line) == NULL)
			continue;
		if ((c = strchr(line->data, '#')) != NULL)
			*c = '\0';
		for (s = line->data; *s == ' ' || *s == '\t'; s++)
			;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*s == '\0')
			continue;
		*key = s;
		s += strcspn(s, " \t");
		*val = NULL;
		if (*s != '\0') {
			*s++ = '\0';
			while (*s == ' ' || *s == '\t')
				s++;
			*val = *s != '\0' ? s : NULL;
		}
		return 1;
	}
	return 0;
}

void
dma_files(const char *conf, size_t clen, char **auth_file, char **mailname_file)
{
	const char *p = conf, *end = conf + clen;
	struct buf line;
	char *k, *v;
	int named = 0;

	*auth_file = NULL;
	*mailname_file = NULL;
	buf_init(&line, MAX_IMPORT_LINE);
	while (next(&p, end, &line, &k, &v)) {
		if (strcmp(k, "AUTHPATH") == 0 && v != NULL) {
			free(*auth_file);
			*auth_file = xstrdup(v);
		} else if (strcmp(k, "MAILNAME") == 0 && v != NULL) {
			/* A name, or the file that holds it. */
			free(*mailname_file);
			*mailname_file = v[0] == '/' ? xstrdup(v) : NULL;
			named = 1;
		}
	}
	if (*auth_file == NULL)
		*auth_file = xstrdup("/etc/dma/auth.conf");
	if (!named)
		*mailname_file = xstrdup("/etc/mailname");
	buf_free(&line);
}

/* The password of auth.conf for host, and its user. */
static void
auth_of(struct import *im, struct import_account *a, const char *auth, size_t alen,
    const char *host)
{
	const char *p = auth, *end = auth + alen;
	struct buf line;
	char *s, *bar, *colon;
	int lineno = 0;

	buf_init_secret(&line, MAX_IMPORT_LINE);
	while (import_line(&p, end, &line)) {
		lineno++;
		if (buf_cstr(&line) == NULL || line.data[0] == '#' || line.data[0] == '\0')
			continue;
		s = line.data;
		if ((bar = strchr(s, '|')) == NULL || (colon = strchr(bar, ':')) == NULL) {
			import_note(im, "auth.conf line %d: not user|smarthost:password; skipped",
			    lineno);
			continue;
		}
		*bar++ = '\0';
		*colon++ = '\0';
		if (strcasecmp(bar, host) != 0)
			continue;
		import_set(a, "user", s);
		secret_free(a->secret);
		a->secret = xstrdup(colon);
	}
	buf_free(&line);
}

int
dma_parse(const char *conf, size_t clen, const char *auth, size_t alen, const char *mailname,
    struct import *im, struct err *e)
{
	const char *p = conf, *end = conf + clen, *name = mailname;
	struct import_account *a;
	struct buf line, from;
	char *k, *v, *host = NULL, *port = NULL, *masq = NULL, *at, *named = NULL;
	int secure = 0, starttls = 0, opportunistic = 0, rc = -1;

	im->format = "dma";
	buf_init(&line, MAX_IMPORT_LINE);
	buf_init(&from, MAX_ADDRESS);
	a = import_account(im, "dma");
	while (next(&p, end, &line, &k, &v)) {
		if (strcmp(k, "SMARTHOST") == 0 && v != NULL) {
			free(host);
			host = xstrdup(v);
		} else if (strcmp(k, "PORT") == 0 && v != NULL) {
			free(port);
			port = xstrdup(v);
		} else if (strcmp(k, "SECURETRANSFER") == 0)
			secure = 1;
		else if (strcmp(k, "STARTTLS") == 0)
			starttls = 1;
		else if (strcmp(k, "OPPORTUNISTIC_TLS") == 0)
			opportunistic = 1;
		else if (strcmp(k, "INSECURE") == 0)
			import_set(a, "allow_plaintext_auth", "on");
		else if (strcmp(k, "CERTFILE") == 0 && v != NULL) {
			/* dma's CERTFILE holds the certificate and its key. */
			import_set(a, "tls_cert_file", v);
			import_set(a, "tls_key_file", v);
		} else if (strcmp(k, "FINGERPRINT") == 0 && v != NULL) {
			buf_reset(&from);
			if (buf_addf(&from, "sha256:%s", v) == 0)
				import_set(a, "tls_fingerprint", from.data);
		} else if (strcmp(k, "ALIASES") == 0 && v != NULL)
			import_default(im, "aliases", v);
		else if (strcmp(k, "MAILNAME") == 0 && v != NULL) {
			/* v is in the line buffer: the next line would overwrite it. */
			free(named);
			named = v[0] != '/' ? xstrdup(v) : NULL;
			name = named != NULL ? named : mailname;
		} else if (strcmp(k, "MASQUERADE") == 0 && v != NULL) {
			free(masq);
			masq = xstrdup(v);
		} else if (strcmp(k, "AUTHPATH") == 0)
			continue;
		else if (strcmp(k, "NULLCLIENT") == 0)
			import_note(im,
			    "NULLCLIENT: mailout sends everything through the relay "
			    "anyway");
		else if (strcmp(k, "SPOOLDIR") == 0 || strcmp(k, "DEFER") == 0 ||
		    strcmp(k, "FULLBOUNCE") == 0)
			import_note(im,
			    "%s%s%s: mailout has its own queue (queue_dir, "
			    "queue_lifetime; failure notices carry the message)",
			    k, v != NULL ? " " : "", v != NULL ? v : "");
		else
			import_note(im, "%s%s%s: no equivalent in mailout", k,
			    v != NULL ? " " : "", v != NULL ? v : "");
	}
	if (host == NULL) {
		err_set(e, ERR_PERM, CAUSE_DATA,
		    "no SMARTHOST: dma delivers by MX itself, which "
		    "mailout does not (it submits to a relay)");
		goto out;
	}
	import_set(a, "host", host);
	import_set(a, "port", port != NULL ? port : "25");
	import_set(a, "tls",
	    !secure             ? "off"
		: !starttls     ? "implicit"
		: opportunistic ? "opportunistic"
				: "starttls");
	if (secure && import_get(a, "tls_fingerprint") == NULL)
		import_note(im,
		    "dma did not check the server's certificate; mailout does: if "
		    "it fails, mailout --serverinfo shows why");
	if (auth != NULL)
		auth_of(im, a, auth, alen, host);
	if (a->secret != NULL && !secure && import_get(a, "allow_plaintext_auth") == NULL)
		import_note(im,
		    "no SECURETRANSFER: mailout sends no password without TLS (set "
		    "tls = starttls, or allow_plaintext_auth = on as INSECURE did)");
	if (name != NULL)
		import_default(im, "default_domain", name);
	/* The sender: MASQUERADE user@host, host, or user@; else USER@MAILNAME. */
	buf_reset(&from);
	if (masq != NULL && (at = strchr(masq, '@')) != NULL && at[1] == '\0')
		rc = name != NULL ? buf_addf(&from, "%s%s", masq, name) : -1;
	else if (masq != NULL && at != NULL)
		rc = buf_addstr(&from, masq);
	else if (masq != NULL)
		rc = buf_addf(&from, "%%U@%s", masq);
	else
		rc = name != NULL ? buf_addf(&from, "%%U@%s", name) : -1;
	if (rc == 0)
		import_set(a, "from", from.data);
	import_default(im, "account", a->name);
	rc = 0;
out:
	free(host);
	free(port);
	free(masq);
	free(named);
	buf_free(&line);
	buf_free(&from);
	return rc;
}

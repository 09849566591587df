/*
 * auth.c: SMTP AUTH (RFC 4954) over the engine's smtp_cmd. See auth.h.
 *
 * Wire rules kept here, because sasl.c knows no SMTP: an initial response that would
 * make the AUTH line longer than 512 octets waits for an empty 334 instead; a response
 * of zero length is "=" on the AUTH line and an empty line after a 334; "*" cancels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/auth.h"
#include "base/base64.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "config/config.h"
#include "secrets/cred.h"
#include "base/err.h"
#include "base/hooks.h"
#include "secrets/oauth2.h"
#include "smtp/sasl.h"
#include "smtp/smtp.h"
#include "base/str.h"

/* What auth = auto tries, strongest first; a password can serve all of them. */
static const enum sasl_mech auto_tls[] = {
	SASL_SCRAM_SHA_256,
	SASL_SCRAM_SHA_1,
	SASL_PLAIN,
	SASL_LOGIN,
	SASL_CRAM_MD5,
};
/* Without TLS only mechanisms that do not reveal the password to a listener. */
static const enum sasl_mech auto_clear[] = {
	SASL_SCRAM_SHA_256,
	SASL_SCRAM_SHA_1,
	SASL_CRAM_MD5,
};

/* Is name one of the space-separated words in list? */
static int
offered(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (strncasecmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		while (*p != '\0' && *p != ' ')
			p++;
	}
	return 0;
}

int
auth_initial_fits(const char *mech, size_t irlen)
{
	/* "AUTH " mech " " ir CRLF */
	return 5 + strlen(mech) + 1 + (irlen == 0 ? 1 : irlen) + 2 <= MAX_COMMAND_LINE;
}

static const enum sasl_mech mechs_bearer[] = { SASL_OAUTHBEARER, SASL_XOAUTH2 };
static const enum sasl_mech mechs_xoauth2[] = { SASL_XOAUTH2 };

/* For auth = auto: the provider's token mechanisms, best first; *n set. */
static const enum sasl_mech *
oauth_mechs(const struct account *a, size_t *n)
{
	/* Office 365 speaks XOAUTH2 only; Gmail both, and OAUTHBEARER is the standard. */
	if (a->oauth == OAUTH_MICROSOFT) {
		*n = 1;
		return mechs_xoauth2;
	}
	*n = 2;
	return mechs_bearer;
}

int
auth_choose(const struct account *a, const char *offers, int tls_active, enum sasl_mech *m,
    struct err *e)
{
	const char *mode = a->auth != NULL ? a->auth : "auto";
	const enum sasl_mech *list;
	size_t i, n;
	int rc = -1;

	*m = SASL_NONE;
	if (streq_ci(mode, "off") ||
	    (streq_ci(mode, "auto") && (a->user == NULL || a->user[0] == '\0'))) {
		rc = 0;
		goto out;
	}
	if (offers == NULL || offers[0] == '\0') {
		if (a->user != NULL && a->user[0] != '\0')
			err_set(e, ERR_PERM, CAUSE_UNAVAILABLE,
			    "the server offers no "
			    "authentication (AUTH) but account %s has user %s%s",
			    a->name, a->user,
			    tls_active || a->tls != TLS_OFF
				? ""
				: " (many relays offer AUTH only after STARTTLS: "
				  "try tls = starttls)");
		else
			err_set(e, ERR_PERM, CAUSE_UNAVAILABLE,
			    "the server offers no "
			    "authentication (AUTH) but account %s has auth = %s",
			    a->name, mode);
		goto out;
	}
	if (!streq_ci(mode, "auto")) {
		if ((*m = sasl_mech_parse(mode)) == SASL_NONE) {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "account %s: auth = %s is not a "
			    "mechanism mailout knows (accepted: auto, off, plain, login, "
			    "cram-md5, scram-sha-1, scram-sha-256, external, xoauth2, "
			    "oauthbearer)",
			    a->name, mode);
			goto out;
		}
		if (!offered(offers, sasl_mech_name(*m))) {
			err_set(e, ERR_PERM, CAUSE_UNAVAILABLE,
			    "the server does not offer "
			    "mechanism %s, which account %s asks for (auth = %s); it offers: %s",
			    sasl_mech_name(*m), a->name, mode, offers);
			goto out;
		}
		/* A bearer token is as good as a password to whoever reads it. */
		if ((sasl_mech_cleartext(*m) || sasl_mech_token(*m)) && !tls_active &&
		    !a->allow_plaintext_auth) {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "account %s: auth = %s would send the "
			    "%s in the clear, because the connection has no TLS; use tls = "
			    "starttls or implicit, or set allow_plaintext_auth = yes to allow it",
			    a->name, mode, sasl_mech_token(*m) ? "token" : "password");
			goto out;
		}
		if (*m == SASL_EXTERNAL && !tls_active) {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "account %s: auth = external needs TLS "
			    "with a client certificate (tls_cert_file)",
			    a->name);
			goto out;
		}
		rc = 1;
		goto out;
	}
	if (a->oauth != OAUTH_NONE) {
		/* An OAuth2 account has a token, not a password: the provider's mechanisms. */
		list = oauth_mechs(a, &n);
		if (!tls_active) {
			err_set(e, ERR_PERM, CAUSE_UNAVAILABLE,
			    "account %s uses OAuth2, and "
			    "its token would travel in the clear: the connection has no TLS; use "
			    "tls = starttls or implicit",
			    a->name);
			goto out;
		}
		for (i = 0; i < n; i++)
			if (offered(offers, sasl_mech_name(list[i]))) {
				*m = list[i];
				rc = 1;
				goto out;
			}
		err_set(e, ERR_PERM, CAUSE_UNAVAILABLE,
		    "account %s uses OAuth2, but the "
		    "server offers neither OAUTHBEARER nor XOAUTH2 (it offers: %s)",
		    a->name, offers);
		goto out;
	}
	list = tls_active ? auto_tls : auto_clear;
	n = tls_active ? sizeof(auto_tls) / sizeof(auto_tls[0])
		       : sizeof(auto_clear) / sizeof(auto_clear[0]);
	for (i = 0; i < n; i++)
		if (offered(offers, sasl_mech_name(list[i]))) {
			*m = list[i];
			rc = 1;
			goto out;
		}
	if (!tls_active && (offered(offers, "PLAIN") || offered(offers, "LOGIN")))
		err_set(e, ERR_PERM, CAUSE_UNAVAILABLE,
		    "the server offers only mechanisms "
		    "that send the password in the clear (%s) and the connection has no TLS; "
		    "use tls = starttls or implicit, or, to send it in the clear anyway, set "
		    "auth = plain (or login) and allow_plaintext_auth = yes in account %s",
		    offers, a->name);
	else
		err_set(e, ERR_PERM, CAUSE_UNAVAILABLE,
		    "the server offers no mechanism "
		    "mailout can use with a password for account %s (it offers: %s; mailout "
		    "has SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, LOGIN, CRAM-MD5; set auth = NAME for "
		    "XOAUTH2, OAUTHBEARER or EXTERNAL)",
		    a->name, offers);
out:
	return rc;
}

/* A case-insensitive substring test on the server's text. */
static int
says(const char *text, const char *what)
{
	return strcasestr(text, what) != NULL;
}

const char *
auth_hint(int code, const char *text)
{
	if (text == NULL)
		return NULL;
	if (code == 534 && says(text, "5.7.9"))
		return "Gmail wants an app password (Google account, Security, App passwords) "
		       "or OAuth2 (auth = xoauth2 or oauthbearer) instead of the account password";
	if (code == 535 && says(text, "5.7.8") &&
	    (says(text, "google.com") || says(text, "gsmtp") || says(text, "BadCredentials")))
		return "Gmail rejected the user name or password: with 2-step verification "
		       "use an app password, or OAuth2 (auth = xoauth2 or oauthbearer)";
	if (says(text, "5.7.139"))
		return "Microsoft 365: SMTP AUTH (basic authentication) is disabled for this "
		       "tenant or mailbox; an administrator must enable "
		       "Authenticated SMTP for the "
		       "mailbox, or use OAuth2 (auth = xoauth2)";
	if (says(text, "5.7.3") && (code == 535 || code == 534))
		return "Microsoft 365: wrong credentials (the user name is the full address; an "
		       "account with multi-factor authentication needs an app password or OAuth2)";
	if (code == 534 && says(text, "5.7.14"))
		return "the provider wants you to sign in once with a web browser, or to use "
		       "an app password or OAuth2";
	return NULL;
}

/*
 * Classify a final reply other than 235, in one sentence plus the server's words (the
 * reply comes scrubbed from the engine; the mechanism's decoded error is scrubbed here).
 */
static void
auth_failed(const struct smtp *s, const struct account *a, enum sasl_mech m, const char *from,
    const struct smtp_reply *r, const struct sasl *sa, struct err *e)
{
	const char *hint = auth_hint(r->code, r->text);
	const char *what = sasl_mech_token(m) ? "token" : "password";
	enum err_kind kind = ERR_PERM;
	enum err_cause cause = CAUSE_NOPERM;
	struct buf msg;
	char serr[MAX_ERROR_TEXT];
	int cut = 0;

	serr[0] = '\0';
	if (sa != NULL && sasl_server_error(sa) != NULL) {
		snprintf(serr, sizeof(serr), "%s", sasl_server_error(sa));
		smtp_scrub(s, serr, sizeof(serr));
	}
	buf_init(&msg, MAX_ERROR_TEXT);
	if (r->code >= 400 && r->code < 500) {
		kind = ERR_TEMP;
		cut |= buf_addf(&msg,
		    "authentication failed temporarily: the server could not "
		    "check the login of account %s just now (mechanism %s)",
		    a->name, sasl_mech_name(m));
	} else if (r->code == 504) {
		cause = CAUSE_UNAVAILABLE;
		cut |= buf_addf(&msg,
		    "authentication failed: the server refused mechanism %s "
		    "for account %s, though it offered it",
		    sasl_mech_name(m), a->name);
	} else if (m == SASL_EXTERNAL)
		cut |= buf_addf(&msg,
		    "authentication failed: the server rejected the client "
		    "certificate of account %s (mechanism EXTERNAL)",
		    a->name);
	else {
		cut |= buf_addf(&msg,
		    "authentication failed: the server rejected user %s of "
		    "account %s (mechanism %s, %s from %s)",
		    a->user, a->name, sasl_mech_name(m), what, from);
		if (hint == NULL)
			cut |= buf_addf(&msg, ": check the user name and the %s", what);
	}
	if (serr[0] != '\0')
		cut |= buf_addf(&msg, "; the server's error: %s", serr);
	if (hint != NULL)
		cut |= buf_addf(&msg, "; %s", hint);
	/* err keeps MAX_ERROR_TEXT bytes anyway; a cut is marked, not silent. */
	err_set(e, kind, cause, "%s%s", msg.data != NULL ? msg.data : "", cut != 0 ? "..." : "");
	err_reply(e, r->code, r->text);
	buf_free(&msg);
}

/*
 * The secret, and its base64, are cut out of every reply from now on: a relay may echo
 * them in an error. The lines sent with redaction are kept by the engine itself.
 */
static int
keep_secret(struct smtp *s, const char *secret, struct err *e)
{
	struct buf b64;
	int rc = -1;

	buf_init_secret(&b64, MAX_SCRUB_TEXT);
	if (secret == NULL) {
		rc = 0;
		goto out;
	}
	if (base64_encode(&b64, secret, strlen(secret)) == -1 || buf_cstr(&b64) == NULL) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE,
		    "the secret is too long to keep out of the "
		    "relay's replies");
		goto out;
	}
	if (smtp_secret(s, secret, e) == -1 || smtp_secret(s, buf_cstr(&b64), e) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&b64);
	return rc;
}

/* A mechanism's error may quote what the server sent: scrubbed before it is quoted. */
static int
mech_failed(const struct smtp *s, const struct account *a, struct err *se, struct err *e)
{
	smtp_scrub(s, se->msg, sizeof(se->msg));
	return err_set(e, se->kind, se->cause, "authentication failed for account %s: %s", a->name,
	    se->msg);
}

/*
 * One AUTH exchange with secret. Returns 0 when the server gave its final reply (in r:
 * 235, or a refusal for the caller to classify), -1 with err when the exchange could
 * not be completed or the mechanism itself failed (a SCRAM signature that does not
 * verify). *sap keeps the mechanism for its server error.
 */
static int
exchange(struct smtp *s, const struct account *a, enum sasl_mech m, const char *secret,
    struct sasl **sap, struct smtp_reply *r, struct err *e)
{
	const char *name = sasl_mech_name(m), *nonce;
	struct sasl_params p;
	struct sasl *sa;
	struct buf line, resp;
	struct err se;
	int has_ir, pending = 0, n, rc = -1;

	buf_init_secret(&line, MAX_AUTH_LINE);
	buf_init_secret(&resp, MAX_AUTH_LINE);
	err_init(&se);
	memset(&p, 0, sizeof(p));
	p.user = a->user;
	p.secret = secret;
	p.host = a->host;
	p.port = a->port;
	if (keep_secret(s, secret, e) == -1)
		goto out;
	if ((sa = *sap = sasl_new(m, &p, e)) == NULL) {
		err_prefix(e, "account %s: ", a->name);
		goto out;
	}
	/* The test build replays RFC 5802's exchange byte for byte (hooks.h). */
	if ((nonce = hooks_scram_nonce()) != NULL)
		sasl_set_nonce(sa, nonce);
	if ((has_ir = sasl_initial(sa, &resp, e)) == -1) {
		err_prefix(e, "account %s: ", a->name);
		goto out;
	}
	if (buf_addf(&line, "AUTH %s", name) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "account %s: the AUTH line is too long",
		    a->name);
		goto out;
	}
	if (has_ir && auth_initial_fits(name, resp.len)) {
		if (buf_addc(&line, ' ') == -1 ||
		    buf_addstr(&line, resp.len == 0 ? "=" : buf_cstr(&resp)) == -1) {
			err_set(e, ERR_PERM, CAUSE_CONFIG, "account %s: the AUTH line is too long",
			    a->name);
			goto out;
		}
	} else if (has_ir)
		pending = 1; /* RFC 4954: after the server's empty 334 */
	if (smtp_cmd(s, buf_cstr(&line), has_ir && !pending, r, e) == -1)
		goto out;
	for (n = 0; r->code == 334; n++) {
		if (n == MAX_AUTH_CHALLENGES) {
			err_set(e, ERR_PERM, CAUSE_PROTOCOL,
			    "the server sent more than %d "
			    "authentication challenges",
			    MAX_AUTH_CHALLENGES);
			goto out;
		}
		if (pending)
			pending = 0; /* resp still holds the initial response */
		else if (sasl_step(sa, r->text, &resp, &se) == -1) {
			/* Abandon the exchange; the server's answer to "*" is of no interest. */
			if (smtp_cmd(s, "*", 0, r, e) == -1)
				goto out;
			mech_failed(s, a, &se, e);
			goto out;
		}
		if (smtp_cmd(s, buf_cstr(&resp), 1, r, e) == -1)
			goto out;
	}
	if (r->code == 235 && sasl_finish(sa, &se) == -1) {
		mech_failed(s, a, &se, e);
		goto out;
	}
	rc = 0;
out:
	buf_free(&line);
	buf_free(&resp);
	explicit_bzero(&se, sizeof(se));
	return rc;
}

int
auth_login_ex(struct smtp *s, const struct account *a, int tls_active, char *used, size_t usedlen,
    struct err *e)
{
	const struct smtp_caps *caps = smtp_caps(s);
	struct sasl *sa = NULL;
	struct smtp_reply r;
	enum sasl_mech m;
	enum cred_source src = CRED_NONE;
	const char *from;
	char *secret = NULL, *fresh = NULL;
	int oauth, n, rc = -1;

	if (used != NULL && usedlen > 0)
		used[0] = '\0';
	if ((n = auth_choose(a, caps->auth, tls_active, &m, e)) <= 0) {
		rc = n == 0 ? 0 : -1;
		goto out;
	}
	/* With oauth = PROVIDER the token comes from oauth2.c; else from the chain. */
	oauth = a->oauth != OAUTH_NONE && sasl_mech_token(m);
	if (oauth) {
		if (oauth2_access_token(a, NULL, &secret, e) == -1)
			goto out;
		from = oauth2_storage_name(a);
	} else if (m != SASL_EXTERNAL) {
		if (cred_get(a, &secret, &src, e) == -1)
			goto out;
		from = cred_source_name(src);
	} else
		from = "the client certificate";
	if (exchange(s, a, m, secret, &sa, &r, e) == -1)
		goto out;
	if (oauth && r.code >= 500 && r.code != 504) {
		/* A token can be revoked before it expires: one refresh, one more try. */
		if (oauth2_access_token(a, secret, &fresh, e) == -1)
			goto out;
		secret_free(secret);
		secret = fresh;
		fresh = NULL;
		sasl_free(sa);
		sa = NULL;
		if (exchange(s, a, m, secret, &sa, &r, e) == -1)
			goto out;
	}
	if (r.code != 235) {
		auth_failed(s, a, m, from, &r, sa, e);
		goto out;
	}
	if (used != NULL && usedlen > 0) {
		if (m == SASL_EXTERNAL)
			snprintf(used, usedlen, "%s (client certificate)", sasl_mech_name(m));
		else
			snprintf(used, usedlen, "%s (%s from %s)", sasl_mech_name(m),
			    sasl_mech_token(m) ? "token" : "password", from);
	}
	rc = 0;
out:
	sasl_free(sa);
	secret_free(secret);
	secret_free(fresh);
	return rc;
}

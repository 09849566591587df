/*
 * auth.h: logging in to the relay (SMTP AUTH, RFC 4954).
 *
 * auth.c chooses the mechanism, fetches the secret through cred.c and drives sasl.c's
 * encoders over smtp_cmd. Every line that carries (an encoding of) a secret is sent
 * with redaction, so the -v transcript shows "AUTH PLAIN <redacted>" and "<redacted>".
 */
#ifndef MAILOUT_AUTH_H
#define MAILOUT_AUTH_H

#include <stddef.h>

#include "smtp/sasl.h"

struct account;
struct err;
struct smtp;

/*
 * Authenticate on an established session (after TLS when the account uses TLS; call it
 * with tls_active = 1 then). Does nothing and returns 0 when auth = off, or auth = auto
 * and the account has no user. Otherwise chooses the mechanism (auth_choose), gets the
 * secret (cred_get; with oauth = PROVIDER and a token mechanism, oauth2_access_token,
 * and after a rejection one refresh and one more try) and runs the exchange. Returns 0
 * when the server accepted us, else
 * -1 with err:
 *   PERM CAUSE_NOPERM       the server rejected the credentials (535, 534...), with the
 *                           account, user, relay, the server's reply and a provider hint;
 *                           or a SCRAM server signature that did not verify
 *   TEMP CAUSE_NOPERM       4xx (454 temporary authentication failure...)
 *   PERM CAUSE_UNAVAILABLE  the relay offers no AUTH, or no usable mechanism
 *   PERM CAUSE_CONFIG       a cleartext mechanism without TLS and without
 *                           allow_plaintext_auth, a missing user, an unknown auth value
 *   TEMP/PERM from cred_get when the secret cannot be had
 * used (may be NULL) receives "MECH (password from SOURCE)" for --test.
 * Messages do not name the relay: the caller prefixes it (deliver_open does).
 */
int auth_login_ex(struct smtp *s, const struct account *a, int tls_active, char *used,
    size_t usedlen, struct err *e);

/*
 * The mechanism for an account given the server's AUTH list (upper case, space
 * separated). auth = auto takes, of what the server offers, the first of SCRAM-SHA-256,
 * SCRAM-SHA-1, PLAIN, LOGIN, CRAM-MD5 (without TLS: only SCRAM and CRAM-MD5); with
 * oauth = PROVIDER, the provider's token mechanisms, over TLS only.
 * auth = NAME takes NAME if offered; PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER without TLS
 * need allow_plaintext_auth = yes. Returns 1 with *m, 0 when no authentication is
 * wanted, -1 with err. Pure.
 */
int auth_choose(const struct account *a, const char *offered, int tls_active, enum sasl_mech *m,
    struct err *e);

/*
 * RFC 4954 4: would "AUTH MECH INITIAL-RESPONSE" plus CRLF fit in 512 octets? If not,
 * the initial response goes after an empty 334 instead. irlen is the base64 length.
 */
int auth_initial_fits(const char *mech, size_t irlen);

/* The known hint for a provider's rejection (Gmail, Microsoft 365), or NULL. Pure. */
const char *auth_hint(int code, const char *text);

#endif

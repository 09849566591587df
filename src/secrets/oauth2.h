/*
 * oauth2.h: OAuth2 access tokens for XOAUTH2 and OAUTHBEARER: the providers, where the
 * tokens are kept, and the refresh grant (RFC 6749 6) over HTTPS (http.c, tls.c).
 *
 * Providers (oauth = in the account; any oauth_*_url or oauth_scope set in the account
 * replaces the provider's value):
 *   google     accounts.google.com/o/oauth2/v2/auth, oauth2.googleapis.com/token and
 *              /device/code; scope https://mail.google.com/; OAUTHBEARER, else XOAUTH2
 *   microsoft  login.microsoftonline.com/TENANT/oauth2/v2.0/{authorize,token,devicecode}
 *              (oauth_tenant, default "common"); scope "https://outlook.office.com/
 *              SMTP.Send offline_access"; XOAUTH2
 *   custom     oauth_auth_url, oauth_token_url (required), oauth_device_url, oauth_scope;
 *              OAUTHBEARER, else XOAUTH2
 * oauth_client_id is required; oauth_client_secret is sent when set.
 *
 * Storage: oauth_token_file when set, else the keyring under the account's host,
 * service "oauth2" and user (the password entry is service "smtp": neither replaces the
 * other). Both hold the same JSON object:
 *	{"refresh_token": "...", "access_token": "...", "expires_at": 1700000000}
 * (expires_at in Unix seconds). A file with only refresh_token is valid (written by hand
 * when moving from another tool) and is completed by the first refresh. The file is
 * written 0600 through a temporary file, fsync and rename.
 *
 * System mode (priv.h): no keyring; without oauth_token_file the config names
 * LOCALSTATEDIR/lib/mailout/oauth2-ACCOUNT.json (the group's 2770 directory). The file
 * and its lock are opened, created and renamed holding the group, mode 0640, so that
 * root's --authorize and every user's refresh share them and no user reads them.
 *
 * Concurrency: a refresh holds an exclusive flock on a lock file (the token file's name
 * plus ".lock", or oauth2-ACCOUNT.lock in the user's state directory for the keyring),
 * re-reads the stored tokens under it, refreshes only if they still need it, and stores
 * the answer (a rotated refresh token first of all) before it unlocks. So concurrent
 * senders refresh one after the other and the chain of rotated refresh tokens never
 * breaks.
 *
 * Failures, as the sending path sees them:
 *   invalid_grant (revoked, expired, password changed, app in testing): TEMP
 *       CAUSE_NOPERM with "run mailout --authorize -a ACCOUNT": it needs a person, but
 *       the message is queued rather than lost while they act;
 *   nothing stored yet: PERM CAUSE_CONFIG, "run mailout --authorize -a ACCOUNT";
 *   invalid_client, unauthorized_client, invalid_scope, invalid_request,
 *       unsupported_grant_type: PERM CAUSE_CONFIG (oauth_client_id/secret/scope);
 *   unreachable, slow (over the account's timeout), 5xx, 429, a non-JSON answer: TEMP;
 *   the endpoint's certificate: as for the relay (tls.h), PERM CAUSE_CONFIG.
 * The provider's error, error_description (up to its "Trace ID") and AADSTS code are
 * quoted. No token, code, verifier or client secret is ever put in a message or log.
 */
#ifndef MAILOUT_OAUTH2_H
#define MAILOUT_OAUTH2_H

#include <stddef.h>
#include <stdint.h>

#include "base/bounds.h"
#include "config/config.h"

struct account;
struct buf;
struct err;
struct http_response;

/* A stored access token is used while it has more than this many seconds left. */
#define OAUTH2_MIN_LIFETIME 300
/* PKCE (RFC 7636 4.1): 32 random bytes, base64url: 43 characters. */
#define OAUTH2_VERIFIER_LEN 43
/* base64url of a SHA-256 digest. */
#define OAUTH2_CHALLENGE_LEN 43

struct oauth2_provider {
	const char *name; /* "google", "microsoft", "custom" */
	char *auth_url; /* NULL when unknown */
	char *token_url;
	char *device_url; /* NULL when unknown */
	char *scope; /* may be "" for custom */
};

struct oauth2_tokens {
	char *refresh_token; /* secret; NULL if none */
	char *access_token; /* secret; NULL if none */
	int64_t expires_at; /* Unix seconds; 0: unknown */
};

/* An error answer from a token or device endpoint ("error" and its explanation). */
struct oauth2_error {
	char code[64]; /* "invalid_grant", "" if none */
	char text[512]; /* "invalid_grant: Token has been expired or revoked." */
};

struct oauth2_device {
	char *device_code; /* secret */
	char *user_code;
	char *verification_uri; /* verification_uri, or Google's verification_url */
	char *verification_uri_complete; /* NULL if not given */
	char *message; /* Microsoft's sentence for the user, or NULL */
	int64_t expires_in; /* seconds */
	int64_t interval; /* seconds between polls (default 5) */
};

/* The account's endpoints and scope (overrides applied). 0, or -1 with CAUSE_CONFIG. */
int oauth2_provider(const struct account *a, struct oauth2_provider *p, struct err *e);
void oauth2_provider_free(struct oauth2_provider *p);

/*
 * The access token to authenticate with (caller frees with secret_free). rejected: NULL,
 * or the token the server just refused: then a stored token equal to it is not used and
 * a refresh is made (at most one per call). Returns 0 or -1 with err as above.
 */
int oauth2_access_token(const struct account *a, const char *rejected, char **token,
    struct err *e);

/*
 * App grants (oauth_grant, no person involved; the token file then holds an access
 * token and its expiry only, and without oauth_token_file, which system mode always
 * has, the token is kept in memory for the run and no lock is taken):
 *   client_credentials  grant_type=client_credentials with client_id and scope (for
 *       Microsoft https://outlook.office365.com/.default at the tenant's endpoint), and
 *       client_secret from oauth_client_secret_file (or oauth_client_secret), or a
 *       private_key_jwt client assertion (RFC 7523 2.2) signed with oauth_client_key,
 *       header x5t#S256 of oauth_client_certificate;
 *   jwt_bearer  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523 2.1),
 *       an assertion from oauth_service_account (Google's JSON key): iss client_email,
 *       sub user, scope, aud token_uri (or oauth_token_url), kid private_key_id.
 * Assertions: RS256, jti random, nbf = iat = now, exp = now + OAUTH2_ASSERTION_LIFETIME.
 * Key files are read with cred_file_all (a file others can read is refused). Refusals
 * (invalid_client, invalid_grant, unauthorized_client, ...) are PERM CAUSE_CONFIG with
 * what to check for the grant, the clock included; 5xx, 429 and the like are TEMP.
 */
/* An assertion is valid this long (Entra and Google allow more; less is safer). */
#define OAUTH2_ASSERTION_LIFETIME 300
#define OAUTH2_MS_APP_SCOPE "https://outlook.office365.com/.default"
#define OAUTH2_JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define OAUTH2_CLIENT_ASSERTION "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/* What oauth2_access_token_ex did, for mailout --test. */
struct oauth2_info {
	char grant[96]; /* "client_credentials (client secret file)" */
	char token_url[MAX_URL]; /* without its query */
	char how[MAX_PATH + 96]; /* "obtained from the token endpoint, stored in ..." */
	int obtained; /* 1: asked the token endpoint in this call */
	int64_t expires_at;
};

/* "authorization_code", "client_credentials", "jwt_bearer". */
const char *oauth2_grant_name(enum oauth_grant g);

/* oauth2_access_token, telling in info (if not NULL) how the token was got. */
int oauth2_access_token_ex(const struct account *a, const char *rejected, char **token,
    struct oauth2_info *info, struct err *e);

/* "oauth_token_file /path" or "the keyring (service oauth2)". Static storage. */
const char *oauth2_storage_name(const struct account *a);

/*
 * Storage (see above). oauth2_load: 1 with t, 0 when nothing is stored, -1 with err
 * (a malformed file is PERM CAUSE_CONFIG naming it). oauth2_store: 0 or -1. Callers
 * that change tokens hold the lock.
 */
int oauth2_load(const struct account *a, struct oauth2_tokens *t, struct err *e);
int oauth2_store(const struct account *a, const struct oauth2_tokens *t, struct err *e);
/* Take the account's lock, waiting up to timeout_s. *fd for oauth2_unlock. 0 or -1. */
int oauth2_lock(const struct account *a, int timeout_s, int *fd, struct err *e);
void oauth2_unlock(int fd);

/*
 * POST form (application/x-www-form-urlencoded) to url with the account's certificate
 * settings and timeout. 0 with the response, whatever its status; -1 with err (TEMP
 * unless it is a certificate problem). what names the endpoint in messages.
 */
int oauth2_post(const struct account *a, const char *url, const char *what, const struct buf *form,
    struct http_response *r, struct err *e);

/*
 * Pure parsers.
 *
 * oauth2_tokens_parse: the stored JSON. 0, or -1 (not an object, wrong types, no
 * refresh_token) with err (PERM CAUSE_CONFIG, message without the value).
 * oauth2_tokens_format: the stored JSON for t, into out (reset first). 0 or -1.
 */
int oauth2_tokens_parse(const char *json, size_t len, struct oauth2_tokens *t, struct err *e);
int oauth2_tokens_format(const struct oauth2_tokens *t, struct buf *out);
/* The same for an app grant's file: refresh_token optional. */
int oauth2_tokens_parse_app(const char *json, size_t len, struct oauth2_tokens *t, struct err *e);
void oauth2_tokens_clear(struct oauth2_tokens *t);

/*
 * A token endpoint's answer. 200 with an access_token: 0 with t (expires_at = now +
 * expires_in, or now + 3600 without one; refresh_token only if sent). Otherwise -1 with
 * oe filled when the body is an OAuth2 error object (else oe->code is "" and oe->text
 * says what came: "HTTP 502 Bad Gateway", "the answer is not JSON").
 */
int oauth2_parse_token(int status, const char *reason, const char *body, size_t len, int64_t now,
    struct oauth2_tokens *t, struct oauth2_error *oe);
/* A device authorization answer (RFC 8628 3.2). 0 with d, or -1 with oe as above. */
int oauth2_parse_device(int status, const char *reason, const char *body, size_t len,
    struct oauth2_device *d, struct oauth2_error *oe);
void oauth2_device_clear(struct oauth2_device *d);

/*
 * Classify a refresh failure for account (see the list above) into err. The caller's
 * words come first: "the token endpoint refused the refresh token". url: the token
 * endpoint, named in the message (without its query); NULL: not named.
 */
void oauth2_refresh_error(const struct account *a, const char *url, int status,
    const struct oauth2_error *oe, struct err *e);

/* PKCE S256 (RFC 7636 4.2): challenge = BASE64URL(SHA256(verifier)). 0 or -1. */
int oauth2_pkce_challenge(const char *verifier, char challenge[OAUTH2_CHALLENGE_LEN + 1]);
/* n random bytes as base64url without padding into dst (size >= 4*n/3 + 2). 0 or -1. */
int oauth2_random_b64url(size_t n, char *dst, size_t dstlen);
/* base64url without padding (RFC 4648 5) of p, into dst. 0, or -1 if it does not fit. */
int oauth2_b64url(const void *p, size_t n, char *dst, size_t dstlen);

#endif

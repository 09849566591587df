/*
 * oauth2.c: providers, token storage and the refresh grant. See oauth2.h.
 *
 * Why the lock is held across the HTTP request: with rotating refresh tokens (Microsoft
 * always, Google for some clients) two processes that refresh with the same token at
 * once leave one of them holding a token the provider has already replaced, and the
 * next refresh with it fails with invalid_grant. Serialising the whole read, refresh,
 * store sequence is the only way to keep the chain, and the fast path (a stored token
 * with time left) takes no lock at all.
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <mbedtls/md.h>

#include "base/bounds.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/path.h"
#include "config/config.h"
#include "base/err.h"
#include "net/http.h"
#include "secrets/cred.h"
#include "secrets/jwt.h"
#include "secrets/keyring.h"
#include "base/log.h"
#include "secrets/oauth2.h"
#include "base/priv.h"
#include "net/tls.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/user.h"

/* How long a token lives when the endpoint does not say (the providers' usual hour). */
#define OAUTH2_DEFAULT_LIFETIME 3600
/* Polling interval while waiting for another process's lock. */
#define OAUTH2_LOCK_POLL_MS 20
/* Provider text quoted in messages. */
#define OAUTH2_QUOTE 300

struct provider_def {
	const char *name;
	const char *auth;
	const char *token;
	const char *device;
	const char *scope;
};

/* Microsoft's URLs take the tenant in place of %s. */
static const struct provider_def providers[] = {
	[OAUTH_NONE] = { "none", NULL, NULL, NULL, NULL },
	[OAUTH_GOOGLE] = { "google", "https://accounts.google.com/o/oauth2/v2/auth",
	    "https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com/device/code",
	    "https://mail.google.com/" },
	[OAUTH_MICROSOFT] = { "microsoft",
	    "https://login.microsoftonline.com/%s/oauth2/v2.0/authorize",
	    "https://login.microsoftonline.com/%s/oauth2/v2.0/token",
	    "https://login.microsoftonline.com/%s/oauth2/v2.0/devicecode",
	    "https://outlook.office.com/SMTP.Send offline_access" },
	[OAUTH_CUSTOM] = { "custom", NULL, NULL, NULL, "" },
};

static int
empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* A tenant is a GUID, a domain, or common/organizations/consumers: nothing to escape. */
static int
valid_tenant(const char *s)
{
	if (strlen(s) > MAX_DOMAIN)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_'))
			return 0;
	return 1;
}

static char *
endpoint(const char *over, const char *tmpl, const char *tenant)
{
	struct buf b;

	if (!empty(over))
		return xstrdup(over);
	if (tmpl == NULL)
		return NULL;
	if (strstr(tmpl, "%s") == NULL)
		return xstrdup(tmpl);
	/* Our own templates and a tenant of at most MAX_DOMAIN bytes: it fits. */
	buf_init(&b, MAX_URL);
	if (buf_addf(&b, tmpl, tenant) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int
oauth2_provider(const struct account *a, struct oauth2_provider *p, struct err *e)
{
	const struct provider_def *d;
	const char *tenant = empty(a->oauth_tenant) ? "common" : a->oauth_tenant;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (a->oauth == OAUTH_NONE ||
	    (size_t)a->oauth >= sizeof(providers) / sizeof(providers[0])) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s does not use OAuth2 (set oauth = "
		    "google, microsoft or custom)",
		    a->name);
		goto out;
	}
	d = &providers[a->oauth];
	if (!valid_tenant(tenant) || tenant[0] == '\0') {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: oauth_tenant = %s is not a tenant "
		    "(accepted: common, organizations, consumers, a domain or a tenant ID)",
		    a->name, tenant);
		goto out;
	}
	p->name = d->name;
	p->auth_url = endpoint(a->oauth_auth_url, d->auth, tenant);
	p->token_url = endpoint(a->oauth_token_url, d->token, tenant);
	p->device_url = endpoint(a->oauth_device_url, d->device, tenant);
	/* App-only tokens (no person): Exchange Online's own resource, all it granted. */
	if (a->oauth_scope == NULL && a->oauth_grant == GRANT_CLIENT &&
	    a->oauth == OAUTH_MICROSOFT)
		p->scope = xstrdup(OAUTH2_MS_APP_SCOPE);
	else
		p->scope = xstrdup(a->oauth_scope != NULL ? a->oauth_scope : d->scope);
	if (p->token_url == NULL) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "account %s: oauth = %s needs oauth_token_url",
		    a->name, d->name);
		goto out;
	}
	/* A service account's client is in its key file (client_email). */
	if (empty(a->oauth_client_id) && a->oauth_grant != GRANT_JWT) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: oauth = %s needs oauth_client_id "
		    "(and, for Google, oauth_client_secret): register an application with the "
		    "provider (Google Cloud console: OAuth client of type Desktop app; Microsoft "
		    "Entra: app registration with a mobile and desktop redirect URI "
		    "http://localhost) and copy its client ID here",
		    a->name, d->name);
		goto out;
	}
	if (empty(a->user)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: oauth = %s needs user, the "
		    "mailbox address the token is for",
		    a->name, d->name);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		oauth2_provider_free(p);
	return rc;
}

void
oauth2_provider_free(struct oauth2_provider *p)
{
	if (p == NULL)
		return;
	free(p->auth_url);
	free(p->token_url);
	free(p->device_url);
	free(p->scope);
	memset(p, 0, sizeof(*p));
}

/* base64url and PKCE */

int
oauth2_b64url(const void *p, size_t n, char *dst, size_t dstlen)
{
	struct buf b;
	size_t i, o = 0;
	int rc = -1;

	buf_init_secret(&b, 4 * n / 3 + 8);
	if (base64_encode(&b, p, n) == -1)
		goto out;
	for (i = 0; i < b.len && b.data[i] != '='; i++) {
		if (o + 1 >= dstlen)
			goto out;
		dst[o++] = b.data[i] == '+' ? '-' : b.data[i] == '/' ? '_' : b.data[i];
	}
	if (o >= dstlen)
		goto out;
	dst[o] = '\0';
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int
oauth2_random_b64url(size_t n, char *dst, size_t dstlen)
{
	unsigned char raw[64];
	int rc = -1;

	if (n > sizeof(raw) || getrandom(raw, n, 0) != (ssize_t)n)
		goto out;
	rc = oauth2_b64url(raw, n, dst, dstlen);
out:
	explicit_bzero(raw, sizeof(raw));
	return rc;
}

int
oauth2_pkce_challenge(const char *verifier, char challenge[OAUTH2_CHALLENGE_LEN + 1])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	unsigned char digest[32];
	int rc = -1;

	if (md == NULL ||
	    mbedtls_md(md, (const unsigned char *)verifier, strlen(verifier), digest) != 0)
		goto out;
	rc = oauth2_b64url(digest, sizeof(digest), challenge, OAUTH2_CHALLENGE_LEN + 1);
out:
	explicit_bzero(digest, sizeof(digest));
	return rc;
}

/* JSON */

/* cJSON keeps its own copies of every string: wipe them before they are freed. */
static void
json_wipe(cJSON *j)
{
	for (; j != NULL; j = j->next) {
		if (j->valuestring != NULL)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		if (j->child != NULL)
			json_wipe(j->child);
	}
}

static void
json_free(cJSON *j)
{
	if (j == NULL)
		return;
	json_wipe(j);
	cJSON_Delete(j);
}

static cJSON *
json_parse(const char *s, size_t len)
{
	cJSON *j;

	if (s == NULL || len == 0)
		return NULL;
	j = cJSON_ParseWithLength(s, len);
	if (j != NULL && !cJSON_IsObject(j)) {
		json_free(j);
		j = NULL;
	}
	return j;
}

/* The string member key, or NULL when absent or not a string. */
static const char *
json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : NULL;
}

/* A number member (or a number in a string: Azure AD v1 sent expires_in as "3599"). */
static int
json_int(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	uint64_t u;

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15) {
		*out = (int64_t)v->valuedouble;
		return 1;
	}
	if (cJSON_IsString(v) && v->valuestring != NULL &&
	    parse_uint(v->valuestring, 0, 1000000000000000ULL, &u) == 0) {
		*out = (int64_t)u;
		return 1;
	}
	return 0;
}

/* A token is printable ASCII without spaces (RFC 6750 b64token is narrower still). */
static int
valid_token(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return n > 0 && n <= MAX_SECRET;
}

void
oauth2_tokens_clear(struct oauth2_tokens *t)
{
	if (t == NULL)
		return;
	secret_free(t->refresh_token);
	secret_free(t->access_token);
	memset(t, 0, sizeof(*t));
}

static int tokens_parse(const char *json, size_t len, int need_refresh, struct oauth2_tokens *t,
    struct err *e);

int
oauth2_tokens_parse(const char *json, size_t len, struct oauth2_tokens *t, struct err *e)
{
	return tokens_parse(json, len, 1, t, e);
}

int
oauth2_tokens_parse_app(const char *json, size_t len, struct oauth2_tokens *t, struct err *e)
{
	return tokens_parse(json, len, 0, t, e);
}

/* need_refresh: a person's grant, whose file is nothing without its refresh token. */
static int
tokens_parse(const char *json, size_t len, int need_refresh, struct oauth2_tokens *t,
    struct err *e)
{
	cJSON *j = NULL;
	const char *rt, *at;
	int64_t exp = 0;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if ((j = json_parse(json, len)) == NULL) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "not a JSON object");
		goto out;
	}
	rt = json_str(j, "refresh_token");
	at = json_str(j, "access_token");
	if ((need_refresh || rt != NULL) && (rt == NULL || !valid_token(rt))) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "no valid refresh_token (a JSON string)");
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(j, "access_token") != NULL &&
	    !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "access_token")) &&
	    (at == NULL || (at[0] != '\0' && !valid_token(at)))) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "access_token is not a valid token string");
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(j, "expires_at") != NULL &&
	    !json_int(j, "expires_at", &exp)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "expires_at is not a number of seconds");
		goto out;
	}
	if (rt != NULL)
		t->refresh_token = xstrdup(rt);
	if (at != NULL && at[0] != '\0') {
		t->access_token = xstrdup(at);
		t->expires_at = exp;
	}
	rc = 0;
out:
	json_free(j);
	return rc;
}

/* A JSON string; tokens are printable ASCII, but be correct for anything. */
static int
json_quote(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	int rc;

	rc = buf_addc(b, '"');
	for (p = (const unsigned char *)s; *p != '\0' && rc == 0; p++) {
		if (*p == '"' || *p == '\\')
			rc = buf_addc(b, '\\') == -1 || buf_addc(b, (char)*p) == -1 ? -1 : 0;
		else if (*p < 0x20)
			rc = buf_addf(b, "\\u00%c%c", hex[*p >> 4], hex[*p & 15]);
		else
			rc = buf_addc(b, (char)*p);
	}
	return rc == 0 ? buf_addc(b, '"') : -1;
}

int
oauth2_tokens_format(const struct oauth2_tokens *t, struct buf *out)
{
	int rc;

	buf_reset(out);
	rc = buf_addc(out, '{');
	/* An app grant's file (client_credentials, jwt_bearer) has no refresh token. */
	if (rc == 0 && t->refresh_token != NULL)
		rc = buf_addstr(out, "\"refresh_token\":") == -1 ||
			json_quote(out, t->refresh_token) == -1
		    ? -1
		    : 0;
	if (rc == 0 && t->access_token != NULL)
		rc = buf_addstr(out,
			 t->refresh_token != NULL ? ",\"access_token\":" : "\"access_token\":") ==
			    -1 ||
			json_quote(out, t->access_token) == -1 ||
			buf_addf(out, ",\"expires_at\":%lld", (long long)t->expires_at) == -1
		    ? -1
		    : 0;
	return rc == 0 ? buf_addc(out, '}') : -1;
}

/*
 * The provider's explanation, made fit for one line: Microsoft's error_description runs
 * on with "\r\nTrace ID: ... Correlation ID: ... Timestamp: ...", which helps nobody here.
 */
static void
error_text(const cJSON *j, const char *code, struct oauth2_error *oe)
{
	const char *desc = json_str(j, "error_description");
	const cJSON *codes = cJSON_GetObjectItemCaseSensitive(j, "error_codes");
	const cJSON *first;
	char d[OAUTH2_QUOTE + 1], *cut;
	size_t i;

	snprintf(oe->code, sizeof(oe->code), "%s", code);
	for (i = 0; oe->code[i] != '\0'; i++)
		if (oe->code[i] < 0x21 || oe->code[i] > 0x7e)
			oe->code[i] = '?';
	d[0] = '\0';
	if (desc != NULL) {
		snprintf(d, sizeof(d), "%s", desc);
		if ((cut = strstr(d, "Trace ID:")) != NULL)
			*cut = '\0';
		d[strcspn(d, "\r\n")] = '\0';
		for (i = strlen(d); i > 0 && (d[i - 1] == ' ' || d[i - 1] == '.'); i--)
			;
		/* Keep a final period: "revoked." reads better than "revoked". */
		if (i < strlen(d) && d[i] == '.')
			i++;
		d[i] = '\0';
	}
	if (d[0] != '\0')
		snprintf(oe->text, sizeof(oe->text), "%s: %s", oe->code, d);
	else
		snprintf(oe->text, sizeof(oe->text), "%s", oe->code);
	if (strstr(oe->text, "AADSTS") == NULL && cJSON_IsArray(codes) &&
	    (first = cJSON_GetArrayItem(codes, 0)) != NULL && cJSON_IsNumber(first))
		snprintf(oe->text + strlen(oe->text), sizeof(oe->text) - strlen(oe->text),
		    " (AADSTS%d)", first->valueint);
	for (i = 0; oe->text[i] != '\0'; i++)
		if ((unsigned char)oe->text[i] < 0x20 || oe->text[i] == 0x7f)
			oe->text[i] = ' ';
}

/* Fill oe for a non-success answer. */
static void
answer_error(int status, const char *reason, const cJSON *j, struct oauth2_error *oe)
{
	const char *code = j != NULL ? json_str(j, "error") : NULL;
	char r[64];

	memset(oe, 0, sizeof(*oe));
	if (code != NULL && code[0] != '\0') {
		error_text(j, code, oe);
		return;
	}
	snprintf(r, sizeof(r), "%s", reason != NULL ? reason : "");
	if (status == 200)
		snprintf(oe->text, sizeof(oe->text),
		    "the answer is not the JSON object of a "
		    "token response");
	else
		snprintf(oe->text, sizeof(oe->text), "HTTP %d%s%s%s", status, r[0] ? " " : "", r,
		    j == NULL ? " (not a JSON answer)" : "");
}

int
oauth2_parse_token(int status, const char *reason, const char *body, size_t len, int64_t now,
    struct oauth2_tokens *t, struct oauth2_error *oe)
{
	cJSON *j = json_parse(body, len);
	const char *at, *rt;
	int64_t exp;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	memset(oe, 0, sizeof(*oe));
	if (status != 200 || j == NULL || json_str(j, "error") != NULL) {
		answer_error(status, reason, j, oe);
		goto out;
	}
	at = json_str(j, "access_token");
	rt = json_str(j, "refresh_token");
	if (at == NULL || !valid_token(at)) {
		snprintf(oe->text, sizeof(oe->text), "the answer has no valid access_token");
		goto out;
	}
	if (rt != NULL && rt[0] != '\0' && !valid_token(rt)) {
		snprintf(oe->text, sizeof(oe->text), "the answer has an invalid refresh_token");
		goto out;
	}
	if (!json_int(j, "expires_in", &exp))
		exp = OAUTH2_DEFAULT_LIFETIME;
	t->access_token = xstrdup(at);
	if (rt != NULL && rt[0] != '\0')
		t->refresh_token = xstrdup(rt);
	t->expires_at = now + exp;
	rc = 0;
out:
	json_free(j);
	return rc;
}

void
oauth2_device_clear(struct oauth2_device *d)
{
	if (d == NULL)
		return;
	secret_free(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	free(d->message);
	memset(d, 0, sizeof(*d));
}

/* Text from the provider that we print: one line, printable. */
static char *
printable_dup(const char *s)
{
	char *d = xstrdup(s);
	size_t i;

	for (i = 0; d[i] != '\0'; i++)
		if ((unsigned char)d[i] < 0x20 || d[i] == 0x7f)
			d[i] = ' ';
	return d;
}

int
oauth2_parse_device(int status, const char *reason, const char *body, size_t len,
    struct oauth2_device *d, struct oauth2_error *oe)
{
	cJSON *j = json_parse(body, len);
	const char *dc, *uc, *uri, *full, *msg;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	memset(oe, 0, sizeof(*oe));
	if (status != 200 || j == NULL || json_str(j, "error") != NULL) {
		answer_error(status, reason, j, oe);
		goto out;
	}
	dc = json_str(j, "device_code");
	uc = json_str(j, "user_code");
	if ((uri = json_str(j, "verification_uri")) == NULL)
		uri = json_str(j, "verification_url"); /* Google's spelling */
	full = json_str(j, "verification_uri_complete");
	msg = json_str(j, "message");
	if (dc == NULL || !valid_token(dc) || uc == NULL || uc[0] == '\0' || uri == NULL ||
	    uri[0] == '\0') {
		snprintf(oe->text, sizeof(oe->text),
		    "the answer lacks device_code, user_code "
		    "or verification_uri");
		goto out;
	}
	d->device_code = xstrdup(dc);
	d->user_code = printable_dup(uc);
	d->verification_uri = printable_dup(uri);
	if (full != NULL && full[0] != '\0')
		d->verification_uri_complete = printable_dup(full);
	if (msg != NULL && msg[0] != '\0')
		d->message = printable_dup(msg);
	if (!json_int(j, "expires_in", &d->expires_in) || d->expires_in <= 0)
		d->expires_in = 900;
	if (!json_int(j, "interval", &d->interval) || d->interval <= 0)
		d->interval = 5;
	rc = 0;
out:
	json_free(j);
	return rc;
}

static int
code_in(const char *code, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(code, *list) == 0)
			return 1;
	return 0;
}

/* "the OAuth2 token endpoint https://h/p (account a)": whom an error is about. */
static void
endpoint_words(const struct account *a, const char *what, const char *url, char *dst, size_t len)
{
	if (url != NULL)
		snprintf(dst, len, "the OAuth2 %s %.*s (account %s)", what,
		    (int)strcspn(url, "?#"), url, a->name);
	else
		snprintf(dst, len, "account %s: the OAuth2 %s", a->name, what);
}

void
oauth2_refresh_error(const struct account *a, const char *url, int status,
    const struct oauth2_error *oe, struct err *e)
{
	static const char *const config[] = { "invalid_client", "unauthorized_client",
		"invalid_scope", "invalid_request", "unsupported_grant_type", NULL };
	static const char *const temp[] = { "temporarily_unavailable", "server_error", "slow_down",
		NULL };
	char who[MAX_ERROR_TEXT];

	endpoint_words(a, "token endpoint", url, who, sizeof(who));
	if (strcmp(oe->code, "invalid_grant") == 0) {
		/* A person must act; until then the mail waits in the queue, not lost. */
		err_set(e, ERR_TEMP, CAUSE_NOPERM,
		    "account %s: the OAuth2 provider no longer "
		    "accepts the stored refresh token (%s): it was revoked or has expired, or "
		    "the password was changed; run `mailout --authorize -a %s` to authorize "
		    "again",
		    a->name, oe->text, a->name);
		log_line(LOG_ERR,
		    "account=%s oauth2=invalid_grant: authorization revoked or "
		    "expired; mail for this account stays queued until `mailout --authorize "
		    "-a %s` is run",
		    a->name, a->name);
	} else if (code_in(oe->code, config))
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s refused the request (%s): check oauth_client_id, oauth_client_secret "
		    "and oauth_scope",
		    who, oe->text);
	else if (code_in(oe->code, temp) || status >= 500 || status == 429 || status == 408 ||
	    oe->code[0] == '\0')
		err_set(e, ERR_TEMP, CAUSE_TEMP, "%s failed: %s", who, oe->text);
	else
		err_set(e, ERR_TEMP, CAUSE_NOPERM, "%s refused to refresh the token (%s)", who,
		    oe->text);
}

/* Storage */

/* The lock file beside the tokens, or NULL (errno set) when its name is too long. */
static char *
lock_path(const struct account *a)
{
	const char *dir;
	char *name, *p;

	if (!empty(a->oauth_token_file))
		return path_fmt("%s.lock", a->oauth_token_file);
	if ((dir = user_state_dir()) == NULL)
		return NULL;
	name = path_name(a->name);
	p = path_fmt("%s/oauth2-%s.lock", dir, name);
	free(name);
	return p;
}

int
oauth2_lock(const struct account *a, int timeout_s, int *fd, struct err *e)
{
	char *path = lock_path(a);
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	int rc = -1;

	*fd = -1;
	if (path == NULL) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT,
		    "account %s: no OAuth2 lock file: its "
		    "name would be too long (oauth_token_file, or XDG_STATE_HOME or the home "
		    "directory)",
		    a->name);
		goto out;
	}
	/* System mode: the lock is the group's, next to its token file (priv.h). */
	priv_raise();
	make_parents(path, priv_system() ? 02770 : 0700);
	*fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	/* Every member of the group locks it: readable by the group (flock needs no more). */
	if (*fd != -1 && priv_system())
		fchmod(*fd, 0640);
	priv_lower();
	if (*fd == -1) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT,
		    "account %s: cannot open the OAuth2 lock "
		    "file %s: %s",
		    a->name, path, strerror(errno));
		goto out;
	}
	while (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			err_set(e, ERR_TEMP, CAUSE_TEMP, "account %s: cannot lock %s: %s", a->name,
			    path, strerror(errno));
			goto out;
		}
		if (now_ms() >= deadline) {
			err_set(e, ERR_TEMP, CAUSE_TEMP,
			    "account %s: another mailout has been "
			    "refreshing the OAuth2 token for more than %d s (lock %s)",
			    a->name, timeout_s, path);
			goto out;
		}
		usleep(OAUTH2_LOCK_POLL_MS * 1000);
	}
	rc = 0;
out:
	if (rc == -1 && *fd != -1) {
		close(*fd);
		*fd = -1;
	}
	free(path);
	return rc;
}

void
oauth2_unlock(int fd)
{
	if (fd != -1)
		close(fd); /* releases the flock */
}

const char *
oauth2_storage_name(const struct account *a)
{
	static char name[MAX_PATH + 32];

	if (!empty(a->oauth_token_file))
		snprintf(name, sizeof(name), "oauth_token_file %s", a->oauth_token_file);
	else if (a->oauth_grant != GRANT_AUTHCODE)
		snprintf(name, sizeof(name), "the %s grant", oauth2_grant_name(a->oauth_grant));
	else
		snprintf(name, sizeof(name), "the keyring (service oauth2)");
	return name;
}

/* System mode: the name of the install's group, which owns the token files; else NULL. */
static const char *
group_name(void)
{
	const struct group *gr;

	if (!priv_system() || (gr = getgrgid(priv_group())) == NULL)
		return NULL;
	return gr->gr_name;
}

static int
load_file(const struct account *a, int warn, struct buf *b, struct err *e)
{
	const char *path = a->oauth_token_file, *gr;
	struct stat st;
	int fd, rc = -1;

	priv_raise();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	priv_lower();
	if (fd == -1) {
		if (errno == ENOENT) {
			rc = 0;
			goto out;
		}
		if (errno == EACCES && (gr = group_name()) != NULL) {
			/* A root-only file (an older --authorize, a chmod 600): the exact fix. */
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "account %s: oauth_token_file %s: %s; in system mode the group %s "
			    "must be able to read and replace it: chown root:%s %s; chmod 640 %s",
			    a->name, path, strerror(EACCES), gr, gr, path, path);
			goto out;
		}
		err_set(e, ERR_TEMP, CAUSE_TEMP, "account %s: oauth_token_file %s: %s", a->name,
		    path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: oauth_token_file %s is not a "
		    "regular file",
		    a->name, path);
		goto out;
	}
	if (warn && (st.st_mode & S_IROTH) && (gr = group_name()) != NULL)
		fprintf(stderr,
		    "mailout: warning: oauth_token_file %s can be read by every "
		    "user (mode %04o): chown root:%s %s; chmod 640 %s\n",
		    path, (unsigned)(st.st_mode & 07777), gr, path, path);
	else if (warn && (st.st_mode & S_IROTH))
		fprintf(stderr,
		    "mailout: warning: oauth_token_file %s can be read by every "
		    "user (mode %04o): chmod 600 %s\n",
		    path, (unsigned)(st.st_mode & 07777), path);
	if (read_capped(fd, b, 0) == -1) {
		if (errno == EFBIG)
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "account %s: oauth_token_file %s is "
			    "larger than %d bytes",
			    a->name, path, MAX_OAUTH2_STORED);
		else
			err_set(e, ERR_TEMP, CAUSE_TEMP, "account %s: oauth_token_file %s: %s",
			    a->name, path, strerror(errno));
		goto out;
	}
	rc = 1;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/* oauth2_load; warn: say so if the file is readable by others (once per run is enough). */
static int
load(const struct account *a, int warn, struct oauth2_tokens *t, struct err *e)
{
	struct buf b;
	struct err le;
	char *secret = NULL;
	int r, rc = -1;

	memset(t, 0, sizeof(*t));
	buf_init_secret(&b, MAX_OAUTH2_STORED);
	err_init(&le);
	/* An app grant without oauth_token_file keeps its token in memory only. */
	if (a->oauth_grant != GRANT_AUTHCODE && empty(a->oauth_token_file)) {
		rc = 0;
		goto out;
	}
	if (!empty(a->oauth_token_file)) {
		if ((r = load_file(a, warn, &b, e)) <= 0) {
			rc = r;
			goto out;
		}
	} else {
		if ((r = keyring_lookup(a->host, "oauth2", a->user, &secret, e)) <= 0) {
			if (r == -1)
				err_prefix(e, "account %s: OAuth2 tokens: ", a->name);
			rc = r;
			goto out;
		}
		if (buf_addstr(&b, secret) == -1) {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "account %s: the keyring's OAuth2 "
			    "entry is over %d bytes; "
			    "run `mailout --authorize -a %s` to replace it",
			    a->name, MAX_OAUTH2_STORED, a->name);
			goto out;
		}
	}
	if (tokens_parse(b.data, b.len, a->oauth_grant == GRANT_AUTHCODE, t, &le) == -1) {
		if (a->oauth_grant != GRANT_AUTHCODE)
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "account %s: %s holds no valid token JSON: %s; remove it (mailout "
			    "gets a new token)",
			    a->name, oauth2_storage_name(a), le.msg);
		else
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "account %s: %s holds %s: %s; run `mailout "
			    "--authorize -a %s` to replace it",
			    a->name, oauth2_storage_name(a),
			    empty(a->oauth_token_file) ? "an entry that is not mailout's"
						       : "no valid token JSON",
			    le.msg, a->name);
		goto out;
	}
	rc = 1;
out:
	secret_free(secret);
	buf_free(&b);
	return rc;
}

int
oauth2_load(const struct account *a, struct oauth2_tokens *t, struct err *e)
{
	return load(a, 1, t, e);
}

/* Write the file beside it, fsync, rename, fsync of the directory. */
static int
store_file(const struct account *a, const struct buf *json, struct err *e)
{
	struct iovec iov[2] = { { json->data, json->len }, { (void *)"\n", 1 } };
	enum file_step step;
	int rc = -1;

	/* System mode: the file is the group's; group-readable, so the next user reads it. */
	priv_raise();
	make_parents(a->oauth_token_file, priv_system() ? 02770 : 0700);
	/* The rename itself must survive a crash, or the old (rotated away) token returns. */
	if (file_replace(a->oauth_token_file, iov, 2, priv_system() ? 0640 : 0600, (uid_t)-1, 0,
		FILE_SYNC | FILE_SYNC_DIR, &step) == -1) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT,
		    step == FILE_RENAME ? "account %s: cannot replace %s: %s"
					: "account %s: cannot write %s: %s",
		    a->name, a->oauth_token_file, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	priv_lower();
	return rc;
}

int
oauth2_store(const struct account *a, const struct oauth2_tokens *t, struct err *e)
{
	struct buf json, label;
	int rc = -1;

	buf_init_secret(&json, MAX_OAUTH2_STORED);
	buf_init(&label, MAX_KEYRING_LABEL);
	if (oauth2_tokens_format(t, &json) == -1) {
		err_set(e, ERR_TEMP, CAUSE_SOFTWARE,
		    "account %s: the tokens are too large to "
		    "store",
		    a->name);
		goto out;
	}
	if (!empty(a->oauth_token_file))
		rc = store_file(a, &json, e);
	else {
		/* Only what the keyring shows a person: the short form when this is too long. */
		if (buf_addf(&label, "mailout: OAuth2 tokens for %s (account %s)", a->user,
			a->name) == -1) {
			buf_reset(&label);
			if (buf_addstr(&label, "mailout: OAuth2 tokens") == -1) {
				err_set(e, ERR_TEMP, CAUSE_OSERR, "out of memory");
				goto out;
			}
		}
		rc = keyring_store(a->host, "oauth2", a->user, label.data, buf_cstr(&json), e);
		if (rc == -1)
			err_prefix(e, "account %s: storing the OAuth2 tokens: ", a->name);
	}
out:
	buf_free(&json);
	buf_free(&label);
	return rc;
}

/* Refresh */

int
oauth2_post(const struct account *a, const char *url, const char *what, const struct buf *form,
    struct http_response *r, struct err *e)
{
	struct http_request rq;
	struct tls_opts to;
	struct err le;
	char *pin, who[MAX_ERROR_TEXT];
	int rc = -1;

	err_init(&le);
	/*
	 * The account's trust settings; not its relay's name, pinned certificate or client
	 * certificate: the endpoint is another host (http.c sets its own name).
	 */
	memset(&to, 0, sizeof(to));
	to.verify = a->tls_verify;
	to.ca_file = a->tls_ca_file;
	to.min_version = a->tls_min_version;
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = url;
	rq.content_type = "application/x-www-form-urlencoded";
	rq.body = form->data != NULL ? form->data : "";
	rq.bodylen = form->len;
	rq.tls = &to;
	rq.timeout_s = (int)a->timeout;
	rq.bare = 1;
	if (http_do(&rq, r, &le) == -1) {
		endpoint_words(a, what, url, who, sizeof(who));
		/*
		 * Certificate problems need a person, as for the relay; anything else about
		 * reaching the endpoint (even a name that does not resolve now) may pass.
		 */
		if (le.cause == CAUSE_CONFIG) {
			/* tls.c's advice to pin a certificate is for the relay, not this host. */
			if ((pin = strstr(le.msg, ", or pin this server's certificate")) != NULL)
				*pin = '\0';
			err_set(e, le.kind, le.cause, "%s: %s", who, le.msg);
		} else
			err_set(e, ERR_TEMP, le.cause == CAUSE_NOHOST ? CAUSE_TEMP : le.cause,
			    "%s: %s", who, le.msg);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* A stored access token worth sending: known expiry, time left, not the one refused. */
static int
usable(const struct oauth2_tokens *t, const char *rejected)
{
	return t->access_token != NULL && t->expires_at - now_s() > OAUTH2_MIN_LIFETIME &&
	    (rejected == NULL || strcmp(t->access_token, rejected) != 0);
}

/*
 * The refresh grant with t's refresh token; on success t holds the new tokens, and they
 * are stored before this returns (a rotated refresh token exists nowhere else).
 */
static int
refresh(const struct account *a, const struct oauth2_provider *p, struct oauth2_tokens *t,
    struct err *e)
{
	struct http_response r;
	struct oauth2_tokens nt;
	struct oauth2_error oe;
	struct buf form;
	int rotated, bad, rc = -1;

	memset(&nt, 0, sizeof(nt));
	memset(&r, 0, sizeof(r));
	buf_init_secret(&form, MAX_OAUTH2_STORED);
	bad = http_form_add(&form, "grant_type", "refresh_token");
	bad |= http_form_add(&form, "refresh_token", t->refresh_token);
	bad |= http_form_add(&form, "client_id", a->oauth_client_id);
	if (!empty(a->oauth_client_secret))
		bad |= http_form_add(&form, "client_secret", a->oauth_client_secret);
	/* Microsoft wants the scope again; Google takes the one granted. */
	if (a->oauth != OAUTH_GOOGLE && !empty(p->scope))
		bad |= http_form_add(&form, "scope", p->scope);
	if (bad != 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: the token refresh request is too "
		    "large (the refresh token, oauth_client_id, oauth_client_secret or the "
		    "scope)",
		    a->name);
		goto out;
	}
	if (oauth2_post(a, p->token_url, "token endpoint", &form, &r, e) == -1)
		goto out;
	if (oauth2_parse_token(r.status, r.reason, r.body.data, r.body.len, now_s(), &nt, &oe) ==
	    -1) {
		oauth2_refresh_error(a, p->token_url, r.status, &oe, e);
		goto out;
	}
	rotated = nt.refresh_token != NULL && strcmp(nt.refresh_token, t->refresh_token) != 0;
	if (nt.refresh_token == NULL) {
		nt.refresh_token = t->refresh_token;
		t->refresh_token = NULL;
	}
	if (oauth2_store(a, &nt, e) == -1) {
		err_prefix(e, "%s",
		    rotated ? "the provider issued a new refresh token but it "
			      "could not be stored, so the stored one may no longer work: "
			    : "");
		goto out;
	}
	log_line(LOG_INFO, "account=%s oauth2: access token refreshed%s", a->name,
	    rotated ? " (new refresh token stored)" : "");
	oauth2_tokens_clear(t);
	*t = nt;
	memset(&nt, 0, sizeof(nt));
	rc = 0;
out:
	memset(&oe, 0, sizeof(oe));
	oauth2_tokens_clear(&nt);
	http_response_free(&r);
	buf_free(&form);
	return rc;
}

/* App grants: client_credentials and jwt_bearer */

const char *
oauth2_grant_name(enum oauth_grant g)
{
	switch (g) {
	case GRANT_CLIENT:
		return "client_credentials";
	case GRANT_JWT:
		return "jwt_bearer";
	default:
		return "authorization_code";
	}
}

/*
 * The token of this run: a queue run sends many messages through one account, and an
 * app grant without oauth_token_file would otherwise ask the provider for each.
 */
static struct {
	char *account;
	struct oauth2_tokens t;
} cache;

static void
cache_put(const struct account *a, const struct oauth2_tokens *t)
{
	secret_free(cache.t.access_token);
	free(cache.account);
	cache.account = xstrdup(a->name);
	cache.t.access_token = xstrdup(t->access_token);
	cache.t.expires_at = t->expires_at;
}

/* Google's JSON key file: what the assertion needs of it. */
struct service_account {
	char *client_email;
	char *private_key; /* secret: PEM */
	char *private_key_id;
	char *token_uri; /* NULL: the provider's */
};

static void
sa_clear(struct service_account *sa)
{
	free(sa->client_email);
	secret_free(sa->private_key);
	free(sa->private_key_id);
	free(sa->token_uri);
	memset(sa, 0, sizeof(*sa));
}

/* A URL we may POST an assertion to: HTTPS, or http to this host (tests). */
static int
url_ok(const char *u)
{
	return strncmp(u, "https://", 8) == 0 || strncmp(u, "http://127.0.0.1:", 17) == 0 ||
	    strncmp(u, "http://localhost:", 17) == 0;
}

static int
sa_load(const struct account *a, struct service_account *sa, struct err *e)
{
	const char *path = a->oauth_service_account;
	struct buf b;
	cJSON *j = NULL;
	const char *type, *email, *key, *kid, *uri;
	int rc = -1;

	memset(sa, 0, sizeof(*sa));
	buf_init_secret(&b, MAX_KEY_FILE);
	if (cred_file_all(path, "oauth_service_account", 1, &b, e) == -1) {
		err_prefix(e, "account %s: ", a->name);
		goto out;
	}
	j = json_parse(b.data, b.len);
	type = j != NULL ? json_str(j, "type") : NULL;
	email = j != NULL ? json_str(j, "client_email") : NULL;
	key = j != NULL ? json_str(j, "private_key") : NULL;
	kid = j != NULL ? json_str(j, "private_key_id") : NULL;
	uri = j != NULL ? json_str(j, "token_uri") : NULL;
	if (j == NULL || type == NULL || strcmp(type, "service_account") != 0 || email == NULL ||
	    email[0] == '\0' || key == NULL || key[0] == '\0') {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: oauth_service_account %s is "
		    "not a service account's JSON key (type service_account, client_email, "
		    "private_key): download a key for the service account in the Google Cloud "
		    "console (IAM > Service accounts > Keys > Add key > JSON)",
		    a->name, path);
		goto out;
	}
	if (uri != NULL && uri[0] != '\0' && (!url_ok(uri) || strlen(uri) >= MAX_URL)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: oauth_service_account %s: "
		    "token_uri is not an https:// URL",
		    a->name, path);
		goto out;
	}
	sa->client_email = printable_dup(email);
	sa->private_key = xstrdup(key);
	if (kid != NULL && kid[0] != '\0')
		sa->private_key_id = printable_dup(kid);
	if (uri != NULL && uri[0] != '\0')
		sa->token_uri = xstrdup(uri);
	rc = 0;
out:
	json_free(j);
	buf_free(&b);
	return rc;
}

/* The compact JSON of o into out (reset first). */
static int
json_print(cJSON *o, struct buf *out)
{
	char *txt = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	int rc;

	buf_reset(out);
	rc = txt != NULL ? buf_addstr(out, txt) : -1;
	if (txt != NULL)
		cJSON_free(txt);
	return rc;
}

/*
 * A client assertion (RFC 7523 3): signed by the key in key_pem. cert_pem: the
 * certificate for x5t#S256 (private_key_jwt), else kid (a service account's key id,
 * NULL if none). iss and sub; scope for the JWT bearer grant (NULL: none).
 */
static int
assertion(const struct account *a, const char *what, const char *key_pem, const char *cert_pem,
    const char *kid, const char *iss, const char *sub, const char *aud, const char *scope,
    struct buf *out, struct err *e)
{
	cJSON *h = cJSON_CreateObject(), *c = cJSON_CreateObject();
	struct buf hj, cj;
	char x5t[JWT_THUMBPRINT_LEN + 1], jti[OAUTH2_VERIFIER_LEN + 1];
	int64_t now = now_s();
	int rc = -1;

	buf_init(&hj, MAX_JWT_PART);
	buf_init(&cj, MAX_JWT_PART);
	if (cert_pem != NULL && jwt_thumbprint(cert_pem, what, x5t, e) == -1)
		goto out;
	if (h == NULL || c == NULL || oauth2_random_b64url(32, jti, sizeof(jti)) == -1) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "account %s: out of memory or randomness",
		    a->name);
		goto out;
	}
	cJSON_AddStringToObject(h, "alg", "RS256");
	cJSON_AddStringToObject(h, "typ", "JWT");
	if (cert_pem != NULL)
		cJSON_AddStringToObject(h, "x5t#S256", x5t);
	else if (kid != NULL)
		cJSON_AddStringToObject(h, "kid", kid);
	cJSON_AddStringToObject(c, "aud", aud);
	cJSON_AddStringToObject(c, "iss", iss);
	cJSON_AddStringToObject(c, "sub", sub);
	if (scope != NULL)
		cJSON_AddStringToObject(c, "scope", scope);
	cJSON_AddStringToObject(c, "jti", jti);
	/* Short-lived: a copy caught on the way is of no use for long. */
	cJSON_AddNumberToObject(c, "nbf", (double)now);
	cJSON_AddNumberToObject(c, "iat", (double)now);
	cJSON_AddNumberToObject(c, "exp", (double)(now + OAUTH2_ASSERTION_LIFETIME));
	if (json_print(h, &hj) == -1 || json_print(c, &cj) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: the assertion's claims are too "
		    "long (user, oauth_client_id or the token endpoint)",
		    a->name);
		goto out;
	}
	if (jwt_sign(key_pem, what, cert_pem, buf_cstr(&hj), buf_cstr(&cj), out, e) == -1) {
		err_prefix(e, "account %s: ", a->name);
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(h);
	cJSON_Delete(c);
	buf_free(&hj);
	buf_free(&cj);
	return rc;
}

/* The first line of the client secret file, as a NUL-terminated secret in out. */
static int
client_secret(const struct account *a, struct buf *out, struct err *e)
{
	struct buf b;
	size_t n;
	int rc = -1;

	buf_init_secret(&b, MAX_SECRET + 2);
	if (cred_file_all(a->oauth_client_secret_file, "oauth_client_secret_file", 1, &b, e) ==
	    -1) {
		err_prefix(e, "account %s: ", a->name);
		goto out;
	}
	n = strcspn(buf_cstr(&b), "\r\n");
	if (n == 0 || memchr(b.data, '\0', n) != NULL || buf_add(out, b.data, n) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: oauth_client_secret_file %s: "
		    "the first line must hold the client secret",
		    a->name, a->oauth_client_secret_file);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* What a person should check when the provider refused an app grant, in dst. */
static void
app_fix(const struct account *a, const char *url, char *dst, size_t len)
{
	char when[64];
	time_t now = (time_t)now_s();
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (a->oauth_grant == GRANT_JWT)
		snprintf(dst, len,
		    "check the service account key oauth_service_account %s (not deleted or "
		    "disabled in the Google Cloud console), its domain-wide delegation in the "
		    "Admin console (the service account's client ID with scope "
		    "https://mail.google.com/), that user %s is a mailbox of the domain, and "
		    "this computer's clock (it says %s)",
		    a->oauth_service_account, a->user, when);
	else if (!empty(a->oauth_client_certificate))
		snprintf(dst, len,
		    "check that the certificate oauth_client_certificate %s is uploaded to the "
		    "app registration %s (Certificates & secrets) and not expired or removed, "
		    "oauth_tenant, and this computer's clock (it says %s)",
		    a->oauth_client_certificate, a->oauth_client_id, when);
	else
		snprintf(dst, len,
		    "check oauth_client_id, oauth_tenant and the client secret in %s%s (Entra "
		    "admin center: App registrations > Certificates & secrets; secrets expire)",
		    empty(a->oauth_client_secret_file) ? "oauth_client_secret"
						       : "oauth_client_secret_file ",
		    empty(a->oauth_client_secret_file) ? "" : a->oauth_client_secret_file);
	(void)url;
}

/* Classify a refused app grant: the provider's words, then what to check. */
static void
app_error(const struct account *a, const char *url, int status, const struct oauth2_error *oe,
    struct err *e)
{
	static const char *const temp[] = { "temporarily_unavailable", "server_error", "slow_down",
		NULL };
	char who[MAX_ERROR_TEXT], fix[MAX_ERROR_TEXT];

	endpoint_words(a, "token endpoint", url, who, sizeof(who));
	if (code_in(oe->code, temp) || status >= 500 || status == 429 || status == 408 ||
	    oe->code[0] == '\0') {
		err_set(e, ERR_TEMP, CAUSE_TEMP, "%s failed: %s", who, oe->text);
		return;
	}
	/* No person's consent to renew: only a change to the config or the app helps. */
	app_fix(a, url, fix, sizeof(fix));
	err_set(e, ERR_PERM, CAUSE_CONFIG, "%s refused the %s grant (%s): %s", who,
	    oauth2_grant_name(a->oauth_grant), oe->text, fix);
	log_line(LOG_ERR, "account=%s oauth2=%s refused: %s", a->name,
	    oauth2_grant_name(a->oauth_grant), oe->code);
}

/* How the app grant authenticates, for --test. */
static const char *
app_credential(const struct account *a)
{
	if (a->oauth_grant == GRANT_JWT)
		return "service account key";
	if (!empty(a->oauth_client_certificate))
		return "certificate, private_key_jwt";
	if (!empty(a->oauth_client_secret_file))
		return "client secret file";
	return "client secret";
}

/*
 * The app grant's request for a new access token into t, stored (oauth_token_file) and
 * cached for the run. sa: the service account for jwt_bearer. url: the token endpoint.
 */
static int
app_grant(const struct account *a, const struct oauth2_provider *p,
    const struct service_account *sa, const char *url, struct oauth2_tokens *t, struct err *e)
{
	struct http_response r;
	struct oauth2_error oe;
	struct buf form, jwt, key, cert, sec;
	int bad = 0, rc = -1;

	memset(&r, 0, sizeof(r));
	memset(&oe, 0, sizeof(oe));
	buf_init_secret(&form, MAX_OAUTH2_STORED);
	buf_init_secret(&jwt, MAX_JWT);
	buf_init_secret(&key, MAX_KEY_FILE);
	buf_init(&cert, MAX_KEY_FILE);
	buf_init_secret(&sec, MAX_SECRET + 1);
	if (a->oauth_grant == GRANT_JWT) {
		if (assertion(a, "oauth_service_account's private_key", sa->private_key, NULL,
			sa->private_key_id, sa->client_email, a->user, url, p->scope, &jwt,
			e) == -1)
			goto out;
		bad |= http_form_add(&form, "grant_type", OAUTH2_JWT_BEARER);
		bad |= http_form_add(&form, "assertion", buf_cstr(&jwt));
	} else {
		bad |= http_form_add(&form, "grant_type", "client_credentials");
		bad |= http_form_add(&form, "client_id", a->oauth_client_id);
		if (!empty(p->scope))
			bad |= http_form_add(&form, "scope", p->scope);
		if (!empty(a->oauth_client_certificate)) {
			if (cred_file_all(a->oauth_client_key, "oauth_client_key", 1, &key, e) ==
				-1 ||
			    cred_file_all(a->oauth_client_certificate, "oauth_client_certificate",
				0, &cert, e) == -1) {
				err_prefix(e, "account %s: ", a->name);
				goto out;
			}
			if (assertion(a, "oauth_client_key", buf_cstr(&key), buf_cstr(&cert), NULL,
				a->oauth_client_id, a->oauth_client_id, url, NULL, &jwt, e) == -1)
				goto out;
			bad |= http_form_add(&form, "client_assertion_type",
			    OAUTH2_CLIENT_ASSERTION);
			bad |= http_form_add(&form, "client_assertion", buf_cstr(&jwt));
		} else {
			if (!empty(a->oauth_client_secret_file)) {
				if (client_secret(a, &sec, e) == -1)
					goto out;
			} else if (buf_addstr(&sec, a->oauth_client_secret) == -1)
				bad = -1;
			bad |= http_form_add(&form, "client_secret", buf_cstr(&sec));
		}
	}
	if (bad != 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: the token request is too large "
		    "(oauth_client_id, the client secret or the scope)",
		    a->name);
		goto out;
	}
	if (oauth2_post(a, url, "token endpoint", &form, &r, e) == -1)
		goto out;
	if (oauth2_parse_token(r.status, r.reason, r.body.data, r.body.len, now_s(), t, &oe) ==
	    -1) {
		app_error(a, url, r.status, &oe, e);
		goto out;
	}
	/* Nothing renews an app token but the grant itself: a refresh token is dropped. */
	secret_free(t->refresh_token);
	t->refresh_token = NULL;
	if (!empty(a->oauth_token_file) && oauth2_store(a, t, e) == -1)
		goto out;
	log_line(LOG_INFO, "account=%s oauth2: access token obtained (%s)", a->name,
	    oauth2_grant_name(a->oauth_grant));
	rc = 0;
out:
	memset(&oe, 0, sizeof(oe));
	http_response_free(&r);
	buf_free(&form);
	buf_free(&jwt);
	buf_free(&key);
	buf_free(&cert);
	buf_free(&sec);
	return rc;
}

int
oauth2_access_token(const struct account *a, const char *rejected, char **token, struct err *e)
{
	return oauth2_access_token_ex(a, rejected, token, NULL, e);
}

int
oauth2_access_token_ex(const struct account *a, const char *rejected, char **token,
    struct oauth2_info *info, struct err *e)
{
	struct oauth2_provider p;
	struct oauth2_tokens t;
	struct service_account sa;
	const char *url;
	int r, fd = -1, app = a->oauth_grant != GRANT_AUTHCODE, rc = -1;

	*token = NULL;
	memset(&t, 0, sizeof(t));
	memset(&sa, 0, sizeof(sa));
	if (oauth2_provider(a, &p, e) == -1)
		goto out;
	url = p.token_url;
	/* The key file names its token endpoint; oauth_token_url still wins. */
	if (a->oauth_grant == GRANT_JWT) {
		if (sa_load(a, &sa, e) == -1)
			goto out;
		if (empty(a->oauth_token_url) && sa.token_uri != NULL)
			url = sa.token_uri;
	}
	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		snprintf(info->grant, sizeof(info->grant), "%s%s%s%s",
		    oauth2_grant_name(a->oauth_grant), app ? " (" : "",
		    app ? app_credential(a) : "", app ? ")" : "");
		snprintf(info->token_url, sizeof(info->token_url), "%.*s", (int)strcspn(url, "?#"),
		    url);
	}
	if (app && cache.account != NULL && strcmp(cache.account, a->name) == 0 &&
	    usable(&cache.t, rejected)) {
		t.access_token = xstrdup(cache.t.access_token);
		t.expires_at = cache.t.expires_at;
		if (info != NULL)
			snprintf(info->how, sizeof(info->how), "cached in memory for this run");
		goto found;
	}
	/* Fast path, no lock: the file is replaced by rename, so a read sees a whole one. */
	if ((r = load(a, 1, &t, e)) == -1)
		goto out;
	if (r == 1 && usable(&t, rejected))
		goto stored;
	oauth2_tokens_clear(&t);
	/*
	 * The holder may spend a whole HTTP exchange (connect plus reads) on its refresh.
	 * An app grant with nothing stored shares nothing: no lock (in system mode a user's
	 * state directory, where it would be, may not even exist).
	 */
	if ((!app || !empty(a->oauth_token_file)) &&
	    oauth2_lock(a, 2 * (int)a->timeout + 10, &fd, e) == -1)
		goto out;
	if ((r = load(a, 0, &t, e)) == -1)
		goto out;
	if (r == 0 && !app) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s uses OAuth2 (oauth = %s) but is "
		    "not authorized yet: %s holds no tokens; run `mailout --authorize -a %s`",
		    a->name, p.name, oauth2_storage_name(a), a->name);
		goto out;
	}
	/* Someone else refreshed while we waited. */
	if (r == 1 && usable(&t, rejected))
		goto stored;
	if (app) {
		oauth2_tokens_clear(&t);
		if (app_grant(a, &p, &sa, url, &t, e) == -1)
			goto out;
	} else if (refresh(a, &p, &t, e) == -1)
		goto out;
	if (info != NULL) {
		info->obtained = 1;
		snprintf(info->how, sizeof(info->how), "obtained from the token endpoint%s%s",
		    empty(a->oauth_token_file) ? (app ? ", kept in memory for this run" : "")
					       : ", stored in oauth_token_file ",
		    empty(a->oauth_token_file) ? "" : a->oauth_token_file);
	}
	goto found;
stored:
	if (info != NULL)
		snprintf(info->how, sizeof(info->how), "cached in %s", oauth2_storage_name(a));
found:
	if (app)
		cache_put(a, &t);
	if (info != NULL)
		info->expires_at = t.expires_at;
	*token = xstrdup(t.access_token);
	rc = 0;
out:
	oauth2_unlock(fd);
	oauth2_tokens_clear(&t);
	oauth2_provider_free(&p);
	sa_clear(&sa);
	return rc;
}

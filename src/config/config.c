/*
 * config.c: sendmail.conf into validated, owned structs. See config.h.
 *
 * Loading is in two steps. Each file is read with iniparser and copied into plain
 * key/value lists, checking every key and value where it is written, so an error names
 * the file and section the user has to edit. The lists of all files are then merged
 * (later [defaults] keys override, a later account replaces one of the same name) and
 * every account is built from the built-in defaults, then [defaults], then its own keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <iniparser.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/path.h"
#include "config/config.h"
#include "base/err.h"
#include "base/hooks.h"
#include "base/priv.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/str.h"
#include "base/user.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
/* System mode's state directory (root:mailout 2770): the group's OAuth2 token files. */
#define CONFIG_STATE_DIR LOCALSTATEDIR "/lib/mailout"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NFILES 2 /* the system file, then the user file or -C */

enum vtype {
	V_STR, /* any text */
	V_PATH, /* /absolute or ~/relative to the home of getuid() */
	V_HOST,
	V_PORT,
	V_TLS,
	V_BOOL,
	V_FPR,
	V_TLSVER,
	V_AUTH,
	V_OAUTH,
	V_GRANT,
	V_URL,
	V_FROM, /* address template: %U, %H, %% */
	V_REWRITE,
	V_SIZE,
	V_RCPTS,
	V_TIMEOUT,
	V_NAME, /* an account name */
	V_NOTIFY,
	V_RET,
	V_DOMAIN, /* template, stored expanded */
	V_DURATION,
	V_LIMIT, /* a duration, or 0 / off for none */
	V_FACILITY,
	V_LADDRS, /* [listen] address: host, host:port, [v6]:port, ... */
	V_CIDRS, /* address ranges */
	V_OWN,
	V_LAUTH,
	V_LRELAY, /* by-sender, by-user or an account name */
	V_GLOBS, /* address patterns */
	V_COUNT, /* connections */
	V_LOGIN, /* a user name of this system */
	V_LONGTIME, /* seconds, up to a day */
	V_RATE, /* a sending limit: a count, off, or preset (the preset's) */
	V_PRESET, /* send_limits: auto, off, or a provider's caps */
};

/* What a bad value is not, and what would be accepted instead. */
static const struct {
	const char *what;
	const char *accepted;
} vdesc[] = {
	[V_STR] = { "not a valid value", "any text" },
	[V_PATH] = { "not an absolute path", "/path, or ~/path in your home" },
	[V_HOST] = { "not a host name", "a name or address, no spaces" },
	[V_PORT] = { "not a port number", "1-65535" },
	[V_TLS] = { "not a TLS mode", "off, opportunistic, starttls, implicit" },
	[V_BOOL] = { "not a boolean", "on, off, yes, no, true, false, 1, 0" },
	[V_FPR] = { "not a certificate fingerprint",
	    "sha256: followed by 32 hex bytes, colons optional" },
	[V_TLSVER] = { "not a TLS version", "1.2, 1.3" },
	[V_AUTH] = { "not an authentication method",
	    "auto, off, plain, login, cram-md5, "
	    "scram-sha-1, scram-sha-256, xoauth2, oauthbearer, external" },
	[V_OAUTH] = { "not an OAuth2 provider", "none, google, microsoft, custom" },
	[V_GRANT] = { "not an OAuth2 grant",
	    "authorization_code, client_credentials, jwt_bearer" },
	[V_URL] = { "not an HTTPS URL", "https://..., or http:// to localhost only" },
	[V_FROM] = { "not an address template",
	    "an address without spaces; %U user, %H host name, %% a percent sign" },
	[V_REWRITE] = { "not a rewrite mode", "never, local, always" },
	[V_SIZE] = { "not a size", "bytes, or a number with K, M or G; 0 or off for no limit" },
	[V_RCPTS] = { "not a recipient count", "1-10000" },
	[V_TIMEOUT] = { "not a timeout in seconds", "1-3600" },
	[V_NAME] = { "not an account name", "letters, digits, . _ - @ +" },
	[V_NOTIFY] = { "not a DSN notify list",
	    "never, or a comma list of success, failure, delay" },
	[V_RET] = { "not a DSN return type", "full, hdrs" },
	[V_DOMAIN] = { "not a domain name", "a host name; %H this host's name" },
	[V_DURATION] = { "not a duration",
	    "seconds, or a number with s, m, h or d, e.g. 5d; at most 3650d" },
	[V_LIMIT] = { "not a time limit",
	    "seconds, or a number with s, m or h, e.g. 10m; 0 or off for none" },
	[V_FACILITY] = { "not a syslog facility", "mail, user, daemon, local0-local7, off" },
	[V_LADDRS] = { "not a list of addresses to listen on",
	    "addresses or host names, each with an optional :port, IPv6 in brackets "
	    "([::1]:25), separated by commas or spaces" },
	[V_CIDRS] = { "not a list of address ranges",
	    "addresses or ranges (192.168.1.0/24, "
	    "2001:db8::/32, with no bits set past the prefix), separated by commas or spaces" },
	[V_OWN] = { "not a rule for this computer's own addresses", "normal, block, safe" },
	[V_LAUTH] = { "not an authentication rule", "off, required" },
	[V_LRELAY] = { "not a way to choose the account",
	    "by-sender, by-user, or an account's name" },
	[V_GLOBS] = { "not a list of sender addresses",
	    "addresses or patterns (*@example.com), separated by commas or spaces" },
	[V_COUNT] = { "not a connection count", "1-10000" },
	[V_LOGIN] = { "not a user name", "a login name of this system, not root" },
	[V_LONGTIME] = { "not a time in seconds", "1-86400" },
	[V_RATE] = { "not a sending limit", "a count 1-1000000000, off, or preset" },
	[V_PRESET] = { "not a set of sending limits", "auto, off, microsoft, gmail, workspace" },
};

/* Where a key may be written, and so which struct its field is in. */
enum scope {
	SC_ACCOUNT, /* an account or [defaults]: struct account */
	SC_GLOBAL, /* [defaults] only: struct config */
	SC_LISTEN, /* [listen] only: struct listen_config */
};

struct keydef {
	const char *name;
	enum vtype type;
	enum scope scope;
	size_t off; /* in the struct of the scope */
	const char *def; /* built-in default; NULL: unset */
};

#define ACC(f) SC_ACCOUNT, offsetof(struct account, f)
#define GLOB(f) SC_GLOBAL, offsetof(struct config, f)
#define LST(f) SC_LISTEN, offsetof(struct listen_config, f)

/* The [listen] section's name, which no account may take. */
#define LISTEN_SECTION "listen"

static const struct keydef keys[] = {
	{ "host", V_HOST, ACC(host), NULL },
	{ "port", V_PORT, ACC(port), NULL },
	{ "tls", V_TLS, ACC(tls), "starttls" },
	{ "tls_verify", V_BOOL, ACC(tls_verify), "on" },
	{ "tls_ca_file", V_PATH, ACC(tls_ca_file), NULL },
	{ "tls_fingerprint", V_FPR, ACC(tls_fingerprint), NULL },
	{ "tls_cert_file", V_PATH, ACC(tls_cert_file), NULL },
	{ "tls_key_file", V_PATH, ACC(tls_key_file), NULL },
	{ "tls_min_version", V_TLSVER, ACC(tls_min_version), "1.2" },
	{ "tls_server_name", V_HOST, ACC(tls_server_name), NULL },
	{ "auth", V_AUTH, ACC(auth), "auto" },
	{ "user", V_STR, ACC(user), NULL },
	{ "password", V_STR, ACC(password), NULL },
	{ "password_command", V_STR, ACC(password_command), NULL },
	{ "password_file", V_PATH, ACC(password_file), NULL },
	{ "allow_plaintext_auth", V_BOOL, ACC(allow_plaintext_auth), "off" },
	{ "oauth", V_OAUTH, ACC(oauth), "none" },
	{ "oauth_client_id", V_STR, ACC(oauth_client_id), NULL },
	{ "oauth_client_secret", V_STR, ACC(oauth_client_secret), NULL },
	{ "oauth_tenant", V_STR, ACC(oauth_tenant), NULL },
	{ "oauth_auth_url", V_URL, ACC(oauth_auth_url), NULL },
	{ "oauth_token_url", V_URL, ACC(oauth_token_url), NULL },
	{ "oauth_device_url", V_URL, ACC(oauth_device_url), NULL },
	{ "oauth_scope", V_STR, ACC(oauth_scope), NULL },
	{ "oauth_token_file", V_PATH, ACC(oauth_token_file), NULL },
	{ "oauth_grant", V_GRANT, ACC(oauth_grant), "authorization_code" },
	{ "oauth_client_secret_file", V_PATH, ACC(oauth_client_secret_file), NULL },
	{ "oauth_client_certificate", V_PATH, ACC(oauth_client_certificate), NULL },
	{ "oauth_client_key", V_PATH, ACC(oauth_client_key), NULL },
	{ "oauth_service_account", V_PATH, ACC(oauth_service_account), NULL },
	{ "from", V_FROM, ACC(from), NULL },
	{ "from_name", V_STR, ACC(from_name), NULL },
	{ "rewrite_from", V_REWRITE, ACC(rewrite_from), "local" },
	/*
	 * Without one a user could fill the queue's file system with one message. 35M is
	 * above Gmail's 25 MB and Microsoft 365's 35 MB outbound limits (whose SIZE still
	 * applies), far below what fills a disk.
	 */
	{ "max_message_size", V_SIZE, ACC(max_message_size), "35M" },
	{ "max_recipients", V_RCPTS, ACC(max_recipients), "1000" },
	{ "address_strict", V_BOOL, ACC(address_strict), "off" },
	{ "timeout", V_TIMEOUT, ACC(timeout), "60" },
	{ "session_timeout", V_LIMIT, ACC(session_timeout), "10m" },
	{ "fallback", V_NAME, ACC(fallback), NULL },
	{ "dsn_notify", V_NOTIFY, ACC(dsn_notify), NULL },
	{ "dsn_return", V_RET, ACC(dsn_return), NULL },
	{ "domain", V_DOMAIN, ACC(domain), NULL },
	{ "send_limits", V_PRESET, ACC(send_limits), "auto" },
	{ "max_messages_per_second", V_RATE, ACC(limits[LIMIT_SECOND]), "preset" },
	{ "max_messages_per_minute", V_RATE, ACC(limits[LIMIT_MINUTE]), "preset" },
	{ "max_messages_per_hour", V_RATE, ACC(limits[LIMIT_HOUR]), "preset" },
	{ "max_messages_per_day", V_RATE, ACC(limits[LIMIT_DAY]), "preset" },
	{ "max_recipients_per_day", V_RATE, ACC(limits[LIMIT_RCPT_DAY]), "preset" },

	{ "account", V_NAME, GLOB(default_account), NULL },
	{ "default_domain", V_HOST, GLOB(default_domain), NULL },
	{ "aliases", V_PATH, GLOB(aliases), "/etc/aliases" },
	{ "queue", V_BOOL, GLOB(queue), "on" },
	{ "queue_dir", V_PATH, GLOB(queue_dir), NULL },
	{ "queue_lifetime", V_DURATION, GLOB(queue_lifetime), "5d" },
	{ "syslog", V_FACILITY, GLOB(syslog_facility), "mail" },
	{ "logfile", V_PATH, GLOB(logfile), NULL },
	{ "rewrite_to", V_BOOL, GLOB(rewrite_to), "off" },

	{ "address", V_LADDRS, LST(addrs), "127.0.0.1 ::1" },
	{ "port", V_PORT, LST(port), "25" },
	{ "max_connections", V_COUNT, LST(max_connections), "20" },
	{ "max_connections_per_ip", V_COUNT, LST(max_connections_per_ip), "10" },
	{ "max_recipients", V_RCPTS, LST(max_recipients), "100" },
	{ "max_message_size", V_SIZE, LST(max_message_size), "35M" },
	{ "command_timeout", V_TIMEOUT, LST(command_timeout), "300" },
	{ "session_timeout", V_LONGTIME, LST(session_timeout), "1800" },
	{ "allow_from", V_CIDRS, LST(allow_from), NULL },
	{ "safe_ips", V_CIDRS, LST(safe_ips), NULL },
	{ "own_addresses", V_OWN, LST(own_addresses), "normal" },
	{ "auth", V_LAUTH, LST(auth), "off" },
	{ "users_file", V_PATH, LST(users_file), NULL },
	{ "user", V_NAME, LST(user), NULL },
	{ "password_file", V_PATH, LST(password_file), NULL },
	{ "senders", V_GLOBS, LST(senders), NULL },
	{ "account", V_LRELAY, LST(account), "by-sender" },
	{ "run_as", V_LOGIN, LST(run_as), "mailout" },
	{ "tls_cert_file", V_PATH, LST(tls_cert_file), NULL },
	{ "tls_key_file", V_PATH, LST(tls_key_file), NULL },
	{ "tls_min_version", V_TLSVER, LST(tls_min_version), "1.2" },
	{ "hostname", V_DOMAIN, LST(hostname), "%H" },
};

static const char *const tls_names[] = { "off", "opportunistic", "starttls", "implicit" };
static const char *const oauth_names[] = { "none", "google", "microsoft", "custom" };
/* In enum oauth_grant's order. */
static const char *const grant_names[] = { "authorization_code", "client_credentials",
	"jwt_bearer" };
static const char *const rewrite_names[] = { "never", "local", "always" };
static const char *const own_names[] = { "normal", "block", "safe" };
static const char *const lauth_names[] = { "off", "required" };
static const char *const preset_names[] = { "auto", "off", "microsoft", "gmail", "workspace" };

/*
 * The providers' published caps per mailbox (they may change; sendmail.conf(5) cites
 * them), by send_limits: Microsoft 365 (Exchange Online sending limits): 30 messages a
 * minute, 10,000 recipients a day. Gmail (consumer): 500 recipients a day. Google
 * Workspace: 2,000 messages a day, 10,000 recipients a day.
 */
static const uint64_t presets[][NLIMITS] = {
	[PRESET_AUTO] = { 0, 0, 0, 0, 0 },
	[PRESET_OFF] = { 0, 0, 0, 0, 0 },
	[PRESET_MICROSOFT] = { 0, 30, 0, 0, 10000 },
	[PRESET_GMAIL] = { 0, 0, 0, 0, 500 },
	[PRESET_WORKSPACE] = { 0, 0, 0, 2000, 10000 },
};
static const char *const auth_names[] = {
	"auto",
	"off",
	"plain",
	"login",
	"cram-md5",
	"scram-sha-1",
	"scram-sha-256",
	"xoauth2",
	"oauthbearer",
	"external",
};

/* The relays that OAuth2 providers imply, so that `oauth = google` is a whole account. */
static const char *const oauth_hosts[] = {
	[OAUTH_NONE] = NULL,
	[OAUTH_GOOGLE] = "smtp.gmail.com",
	[OAUTH_MICROSOFT] = "smtp.office365.com",
	[OAUTH_CUSTOM] = NULL,
};

/* One key as written: the file it is in, for messages. */
struct kv {
	char *key;
	char *val;
	const char *file;
};

struct section {
	char *name;
	const char *file;
	struct kv *kv;
	size_t nkv;
};

/* Everything read so far, merged. */
struct raw {
	char *files[NFILES];
	size_t nfiles;
	struct kv *defs;
	size_t ndefs;
	struct kv *lst; /* [listen] */
	size_t nlst;
	struct section *secs;
	size_t nsecs;
};

static int
is_string(enum vtype t)
{
	switch (t) {
	case V_RATE:
	case V_PRESET:
	case V_PORT:
	case V_TLS:
	case V_BOOL:
	case V_TLSVER:
	case V_OAUTH:
	case V_GRANT:
	case V_REWRITE:
	case V_SIZE:
	case V_RCPTS:
	case V_TIMEOUT:
	case V_DURATION:
	case V_LIMIT:
	case V_FACILITY:
	case V_LADDRS:
	case V_CIDRS:
	case V_OWN:
	case V_LAUTH:
	case V_GLOBS:
	case V_COUNT:
	case V_LONGTIME:
		return 0;
	default:
		return 1;
	}
}

/* The key of that name for [listen] (in_listen) or for any other section. */
static const struct keydef *
find_key(const char *name, int in_listen)
{
	size_t i;

	for (i = 0; i < NELEM(keys); i++)
		if ((keys[i].scope == SC_LISTEN) == in_listen && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
pick(const char *val, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(val, names[i]) == 0)
			return (int)i;
	return -1;
}

static int
no_space(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

static int
valid_host(const char *s)
{
	return *s != '\0' && strlen(s) <= 255 && no_space(s) && strpbrk(s, "/@<>\"'\\,;") == NULL;
}

int
config_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("._-@+", c) != NULL);
}

int
config_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_ACCOUNT_NAME)
		return 0;
	for (; *s != '\0'; s++)
		if (!config_name_char((unsigned char)*s))
			return 0;
	return 1;
}

/* %U, %H and %% only: anything else is a typo that would end up in an address. */
static int
valid_template(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '%') {
			s++;
			if (*s != 'U' && *s != 'H' && *s != '%')
				return 0;
		}
	return 1;
}

static int
valid_notify(const char *s)
{
	static const char *const words[] = { "success", "failure", "delay" };
	const char *end;
	size_t i, n;

	if (strcasecmp(s, "never") == 0)
		return 1;
	for (;; s = end + 1) {
		end = strchr(s, ',');
		if (end == NULL)
			end = s + strlen(s);
		n = (size_t)(end - s);
		for (i = 0; i < NELEM(words); i++)
			if (strlen(words[i]) == n && strncasecmp(s, words[i], n) == 0)
				break;
		if (i == NELEM(words))
			return 0;
		if (*end == '\0')
			return 1;
	}
}

/* The refresh token and client secret go there: never in clear to another host. */
static int
valid_url(const char *s)
{
	static const char *const local[] = { "localhost", "127.0.0.1", "[::1]" };
	const char *h;
	size_t i, n;

	if (!no_space(s))
		return 0;
	if (strncasecmp(s, "https://", 8) == 0)
		return s[8] != '\0' && s[8] != '/';
	if (strncasecmp(s, "http://", 7) != 0)
		return 0;
	h = s + 7;
	for (i = 0; i < NELEM(local); i++) {
		n = strlen(local[i]);
		if (strncasecmp(h, local[i], n) == 0 &&
		    (h[n] == '\0' || h[n] == ':' || h[n] == '/'))
			return 1;
	}
	return 0;
}

char *
config_fingerprint(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char out[7 + 64 + 1], c;
	size_t len, i, o = 7;
	int colons;

	if (strncasecmp(s, "sha256:", 7) != 0)
		return NULL;
	s += 7;
	len = strlen(s);
	if (len == 64)
		colons = 0;
	else if (len == 95)
		colons = 1;
	else
		return NULL;
	memcpy(out, "sha256:", 7);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (colons && i % 3 == 2) {
			if (c != ':')
				return NULL;
			continue;
		}
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (strchr(hex, c) == NULL)
			return NULL;
		out[o++] = c;
	}
	out[o] = '\0';
	return xstrdup(out);
}

static int
parse_duration(const char *s, uint64_t *out)
{
	char num[32];
	size_t len;
	uint64_t v, mult = 0;

	len = strlen(s);
	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's':
	case 'S':
		mult = 1;
		break;
	case 'm':
	case 'M':
		mult = 60;
		break;
	case 'h':
	case 'H':
		mult = 3600;
		break;
	case 'd':
	case 'D':
		mult = 86400;
		break;
	default:
		break;
	}
	if (mult != 0)
		num[len - 1] = '\0';
	else
		mult = 1;
	if (parse_uint(num, 1, MAX_QUEUE_LIFETIME / mult, &v) == -1)
		return -1;
	*out = v * mult;
	return 0;
}

static int
parse_facility(const char *s, int *out)
{
	static const struct {
		const char *name;
		int fac;
	} facs[] = {
		{ "off", -1 },
		{ "mail", LOG_MAIL },
		{ "user", LOG_USER },
		{ "daemon", LOG_DAEMON },
		{ "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	size_t i;

	for (i = 0; i < NELEM(facs); i++)
		if (strcasecmp(s, facs[i].name) == 0) {
			*out = facs[i].fac;
			return 0;
		}
	return -1;
}

/* The next item of a list value (separated by commas or blanks): its length, 0 at the end. */
static size_t
next_item(const char **p)
{
	const char *s = *p;

	while (*s == ',' || *s == ' ' || *s == '\t')
		s++;
	*p = s;
	return strcspn(s, ", \t");
}

/* "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address. 0, or -1. */
static int
parse_laddr(const char *item, struct listen_addr *out)
{
	unsigned char a6[16];
	const char *colon, *close, *portp = NULL;
	char *host = NULL;
	uint64_t port = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (item[0] == '[') {
		if ((close = strchr(item, ']')) == NULL)
			goto out;
		host = xstrndup(item + 1, (size_t)(close - item - 1));
		if (inet_pton(AF_INET6, host, a6) != 1)
			goto out;
		if (close[1] == ':')
			portp = close + 2;
		else if (close[1] != '\0')
			goto out;
	} else if ((colon = strchr(item, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		host = xstrndup(item, (size_t)(colon - item));
		portp = colon + 1;
	} else {
		host = xstrdup(item);
		/* Two colons or more: an IPv6 address, which then has no port. */
		if (strchr(host, ':') != NULL && inet_pton(AF_INET6, host, a6) != 1)
			goto out;
	}
	if (!valid_host(host) || (portp != NULL && parse_uint(portp, 1, 65535, &port) == -1))
		goto out;
	out->host = host;
	out->port = (unsigned)port;
	host = NULL;
	rc = 0;
out:
	free(host);
	return rc;
}

static void
laddrs_free(struct listen_addrs *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].host);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void
strs_free(struct str_list *l)
{
	xfree_strv(l->v, l->n);
	memset(l, 0, sizeof(*l));
}

static void
cidrs_free(struct cidr_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Free the value of a list key at dst; other types are left alone. */
static void
list_clear(enum vtype t, void *dst)
{
	if (t == V_LADDRS)
		laddrs_free(dst);
	else if (t == V_CIDRS)
		cidrs_free(dst);
	else if (t == V_GLOBS)
		strs_free(dst);
}

/*
 * A list value into *dst (a struct listen_addrs, cidr_list or str_list, replaced), or only
 * checked when dst is NULL. An empty list is fine. 0, or -1 at the first bad item.
 */
static int
conv_list(enum vtype t, const char *val, void *dst)
{
	struct listen_addrs la = { NULL, 0 };
	struct cidr_list cl = { NULL, 0 };
	struct str_list sl = { NULL, 0 };
	struct listen_addr one;
	struct cidr c;
	const char *p = val;
	char *item = NULL;
	size_t n;
	int rc = -1;

	for (; (n = next_item(&p)) > 0; p += n) {
		free(item);
		item = xstrndup(p, n);
		if (t == V_LADDRS) {
			if (parse_laddr(item, &one) == -1)
				goto out;
			la.v = xrealloc(la.v, (la.n + 1) * sizeof(*la.v));
			la.v[la.n++] = one;
		} else if (t == V_CIDRS) {
			if (cidr_parse(item, &c) == -1)
				goto out;
			cl.v = xrealloc(cl.v, (cl.n + 1) * sizeof(*cl.v));
			cl.v[cl.n++] = c;
		} else {
			if (!no_space(item) || strpbrk(item, "<>\"\\") != NULL)
				goto out;
			sl.v = xrealloc(sl.v, (sl.n + 1) * sizeof(*sl.v));
			sl.v[sl.n++] = item;
			item = NULL;
		}
	}
	if (dst != NULL) {
		list_clear(t, dst);
		if (t == V_LADDRS)
			*(struct listen_addrs *)dst = la;
		else if (t == V_CIDRS)
			*(struct cidr_list *)dst = cl;
		else
			*(struct str_list *)dst = sl;
		memset(&la, 0, sizeof(la));
		memset(&cl, 0, sizeof(cl));
		memset(&sl, 0, sizeof(sl));
	}
	rc = 0;
out:
	free(item);
	laddrs_free(&la);
	cidrs_free(&cl);
	strs_free(&sl);
	return rc;
}

/* A login name as useradd takes it; root is refused, the listener must not stay root. */
static int
valid_login(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || strcmp(s, "root") == 0 || s[0] == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || strchr("._-", *s) != NULL))
			return 0;
	return 1;
}

static char *
lower_dup(const char *s)
{
	char *d = xstrdup(s), *p;

	for (p = d; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

char *
config_expand(const char *tmpl)
{
	const char *s, *ins;
	size_t n = 1, o = 0, l;
	char *out;
	int pass;

	/* Measure, then fill: no fixed limit on what a template may become. */
	for (pass = 0; pass < 2; pass++) {
		out = pass == 0 ? NULL : xmalloc(n);
		for (s = tmpl; *s != '\0'; s++) {
			ins = NULL;
			if (s[0] == '%' && s[1] == 'U')
				ins = user_name();
			else if (s[0] == '%' && s[1] == 'H')
				ins = host_name();
			else if (s[0] == '%' && s[1] == '%')
				ins = "%";
			if (ins != NULL)
				s++;
			l = ins != NULL ? strlen(ins) : 1;
			if (pass == 0)
				n += l;
			else {
				memcpy(out + o, ins != NULL ? ins : s, l);
				o += l;
			}
		}
	}
	out[o] = '\0';
	return out;
}

static void
set_str(void *dst, char *s)
{
	char **p = dst;

	/* Every string may be a secret (password, client secret): wipe them all. */
	secret_free(*p);
	*p = s;
}

/*
 * Convert val for key k into *dst (the field), or only check it when dst is NULL.
 * An empty value means the built-in default. Returns 0, or -1 when val is bad.
 */
static int
conv(const struct keydef *k, const char *val, void *dst)
{
	char *s = NULL;
	uint64_t u;
	int i, rc = -1;

	if (*val == '\0' && k->def == NULL) {
		if (dst != NULL && is_string(k->type))
			set_str(dst, NULL);
		else if (dst != NULL && k->type == V_PORT)
			*(unsigned *)dst = 0;
		else if (dst != NULL)
			list_clear(k->type, dst);
		rc = 0;
		goto out;
	}
	if (*val == '\0')
		val = k->def;

	switch (k->type) {
	case V_STR:
		s = xstrdup(val);
		break;
	case V_PATH:
		if (val[0] == '/')
			s = xstrdup(val);
		else if (val[0] == '~' && val[1] == '/' && val[2] != '\0') {
			s = xmalloc(strlen(user_home()) + strlen(val));
			memcpy(s, user_home(), strlen(user_home()));
			memcpy(s + strlen(user_home()), val + 1, strlen(val));
		} else
			goto out;
		break;
	case V_HOST:
		if (!valid_host(val))
			goto out;
		s = xstrdup(val);
		break;
	case V_NAME:
		if (!config_name_ok(val))
			goto out;
		s = lower_dup(val);
		break;
	case V_FPR:
		if ((s = config_fingerprint(val)) == NULL)
			goto out;
		break;
	case V_AUTH:
		if ((i = pick(val, auth_names, NELEM(auth_names))) == -1)
			goto out;
		s = xstrdup(auth_names[i]);
		break;
	case V_URL:
		if (!valid_url(val))
			goto out;
		s = xstrdup(val);
		break;
	case V_FROM:
		if (!no_space(val) || !valid_template(val))
			goto out;
		s = xstrdup(val);
		break;
	case V_NOTIFY:
		if (!valid_notify(val))
			goto out;
		s = lower_dup(val);
		break;
	case V_RET:
		if (strcasecmp(val, "full") != 0 && strcasecmp(val, "hdrs") != 0)
			goto out;
		s = lower_dup(val);
		break;
	case V_DOMAIN:
		if (!valid_template(val))
			goto out;
		s = config_expand(val);
		if (!valid_host(s)) {
			free(s);
			s = NULL;
			goto out;
		}
		break;
	case V_PORT:
		if (parse_uint(val, 1, 65535, &u) == -1)
			goto out;
		if (dst != NULL)
			*(unsigned *)dst = (unsigned)u;
		break;
	case V_RCPTS:
		if (parse_uint(val, 1, MAX_RECIPIENTS, &u) == -1)
			goto out;
		if (dst != NULL)
			*(unsigned *)dst = (unsigned)u;
		break;
	case V_TIMEOUT:
		if (parse_uint(val, 1, 3600, &u) == -1)
			goto out;
		if (dst != NULL)
			*(unsigned *)dst = (unsigned)u;
		break;
	case V_SIZE:
		if (streq_ci(val, "off"))
			u = 0;
		else if (parse_size(val, &u) == -1)
			goto out;
		if (dst != NULL)
			*(uint64_t *)dst = u;
		break;
	case V_DURATION:
		if (parse_duration(val, &u) == -1)
			goto out;
		if (dst != NULL)
			*(uint64_t *)dst = u;
		break;
	case V_LIMIT:
		if (streq_ci(val, "off") || strcmp(val, "0") == 0)
			u = 0;
		else if (parse_duration(val, &u) == -1 || u > MAX_SESSION_TIMEOUT)
			goto out;
		if (dst != NULL)
			*(uint64_t *)dst = u;
		break;
	case V_BOOL:
		if ((i = parse_bool(val)) == -1)
			goto out;
		if (dst != NULL)
			*(int *)dst = i;
		break;
	case V_FACILITY:
		if (parse_facility(val, &i) == -1)
			goto out;
		if (dst != NULL)
			*(int *)dst = i;
		break;
	case V_TLSVER:
		if (strcmp(val, "1.2") == 0)
			i = 12;
		else if (strcmp(val, "1.3") == 0)
			i = 13;
		else
			goto out;
		if (dst != NULL)
			*(int *)dst = i;
		break;
	case V_TLS:
		if ((i = pick(val, tls_names, NELEM(tls_names))) == -1)
			goto out;
		if (dst != NULL)
			*(enum tls_mode *)dst = (enum tls_mode)i;
		break;
	case V_OAUTH:
		if ((i = pick(val, oauth_names, NELEM(oauth_names))) == -1)
			goto out;
		if (dst != NULL)
			*(enum oauth_provider *)dst = (enum oauth_provider)i;
		break;
	case V_GRANT:
		if ((i = pick(val, grant_names, NELEM(grant_names))) == -1)
			goto out;
		if (dst != NULL)
			*(enum oauth_grant *)dst = (enum oauth_grant)i;
		break;
	case V_REWRITE:
		if ((i = pick(val, rewrite_names, NELEM(rewrite_names))) == -1)
			goto out;
		if (dst != NULL)
			*(enum rewrite_from *)dst = (enum rewrite_from)i;
		break;
	case V_LADDRS:
	case V_CIDRS:
	case V_GLOBS:
		if (conv_list(k->type, val, dst) == -1)
			goto out;
		break;
	case V_OWN:
		if ((i = pick(val, own_names, NELEM(own_names))) == -1)
			goto out;
		if (dst != NULL)
			*(enum listen_own *)dst = (enum listen_own)i;
		break;
	case V_LAUTH:
		if ((i = pick(val, lauth_names, NELEM(lauth_names))) == -1)
			goto out;
		if (dst != NULL)
			*(enum listen_auth *)dst = (enum listen_auth)i;
		break;
	case V_LRELAY:
		if (!config_name_ok(val))
			goto out;
		s = lower_dup(val);
		break;
	case V_COUNT:
		if (parse_uint(val, 1, 10000, &u) == -1)
			goto out;
		if (dst != NULL)
			*(unsigned *)dst = (unsigned)u;
		break;
	case V_LONGTIME:
		if (parse_uint(val, 1, 86400, &u) == -1)
			goto out;
		if (dst != NULL)
			*(unsigned *)dst = (unsigned)u;
		break;
	case V_RATE:
		if (streq_ci(val, "preset"))
			u = LIMIT_PRESET;
		else if (streq_ci(val, "off"))
			u = 0;
		else if (parse_uint(val, 1, MAX_SEND_LIMIT, &u) == -1)
			goto out;
		if (dst != NULL)
			*(uint64_t *)dst = u;
		break;
	case V_PRESET:
		if ((i = pick(val, preset_names, NELEM(preset_names))) == -1)
			goto out;
		if (dst != NULL)
			*(enum send_preset *)dst = (enum send_preset)i;
		break;
	case V_LOGIN:
		if (!valid_login(val))
			goto out;
		s = xstrdup(val);
		break;
	}
	if (is_string(k->type) && dst != NULL) {
		set_str(dst, s);
		s = NULL;
	}
	rc = 0;
out:
	secret_free(s);
	return rc;
}

static int
bad_value(struct err *e, const char *file, const char *sec, const struct keydef *k,
    const char *val)
{
	return err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: [%s] %s = %s: %s (accepted: %s)", file, sec,
	    k->name, val, vdesc[k->type].what, vdesc[k->type].accepted);
}

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t row[64];

	if (lb >= NELEM(row))
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			row[j] = cur;
			prev = tmp;
		}
	}
	return row[lb];
}

static int
unknown_key(struct err *e, const char *file, const char *sec, const char *key)
{
	const char *best = NULL;
	size_t i, d, bestd = 3;
	int in_listen = strcmp(sec, LISTEN_SECTION) == 0;

	for (i = 0; i < NELEM(keys); i++) {
		if ((keys[i].scope == SC_LISTEN) != in_listen)
			continue;
		d = edit_distance(key, keys[i].name);
		if (d < bestd) {
			bestd = d;
			best = keys[i].name;
		}
	}
	if (best != NULL)
		return err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: [%s] key '%s': unknown key "
		    "(see sendmail.conf(5)); did you mean '%s'?",
		    file, sec, key, best);
	return err_set(e, ERR_PERM, CAUSE_CONFIG,
	    "%s: [%s] key '%s': unknown key (see sendmail.conf(5))", file, sec, key);
}

static struct kv *
kv_find(struct kv *kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return &kv[i];
	return NULL;
}

/* Set key to val in the list: a later value replaces an earlier one. Takes val. */
static void
kv_put(struct kv **kv, size_t *n, const char *key, char *val, const char *file)
{
	struct kv *p = kv_find(*kv, *n, key);

	if (p == NULL) {
		*kv = xrealloc(*kv, (*n + 1) * sizeof(**kv));
		p = &(*kv)[(*n)++];
		p->key = xstrdup(key);
		p->val = NULL;
	}
	secret_free(p->val);
	p->val = val;
	p->file = file;
}

static void
kv_free(struct kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		secret_free(kv[i].val);
	}
	free(kv);
}

static void
section_clear(struct section *s)
{
	free(s->name);
	kv_free(s->kv, s->nkv);
	memset(s, 0, sizeof(*s));
}

static void
sections_free(struct section *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		section_clear(&s[i]);
	free(s);
}

static void
raw_free(struct raw *r)
{
	size_t i;

	for (i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	kv_free(r->defs, r->ndefs);
	kv_free(r->lst, r->nlst);
	sections_free(r->secs, r->nsecs);
	memset(r, 0, sizeof(*r));
}

/*
 * A literal password may only sit in a file that no other user can read. The one
 * group that may read it is the dedicated group a setgid installation runs as: that
 * group is how the binary reads the system file, and ordinary users are not in it.
 */
int
config_private(const struct stat *st)
{
	if ((st->st_mode & 007) != 0)
		return 0;
	if ((st->st_mode & 070) == 0)
		return 1;
	return priv_system() && st->st_gid == priv_group();
}

/* The keys whose value is itself a secret: a password, and OAuth2's client secret. */
static int
literal_secret(const char *key)
{
	return strcmp(key, "password") == 0 || strcmp(key, "oauth_client_secret") == 0;
}

/*
 * A literal secret in a file others can read: the fix for this install. In system mode
 * the file is the one every user's mailout reads through the group, so the group keeps it.
 */
int
config_too_open(struct err *e, const char *path, const char *sec, const char *key,
    const struct stat *st)
{
	const struct group *gr;
	int pw = strcmp(key, "password") == 0;

	if (priv_system() && (gr = getgrgid(priv_group())) != NULL)
		return err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: [%s] %s: the file can be read by other users (mode %04o); run "
		    "chown root:%s %s; chmod 640 %s%s",
		    path, sec, key, (unsigned)(st->st_mode & 07777), gr->gr_name, path, path,
		    pw ? ", or use password_file instead" : "");
	return err_set(e, ERR_PERM, CAUSE_CONFIG,
	    "%s: [%s] %s: the file can be read by other users (mode %04o); run chmod 600 %s%s",
	    path, sec, key, (unsigned)(st->st_mode & 07777), path,
	    pw ? ", or use password_command, password_file or the keyring instead" : "");
}

/* iniparser reports through a callback; keep its first message to find the line. */
static char ini_msg[512];

static int __attribute__((format(printf, 1, 2))) ini_error(const char *fmt, ...)
{
	va_list ap;

	if (ini_msg[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(ini_msg, sizeof(ini_msg), fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* Turn iniparser's "...in FILE (LINE)..." into our words, never quoting the line. */
static int
syntax_error(struct err *e, const char *path)
{
	static const char syn[] = "iniparser: syntax error in ";
	static const char longl[] = "iniparser: input line too long in ";
	const char *p = NULL, *what = "syntax error";
	unsigned long line = 0;

	if (strncmp(ini_msg, syn, sizeof(syn) - 1) == 0)
		p = ini_msg + sizeof(syn) - 1;
	else if (strncmp(ini_msg, longl, sizeof(longl) - 1) == 0) {
		p = ini_msg + sizeof(longl) - 1;
		what = "line too long";
	}
	if (p != NULL && strncmp(p, path, strlen(path)) == 0 &&
	    strncmp(p + strlen(path), " (", 2) == 0)
		for (p += strlen(path) + 2; *p >= '0' && *p <= '9' && line < 1000000; p++)
			line = line * 10 + (unsigned long)(*p - '0');
	explicit_bzero(ini_msg, sizeof(ini_msg));
	if (line > 0 && strcmp(what, "line too long") == 0)
		return err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: line %lu is too long (at most 1023 characters)", path, line);
	if (line > 0)
		return err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: syntax error on line %lu "
		    "(expected [section], key = value, or a comment)",
		    path, line);
	return err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: syntax error", path);
}

/*
 * The file's sections and keys, checked, in the order written: [defaults] into defs,
 * [listen] into lst, accounts into secs.
 */
static int
read_dict(dictionary *d, const char *path, const struct stat *st, struct kv **defs, size_t *ndefs,
    struct kv **lst, size_t *nlst, struct section **secs, size_t *nsecs, struct err *e)
{
	const char *k, *colon, *key;
	const struct keydef *kd;
	struct section *sec;
	/* Cut to one byte over the longest valid name: a cut name matches no section. */
	char secname[MAX_ACCOUNT_NAME + 2];
	size_t i, j, n;
	int rc = -1;

	for (i = 0; i < (size_t)d->size; i++) {
		if ((k = d->key[i]) == NULL)
			continue;
		if (d->val[i] == NULL) {
			/* A section; iniparser joins repeated ones. */
			if (strcmp(k, "defaults") == 0 || strcmp(k, LISTEN_SECTION) == 0)
				continue;
			if (!config_name_ok(k)) {
				err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: [%s]: %s (accepted: %s)",
				    path, k, vdesc[V_NAME].what, vdesc[V_NAME].accepted);
				goto out;
			}
			*secs = xrealloc(*secs, (*nsecs + 1) * sizeof(**secs));
			sec = &(*secs)[(*nsecs)++];
			memset(sec, 0, sizeof(*sec));
			sec->name = xstrdup(k);
			sec->file = path;
			continue;
		}
		colon = strchr(k, ':');
		n = colon != NULL ? (size_t)(colon - k) : 0;
		key = colon != NULL ? colon + 1 : k;
		if (n == 0) {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "%s: key '%s' is outside any "
			    "section (start with [defaults] or [account])",
			    path, key);
			goto out;
		}
		if (n >= sizeof(secname))
			n = sizeof(secname) - 1;
		memcpy(secname, k, n);
		secname[n] = '\0';
		if ((kd = find_key(key, strcmp(secname, LISTEN_SECTION) == 0)) == NULL) {
			unknown_key(e, path, secname, key);
			goto out;
		}
		sec = NULL;
		if (strcmp(secname, "defaults") != 0 && strcmp(secname, LISTEN_SECTION) != 0) {
			for (j = 0; j < *nsecs; j++)
				if (strcmp((*secs)[j].name, secname) == 0)
					sec = &(*secs)[j];
			if (sec == NULL) {
				/* Only a section name with a ':' in it gets here. */
				err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: [%s]: %s (accepted: %s)",
				    path, secname, vdesc[V_NAME].what, vdesc[V_NAME].accepted);
				goto out;
			}
			if (kd->scope == SC_GLOBAL) {
				err_set(e, ERR_PERM, CAUSE_CONFIG,
				    "%s: [%s] %s: allowed only in "
				    "[defaults], not in an account",
				    path, secname, key);
				goto out;
			}
		}
		/* One file serves every user: ~ would be whoever runs us, their files. */
		if (kd->type == V_PATH && priv_system() && d->val[i][0] == '~') {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "%s: [%s] %s: ~/ paths are not "
			    "allowed in system mode (the binary is setgid): write an absolute "
			    "path",
			    path, secname, key);
			goto out;
		}
		if (conv(kd, d->val[i], NULL) == -1) {
			bad_value(e, path, secname, kd, d->val[i]);
			goto out;
		}
		if (literal_secret(key) && d->val[i][0] != '\0' && !config_private(st)) {
			config_too_open(e, path, secname, key, st);
			goto out;
		}
		if (kd->scope == SC_LISTEN)
			kv_put(lst, nlst, key, xstrdup(d->val[i]), path);
		else if (sec == NULL)
			kv_put(defs, ndefs, key, xstrdup(d->val[i]), path);
		else
			kv_put(&sec->kv, &sec->nkv, key, xstrdup(d->val[i]), path);
	}
	rc = 0;
out:
	return rc;
}

/*
 * Read one file into r. A missing file is fine unless must_exist (-C). The checks on
 * the open file come first: iniparser would read a FIFO or /dev/zero without end.
 * with_group: the system file, opened holding the group of system mode (it may be
 * root:mailout 0640 when it holds a literal password); no other file ever is.
 */
static int
load_file(struct raw *r, const char *path, int must_exist, int with_group, struct err *e)
{
	struct kv *defs = NULL, *lst = NULL;
	struct section *secs = NULL, *merged = NULL;
	size_t ndefs = 0, nlst = 0, nsecs = 0, nmerged = 0, i, j;
	dictionary *d = NULL;
	const char *file;
	struct stat st;
	int fd, rc = -1;

	if (with_group)
		priv_raise();
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (with_group)
		priv_lower();
	if (fd == -1) {
		if ((errno == ENOENT || errno == ENOTDIR) && !must_exist)
			rc = 0;
		else
			err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: cannot open: %s", path,
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > MAX_CONFIG_FILE) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: larger than %d bytes: not a "
		    "configuration file",
		    path, MAX_CONFIG_FILE);
		goto out;
	}

	if (r->nfiles == NFILES) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "%s: too many configuration files", path);
		goto out;
	}
	r->files[r->nfiles++] = xstrdup(path);
	file = r->files[r->nfiles - 1];

	ini_msg[0] = '\0';
	iniparser_set_error_callback(ini_error);
	/* iniparser opens the file again by name; it reads and parses with the group down. */
	if (with_group)
		priv_raise();
	d = iniparser_load(path);
	if (with_group)
		priv_lower();
	iniparser_set_error_callback(NULL);
	if (d == NULL) {
		syntax_error(e, file);
		goto out;
	}
	explicit_bzero(ini_msg, sizeof(ini_msg));
	if (read_dict(d, file, &st, &defs, &ndefs, &lst, &nlst, &secs, &nsecs, e) == -1)
		goto out;

	for (i = 0; i < ndefs; i++) {
		kv_put(&r->defs, &r->ndefs, defs[i].key, defs[i].val, defs[i].file);
		defs[i].val = NULL;
	}
	for (i = 0; i < nlst; i++) {
		kv_put(&r->lst, &r->nlst, lst[i].key, lst[i].val, lst[i].file);
		lst[i].val = NULL;
	}
	/* This file's accounts come first: the more specific file wins selection too. */
	merged = xcalloc(nsecs + r->nsecs, sizeof(*merged));
	for (i = 0; i < nsecs; i++)
		merged[nmerged++] = secs[i];
	nsecs = 0;
	for (i = 0; i < r->nsecs; i++) {
		for (j = 0; j < nmerged; j++)
			if (strcmp(merged[j].name, r->secs[i].name) == 0)
				break;
		if (j < nmerged)
			section_clear(&r->secs[i]);
		else
			merged[nmerged++] = r->secs[i];
	}
	free(r->secs);
	r->secs = merged;
	r->nsecs = nmerged;
	merged = NULL;
	rc = 0;
out:
	if (d != NULL) {
		/* The dictionary may hold a password: wipe it before iniparser frees it. */
		for (i = 0; i < (size_t)d->size; i++)
			if (d->val[i] != NULL)
				explicit_bzero(d->val[i], strlen(d->val[i]));
		iniparser_freedict(d);
	}
	kv_free(defs, ndefs);
	kv_free(lst, nlst);
	sections_free(secs, nsecs);
	free(merged);
	if (fd != -1)
		close(fd);
	return rc;
}

static void *
field(void *base, const struct keydef *k)
{
	return (char *)base + k->off;
}

static int
apply(void *base, const struct keydef *k, const struct kv *from, const char *file, const char *sec,
    struct err *e)
{
	const char *val = from != NULL ? from->val : "";

	if (conv(k, val, field(base, k)) == -1)
		return bad_value(e, from != NULL ? from->file : file, sec, k, val);
	return 0;
}

static int
build_globals(struct config *cfg, struct raw *r, struct err *e)
{
	size_t i;
	int rc = -1;

	for (i = 0; i < NELEM(keys); i++)
		if (keys[i].scope == SC_GLOBAL &&
		    apply(cfg, &keys[i], kv_find(r->defs, r->ndefs, keys[i].name), "(built-in)",
			"defaults", e) == -1)
			goto out;
	rc = 0;
out:
	return rc;
}

static int
missing(struct err *e, const struct account *a, const char *key, const char *why)
{
	return err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: [%s] %s: missing (%s)", a->file, a->name,
	    key, why);
}

/*
 * send_limits = auto: the provider's caps for the accounts mailout knows, by oauth or by
 * relay (Gmail's consumer caps for a gmail.com or googlemail.com mailbox, else
 * Workspace's). A limit set on its own (a count or off) wins over the preset.
 */
static void
set_limits(struct account *a)
{
	const char *at = a->user != NULL ? strrchr(a->user, '@') : NULL;
	enum send_preset p = a->send_limits;
	size_t i;

	if (p == PRESET_AUTO) {
		if (a->oauth == OAUTH_MICROSOFT ||
		    (a->host != NULL && streq_ci(a->host, "smtp.office365.com")))
			p = PRESET_MICROSOFT;
		else if (a->oauth == OAUTH_GOOGLE ||
		    (a->host != NULL && streq_ci(a->host, "smtp.gmail.com")))
			p = at != NULL &&
				(streq_ci(at, "@gmail.com") || streq_ci(at, "@googlemail.com"))
			    ? PRESET_GMAIL
			    : PRESET_WORKSPACE;
	}
	a->send_limits_used = p;
	for (i = 0; i < NLIMITS; i++)
		if (a->limits[i] == LIMIT_PRESET)
			a->limits[i] = presets[p][i];
}

static int __attribute__((format(printf, 3, 4)))
grant_error(struct err *e, const struct account *a, const char *fmt, ...)
{
	char text[MAX_ERROR_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: [%s] %s", a->file, a->name, text);
}

/*
 * The keys each oauth_grant needs, and no key of another grant: a secret file or a key
 * that is set but not used would leave the admin guessing which one is in effect.
 */
static int
check_grant(const struct account *a, struct err *e)
{
	int secret = a->oauth_client_secret != NULL || a->oauth_client_secret_file != NULL;
	int cert = a->oauth_client_certificate != NULL || a->oauth_client_key != NULL;
	int rc = -1;

	if (a->oauth == OAUTH_NONE &&
	    (a->oauth_grant != GRANT_AUTHCODE || a->oauth_client_secret_file != NULL || cert ||
		a->oauth_service_account != NULL)) {
		grant_error(e, a,
		    "oauth_grant, oauth_client_secret_file, oauth_client_certificate, "
		    "oauth_client_key and oauth_service_account need oauth = google, microsoft "
		    "or custom");
		goto out;
	}
	if (a->oauth_client_secret != NULL && a->oauth_client_secret_file != NULL) {
		grant_error(e, a,
		    "oauth_client_secret and oauth_client_secret_file: give one, not both");
		goto out;
	}
	if ((a->oauth_client_certificate == NULL) != (a->oauth_client_key == NULL)) {
		missing(e, a,
		    a->oauth_client_key == NULL ? "oauth_client_key" : "oauth_client_certificate",
		    "oauth_client_certificate and oauth_client_key go together: the "
		    "certificate registered with the application and its private key");
		goto out;
	}
	if (a->oauth_grant != GRANT_CLIENT && cert) {
		grant_error(e, a,
		    "oauth_client_certificate and oauth_client_key are for oauth_grant = "
		    "client_credentials");
		goto out;
	}
	if (a->oauth_grant != GRANT_CLIENT && a->oauth_client_secret_file != NULL) {
		grant_error(e, a,
		    "oauth_client_secret_file is for oauth_grant = client_credentials");
		goto out;
	}
	if (a->oauth_grant != GRANT_JWT && a->oauth_service_account != NULL) {
		grant_error(e, a, "oauth_service_account is for oauth_grant = jwt_bearer");
		goto out;
	}
	if (a->oauth_grant == GRANT_CLIENT) {
		if (secret == cert) {
			grant_error(e, a,
			    "oauth_grant = client_credentials needs either "
			    "oauth_client_secret_file (the application's client secret) or "
			    "oauth_client_certificate and oauth_client_key, not %s",
			    secret ? "both" : "neither");
			goto out;
		}
		/* App-only tokens are issued by the tenant itself, never by /common. */
		if (a->oauth == OAUTH_MICROSOFT && a->oauth_token_url == NULL &&
		    (a->oauth_tenant == NULL || strcmp(a->oauth_tenant, "common") == 0 ||
			strcmp(a->oauth_tenant, "organizations") == 0 ||
			strcmp(a->oauth_tenant, "consumers") == 0)) {
			missing(e, a, "oauth_tenant",
			    "oauth_grant = client_credentials needs the directory (tenant) ID or "
			    "the tenant's domain, not common, organizations or consumers");
			goto out;
		}
	}
	if (a->oauth_grant == GRANT_JWT) {
		if (a->oauth_service_account == NULL) {
			missing(e, a, "oauth_service_account",
			    "oauth_grant = jwt_bearer needs the service account's JSON key file");
			goto out;
		}
		if (secret) {
			grant_error(e, a,
			    "oauth_grant = jwt_bearer signs with the service account's key: "
			    "oauth_client_secret and oauth_client_secret_file are not used");
			goto out;
		}
	}
	rc = 0;
out:
	return rc;
}

/* Built-in defaults, then [defaults], then the section's own keys. */
static int
build_account(struct account *a, const struct section *s, struct raw *r, struct err *e)
{
	const struct kv *own, *def;
	size_t i;
	int rc = -1;

	a->name = xstrdup(s->name);
	a->file = xstrdup(s->file);
	for (i = 0; i < NELEM(keys); i++) {
		if (keys[i].scope != SC_ACCOUNT)
			continue;
		own = kv_find(s->kv, s->nkv, keys[i].name);
		def = kv_find(r->defs, r->ndefs, keys[i].name);
		if (apply(a, &keys[i], own != NULL ? own : def, s->file,
			own != NULL || def == NULL ? s->name : "defaults", e) == -1)
			goto out;
	}
	own = kv_find(s->kv, s->nkv, "from");
	a->from_explicit = own != NULL && own->val[0] != '\0';
	/* "fallback = backup" in [defaults] is meant for the other accounts, not backup. */
	if (kv_find(s->kv, s->nkv, "fallback") == NULL && a->fallback != NULL &&
	    strcmp(a->fallback, a->name) == 0)
		set_str(&a->fallback, NULL);

	if (a->host == NULL && oauth_hosts[a->oauth] != NULL)
		a->host = xstrdup(oauth_hosts[a->oauth]);
	/* Port 465 speaks TLS from the first byte (RFC 8314): with tls unset, implicit. */
	if (a->port == 465 && kv_find(s->kv, s->nkv, "tls") == NULL &&
	    kv_find(r->defs, r->ndefs, "tls") == NULL)
		a->tls = TLS_IMPLICIT;
	if (a->port == 0)
		a->port = a->tls == TLS_IMPLICIT ? 465 : a->tls == TLS_OFF ? 25 : 587;
	if (a->domain == NULL)
		a->domain = xstrdup(host_name());
	set_limits(a);

	if (a->host == NULL) {
		missing(e, a, "host",
		    "every account needs one, unless oauth is google or "
		    "microsoft");
		goto out;
	}
	if (a->tls_cert_file != NULL && a->tls_key_file == NULL) {
		missing(e, a, "tls_key_file", "tls_cert_file needs it: give both or neither");
		goto out;
	}
	if (a->tls_key_file != NULL && a->tls_cert_file == NULL) {
		missing(e, a, "tls_cert_file", "tls_key_file needs it: give both or neither");
		goto out;
	}
	if (a->oauth == OAUTH_CUSTOM && a->oauth_token_url == NULL) {
		missing(e, a, "oauth_token_url", "oauth = custom needs it");
		goto out;
	}
	/* Without the mailbox address no token can be used: nothing would log in. */
	if (a->oauth != OAUTH_NONE && a->user == NULL) {
		missing(e, a, "user",
		    "oauth needs the mailbox address, e.g. user = you@gmail.com");
		goto out;
	}
	if (a->oauth != OAUTH_NONE && a->oauth_client_id == NULL && a->oauth_grant != GRANT_JWT) {
		missing(e, a, "oauth_client_id",
		    "oauth needs the client ID of the application "
		    "registered with the provider");
		goto out;
	}
	if (check_grant(a, e) == -1)
		goto out;
	/*
	 * System mode has no keyring: the tokens are the group's, in its state directory
	 * (root:mailout 2770), where every user's mailout refreshes them and no user reads them.
	 */
	if (a->oauth != OAUTH_NONE && priv_system() &&
	    (a->oauth_token_file == NULL || a->oauth_token_file[0] == '\0')) {
		free(a->oauth_token_file);
		if ((a->oauth_token_file = path_fmt(CONFIG_STATE_DIR "/oauth2-%s.json",
			 a->name)) == NULL) {
			missing(e, a, "oauth_token_file",
			    "the default under " CONFIG_STATE_DIR " would be too long");
			goto out;
		}
	}
	rc = 0;
out:
	return rc;
}

/* A [listen] problem, in the file that has the section (the last one that set a key). */
static int __attribute__((format(printf, 3, 4)))
listen_error(struct err *e, const struct raw *r, const char *fmt, ...)
{
	char text[MAX_ERROR_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: [" LISTEN_SECTION "] %s",
	    r->nlst > 0 ? r->lst[r->nlst - 1].file : "sendmail.conf", text);
}

/*
 * [listen]: built-in defaults, then the keys of every file, then the rules that join
 * keys. Whether a listening address is loopback is send/listen.c's to judge, once names
 * are resolved.
 */
static int
build_listen(struct config *cfg, struct raw *r, struct err *e)
{
	struct listen_config *l = &cfg->listen;
	size_t i;
	int rc = -1;

	for (i = 0; i < NELEM(keys); i++)
		if (keys[i].scope == SC_LISTEN &&
		    apply(l, &keys[i], kv_find(r->lst, r->nlst, keys[i].name), "(built-in)",
			LISTEN_SECTION, e) == -1)
			goto out;
	l->addrs_default = kv_find(r->lst, r->nlst, "address") == NULL;
	if (l->addrs.n == 0) {
		listen_error(e, r,
		    "address: empty (give the addresses to listen on, or leave "
		    "the key out for 127.0.0.1 and ::1)");
		goto out;
	}
	if (strcmp(l->account, "by-sender") == 0)
		l->relay = RELAY_BY_SENDER;
	else if (strcmp(l->account, "by-user") == 0)
		l->relay = RELAY_BY_USER;
	else if (config_find(cfg, l->account) != NULL)
		l->relay = RELAY_FIXED;
	else {
		listen_error(e, r,
		    "account = %s: no such account (accepted: by-sender, "
		    "by-user, or an account's name)",
		    l->account);
		goto out;
	}
	if ((l->tls_cert_file == NULL) != (l->tls_key_file == NULL)) {
		listen_error(e, r, "%s: missing (%s needs it: give both or neither)",
		    l->tls_cert_file == NULL ? "tls_cert_file" : "tls_key_file",
		    l->tls_cert_file == NULL ? "tls_key_file" : "tls_cert_file");
		goto out;
	}
	if ((l->user == NULL) != (l->password_file == NULL)) {
		listen_error(e, r,
		    "%s: missing (%s needs it: the one user's name and the file "
		    "with its password)",
		    l->user == NULL ? "user" : "password_file",
		    l->user == NULL ? "password_file" : "user");
		goto out;
	}
	if (l->auth == LAUTH_REQUIRED && l->users_file == NULL && l->user == NULL) {
		listen_error(e, r,
		    "auth = required: no users (set users_file, or user and "
		    "password_file)");
		goto out;
	}
	if (l->auth == LAUTH_OFF && (l->users_file != NULL || l->user != NULL)) {
		listen_error(e, r,
		    "%s is set but auth = off: nobody would be asked for a "
		    "password (set auth = required, or remove it)",
		    l->users_file != NULL ? "users_file" : "user");
		goto out;
	}
	if (l->relay == RELAY_BY_USER && l->auth != LAUTH_REQUIRED) {
		listen_error(e, r,
		    "account = by-user needs auth = required (the account is "
		    "the name a client logs in with)");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* Every fallback names another account, and following them never comes back. */
static int
check_fallbacks(struct config *cfg, struct err *e)
{
	const struct account *a, *f;
	struct buf path;
	size_t i, steps;
	int loop, r, rc = -1;

	buf_init(&path, MAX_ERROR_TEXT);
	for (i = 0; i < cfg->naccounts; i++) {
		a = &cfg->accounts[i];
		if (a->fallback == NULL)
			continue;
		if (strcmp(a->fallback, a->name) == 0) {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "%s: [%s] fallback = %s: an account "
			    "cannot fall back to itself",
			    a->file, a->name, a->fallback);
			goto out;
		}
		if (config_find(cfg, a->fallback) == NULL) {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "%s: [%s] fallback = %s: no such "
			    "account",
			    a->file, a->name, a->fallback);
			goto out;
		}
	}
	for (i = 0; i < cfg->naccounts; i++) {
		a = &cfg->accounts[i];
		f = a;
		loop = 0;
		for (steps = 0; steps < cfg->naccounts && f->fallback != NULL; steps++) {
			f = config_find(cfg, f->fallback);
			if (f == a) {
				loop = 1;
				break;
			}
		}
		if (!loop)
			continue;
		/* A cycle through a: spell it out so the user sees which link to cut. */
		buf_reset(&path);
		r = buf_addstr(&path, a->name);
		f = a;
		do {
			f = config_find(cfg, f->fallback);
			r |= buf_addf(&path, " -> %s", f->name);
		} while (f != a);
		err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: [%s] fallback = %s: fallback loop (%s)",
		    a->file, a->name, a->fallback, r == 0 ? buf_cstr(&path) : "too long to show");
		goto out;
	}
	rc = 0;
out:
	buf_free(&path);
	return rc;
}

char *
config_user_path(struct err *e)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = user_home();
	char *p;

	/* The XDG spec says to ignore a relative XDG_CONFIG_HOME. */
	if (xdg != NULL && xdg[0] == '/')
		p = path_fmt("%s/mailout/sendmail.conf", xdg);
	else
		p = path_fmt("%s/.config/mailout/sendmail.conf",
		    strcmp(home, "/") == 0 ? "" : home);
	if (p == NULL)
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "the user's sendmail.conf has a name too long "
		    "to open (%s is %zu bytes)",
		    xdg != NULL && xdg[0] == '/' ? "XDG_CONFIG_HOME" : "the home directory",
		    strlen(xdg != NULL && xdg[0] == '/' ? xdg : home));
	return p;
}

int
config_load(struct config *cfg, const char *sysfile, const char *cfile, struct err *e)
{
	struct raw r;
	struct buf files;
	const struct kv *acc;
	char *ufile = NULL;
	size_t i;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	memset(&r, 0, sizeof(r));
	buf_init(&files, NFILES * (MAX_PATH + 2));

	/* System mode serves every user from the system file: theirs cannot name its secrets. */
	if (cfile != NULL && priv_restricted()) {
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "-C %s: not allowed in system mode (the binary "
		    "is setgid) for users other than root; the system file %s is used",
		    cfile, sysfile != NULL ? sysfile : config_system_path());
		goto out;
	}
	if (sysfile != NULL && load_file(&r, sysfile, 0, 1, e) == -1)
		goto out;
	if (cfile != NULL) {
		if (load_file(&r, cfile, 1, 0, e) == -1)
			goto out;
	} else if (!priv_restricted()) {
		if ((ufile = config_user_path(e)) == NULL)
			goto out;
		if ((sysfile == NULL || strcmp(ufile, sysfile) != 0) &&
		    load_file(&r, ufile, 0, 0, e) == -1)
			goto out;
	}

	if (build_globals(cfg, &r, e) == -1)
		goto out;
	cfg->accounts = xcalloc(r.nsecs, sizeof(*cfg->accounts));
	for (i = 0; i < r.nsecs; i++) {
		cfg->naccounts++;
		if (build_account(&cfg->accounts[i], &r.secs[i], &r, e) == -1)
			goto out;
	}
	if (build_listen(cfg, &r, e) == -1)
		goto out;
	if (check_fallbacks(cfg, e) == -1)
		goto out;
	if (cfg->default_account != NULL && config_find(cfg, cfg->default_account) == NULL) {
		acc = kv_find(r.defs, r.ndefs, "account");
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: [defaults] account = %s: no such "
		    "account",
		    acc != NULL ? acc->file : "?", cfg->default_account);
		goto out;
	}

	/* Each name was opened, so each fits in MAX_PATH: the list always fits. */
	if (buf_addjoin(&files, r.files, r.nfiles, ", ") == -1 ||
	    (cfg->files_read = buf_steal(&files)) == NULL) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE,
		    "the configuration files' names are too "
		    "long");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		config_free(cfg);
	raw_free(&r);
	buf_free(&files);
	free(ufile);
	return rc;
}

const struct account *
config_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < cfg->naccounts; i++)
		if (strcasecmp(cfg->accounts[i].name, name) == 0)
			return &cfg->accounts[i];
	return NULL;
}

/* user+tag@dom -> user@dom; NULL when there is no tag. */
static char *
strip_tag(const char *addr)
{
	const char *plus = strchr(addr, '+'), *at = strrchr(addr, '@');
	size_t n;
	char *s;

	if (plus == NULL || (at != NULL && plus > at))
		return NULL;
	if (at == NULL)
		at = addr + strlen(addr);
	n = (size_t)(plus - addr);
	s = xmalloc(n + strlen(at) + 1);
	memcpy(s, addr, n);
	memcpy(s + n, at, strlen(at) + 1);
	return s;
}

static int
is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Exact addresses first, then patterns: joe@x beats *@x whatever the order. */
static const struct account *
match_sender(const struct config *cfg, const char *sender)
{
	const struct account *found = NULL, *a;
	char *stripped = strip_tag(sender), *from;
	size_t i;
	int pass, hit;

	for (pass = 0; pass < 2 && found == NULL; pass++)
		for (i = 0; i < cfg->naccounts && found == NULL; i++) {
			a = &cfg->accounts[i];
			if (!a->from_explicit || a->from == NULL || is_glob(a->from) != pass)
				continue;
			from = config_expand(a->from);
			if (pass == 0)
				hit = strcasecmp(from, sender) == 0 ||
				    (stripped != NULL && strcasecmp(from, stripped) == 0);
			else
				hit = fnmatch(from, sender, FNM_CASEFOLD) == 0 ||
				    (stripped != NULL &&
					fnmatch(from, stripped, FNM_CASEFOLD) == 0);
			free(from);
			if (hit)
				found = a;
		}
	free(stripped);
	return found;
}

/* The accounts' names, comma-separated, for an error message. */
static const char *
list_accounts(const struct config *cfg, struct buf *b)
{
	size_t i;
	int r = 0;

	for (i = 0; i < cfg->naccounts; i++)
		r |= buf_addf(b, "%s%s", i > 0 ? ", " : "", cfg->accounts[i].name);
	return r == 0 ? buf_cstr(b) : "too many to list";
}

const struct account *
config_select(const struct config *cfg, const char *name, const char *sender, struct err *e)
{
	const struct account *a = NULL;
	struct buf list;

	buf_init(&list, MAX_ERROR_TEXT);
	if (name != NULL) {
		if ((a = config_find(cfg, name)) != NULL)
			goto out;
		if (cfg->naccounts == 0)
			err_set(e, ERR_PERM, CAUSE_CONFIG, "account '%s' is not defined: %s", name,
			    cfg->files_read == NULL || cfg->files_read[0] == '\0'
				? "no configuration file was found"
				: "no accounts are configured");
		else {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "account '%s' is not defined "
			    "(accounts: %s)",
			    name, list_accounts(cfg, &list));
		}
		goto out;
	}
	if (sender != NULL && sender[0] != '\0' && (a = match_sender(cfg, sender)) != NULL)
		goto out;
	if ((a = config_find(cfg, cfg->default_account)) != NULL)
		goto out;
	if (cfg->naccounts == 1) {
		a = &cfg->accounts[0];
		goto out;
	}
	if (cfg->naccounts == 0) {
		if (cfg->files_read == NULL || cfg->files_read[0] == '\0')
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "no account is configured: neither %s "
			    "nor the user's ~/.config/mailout/sendmail.conf exists; create one "
			    "with an account (see sendmail.conf(5))",
			    config_system_path());
		else
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "no account is configured in %s "
			    "(see sendmail.conf(5))",
			    cfg->files_read);
		goto out;
	}
	if (sender != NULL && sender[0] != '\0')
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "cannot choose an account for sender "
		    "<%s>: no account's from matches it, [defaults] sets no account, and "
		    "there are %zu accounts (%s); use -a NAME",
		    sender, cfg->naccounts, list_accounts(cfg, &list));
	else
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "cannot choose an account: no sender to "
		    "match, [defaults] sets no account, and there are %zu accounts (%s); "
		    "use -a NAME",
		    cfg->naccounts, list_accounts(cfg, &list));
out:
	buf_free(&list);
	return a;
}

void
config_free(struct config *cfg)
{
	struct account *a;
	size_t i, k;

	for (i = 0; i < cfg->naccounts; i++) {
		a = &cfg->accounts[i];
		for (k = 0; k < NELEM(keys); k++)
			if (keys[k].scope == SC_ACCOUNT && is_string(keys[k].type))
				set_str(field(a, &keys[k]), NULL);
		free(a->name);
		free(a->file);
	}
	free(cfg->accounts);
	for (k = 0; k < NELEM(keys); k++) {
		if (keys[k].scope == SC_GLOBAL && is_string(keys[k].type))
			set_str(field(cfg, &keys[k]), NULL);
		else if (keys[k].scope == SC_LISTEN && is_string(keys[k].type))
			set_str(field(&cfg->listen, &keys[k]), NULL);
		else if (keys[k].scope == SC_LISTEN)
			list_clear(keys[k].type, field(&cfg->listen, &keys[k]));
	}
	free(cfg->files_read);
	memset(cfg, 0, sizeof(*cfg));
}

/* The test build names another file, so that tests never read /etc (hooks.h). */
const char *
config_system_path(void)
{
	return hooks_sysconf(SYSCONFDIR "/sendmail.conf");
}

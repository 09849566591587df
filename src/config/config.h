/*
 * config.h: sendmail.conf, validated and copied out of iniparser into owned structs.
 *
 * Files: the system file (SYSCONFDIR/sendmail.conf), then the user file
 * ($XDG_CONFIG_HOME/mailout/sendmail.conf, else ~/.config/mailout/sendmail.conf, home from
 * getpwuid), or the file named by -C instead of the user file. An account in a later file
 * replaces the account of the same name; [defaults] keys in a later file override earlier
 * ones. Every account inherits the [defaults] keys it does not set. Missing files are
 * fine (no file at all is an error only when an account is needed).
 *
 * System mode (priv.h: the binary is setgid): the system file is opened holding the
 * group; for callers other than root it is the only file (no user file; -C is refused,
 * CAUSE_USAGE); ~/ paths are refused in every file (they would be each caller's home).
 *
 * Stored forms: tls_fingerprint is "sha256:" + 64 lower-case hex digits; domain is
 * expanded; auth, dsn_notify and dsn_return are lower case; paths are absolute (~/
 * expanded with the home of getuid()).
 */
#ifndef MAILOUT_CONFIG_H
#define MAILOUT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/cidr.h"

struct err;
struct stat;

enum tls_mode { TLS_OFF, TLS_OPPORTUNISTIC, TLS_STARTTLS, TLS_IMPLICIT };
enum rewrite_from { REWRITE_NEVER, REWRITE_LOCAL, REWRITE_ALWAYS };
enum oauth_provider { OAUTH_NONE, OAUTH_GOOGLE, OAUTH_MICROSOFT, OAUTH_CUSTOM };
/*
 * oauth_grant: how the access token is got. AUTHCODE: a person's refresh token (from
 * --authorize); CLIENT: the client credentials grant (a secret file or a certificate
 * and key, private_key_jwt); JWT: a service account's signed assertion (RFC 7523).
 */
enum oauth_grant { GRANT_AUTHCODE, GRANT_CLIENT, GRANT_JWT };

/*
 * Sending limits of an account (send/rate.h enforces them): messages per second, minute,
 * hour and day, recipients per day. 0: none. send_limits picks a provider's published
 * caps (auto: by oauth and relay); each max_* key overrides its own.
 */
enum send_limit { LIMIT_SECOND, LIMIT_MINUTE, LIMIT_HOUR, LIMIT_DAY, LIMIT_RCPT_DAY, NLIMITS };
enum send_preset { PRESET_AUTO, PRESET_OFF, PRESET_MICROSOFT, PRESET_GMAIL, PRESET_WORKSPACE };
/* A limit left to the preset, while the configuration is read. */
#define LIMIT_PRESET UINT64_MAX

struct account {
	char *name;
	char *file; /* where it was defined, for messages */

	char *host;
	unsigned port; /* resolved default: 587 starttls, 465 implicit, 25 off */
	enum tls_mode tls;
	int tls_verify;
	char *tls_ca_file;
	char *tls_fingerprint;
	char *tls_cert_file;
	char *tls_key_file;
	int tls_min_version; /* 12 or 13 */
	char *tls_server_name;

	char *auth; /* auto | off | plain | login | ... (lower case) */
	char *user;
	char *password; /* literal; only from a file no other user can read */
	char *password_command;
	char *password_file;
	int allow_plaintext_auth;

	enum oauth_provider oauth;
	char *oauth_client_id;
	char *oauth_client_secret;
	char *oauth_tenant;
	char *oauth_auth_url;
	char *oauth_token_url;
	char *oauth_device_url;
	char *oauth_scope;
	char *oauth_token_file;
	enum oauth_grant oauth_grant;
	char *oauth_client_secret_file;
	char *oauth_client_certificate;
	char *oauth_client_key;
	char *oauth_service_account;

	char *from; /* envelope sender template (%U, %H) */
	int from_explicit; /* set in the account's own section: used for selection */
	char *from_name;
	enum rewrite_from rewrite_from;
	uint64_t max_message_size; /* 0 = no limit of ours (default 35M) */
	unsigned max_recipients;
	int address_strict;
	unsigned timeout; /* seconds for each reply, whole */
	uint64_t session_timeout; /* seconds for a message's session; 0: none */
	char *fallback;
	char *dsn_notify;
	char *dsn_return;
	char *domain; /* EHLO name, Message-ID domain */
	enum send_preset send_limits; /* as written */
	enum send_preset send_limits_used; /* auto resolved: the caps applied */
	uint64_t limits[NLIMITS]; /* enum send_limit; 0: none */
};

/* [listen]: the SMTP listener of `mailout -bd` (send/listen.h says how each is used). */
enum listen_own { OWN_NORMAL, OWN_BLOCK, OWN_SAFE };
enum listen_auth { LAUTH_OFF, LAUTH_REQUIRED };
enum listen_relay { RELAY_BY_SENDER, RELAY_BY_USER, RELAY_FIXED };

struct listen_addr {
	char *host; /* a name or an address, IPv6 without brackets */
	unsigned port; /* 0: [listen] port */
};

/* Lists as written in one value, in order. */
struct listen_addrs {
	struct listen_addr *v;
	size_t n;
};
struct cidr_list {
	struct cidr *v;
	size_t n;
};
struct str_list {
	char **v;
	size_t n;
};

struct listen_config {
	struct listen_addrs addrs; /* address = (default: 127.0.0.1 and ::1) */
	int addrs_default; /* address = was not set */
	unsigned port;
	unsigned max_connections; /* per listening address */
	unsigned max_connections_per_ip;
	unsigned max_recipients;
	uint64_t max_message_size; /* 0: no limit */
	unsigned command_timeout; /* seconds */
	unsigned session_timeout; /* seconds */
	struct cidr_list allow_from; /* empty: no range control */
	struct cidr_list safe_ips;
	enum listen_own own_addresses;
	enum listen_auth auth;
	char *users_file; /* name:hash[:senders] lines */
	char *user; /* the one user, with password_file */
	char *password_file;
	struct str_list senders; /* envelope senders allowed (globs); none: any */
	enum listen_relay relay; /* account = by-sender | by-user | NAME */
	char *account; /* RELAY_FIXED: the account's name */
	char *run_as; /* the user the listener runs as once bound */
	char *tls_cert_file; /* with tls_key_file: STARTTLS is offered */
	char *tls_key_file;
	int tls_min_version; /* 12 or 13 */
	char *hostname; /* in the greeting and EHLO reply */
};

struct config {
	char *default_account; /* [defaults] account = */
	char *default_domain;
	char *aliases;
	int queue; /* on/off */
	char *queue_dir; /* NULL: the default for the mode */
	uint64_t queue_lifetime; /* seconds */
	int syslog_facility; /* LOG_MAIL etc., or -1 for off */
	char *logfile;
	int rewrite_to;
	struct account *accounts;
	size_t naccounts;
	char *files_read; /* "a, b": for messages */
	struct listen_config listen; /* [listen], defaults filled in */
};

/*
 * Load the system file and the user file (or cfile for -C, which must exist and replaces
 * the user file). Strict: an unknown section key, a bad value, a missing required key, a
 * literal password in a file readable by group or others, a fallback naming no account,
 * is CAUSE_CONFIG with "FILE: [section] key: problem (accepted: ...)".
 * Returns 0 or -1.
 */
int config_load(struct config *cfg, const char *sysfile, const char *cfile, struct err *e);

/*
 * Choose the account: by name (-a) if given; else the first account whose explicit
 * `from` matches sender (case-insensitive; user+tag@dom matches user@dom; glob with * ?);
 * else [defaults] account; else the only account if there is exactly one. Returns
 * NULL with CAUSE_CONFIG when none fits, naming what was tried.
 */
const struct account *config_select(const struct config *cfg, const char *name, const char *sender,
    struct err *e);
const struct account *config_find(const struct config *cfg, const char *name);

/* The envelope sender from a template (%U user, %H host, %% percent): owned by caller. */
char *config_expand(const char *tmpl);

void config_free(struct config *cfg);

/*
 * An account name (and a listener user's): letters, digits, . _ - @ +, at most
 * MAX_ACCOUNT_NAME; config_name_char says it for one character.
 */
int config_name_ok(const char *s);
int config_name_char(int c);

/*
 * A certificate fingerprint as tls_fingerprint takes it (sha256:AA:BB:... or sha256:AABB...):
 * a new string, "sha256:" and 64 lowercase hex digits, or NULL when it is not one.
 */
char *config_fingerprint(const char *s);

/*
 * Literal secrets (password, oauth_client_secret) in a config file. config_private says
 * whether a file of this owner and mode may hold one: no other user can read it, and in
 * system mode the install's group may. config_too_open sets e to the refusal for key in
 * [section] of path, naming the fix (chmod 600; in system mode chown root:GROUP, chmod
 * 640), and returns -1.
 */
int config_private(const struct stat *st);
int config_too_open(struct err *e, const char *path, const char *section, const char *key,
    const struct stat *st);

/*
 * The system config file: SYSCONFDIR "/sendmail.conf" (SYSCONFDIR set by the build); the
 * test build may name another (hooks.h).
 */
const char *config_system_path(void);

/*
 * The user's file: $XDG_CONFIG_HOME/mailout/sendmail.conf, else
 * ~/.config/mailout/sendmail.conf (home from getpwuid). The caller frees it. NULL with
 * err (PERM CAUSE_CONFIG) when the name would be too long.
 */
char *config_user_path(struct err *e);

#endif

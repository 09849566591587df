/*
 * cred.h: where an account's secret comes from, in this order: password_command,
 * password_file, the literal password (config.c has checked that file's permissions),
 * then the system keyring (keyring.h) under host, service "smtp" and user.
 *
 * Every secret returned is a NUL-terminated string without CR or LF that the caller
 * wipes and frees with secret_free.
 *
 * System mode (priv.h): password_file is opened holding the group; password_command is
 * refused for callers other than root, and the keyring for everyone, with CAUSE_CONFIG
 * errors that say to use password_file in SYSCONFDIR/mailout.
 */
#ifndef MAILOUT_CRED_H
#define MAILOUT_CRED_H

struct account;
struct buf;
struct err;

enum cred_source {
	CRED_NONE = 0,
	CRED_COMMAND, /* password_command */
	CRED_FILE, /* password_file */
	CRED_LITERAL, /* password = */
	CRED_KEYRING, /* the Secret Service */
};

/* "password_command", "password_file", "password", "the keyring". */
const char *cred_source_name(enum cred_source src);

/*
 * The account's password (or token). Returns 0 with *secret and *src, or -1 with err:
 * PERM CAUSE_CONFIG for a source that is set but unusable as configured (a missing
 * password_file, a command that cannot be run, nothing configured and nothing stored);
 * TEMP for one that may work later (a command that failed or timed out, a keyring that
 * is locked, hung or has no session bus: the message is queued and retried).
 */
int cred_get(const struct account *a, char **secret, enum cred_source *src, struct err *e);

/*
 * Run cmd with /bin/sh -c, stdin /dev/null, stderr inherited, in its own process group;
 * the first line of its standard output is the secret. It must exit 0 within timeout_s
 * seconds (else its group is killed) and print at most a bounded amount. 0 or -1.
 */
int cred_command(const char *cmd, int timeout_s, char **secret, struct err *e);

/*
 * The first line of the file at path. A file other users can read gets a warning on
 * stderr (unless it is a systemd credential); a group-readable one does not, because
 * system mode shares secrets with mailout's own group. 0 or -1.
 */
int cred_file(const char *path, char **secret, struct err *e);

/*
 * The whole file at path (an OAuth2 key, client secret or service account key; or,
 * with secret 0, the certificate that goes with a key), appended to out (its maximum
 * bounds the file). key is the config key that names it, for messages. Opened and
 * checked as password_file is, except that a secret every user can read is refused
 * (PERM CAUSE_CONFIG naming the chmod, and in system mode the chown). Every failure is
 * PERM CAUSE_CONFIG. 0 or -1.
 */
int cred_file_all(const char *path, const char *key, int secret, struct buf *out, struct err *e);

#endif

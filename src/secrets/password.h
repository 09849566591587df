/*
 * password.h: --store-password and --forget-password: an account's password in the system
 * keyring (keyring.h), under the account's host and user with service "smtp", where msmtp
 * looks too and where cred.c's chain finds it.
 */
#ifndef MAILOUT_PASSWORD_H
#define MAILOUT_PASSWORD_H

#include <stdio.h>
#include <sys/types.h>

struct account;
struct err;

/*
 * Read the password (from /dev/tty without echo when in is a terminal, else the first
 * line of in) and store it in the keyring. Prints one confirmation line on stdout, and a
 * note when the account also names a source that is used before the keyring.
 * 0, or -1 with err.
 */
int password_store(const struct account *a, FILE *in, struct err *e);
/*
 * Keep secret as a's password where this mode keeps secrets: in system mode (the
 * binary setgid, run by root) in the account's password_file, through
 * password_write_file; otherwise in the keyring, in msmtp's form (host, service smtp,
 * user). Prints nothing. 0, or -1 with err. (password_store is this, after reading.)
 */
int password_save(const struct account *a, const char *secret, struct err *e);

/*
 * Make path hold secret and a newline, whole or not at all: a temporary file in the
 * same directory, flushed, renamed over path. In system mode the file is root's,
 * group the binary's, mode 0640 (the directory is made root:GROUP 0750 if missing);
 * otherwise it is the caller's, mode 0600 (the directory made 0700). 0, or -1 with
 * err (TEMP CAUSE_CANTCREAT or CAUSE_IOERR; nothing is left behind).
 */
int password_write_file(const char *path, const char *secret, struct err *e);

/*
 * System mode, root's --store-password: read the password as password_store does and
 * write it to the account's password_file with password_write_file (root:gid 0640). An
 * account without password_file: CAUSE_CONFIG naming the line to add. Prints one
 * confirmation line. 0, or -1 with err.
 */
int password_store_file(const struct account *a, FILE *in, gid_t gid, struct err *e);
/* Remove it; says on stdout whether there was one. 0, or -1 with err. */
int password_forget(const struct account *a, struct err *e);

#endif

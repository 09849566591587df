/*
 * password.h: --store-password and --forget-password: an account's password in the system
 * keyring (keyring.h), under the account's host and user with service "smtp", where msmtp
 * looks too and where cred.c's chain finds it.
 */
#ifndef MAILOUT_PASSWORD_H
#define MAILOUT_PASSWORD_H

#include <stdio.h>

struct account;
struct err;

/*
 * Read the password (from /dev/tty without echo when in is a terminal, else the first
 * line of in) and store it in the keyring. Prints one confirmation line on stdout, and a
 * note when the account also names a source that is used before the keyring.
 * 0, or -1 with err.
 */
int	password_store(const struct account *a, FILE *in, struct err *e);
/* Remove it; says on stdout whether there was one. 0, or -1 with err. */
int	password_forget(const struct account *a, struct err *e);

#endif

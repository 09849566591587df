/*
 * users.h: the people and devices that may log in to the listener (`mailout -bd`).
 *
 * The users file has one line per user, "name:hash" or "name:hash:senders": hash is a
 * crypt(3) hash, yescrypt ($y$, what `mkpasswd -m yescrypt` and Debian 12 write) or
 * SHA-512 ($6$); senders, when given, is a comma list of the envelope senders that user
 * may use (patterns with * and ?, as `from` in an account). Blank lines and lines that
 * begin with '#' are comments. The file must not be readable by every user (the hashes
 * would be a target for guessing): root:mailout 0640 is the intended mode.
 *
 * The one-user form ([listen] user + password_file): the file's first line is the
 * password itself, or a crypt(3) hash of it.
 *
 * Passwords are compared by crypt(3) or in constant time; an unknown user costs the same
 * hash as a known one, so timing does not tell which names exist.
 */
#ifndef MAILOUT_USERS_H
#define MAILOUT_USERS_H

#include "base/attr.h"

struct err;
struct str_list;

/*
 * Check name and password against the users file at path. Returns 1 when they match
 * (then *senders, if senders is not NULL, gets the user's senders: an empty list when
 * the line has none; the caller frees it with users_senders_free), 0 when the name is
 * unknown or the password wrong, -1 with err when the file cannot be used (missing,
 * unreadable, readable by every user, a malformed line: PERM/CAUSE_CONFIG naming the
 * file and line).
 */
int users_check(const char *path, const char *name, const char *password, struct str_list *senders,
    struct err *e) MUST_CHECK;

/* The one-user form: 1, 0 or -1 as users_check; password_file as cred_file reads it. */
int users_check_one(const char *user, const char *password_file, const char *name,
    const char *password, struct err *e) MUST_CHECK;

void users_senders_free(struct str_list *l);

#endif

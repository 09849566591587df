/*
 * keyring_none.c: the keyring of a build without libsecret (make KEYRING=none).
 * Every call fails with the same explanation, so the user learns what to use instead.
 */
#include <stddef.h>

#include "base/err.h"
#include "secrets/keyring.h"

static int
none(struct err *e)
{
	return err_set(e, ERR_PERM, CAUSE_CONFIG,
	    "this build has no keyring support (built "
	    "with KEYRING=none): use password_command or password_file");
}

int
keyring_lookup(const char *host, const char *service, const char *user, char **secret,
    struct err *e)
{
	(void)host;
	(void)service;
	(void)user;
	*secret = NULL;
	return none(e);
}

int
keyring_store(const char *host, const char *service, const char *user, const char *label,
    const char *secret, struct err *e)
{
	(void)host;
	(void)service;
	(void)user;
	(void)label;
	(void)secret;
	return none(e);
}

int
keyring_forget(const char *host, const char *service, const char *user, struct err *e)
{
	(void)host;
	(void)service;
	(void)user;
	return none(e);
}

const char *
keyring_backend(void)
{
	return "none";
}

/*
 * hooks_release.c: the hooks of the installed binary: the real values, nothing read from
 * the environment. See hooks.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "base/hooks.h"

int64_t
hooks_now(int64_t real)
{
	return real;
}

void
hooks_crash(const char *point)
{
	(void)point;
}

const char *
hooks_scram_nonce(void)
{
	return NULL;
}

int
hooks_cred_timeout(int dflt)
{
	return dflt;
}

int
hooks_authorize_timeout(int dflt)
{
	return dflt;
}

const char *
hooks_sysconf(const char *path)
{
	return path;
}

const char *
hooks_ispdb_url(const char *dflt)
{
	return dflt;
}

const char *
hooks_mailname(const char *path)
{
	return path;
}

int
hooks_worker_uses(int dflt)
{
	return dflt;
}

int
hooks_worker_idle(int dflt)
{
	return dflt;
}

int
hooks_pool_workers(int dflt)
{
	return dflt;
}

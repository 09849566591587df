/*
 * hooks_test.c: the hooks of the test binary and the unit tests, from MAILOUT_*
 * variables. See hooks.h. Never linked into the binary that is installed.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hooks.h"
#include "base/parse.h"
#include "base/priv.h"

int64_t
hooks_now(int64_t real)
{
	const char *fake = getenv("MAILOUT_NOW");
	uint64_t v;

	if (fake != NULL && parse_uint(fake, 0, INT64_MAX, &v) == 0)
		return (int64_t)v;
	return real;
}

void
hooks_crash(const char *point)
{
	static const char *want;
	static int done;

	if (!done) {
		want = getenv("MAILOUT_TEST_CRASH");
		done = 1;
	}
	if (want != NULL && strcmp(want, point) == 0)
		kill(getpid(), SIGKILL);
}

const char *
hooks_scram_nonce(void)
{
	return secure_getenv("MAILOUT_TEST_SCRAM_NONCE");
}

/* A variable that can only shorten a wait of dflt seconds. */
static int
shorter(const char *name, int dflt)
{
	const char *s = secure_getenv(name);
	uint64_t v;

	if (s != NULL && parse_uint(s, 1, (uint64_t)dflt, &v) == 0)
		return (int)v;
	return dflt;
}

int
hooks_cred_timeout(int dflt)
{
	return shorter("MAILOUT_CRED_TIMEOUT", dflt);
}

int
hooks_authorize_timeout(int dflt)
{
	return shorter("MAILOUT_AUTHORIZE_TIMEOUT", dflt);
}

/*
 * A set-ID program must not let its caller choose what its privilege reads: there
 * MAILOUT_SYSCONF is honoured only for root. (In system mode the group is already down
 * when this is asked, so the ids alone would not tell: priv_system does.)
 */
const char *
hooks_sysconf(const char *path)
{
	const char *env = getenv("MAILOUT_SYSCONF");

	if (env != NULL && env[0] != '\0' &&
	    (getuid() == 0 || (!priv_system() && getuid() == geteuid() && getgid() == getegid())))
		return env;
	return path;
}

const char *
hooks_ispdb_url(const char *dflt)
{
	const char *env = secure_getenv("MAILOUT_TEST_ISPDB");

	return env != NULL && env[0] != '\0' ? env : dflt;
}

/* As MAILOUT_SYSCONF: a test never depends on the machine's /etc/mailname. */
const char *
hooks_mailname(const char *path)
{
	const char *env = getenv("MAILOUT_MAILNAME");

	if (env != NULL && env[0] != '\0' &&
	    (getuid() == 0 || (!priv_system() && getuid() == geteuid() && getgid() == getegid())))
		return env;
	return path;
}

int
hooks_worker_uses(int dflt)
{
	return shorter("MAILOUT_TEST_WORKER_USES", dflt);
}

int
hooks_worker_idle(int dflt)
{
	return shorter("MAILOUT_TEST_WORKER_IDLE", dflt);
}

int
hooks_pool_workers(int dflt)
{
	return shorter("MAILOUT_TEST_POOL_WORKERS", dflt);
}

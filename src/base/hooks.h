/*
 * hooks.h: what a test may change in a run, and what the installed binary lets nobody
 * change: the wall clock, crash points, the SCRAM nonce, two waits, the system
 * configuration file, the ISP database --configure asks.
 *
 * Two implementations; the Makefile links one into each binary (no #ifdef in logic):
 *   hooks_release.c  build/mailout, the binary that is installed: each hook gives the real
 *                    value and no environment is read;
 *   hooks_test.c     build/mailout-test and the unit tests: from the environment,
 *     MAILOUT_NOW=SECONDS          the wall clock (queue backoff and expiry, session age)
 *     MAILOUT_TEST_CRASH=POINT     SIGKILL at that crash point, as a power cut would
 *     MAILOUT_TEST_SCRAM_NONCE=N   the SCRAM client nonce (RFC 5802's exchange replayed)
 *     MAILOUT_CRED_TIMEOUT=S       password_command's bound, shortened only
 *     MAILOUT_AUTHORIZE_TIMEOUT=S  --authorize's wait for the browser, shortened only
 *     MAILOUT_SYSCONF=PATH         the system sendmail.conf, so tests never read /etc
 *     MAILOUT_TEST_ISPDB=URL       --configure's ISP database, so tests never reach the
 *                                  public one (the domain is appended)
 *     MAILOUT_MAILNAME=PATH        /etc/mailname (the mail domain), likewise never the
 *                                  machine's
 *     MAILOUT_TEST_WORKER_USES=N   sessions of a listener worker, lowered only
 *     MAILOUT_TEST_WORKER_IDLE=S   seconds a listener worker stays idle, lowered only
 *   (MAILOUT_CRED_TIMEOUT to MAILOUT_SYSCONF and MAILOUT_MAILNAME not in a set-ID
 *   process, MAILOUT_SYSCONF and MAILOUT_MAILNAME then only for root).
 * The suites run the release binary, and the test one only where a test needs a hook.
 */
#ifndef MAILOUT_HOOKS_H
#define MAILOUT_HOOKS_H

#include <stdint.h>

/* The wall clock in seconds: real (from time()) or the test's. */
int64_t hooks_now(int64_t real);
/* A crash point named point ("commit-meta"...): returns, or the process dies of SIGKILL. */
void hooks_crash(const char *point);
/* The SCRAM client nonce to use, or NULL for a random one. */
const char *hooks_scram_nonce(void);
/* The bound on password_command, in seconds: dflt, or the test's shorter one. */
int hooks_cred_timeout(int dflt);
/* How long --authorize waits for the browser, in seconds: dflt, or the test's shorter one. */
int hooks_authorize_timeout(int dflt);
/* The system configuration file: path (SYSCONFDIR's), or the test's. */
const char *hooks_sysconf(const char *path);
/* The ISP database's URL, to which the domain is appended: dflt, or the test's. */
const char *hooks_ispdb_url(const char *dflt);

/* The file naming the mail domain: path (/etc/mailname), or the test's. */
const char *hooks_mailname(const char *path);

/* Sessions a listener worker serves before it is replaced: dflt, or the test's fewer. */
int hooks_worker_uses(int dflt);
/* Seconds a listener worker stays idle before it ends: dflt, or the test's shorter. */
int hooks_worker_idle(int dflt);
/* Listener workers forked without waiting (POOL_WORKERS): dflt, or the test's fewer. */
int hooks_pool_workers(int dflt);

#endif

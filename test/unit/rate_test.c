/*
 * rate_test.c: sending windows and quota replies (send/rate.c) over the per-account
 * state file (queue/accstate.c), in a scratch queue directory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "config/config.h"
#include "queue/accstate.h"
#include "queue/queue.h"
#include "send/rate.h"
#include "unit.h"

static void
test_quota(void)
{
	const char *what = NULL;

	CHECK(rate_quota("554 5.2.0 STOREDRV.Submission.Exception:"
			 "SubmissionQuotaExceededException; Failed to process message",
		  &what) == 60,
	    "Microsoft 365's quota: a minute");
	CHECK(what != NULL && strstr(what, "Microsoft") != NULL, "Microsoft 365 named");
	CHECK(rate_quota("550 5.4.5 Daily user sending limit exceeded. For more information",
		  &what) == 86400,
	    "Gmail's daily limit: a day");
	CHECK(rate_quota("550 5.4.5 daily user SENDING limit exceeded", &what) == 86400,
	    "the text in any case");
	CHECK(rate_quota("421 4.7.0 Try again later, closing connection.", &what) == 60,
	    "421 4.7.0 Try again later: a minute");
	CHECK(rate_quota("432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", &what) ==
		60,
	    "432 4.3.2 thread limit: a minute");
	CHECK(rate_quota("550 5.1.1 no such user", &what) == 0, "an unknown user is no quota");
	CHECK(rate_quota("554 5.2.0 STOREDRV.Deliver.Exception:ConnectionFiltered", &what) == 0,
	    "the same status with another text is no quota");
	CHECK(rate_quota("550 5.2.0 SubmissionQuotaExceeded", &what) == 0,
	    "the text with another code is no quota");
	CHECK(rate_quota("421", &what) == 0 && rate_quota("", &what) == 0 &&
		rate_quota(NULL, &what) == 0,
	    "short replies");
}

static void
account(struct account *a, uint64_t per_min, uint64_t rcpt_day)
{
	memset(a, 0, sizeof(*a));
	a->name = "work";
	a->limits[LIMIT_MINUTE] = per_min;
	a->limits[LIMIT_RCPT_DAY] = rcpt_day;
}

static void
test_admit(const char *dir)
{
	struct queue q;
	struct account a;
	struct accstate st;
	struct err e;
	char why[512];
	int64_t t0 = 1800000000, until;
	int i, ok;

	err_init(&e);
	CHECK(queue_open(&q, dir, 1, &e) == 0, "queue opens");
	account(&a, 3, 0);
	for (ok = 1, i = 0; i < 3; i++)
		ok &= rate_admit(&q, &a, 1, t0 + i, 0, &until, why, sizeof(why)) == 0;
	CHECK(ok, "three in a minute go");
	CHECK(rate_admit(&q, &a, 1, t0 + 10, 0, &until, why, sizeof(why)) == 1,
	    "the fourth waits");
	CHECK(until == t0 + 60, "until the window that began with the first one ends");
	CHECK(strstr(why, "limit of 3 messages a minute") != NULL, "why names the limit");
	accstate_read(&q, "work", &st);
	CHECK(st.win[LIMIT_MINUTE].start == t0 && st.win[LIMIT_MINUTE].count == 3,
	    "the window, in the state file");
	CHECK(rate_admit(&q, &a, 1, t0 + 60, 0, &until, why, sizeof(why)) == 0,
	    "a new window at its end");
	accstate_read(&q, "work", &st);
	CHECK(st.win[LIMIT_MINUTE].start == t0 + 60 && st.win[LIMIT_MINUTE].count == 1,
	    "the new window counts from one");
	CHECK(rate_admit(&q, &a, 1, t0 - 100, 0, &until, why, sizeof(why)) == 0,
	    "a clock set back starts a new window, never waits for ever");

	/* Recipients: a message over what is left waits; one over the whole cap goes alone. */
	account(&a, 0, 10);
	CHECK(rate_admit(&q, &a, 8, t0, 0, &until, why, sizeof(why)) == 0, "8 of 10 recipients");
	CHECK(rate_admit(&q, &a, 3, t0 + 1, 0, &until, why, sizeof(why)) == 1 &&
		until == t0 + 86400,
	    "3 more wait for the next day");
	CHECK(rate_admit(&q, &a, 2, t0 + 2, 0, &until, why, sizeof(why)) == 0, "2 more fit");
	CHECK(rate_admit(&q, &a, 50, t0 + 86400, 0, &until, why, sizeof(why)) == 0,
	    "50 in an empty day: alone, not never");

	/* A pause: kept with a hold, lifted by release or when it ends. */
	account(&a, 0, 0);
	rate_pause(&q, &a, t0 + 60, "relay said: 554 5.2.0 quota");
	CHECK(rate_admit(&q, &a, 1, t0 + 1, 0, &until, why, sizeof(why)) == 1 && until == t0 + 60,
	    "paused: waits until the pause ends");
	CHECK(strstr(why, "paused until") != NULL && strstr(why, "554 5.2.0 quota") != NULL,
	    "why says paused, and the reply");
	CHECK(rate_admit(&q, &a, 1, t0 + 1, 1, &until, why, sizeof(why)) == 0,
	    "a person's -q goes at once");
	accstate_read(&q, "work", &st);
	CHECK(st.paused_until == 0, "and the pause is over");
	rate_pause(&q, &a, t0 + 60, "again");
	CHECK(rate_admit(&q, &a, 1, t0 + 60, 0, &until, why, sizeof(why)) == 0,
	    "at its end the pause is over");
	queue_close(&q);
}

static void
test_state(const char *dir)
{
	struct queue q;
	struct accstate st;
	struct err e;
	int fd;

	err_init(&e);
	CHECK(queue_open(&q, dir, 1, &e) == 0, "queue opens");
	memset(&st, 0, sizeof(st));
	st.win[LIMIT_DAY].start = 1800000000;
	st.win[LIMIT_DAY].count = 42;
	st.paused_until = 1800000060;
	snprintf(st.paused, sizeof(st.paused), "why\nnot");
	fd = accstate_lock(&q);
	CHECK(fd != -1 && accstate_store(&q, fd, "acc", &st, 0, &e) == 0, "stored");
	accstate_unlock(fd);
	memset(&st, 0, sizeof(st));
	CHECK(accstate_read(&q, "acc", &st) == 0, "not held");
	CHECK(st.win[LIMIT_DAY].start == 1800000000 && st.win[LIMIT_DAY].count == 42,
	    "window read back");
	CHECK(st.paused_until == 1800000060, "pause read back");
	CHECK_STR(st.paused, "why not", "its reason on one line");
	/* A hold comes and goes; the counters stay. */
	snprintf(st.held, sizeof(st.held), "the login was rejected");
	st.since = 1800000001;
	CHECK(accstate_write(&q, "acc", &st, &e) == 0, "held");
	CHECK(accstate_read(&q, "acc", &st) == 1, "read as held");
	CHECK(accstate_clear(&q, "acc") == 1, "hold cleared");
	CHECK(accstate_read(&q, "acc", &st) == 0 && st.win[LIMIT_DAY].count == 42 &&
		st.paused_until == 1800000060,
	    "the window and the pause stay");
	CHECK(accstate_clear(&q, "acc") == 0, "no hold: nothing to clear");
	queue_close(&q);
}

int
main(void)
{
	char tmpl[] = "/tmp/rate_test.XXXXXX", *dir;
	char cmd[128];

	test_quota();
	if ((dir = mkdtemp(tmpl)) == NULL)
		return 1;
	test_admit(dir);
	test_state(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	UNIT_DONE();
}

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
	/* Sliding windows: one slot a second in a minute's window, each with its count. */
	CHECK(st.win[LIMIT_MINUTE].n == 3 && st.win[LIMIT_MINUTE].slot[0].last == t0 &&
		st.win[LIMIT_MINUTE].slot[0].count == 1 &&
		st.win[LIMIT_MINUTE].slot[2].last == t0 + 2,
	    "the window, in the state file");
	CHECK(rate_admit(&q, &a, 1, t0 + 60, 0, &until, why, sizeof(why)) == 0,
	    "a new window at its end");
	accstate_read(&q, "work", &st);
	/* The first message's slot left; the new one counts from one in its own. */
	CHECK(st.win[LIMIT_MINUTE].n == 3 && st.win[LIMIT_MINUTE].slot[0].last == t0 + 1 &&
		st.win[LIMIT_MINUTE].slot[2].last == t0 + 60 &&
		st.win[LIMIT_MINUTE].slot[2].count == 1,
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
	/*
	 * A day's slots are 24 minutes: the 8 and the 2 share one, counted whole until its
	 * newest (t0 + 2) is a day old; then the day is empty.
	 */
	CHECK(rate_admit(&q, &a, 1, t0 + 86401, 0, &until, why, sizeof(why)) == 1 &&
		until == t0 + 86402,
	    "the slot counts whole until its newest message is a day old");
	CHECK(rate_admit(&q, &a, 50, t0 + 86402, 0, &until, why, sizeof(why)) == 0,
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
	st.win[LIMIT_DAY].n = 1;
	st.win[LIMIT_DAY].slot[0].last = 1800000000;
	st.win[LIMIT_DAY].slot[0].count = 42;
	st.paused_until = 1800000060;
	snprintf(st.paused, sizeof(st.paused), "why\nnot");
	fd = accstate_lock(&q);
	CHECK(fd != -1 && accstate_store(&q, fd, "acc", &st, 0, &e) == 0, "stored");
	accstate_unlock(fd);
	memset(&st, 0, sizeof(st));
	CHECK(accstate_read(&q, "acc", &st) == 0, "not held");
	CHECK(st.win[LIMIT_DAY].n == 1 && st.win[LIMIT_DAY].slot[0].last == 1800000000 &&
		st.win[LIMIT_DAY].slot[0].count == 42,
	    "window read back");
	CHECK(st.paused_until == 1800000060, "pause read back");
	CHECK_STR(st.paused, "why not", "its reason on one line");
	/* A hold comes and goes; the counters stay. */
	snprintf(st.held, sizeof(st.held), "the login was rejected");
	st.since = 1800000001;
	CHECK(accstate_write(&q, "acc", &st, &e) == 0, "held");
	CHECK(accstate_read(&q, "acc", &st) == 1, "read as held");
	CHECK(accstate_clear(&q, "acc") == 1, "hold cleared");
	CHECK(accstate_read(&q, "acc", &st) == 0 && st.win[LIMIT_DAY].slot[0].count == 42 &&
		st.paused_until == 1800000060,
	    "the window and the pause stay");
	CHECK(accstate_clear(&q, "acc") == 0, "no hold: nothing to clear");
	queue_close(&q);
}

/* Issue 18's flaw: 1 at t0, 4 at t0 + 59, 5 more at t0 + 60 went in a fixed window. */
static void
test_boundary(const char *dir)
{
	struct queue q;
	struct account a;
	struct err e;
	char why[512];
	int64_t t0 = 1800000000, until;
	int i, ok;

	err_init(&e);
	CHECK(queue_open(&q, dir, 1, &e) == 0, "queue opens");
	account(&a, 5, 0);
	a.name = "edge";
	CHECK(rate_admit(&q, &a, 1, t0, 0, &until, why, sizeof(why)) == 0, "1 at t0");
	for (ok = 1, i = 0; i < 4; i++)
		ok &= rate_admit(&q, &a, 1, t0 + 59, 0, &until, why, sizeof(why)) == 0;
	CHECK(ok, "4 at t0 + 59");
	CHECK(rate_admit(&q, &a, 1, t0 + 60, 0, &until, why, sizeof(why)) == 0,
	    "at t0 + 60 the first one's slot left: one more");
	for (ok = 1, i = 0; i < 4; i++)
		ok &= rate_admit(&q, &a, 1, t0 + 60, 0, &until, why, sizeof(why)) == 1 &&
		    until == t0 + 119;
	CHECK(ok, "the other 4 wait until the 4 of t0 + 59 are a minute old");
	CHECK(rate_admit(&q, &a, 1, t0 + 118, 0, &until, why, sizeof(why)) == 1,
	    "not a second earlier");
	for (ok = 1, i = 0; i < 4; i++)
		ok &= rate_admit(&q, &a, 1, t0 + 119, 0, &until, why, sizeof(why)) == 0;
	CHECK(ok, "at t0 + 119 the 4 go");
	CHECK(rate_admit(&q, &a, 1, t0 + 119, 0, &until, why, sizeof(why)) == 1 &&
		until == t0 + 120,
	    "and the next waits for the one of t0 + 60");
	queue_close(&q);
}

/*
 * A stream of attempts (steps apart, burst at once every burst_every steps) for span
 * seconds: the most counted in any period of limit l's length (weight w each, cycling
 * 1..w), and how many went.
 */
static uint64_t
stream(const char *dir, char *name, enum send_limit l, uint64_t cap, int64_t step, int burst,
    int burst_every, int64_t span, size_t w, int *went)
{
	struct queue q;
	struct account a;
	struct err e;
	char why[512];
	static int64_t at[20000];
	static size_t wt[20000];
	int64_t t0 = 1800000007, t, until, len = rate_window(l);
	uint64_t most = 0, sum;
	size_t n = 0, i, j, k, weight;

	err_init(&e);
	*went = 0;
	if (queue_open(&q, dir, 1, &e) != 0)
		return UINT64_MAX;
	memset(&a, 0, sizeof(a));
	a.name = name;
	a.limits[l] = cap;
	for (t = t0, k = 0; t < t0 + span; t += step, k++)
		for (i = 0; i < (size_t)(k % (size_t)burst_every == 0 ? burst : 1); i++) {
			weight = 1 + (n % w);
			if (n < sizeof(at) / sizeof(at[0]) &&
			    rate_admit(&q, &a, weight, t, 0, &until, why, sizeof(why)) == 0) {
				at[n] = t;
				wt[n++] = l == LIMIT_RCPT_DAY ? weight : 1;
			}
		}
	/* Every period that begins at an admitted message's time (the worst ones do). */
	for (i = 0; i < n; i++) {
		for (sum = 0, j = i; j < n && at[j] < at[i] + len; j++)
			sum += wt[j];
		if (sum > most)
			most = sum;
	}
	*went = (int)n;
	printf("# %s: at most %llu in a period, %zu went\n", name, (unsigned long long)most, n);
	queue_close(&q);
	return most;
}

static void
test_rolling(const char *dir)
{
	int went;

	/* More is offered than the cap allows: each stream uses it fully, never more. */
	CHECK(stream(dir, "min", LIMIT_MINUTE, 5, 1, 4, 7, 3 * 60, 1, &went) == 5 && went == 15,
	    "5 a minute, a stream for 3 minutes: 15 went, never more than 5 in any 60 s");
	CHECK(stream(dir, "sec", LIMIT_SECOND, 2, 1, 5, 3, 60, 1, &went) == 2 && went == 80,
	    "2 a second: never more than 2 in one");
	CHECK(stream(dir, "hour", LIMIT_HOUR, 30, 7, 9, 11, 4 * 3600, 1, &went) == 30 &&
		went == 120,
	    "30 an hour in 60 s slots: never more than 30 in any 3600 s");
	CHECK(stream(dir, "rcpt", LIMIT_RCPT_DAY, 100, 301, 5, 13, 3 * 86400, 7, &went) <= 100 &&
		went >= 60,
	    "100 recipients a day in 24 min slots: never more than 100 in any 86400 s");
}

/* Version 1's fixed window is read as one slot, and written back as slots. */
static void
test_old_format(const char *dir)
{
	struct queue q;
	struct account a;
	struct accstate st;
	struct err e;
	char path[512], why[512];
	int64_t t0 = 1800000000, until;
	FILE *f;
	int fd, i;

	err_init(&e);
	CHECK(queue_open(&q, dir, 1, &e) == 0, "queue opens");
	fd = accstate_lock(&q);
	accstate_unlock(fd);
	snprintf(path, sizeof(path), "%s/accounts/old", dir);
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "Version: 1\nAccount: old\nWindow-Minute: %lld 5\n", (long long)t0);
		fclose(f);
	}
	CHECK(accstate_read(&q, "old", &st) == 0 && st.win[LIMIT_MINUTE].n == 1 &&
		st.win[LIMIT_MINUTE].slot[0].last == t0 && st.win[LIMIT_MINUTE].slot[0].count == 5,
	    "Window-Minute: START COUNT read as one slot");
	account(&a, 5, 0);
	a.name = "old";
	CHECK(rate_admit(&q, &a, 1, t0 + 30, 0, &until, why, sizeof(why)) == 1 && until == t0 + 60,
	    "the old window still holds, until it would have ended");
	CHECK(rate_admit(&q, &a, 1, t0 + 60, 0, &until, why, sizeof(why)) == 0, "then one goes");
	memset(&st, 0, sizeof(st));
	CHECK(accstate_read(&q, "old", &st) == 0 && st.win[LIMIT_MINUTE].n == 1 &&
		st.win[LIMIT_MINUTE].slot[0].last == t0 + 60,
	    "written back as slots");
	/* More slots than a window keeps (a file edited by hand): the rest join the newest. */
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "Version: 2\nAccount: old\nSlots-Hour:");
		for (i = 0; i < 70; i++)
			fprintf(f, " %lld:2", (long long)(t0 + 60 * i));
		fprintf(f, "\n");
		fclose(f);
	}
	CHECK(accstate_read(&q, "old", &st) == 0 && st.win[LIMIT_HOUR].n == ACCSTATE_NSLOT &&
		st.win[LIMIT_HOUR].slot[ACCSTATE_NSLOT - 1].count ==
		    2 * (70 - ACCSTATE_NSLOT + 1) &&
		st.win[LIMIT_HOUR].slot[ACCSTATE_NSLOT - 1].last == t0 + 60 * 69,
	    "too many slots: none forgotten, counted at the newest");
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
	test_boundary(dir);
	test_rolling(dir);
	test_old_format(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	UNIT_DONE();
}

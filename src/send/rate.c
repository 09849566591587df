/*
 * rate.c: sending limits and quota pauses of accounts. See rate.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/str.h"
#include "config/config.h"
#include "queue/accstate.h"
#include "queue/queue.h"
#include "send/rate.h"

static const struct {
	int64_t len;
	const char *what;
} windows[NLIMITS] = {
	[LIMIT_SECOND] = { 1, "messages a second" },
	[LIMIT_MINUTE] = { 60, "messages a minute" },
	[LIMIT_HOUR] = { 60 * 60, "messages an hour" },
	[LIMIT_DAY] = { 24 * 60 * 60, "messages a day" },
	[LIMIT_RCPT_DAY] = { 24 * 60 * 60, "recipients a day" },
};

/*
 * The replies by which providers say an account sent too much, and how long to wait.
 * Matched on the reply code, the enhanced status code and a piece of the text (case
 * does not matter); the first match wins. To add one: a line here and a test.
 */
static const struct {
	int code;
	const char *status;
	const char *text;
	int64_t pause;
	const char *what;
} quotas[] = {
	/* Microsoft 365: over 30 messages a minute (or the daily recipient cap). */
	{ 554, "5.2.0", "SubmissionQuotaExceeded", 60,
	    "Microsoft 365's submission quota (30 messages a minute)" },
	/* Gmail and Workspace: the daily cap, counted over a rolling day. */
	{ 550, "5.4.5", "Daily user sending limit exceeded", 24 * 60 * 60,
	    "Gmail's daily sending limit" },
	{ 550, "5.4.5", "Daily SMTP relay limit exceeded", 24 * 60 * 60,
	    "Google Workspace's daily relay limit" },
	/* Microsoft 365: too many connections or messages at once. */
	{ 432, "4.3.2", "thread limit", 60, "the relay's limit of concurrent submissions" },
	/* Gmail and others: throttling, "Try again later". */
	{ 421, "4.7.0", "Try again later", 60, "the relay's throttling" },
	{ 451, "4.7.0", "Try again later", 60, "the relay's throttling" },
};

static const char *const preset_words[] = {
	[PRESET_AUTO] = "auto",
	[PRESET_OFF] = "off",
	[PRESET_MICROSOFT] = "microsoft",
	[PRESET_GMAIL] = "gmail",
	[PRESET_WORKSPACE] = "workspace",
};

int64_t
rate_window(enum send_limit l)
{
	return windows[l].len;
}

const char *
rate_what(enum send_limit l)
{
	return windows[l].what;
}

const char *
rate_preset_name(enum send_preset p)
{
	return preset_words[p];
}

int
rate_any(const struct account *a)
{
	size_t i;

	for (i = 0; i < NLIMITS; i++)
		if (a->limits[i] != 0)
			return 1;
	return 0;
}

const char *
rate_describe(const struct account *a, char *buf, size_t n)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < NLIMITS && len < n; i++)
		if (a->limits[i] != 0)
			len += (size_t)snprintf(buf + len, n - len, "%s%llu %s",
			    len > 0 ? ", " : "", (unsigned long long)a->limits[i],
			    windows[i].what);
	if (len == 0 && n > 5)
		len = (size_t)snprintf(buf, n, "none");
	if (len < n && a->send_limits == PRESET_AUTO && a->send_limits_used != PRESET_AUTO)
		snprintf(buf + len, n - len, " (send_limits = auto: %s)",
		    preset_words[a->send_limits_used]);
	else if (len < n)
		snprintf(buf + len, n - len, " (send_limits = %s)", preset_words[a->send_limits]);
	return buf;
}

const char *
rate_when(int64_t t, int64_t now, char *buf, size_t n)
{
	char s[64] = "?";
	struct tm tm;
	time_t tt = (time_t)t;

	if (localtime_r(&tt, &tm) != NULL)
		strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, n, "%s (in %lld s)", s, (long long)(t > now ? t - now : 0));
	return buf;
}

/*
 * The slots of a window: a limit's period in 60 (at least a second each: the clock counts
 * seconds, so a second's limit is one slot and a minute's slots are exact).
 */
static int64_t
slot_len(enum send_limit l)
{
	return windows[l].len >= 60 ? windows[l].len / 60 : 1;
}

/*
 * The window as it stands at now: the slots whose newest message is less than a period
 * ago. Every message of a slot is at or before its newest, so a slot counts whole until
 * its newest has left: no period can hold more than was counted. A slot ahead of now
 * (the clock was set back) is dropped, never waited for. The sum of what stays.
 */
static uint64_t
live(struct accstate_window *w, enum send_limit l, int64_t now)
{
	uint64_t sum = 0;
	size_t i, n = 0;

	for (i = 0; i < w->n; i++) {
		if (w->slot[i].last <= now - windows[l].len || w->slot[i].last > now)
			continue;
		w->slot[n++] = w->slot[i];
		sum = w->slot[i].count > UINT64_MAX - sum ? UINT64_MAX : sum + w->slot[i].count;
	}
	w->n = n;
	return sum;
}

/*
 * When a message of weight add fits in the live window w (sum counted) under cap: 0 when
 * it fits now (an empty window takes any message: one over the whole cap goes alone),
 * else the moment enough of the oldest slots have left.
 */
static int64_t
fits_at(const struct accstate_window *w, enum send_limit l, uint64_t sum, uint64_t add,
    uint64_t cap)
{
	int64_t t = 0;
	size_t i;

	for (i = 0; i < w->n && sum > 0 && sum + add > cap; i++) {
		sum -= w->slot[i].count;
		t = w->slot[i].last + windows[l].len;
	}
	return t;
}

/* Count add at now in w (live at now): in now's slot, a new one when it has none. */
static void
count(struct accstate_window *w, enum send_limit l, int64_t now, uint64_t add)
{
	struct accstate_slot *s;
	size_t i;

	if (w->n > 0 && w->slot[w->n - 1].last / slot_len(l) == now / slot_len(l)) {
		s = &w->slot[w->n - 1];
	} else {
		if (w->n == ACCSTATE_NSLOT) {
			/* Not with live slots; were it so, the oldest two as one, later. */
			w->slot[1].count += w->slot[0].count;
			for (i = 1; i < w->n; i++)
				w->slot[i - 1] = w->slot[i];
			w->n--;
		}
		s = &w->slot[w->n++];
		s->count = 0;
	}
	s->last = now;
	s->count = add > UINT64_MAX - s->count ? UINT64_MAX : s->count + add;
}

int
rate_admit(const struct queue *q, const struct account *a, size_t nrcpts, int64_t now, int release,
    int64_t *until, char *why, size_t n)
{
	struct accstate st;
	struct err e;
	char line[MAX_ERROR_TEXT], t[96];
	uint64_t add, sum;
	int64_t at;
	size_t i;
	int dfd = -1, over = -1, ret = 0, limits = rate_any(a);

	err_init(&e);
	*until = 0;
	/*
	 * No limits and no pause: nothing to count, and reading a missing file is one
	 * syscall. A pause that ended, or that a person overrides, is lifted below.
	 */
	accstate_read(q, a->name, &st);
	if (!limits && st.paused_until == 0)
		goto out;
	if ((dfd = accstate_lock(q)) == -1) {
		err_set(&e, ERR_TEMP, CAUSE_IOERR, "cannot lock %s/accounts: %s",
		    q->dir != NULL ? q->dir : "(no queue directory)", strerror(errno));
		goto fail;
	}
	accstate_read(q, a->name, &st);
	if (st.paused_until > now && !release) {
		*until = st.paused_until;
		snprintf(why, n, "account %s is paused until %s: %s", a->name,
		    rate_when(st.paused_until, now, t, sizeof(t)), st.paused);
		ret = 1;
		goto out;
	}
	for (i = 0; i < NLIMITS; i++) {
		if (a->limits[i] == 0)
			continue;
		sum = live(&st.win[i], (enum send_limit)i, now);
		add = i == LIMIT_RCPT_DAY ? (uint64_t)nrcpts : 1;
		at = fits_at(&st.win[i], (enum send_limit)i, sum, add, a->limits[i]);
		if (at != 0 && (over == -1 || at > *until)) {
			over = (int)i;
			*until = at;
		}
	}
	if (over != -1) {
		snprintf(why, n, "account %s is at its limit of %llu %s; the window reopens at %s",
		    a->name, (unsigned long long)a->limits[over], windows[over].what,
		    rate_when(*until, now, t, sizeof(t)));
		ret = 1;
		goto out;
	}
	for (i = 0; i < NLIMITS; i++)
		if (a->limits[i] != 0)
			count(&st.win[i], (enum send_limit)i, now,
			    i == LIMIT_RCPT_DAY ? (uint64_t)nrcpts : 1);
	/* A pause that ended (or that a person overrode) is over. */
	st.paused_until = 0;
	st.paused[0] = '\0';
	if (accstate_store(q, dfd, a->name, &st, 0, &e) == -1)
		goto fail;
	goto out;
fail:
	log_line(LOG_WARNING, "account=%s status=error error=\"%s; its limits are not counted\"",
	    a->name, err_str(&e, line, sizeof(line)));
	ret = 0;
	*until = 0;
out:
	accstate_unlock(dfd);
	return ret;
}

int64_t
rate_quota(const char *reply, const char **what)
{
	const char *p;
	size_t i, sl;
	int code;

	if (reply == NULL || strlen(reply) < 4)
		return 0;
	code = (reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0');
	p = reply + 4;
	for (i = 0; i < sizeof(quotas) / sizeof(quotas[0]); i++) {
		sl = strlen(quotas[i].status);
		if (quotas[i].code == code && strncmp(p, quotas[i].status, sl) == 0 &&
		    strcasestr(p + sl, quotas[i].text) != NULL) {
			*what = quotas[i].what;
			return quotas[i].pause;
		}
	}
	return 0;
}

struct pause_change {
	int64_t until;
	const char *reason;
};

/* A later pause wins: a shorter one the relay gives meanwhile must not cut it short. */
static void
later_pause(struct accstate *st, void *arg)
{
	const struct pause_change *c = arg;

	if (st->paused_until < c->until) {
		st->paused_until = c->until;
		snprintf(st->paused, sizeof(st->paused), "%s", c->reason);
	}
}

void
rate_pause(const struct queue *q, const struct account *a, int64_t until, const char *reason)
{
	struct pause_change c = { until, reason };
	struct err e;
	char line[MAX_ERROR_TEXT];

	err_init(&e);
	if (accstate_update(q, a->name, later_pause, &c, &e) == -1)
		log_line(LOG_ERR, "account=%s status=error error=\"%s\"", a->name,
		    err_str(&e, line, sizeof(line)));
	else
		log_line(LOG_WARNING, "account=%s status=paused until=%lld reason=\"%s\"", a->name,
		    (long long)until, reason);
}

void
rate_show(const struct queue *q, const struct account *a, int64_t now, const char *indent,
    FILE *out)
{
	struct accstate st;
	uint64_t sum;
	char t[96];
	size_t i;

	accstate_read(q, a->name, &st);
	if (st.paused_until > now)
		fprintf(out, "%spaused until %s: %s\n", indent,
		    rate_when(st.paused_until, now, t, sizeof(t)), st.paused);
	for (i = 0; i < NLIMITS; i++) {
		if (a->limits[i] == 0)
			continue;
		sum = live(&st.win[i], (enum send_limit)i, now);
		fprintf(out, "%s%llu of %llu %s", indent, (unsigned long long)sum,
		    (unsigned long long)a->limits[i], windows[i].what);
		/* When the oldest of them leaves the window, the first to make room. */
		if (st.win[i].n > 0)
			fprintf(out, " (window ends %s)",
			    rate_when(st.win[i].slot[0].last + windows[i].len, now, t, sizeof(t)));
		fputc('\n', out);
	}
}

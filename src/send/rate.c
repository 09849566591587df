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

/* The window as it stands at now: one that ended (or lies in the future) is empty. */
static struct accstate_window
current(const struct accstate_window *w, enum send_limit l, int64_t now)
{
	struct accstate_window c = *w;

	if (c.start == 0 || now >= c.start + windows[l].len || now < c.start) {
		c.start = 0;
		c.count = 0;
	}
	return c;
}

int
rate_admit(const struct queue *q, const struct account *a, size_t nrcpts, int64_t now, int release,
    int64_t *until, char *why, size_t n)
{
	struct accstate st;
	struct accstate_window c;
	struct err e;
	char line[MAX_ERROR_TEXT], t[96];
	uint64_t add;
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
		c = current(&st.win[i], (enum send_limit)i, now);
		add = i == LIMIT_RCPT_DAY ? (uint64_t)nrcpts : 1;
		/* A message with more recipients than a day allows goes alone, in an empty day. */
		if (c.count > 0 && c.count + add > a->limits[i] &&
		    (over == -1 || c.start + windows[i].len > *until)) {
			over = (int)i;
			*until = c.start + windows[i].len;
		}
	}
	if (over != -1) {
		snprintf(why, n, "account %s is at its limit of %llu %s; the window reopens at %s",
		    a->name, (unsigned long long)a->limits[over], windows[over].what,
		    rate_when(*until, now, t, sizeof(t)));
		ret = 1;
		goto out;
	}
	for (i = 0; i < NLIMITS; i++) {
		if (a->limits[i] == 0)
			continue;
		st.win[i] = current(&st.win[i], (enum send_limit)i, now);
		if (st.win[i].start == 0)
			st.win[i].start = now;
		st.win[i].count += i == LIMIT_RCPT_DAY ? (uint64_t)nrcpts : 1;
	}
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

void
rate_pause(const struct queue *q, const struct account *a, int64_t until, const char *reason)
{
	struct accstate st;
	struct err e;
	char line[MAX_ERROR_TEXT];
	int dfd;

	err_init(&e);
	if ((dfd = accstate_lock(q)) == -1) {
		err_set(&e, ERR_TEMP, CAUSE_IOERR, "cannot lock %s/accounts: %s",
		    q->dir != NULL ? q->dir : "(no queue directory)", strerror(errno));
		goto fail;
	}
	accstate_read(q, a->name, &st);
	if (st.paused_until < until) {
		st.paused_until = until;
		snprintf(st.paused, sizeof(st.paused), "%s", reason);
	}
	if (accstate_store(q, dfd, a->name, &st, 1, &e) == -1)
		goto fail;
	accstate_unlock(dfd);
	log_line(LOG_WARNING, "account=%s status=paused until=%lld reason=\"%s\"", a->name,
	    (long long)until, reason);
	return;
fail:
	accstate_unlock(dfd);
	log_line(LOG_ERR, "account=%s status=error error=\"%s\"", a->name,
	    err_str(&e, line, sizeof(line)));
}

void
rate_show(const struct queue *q, const struct account *a, int64_t now, const char *indent,
    FILE *out)
{
	struct accstate st;
	struct accstate_window c;
	char t[96];
	size_t i;

	accstate_read(q, a->name, &st);
	if (st.paused_until > now)
		fprintf(out, "%spaused until %s: %s\n", indent,
		    rate_when(st.paused_until, now, t, sizeof(t)), st.paused);
	for (i = 0; i < NLIMITS; i++) {
		if (a->limits[i] == 0)
			continue;
		c = current(&st.win[i], (enum send_limit)i, now);
		fprintf(out, "%s%llu of %llu %s", indent, (unsigned long long)c.count,
		    (unsigned long long)a->limits[i], windows[i].what);
		if (c.start != 0)
			fprintf(out, " (window ends %s)",
			    rate_when(c.start + windows[i].len, now, t, sizeof(t)));
		fputc('\n', out);
	}
}

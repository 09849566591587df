/*
 * rate.h: an account's sending limits (config.h: messages per second, minute, hour, day;
 * recipients per day) and its pause after a provider's quota reply, kept in the queue's
 * per-account state file (queue/accstate.h) so that every process sending through the
 * account counts in the same windows: twenty callers at once and the queue timer never
 * go over the cap together.
 *
 * The windows slide: no period of a limit's length (1 s, 60 s, 1 h, 24 h), wherever it
 * begins, holds more than its cap, as providers count. Each window keeps its period in
 * 60 slots (1 s each for a minute, 1 min for an hour, 24 min for a day; a second's is one
 * slot), each slot its count and the time of its newest message; a slot counts whole
 * until its newest message is a period old (conservative: never more than the cap, at
 * most a slot's length later than an exact count). A message that would go over any
 * limit waits until enough of the oldest slots have left. The counting is a reservation
 * made before the connection: a message that then fails still counted (the provider's
 * counter usually did too).
 *
 * Quota replies: a table of the replies by which providers say "this account sent too
 * much" (matched by code, enhanced status code and text), each with how long the account
 * waits. They are temporary for the whole account: the message is kept, the account is
 * paused until then, and its other messages wait in the queue without a connection.
 */
#ifndef MAILOUT_RATE_H
#define MAILOUT_RATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"

struct queue;

/* Seconds in the window of limit l. */
int64_t rate_window(enum send_limit l);
/* What limit l counts, for people: "messages a minute". */
const char *rate_what(enum send_limit l);
/* The name of a set of caps: "microsoft", "off"... */
const char *rate_preset_name(enum send_preset p);

/* 1 if a has any limit. */
int rate_any(const struct account *a);

/*
 * May one message with nrcpts recipients go through a now? 0: yes, and it is counted in
 * a's windows. 1: not now: *until is when it may (when enough slots have left, or the
 * pause's end), why
 * says which limit or pause. release (a person ran sendmail -q) ignores a pause, never a
 * limit. When the state cannot be read or written (no queue directory), the message goes
 * (0) and one log line says so: the limits are a courtesy to the provider, not a reason
 * to keep mail back.
 */
int rate_admit(const struct queue *q, const struct account *a, size_t nrcpts, int64_t now,
    int release, int64_t *until, char *why, size_t n);

/*
 * The quota table: if reply (a whole reply line, "554 5.2.0 ...") says the account sent too
 * much, the seconds the account should wait from now and what the provider meant (*what);
 * else 0.
 */
int64_t rate_quota(const char *reply, const char **what);

/* Pause a until until, for reason (the relay's reply); one log line. */
void rate_pause(const struct queue *q, const struct account *a, int64_t until, const char *reason);

/*
 * a's limits for people, in buf: "30 messages a minute, 10000 recipients a day
 * (send_limits = auto: microsoft)", or "none (send_limits = off)".
 */
const char *rate_describe(const struct account *a, char *buf, size_t n);

/* "2026-12-07 04:40:00 (in 42 s)" in buf. */
const char *rate_when(int64_t t, int64_t now, char *buf, size_t n);

/*
 * For mailq and --test: a's limits and its use of them at now, one line each, indented by
 * indent; a pause first. Nothing when a has neither limits nor a pause.
 */
void rate_show(const struct queue *q, const struct account *a, int64_t now, const char *indent,
    FILE *out);

#endif

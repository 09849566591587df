/*
 * probe.h: mailout --test RECIPIENT: send a short test message through an account and
 * print every step with its outcome, stopping at the first failure.
 */
#ifndef MAILOUT_PROBE_H
#define MAILOUT_PROBE_H

#include <stdio.h>

struct account;
struct config;
struct err;

/*
 * Resolve, connect, TLS, greeting, authentication, sender, recipient, delivery: one line
 * each on out ("step  ok: detail" or "step  FAILED: why"). sender is the envelope sender
 * (NULL: the account's from, else the real user at the domain). Returns 0 when the relay
 * accepted the message, else -1 with err (the same one-line explanation as a normal send).
 */
int probe_run(const struct config *cfg, const struct account *a, const char *sender,
    const char *rcpt, int verbose, FILE *out, struct err *e);

#endif

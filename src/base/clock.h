/*
 * clock.h: the two clocks: a monotonic one for deadlines, the wall clock for what is
 * stored and shown (queue times, Date, token expiry, the TLS session cache).
 */
#ifndef MAILOUT_CLOCK_H
#define MAILOUT_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds, for deadlines. */
int64_t now_ms(void);
/* Wall-clock seconds since the epoch; the test build may move it (hooks.h). */
int64_t now_s(void);

#endif

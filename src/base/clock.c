/*
 * clock.c: the two clocks. See clock.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "base/parse.h"

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_s(void)
{
	const char *fake = getenv("MAILOUT_NOW");
	uint64_t v;

	/* The tests' clock for backoff and expiry; never set in production. */
	if (fake != NULL && parse_uint(fake, 0, INT64_MAX, &v) == 0)
		return (int64_t)v;
	return (int64_t)time(NULL);
}

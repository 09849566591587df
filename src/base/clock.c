/*
 * clock.c: the two clocks. See clock.h.
 */
#include <stdint.h>
#include <time.h>

#include "base/clock.h"
#include "base/hooks.h"

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
	return hooks_now((int64_t)time(NULL));
}

/*
 * unit.h: a tiny TAP producer for the C unit tests. Each CHECK is one test point;
 * test/run adds the counts into the suite's total.
 */
#ifndef MAILOUT_UNIT_H
#define MAILOUT_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

/* clang-format off */
#define CHECK(cond, name) do {						\
	unit_n++;							\
	if (cond)							\
		printf("ok %d - %s\n", unit_n, name);			\
	else {								\
		unit_failed++;						\
		printf("not ok %d - %s (%s:%d: %s)\n", unit_n, name,	\
		    __FILE__, __LINE__, #cond);				\
	}								\
} while (0)
/* clang-format on */

/* clang-format off */
#define CHECK_STR(got, want, name) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int ok_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;		\
	CHECK(ok_, name);						\
	if (!ok_)							\
		printf("#   got  \"%s\"\n#   want \"%s\"\n",		\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)
/* clang-format on */

/*
 * An append (or other step) that builds a test's input or output: 0 is expected, and
 * anything else is a failed test point, never a silently cut input. Adds no point when
 * it works.
 */
/* clang-format off */
#define MUST(x) do {							\
	if ((x) != 0)							\
		CHECK(0, "building the test's data: " #x);		\
} while (0)
/* clang-format on */

/* clang-format off */
#define UNIT_DONE() do {						\
	printf("1..%d\n", unit_n);					\
	return unit_failed ? 1 : 0;					\
} while (0)
/* clang-format on */

#endif

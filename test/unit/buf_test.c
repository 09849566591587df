/*
 * buf_test.c: the buffer's contract (buf.h): a maximum that is never passed, a failure
 * that sticks until reset, no string from a failed buffer, secrets wiped.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "unit.h"

/* 1 if the n bytes at p are all zero. */
static int
zeroed(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != '\0')
			return 0;
	return 1;
}

static int
vadd(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

static void
test_max(void)
{
	struct buf b;

	buf_init(&b, 8);
	CHECK_STR(buf_cstr(&b), "", "a new buffer reads as the empty string");
	CHECK(b.data == NULL, "a new buffer holds no memory");
	CHECK(buf_add(&b, "abcd", 4) == 0 && buf_addstr(&b, "ef") == 0 && buf_addc(&b, 'g') == 0 &&
		buf_addc(&b, 'h') == 0,
	    "appends up to max succeed");
	CHECK(b.len == 8 && !buf_failed(&b), "exactly max bytes: len is max, not failed");
	CHECK_STR(buf_cstr(&b), "abcdefgh", "the bytes are there, NUL-terminated");
	CHECK(b.cap == 9, "the memory never grows past max and its NUL");
	CHECK(buf_addc(&b, 'i') == -1, "one byte past max fails");
	CHECK(b.len == 8 && memcmp(b.data, "abcdefgh", 9) == 0,
	    "the failed append appended nothing, the NUL is still in place");
	CHECK(buf_failed(&b), "the failure marks the buffer");
	buf_free(&b);

	buf_init(&b, 4);
	CHECK(buf_add(&b, "abcde", 5) == -1 && b.len == 0, "one append over max: nothing of it");
	CHECK(buf_failed(&b), "... and the mark");
	buf_free(&b);

	buf_init(&b, 0);
	CHECK(buf_add(&b, "", 0) == 0 && b.len == 0, "max 0: an empty append fits");
	CHECK_STR(buf_cstr(&b), "", "max 0: reads as the empty string");
	CHECK(buf_addc(&b, 'x') == -1 && buf_failed(&b), "max 0: one byte fails");
	buf_free(&b);

	/* Growth past the first allocation keeps every byte. */
	buf_init(&b, 100000);
	for (int i = 0; i < 10000; i++)
		MUST(buf_addf(&b, "%04d", i % 10000));
	CHECK(b.len == 40000 && memcmp(b.data + 39996, "9999", 4) == 0 &&
		memcmp(b.data, "00000001", 8) == 0,
	    "growth keeps what was appended");
	buf_free(&b);
}

static void
test_sticky(void)
{
	struct buf b;
	char *s;

	buf_init(&b, 5);
	MUST(buf_addstr(&b, "abc"));
	CHECK(buf_addstr(&b, "def") == -1, "an append that does not fit fails");
	CHECK(buf_addc(&b, 'd') == -1, "a later append that would fit fails too");
	CHECK(buf_add(&b, "", 0) == -1, "even an empty one");
	CHECK(buf_addf(&b, "%s", "") == -1 && vadd(&b, "x") == -1,
	    "addf and vaddf on a failed buffer fail");
	CHECK(b.len == 3 && memcmp(b.data, "abc", 4) == 0,
	    "a failed buffer keeps what fitted before the failure, and nothing after");
	CHECK(buf_cstr(&b) == NULL, "buf_cstr of a failed buffer is NULL");
	buf_consume(&b, 1);
	CHECK(buf_failed(&b) && b.len == 2, "consume drops bytes and keeps the mark");

	buf_reset(&b);
	CHECK(!buf_failed(&b) && b.len == 0, "reset clears the mark and the data");
	CHECK_STR(buf_cstr(&b), "", "after reset: the empty string");
	CHECK(buf_addstr(&b, "12345") == 0, "after reset the buffer takes max bytes again");
	CHECK_STR(buf_cstr(&b), "12345", "... and reads them");

	CHECK(buf_addc(&b, '6') == -1, "full again: fails");
	s = buf_steal(&b);
	CHECK(s == NULL, "buf_steal of a failed buffer is NULL");
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && !buf_failed(&b),
	    "... and leaves the buffer empty, released and usable, as buf_free does");
	CHECK(buf_addstr(&b, "ok") == 0, "the buffer works after a failed steal");
	s = buf_steal(&b);
	CHECK_STR(s, "ok", "buf_steal hands over the string");
	CHECK(b.data == NULL && b.len == 0, "... and leaves the buffer empty");
	free(s);
	s = buf_steal(&b);
	CHECK_STR(s, "", "buf_steal of an empty buffer is an owned empty string");
	free(s);

	MUST(buf_addstr(&b, "abc"));
	CHECK(buf_addstr(&b, "defghi") == -1, "failed once more");
	buf_free(&b);
	CHECK(!buf_failed(&b) && b.data == NULL, "buf_free clears the mark too");
	CHECK(buf_addstr(&b, "abcde") == 0, "a freed buffer can be used again, same max");
	buf_free(&b);
}

static void
test_addf(void)
{
	struct buf b;

	buf_init(&b, 5);
	CHECK(buf_addf(&b, "%d", 12345) == 0 && b.len == 5, "addf: exactly max fits");
	buf_reset(&b);
	CHECK(buf_addf(&b, "%d", 123456) == -1, "addf: one over max fails");
	CHECK(b.len == 0 && b.data[0] == '\0',
	    "addf: a failed format appends nothing "
	    "(no cut copy as snprintf would leave)");
	buf_reset(&b);
	MUST(buf_addstr(&b, "ab"));
	CHECK(buf_addf(&b, "%s", "cde") == 0, "addf: fits after earlier bytes");
	CHECK(buf_addf(&b, "%s", "") == 0 && !buf_failed(&b),
	    "addf of nothing on a full buffer fits");
	buf_reset(&b);
	MUST(buf_addstr(&b, "abc"));
	CHECK(vadd(&b, "%s-%d", "x", 7) == -1, "vaddf: over max fails");
	CHECK_STR(b.data, "abc", "vaddf: nothing appended");
	buf_reset(&b);
	CHECK(vadd(&b, "%s-%d", "x", 7) == 0, "vaddf: fits");
	CHECK_STR(buf_cstr(&b), "x-7", "vaddf: the formatted text");
	buf_free(&b);
}

static void
test_addjoin(void)
{
	char *v[] = { "alpha", "beta", "gamma" };
	struct buf b;

	buf_init(&b, 64);
	CHECK(buf_addjoin(&b, v, 3, ", ") == 0, "addjoin: fits");
	CHECK_STR(buf_cstr(&b), "alpha, beta, gamma", "addjoin: separators between only");
	buf_reset(&b);
	CHECK(buf_addjoin(&b, v, 0, ",") == 0 && b.len == 0, "addjoin of nothing: nothing");
	CHECK(buf_addjoin(&b, v, 1, ",") == 0, "addjoin of one");
	CHECK_STR(buf_cstr(&b), "alpha", "addjoin of one: no separator");
	buf_free(&b);

	buf_init(&b, 11);
	CHECK(buf_addjoin(&b, v, 3, ",") == -1, "addjoin: too long fails");
	CHECK(buf_failed(&b) && buf_cstr(&b) == NULL, "addjoin: the buffer is failed");
	CHECK(b.len == 10 && memcmp(b.data, "alpha,beta", 10) == 0,
	    "addjoin: the names that fitted stay, the next one is not cut");
	buf_free(&b);
}

static void
test_consume(void)
{
	struct buf b;

	buf_init(&b, 32);
	buf_consume(&b, 3);
	CHECK(b.len == 0 && b.data == NULL, "consume on an empty buffer: nothing happens");
	MUST(buf_addstr(&b, "line one\nline two\n"));
	buf_consume(&b, 9);
	CHECK_STR(buf_cstr(&b), "line two\n", "consume drops the front");
	buf_consume(&b, 100);
	CHECK(b.len == 0, "consume past the end empties it");
	CHECK_STR(buf_cstr(&b), "", "... and it reads as the empty string");
	buf_free(&b);
}

static void
test_secret(void)
{
	struct buf b;
	size_t cap;

	buf_init_secret(&b, 256);
	MUST(buf_addstr(&b, "hunter2"));
	cap = b.cap;
	buf_consume(&b, 3);
	CHECK_STR(b.data, "ter2", "secret consume keeps the rest");
	CHECK(zeroed(b.data + b.len, cap - b.len), "secret consume wipes what it dropped");
	buf_reset(&b);
	CHECK(b.cap == cap && zeroed(b.data, cap), "secret reset wipes the whole memory");
	/* Growth moves a secret by hand; what it moved must arrive whole. */
	for (int i = 0; i < 20; i++)
		MUST(buf_addstr(&b, "0123456789"));
	CHECK(b.len == 200 && b.cap > cap && memcmp(b.data + 190, "0123456789", 10) == 0,
	    "secret growth keeps the bytes");
	CHECK(buf_addstr(&b, "0123456789012345678901234567890123456789012345678901234567") == -1 &&
		buf_failed(&b),
	    "secret buffer: past max fails and marks");
	cap = b.cap;
	buf_reset(&b);
	CHECK(!buf_failed(&b) && zeroed(b.data, cap),
	    "a failed secret buffer is wiped by "
	    "reset, and unmarked");
	MUST(buf_addstr(&b, "pw"));
	CHECK(buf_addstr(&b, "x") == 0, "a secret buffer works after reset");
	buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0, "secret free releases it");
}

int
main(void)
{
	test_max();
	test_sticky();
	test_addf();
	test_addjoin();
	test_consume();
	test_secret();
	UNIT_DONE();
}

/*
 * qp_test.c: the quoted-printable body encoder (qp.h): what is encoded, where lines break.
 */
#include <stdlib.h>
#include <string.h>

#include "message/qp.h"
#include "unit.h"

/* The encoding of in, as a string (static storage). */
static const char *
enc(const char *in, size_t n)
{
	static char out[4096];
	struct qp q;
	char t[QP_OUT];
	size_t i, k, o = 0;

	qp_init(&q);
	for (i = 0; i < n; i++) {
		k = qp_byte(&q, (unsigned char)in[i], t);
		if (k > QP_OUT || o + k >= sizeof(out))
			return "(overflow)";
		memcpy(out + o, t, k);
		o += k;
	}
	out[o] = '\0';
	return out;
}

#define ENC(s) enc((s), sizeof(s) - 1)

/* 1 if no line of s is longer than QP_LINE (without its CRLF). */
static int
short_lines(const char *s)
{
	const char *nl;

	for (; (nl = strstr(s, "\r\n")) != NULL; s = nl + 2)
		if (nl - s > QP_LINE)
			return 0;
	return *s == '\0';
}

int
main(void)
{
	char in[400], want[400];
	const char *got;

	CHECK_STR(ENC("plain text\r\n"), "plain text\r\n", "printable ASCII stays");
	CHECK_STR(ENC("a=b\r\n"), "a=3Db\r\n", "'=' is encoded");
	CHECK_STR(ENC("caf\xc3\xa9\r\n"), "caf=C3=A9\r\n", "8-bit bytes are encoded");
	CHECK_STR(ENC("a b\tc\r\n"), "a b\tc\r\n", "inner white space stays");
	CHECK_STR(ENC("end \r\nend\t\r\n"), "end=20\r\nend=09\r\n",
	    "white space before a line end is encoded");
	CHECK_STR(ENC("two  \r\n"), "two =20\r\n", "only the last white space needs it");
	CHECK_STR(ENC("\r\n\r\n"), "\r\n\r\n", "empty lines stay");
	CHECK_STR(ENC("x\ry\r\n"), "xy\r\n", "a CR is dropped (input is CRLF)");
	CHECK_STR(ENC("\x7f\x01\r\n"), "=7F=01\r\n", "controls are encoded");

	/* 100 x: 75 and a soft break (76 with its '='), then the rest. */
	memset(in, 'x', 100);
	memcpy(in + 100, "\r\n", 3);
	memset(want, 'x', 75);
	memcpy(want + 75, "=\r\n", 3);
	memset(want + 78, 'x', 25);
	memcpy(want + 103, "\r\n", 3);
	CHECK_STR(enc(in, 102), want, "a long line breaks softly after 75 characters");

	/* An =XX is never cut by a soft break. */
	memset(in, 'x', 74);
	memcpy(in + 74, "=\r\n", 4);
	memset(want, 'x', 74);
	memcpy(want + 74, "=\r\n=3D\r\n", 9);
	CHECK_STR(enc(in, 77), want, "=XX moves to the next line whole");

	/* A held space that ends up inside the line still counts toward its length. */
	memset(in, 'y', 75);
	memcpy(in + 75, " z\r\n", 5);
	memset(want, 'y', 75);
	memcpy(want + 75, "=\r\n z\r\n", 8);
	CHECK_STR(enc(in, 79), want, "a held space is written before the next byte");

	memset(in, '\xe9', 300);
	memcpy(in + 300, " \r\n", 4);
	got = enc(in, 303);
	CHECK(short_lines(got), "300 encoded bytes: no line over 76");
	CHECK(strlen(got) > 900, "300 encoded bytes: all of them there");
	UNIT_DONE();
}

/*
 * qp.c: a quoted-printable encoder. See qp.h.
 */
#include <string.h>

#include "message/qp.h"

static const char hex[] = "0123456789ABCDEF";

/* t (n bytes) at o, after a soft line break when the line would grow past QP_LINE. */
static size_t
token(struct qp *q, char *out, size_t o, const char *t, size_t n)
{
	if (q->col + n > QP_LINE - 1) {
		memcpy(out + o, "=\r\n", 3);
		o += 3;
		q->col = 0;
	}
	memcpy(out + o, t, n);
	q->col += n;
	return o + n;
}

static size_t
encoded(struct qp *q, char *out, size_t o, unsigned char c)
{
	char t[3];

	t[0] = '=';
	t[1] = hex[c >> 4];
	t[2] = hex[c & 15];
	return token(q, out, o, t, 3);
}

void
qp_init(struct qp *q)
{
	memset(q, 0, sizeof(*q));
}

size_t
qp_byte(struct qp *q, unsigned char c, char out[QP_OUT])
{
	char t;
	size_t o = 0;

	if (c == '\r')
		return 0;
	if (c == '\n') {
		/* White space at the end of a line would be lost in transport: encode it. */
		if (q->ws != 0)
			o = encoded(q, out, o, (unsigned char)q->ws);
		q->ws = 0;
		q->col = 0;
		memcpy(out + o, "\r\n", 2);
		return o + 2;
	}
	if (q->ws != 0) {
		t = (char)q->ws;
		q->ws = 0;
		o = token(q, out, o, &t, 1);
	}
	if (c == ' ' || c == '\t') {
		q->ws = c;
		return o;
	}
	if (c >= 33 && c <= 126 && c != '=') {
		t = (char)c;
		return token(q, out, o, &t, 1);
	}
	return encoded(q, out, o, c);
}

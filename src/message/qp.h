/*
 * qp.h: a quoted-printable encoder (RFC 2045 6.7) for a message body, one byte at a time,
 * with no I/O: the caller writes what each byte turns into. intake.c uses it to re-encode
 * a text body that has lines too long for SMTP.
 *
 * Input is canonical text: CRLF line ends (a CR is dropped, an LF ends the line as CRLF).
 * Output lines are at most QP_LINE characters, the soft break's '=' included; white space
 * before a line end is encoded, since transport may strip it; '=' and bytes outside
 * 33..126 are encoded as =XX. The input must end with a line end (a space or tab held
 * back at its very end would otherwise be lost).
 */
#ifndef MAILOUT_QP_H
#define MAILOUT_QP_H

#include <stddef.h>

/* RFC 2045 6.7: an encoded line is at most 76 characters. */
#define QP_LINE 76
/* What one input byte can turn into: a soft break, a held white space, another soft
 * break and =XX. */
#define QP_OUT 16

struct qp {
	size_t col; /* characters on the current encoded line */
	int ws; /* a space or tab held back: encoded if the line ends after it */
};

/* Start an encoding. */
void qp_init(struct qp *q);
/* Encode byte c: its encoding goes into out; returns how many bytes (0 to QP_OUT). */
size_t qp_byte(struct qp *q, unsigned char c, char out[QP_OUT]);

#endif

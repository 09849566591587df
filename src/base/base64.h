/*
 * base64.h: base64 (RFC 4648, with padding) appended to a struct buf. Temporary copies are
 * wiped: what is encoded is often a secret (SASL, OAuth2).
 */
#ifndef MAILOUT_BASE64_H
#define MAILOUT_BASE64_H

#include <stddef.h>

struct buf;

/* Encode n bytes at p and append to out. 0, or -1 (over the buffer's max). */
int base64_encode(struct buf *out, const void *p, size_t n);
/* Decode s (len bytes) and append to out. 0, or -1 when s is not valid base64. */
int base64_decode(struct buf *out, const char *s, size_t len);

#endif

/*
 * base64.c: RFC 4648 base64 over struct buf, with mbedTLS's codec. See base64.h.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/mem.h"

int
base64_encode(struct buf *out, const void *p, size_t n)
{
	unsigned char *tmp = NULL;
	size_t need = 0, olen = 0;
	int rc = -1;

	/* Nothing encodes to nothing (mbedTLS then asks for no room, which reads as failure). */
	if (n == 0) {
		rc = 0;
		goto out;
	}
	/* Asking with no room tells the size, NUL included. */
	mbedtls_base64_encode(NULL, 0, &need, p, n);
	if (need == 0)
		goto out;
	tmp = xmalloc(need);
	if (mbedtls_base64_encode(tmp, need, &olen, p, n) != 0)
		goto out;
	rc = buf_add(out, tmp, olen);
out:
	if (tmp != NULL) {
		/* The encoding of a secret is as secret as the secret. */
		explicit_bzero(tmp, need);
		free(tmp);
	}
	return rc;
}

int
base64_decode(struct buf *out, const char *s, size_t len)
{
	unsigned char *tmp = NULL;
	size_t need = 0, olen = 0;
	size_t i;
	int rc = -1;

	/* mbedTLS skips embedded line breaks and spaces; on the wire they are an error. */
	for (i = 0; i < len; i++)
		if (s[i] == ' ' || s[i] == '\r' || s[i] == '\n' || s[i] == '\t' || s[i] == '\0')
			goto out;
	if (len == 0) {
		rc = 0;
		goto out;
	}
	if (mbedtls_base64_decode(NULL, 0, &need, (const unsigned char *)s, len) ==
	    MBEDTLS_ERR_BASE64_INVALID_CHARACTER)
		goto out;
	tmp = xmalloc(need + 1);
	if (mbedtls_base64_decode(tmp, need + 1, &olen, (const unsigned char *)s, len) != 0)
		goto out;
	rc = buf_add(out, tmp, olen);
out:
	if (tmp != NULL) {
		explicit_bzero(tmp, need + 1);
		free(tmp);
	}
	return rc;
}

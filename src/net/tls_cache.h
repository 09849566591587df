/*
 * tls_cache.h: the file that keeps an account's last TLS session for the next process to
 * resume (tls.h, "Session resumption"). It knows nothing of TLS: it stores an opaque,
 * secret blob (the serialized session) under a 32-byte key (what the session stands
 * for) with the time it was saved.
 *
 * The file: "mailout-tls-session 1", the key in hex and the time saved, a newline, then
 * the blob. Mode 0600 in a 0700 directory; written whole (a temporary file renamed over
 * the old one) so a reader sees one file or the other.
 */
#ifndef MAILOUT_TLS_CACHE_H
#define MAILOUT_TLS_CACHE_H

#include <stddef.h>
#include "base/bounds.h"

/*
 * The blob saved in path under key. 1 with *blob (free it with tls_cache_free) and *len;
 * 0 when there is none to offer: no file, another key, older than MAX_TLS_SESSION_AGE or
 * saved in the future, not a regular file of ours alone (mode 0600), or malformed.
 */
int tls_cache_load(const char *path, const unsigned char key[32], unsigned char **blob,
    size_t *len);
/*
 * Keep blob under key in path, making its directories (0700). A cache: failures are
 * ignored (the next connection makes a full handshake).
 */
void tls_cache_save(const char *path, const unsigned char key[32], const unsigned char *blob,
    size_t len);
/* Remove path: a session that failed must not be offered again. */
void tls_cache_drop(const char *path);
/* Wipe and free a blob from tls_cache_load. NULL is fine. */
void tls_cache_free(unsigned char *blob, size_t len);

#endif

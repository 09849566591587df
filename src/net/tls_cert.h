/*
 * tls_cert.h: a server's certificate in words, as --serverinfo, --test, the -v trace and
 * the messages of a failed verification show it: subject, issuer, names, validity and
 * SHA-256 fingerprint (struct tls_cert_info, tls.h), in printable ASCII only, since every
 * name in it comes from the server. And fingerprints as a user writes them.
 *
 * Private to net/: it speaks mbedTLS's certificate types, so only tls.c and tls_cert.c
 * include it (the files that include mbedTLS are these two, smtp/sasl.c,
 * secrets/oauth2.c and base/base64.c).
 */
#ifndef MAILOUT_TLS_CERT_H
#define MAILOUT_TLS_CERT_H

#include <stddef.h>

#include <mbedtls/x509_crt.h>

#include "net/tls.h"
#include "base/bounds.h"

/* Fill ci from c. Fields that do not fit are cut, quietly: they are for people. */
void tls_cert_describe(const mbedtls_x509_crt *c, struct tls_cert_info *ci);
/* Fill info's chain from the peer's certificates as sent, leaf first (MAX_TLS_CHAIN). */
void tls_cert_chain(const mbedtls_x509_crt *peer, struct tls_info *info);
/* A distinguished name, "CN=localhost, O=Example". */
void tls_cert_dn(const mbedtls_x509_name *dn, char *buf, size_t len);
/* What c says it is for: "CN=name, DNS:a, IP:1.2.3.4", or "" when it names nothing. */
void tls_cert_names(const mbedtls_x509_crt *c, char *buf, size_t len);

/* SHA-256 of n bytes (a DER certificate, a cache key). 0, or -1 on a library error. */
int tls_cert_sha256(const unsigned char *p, size_t n, unsigned char out[32]);
/* "AA:BB:..." for n bytes, cut to len. */
void tls_cert_hex(const unsigned char *p, size_t n, char *buf, size_t len);
/* Parse "sha256:AA:BB:..." (prefix and colons optional) into 32 bytes. 0 or -1. */
int tls_cert_fingerprint(const char *s, unsigned char out[32]);

#endif

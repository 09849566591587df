/*
 * jwt.h: JSON Web Tokens signed with RS256 (RFC 7515, RFC 7518 3.3), for the OAuth2
 * client assertions of RFC 7523: private_key_jwt (a Microsoft app's certificate) and
 * the JWT bearer grant (a Google service account). mbedTLS 2.28 and 3.6.
 *
 * Keys and certificates are PEM text the caller read (cred_file_all): this file does
 * no I/O. Errors are PERM CAUSE_CONFIG and name what (the config key and its file);
 * they never quote the key.
 */
#ifndef MAILOUT_JWT_H
#define MAILOUT_JWT_H

#include <stddef.h>

struct buf;
struct err;

/* base64url of a SHA-256 digest, without padding. */
#define JWT_THUMBPRINT_LEN 43

/*
 * x5t#S256 (RFC 7515 4.1.8): the base64url SHA-256 of the first certificate's DER in
 * pem (NUL-terminated). 0, or -1 with err.
 */
int jwt_thumbprint(const char *pem, const char *what, char out[JWT_THUMBPRINT_LEN + 1],
    struct err *e);

/*
 * The compact JWS BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(RS256
 * signature) of the two JSON texts, signed with the RSA private key in key_pem
 * (PKCS#1 or PKCS#8 PEM, NUL-terminated, unencrypted), into out (reset first; a secret
 * buffer is not needed: an assertion is short-lived, but it is wiped anyway by the
 * caller's choice). If cert_pem is not NULL, the key must be the certificate's. 0, or -1
 * with err.
 */
int jwt_sign(const char *key_pem, const char *what, const char *cert_pem, const char *header,
    const char *claims, struct buf *out, struct err *e);

#endif

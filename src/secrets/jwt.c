/*
 * jwt.c: RS256 JSON Web Tokens. See jwt.h.
 *
 * The differences between mbedTLS 2.28 and 3.6 are the random generator arguments of
 * the pk functions and PSA's set-up: the #if blocks on MBEDTLS_VERSION_NUMBER below.
 * PKCS#1 v1.5 signatures need no randomness, but mbedTLS blinds the RSA private
 * operation, and 3.6 wants a generator for that: getrandom(2) is one.
 */
#include <sys/random.h>

#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <psa/crypto.h>
#endif

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "secrets/jwt.h"
#include "secrets/oauth2.h"

static int
rng(void *ctx, unsigned char *out, size_t n)
{
	size_t got = 0;
	ssize_t r;

	(void)ctx;
	while (got < n) {
		if ((r = getrandom(out + got, n - got, 0)) <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int
jwt_thumbprint(const char *pem, const char *what, char out[JWT_THUMBPRINT_LEN + 1], struct err *e)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_x509_crt crt;
	unsigned char digest[32];
	int rc = -1;

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1) != 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: not a PEM certificate", what);
		goto out;
	}
	if (md == NULL || mbedtls_md(md, crt.raw.p, crt.raw.len, digest) != 0 ||
	    oauth2_b64url(digest, sizeof(digest), out, JWT_THUMBPRINT_LEN + 1) == -1) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "%s: cannot hash the certificate", what);
		goto out;
	}
	rc = 0;
out:
	mbedtls_x509_crt_free(&crt);
	return rc;
}

/* b64url(p) appended to out. */
static int
add_b64url(struct buf *out, const void *p, size_t n)
{
	char tmp[MAX_JWT_PART];

	if (oauth2_b64url(p, n, tmp, sizeof(tmp)) == -1)
		return -1;
	return buf_addstr(out, tmp);
}

static int
parse_key(mbedtls_pk_context *pk, const char *pem)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	return mbedtls_pk_parse_key(pk, (const unsigned char *)pem, strlen(pem) + 1, NULL, 0, rng,
	    NULL);
#else
	return mbedtls_pk_parse_key(pk, (const unsigned char *)pem, strlen(pem) + 1, NULL, 0);
#endif
}

/* 1 if the certificate's public key is key's. */
static int
pair_ok(mbedtls_pk_context *key, const char *cert_pem)
{
	mbedtls_x509_crt crt;
	int ok = 0;

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert_pem, strlen(cert_pem) + 1) ==
	    0)
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
		ok = mbedtls_pk_check_pair(&crt.pk, key, rng, NULL) == 0;
#else
		ok = mbedtls_pk_check_pair(&crt.pk, key) == 0;
#endif
	mbedtls_x509_crt_free(&crt);
	return ok;
}

int
jwt_sign(const char *key_pem, const char *what, const char *cert_pem, const char *header,
    const char *claims, struct buf *out, struct err *e)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_pk_context pk;
	unsigned char digest[32], sig[MAX_JWT_SIGNATURE];
	size_t siglen = 0;
	int rc = -1;

	mbedtls_pk_init(&pk);
	buf_reset(out);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	if (psa_crypto_init() != PSA_SUCCESS) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "cannot initialise PSA crypto");
		goto out;
	}
#endif
	if (parse_key(&pk, key_pem) != 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: not an unencrypted PEM private key "
		    "(BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)",
		    what);
		goto out;
	}
	if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: not an RSA key (RS256 signs with RSA; "
		    "create the certificate with an RSA key of 2048 bits or more)",
		    what);
		goto out;
	}
	if (cert_pem != NULL && !pair_ok(&pk, cert_pem)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s is not the private key of the certificate "
		    "(oauth_client_certificate)",
		    what);
		goto out;
	}
	if (add_b64url(out, header, strlen(header)) == -1 || buf_addc(out, '.') == -1 ||
	    add_b64url(out, claims, strlen(claims)) == -1) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "%s: the assertion is too long", what);
		goto out;
	}
	if (md == NULL ||
	    mbedtls_md(md, (const unsigned char *)out->data, out->len, digest) != 0 ||
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	    mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, digest, sizeof(digest), sig, sizeof(sig),
		&siglen, rng, NULL) != 0
#else
	    mbedtls_pk_get_len(&pk) > sizeof(sig) ||
	    mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, digest, sizeof(digest), sig, &siglen, rng,
		NULL) != 0
#endif
	) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: signing with the key failed (a key over "
		    "%d bits?)",
		    what, MAX_JWT_SIGNATURE * 8);
		goto out;
	}
	if (buf_addc(out, '.') == -1 || add_b64url(out, sig, siglen) == -1) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "%s: the assertion is too long", what);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		buf_reset(out);
	explicit_bzero(digest, sizeof(digest));
	mbedtls_pk_free(&pk);
	return rc;
}

/*
 * sasl.c: SASL mechanisms, with mbedTLS for the hashes, HMAC and PBKDF2.
 * See sasl.h. Only mbedTLS's crypto part is used here, which has the same API in 2.28 and
 * 3.x except for PBKDF2.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/version.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#include "base/base64.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "smtp/sasl.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/str.h"

/* RFC 5802 5.1: the client nonce; 24 random bytes are 32 base64 characters. */
#define SCRAM_NONCE_BYTES 24
/* Iteration counts a server may ask for: below 4096 is weak but some servers use it. */
#define SCRAM_MIN_ITER 1
#define SCRAM_DIGEST_LEN 32 /* SHA-256 */

enum scram_state { SCRAM_FIRST, SCRAM_FINAL, SCRAM_DONE };

struct sasl {
	enum sasl_mech mech;
	char *user;
	char *secret;
	char *host;
	unsigned port;
	int steps; /* challenges answered */
	int verified; /* SCRAM: server signature checked */
	char *server_error;
	/* SCRAM */
	char nonce[128];
	struct buf client_first_bare;
	unsigned char server_sig[SCRAM_DIGEST_LEN];
	size_t sig_len;
};

static const struct {
	enum sasl_mech mech;
	const char *name;
} mech_names[] = {
	{ SASL_PLAIN, "PLAIN" },
	{ SASL_LOGIN, "LOGIN" },
	{ SASL_CRAM_MD5, "CRAM-MD5" },
	{ SASL_SCRAM_SHA_1, "SCRAM-SHA-1" },
	{ SASL_SCRAM_SHA_256, "SCRAM-SHA-256" },
	{ SASL_EXTERNAL, "EXTERNAL" },
	{ SASL_XOAUTH2, "XOAUTH2" },
	{ SASL_OAUTHBEARER, "OAUTHBEARER" },
};

const char *
sasl_mech_name(enum sasl_mech m)
{
	size_t i;

	for (i = 0; i < sizeof(mech_names) / sizeof(mech_names[0]); i++)
		if (mech_names[i].mech == m)
			return mech_names[i].name;
	return "";
}

enum sasl_mech
sasl_mech_parse(const char *name)
{
	size_t i;

	if (name == NULL)
		return SASL_NONE;
	for (i = 0; i < sizeof(mech_names) / sizeof(mech_names[0]); i++)
		if (streq_ci(mech_names[i].name, name))
			return mech_names[i].mech;
	return SASL_NONE;
}

int
sasl_mech_cleartext(enum sasl_mech m)
{
	return m == SASL_PLAIN || m == SASL_LOGIN;
}

int
sasl_mech_token(enum sasl_mech m)
{
	return m == SASL_XOAUTH2 || m == SASL_OAUTHBEARER;
}

static int
is_scram(enum sasl_mech m)
{
	return m == SASL_SCRAM_SHA_1 || m == SASL_SCRAM_SHA_256;
}

struct sasl *
sasl_new(enum sasl_mech m, const struct sasl_params *p, struct err *e)
{
	struct sasl *sa = NULL;

	if (sasl_mech_name(m)[0] == '\0') {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "unknown SASL mechanism");
		goto out;
	}
	if (m != SASL_EXTERNAL && (p->user == NULL || p->user[0] == '\0')) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "mechanism %s needs a user name (user =)",
		    sasl_mech_name(m));
		goto out;
	}
	if (m != SASL_EXTERNAL && p->secret == NULL) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "mechanism %s needs a %s", sasl_mech_name(m),
		    sasl_mech_token(m) ? "token" : "password");
		goto out;
	}
	/* A line break or NUL inside would end the field early or split the protocol line. */
	if ((p->user != NULL && has_crlf(p->user)) || (p->secret != NULL && has_crlf(p->secret)) ||
	    (p->host != NULL && has_crlf(p->host))) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "the user name or %s contains a line break",
		    sasl_mech_token(m) ? "token" : "password");
		goto out;
	}
	sa = xcalloc(1, sizeof(*sa));
	sa->mech = m;
	sa->user = p->user != NULL ? xstrdup(p->user) : NULL;
	sa->secret = p->secret != NULL ? xstrdup(p->secret) : NULL;
	sa->host = p->host != NULL ? xstrdup(p->host) : NULL;
	sa->port = p->port;
	buf_init_secret(&sa->client_first_bare, MAX_AUTH_LINE);
out:
	return sa;
}

void
sasl_free(struct sasl *sa)
{
	if (sa == NULL)
		return;
	free(sa->user);
	secret_free(sa->secret);
	free(sa->host);
	free(sa->server_error);
	buf_free(&sa->client_first_bare);
	explicit_bzero(sa, sizeof(*sa));
	free(sa);
}

void
sasl_set_nonce(struct sasl *sa, const char *nonce)
{
	snprintf(sa->nonce, sizeof(sa->nonce), "%s", nonce);
}

const char *
sasl_server_error(const struct sasl *sa)
{
	return sa->server_error;
}

/* RFC 5802 5.1 saslname, also RFC 7628's a=: "," and "=" are escaped. */
static int
add_saslname(struct buf *b, const char *s)
{
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		if (*s == ',')
			rc = buf_addstr(b, "=2C");
		else if (*s == '=')
			rc = buf_addstr(b, "=3D");
		else
			rc = buf_addc(b, *s);
	}
	return rc;
}

static int
scram_nonce(struct sasl *sa)
{
	unsigned char raw[SCRAM_NONCE_BYTES];
	struct buf b;
	int rc = -1;

	buf_init(&b, sizeof(sa->nonce) - 1);
	if (sa->nonce[0] != '\0') {
		rc = 0;
		goto out;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		goto out;
	if (base64_encode(&b, raw, sizeof(raw)) == -1)
		goto out;
	memcpy(sa->nonce, b.data, b.len + 1);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int
sasl_initial(struct sasl *sa, struct buf *out, struct err *e)
{
	struct buf raw;
	int rc = -1;

	buf_init_secret(&raw, MAX_AUTH_LINE);
	buf_reset(out);
	switch (sa->mech) {
	case SASL_PLAIN:
		/* authzid (empty) NUL authcid NUL passwd */
		if (buf_addc(&raw, '\0') == -1 || buf_addstr(&raw, sa->user) == -1 ||
		    buf_addc(&raw, '\0') == -1 || buf_addstr(&raw, sa->secret) == -1)
			goto toolong;
		break;
	case SASL_LOGIN:
	case SASL_CRAM_MD5:
		rc = 0;
		goto out;
	case SASL_SCRAM_SHA_1:
	case SASL_SCRAM_SHA_256:
		if (scram_nonce(sa) == -1) {
			err_set(e, ERR_TEMP, CAUSE_OSERR, "no random bytes for the SCRAM nonce");
			goto out;
		}
		buf_reset(&sa->client_first_bare);
		if (buf_addstr(&sa->client_first_bare, "n=") == -1 ||
		    add_saslname(&sa->client_first_bare, sa->user) == -1 ||
		    buf_addf(&sa->client_first_bare, ",r=%s", sa->nonce) == -1)
			goto toolong;
		/* gs2-header "n,,": no channel binding, no authzid. */
		if (buf_addstr(&raw, "n,,") == -1 ||
		    buf_add(&raw, sa->client_first_bare.data, sa->client_first_bare.len) == -1)
			goto toolong;
		break;
	case SASL_EXTERNAL:
		/* Empty authzid: the server derives the identity from the certificate. */
		rc = 1;
		goto out;
	case SASL_XOAUTH2:
		if (buf_addf(&raw, "user=%s\001auth=Bearer %s\001\001", sa->user, sa->secret) ==
		    -1)
			goto toolong;
		break;
	case SASL_OAUTHBEARER:
		if (buf_addstr(&raw, "n,a=") == -1 || add_saslname(&raw, sa->user) == -1 ||
		    buf_addstr(&raw, ",\001") == -1)
			goto toolong;
		if (sa->host != NULL && buf_addf(&raw, "host=%s\001", sa->host) == -1)
			goto toolong;
		if (sa->port != 0 && buf_addf(&raw, "port=%u\001", sa->port) == -1)
			goto toolong;
		if (buf_addf(&raw, "auth=Bearer %s\001\001", sa->secret) == -1)
			goto toolong;
		break;
	default:
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "unknown SASL mechanism");
		goto out;
	}
	if (base64_encode(out, raw.data, raw.len) == -1)
		goto toolong;
	rc = 1;
	goto out;
toolong:
	err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: the user name and %s are too long",
	    sasl_mech_name(sa->mech), sasl_mech_token(sa->mech) ? "token" : "password");
out:
	buf_free(&raw);
	return rc;
}

/* Trailing blanks after a challenge are a server's sloppiness, not an attack. */
static int
decode_challenge(struct sasl *sa, const char *challenge, struct buf *dec, struct err *e)
{
	size_t len = strlen(challenge);
	int rc = 0;

	while (len > 0 && (challenge[len - 1] == ' ' || challenge[len - 1] == '\t'))
		len--;
	if (base64_decode(dec, challenge, len) == -1)
		rc = err_set(e, ERR_PERM, CAUSE_PROTOCOL,
		    "%s: the server's challenge is not "
		    "valid base64",
		    sasl_mech_name(sa->mech));
	return rc;
}

static int
hmac(mbedtls_md_type_t t, const void *key, size_t klen, const void *msg, size_t mlen,
    unsigned char *out)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(t);

	return md != NULL && mbedtls_md_hmac(md, key, klen, msg, mlen, out) == 0 ? 0 : -1;
}

static int
cram_md5(struct sasl *sa, const struct buf *chal, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[16];
	struct buf raw;
	size_t i;
	int rc = -1;

	buf_init_secret(&raw, MAX_AUTH_LINE);
	if (hmac(MBEDTLS_MD_MD5, sa->secret, strlen(sa->secret), chal->data, chal->len, mac) == -1)
		goto out;
	if (buf_addstr(&raw, sa->user) == -1 || buf_addc(&raw, ' ') == -1)
		goto out;
	for (i = 0; i < sizeof(mac); i++)
		if (buf_addc(&raw, hex[mac[i] >> 4]) == -1 ||
		    buf_addc(&raw, hex[mac[i] & 15]) == -1)
			goto out;
	rc = base64_encode(out, raw.data, raw.len);
out:
	explicit_bzero(mac, sizeof(mac));
	buf_free(&raw);
	return rc;
}

static int
pbkdf2(mbedtls_md_type_t t, const char *pw, const unsigned char *salt, size_t slen, unsigned iter,
    unsigned char *out, size_t olen)
{
	int rc;
#if MBEDTLS_VERSION_NUMBER >= 0x03030000
	rc = mbedtls_pkcs5_pbkdf2_hmac_ext(t, (const unsigned char *)pw, strlen(pw), salt, slen,
	    iter, (uint32_t)olen, out);
#else
	mbedtls_md_context_t ctx;

	mbedtls_md_init(&ctx);
	rc = mbedtls_md_setup(&ctx, mbedtls_md_info_from_type(t), 1);
	if (rc == 0)
		rc = mbedtls_pkcs5_pbkdf2_hmac(&ctx, (const unsigned char *)pw, strlen(pw), salt,
		    slen, iter, (uint32_t)olen, out);
	mbedtls_md_free(&ctx);
#endif
	return rc == 0 ? 0 : -1;
}

/* One attribute of a SCRAM message: "x=value" up to the next comma. */
static int
scram_attr(const char *s, size_t len, char name, const char **val, size_t *vlen)
{
	int rc = -1;

	if (len >= 2 && s[0] == name && s[1] == '=') {
		*val = s + 2;
		*vlen = len - 2;
		rc = 0;
	}
	return rc;
}

/*
 * server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count
 * ["," extensions]; answer with client-final-message and remember the signature the
 * server must prove it can compute.
 */
static int
scram_first(struct sasl *sa, const struct buf *sf, struct buf *out, struct err *e)
{
	mbedtls_md_type_t t = sa->mech == SASL_SCRAM_SHA_1 ? MBEDTLS_MD_SHA1 : MBEDTLS_MD_SHA256;
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(t);
	unsigned char salted[SCRAM_DIGEST_LEN], ckey[SCRAM_DIGEST_LEN];
	unsigned char stored[SCRAM_DIGEST_LEN], csig[SCRAM_DIGEST_LEN];
	unsigned char skey[SCRAM_DIGEST_LEN], proof[SCRAM_DIGEST_LEN];
	const char *p, *end, *comma, *v, *nonce = NULL;
	const char *salt_b64 = NULL, *iter_s = NULL;
	size_t vlen, nlen = 0, slen = 0, ilen = 0, dlen, i, ourlen = strlen(sa->nonce);
	struct buf salt, authmsg, final, itbuf;
	uint64_t iter;
	int rc = -1;

	buf_init(&salt, MAX_SCRAM_SALT);
	buf_init_secret(&authmsg, MAX_AUTH_LINE);
	buf_init_secret(&final, MAX_AUTH_LINE);
	buf_init(&itbuf, MAX_NUMBER_TEXT);
	if (md == NULL) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "%s: this mbedTLS lacks the hash",
		    sasl_mech_name(sa->mech));
		goto out;
	}
	dlen = mbedtls_md_get_size(md);
	/* An empty message has no data at all (NULL): no pointer arithmetic on it. */
	if (sf->len == 0 || memchr(sf->data, '\0', sf->len) != NULL)
		goto malformed;
	p = sf->data;
	end = sf->data + sf->len;
	if (sf->len >= 2 && p[0] == 'm' && p[1] == '=') {
		err_set(e, ERR_PERM, CAUSE_PROTOCOL,
		    "%s: the server requires an extension "
		    "(m=) that mailout does not support",
		    sasl_mech_name(sa->mech));
		goto out;
	}
	for (i = 0; p < end && i < 3; i++) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		if (i == 0 && scram_attr(p, (size_t)(comma - p), 'r', &v, &vlen) == 0) {
			nonce = v;
			nlen = vlen;
		} else if (i == 1 && scram_attr(p, (size_t)(comma - p), 's', &v, &vlen) == 0) {
			salt_b64 = v;
			slen = vlen;
		} else if (i == 2 && scram_attr(p, (size_t)(comma - p), 'i', &v, &vlen) == 0) {
			iter_s = v;
			ilen = vlen;
		} else
			goto malformed;
		p = comma < end ? comma + 1 : end;
	}
	if (nonce == NULL || salt_b64 == NULL || iter_s == NULL)
		goto malformed;
	/* The server must extend our nonce, or this is a replay or a confused server. */
	if (nlen <= ourlen || memcmp(nonce, sa->nonce, ourlen) != 0) {
		err_set(e, ERR_PERM, CAUSE_PROTOCOL,
		    "%s: the server's nonce does not begin "
		    "with ours: refusing to go on",
		    sasl_mech_name(sa->mech));
		goto out;
	}
	for (i = 0; i < nlen; i++)
		if ((unsigned char)nonce[i] < 0x21 || (unsigned char)nonce[i] > 0x7e)
			goto malformed;
	if (base64_decode(&salt, salt_b64, slen) == -1 || salt.len == 0)
		goto malformed;
	if (buf_add(&itbuf, iter_s, ilen) == -1 ||
	    parse_uint(itbuf.data, SCRAM_MIN_ITER, MAX_SCRAM_ITER, &iter) == -1) {
		err_set(e, ERR_PERM, CAUSE_PROTOCOL,
		    "%s: the server asks for an iteration "
		    "count of \"%.*s\" (accepted: %d to %d)",
		    sasl_mech_name(sa->mech), (int)(ilen < 32 ? ilen : 32), iter_s, SCRAM_MIN_ITER,
		    MAX_SCRAM_ITER);
		goto out;
	}

	if (pbkdf2(t, sa->secret, (unsigned char *)salt.data, salt.len, (unsigned)iter, salted,
		dlen) == -1 ||
	    hmac(t, salted, dlen, "Client Key", 10, ckey) == -1 ||
	    mbedtls_md(md, ckey, dlen, stored) != 0 ||
	    hmac(t, salted, dlen, "Server Key", 10, skey) == -1) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "%s: crypto failure",
		    sasl_mech_name(sa->mech));
		goto out;
	}
	/* client-final-message-without-proof; "biws" is base64 of the gs2-header "n,,". */
	if (buf_addstr(&final, "c=biws,r=") == -1 || buf_add(&final, nonce, nlen) == -1)
		goto toolong;
	if (buf_add(&authmsg, sa->client_first_bare.data, sa->client_first_bare.len) == -1 ||
	    buf_addc(&authmsg, ',') == -1 || buf_add(&authmsg, sf->data, sf->len) == -1 ||
	    buf_addc(&authmsg, ',') == -1 || buf_add(&authmsg, final.data, final.len) == -1)
		goto toolong;
	if (hmac(t, stored, dlen, authmsg.data, authmsg.len, csig) == -1 ||
	    hmac(t, skey, dlen, authmsg.data, authmsg.len, sa->server_sig) == -1) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "%s: crypto failure",
		    sasl_mech_name(sa->mech));
		goto out;
	}
	sa->sig_len = dlen;
	for (i = 0; i < dlen; i++)
		proof[i] = ckey[i] ^ csig[i];
	if (buf_addstr(&final, ",p=") == -1 || base64_encode(&final, proof, dlen) == -1 ||
	    base64_encode(out, final.data, final.len) == -1)
		goto toolong;
	rc = 0;
	goto out;
malformed:
	err_set(e, ERR_PERM, CAUSE_PROTOCOL, "%s: malformed server-first-message",
	    sasl_mech_name(sa->mech));
	goto out;
toolong:
	err_set(e, ERR_PERM, CAUSE_PROTOCOL, "%s: the exchange is too long",
	    sasl_mech_name(sa->mech));
out:
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(ckey, sizeof(ckey));
	explicit_bzero(stored, sizeof(stored));
	explicit_bzero(csig, sizeof(csig));
	explicit_bzero(skey, sizeof(skey));
	explicit_bzero(proof, sizeof(proof));
	buf_free(&salt);
	buf_free(&authmsg);
	buf_free(&final);
	buf_free(&itbuf);
	return rc;
}

/* server-final-message = (server-error / verifier) ["," extensions] */
static int
scram_final(struct sasl *sa, const struct buf *sf, struct err *e)
{
	const char *comma;
	size_t len = sf->len, i;
	unsigned char diff = 0;
	struct buf sig;
	int rc = -1;

	buf_init(&sig, MAX_SCRAM_SIGNATURE);
	if (sf->len == 0 || memchr(sf->data, '\0', sf->len) != NULL)
		goto malformed;
	if ((comma = memchr(sf->data, ',', sf->len)) != NULL)
		len = (size_t)(comma - sf->data);
	if (len >= 2 && sf->data[0] == 'e' && sf->data[1] == '=') {
		free(sa->server_error);
		sa->server_error = xstrndup(sf->data + 2, len - 2);
		err_set(e, ERR_PERM, CAUSE_NOPERM, "%s: the server refused the proof: %s",
		    sasl_mech_name(sa->mech), sa->server_error);
		goto out;
	}
	if (len < 2 || sf->data[0] != 'v' || sf->data[1] != '=' ||
	    base64_decode(&sig, sf->data + 2, len - 2) == -1)
		goto malformed;
	/* Constant time, though the value is no secret once sent: habit. */
	if (sig.len != sa->sig_len)
		diff = 1;
	for (i = 0; i < sa->sig_len && i < sig.len; i++)
		diff |= (unsigned char)sig.data[i] ^ sa->server_sig[i];
	if (diff != 0) {
		err_set(e, ERR_PERM, CAUSE_NOPERM,
		    "%s: server signature did not verify: the "
		    "server may not know your password or may be an impostor",
		    sasl_mech_name(sa->mech));
		goto out;
	}
	sa->verified = 1;
	rc = 0;
	goto out;
malformed:
	err_set(e, ERR_PERM, CAUSE_PROTOCOL, "%s: malformed server-final-message",
	    sasl_mech_name(sa->mech));
out:
	buf_free(&sig);
	return rc;
}

/* Keep the server's error for the message, printable and bounded. */
static void
keep_server_error(struct sasl *sa, const struct buf *dec)
{
	size_t i, n = dec->len < 1024 ? dec->len : 1024;

	free(sa->server_error);
	sa->server_error = xstrndup(dec->data != NULL ? dec->data : "", n);
	for (i = 0; sa->server_error[i] != '\0'; i++)
		if ((unsigned char)sa->server_error[i] < 0x20)
			sa->server_error[i] = ' ';
}

int
sasl_step(struct sasl *sa, const char *challenge, struct buf *out, struct err *e)
{
	struct buf dec;
	int step = sa->steps++, rc = -1;

	buf_init(&dec, MAX_AUTH_LINE);
	buf_reset(out);
	/* LOGIN's prompts are read by no one; some servers do not even encode them. */
	if (sa->mech != SASL_LOGIN && decode_challenge(sa, challenge, &dec, e) == -1)
		goto out;
	switch (sa->mech) {
	case SASL_LOGIN:
		/* "Username:" then "Password:"; the prompts' wording is not standard. */
		if (step > 1)
			goto unexpected;
		rc = base64_encode(out, step == 0 ? sa->user : sa->secret,
		    strlen(step == 0 ? sa->user : sa->secret));
		break;
	case SASL_CRAM_MD5:
		if (step > 0)
			goto unexpected;
		rc = cram_md5(sa, &dec, out);
		break;
	case SASL_SCRAM_SHA_1:
	case SASL_SCRAM_SHA_256:
		if (step == 0)
			rc = scram_first(sa, &dec, out, e);
		else if (step == 1)
			rc = scram_final(sa, &dec, e); /* answered with an empty line */
		else
			goto unexpected;
		break;
	case SASL_XOAUTH2:
	case SASL_OAUTHBEARER:
		if (step > 0)
			goto unexpected;
		keep_server_error(sa, &dec);
		/* Google asks for an empty line, RFC 7628 3.2.3 for a lone %x01. */
		rc = sa->mech == SASL_XOAUTH2 ? 0 : buf_addstr(out, "AQ==");
		break;
	default:
		goto unexpected;
	}
	if (rc == -1)
		err_set(e, ERR_PERM, CAUSE_PROTOCOL, "%s: cannot answer the server's challenge",
		    sasl_mech_name(sa->mech));
	goto out;
unexpected:
	err_set(e, ERR_PERM, CAUSE_PROTOCOL, "%s: the server sent an unexpected challenge",
	    sasl_mech_name(sa->mech));
	rc = -1;
out:
	buf_free(&dec);
	return rc;
}

int
sasl_finish(struct sasl *sa, struct err *e)
{
	int rc = 0;

	if (is_scram(sa->mech) && !sa->verified)
		rc = err_set(e, ERR_PERM, CAUSE_NOPERM,
		    "%s: the server accepted us without "
		    "proving that it knows the password (no server signature): not trusting it",
		    sasl_mech_name(sa->mech));
	return rc;
}

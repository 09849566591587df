/*
 * sasl.h: SASL mechanisms as encoders and decoders of challenges. No I/O, no SMTP verbs.
 *
 * A mechanism is driven by its caller (auth.c) over whatever protocol carries it:
 *
 *	sa = sasl_new(mech, &params, e);
 *	if (sasl_initial(sa, &out, e) == 1) ... send out with the command
 *	for each challenge (base64 text):  sasl_step(sa, challenge, &out, e) ... send out
 *	on success:  sasl_finish(sa, e)	(SCRAM: was the server's signature verified?)
 *	sasl_free(sa);
 *
 * Everything that goes in or out is base64 text as it appears on the wire. Responses are
 * written into a caller's buffer, which should be initialised with buf_init_secret: it
 * holds (encodings of) the secret. The mechanism's own copies of secrets are wiped by
 * sasl_free.
 *
 * Passwords (SASLprep, RFC 4013): ASCII passwords are used as they are, which is what
 * SASLprep gives for them. A non-ASCII password is passed through as its UTF-8 bytes
 * without normalization; servers that normalize may then disagree for exotic inputs.
 */
#ifndef MAILOUT_SASL_H
#define MAILOUT_SASL_H

#include <stddef.h>

struct buf;
struct err;
struct sasl;

enum sasl_mech {
	SASL_NONE = 0,
	SASL_PLAIN, /* RFC 4616: password in the clear (base64) */
	SASL_LOGIN, /* draft-murchison-sasl-login: same, in two steps */
	SASL_CRAM_MD5, /* RFC 2195: HMAC-MD5 of the server's challenge */
	SASL_SCRAM_SHA_1, /* RFC 5802 */
	SASL_SCRAM_SHA_256, /* RFC 7677 */
	SASL_EXTERNAL, /* RFC 4422 appendix A: the TLS client certificate */
	SASL_XOAUTH2, /* Google/Microsoft: user=U^Aauth=Bearer T^A^A */
	SASL_OAUTHBEARER, /* RFC 7628 */
};

struct sasl_params {
	const char *user; /* authentication identity; NULL for EXTERNAL */
	const char *secret; /* password, or bearer token for XOAUTH2/OAUTHBEARER */
	const char *host; /* OAUTHBEARER host=; may be NULL */
	unsigned port; /* OAUTHBEARER port=; 0 leaves it out */
};

/* "SCRAM-SHA-256" etc.; "" for SASL_NONE. */
const char *sasl_mech_name(enum sasl_mech m);
/* By name, case-insensitive ("cram-md5", "SCRAM-SHA-256"); SASL_NONE if unknown. */
enum sasl_mech sasl_mech_parse(const char *name);
/* 1 if the mechanism sends the password itself (recoverable by a listener): PLAIN, LOGIN. */
int sasl_mech_cleartext(enum sasl_mech m);
/* 1 if the secret is an OAuth2 bearer token: XOAUTH2, OAUTHBEARER. */
int sasl_mech_token(enum sasl_mech m);

/*
 * Start an exchange. The parameters are copied (secrets into wiped memory). Returns NULL
 * with err (PERM, CAUSE_CONFIG) if a needed parameter is missing or holds a CR, LF or NUL.
 */
struct sasl *sasl_new(enum sasl_mech m, const struct sasl_params *p, struct err *e);
/* Wipes and frees. NULL is fine. */
void sasl_free(struct sasl *sa);

/*
 * The initial response, base64, into out (reset first). Returns 1 when the mechanism
 * has one (an empty response leaves out empty: RFC 4954 writes it as "="), 0 when the
 * server speaks first (LOGIN, CRAM-MD5), -1 on error.
 */
int sasl_initial(struct sasl *sa, struct buf *out, struct err *e);

/*
 * Answer one server challenge (the base64 text of a 334 reply) into out (reset first).
 * Returns 0 with the response to send (possibly empty), or -1 with err set when the
 * exchange must be abandoned (the caller cancels it with "*"): an undecodable or
 * malformed challenge (PERM, CAUSE_PROTOCOL), a SCRAM server nonce that does not extend
 * ours, or a server signature that does not verify (PERM, CAUSE_NOPERM).
 *
 * XOAUTH2 and OAUTHBEARER: a challenge after the initial response is the server's error
 * (JSON); it is kept for sasl_server_error and answered as the mechanism requires (an
 * empty line, or "AQ==" for OAUTHBEARER), and the server then sends its failure reply.
 */
int sasl_step(struct sasl *sa, const char *challenge, struct buf *out, struct err *e);

/*
 * After the server said the exchange succeeded: 0 if the mechanism is satisfied, -1 with
 * err if not (SCRAM whose server signature never arrived: we cannot know that the server
 * knew the password, so we do not trust it).
 */
int sasl_finish(struct sasl *sa, struct err *e);

/* The decoded error the server sent (XOAUTH2/OAUTHBEARER JSON, SCRAM e=), or NULL. */
const char *sasl_server_error(const struct sasl *sa);

/* Test hook: use this SCRAM client nonce instead of 24 random bytes (before sasl_initial). */
void sasl_set_nonce(struct sasl *sa, const char *nonce);

#endif

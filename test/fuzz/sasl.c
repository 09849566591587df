/*
 * sasl.c: server challenges to the SASL mechanisms (smtp/sasl.c): each input line is the
 * text of one 334 reply, answered in turn by the chosen mechanism, then the exchange is
 * finished as after a 235. The SCRAM client nonce, the user and the password are those of
 * the seed exchanges (captured from Dovecot), so that real server messages verify.
 * Checked: every response is base64, LOGIN answers with the user then the password, the
 * OAuth2 mechanisms answer an error challenge as their specifications say, and a failed
 * step says why.
 *
 * Option byte: bits 0-2 the mechanism (LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256,
 * XOAUTH2, OAUTHBEARER, PLAIN, EXTERNAL), 3 the lines are raw bytes that the harness
 * base64-encodes (so the fuzzer works on the decoded messages).
 */
#include <string.h>

#include "base/base64.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "smtp/sasl.h"
#include "fuzz.h"

#define USER "user@example.test"
#define PASS "secret-pw"
#define NONCE "fyko+d2lbbFgONRv9qkxdawL"
/* More than any mechanism takes: the rest must be refused. */
#define MAX_STEPS 4

static const enum sasl_mech mechs[8] = {
	SASL_LOGIN,
	SASL_CRAM_MD5,
	SASL_SCRAM_SHA_1,
	SASL_SCRAM_SHA_256,
	SASL_XOAUTH2,
	SASL_OAUTHBEARER,
	SASL_PLAIN,
	SASL_EXTERNAL,
};

/* out decodes as base64; its bytes into dec. */
static void
check_b64(const struct buf *out, struct buf *dec)
{
	buf_reset(dec);
	FUZZ_ASSERT(base64_decode(dec, out->data != NULL ? out->data : "", out->len) == 0,
	    "a response is base64");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p, *end, *nl;
	struct sasl_params sp;
	struct buf out, dec, ch;
	struct sasl *sa;
	enum sasl_mech m;
	struct err e;
	unsigned opt;
	size_t len;
	int step, rc = 0;

	opt = fuzz_byte(&data, &size);
	m = mechs[opt & 7];
	memset(&sp, 0, sizeof(sp));
	sp.user = USER;
	sp.secret = PASS;
	sp.host = "smtp.example.com";
	sp.port = 587;
	err_init(&e);
	sa = sasl_new(m, &sp, &e);
	FUZZ_ASSERT(sa != NULL, "a mechanism starts");
	buf_init_secret(&out, MAX_AUTH_LINE);
	buf_init_secret(&dec, MAX_AUTH_LINE);
	buf_init(&ch, MAX_AUTH_LINE * 2);
	sasl_set_nonce(sa, NONCE);
	FUZZ_ASSERT(sasl_initial(sa, &out, &e) >= 0, "an initial response");
	check_b64(&out, &dec);
	p = (const char *)data;
	end = p + size;
	for (step = 0; p < end && step < MAX_STEPS; step++, p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		buf_reset(&ch);
		len = (size_t)(nl - p);
		if (opt & 0x08)
			FUZZ_ASSERT(base64_encode(&ch, p, len) == 0, "challenge fits");
		else
			FUZZ_ASSERT(buf_add(&ch, p, len) == 0, "challenge fits");
		err_init(&e);
		if ((rc = sasl_step(sa, buf_cstr(&ch), &out, &e)) == -1) {
			fuzz_note("sasl %s step %d: %s", sasl_mech_name(m), step, e.msg);
			FUZZ_ASSERT(err_failed(&e), "a refused challenge says why");
			break;
		}
		check_b64(&out, &dec);
		if (m == SASL_LOGIN)
			FUZZ_ASSERT(strcmp(buf_cstr(&dec), step == 0 ? USER : PASS) == 0,
			    "LOGIN answers the user, then the password");
		if (m == SASL_XOAUTH2)
			FUZZ_ASSERT(out.len == 0, "XOAUTH2 answers an error with an empty line");
		if (m == SASL_OAUTHBEARER)
			FUZZ_ASSERT(strcmp(buf_cstr(&out), "AQ==") == 0,
			    "OAUTHBEARER answers an error with %x01");
	}
	if (rc == 0) {
		err_init(&e);
		rc = sasl_finish(sa, &e);
		fuzz_note("sasl %s: %d steps, finish %d %s", sasl_mech_name(m), step, rc, e.msg);
		FUZZ_ASSERT(rc == 0 || err_failed(&e), "an unfinished exchange says why");
	}
	sasl_free(sa);
	buf_free(&out);
	buf_free(&dec);
	buf_free(&ch);
	return 0;
}

/*
 * oauth2.c: the JSON of OAuth2 (secrets/oauth2.c): the input as the body of a token
 * endpoint's answer, of a device authorization answer, and as the stored token file.
 * Checked: an accepted answer has a valid token and a lifetime in the future; a refused
 * one explains itself on one line; stored tokens written back read the same.
 *
 * Option byte: bits 0-1 the HTTP status (200, 400, 401, 502).
 */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "config/config.h"
#include "secrets/oauth2.h"
#include "fuzz.h"

#define NOW 1700000000

static int
one_line(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
token_ok(const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0'; s++, n++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return n > 0;
}

static void
token_answer(int status, const char *body, size_t len)
{
	struct oauth2_tokens t;
	struct oauth2_error oe;
	struct account a;
	struct err e;

	if (oauth2_parse_token(status, "Bad Request", body, len, NOW, &t, &oe) == 0) {
		FUZZ_ASSERT(status == 200, "only a 200 gives tokens");
		FUZZ_ASSERT(token_ok(t.access_token), "an access token is a token");
		FUZZ_ASSERT(t.refresh_token == NULL || token_ok(t.refresh_token),
		    "a refresh token is a token");
		FUZZ_ASSERT(t.expires_at >= NOW, "a lifetime is not in the past");
		oauth2_tokens_clear(&t);
		return;
	}
	FUZZ_ASSERT(t.access_token == NULL && t.refresh_token == NULL, "no tokens on failure");
	FUZZ_ASSERT(oe.text[0] != '\0' && one_line(oe.text) && one_line(oe.code),
	    "a refusal explains itself on one line");
	memset(&a, 0, sizeof(a));
	a.name = "fuzz";
	a.host = "smtp.example.com";
	a.user = "joe@example.com";
	a.oauth = OAUTH_GOOGLE;
	err_init(&e);
	oauth2_refresh_error(&a, "https://oauth2.example.com/token?x=1", status, &oe, &e);
	FUZZ_ASSERT(err_failed(&e), "a refused refresh is an error");
}

static void
device_answer(int status, const char *body, size_t len)
{
	struct oauth2_device d;
	struct oauth2_error oe;

	if (oauth2_parse_device(status, "Bad Request", body, len, &d, &oe) == 0) {
		FUZZ_ASSERT(token_ok(d.device_code), "a device code is a token");
		FUZZ_ASSERT(one_line(d.user_code) && one_line(d.verification_uri) &&
			(d.verification_uri_complete == NULL ||
			    one_line(d.verification_uri_complete)) &&
			(d.message == NULL || one_line(d.message)),
		    "what is shown is one line");
		FUZZ_ASSERT(d.expires_in > 0 && d.interval > 0, "positive times");
		oauth2_device_clear(&d);
	} else
		FUZZ_ASSERT(oe.text[0] != '\0' && one_line(oe.text),
		    "a refusal explains itself on one line");
}

static void
stored(const char *body, size_t len)
{
	struct oauth2_tokens t, back;
	struct buf out;
	struct err e;

	err_init(&e);
	if (oauth2_tokens_parse(body, len, &t, &e) == -1) {
		FUZZ_ASSERT(err_failed(&e), "a refused file says why");
		return;
	}
	FUZZ_ASSERT(token_ok(t.refresh_token), "a stored refresh token is a token");
	buf_init_secret(&out, 1024 * 1024);
	FUZZ_ASSERT(oauth2_tokens_format(&t, &out) == 0, "tokens read can be written");
	err_init(&e);
	FUZZ_ASSERT(oauth2_tokens_parse(out.data, out.len, &back, &e) == 0,
	    "tokens written can be read");
	FUZZ_ASSERT(strcmp(t.refresh_token, back.refresh_token) == 0 &&
		(t.access_token == NULL) == (back.access_token == NULL) &&
		(t.access_token == NULL || strcmp(t.access_token, back.access_token) == 0) &&
		t.expires_at == back.expires_at,
	    "tokens read back the same");
	oauth2_tokens_clear(&back);
	oauth2_tokens_clear(&t);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[4] = { 200, 400, 401, 502 };
	unsigned opt;
	int status;

	opt = fuzz_byte(&data, &size);
	status = statuses[opt & 3];
	token_answer(status, (const char *)data, size);
	device_answer(status, (const char *)data, size);
	stored((const char *)data, size);
	return 0;
}

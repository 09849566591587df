/*
 * sasl_test.c: SASL mechanisms against the RFCs' own examples, the AUTH line rule of
 * RFC 4954 and the mechanism choice.
 */
#include <stdlib.h>
#include <string.h>

#include "smtp/auth.h"
#include "base/base64.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/err.h"
#include "smtp/sasl.h"
#include "unit.h"

static char decoded[4096];

/* The base64 in b, decoded into a static string (NULs shown as '|', ^A as '^'). */
static const char *
dec(struct buf *b)
{
	struct buf d;
	size_t i;

	buf_init(&d, sizeof(decoded) - 1);
	if (base64_decode(&d, buf_cstr(b), b->len) == -1) {
		buf_free(&d);
		return "(bad base64)";
	}
	for (i = 0; i < d.len; i++)
		decoded[i] = d.data[i] == '\0' ? '|' : d.data[i] == '\001' ? '^' : d.data[i];
	decoded[d.len] = '\0';
	buf_free(&d);
	return decoded;
}

static const char *
enc(const char *s)
{
	static char out[4096];
	struct buf b;

	buf_init(&b, sizeof(out) - 1);
	base64_encode(&b, s, strlen(s));
	memcpy(out, buf_cstr(&b), b.len + 1);
	buf_free(&b);
	return out;
}

static struct sasl *
mk(enum sasl_mech m, const char *user, const char *secret)
{
	struct sasl_params p;
	struct err e;

	err_init(&e);
	memset(&p, 0, sizeof(p));
	p.user = user;
	p.secret = secret;
	p.host = "smtp.example.com";
	p.port = 587;
	return sasl_new(m, &p, &e);
}

static void
test_names(void)
{
	CHECK(sasl_mech_parse("cram-md5") == SASL_CRAM_MD5, "parse cram-md5");
	CHECK(sasl_mech_parse("SCRAM-SHA-256") == SASL_SCRAM_SHA_256, "parse SCRAM-SHA-256");
	CHECK(sasl_mech_parse("scram-sha-1") == SASL_SCRAM_SHA_1, "parse scram-sha-1");
	CHECK(sasl_mech_parse("gssapi") == SASL_NONE, "unknown mechanism");
	CHECK_STR(sasl_mech_name(SASL_OAUTHBEARER), "OAUTHBEARER", "name OAUTHBEARER");
	CHECK(sasl_mech_cleartext(SASL_PLAIN) && sasl_mech_cleartext(SASL_LOGIN) &&
		!sasl_mech_cleartext(SASL_CRAM_MD5),
	    "cleartext mechanisms are PLAIN and LOGIN");
}

static void
test_b64(void)
{
	struct buf b;

	buf_init(&b, 100);
	CHECK(base64_decode(&b, "dGVzdA==", 8) == 0 && strcmp(buf_cstr(&b), "test") == 0,
	    "base64 decode");
	buf_reset(&b);
	CHECK(base64_decode(&b, "dGV*dA==", 8) == -1, "base64 decode rejects junk");
	buf_reset(&b);
	CHECK(base64_decode(&b, "dGVz\r\ndA==", 10) == -1, "base64 decode rejects CRLF");
	buf_reset(&b);
	CHECK(base64_decode(&b, "", 0) == 0 && b.len == 0, "base64 empty");
	/* Found by the sasl fuzz target: encoding nothing failed (LOGIN's empty password). */
	CHECK(base64_encode(&b, "", 0) == 0 && b.len == 0, "base64 encodes nothing");
	buf_free(&b);
}

static void
test_plain_login(void)
{
	struct sasl *sa;
	struct buf out;
	struct err e;

	buf_init_secret(&out, 4096);
	err_init(&e);
	sa = mk(SASL_PLAIN, "tim", "tanstaaf");
	CHECK(sasl_initial(sa, &out, &e) == 1, "PLAIN has an initial response");
	CHECK_STR(buf_cstr(&out), "AHRpbQB0YW5zdGFhZg==", "PLAIN: NUL user NUL password");
	CHECK(sasl_step(sa, "", &out, &e) == -1, "PLAIN: a challenge after it is an error");
	sasl_free(sa);

	err_init(&e);
	sa = mk(SASL_LOGIN, "tim", "tanstaaf");
	CHECK(sasl_initial(sa, &out, &e) == 0, "LOGIN: no initial response");
	CHECK(sasl_step(sa, "VXNlcm5hbWU6", &out, &e) == 0 && strcmp(dec(&out), "tim") == 0,
	    "LOGIN: user name first");
	CHECK(sasl_step(sa, "UGFzc3dvcmQ6", &out, &e) == 0 && strcmp(dec(&out), "tanstaaf") == 0,
	    "LOGIN: then the password");
	CHECK(sasl_step(sa, "", &out, &e) == -1, "LOGIN: a third challenge is an error");
	CHECK(sasl_finish(sa, &e) == 0, "LOGIN: nothing to verify at the end");
	sasl_free(sa);

	err_init(&e);
	CHECK(mk(SASL_PLAIN, "tim", "pw\r\nMAIL FROM:<x>") == NULL,
	    "a CR LF in the password is refused");
	buf_free(&out);
}

static void
test_cram_md5(void)
{
	struct sasl *sa;
	struct buf out;
	struct err e;

	buf_init_secret(&out, 4096);
	err_init(&e);
	/* RFC 2195 section 2. */
	sa = mk(SASL_CRAM_MD5, "tim", "tanstaaftanstaaf");
	CHECK(sasl_initial(sa, &out, &e) == 0, "CRAM-MD5: server speaks first");
	CHECK(sasl_step(sa, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+", &out,
		  &e) == 0,
	    "CRAM-MD5: step");
	CHECK_STR(buf_cstr(&out), "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	    "CRAM-MD5: RFC 2195 example response");
	sasl_free(sa);
	buf_free(&out);
}

static void
test_scram(enum sasl_mech m, const char *cnonce, const char *sfirst, const char *cfinal,
    const char *sfinal, const char *label)
{
	char name[128];
	struct sasl *sa;
	struct buf out;
	struct err e;

	buf_init_secret(&out, 4096);
	err_init(&e);
	sa = mk(m, "user", "pencil");
	sasl_set_nonce(sa, cnonce);
	CHECK(sasl_initial(sa, &out, &e) == 1, label);
	snprintf(name, sizeof(name), "%s: client-first-message", label);
	snprintf(decoded + 2048, 1024, "n,,n=user,r=%s", cnonce);
	CHECK_STR(dec(&out), decoded + 2048, name);
	snprintf(name, sizeof(name), "%s: client-final-message with the RFC's proof", label);
	CHECK(sasl_step(sa, enc(sfirst), &out, &e) == 0, name);
	CHECK_STR(dec(&out), cfinal, name);
	snprintf(name, sizeof(name), "%s: sasl_finish before the server's proof fails", label);
	err_init(&e);
	CHECK(sasl_finish(sa, &e) == -1, name);
	err_init(&e);
	snprintf(name, sizeof(name), "%s: the RFC's server signature verifies", label);
	CHECK(sasl_step(sa, enc(sfinal), &out, &e) == 0 && out.len == 0, name);
	snprintf(name, sizeof(name), "%s: finish after verification", label);
	CHECK(sasl_finish(sa, &e) == 0, name);
	sasl_free(sa);

	/* The same exchange with a forged signature. */
	err_init(&e);
	sa = mk(m, "user", "pencil");
	sasl_set_nonce(sa, cnonce);
	sasl_initial(sa, &out, &e);
	sasl_step(sa, enc(sfirst), &out, &e);
	snprintf(name, sizeof(name), "%s: a forged server signature fails", label);
	CHECK(sasl_step(sa,
		  enc(m == SASL_SCRAM_SHA_1 ? "v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="
					    : "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
		  &out, &e) == -1,
	    name);
	snprintf(name, sizeof(name), "%s: forged: says so", label);
	CHECK(strstr(e.msg,
		  "server signature did not verify: the server may not know your "
		  "password or may be an impostor") != NULL &&
		e.cause == CAUSE_NOPERM,
	    name);
	err_init(&e);
	CHECK(sasl_finish(sa, &e) == -1, "forged: finish fails too");
	sasl_free(sa);

	/* Wrong password: same server messages, different proof, signature fails. */
	err_init(&e);
	sa = mk(m, "user", "pencil2");
	sasl_set_nonce(sa, cnonce);
	sasl_initial(sa, &out, &e);
	sasl_step(sa, enc(sfirst), &out, &e);
	snprintf(name, sizeof(name), "%s: another password gives another proof", label);
	CHECK(strcmp(dec(&out), cfinal) != 0, name);
	sasl_free(sa);
	buf_free(&out);
}

static void
scram_refuse(const char *sfirst, const char *want, const char *label)
{
	struct sasl *sa;
	struct buf out;
	struct err e;

	buf_init_secret(&out, 4096);
	err_init(&e);
	sa = mk(SASL_SCRAM_SHA_256, "user", "pencil");
	sasl_set_nonce(sa, "rOprNGfwEbeRWgbNEkqO");
	sasl_initial(sa, &out, &e);
	CHECK(sasl_step(sa, enc(sfirst), &out, &e) == -1 && strstr(e.msg, want) != NULL, label);
	if (strstr(e.msg, want) == NULL)
		printf("#   msg: %s\n", e.msg);
	sasl_free(sa);
	buf_free(&out);
}

static void
test_scram_misc(void)
{
	struct sasl *sa, *sb;
	struct buf out, out2;
	struct err e;
	const char *d;

	scram_refuse("r=XXXXNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	    "does not begin with ours", "SCRAM: a server nonce not extending ours is refused");
	scram_refuse("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	    "does not begin with ours", "SCRAM: a server nonce equal to ours is refused");
	scram_refuse("r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0", "iteration count",
	    "SCRAM: iteration count 0 is refused");
	scram_refuse("r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001",
	    "iteration count", "SCRAM: iteration count over 1000000 is refused");
	scram_refuse("m=ext,r=rOprNGfwEbeRWgbNEkqOabc,s=W22Z,i=4096", "extension",
	    "SCRAM: a mandatory extension is refused");
	scram_refuse("r=rOprNGfwEbeRWgbNEkqOabc,i=4096", "malformed",
	    "SCRAM: a missing salt is malformed");
	/* Found by the sasl fuzz target: an empty challenge was arithmetic on NULL (UB). */
	scram_refuse("", "malformed server-first", "SCRAM: an empty first challenge");

	/* e= from the server. */
	buf_init_secret(&out, 4096);
	buf_init_secret(&out2, 4096);
	err_init(&e);
	sa = mk(SASL_SCRAM_SHA_256, "user", "pencil");
	sasl_set_nonce(sa, "rOprNGfwEbeRWgbNEkqO");
	sasl_initial(sa, &out, &e);
	sasl_step(sa, enc("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"), &out, &e);
	CHECK(sasl_step(sa, enc("e=invalid-proof"), &out, &e) == -1 &&
		strcmp(sasl_server_error(sa), "invalid-proof") == 0,
	    "SCRAM: server error e=");
	sasl_free(sa);
	err_init(&e);
	sa = mk(SASL_SCRAM_SHA_256, "user", "pencil");
	sasl_set_nonce(sa, "rOprNGfwEbeRWgbNEkqO");
	sasl_initial(sa, &out, &e);
	sasl_step(sa, enc("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"), &out, &e);
	CHECK(sasl_step(sa, "", &out, &e) == -1 && strstr(e.msg, "malformed server-final"),
	    "SCRAM: an empty final challenge");
	sasl_free(sa);

	/* Random nonces: 24 bytes, 32 base64 characters, different each time. */
	err_init(&e);
	sa = mk(SASL_SCRAM_SHA_1, "a,b=c", "pw");
	sb = mk(SASL_SCRAM_SHA_1, "a,b=c", "pw");
	sasl_initial(sa, &out, &e);
	sasl_initial(sb, &out2, &e);
	d = dec(&out);
	CHECK(strncmp(d, "n,,n=a=2Cb=3Dc,r=", 17) == 0, "SCRAM: saslname escapes , and =");
	CHECK(strlen(d) == 17 + 32, "SCRAM: client nonce is 32 characters");
	CHECK(strcmp(buf_cstr(&out), buf_cstr(&out2)) != 0, "SCRAM: nonces differ");
	sasl_free(sa);
	sasl_free(sb);
	buf_free(&out);
	buf_free(&out2);
}

static void
test_oauth(void)
{
	struct sasl *sa;
	struct buf out;
	struct err e;
	const char *json = "{\"status\":\"401\",\"schemes\":\"bearer\"}";

	buf_init_secret(&out, 4096);
	err_init(&e);
	sa = mk(SASL_XOAUTH2, "someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
	CHECK(sasl_initial(sa, &out, &e) == 1, "XOAUTH2 has an initial response");
	CHECK_STR(dec(&out),
	    "user=someuser@example.com^auth=Bearer "
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg^^",
	    "XOAUTH2 encoding");
	CHECK_STR(buf_cstr(&out),
	    "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5L"
	    "nZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==",
	    "XOAUTH2: Google's documented example");
	CHECK(sasl_step(sa, enc(json), &out, &e) == 0 && out.len == 0,
	    "XOAUTH2: error challenge answered with an empty line");
	CHECK_STR(sasl_server_error(sa), json, "XOAUTH2: the server's JSON is kept");
	sasl_free(sa);

	err_init(&e);
	sa = mk(SASL_OAUTHBEARER, "user@example.com",
	    "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==");
	CHECK(sasl_initial(sa, &out, &e) == 1, "OAUTHBEARER has an initial response");
	CHECK_STR(dec(&out),
	    "n,a=user@example.com,^host=smtp.example.com^port=587^"
	    "auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==^^",
	    "OAUTHBEARER encoding (RFC 7628 3.2)");
	CHECK(sasl_step(sa, enc(json), &out, &e) == 0, "OAUTHBEARER: error challenge");
	CHECK_STR(buf_cstr(&out), "AQ==", "OAUTHBEARER: answered with %x01");
	CHECK_STR(sasl_server_error(sa), json, "OAUTHBEARER: the server's JSON is kept");
	CHECK(sasl_step(sa, "", &out, &e) == -1, "OAUTHBEARER: a second challenge is an error");
	sasl_free(sa);

	err_init(&e);
	sa = mk(SASL_EXTERNAL, NULL, NULL);
	CHECK(sa != NULL && sasl_initial(sa, &out, &e) == 1 && out.len == 0,
	    "EXTERNAL: empty initial response");
	sasl_free(sa);
	buf_free(&out);
}

static void
test_line_rule(void)
{
	/* "AUTH PLAIN " is 11 octets, CRLF 2: 499 octets of response make 512. */
	CHECK(auth_initial_fits("PLAIN", 499), "512 octets: the initial response goes inline");
	CHECK(!auth_initial_fits("PLAIN", 500), "513 octets: after an empty 334 instead");
	CHECK(auth_initial_fits("XOAUTH2", 497) && !auth_initial_fits("XOAUTH2", 498),
	    "the rule counts the mechanism name");
	CHECK(auth_initial_fits("EXTERNAL", 0), "an empty response is \"=\"");
}

static struct account
acct(const char *auth, const char *user, int allow)
{
	struct account a;

	memset(&a, 0, sizeof(a));
	a.name = "work";
	a.host = "smtp.example.com";
	a.port = 587;
	a.auth = (char *)auth;
	a.user = (char *)user;
	a.allow_plaintext_auth = allow;
	a.tls = TLS_STARTTLS;
	return a;
}

static void
choose(const char *auth, const char *user, int allow, const char *offers, int tls, int want_rc,
    enum sasl_mech want, const char *want_msg, const char *label)
{
	struct account a = acct(auth, user, allow);
	enum sasl_mech m;
	struct err e;
	int rc;

	err_init(&e);
	rc = auth_choose(&a, offers, tls, &m, &e);
	CHECK(rc == want_rc && (rc != 1 || m == want) &&
		(want_msg == NULL || strstr(e.msg, want_msg) != NULL),
	    label);
	if (want_msg != NULL && strstr(e.msg, want_msg) == NULL)
		printf("#   msg: %s\n", e.msg);
}

static void
test_choose(void)
{
	choose("auto", "joe", 0, "PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256 CRAM-MD5", 1, 1,
	    SASL_SCRAM_SHA_256, NULL, "auto takes SCRAM-SHA-256 first");
	choose("auto", "joe", 0, "LOGIN PLAIN CRAM-MD5", 1, 1, SASL_PLAIN, NULL,
	    "auto: PLAIN before LOGIN and CRAM-MD5 over TLS");
	choose("auto", "joe", 0, "LOGIN PLAIN CRAM-MD5", 0, 1, SASL_CRAM_MD5, NULL,
	    "auto without TLS: CRAM-MD5, not PLAIN");
	choose("auto", "joe", 1, "PLAIN LOGIN", 0, -1, SASL_NONE, "send the password in the clear",
	    "auto without TLS never picks PLAIN");
	choose("auto", NULL, 0, "PLAIN", 1, 0, SASL_NONE, NULL, "auto without user: no AUTH");
	choose("off", "joe", 0, "PLAIN", 1, 0, SASL_NONE, NULL, "auth = off: no AUTH");
	choose("auto", "joe", 0, "", 1, -1, SASL_NONE,
	    "the server offers no authentication (AUTH) but account work has user joe",
	    "no AUTH offered but a user");
	choose("plain", "joe", 0, "PLAIN", 0, -1, SASL_NONE, "allow_plaintext_auth = yes",
	    "auth = plain without TLS needs allow_plaintext_auth");
	choose("plain", "joe", 1, "PLAIN", 0, 1, SASL_PLAIN, NULL,
	    "auth = plain without TLS with allow_plaintext_auth");
	choose("login", "joe", 0, "PLAIN LOGIN", 1, 1, SASL_LOGIN, NULL, "auth = login");
	choose("cram-md5", "joe", 0, "PLAIN", 1, -1, SASL_NONE, "does not offer",
	    "a forced mechanism the server lacks");
	choose("xoauth2", "joe", 0, "XOAUTH2 PLAIN", 1, 1, SASL_XOAUTH2, NULL, "auth = xoauth2");
	choose("kerberos", "joe", 0, "PLAIN", 1, -1, SASL_NONE, "not a mechanism",
	    "unknown auth value");
	choose("xoauth2", "joe", 0, "XOAUTH2", 0, -1, SASL_NONE, "send the token in the clear",
	    "a bearer token is not sent without TLS either");
	choose("external", NULL, 0, "EXTERNAL", 1, 1, SASL_EXTERNAL, NULL,
	    "auth = external needs no user");
}

static void
choose_oauth(enum oauth_provider prov, const char *offers, int tls, int want_rc,
    enum sasl_mech want, const char *label)
{
	struct account a = acct("auto", "joe@example.com", 0);
	enum sasl_mech m;
	struct err e;

	err_init(&e);
	a.oauth = prov;
	CHECK(auth_choose(&a, offers, tls, &m, &e) == want_rc && (want_rc != 1 || m == want),
	    label);
}

static void
test_choose_oauth(void)
{
	choose_oauth(OAUTH_GOOGLE, "PLAIN XOAUTH2 OAUTHBEARER", 1, 1, SASL_OAUTHBEARER,
	    "oauth = google: OAUTHBEARER first");
	choose_oauth(OAUTH_GOOGLE, "PLAIN XOAUTH2", 1, 1, SASL_XOAUTH2,
	    "oauth = google: else XOAUTH2");
	choose_oauth(OAUTH_MICROSOFT, "LOGIN XOAUTH2 OAUTHBEARER", 1, 1, SASL_XOAUTH2,
	    "oauth = microsoft: XOAUTH2");
	choose_oauth(OAUTH_GOOGLE, "PLAIN LOGIN", 1, -1, SASL_NONE,
	    "oauth without a token mechanism offered: error, no password fallback");
	choose_oauth(OAUTH_GOOGLE, "XOAUTH2 OAUTHBEARER", 0, -1, SASL_NONE,
	    "oauth without TLS: error");
}

static void
test_hints(void)
{
	CHECK(auth_hint(534,
		  "5.7.9 Application-specific password required. Learn more at\n"
		  "5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor") != NULL &&
		strstr(auth_hint(534, "5.7.9 x"), "app password") != NULL,
	    "Gmail 534-5.7.9");
	CHECK(
	    auth_hint(535,
		"5.7.8 Username and Password not accepted. For more "
		"information, go to\n5.7.8  https://support.google.com/mail/?p=BadCredentials") !=
		NULL,
	    "Gmail 535-5.7.8");
	CHECK(strstr(auth_hint(535,
			 "5.7.139 Authentication unsuccessful, SmtpClientAuth"
			 "entication is disabled for the Tenant."),
		  "disabled") != NULL,
	    "M365 5.7.139");
	CHECK(strstr(auth_hint(535, "5.7.3 Authentication unsuccessful [X.prod.outlook.com]"),
		  "wrong credentials") != NULL,
	    "M365 5.7.3");
	CHECK(auth_hint(535, "5.7.8 Authentication credentials invalid") == NULL,
	    "no hint for a plain 535");
}

int
main(void)
{
	test_names();
	test_b64();
	test_plain_login();
	test_cram_md5();
	/* RFC 5802 section 5. */
	test_scram(SASL_SCRAM_SHA_1, "fyko+d2lbbFgONRv9qkxdawL",
	    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
	    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", "SCRAM-SHA-1 RFC 5802");
	/* RFC 7677 section 3. */
	test_scram(SASL_SCRAM_SHA_256, "rOprNGfwEbeRWgbNEkqO",
	    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
	    "i=4096",
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "SCRAM-SHA-256 RFC 7677");
	test_scram_misc();
	test_oauth();
	test_line_rule();
	test_choose();
	test_choose_oauth();
	test_hints();
	UNIT_DONE();
}

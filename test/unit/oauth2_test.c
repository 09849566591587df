/*
 * oauth2_test.c: PKCE against RFC 7636 appendix B, URL and form coding, the stored token
 * JSON, token and device endpoint answers (Google's and Microsoft's shapes), the error
 * classification, the providers, and the HTTP response parser over a pipe.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "config/config.h"
#include "base/err.h"
#include "net/http.h"
#include "smtp/auth.h"
#include "secrets/oauth2.h"
#include "net/fdstream.h"
#include "net/stream.h"
#include "unit.h"

/* A literal and its length. */
#define P(s) s, sizeof(s) - 1
#define RAW(s) P(s)

static void
test_pkce(void)
{
	/* RFC 7636 appendix B: the 32 octets, their base64url, and the S256 challenge. */
	static const unsigned char octets[32] = {
		116,
		24,
		223,
		180,
		151,
		153,
		224,
		37,
		79,
		250,
		96,
		125,
		216,
		173,
		187,
		186,
		22,
		212,
		37,
		77,
		105,
		214,
		191,
		240,
		91,
		88,
		5,
		88,
		83,
		132,
		141,
		121,
	};
	char v[OAUTH2_VERIFIER_LEN + 1], c[OAUTH2_CHALLENGE_LEN + 1], r1[64], r2[64];

	CHECK(oauth2_b64url(octets, sizeof(octets), v, sizeof(v)) == 0, "b64url of B octets");
	CHECK_STR(v, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "RFC 7636 B verifier");
	CHECK(oauth2_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", c) == 0,
	    "S256 challenge computed");
	CHECK_STR(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "RFC 7636 B challenge");
	CHECK(oauth2_b64url(octets, sizeof(octets), v, 20) == -1,
	    "b64url refuses a short "
	    "buffer");
	CHECK(oauth2_random_b64url(32, r1, sizeof(r1)) == 0 && strlen(r1) == 43,
	    "random verifier is 43 characters");
	CHECK(oauth2_random_b64url(32, r2, sizeof(r2)) == 0 && strcmp(r1, r2) != 0,
	    "two random verifiers differ");
	CHECK(strpbrk(r1, "+/=") == NULL, "random verifier is base64url without padding");
}

static void
test_urlcoding(void)
{
	struct buf b, out;

	buf_init(&b, 1024);
	buf_init(&out, 1024);
	MUST(http_urlencode(&b, "a b&c=d/\xc3\xa9~-._"));
	CHECK_STR(buf_cstr(&b), "a%20b%26c%3Dd%2F%C3%A9~-._",
	    "percent-encoding keeps only "
	    "unreserved");
	buf_reset(&b);
	MUST(http_form_add(&b, "grant_type", "refresh_token"));
	MUST(http_form_add(&b, "scope", "https://outlook.office.com/SMTP.Send offline_access"));
	CHECK_STR(buf_cstr(&b),
	    "grant_type=refresh_token&scope=https%3A%2F%2Foutlook.office"
	    ".com%2FSMTP.Send%20offline_access",
	    "form fields joined with &");

	CHECK(http_query_get("?code=4%2F0Ab-x&state=xyz&scope=a+b", "code", &out) == 1,
	    "query: code found");
	CHECK_STR(buf_cstr(&out), "4/0Ab-x", "query: code decoded");
	buf_reset(&out);
	CHECK(http_query_get("code=1&scope=a+b%20c", "scope", &out) == 1 &&
		strcmp(buf_cstr(&out), "a b c") == 0,
	    "query: + and %20 are spaces");
	buf_reset(&out);
	CHECK(http_query_get("xcode=1&codex=2", "code", &out) == 0,
	    "query: no partial "
	    "key match");
	CHECK(http_query_get("code=%G1", "code", &out) == -1, "query: bad escape refused");
	buf_reset(&out);
	CHECK(http_query_get("code=a%00b", "code", &out) == -1, "query: %00 refused");
	buf_reset(&out);
	CHECK(http_query_get("code=ab%2", "code", &out) == -1, "query: truncated escape");
	buf_reset(&out);
	CHECK(http_query_get("state=&code=", "state", &out) == 1 && out.len == 0,
	    "query: empty value");
	buf_free(&b);
	buf_free(&out);
}

static void
test_tokens_json(void)
{
	struct oauth2_tokens t;
	struct buf b;
	struct err e;
	const char *full = "{\"refresh_token\":\"1//0g-abc\",\"access_token\":\"ya29.x\","
			   "\"expires_at\":1700000000}";
	const char *only = "{ \"refresh_token\" : \"M.C5_BAY.-x!\" }\n";

	buf_init(&b, 4096);
	err_init(&e);
	CHECK(oauth2_tokens_parse(full, strlen(full), &t, &e) == 0, "stored JSON parsed");
	CHECK_STR(t.refresh_token, "1//0g-abc", "refresh_token read");
	CHECK_STR(t.access_token, "ya29.x", "access_token read");
	CHECK(t.expires_at == 1700000000, "expires_at read");
	CHECK(oauth2_tokens_format(&t, &b) == 0, "formatted");
	CHECK_STR(buf_cstr(&b), full, "format is the stored form");
	oauth2_tokens_clear(&t);

	CHECK(oauth2_tokens_parse(only, strlen(only), &t, &e) == 0,
	    "refresh_token alone "
	    "is valid");
	CHECK(t.access_token == NULL && t.expires_at == 0, "no access token then");
	oauth2_tokens_format(&t, &b);
	CHECK_STR(buf_cstr(&b), "{\"refresh_token\":\"M.C5_BAY.-x!\"}", "written back as is");
	oauth2_tokens_clear(&t);

	err_init(&e);
	CHECK(oauth2_tokens_parse(P("{\"access_token\":\"a\"}"), &t, &e) == -1 &&
		e.kind == ERR_PERM && e.cause == CAUSE_CONFIG,
	    "no refresh_token: config error");
	CHECK(strstr(e.msg, "refresh_token") != NULL, "message names refresh_token");
	err_init(&e);
	CHECK(oauth2_tokens_parse(P("[1]"), &t, &e) == -1, "an array is refused");
	err_init(&e);
	CHECK(oauth2_tokens_parse(P("{\"refresh_token\":5}"), &t, &e) == -1,
	    "a number as refresh_token is refused");
	err_init(&e);
	CHECK(oauth2_tokens_parse(P("{\"refresh_token\":\"a b\"}"), &t, &e) == -1,
	    "a token with a space is refused");
	err_init(&e);
	CHECK(oauth2_tokens_parse(P("{\"refresh_token\":\"r\",\"expires_at\":\"soon\"}"), &t,
		  &e) == -1,
	    "a non-numeric expires_at is refused");
	err_init(&e);
	CHECK(oauth2_tokens_parse(P("{\"refresh_token\":\"r\",\"access_token\":null}"), &t, &e) ==
		    0 &&
		t.access_token == NULL,
	    "access_token null is none");
	oauth2_tokens_clear(&t);
	CHECK(oauth2_tokens_parse(P("{\"refresh_token\":\"r\""), &t, &e) == -1,
	    "truncated JSON refused");

	t.refresh_token = strdup("a\"b\\c");
	t.access_token = NULL;
	oauth2_tokens_format(&t, &b);
	CHECK_STR(buf_cstr(&b), "{\"refresh_token\":\"a\\\"b\\\\c\"}", "JSON escaping");
	oauth2_tokens_clear(&t);

	/* An app grant's file: an access token and its expiry, no refresh token. */
	CHECK(oauth2_tokens_parse_app(P("{\"access_token\":\"at-1\",\"expires_at\":5}"), &t, &e) ==
		    0 &&
		t.refresh_token == NULL && t.expires_at == 5,
	    "app tokens without refresh_token parsed");
	CHECK(oauth2_tokens_format(&t, &b) == 0, "app tokens formatted");
	CHECK_STR(buf_cstr(&b), "{\"access_token\":\"at-1\",\"expires_at\":5}",
	    "written without refresh_token");
	oauth2_tokens_clear(&t);
	err_init(&e);
	CHECK(oauth2_tokens_parse(P("{\"access_token\":\"at-1\",\"expires_at\":5}"), &t, &e) == -1,
	    "a person's grant still needs its refresh_token");
	err_init(&e);
	CHECK(oauth2_tokens_parse_app(P("{\"refresh_token\":\"a b\",\"access_token\":\"x\"}"), &t,
		  &e) == -1,
	    "an app file's refresh_token, when present, is still checked");
	buf_free(&b);
}

static void
test_token_answers(void)
{
	struct oauth2_tokens t;
	struct oauth2_error oe;
	const char *google =
	    "{\n  \"access_token\": \"ya29.a0Af\",\n  \"expires_in\": 3599,\n"
	    "  \"scope\": \"https://mail.google.com/\",\n  \"token_type\": \"Bearer\"\n}";
	const char *ms =
	    "{\"token_type\":\"Bearer\",\"scope\":\"https://outlook.office.com/"
	    "SMTP.Send\",\"expires_in\":\"4299\",\"ext_expires_in\":4299,\"access_token\":"
	    "\"eyJ0eXAi\",\"refresh_token\":\"M.C5_BAY.0.U.-Ck\"}";
	const char *ms_err =
	    "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS50173: "
	    "The provided grant has expired due to it being revoked.\\r\\nTrace ID: 1234\\r\\n"
	    "Correlation ID: 5678\\r\\nTimestamp: 2026-01-01 00:00:00Z\",\"error_codes\":"
	    "[50173]}";
	const char *g_err = "{\"error\": \"invalid_grant\", \"error_description\": \"Token has "
			    "been expired or revoked.\"}";

	CHECK(oauth2_parse_token(200, "OK", google, strlen(google), 1000, &t, &oe) == 0,
	    "Google answer parsed");
	CHECK_STR(t.access_token, "ya29.a0Af", "Google access token");
	CHECK(t.refresh_token == NULL, "Google sends no refresh token on refresh");
	CHECK(t.expires_at == 1000 + 3599, "expires_at = now + expires_in");
	oauth2_tokens_clear(&t);

	CHECK(oauth2_parse_token(200, "OK", ms, strlen(ms), 10, &t, &oe) == 0,
	    "Microsoft answer parsed");
	CHECK_STR(t.refresh_token, "M.C5_BAY.0.U.-Ck", "rotated refresh token kept");
	CHECK(t.expires_at == 10 + 4299, "expires_in given as a string");
	oauth2_tokens_clear(&t);

	CHECK(oauth2_parse_token(200, "OK", P("{\"access_token\":\"x\"}"), 50, &t, &oe) == 0 &&
		t.expires_at == 50 + 3600,
	    "no expires_in: an hour");
	oauth2_tokens_clear(&t);

	CHECK(oauth2_parse_token(400, "Bad Request", g_err, strlen(g_err), 0, &t, &oe) == -1,
	    "Google invalid_grant is an error");
	CHECK_STR(oe.code, "invalid_grant", "error code");
	CHECK_STR(oe.text, "invalid_grant: Token has been expired or revoked.", "error text");

	CHECK(oauth2_parse_token(400, "Bad Request", ms_err, strlen(ms_err), 0, &t, &oe) == -1,
	    "Microsoft invalid_grant is an error");
	CHECK_STR(oe.text,
	    "invalid_grant: AADSTS50173: The provided grant has expired due to "
	    "it being revoked.",
	    "AADSTS code kept, trace IDs cut");
	CHECK(oauth2_parse_token(400, "",
		  P("{\"error\":\"invalid_client\",\"error_codes\":"
		    "[7000215]}"),
		  0, &t, &oe) == -1 &&
		strcmp(oe.text, "invalid_client (AADSTS7000215)") == 0,
	    "AADSTS from error_codes");

	CHECK(oauth2_parse_token(500, "Internal Server Error", P("<html>oops</html>"), 0, &t,
		  &oe) == -1 &&
		oe.code[0] == '\0',
	    "HTML 500: no OAuth2 error");
	CHECK_STR(oe.text, "HTTP 500 Internal Server Error (not a JSON answer)",
	    "HTTP status "
	    "quoted");
	CHECK(oauth2_parse_token(200, "OK", P("{\"access_token\": "), 0, &t, &oe) == -1,
	    "malformed 200 refused");
	CHECK(strstr(oe.text, "not the JSON object") != NULL, "malformed 200 explained");
	CHECK(oauth2_parse_token(200, "OK", P("{\"token_type\":\"Bearer\"}"), 0, &t, &oe) == -1,
	    "200 without access_token refused");
	CHECK(oauth2_parse_token(200, "OK", P("{\"error\":\"server_error\"}"), 0, &t, &oe) == -1 &&
		strcmp(oe.code, "server_error") == 0,
	    "200 carrying an error");
	CHECK(oauth2_parse_token(200, "OK", P("{\"access_token\":\"a\\nb\"}"), 0, &t, &oe) == -1,
	    "a token with a newline is refused");
}

static void
test_device_answers(void)
{
	struct oauth2_device d;
	struct oauth2_error oe;
	const char *ms =
	    "{\"user_code\":\"F7QW2KXRA\",\"device_code\":\"DAQABAAEAAAD\","
	    "\"verification_uri\":\"https://microsoft.com/devicelogin\",\"expires_in\":900,"
	    "\"interval\":5,\"message\":\"To sign in, use a web browser to open the page "
	    "https://microsoft.com/devicelogin and enter the code F7QW2KXRA to authenticate."
	    "\"}";
	const char *g =
	    "{\"device_code\":\"AH-1Ng\",\"user_code\":\"GQVQ-JKEC\","
	    "\"verification_url\":\"https://www.google.com/device\",\"expires_in\":1800}";

	CHECK(oauth2_parse_device(200, "OK", ms, strlen(ms), &d, &oe) == 0,
	    "Microsoft device "
	    "answer");
	CHECK_STR(d.user_code, "F7QW2KXRA", "user code");
	CHECK(d.message != NULL && strstr(d.message, "devicelogin") != NULL, "message kept");
	CHECK(d.interval == 5 && d.expires_in == 900, "interval and expiry");
	oauth2_device_clear(&d);
	CHECK(oauth2_parse_device(200, "OK", g, strlen(g), &d, &oe) == 0,
	    "Google device "
	    "answer");
	CHECK_STR(d.verification_uri, "https://www.google.com/device",
	    "verification_url "
	    "spelling");
	CHECK(d.interval == 5, "interval defaults to 5");
	oauth2_device_clear(&d);
	CHECK(oauth2_parse_device(400, "", P("{\"error\":\"invalid_scope\"}"), &d, &oe) == -1 &&
		strcmp(oe.code, "invalid_scope") == 0,
	    "device error");
	CHECK(oauth2_parse_device(200, "", P("{\"device_code\":\"x\"}"), &d, &oe) == -1,
	    "incomplete device answer refused");
}

static void
test_classify(void)
{
	struct account a;
	struct oauth2_error oe;
	struct err e;

	memset(&a, 0, sizeof(a));
	a.name = "work";
	memset(&oe, 0, sizeof(oe));
	snprintf(oe.code, sizeof(oe.code), "invalid_grant");
	snprintf(oe.text, sizeof(oe.text), "invalid_grant: Token has been expired or revoked.");
	err_init(&e);
	oauth2_refresh_error(&a, NULL, 400, &oe, &e);
	CHECK(e.kind == ERR_TEMP && e.cause == CAUSE_NOPERM,
	    "invalid_grant: TEMP (queued), "
	    "NOPERM");
	CHECK(strstr(e.msg, "run `mailout --authorize -a work`") != NULL,
	    "invalid_grant says "
	    "what to run");
	CHECK(strstr(e.msg, "Token has been expired or revoked.") != NULL,
	    "provider text "
	    "shown");

	snprintf(oe.code, sizeof(oe.code), "invalid_client");
	err_init(&e);
	oauth2_refresh_error(&a, "https://idp.example/token?x=1", 401, &oe, &e);
	CHECK(e.kind == ERR_PERM && e.cause == CAUSE_CONFIG, "invalid_client: config error");
	CHECK(strstr(e.msg,
		  "the OAuth2 token endpoint https://idp.example/token (account work) "
		  "refused") != NULL,
	    "the endpoint is named, without its query");

	oe.code[0] = '\0';
	snprintf(oe.text, sizeof(oe.text), "HTTP 503 Service Unavailable");
	err_init(&e);
	oauth2_refresh_error(&a, NULL, 503, &oe, &e);
	CHECK(e.kind == ERR_TEMP && e.cause == CAUSE_TEMP, "503: temporary");
	snprintf(oe.code, sizeof(oe.code), "temporarily_unavailable");
	err_init(&e);
	oauth2_refresh_error(&a, NULL, 400, &oe, &e);
	CHECK(e.kind == ERR_TEMP && e.cause == CAUSE_TEMP, "temporarily_unavailable: temporary");
}

static void
test_providers(void)
{
	struct account a;
	struct oauth2_provider p;
	enum sasl_mech m;
	struct err e;

	memset(&a, 0, sizeof(a));
	a.name = "m";
	a.user = "joe@example.com";
	a.oauth = OAUTH_MICROSOFT;
	a.oauth_client_id = "cid";
	err_init(&e);
	CHECK(oauth2_provider(&a, &p, &e) == 0, "microsoft provider");
	CHECK_STR(p.token_url, "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	    "tenant common by default");
	CHECK_STR(p.scope, "https://outlook.office.com/SMTP.Send offline_access", "MS scope");
	oauth2_provider_free(&p);
	a.oauth_tenant = "contoso.onmicrosoft.com";
	a.oauth_token_url = "https://localhost:8443/token";
	CHECK(oauth2_provider(&a, &p, &e) == 0, "tenant and override");
	CHECK_STR(p.device_url,
	    "https://login.microsoftonline.com/contoso.onmicrosoft.com/"
	    "oauth2/v2.0/devicecode",
	    "tenant in the URL");
	CHECK_STR(p.token_url, "https://localhost:8443/token", "override wins");
	oauth2_provider_free(&p);
	CHECK(auth_choose(&a, "OAUTHBEARER XOAUTH2", 1, &m, &e) == 1 && m == SASL_XOAUTH2,
	    "Microsoft: XOAUTH2 only");
	CHECK(auth_choose(&a, "OAUTHBEARER", 1, &m, &e) == -1, "Microsoft: not OAUTHBEARER");
	a.oauth_tenant = "a/b";
	err_init(&e);
	CHECK(oauth2_provider(&a, &p, &e) == -1 && e.cause == CAUSE_CONFIG, "bad tenant");

	memset(&a, 0, sizeof(a));
	a.name = "g";
	a.user = "joe@gmail.com";
	a.oauth = OAUTH_GOOGLE;
	err_init(&e);
	CHECK(oauth2_provider(&a, &p, &e) == -1 && e.cause == CAUSE_CONFIG &&
		strstr(e.msg, "oauth_client_id") != NULL,
	    "no client id: config error");
	a.oauth_client_id = "x.apps.googleusercontent.com";
	err_init(&e);
	CHECK(oauth2_provider(&a, &p, &e) == 0, "google provider");
	CHECK_STR(p.auth_url, "https://accounts.google.com/o/oauth2/v2/auth", "google auth");
	CHECK_STR(p.scope, "https://mail.google.com/", "google scope");
	oauth2_provider_free(&p);
	CHECK(auth_choose(&a, "XOAUTH2 OAUTHBEARER", 1, &m, &e) == 1 && m == SASL_OAUTHBEARER,
	    "Google: OAUTHBEARER first");
	CHECK(auth_choose(&a, "XOAUTH2", 1, &m, &e) == 1 && m == SASL_XOAUTH2,
	    "Google: then XOAUTH2");
	a.oauth = OAUTH_CUSTOM;
	err_init(&e);
	CHECK(oauth2_provider(&a, &p, &e) == -1 && strstr(e.msg, "oauth_token_url") != NULL,
	    "custom needs oauth_token_url");
}

static void
test_url(void)
{
	struct http_url u;
	struct err e;

	err_init(&e);
	CHECK(http_url_parse("https://oauth2.googleapis.com/token", &u, &e) == 0 && u.tls &&
		u.port == 443 && strcmp(u.host, "oauth2.googleapis.com") == 0 &&
		strcmp(u.path, "/token") == 0,
	    "https URL");
	http_url_free(&u);
	CHECK(http_url_parse("http://[::1]:8080/a?b=c#frag", &u, &e) == 0 && !u.tls &&
		u.port == 8080 && strcmp(u.host, "::1") == 0 && strcmp(u.path, "/a?b=c") == 0,
	    "IPv6 literal, port, query kept, fragment dropped");
	http_url_free(&u);
	CHECK(http_url_parse("https://h", &u, &e) == 0 && strcmp(u.path, "/") == 0,
	    "empty path is /");
	http_url_free(&u);
	CHECK(http_url_parse("https://h?x=1", &u, &e) == 0 && strcmp(u.path, "/?x=1") == 0,
	    "query without path");
	http_url_free(&u);
	CHECK(http_url_parse("https://h:99999/", &u, &e) == -1, "bad port");
	err_init(&e);
	CHECK(http_url_parse("https://u:p@h/", &u, &e) == -1, "user info refused");
	err_init(&e);
	CHECK(http_url_parse("ftp://h/", &u, &e) == -1, "ftp refused");
	err_init(&e);
	CHECK(http_url_parse("https://h/a\r\nX: y", &u, &e) == -1, "CRLF refused");
}

/* Parse raw as an HTTP response through a pipe. Returns http_read_response's result. */
static int
parse_raw(const char *raw, size_t len, struct http_response *r, struct err *e)
{
	struct conn *c;
	int p[2], null, rc;

	if (pipe(p) == -1)
		return -2;
	if (write(p[1], raw, len) != (ssize_t)len)
		return -2;
	close(p[1]);
	null = open("/dev/null", O_WRONLY);
	c = conn_new(fdstream_new(p[0], null, 5));
	err_init(e);
	rc = http_read_response(c, 0, r, e);
	conn_free(c);
	close(p[0]);
	close(null);
	return rc;
}

static void
test_http(void)
{
	struct http_response r;
	struct err e;
	struct buf big;
	size_t i;

	CHECK(parse_raw(RAW("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			    "Content-Length: 5\r\n\r\nhelloEXTRA"),
		  &r, &e) == 0,
	    "Content-Length body");
	CHECK(r.status == 200 && strcmp(r.reason, "OK") == 0, "status and reason");
	CHECK_STR(r.content_type, "application/json", "content type");
	CHECK_STR(buf_cstr(&r.body), "hello", "exactly Content-Length bytes");
	http_response_free(&r);

	CHECK(
	    parse_raw(
		RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "Content-Length: 99\r\n\r\n1\r\n{\r\n7;ext=1\r\n\"a\":\"b\"\r\n1\r\n}\r\n0\r\n"
		    "X-Trailer: 1\r\n\r\n"),
		&r, &e) == 0,
	    "chunked body");
	CHECK_STR(buf_cstr(&r.body), "{\"a\":\"b\"}", "chunks joined, extension ignored");
	CHECK(r.chunked, "chunked noted; it wins over Content-Length");
	http_response_free(&r);

	CHECK(parse_raw(RAW("HTTP/1.0 400 Bad Request\r\n\r\n{\"error\":\"x\"}"), &r, &e) == 0,
	    "body to end of stream");
	CHECK(r.status == 400 && strcmp(buf_cstr(&r.body), "{\"error\":\"x\"}") == 0,
	    "body read to the close");
	http_response_free(&r);

	CHECK(parse_raw(RAW("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"), &r,
		  &e) == 0 &&
		r.status == 204 && r.body.len == 0,
	    "1xx skipped, 204 has no body");
	http_response_free(&r);

	CHECK(parse_raw(RAW("SMTP/1.1 200 OK\r\n\r\n"), &r, &e) == -1 &&
		e.cause == CAUSE_PROTOCOL && e.kind == ERR_TEMP,
	    "bad status line: TEMP protocol");
	http_response_free(&r);
	CHECK(parse_raw(RAW("HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\n\r\nx"), &r, &e) ==
		    -1 &&
		strstr(e.msg, "larger than") != NULL,
	    "body over 1 MiB refused");
	http_response_free(&r);
	CHECK(parse_raw(RAW("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"), &r, &e) == -1,
	    "truncated body refused");
	http_response_free(&r);
	CHECK(parse_raw(RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), &r,
		  &e) == -1,
	    "bad chunk size refused");
	http_response_free(&r);
	CHECK(parse_raw(RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			    "100000000\r\n"),
		  &r, &e) == -1,
	    "huge chunk size refused");
	http_response_free(&r);
	CHECK(parse_raw(RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx"), &r, &e) == -1,
	    "unknown transfer coding refused");
	http_response_free(&r);
	CHECK(parse_raw(RAW("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
			    "ab"),
		  &r, &e) == -1,
	    "conflicting Content-Length refused");
	http_response_free(&r);

	buf_init(&big, 64 * 1024);
	MUST(buf_addstr(&big, "HTTP/1.1 200 OK\r\nX-Long: "));
	for (i = 0; i < 9000; i++)
		MUST(buf_addc(&big, 'a'));
	MUST(buf_addstr(&big, "\r\n\r\n"));
	CHECK(parse_raw(big.data, big.len, &r, &e) == -1 && e.cause == CAUSE_PROTOCOL,
	    "header line over 8 KiB refused");
	http_response_free(&r);
	buf_free(&big);
}

int
main(void)
{
	test_pkce();
	test_urlcoding();
	test_tokens_json();
	test_token_answers();
	test_device_answers();
	test_classify();
	test_providers();
	test_url();
	test_http();
	UNIT_DONE();
}

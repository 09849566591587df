/*
 * http.c: what a token endpoint or a browser sends (net/http.c): the input as an HTTP
 * response read through an in-memory stream, as a URL, and as a query string; then a
 * form built from it and read back. Checked: a response read is complete (status
 * 200-599, printable reason and type, a body within its limit), a URL parsed has a host,
 * a port and a path, and what http_form_add writes http_query_get reads back.
 *
 * Option byte: bits 0-2 the read size, 3 the answer to HEAD.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "net/http.h"
#include "net/stream.h"
#include "fuzz.h"

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static void
response(const uint8_t *data, size_t size, unsigned opt)
{
	struct http_response r;
	struct conn *c;
	struct err e;

	c = conn_new(fuzz_stream(data, size, fuzz_chunk(opt), NULL));
	err_init(&e);
	if (http_read_response(c, (opt & 0x08) != 0, &r, &e) == 0) {
		FUZZ_ASSERT(r.status >= 200 && r.status <= 599, "a final status");
		FUZZ_ASSERT(printable(r.reason) && printable(r.content_type),
		    "reason and type are printable");
		FUZZ_ASSERT(r.body.len <= MAX_HTTP_BODY, "the body within its limit");
		FUZZ_ASSERT(r.body.data == NULL || r.body.data[r.body.len] == '\0',
		    "the body is NUL-terminated");
		FUZZ_ASSERT(!(opt & 0x08) || r.body.len == 0, "no body after HEAD");
	} else
		FUZZ_ASSERT(err_failed(&e), "a failed read says why");
	http_response_free(&r);
	conn_free(c);
}

static void
url(const char *s)
{
	struct http_url u;
	struct err e;

	err_init(&e);
	if (http_url_parse(s, &u, &e) == 0) {
		FUZZ_ASSERT(u.host != NULL && u.host[0] != '\0', "a URL has a host");
		FUZZ_ASSERT(u.port >= 1 && u.port <= 65535, "a port in range");
		FUZZ_ASSERT(u.path != NULL && u.path[0] == '/' && strchr(u.path, '#') == NULL,
		    "a path that starts with / and has no fragment");
		http_url_free(&u);
	} else
		FUZZ_ASSERT(err_failed(&e), "a refused URL says why");
}

/*
 * key is the text up to the first '=', value the rest (C strings: up to a NUL). Keys are
 * compared as written, not decoded (they are names like "code"): only plain ones.
 */
static void
form(const char *s)
{
	const char *eq = strchr(s, '=');
	struct buf b, v;
	char *key;

	if (eq == NULL || eq == s ||
	    strspn(s,
		"abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~") != (size_t)(eq - s))
		return;
	key = fuzz_str((const uint8_t *)s, (size_t)(eq - s));
	buf_init(&b, 1024 * 1024);
	buf_init(&v, 1024 * 1024);
	FUZZ_ASSERT(http_form_add(&b, key, eq + 1) == 0, "a form fits");
	FUZZ_ASSERT(http_query_get(buf_cstr(&b), key, &v) == 1, "a key written is found");
	FUZZ_ASSERT(strcmp(buf_cstr(&v), eq + 1) == 0, "a value written reads back");
	buf_free(&b);
	buf_free(&v);
	free(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "code", "state", "error", "error_description" };
	struct buf out;
	unsigned opt;
	size_t i;
	char *s;

	opt = fuzz_byte(&data, &size);
	response(data, size, opt);
	s = fuzz_str(data, size);
	url(s);
	buf_init(&out, 64 * 1024);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		buf_reset(&out);
		FUZZ_ASSERT(http_query_get(s, keys[i], &out) >= -1, "a query lookup ends");
	}
	buf_free(&out);
	form(s);
	free(s);
	return 0;
}

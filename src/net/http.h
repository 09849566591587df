/*
 * http.h: a small HTTP/1.1 client for OAuth2 token endpoints: one request per connection
 * (Connection: close), over TLS through tls.c unless the URL is http:// to the loopback
 * host (config.c allows nothing else).
 *
 * Responses: a status line, bounded header lines, a body framed by Content-Length, by
 * chunked transfer coding, or by the end of the connection, never longer than
 * MAX_HTTP_BODY. The body is kept in a secret buffer: token responses hold tokens.
 * Nothing here interprets the status code: a 4xx or 5xx is a successful exchange.
 *
 * The URL and form helpers are pure and have no limits of their own beyond the buffer's.
 */
#ifndef MAILOUT_HTTP_H
#define MAILOUT_HTTP_H

#include <stddef.h>

#include "base/buf.h"
#include "base/bounds.h"

struct conn;
struct err;
struct tls_opts;

struct http_url {
	int tls; /* https */
	char *host; /* without brackets for IPv6 */
	unsigned port;
	char *path; /* "/token?x=y", never empty */
};

struct http_request {
	const char *method; /* "GET", "POST" */
	const char *url;
	const char *content_type; /* for a body; NULL: none sent */
	const char *body; /* may hold secrets: sent, never logged */
	size_t bodylen;
	/*
	 * Certificate checks for https (verify, ca_file, min_version; server_name is taken
	 * from the URL and any fingerprint or client certificate is ignored: they belong to
	 * the relay). NULL: verify against the system bundle.
	 */
	const struct tls_opts *tls;
	int timeout_s; /* the whole exchange, connect included */
	int bare; /* 1: errors without the "POST URL: " prefix (the caller names the URL) */
};

struct http_response {
	int status; /* 200 */
	char reason[128]; /* "OK", cleaned to printable ASCII */
	char content_type[128]; /* "" if none */
	int chunked; /* how the body came (for tests and traces) */
	struct buf body; /* secret; NUL-terminated */
};

/*
 * Parse an absolute http:// or https:// URL (no user info, no fragment). Returns 0 with
 * u filled (free with http_url_free), or -1 with err (PERM, CAUSE_CONFIG).
 */
int http_url_parse(const char *url, struct http_url *u, struct err *e);
void http_url_free(struct http_url *u);

/*
 * Connect, send the request, read the response into r (initialise nothing: r is set up
 * here; free it with http_response_free even on failure). Returns 0 when a complete
 * response was read, whatever its status; -1 with err otherwise: connection, timeout
 * and malformed responses are TEMP (CAUSE_TEMP or CAUSE_PROTOCOL), certificate problems
 * are what tls.h says (PERM, CAUSE_CONFIG). Messages name the URL without its query.
 */
int http_do(const struct http_request *rq, struct http_response *r, struct err *e);

/*
 * Read one response from c (after a request has been sent). head: no body follows (the
 * answer to HEAD). 0, or -1 with err. Exposed for the unit tests.
 */
int http_read_response(struct conn *c, int head, struct http_response *r, struct err *e);

void http_response_free(struct http_response *r);

/*
 * application/x-www-form-urlencoded and query strings: append "&key=value" (no "&" when
 * b is empty) with both parts percent-encoded (RFC 3986 unreserved characters kept,
 * everything else %XX, so it is valid in both). 0, or -1 over the buffer's max.
 */
int http_form_add(struct buf *b, const char *key, const char *value) MUST_CHECK;
/* Percent-encode s as above, appended to b. 0 or -1. */
int http_urlencode(struct buf *b, const char *s) MUST_CHECK;
/*
 * Find key in a query or form string ("a=1&b=2"; a leading '?' is skipped) and append
 * its decoded value (%XX and '+' as space) to out. 1 found, 0 not there, -1 malformed
 * (bad %XX, a decoded NUL) or over out's max.
 */
int http_query_get(const char *query, const char *key, struct buf *out) MUST_CHECK;

#endif

/*
 * http.c: the HTTP/1.1 client for token endpoints. See http.h.
 *
 * One request per connection keeps the parser small: no pipelining, no keep-alive, no
 * redirects (a token endpoint that redirects a POST is misconfigured), no compression
 * (we send no Accept-Encoding, so a coded body is refused rather than guessed at).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "net/http.h"
#include "net/net.h"
#include "net/stream.h"
#include "net/tls.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/parse.h"
#include "base/str.h"

/* Body bytes are copied through this; the conn buffers the socket reads already. */
#define HTTP_BLOCK 4096

struct rctx {
	struct conn *c;
	int64_t deadline; /* now_ms() value; 0: none */
	int timeout_s;
	char *line; /* MAX_HTTP_LINE */
};

static void
url_reset(struct http_url *u)
{
	memset(u, 0, sizeof(*u));
}

void
http_url_free(struct http_url *u)
{
	if (u == NULL)
		return;
	free(u->host);
	free(u->path);
	url_reset(u);
}

int
http_url_parse(const char *url, struct http_url *u, struct err *e)
{
	const char *p, *h, *hend, *pstart;
	uint64_t port;
	char *portstr = NULL;
	size_t n;
	int rc = -1;

	url_reset(u);
	if (url == NULL || has_crlf(url) || strpbrk(url, " \t") != NULL) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "not a URL: %s", url ? url : "(none)");
		goto out;
	}
	if (strncasecmp(url, "https://", 8) == 0) {
		u->tls = 1;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "not an http or https URL: %s", url);
		goto out;
	}
	pstart = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(pstart - p)) != NULL) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "URL %s: user names in URLs are not "
		    "supported",
		    url);
		goto out;
	}
	if (*p == '[') {
		h = p + 1;
		if ((hend = memchr(h, ']', (size_t)(pstart - h))) == NULL) {
			err_set(e, ERR_PERM, CAUSE_CONFIG, "URL %s: unterminated [address]", url);
			goto out;
		}
		p = hend + 1;
	} else {
		h = p;
		hend = p + strcspn(p, ":/?#");
		p = hend;
	}
	if (hend == h) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "URL %s has no host", url);
		goto out;
	}
	u->host = xstrndup(h, (size_t)(hend - h));
	u->port = u->tls ? 443 : 80;
	if (*p == ':') {
		portstr = xstrndup(p + 1, (size_t)(pstart - p - 1));
		if (parse_uint(portstr, 1, 65535, &port) == -1) {
			err_set(e, ERR_PERM, CAUSE_CONFIG, "URL %s: bad port", url);
			goto out;
		}
		u->port = (unsigned)port;
	} else if (p != pstart) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "URL %s: junk after the host", url);
		goto out;
	}
	if (*pstart == '/')
		u->path = xstrndup(pstart, strcspn(pstart, "#"));
	else {
		/* "https://h?x" is "https://h/?x". */
		n = strcspn(pstart, "#");
		u->path = xmalloc(n + 2);
		u->path[0] = '/';
		memcpy(u->path + 1, pstart, n);
		u->path[n + 1] = '\0';
	}
	rc = 0;
out:
	free(portstr);
	if (rc == -1)
		http_url_free(u);
	return rc;
}

void
http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	buf_free(&r->body);
}

static void
response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init_secret(&r->body, MAX_HTTP_BODY);
}

/* Copy printable ASCII of s into dst; anything else becomes '?'. */
static void
clean_copy(char *dst, size_t len, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < len && s[i] != '\0'; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	dst[i] = '\0';
}

/* Before each read: the step gets what is left of the whole exchange. */
static int
rstep(struct rctx *x, struct err *e)
{
	int64_t left;
	int rc = 0;

	if (x->deadline == 0)
		goto out;
	if ((left = x->deadline - now_ms()) <= 0)
		rc = err_set(e, ERR_TEMP, CAUSE_TEMP, "no complete answer within %d s",
		    x->timeout_s);
	else
		conn_set_timeout(x->c, (int)((left + 999) / 1000));
out:
	return rc;
}

static ssize_t
rline(struct rctx *x, struct err *e)
{
	return rstep(x, e) == -1 ? -1 : conn_readline(x->c, x->line, MAX_HTTP_LINE, e);
}

/* "HTTP/1.1 200 OK": 0 with status and reason, -1 with err. */
static int
parse_status(const char *line, struct http_response *r, struct err *e)
{
	const char *p = line;

	if (strncmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[7]) || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || (p[12] != ' ' && p[12] != '\0') || p[9] < '1' ||
	    p[9] > '5')
		return err_set(e, ERR_TEMP, CAUSE_PROTOCOL,
		    "not an HTTP/1.x status line: "
		    "\"%.80s\"",
		    line);
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	clean_copy(r->reason, sizeof(r->reason), p[12] == ' ' ? p + 13 : "");
	return 0;
}

/* Is the last coding in a Transfer-Encoding list "chunked"? */
static int
te_chunked(const char *v)
{
	const char *last = strrchr(v, ',');
	size_t n;

	last = last != NULL ? last + 1 : v;
	while (*last == ' ' || *last == '\t')
		last++;
	n = strlen(last);
	while (n > 0 && (last[n - 1] == ' ' || last[n - 1] == '\t'))
		n--;
	return n == 7 && strncasecmp(last, "chunked", 7) == 0;
}

struct framing {
	int chunked;
	int te; /* a Transfer-Encoding header was seen */
	int has_len;
	uint64_t len;
};

/* One header line into the framing and r. 0, or -1 with err. */
static int
parse_header(char *line, struct framing *f, struct http_response *r, struct err *e)
{
	char *colon, *v, *end;
	uint64_t n;
	int rc = 0;

	if (line[0] == ' ' || line[0] == '\t')
		goto out; /* obsolete folding: nothing we read is folded */
	if ((colon = strchr(line, ':')) == NULL || colon == line) {
		rc = err_set(e, ERR_TEMP, CAUSE_PROTOCOL, "malformed header line \"%.80s\"", line);
		goto out;
	}
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (strcasecmp(line, "Content-Length") == 0) {
		if (parse_uint(v, 0, UINT64_MAX, &n) == -1 || (f->has_len && n != f->len)) {
			rc = err_set(e, ERR_TEMP, CAUSE_PROTOCOL, "bad Content-Length \"%.40s\"",
			    v);
			goto out;
		}
		f->has_len = 1;
		f->len = n;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		f->te = 1;
		f->chunked = te_chunked(v);
	} else if (strcasecmp(line, "Content-Type") == 0)
		clean_copy(r->content_type, sizeof(r->content_type), v);
out:
	return rc;
}

static int
too_big(struct err *e)
{
	return err_set(e, ERR_TEMP, CAUSE_PROTOCOL,
	    "the response body is larger than %d "
	    "bytes",
	    MAX_HTTP_BODY);
}

/* n bytes of body into r. */
static int
read_n(struct rctx *x, uint64_t n, struct http_response *r, struct err *e)
{
	char block[HTTP_BLOCK];
	size_t k;
	int rc = -1;

	if (n > MAX_HTTP_BODY - r->body.len) {
		too_big(e);
		goto out;
	}
	while (n > 0) {
		k = n > sizeof(block) ? sizeof(block) : (size_t)n;
		if (rstep(x, e) == -1 || conn_read_exact(x->c, block, k, e) == -1)
			goto out;
		if (buf_add(&r->body, block, k) == -1) {
			too_big(e);
			goto out;
		}
		n -= k;
	}
	rc = 0;
out:
	explicit_bzero(block, sizeof(block));
	return rc;
}

/* A body that ends with the connection. */
static int
read_to_eof(struct rctx *x, struct http_response *r, struct err *e)
{
	struct err le;
	char ch;
	int rc = -1;

	for (;;) {
		err_init(&le);
		if (rstep(x, e) == -1)
			goto out;
		if (conn_read_exact(x->c, &ch, 1, &le) == -1) {
			if (conn_eof(x->c))
				break;
			err_set(e, le.kind, le.cause, "%s", le.msg);
			goto out;
		}
		if (buf_addc(&r->body, ch) == -1) {
			too_big(e);
			goto out;
		}
	}
	rc = 0;
out:
	ch = 0;
	return rc;
}

static int
read_chunked(struct rctx *x, struct http_response *r, struct err *e)
{
	uint64_t size;
	size_t digits;
	char *p, crlf[2];
	int rc = -1;

	for (;;) {
		if (rline(x, e) == -1)
			goto out;
		p = x->line;
		for (digits = 0; isxdigit((unsigned char)p[digits]); digits++)
			;
		if (digits == 0 || digits > MAX_HTTP_CHUNK_DIGITS ||
		    (p[digits] != '\0' && p[digits] != ';' && p[digits] != ' ' &&
			p[digits] != '\t')) {
			err_set(e, ERR_TEMP, CAUSE_PROTOCOL, "bad chunk size line \"%.40s\"", p);
			goto out;
		}
		p[digits] = '\0';
		size = strtoull(p, NULL, 16);
		if (size == 0)
			break;
		if (read_n(x, size, r, e) == -1)
			goto out;
		if (rstep(x, e) == -1 || conn_read_exact(x->c, crlf, 2, e) == -1)
			goto out;
		if (crlf[0] != '\r' || crlf[1] != '\n') {
			err_set(e, ERR_TEMP, CAUSE_PROTOCOL, "a chunk does not end in CRLF");
			goto out;
		}
	}
	/* Trailer fields, then the empty line. */
	for (digits = 0;; digits++) {
		if (digits == MAX_HTTP_HEADERS) {
			err_set(e, ERR_TEMP, CAUSE_PROTOCOL, "more than %d trailer lines",
			    MAX_HTTP_HEADERS);
			goto out;
		}
		if (rline(x, e) == -1)
			goto out;
		if (x->line[0] == '\0')
			break;
	}
	rc = 0;
out:
	return rc;
}

static int
read_response(struct rctx *x, int head, struct http_response *r, struct err *e)
{
	struct framing f;
	int interim, nh, rc = -1;

	for (interim = 0;; interim++) {
		if (interim > MAX_HTTP_INTERIM) {
			err_set(e, ERR_TEMP, CAUSE_PROTOCOL,
			    "more than %d interim (1xx) "
			    "responses",
			    MAX_HTTP_INTERIM);
			goto out;
		}
		memset(&f, 0, sizeof(f));
		r->content_type[0] = '\0';
		if (rline(x, e) == -1 || parse_status(x->line, r, e) == -1)
			goto out;
		for (nh = 0;; nh++) {
			if (nh == MAX_HTTP_HEADERS) {
				err_set(e, ERR_TEMP, CAUSE_PROTOCOL, "more than %d header lines",
				    MAX_HTTP_HEADERS);
				goto out;
			}
			if (rline(x, e) == -1)
				goto out;
			if (x->line[0] == '\0')
				break;
			if (parse_header(x->line, &f, r, e) == -1)
				goto out;
		}
		/* 101 would switch protocols: we never ask for that. */
		if (r->status >= 200 || r->status == 101)
			break;
	}
	if (r->status < 200) {
		err_set(e, ERR_TEMP, CAUSE_PROTOCOL, "unexpected HTTP status %d", r->status);
		goto out;
	}
	if (head || r->status == 204 || r->status == 304) {
		rc = 0;
		goto out;
	}
	if (f.te && !f.chunked) {
		err_set(e, ERR_TEMP, CAUSE_PROTOCOL, "unsupported transfer coding");
		goto out;
	}
	r->chunked = f.chunked;
	/* RFC 9112 6.3: chunked wins over a Content-Length. */
	if (f.chunked)
		rc = read_chunked(x, r, e);
	else if (f.has_len)
		rc = read_n(x, f.len, r, e);
	else
		rc = read_to_eof(x, r, e);
out:
	return rc;
}

int
http_read_response(struct conn *c, int head, struct http_response *r, struct err *e)
{
	struct rctx x;
	int rc;

	response_init(r);
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.line = xmalloc(MAX_HTTP_LINE);
	rc = read_response(&x, head, r, e);
	explicit_bzero(x.line, MAX_HTTP_LINE);
	free(x.line);
	return rc;
}

/* "https://host:port/path" without the query, for messages. */
static void
url_for_msg(const struct http_url *u, char *dst, size_t len)
{
	int v6 = strchr(u->host, ':') != NULL;

	snprintf(dst, len, "%s://%s%s%s:%u%.*s", u->tls ? "https" : "http", v6 ? "[" : "", u->host,
	    v6 ? "]" : "", u->port, (int)strcspn(u->path, "?"), u->path);
}

int
http_do(const struct http_request *rq, struct http_response *r, struct err *e)
{
	struct http_url u;
	struct tls_opts to;
	struct stream *s = NULL, *t;
	struct conn *c = NULL;
	struct buf req;
	struct rctx x;
	struct err le;
	char where[600] = "";
	int v6, bad, rc = -1;

	response_init(r);
	buf_init_secret(&req, MAX_HTTP_BODY + MAX_HTTP_HEAD);
	memset(&x, 0, sizeof(x));
	err_init(&le);
	if (http_url_parse(rq->url, &u, e) == -1)
		goto out;
	url_for_msg(&u, where, sizeof(where));
	x.timeout_s = rq->timeout_s > 0 ? rq->timeout_s : 60;
	x.deadline = now_ms() + (int64_t)x.timeout_s * 1000;
	if ((s = net_connect(u.host, u.port, x.timeout_s, x.timeout_s, &le)) == NULL) {
		/* net.c's words are about the relay; this is another host. */
		if (le.cause == CAUSE_NOHOST)
			err_set(e, ERR_PERM, CAUSE_NOHOST, "host '%s' not found (DNS)", u.host);
		else
			err_set(e, le.kind, le.cause, "%s", le.msg);
		goto out;
	}
	if (u.tls) {
		if (rq->tls != NULL)
			to = *rq->tls;
		else {
			memset(&to, 0, sizeof(to));
			to.verify = 1;
		}
		to.server_name = u.host;
		to.fingerprint = NULL;
		to.cert_file = NULL;
		to.key_file = NULL;
		if ((t = tls_wrap(s, &to, NULL, e)) == NULL)
			goto out;
		s = t;
	}
	c = conn_new(s);
	s = NULL;
	x.c = c;
	v6 = strchr(u.host, ':') != NULL;
	bad = buf_addf(&req, "%s %s HTTP/1.1\r\nHost: %s%s%s", rq->method, u.path, v6 ? "[" : "",
	    u.host, v6 ? "]" : "");
	if (u.port != (u.tls ? 443u : 80u))
		bad |= buf_addf(&req, ":%u", u.port);
	bad |= buf_addf(&req,
	    "\r\nUser-Agent: mailout/%s\r\nAccept: application/json\r\n"
	    "Connection: close\r\n",
	    VERSION);
	if (rq->content_type != NULL)
		bad |= buf_addf(&req, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    rq->content_type, rq->bodylen);
	bad |= buf_addstr(&req, "\r\n");
	if (rq->bodylen > 0)
		bad |= buf_add(&req, rq->body, rq->bodylen);
	if (bad != 0) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "the request is too large");
		goto out;
	}
	if (conn_write(c, req.data, req.len, e) == -1 || conn_flush(c, e) == -1)
		goto out;
	x.line = xmalloc(MAX_HTTP_LINE);
	if (read_response(&x, strcmp(rq->method, "HEAD") == 0, r, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1 && where[0] != '\0' && !rq->bare)
		err_prefix(e, "%s %s: ", rq->method, where);
	if (x.line != NULL) {
		explicit_bzero(x.line, MAX_HTTP_LINE);
		free(x.line);
	}
	if (s != NULL)
		s->ops->close(s);
	conn_free(c);
	buf_free(&req);
	http_url_free(&u);
	return rc;
}

static int
unreserved(unsigned char ch)
{
	return isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

int
http_urlencode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char esc[3];
	int rc = 0;

	for (p = (const unsigned char *)s; *p != '\0' && rc == 0; p++) {
		if (unreserved(*p))
			rc = buf_addc(b, (char)*p);
		else {
			esc[0] = '%';
			esc[1] = hex[*p >> 4];
			esc[2] = hex[*p & 15];
			rc = buf_add(b, esc, 3);
		}
	}
	return rc;
}

int
http_form_add(struct buf *b, const char *key, const char *value)
{
	if ((b->len > 0 && buf_addc(b, '&') == -1) || http_urlencode(b, key) == -1 ||
	    buf_addc(b, '=') == -1 || http_urlencode(b, value) == -1)
		return -1;
	return 0;
}

static int
hexval(char ch)
{
	const char *digits = "0123456789abcdef", *p;

	if (ch >= 'A' && ch <= 'F')
		ch = (char)(ch - 'A' + 'a');
	p = ch != '\0' ? strchr(digits, ch) : NULL;
	return p != NULL ? (int)(p - digits) : -1;
}

/* Decode s[0..n) into out. 0, or -1. */
static int
urldecode(const char *s, size_t n, struct buf *out)
{
	size_t i;
	int hi, lo, rc = -1;
	char ch;

	for (i = 0; i < n; i++) {
		ch = s[i];
		if (ch == '+')
			ch = ' ';
		else if (ch == '%') {
			if (i + 2 >= n || (hi = hexval(s[i + 1])) == -1 ||
			    (lo = hexval(s[i + 2])) == -1 || (hi == 0 && lo == 0))
				goto out;
			ch = (char)(hi * 16 + lo);
			i += 2;
		}
		if (buf_addc(out, ch) == -1)
			goto out;
	}
	rc = 0;
out:
	return rc;
}

int
http_query_get(const char *query, const char *key, struct buf *out)
{
	const char *p = query, *amp, *eq;
	size_t klen = strlen(key), n;
	int rc = 0;

	if (*p == '?')
		p++;
	while (*p != '\0') {
		n = strcspn(p, "&");
		amp = p + n;
		eq = memchr(p, '=', n);
		if ((eq != NULL ? (size_t)(eq - p) : n) == klen && strncmp(p, key, klen) == 0) {
			/* "key" alone is an empty value. */
			rc = eq == NULL || urldecode(eq + 1, (size_t)(amp - eq - 1), out) == 0
			    ? 1
			    : -1;
			break;
		}
		p = *amp == '&' ? amp + 1 : amp;
	}
	return rc;
}

/*
 * authorize.c: the --authorize mode. See authorize.h.
 *
 * The listener and standard input are polled together because the common case over SSH
 * is a browser on the user's laptop: its redirect to 127.0.0.1 lands on the laptop, fails
 * there, and the user copies the address bar into the terminal instead.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secrets/authorize.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/err.h"
#include "net/http.h"
#include "base/log.h"
#include "secrets/oauth2.h"
#include "net/fdstream.h"
#include "net/stream.h"
#include "base/clock.h"
#include "base/hooks.h"
#include "base/mem.h"
#include "base/str.h"

/* How long a person gets to finish in the browser. */
#define AUTHORIZE_TIMEOUT 600
/* One browser request must arrive whole within this. */
#define AUTHORIZE_REQUEST_TIMEOUT 10
/* RFC 8628 3.5: slow_down adds 5 seconds to the interval. */
#define DEVICE_SLOW_DOWN 5

struct flow {
	const struct account *a;
	struct oauth2_provider p;
	FILE *out;
	char verifier[OAUTH2_VERIFIER_LEN + 1];
	char state[32];
	char redirect[64];
	struct buf code; /* secret */
	int browser; /* the connection waiting for its page, or -1 */
};

static void say(struct flow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct flow *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f->out, fmt, ap);
	va_end(ap);
	fflush(f->out);
}

static void
page(int fd, int status, const char *title, const char *text)
{
	struct buf b, body;

	if (fd == -1)
		return;
	buf_init(&body, MAX_BROWSER_PAGE);
	buf_init(&b, MAX_HTTP_HEAD + MAX_BROWSER_PAGE);
	/*
	 * Our own fixed words and the account name (from the config) only: no markup risk.
	 * A page that does not fit is not sent: the browser sees the connection close, the
	 * terminal says what happened.
	 */
	if (buf_addf(&body,
		"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
		"mailout: %s</title></head>\n<body><h1>%s</h1><p>%s</p></body></html>\n",
		title, title, text) == -1 ||
	    buf_addf(&b,
		"HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
		"Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
		status,
		status == 200       ? "OK"
		    : status == 404 ? "Not Found"
				    : "Bad Request",
		body.len, body.data) == -1)
		goto out;
	if (write(fd, b.data, b.len) == -1) {
		/* The browser went away: nothing to tell it. */
	}
out:
	buf_free(&b);
	buf_free(&body);
}

/*
 * Only names from the config, escaped anyway: '<' '&' '"' have no business there.
 * 0, or -1 when b is full.
 */
static int
html_name(struct buf *b, const char *s)
{
	int r = 0;

	for (; *s != '\0' && r == 0; s++) {
		if (*s == '<')
			r = buf_addstr(b, "&lt;");
		else if (*s == '>')
			r = buf_addstr(b, "&gt;");
		else if (*s == '&')
			r = buf_addstr(b, "&amp;");
		else if (*s == '"')
			r = buf_addstr(b, "&quot;");
		else
			r = buf_addc(b, *s);
	}
	return r;
}

static int
listen_loopback(unsigned *port, struct err *e)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, rc = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "socket: %s", strerror(errno));
		goto out;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0; /* RFC 8252 7.3: any free port */
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 || listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		err_set(e, ERR_TEMP, CAUSE_OSERR,
		    "cannot listen on 127.0.0.1 for the browser's "
		    "redirect: %s",
		    strerror(errno));
		goto out;
	}
	*port = ntohs(sin.sin_port);
	rc = fd;
	fd = -1;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/*
 * What a redirect (query string) or a pasted line says. 1: code in f->code; 0: nothing
 * usable (told why in *why); -1: the provider reported an error (err set).
 */
static int
take_query(struct flow *f, const char *query, int need_state, const char **why, struct err *e)
{
	struct buf v, d;
	int rc = 0;

	buf_init(&v, MAX_ERROR_TEXT);
	buf_init(&d, MAX_ERROR_TEXT);
	*why = "it holds no code";
	if (http_query_get(query, "error", &v) == 1) {
		/* A description that is malformed or too long is left out. */
		if (http_query_get(query, "error_description", &d) != 1)
			buf_reset(&d);
		err_set(e, ERR_PERM, CAUSE_NOPERM,
		    "account %s: the provider did not authorize "
		    "mailout (%s%s%.300s)",
		    f->a->name, buf_cstr(&v), d.len ? ": " : "", d.len ? d.data : "");
		rc = -1;
		goto out;
	}
	buf_reset(&v);
	/*
	 * Any local process can reach the listener: without our state, a code could be
	 * someone else's account (login CSRF). A person pasting a bare code is trusted.
	 */
	/* Found (1): v is not failed, buf_cstr is a string. */
	if (http_query_get(query, "state", &v) == 1 ? strcmp(buf_cstr(&v), f->state) != 0
						    : need_state) {
		*why = "its state does not match: it belongs to another authorization attempt";
		goto out;
	}
	buf_reset(&f->code);
	if (http_query_get(query, "code", &f->code) == 1 && f->code.len > 0 &&
	    !has_crlf(f->code.data))
		rc = 1;
out:
	buf_free(&v);
	buf_free(&d);
	return rc;
}

/* One request from the browser. Returns as take_query; a 1 leaves the socket open. */
static int
browser_request(struct flow *f, int fd, struct err *e)
{
	struct conn *c;
	char *line = xmalloc(MAX_HTTP_LINE), *target, *sp;
	const char *why;
	int i, rc = 0;

	c = conn_new(fdstream_new(fd, fd, AUTHORIZE_REQUEST_TIMEOUT));
	if (conn_readline(c, line, MAX_HTTP_LINE, e) == -1) {
		err_init(e); /* a stray connection: not our business */
		goto out;
	}
	target = NULL;
	if (strncmp(line, "GET ", 4) == 0) {
		target = line + 4;
		if ((sp = strchr(target, ' ')) != NULL)
			*sp = '\0';
	}
	/* The rest of the request is of no interest, but is read so the browser sees a reply. */
	for (i = 0; i < MAX_AUTHORIZE_HEADERS; i++) {
		char h[1024];
		struct err he;

		err_init(&he);
		if (conn_readline(c, h, sizeof(h), &he) <= 0)
			break;
	}
	if (target == NULL || target[0] != '/' || strchr(target, '?') == NULL) {
		page(fd, 404, "Not found", "This is mailout's authorization listener.");
		goto out;
	}
	rc = take_query(f, strchr(target, '?') + 1, 1, &why, e);
	if (rc == 0)
		page(fd, 400, "Not authorized",
		    "This address holds no authorization code for "
		    "this attempt.");
	else if (rc == -1)
		page(fd, 400, "Not authorized",
		    "The provider did not authorize mailout; see "
		    "the terminal.");
	if (rc == 0) {
		say(f, "mailout: ignored a request to the listener: %s\n", why);
		err_init(e);
	}
out:
	explicit_bzero(line, MAX_HTTP_LINE);
	free(line);
	/* The conn's stream does not close fd: the caller keeps it for the final page. */
	conn_free(c);
	return rc;
}

/* A pasted line: an address with ?code=..., a query, or a bare code. As take_query. */
static int
pasted(struct flow *f, char *s, struct err *e)
{
	const char *why, *q;
	size_t n;
	int rc = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (n == 0)
		goto out;
	if ((q = strchr(s, '?')) != NULL || strstr(s, "code=") != NULL ||
	    strstr(s, "error=") != NULL) {
		rc = take_query(f, q != NULL ? q + 1 : s, 0, &why, e);
		if (rc == 0)
			say(f,
			    "mailout: that address cannot be used (%s); paste the address the "
			    "browser ended up on, or the code\n",
			    why);
		goto out;
	}
	if (strpbrk(s, " \t\"<>") != NULL) {
		say(f,
		    "mailout: that is neither an address nor a code; paste the address the "
		    "browser ended up on, or the code\n");
		goto out;
	}
	buf_reset(&f->code);
	if (buf_addstr(&f->code, s) == -1) {
		say(f, "mailout: the pasted code is too long; ignored\n");
		buf_reset(&f->code);
		goto out;
	}
	rc = 1;
out:
	explicit_bzero(s, n);
	return rc;
}

/* Wait for a code from the listener or standard input. 0 with f->code, or -1. */
static int
wait_code(struct flow *f, int lfd, int in_fd, struct err *e)
{
	struct pollfd pfd[2];
	struct buf in;
	char block[1024], *nl;
	int64_t deadline, left;
	int r, cfd, nfds, eof = 0, rc = -1, limit = hooks_authorize_timeout(AUTHORIZE_TIMEOUT);
	ssize_t n;

	deadline = now_ms() + (int64_t)limit * 1000;
	buf_init_secret(&in, MAX_AUTHORIZE_PASTE);
	for (;;) {
		if ((left = deadline - now_ms()) <= 0) {
			err_set(e, ERR_TEMP, CAUSE_TEMP,
			    "account %s: no authorization arrived "
			    "within %d s; run mailout --authorize again",
			    f->a->name, limit);
			goto out;
		}
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = in_fd;
		pfd[1].events = POLLIN;
		nfds = in_fd != -1 ? 2 : 1;
		if (poll(pfd, (nfds_t)nfds, left > 1000 ? 1000 : (int)left) == -1) {
			if (errno == EINTR)
				continue;
			err_set(e, ERR_TEMP, CAUSE_OSERR, "poll: %s", strerror(errno));
			goto out;
		}
		if (pfd[0].revents & POLLIN) {
			if ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
				continue;
			if ((r = browser_request(f, cfd, e)) == 1) {
				f->browser = cfd;
				rc = 0;
				goto out;
			}
			close(cfd);
			if (r == -1)
				goto out;
		}
		if (nfds == 2 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read(in_fd, block, sizeof(block));
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				/* End of input: a last line without newline still counts. */
				in_fd = -1;
				eof = 1;
			}
			if (n > 0 || in.len > 0) {
				if ((n <= 0 ? buf_addc(&in, '\n')
					    : buf_add(&in, block, (size_t)n)) == -1) {
					say(f, "mailout: the pasted line is too long; ignored\n");
					buf_reset(&in);
				}
			}
			while (in.len > 0 && (nl = memchr(in.data, '\n', in.len)) != NULL) {
				*nl = '\0';
				r = pasted(f, in.data, e);
				buf_consume(&in, (size_t)(nl - in.data) + 1);
				if (r == 1) {
					rc = 0;
					goto out;
				}
				if (r == -1)
					goto out;
			}
			/*
			 * Nobody can paste any more: waiting on for the browser would hang a
			 * script (or a closed terminal) for the whole timeout.
			 */
			if (eof) {
				err_set(e, ERR_PERM, CAUSE_USAGE,
				    "account %s: standard input ended before an authorization "
				    "code arrived; run mailout --authorize in a terminal, or "
				    "mailout --authorize --device",
				    f->a->name);
				goto out;
			}
		}
	}
out:
	explicit_bzero(block, sizeof(block));
	buf_free(&in);
	return rc;
}

/* Store the tokens under the lock and say so. */
static int
store(struct flow *f, struct oauth2_tokens *t, struct err *e)
{
	int fd = -1, rc = -1;

	if (oauth2_lock(f->a, 2 * (int)f->a->timeout + 10, &fd, e) == -1 ||
	    oauth2_store(f->a, t, e) == -1)
		goto out;
	log_line(LOG_INFO, "account=%s oauth2: authorized (%s)", f->a->name,
	    oauth2_storage_name(f->a));
	say(f, "mailout: account %s (%s) is now authorized; the tokens are stored in %s\n",
	    f->a->name, f->a->user, oauth2_storage_name(f->a));
	rc = 0;
out:
	oauth2_unlock(fd);
	return rc;
}

/* A failed exchange or poll, in the words of --authorize. */
static void
refused(struct flow *f, const char *what, const struct oauth2_error *oe, int status, struct err *e)
{
	if (strcmp(oe->code, "invalid_client") == 0 ||
	    strcmp(oe->code, "unauthorized_client") == 0 || strcmp(oe->code, "invalid_scope") == 0)
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: the provider refused %s (%s): "
		    "check oauth_client_id, oauth_client_secret and oauth_scope",
		    f->a->name, what, oe->text);
	else if (oe->code[0] == '\0' && (status >= 500 || status == 429 || status == 200))
		err_set(e, ERR_TEMP, CAUSE_TEMP,
		    "account %s: the token endpoint failed on %s: "
		    "%s",
		    f->a->name, what, oe->text);
	else
		err_set(e, ERR_PERM, CAUSE_NOPERM, "account %s: the provider refused %s (%s)",
		    f->a->name, what, oe->text);
}

/* Tokens from a successful answer must include a refresh token, or nothing lasts. */
static int
need_refresh_token(struct flow *f, const struct oauth2_tokens *t, struct err *e)
{
	if (t->refresh_token != NULL)
		return 0;
	return err_set(e, ERR_PERM, CAUSE_NOPERM,
	    "account %s: the provider returned no "
	    "refresh token, so the authorization would end within the hour%s",
	    f->a->name,
	    f->a->oauth == OAUTH_MICROSOFT    ? " (the scope must include offline_access)"
		: f->a->oauth == OAUTH_GOOGLE ? " (revoke mailout's access in the Google account "
						"and authorize again)"
					      : "");
}

/* A request to the provider that does not fit: only the config's values can make it so. */
static void
too_large(const struct flow *f, struct err *e)
{
	err_set(e, ERR_PERM, CAUSE_CONFIG,
	    "account %s: the request to the provider is too "
	    "large (oauth_client_id, oauth_client_secret, the scope or the URL)",
	    f->a->name);
}

static int
exchange_code(struct flow *f, struct err *e)
{
	struct http_response r;
	struct oauth2_tokens t;
	struct oauth2_error oe;
	struct buf form;
	int bad, rc = -1;

	memset(&r, 0, sizeof(r));
	memset(&t, 0, sizeof(t));
	buf_init_secret(&form, MAX_OAUTH2_STORED);
	bad = http_form_add(&form, "grant_type", "authorization_code");
	bad |= http_form_add(&form, "code", buf_cstr(&f->code));
	bad |= http_form_add(&form, "redirect_uri", f->redirect);
	bad |= http_form_add(&form, "client_id", f->a->oauth_client_id);
	if (f->a->oauth_client_secret != NULL && f->a->oauth_client_secret[0] != '\0')
		bad |= http_form_add(&form, "client_secret", f->a->oauth_client_secret);
	bad |= http_form_add(&form, "code_verifier", f->verifier);
	if (bad != 0) {
		too_large(f, e);
		goto out;
	}
	if (oauth2_post(f->a, f->p.token_url, "token endpoint", &form, &r, e) == -1)
		goto out;
	if (oauth2_parse_token(r.status, r.reason, r.body.data, r.body.len, now_s(), &t, &oe) ==
	    -1) {
		refused(f, "the authorization code", &oe, r.status, e);
		goto out;
	}
	if (need_refresh_token(f, &t, e) == -1 || store(f, &t, e) == -1)
		goto out;
	rc = 0;
out:
	oauth2_tokens_clear(&t);
	http_response_free(&r);
	buf_free(&form);
	return rc;
}

static int
code_flow(struct flow *f, int in_fd, struct err *e)
{
	struct buf url, q, html;
	char challenge[OAUTH2_CHALLENGE_LEN + 1];
	unsigned port;
	int lfd = -1, bad, rc = -1;

	buf_init(&url, MAX_AUTHORIZE_URL);
	buf_init(&q, MAX_AUTHORIZE_URL);
	buf_init(&html, MAX_BROWSER_PAGE);
	if (f->p.auth_url == NULL) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: oauth = custom needs "
		    "oauth_auth_url for --authorize (or use --authorize --device with "
		    "oauth_device_url)",
		    f->a->name);
		goto out;
	}
	if (oauth2_random_b64url(32, f->verifier, sizeof(f->verifier)) == -1 ||
	    oauth2_random_b64url(16, f->state, sizeof(f->state)) == -1 ||
	    oauth2_pkce_challenge(f->verifier, challenge) == -1) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "no random numbers for PKCE");
		goto out;
	}
	if ((lfd = listen_loopback(&port, e)) == -1)
		goto out;
	snprintf(f->redirect, sizeof(f->redirect), "http://%s:%u",
	    f->a->oauth == OAUTH_MICROSOFT ? "localhost" : "127.0.0.1", port);
	bad = buf_addf(&url, "%s%c", f->p.auth_url, strchr(f->p.auth_url, '?') ? '&' : '?');
	/* The query apart: http_form_add starts with '&' on a buffer that is not empty. */
	bad |= http_form_add(&q, "response_type", "code");
	bad |= http_form_add(&q, "client_id", f->a->oauth_client_id);
	bad |= http_form_add(&q, "redirect_uri", f->redirect);
	if (f->p.scope[0] != '\0')
		bad |= http_form_add(&q, "scope", f->p.scope);
	bad |= http_form_add(&q, "state", f->state);
	bad |= http_form_add(&q, "code_challenge", challenge);
	bad |= http_form_add(&q, "code_challenge_method", "S256");
	bad |= http_form_add(&q, "login_hint", f->a->user);
	/* Google gives a refresh token only for offline access, and only on consent. */
	if (f->a->oauth == OAUTH_GOOGLE) {
		bad |= http_form_add(&q, "access_type", "offline");
		bad |= http_form_add(&q, "prompt", "consent");
	}
	bad |= buf_add(&url, q.data, q.len);
	if (bad != 0) {
		too_large(f, e);
		goto out;
	}
	say(f,
	    "To authorize mailout to send mail as %s (account %s, %s), open this address "
	    "in a web browser:\n\n%s\n\nWaiting for the browser to come back to %s ...\n"
	    "If the browser runs on another machine, paste here the address it ends up on "
	    "(or just its code) and press Enter.\n",
	    f->a->user, f->a->name, f->p.name, url.data, f->redirect);
	if (wait_code(f, lfd, in_fd, e) == -1)
		goto fail;
	close(lfd);
	lfd = -1;
	if (exchange_code(f, e) == -1)
		goto fail;
	bad = buf_addstr(&html, "mailout may now send mail as ");
	bad |= html_name(&html, f->a->user);
	bad |= buf_addstr(&html, " (account ");
	bad |= html_name(&html, f->a->name);
	bad |= buf_addstr(&html, "). You can close this window.");
	page(f->browser, 200, "Authorized",
	    bad == 0 ? html.data
		     : "mailout may now send "
		       "mail. You can close this window.");
	rc = 0;
	goto out;
fail:
	page(f->browser, 400, "Not authorized",
	    "mailout could not complete the "
	    "authorization; the terminal says why.");
out:
	if (f->browser != -1) {
		close(f->browser);
		f->browser = -1;
	}
	if (lfd != -1)
		close(lfd);
	buf_free(&url);
	buf_free(&q);
	buf_free(&html);
	return rc;
}

/* Sleep s seconds (the device flow's interval). */
static void
nap(int64_t s)
{
	int64_t until = now_ms() + s * 1000, left;

	while ((left = until - now_ms()) > 0)
		poll(NULL, 0, left > 1000 ? 1000 : (int)left);
}

static void
code_expired(struct flow *f, const struct oauth2_device *d, struct err *e)
{
	err_set(e, ERR_PERM, CAUSE_NOPERM,
	    "account %s: the code %s expired before it was "
	    "entered; run mailout --authorize --device again",
	    f->a->name, d->user_code);
}

static int
device_flow(struct flow *f, struct err *e)
{
	struct http_response r;
	struct oauth2_device d;
	struct oauth2_tokens t;
	struct oauth2_error oe;
	struct buf form;
	struct err pe;
	int64_t deadline, interval;
	int warned = 0, bad, rc = -1;

	memset(&r, 0, sizeof(r));
	memset(&d, 0, sizeof(d));
	memset(&t, 0, sizeof(t));
	buf_init_secret(&form, MAX_OAUTH2_STORED);
	if (f->p.device_url == NULL) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s: --device needs oauth_device_url "
		    "(oauth = custom)",
		    f->a->name);
		goto out;
	}
	bad = http_form_add(&form, "client_id", f->a->oauth_client_id);
	if (f->p.scope[0] != '\0')
		bad |= http_form_add(&form, "scope", f->p.scope);
	if (bad != 0) {
		too_large(f, e);
		goto out;
	}
	if (oauth2_post(f->a, f->p.device_url, "device authorization endpoint", &form, &r, e) ==
	    -1)
		goto out;
	if (oauth2_parse_device(r.status, r.reason, r.body.data, r.body.len, &d, &oe) == -1) {
		refused(f, "the device authorization request", &oe, r.status, e);
		goto out;
	}
	http_response_free(&r);
	memset(&r, 0, sizeof(r));
	if (d.message != NULL)
		say(f, "To authorize mailout to send mail as %s (account %s): %s\n", f->a->user,
		    f->a->name, d.message);
	else
		say(f,
		    "To authorize mailout to send mail as %s (account %s), open %s on any "
		    "device and enter the code %s\n",
		    f->a->user, f->a->name, d.verification_uri, d.user_code);
	if (d.verification_uri_complete != NULL)
		say(f, "(or open %s, which holds the code)\n", d.verification_uri_complete);
	say(f, "Waiting for the authorization (the code is valid for %lld minutes) ...\n",
	    (long long)((d.expires_in + 59) / 60));
	deadline = now_ms() + d.expires_in * 1000;
	interval = d.interval;
	buf_reset(&form);
	bad = http_form_add(&form, "grant_type", "urn:ietf:params:oauth:grant-type:device_code");
	bad |= http_form_add(&form, "device_code", d.device_code);
	bad |= http_form_add(&form, "client_id", f->a->oauth_client_id);
	if (f->a->oauth_client_secret != NULL && f->a->oauth_client_secret[0] != '\0')
		bad |= http_form_add(&form, "client_secret", f->a->oauth_client_secret);
	if (bad != 0) {
		too_large(f, e);
		goto out;
	}
	for (;;) {
		if (now_ms() + interval * 1000 > deadline) {
			code_expired(f, &d, e);
			goto out;
		}
		nap(interval);
		err_init(&pe);
		http_response_free(&r);
		if (oauth2_post(f->a, f->p.token_url, "token endpoint", &form, &r, &pe) == -1) {
			if (pe.kind != ERR_TEMP) {
				err_set(e, pe.kind, pe.cause, "%s", pe.msg);
				goto out;
			}
			/* RFC 8628 3.5: back off on connection problems, keep trying. */
			if (!warned++)
				say(f, "mailout: %s; still trying\n", pe.msg);
			interval = interval * 2 > MAX_DEVICE_INTERVAL ? MAX_DEVICE_INTERVAL
								      : interval * 2;
			continue;
		}
		if (oauth2_parse_token(r.status, r.reason, r.body.data, r.body.len, now_s(), &t,
			&oe) == 0)
			break;
		if (strcmp(oe.code, "authorization_pending") == 0)
			continue;
		if (strcmp(oe.code, "slow_down") == 0) {
			interval += DEVICE_SLOW_DOWN;
			continue;
		}
		if (strcmp(oe.code, "expired_token") == 0) {
			code_expired(f, &d, e);
			goto out;
		}
		if (strcmp(oe.code, "access_denied") == 0) {
			err_set(e, ERR_PERM, CAUSE_NOPERM,
			    "account %s: the authorization was "
			    "denied (%s)",
			    f->a->name, oe.text);
			goto out;
		}
		refused(f, "the device code", &oe, r.status, e);
		goto out;
	}
	if (need_refresh_token(f, &t, e) == -1 || store(f, &t, e) == -1)
		goto out;
	rc = 0;
out:
	oauth2_tokens_clear(&t);
	oauth2_device_clear(&d);
	http_response_free(&r);
	buf_free(&form);
	return rc;
}

int
authorize_run(const struct account *a, int device, int in_fd, FILE *out, struct err *e)
{
	struct flow f;
	int rc = -1;

	memset(&f, 0, sizeof(f));
	f.a = a;
	f.out = out;
	f.browser = -1;
	buf_init_secret(&f.code, MAX_AUTHORIZE_PASTE);
	/* An application's own grant has no person to ask and nothing to store. */
	if (a->oauth_grant != GRANT_AUTHCODE) {
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "account %s uses oauth_grant = %s: no person authorizes it, mailout gets "
		    "its tokens by itself; `mailout --test -a %s ADDRESS` shows them",
		    a->name, oauth2_grant_name(a->oauth_grant), a->name);
		goto out;
	}
	if (oauth2_provider(a, &f.p, e) == -1)
		goto out;
	rc = device ? device_flow(&f, e) : code_flow(&f, in_fd, e);
out:
	oauth2_provider_free(&f.p);
	buf_free(&f.code);
	explicit_bzero(&f, sizeof(f));
	return rc;
}

/*
 * autoconfig.c: config-v1.1.xml. See autoconfig.h.
 *
 * libexpat (maintained, small, in every distribution) does the XML: its parser
 * refuses malformed documents, loads no external entity, and since 2.4 limits entity
 * amplification; we refuse entity declarations outright. The handlers below keep the
 * path of element names and collect the text of the few elements that matter, each
 * bounded.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/parse.h"
#include "config/config.h"
#include "net/http.h"
#include "net/tls.h"
#include "send/autoconfig.h"
#include "send/candidate.h"

/* Elements deeper than this are no part of the format; their text is ignored. */
#define DEPTH 8

enum field { F_NONE, F_HOST, F_PORT, F_SOCKET, F_AUTH, F_USER, F_ISSUER };

struct server {
	struct buf host, port, socket, user;
	int password, oauth2, noauth, other;
};

struct state {
	XML_Parser p;
	const char *address;
	const char *source;
	struct candidates *out;
	struct err *e;
	char *path[DEPTH]; /* element names from the root */
	int depth;
	int root_ok;
	int in_smtp; /* inside an outgoingServer type="smtp" */
	enum field field;
	struct buf text; /* the text of the element being read */
	struct server s;
	struct buf issuer;
	struct candidates found; /* this document's, oauth filled in at the end */
	int refused;
};

static void
server_init(struct server *s)
{
	buf_init(&s->host, MAX_DOMAIN);
	buf_init(&s->port, MAX_NUMBER_TEXT);
	buf_init(&s->socket, MAX_NUMBER_TEXT);
	buf_init(&s->user, MAX_ADDRESS);
	s->password = s->oauth2 = s->noauth = s->other = 0;
}

static void
server_free(struct server *s)
{
	buf_free(&s->host);
	buf_free(&s->port);
	buf_free(&s->socket);
	buf_free(&s->user);
}

static int
at(const struct state *st, int depth, const char *name)
{
	return st->depth > depth && st->path[depth] != NULL && strcmp(st->path[depth], name) == 0;
}

static void XMLCALL
on_start(void *ctx, const XML_Char *name, const XML_Char **attr)
{
	struct state *st = ctx;
	size_t i;

	if (st->depth == 0)
		st->root_ok = strcmp(name, "clientConfig") == 0;
	if (st->depth < DEPTH)
		st->path[st->depth] = xstrdup(name);
	st->depth++;
	st->field = F_NONE;
	buf_reset(&st->text);
	if (st->depth == 3 && at(st, 1, "emailProvider") && strcmp(name, "outgoingServer") == 0) {
		for (i = 0; attr[i] != NULL; i += 2)
			if (strcmp(attr[i], "type") == 0 && strcmp(attr[i + 1], "smtp") == 0)
				st->in_smtp = 1;
		server_free(&st->s);
		server_init(&st->s);
		return;
	}
	if (st->in_smtp && st->depth == 4) {
		if (strcmp(name, "hostname") == 0)
			st->field = F_HOST;
		else if (strcmp(name, "port") == 0)
			st->field = F_PORT;
		else if (strcmp(name, "socketType") == 0)
			st->field = F_SOCKET;
		else if (strcmp(name, "authentication") == 0)
			st->field = F_AUTH;
		else if (strcmp(name, "username") == 0)
			st->field = F_USER;
	} else if (st->depth == 3 && at(st, 1, "oAuth2") && strcmp(name, "issuer") == 0)
		st->field = F_ISSUER;
}

static void XMLCALL
on_text(void *ctx, const XML_Char *s, int len)
{
	struct state *st = ctx;

	/* An over-long value fails the buffer, and the value is then not used. */
	if (st->field != F_NONE && buf_add(&st->text, s, (size_t)len) == -1)
		st->field = F_NONE;
}

/* The collected text, trimmed, or NULL when there is none (or it did not fit). */
static const char *
trimmed(struct buf *b)
{
	char *s, *end;

	if (buf_cstr(b) == NULL || b->len == 0)
		return NULL;
	for (s = b->data; *s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'; s++)
		;
	end = s + strlen(s);
	while (
	    end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return *s != '\0' ? s : NULL;
}

static void
keep(struct buf *dst, struct buf *text)
{
	const char *t = trimmed(text);

	buf_reset(dst);
	if (t != NULL && buf_addstr(dst, t) == -1)
		buf_reset(dst);
}

/* The user name with the placeholders filled in; NULL when it has another one. */
static char *
user_of(const char *tmpl, const char *address)
{
	static const char *const ph[] = { "%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%" };
	const char *at_sign = strrchr(address, '@'), *p = tmpl;
	struct buf b;
	size_t i, n;
	int r = 0;

	buf_init(&b, MAX_ADDRESS);
	while (*p != '\0') {
		for (i = 0; i < sizeof(ph) / sizeof(ph[0]); i++)
			if (strncmp(p, ph[i], strlen(ph[i])) == 0)
				break;
		if (i == 0)
			r |= buf_addstr(&b, address);
		else if (i == 1)
			r |= buf_add(&b, address,
			    at_sign != NULL ? (size_t)(at_sign - address) : strlen(address));
		else if (i == 2)
			r |= buf_addstr(&b, at_sign != NULL ? at_sign + 1 : "");
		else if (*p == '%')
			r = -1;
		else {
			r |= buf_addc(&b, *p);
			p++;
			continue;
		}
		if (r != 0)
			break;
		n = strlen(ph[i]);
		p += n;
	}
	if (r != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int
host_ok(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > MAX_DOMAIN)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == ':'))
			return 0;
	return 1;
}

/* The end of an outgoingServer: a candidate, if it is one mailout can use. */
static void
end_server(struct state *st)
{
	struct server *s = &st->s;
	struct candidate c;
	const char *sock = buf_cstr(&s->socket);
	uint64_t port = 0;

	memset(&c, 0, sizeof(c));
	c.host = (char *)buf_cstr(&s->host);
	if (!host_ok(c.host) || buf_cstr(&s->port) == NULL ||
	    parse_uint(s->port.data, 1, 65535, &port) == -1 || sock == NULL)
		return;
	if (strcasecmp(sock, "SSL") == 0 || strcasecmp(sock, "TLS") == 0)
		c.tls = TLS_IMPLICIT;
	else if (strcasecmp(sock, "STARTTLS") == 0)
		c.tls = TLS_STARTTLS;
	else
		return; /* plain: mailout sends no credentials in clear */
	c.port = (unsigned)port;
	c.password = s->password || (!s->noauth && !s->oauth2);
	c.oauth = s->oauth2 ? OAUTH_CUSTOM : OAUTH_NONE; /* settled by the issuer */
	c.user = buf_cstr(&s->user) != NULL && s->user.len > 0 ? user_of(s->user.data, st->address)
							       : NULL;
	c.source = (char *)st->source;
	candidate_add(&st->found, &c);
	free(c.user);
}

static void XMLCALL
on_end(void *ctx, const XML_Char *name)
{
	struct state *st = ctx;
	const char *t;

	(void)name;
	switch (st->field) {
	case F_HOST:
		keep(&st->s.host, &st->text);
		break;
	case F_PORT:
		keep(&st->s.port, &st->text);
		break;
	case F_SOCKET:
		keep(&st->s.socket, &st->text);
		break;
	case F_USER:
		keep(&st->s.user, &st->text);
		break;
	case F_ISSUER:
		keep(&st->issuer, &st->text);
		break;
	case F_AUTH:
		if ((t = trimmed(&st->text)) == NULL)
			break;
		if (strcasecmp(t, "password-cleartext") == 0 ||
		    strcasecmp(t, "password-encrypted") == 0 || strcasecmp(t, "plain") == 0 ||
		    strcasecmp(t, "secure") == 0)
			st->s.password = 1;
		else if (strcasecmp(t, "OAuth2") == 0)
			st->s.oauth2 = 1;
		else if (strcasecmp(t, "none") == 0 || strcasecmp(t, "client-IP-address") == 0)
			st->s.noauth = 1;
		else
			st->s.other = 1;
		break;
	default:
		break;
	}
	st->field = F_NONE;
	buf_reset(&st->text);
	if (st->in_smtp && st->depth == 3) {
		end_server(st);
		st->in_smtp = 0;
	}
	st->depth--;
	if (st->depth < DEPTH) {
		free(st->path[st->depth]);
		st->path[st->depth] = NULL;
	}
}

static void XMLCALL
on_entity(void *ctx, const XML_Char *name, int is_param, const XML_Char *value, int value_len,
    const XML_Char *base, const XML_Char *system_id, const XML_Char *public_id,
    const XML_Char *notation)
{
	struct state *st = ctx;

	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)system_id;
	(void)public_id;
	(void)notation;
	st->refused = 1;
	XML_StopParser(st->p, XML_FALSE);
}

/* Which provider the <oAuth2> issuer (or the host) names. */
static enum oauth_provider
provider_of(const char *issuer, const char *host)
{
	const char *h = issuer != NULL ? issuer : host;
	size_t n = strlen(h);

	if (strcasecmp(h, "accounts.google.com") == 0 ||
	    (n > 10 && strcasecmp(h + n - 10, ".gmail.com") == 0))
		return OAUTH_GOOGLE;
	if (strcasecmp(h, "login.microsoftonline.com") == 0 ||
	    (n > 14 && strcasecmp(h + n - 14, ".office365.com") == 0) ||
	    (n > 12 && strcasecmp(h + n - 12, ".outlook.com") == 0))
		return OAUTH_MICROSOFT;
	return OAUTH_NONE;
}

int
autoconfig_parse(const char *xml, size_t len, const char *address, const char *source,
    struct candidates *out, struct err *e)
{
	struct state st;
	size_t i;
	int added = 0, rc = -1;

	memset(&st, 0, sizeof(st));
	st.address = address;
	st.source = source;
	st.out = out;
	st.e = e;
	buf_init(&st.text, MAX_ADDRESS);
	buf_init(&st.issuer, MAX_DOMAIN);
	server_init(&st.s);
	if ((st.p = XML_ParserCreate("UTF-8")) == NULL) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "out of memory for the XML parser");
		goto out;
	}
	XML_SetUserData(st.p, &st);
	XML_SetElementHandler(st.p, on_start, on_end);
	XML_SetCharacterDataHandler(st.p, on_text);
	XML_SetEntityDeclHandler(st.p, on_entity);
	if (len > MAX_AUTOCONFIG_XML ||
	    XML_Parse(st.p, xml, (int)len, XML_TRUE) != XML_STATUS_OK || st.refused ||
	    !st.root_ok) {
		err_set(e, ERR_PERM, CAUSE_DATA, "%s: %s", source,
		    st.refused                     ? "the document declares XML entities: refused"
			: len > MAX_AUTOCONFIG_XML ? "larger than an autoconfig document"
			: !st.root_ok && XML_GetErrorCode(st.p) == XML_ERROR_NONE
			? "not a clientConfig document"
			: XML_ErrorString(XML_GetErrorCode(st.p)));
		goto out;
	}
	for (i = 0; i < st.found.n; i++) {
		if (st.found.c[i].oauth != OAUTH_NONE)
			st.found.c[i].oauth = provider_of(buf_cstr(&st.issuer) != NULL &&
				    st.issuer.len > 0
				? st.issuer.data
				: NULL,
			    st.found.c[i].host);
		added += candidate_add(out, &st.found.c[i]);
	}
	rc = added;
out:
	if (st.p != NULL)
		XML_ParserFree(st.p);
	for (i = 0; i < DEPTH; i++)
		free(st.path[i]);
	server_free(&st.s);
	buf_free(&st.text);
	buf_free(&st.issuer);
	candidates_free(&st.found);
	return rc;
}

int
autoconfig_fetch(const char *url, const char *ca_file, int timeout_s, struct buf *body,
    struct err *e)
{
	struct http_request rq;
	struct http_response r;
	struct tls_opts to;
	int rc = -1;

	buf_reset(body);
	memset(&rq, 0, sizeof(rq));
	memset(&to, 0, sizeof(to));
	to.verify = 1;
	to.ca_file = ca_file;
	rq.method = "GET";
	rq.url = url;
	rq.tls = &to;
	rq.timeout_s = timeout_s;
	if (http_do(&rq, &r, e) == -1)
		goto out;
	if (r.status == 404 || r.status == 410) {
		rc = 0;
		goto out;
	}
	if (r.status != 200) {
		err_set(e, ERR_TEMP, CAUSE_PROTOCOL, "HTTP %d %s", r.status, r.reason);
		goto out;
	}
	if (r.body.len > MAX_AUTOCONFIG_XML ||
	    buf_add(body, r.body.data != NULL ? r.body.data : "", r.body.len) == -1) {
		err_set(e, ERR_PERM, CAUSE_DATA,
		    "larger than an autoconfig document (%zu "
		    "bytes)",
		    r.body.len);
		goto out;
	}
	rc = 1;
out:
	http_response_free(&r);
	return rc;
}

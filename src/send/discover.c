/*
 * discover.c: the sources of discover.h, in order.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hooks.h"
#include "base/mem.h"
#include "base/path.h"
#include "net/dns.h"
#include "net/http.h"
#include "send/autoconfig.h"
#include "send/candidate.h"
#include "send/discover.h"
#include "send/providers.h"

#define ISPDB_URL "https://autoconfig.thunderbird.net/v1.1/"

enum source { S_TABLE, S_SRV, S_AUTOCONFIG, S_ISPDB, S_MX, S_GUESS, S_END };

static void say(const struct discover *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct discover *d, const char *fmt, ...)
{
	va_list ap;

	if (d->o.out == NULL)
		return;
	fputs("  ", d->o.out);
	va_start(ap, fmt);
	vfprintf(d->o.out, fmt, ap);
	va_end(ap);
	fputc('\n', d->o.out);
	fflush(d->o.out);
}

void
discover_init(struct discover *d, const char *address, const struct discover_opts *o)
{
	const char *at = strrchr(address, '@');

	memset(d, 0, sizeof(*d));
	d->address = address;
	d->domain = at != NULL ? at + 1 : address;
	d->o = *o;
}

void
discover_free(struct discover *d)
{
	free(d->mx);
	d->mx = NULL;
}

static int
from_table(struct discover *d, struct candidates *out)
{
	const struct provider *p = provider_by_domain(d->domain);
	char src[128];
	size_t before = out->n;

	if (p == NULL) {
		say(d, "built-in table: no entry for %s", d->domain);
		return 0;
	}
	snprintf(src, sizeof(src), "built-in table: %s", p->name);
	provider_candidates(p, d->address, src, out);
	say(d, "built-in table: %s, %s", p->name, p->host);
	return (int)(out->n - before);
}

/* One SRV name: its targets as candidates with tls. */
static int
from_srv_name(struct discover *d, const char *service, enum tls_mode tls, struct candidates *out)
{
	struct dns_srv *r = NULL;
	struct candidate c;
	struct err e;
	char *name, src[MAX_DOMAIN + 64];
	size_t n = 0, i;
	int found, added = 0;

	err_init(&e);
	if ((name = path_fmt("%s.%s", service, d->domain)) == NULL)
		return 0;
	found = dns_srv(name, &r, &n, &e);
	if (found == -1)
		say(d, "SRV %s: %s", name, e.msg);
	else if (found == 0)
		say(d, "SRV %s: none", name);
	snprintf(src, sizeof(src), "SRV %s", name);
	for (i = 0; i < n; i++) {
		say(d, "SRV %s: %s port %u", name, r[i].target, r[i].port);
		memset(&c, 0, sizeof(c));
		c.host = r[i].target;
		c.port = r[i].port;
		c.tls = tls;
		c.password = 1;
		c.user = (char *)d->address;
		c.source = src;
		if (c.port != 0)
			added += candidate_add(out, &c);
	}
	dns_srv_free(r, n);
	free(name);
	return added;
}

static int
from_srv(struct discover *d, struct candidates *out)
{
	int added = from_srv_name(d, "_submissions._tcp", TLS_IMPLICIT, out);

	return added + from_srv_name(d, "_submission._tcp", TLS_STARTTLS, out);
}

/* Fetch one autoconfig URL and parse it. Returns candidates added (0: none, or failed). */
static int
from_url(struct discover *d, const char *what, const char *url, struct candidates *out)
{
	struct buf body;
	struct err e;
	char src[MAX_URL + 64];
	int r, added = 0;

	err_init(&e);
	buf_init(&body, MAX_AUTOCONFIG_XML);
	snprintf(src, sizeof(src), "%s %s", what, url);
	r = autoconfig_fetch(url, d->o.ca_file, d->o.timeout_s, &body, &e);
	if (r == 0)
		say(d, "%s: none", src);
	else if (r == -1)
		say(d, "%s: %s", src, e.msg);
	else if ((r = autoconfig_parse(body.data, body.len, d->address, src, out, &e)) == -1)
		say(d, "%s: %s", what, e.msg);
	else if (r == 0)
		say(d, "%s: no SMTP server mailout can use (TLS is required)", src);
	else {
		say(d, "%s: %s port %u", src, out->c[out->n - (size_t)r].host,
		    out->c[out->n - (size_t)r].port);
		added = r;
	}
	buf_free(&body);
	return added;
}

static int
from_autoconfig(struct discover *d, struct candidates *out)
{
	struct buf url, query;
	int added = 0;

	buf_init(&url, MAX_URL);
	buf_init(&query, MAX_URL);
	/* The query on its own first: http_form_add puts '&' after anything already there. */
	if (http_form_add(&query, "emailaddress", d->address) == 0 &&
	    buf_addf(&url, "https://autoconfig.%s/mail/config-v1.1.xml?%s", d->domain,
		query.data) == 0)
		added = from_url(d, "autoconfig", url.data, out);
	buf_reset(&url);
	if (added == 0 &&
	    buf_addf(&url,
		"https://%s/.well-known/autoconfig/mail/"
		"config-v1.1.xml",
		d->domain) == 0)
		added = from_url(d, "autoconfig", url.data, out);
	buf_free(&url);
	buf_free(&query);
	return added;
}

static int
from_ispdb(struct discover *d, struct candidates *out)
{
	struct buf url;
	int added = 0;

	buf_init(&url, MAX_URL);
	if (buf_addf(&url, "%s%s", hooks_ispdb_url(ISPDB_URL), d->domain) == 0)
		added = from_url(d, "ISP database", url.data, out);
	buf_free(&url);
	return added;
}

static int
from_mx(struct discover *d, struct candidates *out)
{
	const struct provider *p;
	struct dns_mx *r = NULL;
	struct err e;
	char src[MAX_DOMAIN + 64];
	size_t n = 0, before = out->n;
	int found;

	err_init(&e);
	found = dns_mx(d->domain, &r, &n, &e);
	if (found == -1)
		say(d, "MX %s: %s", d->domain, e.msg);
	else if (found == 0)
		say(d, "MX %s: none", d->domain);
	if (n == 0)
		goto out;
	d->mx = xstrdup(r[0].host);
	if ((p = provider_by_mx(r[0].host)) == NULL) {
		say(d, "MX %s: %s, no provider of the built-in table", d->domain, r[0].host);
		goto out;
	}
	snprintf(src, sizeof(src), "MX %s: %s", r[0].host, p->name);
	say(d, "MX %s: %s, so the domain is hosted by %s", d->domain, r[0].host, p->name);
	provider_candidates(p, d->address, src, out);
out:
	dns_mx_free(r, n);
	return (int)(out->n - before);
}

static int
from_guess(struct discover *d, struct candidates *out)
{
	static const char *const names[] = { "smtp", "mail" };
	struct candidate c;
	char host[MAX_DOMAIN + 8];
	size_t i;
	int added = 0;

	memset(&c, 0, sizeof(c));
	c.password = 1;
	c.user = (char *)d->address;
	c.source = "a guess";
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(host, sizeof(host), "%s.%s", names[i], d->domain);
		c.host = host;
		added += candidate_add(out, &c);
	}
	if (d->mx != NULL) {
		c.host = d->mx;
		added += candidate_add(out, &c);
	}
	say(d, "guess: smtp.%s, mail.%s%s%s, on ports 465, 587 and 25", d->domain, d->domain,
	    d->mx != NULL ? " and " : "", d->mx != NULL ? d->mx : "");
	return added;
}

int
discover_next(struct discover *d, struct candidates *out)
{
	int added = 0;

	while (added == 0 && d->next < S_END) {
		switch (d->next++) {
		case S_TABLE:
			added = from_table(d, out);
			break;
		case S_SRV:
			added = from_srv(d, out);
			break;
		case S_AUTOCONFIG:
			added = from_autoconfig(d, out);
			break;
		case S_ISPDB:
			added = from_ispdb(d, out);
			break;
		case S_MX:
			added = from_mx(d, out);
			break;
		default:
			added = from_guess(d, out);
			break;
		}
	}
	return added;
}

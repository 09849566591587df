/*
 * dns.c: SRV and MX lookups. See dns.h.
 *
 * The answer is parsed with libc's ns_initparse/ns_parserr and names expanded with
 * dn_expand, which bound every read by the message's end: a hostile answer gives a
 * parse error, never a read past the buffer.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/err.h"
#include "base/mem.h"
#include "net/dns.h"

/* A name from the answer, without a final dot; NULL when it is malformed. */
static char *
expand(const unsigned char *msg, int len, const unsigned char *p)
{
	char name[MAX_DOMAIN + 2];
	size_t n;

	if (dn_expand(msg, msg + len, p, name, sizeof(name)) < 0)
		return NULL;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		name[--n] = '\0';
	return xstrdup(name);
}

static unsigned
u16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/*
 * Walk the answer section, calling take() for each record of type t with its rdata.
 * Returns how many were taken, or -1 when the answer is malformed.
 */
static int
walk(const unsigned char *msg, int len, ns_type t,
    int (*take)(void *ctx, const unsigned char *msg, int len, const unsigned char *rd,
	size_t rdlen),
    void *ctx)
{
	ns_msg h;
	ns_rr rr;
	int i, count, taken = 0;

	if (ns_initparse(msg, len, &h) == -1)
		return -1;
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < count && taken < MAX_DNS_RECORDS; i++) {
		if (ns_parserr(&h, ns_s_an, i, &rr) == -1)
			return -1;
		if (ns_rr_type(rr) != t || ns_rr_class(rr) != ns_c_in)
			continue;
		if (take(ctx, msg, len, ns_rr_rdata(rr), ns_rr_rdlen(rr)) == -1)
			return -1;
		taken++;
	}
	return taken;
}

struct srvs {
	struct dns_srv *r;
	size_t n;
};

static int
take_srv(void *ctx, const unsigned char *msg, int len, const unsigned char *rd, size_t rdlen)
{
	struct srvs *s = ctx;
	struct dns_srv *x;
	char *target;

	if (rdlen < 7 || (target = expand(msg, len, rd + 6)) == NULL)
		return -1;
	s->r = xrealloc(s->r, (s->n + 1) * sizeof(*s->r));
	x = &s->r[s->n++];
	x->priority = u16(rd);
	x->weight = u16(rd + 2);
	x->port = u16(rd + 4);
	x->target = target;
	return 0;
}

static int
srv_order(const void *a, const void *b)
{
	const struct dns_srv *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return 0;
}

int
dns_parse_srv(const unsigned char *msg, int len, struct dns_srv **out, size_t *n)
{
	struct srvs s = { NULL, 0 };
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = walk(msg, len, ns_t_srv, take_srv, &s)) == -1) {
		dns_srv_free(s.r, s.n);
		return -1;
	}
	/* RFC 2782: a lone "." target says the service is decidedly not available. */
	if (s.n == 1 && s.r[0].target[0] == '\0') {
		dns_srv_free(s.r, s.n);
		return 0;
	}
	if (s.n > 1)
		qsort(s.r, s.n, sizeof(*s.r), srv_order);
	*out = s.r;
	*n = s.n;
	return s.n > 0;
}

struct mxs {
	struct dns_mx *r;
	size_t n;
};

static int
take_mx(void *ctx, const unsigned char *msg, int len, const unsigned char *rd, size_t rdlen)
{
	struct mxs *s = ctx;
	char *host;

	if (rdlen < 3 || (host = expand(msg, len, rd + 2)) == NULL)
		return -1;
	s->r = xrealloc(s->r, (s->n + 1) * sizeof(*s->r));
	s->r[s->n].preference = u16(rd);
	s->r[s->n++].host = host;
	return 0;
}

static int
mx_order(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	if (x->preference != y->preference)
		return x->preference < y->preference ? -1 : 1;
	return strcmp(x->host, y->host);
}

int
dns_parse_mx(const unsigned char *msg, int len, struct dns_mx **out, size_t *n)
{
	struct mxs s = { NULL, 0 };

	*out = NULL;
	*n = 0;
	if (walk(msg, len, ns_t_mx, take_mx, &s) == -1) {
		dns_mx_free(s.r, s.n);
		return -1;
	}
	/* RFC 7505: a null MX (".") says the domain takes no mail. */
	if (s.n == 1 && s.r[0].host[0] == '\0') {
		dns_mx_free(s.r, s.n);
		return 0;
	}
	if (s.n > 1)
		qsort(s.r, s.n, sizeof(*s.r), mx_order);
	*out = s.r;
	*n = s.n;
	return s.n > 0;
}

/* res_query for name and type: the answer's length, 0 for no such data, -1 with err. */
static int
query(const char *name, ns_type t, unsigned char *ans, struct err *e)
{
	int len;

	if (strlen(name) > MAX_DOMAIN)
		return 0;
	h_errno = 0;
	len = res_query(name, ns_c_in, t, ans, MAX_DNS_ANSWER);
	if (len >= 0)
		return len;
	if (h_errno == HOST_NOT_FOUND || h_errno == NO_DATA)
		return 0;
	return err_set(e, ERR_TEMP, CAUSE_TEMP, "DNS lookup of %s (%s) failed: %s", name,
	    t == ns_t_srv ? "SRV" : "MX", hstrerror(h_errno));
}

int
dns_srv(const char *name, struct dns_srv **out, size_t *n, struct err *e)
{
	unsigned char *ans = xmalloc(MAX_DNS_ANSWER);
	int len, rc;

	*out = NULL;
	*n = 0;
	if ((len = query(name, ns_t_srv, ans, e)) <= 0)
		rc = len;
	else if ((rc = dns_parse_srv(ans, len, out, n)) == -1)
		err_set(e, ERR_TEMP, CAUSE_PROTOCOL,
		    "DNS lookup of %s (SRV): a malformed "
		    "answer",
		    name);
	free(ans);
	return rc;
}

int
dns_mx(const char *domain, struct dns_mx **out, size_t *n, struct err *e)
{
	unsigned char *ans = xmalloc(MAX_DNS_ANSWER);
	int len, rc;

	*out = NULL;
	*n = 0;
	if ((len = query(domain, ns_t_mx, ans, e)) <= 0)
		rc = len;
	else if ((rc = dns_parse_mx(ans, len, out, n)) == -1)
		err_set(e, ERR_TEMP, CAUSE_PROTOCOL,
		    "DNS lookup of %s (MX): a malformed "
		    "answer",
		    domain);
	free(ans);
	return rc;
}

void
dns_srv_free(struct dns_srv *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(r[i].target);
	free(r);
}

void
dns_mx_free(struct dns_mx *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(r[i].host);
	free(r);
}

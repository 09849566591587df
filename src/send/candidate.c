/*
 * candidate.c: the list of candidate servers. See candidate.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/bounds.h"
#include "base/mem.h"
#include "send/candidate.h"

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

int
candidate_add(struct candidates *l, const struct candidate *c)
{
	struct candidate *d;
	size_t i;

	if (l->n >= MAX_CANDIDATES || c->host == NULL || c->host[0] == '\0')
		return 0;
	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->c[i].host, c->host) == 0 && l->c[i].port == c->port &&
		    (c->port == 0 || l->c[i].tls == c->tls))
			return 0;
	l->c = xrealloc(l->c, (l->n + 1) * sizeof(*l->c));
	d = &l->c[l->n++];
	*d = *c;
	d->host = xstrdup(c->host);
	d->user = dup_or_null(c->user);
	d->source = dup_or_null(c->source);
	d->note = dup_or_null(c->note);
	return 1;
}

void
candidates_free(struct candidates *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->c[i].host);
		free(l->c[i].user);
		free(l->c[i].source);
		free(l->c[i].note);
	}
	free(l->c);
	l->c = NULL;
	l->n = 0;
}

const char *
candidate_tls_name(enum tls_mode m)
{
	switch (m) {
	case TLS_IMPLICIT:
		return "implicit TLS";
	case TLS_STARTTLS:
		return "STARTTLS";
	case TLS_OPPORTUNISTIC:
		return "STARTTLS if offered";
	default:
		return "no TLS";
	}
}

/*
 * mailbox.c: address headers as mailboxes with display names. See mailbox.h.
 *
 * One pass over the value splits it at the commas that are outside quotes, comments and
 * angle brackets; each element is then read as words (atoms, quoted strings), comments
 * and at most one angle address. An element without angle brackets is an addr-spec,
 * possibly with a comment ("root (Cron Daemon)"), or words followed by one addr-spec
 * (the missing-brackets form some scripts write).
 */
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "message/mailbox.h"
#include "message/rfc2047.h"
#include "base/mem.h"

enum tok { T_ATOM, T_QUOTED };

struct word {
	enum tok kind;
	char *raw; /* as written (a quoted string with its quotes) */
	char *text; /* quotes and escapes removed */
};

struct elem {
	struct word w[64]; /* words outside the angle address */
	size_t nw;
	size_t nbefore; /* words before '<' */
	struct buf comment;
	struct buf angle; /* inside <...>, spaces and comments removed */
	int has_angle;
};

static void
elem_init(struct elem *el)
{
	memset(el, 0, sizeof(*el));
	buf_init(&el->comment, MAX_ADDRESS);
	buf_init(&el->angle, MAX_ADDRESS);
}

static void
elem_free(struct elem *el)
{
	size_t i;

	for (i = 0; i < el->nw; i++) {
		free(el->w[i].raw);
		free(el->w[i].text);
	}
	buf_free(&el->comment);
	buf_free(&el->angle);
	memset(el, 0, sizeof(*el));
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * A quoted string from s[*i] (the opening quote) into raw and text. -1 if unterminated or
 * too long.
 */
static int
quoted(const char *s, size_t len, size_t *i, struct buf *raw, struct buf *text)
{
	size_t k = *i + 1;
	int r;

	r = buf_addc(raw, '"');
	for (; k < len && s[k] != '"'; k++) {
		if (s[k] == '\\' && k + 1 < len) {
			r |= buf_addc(raw, s[k]);
			k++;
		} else if (s[k] == '\r' || s[k] == '\n')
			continue;
		r |= buf_addc(raw, s[k]);
		r |= buf_addc(text, s[k]);
	}
	if (k >= len)
		return -1;
	r |= buf_addc(raw, '"');
	*i = k + 1;
	return r;
}

/*
 * A comment from s[*i] (the opening parenthesis), nested, its text appended to text. -1
 * if unterminated or too long.
 */
static int
comment(const char *s, size_t len, size_t *i, struct buf *text)
{
	size_t k = *i + 1;
	int depth = 1, r = 0;

	if (text->len > 0)
		r = buf_addc(text, ' ');
	for (; k < len && depth > 0; k++) {
		if (s[k] == '\\' && k + 1 < len) {
			r |= buf_addc(text, s[++k]);
			continue;
		}
		if (s[k] == '(')
			depth++;
		else if (s[k] == ')' && --depth == 0)
			break;
		if (s[k] == '\r' || s[k] == '\n')
			continue;
		r |= buf_addc(text, s[k] == '\t' ? ' ' : s[k]);
	}
	if (depth > 0)
		return -1;
	*i = k + 1;
	return r;
}

/* The word in raw and text (then left empty). -1 if there are too many, or it is too long. */
static int
add_word(struct elem *el, enum tok kind, struct buf *raw, struct buf *text)
{
	char *r, *t;

	if (el->nw == sizeof(el->w) / sizeof(el->w[0]))
		return -1;
	r = buf_steal(raw);
	t = buf_steal(text);
	if (r == NULL || t == NULL) {
		free(r);
		free(t);
		return -1;
	}
	el->w[el->nw].kind = kind;
	el->w[el->nw].raw = r;
	el->w[el->nw].text = t;
	el->nw++;
	if (!el->has_angle)
		el->nbefore = el->nw;
	return 0;
}

/* Inside <...>: the addr-spec without spaces and comments; a route "@a,@b:" is dropped. */
static int
angle(const char *s, size_t len, size_t *i, struct elem *el)
{
	struct buf raw, text, junk;
	size_t k = *i + 1;
	const char *colon;
	int rc = -1;

	buf_init(&raw, MAX_ADDRESS);
	buf_init(&text, MAX_ADDRESS);
	buf_init(&junk, MAX_ADDRESS);
	if (el->has_angle)
		goto out;
	el->has_angle = 1;
	while (k < len && s[k] != '>') {
		if (s[k] == '"') {
			if (quoted(s, len, &k, &raw, &text) == -1 ||
			    buf_add(&el->angle, raw.data, raw.len) == -1)
				goto out;
			buf_reset(&raw);
			buf_reset(&text);
		} else if (s[k] == '(') {
			if (comment(s, len, &k, &junk) == -1)
				goto out;
		} else if (s[k] == '<')
			goto out;
		else {
			if (!is_wsp(s[k]) && buf_addc(&el->angle, s[k]) == -1)
				goto out;
			k++;
		}
	}
	if (k >= len)
		goto out;
	*i = k + 1;
	colon = el->angle.data != NULL ? strrchr(el->angle.data, ':') : NULL;
	if (colon != NULL && el->angle.data[0] == '@')
		buf_consume(&el->angle, (size_t)(colon - el->angle.data) + 1);
	rc = 0;
out:
	buf_free(&raw);
	buf_free(&text);
	buf_free(&junk);
	return rc;
}

/* Read one element, s[*i] up to a top-level comma or the end. 0, or -1 if not usable. */
static int
element(const char *s, size_t len, size_t *i, struct elem *el)
{
	struct buf raw, text;
	size_t k = *i;
	int rc = -1;

	buf_init(&raw, MAX_ADDRESS);
	buf_init(&text, MAX_ADDRESS);
	while (k < len && s[k] != ',') {
		if (is_wsp(s[k])) {
			k++;
			continue;
		}
		if (s[k] == '"') {
			if (quoted(s, len, &k, &raw, &text) == -1)
				goto out;
			/* "john doe"@example.org: a quoted local part, not a name. */
			if (k < len && s[k] == '@') {
				while (k < len && !is_wsp(s[k]) && strchr(",<>()\"", s[k]) == NULL)
					if (buf_addc(&raw, s[k++]) == -1)
						goto out;
				if (buf_add(&text, raw.data, raw.len) == -1 ||
				    add_word(el, T_ATOM, &raw, &text) == -1)
					goto out;
				continue;
			}
			if (add_word(el, T_QUOTED, &raw, &text) == -1)
				goto out;
		} else if (s[k] == '(') {
			if (comment(s, len, &k, &el->comment) == -1)
				goto out;
		} else if (s[k] == '<') {
			if (angle(s, len, &k, el) == -1)
				goto out;
		} else if (strchr(":;>)[]\\", s[k]) != NULL)
			/* A group, or specials we would not reproduce faithfully. */
			goto out;
		else {
			while (k < len && !is_wsp(s[k]) && strchr(",<>()\":;[]\\", s[k]) == NULL)
				if (buf_addc(&raw, s[k++]) == -1)
					goto out;
			if (k < len && s[k] == '"') {
				/* local."quoted"@x and the like: too odd to rewrite. */
				goto out;
			}
			if (buf_add(&text, raw.data, raw.len) == -1 ||
			    add_word(el, T_ATOM, &raw, &text) == -1)
				goto out;
		}
	}
	*i = k;
	rc = 0;
out:
	buf_free(&raw);
	buf_free(&text);
	return rc;
}

/* The words' texts joined by spaces, or NULL when that is too long for a name. */
static char *
join_words(const struct elem *el, size_t from, size_t to, int skip)
{
	struct buf b;
	size_t j;
	char *p;
	int r = 0;

	buf_init(&b, MAX_ADDRESS * 2);
	for (j = from; j < to; j++) {
		if (j == (size_t)skip)
			continue;
		if (b.len > 0)
			r |= buf_addc(&b, ' ');
		r |= buf_addstr(&b, el->w[j].text);
	}
	p = r == 0 ? buf_steal(&b) : NULL;
	buf_free(&b);
	return p;
}

static char *
blank_to_null(char *s)
{
	const char *p;

	if (s == NULL)
		return NULL;
	for (p = s; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0') {
		free(s);
		return NULL;
	}
	return s;
}

/* Turn a read element into name and addr. 0, 1 for an empty element, -1 if unusable. */
static int
resolve(struct elem *el, struct mailbox *mb)
{
	char *name;
	size_t j;
	int at = -1, nat = 0;

	mb->name = NULL;
	mb->addr = NULL;
	if (el->has_angle) {
		if (el->nw > el->nbefore || (name = join_words(el, 0, el->nbefore, -1)) == NULL)
			return -1;
		mb->addr = xstrdup(el->angle.data != NULL ? el->angle.data : "");
		mb->name = blank_to_null(name);
		if (mb->name == NULL && el->comment.len > 0)
			mb->name = blank_to_null(xstrdup(el->comment.data));
		return 0;
	}
	if (el->nw == 0)
		return el->comment.len > 0 ? -1 : 1;
	for (j = 0; j < el->nw; j++)
		if (el->w[j].kind == T_ATOM && strchr(el->w[j].raw, '@') != NULL) {
			at = (int)j;
			nat++;
		}
	if (el->nw == 1 && el->w[0].kind == T_ATOM)
		mb->addr = xstrdup(el->w[0].raw);
	else if (nat == 1 && at == (int)el->nw - 1) {
		/* Cron Daemon root@host: words, then the address without its brackets. */
		if ((name = join_words(el, 0, el->nw, at)) == NULL)
			return -1;
		mb->addr = xstrdup(el->w[at].raw);
		mb->name = blank_to_null(name);
	} else
		return -1;
	if (mb->name == NULL && el->comment.len > 0)
		mb->name = blank_to_null(xstrdup(el->comment.data));
	return 0;
}

/*
 * 1 if addr, written bare (mailbox_format with no name), reads back as itself, as element()
 * reads a word: a quoted local part only at the start, no special anywhere else.
 * "<a,b@x>" written "a,b@x" would read as two mailboxes.
 */
static int
bare_safe(const char *addr)
{
	const char *p = addr;

	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		if (*p != '"' || p[1] != '@')
			return 0;
		p++;
	}
	for (; *p != '\0'; p++)
		if (strchr("()<>[]:;\\,\"", *p) != NULL)
			return 0;
	return 1;
}

int
mailbox_parse(const char *s, size_t len, size_t max, struct mailbox_list *out)
{
	struct elem el;
	struct mailbox mb;
	size_t i = 0, cap = 0;
	int r, rc = -1;

	memset(out, 0, sizeof(*out));
	/* The mailboxes are C strings: a NUL would cut one short, and not faithfully. */
	if (len > 0 && memchr(s, '\0', len) != NULL)
		goto out;
	while (i <= len) {
		elem_init(&el);
		if (element(s, len, &i, &el) == -1) {
			elem_free(&el);
			goto out;
		}
		r = resolve(&el, &mb);
		elem_free(&el);
		if (r == -1)
			goto out;
		if (r == 0) {
			if (mb.addr[0] == '\0' || !bare_safe(mb.addr) || out->n == max) {
				free(mb.name);
				free(mb.addr);
				goto out;
			}
			if (out->n == cap) {
				cap = cap ? cap * 2 : 4;
				out->v = xrealloc(out->v, cap * sizeof(*out->v));
			}
			out->v[out->n++] = mb;
		}
		i++; /* past the comma, or past the end */
	}
	rc = 0;
out:
	if (rc == -1)
		mailbox_list_free(out);
	return rc;
}

void
mailbox_list_free(struct mailbox_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].addr);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
mailbox_format(struct buf *b, const char *name, const char *addr)
{
	size_t before = b->len;

	if (name != NULL && rfc2047_phrase(b, name, MAX_ADDRESS / 4) == -1)
		return -1;
	if (b->len > before)
		return buf_addf(b, " <%s>", addr);
	return buf_addstr(b, addr);
}

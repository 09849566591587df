/*
 * rfc5322.c: address lists (RFC 5322 3.4, with the obsolete forms of 4.4), field names and
 * the SMTP path check. Pure: no I/O. See rfc5322.h.
 *
 * Two steps. A lexer turns the text into tokens; comments and folding whitespace vanish and
 * leave only a "whitespace came before" mark. The tokens of one list element (up to a comma,
 * a group's ':' or ';', or the end) are then read as a name-addr or an addr-spec. Comments
 * are skipped with a depth counter rather than recursion, and the lax repairs loop rather
 * than recurse, so hostile input costs no stack.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "message/rfc5322.h"
#include "base/mem.h"
#include "base/str.h"

enum tok_type {
	T_END,
	T_ATOM,
	T_QSTR,
	T_DLIT,
	T_DOT,
	T_AT,
	T_LT,
	T_GT,
	T_COMMA,
	T_COLON,
	T_SEMI,
	T_JUNK
};

struct tok {
	enum tok_type type;
	int ws; /* whitespace or a comment came before it */
	size_t off;
	size_t len;
	const char *why; /* T_JUNK: what is wrong, for strict mode */
};

struct parser {
	const unsigned char *s;
	size_t len;
	size_t pos;
	int strict;
	struct tok *t; /* the tokens of the current element */
	size_t nt;
	size_t capt;
	struct addrlist *out;
	struct err *e;
	struct buf addr; /* the addr-spec being built */
	struct buf tmp; /* a decoded local part */
};

static int
is_atext(unsigned char c)
{
	/* Bytes >= 0x80 are UTF-8 atext (RFC 6532 3.2) or raw 8-bit that real programs send. */
	if (c >= 0x80)
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * The next token. In lax mode an unterminated quote or '[' is taken as a stray character
 * and skipped, so that '"Joe <joe@x>' still yields joe@x; an unterminated comment runs to
 * the end. In strict mode each of these is a T_JUNK token that names the problem.
 */
static void
lex_next(struct parser *p, struct tok *t)
{
	const unsigned char *s = p->s;
	size_t i = p->pos, n = p->len, j, depth;
	int ws = 0;

	memset(t, 0, sizeof(*t));
again:
	while (i < n) {
		if (is_wsp(s[i])) {
			i++;
			ws = 1;
			continue;
		}
		if (s[i] != '(')
			break;
		for (j = i, depth = 0; j < n; j++) {
			if (s[j] == '\\' && j + 1 < n)
				j++;
			else if (s[j] == '(')
				depth++;
			else if (s[j] == ')' && --depth == 0)
				break;
		}
		if (j >= n && p->strict) {
			t->type = T_JUNK;
			t->why = "unterminated comment";
			t->off = i;
			t->len = n - i;
			t->ws = ws;
			p->pos = n;
			return;
		}
		i = j < n ? j + 1 : n;
		ws = 1;
	}
	t->ws = ws;
	t->off = i;
	if (i >= n) {
		t->type = T_END;
		goto out;
	}
	switch (s[i]) {
	case '"':
	case '[':
		for (j = i + 1; j < n; j++) {
			if (s[j] == '\\' && j + 1 < n)
				j++;
			else if (s[i] == '"' && s[j] == '"')
				break;
			else if (s[i] == '[' && (s[j] == ']' || s[j] == '['))
				break;
		}
		if (j < n && s[j] != '[') {
			t->type = s[i] == '"' ? T_QSTR : T_DLIT;
			t->len = j + 1 - i;
		} else if (p->strict) {
			t->type = T_JUNK;
			t->why = s[i] == '"' ? "unterminated quoted string"
					     : "unterminated domain literal";
			t->len = n - i;
		} else {
			i++;
			ws = 1;
			goto again;
		}
		break;
	case '.':
		t->type = T_DOT;
		break;
	case '@':
		t->type = T_AT;
		break;
	case '<':
		t->type = T_LT;
		break;
	case '>':
		t->type = T_GT;
		break;
	case ',':
		t->type = T_COMMA;
		break;
	case ':':
		t->type = T_COLON;
		break;
	case ';':
		t->type = T_SEMI;
		break;
	default:
		if (is_atext(s[i])) {
			for (j = i; j < n && is_atext(s[j]); j++)
				;
			t->type = T_ATOM;
			t->len = j - i;
		} else {
			t->type = T_JUNK;
			t->why = "character not allowed here";
		}
		break;
	}
	if (t->len == 0)
		t->len = 1;
out:
	p->pos = t->off + t->len;
}

/* Strict mode: "malformed address 'TEXT': WHY" for tokens [a, b). */
static int
malformed(struct parser *p, size_t a, size_t b, const char *why)
{
	size_t off = 0, end = 0, n;

	if (a < b) {
		off = p->t[a].off;
		end = p->t[b - 1].off + p->t[b - 1].len;
	}
	n = end - off;
	return err_set(p->e, ERR_PERM, CAUSE_DATA, "malformed address '%.*s%s': %s",
	    (int)(n > MAX_ADDRESS_QUOTE ? MAX_ADDRESS_QUOTE : n), (const char *)p->s + off,
	    n > MAX_ADDRESS_QUOTE ? "..." : "", why);
}

static int
is_word(const struct tok *t)
{
	return t->type == T_ATOM || t->type == T_QSTR;
}

/* 1 if s[0..n) is a dot-atom-text: atext runs joined by single dots. */
static int
is_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/*
 * The local part from tokens [a, b) into p->addr. Unquoted, it is kept as written (minus
 * CFWS). With a quoted string, it is decoded and re-quoted only if it needs quotes, so
 * "john"@x and john@x are one address. Returns NULL or what is wrong.
 */
static const char *
local_part(struct parser *p, size_t a, size_t b)
{
	const unsigned char *q;
	size_t i, k, n;
	int quoted = 0;

	for (i = a; i < b; i++)
		if (p->t[i].type == T_QSTR)
			quoted = 1;
	buf_reset(&p->tmp);
	for (i = a; i < b; i++) {
		q = p->s + p->t[i].off;
		n = p->t[i].len;
		if (p->t[i].type != T_QSTR) {
			if (buf_add(&p->tmp, q, n) == -1)
				return "address too long";
			continue;
		}
		for (k = 1; k + 1 < n; k++) {
			if (q[k] == '\\')
				k++;
			/* Nothing that could end a line or a path may come out, quoted or not. */
			if (is_ctl(q[k]) || q[k] == '<' || q[k] == '>')
				return "control character or angle bracket in quoted local part";
			if (buf_addc(&p->tmp, (char)q[k]) == -1)
				return "address too long";
		}
	}
	if (!quoted || is_dot_atom(p->tmp.data, p->tmp.len))
		return buf_add(&p->addr, p->tmp.data, p->tmp.len) == -1 ? "address too long"
									: NULL;
	if (buf_addc(&p->addr, '"') == -1)
		return "address too long";
	for (k = 0; k < p->tmp.len; k++) {
		if ((p->tmp.data[k] == '"' || p->tmp.data[k] == '\\') &&
		    buf_addc(&p->addr, '\\') == -1)
			return "address too long";
		if (buf_addc(&p->addr, p->tmp.data[k]) == -1)
			return "address too long";
	}
	return buf_addc(&p->addr, '"') == -1 ? "address too long" : NULL;
}

/*
 * Inside [...]: RFC 5322 allows most printable bytes, but the only literals a relay takes
 * are IPv4, "IPv6:..." and tagged ones (RFC 5321 4.1.3), so '<', '>', '"' never come out.
 */
static int
literal_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == ':' || c == '-';
}

/* A domain literal's text without the whitespace RFC 5322 allows inside it. */
static const char *
domain_literal(struct parser *p, const struct tok *t)
{
	const unsigned char *q = p->s + t->off;
	size_t k;

	for (k = 0; k < t->len; k++) {
		if (is_wsp(q[k]))
			continue;
		if ((k == 0 || k == t->len - 1) ? 0 : !literal_char(q[k]))
			return "bad character in domain literal";
		if (buf_addc(&p->addr, (char)q[k]) == -1)
			return "address too long";
	}
	return NULL;
}

/*
 * An addr-spec from tokens [a, b) into p->addr. Strict: local-part ["@" domain] exactly.
 * Lax: words run together keep only the last run ("Name foo@bar" is handled before this,
 * "<john doe@x>" here), a missing domain leaves a bare name, stray dots around the domain
 * are dropped ("foo@bar.com."). Returns NULL or what is wrong.
 */
static const char *
addr_spec(struct parser *p, size_t a, size_t b)
{
	struct tok *t = p->t;
	size_t i, at = b, la, lb, da, db;
	const char *why;
	int nat = 0, dot;

	buf_reset(&p->addr);
	if (a >= b)
		return "empty address";
	for (i = a; i < b; i++) {
		if (t[i].type == T_AT) {
			at = i;
			nat++;
		} else if (!is_word(&t[i]) && t[i].type != T_DOT && t[i].type != T_DLIT)
			return "unexpected character";
	}
	if (nat > 1)
		return "more than one '@'";
	la = a;
	lb = at;
	if (la >= lb)
		return "missing local part before '@'";
	for (i = la; i < lb; i++) {
		if (t[i].type == T_DLIT)
			return "domain literal in the local part";
		if (i > la && is_word(&t[i]) && is_word(&t[i - 1])) {
			if (p->strict)
				return "words not separated by '.' (a display name needs <...>)";
			la = i;
		}
		if (p->strict && t[i].type == T_DOT &&
		    (i == la || i + 1 == lb || t[i + 1].type == T_DOT))
			return "misplaced '.' in local part";
	}
	if ((why = local_part(p, la, lb)) != NULL)
		return why;
	if (at == b)
		goto check;
	da = at + 1;
	db = b;
	if (!p->strict) {
		for (i = da; i < db; i++)
			if (i > da && t[i].ws && t[i].type != T_DOT && t[i - 1].type != T_DOT)
				db = i;
		while (da < db && t[da].type == T_DOT)
			da++;
		while (db > da && t[db - 1].type == T_DOT)
			db--;
	}
	if (da >= db) {
		if (p->strict)
			return "missing domain after '@'";
		goto check;
	}
	if (buf_addc(&p->addr, '@') == -1)
		return "address too long";
	if (t[da].type == T_DLIT) {
		if (db - da != 1)
			return "text after a domain literal";
		if ((why = domain_literal(p, &t[da])) != NULL)
			return why;
		goto check;
	}
	for (i = da, dot = 1; i < db; i++) {
		if (t[i].type == T_DOT) {
			if (dot && p->strict)
				return "misplaced '.' in domain";
			if (!dot && buf_addc(&p->addr, '.') == -1)
				return "address too long";
			dot = 1;
			continue;
		}
		if (t[i].type != T_ATOM)
			return "bad domain";
		if (!dot) {
			if (p->strict)
				return "domain labels not separated by '.'";
			break;
		}
		if (buf_add(&p->addr, p->s + t[i].off, t[i].len) == -1)
			return "address too long";
		dot = 0;
	}
	if (dot && p->strict)
		return "domain ends in '.'";
check:
	if (p->addr.len > MAX_ADDRESS)
		return "address too long";
	return NULL;
}

/* Append p->addr to the list; the count is bounded so deduplication stays cheap. */
static int
emit(struct parser *p)
{
	if (addrlist_add(p->out, buf_cstr(&p->addr)) == 1 && p->out->n > MAX_RECIPIENTS)
		return err_set(p->e, ERR_PERM, CAUSE_DATA, "more than %d addresses",
		    MAX_RECIPIENTS);
	return 0;
}

/* Strict mode fails on why; lax mode drops the address and goes on. */
static int
spec(struct parser *p, size_t a, size_t b, size_t qa, size_t qb)
{
	const char *why;

	if ((why = addr_spec(p, a, b)) != NULL)
		return p->strict ? malformed(p, qa, qb, why) : 0;
	return emit(p);
}

/* The inside of <...>: empty (ignored), or an optional obs-route then an addr-spec. */
static int
angle(struct parser *p, size_t a, size_t b, size_t qa, size_t qb)
{
	size_t i;

	if (a >= b)
		return 0;
	if (p->t[a].type == T_AT) {
		for (i = a; i < b && p->t[i].type != T_COLON; i++) {
			if (p->t[i].type != T_AT && p->t[i].type != T_COMMA &&
			    p->t[i].type != T_ATOM && p->t[i].type != T_DOT &&
			    p->t[i].type != T_DLIT)
				break;
		}
		if (i >= b || p->t[i].type != T_COLON)
			return p->strict ? malformed(p, qa, qb, "bad source route") : 0;
		a = i + 1;
	}
	return spec(p, a, b, qa, qb);
}

static int
find(const struct parser *p, size_t a, size_t b, enum tok_type type)
{
	size_t i;

	for (i = a; i < b; i++)
		if (p->t[i].type == type)
			return (int)i;
	return -1;
}

/* Lax mode: drop tokens that cannot be part of an address; what follows counts as spaced. */
static void
drop_junk(struct parser *p)
{
	size_t i, k = 0;
	int ws = 0;

	for (i = 0; i < p->nt; i++) {
		if (p->t[i].type == T_JUNK) {
			ws = 1;
			continue;
		}
		p->t[k] = p->t[i];
		p->t[k].ws |= ws;
		ws = 0;
		k++;
	}
	p->nt = k;
}

/*
 * Lax mode without <...>: split at whitespace that is not next to '.' or '@'. Pieces with an
 * '@' are the addresses and the others are a display name ("Name foo@bar"); with no '@'
 * anywhere, every piece is a name, as in sendmail's old-style lists ("root alice").
 */
static int
lax_words(struct parser *p, size_t a, size_t b)
{
	size_t i, k, c0;
	int any_at, has_at, ws = 0;

	/* A stray '>' or ':' is dropped and counts as a space ("a@x> b@x"). */
	for (i = k = a; i < b; i++) {
		if (p->t[i].type == T_GT || p->t[i].type == T_COLON || p->t[i].type == T_SEMI ||
		    p->t[i].type == T_LT) {
			ws = 1;
			continue;
		}
		p->t[k] = p->t[i];
		p->t[k++].ws |= ws;
		ws = 0;
	}
	b = k;
	any_at = find(p, a, b, T_AT) != -1;
	for (c0 = a; c0 < b; c0 = i) {
		has_at = p->t[c0].type == T_AT;
		for (i = c0 + 1; i < b; i++) {
			if (p->t[i].ws && p->t[i].type != T_DOT && p->t[i].type != T_AT &&
			    p->t[i - 1].type != T_DOT && p->t[i - 1].type != T_AT)
				break;
			if (p->t[i].type == T_AT)
				has_at = 1;
		}
		if ((has_at || !any_at) && spec(p, c0, i, c0, i) == -1)
			return -1;
	}
	return 0;
}

/* One list element: tokens p->t[0..nt). */
static int
element(struct parser *p)
{
	size_t a = 0, b, i;
	int lt, gt;

	for (i = 0; i < p->nt; i++)
		if (p->t[i].type == T_JUNK) {
			if (p->strict)
				return malformed(p, 0, p->nt, p->t[i].why);
		}
	if (!p->strict)
		drop_junk(p);
	b = p->nt;
	while (a < b) {
		if ((lt = find(p, a, b, T_LT)) == -1)
			return p->strict ? spec(p, a, b, a, b) : lax_words(p, a, b);
		for (i = a; i < (size_t)lt; i++)
			if (p->strict && !is_word(&p->t[i]) && p->t[i].type != T_DOT)
				return malformed(p, a, b, "bad display name (quote it)");
		if ((gt = find(p, lt + 1, b, T_GT)) == -1) {
			if (p->strict)
				return malformed(p, a, b, "missing '>'");
			gt = (int)b;
		}
		if (p->strict && (size_t)gt + 1 < b)
			return malformed(p, a, b, "text after '>'");
		if (p->strict && find(p, lt + 1, gt, T_LT) != -1)
			return malformed(p, a, b, "'<' inside <...>");
		if (!p->strict)
			for (i = lt + 1; i < (size_t)gt; i++)
				if (p->t[i].type == T_LT)
					lt = (int)i;
		if (angle(p, lt + 1, gt, a, b) == -1)
			return -1;
		/* Lax: "<a@x> <b@x>" with the comma missing is two addresses. */
		a = gt + 1;
	}
	return 0;
}

static void
push(struct parser *p, const struct tok *t)
{
	if (p->nt == p->capt) {
		p->capt = p->capt ? p->capt * 2 : 16;
		p->t = xrealloc(p->t, p->capt * sizeof(*p->t));
	}
	p->t[p->nt++] = *t;
}

/*
 * Gather one element's tokens. Returns the token that ended it (T_COMMA, T_SEMI, T_COLON
 * for a group's start, or T_END). Inside <...>, ',' and ':' belong to an obs-route; a ','
 * after the route means the '>' is missing and ends the element.
 */
static enum tok_type
gather(struct parser *p, int in_group, int *too_long)
{
	struct tok t;
	int in_angle = 0, route = 0, seen_at = 0;

	p->nt = 0;
	*too_long = 0;
	for (;;) {
		lex_next(p, &t);
		if (t.type == T_END)
			return T_END;
		if (!in_angle) {
			if (t.type == T_COMMA || t.type == T_SEMI)
				return t.type;
			if (t.type == T_COLON && !seen_at && find(p, 0, p->nt, T_LT) == -1 &&
			    !*too_long)
				return T_COLON;
			if (t.type == T_LT) {
				in_angle = 1;
				route = 0;
			} else if (t.type == T_AT)
				seen_at = 1;
		} else {
			if (t.type == T_GT)
				in_angle = 0;
			else if (t.type == T_AT && p->nt > 0 && p->t[p->nt - 1].type == T_LT)
				route = 1;
			else if (t.type == T_COLON && route)
				route = 0;
			else if (t.type == T_COMMA && !route)
				return T_COMMA;
			else if (t.type == T_SEMI && in_group)
				return T_SEMI;
		}
		/* An element has at most one token per byte of a MAX_ADDRESS-long address. */
		if (p->nt >= MAX_ADDRESS) {
			*too_long = 1;
			continue;
		}
		push(p, &t);
	}
}

int
rfc5322_parse_addrlist(const char *s, size_t len, struct addrlist *out, int strict, struct err *e)
{
	struct parser p;
	enum tok_type end;
	int rc = -1, in_group = 0, too_long;
	size_t i;

	memset(&p, 0, sizeof(p));
	p.s = (const unsigned char *)s;
	p.len = len;
	p.strict = strict;
	p.out = out;
	p.e = e;
	buf_init(&p.addr, MAX_ADDRESS * 2);
	buf_init(&p.tmp, MAX_ADDRESS * 2);
	for (;;) {
		end = gather(&p, in_group, &too_long);
		if (too_long) {
			if (strict) {
				malformed(&p, 0, p.nt, "address too long");
				goto out;
			}
		} else if (end == T_COLON) {
			if (strict && in_group) {
				malformed(&p, 0, p.nt, "group inside a group");
				goto out;
			}
			for (i = 0; strict && i < p.nt; i++)
				if (!is_word(&p.t[i]) && p.t[i].type != T_DOT) {
					malformed(&p, 0, p.nt, "bad group name");
					goto out;
				}
			if (strict && p.nt == 0) {
				err_set(e, ERR_PERM, CAUSE_DATA,
				    "malformed address list: group without a name");
				goto out;
			}
			in_group = 1;
			continue;
		} else if (element(&p) == -1)
			goto out;
		if (end == T_SEMI) {
			if (strict && !in_group) {
				err_set(e, ERR_PERM, CAUSE_DATA,
				    "malformed address list: ';' outside a group");
				goto out;
			}
			in_group = 0;
		}
		/*
		 * A group left open at the end ("undisclosed-recipients:") is accepted even in
		 * strict mode: it names no address, and real programs write it.
		 */
		if (end == T_END)
			break;
	}
	rc = 0;
out:
	free(p.t);
	buf_free(&p.addr);
	buf_free(&p.tmp);
	return rc;
}

/* The '@' between local part and domain, or NULL for a bare name. */
static const char *
addr_at(const char *a)
{
	if (*a == '"') {
		for (a++; *a != '\0' && *a != '"'; a++)
			if (*a == '\\' && a[1] != '\0')
				a++;
	}
	return strchr(a, '@');
}

void
addrlist_init(struct addrlist *l)
{
	memset(l, 0, sizeof(*l));
}

int
addrlist_add(struct addrlist *l, const char *addr)
{
	const char *at = addr_at(addr), *o, *oat;
	size_t i, ll = at ? (size_t)(at - addr) : strlen(addr);

	for (i = 0; i < l->n; i++) {
		o = l->v[i];
		oat = addr_at(o);
		if ((at == NULL) != (oat == NULL))
			continue;
		if ((oat ? (size_t)(oat - o) : strlen(o)) != ll || memcmp(o, addr, ll) != 0)
			continue;
		if (at == NULL || streq_ci(at, oat))
			return 0;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(addr);
	return 1;
}

void
addrlist_free(struct addrlist *l)
{
	xfree_strv(l->v, l->n);
	memset(l, 0, sizeof(*l));
}

int
rfc5322_field_name(const char *line, size_t len, size_t *name_len, const char **value)
{
	size_t i, n;
	int rc = -1;

	for (i = 0; i < len && line[i] != ':'; i++)
		if ((unsigned char)line[i] < 33 || (unsigned char)line[i] > 126)
			break;
	n = i;
	/* obs-optional (RFC 5322 4.5.8): white space may come between the name and ':'. */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (n == 0 || i >= len || line[i] != ':')
		goto out;
	*name_len = n;
	*value = line + i + 1;
	rc = 0;
out:
	return rc;
}

/* RFC 5321 Quoted-string: qtextSMTP or quoted-pairSMTP, with UTF-8 allowed. */
static int
quoted_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return 0;
	for (i = 1; i + 1 < n; i++) {
		if (s[i] == '"')
			return 0;
		if (s[i] == '\\') {
			if (++i + 1 >= n)
				return 0;
		}
		if (is_ctl((unsigned char)s[i]) || s[i] == '<' || s[i] == '>')
			return 0;
	}
	return 1;
}

/* Labels of letters, digits, '-', '_' (seen in real host names) or UTF-8; or [literal]. */
static int
domain_ok(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0)
		return 0;
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return 0;
		for (i = 1; i + 1 < n; i++)
			if (!literal_char((unsigned char)s[i]))
				return 0;
		return 1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		label++;
	}
	return label > 0;
}

int
rfc5322_addr_invalid(const char *addr)
{
	const char *at;
	size_t n = strlen(addr), ll;
	int bad = 1;

	if (n == 0 || n > MAX_SMTP_PATH)
		goto out;
	at = addr_at(addr);
	ll = at ? (size_t)(at - addr) : n;
	if (addr[0] == '"' ? !quoted_ok(addr, ll) : !is_dot_atom(addr, ll))
		goto out;
	if (at == NULL) {
		/* RFC 5321 4.5.1: only Postmaster may go without a domain. */
		bad = !streq_ci(addr, "postmaster");
		goto out;
	}
	bad = !domain_ok(at + 1, n - ll - 1);
out:
	return bad;
}

/*
 * aliases.c: reading /etc/aliases, expanding local recipients, qualifying bare names.
 * See aliases.h for the format and the contract.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/aliases.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "message/rfc5322.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/user.h"

enum target_kind {
	T_ADDR, /* an address or local name: local ones are expanded again */
	T_FINAL, /* "\name": a local name that is not expanded again */
	T_SKIPPED, /* :include:, |pipe, /file: not ours to deliver */
};

struct target {
	enum target_kind kind;
	char *text;
	unsigned line;
};

struct alias {
	char *key; /* unquoted, lower case: what lookups compare */
	char *name; /* as written, for messages */
	unsigned line;
	struct target *v;
	size_t n;
};

struct aliases {
	char *path;
	struct alias *v; /* in file order */
	size_t n;
	size_t cap;
	size_t *slot; /* open addressing over v: index + 1, 0 = empty */
	size_t nslot; /* power of two, at least twice n */
};

/* Where a physical line begins inside the joined logical line. */
struct linestart {
	size_t off;
	unsigned line;
};

struct parser {
	const char *path;
	struct aliases *t;
	aliases_warn_fn warn;
	void *warn_ctx;
	FILE *report; /* aliases_check: every problem is written here */
	int keep_going; /* aliases_check: go on after an error */
	int nerr;
	struct err *e;
	struct linestart *ls; /* physical lines of the current entry */
	size_t nls;
	size_t cls;
};

static const char *const builtin_local[] = { "localhost", "localhost.localdomain", NULL };

static void perr(struct parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pwarn(struct parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Messages quote the file: its control characters must not reach a terminal or a log. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void
perr(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[MAX_ERROR_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	one_line(msg);
	p->nerr++;
	if (line > 0)
		err_set(p->e, ERR_PERM, CAUSE_CONFIG, "%s:%u: %s", p->path, line, msg);
	else
		err_set(p->e, ERR_PERM, CAUSE_CONFIG, "%s: %s", p->path, msg);
	if (p->report != NULL) {
		if (line > 0)
			fprintf(p->report, "%s:%u: %s\n", p->path, line, msg);
		else
			fprintf(p->report, "%s: %s\n", p->path, msg);
	}
}

static void
pwarn(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[MAX_ERROR_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	one_line(msg);
	if (p->report != NULL)
		fprintf(p->report, "%s:%u: warning: %s\n", p->path, line, msg);
	if (p->warn != NULL)
		p->warn(p->warn_ctx, p->path, line, msg);
}

/* The last '@' outside a quoted string, or NULL: "a@b"@c has its domain after the last. */
static const char *
at_sign(const char *addr)
{
	const char *at = NULL, *s;
	int q = 0;

	for (s = addr; *s != '\0'; s++) {
		if (q && *s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '"')
			q = !q;
		else if (!q && *s == '@')
			at = s;
	}
	return at;
}

/*
 * The lookup key of a local part: quotes and backslash escapes removed, ASCII lower case.
 * -1 if it does not fit in key.
 */
static int
make_key(const char *local, size_t len, char *key, size_t keysz)
{
	size_t i, k = 0;
	int quoted = len >= 2 && local[0] == '"' && local[len - 1] == '"';

	if (quoted) {
		local++;
		len -= 2;
	}
	for (i = 0; i < len; i++) {
		if (quoted && local[i] == '\\' && i + 1 < len)
			i++;
		if (k + 1 >= keysz)
			return -1;
		key[k++] = (char)tolower((unsigned char)local[i]);
	}
	key[k] = '\0';
	return 0;
}

/* FNV-1a: short keys, no adversary who could not simply edit the file instead. */
static size_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static const struct alias *
lookup(const struct aliases *t, const char *key)
{
	size_t i;

	if (t == NULL || t->nslot == 0)
		return NULL;
	for (i = hash(key) & (t->nslot - 1); t->slot[i] != 0; i = (i + 1) & (t->nslot - 1))
		if (strcmp(t->v[t->slot[i] - 1].key, key) == 0)
			return &t->v[t->slot[i] - 1];
	return NULL;
}

static void
slot_insert(struct aliases *t, size_t idx)
{
	size_t j;

	for (j = hash(t->v[idx].key) & (t->nslot - 1); t->slot[j] != 0;
	     j = (j + 1) & (t->nslot - 1))
		;
	t->slot[j] = idx + 1;
}

/* Takes ownership of a's contents. The slots stay at most half full. */
static void
table_add(struct aliases *t, struct alias *a)
{
	size_t i;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n++] = *a;
	memset(a, 0, sizeof(*a));
	if (t->n * 2 <= t->nslot) {
		slot_insert(t, t->n - 1);
		return;
	}
	free(t->slot);
	t->nslot = t->nslot ? t->nslot * 2 : 64;
	t->slot = xcalloc(t->nslot, sizeof(*t->slot));
	for (i = 0; i < t->n; i++)
		slot_insert(t, i);
}

static void
alias_clear(struct alias *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i].text);
	free(a->v);
	free(a->key);
	free(a->name);
	memset(a, 0, sizeof(*a));
}

static void
alias_add_target(struct alias *a, enum target_kind kind, const char *text, unsigned line)
{
	a->v = xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
	a->v[a->n].kind = kind;
	a->v[a->n].text = xstrdup(text);
	a->v[a->n].line = line;
	a->n++;
}

/* The physical line number of offset off in the current logical line. */
static unsigned
line_at(const struct parser *p, size_t off)
{
	size_t i;
	unsigned line = p->ls[0].line;

	for (i = 0; i < p->nls && p->ls[i].off <= off; i++)
		line = p->ls[i].line;
	return line;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Characters an unquoted alias name may not hold (beside controls and space). */
static int
bad_name_char(unsigned char c)
{
	return c < 0x21 || c == 0x7f || strchr(":@<>,\"()[];\\", c) != NULL;
}

/*
 * A target written as one token: a local name or local@domain, the local part possibly
 * quoted. Returns NULL if well formed, else why not.
 */
static const char *
simple_target_problem(const char *s)
{
	const char *at = at_sign(s), *p;
	int q = 0;

	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "control character in address";
		if (q && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			q = !q;
	}
	if (q)
		return "unterminated quoted string";
	if (at == s || s[0] == '\0')
		return "empty local part";
	if (at != NULL && (at[1] == '\0' || strchr(at + 1, '"') != NULL))
		return "bad domain";
	return NULL;
}

/* One target, trimmed. Returns 0, or -1 after reporting a syntax error. */
static int
parse_target(struct parser *p, struct alias *a, char *s, unsigned line)
{
	struct addrlist l;
	struct err e2;
	const char *why, *what = NULL;
	size_t len = strlen(s);
	int ret = -1;

	addrlist_init(&l);
	if (startswith_ci(s, ":include:"))
		what = ":include:";
	else if (s[0] == '|' || (s[0] == '"' && s[1] == '|'))
		what = "pipe";
	else if (s[0] == '/' || (s[0] == '"' && s[1] == '/'))
		what = "file";
	if (what != NULL) {
		/* mailout hands mail to a relay; commands and files are an MTA's job. */
		pwarn(p, line,
		    "alias \"%s\": %s target %s skipped (mailout delivers only to "
		    "mail addresses)",
		    a->name, what, s);
		alias_add_target(a, T_SKIPPED, s, line);
		ret = 0;
		goto out;
	}
	if (s[0] == '\\') {
		if (s[1] == '\0' || strchr(s + 1, '@') != NULL ||
		    simple_target_problem(s + 1) != NULL) {
			perr(p, line, "alias \"%s\": bad target %s (\\ must precede a local name)",
			    a->name, s);
			goto out;
		}
		alias_add_target(a, T_FINAL, s + 1, line);
		ret = 0;
		goto out;
	}
	if (strpbrk(s, " \t<>()") == NULL) {
		if ((why = simple_target_problem(s)) != NULL) {
			perr(p, line, "alias \"%s\": bad target %s: %s", a->name, s, why);
			goto out;
		}
		alias_add_target(a, T_ADDR, s, line);
		ret = 0;
		goto out;
	}
	/* "Name <addr>" or "addr (comment)": the address parser knows these forms. */
	err_init(&e2);
	if (rfc5322_parse_addrlist(s, len, &l, 1, &e2) == -1 || l.n != 1) {
		perr(p, line, "alias \"%s\": bad target %s%s%s", a->name, s,
		    err_failed(&e2) ? ": " : "", err_failed(&e2) ? e2.msg : "");
		goto out;
	}
	alias_add_target(a, T_ADDR, l.v[0], line);
	ret = 0;
out:
	addrlist_free(&l);
	return ret;
}

/*
 * Split the right-hand side at commas that are not inside quotes, <brackets> or
 * (comments), and parse each target. start is the logical line, for line numbers.
 */
static int
split_targets(struct parser *p, struct alias *a, char *s, const char *start)
{
	char *piece = s, *b, *end;
	int q = 0, angle = 0, paren = 0, last, ret = -1;

	for (;; s++) {
		if (q && *s == '\\' && s[1] != '\0') {
			s++;
			continue;
		}
		if (*s == '"')
			q = !q;
		else if (!q && *s == '<')
			angle++;
		else if (!q && *s == '>' && angle > 0)
			angle--;
		else if (!q && *s == '(')
			paren++;
		else if (!q && *s == ')' && paren > 0)
			paren--;
		if (*s != '\0' && (q || angle || paren || *s != ','))
			continue;
		if (*s == '\0' && (q || angle || paren)) {
			perr(p, line_at(p, (size_t)(piece - start)), "alias \"%s\": unbalanced %s",
			    a->name,
			    q           ? "quotes"
				: angle ? "<brackets>"
					: "(parentheses)");
			goto out;
		}
		last = *s == '\0';
		for (b = piece; is_space(*b); b++)
			;
		for (end = s; end > b && is_space(end[-1]); end--)
			;
		*end = '\0';
		if (*b != '\0' && parse_target(p, a, b, line_at(p, (size_t)(b - start))) == -1)
			goto out;
		if (last)
			break;
		piece = s + 1;
	}
	ret = 0;
out:
	return ret;
}

/* One logical line (continuations joined by a space). 0, or -1 after reporting. */
static int
parse_entry(struct parser *p, char *s)
{
	struct alias a;
	struct buf name;
	char key[MAX_ADDRESS + 1];
	char *start = s;
	unsigned line = p->ls[0].line;
	size_t nskipped = 0, i;
	int ret = -1;

	memset(&a, 0, sizeof(a));
	buf_init(&name, MAX_ADDRESS);
	if (*s == '"') {
		for (s++; *s != '\0' && *s != '"'; s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				break;
		}
		if (*s != '"') {
			perr(p, line, "unterminated quoted alias name");
			goto out;
		}
		s++;
	} else
		while (*s != '\0' && !bad_name_char((unsigned char)*s))
			s++;
	if (buf_add(&name, start, (size_t)(s - start)) == -1) {
		perr(p, line, "alias name longer than %d bytes", MAX_ADDRESS);
		goto out;
	}
	if (name.len == 0 || (name.len == 2 && start[0] == '"')) {
		perr(p, line, "missing alias name before ':'");
		goto out;
	}
	while (is_space(*s))
		s++;
	if (*s != ':') {
		perr(p, line, "missing ':' after alias name \"%s\"%s", buf_cstr(&name),
		    *s == '@' ? " (alias names are local names, without @domain)" : "");
		goto out;
	}
	s++;
	if (make_key(name.data, name.len, key, sizeof(key)) == -1) {
		perr(p, line, "alias name longer than %d bytes", MAX_ADDRESS);
		goto out;
	}
	a.key = xstrdup(key);
	a.name = buf_steal(&name);
	a.line = line;

	if (split_targets(p, &a, s, start) == -1)
		goto out;
	if (a.n == 0) {
		perr(p, line, "alias \"%s\" has no targets", a.name);
		goto out;
	}
	for (i = 0; i < a.n; i++)
		if (a.v[i].kind == T_SKIPPED)
			nskipped++;
	if (nskipped == a.n)
		pwarn(p, line,
		    "alias \"%s\" has no target mailout can deliver to: mail to it "
		    "will be refused",
		    a.name);
	if (lookup(p->t, a.key) != NULL) {
		pwarn(p, line, "duplicate alias \"%s\" ignored (first defined on line %u)", a.name,
		    lookup(p->t, a.key)->line);
		ret = 0;
		goto out;
	}
	if (p->t->n >= MAX_ALIASES) {
		perr(p, line, "more than %d aliases", MAX_ALIASES);
		goto out;
	}
	table_add(p->t, &a);
	ret = 0;
out:
	alias_clear(&a);
	buf_free(&name);
	return ret;
}

static void
linestart_add(struct parser *p, size_t off, unsigned line)
{
	if (p->nls == p->cls) {
		p->cls = p->cls ? p->cls * 2 : 8;
		p->ls = xrealloc(p->ls, p->cls * sizeof(*p->ls));
	}
	p->ls[p->nls].off = off;
	p->ls[p->nls].line = line;
	p->nls++;
}

/*
 * Read one physical line into b (without CR LF). 1 line read, 0 end of file, -1 error
 * (reported). *total counts the file's bytes against MAX_ALIAS_FILE.
 */
static int
read_line(struct parser *p, FILE *f, struct buf *b, unsigned line, size_t *total)
{
	int ch, ret = -1, toolong = 0;

	buf_reset(b);
	while ((ch = getc(f)) != EOF) {
		if (++*total > MAX_ALIAS_FILE) {
			perr(p, line, "file larger than %d bytes", MAX_ALIAS_FILE);
			goto out;
		}
		if (ch == '\n')
			break;
		if (ch == '\0') {
			perr(p, line, "NUL byte: not a text file");
			goto out;
		}
		if (!toolong && buf_addc(b, (char)ch) == -1)
			toolong = 1;
	}
	if (ferror(f)) {
		perr(p, 0, "read error: %s", strerror(errno));
		goto out;
	}
	if (toolong) {
		perr(p, line, "line longer than %d bytes", MAX_ALIAS_LINE);
		goto out;
	}
	if (b->len > 0 && b->data[b->len - 1] == '\r')
		b->data[--b->len] = '\0';
	ret = ch == EOF && b->len == 0 ? 0 : 1;
out:
	return ret;
}

static int
is_blank_or_comment(const char *s)
{
	while (is_space(*s))
		s++;
	return *s == '\0' || *s == '#';
}

/*
 * Parse the file into p->t. ENOENT: *missing = 1, nothing read. Returns 0 when no error
 * was found, -1 otherwise (every error reported through perr).
 */
static int
parse_file(struct parser *p, int *missing)
{
	FILE *f;
	struct buf phys, entry;
	unsigned line = 0;
	size_t total = 0;
	int r, ret = -1, have = 0;

	*missing = 0;
	buf_init(&phys, MAX_ALIAS_LINE);
	buf_init(&entry, MAX_ALIAS_LINE);
	if ((f = fopen(p->path, "re")) == NULL) {
		if (errno == ENOENT) {
			*missing = 1;
			ret = 0;
		} else
			perr(p, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		r = read_line(p, f, &phys, ++line, &total);
		if (r == -1)
			goto out;
		/* An entry ends where the next one starts or at end of file. */
		if (r == 0 ||
		    (phys.len > 0 && !is_space(phys.data[0]) && !is_blank_or_comment(phys.data))) {
			if (have && parse_entry(p, entry.data) == -1 && !p->keep_going)
				goto out;
			have = 0;
			if (r == 0)
				break;
		}
		if (is_blank_or_comment(buf_cstr(&phys)))
			continue;
		if (is_space(phys.data[0])) {
			if (!have) {
				perr(p, line, "continuation line without an alias before it");
				if (!p->keep_going)
					goto out;
				continue;
			}
			linestart_add(p, entry.len + 1, line);
			if (buf_addc(&entry, ' ') == -1 ||
			    buf_add(&entry, phys.data, phys.len) == -1) {
				perr(p, p->ls[0].line, "entry longer than %d bytes",
				    MAX_ALIAS_LINE);
				goto out;
			}
			continue;
		}
		buf_reset(&entry);
		p->nls = 0;
		linestart_add(p, 0, line);
		/* phys has the same bound: it fits. */
		if (buf_add(&entry, phys.data, phys.len) == -1) {
			perr(p, line, "entry longer than %d bytes", MAX_ALIAS_LINE);
			goto out;
		}
		have = 1;
	}
	ret = p->nerr == 0 ? 0 : -1;
out:
	if (f != NULL)
		fclose(f);
	buf_free(&phys);
	buf_free(&entry);
	return ret;
}

static struct aliases *
table_new(const char *path)
{
	struct aliases *t = xcalloc(1, sizeof(*t));

	t->path = xstrdup(path);
	return t;
}

void
aliases_free(struct aliases *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		alias_clear(&t->v[i]);
	free(t->v);
	free(t->slot);
	free(t->path);
	free(t);
}

size_t
aliases_count(const struct aliases *t)
{
	return t == NULL ? 0 : t->n;
}

struct aliases *
aliases_load(const char *path, aliases_warn_fn warn, void *warn_ctx, struct err *e)
{
	struct parser p;
	struct aliases *t = table_new(path);
	int missing;

	memset(&p, 0, sizeof(p));
	p.path = path;
	p.t = t;
	p.warn = warn;
	p.warn_ctx = warn_ctx;
	p.e = e;
	if (parse_file(&p, &missing) == -1) {
		aliases_free(t);
		t = NULL;
	}
	free(p.ls);
	return t;
}

/* Expansion. */

struct xctx {
	const struct aliases *t;
	const char *const *local_domains;
	struct addrlist *out;
	size_t produced;
	const struct target *skipped; /* first skipped target met, for the message */
	const struct alias *chain[MAX_ALIAS_DEPTH];
	size_t depth;
	unsigned line; /* where the problem is, for the message */
	char why[MAX_ERROR_TEXT / 2];
};

static int xfail(struct xctx *x, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
xfail(struct xctx *x, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
	x->line = line;
	return -1;
}

static int
emit(struct xctx *x, const char *addr)
{
	if (++x->produced > MAX_ALIAS_EXPANSION)
		return xfail(x, x->depth ? x->chain[0]->line : 0,
		    "alias \"%s\" expands to more "
		    "than %d addresses",
		    x->depth ? x->chain[0]->name : addr, MAX_ALIAS_EXPANSION);
	addrlist_add(x->out, addr);
	return 0;
}

static void
chain_str(const struct xctx *x, const char *last, char *s, size_t len)
{
	struct buf b;
	size_t i;
	int r = 0;

	buf_init(&b, len - 1);
	for (i = 0; i < x->depth; i++)
		r |= buf_addf(&b, "%s -> ", x->chain[i]->name);
	r |= buf_addstr(&b, last);
	/* Too long to show whole: its end, where the loop closes, says the most. */
	snprintf(s, len, "%s%s", r == 0 ? b.data : "... -> ", r == 0 ? "" : last);
	buf_free(&b);
}

static int expand_addr(struct xctx *, const char *);

static int
expand_alias(struct xctx *x, const struct alias *a)
{
	char chain[MAX_ERROR_TEXT / 2], key[MAX_ADDRESS + 1];
	const struct target *tg;
	const char *at;
	size_t i;
	int ret = -1;

	for (i = 0; i < x->depth; i++)
		if (x->chain[i] == a) {
			chain_str(x, a->name, chain, sizeof(chain));
			xfail(x, a->line, "alias loop: %s", chain);
			goto out;
		}
	if (x->depth == MAX_ALIAS_DEPTH) {
		chain_str(x, a->name, chain, sizeof(chain));
		xfail(x, a->line, "aliases nested more than %d deep: %s", MAX_ALIAS_DEPTH, chain);
		goto out;
	}
	x->chain[x->depth++] = a;
	for (i = 0; i < a->n; i++) {
		tg = &a->v[i];
		if (tg->kind == T_SKIPPED) {
			if (x->skipped == NULL)
				x->skipped = tg;
			continue;
		}
		if (tg->kind == T_FINAL) {
			if (emit(x, tg->text) == -1)
				goto out;
			continue;
		}
		/* root: root, a@x means the local root itself, not a loop. */
		if (aliases_is_local(tg->text, x->local_domains)) {
			at = at_sign(tg->text);
			if (make_key(tg->text, at ? (size_t)(at - tg->text) : strlen(tg->text),
				key, sizeof(key)) == 0 &&
			    strcmp(key, a->key) == 0) {
				if (at != NULL) {
					char *local = xstrndup(tg->text, (size_t)(at - tg->text));
					int r = emit(x, local);

					free(local);
					if (r == -1)
						goto out;
				} else if (emit(x, tg->text) == -1)
					goto out;
				continue;
			}
		}
		if (expand_addr(x, tg->text) == -1)
			goto out;
	}
	x->depth--;
	ret = 0;
out:
	return ret;
}

static int
expand_addr(struct xctx *x, const char *addr)
{
	char key[MAX_ADDRESS + 1];
	const struct alias *a;
	const char *at;
	char *local = NULL;
	size_t llen;
	int ret = -1;

	if (!aliases_is_local(addr, x->local_domains)) {
		ret = emit(x, addr);
		goto out;
	}
	at = at_sign(addr);
	llen = at != NULL ? (size_t)(at - addr) : strlen(addr);
	local = xstrndup(addr, llen);
	if (make_key(local, llen, key, sizeof(key)) == -1 || (a = lookup(x->t, key)) == NULL) {
		ret = emit(x, local);
		goto out;
	}
	ret = expand_alias(x, a);
out:
	free(local);
	return ret;
}

int
aliases_expand(const struct aliases *t, const char *rcpt, const char *const *local_domains,
    struct addrlist *out, struct err *e)
{
	struct xctx x;
	int ret = -1;

	memset(&x, 0, sizeof(x));
	x.t = t;
	x.local_domains = local_domains;
	x.out = out;
	if (expand_addr(&x, rcpt) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "recipient <%s>: %s:%u: %s", rcpt, t->path,
		    x.line, x.why);
		goto out;
	}
	if (x.produced == 0) {
		/* Only pipes or files behind this name: refusing beats losing the mail. */
		err_set(e, ERR_PERM, CAUSE_NOUSER,
		    "recipient <%s>: alias has no target mailout "
		    "can deliver to (%s:%u: %s skipped)",
		    rcpt, t->path, x.skipped ? x.skipped->line : 0,
		    x.skipped ? x.skipped->text : "?");
		goto out;
	}
	ret = 0;
out:
	return ret;
}

int
aliases_check(const char *path, FILE *report, struct err *e)
{
	struct parser p;
	struct aliases *t = table_new(path);
	struct addrlist l;
	struct xctx x;
	size_t i;
	int missing, ret = -1;

	memset(&p, 0, sizeof(p));
	p.path = path;
	p.t = t;
	p.report = report;
	p.keep_going = 1;
	p.e = e;
	parse_file(&p, &missing);
	if (missing) {
		fprintf(report, "%s: no such file: no aliases\n", path);
		ret = 0;
		goto out;
	}
	/* Loops only show when expanded: try every name, as a recipient would. */
	for (i = 0; i < t->n; i++) {
		addrlist_init(&l);
		memset(&x, 0, sizeof(x));
		x.t = t;
		x.out = &l;
		if (expand_alias(&x, &t->v[i]) == -1)
			perr(&p, x.line, "%s", x.why);
		addrlist_free(&l);
	}
	if (p.nerr > 0) {
		fprintf(report, "%s: %zu aliases, %d error%s\n", path, t->n, p.nerr,
		    p.nerr == 1 ? "" : "s");
		err_prefix(e, "%d error%s in aliases: ", p.nerr, p.nerr == 1 ? "" : "s");
		goto out;
	}
	fprintf(report, "%s: %zu aliases\n", path, t->n);
	ret = (int)t->n;
out:
	free(p.ls);
	aliases_free(t);
	return ret;
}

int
aliases_is_local(const char *addr, const char *const *local_domains)
{
	const char *at = at_sign(addr), *dom, *host, *dot;
	size_t dlen, i;
	int ret = 0;

	if (addr[0] == '\0' || at == addr)
		goto out;
	if (at == NULL) {
		ret = 1;
		goto out;
	}
	dom = at + 1;
	dlen = strlen(dom);
	if (dlen > 0 && dom[dlen - 1] == '.')
		dlen--;
	if (dlen == 0)
		goto out;
	for (i = 0; builtin_local[i] != NULL; i++)
		if (strlen(builtin_local[i]) == dlen &&
		    strncasecmp(dom, builtin_local[i], dlen) == 0) {
			ret = 1;
			goto out;
		}
	for (i = 0; local_domains != NULL && local_domains[i] != NULL; i++)
		if (strlen(local_domains[i]) == dlen &&
		    strncasecmp(dom, local_domains[i], dlen) == 0) {
			ret = 1;
			goto out;
		}
	host = host_name();
	dot = strchr(host, '.');
	if ((strlen(host) == dlen && strncasecmp(dom, host, dlen) == 0) ||
	    (dot != NULL && (size_t)(dot - host) == dlen && strncasecmp(dom, host, dlen) == 0))
		ret = 1;
out:
	return ret;
}

char *
aliases_qualify(const char *addr, const char *default_domain)
{
	size_t n;
	char *q;

	if (addr[0] == '\0' || at_sign(addr) != NULL || default_domain == NULL ||
	    default_domain[0] == '\0')
		return xstrdup(addr);
	n = strlen(addr) + 1 + strlen(default_domain) + 1;
	q = xmalloc(n);
	snprintf(q, n, "%s@%s", addr, default_domain);
	return q;
}

/*
 * confedit.c: editing sendmail.conf in place. See confedit.h.
 *
 * The text is cut into logical lines (a line ending in '\' takes the next one with it,
 * as iniparser joins them), each classified the way iniparser's iniparser_line would;
 * the output is the input with some lines replaced, removed or added, so a byte that
 * belongs to no edited line is copied as it was.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/path.h"
#include "config/confedit.h"

enum kind { L_OTHER, L_SECTION, L_KEY };

/* One logical line: [start, end) with its line breaks; content without them. */
struct line {
	size_t start, end;
	size_t cstart, clen; /* the first physical line's content, stripped */
	int joined; /* more than one physical line */
	enum kind kind;
	char *name; /* section or key, lower case */
};

struct text {
	struct line *l;
	size_t n;
	const char *eol; /* "\n" or "\r\n", as the first line ends */
};

static int
space(char c)
{
	return isspace((unsigned char)c);
}

static char *
lower_trim(const char *p, size_t n)
{
	char *s;
	size_t i;

	while (n > 0 && space(*p)) {
		p++;
		n--;
	}
	while (n > 0 && space(p[n - 1]))
		n--;
	s = xstrndup(p, n);
	for (i = 0; i < n; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	return s;
}

/* What iniparser makes of a logical line's stripped content c (n bytes). */
static void
classify(struct line *l, const char *c, size_t n)
{
	const char *eq, *close;

	l->kind = L_OTHER;
	if (n == 0 || c[0] == '#' || c[0] == ';')
		return;
	if (c[0] == '[' && c[n - 1] == ']') {
		close = memchr(c, ']', n);
		l->kind = L_SECTION;
		l->name = lower_trim(c + 1, (size_t)(close - c - 1));
		return;
	}
	if ((eq = memchr(c, '=', n)) != NULL && eq != c) {
		l->kind = L_KEY;
		l->name = lower_trim(c, (size_t)(eq - c));
	}
}

static void
text_free(struct text *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->l[i].name);
	free(t->l);
	memset(t, 0, sizeof(*t));
}

/* The end of the physical line at p (after its '\n', or len). */
static size_t
line_end(const char *s, size_t len, size_t p)
{
	const char *nl = memchr(s + p, '\n', len - p);

	return nl != NULL ? (size_t)(nl - s) + 1 : len;
}

static void
text_split(struct text *t, const char *s, size_t len)
{
	struct line *l;
	size_t p = 0, e, c, ce, cap = 0;
	char *joined;
	struct buf j;
	int more, r;

	memset(t, 0, sizeof(*t));
	t->eol = "\n";
	e = line_end(s, len, 0);
	if (e >= 2 && s[e - 1] == '\n' && s[e - 2] == '\r')
		t->eol = "\r\n";
	while (p < len) {
		if (t->n == cap) {
			cap = cap ? cap * 2 : 64;
			t->l = xrealloc(t->l, cap * sizeof(*t->l));
		}
		l = &t->l[t->n++];
		memset(l, 0, sizeof(*l));
		l->start = p;
		buf_init(&j, MAX_CONFIG_FILE);
		r = 0;
		do {
			e = line_end(s, len, p);
			for (c = p; c < e && space(s[c]); c++)
				;
			for (ce = e; ce > c && space(s[ce - 1]); ce--)
				;
			if (p == l->start) {
				l->cstart = c;
				l->clen = ce - c;
			}
			/* iniparser drops the '\' and reads the next line in its place. */
			more = ce > c && s[ce - 1] == '\\' && e < len;
			r |= buf_add(&j, s + c, more ? ce - c - 1 : ce - c);
			l->joined |= more;
			p = e;
		} while (more);
		l->end = p;
		if (r == 0 && (joined = buf_steal(&j)) != NULL) {
			classify(l, joined, strlen(joined));
			free(joined);
		}
		buf_free(&j);
	}
}

void
confedit_sections(const char *text, size_t len, char ***names, size_t *n)
{
	struct text t;
	size_t i, k;

	*names = NULL;
	*n = 0;
	text_split(&t, text, len);
	for (i = 0; i < t.n; i++) {
		if (t.l[i].kind != L_SECTION)
			continue;
		for (k = 0; k < *n; k++)
			if (strcmp((*names)[k], t.l[i].name) == 0)
				break;
		if (k < *n)
			continue;
		*names = xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = xstrdup(t.l[i].name);
	}
	text_free(&t);
}

/*
 * Where the value of a one-line key line sits: [*vs, *ve) in the text. A quoted value
 * spans its quotes; a bare one ends before a ';' or '#' and the spaces before it.
 */
static void
value_span(const char *s, const struct line *l, size_t *vs, size_t *ve)
{
	const char *c = s + l->cstart, *end = c + l->clen, *p, *q;

	p = memchr(c, '=', l->clen) + 1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*vs = (size_t)(p - s);
	if (p < end && (*p == '"' || *p == '\'') &&
	    (q = memchr(p + 1, *p, (size_t)(end - p - 1))) != NULL) {
		*ve = (size_t)(q + 1 - s);
		return;
	}
	for (q = p; q < end && *q != ';' && *q != '#'; q++)
		;
	while (q > p && space(q[-1]))
		q--;
	*ve = (size_t)(q - s);
}

/* The value of a key line as iniparser reads it, appended to out. 0 or -1. */
static int
line_value(const char *s, const struct line *l, struct buf *out)
{
	size_t vs, ve;

	if (l->joined)
		return buf_addstr(out, ""); /* not one of ours: read as written elsewhere */
	value_span(s, l, &vs, &ve);
	if (ve - vs >= 2 && (s[vs] == '"' || s[vs] == '\'') && s[ve - 1] == s[vs])
		return buf_add(out, s + vs + 1, ve - vs - 2);
	return buf_add(out, s + vs, ve - vs);
}

int
confedit_get(const char *text, size_t len, const char *section, const char *key, struct buf *out)
{
	struct text t;
	const struct line *found = NULL;
	const char *cur = "";
	size_t i;
	int rc = 0;

	text_split(&t, text, len);
	for (i = 0; i < t.n; i++) {
		if (t.l[i].kind == L_SECTION)
			cur = t.l[i].name;
		else if (t.l[i].kind == L_KEY && strcasecmp(cur, section) == 0 &&
		    strcasecmp(t.l[i].name, key) == 0)
			found = &t.l[i];
	}
	if (found != NULL)
		rc = line_value(text, found, out) == 0 ? 1 : -1;
	text_free(&t);
	return rc;
}

int
confedit_quote(const char *v, struct buf *out)
{
	size_t n = strlen(v);
	int quote;

	if (strpbrk(v, "\r\n") != NULL)
		return -1;
	quote = n == 0 || strpbrk(v, ";#") != NULL || space(v[0]) || space(v[n - 1]) ||
	    v[0] == '"' || v[0] == '\'' || v[n - 1] == '\\';
	if (!quote)
		return buf_addstr(out, v);
	if (strchr(v, '"') == NULL)
		return buf_addf(out, "\"%s\"", v);
	if (strchr(v, '\'') == NULL)
		return buf_addf(out, "'%s'", v);
	return -1;
}

/* "key = value" + eol, checked against iniparser's line length. 0, or -1 with err. */
static int
new_line(struct buf *out, const char *key, const char *value, const char *eol, struct err *e)
{
	struct buf q;
	int rc = -1;

	buf_init(&q, MAX_CONFIG_LINE);
	if (confedit_quote(value, &q) == -1 || strlen(key) + 3 + q.len > MAX_CONFIG_LINE) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: the value cannot be written in "
		    "sendmail.conf (a line break, both kinds of quote with a ';' or '#', or "
		    "longer than %d characters)",
		    key, MAX_CONFIG_LINE - 3 - (int)strlen(key));
		goto out;
	}
	if (buf_addf(out, "%s = %s%s", key, q.data != NULL ? q.data : "", eol) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "the configuration would be too large");
		goto out;
	}
	rc = 0;
out:
	buf_free(&q);
	return rc;
}

/* The key line l with its value replaced by value, kept as written around it. */
static int
replace_line(struct buf *out, const char *s, const struct line *l, const char *key,
    const char *value, const char *eol, struct err *e)
{
	struct buf q;
	size_t vs, ve, first;
	int rc = -1;

	if (l->joined)
		return new_line(out, key, value, eol, e);
	buf_init(&q, MAX_CONFIG_LINE);
	value_span(s, l, &vs, &ve);
	first = line_end(s, l->end, l->start) - l->start;
	if (confedit_quote(value, &q) == -1 ||
	    (l->cstart + l->clen - ve) + (vs - l->cstart) + q.len > MAX_CONFIG_LINE) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s: the value cannot be written in "
		    "sendmail.conf (a line break, both kinds of quote with a ';' or '#', or "
		    "too long for one line)",
		    key);
		goto out;
	}
	/* "host=" with nothing after it gets the value right after the '='. */
	if (buf_add(out, s + l->start, vs - l->start) == -1 ||
	    buf_add(out, q.data != NULL ? q.data : "", q.len) == -1 ||
	    buf_add(out, s + ve, l->start + first - ve) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "the configuration would be too large");
		goto out;
	}
	/* The last line of a file may have had no line break: it has one now. */
	if (s[l->start + first - 1] != '\n' && buf_addstr(out, eol) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "the configuration would be too large");
		goto out;
	}
	rc = 0;
out:
	buf_free(&q);
	return rc;
}

static const struct confedit_kv *
kv_of(const struct confedit_kv *kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(kv[i].key, key) == 0)
			return &kv[i];
	return NULL;
}

/* The keys of kv that are set and not already in the section: the lines to add. */
static int
add_missing(struct buf *out, const struct confedit_kv *kv, size_t n, const char *seen,
    const char *eol, struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kv[i].value != NULL && !seen[i] &&
		    new_line(out, kv[i].key, kv[i].value, eol, e) == -1)
			return -1;
	return 0;
}

/* 1 if the last line of out is blank (or out is empty). */
static int
ends_blank(const struct buf *out)
{
	size_t k = out->len;

	if (k == 0)
		return 1;
	if (out->data[k - 1] != '\n')
		return 0;
	for (k--; k > 0 &&
	     (out->data[k - 1] == ' ' || out->data[k - 1] == '\t' || out->data[k - 1] == '\r');
	     k--)
		;
	return k == 0 || out->data[k - 1] == '\n';
}

int
confedit_set(const char *text, size_t len, const char *section, const struct confedit_kv *kv,
    size_t n, struct buf *out, struct err *e)
{
	struct text t;
	const struct confedit_kv *k;
	const char *cur = NULL;
	char *seen = xcalloc(n + 1, 1);
	size_t i, last = (size_t)-1;
	int in, found = 0, adding = 0, rc = -1;

	buf_reset(out);
	text_split(&t, text, len);
	/* Where the new keys go: after the last key line (else the header) of the section. */
	for (i = 0; i < t.n; i++) {
		if (t.l[i].kind == L_SECTION)
			cur = t.l[i].name;
		in = cur != NULL && strcasecmp(cur, section) == 0;
		if (in && (t.l[i].kind == L_KEY || t.l[i].kind == L_SECTION))
			last = i;
		if (in && t.l[i].kind == L_KEY && (k = kv_of(kv, n, t.l[i].name)) != NULL)
			seen[k - kv] = 1;
		found |= in;
	}
	for (i = 0; i < n; i++)
		adding |= kv[i].value != NULL && !seen[i];
	cur = NULL;
	for (i = 0; i < t.n; i++) {
		if (t.l[i].kind == L_SECTION)
			cur = t.l[i].name;
		in = cur != NULL && strcasecmp(cur, section) == 0;
		k = in && t.l[i].kind == L_KEY ? kv_of(kv, n, t.l[i].name) : NULL;
		if (k == NULL) {
			if (buf_add(out, text + t.l[i].start, t.l[i].end - t.l[i].start) == -1)
				goto toolarge;
			/* A last line without its line break gets one before anything follows. */
			if (i == last && adding && text[t.l[i].end - 1] != '\n' &&
			    buf_addstr(out, t.eol) == -1)
				goto toolarge;
		} else if (k->value != NULL &&
		    replace_line(out, text, &t.l[i], k->key, k->value, t.eol, e) == -1)
			goto out;
		if (i == last && add_missing(out, kv, n, seen, t.eol, e) == -1)
			goto out;
	}
	if (!found) {
		/* A new section, after a blank line, at the end. */
		if (out->len > 0 && out->data[out->len - 1] != '\n' &&
		    buf_addstr(out, t.eol) == -1)
			goto toolarge;
		if (!ends_blank(out) && buf_addstr(out, t.eol) == -1)
			goto toolarge;
		if (buf_addf(out, "[%s]%s", section, t.eol) == -1)
			goto toolarge;
		if (add_missing(out, kv, n, seen, t.eol, e) == -1)
			goto out;
	}
	if (buf_cstr(out) == NULL)
		goto toolarge;
	rc = 0;
	goto out;
toolarge:
	err_set(e, ERR_PERM, CAUSE_CONFIG, "the configuration would be larger than %d bytes",
	    MAX_CONFIG_FILE);
out:
	text_free(&t);
	free(seen);
	return rc;
}

int
confedit_read(const char *path, struct buf *text, struct err *e)
{
	struct stat st;
	int fd, rc = -1;

	buf_reset(text);
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: cannot open: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: not a regular file", path);
		goto out;
	}
	if (read_capped(fd, text, 0) == -1) {
		if (errno == EFBIG)
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "%s: larger than %zu bytes: not a "
			    "configuration file",
			    path, text->max);
		else
			err_set(e, ERR_PERM, CAUSE_CONFIG, "%s: cannot read: %s", path,
			    strerror(errno));
		goto out;
	}
	rc = 1;
out:
	close(fd);
	return rc;
}

/*
 * Write text to a new file beside path (file_beside), as st (or mode) says: root editing
 * a file of another owner keeps its owner. 0 with *tmp, or -1 (errno).
 */
static int
write_beside(const char *path, const char *text, size_t len, const struct stat *st, mode_t mode,
    char **tmp)
{
	struct iovec iov = { (void *)text, len };
	int own = st != NULL && geteuid() == 0;

	return file_beside(path, &iov, 1, st != NULL ? st->st_mode & 07777 : mode,
	    own ? st->st_uid : (uid_t)-1, own ? st->st_gid : (gid_t)-1, FILE_SYNC, tmp, NULL);
}

int
confedit_stage(const char *path, const char *text, size_t len, mode_t mode, char **tmp,
    struct err *e)
{
	struct stat st;
	int have;

	*tmp = NULL;
	have = stat(path, &st) == 0;
	if (make_parents(path, 0700) == -1)
		return err_set(e, ERR_TEMP, CAUSE_CANTCREAT,
		    "cannot make the directory of %s: "
		    "%s",
		    path, strerror(errno));
	if (write_beside(path, text, len, have ? &st : NULL, mode, tmp) == -1)
		return err_set(e, ERR_TEMP, errno == ENAMETOOLONG ? CAUSE_CANTCREAT : CAUSE_IOERR,
		    "cannot write a new %s beside the old one: %s", path, strerror(errno));
	return 0;
}

int
confedit_commit(const char *path, char *tmp, const struct buf *old, char **backup, struct err *e)
{
	struct buf now;
	struct stat st;
	char *bak = NULL, *btmp = NULL;
	int r, rc = -1;

	*backup = NULL;
	buf_init(&now, MAX_CONFIG_FILE);
	if ((r = confedit_read(path, &now, e)) == -1)
		goto out;
	if ((old == NULL) != (r == 0) ||
	    (old != NULL &&
		(now.len != old->len ||
		    (now.len > 0 && memcmp(now.data, old->data, now.len) != 0)))) {
		err_set(e, ERR_TEMP, CAUSE_CONFIG,
		    "%s changed while mailout was working on it: "
		    "nothing was written; run the command again",
		    path);
		goto out;
	}
	if (old != NULL) {
		if ((bak = path_fmt("%s.bak", path)) == NULL || stat(path, &st) == -1 ||
		    write_beside(bak, old->len > 0 ? old->data : "", old->len, &st, 0600, &btmp) ==
			-1 ||
		    rename(btmp, bak) == -1) {
			err_set(e, ERR_TEMP, CAUSE_CANTCREAT,
			    "cannot keep the old %s as %s.bak: "
			    "%s; nothing was written",
			    path, path, strerror(errno));
			if (btmp != NULL)
				unlink(btmp);
			goto out;
		}
	}
	if (rename(tmp, path) == -1) {
		err_set(e, ERR_TEMP, CAUSE_CANTCREAT, "cannot put the new %s in place: %s", path,
		    strerror(errno));
		goto out;
	}
	sync_parent(path);
	*backup = bak;
	bak = NULL;
	rc = 0;
out:
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	free(btmp);
	free(bak);
	buf_free(&now);
	return rc;
}

void
confedit_discard(char *tmp)
{
	if (tmp == NULL)
		return;
	unlink(tmp);
	free(tmp);
}

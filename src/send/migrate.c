/*
 * migrate.c: mailout --import. See migrate.h.
 */
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
#include "base/mem.h"
#include "base/path.h"
#include "base/priv.h"
#include "config/confedit.h"
#include "config/config.h"
#include "config/import.h"
#include "secrets/password.h"
#include "send/configure.h"
#include "send/migrate.h"

enum format { F_UNKNOWN, F_MSMTP, F_SSMTP, F_DMA, F_NULLMAILER };

struct run {
	const struct migrate_opts *o;
	struct err *e;
	enum format format;
	char *dir; /* where the agent's files are */
	char *main; /* its main file */
	struct import im;
	char *target;
	struct buf old;
	int exists;
	char **secret_files; /* per account, or NULL */
};

/* Read path whole into b (reset first). 1 read, 0 not there, -1 with err. */
static int
read_file(const char *path, struct buf *b, struct err *e)
{
	int r;

	/* confedit_read's checks (a regular file, bounded) are the ones wanted here. */
	if ((r = confedit_read(path, b, e)) == -1)
		err_prefix(e, "--import: ");
	return r;
}

/* The first line of dir/name, or NULL (nullmailer's and dma's one-line files). */
static char *
first_line(const char *dir, const char *name, struct err *e)
{
	struct buf b, line;
	const char *p, *end;
	char *path, *v = NULL, *s;

	buf_init(&b, MAX_IMPORT_LINE);
	buf_init(&line, MAX_IMPORT_LINE);
	path = name[0] == '/' ? xstrdup(name) : path_fmt("%s/%s", dir, name);
	if (path != NULL && read_file(path, &b, e) == 1) {
		p = b.data;
		end = b.data + b.len;
		while (v == NULL && import_line(&p, end, &line))
			if (buf_cstr(&line) != NULL) {
				for (s = line.data; *s == ' ' || *s == '\t'; s++)
					;
				s[strcspn(s, " \t#")] = '\0';
				if (*s != '\0')
					v = xstrdup(s);
			}
	}
	free(path);
	buf_free(&b);
	buf_free(&line);
	return v;
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
exists(const char *dir, const char *name)
{
	struct stat st;
	char *p = path_fmt("%s/%s", dir, name);
	int r = p != NULL && stat(p, &st) == 0;

	free(p);
	return r;
}

/* Which agent wrote o->file, and where its files are. */
static int
find_format(struct run *r)
{
	const char *f = r->o->file, *slash = strrchr(f, '/'), *base = slash ? slash + 1 : f;
	static const struct {
		const char *name;
		enum format format;
	} names[] = {
		{ "remotes", F_NULLMAILER },
		{ "dma.conf", F_DMA },
		{ "auth.conf", F_DMA },
		{ "ssmtp.conf", F_SSMTP },
		{ "revaliases", F_SSMTP },
		{ "msmtprc", F_MSMTP },
		{ ".msmtprc", F_MSMTP },
	};
	static const char *const mains[] = { NULL, "msmtprc", "ssmtp.conf", "dma.conf",
		"remotes" };
	struct buf b;
	size_t i;
	int rc = -1;

	buf_init(&b, MAX_IMPORT_FILE);
	if (is_dir(f)) {
		r->dir = xstrdup(f);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (r->format == F_UNKNOWN && exists(f, names[i].name))
				r->format = names[i].format;
		if (r->format == F_MSMTP && !exists(f, "msmtprc"))
			r->main = path_fmt("%s/.msmtprc", f);
		else if (r->format != F_UNKNOWN)
			r->main = path_fmt("%s/%s", f, mains[r->format]);
		else if (exists(f, "config")) {
			r->format = F_MSMTP; /* ~/.config/msmtp/config */
			r->main = path_fmt("%s/config", f);
		}
	} else {
		r->dir = slash == NULL ? xstrdup(".")
		    : slash == f       ? xstrdup("/")
				       : xstrndup(f, (size_t)(slash - f));
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(base, names[i].name) == 0)
				r->format = names[i].format;
		if (r->format == F_UNKNOWN && strstr(base, "msmtp") != NULL)
			r->format = F_MSMTP;
		if (r->format == F_UNKNOWN && strcmp(base, "config") == 0 &&
		    strstr(r->dir, "msmtp") != NULL)
			r->format = F_MSMTP;
		/* revaliases and auth.conf lead to the main file beside them. */
		r->main = r->format == F_SSMTP || r->format == F_DMA || r->format == F_NULLMAILER
		    ? path_fmt("%s/%s", r->dir, mains[r->format])
		    : xstrdup(f);
		if (r->format == F_UNKNOWN) {
			/* The content: each format has a word no other has. */
			if (read_file(f, &b, r->e) == -1)
				goto out;
			if (b.data != NULL && (strcasestr(b.data, "mailhub") != NULL))
				r->format = F_SSMTP;
			else if (b.data != NULL && strstr(b.data, "SMARTHOST") != NULL)
				r->format = F_DMA;
			else if (b.data != NULL &&
			    (strstr(b.data, "account") != NULL ||
				strstr(b.data, "defaults") != NULL) &&
			    strstr(b.data, "host ") != NULL)
				r->format = F_MSMTP;
		}
	}
	if (r->format == F_UNKNOWN || r->main == NULL) {
		err_set(r->e, ERR_PERM, CAUSE_USAGE,
		    "--import %s: not a file mailout can tell "
		    "(msmtp's msmtprc, /etc/ssmtp, /etc/dma or /etc/nullmailer)",
		    f);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* The agent's files, read and parsed into r->im. */
static int
parse(struct run *r)
{
	struct buf main, other;
	char *auth = NULL, *mname = NULL, *mailname = NULL, *path = NULL;
	char *dhost = NULL, *ddom = NULL, *admin = NULL, *me = NULL;
	int have, rc = -1;

	buf_init(&main, MAX_IMPORT_FILE);
	buf_init(&other, MAX_IMPORT_FILE);
	if ((have = read_file(r->main, &main, r->e)) == -1)
		goto out;
	if (have == 0) {
		err_set(r->e, ERR_PERM, CAUSE_USAGE, "--import: %s does not exist", r->main);
		goto out;
	}
	switch (r->format) {
	case F_MSMTP:
		rc = msmtprc_parse(main.data, main.len, &r->im, r->e);
		break;
	case F_SSMTP:
		if ((path = path_fmt("%s/revaliases", r->dir)) == NULL ||
		    (have = read_file(path, &other, r->e)) == -1)
			goto out;
		rc = ssmtp_parse(main.data, main.len, have ? other.data : NULL, other.len, &r->im,
		    r->e);
		break;
	case F_DMA:
		dma_files(main.data, main.len, &auth, &mname);
		if ((have = read_file(auth, &other, r->e)) == -1)
			goto out;
		if (mname != NULL)
			mailname = first_line(r->dir, mname, r->e);
		rc = dma_parse(main.data, main.len, have ? other.data : NULL, other.len, mailname,
		    &r->im, r->e);
		break;
	default:
		dhost = first_line(r->dir, "defaulthost", r->e);
		ddom = first_line(r->dir, "defaultdomain", r->e);
		admin = first_line(r->dir, "adminaddr", r->e);
		me = first_line(r->dir, "me", r->e);
		rc = nullmailer_parse(main.data, main.len, dhost, ddom, admin, me, &r->im, r->e);
		break;
	}
	if (rc == -1)
		err_prefix(r->e, "--import %s: ", r->main);
out:
	buf_free(&main);
	buf_free(&other);
	free(auth);
	free(mname);
	free(mailname);
	free(path);
	free(dhost);
	free(ddom);
	free(admin);
	free(me);
	return rc;
}

/* The value of key in the section of the file read, or NULL. */
static char *
old_value(struct run *r, const char *section, const char *key)
{
	struct buf b;
	char *v = NULL;

	buf_init(&b, MAX_CONFIG_LINE);
	if (confedit_get(r->old.data != NULL ? r->old.data : "", r->old.len, section, key, &b) ==
		1 &&
	    b.len > 0)
		v = buf_steal(&b);
	buf_free(&b);
	return v;
}

static int
has_section(struct run *r, const char *name)
{
	char **secs;
	size_t n, i;
	int found = 0;

	confedit_sections(r->old.data != NULL ? r->old.data : "", r->old.len, &secs, &n);
	for (i = 0; i < n; i++)
		found |= strcasecmp(secs[i], name) == 0;
	xfree_strv(secs, n);
	return found;
}

/* The [defaults] keys to write: those the file does not set already. */
static void
settle_defaults(struct run *r)
{
	struct import *im = &r->im;
	char **secs, *have;
	size_t i, n, others = 0, k;

	confedit_sections(r->old.data != NULL ? r->old.data : "", r->old.len, &secs, &n);
	for (k = 0; k < n; k++)
		if (strcmp(secs[k], "defaults") != 0)
			for (i = 0, others++; i < im->nacc; i++)
				if (strcasecmp(secs[k], im->acc[i].name) == 0)
					others--;
	xfree_strv(secs, n);
	for (i = 0; i < im->ndefaults; i++) {
		have = old_value(r, "defaults", im->defaults[i].key);
		if (have != NULL && strcmp(have, im->defaults[i].value) != 0 &&
		    (strcmp(im->defaults[i].key, "account") != 0 || others > 0)) {
			import_note(im,
			    "[defaults] %s: the file says %s already, which is kept "
			    "(%s had %s%s)",
			    im->defaults[i].key, have, im->format, im->defaults[i].value,
			    strcmp(im->defaults[i].key, "account") == 0 ? "; -a chooses it" : "");
			secret_free(im->defaults[i].value);
			im->defaults[i].value = NULL;
		} else if (strcmp(im->defaults[i].key, "account") == 0 && others > 0 &&
		    have == NULL) {
			/* The file's accounts were chosen without a default: keep it that way. */
			import_note(im,
			    "[defaults] account: not set to %s, as the file has other "
			    "accounts (-a %s chooses it)",
			    im->defaults[i].value, im->defaults[i].value);
			secret_free(im->defaults[i].value);
			im->defaults[i].value = NULL;
		}
		free(have);
	}
}

/* The keys of account i to write: the owned ones removed, the imported ones set. */
static struct confedit_kv *
account_kv(struct run *r, size_t i, size_t *n)
{
	const struct import_account *a = &r->im.acc[i];
	struct confedit_kv *kv = xcalloc(CONFIGURE_NOWNED + a->nkv + 2, sizeof(*kv));
	size_t k, m = 0;

	for (k = 0; configure_owned[k] != NULL; k++) {
		kv[m].key = configure_owned[k];
		kv[m++].value = NULL;
	}
	for (k = 0; k < a->nkv; k++) {
		size_t j;

		for (j = 0; j < m && strcmp(kv[j].key, a->kv[k].key) != 0; j++)
			;
		kv[j].key = a->kv[k].key;
		kv[j].value = a->kv[k].value;
		if (j == m)
			m++;
	}
	if (r->secret_files[i] != NULL) {
		for (k = 0; k < m && strcmp(kv[k].key, "password_file") != 0; k++)
			;
		kv[k].key = "password_file";
		kv[k].value = r->secret_files[i];
		if (k == m)
			m++;
	}
	*n = m;
	return kv;
}

/* The new file text, or (alone: an empty file) one account's lines for review. */
static int
render(struct run *r, const char *base, size_t blen, size_t only, int defaults, struct buf *out)
{
	struct confedit_kv *kv, dk;
	struct buf cur;
	size_t i, n, k;
	int rc = -1;

	buf_init(&cur, MAX_CONFIG_FILE);
	if (buf_add(&cur, base, blen) == -1)
		goto toolarge;
	for (i = 0; i < r->im.nacc; i++) {
		if (only != (size_t)-1 && i != only)
			continue;
		kv = account_kv(r, i, &n);
		k = confedit_set(cur.data != NULL ? cur.data : "", cur.len, r->im.acc[i].name, kv,
		    n, out, r->e);
		free(kv);
		if (k != 0)
			goto out;
		buf_reset(&cur);
		if (buf_add(&cur, out->data, out->len) == -1)
			goto toolarge;
	}
	for (i = 0; defaults && i < r->im.ndefaults; i++) {
		if (r->im.defaults[i].value == NULL)
			continue;
		dk.key = r->im.defaults[i].key;
		dk.value = r->im.defaults[i].value;
		if (confedit_set(cur.data != NULL ? cur.data : "", cur.len, "defaults", &dk, 1,
			out, r->e) == -1)
			goto out;
		buf_reset(&cur);
		if (buf_add(&cur, out->data, out->len) == -1)
			goto toolarge;
	}
	buf_reset(out);
	if (buf_add(out, cur.data != NULL ? cur.data : "", cur.len) == -1 || buf_cstr(out) == NULL)
		goto toolarge;
	rc = 0;
	goto out;
toolarge:
	err_set(r->e, ERR_PERM, CAUSE_CONFIG, "the configuration would be too large");
out:
	buf_free(&cur);
	return rc;
}

/* What will be written, for review. */
static int
show(struct run *r)
{
	struct buf one;
	size_t i, k;
	int rc = -1;

	buf_init(&one, MAX_CONFIG_FILE);
	printf("%s settings from %s, as sendmail.conf accounts for %s:\n", r->im.format, r->main,
	    r->target);
	for (i = 0; i < r->im.nacc; i++) {
		if (render(r, "", 0, i, 0, &one) == -1)
			goto out;
		printf("\n%s", one.data);
		if (r->secret_files[i] != NULL)
			printf("; the password %s held is %s %s (mode %s)\n", r->im.format,
			    r->o->yes ? "moved to" : "to be moved to", r->secret_files[i],
			    priv_system() ? "0640, group of the binary" : "0600");
		if (has_section(r, r->im.acc[i].name))
			printf("; replaces the account [%s] that %s has now\n", r->im.acc[i].name,
			    r->target);
	}
	for (i = 0, k = 0; i < r->im.ndefaults; i++)
		if (r->im.defaults[i].value != NULL)
			printf("%s%s = %s\n", k++ == 0 ? "\n[defaults]\n" : "",
			    r->im.defaults[i].key, r->im.defaults[i].value);
	if (r->im.nnotes > 0)
		printf("\nNot carried over, or changed:\n");
	for (i = 0; i < r->im.nnotes; i++)
		printf("  - %s\n", r->im.notes[i]);
	fflush(stdout);
	rc = 0;
out:
	buf_free(&one);
	return rc;
}

/* Stage the new file and load it: it must read back. *tmp is the staged file. */
static int
check(struct run *r, const struct buf *text, char **tmp)
{
	struct config cfg;
	int rc = -1;

	memset(&cfg, 0, sizeof(cfg));
	if (confedit_stage(r->target, text->data, text->len, priv_system() ? 0644 : 0600, tmp,
		r->e) == -1)
		goto out;
	if (config_load(&cfg, NULL, *tmp, r->e) == -1) {
		err_prefix(r->e, "--import: the accounts as they would be written do not load: ");
		goto out;
	}
	rc = 0;
out:
	config_free(&cfg);
	return rc;
}

static int
write_all_of(struct run *r, char *tmp)
{
	char *bak = NULL;
	size_t i;
	int rc = -1;

	/* The secrets first: an account must never name a password file that is not there. */
	for (i = 0; i < r->im.nacc; i++)
		if (r->secret_files[i] != NULL &&
		    password_write_file(r->secret_files[i], r->im.acc[i].secret, r->e) == -1) {
			confedit_discard(tmp);
			goto out;
		}
	if (confedit_commit(r->target, tmp, r->exists ? &r->old : NULL, &bak, r->e) == -1)
		goto out;
	printf("\nWrote %zu account%s to %s%s%s%s.\n", r->im.nacc, r->im.nacc == 1 ? "" : "s",
	    r->target, bak != NULL ? " (the old file is kept as " : "", bak != NULL ? bak : "",
	    bak != NULL ? ")" : "");
	rc = 0;
out:
	free(bak);
	return rc;
}

int
migrate_run(const struct migrate_opts *o, struct err *e)
{
	struct run r;
	struct buf text;
	char *tmp = NULL;
	size_t i;
	int got, rc = -1;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.e = e;
	buf_init(&r.old, MAX_CONFIG_FILE);
	buf_init(&text, MAX_CONFIG_FILE);
	if (find_format(&r) == -1 || parse(&r) == -1 ||
	    (r.target = configure_target(o->config_file, e)) == NULL ||
	    (got = confedit_read(r.target, &r.old, e)) == -1)
		goto out;
	r.exists = got;
	if (r.im.nacc == 0) {
		err_set(e, ERR_PERM, CAUSE_DATA, "--import %s: no account to import", r.main);
		goto out;
	}
	r.secret_files = xcalloc(r.im.nacc, sizeof(char *));
	for (i = 0; i < r.im.nacc; i++)
		if (r.im.acc[i].secret != NULL &&
		    (r.secret_files[i] = configure_secret_path(r.target, r.im.acc[i].name)) ==
			NULL) {
			err_set(e, ERR_PERM, CAUSE_CANTCREAT,
			    "--import: the password file's name "
			    "is too long");
			goto out;
		}
	settle_defaults(&r);
	if (render(&r, r.old.data != NULL ? r.old.data : "", r.old.len, (size_t)-1, 1, &text) ==
		-1 ||
	    show(&r) == -1 || check(&r, &text, &tmp) == -1)
		goto out;
	if (!o->yes) {
		printf("\nNothing was written: run it again with --yes to write this to %s.\n",
		    r.target);
		rc = 0;
		goto out;
	}
	rc = write_all_of(&r, tmp);
	tmp = NULL;
out:
	confedit_discard(tmp);
	fflush(stdout);
	for (i = 0; r.secret_files != NULL && i < r.im.nacc; i++)
		free(r.secret_files[i]);
	free(r.secret_files);
	import_free(&r.im);
	free(r.dir);
	free(r.main);
	free(r.target);
	buf_free(&r.old);
	buf_free(&text);
	return rc;
}

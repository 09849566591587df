/*
 * users.c: the listener's users file. See users.h.
 *
 * The file is read whole at each check (it is small, and a login is rare next to the
 * messages): a user added or removed counts from the next login on, with no reload.
 * Its bytes are hashes, not passwords, but they are wiped all the same: an offline
 * guess at a printer's short password is cheap enough to be worth denying.
 */
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "base/path.h"
#include "base/mem.h"
#include "base/str.h"
#include "config/config.h"
#include "secrets/cred.h"
#include "secrets/users.h"

/* The kinds of hash we take: slow ones. DES, MD5 and the rest are refused. */
static const char *const strong[] = { "$y$", "$gy$", "$6$" };

/* The file, read whole into b (a secret buffer). 0, or -1 with err. */
static int
read_file(const char *path, struct buf *b, struct err *e)
{
	struct stat st;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "users_file %s: cannot open: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "users_file %s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 004) != 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "users_file %s: every user can read it (mode "
		    "%04o); run chmod 640 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (read_capped(fd, b, 0) == -1) {
		if (errno == EFBIG)
			err_set(e, ERR_PERM, CAUSE_CONFIG, "users_file %s: larger than %d bytes",
			    path, MAX_USERS_FILE);
		else
			err_set(e, ERR_PERM, CAUSE_CONFIG, "users_file %s: cannot read: %s", path,
			    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

static int
strong_hash(const char *h)
{
	size_t i;

	for (i = 0; i < sizeof(strong) / sizeof(strong[0]); i++)
		if (strncmp(h, strong[i], strlen(strong[i])) == 0)
			return 1;
	return 0;
}

/* Equal strings, in a time that depends only on their lengths. */
static int
same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/*
 * 1 if crypt(password, hash) gives hash. An unusable hash (NULL: the name is unknown)
 * is still paid for with a fresh yescrypt hash, so the time is the same.
 */
static int
hash_matches(const char *password, const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *out;
	int ok = 0;

	if (hash == NULL) {
		if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) != NULL)
			crypt_r(password, setting, cd);
		goto out;
	}
	out = crypt_r(password, hash, cd);
	ok = out != NULL && out[0] != '*' && same(out, hash);
out:
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

void
users_senders_free(struct str_list *l)
{
	xfree_strv(l->v, l->n);
	l->v = NULL;
	l->n = 0;
}

/* "a@x,*@y" into l. */
static void
split_senders(const char *s, struct str_list *l)
{
	const char *end;

	while (*s != '\0') {
		end = s + strcspn(s, ",");
		if (end > s) {
			l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
			l->v[l->n++] = xstrndup(s, (size_t)(end - s));
		}
		s = *end == ',' ? end + 1 : end;
	}
}

/*
 * One line: a comment or blank (returns 0, *name NULL), or name:hash[:senders] split in
 * place (returns 0), or -1 with err naming the line.
 */
static int
parse_line(char *line, const char *path, unsigned lineno, char **name, char **hash, char **senders,
    struct err *e)
{
	char *p, *q;
	int rc = -1;

	*name = *hash = *senders = NULL;
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0' || *p == '#') {
		rc = 0;
		goto out;
	}
	if ((q = strchr(p, ':')) == NULL) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "users_file %s: line %u: not name:hash", path,
		    lineno);
		goto out;
	}
	*q++ = '\0';
	if (!config_name_ok(p)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "users_file %s: line %u: not a user name "
		    "(letters, digits, . _ - @ +)",
		    path, lineno);
		goto out;
	}
	*name = p;
	*hash = q;
	/* crypt hashes use no ':' ($y$j9T$salt$hash): the next one starts the senders. */
	if ((q = strchr(q, ':')) != NULL) {
		*q++ = '\0';
		*senders = q;
	}
	if (!strong_hash(*hash)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "users_file %s: line %u (%s): not a yescrypt "
		    "($y$) or SHA-512 ($6$) crypt hash",
		    path, lineno, *name);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

int
users_check(const char *path, const char *name, const char *password, struct str_list *senders,
    struct err *e)
{
	struct buf b;
	char *line, *next, *n, *h, *s;
	const char *found = NULL, *found_senders = NULL;
	unsigned lineno = 0;
	int rc = -1;

	buf_init_secret(&b, MAX_USERS_FILE);
	if (read_file(path, &b, e) == -1)
		goto out;
	if (buf_addc(&b, '\0') == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "users_file %s: larger than %d bytes", path,
		    MAX_USERS_FILE);
		goto out;
	}
	/* Every line is checked, not only up to the user's: a broken file is said at once. */
	for (line = b.data; line != NULL && line < b.data + b.len - 1; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (parse_line(line, path, lineno, &n, &h, &s, e) == -1)
			goto out;
		if (n != NULL && found == NULL && strcmp(n, name) == 0) {
			found = h;
			found_senders = s;
		}
	}
	rc = hash_matches(password, found);
	if (rc == 1 && senders != NULL && found_senders != NULL)
		split_senders(found_senders, senders);
out:
	buf_free(&b);
	return rc;
}

int
users_check_one(const char *user, const char *password_file, const char *name,
    const char *password, struct err *e)
{
	char *secret = NULL;
	int rc = -1;

	if (cred_file(password_file, &secret, e) == -1)
		goto out;
	if (strong_hash(secret))
		rc = hash_matches(password, strcmp(name, user) == 0 ? secret : NULL);
	else
		rc = same(name, user) & same(password, secret);
out:
	secret_free(secret);
	return rc;
}

/*
 * password.c: the keyring's password modes. See password.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "base/path.h"
#include "base/priv.h"
#include "base/prompt.h"
#include "config/config.h"
#include "secrets/keyring.h"
#include "secrets/password.h"

static int
keyring_account(const struct account *a, const char *what, struct err *e)
{
	int rc = 0;

	if (a->user == NULL || a->user[0] == '\0')
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s has no user, so there is "
		    "no keyring entry to %s: set user = in the account",
		    a->name, what);
	else if (a->host == NULL || a->host[0] == '\0')
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG, "account %s has no host", a->name);
	return rc;
}

/* The keyring's entry for a: msmtp's attributes, a label a person can read. */
static int
keep_in_keyring(const struct account *a, const char *secret, struct err *e)
{
	struct buf label;
	int rc = -1;

	buf_init(&label, MAX_KEYRING_LABEL);
	if (keyring_account(a, "store", e) == -1)
		goto out;
	/* Only what the keyring shows a person: the short form when the long one is too long. */
	if (buf_addf(&label, "mailout: SMTP password for %s at %s", a->user, a->host) == -1) {
		buf_reset(&label);
		if (buf_addstr(&label, "mailout: SMTP password") == -1) {
			err_set(e, ERR_TEMP, CAUSE_OSERR, "out of memory");
			goto out;
		}
	}
	if (keyring_store(a->host, "smtp", a->user, label.data, secret, e) == -1) {
		err_prefix(e, "account %s: ", a->name);
		goto out;
	}
	rc = 0;
out:
	buf_free(&label);
	return rc;
}

/* The directory of path, made if missing: root:GROUP 0750 in system mode, else 0700. */
static int
secret_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	char *dir;
	int rc = 0;

	if (slash == NULL || slash == path)
		return 0;
	dir = xstrndup(path, (size_t)(slash - path));
	if (stat(dir, &st) == -1) {
		if (priv_system())
			rc = make_dirs(dir, 0750) == 0 && chown(dir, 0, priv_group()) == 0 ? 0
											   : -1;
		else
			rc = make_dirs(dir, 0700);
	}
	free(dir);
	return rc;
}

int
password_write_file(const char *path, const char *secret, struct err *e)
{
	struct iovec iov[2] = { { (void *)secret, strlen(secret) }, { (void *)"\n", 1 } };
	enum file_step step = FILE_CREATE;
	int rc = -1;

	/* The owner first, the mode then: the file is never readable by more than it should be. */
	if (secret_dir(path) == -1 ||
	    file_replace(path, iov, 2, priv_system() ? 0640 : 0600, priv_system() ? 0 : (uid_t)-1,
		priv_group(), FILE_SYNC, &step) == -1) {
		if (step == FILE_RENAME)
			err_set(e, ERR_TEMP, CAUSE_CANTCREAT, "cannot put %s in place: %s", path,
			    strerror(errno));
		else
			err_set(e, ERR_TEMP, step == FILE_WRITE ? CAUSE_IOERR : CAUSE_CANTCREAT,
			    "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	return rc;
}

int
password_save(const struct account *a, const char *secret, struct err *e)
{
	if (!priv_system())
		return keep_in_keyring(a, secret, e);
	if (a->password_file == NULL || a->password_file[0] == '\0')
		return err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s has no password_file: in "
		    "system mode (the binary is setgid) the password goes in a file in " SYSCONFDIR
		    "/mailout",
		    a->name);
	return password_write_file(a->password_file, secret, e);
}

/*
 * The password to store: asked on the terminal (prompt, not echoed), else the first line
 * of in; a trailing CR dropped. 0, or -1 with err (an empty one is nothing to store).
 */
static int
new_password(FILE *in, const char *prompt, struct buf *b, struct err *e)
{
	int rc = -1;

	if (isatty(fileno(in))) {
		if (prompt_password(b, e, "%s", prompt) == -1)
			goto out;
	} else if (prompt_line(fileno(in), b) == -1) {
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "could not read the password from standard "
		    "input (the first line, at most %d bytes)",
		    MAX_SECRET);
		goto out;
	}
	if (b->len > 0 && b->data[b->len - 1] == '\r')
		b->data[--b->len] = '\0';
	if (b->len == 0 || memchr(b->data, '\0', b->len) != NULL) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "no password given: nothing stored");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

int
password_store(const struct account *a, FILE *in, struct err *e)
{
	struct buf b;
	char prompt[MAX_ERROR_TEXT];
	int rc = -1;

	buf_init_secret(&b, MAX_SECRET);
	if (keyring_account(a, "store", e) == -1)
		goto out;
	snprintf(prompt, sizeof(prompt), "Password for %s at %s (account %s): ", a->user, a->host,
	    a->name);
	if (new_password(in, prompt, &b, e) == -1)
		goto out;
	if (password_save(a, b.data, e) == -1)
		goto out;
	printf("mailout: stored the password for %s at %s (account %s) in the keyring\n", a->user,
	    a->host, a->name);
	if (a->password_command != NULL || a->password_file != NULL || a->password != NULL)
		printf("mailout: note: account %s also sets %s, which is used before the "
		       "keyring\n",
		    a->name,
		    a->password_command != NULL    ? "password_command"
			: a->password_file != NULL ? "password_file"
						   : "password");
	fflush(stdout);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int
password_forget(const struct account *a, struct err *e)
{
	int r, rc = -1;

	if (keyring_account(a, "forget", e) == -1)
		goto out;
	if ((r = keyring_forget(a->host, "smtp", a->user, e)) == -1) {
		err_prefix(e, "account %s: ", a->name);
		goto out;
	}
	if (r == 1)
		printf("mailout: removed the password for %s at %s (account %s) from the "
		       "keyring\n",
		    a->user, a->host, a->name);
	else
		printf("mailout: the keyring had no password for %s at %s (account %s)\n", a->user,
		    a->host, a->name);
	fflush(stdout);
	rc = 0;
out:
	return rc;
}

int
password_store_file(const struct account *a, FILE *in, gid_t gid, struct err *e)
{
	const struct group *gr = getgrgid(gid);
	struct buf b;
	char prompt[MAX_ERROR_TEXT];
	int rc = -1;

	buf_init_secret(&b, MAX_SECRET);
	if (a->password_file == NULL || a->password_file[0] == '\0') {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s has no password_file, so there "
		    "is nowhere to store it: add the line \"password_file = " SYSCONFDIR
		    "/mailout/%s.password\" to [%s] in %s, then run this again",
		    a->name, a->name, a->name, a->file);
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Password for account %s: ", a->name);
	if (new_password(in, prompt, &b, e) == -1)
		goto out;
	if (password_write_file(a->password_file, b.data, e) == -1)
		goto out;
	printf("mailout: stored the password of account %s in %s (root:%s 0640)\n", a->name,
	    a->password_file, gr != NULL ? gr->gr_name : "mailout");
	fflush(stdout);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

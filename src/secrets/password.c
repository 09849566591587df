/*
 * password.c: the keyring's password modes. See password.h.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/prompt.h"
#include "config/config.h"
#include "secrets/keyring.h"
#include "secrets/password.h"

static int
keyring_account(const struct account *a, const char *what, struct err *e)
{
	int rc = 0;

	if (a->user == NULL || a->user[0] == '\0')
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG, "account %s has no user, so there is "
		    "no keyring entry to %s: set user = in the account", a->name, what);
	else if (a->host == NULL || a->host[0] == '\0')
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG, "account %s has no host", a->name);
	return rc;
}

int
password_store(const struct account *a, FILE *in, struct err *e)
{
	struct buf b, label;
	int rc = -1;

	buf_init_secret(&b, MAX_SECRET);
	buf_init(&label, MAX_KEYRING_LABEL);
	if (keyring_account(a, "store", e) == -1)
		goto out;
	if (isatty(fileno(in))) {
		if (prompt_password(&b, e, "Password for %s at %s (account %s): ", a->user,
		    a->host, a->name) == -1)
			goto out;
	} else if (prompt_line(fileno(in), &b) == -1) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "could not read the password from standard "
		    "input (the first line, at most %d bytes)", MAX_SECRET);
		goto out;
	}
	if (b.len > 0 && b.data[b.len - 1] == '\r')
		b.data[--b.len] = '\0';
	if (b.len == 0 || memchr(b.data, '\0', b.len) != NULL) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "no password given: nothing stored");
		goto out;
	}
	/* Only what the keyring shows a person: the short form when the long one is too long. */
	if (buf_addf(&label, "mailout: SMTP password for %s at %s", a->user, a->host) == -1) {
		buf_reset(&label);
		if (buf_addstr(&label, "mailout: SMTP password") == -1) {
			err_set(e, ERR_TEMP, CAUSE_OSERR, "out of memory");
			goto out;
		}
	}
	if (keyring_store(a->host, "smtp", a->user, label.data, b.data, e) == -1) {
		err_prefix(e, "account %s: ", a->name);
		goto out;
	}
	printf("mailout: stored the password for %s at %s (account %s) in the keyring\n",
	    a->user, a->host, a->name);
	if (a->password_command != NULL || a->password_file != NULL || a->password != NULL)
		printf("mailout: note: account %s also sets %s, which is used before the "
		    "keyring\n", a->name, a->password_command != NULL ? "password_command" :
		    a->password_file != NULL ? "password_file" : "password");
	fflush(stdout);
	rc = 0;
out:
	buf_free(&b);
	buf_free(&label);
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
		    "keyring\n", a->user, a->host, a->name);
	else
		printf("mailout: the keyring had no password for %s at %s (account %s)\n",
		    a->user, a->host, a->name);
	fflush(stdout);
	rc = 0;
out:
	return rc;
}

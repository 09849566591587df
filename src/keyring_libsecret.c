/*
 * keyring_libsecret.c: the keyring through libsecret (Secret Service API). See keyring.h.
 *
 * libsecret's synchronous calls block for about 50 s when the Secret Service is hung
 * (D-Bus' default method timeout), which would stall cron jobs and PHP pages. So every
 * call is made asynchronously on a private main context with a GCancellable that a
 * timeout source cancels; if even the cancellation is not delivered, the call is
 * abandoned (its small state is leaked on purpose: a late callback may still touch it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libsecret/secret.h>

#include "buf.h"
#include "err.h"
#include "keyring.h"
#include "util.h"

/* A Secret Service that has not answered in this long will not: fail, and queue. */
#define KEYRING_TIMEOUT_MS	5000
/* After cancelling, how long to wait for the call to notice before abandoning it. */
#define KEYRING_GRACE_MS	1000

/* msmtp's schema (msmtp.c): secret-tool's items with the same attributes match it. */
static const SecretSchema msmtp_schema = {
	.name = "de.marlam.msmtp.password",
	.flags = SECRET_SCHEMA_DONT_MATCH_NAME,
	.attributes = {
		{ "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
};

enum op { OP_LOOKUP, OP_STORE, OP_CLEAR };

struct call {
	enum op		 op;
	int		 done;
	int		 timed_out;
	int		 abandoned;
	gchar		*password;
	gboolean	 ok;
	GError		*error;
	GCancellable	*cancel;
};

static GMainContext *keyring_ctx;

/*
 * GLib would find the session bus through DBUS_SESSION_BUS_ADDRESS or the socket at
 * $XDG_RUNTIME_DIR/bus. Without either, it would try to autolaunch one, which is never
 * what a mail submission agent under cron should do: say so at once instead.
 */
static int
bus_check(struct err *e)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char path[4096];
	struct stat st;
	int rc = 0;

	if (getuid() != geteuid() || getgid() != getegid())
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG, "the keyring cannot be used by a set-ID "
		    "mailout (system mode): GLib refuses such programs the session bus; use "
		    "password_file or password_command");
	else if ((addr == NULL || addr[0] == '\0') && !(rt != NULL && rt[0] == '/' &&
	    (size_t)snprintf(path, sizeof(path), "%s/bus", rt) < sizeof(path) &&
	    stat(path, &st) == 0 && S_ISSOCK(st.st_mode)))
		rc = err_set(e, ERR_TEMP, CAUSE_TEMP, "the system keyring cannot be reached: "
		    "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and there "
		    "is no $XDG_RUNTIME_DIR/bus), as under cron, PHP or a system service");
	return rc;
}

static void
call_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct call *c = data;

	(void)src;
	switch (c->op) {
	case OP_LOOKUP:
		c->password = secret_password_lookup_finish(res, &c->error);
		break;
	case OP_STORE:
		c->ok = secret_password_store_finish(res, &c->error);
		break;
	case OP_CLEAR:
		c->ok = secret_password_clear_finish(res, &c->error);
		break;
	}
	c->done = 1;
}

static gboolean
on_timeout(gpointer data)
{
	struct call *c = data;

	c->timed_out = 1;
	g_cancellable_cancel(c->cancel);
	return G_SOURCE_REMOVE;
}

static gboolean
on_abandon(gpointer data)
{
	struct call *c = data;

	c->abandoned = 1;
	return G_SOURCE_REMOVE;
}

static struct call *
call_new(enum op op)
{
	struct call *c = xcalloc(1, sizeof(*c));

	c->op = op;
	c->cancel = g_cancellable_new();
	if (keyring_ctx == NULL)
		keyring_ctx = g_main_context_new();
	g_main_context_push_thread_default(keyring_ctx);
	return c;
}

/* Run the context until the call is done or given up. */
static void
call_wait(struct call *c)
{
	GSource *t1, *t2;

	t1 = g_timeout_source_new(KEYRING_TIMEOUT_MS);
	g_source_set_callback(t1, on_timeout, c, NULL);
	g_source_attach(t1, keyring_ctx);
	t2 = g_timeout_source_new(KEYRING_TIMEOUT_MS + KEYRING_GRACE_MS);
	g_source_set_callback(t2, on_abandon, c, NULL);
	g_source_attach(t2, keyring_ctx);
	while (!c->done && !c->abandoned)
		g_main_context_iteration(keyring_ctx, TRUE);
	g_source_destroy(t1);
	g_source_unref(t1);
	g_source_destroy(t2);
	g_source_unref(t2);
	g_main_context_pop_thread_default(keyring_ctx);
}

/* 0 if the call completed without error; else -1 with err (TEMP: try again later). */
static int
call_result(struct call *c, const char *what, struct err *e)
{
	int rc = 0;

	if (c->abandoned || (c->timed_out && c->error != NULL &&
	    g_error_matches(c->error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
		rc = err_set(e, ERR_TEMP, CAUSE_TEMP, "the system keyring did not answer "
		    "within %d seconds while %s (is the Secret Service hung, or waiting for "
		    "the keyring to be unlocked?)", KEYRING_TIMEOUT_MS / 1000, what);
	else if (c->error != NULL)
		rc = err_set(e, ERR_TEMP, CAUSE_TEMP, "the system keyring failed while %s: %s",
		    what, c->error->message);
	return rc;
}

static void
call_free(struct call *c)
{
	if (c == NULL || c->abandoned)
		return;
	if (c->password != NULL)
		secret_password_free(c->password);
	if (c->error != NULL)
		g_error_free(c->error);
	g_object_unref(c->cancel);
	free(c);
}

/* Copy out of libsecret's memory; a trailing newline (echo pw | secret-tool) is dropped. */
static int
take_password(struct call *c, char **secret, struct err *e)
{
	size_t n = strlen(c->password);
	int rc = 0;

	while (n > 0 && (c->password[n - 1] == '\n' || c->password[n - 1] == '\r'))
		n--;
	if (memchr(c->password, '\n', n) != NULL || memchr(c->password, '\r', n) != NULL)
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG, "the password stored in the keyring "
		    "contains a line break");
	else
		*secret = xstrndup(c->password, n);
	return rc;
}

int
keyring_lookup(const char *host, const char *service, const char *user, char **secret,
    struct err *e)
{
	struct call *c = NULL;
	int rc = -1;

	*secret = NULL;
	if (bus_check(e) == -1)
		goto out;
	c = call_new(OP_LOOKUP);
	secret_password_lookup(&msmtp_schema, c->cancel, call_done, c, "host", host,
	    "service", service, "user", user, NULL);
	call_wait(c);
	if (call_result(c, "looking up the password", e) == -1)
		goto out;
	if (c->password == NULL && strcmp(service, "smtp") == 0) {
		/* Not in msmtp's form: perhaps a GNOME network password (Evolution...). */
		call_free(c);
		c = call_new(OP_LOOKUP);
		secret_password_lookup(SECRET_SCHEMA_COMPAT_NETWORK, c->cancel, call_done, c,
		    "server", host, "protocol", "smtp", "user", user, NULL);
		call_wait(c);
		if (call_result(c, "looking up the password", e) == -1)
			goto out;
	}
	if (c->password == NULL) {
		rc = 0;
		goto out;
	}
	if (take_password(c, secret, e) == -1)
		goto out;
	rc = 1;
out:
	call_free(c);
	return rc;
}

int
keyring_store(const char *host, const char *service, const char *user, const char *label,
    const char *secret, struct err *e)
{
	struct call *c = NULL;
	int rc = -1;

	if (bus_check(e) == -1)
		goto out;
	c = call_new(OP_STORE);
	secret_password_store(&msmtp_schema, SECRET_COLLECTION_DEFAULT, label, secret,
	    c->cancel, call_done, c, "host", host, "service", service, "user", user, NULL);
	call_wait(c);
	if (call_result(c, "storing the password", e) == -1)
		goto out;
	if (!c->ok) {
		err_set(e, ERR_TEMP, CAUSE_TEMP, "the system keyring did not store the password "
		    "(is it locked?)");
		goto out;
	}
	rc = 0;
out:
	call_free(c);
	return rc;
}

int
keyring_forget(const char *host, const char *service, const char *user, struct err *e)
{
	struct call *c = NULL;
	int rc = -1;

	if (bus_check(e) == -1)
		goto out;
	c = call_new(OP_CLEAR);
	secret_password_clear(&msmtp_schema, c->cancel, call_done, c, "host", host,
	    "service", service, "user", user, NULL);
	call_wait(c);
	if (call_result(c, "removing the password", e) == -1)
		goto out;
	rc = c->ok ? 1 : 0;
out:
	call_free(c);
	return rc;
}

const char *
keyring_backend(void)
{
	return "libsecret";
}

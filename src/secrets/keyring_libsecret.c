/*
 * keyring_libsecret.c: the keyring through libsecret (Secret Service API). See keyring.h.
 *
 * libsecret's synchronous calls block for about 50 s when the Secret Service is hung
 * (D-Bus' default method timeout), which would stall cron jobs and PHP pages. So every
 * call is made asynchronously on a private main context with a GCancellable that a
 * timeout source cancels; if even the cancellation is not delivered, the call is
 * abandoned (its small state is leaked on purpose: a late callback may still touch it).
 *
 * libsecret and the GLib it needs are loaded with dlopen() on the first keyring call,
 * not at start-up: linked in, they are 13 more shared objects for every run (2.5 ms of
 * CPU and 2.8 MiB of memory), for a keyring most runs (cron, PHP, password_file) never
 * ask. The headers still give the types and the signatures (__typeof__ below), so a call
 * through the table is checked as strictly as a direct one. The library is never
 * unloaded (GLib cannot be).
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libsecret/secret.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/path.h"
#include "secrets/keyring.h"
#include "base/priv.h"
#include "base/mem.h"

/* A Secret Service that has not answered in this long will not: fail, and queue. */
#define KEYRING_TIMEOUT_MS 5000
/* After cancelling, how long to wait for the call to notice before abandoning it. */
#define KEYRING_GRACE_MS 1000

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

/* The soname, not the .so link: only the -dev package installs that. */
#define LIBSECRET_SONAME "libsecret-1.so.0"

/* What is called through dlsym(): libsecret's calls and the GLib ones (its dependencies). */
static struct {
	int loaded;
	__typeof__(secret_password_lookup) *lookup;
	__typeof__(secret_password_lookup_finish) *lookup_finish;
	__typeof__(secret_password_store) *store;
	__typeof__(secret_password_store_finish) *store_finish;
	__typeof__(secret_password_clear) *clear;
	__typeof__(secret_password_clear_finish) *clear_finish;
	__typeof__(secret_password_free) *password_free;
	const SecretSchema **compat_network;
	__typeof__(g_io_error_quark) *io_error_quark;
	__typeof__(g_error_matches) *error_matches;
	__typeof__(g_error_free) *error_free;
	__typeof__(g_cancellable_new) *cancellable_new;
	__typeof__(g_cancellable_cancel) *cancellable_cancel;
	__typeof__(g_object_unref) *object_unref;
	__typeof__(g_main_context_new) *context_new;
	__typeof__(g_main_context_push_thread_default) *push_default;
	__typeof__(g_main_context_pop_thread_default) *pop_default;
	__typeof__(g_main_context_iteration) *iteration;
	__typeof__(g_timeout_source_new) *timeout_source_new;
	__typeof__(g_source_set_callback) *source_set_callback;
	__typeof__(g_source_attach) *source_attach;
	__typeof__(g_source_destroy) *source_destroy;
	__typeof__(g_source_unref) *source_unref;
} lib;

/* clang-format off */
#define SYM(field, name)	{ name, offsetof(__typeof__(lib), field) }
/* clang-format on */
static const struct {
	const char *name;
	size_t off;
} syms[] = {
	SYM(lookup, "secret_password_lookup"),
	SYM(lookup_finish, "secret_password_lookup_finish"),
	SYM(store, "secret_password_store"),
	SYM(store_finish, "secret_password_store_finish"),
	SYM(clear, "secret_password_clear"),
	SYM(clear_finish, "secret_password_clear_finish"),
	SYM(password_free, "secret_password_free"),
	SYM(compat_network, "SECRET_SCHEMA_COMPAT_NETWORK"),
	SYM(io_error_quark, "g_io_error_quark"),
	SYM(error_matches, "g_error_matches"),
	SYM(error_free, "g_error_free"),
	SYM(cancellable_new, "g_cancellable_new"),
	SYM(cancellable_cancel, "g_cancellable_cancel"),
	SYM(object_unref, "g_object_unref"),
	SYM(context_new, "g_main_context_new"),
	SYM(push_default, "g_main_context_push_thread_default"),
	SYM(pop_default, "g_main_context_pop_thread_default"),
	SYM(iteration, "g_main_context_iteration"),
	SYM(timeout_source_new, "g_timeout_source_new"),
	SYM(source_set_callback, "g_source_set_callback"),
	SYM(source_attach, "g_source_attach"),
	SYM(source_destroy, "g_source_destroy"),
	SYM(source_unref, "g_source_unref"),
};

enum op { OP_LOOKUP, OP_STORE, OP_CLEAR };

struct call {
	enum op op;
	int done;
	int timed_out;
	int abandoned;
	gchar *password;
	gboolean ok;
	GError *error;
	GCancellable *cancel;
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
	char *path = NULL;
	struct stat st;
	int rc = 0;

	/* System mode has put the group down already: the ids alone would not tell. */
	if (priv_system() || getuid() != geteuid() || getgid() != getegid())
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "the keyring cannot be used by a set-ID "
		    "mailout (system mode): GLib refuses such programs the session bus; use "
		    "password_file in " SYSCONFDIR "/mailout");
	else if ((addr == NULL || addr[0] == '\0') &&
	    !(rt != NULL && rt[0] == '/' && (path = path_fmt("%s/bus", rt)) != NULL &&
		stat(path, &st) == 0 && S_ISSOCK(st.st_mode)))
		rc = err_set(e, ERR_TEMP, CAUSE_TEMP,
		    "the system keyring cannot be reached: "
		    "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and there "
		    "is no $XDG_RUNTIME_DIR/bus), as under cron, PHP or a system service");
	free(path);
	return rc;
}

/*
 * Load libsecret (and through it GLib) once. 0, or -1 with err: a missing library is
 * PERM/CAUSE_CONFIG, as in a build without keyring support, since retrying will not
 * install it.
 */
static int
lib_load(struct err *e)
{
	const char *why;
	void *h, *p;
	size_t i;
	int rc = -1;

	if (lib.loaded) {
		rc = 0;
		goto out;
	}
	dlerror();
	if ((h = dlopen(LIBSECRET_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "the system keyring cannot be used: "
		    "%s could not be loaded (%s); install libsecret (Debian: libsecret-1-0), "
		    "or use password_command or password_file",
		    LIBSECRET_SONAME, why != NULL ? why : "unknown error");
		goto out;
	}
	/* A handle's lookups cover its dependencies: GLib's symbols are found through it. */
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if ((p = dlsym(h, syms[i].name)) == NULL) {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "the system keyring cannot be used: "
			    "%s has no %s (too old a libsecret?); use password_command or "
			    "password_file",
			    LIBSECRET_SONAME, syms[i].name);
			goto out;
		}
		memcpy((char *)&lib + syms[i].off, &p, sizeof(p));
	}
	lib.loaded = 1;
	rc = 0;
out:
	return rc;
}

static void
call_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct call *c = data;

	(void)src;
	switch (c->op) {
	case OP_LOOKUP:
		c->password = lib.lookup_finish(res, &c->error);
		break;
	case OP_STORE:
		c->ok = lib.store_finish(res, &c->error);
		break;
	case OP_CLEAR:
		c->ok = lib.clear_finish(res, &c->error);
		break;
	}
	c->done = 1;
}

static gboolean
on_timeout(gpointer data)
{
	struct call *c = data;

	c->timed_out = 1;
	lib.cancellable_cancel(c->cancel);
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
	c->cancel = lib.cancellable_new();
	if (keyring_ctx == NULL)
		keyring_ctx = lib.context_new();
	lib.push_default(keyring_ctx);
	return c;
}

/* Run the context until the call is done or given up. */
static void
call_wait(struct call *c)
{
	GSource *t1, *t2;

	t1 = lib.timeout_source_new(KEYRING_TIMEOUT_MS);
	lib.source_set_callback(t1, on_timeout, c, NULL);
	lib.source_attach(t1, keyring_ctx);
	t2 = lib.timeout_source_new(KEYRING_TIMEOUT_MS + KEYRING_GRACE_MS);
	lib.source_set_callback(t2, on_abandon, c, NULL);
	lib.source_attach(t2, keyring_ctx);
	while (!c->done && !c->abandoned)
		lib.iteration(keyring_ctx, TRUE);
	lib.source_destroy(t1);
	lib.source_unref(t1);
	lib.source_destroy(t2);
	lib.source_unref(t2);
	lib.pop_default(keyring_ctx);
}

/* 0 if the call completed without error; else -1 with err (TEMP: try again later). */
static int
call_result(struct call *c, const char *what, struct err *e)
{
	int rc = 0;

	if (c->abandoned ||
	    (c->timed_out && c->error != NULL &&
		lib.error_matches(c->error, lib.io_error_quark(), G_IO_ERROR_CANCELLED)))
		rc = err_set(e, ERR_TEMP, CAUSE_TEMP,
		    "the system keyring did not answer "
		    "within %d seconds while %s (is the Secret Service hung, or waiting for "
		    "the keyring to be unlocked?)",
		    KEYRING_TIMEOUT_MS / 1000, what);
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
		lib.password_free(c->password);
	if (c->error != NULL)
		lib.error_free(c->error);
	lib.object_unref(c->cancel);
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
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "the password stored in the keyring "
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
	if (bus_check(e) == -1 || lib_load(e) == -1)
		goto out;
	c = call_new(OP_LOOKUP);
	lib.lookup(&msmtp_schema, c->cancel, call_done, c, "host", host, "service", service,
	    "user", user, NULL);
	call_wait(c);
	if (call_result(c, "looking up the password", e) == -1)
		goto out;
	if (c->password == NULL && strcmp(service, "smtp") == 0) {
		/* Not in msmtp's form: perhaps a GNOME network password (Evolution...). */
		call_free(c);
		c = call_new(OP_LOOKUP);
		lib.lookup(*lib.compat_network, c->cancel, call_done, c, "server", host,
		    "protocol", "smtp", "user", user, NULL);
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

	if (bus_check(e) == -1 || lib_load(e) == -1)
		goto out;
	c = call_new(OP_STORE);
	lib.store(&msmtp_schema, SECRET_COLLECTION_DEFAULT, label, secret, c->cancel, call_done, c,
	    "host", host, "service", service, "user", user, NULL);
	call_wait(c);
	if (call_result(c, "storing the password", e) == -1)
		goto out;
	if (!c->ok) {
		err_set(e, ERR_TEMP, CAUSE_TEMP,
		    "the system keyring did not store the password "
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

	if (bus_check(e) == -1 || lib_load(e) == -1)
		goto out;
	c = call_new(OP_CLEAR);
	lib.clear(&msmtp_schema, c->cancel, call_done, c, "host", host, "service", service, "user",
	    user, NULL);
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

/*
 * config.c: sendmail.conf (config/config.c through iniparser), written to a scratch file
 * of mode 0600 and loaded as the user's file (-C), with no system file. Checked: what
 * config.h says of the stored forms (ports, fingerprints, lower case, absolute paths),
 * that every fallback names an account, and that selection returns an account of the
 * list: by name, by sender, or by default.
 *
 * No option byte: the input is the file.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "config/config.h"
#include "fuzz.h"

static int
lower(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			return 0;
	return 1;
}

static int
absolute(const char *p)
{
	return p == NULL || p[0] == '/';
}

static int
fingerprint(const char *f)
{
	size_t i;

	if (f == NULL)
		return 1;
	if (strncmp(f, "sha256:", 7) != 0 || strlen(f) != 7 + 64)
		return 0;
	for (i = 7; f[i] != '\0'; i++)
		if (!((f[i] >= '0' && f[i] <= '9') || (f[i] >= 'a' && f[i] <= 'f')))
			return 0;
	return 1;
}

static void
check_account(const struct config *cfg, const struct account *a)
{
	char *s;

	FUZZ_ASSERT(a->name != NULL && a->name[0] != '\0', "an account has a name");
	FUZZ_ASSERT(config_find(cfg, a->name) == a, "an account is found by its name");
	FUZZ_ASSERT(a->port > 0 && a->port <= 65535, "a port in range");
	FUZZ_ASSERT(a->tls <= TLS_IMPLICIT && a->rewrite_from <= REWRITE_ALWAYS &&
		a->oauth <= OAUTH_CUSTOM,
	    "enums in range");
	FUZZ_ASSERT(a->tls_min_version == 12 || a->tls_min_version == 13, "TLS 1.2 or 1.3");
	FUZZ_ASSERT(fingerprint(a->tls_fingerprint), "sha256: and 64 lower-case hex digits");
	FUZZ_ASSERT(a->auth != NULL && lower(a->auth) && lower(a->dsn_notify) &&
		lower(a->dsn_return),
	    "auth and DSN keywords in lower case");
	FUZZ_ASSERT(absolute(a->tls_ca_file) && absolute(a->tls_cert_file) &&
		absolute(a->tls_key_file) && absolute(a->password_file) &&
		absolute(a->oauth_token_file),
	    "account paths are absolute");
	FUZZ_ASSERT(a->fallback == NULL ||
		(config_find(cfg, a->fallback) != NULL && strcmp(a->fallback, a->name) != 0),
	    "a fallback names another account");
	if (a->from != NULL) {
		s = config_expand(a->from);
		FUZZ_ASSERT(s != NULL, "from expands");
		free(s);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct account *a;
	struct config cfg;
	const char *path;
	struct err e;
	size_t i;

	path = fuzz_file("sendmail.conf", data, size);
	memset(&cfg, 0, sizeof(cfg));
	err_init(&e);
	if (config_load(&cfg, "/nonexistent/mailout-fuzz/sendmail.conf", path, &e) == -1) {
		fuzz_note("config: %s", e.msg);
		FUZZ_ASSERT(err_failed(&e), "a refused file says why");
		config_free(&cfg);
		return 0;
	}
	FUZZ_ASSERT(absolute(cfg.aliases) && absolute(cfg.queue_dir) && absolute(cfg.logfile),
	    "global paths are absolute");
	fuzz_note("config: %zu accounts", cfg.naccounts);
	for (i = 0; i < cfg.naccounts; i++)
		check_account(&cfg, &cfg.accounts[i]);
	err_init(&e);
	a = config_select(&cfg, NULL, "joe@example.com", &e);
	FUZZ_ASSERT(a != NULL ? a >= cfg.accounts && a < cfg.accounts + cfg.naccounts
			      : err_failed(&e),
	    "selection gives an account of the list, or says why");
	for (i = 0; i < cfg.naccounts; i++) {
		err_init(&e);
		FUZZ_ASSERT(config_select(&cfg, cfg.accounts[i].name, "", &e) == &cfg.accounts[i],
		    "-a selects the account named");
	}
	config_free(&cfg);
	return 0;
}

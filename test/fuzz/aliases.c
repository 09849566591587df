/*
 * aliases.c: an aliases file (message/aliases.c), written to a scratch file and read as
 * /etc/aliases would be; then every name the file seems to define, and a few usual ones,
 * expanded; then newaliases' check of the same file. Checked: the loader and the check
 * agree on what is an error and on the count, expansions give non-empty addresses, every
 * warning names its line, and the input as an address is qualified sensibly.
 *
 * No option byte: the input is the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "message/aliases.h"
#include "message/rfc5322.h"
#include "fuzz.h"

static const char *const local_domains[] = { "example.org", NULL };

static void
warn(void *ctx, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	FUZZ_ASSERT(file != NULL && msg != NULL && line > 0, "a warning names its line");
	FUZZ_ASSERT(strpbrk(msg, "\r\n") == NULL, "a warning is one line");
}

static void
expand(const struct aliases *t, const char *name)
{
	struct addrlist out;
	struct err e;
	size_t i;

	addrlist_init(&out);
	err_init(&e);
	if (aliases_expand(t, name, local_domains, &out, &e) == 0) {
		for (i = 0; i < out.n; i++)
			FUZZ_ASSERT(out.v[i][0] != '\0', "an expansion gives no empty address");
	} else
		FUZZ_ASSERT(err_failed(&e), "a failed expansion says why");
	addrlist_free(&out);
}

/* The name at the start of each line: what the file means to define. */
static void
expand_names(const struct aliases *t, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	char name[128];
	size_t n;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = strcspn(p, ": \t\n");
		if (n > 0 && p + n <= nl && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			expand(t, name);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct aliases *t;
	const char *path;
	struct err e;
	char *s, *q;
	int n;

	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		fuzz_fail(__FILE__, __LINE__, "cannot open /dev/null");
	path = fuzz_file("aliases", data, size);
	err_init(&e);
	t = aliases_load(path, warn, NULL, &e);
	FUZZ_ASSERT(t != NULL || err_failed(&e), "a refused file says why");
	if (t != NULL) {
		expand(t, "root");
		expand(t, "postmaster@localhost");
		expand(t, "MAILER-DAEMON");
		expand_names(t, data, size);
	}
	err_init(&e);
	n = aliases_check(path, null, &e);
	FUZZ_ASSERT(n >= 0 || err_failed(&e), "a failed check says why");
	FUZZ_ASSERT(t != NULL || n == -1, "what the loader refuses the check refuses");
	FUZZ_ASSERT(n == -1 || (t != NULL && (size_t)n == aliases_count(t)),
	    "the check counts what the loader loads");
	aliases_free(t);

	s = fuzz_str(data, size);
	q = aliases_qualify(s, "example.org");
	FUZZ_ASSERT(strncmp(q, s, strlen(s)) == 0, "qualifying only appends");
	if (aliases_is_local(s, local_domains) && strchr(s, '@') == NULL && s[0] != '\0')
		FUZZ_ASSERT(strcmp(q + strlen(s), "@example.org") == 0,
		    "a bare local name gets the domain");
	free(q);
	free(s);
	return 0;
}

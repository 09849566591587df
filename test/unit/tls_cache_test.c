/*
 * tls_cache_test.c: the TLS session cache file (tls_cache.h): a blob comes back only under
 * its own key, from a file of ours alone, while it is young enough.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/tls_cache.h"
#include "unit.h"

static int
loads(const char *path, const unsigned char key[32], const char *want)
{
	unsigned char *blob;
	size_t len;
	int ok;

	ok = tls_cache_load(path, key, &blob, &len) == 1 && len == strlen(want) &&
	    memcmp(blob, want, len) == 0;
	tls_cache_free(blob, len);
	return ok;
}

static int
none(const char *path, const unsigned char key[32])
{
	unsigned char *blob;
	size_t len;
	int r;

	r = tls_cache_load(path, key, &blob, &len);
	tls_cache_free(blob, len);
	return r == 0 && blob == NULL && len == 0;
}

int
main(void)
{
	char top[] = "/tmp/mailout-cache-test.XXXXXX", path[256], now[32], cmd[300];
	unsigned char key[32], other[32];
	const char *blob = "opaque session \x01\x02 bytes";
	struct stat st;

	if (mkdtemp(top) == NULL) {
		CHECK(0, "mkdtemp");
		UNIT_DONE();
	}
	memset(key, 0x5a, sizeof(key));
	memset(other, 0xa5, sizeof(other));
	snprintf(path, sizeof(path), "%s/tls-sessions/t.session", top);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	setenv("MAILOUT_NOW", now, 1);

	CHECK(none(path, key), "no file: nothing to offer");
	tls_cache_save(path, key, (const unsigned char *)blob, strlen(blob));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "saved 0600");
	snprintf(cmd, sizeof(cmd), "%s/tls-sessions", top);
	CHECK(stat(cmd, &st) == 0 && (st.st_mode & 0777) == 0700, "in a 0700 directory");
	CHECK(loads(path, key, blob), "the blob comes back under its key");
	CHECK(none(path, other), "not under another key");

	snprintf(now, sizeof(now), "%lld", (long long)time(NULL) + MAX_TLS_SESSION_AGE + 1);
	setenv("MAILOUT_NOW", now, 1);
	CHECK(none(path, key), "not when older than MAX_TLS_SESSION_AGE");
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL) - 3600);
	setenv("MAILOUT_NOW", now, 1);
	CHECK(none(path, key), "not when saved in the future");
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	setenv("MAILOUT_NOW", now, 1);

	CHECK(chmod(path, 0640) == 0 && none(path, key), "not from a file others may read");
	CHECK(chmod(path, 0600) == 0 && loads(path, key, blob), "0600 again: offered");

	tls_cache_save(path, other, (const unsigned char *)"new", 3);
	CHECK(loads(path, other, "new") && none(path, key), "a new save replaces the old");

	tls_cache_drop(path);
	CHECK(access(path, F_OK) == -1 && none(path, other), "dropped: gone");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	CHECK(system(cmd) == 0, "cleanup");
	UNIT_DONE();
}

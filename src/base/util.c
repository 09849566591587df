/*
 * util.c: memory, numbers, strings, files, clocks and who we run as. See util.h.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/path.h"
#include "base/util.h"

static void
oom(void)
{
	/* Nothing sensible can continue; the caller still holds the message (non-zero exit). */
	fputs("mailout: out of memory\n", stderr);
	_exit(EX_OSERR);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		oom();
	return p;
}

void
xfree_strv(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t len;
	uint64_t v, mult = 1;

	if (s == NULL || (len = strlen(s)) == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k': case 'K': mult = 1024ULL; break;
	case 'm': case 'M': mult = 1024ULL * 1024; break;
	case 'g': case 'G': mult = 1024ULL * 1024 * 1024; break;
	default: break;
	}
	if (mult != 1)
		num[len - 1] = '\0';
	if (parse_uint(num, 0, UINT64_MAX / mult, &v) == -1)
		return -1;
	*out = v * mult;
	return 0;
}

int
parse_bool(const char *s)
{
	static const char *yes[] = { "on", "yes", "true", "1" };
	static const char *no[] = { "off", "no", "false", "0" };
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

int
has_crlf(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

int
streq_ci(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int
startswith_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int
write_all(int fd, const void *p, size_t n)
{
	const char *d = p;
	ssize_t w;
	int ret = 0;

	while (n > 0 && ret == 0) {
		if ((w = write(fd, d, n)) == -1) {
			if (errno != EINTR)
				ret = -1;
			continue;
		}
		d += w;
		n -= (size_t)w;
	}
	return ret;
}

void
make_parents(const char *path)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			break;
		*s = '/';
	}
	free(p);
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_s(void)
{
	const char *fake = getenv("MAILOUT_NOW");
	uint64_t v;

	/* The tests' clock for backoff and expiry; never set in production. */
	if (fake != NULL && parse_uint(fake, 0, INT64_MAX, &v) == 0)
		return (int64_t)v;
	return (int64_t)time(NULL);
}

static struct passwd *
me(void)
{
	static struct passwd *pw;
	static int done;

	if (!done) {
		pw = getpwuid(getuid());
		done = 1;
	}
	return pw;
}

const char *
user_name(void)
{
	static char *name;
	char uid[32];
	struct passwd *pw;

	if (name == NULL) {
		if ((pw = me()) != NULL && pw->pw_name != NULL)
			name = xstrdup(pw->pw_name);
		else {
			snprintf(uid, sizeof(uid), "uid%lu", (unsigned long)getuid());
			name = xstrdup(uid);
		}
	}
	return name;
}

const char *
user_home(void)
{
	static char *home;
	struct passwd *pw;

	/* Whole, never cut: a cut home would be another directory. */
	if (home == NULL) {
		if ((pw = me()) != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/')
			home = xstrdup(pw->pw_dir);
		else
			home = xstrdup("/");
	}
	return home;
}

const char *
user_state_dir(void)
{
	static char *dir;
	const char *xdg = getenv("XDG_STATE_HOME");

	if (dir == NULL) {
		if (xdg != NULL && xdg[0] == '/' && getuid() == geteuid())
			dir = path_fmt("%s/mailout", xdg);
		else
			dir = path_fmt("%s/.local/state/mailout", user_home());
	}
	return dir;
}

const char *
host_name(void)
{
	static char name[MAX_DOMAIN + 1];
	struct addrinfo hints, *res = NULL;

	if (name[0] != '\0')
		return name;
	if (gethostname(name, sizeof(name) - 1) == -1 || name[0] == '\0')
		snprintf(name, sizeof(name), "localhost");
	name[sizeof(name) - 1] = '\0';
	if (strchr(name, '.') == NULL) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_CANONNAME;
		if (getaddrinfo(name, NULL, &hints, &res) == 0 && res != NULL &&
		    res->ai_canonname != NULL && strchr(res->ai_canonname, '.') != NULL)
			snprintf(name, sizeof(name), "%s", res->ai_canonname);
		if (res != NULL)
			freeaddrinfo(res);
	}
	return name;
}

/*
 * priv.c: system mode. See priv.h for what it means and its limit.
 *
 * Why setresgid and not setegid: the saved gid must stay the group (so the group can be
 * taken up again) and the real gid must stay the caller's (queue entries, log lines and
 * the envelope sender name the caller). setresgid(-1, x, -1) changes exactly the
 * effective gid, and with it the file-system gid.
 *
 * Why prctl after every change: the kernel resets the dumpable flag to fs.suid_dumpable
 * whenever the effective gid changes; on a machine where that is 1, a bracket would
 * otherwise leave the process open to the caller's ptrace and /proc/PID/mem.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/priv.h"
#include "base/mem.h"

/* The PATH of a sanitised environment: where sh and the usual tools are, nothing else. */
#define PRIV_PATH "/usr/bin:/bin"

static int system_mode;
static gid_t group = (gid_t)-1; /* the saved gid: the install's group */
static gid_t caller_gid; /* the real gid */
static int depth; /* priv_raise brackets open */

static void
fatal(const char *what)
{
	/* Going on with the wrong ids is worse than losing this run: the caller keeps the mail. */
	fprintf(stderr, "mailout: system mode: %s: %s\n", what, strerror(errno));
	_exit(EX_OSERR);
}

static void
not_dumpable(void)
{
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* A value the C library could take as a file name (locale or zone file). */
static int
names_file(const char *name, const char *val)
{
	if (strcmp(name, "TZ") == 0)
		return val[0] == '/' || (val[0] == ':' && val[1] == '/') ||
		    strstr(val, "..") != NULL;
	return strchr(val, '/') != NULL || strstr(val, "..") != NULL;
}

static int
keep_var(const char *name, const char *val)
{
	if (strncmp(name, "LC_", 3) != 0 && strcmp(name, "LANG") != 0 &&
	    strcmp(name, "LANGUAGE") != 0 && strcmp(name, "TZ") != 0)
		return 0;
	return !names_file(name, val);
}

/*
 * Keep only what a caller may choose for us: the language and the time zone. Nothing
 * else of the caller's environment reaches this process or the commands it starts
 * (XDG_*, HOME, TMPDIR, CREDENTIALS_DIRECTORY, DBUS_*; in a test build the hooks).
 */
static void
sanitise_env(void)
{
	extern char **environ;
	char **names = NULL, **vals = NULL, **ep;
	const char *eq;
	size_t n = 0, i;

	for (ep = environ; ep != NULL && *ep != NULL; ep++) {
		if ((eq = strchr(*ep, '=')) == NULL || eq == *ep)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n] = xstrndup(*ep, (size_t)(eq - *ep));
		if (!keep_var(names[n], eq + 1)) {
			free(names[n]);
			continue;
		}
		vals = xrealloc(vals, (n + 1) * sizeof(*vals));
		vals[n++] = xstrdup(eq + 1);
	}
	clearenv();
	setenv("PATH", PRIV_PATH, 1);
	for (i = 0; i < n; i++)
		setenv(names[i], vals[i], 1);
	xfree_strv(names, n);
	xfree_strv(vals, n);
}

/* A closed 0, 1 or 2 would be the number of the next file we open: stderr into a spool. */
static void
std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF && open("/dev/null", O_RDWR) == -1)
			fatal("cannot open /dev/null");
}

int
priv_init(void)
{
	struct rlimit rl = { 0, 0 };
	gid_t r, e, s;
	int rc = -1;

	if (getresgid(&r, &e, &s) == -1)
		goto out;
	if (e == r) {
		/* Not setgid, or the group is the caller's own: the per-user program. */
		rc = 0;
		goto out;
	}
	system_mode = 1;
	group = e;
	caller_gid = r;
	/* Before anything else can happen: no dump, no trace, no core with a secret in it. */
	not_dumpable();
	setrlimit(RLIMIT_CORE, &rl);
	if (setresgid((gid_t)-1, caller_gid, e) == -1)
		goto out;
	not_dumpable();
	std_fds();
	if (getuid() != 0)
		sanitise_env();
	rc = 0;
out:
	return rc;
}

int
priv_system(void)
{
	return system_mode;
}

int
priv_restricted(void)
{
	return system_mode && getuid() != 0;
}

gid_t
priv_group(void)
{
	return group;
}

/* Both keep errno: callers report the error of the operation they bracketed. */
void
priv_raise(void)
{
	int save = errno;

	if (!system_mode)
		return;
	if (depth++ == 0 && setresgid((gid_t)-1, group, (gid_t)-1) == -1)
		fatal("cannot take up the group");
	not_dumpable();
	errno = save;
}

void
priv_lower(void)
{
	int save = errno;

	if (!system_mode || depth == 0)
		return;
	if (--depth == 0) {
		if (setresgid((gid_t)-1, caller_gid, (gid_t)-1) == -1 || getegid() != caller_gid)
			fatal("cannot put the group down");
		not_dumpable();
	}
	errno = save;
}

int
priv_owns(uint64_t uid)
{
	return !priv_restricted() || uid == (uint64_t)getuid();
}

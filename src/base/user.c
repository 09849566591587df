/*
 * user.c: who we run as and where. See user.h.
 */
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/hooks.h"
#include "base/mem.h"
#include "base/path.h"
#include "base/user.h"

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

const char *
mail_name(void)
{
	static char name[MAX_DOMAIN + 1];
	static int done;
	FILE *f;
	size_t n;

	if (done)
		goto out;
	done = 1;
	if ((f = fopen(hooks_mailname("/etc/mailname"), "re")) == NULL)
		goto out;
	if (fgets(name, sizeof(name), f) == NULL)
		name[0] = '\0';
	fclose(f);
	n = strcspn(name, " \t\r\n");
	name[n] = '\0';
	/* A domain or nothing: the file is the administrator's, the name goes into mail. */
	if (name[strspn(name,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789.-")] != '\0' ||
	    name[0] == '.' || name[0] == '-')
		name[0] = '\0';
out:
	return name[0] != '\0' ? name : NULL;
}

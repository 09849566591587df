/*
 * cred.c: the credential chain. See cred.h.
 *
 * The order is the order of explicitness: a command or file named in the account beats a
 * literal password, and the keyring is asked only when the account names no secret at
 * all (so an msmtp user's stored entry just works).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/file.h"
#include "config/config.h"
#include "secrets/cred.h"
#include "base/err.h"
#include "secrets/keyring.h"
#include "base/priv.h"
#include "base/clock.h"
#include "base/hooks.h"
#include "base/mem.h"

/* A password command that has not answered in this long is waiting for something. */
#define CRED_COMMAND_TIMEOUT 30
/* Commands quoted in messages are cut to this many characters. */
#define CRED_QUOTE 200

const char *
cred_source_name(enum cred_source src)
{
	switch (src) {
	case CRED_COMMAND:
		return "password_command";
	case CRED_FILE:
		return "password_file";
	case CRED_LITERAL:
		return "password";
	case CRED_KEYRING:
		return "the keyring";
	default:
		return "nowhere";
	}
}

/* The first line of b as a new secret string, without CR; -1 if it is empty. */
static int
first_line(struct buf *b, char **secret)
{
	const char *s = buf_cstr(b);
	size_t n = strcspn(s, "\n");
	int rc = -1;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	/* A NUL inside would cut the password short without anyone noticing. */
	if (n > 0 && memchr(s, '\0', n) == NULL) {
		*secret = xstrndup(s, n);
		rc = 0;
	}
	return rc;
}

/* A grandchild that keeps the pipe open must not hold us: its whole group is killed. */
static void
kill_child(pid_t pid, int own_group)
{
	if (own_group)
		kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

int
cred_command(const char *cmd, int timeout_s, char **secret, struct err *e)
{
	struct buf out;
	struct pollfd pfd;
	char block[4096], quoted[CRED_QUOTE + 4];
	int pipefd[2] = { -1, -1 }, devnull, status = 0, own_group, fd, rc = -1;
	int64_t deadline;
	pid_t pid = -1, w;
	ssize_t n;

	*secret = NULL;
	buf_init_secret(&out, MAX_CRED_OUTPUT);
	snprintf(quoted, sizeof(quoted), "%.*s%s", CRED_QUOTE, cmd,
	    strlen(cmd) > CRED_QUOTE ? "..." : "");
	/* The test build may shorten it (hooks.h). */
	timeout_s = hooks_cred_timeout(timeout_s);
	/*
	 * With a terminal, stay in its foreground group so a command may prompt on it; without
	 * one, a group of its own lets a timeout kill everything the command started.
	 */
	if ((fd = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY)) != -1) {
		close(fd);
		own_group = 0;
	} else
		own_group = 1;
	if (pipe2(pipefd, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "password_command: cannot start it: %s",
		    strerror(errno));
		goto out;
	}
	if (pid == 0) {
		if (own_group)
			setpgid(0, 0);
		if ((devnull = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(devnull, STDIN_FILENO) == -1 || dup2(pipefd[1], STDOUT_FILENO) == -1)
			_exit(126);
		/* Nothing of ours (spool, sockets) leaks into the command. */
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (own_group)
		setpgid(pid, pid);
	close(pipefd[1]);
	pipefd[1] = -1;
	deadline = now_ms() + (int64_t)timeout_s * 1000;
	for (;;) {
		int64_t left = deadline - now_ms();

		if (left <= 0)
			goto timeout;
		pfd.fd = pipefd[0];
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, (int)left)) == 0)
			continue; /* the deadline is checked above */
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err_set(e, ERR_TEMP, CAUSE_OSERR, "password_command: poll: %s",
			    strerror(errno));
			goto kill;
		}
		if ((n = read(pipefd[0], block, sizeof(block))) == 0)
			break;
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			err_set(e, ERR_TEMP, CAUSE_OSERR, "password_command: read: %s",
			    strerror(errno));
			goto kill;
		}
		if (buf_add(&out, block, (size_t)n) == -1) {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "password_command `%s` printed more "
			    "than %d bytes: that is not a password",
			    quoted, MAX_CRED_OUTPUT);
			goto kill;
		}
	}
	/* Output is closed; the command may still linger. */
	while ((w = waitpid(pid, &status, WNOHANG)) == 0) {
		if (now_ms() >= deadline)
			goto timeout;
		poll(NULL, 0, 10);
	}
	if (w == -1) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "password_command: waitpid: %s",
		    strerror(errno));
		goto out;
	}
	pid = -1;
	if (WIFSIGNALED(status)) {
		err_set(e, ERR_TEMP, CAUSE_TEMP, "password_command `%s` was killed by signal %d",
		    quoted, WTERMSIG(status));
		goto out;
	}
	if (WEXITSTATUS(status) != 0) {
		/* 126, 127: the shell could not run it at all: fix the config. */
		err_set(e, WEXITSTATUS(status) >= 126 ? ERR_PERM : ERR_TEMP,
		    WEXITSTATUS(status) >= 126 ? CAUSE_CONFIG : CAUSE_TEMP,
		    "password_command `%s` exited with status %d%s", quoted, WEXITSTATUS(status),
		    WEXITSTATUS(status) == 127       ? " (command not found)"
			: WEXITSTATUS(status) == 126 ? " (cannot execute)"
						     : "");
		goto out;
	}
	if (first_line(&out, secret) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "password_command `%s` printed no password "
		    "on its first line",
		    quoted);
		goto out;
	}
	rc = 0;
	goto out;
timeout:
	err_set(e, ERR_TEMP, CAUSE_TEMP,
	    "password_command `%s` did not finish within %d s: "
	    "it was killed",
	    quoted, timeout_s);
kill:
	kill_child(pid, own_group);
	pid = -1;
out:
	explicit_bzero(block, sizeof(block));
	if (pid > 0)
		kill_child(pid, own_group);
	if (pipefd[0] != -1)
		close(pipefd[0]);
	if (pipefd[1] != -1)
		close(pipefd[1]);
	buf_free(&out);
	return rc;
}

/* systemd's LoadCredential= files: their owner and mode are the service manager's. */
static int
systemd_credential(const char *path)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");

	return strncmp(path, "/run/credentials/", 17) == 0 ||
	    (dir != NULL && dir[0] == '/' && strncmp(path, dir, strlen(dir)) == 0 &&
		path[strlen(dir)] == '/');
}

/*
 * Open the secret file that key names, holding the group in system mode (the secret is
 * the group's, in /etc/mailout: it opens it, nothing more), and check it: a regular
 * file; one every user can read gets a warning on stderr, or, with refuse, an error.
 * Group read is how system mode shares a secret with mailout's group: no warning.
 */
static int
secret_open(const char *path, const char *key, int refuse, int *fdp, struct err *e)
{
	const struct group *gr;
	struct stat st;
	int fd, rc = -1;

	priv_raise();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	priv_lower();
	if (fd == -1 && errno == EACCES && priv_system() &&
	    (gr = getgrgid(priv_group())) != NULL) {
		/* A file the admin made root-only (chmod 600): the exact fix, not only EACCES. */
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "%s %s: %s; in system mode the "
		    "group %s must be able to read it: chown root:%s %s; chmod 640 %s",
		    key, path, strerror(EACCES), gr->gr_name, gr->gr_name, path, path);
		goto out;
	}
	if (fd == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "%s %s: %s", key, path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "%s %s: not a regular file", key, path);
		goto out;
	}
	/*
	 * password_file: warn, not refuse: refusing would turn a working setup into lost
	 * mail under cron. The OAuth2 keys are new: no setup relies on a readable one.
	 */
	if ((st.st_mode & S_IROTH) && !systemd_credential(path)) {
		if (refuse) {
			if (priv_system() && (gr = getgrgid(priv_group())) != NULL)
				err_set(e, ERR_PERM, CAUSE_CONFIG,
				    "%s %s can be read by every user (mode %04o): chown "
				    "root:%s %s; chmod 640 %s",
				    key, path, (unsigned)(st.st_mode & 07777), gr->gr_name, path,
				    path);
			else
				err_set(e, ERR_PERM, CAUSE_CONFIG,
				    "%s %s can be read by every user (mode %04o): chmod 600 %s",
				    key, path, (unsigned)(st.st_mode & 07777), path);
			goto out;
		}
		fprintf(stderr,
		    "mailout: warning: %s %s can be read by every user "
		    "(mode %04o): chmod o-r %s\n",
		    key, path, (unsigned)(st.st_mode & 07777), path);
	}
	*fdp = fd;
	fd = -1;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

int
cred_file(const char *path, char **secret, struct err *e)
{
	struct buf b;
	int fd = -1, rc = -1;

	*secret = NULL;
	buf_init_secret(&b, MAX_SECRET + 2);
	if (secret_open(path, "password_file", 0, &fd, e) == -1)
		goto out;
	if (read_capped(fd, &b, 1) == -1) {
		if (errno == EFBIG)
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "password_file %s: the first line is "
			    "longer than %d bytes",
			    path, MAX_SECRET);
		else
			err_set(e, ERR_PERM, CAUSE_CONFIG, "password_file %s: %s", path,
			    strerror(errno));
		goto out;
	}
	if (first_line(&b, secret) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "password_file %s: the first line is empty",
		    path);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	buf_free(&b);
	return rc;
}

int
cred_file_all(const char *path, const char *key, int secret, struct buf *out, struct err *e)
{
	int fd = -1, rc = -1;

	if (secret_open(path, key, secret, &fd, e) == -1)
		goto out;
	if (read_capped(fd, out, 0) == -1) {
		if (errno == EFBIG)
			err_set(e, ERR_PERM, CAUSE_CONFIG, "%s %s: larger than %zu bytes", key,
			    path, out->max);
		else
			err_set(e, ERR_PERM, CAUSE_CONFIG, "%s %s: %s", key, path,
			    strerror(errno));
		goto out;
	}
	if (out->len == 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "%s %s: the file is empty", key, path);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

static int
from_keyring(const struct account *a, char **secret, struct err *e)
{
	struct err ke;
	int rc = -1, r;

	err_init(&ke);
	if (a->user == NULL || a->user[0] == '\0') {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s has no password: set "
		    "password_command, password_file or password, or set user and store the "
		    "password in the keyring with mailout --store-password -a %s",
		    a->name, a->name);
		goto out;
	}
	if ((r = keyring_lookup(a->host, "smtp", a->user, secret, &ke)) == 1) {
		rc = 0;
		goto out;
	}
	if (r == 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s has no password_command, "
		    "password_file or password, and the keyring has no password for user %s at "
		    "host %s (service smtp); store one with mailout --store-password -a %s, or "
		    "set password_command or password_file",
		    a->name, a->user, a->host, a->name);
		goto out;
	}
	if (ke.kind == ERR_TEMP)
		err_set(e, ke.kind, ke.cause,
		    "account %s has no password_command, "
		    "password_file or password, and %s; set password_command or password_file, "
		    "or store the password with mailout --store-password -a %s from a desktop "
		    "session and run the queue there",
		    a->name, ke.msg, a->name);
	else
		err_set(e, ke.kind, ke.cause,
		    "account %s has no password_command, "
		    "password_file or password, and %s",
		    a->name, ke.msg);
out:
	return rc;
}

/*
 * System mode (priv.h) takes its secrets from files only. A password_command would run
 * with the caller's ids and environment and the group's saved gid: neither the caller's
 * tool (it cannot read the group's secrets) nor safely the group's; root's runs are fine.
 * The keyring needs the caller's session bus, which GLib refuses a setgid program.
 */
static int
system_refuses(const struct account *a, enum cred_source src, struct err *e)
{
	int rc = 0;

	/* password_command: the caller adds "account NAME: ". */
	if (src == CRED_COMMAND && priv_restricted())
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "password_command is not run in system "
		    "mode (the binary is setgid) for users other than root; put the password "
		    "in a file in " SYSCONFDIR "/mailout (mode 0640, the binary's group) and "
		    "set password_file");
	else if (src == CRED_KEYRING && priv_system())
		rc = err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "account %s has no password_file: in "
		    "system mode (the binary is setgid) the keyring is not used; put the "
		    "password in a file in " SYSCONFDIR "/mailout (mode 0640, the binary's "
		    "group) and set password_file",
		    a->name);
	return rc;
}

int
cred_get(const struct account *a, char **secret, enum cred_source *src, struct err *e)
{
	int rc = -1;

	*secret = NULL;
	*src = CRED_NONE;
	if (a->password_command != NULL && a->password_command[0] != '\0') {
		*src = CRED_COMMAND;
		if (system_refuses(a, *src, e) == 0)
			rc = cred_command(a->password_command, CRED_COMMAND_TIMEOUT, secret, e);
	} else if (a->password_file != NULL && a->password_file[0] != '\0') {
		*src = CRED_FILE;
		rc = cred_file(a->password_file, secret, e);
	} else if (a->password != NULL) {
		*src = CRED_LITERAL;
		*secret = xstrdup(a->password);
		rc = 0;
	} else {
		*src = CRED_KEYRING;
		if (system_refuses(a, *src, e) == 0)
			rc = from_keyring(a, secret, e); /* its messages name the account */
	}
	if (rc == -1 && *src != CRED_KEYRING)
		err_prefix(e, "account %s: ", a->name);
	return rc;
}

/*
 * prompt.c: asking for a password at the terminal. See prompt.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/prompt.h"

/*
 * The terminal's settings while echo is off, for the signal handler to restore them:
 * a signal handler has no context but globals. Set only inside prompt_password.
 */
static struct termios tty_saved;
static int tty_fd = -1;

static void
tty_restore(int sig)
{
	if (tty_fd != -1)
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

int
prompt_line(int fd, struct buf *b)
{
	char c = 0;
	ssize_t n;
	int rc = 0;

	for (;;) {
		n = read(fd, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			rc = -1;
		if (n <= 0 || c == '\n' || rc == -1)
			break;
		if (buf_addc(b, c) == -1) {
			rc = -1;
			break;
		}
	}
	explicit_bzero(&c, sizeof(c));
	return rc;
}

int
prompt_ask(int fd, FILE *out, struct buf *b, const char *fmt, ...)
{
	va_list ap;
	ssize_t n;
	char c = 0;
	int got = 0, rc = -1;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fflush(out);
	buf_reset(b);
	for (;;) {
		n = read(fd, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0 || c == '\n')
			break;
		got = 1;
		if (buf_addc(b, c) == -1)
			goto out;
	}
	/* An empty line is an answer (take the default); the end of input is none. */
	if (n == 0 && !got) {
		rc = 0;
		goto out;
	}
	if (b->len > 0 && b->data[b->len - 1] == '\r')
		b->data[--b->len] = '\0';
	rc = 1;
out:
	return rc;
}

int
prompt_password(struct buf *b, struct err *e, const char *fmt, ...)
{
	struct termios t;
	struct sigaction sa, old_int, old_term, old_hup;
	va_list ap;
	int fd, rc = -1, changed = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1) {
		err_set(e, ERR_PERM, CAUSE_USAGE, "cannot open the terminal: %s", strerror(errno));
		goto out;
	}
	va_start(ap, fmt);
	vdprintf(fd, fmt, ap);
	va_end(ap);
	if (tcgetattr(fd, &tty_saved) == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = tty_restore;
		sigemptyset(&sa.sa_mask);
		tty_fd = fd;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		sigaction(SIGHUP, &sa, &old_hup);
		t = tty_saved;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		t.c_lflag |= ICANON;
		changed = tcsetattr(fd, TCSAFLUSH, &t) == 0;
	}
	rc = prompt_line(fd, b);
	if (changed)
		tcsetattr(fd, TCSAFLUSH, &tty_saved);
	if (tty_fd != -1) {
		tty_fd = -1;
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGHUP, &old_hup, NULL);
	}
	dprintf(fd, "\n");
	if (rc == -1)
		err_set(e, ERR_PERM, CAUSE_USAGE,
		    "could not read the password from the "
		    "terminal (at most %zu bytes)",
		    b->max);
out:
	if (fd != -1)
		close(fd);
	return rc;
}

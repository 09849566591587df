/*
 * log.c: one line per event to syslog and/or a log file. See log.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/log.h"

static int	 log_facility = -1;
static int	 log_fd = -1;
static char	 log_ident[32] = "mailout";

void
log_init(const char *ident, int facility, const char *logfile)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_facility = facility;
	if (facility >= 0)
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	if (logfile != NULL && logfile[0] != '\0') {
		log_fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (log_fd == -1)
			fprintf(stderr, "mailout: warning: cannot open log file %s: %s "
			    "(check logfile = in the config)\n", logfile, strerror(errno));
	}
}

/* Belt and braces: nothing after "AUTH <mech> " may reach a log, whoever wrote the line. */
static void
mask_auth(char *s)
{
	char *p = s, *q;

	while ((p = strstr(p, "AUTH ")) != NULL) {
		p += 5;
		while (*p != '\0' && *p != ' ' && *p != '"')
			p++;
		if (*p != ' ')
			continue;
		p++;
		for (q = p; *q != '\0' && *q != '"' && *q != ' '; q++)
			*q = '*';
	}
}

void
log_line(int prio, const char *fmt, ...)
{
	char line[MAX_ERROR_TEXT * 4], stamp[64];
	struct tm tm;
	time_t t;
	va_list ap;
	size_t i;
	int n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = ' ';
	mask_auth(line);
	if (log_facility >= 0)
		syslog(prio, "%s", line);
	if (log_fd != -1) {
		t = time(NULL);
		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", &tm);
		/* One write per line with O_APPEND keeps concurrent senders' lines whole. */
		char out[sizeof(line) + 128];
		n = snprintf(out, sizeof(out), "%s %s[%ld]: %s\n", stamp, log_ident,
		    (long)getpid(), line);
		if (n > 0 && write(log_fd, out, (size_t)n < sizeof(out) ? (size_t)n :
		    sizeof(out) - 1) == -1) {
			/* Nowhere else to say it: stderr may be /dev/null. */
		}
	}
}

void
log_close(void)
{
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
	if (log_facility >= 0)
		closelog();
	log_facility = -1;
}

const char *
log_join(struct buf *b, char *const *v, size_t n)
{
	const char *s = "(too many addresses to list)";

	buf_reset(b);
	if (buf_addjoin(b, v, n, ",") == 0)
		s = buf_cstr(b);
	else {
		buf_reset(b);
		if (buf_addf(b, "(%zu addresses, too many to list)", n) == 0)
			s = buf_cstr(b);
	}
	return s;
}

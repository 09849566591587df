/*
 * log.c: one line per event to syslog and/or a log file. See log.h.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <paths.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/priv.h"

/* getpwuid_r's scratch space: one passwd line (glibc asks for 1 KiB; LDAP ones run longer). */
#define LOG_PWBUF 16384

static int log_facility = -1;
static int log_fd = -1;
static char log_ident[32] = "mailout";
/*
 * Why a configured target cannot take lines (0: it can, or it is not configured), for
 * the one warning of a run that would otherwise lose its lines without a word.
 */
static int log_syslog_errno;
static int log_file_errno;
static char log_file_name[256];
static int log_warned;

/*
 * glibc's syslog() drops lines without a word when nothing listens on /dev/log (a
 * container, a chroot, a minimal system): connect the way it does, once, to know.
 * Returns 0 or an errno.
 */
static int
syslog_probe(void)
{
	struct sockaddr_un sun;
	int fd, err = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		err = errno;
		/* A stream socket (some syslog daemons): glibc tries that too. */
		close(fd);
		if (err == EPROTOTYPE &&
		    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
			err = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ? errno : 0;
			close(fd);
		}
		return err;
	}
	close(fd);
	return 0;
}

/*
 * The log file, created when missing. In system mode every user's sendmail appends to it
 * with the group: one it creates is group-writable (root:GROUP 0660 when root or the
 * timer made it first), whatever the umask.
 */
static int
open_logfile(const char *path)
{
	struct stat sb;
	int fd, created = 0;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		    0600);
		created = fd != -1;
		/* Another process created it between the two opens: append to theirs. */
		if (fd == -1 && errno == EEXIST)
			fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	}
	if (created && priv_system() && fstat(fd, &sb) == 0 &&
	    (sb.st_gid != priv_group() && fchown(fd, (uid_t)-1, priv_group()) == -1))
		created = 0;
	/* Not group-writable: the users' lines are lost, and each send says so. */
	if (created && priv_system() && fchmod(fd, 0660) == -1)
		created = 0;
	return fd;
}

/* What to do about a log file that cannot be opened in system mode: the exact commands. */
static const char *
log_fix(const char *path)
{
	static char fix[MAX_PATH * 2 + 160];
	const struct group *gr;

	if (!priv_system() || log_file_errno != EACCES || (gr = getgrgid(priv_group())) == NULL)
		return " (check logfile = in the config)";
	snprintf(fix, sizeof(fix),
	    " (every user's sendmail writes it with the group %s: "
	    "chown root:%s %s; chmod 660 %s)",
	    gr->gr_name, gr->gr_name, path, path);
	return fix;
}

void
log_init(const char *ident, int facility, const char *logfile)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_facility = facility;
	log_syslog_errno = log_file_errno = 0;
	log_file_name[0] = '\0';
	log_warned = 0;
	if (facility >= 0) {
		log_syslog_errno = syslog_probe();
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	}
	if (logfile != NULL && logfile[0] != '\0') {
		snprintf(log_file_name, sizeof(log_file_name), "%s", logfile);
		log_fd = open_logfile(logfile);
		if (log_fd == -1)
			log_file_errno = errno;
		/* Lines still reach syslog: say it now, the configuration needs a look. */
		if (log_fd == -1 && facility >= 0 && log_syslog_errno == 0)
			fprintf(stderr, "mailout: warning: cannot open log file %s: %s%s\n",
			    logfile, strerror(log_file_errno), log_fix(logfile));
	}
}

/*
 * A line that no configured target took: once per run, on stderr (never stdout: -bs
 * speaks SMTP there). Nothing is configured (syslog = off, no logfile): the
 * administrator's choice, no warning.
 */
static void
lost_line(void)
{
	char sys[128] = "", file[3 * sizeof(log_file_name) + 256] = "";

	if (log_warned || (log_facility < 0 && log_file_name[0] == '\0'))
		return;
	log_warned = 1;
	if (log_facility >= 0)
		snprintf(sys, sizeof(sys), "syslog (%s: %s)", _PATH_LOG,
		    strerror(log_syslog_errno));
	if (log_file_name[0] != '\0')
		snprintf(file, sizeof(file), "%s (%s%s)", log_file_name, strerror(log_file_errno),
		    log_file_errno == EACCES && priv_system() ? log_fix(log_file_name) : "");
	fprintf(stderr,
	    "mailout: warning: cannot log to %s%s%s; messages' fates are not "
	    "recorded (see syslog and logfile in sendmail.conf(5))\n",
	    sys, sys[0] != '\0' && file[0] != '\0' ? " nor to " : "", file);
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
	int n, taken = 0;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = ' ';
	mask_auth(line);
	if (log_facility >= 0 && log_syslog_errno == 0) {
		syslog(prio, "%s", line);
		taken = 1;
	}
	if (log_fd != -1) {
		t = time(NULL);
		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", &tm);
		/* One write per line with O_APPEND keeps concurrent senders' lines whole. */
		char out[sizeof(line) + 128];
		n = snprintf(out, sizeof(out), "%s %s[%ld]: %s\n", stamp, log_ident,
		    (long)getpid(), line);
		if (n > 0 &&
		    write(log_fd, out, (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1) ==
			-1)
			log_file_errno = errno;
		else
			taken = 1;
	}
	if (!taken)
		lost_line();
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

const char *
log_user(char *buf, size_t n, uint64_t uid)
{
	struct passwd pw, *res = NULL;
	char pwbuf[LOG_PWBUF];

	/* getpwuid_r, not getpwuid: a caller may hold user_name()'s static result. */
	if (getpwuid_r((uid_t)uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res != NULL &&
	    res->pw_name[0] != '\0')
		snprintf(buf, n, "user=%s uid=%llu", res->pw_name, (unsigned long long)uid);
	else
		snprintf(buf, n, "user=%llu uid=%llu", (unsigned long long)uid,
		    (unsigned long long)uid);
	return buf;
}

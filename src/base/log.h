/*
 * log.h: one line per event to syslog and/or the configured log file. Never a secret:
 * callers pass no secret; log_line also masks anything after "AUTH " defensively.
 */
#ifndef MAILOUT_LOG_H
#define MAILOUT_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

/*
 * facility: LOG_MAIL etc., or -1 for no syslog; logfile: path or NULL. When a target is
 * configured but no configured target can take a line (nothing listens on /dev/log, the
 * log file cannot be opened or written), the first such line of the run prints one
 * warning on stderr (never stdout) saying that messages' fates are not recorded.
 */
void log_init(const char *ident, int facility, const char *logfile);
void log_line(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_close(void);

struct buf;

/* Room for log_user's text: a login name (at most 32 on Linux) and two numbers. */
#define LOG_USER_LEN 96

/*
 * "user=NAME uid=N" for the local user uid (the number in place of the name when it has
 * none), in buf, for the log line of a message: who submitted it, also when the queue
 * runner (root) sends it. Never NULL.
 */
const char *log_user(char *buf, size_t n, uint64_t uid);

/*
 * The n strings of v joined by ',' in b (reset first), for a log line; when they do not
 * fit, a count in their place ("(1234 addresses, too many to list)"). Never NULL.
 */
const char *log_join(struct buf *b, char *const *v, size_t n);

#endif

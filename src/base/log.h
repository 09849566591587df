/*
 * log.h: one line per event to syslog and/or the configured log file. Never a secret:
 * callers pass no secret; log_line also masks anything after "AUTH " defensively.
 */
#ifndef MAILOUT_LOG_H
#define MAILOUT_LOG_H

#include <syslog.h>

/* facility: LOG_MAIL etc., or -1 for no syslog; logfile: path or NULL. */
void	log_init(const char *ident, int facility, const char *logfile);
void	log_line(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	log_close(void);

#endif

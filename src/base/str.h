/*
 * str.h: string predicates, ASCII only (no locale).
 */
#ifndef MAILOUT_STR_H
#define MAILOUT_STR_H

/* 1 if s (may be NULL) contains a CR or an LF: it must not reach a command or header line. */
int has_crlf(const char *s);
/* Case-insensitive ASCII equality / prefix. */
int streq_ci(const char *a, const char *b);
int startswith_ci(const char *s, const char *prefix);

#endif

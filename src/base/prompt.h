/*
 * prompt.h: asking the person at the terminal for a password: the question on /dev/tty,
 * echo off while they type it (and back on if SIGINT, SIGTERM or SIGHUP ends the process
 * meanwhile), one line read; and reading one line from a descriptor without taking more.
 */
#ifndef MAILOUT_PROMPT_H
#define MAILOUT_PROMPT_H

#include <stdio.h>

#include "base/attr.h"

struct buf;
struct err;

/*
 * Print the question (fmt...) on /dev/tty and read the answer into b (a secret buffer;
 * without the newline) with echo off. 0, or -1 with err (PERM CAUSE_USAGE): no terminal,
 * a read error, or an answer longer than b's max.
 */
int prompt_password(struct buf *b, struct err *e, const char *fmt, ...) MUST_CHECK
    __attribute__((format(printf, 3, 4)));

/*
 * A question with a visible answer: print it (fmt...) on out and read one line from fd
 * into b (reset first; without the newline and a CR before it). 1 answered (perhaps
 * with nothing), 0 at end of input with nothing typed, -1 on a read error or an answer
 * longer than b's max.
 */
int prompt_ask(int fd, FILE *out, struct buf *b, const char *fmt, ...) MUST_CHECK
    __attribute__((format(printf, 4, 5)));

/*
 * Read one line from fd into b (without the newline), a byte at a time so that nothing
 * past it is consumed. 0 (also at end of input), or -1 on a read error or a line longer
 * than b's max.
 */
int prompt_line(int fd, struct buf *b) MUST_CHECK;

#endif

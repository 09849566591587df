/*
 * file.h: files and directories: writing all of a buffer, reading a small file whole
 * within a cap, making the directories a file
 * goes in (the one mkdir -p: the queue, the spool, the TLS session cache and the OAuth2
 * token files all use it).
 */
#ifndef MAILOUT_FILE_H
#define MAILOUT_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "base/attr.h"

struct buf;

/* Write all n bytes to fd, going on through EINTR. 0, or -1 with errno set. */
int write_all(int fd, const void *p, size_t n);

/*
 * Append what fd holds to b, going on through EINTR: to the end of the file or, with
 * line set, until b holds a newline (the first line of a secret file; what follows it
 * may be read too). b's max is the cap: a file that does not fit (with line: b full and
 * no newline in it) is an error. The bytes pass through a block on the stack that is
 * wiped (b may be a secret). 0, or -1 with errno set: EFBIG over the cap, else read's.
 */
int read_capped(int fd, struct buf *b, int line) MUST_CHECK;

/*
 * mkdir -p: dir and every missing directory above it, each made with mode and then
 * chmod'ed to it (the umask must not take what a shared queue's group needs, and mkdir
 * does not set S_ISGID itself); directories that exist are left as they are. 0 when dir
 * is a directory at the end, else -1 with errno set.
 */
int make_dirs(const char *dir, mode_t mode) MUST_CHECK;

/*
 * make_dirs for the directory that holds path (all before its last '/'; nothing when
 * path has none). Callers may ignore the result: opening the file shows what went wrong.
 */
int make_parents(const char *path, mode_t mode);

#endif

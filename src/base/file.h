/*
 * file.h: files and directories: writing all of a buffer, making the directories a file
 * goes in (the one mkdir -p: the queue, the spool, the TLS session cache and the OAuth2
 * token files all use it).
 */
#ifndef MAILOUT_FILE_H
#define MAILOUT_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "base/attr.h"

/* Write all n bytes to fd, going on through EINTR. 0, or -1 with errno set. */
int write_all(int fd, const void *p, size_t n);

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

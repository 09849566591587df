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
#include <sys/uio.h>

#include "base/attr.h"

struct buf;

/*
 * The block to read fd through: IO_BLOCK, or for a regular file that holds less, just
 * over its size (at least FILE_BLOCK), so that a small message costs a small buffer in a
 * long-lived process (a -bd worker keeps the heap pages it touched). Only a size: every
 * loop reads until read says the end, so a file that grows is still read whole.
 */
size_t io_block_for(int fd);

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

/* file_beside and file_replace: fsync the file before it is closed. */
#define FILE_SYNC 1
/* file_replace: fsync the directory too, so that the rename survives a power cut. */
#define FILE_SYNC_DIR 2
/* Where file_replace failed: making the new file, writing it, renaming it over path. */
enum file_step { FILE_CREATE = 1, FILE_WRITE, FILE_RENAME };

/*
 * Write the n parts of iov into a new file beside path: a hidden temporary in the same
 * directory (".NAME.XXXXXX", mkostemp: 0600 whatever the umask), given uid:gid first when
 * uid is not (uid_t)-1, then mode (a chown clears set-id bits; until the chmod the file
 * is 0600), written, with FILE_SYNC fsync'd, closed. 0 with *tmp its name (the caller's:
 * rename or unlink it, then free), or -1 with errno set, nothing left behind and *step
 * (when not NULL) FILE_CREATE or FILE_WRITE.
 */
int file_beside(const char *path, const struct iovec *iov, int n, mode_t mode, uid_t uid,
    gid_t gid, int flags, char **tmp, enum file_step *step) MUST_CHECK;

/*
 * Replace path atomically: file_beside, then rename over path, then with FILE_SYNC_DIR
 * fsync its directory. 0, or -1 with errno set, nothing left behind and *step (when not
 * NULL) saying which step failed.
 */
int file_replace(const char *path, const struct iovec *iov, int n, mode_t mode, uid_t uid,
    gid_t gid, int flags, enum file_step *step) MUST_CHECK;

/* fsync the directory that holds path (best effort: a rename in it survives a power cut). */
void sync_parent(const char *path);

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

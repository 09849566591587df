/*
 * path.h: file names built from parts (a directory from the environment or the config,
 * an id, a suffix), whole or not at all.
 *
 * Every place that builds a path goes through path_fmt: a name that does not fit in
 * MAX_PATH is an error the caller reports, never a truncated name that would open,
 * create or remove some other file.
 */
#ifndef MAILOUT_PATH_H
#define MAILOUT_PATH_H

#include "base/attr.h"

/*
 * The path fmt describes, as a new string the caller frees (or hands to mkostemp, which
 * may write into it). NULL with errno ENAMETOOLONG when it would take more than
 * MAX_PATH bytes with its NUL.
 */
char *path_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2))) MUST_CHECK;

/*
 * name as one safe file name component, a new string the caller frees: every byte other
 * than A-Z a-z 0-9 '-' '.' becomes '_' (config section names may hold anything).
 */
char *path_name(const char *name) MUST_CHECK;

#endif

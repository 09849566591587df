/*
 * confedit.h: changing sendmail.conf as a careful person would with an editor, for
 * --configure and --import: one section's keys set or removed, every other byte of the
 * file (comments, blank lines, other accounts, the spelling of untouched lines) kept.
 *
 * The text is read the way iniparser reads it (config.c's parser): a line is a section
 * header "[name]", a "key = value" line, a comment (';' or '#' first), a blank line; a
 * line that ends in '\' goes on on the next one. Section and key names compare without
 * case, as iniparser lowercases them.
 *
 * Files: the new text is written to a temporary file beside the old one (its owner,
 * group and mode; a new file gets the mode asked for), flushed to disk, and only then,
 * by confedit_commit, renamed over it: a reader sees the old file or the new one, never
 * a part. The old file is first kept as FILE.bak (one generation, same owner and mode).
 */
#ifndef MAILOUT_CONFEDIT_H
#define MAILOUT_CONFEDIT_H

#include <stddef.h>
#include <sys/types.h>

#include "base/attr.h"

struct buf;
struct err;

struct confedit_kv {
	const char *key; /* lower case */
	const char *value; /* NULL: remove every line of this key */
};

/*
 * The sections of text, in the order of their first header, lower case, without
 * repeats ("defaults" included when present): *names (n strings, free with
 * xfree_strv).
 */
void confedit_sections(const char *text, size_t len, char ***names, size_t *n);

/*
 * The value of key in section as iniparser reads it (the last line wins, quotes
 * removed), appended to out. 1 found, 0 not there, -1 when it does not fit out.
 */
int confedit_get(const char *text, size_t len, const char *section, const char *key,
    struct buf *out) MUST_CHECK;

/*
 * text with section's keys set as kv says, into out (reset first). A key that is
 * there has its value replaced on its own line (the spacing around '=' and a comment
 * after the value are kept; the lines of a key written more than once all get it); a
 * key that is not there is added after the section's last key; a NULL value removes
 * the key's lines. A section that is not there is appended at the end after a blank
 * line. New lines end as the file's first line does (LF or CRLF).
 * 0, or -1 with err (PERM CAUSE_CONFIG): a value iniparser could not read back (a line
 * break, both kinds of quote with a ';' or '#', a line over its length), or too long.
 */
int confedit_set(const char *text, size_t len, const char *section, const struct confedit_kv *kv,
    size_t n, struct buf *out, struct err *e) MUST_CHECK;

/*
 * value as it must be written after "key = " for iniparser to read it back whole:
 * bare, or in double or single quotes (a ';' or '#', spaces at either end, a leading
 * quote, a trailing '\'). 0, or -1 when it cannot be written (CR, LF, NUL, or a ';'
 * or '#' with both quotes) or does not fit out.
 */
int confedit_quote(const char *value, struct buf *out) MUST_CHECK;

/*
 * Read path whole into text (reset first). 1 read, 0 the file does not exist (text
 * empty), -1 with err (PERM CAUSE_CONFIG: not a regular file, too large, unreadable).
 */
int confedit_read(const char *path, struct buf *text, struct err *e) MUST_CHECK;

/*
 * Write text to a new temporary file beside path (".NAME.XXXXXX"), with the owner,
 * group and mode of path when it exists, else mode; flushed to disk. 0 with *tmp (the
 * caller passes it to confedit_commit or confedit_discard), or -1 with err (TEMP
 * CAUSE_CANTCREAT or CAUSE_IOERR; nothing is left behind).
 */
int confedit_stage(const char *path, const char *text, size_t len, mode_t mode, char **tmp,
    struct err *e) MUST_CHECK;

/*
 * Put tmp in path's place. old is what path held when it was read (NULL when there was
 * no file): if path holds anything else now (someone edited it meanwhile) nothing is
 * changed and err says so. Otherwise old is written to path.bak first (*backup gets
 * its name, or NULL when there was no old file), then tmp is renamed over path and the
 * directory is flushed. 0, or -1 with err; tmp is gone either way.
 */
int confedit_commit(const char *path, char *tmp, const struct buf *old, char **backup,
    struct err *e) MUST_CHECK;

/* Remove a staged file and free its name. NULL is fine. */
void confedit_discard(char *tmp);

#endif

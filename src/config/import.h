/*
 * import.h: another mail agent's settings, in sendmail.conf's words: accounts (each a
 * list of keys), [defaults] keys, the passwords the old files held, and a note for
 * every setting that has no equivalent, saying why.
 *
 * One parser per format, each in its own file and pure (text in, struct import out):
 *   msmtprc.c     ~/.msmtprc, /etc/msmtprc
 *   ssmtp.c       /etc/ssmtp/ssmtp.conf and revaliases
 *   dma.c         /etc/dma/dma.conf and auth.conf
 *   nullmailer.c  /etc/nullmailer/remotes, defaulthost, defaultdomain, adminaddr, me
 * Every value is taken as text; config.c checks it when the result is loaded.
 */
#ifndef MAILOUT_IMPORT_H
#define MAILOUT_IMPORT_H

#include <stddef.h>

#include "base/attr.h"

struct buf;
struct err;

struct import_kv {
	char *key;
	char *value;
};

struct import_account {
	char *name; /* a valid section name */
	struct import_kv *kv; /* in the order set */
	size_t nkv;
	char *secret; /* a password the old file held (wiped) */
};

struct import {
	const char *format; /* "msmtp", "ssmtp", "dma", "nullmailer" */
	struct import_account *acc;
	size_t nacc;
	struct import_kv *defaults; /* [defaults] keys */
	size_t ndefaults;
	char **notes; /* "setting: why it is not carried over" */
	size_t nnotes;
};

/*
 * The account named name (made a valid section name: other characters become '-', at
 * most MAX_ACCOUNT_NAME), added at the end if new. NULL past MAX_IMPORT_ACCOUNTS.
 */
struct import_account *import_account(struct import *im, const char *name);
/* Set key (replacing its value where it is, else at the end); NULL removes it. */
void import_set(struct import_account *a, const char *key, const char *value);
/* The value of key, or NULL. */
const char *import_get(const struct import_account *a, const char *key);
/* A [defaults] key, set as import_set does. */
void import_default(struct import *im, const char *key, const char *value);
/* A note for people, one line. */
void import_note(struct import *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void import_free(struct import *im);

/*
 * The next line of text at *p (up to end) into line (reset first), without its line
 * break or a CR before it; *p moves past it. 1, or 0 at the end. A line longer than
 * line's max is cut there (its rest is skipped): a real setting is never that long.
 */
int import_line(const char **p, const char *end, struct buf *line);

/* The parsers. Each returns 0, or -1 with err (PERM CAUSE_DATA) naming the line. */
int msmtprc_parse(const char *text, size_t len, struct import *im, struct err *e) MUST_CHECK;
int ssmtp_parse(const char *conf, size_t clen, const char *revaliases, size_t rlen,
    struct import *im, struct err *e) MUST_CHECK;
/*
 * dma: dma_files says where dma.conf puts auth.conf (AUTHPATH, else /etc/dma/auth.conf)
 * and, when MAILNAME is a file, that file (else *mailname_file is NULL); both owned by
 * the caller. mailname is that file's first line or NULL.
 */
void dma_files(const char *conf, size_t clen, char **auth_file, char **mailname_file);
int dma_parse(const char *conf, size_t clen, const char *auth, size_t alen, const char *mailname,
    struct import *im, struct err *e) MUST_CHECK;
/* nullmailer: each small file's first line, or NULL when there is none. */
int nullmailer_parse(const char *remotes, size_t rlen, const char *defaulthost,
    const char *defaultdomain, const char *adminaddr, const char *me, struct import *im,
    struct err *e) MUST_CHECK;

#endif

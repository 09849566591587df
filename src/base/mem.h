/*
 * mem.h: memory that fails loudly. An allocation that fails prints one line on stderr and
 * exits EX_OSERR: nothing sensible can go on, and the caller still holds the message.
 */
#ifndef MAILOUT_MEM_H
#define MAILOUT_MEM_H

#include <stddef.h>

/* malloc, calloc, realloc: never NULL (a size of 0 asks for 1). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* strdup, strndup: never NULL. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/*
 * A large block that may be touched only in part (a line buffer sized for the longest line
 * allowed): its own mapping, so that untouched pages cost nothing, xunmap gives every page
 * back, and malloc's adaptive mmap threshold is not raised to its size (which would put
 * every later large block on the heap, where a long-lived process keeps what it touched).
 * Never NULL; zero-filled. xunmap takes the same n; NULL is fine.
 */
void *xmap(size_t n);
void xunmap(void *p, size_t n);
/* Free the n strings of v, then v. NULL is fine. */
void xfree_strv(char **v, size_t n);

#endif

/*
 * util.h: small helpers every module may use: memory that fails loudly, range-checked
 * number parsing (no atoi), and string predicates.
 */
#ifndef MAILOUT_UTIL_H
#define MAILOUT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocation failure is fatal: print one line on stderr and exit EX_OSERR. */
void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
void	 xfree_strv(char **v, size_t n);

/* Decimal unsigned integer in [min, max], whole string, no sign or spaces. 0 ok, -1 bad. */
int	 parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Size with optional K, M, G suffix (powers of 1024), e.g. "25M". 0 ok, -1 bad. */
int	 parse_size(const char *s, uint64_t *out);
/* on/off, yes/no, true/false, 1/0 (case-insensitive). 1, 0, or -1 when invalid. */
int	 parse_bool(const char *s);

/* 1 if s contains CR, LF or NUL within its first len bytes (len = strlen if (size_t)-1). */
int	 has_crlf(const char *s);
/* Case-insensitive ASCII equality / prefix. */
int	 streq_ci(const char *a, const char *b);
int	 startswith_ci(const char *s, const char *prefix);

/* Write all n bytes to fd, going on through EINTR. 0, or -1 with errno set. */
int	 write_all(int fd, const void *p, size_t n);

/*
 * mkdir -p, mode 0700, for the directories above path's last component. Errors are not
 * reported: opening the file itself shows them.
 */
void	 make_parents(const char *path);

/* Monotonic milliseconds, for deadlines. */
int64_t	 now_ms(void);
/* Wall-clock seconds; tests may override with MAILOUT_NOW (queue clock). */
int64_t	 now_s(void);

/* The user name and home of getuid() (never $USER/$HOME), whole. Static storage. */
const char *user_name(void);
const char *user_home(void);
/*
 * The user's state directory for mailout: $XDG_STATE_HOME/mailout (absolute, and not
 * set-ID), else ~/.local/state/mailout from user_home(). Static storage. NULL when that
 * name would be too long for a path (MAX_PATH): never a cut one.
 */
const char *user_state_dir(void);
/* This host's name (gethostname, then canonical name if it has no dot). Static storage. */
const char *host_name(void);

#endif

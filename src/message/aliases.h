/*
 * aliases.h: the /etc/aliases file, and which recipients are local.
 *
 * Format (aliases(5) of sendmail and Postfix): "name: target, target ..." per logical line;
 * a line starting with a space or tab continues the previous one; blank lines and lines
 * whose first non-blank character is '#' are ignored (also inside a continued entry).
 * Names are local parts, compared case-insensitively; a quoted name ("a b": x) is allowed.
 * Targets are addresses ("Name <a@b>" and comments are reduced to the address), local names
 * (expanded again, recursively), or "\name" (a local name that is not expanded again).
 * ":include:/file", "|command" and "/file" targets are not delivered by mailout: they are
 * skipped with a warning naming the file and line. A duplicate name is a warning; the first
 * entry wins (as Postfix's postalias does).
 *
 * Expansion: a local recipient that names an alias is replaced by its targets, recursively
 * (at most MAX_ALIAS_DEPTH levels, MAX_ALIAS_EXPANSION addresses in all). A target equal to
 * the alias being expanded means "that local name itself, stop here" (root: root, a@x).
 * Local names that end the expansion come out bare ("root"), ready for aliases_qualify().
 */
#ifndef MAILOUT_ALIASES_H
#define MAILOUT_ALIASES_H

#include <stdio.h>

struct addrlist;
struct aliases;
struct err;

/* A warning about the file (skipped target, duplicate name): file, line, one-line text. */
typedef void (*aliases_warn_fn)(void *ctx, const char *file, unsigned line, const char *msg);

/*
 * Read the aliases file. A missing file (ENOENT) gives an empty table, not an error.
 * Returns the table (free with aliases_free), or NULL with err set: a syntax error is
 * PERM/CAUSE_CONFIG "FILE:LINE: problem"; an unreadable file is PERM/CAUSE_CONFIG too.
 * warn (may be NULL) receives each warning; nothing is printed.
 */
struct aliases *aliases_load(const char *path, aliases_warn_fn warn, void *warn_ctx,
    struct err *e);
void aliases_free(struct aliases *t);
/* Number of aliases in the table (0 for NULL). */
size_t aliases_count(const struct aliases *t);

/*
 * For newaliases / -bi: read the whole file, write every error and warning to report as
 * "FILE:LINE: ..." (all of them, not only the first), then try to expand every alias to
 * find loops and over-deep chains, and end with "FILE: N aliases". A missing file is
 * reported as such and counts as 0 aliases. Returns the number of aliases, or -1 with err
 * (CAUSE_CONFIG, naming the first error and the error count) when anything is wrong.
 */
int aliases_check(const char *path, FILE *report, struct err *e);

/*
 * Expand one envelope recipient and append the result to out (deduplicated). A recipient
 * that is not local (aliases_is_local with local_domains) is appended unchanged. A local
 * one (bare, user@localhost, user@this-host) is looked up by its local part: without an
 * alias it is appended as the bare local part ("root@localhost" -> "root"); with one, its
 * targets are expanded. t may be NULL (no aliases file): local recipients only lose their
 * local domain. Returns 0, or -1 with err: a loop (PERM/CAUSE_CONFIG naming the chain
 * "a -> b -> a" and the file:line), too deep or too many addresses (PERM/CAUSE_CONFIG), or
 * an alias whose targets were all skipped (PERM/CAUSE_NOUSER). On error out may hold part
 * of the expansion.
 */
int aliases_expand(const struct aliases *t, const char *rcpt, const char *const *local_domains,
    struct addrlist *out, struct err *e);

/*
 * 1 if addr is delivered here (then aliases apply): a bare local name, or a domain that is
 * localhost, localhost.localdomain, host_name(), its first label, or one of local_domains
 * (NULL-terminated, may be NULL). Domains compare case-insensitively; a trailing dot is
 * ignored. 0 otherwise (also for "" and addresses with an empty local part).
 */
int aliases_is_local(const char *addr, const char *const *local_domains);

/*
 * A bare name gets "@default_domain"; anything else is copied. With default_domain NULL
 * or "" the copy is unchanged. Caller frees the result.
 */
char *aliases_qualify(const char *addr, const char *default_domain);

#endif

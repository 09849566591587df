/*
 * rfc5322.h: pure parsing of header fields and address lists. No I/O.
 */
#ifndef MAILOUT_RFC5322_H
#define MAILOUT_RFC5322_H

#include <stddef.h>

struct err;

/* A list of addr-specs ("local@domain" or a bare "local"), owned strings. */
struct addrlist {
	char **v;
	size_t n;
	size_t cap;
};

void addrlist_init(struct addrlist *l);
/* Append a copy unless an equal address is present (domain compared case-insensitively,
 * local part exactly). Returns 1 added, 0 duplicate. */
int addrlist_add(struct addrlist *l, const char *addr);
void addrlist_free(struct addrlist *l);

/*
 * Parse an RFC 5322 address-list (header value, folding allowed): mailboxes with display
 * names, angle addresses, groups ("undisclosed-recipients:;"), comments, quoted strings,
 * obsolete route syntax. Each addr-spec is appended to out (deduplicated).
 * strict = 1: a malformed address is an error naming it (CAUSE_DATA); strict = 0: the
 * parser recovers what an experienced user would expect (bare words, missing brackets,
 * trailing dots, unbalanced quotes). Returns 0 or -1.
 */
int rfc5322_parse_addrlist(const char *s, size_t len, struct addrlist *out, int strict,
    struct err *e);

/*
 * Split "Name: value" at the colon. name_len gets the field name length (no trailing
 * spaces); *value points after the colon. Returns -1 if this is not a header line
 * (no colon, or the name has characters outside printable ASCII 33-126 except ':').
 */
int rfc5322_field_name(const char *line, size_t len, size_t *name_len, const char **value);

/* 1 if the address's local part needs quoting or the address is otherwise not valid for
 * an SMTP path; 0 if it can go into MAIL FROM/RCPT TO as is. */
int rfc5322_addr_invalid(const char *addr);

#endif

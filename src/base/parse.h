/*
 * parse.h: numbers and booleans from text, range-checked (no atoi, no strtol's silent
 * prefixes, signs or spaces).
 */
#ifndef MAILOUT_PARSE_H
#define MAILOUT_PARSE_H

#include <stdint.h>

/* Decimal unsigned integer in [min, max], whole string, no sign or spaces. 0 ok, -1 bad. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Size with optional K, M, G suffix (powers of 1024), e.g. "25M". 0 ok, -1 bad. */
int parse_size(const char *s, uint64_t *out);
/* on/off, yes/no, true/false, 1/0 (case-insensitive). 1, 0, or -1 when invalid. */
int parse_bool(const char *s);

#endif

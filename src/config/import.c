/*
 * import.c: the result of an import, shared by the format parsers. See import.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/mem.h"
#include "config/config.h"
#include "config/import.h"

static char *
valid_name(const char *s)
{
	size_t n = strlen(s), i;
	char *v;

	if (n > MAX_ACCOUNT_NAME)
		n = MAX_ACCOUNT_NAME;
	v = xstrndup(n > 0 ? s : "imported", n > 0 ? n : 8);
	for (i = 0; v[i] != '\0'; i++)
		if (!config_name_char((unsigned char)v[i]))
			v[i] = '-';
	/* [defaults] is no account. */
	if (strcasecmp(v, "defaults") == 0) {
		free(v);
		v = xstrdup("defaults-account");
	}
	return v;
}

struct import_account *
import_account(struct import *im, const char *name)
{
	struct import_account *a;
	char *n = valid_name(name);
	size_t i;

	for (i = 0; i < im->nacc; i++)
		if (strcasecmp(im->acc[i].name, n) == 0) {
			free(n);
			return &im->acc[i];
		}
	if (im->nacc == MAX_IMPORT_ACCOUNTS) {
		free(n);
		return NULL;
	}
	im->acc = xrealloc(im->acc, (im->nacc + 1) * sizeof(*im->acc));
	a = &im->acc[im->nacc++];
	memset(a, 0, sizeof(*a));
	a->name = n;
	return a;
}

static void
kv_set(struct import_kv **kv, size_t *n, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*kv)[i].key, key) == 0)
			break;
	if (value == NULL) {
		if (i == *n)
			return;
		free((*kv)[i].key);
		secret_free((*kv)[i].value);
		memmove(&(*kv)[i], &(*kv)[i + 1], (*n - i - 1) * sizeof(**kv));
		(*n)--;
		return;
	}
	if (i == *n) {
		*kv = xrealloc(*kv, (*n + 1) * sizeof(**kv));
		(*kv)[i].key = xstrdup(key);
		(*kv)[i].value = NULL;
		(*n)++;
	}
	secret_free((*kv)[i].value);
	(*kv)[i].value = xstrdup(value);
}

void
import_set(struct import_account *a, const char *key, const char *value)
{
	kv_set(&a->kv, &a->nkv, key, value);
}

const char *
import_get(const struct import_account *a, const char *key)
{
	size_t i;

	for (i = 0; i < a->nkv; i++)
		if (strcmp(a->kv[i].key, key) == 0)
			return a->kv[i].value;
	return NULL;
}

void
import_default(struct import *im, const char *key, const char *value)
{
	kv_set(&im->defaults, &im->ndefaults, key, value);
}

void
import_note(struct import *im, const char *fmt, ...)
{
	char line[MAX_ERROR_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	im->notes = xrealloc(im->notes, (im->nnotes + 1) * sizeof(*im->notes));
	im->notes[im->nnotes++] = xstrdup(line);
}

static void
kv_free(struct import_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		secret_free(kv[i].value);
	}
	free(kv);
}

void
import_free(struct import *im)
{
	size_t i;

	for (i = 0; i < im->nacc; i++) {
		free(im->acc[i].name);
		kv_free(im->acc[i].kv, im->acc[i].nkv);
		secret_free(im->acc[i].secret);
	}
	free(im->acc);
	kv_free(im->defaults, im->ndefaults);
	xfree_strv(im->notes, im->nnotes);
	memset(im, 0, sizeof(*im));
}

int
import_line(const char **p, const char *end, struct buf *line)
{
	const char *s = *p, *nl;
	size_t n;

	buf_reset(line);
	if (s >= end)
		return 0;
	nl = memchr(s, '\n', (size_t)(end - s));
	n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
	*p = nl != NULL ? nl + 1 : end;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n > line->max)
		n = line->max;
	if (buf_add(line, s, n) == -1)
		buf_reset(line);
	/* A NUL inside a line ends it: nothing after it is a setting. */
	if (buf_cstr(line) != NULL)
		line->len = strlen(line->data);
	return 1;
}

/*
 * unit_import.h: looking into a struct import (config/import.h) in the importers'
 * unit tests.
 */
#ifndef MAILOUT_UNIT_IMPORT_H
#define MAILOUT_UNIT_IMPORT_H

#include <string.h>

#include "config/import.h"

static const struct import_account *
acc(const struct import *im, const char *name)
{
	size_t i;

	for (i = 0; i < im->nacc; i++)
		if (strcmp(im->acc[i].name, name) == 0)
			return &im->acc[i];
	return NULL;
}

static const char *
get(const struct import *im, const char *name, const char *key)
{
	const struct import_account *a = acc(im, name);

	return a != NULL ? import_get(a, key) : "(no account)";
}

static const char *
dflt(const struct import *im, const char *key)
{
	size_t i;

	for (i = 0; i < im->ndefaults; i++)
		if (strcmp(im->defaults[i].key, key) == 0)
			return im->defaults[i].value;
	return NULL;
}

static int
noted(const struct import *im, const char *what)
{
	size_t i;

	for (i = 0; i < im->nnotes; i++)
		if (strstr(im->notes[i], what) != NULL)
			return 1;
	return 0;
}

#endif

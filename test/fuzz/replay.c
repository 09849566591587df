/*
 * replay.c: a main() for a fuzz target without libFuzzer. Every file named, and every
 * file in every directory named (sorted, dot files skipped), is given to
 * LLVMFuzzerTestOneInput once. make check runs it under ASan+UBSan over each target's
 * corpus, so what the fuzzer once found stays found.
 *
 *	build-asan/fuzz/smtp_reply-replay test/fuzz/corpus/smtp_reply [crash-file ...]
 *
 * Exit 0 after the last input; a sanitizer or a broken promise ends the process earlier
 * (the input's name is the last line on stdout). An argument that holds no input at all
 * is an error (exit 2): a corpus that went missing must not pass as an empty one.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "fuzz.h"

/* Larger than any corpus file; libFuzzer's own inputs stay far below. */
#define REPLAY_MAX (16 * 1024 * 1024)

static int
run_file(const char *path)
{
	struct buf b;
	char block[65536];
	size_t n;
	FILE *f;
	int rc = -1;

	buf_init(&b, REPLAY_MAX);
	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		goto out;
	}
	while ((n = fread(block, 1, sizeof(block), f)) > 0)
		if (buf_add(&b, block, n) == -1) {
			fprintf(stderr, "%s: larger than %d bytes\n", path, REPLAY_MAX);
			goto out;
		}
	if (ferror(f)) {
		perror(path);
		goto out;
	}
	printf("# %s\n", path);
	fflush(stdout);
	LLVMFuzzerTestOneInput((const uint8_t *)(b.data != NULL ? b.data : ""), b.len);
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	buf_free(&b);
	return rc;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in dir, by name. Returns how many ran, or -1. */
static long
run_dir(const char *dir)
{
	struct dirent *de;
	char **v = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	long ran = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		perror(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), by_name);
	for (i = 0; i < n && ran >= 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, v[i]);
		ran = run_file(path) == 0 ? ran + 1 : -1;
	}
	xfree_strv(v, n);
	return ran;
}

int
main(int argc, char **argv)
{
	struct stat st;
	long total = 0, n;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 64;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			perror(argv[i]);
			return 2;
		}
		n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) == 0 ? 1 : -1;
		if (n <= 0) {
			fprintf(stderr, "%s: no input replayed\n", argv[i]);
			return 2;
		}
		total += n;
	}
	printf("# replayed %ld inputs\n", total);
	return 0;
}

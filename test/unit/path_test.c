/*
 * path_test.c: paths are built whole or not at all (path.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/path.h"
#include "unit.h"

int
main(void)
{
	char *long_dir = malloc(MAX_PATH + 5001), *p;

	p = path_fmt("%s/%s%s", "/var/spool/mailout", "ABC", ".meta");
	CHECK_STR(p, "/var/spool/mailout/ABC.meta", "path_fmt: the parts joined");
	free(p);

	/* The longest name that fits: MAX_PATH bytes with the NUL. */
	memset(long_dir, 'd', MAX_PATH - 1);
	long_dir[0] = '/';
	long_dir[MAX_PATH - 1] = '\0';
	p = path_fmt("%s", long_dir);
	CHECK(p != NULL && strlen(p) == MAX_PATH - 1, "path_fmt: MAX_PATH - 1 bytes fit");
	free(p);

	errno = 0;
	p = path_fmt("%s/x", long_dir);
	CHECK(p == NULL && errno == ENAMETOOLONG,
	    "path_fmt: one byte more is ENAMETOOLONG, "
	    "no cut name");
	free(p);

	/* TMPDIR of 5000 bytes, as the 7-bit copy of a message would use it. */
	memset(long_dir, 't', 5000);
	long_dir[0] = '/';
	long_dir[5000] = '\0';
	errno = 0;
	p = path_fmt("%s/mailout-7bit.XXXXXX", long_dir);
	CHECK(p == NULL && errno == ENAMETOOLONG, "path_fmt: a 5000-byte directory fails");
	free(p);

	p = path_name("work");
	CHECK_STR(p, "work", "path_name: a plain name stays");
	free(p);
	p = path_name("../x/y z\xc3\xa9.-_");
	CHECK_STR(p, ".._x_y_z__.-_", "path_name: no slash, space or 8-bit byte survives");
	free(p);
	p = path_name("");
	CHECK_STR(p, "", "path_name: empty stays empty");
	free(p);

	free(long_dir);
	UNIT_DONE();
}

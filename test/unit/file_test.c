/*
 * file_test.c: the one mkdir -p (file.h): modes past the umask, existing directories
 * left alone, a file in the way refused, parents of a file name; read_capped's cap and
 * its first-line mode.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/file.h"
#include "unit.h"

/* read_capped on a pipe that holds text and is then closed, into a buffer of max bytes. */
static int
read_text(const char *text, size_t max, int line, struct buf *b)
{
	int fds[2], rc;

	buf_init(b, max);
	if (pipe(fds) == -1)
		return -2;
	rc = write_all(fds[1], text, strlen(text)) == -1 ? -2 : 0;
	close(fds[1]);
	errno = 0;
	if (rc == 0)
		rc = read_capped(fds[0], b, line);
	close(fds[0]);
	return rc;
}

/* read_capped's cases, into a buffer of 6 bytes: rc, then errno or the length read. */
static const struct {
	const char *text;
	int line, rc, err;
	size_t len;
	const char *name;
} reads[] = {
	{ "abcdef", 0, 0, 0, 6, "a file of exactly max bytes fits" },
	{ "abcdefg", 0, -1, EFBIG, 0, "one byte more is EFBIG" },
	{ "", 0, 0, 0, 0, "an empty file" },
	/* Reads of at most what is left: "pw\nnot", then the newline stops it. */
	{ "pw\nnotes that go on and on", 1, 0, 0, 6, "line: stops at the newline, within max" },
	{ "abcdefgh\n", 1, -1, EFBIG, 0, "line: a first line longer than max is EFBIG" },
	{ "abc", 1, 0, 0, 3, "line: a last line without newline is all of it" },
	{ "abcdef", 1, -1, EFBIG, 0, "line: max bytes and no newline is too long" },
};

static void
read_tests(void)
{
	struct buf b;
	char name[128];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		rc = read_text(reads[i].text, 6, reads[i].line, &b);
		snprintf(name, sizeof(name), "read_capped: %s", reads[i].name);
		CHECK(rc == reads[i].rc &&
			(rc == -1 ? errno == reads[i].err : b.len == reads[i].len),
		    name);
		buf_free(&b);
	}
}

static int
mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? (int)(st.st_mode & 07777) : -1;
}

/* io_block_for: a small regular file gets a block its size; anything else IO_BLOCK. */
static void
test_io_block(const char *top)
{
	char p[256];
	int fd, pp[2];

	snprintf(p, sizeof(p), "%s/blk", top);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd != -1 && io_block_for(fd) == FILE_BLOCK, "io_block_for: empty file: FILE_BLOCK");
	CHECK(ftruncate(fd, 100) == 0 && io_block_for(fd) == FILE_BLOCK,
	    "io_block_for: 100 bytes: FILE_BLOCK");
	CHECK(ftruncate(fd, 10000) == 0 && io_block_for(fd) == 10001,
	    "io_block_for: 10000 bytes: its size + 1");
	CHECK(ftruncate(fd, IO_BLOCK - 1) == 0 && io_block_for(fd) == IO_BLOCK,
	    "io_block_for: IO_BLOCK - 1 bytes: IO_BLOCK");
	CHECK(ftruncate(fd, 1024 * 1024) == 0 && io_block_for(fd) == IO_BLOCK,
	    "io_block_for: 1 MiB: IO_BLOCK");
	close(fd);
	CHECK(pipe(pp) == 0 && io_block_for(pp[0]) == IO_BLOCK, "io_block_for: a pipe: IO_BLOCK");
	close(pp[0]);
	close(pp[1]);
	CHECK(io_block_for(-1) == IO_BLOCK, "io_block_for: a bad descriptor: IO_BLOCK");
	unlink(p);
}

int
main(void)
{
	char top[] = "/tmp/mailout-file-test.XXXXXX", p[256], q[256];
	int fd;

	if (mkdtemp(top) == NULL) {
		CHECK(0, "mkdtemp");
		UNIT_DONE();
	}
	umask(022);
	test_io_block(top);

	snprintf(p, sizeof(p), "%s/a/b/c", top);
	CHECK(make_dirs(p, 0700) == 0, "make_dirs: three levels");
	CHECK(mode_of(p) == 0700, "make_dirs: the last one 0700");
	snprintf(q, sizeof(q), "%s/a", top);
	CHECK(mode_of(q) == 0700, "make_dirs: the first one 0700 too");
	CHECK(make_dirs(p, 0700) == 0, "make_dirs: all there already is fine");

	/* A shared queue: the group's setgid mode, which mkdir and the umask would not give. */
	snprintf(p, sizeof(p), "%s/shared/queue", top);
	CHECK(make_dirs(p, 02770) == 0, "make_dirs: a shared queue's directories");
	CHECK(mode_of(p) == 02770, "make_dirs: setgid and group-writable past the umask");

	/* An existing directory keeps its mode. */
	snprintf(q, sizeof(q), "%s/keep", top);
	CHECK(mkdir(q, 0755) == 0 && chmod(q, 0755) == 0, "setup: a 0755 directory");
	snprintf(p, sizeof(p), "%s/keep/new", top);
	CHECK(make_dirs(p, 0700) == 0 && mode_of(q) == 0755 && mode_of(p) == 0700,
	    "make_dirs: an existing directory is left as it is");

	snprintf(p, sizeof(p), "%s//d1///d2/", top);
	CHECK(make_dirs(p, 0700) == 0, "make_dirs: doubled and trailing slashes");
	snprintf(q, sizeof(q), "%s/d1/d2", top);
	CHECK(mode_of(q) == 0700, "make_dirs: ... make the same directories");

	snprintf(q, sizeof(q), "%s/file", top);
	fd = open(q, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1, "setup: a file");
	if (fd != -1)
		close(fd);
	errno = 0;
	CHECK(make_dirs(q, 0700) == -1 && errno == ENOTDIR, "make_dirs: a file is no directory");
	snprintf(p, sizeof(p), "%s/file/below", top);
	CHECK(make_dirs(p, 0700) == -1, "make_dirs: nothing below a file");
	CHECK(make_dirs("", 0700) == -1 && errno == ENOENT, "make_dirs: an empty name");
	/* sysfs refuses mkdir (EPERM, EACCES or EROFS) where stat then says ENOENT. */
	errno = 0;
	CHECK(make_dirs("/sys/mailout-file-test/below", 0700) == -1 && errno != 0 &&
		errno != ENOENT,
	    "make_dirs: the error is mkdir's reason, not a later stat's");

	snprintf(p, sizeof(p), "%s/e1/e2/name.session", top);
	CHECK(make_parents(p, 0700) == 0, "make_parents: the directories above a file");
	snprintf(q, sizeof(q), "%s/e1/e2", top);
	CHECK(mode_of(q) == 0700 && access(p, F_OK) == -1,
	    "make_parents: the directory made, not the file");
	CHECK(make_parents("name-only", 0700) == 0, "make_parents: no '/': nothing to make");

	read_tests();

	/* file_replace: the new bytes in place with the mode asked, no temporary left. */
	{
		struct iovec iov[2] = { { (void *)"one ", 4 }, { (void *)"two\n", 4 } };
		enum file_step step = 0;
		char got[16] = "";
		struct stat st;

		snprintf(p, sizeof(p), "%s/r/target", top);
		snprintf(q, sizeof(q), "%s/r", top);
		CHECK(make_dirs(q, 0700) == 0, "setup: a directory for file_replace");
		CHECK(file_replace(p, iov, 2, 0640, (uid_t)-1, 0, FILE_SYNC | FILE_SYNC_DIR,
			  &step) == 0,
		    "file_replace: written");
		fd = open(p, O_RDONLY);
		CHECK(fd != -1 && read(fd, got, sizeof(got) - 1) == 8 &&
			strcmp(got, "one two\n") == 0,
		    "file_replace: the parts in order");
		if (fd != -1)
			close(fd);
		CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0640, "file_replace: its mode");
		snprintf(q, sizeof(q), "ls -A '%s/r' | grep -qvx target", top);
		CHECK(system(q) != 0, "file_replace: nothing but the file in its directory");
		/* A directory in the way: the rename fails, and the temporary goes. */
		snprintf(p, sizeof(p), "%s/r/dir", top);
		snprintf(q, sizeof(q), "%s/r/dir/x", top);
		CHECK(mkdir(p, 0700) == 0 && mkdir(q, 0700) == 0, "setup: a directory not empty");
		CHECK(file_replace(p, iov, 2, 0600, (uid_t)-1, 0, 0, &step) == -1 &&
			step == FILE_RENAME,
		    "file_replace: a failed rename says so");
		snprintf(q, sizeof(q), "ls -A '%s/r' | grep -qvxE 'target|dir'", top);
		CHECK(system(q) != 0, "file_replace: no temporary left after a failed rename");
		snprintf(p, sizeof(p), "%s/none/target", top);
		CHECK(file_replace(p, iov, 2, 0600, (uid_t)-1, 0, 0, &step) == -1 &&
			step == FILE_CREATE,
		    "file_replace: no directory: the create step fails");
	}

	snprintf(p, sizeof(p), "rm -rf '%s'", top);
	CHECK(system(p) == 0, "cleanup");
	UNIT_DONE();
}

/*
 * queue_test.c: the queue's metadata format, ids, backoff, and the file operations
 * (commit, scan, lock, update, remove, fail, cleanup) in a scratch directory.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>
#include <utime.h>

#include "base/buf.h"
#include "base/err.h"
#include "queue/queue.h"
#include "unit.h"
#include "base/mem.h"

static void
fill(struct queue_meta *m)
{
	queue_meta_init(m);
	queue_meta_set(&m->account, "work");
	queue_meta_set(&m->sender, "joe@example.com");
	m->uid = 1000;
	m->size = 1234;
	queue_meta_set(&m->message_id, "abc.123@example.com");
	m->body_8bit = 1;
	queue_meta_set(&m->dsn_notify, "FAILURE,DELAY");
	queue_meta_set(&m->dsn_ret, "HDRS");
	m->arrival = 1700000000;
	m->attempts = 3;
	m->last_attempt = 1700000300;
	m->next_attempt = 1700000540;
	queue_meta_set(&m->last_error, "relay x: 451 4.3.0 try\r\nlater");
	queue_meta_add_rcpt(m, "a@example.com", QR_PENDING, "451 4.3.0 busy");
	queue_meta_add_rcpt(m, "\"b c\"@example.com", QR_SENT, "250 ok");
	queue_meta_add_rcpt(m, "d@example.com", QR_FAILED, "550 5.1.1 no such user");
	m->rcpts[2].notified = 1;
	queue_meta_set(&m->relay, "smtp.example.com:587 tls=starttls user=joe");
	queue_meta_add_fallback(m, "backup mx.example.net:465 tls=implicit user=-");
	queue_meta_add_fallback(m, "last 10.0.0.1:25 tls=off user=-");
	queue_meta_set(&m->config, "/root/test.conf");
	queue_meta_set(&m->held, "relay x: 535 5.7.8 no\nway; fix it");
	m->held_since = 1700000400;
	m->held_binding = 1;
}

static void
test_meta(void)
{
	struct queue_meta m, p;
	struct buf b;
	struct err e;
	const char *t;

	fill(&m);
	memcpy(m.id, "65A1B2C30F4231A2B3C", QUEUE_ID_LEN + 1);
	buf_init(&b, MAX_QUEUE_META);
	CHECK(queue_meta_format(&m, &b) == 0, "format");
	CHECK(strstr(buf_cstr(&b), "Last-Error: relay x: 451 4.3.0 try  later\n") != NULL,
	    "control characters in a value become spaces");
	CHECK(strstr(buf_cstr(&b), "Recipient: sent \"b c\"@example.com\nReply: 250 ok\n") != NULL,
	    "recipient line then its reply");
	err_init(&e);
	CHECK(queue_meta_parse(buf_cstr(&b), b.len, &p, &e) == 0, "parse back");
	CHECK_STR(p.id, m.id, "id");
	CHECK_STR(p.account, "work", "account");
	CHECK_STR(p.sender, "joe@example.com", "sender");
	CHECK(p.uid == 1000 && p.size == 1234, "uid, size");
	CHECK_STR(p.message_id, "abc.123@example.com", "message id");
	CHECK(p.body_8bit == 1 && p.smtputf8 == 0 && p.notice == 0, "flags");
	CHECK_STR(p.dsn_notify, "FAILURE,DELAY", "dsn notify");
	CHECK_STR(p.dsn_ret, "HDRS", "dsn ret");
	CHECK(p.dsn_envid == NULL, "absent dsn envid stays NULL");
	CHECK(p.arrival == 1700000000 && p.attempts == 3 && p.last_attempt == 1700000300 &&
		p.next_attempt == 1700000540 && p.expired == 0,
	    "times and attempts");
	CHECK(p.nrcpts == 3, "three recipients");
	if (p.nrcpts == 3) {
		CHECK(p.rcpts[0].state == QR_PENDING, "pending");
		CHECK_STR(p.rcpts[1].addr, "\"b c\"@example.com", "address with a space");
		CHECK(p.rcpts[1].state == QR_SENT, "sent");
		CHECK(p.rcpts[2].state == QR_FAILED && p.rcpts[2].notified, "failed, notified");
		CHECK_STR(p.rcpts[2].reply, "550 5.1.1 no such user", "reply kept");
		CHECK(p.rcpts[0].notified == 0, "pending is not notified");
	}
	CHECK(queue_meta_count(&p, QR_PENDING) == 1, "count pending");
	CHECK_STR(p.relay, "smtp.example.com:587 tls=starttls user=joe", "relay identity");
	CHECK(p.nfallbacks == 2, "two fallbacks, in order");
	if (p.nfallbacks == 2) {
		CHECK_STR(p.fallbacks[0], "backup mx.example.net:465 tls=implicit user=-",
		    "first fallback");
		CHECK_STR(p.fallbacks[1], "last 10.0.0.1:25 tls=off user=-", "second fallback");
	}
	CHECK_STR(p.config, "/root/test.conf", "-C file");
	CHECK_STR(p.held, "relay x: 535 5.7.8 no way; fix it", "held reason, on one line");
	CHECK(p.held_since == 1700000400 && p.held_binding == 1, "held since, binding");
	queue_meta_free(&p);
	queue_meta_free(&m);
	/* An entry from before the binding: nothing bound, nothing held. */
	t = "Sender: a@b\nRecipient: pending x@y\n";
	err_init(&e);
	CHECK(queue_meta_parse(t, strlen(t), &p, &e) == 0 && p.relay == NULL &&
		p.nfallbacks == 0 && p.config == NULL && p.held == NULL,
	    "older entry: unbound");
	queue_meta_free(&p);
	buf_free(&b);

	t = "Sender: \nFuture-Key: whatever: it is\nRecipient: pending x@y\n"
	    "Reply: 421 closing\nRecipient: sent z@y\nColour: blue\n";
	err_init(&e);
	CHECK(queue_meta_parse(t, strlen(t), &p, &e) == 0, "unknown keys are ignored");
	CHECK_STR(p.sender, "", "empty Sender is the null sender");
	CHECK(p.nrcpts == 2 && strcmp(p.rcpts[0].reply, "421 closing") == 0 &&
		p.rcpts[1].reply[0] == '\0',
	    "Reply binds to the recipient above it");
	queue_meta_free(&p);

	t = "Sender: a@b\r\nRecipient: pending x@y\r\n";
	err_init(&e);
	CHECK(queue_meta_parse(t, strlen(t), &p, &e) == 0, "CRLF lines are read");
	CHECK_STR(p.rcpts[0].addr, "x@y", "no CR in the address");
	queue_meta_free(&p);

	t = "Recipient: pending x@y\n";
	err_init(&e);
	CHECK(queue_meta_parse(t, strlen(t), &p, &e) == -1, "no Sender: refused");
	t = "Sender: a@b\n";
	err_init(&e);
	CHECK(queue_meta_parse(t, strlen(t), &p, &e) == -1, "no Recipient: refused");
	t = "Sender: a@b\nRecipient: maybe x@y\n";
	err_init(&e);
	CHECK(queue_meta_parse(t, strlen(t), &p, &e) == -1, "unknown state: refused");
	t = "Sender: a@b\nRecipient: pending x@y\nAttempts: -1\n";
	err_init(&e);
	CHECK(queue_meta_parse(t, strlen(t), &p, &e) == -1, "bad number: refused");
	t = "Sender: a@b\nno colon here\nRecipient: pending x@y\n";
	err_init(&e);
	CHECK(queue_meta_parse(t, strlen(t), &p, &e) == -1 && strstr(e.msg, "line 2"),
	    "line without colon: refused, line named");
	t = "Sender: a@b\nRecipient: pending x@y\nId: ../../etc/passwd\n";
	err_init(&e);
	CHECK(queue_meta_parse(t, strlen(t), &p, &e) == -1, "bad Id: refused");

	/* Found by fuzzing (test/fuzz/corpus/queue_meta/big-numbers): read, written, lost. */
	t = "Sender: a@b\nSize: 18446744073709551615\nRecipient: pending x@y\n";
	err_init(&e);
	buf_init(&b, MAX_QUEUE_META);
	CHECK(queue_meta_parse(t, strlen(t), &p, &e) == 0 && p.size == UINT64_MAX,
	    "the largest Size is read");
	/* As queue_read_meta does: the id comes from the file name. */
	memcpy(p.id, "65A1B2C30F4231A2B3C", QUEUE_ID_LEN + 1);
	CHECK(queue_meta_format(&p, &b) == 0 &&
		strstr(buf_cstr(&b), "Size: 18446744073709551615\n") != NULL,
	    "and written as it was read");
	queue_meta_free(&p);
	err_init(&e);
	CHECK(queue_meta_parse(buf_cstr(&b), b.len, &p, &e) == 0 && p.size == UINT64_MAX,
	    "and read back");
	queue_meta_free(&p);
	buf_free(&b);
}

static void
test_ids(void)
{
	char prev[QUEUE_ID_LEN + 1] = "", id[QUEUE_ID_LEN + 1];
	int i, ok = 1, uniq = 1, valid = 1;

	for (i = 0; i < 2000; i++) {
		queue_new_id(id);
		if (!queue_valid_id(id))
			valid = 0;
		/* The time part (13 digits) never goes backwards. */
		if (strncmp(prev, id, 13) > 0)
			ok = 0;
		if (strcmp(prev, id) == 0)
			uniq = 0;
		memcpy(prev, id, sizeof(id));
	}
	CHECK(valid, "new ids are valid");
	CHECK(ok, "ids sort by time");
	CHECK(uniq, "ids do not repeat");
	CHECK(!queue_valid_id("65A1B2C30F4231A2B3"), "short id refused");
	CHECK(!queue_valid_id("65A1B2C30F4231A2B3CD"), "long id refused");
	CHECK(!queue_valid_id("65a1b2c30f4231a2b3c"), "lower case refused");
	CHECK(!queue_valid_id("../A1B2C30F4231A2B3C"), "path refused");
}

static void
test_backoff(void)
{
	int64_t d;
	unsigned a;
	int ok = 1;

	CHECK(queue_backoff(1, 0) == 60, "first retry after a minute");
	CHECK(queue_backoff(1, 12) == 48 && queue_backoff(1, 13) == 60, "jitter up to 1/5");
	CHECK(queue_backoff(2, 0) == 120, "doubling");
	CHECK(queue_backoff(6, 0) == 1920, "sixth");
	CHECK(queue_backoff(7, 0) == 3600 && queue_backoff(100, 0) == 3600, "capped at an hour");
	for (a = 1; a < 200; a++) {
		d = queue_backoff(a, queue_random());
		if (d < 48 || d > 3600)
			ok = 0;
	}
	CHECK(ok, "always within [48 s, 1 h]");
}

static char *
mkspool(const char *tmpdir, const char *content, int *fd)
{
	struct buf b;
	char *p;

	buf_init(&b, 4096);
	MUST(buf_addf(&b, "%s/spoolXXXXXX", tmpdir));
	p = buf_steal(&b);
	*fd = mkstemp(p);
	if (write(*fd, content, strlen(content)) < 0)
		abort();
	return p;
}

static int
count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
exists(const char *dir, const char *id, const char *suffix)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s%s", dir, id, suffix);
	return access(p, F_OK) == 0;
}

static void
test_files(void)
{
	char root[] = "/tmp/queue_test.XXXXXX", dir[256], id[QUEUE_ID_LEN + 1];
	char **ids = NULL, *sp, path[512];
	struct queue q;
	struct queue_meta m;
	struct queue_entry qe, qe2;
	struct utimbuf ut;
	struct err e;
	size_t n, i;
	pid_t pid;
	int fd, st, r;

	if (mkdtemp(root) == NULL)
		abort();
	snprintf(dir, sizeof(dir), "%s/a/b/spool", root);
	err_init(&e);
	CHECK(queue_open(&q, dir, 0, &e) == 0, "open without create");
	CHECK(queue_scan(&q, &ids, &n, &e) == 0 && n == 0, "missing queue is empty");
	queue_close(&q);
	CHECK(queue_open(&q, dir, 1, &e) == 0, "open creates the directories");
	CHECK(count_dir(q.tmp) == 0 && count_dir(q.active) == 0 && count_dir(q.failed) == 0,
	    "tmp, queue, failed exist");

	sp = mkspool(q.tmp, "Subject: x\r\n\r\nbody\r\n", &fd);
	fill(&m);
	CHECK(queue_commit(&q, fd, sp, &m, &e) == 0, "commit");
	CHECK(queue_valid_id(m.id), "commit assigns an id");
	memcpy(id, m.id, sizeof(id));
	CHECK(exists(q.active, id, ".msg") && exists(q.active, id, ".meta"), "both files");
	CHECK(access(sp, F_OK) == -1, "spool file moved, not copied");
	CHECK(count_dir(q.tmp) == 0, "nothing left in tmp/");
	close(fd);
	free(sp);
	queue_meta_free(&m);

	/* A commit that cannot move the message leaves no entry and no metadata. */
	fill(&m);
	snprintf(path, sizeof(path), "%s/elsewhere", root);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	CHECK(queue_commit(&q, fd, "/nonexistent/spool", &m, &e) == -1 &&
		e.cause == CAUSE_CANTCREAT,
	    "failed commit: CAUSE_CANTCREAT");
	CHECK(count_dir(q.active) == 2 && count_dir(q.tmp) == 0, "failed commit leaves nothing");
	CHECK(m.id[0] == '\0', "failed commit clears the id");
	close(fd);
	queue_meta_free(&m);
	err_init(&e);

	CHECK(queue_scan(&q, &ids, &n, &e) == 0 && n == 1 && strcmp(ids[0], id) == 0, "scan");
	xfree_strv(ids, n);

	CHECK(queue_lock(&q, id, &qe, &e) == 1, "lock");
	CHECK(qe.meta.nrcpts == 3 && strcmp(qe.meta.id, id) == 0, "lock reads the metadata");
	/* flock belongs to the open file: a second open, even here, is another holder. */
	CHECK(queue_lock(&q, id, &qe2, &e) == 0, "second lock: busy");
	pid = fork();
	if (pid == 0) {
		r = queue_lock(&q, id, &qe2, &e);
		_exit(r == 0 ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "another process: busy");
	qe.meta.attempts = 4;
	qe.meta.rcpts[0].state = QR_SENT;
	CHECK(queue_update(&q, &qe, &e) == 0, "update");
	queue_unlock(&qe);
	CHECK(queue_read_meta(&q, id, &m, &e) == 0 && m.attempts == 4 &&
		m.rcpts[0].state == QR_SENT,
	    "update is read back");
	queue_meta_free(&m);
	CHECK(count_dir(q.tmp) == 0, "update leaves nothing in tmp/");

	CHECK(queue_lock(&q, id, &qe, &e) == 1, "lock again after unlock");
	CHECK(queue_fail(&q, &qe, &e) == 0, "fail");
	CHECK(!exists(q.active, id, ".msg") && !exists(q.active, id, ".meta"), "left queue/");
	CHECK(exists(q.failed, id, ".msg") && exists(q.failed, id, ".meta"), "in failed/");
	CHECK(queue_lock(&q, id, &qe, &e) == 0, "failed entry cannot be locked");

	sp = mkspool(q.tmp, "x\r\n", &fd);
	fill(&m);
	CHECK(queue_commit(&q, fd, sp, &m, &e) == 0, "second commit");
	memcpy(id, m.id, sizeof(id));
	close(fd);
	free(sp);
	queue_meta_free(&m);
	CHECK(queue_lock(&q, id, &qe, &e) == 1, "lock for removal");
	/* A process that opened the file before the removal must find the entry gone. */
	snprintf(path, sizeof(path), "%s/%s.msg", q.active, id);
	fd = open(path, O_RDONLY);
	CHECK(queue_remove(&q, &qe, &e) == 0, "remove");
	CHECK(count_dir(q.active) == 0, "queue/ empty after remove");
	CHECK(q.unsynced == 1, "a removal leaves queue/ to be synced later (at close)");
	CHECK(queue_lock(&q, id, &qe, &e) == 0, "removed entry: gone");
	close(fd);

	/* Debris: old files in tmp/ and metadata without a message; fresh ones stay. */
	sp = mkspool(q.tmp, "old", &fd);
	close(fd);
	ut.actime = ut.modtime = time(NULL) - QUEUE_ORPHAN_AGE - 10;
	utime(sp, &ut);
	free(sp);
	sp = mkspool(q.tmp, "fresh", &fd);
	close(fd);
	free(sp);
	snprintf(path, sizeof(path), "%s/65A1B2C30F4231A2B3C.meta", q.active);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	utime(path, &ut);
	CHECK(queue_cleanup(&q, time(NULL)) == 2, "cleanup removes two old orphans");
	CHECK(count_dir(q.tmp) == 1 && count_dir(q.active) == 0, "fresh file stays");

	/*
	 * Dead runs' files: a spool file nobody holds, last written over a minute ago, goes;
	 * one its live writer holds stays however old; a fresh one stays (its writer may not
	 * have locked it yet); a FIFO does not hang the sweep.
	 */
	{
		char *held, *dead, *fresh;
		int hfd, dfd, ffd;

		held = mkspool(q.tmp, "held", &hfd);
		MUST(flock(hfd, LOCK_EX | LOCK_NB));
		dead = mkspool(q.tmp, "dead", &dfd);
		close(dfd);
		fresh = mkspool(q.tmp, "fresh", &ffd);
		close(ffd);
		ut.actime = ut.modtime = time(NULL) - QUEUE_DEAD_AGE - 5;
		utime(held, &ut);
		utime(dead, &ut);
		snprintf(path, sizeof(path), "%s/fifo", q.tmp);
		CHECK(mkfifo(path, 0600) == 0, "fifo made");
		utime(path, &ut);
		CHECK(queue_sweep_dead(&q) == 1, "sweep removes the dead run's file only");
		CHECK(access(dead, F_OK) == -1 && access(held, F_OK) == 0 &&
			access(fresh, F_OK) == 0 && access(path, F_OK) == 0,
		    "held, fresh and fifo stay");
		close(hfd);
		CHECK(queue_sweep_dead(&q) == 1 && access(held, F_OK) == -1,
		    "once its writer is gone, the held one goes too");
		unlink(path);
		unlink(fresh);
		free(held);
		free(dead);
		free(fresh);
	}
	/* queue_tmpfile's file is held while its descriptor is open. */
	{
		char *tp = NULL;
		int tfd;

		CHECK((tfd = queue_tmpfile(&q, &tp, &e)) != -1, "tmpfile made");
		ut.actime = ut.modtime = time(NULL) - QUEUE_DEAD_AGE - 5;
		utime(tp, &ut);
		CHECK(queue_sweep_dead(&q) == 0 && access(tp, F_OK) == 0, "live tmpfile stays");
		close(tfd);
		CHECK(queue_sweep_dead(&q) == 1 && access(tp, F_OK) == -1,
		    "a closed, old tmpfile goes");
		free(tp);
	}

	/* Unreadable metadata: the entry is reported, not sent, not deleted. */
	sp = mkspool(q.tmp, "x\r\n", &fd);
	fill(&m);
	queue_commit(&q, fd, sp, &m, &e);
	memcpy(id, m.id, sizeof(id));
	close(fd);
	free(sp);
	queue_meta_free(&m);
	snprintf(path, sizeof(path), "%s/%s.meta", q.active, id);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (write(fd, "garbage\n", 8) != 8)
		abort();
	close(fd);
	err_init(&e);
	CHECK(queue_lock(&q, id, &qe, &e) == -1 && strstr(e.msg, "malformed") != NULL,
	    "corrupt metadata: error, entry left alone");
	CHECK(qe.fd != -1 && strcmp(qe.meta.id, id) == 0, "corrupt entry: still locked");
	CHECK(queue_remove(&q, &qe, &e) == 0 && !exists(q.active, id, ".msg"),
	    "corrupt entry can be removed");

	queue_close(&q);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	i = (size_t)system(path);
	(void)i;
}

/* queue_stamp: a look at queue/ that any arrival or departure changes. */
static void
test_stamp(void)
{
	char root[] = "/tmp/queue_test.XXXXXX", dir[256], cmd[300], *sp;
	struct queue q;
	struct queue_meta m;
	struct queue_stamp a, b;
	struct utimbuf ut;
	struct err e;
	int fd, r;

	if (mkdtemp(root) == NULL)
		abort();
	snprintf(dir, sizeof(dir), "%s/spool", root);
	err_init(&e);
	CHECK(queue_open(&q, dir, 0, &e) == 0, "stamp: open without create");
	CHECK(queue_stamp(&q, &a) == 0 && a.none, "stamp: no queue/ yet");
	CHECK(queue_stamp(&q, &b) == 0 && queue_stamp_same(&a, &b), "stamp: still none");
	queue_close(&q);
	CHECK(queue_open(&q, dir, 1, &e) == 0, "stamp: open creates queue/");
	CHECK(queue_stamp(&q, &b) == 0 && !b.none && !queue_stamp_same(&a, &b),
	    "stamp: queue/ made: changed");
	/* Just modified: a change in the same clock tick could keep mtime, so no trust. */
	CHECK(queue_stamp(&q, &a) == 0 && queue_stamp(&q, &b) == 0 && !queue_stamp_same(&a, &b),
	    "stamp: a fresh mtime is not trusted");
	ut.actime = ut.modtime = time(NULL) - 10;
	CHECK(utime(q.active, &ut) == 0, "stamp: queue/ made old");
	CHECK(queue_stamp(&q, &a) == 0 && queue_stamp(&q, &b) == 0 && queue_stamp_same(&a, &b),
	    "stamp: unchanged and old: the same");
	sp = mkspool(q.tmp, "Subject: x\r\n\r\nbody\r\n", &fd);
	fill(&m);
	CHECK(queue_commit(&q, fd, sp, &m, &e) == 0, "stamp: commit");
	CHECK(queue_stamp(&q, &b) == 0 && !queue_stamp_same(&a, &b),
	    "stamp: an arrival changes it");
	close(fd);
	free(sp);
	queue_meta_free(&m);
	CHECK(utime(q.active, &ut) == 0, "stamp: queue/ made old again");
	CHECK(queue_stamp(&q, &a) == 0, "stamp: taken");
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/*.msg", q.active);
	r = system(cmd);
	CHECK(r == 0 && queue_stamp(&q, &b) == 0 && !queue_stamp_same(&a, &b),
	    "stamp: a departure changes it");
	queue_close(&q);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	r = system(cmd);
	(void)r;
}

int
main(void)
{
	test_meta();
	test_ids();
	test_backoff();
	test_files();
	test_stamp();
	UNIT_DONE();
}

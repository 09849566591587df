/*
 * confedit_test.c: sendmail.conf edited in place: every byte that is not the edited
 * account's keys stays as it was, and iniparser reads back what was written.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iniparser.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "config/confedit.h"
#include "unit.h"

/* A configuration as people write them: comments everywhere, odd spacing, two accounts. */
static const char conf[] = "# /etc/sendmail.conf -- edited by hand since 2019\n"
			   "\n"
			   "[defaults]\n"
			   "account = work   ; the one cron uses\n"
			   "aliases = /etc/aliases\n"
			   "\n"
			   "; Work: the office relay\n"
			   "[work]\n"
			   "host=smtp.work.example\n"
			   "port = 587\n"
			   "user = joe@work.example\n"
			   "password_command = \"pass show smtp/work; true\"\n"
			   "# keep the fingerprint until the new certificate is out\n"
			   "\n"
			   "[Home]\n"
			   "\thost = mail.home.example\t# the NAS\n"
			   "from = joe@home.example\n";

/* Run confedit_set; the new text, or NULL (err in e). */
static char *
edit(const char *text, const char *sec, const struct confedit_kv *kv, size_t n, struct err *e)
{
	struct buf out;
	char *s;

	buf_init(&out, MAX_CONFIG_FILE);
	err_init(e);
	if (confedit_set(text, strlen(text), sec, kv, n, &out, e) == -1) {
		buf_free(&out);
		return NULL;
	}
	s = buf_steal(&out);
	return s;
}

/* What iniparser reads for SECTION:KEY in text ("(none)" when nothing). */
static char *
ini_get(const char *text, const char *seckey)
{
	char path[] = "/tmp/confedit_test.XXXXXX";
	dictionary *d;
	const char *v;
	char *r;
	int fd = mkstemp(path);

	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		if (fd != -1)
			close(fd);
		return xstrdup("(write failed)");
	}
	close(fd);
	d = iniparser_load(path);
	unlink(path);
	if (d == NULL)
		return xstrdup("(syntax error)");
	v = iniparser_getstring(d, seckey, NULL);
	r = xstrdup(v != NULL ? v : "(none)");
	iniparser_freedict(d);
	return r;
}

static void
test_new_section(void)
{
	static const struct confedit_kv kv[] = {
		{ "host", "smtp.gmail.com" },
		{ "port", "465" },
		{ "tls", "implicit" },
		{ "user", "joe@gmail.com" },
		{ "from", "joe@gmail.com" },
		{ "password_command", NULL },
	};
	struct err e;
	char *s, *v;
	size_t n = strlen(conf);

	s = edit(conf, "gmail.com", kv, 6, &e);
	CHECK(s != NULL, "a new account is added");
	if (s == NULL)
		return;
	CHECK(strncmp(s, conf, n) == 0, "every byte of the old file is kept, in order");
	CHECK_STR(s + n,
	    "\n[gmail.com]\nhost = smtp.gmail.com\nport = 465\ntls = implicit\n"
	    "user = joe@gmail.com\nfrom = joe@gmail.com\n",
	    "the account is appended after a blank line; a removed key is not written");
	v = ini_get(s, "gmail.com:port");
	CHECK_STR(v, "465", "iniparser reads the new account");
	free(v);
	v = ini_get(s, "work:password_command");
	CHECK_STR(v, "pass show smtp/work; true", "the other accounts read as before");
	free(v);
	free(s);
}

static void
test_replace_in_place(void)
{
	static const struct confedit_kv kv[] = {
		{ "host", "smtp.new.example" },
		{ "port", "465" },
		{ "tls", "implicit" },
		{ "password_command", NULL },
		{ "password_file", "/etc/mailout/work.password" },
	};
	struct err e;
	char *s, *v;

	s = edit(conf, "work", kv, 5, &e);
	CHECK(s != NULL, "an account's keys are replaced");
	if (s == NULL)
		return;
	CHECK_STR(s,
	    "# /etc/sendmail.conf -- edited by hand since 2019\n"
	    "\n"
	    "[defaults]\n"
	    "account = work   ; the one cron uses\n"
	    "aliases = /etc/aliases\n"
	    "\n"
	    "; Work: the office relay\n"
	    "[work]\n"
	    "host=smtp.new.example\n"
	    "port = 465\n"
	    "user = joe@work.example\n"
	    "tls = implicit\n"
	    "password_file = /etc/mailout/work.password\n"
	    "# keep the fingerprint until the new certificate is out\n"
	    "\n"
	    "[Home]\n"
	    "\thost = mail.home.example\t# the NAS\n"
	    "from = joe@home.example\n",
	    "values replaced on their lines, new keys after the last key, comments kept");
	v = ini_get(s, "work:password_command");
	CHECK_STR(v, "(none)", "a removed key is gone for iniparser");
	free(v);
	free(s);
}

static void
test_comment_after_value(void)
{
	static const struct confedit_kv kv[] = { { "host", "nas.home.example" },
		{ "account", "home" } };
	struct err e;
	char *s, *t;

	s = edit(conf, "home", kv, 1, &e);
	CHECK(s != NULL && strstr(s, "\thost = nas.home.example\t# the NAS\n") != NULL,
	    "a comment after the value stays, with its spacing; [Home] matches home");
	t = s != NULL ? edit(s, "defaults", kv + 1, 1, &e) : NULL;
	CHECK(t != NULL && strstr(t, "account = home   ; the one cron uses\n") != NULL,
	    "[defaults] account is replaced before its comment");
	free(s);
	free(t);
}

static void
test_quoting(void)
{
	static const struct confedit_kv kv[] = {
		{ "password_command", "secret-tool lookup host a; echo" },
		{ "from_name", "Joe \"the admin\" #1" },
		{ "oauth_scope", "x\"y'z;" },
	};
	struct err e;
	struct buf b;
	char *s, *v;

	s = edit("", "q", kv, 2, &e);
	CHECK(s != NULL, "values with ; and # are written");
	v = s != NULL ? ini_get(s, "q:password_command") : NULL;
	CHECK_STR(v, "secret-tool lookup host a; echo", "a ';' survives in double quotes");
	free(v);
	v = s != NULL ? ini_get(s, "q:from_name") : NULL;
	CHECK_STR(v, "Joe \"the admin\" #1", "a '\"' with a '#' goes in single quotes");
	free(v);
	CHECK(s != NULL && strncmp(s, "[q]\n", 4) == 0, "an empty file gets no blank line first");
	free(s);
	s = edit("", "q", kv + 2, 1, &e);
	CHECK(s == NULL && e.cause == CAUSE_CONFIG && strstr(e.msg, "oauth_scope") != NULL,
	    "a value iniparser could not read back is refused, naming the key");
	free(s);
	buf_init(&b, 64);
	CHECK(confedit_quote("a\nb", &b) == -1, "a line break cannot be written");
	CHECK(confedit_quote(" lead", &b) == 0 && strcmp(b.data, "\" lead\"") == 0,
	    "a leading space is kept by quotes");
	buf_reset(&b);
	CHECK(confedit_quote("C:\\dir\\", &b) == 0 && strcmp(b.data, "\"C:\\dir\\\"") == 0,
	    "a trailing backslash is quoted, or iniparser would join the next line");
	buf_free(&b);
}

static void
test_line_endings(void)
{
	static const struct confedit_kv kv[] = { { "host", "b.example" }, { "port", "25" } };
	static const char crlf[] = "[a]\r\nhost = a.example\r\n";
	static const char nonl[] = "[a]\nhost = a.example";
	struct err e;
	char *s;

	s = edit(crlf, "a", kv, 2, &e);
	CHECK_STR(s, "[a]\r\nhost = b.example\r\nport = 25\r\n", "a CRLF file gets CRLF lines");
	free(s);
	s = edit(crlf, "b", kv, 1, &e);
	CHECK_STR(s, "[a]\r\nhost = a.example\r\n\r\n[b]\r\nhost = b.example\r\n",
	    "a new section in a CRLF file");
	free(s);
	s = edit(nonl, "a", kv, 2, &e);
	CHECK_STR(s, "[a]\nhost = b.example\nport = 25\n",
	    "a last line without a line break is replaced and ended");
	free(s);
	s = edit(nonl, "a", kv + 1, 1, &e);
	CHECK_STR(s, "[a]\nhost = a.example\nport = 25\n",
	    "a key added after a last line without a line break");
	free(s);
	s = edit(nonl, "z", kv + 1, 1, &e);
	CHECK_STR(s, "[a]\nhost = a.example\n\n[z]\nport = 25\n",
	    "a new section after a last line without a line break");
	free(s);
}

static void
test_continuation_and_repeats(void)
{
	static const char text[] =
	    "[a]\nhost = one.example\npassword_command = pass \\\n  show x\n"
	    "[b]\nhost = other\n[a]\nhost = two.example\n";
	static const struct confedit_kv kv[] = { { "host", "new.example" },
		{ "password_command", "pass show y" } };
	struct err e;
	char *s, *v;

	s = edit(text, "a", kv, 2, &e);
	CHECK_STR(s,
	    "[a]\nhost = new.example\npassword_command = pass show y\n"
	    "[b]\nhost = other\n[a]\nhost = new.example\n",
	    "a continued line is replaced whole; a repeated section gets the value in both");
	v = s != NULL ? ini_get(s, "a:host") : NULL;
	CHECK_STR(v, "new.example", "iniparser reads the new value");
	free(v);
	free(s);
}

static void
test_get_and_sections(void)
{
	struct buf b;
	char **names;
	size_t n;

	buf_init(&b, 256);
	CHECK(confedit_get(conf, strlen(conf), "defaults", "account", &b) == 1 &&
		strcmp(b.data, "work") == 0,
	    "get: a value before a comment");
	buf_reset(&b);
	CHECK(confedit_get(conf, strlen(conf), "work", "password_command", &b) == 1 &&
		strcmp(b.data, "pass show smtp/work; true") == 0,
	    "get: a quoted value");
	buf_reset(&b);
	CHECK(confedit_get(conf, strlen(conf), "home", "port", &b) == 0, "get: no such key");
	buf_free(&b);
	confedit_sections(conf, strlen(conf), &names, &n);
	CHECK(n == 3 && strcmp(names[0], "defaults") == 0 && strcmp(names[1], "work") == 0 &&
		strcmp(names[2], "home") == 0,
	    "the sections, lower case, in order");
	xfree_strv(names, n);
}

static void
test_files(void)
{
	char dir[] = "/tmp/confedit_dir.XXXXXX", *path, *tmp = NULL, *bak = NULL;
	struct buf old, got;
	struct stat st;
	struct err e;
	int fd;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "a temporary directory");
		return;
	}
	path = NULL;
	MUST(asprintf(&path, "%s/sendmail.conf", dir) > 0 ? 0 : -1);
	buf_init(&old, MAX_CONFIG_FILE);
	buf_init(&got, MAX_CONFIG_FILE);
	err_init(&e);
	CHECK(confedit_read(path, &old, &e) == 0, "a missing file reads as none");
	CHECK(confedit_stage(path, "[a]\n", 4, 0644, &tmp, &e) == 0 &&
		confedit_commit(path, tmp, NULL, &bak, &e) == 0 && bak == NULL,
	    "a new file needs no backup");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "a new file gets the mode");
	chmod(path, 0640);
	CHECK(confedit_read(path, &old, &e) == 1 && old.len == 4, "the file reads back");
	tmp = NULL;
	CHECK(confedit_stage(path, "[b]\n", 4, 0600, &tmp, &e) == 0 &&
		confedit_commit(path, tmp, &old, &bak, &e) == 0 && bak != NULL,
	    "an edit puts the new file in place");
	CHECK(confedit_read(path, &got, &e) == 1 && strcmp(got.data, "[b]\n") == 0,
	    "the new text is there");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640,
	    "the edited file keeps its mode");
	CHECK(bak != NULL && confedit_read(bak, &got, &e) == 1 && strcmp(got.data, "[a]\n") == 0,
	    "the old text is kept as FILE.bak");
	CHECK(bak != NULL && stat(bak, &st) == 0 && (st.st_mode & 07777) == 0640,
	    "the backup has the old file's mode");
	/* Someone else writes the file between our read and our commit. */
	free(bak);
	bak = NULL;
	tmp = NULL;
	MUST(confedit_stage(path, "[c]\n", 4, 0600, &tmp, &e));
	fd = open(path, O_WRONLY | O_APPEND);
	MUST(fd != -1 && write(fd, "x = y\n", 6) == 6 ? 0 : -1);
	close(fd);
	err_init(&e);
	CHECK(confedit_commit(path, tmp, &old, &bak, &e) == -1 &&
		strstr(e.msg, "changed while") != NULL,
	    "a file changed meanwhile is not replaced");
	CHECK(confedit_read(path, &got, &e) >= 0 && strcmp(got.data, "[b]\nx = y\n") == 0,
	    "the other writer's text stays");
	free(bak);
	bak = NULL;
	MUST(asprintf(&bak, "%s/sendmail.conf.bak", dir) > 0 ? 0 : -1);
	unlink(bak);
	unlink(path);
	CHECK(rmdir(dir) == 0, "nothing else is left in the directory");
	free(bak);
	free(path);
	buf_free(&old);
	buf_free(&got);
}

int
main(void)
{
	test_new_section();
	test_replace_in_place();
	test_comment_after_value();
	test_quoting();
	test_line_endings();
	test_continuation_and_repeats();
	test_get_and_sections();
	test_files();
	UNIT_DONE();
}

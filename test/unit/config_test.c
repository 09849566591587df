/*
 * config_test.c: sendmail.conf files written into a private directory and loaded.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config/config.h"
#include "base/err.h"
#include "base/user.h"
#include "unit.h"

static char dir[] = "/tmp/config_test.XXXXXX";
static char sysf[128], userf[128], xf[128];
static struct config cfg;
static struct err e;

static void
write_file(const char *path, mode_t mode, const char *text)
{
	FILE *f;

	unlink(path);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Load sys (or none) and the -C file x (or the user file when x is NULL). */
static int
load(const char *systext, const char *xtext)
{
	config_free(&cfg);
	err_init(&e);
	if (systext != NULL)
		write_file(sysf, 0644, systext);
	else
		unlink(sysf);
	if (xtext != NULL)
		write_file(xf, 0600, xtext);
	else
		unlink(xf);
	return config_load(&cfg, sysf, xtext != NULL ? xf : NULL, &e);
}

/* Only the -C file. */
static int
loadx(const char *xtext)
{
	return load(NULL, xtext);
}

static int
config_error(const char *want)
{
	int ok = e.kind == ERR_PERM && e.cause == CAUSE_CONFIG && strcmp(e.msg, want) == 0;

	if (!ok)
		printf("#   got  \"%s\"\n#   want \"%s\"\n", e.msg, want);
	return ok;
}

/* want is a format with one %s: the path of the -C file. */
static int
xerror(const char *fmt)
{
	char want[2048];

	snprintf(want, sizeof(want), fmt, xf, xf);
	return config_error(want);
}

static void
defaults(void)
{
	const struct account *a;

	CHECK(loadx("[work]\nhost = smtp.example.com\n") == 0, "minimal file loads");
	CHECK(cfg.naccounts == 1, "one account");
	a = config_find(&cfg, "work");
	CHECK(a != NULL, "found by name");
	if (a == NULL)
		return;
	CHECK_STR(a->name, "work", "name");
	CHECK_STR(a->file, xf, "file");
	CHECK_STR(a->host, "smtp.example.com", "host");
	CHECK(a->port == 587 && a->tls == TLS_STARTTLS, "default tls starttls, port 587");
	CHECK(a->tls_verify == 1 && a->tls_min_version == 12, "default verify on, TLS 1.2");
	CHECK(a->tls_ca_file == NULL && a->tls_fingerprint == NULL, "no ca file, no pin");
	CHECK_STR(a->auth, "auto", "default auth");
	CHECK(a->user == NULL && a->password == NULL && a->password_command == NULL,
	    "no credentials");
	CHECK(a->allow_plaintext_auth == 0 && a->oauth == OAUTH_NONE, "plaintext off, no oauth");
	CHECK(a->from == NULL && !a->from_explicit, "no from");
	CHECK(a->rewrite_from == REWRITE_LOCAL, "rewrite_from local");
	CHECK(a->max_message_size == 35 * 1024 * 1024 && a->max_recipients == 1000,
	    "size limit 35M by default, rcpt limit");
	CHECK(a->address_strict == 0 && a->timeout == 60, "strict off, timeout 60");
	CHECK(a->session_timeout == 600, "session_timeout 10 minutes by default");
	CHECK(a->fallback == NULL && a->dsn_notify == NULL && a->dsn_return == NULL,
	    "no fallback, no dsn");
	CHECK_STR(a->domain, host_name(), "domain defaults to the host name");
	CHECK(cfg.default_account == NULL && cfg.default_domain == NULL, "global strings unset");
	CHECK_STR(cfg.aliases, "/etc/aliases", "aliases default");
	CHECK(cfg.queue == 1 && cfg.queue_dir == NULL, "queue on");
	CHECK(cfg.queue_lifetime == 5 * 86400, "queue_lifetime 5d");
	CHECK(cfg.syslog_facility == LOG_MAIL && cfg.logfile == NULL, "syslog mail");
	CHECK(cfg.rewrite_to == 0, "rewrite_to off");
	CHECK_STR(cfg.files_read, xf, "files_read");

	CHECK(loadx("[a]\nhost=h\ntls=implicit\n[b]\nhost=h\ntls=off\n"
		    "[c]\nhost=h\ntls=OPPORTUNISTIC\n[d]\nhost=h\ntls=implicit\nport=2465\n") == 0,
	    "tls modes load");
	CHECK(config_find(&cfg, "a")->port == 465 && config_find(&cfg, "a")->tls == TLS_IMPLICIT,
	    "implicit: 465");
	CHECK(config_find(&cfg, "b")->port == 25 && config_find(&cfg, "b")->tls == TLS_OFF,
	    "off: 25");
	CHECK(config_find(&cfg, "c")->port == 587 &&
		config_find(&cfg, "c")->tls == TLS_OPPORTUNISTIC,
	    "opportunistic: 587");
	CHECK(config_find(&cfg, "d")->port == 2465, "explicit port wins");
	CHECK(loadx("[a]\nhost=h\nport=465\n[b]\nhost=h\nport=465\ntls=starttls\n"
		    "[c]\nhost=h\nport=587\n[d]\nhost=h\nport=25\n") == 0,
	    "ports without tls load");
	CHECK(config_find(&cfg, "a")->tls == TLS_IMPLICIT, "port 465, tls unset: implicit");
	CHECK(config_find(&cfg, "b")->tls == TLS_STARTTLS, "port 465, tls = starttls: as said");
	CHECK(config_find(&cfg, "c")->tls == TLS_STARTTLS, "port 587, tls unset: starttls");
	CHECK(config_find(&cfg, "d")->tls == TLS_STARTTLS, "port 25, tls unset: starttls");

	CHECK(loadx("[g]\noauth = google\nuser = me@gmail.com\noauth_client_id = c\n"
		    "[m]\noauth = Microsoft\nuser = me@example.com\noauth_client_id = c\n") == 0,
	    "oauth providers imply the host");
	CHECK_STR(config_find(&cfg, "g")->host, "smtp.gmail.com", "google host");
	CHECK_STR(config_find(&cfg, "m")->host, "smtp.office365.com", "microsoft host");
	CHECK(config_find(&cfg, "g")->oauth == OAUTH_GOOGLE && config_find(&cfg, "g")->port == 587,
	    "google port");

	CHECK(loadx("[x]\nhost = h\nfrom_name = \"Joe ; Smith\"\npassword_command = "
		    "\"pass show smtp/x # work\"\n") == 0,
	    "quoted values");
	CHECK_STR(config_find(&cfg, "x")->from_name, "Joe ; Smith", "quoted ; kept");
	CHECK_STR(config_find(&cfg, "x")->password_command, "pass show smtp/x # work",
	    "quoted # kept");
	CHECK(loadx("") == 0 && cfg.naccounts == 0, "an empty file is fine");
	CHECK(loadx("; comment\n# another\n\n") == 0 && cfg.naccounts == 0, "comments only");
}

static void
values(void)
{
	const struct account *a;
	char want[PATH_MAX + 32];

	CHECK(loadx(
		  "[defaults]\naccount = Work\ndefault_domain = example.com\n"
		  "aliases = /etc/aliases\nqueue = off\nqueue_dir = /var/spool/x\n"
		  "queue_lifetime = 36h\nsyslog = LOCAL3\nlogfile = ~/mailout.log\n"
		  "rewrite_to = yes\n"
		  "[work]\nhost = smtp.example.com\nport = 2525\ntls = implicit\ntls_verify = no\n"
		  "tls_ca_file = /etc/ssl/ca.pem\n"
		  "tls_fingerprint = SHA256:AB:cd:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
		  "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd\n"
		  "tls_cert_file = /c.pem\ntls_key_file = /k.pem\ntls_min_version = 1.3\n"
		  "tls_server_name = mx.example.com\nauth = SCRAM-SHA-256\nuser = joe\n"
		  "password_file = /run/credentials/x\nallow_plaintext_auth = true\n"
		  "oauth = custom\noauth_client_id = id\noauth_client_secret = sec\n"
		  "oauth_tenant = t\noauth_auth_url = https://a.example/auth\n"
		  "oauth_token_url = http://127.0.0.1:8080/token\n"
		  "oauth_device_url = https://a.example/device\noauth_scope = s1 s2\n"
		  "oauth_token_file = /t\nfrom = joe@example.com\nfrom_name = Joe\n"
		  "rewrite_from = always\nmax_message_size = 25M\nmax_recipients = 100\n"
		  "address_strict = 1\ntimeout = 3600\nsession_timeout = 2h\nfallback = BACKUP\n"
		  "dsn_notify = Failure,Delay\ndsn_return = HDRS\ndomain = mail.%H\n"
		  "[backup]\nhost = backup.example.com\n") == 0,
	    "every key loads");
	a = config_find(&cfg, "WORK");
	CHECK(a != NULL, "find is case-insensitive");
	if (a == NULL)
		return;
	CHECK_STR(cfg.default_account, "work", "account lowercased");
	CHECK_STR(cfg.default_domain, "example.com", "default_domain");
	CHECK_STR(cfg.aliases, "/etc/aliases", "aliases");
	CHECK(cfg.queue == 0, "queue off");
	CHECK_STR(cfg.queue_dir, "/var/spool/x", "queue_dir");
	CHECK(cfg.queue_lifetime == 36 * 3600, "queue_lifetime 36h");
	CHECK(cfg.syslog_facility == LOG_LOCAL3, "syslog local3");
	snprintf(want, sizeof(want), "%s/mailout.log",
	    strcmp(user_home(), "/") == 0 ? "" : user_home());
	CHECK_STR(cfg.logfile, want, "~/ expands to the home of getuid()");
	CHECK(cfg.rewrite_to == 1, "rewrite_to");
	CHECK(a->port == 2525 && a->tls == TLS_IMPLICIT && a->tls_verify == 0, "port tls");
	CHECK_STR(a->tls_ca_file, "/etc/ssl/ca.pem", "ca file");
	CHECK_STR(a->tls_fingerprint,
	    "sha256:abcd00112233445566778899aabbccddeeff0011223344556677"
	    "8899aabbccdd",
	    "fingerprint normalised");
	CHECK_STR(a->tls_cert_file, "/c.pem", "cert");
	CHECK_STR(a->tls_key_file, "/k.pem", "key");
	CHECK(a->tls_min_version == 13, "min version 1.3");
	CHECK_STR(a->tls_server_name, "mx.example.com", "server name");
	CHECK_STR(a->auth, "scram-sha-256", "auth lowercased");
	CHECK_STR(a->user, "joe", "user");
	CHECK_STR(a->password_file, "/run/credentials/x", "password_file");
	CHECK(a->allow_plaintext_auth == 1 && a->oauth == OAUTH_CUSTOM, "plaintext, custom");
	CHECK_STR(a->oauth_client_id, "id", "client id");
	CHECK_STR(a->oauth_client_secret, "sec", "client secret");
	CHECK_STR(a->oauth_tenant, "t", "tenant");
	CHECK_STR(a->oauth_auth_url, "https://a.example/auth", "auth url");
	CHECK_STR(a->oauth_token_url, "http://127.0.0.1:8080/token", "http to localhost ok");
	CHECK_STR(a->oauth_device_url, "https://a.example/device", "device url");
	CHECK_STR(a->oauth_scope, "s1 s2", "scope");
	CHECK_STR(a->oauth_token_file, "/t", "token file");
	CHECK_STR(a->from, "joe@example.com", "from");
	CHECK(a->from_explicit, "from explicit");
	CHECK_STR(a->from_name, "Joe", "from_name");
	CHECK(a->rewrite_from == REWRITE_ALWAYS, "rewrite always");
	CHECK(a->max_message_size == 25 * 1024 * 1024 && a->max_recipients == 100, "limits");
	CHECK(a->address_strict == 1 && a->timeout == 3600, "strict, timeout");
	CHECK(a->session_timeout == 7200, "session_timeout 2h");
	CHECK_STR(a->fallback, "backup", "fallback lowercased");
	CHECK_STR(a->dsn_notify, "failure,delay", "dsn_notify lowercased");
	CHECK_STR(a->dsn_return, "hdrs", "dsn_return lowercased");
	snprintf(want, sizeof(want), "mail.%s", host_name());
	CHECK_STR(a->domain, want, "domain template expanded");

	CHECK(loadx("[defaults]\nsyslog = off\nqueue_lifetime = 600\n[a]\nhost=h\n"
		    "tls_fingerprint = sha256:"
		    "00112233445566778899AABBCCDDEEFF"
		    "00112233445566778899aabbccddeeff\n") == 0,
	    "more values");
	CHECK(cfg.syslog_facility == -1 && cfg.queue_lifetime == 600, "syslog off, seconds");
	CHECK_STR(config_find(&cfg, "a")->tls_fingerprint,
	    "sha256:00112233445566778899aabbcc"
	    "ddeeff00112233445566778899aabbccddeeff",
	    "fingerprint without colons");

	/* An empty value means the built-in default, also over an inherited one. */
	CHECK(loadx("[defaults]\ntimeout = 5\nfrom = x@y\n[a]\nhost = h\ntimeout =\nfrom =\n"
		    "port =\ntls_ca_file =\n") == 0,
	    "empty values load");
	a = config_find(&cfg, "a");
	CHECK(a->timeout == 60 && a->from == NULL && !a->from_explicit && a->port == 587,
	    "empty value resets to the built-in default");

	/* No limit of ours: 0 or off, for the size and the session alike. */
	CHECK(loadx("[a]\nhost = h\nmax_message_size = off\nsession_timeout = off\n"
		    "[b]\nhost = h\nmax_message_size = 0\nsession_timeout = 0\n") == 0,
	    "off and 0 load");
	a = config_find(&cfg, "a");
	CHECK(a->max_message_size == 0 && a->session_timeout == 0, "off: no limits");
	a = config_find(&cfg, "b");
	CHECK(a->max_message_size == 0 && a->session_timeout == 0, "0: no limits");
}

static void
inheritance(void)
{
	const struct account *a, *b;

	CHECK(loadx("[defaults]\nfrom = %U@example.com\ntimeout = 30\nport = 2525\n"
		    "user = shared\n[a]\nhost = a.example\n[b]\nhost = b.example\ntimeout = 10\n"
		    "from = b@example.com\n") == 0,
	    "inheritance loads");
	a = config_find(&cfg, "a");
	b = config_find(&cfg, "b");
	CHECK(a != NULL && b != NULL, "both accounts");
	if (a == NULL || b == NULL)
		return;
	CHECK(a->timeout == 30 && b->timeout == 10, "timeout inherited / overridden");
	CHECK(a->port == 2525 && b->port == 2525, "port inherited");
	CHECK_STR(a->user, "shared", "user inherited");
	CHECK_STR(a->from, "%U@example.com", "from template inherited unexpanded");
	CHECK(!a->from_explicit, "inherited from is not explicit");
	CHECK_STR(b->from, "b@example.com", "own from");
	CHECK(b->from_explicit, "own from is explicit");

	/* A later file: its [defaults] override, its accounts replace and come first. */
	write_file(sysf, 0644,
	    "[defaults]\ntimeout = 5\naccount = a\nport = 26\n"
	    "[a]\nhost = sys.a\ntls = off\n[b]\nhost = sys.b\n");
	write_file(xf, 0600, "[defaults]\ntimeout = 7\n[a]\nhost = user.a\n[c]\nhost = user.c\n");
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, sysf, xf, &e) == 0, "two files load");
	CHECK(cfg.naccounts == 3, "three accounts");
	if (cfg.naccounts != 3)
		return;
	CHECK_STR(cfg.accounts[0].name, "a", "later file first: a");
	CHECK_STR(cfg.accounts[1].name, "c", "later file first: c");
	CHECK_STR(cfg.accounts[2].name, "b", "then the earlier file: b");
	a = config_find(&cfg, "a");
	CHECK_STR(a->host, "user.a", "account replaced by the later file");
	CHECK(a->tls == TLS_STARTTLS, "replaced, not merged: tls from sys is gone");
	CHECK_STR(a->file, xf, "replaced account's file");
	CHECK(a->timeout == 7 && config_find(&cfg, "b")->timeout == 7, "later defaults win");
	CHECK(a->port == 26, "earlier defaults still inherited");
	CHECK_STR(config_find(&cfg, "b")->file, sysf, "sys account's file");
	CHECK_STR(cfg.default_account, "a", "account from the system defaults");
	{
		char want[2 * PATH_MAX + 4];

		snprintf(want, sizeof(want), "%s, %s", sysf, xf);
		CHECK_STR(cfg.files_read, want, "files_read lists both");
	}
}

static void
files(void)
{
	char ufile[PATH_MAX + 32], want[PATH_MAX + 64];

	/* The user file comes from XDG_CONFIG_HOME; -C replaces it. */
	snprintf(ufile, sizeof(ufile), "%s/mailout", dir);
	mkdir(ufile, 0700);
	snprintf(ufile, sizeof(ufile), "%s/mailout/sendmail.conf", dir);
	write_file(ufile, 0600, "[u]\nhost = user.example\n");
	setenv("XDG_CONFIG_HOME", dir, 1);
	CHECK(load("[s]\nhost = sys.example\n", NULL) == 0, "sys + user file load");
	CHECK(config_find(&cfg, "u") != NULL && config_find(&cfg, "s") != NULL,
	    "user file read from XDG_CONFIG_HOME");
	CHECK(load("[s]\nhost = sys.example\n", "[x]\nhost = x\n") == 0, "-C loads");
	CHECK(config_find(&cfg, "u") == NULL && config_find(&cfg, "x") != NULL,
	    "-C replaces the user file");
	CHECK(config_find(&cfg, "s") != NULL, "-C keeps the system file");
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	/* (This one reads the real ~/.config file, if any: only check that ours is not read.) */
	load(NULL, NULL);
	CHECK(config_find(&cfg, "u") == NULL, "a relative XDG_CONFIG_HOME is ignored");
	unlink(ufile);
	snprintf(ufile, sizeof(ufile), "%s/no-user-config", dir);
	setenv("XDG_CONFIG_HOME", ufile, 1);

	CHECK(load(NULL, NULL) == 0, "no file at all loads");
	CHECK(cfg.naccounts == 0 && cfg.queue == 1, "defaults with no file");

	config_free(&cfg);
	err_init(&e);
	unlink(xf);
	CHECK(config_load(&cfg, sysf, xf, &e) == -1 &&
		xerror("%s: cannot open: No such file or directory"),
	    "-C must exist");
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, dir, NULL, &e) == -1, "a directory is refused");
	snprintf(want, sizeof(want), "%s: not a regular file", dir);
	CHECK(config_error(want), "a directory: message");
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, "/dev/null", NULL, &e) == -1 &&
		config_error("/dev/null: not a regular file"),
	    "a device is refused");

	{
		FILE *f;
		int i;

		config_free(&cfg);
		err_init(&e);
		f = fopen(xf, "w");
		for (i = 0; i < 100000; i++)
			fputs("; padding \n", f);
		fclose(f);
		CHECK(config_load(&cfg, NULL, xf, &e) == -1 &&
			xerror("%s: larger than 1048576 bytes: not a configuration file"),
		    "too large");
	}

	unsetenv("MAILOUT_SYSCONF");
	CHECK_STR(config_system_path(), SYSCONFDIR "/sendmail.conf", "system path");
	setenv("MAILOUT_SYSCONF", "/nonexistent", 1);
	CHECK_STR(config_system_path(), "/nonexistent", "MAILOUT_SYSCONF overrides");
	setenv("MAILOUT_SYSCONF", "", 1);
	CHECK_STR(config_system_path(), SYSCONFDIR "/sendmail.conf", "empty is ignored");
	unsetenv("MAILOUT_SYSCONF");
}

/* Each row: the file's text after "[a]\nhost = h\n" and the message after "FILE: ". */
static const struct {
	const char *text;
	const char *msg;
} bad[] = {
	{ "port = 99999\n", "[a] port = 99999: not a port number (accepted: 1-65535)" },
	{ "port = 0\n", "[a] port = 0: not a port number (accepted: 1-65535)" },
	{ "port = 25x\n", "[a] port = 25x: not a port number (accepted: 1-65535)" },
	{ "port = -1\n", "[a] port = -1: not a port number (accepted: 1-65535)" },
	{ "tls = ssl\n",
	    "[a] tls = ssl: not a TLS mode (accepted: off, opportunistic, "
	    "starttls, implicit)" },
	{ "tls_verify = maybe\n",
	    "[a] tls_verify = maybe: not a boolean (accepted: on, off, "
	    "yes, no, true, false, 1, 0)" },
	{ "tls_fingerprint = AB:CD\n",
	    "[a] tls_fingerprint = AB:CD: not a certificate "
	    "fingerprint (accepted: sha256: followed by 32 hex bytes, colons optional)" },
	{ "tls_fingerprint = sha256:0011\n",
	    "[a] tls_fingerprint = sha256:0011: not a "
	    "certificate fingerprint (accepted: sha256: followed by 32 hex bytes, colons "
	    "optional)" },
	{ "tls_fingerprint = sha256:00112233445566778899aabbccddeeff00112233445566778899aa"
	  "bbccddeefg\n",
	    "[a] tls_fingerprint = sha256:00112233445566778899aabbccddeeff001"
	    "12233445566778899aabbccddeefg: not a certificate fingerprint (accepted: sha256: "
	    "followed by 32 hex bytes, colons optional)" },
	{ "tls_min_version = 1.1\n",
	    "[a] tls_min_version = 1.1: not a TLS version "
	    "(accepted: 1.2, 1.3)" },
	{ "auth = digest-md5\n",
	    "[a] auth = digest-md5: not an authentication method "
	    "(accepted: auto, off, plain, login, cram-md5, scram-sha-1, scram-sha-256, "
	    "xoauth2, oauthbearer, external)" },
	{ "allow_plaintext_auth = 2\n",
	    "[a] allow_plaintext_auth = 2: not a boolean "
	    "(accepted: on, off, yes, no, true, false, 1, 0)" },
	{ "oauth = yahoo\n",
	    "[a] oauth = yahoo: not an OAuth2 provider (accepted: none, "
	    "google, microsoft, custom)" },
	{ "oauth_token_url = http://example.com/t\n",
	    "[a] oauth_token_url = "
	    "http://example.com/t: not an HTTPS URL (accepted: https://..., or http:// to "
	    "localhost only)" },
	{ "oauth_auth_url = ftp://x\n",
	    "[a] oauth_auth_url = ftp://x: not an HTTPS URL "
	    "(accepted: https://..., or http:// to localhost only)" },
	{ "oauth_device_url = http://localhost.evil.com/\n",
	    "[a] oauth_device_url = "
	    "http://localhost.evil.com/: not an HTTPS URL (accepted: https://..., or http:// "
	    "to localhost only)" },
	{ "from = %u@x\n",
	    "[a] from = %u@x: not an address template (accepted: an address "
	    "without spaces; %U user, %H host name, %% a percent sign)" },
	{ "from = joe smith@x\n",
	    "[a] from = joe smith@x: not an address template (accepted: "
	    "an address without spaces; %U user, %H host name, %% a percent sign)" },
	{ "rewrite_from = sometimes\n",
	    "[a] rewrite_from = sometimes: not a rewrite mode "
	    "(accepted: never, local, always)" },
	{ "max_message_size = 25MB\n",
	    "[a] max_message_size = 25MB: not a size (accepted: "
	    "bytes, or a number with K, M or G; 0 or off for no limit)" },
	{ "session_timeout = soon\n",
	    "[a] session_timeout = soon: not a time limit (accepted: "
	    "seconds, or a number with s, m or h, e.g. 10m; 0 or off for none)" },
	{ "session_timeout = 2d\n",
	    "[a] session_timeout = 2d: not a time limit (accepted: "
	    "seconds, or a number with s, m or h, e.g. 10m; 0 or off for none)" },
	{ "max_recipients = 0\n",
	    "[a] max_recipients = 0: not a recipient count (accepted: "
	    "1-10000)" },
	{ "max_recipients = 10001\n",
	    "[a] max_recipients = 10001: not a recipient count "
	    "(accepted: 1-10000)" },
	{ "address_strict = enabled\n",
	    "[a] address_strict = enabled: not a boolean "
	    "(accepted: on, off, yes, no, true, false, 1, 0)" },
	{ "timeout = 0\n", "[a] timeout = 0: not a timeout in seconds (accepted: 1-3600)" },
	{ "timeout = 3601\n",
	    "[a] timeout = 3601: not a timeout in seconds (accepted: "
	    "1-3600)" },
	{ "timeout = 1m\n", "[a] timeout = 1m: not a timeout in seconds (accepted: 1-3600)" },
	{ "fallback = no/such\n",
	    "[a] fallback = no/such: not an account name (accepted: "
	    "letters, digits, . _ - @ +)" },
	{ "dsn_notify = never,failure\n",
	    "[a] dsn_notify = never,failure: not a DSN notify "
	    "list (accepted: never, or a comma list of success, failure, delay)" },
	{ "dsn_notify = failure,\n",
	    "[a] dsn_notify = failure,: not a DSN notify list "
	    "(accepted: never, or a comma list of success, failure, delay)" },
	{ "dsn_return = body\n",
	    "[a] dsn_return = body: not a DSN return type (accepted: "
	    "full, hdrs)" },
	{ "domain = %X\n",
	    "[a] domain = %X: not a domain name (accepted: a host name; %H this "
	    "host's name)" },
	{ "domain = a b\n",
	    "[a] domain = a b: not a domain name (accepted: a host name; %H "
	    "this host's name)" },
	{ "tls_server_name = a/b\n",
	    "[a] tls_server_name = a/b: not a host name (accepted: "
	    "a name or address, no spaces)" },
	{ "tls_ca_file = certs/ca.pem\n",
	    "[a] tls_ca_file = certs/ca.pem: not an absolute "
	    "path (accepted: /path, or ~/path in your home)" },
	{ "password_file = ~joe/pw\n",
	    "[a] password_file = ~joe/pw: not an absolute path "
	    "(accepted: /path, or ~/path in your home)" },
	{ "prot = 25\n",
	    "[a] key 'prot': unknown key (see sendmail.conf(5)); did you mean "
	    "'port'?" },
	{ "tls_verfy = on\n",
	    "[a] key 'tls_verfy': unknown key (see sendmail.conf(5)); did "
	    "you mean 'tls_verify'?" },
	{ "pasword = x\n",
	    "[a] key 'pasword': unknown key (see sendmail.conf(5)); did you "
	    "mean 'password'?" },
	{ "xyzzy = 1\n", "[a] key 'xyzzy': unknown key (see sendmail.conf(5))" },
	{ "queue = off\n", "[a] queue: allowed only in [defaults], not in an account" },
	{ "account = a\n", "[a] account: allowed only in [defaults], not in an account" },
	{ "syslog = mail\n", "[a] syslog: allowed only in [defaults], not in an account" },
	{ "rewrite_to = on\n", "[a] rewrite_to: allowed only in [defaults], not in an account" },
	{ "default_domain = x\n",
	    "[a] default_domain: allowed only in [defaults], not in an "
	    "account" },
	{ "[defaults]\nqueue = maybe\n",
	    "[defaults] queue = maybe: not a boolean (accepted: "
	    "on, off, yes, no, true, false, 1, 0)" },
	{ "[defaults]\nqueue_lifetime = 5w\n",
	    "[defaults] queue_lifetime = 5w: not a duration "
	    "(accepted: seconds, or a number with s, m, h or d, e.g. 5d; at most 3650d)" },
	{ "[defaults]\nqueue_lifetime = 0\n",
	    "[defaults] queue_lifetime = 0: not a duration "
	    "(accepted: seconds, or a number with s, m, h or d, e.g. 5d; at most 3650d)" },
	{ "[defaults]\nqueue_lifetime = 3651d\n",
	    "[defaults] queue_lifetime = 3651d: not a "
	    "duration (accepted: seconds, or a number with s, m, h or d, e.g. 5d; at most "
	    "3650d)" },
	{ "[defaults]\nsyslog = local8\n",
	    "[defaults] syslog = local8: not a syslog facility "
	    "(accepted: mail, user, daemon, local0-local7, off)" },
	{ "[defaults]\nqueue_dir = spool\n",
	    "[defaults] queue_dir = spool: not an absolute "
	    "path (accepted: /path, or ~/path in your home)" },
	{ "[defaults]\ndefault_domain = ex ample\n",
	    "[defaults] default_domain = ex ample: "
	    "not a host name (accepted: a name or address, no spaces)" },
	{ "[defaults]\nport = 70000\n",
	    "[defaults] port = 70000: not a port number (accepted: "
	    "1-65535)" },
	{ "[defaults]\ntimeot = 5\n",
	    "[defaults] key 'timeot': unknown key (see "
	    "sendmail.conf(5)); did you mean 'timeout'?" },
	{ "[defaults]\naccount = nope\n", "[defaults] account = nope: no such account" },
	{ "[b c]\nhost = h\n",
	    "[b c]: not an account name (accepted: letters, digits, . _ - @ "
	    "+)" },
	{ "[b:c]\nhost = h\n",
	    "[b:c]: not an account name (accepted: letters, digits, . _ - @ "
	    "+)" },
};

static void
bad_values(void)
{
	char text[1024], want[2048], name[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[a]\nhost = h\n%s", bad[i].text);
		snprintf(want, sizeof(want), "%s: %s", xf, bad[i].msg);
		snprintf(name, sizeof(name), "bad value %.*s", (int)strcspn(bad[i].text, "\n"),
		    bad[i].text);
		CHECK(loadx(text) == -1 && config_error(want), name);
		CHECK(cfg.naccounts == 0 && cfg.accounts == NULL, "nothing left on error");
	}

	CHECK(loadx("top = 1\n[a]\nhost = h\n") == -1 &&
		xerror(
		    "%s: key 'top' is outside any section (start with [defaults] or [account])"),
	    "key before any section");
	CHECK(loadx("[a]\nhost = h\nfoo bar\n") == -1 &&
		xerror(
		    "%s: syntax error on line 3 (expected [section], key = value, or a comment)"),
	    "syntax error names the line");
	CHECK(loadx("[a]\nhost = h\n[b\n") == -1 &&
		xerror(
		    "%s: syntax error on line 3 (expected [section], key = value, or a comment)"),
	    "unclosed section");
	{
		char longline[1200];

		memset(longline, 'x', sizeof(longline));
		memcpy(longline, "[a]\nhost = ", 11);
		longline[sizeof(longline) - 2] = '\n';
		longline[sizeof(longline) - 1] = '\0';
		CHECK(loadx(longline) == -1 &&
			xerror("%s: line 2 is too long (at most 1023 characters)"),
		    "long line");
	}
	CHECK(loadx("[a]\nport = 25\n") == -1 &&
		xerror("%s: [a] host: missing (every account "
		       "needs one, unless oauth is google or microsoft)"),
	    "host missing");
	CHECK(loadx("[a]\n") == -1 &&
		xerror("%s: [a] host: missing (every account needs one, "
		       "unless oauth is google or microsoft)"),
	    "empty section");
	CHECK(loadx("[a]\noauth = custom\n") == -1 &&
		xerror("%s: [a] host: missing (every "
		       "account needs one, unless oauth is google or microsoft)"),
	    "custom needs host");
	CHECK(loadx("[a]\nhost = h\noauth = custom\nuser = u\noauth_client_id = c\n") == -1 &&
		xerror("%s: [a] "
		       "oauth_token_url: missing (oauth = custom needs it)"),
	    "custom needs token url");
	CHECK(loadx("[a]\nhost = h\ntls_cert_file = /c\n") == -1 &&
		xerror("%s: [a] "
		       "tls_key_file: missing (tls_cert_file needs it: give both or neither)"),
	    "cert without key");
	CHECK(loadx("[a]\nhost = h\ntls_key_file = /k\n") == -1 &&
		xerror("%s: [a] "
		       "tls_cert_file: missing (tls_key_file needs it: give both or neither)"),
	    "key without cert");
	CHECK(loadx("[defaults]\ntls_cert_file = /c\ntls_key_file = /k\n[a]\nhost = h\n"
		    "tls_key_file =\n") == -1,
	    "pair broken by an empty override");
}

static void
passwords(void)
{
	char want[2 * PATH_MAX + 256];
	const struct account *a;

	write_file(xf, 0644, "[a]\nhost = h\nuser = u\npassword = s3cret\n");
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, NULL, xf, &e) == -1, "password in a 0644 file is refused");
	snprintf(want, sizeof(want),
	    "%s: [a] password: the file can be read by other users "
	    "(mode 0644); run chmod 600 %s, or use password_command, password_file or the "
	    "keyring instead",
	    xf, xf);
	CHECK(config_error(want), "password refusal names the file and the fix");
	CHECK(strstr(e.msg, "s3cret") == NULL, "the password is not in the message");

	chmod(xf, 0640);
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, NULL, xf, &e) == -1, "password in a 0640 file is refused");
	chmod(xf, 0604);
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, NULL, xf, &e) == -1, "password in a 0604 file is refused");
	chmod(xf, 0600);
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, NULL, xf, &e) == 0, "password in a 0600 file loads");
	a = config_find(&cfg, "a");
	CHECK(a != NULL && a->password != NULL && strcmp(a->password, "s3cret") == 0,
	    "password value");
	chmod(xf, 0400);
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, NULL, xf, &e) == 0, "password in a 0400 file loads");

	write_file(xf, 0644, "[defaults]\npassword = s3cret\n[a]\nhost = h\n");
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, NULL, xf, &e) == -1 &&
		strstr(e.msg, "[defaults] password:") != NULL,
	    "password in [defaults] of a 0644 file is refused");
	write_file(xf, 0644, "[a]\nhost = h\npassword =\npassword_command = pass x\n");
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, NULL, xf, &e) == 0, "empty password in a 0644 file is fine");
	CHECK(loadx("[a]\nhost = h\nuser = u\n") == 0 && config_find(&cfg, "a")->password == NULL,
	    "no password");

	/* A password-less system file may be world-readable while the user file has one. */
	write_file(sysf, 0644, "[defaults]\nport = 2525\n[s]\nhost = s\n");
	write_file(xf, 0600, "[a]\nhost = h\npassword = pw\n");
	config_free(&cfg);
	err_init(&e);
	CHECK(config_load(&cfg, sysf, xf, &e) == 0, "0600 user file with a 0644 system file");
}

static void
fallbacks(void)
{
	CHECK(loadx("[a]\nhost = h\nfallback = b\n[b]\nhost = h\nfallback = c\n[c]\nhost = h\n") ==
		0,
	    "a fallback chain is fine");
	CHECK_STR(config_find(&cfg, "a")->fallback, "b", "a -> b");
	CHECK_STR(config_find(&cfg, "b")->fallback, "c", "b -> c");
	CHECK(config_find(&cfg, "c")->fallback == NULL, "c ends it");
	CHECK(loadx("[a]\nhost = h\nfallback = nope\n") == -1 &&
		xerror("%s: [a] fallback = nope: no such account"),
	    "fallback to nothing");
	CHECK(loadx("[a]\nhost = h\nfallback = a\n") == -1 &&
		xerror("%s: [a] fallback = a: an account cannot fall back to itself"),
	    "fallback to itself");
	CHECK(loadx("[a]\nhost = h\nfallback = b\n[b]\nhost = h\nfallback = a\n") == -1 &&
		xerror("%s: [a] fallback = b: fallback loop (a -> b -> a)"),
	    "two-account loop");
	CHECK(loadx("[x]\nhost = h\nfallback = a\n[a]\nhost = h\nfallback = b\n[b]\nhost = h\n"
		    "fallback = c\n[c]\nhost = h\nfallback = a\n") == -1 &&
		xerror("%s: [a] fallback = b: fallback loop (a -> b -> c -> a)"),
	    "three-account loop reached from outside");
	CHECK(loadx("[defaults]\nfallback = backup\n[a]\nhost = h\n[backup]\nhost = h\n") == 0,
	    "fallback in [defaults] skips the account it names");
	CHECK_STR(config_find(&cfg, "a")->fallback, "backup", "a inherits the fallback");
	CHECK(config_find(&cfg, "backup")->fallback == NULL,
	    "backup does not fall back to "
	    "itself");
}

static const struct account *
sel(const char *name, const char *sender)
{
	err_init(&e);
	return config_select(&cfg, name, sender, &e);
}

static int
selected(const struct account *a, const char *want)
{
	int ok = a != NULL && strcmp(a->name, want) == 0;

	if (!ok)
		printf("#   selected %s (%s), want %s\n", a != NULL ? a->name : "none", e.msg,
		    want);
	return ok;
}

static void
selection(void)
{
	char tmpl[128], want[256];
	char *s;

	CHECK(loadx("[defaults]\nfrom = %U@example.com\n"
		    "[work]\nhost = w\nfrom = Joe@Work.example\n"
		    "[glob]\nhost = g\nfrom = *@lists.example\n"
		    "[exact]\nhost = e\nfrom = alice@lists.example\n"
		    "[tagged]\nhost = t\nfrom = bob+smtp@t.example\n"
		    "[plain]\nhost = p\n") == 0,
	    "selection config loads");
	CHECK(selected(sel("plain", "joe@work.example"), "plain"), "-a wins over the sender");
	CHECK(selected(sel("WORK", NULL), "work"), "-a is case-insensitive");
	CHECK(sel("nope", NULL) == NULL &&
		config_error("account 'nope' is not defined "
			     "(accounts: work, glob, exact, tagged, plain)"),
	    "-a unknown");
	CHECK(selected(sel(NULL, "joe@work.example"), "work"), "sender matches from");
	CHECK(selected(sel(NULL, "JOE@WORK.EXAMPLE"), "work"), "case-insensitive");
	CHECK(selected(sel(NULL, "joe+cron@work.example"), "work"), "user+tag matches user");
	CHECK(selected(sel(NULL, "joe+a+b@work.example"), "work"), "user+tag+tag");
	CHECK(selected(sel(NULL, "bob+smtp@t.example"), "tagged"), "a tagged from matches as is");
	CHECK(selected(sel(NULL, "x@lists.example"), "glob"), "glob");
	CHECK(selected(sel(NULL, "X+y@LISTS.example"), "glob"), "glob, tag, case");
	CHECK(selected(sel(NULL, "alice@lists.example"), "exact"), "exact beats an earlier glob");
	CHECK(sel(NULL, "someone@else.example") == NULL, "no match, no default");
	CHECK(
	    config_error(
		"cannot choose an account for sender <someone@else.example>: no "
		"account's from matches it, [defaults] sets no account, and there are 5 accounts "
		"(work, glob, exact, tagged, plain); use -a NAME"),
	    "no match: message");
	CHECK(sel(NULL, NULL) == NULL &&
		config_error("cannot choose an account: no sender to "
			     "match, [defaults] sets no account, and there are 5 accounts "
			     "(work, glob, exact, "
			     "tagged, plain); use -a NAME"),
	    "no sender: message");
	/* plain inherits a from template, which must not select it. */
	snprintf(want, sizeof(want), "%s@example.com", user_name());
	CHECK(sel(NULL, want) == NULL, "an inherited from does not select");

	CHECK(loadx("[defaults]\naccount = b\n[a]\nhost = h\nfrom = a@x\n[b]\nhost = h\n") == 0,
	    "default account config");
	CHECK(selected(sel(NULL, "other@x"), "b"), "[defaults] account when nothing matches");
	CHECK(selected(sel(NULL, "a@x"), "a"), "a match beats [defaults] account");
	CHECK(selected(sel(NULL, ""), "b"), "null sender: default account");
	CHECK(selected(sel(NULL, NULL), "b"), "no sender: default account");

	CHECK(loadx("[only]\nhost = h\nfrom = o@x\n") == 0, "single account config");
	CHECK(selected(sel(NULL, "someone@else"), "only"), "the only account");
	CHECK(selected(sel(NULL, NULL), "only"), "the only account, no sender");

	snprintf(tmpl, sizeof(tmpl), "[me]\nhost = h\nfrom = %%U@me.example\n[x]\nhost = h\n");
	CHECK(loadx(tmpl) == 0, "template from config");
	snprintf(want, sizeof(want), "%s@me.example", user_name());
	CHECK(selected(sel(NULL, want), "me"), "an explicit from template is expanded");

	CHECK(loadx("") == 0, "empty config");
	CHECK(sel(NULL, "a@b") == NULL, "no account at all");
	snprintf(want, sizeof(want), "no account is configured in %s (see sendmail.conf(5))", xf);
	CHECK(config_error(want), "no account: message");
	CHECK(sel("work", NULL) == NULL &&
		config_error("account 'work' is not defined: no "
			     "accounts are configured"),
	    "-a with no accounts");
	snprintf(want, sizeof(want),
	    "no account is configured: neither %s nor the user's "
	    "~/.config/mailout/sendmail.conf exists; create one with an account (see "
	    "sendmail.conf(5))",
	    config_system_path());
	CHECK(load(NULL, NULL) == 0 && sel(NULL, NULL) == NULL && config_error(want),
	    "no file: message");

	s = config_expand("%U@%H 100%% %x");
	snprintf(want, sizeof(want), "%s@%s 100%% %%x", user_name(), host_name());
	CHECK_STR(s, want, "config_expand");
	free(s);
	s = config_expand("");
	CHECK_STR(s, "", "config_expand empty");
	free(s);
	s = config_expand("trailing%");
	CHECK_STR(s, "trailing%", "config_expand trailing percent");
	free(s);
}

/* [listen]: defaults, every key, the lists, and the rules that join keys. */
static void
listen_section(void)
{
	const struct listen_config *l = &cfg.listen;
	char buf[CIDR_STR_LEN];

	CHECK(loadx("[work]\nhost = h\n") == 0, "no [listen]: defaults");
	CHECK(l->addrs.n == 2 && l->addrs_default, "default: two addresses, marked default");
	CHECK_STR(l->addrs.v[0].host, "127.0.0.1", "default address 127.0.0.1");
	CHECK_STR(l->addrs.v[1].host, "::1", "default address ::1");
	CHECK(l->port == 25 && l->max_connections == 20 && l->max_connections_per_ip == 10,
	    "port 25, 20 connections, 10 per address");
	CHECK(l->max_recipients == 100 && l->max_message_size == 35 * 1024 * 1024,
	    "100 recipients, 35M");
	CHECK(l->command_timeout == 300 && l->session_timeout == 1800, "timeouts");
	CHECK(l->allow_from.n == 0 && l->safe_ips.n == 0 && l->own_addresses == OWN_NORMAL,
	    "no ranges, no safe addresses, own addresses normal");
	CHECK(l->auth == LAUTH_OFF && l->users_file == NULL && l->user == NULL, "auth off");
	CHECK(l->relay == RELAY_BY_SENDER && l->senders.n == 0, "account by sender, any sender");
	CHECK_STR(l->run_as, "mailout", "run_as mailout");
	CHECK(l->tls_cert_file == NULL && l->tls_min_version == 12, "no TLS, 1.2");
	CHECK_STR(l->hostname, host_name(), "hostname: this host");

	CHECK(loadx(
		  "[work]\nhost = h\n[listen]\naddress = 192.0.2.7, [2001:db8::1]:2525 "
		  "mail.example.com:587 fe80::1\nport = 2526\nmax_connections = 5\n"
		  "max_connections_per_ip = 2\nmax_recipients = 3\nmax_message_size = 1M\n"
		  "command_timeout = 10\nsession_timeout = 7200\n"
		  "allow_from = 192.168.1.0/24,10.0.0.0/8 2001:db8::/32\nsafe_ips = 192.168.1.20\n"
		  "own_addresses = Block\nauth = required\nusers_file = /etc/mailout/users\n"
		  "senders = *@example.com, scanner@example.org\naccount = work\n"
		  "run_as = mo-listen\ntls_cert_file = /c.pem\ntls_key_file = /k.pem\n"
		  "tls_min_version = 1.3\nhostname = relay.%H\n") == 0,
	    "every [listen] key loads");
	CHECK(l->addrs.n == 4 && !l->addrs_default, "four addresses");
	if (l->addrs.n == 4) {
		CHECK_STR(l->addrs.v[0].host, "192.0.2.7", "IPv4 address");
		CHECK(l->addrs.v[0].port == 0, "no port: the section's");
		CHECK_STR(l->addrs.v[1].host, "2001:db8::1", "IPv6 in brackets");
		CHECK(l->addrs.v[1].port == 2525, "its port");
		CHECK_STR(l->addrs.v[2].host, "mail.example.com", "a host name");
		CHECK(l->addrs.v[2].port == 587, "name:port");
		CHECK_STR(l->addrs.v[3].host, "fe80::1", "bare IPv6");
	}
	CHECK(l->port == 2526 && l->max_connections == 5 && l->max_connections_per_ip == 2,
	    "port and connections");
	CHECK(l->max_recipients == 3 && l->max_message_size == 1024 * 1024, "limits");
	CHECK(l->command_timeout == 10 && l->session_timeout == 7200, "timeouts set");
	CHECK(l->allow_from.n == 3, "three ranges");
	if (l->allow_from.n == 3) {
		CHECK_STR(cidr_str(&l->allow_from.v[0], buf, sizeof(buf)), "192.168.1.0/24",
		    "first range");
		CHECK_STR(cidr_str(&l->allow_from.v[2], buf, sizeof(buf)), "2001:db8::/32",
		    "IPv6 range");
	}
	CHECK(l->safe_ips.n == 1 && l->safe_ips.v[0].bits == 32, "a safe host");
	CHECK(l->own_addresses == OWN_BLOCK && l->auth == LAUTH_REQUIRED, "block, required");
	CHECK_STR(l->users_file, "/etc/mailout/users", "users_file");
	CHECK(l->senders.n == 2, "two senders");
	if (l->senders.n == 2)
		CHECK_STR(l->senders.v[1], "scanner@example.org", "second sender");
	CHECK(l->relay == RELAY_FIXED, "a fixed account");
	CHECK_STR(l->account, "work", "its name");
	CHECK_STR(l->run_as, "mo-listen", "run_as");
	CHECK(l->tls_cert_file != NULL && l->tls_key_file != NULL && l->tls_min_version == 13,
	    "TLS files, 1.3");

	CHECK(loadx("[listen]\nauth = required\nuser = scanner\npassword_file = /p\n"
		    "account = by-user\n") == 0,
	    "one user, account by user");
	CHECK(l->relay == RELAY_BY_USER, "by-user");
	CHECK_STR(l->user, "scanner", "the user");

	CHECK(load("[listen]\nport = 2525\nallow_from = 10.0.0.0/8\n",
		  "[listen]\nport = 2626\n") == 0,
	    "[listen] in two files");
	CHECK(l->port == 2626 && l->allow_from.n == 1, "the later file's key wins, others stay");

	CHECK(loadx("[listen]\nhost = x\n") == -1, "an account key in [listen]");
	CHECK(xerror("%s: [listen] key 'host': unknown key (see sendmail.conf(5)); did you "
		     "mean 'port'?"),
	    "is unknown there, and a [listen] key is suggested");
	CHECK(loadx("[w]\nhost = h\nallow_from = 10.0.0.0/8\n") == -1,
	    "a [listen] key in an account");
	CHECK(xerror("%s: [w] key 'allow_from': unknown key (see sendmail.conf(5))"),
	    "is unknown there");
	CHECK(loadx("[listen]\nallow_from = 192.168.1.5/24\n") == -1, "host bits set");
	CHECK(
	    xerror(
		"%s: [listen] allow_from = 192.168.1.5/24: not a list of address ranges "
		"(accepted: addresses or ranges (192.168.1.0/24, 2001:db8::/32, with no bits set "
		"past the prefix), separated by commas or spaces)"),
	    "named with what is accepted");
	CHECK(loadx("[listen]\nallow_from = 10.0.0.0/33\n") == -1, "prefix too long");
	CHECK(loadx("[listen]\naddress = [::1\n") == -1, "unclosed bracket");
	CHECK(loadx("[listen]\naddress = 127.0.0.1:0\n") == -1, "port 0");
	CHECK(loadx("[listen]\naddress = 1::2::3\n") == -1, "not IPv6");
	CHECK(loadx("[listen]\naddress = ,\n") == -1, "no address");
	CHECK(xerror("%s: [listen] address: empty (give the addresses to listen on, or leave "
		     "the key out for 127.0.0.1 and ::1)"),
	    "says so");
	CHECK(loadx("[listen]\nown_addresses = trusted\n") == -1, "own_addresses word");
	CHECK(xerror("%s: [listen] own_addresses = trusted: not a rule for this computer's own "
		     "addresses (accepted: normal, block, safe)"),
	    "lists the words");
	CHECK(loadx("[listen]\nrun_as = root\n") == -1, "run_as root refused");
	CHECK(loadx("[listen]\nmax_connections = 0\n") == -1, "0 connections");
	CHECK(loadx("[listen]\nauth = required\n") == -1, "auth without users");
	CHECK(xerror("%s: [listen] auth = required: no users (set users_file, or user and "
		     "password_file)"),
	    "says where users come from");
	CHECK(loadx("[listen]\nusers_file = /u\n") == -1, "users but auth off");
	CHECK(xerror("%s: [listen] users_file is set but auth = off: nobody would be asked for "
		     "a password (set auth = required, or remove it)"),
	    "says auth is off");
	CHECK(loadx("[listen]\nauth = required\nuser = x\n") == -1, "user alone");
	CHECK(xerror("%s: [listen] password_file: missing (user needs it: the one user's name "
		     "and the file with its password)"),
	    "names password_file");
	CHECK(loadx("[listen]\naccount = nosuch\n") == -1, "an unknown account");
	CHECK(xerror("%s: [listen] account = nosuch: no such account (accepted: by-sender, "
		     "by-user, or an account's name)"),
	    "names it");
	CHECK(loadx("[listen]\naccount = by-user\n") == -1, "by-user without auth");
	CHECK(loadx("[listen]\ntls_cert_file = /c\n") == -1, "cert without key");
	CHECK(xerror("%s: [listen] tls_key_file: missing (tls_cert_file needs it: give both "
		     "or neither)"),
	    "names the key file");
	CHECK(loadx("[listen]\nsenders = <a@b>\n") == -1, "a sender in brackets");
}

int
main(void)
{
	char cmd[PATH_MAX + 16];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(sysf, sizeof(sysf), "%s/sys.conf", dir);
	snprintf(userf, sizeof(userf), "%s/user.conf", dir);
	snprintf(xf, sizeof(xf), "%s/x.conf", dir);
	/* The tests must not read the real user's file: point the user file elsewhere. */
	snprintf(cmd, sizeof(cmd), "%s/no-user-config", dir);
	setenv("XDG_CONFIG_HOME", cmd, 1);

	defaults();
	values();
	inheritance();
	files();
	bad_values();
	passwords();
	fallbacks();
	selection();
	listen_section();
	config_free(&cfg);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	UNIT_DONE();
}

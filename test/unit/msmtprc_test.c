/*
 * msmtprc_test.c: msmtp configuration files as people write them (the manual's
 * example with defaults and inheritance, a Gmail file using the keyring, a pinned
 * self-hosted server), turned into sendmail.conf accounts with msmtp's defaults made
 * explicit; broken ones refused with the line.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "config/import.h"
#include "unit.h"
#include "unit_import.h"

/* The shape of msmtp(1)'s EXAMPLES file, with the usual additions. */
static const char manual[] =
    "# Example for a user configuration file ~/.msmtprc\n"
    "#\n"
    "# Set default values for all following accounts.\n"
    "defaults\n"
    "\n"
    "# Use the mail submission port 587 instead of the SMTP port 25.\n"
    "port 587\n"
    "\n"
    "# Always use TLS.\n"
    "tls on\n"
    "logfile ~/.msmtp.log\n"
    "aliases /etc/aliases\n"
    "\n"
    "# A freemail service\n"
    "account freemail\n"
    "\n"
    "# Host name of the SMTP server\n"
    "host smtp.freemail.example\n"
    "\n"
    "#tls_fingerprint 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\n"
    "\n"
    "# Envelope-from address\n"
    "from joe_smith@freemail.example\n"
    "\n"
    "auth on\n"
    "user joe.smith\n"
    "passwordeval gpg2 --no-tty -q -d ~/.msmtp-password.gpg\n"
    "\n"
    "# A second mail address at the same freemail service\n"
    "account freemail2 : freemail\n"
    "from joey@freemail.example\n"
    "\n"
    "# The SMTP server of your ISP\n"
    "account isp\n"
    "host mail.isp.example\n"
    "from smithjoe@isp.example\n"
    "auth on\n"
    "user 12345\n"
    "password \"s3cr et \\\"quoted\\\"\"\n"
    "\n"
    "# Set a default account\n"
    "account default : freemail\n";

/* Gmail with the password in the keyring; a self-hosted server pinned; an old relay. */
static const char gmail[] =
    "defaults\n"
    "auth           on\n"
    "tls            on\n"
    "tls_trust_file /etc/ssl/certs/ca-certificates.crt\n"
    "syslog         LOG_MAIL\n"
    "\n"
    "account        gmail\n"
    "host           smtp.gmail.com\n"
    "port           465\n"
    "tls_starttls   off\n"
    "from           %U@gmail.com\n"
    "user           someone@gmail.com\n"
    "\n"
    "account        home\n"
    "host           mail.home.example\n"
    "port           587\n"
    "tls_trust_file\n"
    "tls_fingerprint 0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:"
    "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0\n"
    "tls_certcheck  on\n"
    "from           me@home.example\n"
    "user           me\n"
    "password       hunter2\n"
    "set_from_header on\n"
    "dsn_return     headers\n"
    "\n"
    "account        relay\n"
    "host           10.0.0.1\n"
    "tls            off\n"
    "auth           off\n"
    "from           %U@%C\n"
    "tls_fingerprint AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD\n"
    "proxy_host     127.0.0.1\n"
    "\n"
    "account default : home\n"
    "host mail2.home.example\n";

static void
test_manual(void)
{
	struct import im;
	struct err e;

	memset(&im, 0, sizeof(im));
	err_init(&e);
	CHECK(msmtprc_parse(manual, strlen(manual), &im, &e) == 0, "the manual's file parses");
	CHECK(im.nacc == 3, "three accounts: the default one only names freemail");
	CHECK_STR(get(&im, "freemail", "host"), "smtp.freemail.example", "freemail: host");
	CHECK_STR(get(&im, "freemail", "port"), "587", "freemail: port from defaults");
	CHECK_STR(get(&im, "freemail", "tls"), "starttls", "tls on is STARTTLS");
	CHECK_STR(get(&im, "freemail", "password_command"),
	    "gpg2 --no-tty -q -d ~/.msmtp-password.gpg", "passwordeval is password_command");
	CHECK_STR(get(&im, "freemail", "auth"), "auto", "auth on is auto");
	CHECK_STR(get(&im, "freemail2", "host"), "smtp.freemail.example",
	    "freemail2 inherits the host");
	CHECK_STR(get(&im, "freemail2", "from"), "joey@freemail.example",
	    "freemail2 has its own from");
	CHECK_STR(get(&im, "freemail2", "password_command"),
	    "gpg2 --no-tty -q -d ~/.msmtp-password.gpg", "and inherits passwordeval");
	CHECK(acc(&im, "isp") != NULL && acc(&im, "isp")->secret != NULL &&
		strcmp(acc(&im, "isp")->secret, "s3cr et \"quoted\"") == 0,
	    "a quoted password with escapes, kept apart for a secret file");
	CHECK(get(&im, "isp", "password") == NULL, "never as password = in the result");
	CHECK_STR(get(&im, "isp", "port"), "587", "isp: port from defaults");
	CHECK_STR(dflt(&im, "account"), "freemail", "account default : freemail");
	CHECK_STR(dflt(&im, "logfile"), "~/.msmtp.log", "logfile goes to [defaults]");
	CHECK_STR(dflt(&im, "aliases"), "/etc/aliases", "aliases goes to [defaults]");
	import_free(&im);
}

static void
test_gmail(void)
{
	struct import im;
	struct err e;

	memset(&im, 0, sizeof(im));
	err_init(&e);
	CHECK(msmtprc_parse(gmail, strlen(gmail), &im, &e) == 0, "the Gmail file parses");
	CHECK_STR(get(&im, "gmail", "tls"), "implicit", "tls_starttls off is implicit TLS");
	CHECK_STR(get(&im, "gmail", "port"), "465", "port 465");
	CHECK_STR(get(&im, "gmail", "from"), "%U@gmail.com", "%U stays %U");
	CHECK(acc(&im, "gmail") != NULL && acc(&im, "gmail")->secret == NULL &&
		get(&im, "gmail", "password_command") == NULL,
	    "gmail: no secret in the file");
	CHECK(noted(&im,
		  "keyring entry msmtp uses (host smtp.gmail.com, service smtp, user "
		  "someone@gmail.com) works"),
	    "the keyring entry is said to work as it is");
	CHECK_STR(get(&im, "gmail", "tls_ca_file"), "/etc/ssl/certs/ca-certificates.crt",
	    "tls_trust_file is tls_ca_file");
	CHECK(get(&im, "home", "tls_ca_file") == NULL, "an empty tls_trust_file unsets it");
	CHECK_STR(get(&im, "home", "tls_fingerprint"),
	    "sha256:0F:1E:2D:3C:4B:5A:69:78:87:96:"
	    "A5:B4:C3:D2:E1:F0:0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0",
	    "a SHA-256 fingerprint is pinned");
	CHECK_STR(get(&im, "home", "rewrite_from"), "always", "set_from_header on is always");
	CHECK_STR(get(&im, "home", "dsn_return"), "hdrs", "dsn_return headers is hdrs");
	CHECK(get(&im, "relay", "tls_fingerprint") == NULL && noted(&im, "is not a SHA-256 one"),
	    "a SHA-1 fingerprint is a note, not a pin");
	CHECK_STR(get(&im, "relay", "tls"), "off", "tls off stays off");
	CHECK_STR(get(&im, "relay", "port"), "25", "msmtp's default port 25 is written out");
	CHECK_STR(get(&im, "relay", "from"), "%U@%H", "%C is mailout's %H");
	CHECK(noted(&im, "proxy_host 127.0.0.1: no equivalent"), "a proxy has no equivalent");
	CHECK_STR(get(&im, "default", "host"), "mail2.home.example",
	    "a default account with settings of its own stays an account");
	CHECK(acc(&im, "default") != NULL && acc(&im, "default")->secret != NULL,
	    "and inherits home's password");
	CHECK_STR(dflt(&im, "account"), "default", "it is the default");
	CHECK_STR(dflt(&im, "syslog"), "MAIL", "syslog LOG_MAIL is facility mail");
	import_free(&im);
}

static void
test_broken(void)
{
	static const char unclosed[] = "account a\nhost h\npassword \"abc\n";
	static const char orphan[] = "# nothing yet\nhost h\n";
	static const char unknown[] = "account b : nosuch\nhost h\n";
	static const char nohost[] = "account c\nfrom c@example.com\naccount d\nhost d\n";
	struct import im;
	struct err e;

	memset(&im, 0, sizeof(im));
	err_init(&e);
	CHECK(msmtprc_parse(unclosed, strlen(unclosed), &im, &e) == -1 &&
		strstr(e.msg, "line 3") != NULL,
	    "an unclosed quote names its line");
	import_free(&im);
	err_init(&e);
	CHECK(msmtprc_parse(orphan, strlen(orphan), &im, &e) == -1 &&
		strstr(e.msg, "line 2: host before any account") != NULL,
	    "a setting before any account is refused");
	import_free(&im);
	err_init(&e);
	CHECK(msmtprc_parse(unknown, strlen(unknown), &im, &e) == -1 &&
		strstr(e.msg, "nosuch") != NULL,
	    "inheriting an unknown account is refused");
	import_free(&im);
	err_init(&e);
	CHECK(msmtprc_parse(nohost, strlen(nohost), &im, &e) == 0 && im.nacc == 1 &&
		noted(&im, "no host"),
	    "an account without a host is left out, with a note");
	import_free(&im);
}

int
main(void)
{
	test_manual();
	test_gmail();
	test_broken();
	UNIT_DONE();
}

/*
 * ssmtp_test.c: Debian's ssmtp.conf, filled in for Gmail as its users do, with
 * revaliases; and a plain relay with an IPv6 mailhub.
 */
#include <string.h>

#include "base/err.h"
#include "config/import.h"
#include "unit.h"
#include "unit_import.h"

static const char conf[] =
    "#\n"
    "# Config file for sSMTP sendmail\n"
    "#\n"
    "# The person who gets all mail for userids < 1000\n"
    "# Make this empty to disable rewriting.\n"
    "root=postmaster\n"
    "\n"
    "# The place where the mail goes. The actual machine name is required no \n"
    "# MX records are consulted. Commonly mailhosts are named mail.domain.com\n"
    "mailhub=smtp.gmail.com:587\n"
    "\n"
    "# Where will the mail seem to come from?\n"
    "rewriteDomain=example.com\n"
    "\n"
    "# The full hostname\n"
    "hostname=web1.example.com\n"
    "\n"
    "# Are users allowed to set their own From: address?\n"
    "# YES - Allow the user to specify their own From: address\n"
    "# NO - Use the system generated From: address\n"
    "FromLineOverride=YES\n"
    "AuthUser=alerts@example.com\n"
    "AuthPass=abcd efgh ijkl mnop   # app password\n"
    "UseSTARTTLS=YES\n";

static const char rev[] = "# sSMTP aliases\n"
			  "# \n"
			  "# Format:\tlocal_account:outgoing_address:mailhub\n"
			  "#\n"
			  "# Example: root:your_login@your.domain:mailhub.your.domain[:port]\n"
			  "# where [:port] is an optional port number that defaults to 25.\n"
			  "root:root@example.com:smtp.gmail.com\n"
			  "www-data:webmaster@example.com:smtp.gmail.com:587\n";

static const char plain[] = "mailhub=[2001:db8::25]\n"
			    "UseTLS=NO\n"
			    "Debug=YES\n";

static void
test_gmail(void)
{
	struct import im;
	struct err e;

	memset(&im, 0, sizeof(im));
	err_init(&e);
	CHECK(ssmtp_parse(conf, strlen(conf), rev, strlen(rev), &im, &e) == 0,
	    "Debian's ssmtp.conf for Gmail parses");
	CHECK(im.nacc == 1, "one account");
	CHECK_STR(get(&im, "ssmtp", "host"), "smtp.gmail.com", "mailhub's host");
	CHECK_STR(get(&im, "ssmtp", "port"), "587", "mailhub's port");
	CHECK_STR(get(&im, "ssmtp", "tls"), "starttls", "UseSTARTTLS is STARTTLS");
	CHECK_STR(get(&im, "ssmtp", "user"), "alerts@example.com", "AuthUser");
	CHECK(acc(&im, "ssmtp") != NULL && acc(&im, "ssmtp")->secret != NULL &&
		strcmp(acc(&im, "ssmtp")->secret, "abcd efgh ijkl mnop") == 0,
	    "AuthPass up to the comment, kept apart");
	CHECK_STR(get(&im, "ssmtp", "from"), "%U@example.com", "the sender: USER@RewriteDomain");
	CHECK_STR(get(&im, "ssmtp", "rewrite_from"), "local",
	    "FromLineOverride=YES leaves the From header");
	CHECK_STR(get(&im, "ssmtp", "domain"), "web1.example.com", "hostname is the EHLO name");
	CHECK_STR(dflt(&im, "default_domain"), "example.com", "RewriteDomain qualifies names");
	CHECK(noted(&im, "Root=postmaster: mailout sends mail for root where the aliases"),
	    "Root= points at the aliases file");
	CHECK(noted(&im, "did not check the server's certificate"),
	    "ssmtp's unchecked certificates are mentioned");
	CHECK(!noted(&im, "local user root"), "root@example.com is what mailout sends anyway");
	CHECK(noted(&im, "mail of local user www-data left as webmaster@example.com"),
	    "another revaliases address is a note with the way to keep it");
	import_free(&im);
}

static void
test_plain(void)
{
	struct import im;
	struct err e;

	memset(&im, 0, sizeof(im));
	err_init(&e);
	CHECK(ssmtp_parse(plain, strlen(plain), NULL, 0, &im, &e) == 0, "a plain relay parses");
	CHECK_STR(get(&im, "ssmtp", "host"), "2001:db8::25", "an IPv6 mailhub in brackets");
	CHECK_STR(get(&im, "ssmtp", "port"), "25", "ssmtp's default port 25");
	CHECK_STR(get(&im, "ssmtp", "tls"), "off", "no TLS");
	CHECK_STR(get(&im, "ssmtp", "rewrite_from"), "always",
	    "without FromLineOverride ssmtp writes the From header");
	CHECK(noted(&im, "Debug=YES"), "Debug is a note");
	import_free(&im);
	err_init(&e);
	CHECK(ssmtp_parse("hostname=x\n", 11, NULL, 0, &im, &e) == -1 &&
		strstr(e.msg, "mailhub") != NULL,
	    "no mailhub is an error");
	import_free(&im);
}

int
main(void)
{
	test_gmail();
	test_plain();
	UNIT_DONE();
}

/*
 * dma_test.c: Debian's dma.conf as dpkg-reconfigure leaves it for a smarthost with
 * STARTTLS, with auth.conf; and one with MASQUERADE and INSECURE.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "config/import.h"
#include "unit.h"
#include "unit_import.h"

static const char conf[] =
    "# $DragonFly: src/etc/dma/dma.conf,v 1.2 2008/02/04 10:11:41 matthias Exp $\n"
    "#\n"
    "# Your smarthost (also called relayhost).  Leave blank if you don't want\n"
    "# smarthost support.\n"
    "# NOTE: on Debian systems this is handled via debconf!\n"
    "# Please use dpkg-reconfigure dma to change this value.\n"
    "SMARTHOST mail.example.net\n"
    "\n"
    "# Use this SMTP port.  Most users will be fine with the default (25)\n"
    "PORT 587\n"
    "\n"
    "# Path to your alias file.  Just stay with the default.\n"
    "#ALIASES /etc/aliases\n"
    "\n"
    "# Path to your spooldir.  Just stay with the default.\n"
    "#SPOOLDIR /var/spool/dma\n"
    "\n"
    "# SMTP authentication\n"
    "AUTHPATH /etc/dma/auth.conf\n"
    "\n"
    "# Uncomment if yout want TLS/SSL support\n"
    "SECURETRANSFER\n"
    "\n"
    "# Uncomment if you want STARTTLS support (only used in combination with\n"
    "# SECURETRANSFER)\n"
    "STARTTLS\n"
    "\n"
    "# Uncomment if you want to defer your mails.  This is useful if you are\n"
    "# behind a dialup line.  You have to submit your mails manually with dma -q\n"
    "#DEFER\n"
    "\n"
    "# The internet hostname dma uses to identify the host.\n"
    "# If not set or empty, the result of gethostname(2) is used.\n"
    "# If MAILNAME is an absolute path to a file, the first line of this file\n"
    "# will be used as the hostname.\n"
    "MAILNAME /etc/mailname\n";

static const char auth[] =
    "# $DragonFly: src/etc/dma/auth.conf,v 1.1 2008/02/02 18:24:00 matthias Exp $\n"
    "#\n"
    "# SMTP authentication entries (currently AUTH LOGIN only)\n"
    "# Format: user|my.smarthost.example.com:password\n"
    "other|relay.example.org:nope\n"
    "server@example.net|mail.example.net:pa:ss|word\n";

static const char masq[] = "SMARTHOST 192.0.2.25\n"
			   "INSECURE\n"
			   "MASQUERADE backup@\n"
			   "MAILNAME host.example.org\n"
			   "FULLBOUNCE\n";

static void
test_debian(void)
{
	struct import im;
	struct err e;
	char *authf, *mailf;

	dma_files(conf, strlen(conf), &authf, &mailf);
	CHECK_STR(authf, "/etc/dma/auth.conf", "AUTHPATH says where auth.conf is");
	CHECK_STR(mailf, "/etc/mailname", "MAILNAME names a file");
	free(authf);
	free(mailf);
	memset(&im, 0, sizeof(im));
	err_init(&e);
	CHECK(dma_parse(conf, strlen(conf), auth, strlen(auth), "mx.example.net", &im, &e) == 0,
	    "Debian's dma.conf parses");
	CHECK_STR(get(&im, "dma", "host"), "mail.example.net", "SMARTHOST");
	CHECK_STR(get(&im, "dma", "port"), "587", "PORT");
	CHECK_STR(get(&im, "dma", "tls"), "starttls", "SECURETRANSFER with STARTTLS");
	CHECK_STR(get(&im, "dma", "user"), "server@example.net", "auth.conf's user for it");
	CHECK(acc(&im, "dma") != NULL && acc(&im, "dma")->secret != NULL &&
		strcmp(acc(&im, "dma")->secret, "pa:ss|word") == 0,
	    "its password, colons and bars in it kept");
	CHECK_STR(get(&im, "dma", "from"), "%U@mx.example.net", "the sender: USER@mailname");
	CHECK_STR(dflt(&im, "default_domain"), "mx.example.net", "the mail name qualifies");
	CHECK(noted(&im, "did not check the server's certificate"),
	    "dma's unchecked certificates are mentioned");
	import_free(&im);
}

static void
test_masquerade(void)
{
	struct import im;
	struct err e;
	char *authf, *mailf;

	dma_files(masq, strlen(masq), &authf, &mailf);
	CHECK(mailf == NULL && strcmp(authf, "/etc/dma/auth.conf") == 0,
	    "a MAILNAME that is a name is no file; auth.conf where dma looks by default");
	free(authf);
	free(mailf);
	memset(&im, 0, sizeof(im));
	err_init(&e);
	CHECK(dma_parse(masq, strlen(masq), NULL, 0, NULL, &im, &e) == 0, "it parses");
	CHECK_STR(get(&im, "dma", "port"), "25", "dma's default port 25");
	CHECK_STR(get(&im, "dma", "tls"), "off", "no SECURETRANSFER, no TLS");
	CHECK_STR(get(&im, "dma", "allow_plaintext_auth"), "on", "INSECURE");
	CHECK_STR(get(&im, "dma", "from"), "backup@host.example.org",
	    "MASQUERADE user@ takes the mail name");
	CHECK(noted(&im, "FULLBOUNCE"), "FULLBOUNCE is a note");
	import_free(&im);
	err_init(&e);
	CHECK(dma_parse("PORT 25\n", 8, NULL, 0, NULL, &im, &e) == -1 &&
		strstr(e.msg, "SMARTHOST") != NULL,
	    "no SMARTHOST: mailout cannot stand in");
	import_free(&im);
}

int
main(void)
{
	test_debian();
	test_masquerade();
	UNIT_DONE();
}

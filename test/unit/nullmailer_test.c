/*
 * nullmailer_test.c: /etc/nullmailer as people fill it in: two SMTP remotes (the
 * second a fallback) and a QMQP one, defaultdomain, me and adminaddr.
 */
#include <string.h>

#include "base/err.h"
#include "config/import.h"
#include "unit.h"
#include "unit_import.h"

static const char remotes[] =
    "# nullmailer remotes: one per line, tried in order\n"
    "smtp.example.com smtp --port=587 --starttls --user=alerts@example.com --pass=Secr3t\n"
    "\n"
    "backup.example.net smtp --ssl --user=alerts --pass=0ther --x509cafile=/etc/ssl/corp.pem\n"
    "qmqp.example.org qmqp\n"
    "old.example.org smtp --auth-login --insecure --source=192.0.2.1\n";

static void
test_remotes(void)
{
	struct import im;
	struct err e;

	memset(&im, 0, sizeof(im));
	err_init(&e);
	CHECK(nullmailer_parse(remotes, strlen(remotes), NULL, "example.com", "admin@example.com",
		  "web1", &im, &e) == 0,
	    "nullmailer's files parse");
	CHECK(im.nacc == 3, "three SMTP remotes, the QMQP one left out");
	CHECK(noted(&im, "qmqp.example.org qmqp: mailout speaks SMTP only"), "with a note");
	CHECK_STR(get(&im, "nullmailer", "host"), "smtp.example.com", "the first remote");
	CHECK_STR(get(&im, "nullmailer", "port"), "587", "--port");
	CHECK_STR(get(&im, "nullmailer", "tls"), "starttls", "--starttls");
	CHECK_STR(get(&im, "nullmailer", "user"), "alerts@example.com", "--user");
	CHECK(acc(&im, "nullmailer") != NULL && acc(&im, "nullmailer")->secret != NULL &&
		strcmp(acc(&im, "nullmailer")->secret, "Secr3t") == 0,
	    "--pass, kept apart");
	CHECK_STR(get(&im, "nullmailer", "fallback"), "nullmailer-2",
	    "the next remote is the fallback");
	CHECK_STR(get(&im, "nullmailer-2", "tls"), "implicit", "--ssl is implicit TLS");
	CHECK_STR(get(&im, "nullmailer-2", "port"), "465", "on port 465");
	CHECK_STR(get(&im, "nullmailer-2", "tls_ca_file"), "/etc/ssl/corp.pem", "--x509cafile");
	CHECK_STR(get(&im, "nullmailer-2", "fallback"), "nullmailer-3",
	    "the fallback chain skips the QMQP remote");
	CHECK_STR(get(&im, "nullmailer-3", "auth"), "login", "--auth-login");
	CHECK_STR(get(&im, "nullmailer-3", "tls_verify"), "off", "--insecure, kept...");
	CHECK(noted(&im, "--insecure: kept as tls_verify = off"), "...and said");
	CHECK(noted(&im, "--source=192.0.2.1: no equivalent"), "--source has none");
	CHECK(get(&im, "nullmailer-3", "fallback") == NULL, "the last has no fallback");
	CHECK_STR(get(&im, "nullmailer", "from"), "%U@web1.example.com",
	    "the sender: USER@me, with defaultdomain for a name without a dot");
	CHECK_STR(dflt(&im, "default_domain"), "web1.example.com", "which qualifies names");
	CHECK_STR(dflt(&im, "account"), "nullmailer", "the first remote is the default");
	CHECK(noted(&im, "adminaddr admin@example.com"), "adminaddr points at the aliases");
	import_free(&im);
	err_init(&e);
	CHECK(nullmailer_parse("# none\n", 7, "h.example", NULL, NULL, NULL, &im, &e) == -1,
	    "remotes without a relay is an error");
	import_free(&im);
}

int
main(void)
{
	test_remotes();
	UNIT_DONE();
}

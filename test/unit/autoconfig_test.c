/*
 * autoconfig_test.c: config-v1.1.xml documents shaped like the ISPDB's entries (Google
 * with two SMTP servers and OAuth2, Outlook.com with OAuth2 only, a small provider with
 * a comment and an incoming server first) and hostile or broken ones.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "config/config.h"
#include "send/autoconfig.h"
#include "send/candidate.h"
#include "unit.h"

static const char google[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<clientConfig version=\"1.1\">\n"
    "  <emailProvider id=\"googlemail.com\">\n"
    "    <domain>gmail.com</domain>\n"
    "    <domain>googlemail.com</domain>\n"
    "    <!-- MX, for Google Apps -->\n"
    "    <domain>google.com</domain>\n"
    "    <displayName>Google Mail</displayName>\n"
    "    <incomingServer type=\"imap\">\n"
    "      <hostname>imap.gmail.com</hostname>\n"
    "      <port>993</port>\n"
    "      <socketType>SSL</socketType>\n"
    "      <username>%EMAILADDRESS%</username>\n"
    "      <authentication>OAuth2</authentication>\n"
    "    </incomingServer>\n"
    "    <outgoingServer type=\"smtp\">\n"
    "      <hostname>smtp.gmail.com</hostname>\n"
    "      <port>587</port>\n"
    "      <socketType>STARTTLS</socketType>\n"
    "      <username>%EMAILADDRESS%</username>\n"
    "      <authentication>OAuth2</authentication>\n"
    "      <authentication>password-cleartext</authentication>\n"
    "    </outgoingServer>\n"
    "    <outgoingServer type=\"smtp\">\n"
    "      <hostname> smtp.gmail.com </hostname>\n"
    "      <port>465</port>\n"
    "      <socketType>SSL</socketType>\n"
    "      <username>%EMAILADDRESS%</username>\n"
    "      <authentication>OAuth2</authentication>\n"
    "      <authentication>password-cleartext</authentication>\n"
    "    </outgoingServer>\n"
    "  </emailProvider>\n"
    "  <oAuth2>\n"
    "    <issuer>accounts.google.com</issuer>\n"
    "    <scope>https://mail.google.com/</scope>\n"
    "  </oAuth2>\n"
    "  <enable visiturl=\"https://mail.google.com/mail/?ui=2&amp;shva=1\">\n"
    "    <instruction>You need to enable IMAP access</instruction>\n"
    "  </enable>\n"
    "</clientConfig>\n";

static const char outlook[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			      "<clientConfig version=\"1.1\">\n"
			      "  <emailProvider id=\"hotmail.com\">\n"
			      "    <domain>hotmail.com</domain>\n"
			      "    <outgoingServer type=\"smtp\">\n"
			      "      <hostname>smtp.office365.com</hostname> \n"
			      "      <port>587</port>\n"
			      "      <socketType>STARTTLS</socketType>\n"
			      "      <authentication>OAuth2</authentication>\n"
			      "      <username>%EMAILADDRESS%</username>\n"
			      "    </outgoingServer>\n"
			      "  </emailProvider>\n"
			      "</clientConfig>\n";

static const char small[] =
    "<?xml version=\"1.0\"?>\n"
    "<clientConfig version=\"1.1\">\n"
    "<emailProvider id=\"example.net\">\n"
    "<domain>example.net</domain>\n"
    "<outgoingServer type=\"smtp\"><hostname>mail.example.net</hostname><port>25</port>"
    "<socketType>plain</socketType><authentication>password-cleartext</authentication>"
    "<username>%EMAILLOCALPART%</username></outgoingServer>\n"
    "<outgoingServer type=\"smtp\"><hostname>mail.example.net</hostname><port>587</port>"
    "<socketType>STARTTLS</socketType><authentication>password-encrypted</authentication>"
    "<username>%EMAILLOCALPART%</username></outgoingServer>\n"
    "<outgoingServer type=\"smtp\"><hostname>relay.example.net</hostname><port>465</port>"
    "<socketType>SSL</socketType><authentication>client-IP-address</authentication>"
    "</outgoingServer>\n"
    "<outgoingServer type=\"smtp\"><hostname>bad host</hostname><port>465</port>"
    "<socketType>SSL</socketType></outgoingServer>\n"
    "<outgoingServer type=\"smtp\"><hostname>x.example.net</hostname><port>99999</port>"
    "<socketType>SSL</socketType></outgoingServer>\n"
    "</emailProvider>\n"
    "</clientConfig>\n";

static int
parse(const char *xml, const char *addr, struct candidates *l, struct err *e)
{
	err_init(e);
	return autoconfig_parse(xml, strlen(xml), addr, "test", l, e);
}

static void
test_google(void)
{
	struct candidates l = { NULL, 0 };
	struct err e;

	CHECK(parse(google, "joe@gmail.com", &l, &e) == 2 && l.n == 2,
	    "Google: the two SMTP servers, not the IMAP one");
	if (l.n != 2)
		goto out;
	CHECK(strcmp(l.c[0].host, "smtp.gmail.com") == 0 && l.c[0].port == 587 &&
		l.c[0].tls == TLS_STARTTLS,
	    "587 with STARTTLS, in document order");
	CHECK(strcmp(l.c[1].host, "smtp.gmail.com") == 0 && l.c[1].port == 465 &&
		l.c[1].tls == TLS_IMPLICIT,
	    "465 with SSL is implicit TLS; spaces trimmed");
	CHECK(l.c[0].oauth == OAUTH_GOOGLE && l.c[0].password,
	    "the oAuth2 issuer makes it Google's OAuth2; a password works too");
	CHECK_STR(l.c[0].user, "joe@gmail.com", "%EMAILADDRESS% is the address");
	CHECK_STR(l.c[0].source, "test", "the source is kept");
out:
	candidates_free(&l);
}

static void
test_outlook(void)
{
	struct candidates l = { NULL, 0 };
	struct err e;

	CHECK(parse(outlook, "ann@hotmail.com", &l, &e) == 1 && l.n == 1 &&
		l.c[0].oauth == OAUTH_MICROSOFT && !l.c[0].password,
	    "Outlook.com: OAuth2 only, with Microsoft (from the host: no oAuth2 element)");
	candidates_free(&l);
}

static void
test_small(void)
{
	struct candidates l = { NULL, 0 };
	struct err e;

	CHECK(parse(small, "bob@example.net", &l, &e) == 2 && l.n == 2,
	    "plain text, a bad host and a bad port are skipped");
	if (l.n == 2) {
		CHECK(l.c[0].port == 587 && l.c[0].password && l.c[0].oauth == OAUTH_NONE,
		    "password-encrypted takes a password");
		CHECK_STR(l.c[0].user, "bob", "%EMAILLOCALPART% is the local part");
		CHECK(l.c[1].port == 465 && !l.c[1].password && l.c[1].user == NULL,
		    "client-IP-address takes no password");
	}
	CHECK(parse(small, "bob@example.net", &l, &e) == 0 && l.n == 2,
	    "servers already listed are not added twice");
	candidates_free(&l);
}

static void
test_refused(void)
{
	static const char entities[] =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE clientConfig [\n"
	    "<!ENTITY a \"aaaaaaaaaaaaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
	    "]>\n<clientConfig><emailProvider><outgoingServer type=\"smtp\">"
	    "<hostname>&b;</hostname></outgoingServer></emailProvider></clientConfig>\n";
	static const char external[] =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE clientConfig [\n"
	    "<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<clientConfig>&x;</clientConfig>\n";
	struct candidates l = { NULL, 0 };
	struct err e;

	CHECK(parse(entities, "a@b.example", &l, &e) == -1 && strstr(e.msg, "entities"),
	    "a document that declares entities is refused");
	CHECK(parse(external, "a@b.example", &l, &e) == -1 && l.n == 0,
	    "an external entity is refused, never read");
	CHECK(parse("<clientConfig><emailProvider>", "a@b.example", &l, &e) == -1 &&
		e.cause == CAUSE_DATA,
	    "a cut document is not well-formed");
	CHECK(parse("<html><body>Not found</body></html>", "a@b.example", &l, &e) == -1 &&
		strstr(e.msg, "not a clientConfig") != NULL,
	    "an HTML page is no autoconfig");
	CHECK(l.n == 0, "nothing was added by a refused document");
}

int
main(void)
{
	test_google();
	test_outlook();
	test_small();
	test_refused();
	UNIT_DONE();
}

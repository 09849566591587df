/*
 * tls_test.c: the parts of tls.c that need no network: option checks, fingerprints,
 * the library's description of itself.
 */
#include <string.h>

#include "base/err.h"
#include "net/tls.h"
#include "unit.h"

static int
check(const struct tls_opts *o, struct err *e)
{
	err_init(e);
	return tls_check_opts(o, e);
}

int
main(void)
{
	struct tls_opts o;
	struct err e;
	const char *v = tls_library_version();

	CHECK(strncmp(v, "mbedTLS ", 8) == 0 && (v[8] == '2' || v[8] == '3'),
	    "library version names mbedTLS 2 or 3");
	CHECK(tls_has_tls13() == (v[8] == '3'), "TLS 1.3 exactly when mbedTLS 3");

	CHECK(tls_fingerprint_valid("sha256:AA:42:89:06:C4:DF:8F:AC:66:13:5C:DE:7D:EE:60:26:"
				    "09:F7:93:77:3B:43:19:F9:CC:F2:19:1F:31:1D:FA:9C") == 0,
	    "fingerprint with colons");
	CHECK(tls_fingerprint_valid("SHA256:aa428906c4df8fac66135cde7dee602609f793773b4319f9"
				    "ccf2191f311dfa9c") == 0,
	    "fingerprint, lower case, no colons");
	CHECK(tls_fingerprint_valid("aa428906c4df8fac66135cde7dee602609f793773b4319f9ccf219"
				    "1f311dfa9c") == 0,
	    "fingerprint without the sha256: prefix");
	CHECK(tls_fingerprint_valid("sha256:AA:42") == -1, "short fingerprint refused");
	CHECK(tls_fingerprint_valid("sha256:aa428906c4df8fac66135cde7dee602609f793773b4319f9"
				    "ccf2191f311dfa9c00") == -1,
	    "long fingerprint refused");
	CHECK(tls_fingerprint_valid("sha256:zz428906c4df8fac66135cde7dee602609f793773b4319f9"
				    "ccf2191f311dfa9c") == -1,
	    "non-hex fingerprint refused");
	CHECK(tls_fingerprint_valid("sha256:a:a428906c4df8fac66135cde7dee602609f793773b4319f9"
				    "ccf2191f311dfa9c") == -1,
	    "colon inside a byte refused");
	CHECK(tls_fingerprint_valid("") == -1, "empty fingerprint refused");

	memset(&o, 0, sizeof(o));
	o.server_name = "mail.example.com";
	o.verify = 1;
	o.min_version = 12;
	CHECK(check(&o, &e) == 0, "plain options pass");

	o.min_version = 13;
	if (tls_has_tls13())
		CHECK(check(&o, &e) == 0, "tls_min_version 1.3 with TLS 1.3");
	else {
		CHECK(check(&o, &e) == -1 && e.kind == ERR_PERM && e.cause == CAUSE_CONFIG &&
			strstr(e.msg, "tls_min_version = 1.3 needs TLS 1.3") != NULL,
		    "tls_min_version 1.3 without TLS 1.3 is a config error");
	}
	o.min_version = 11;
	CHECK(check(&o, &e) == -1 && e.cause == CAUSE_CONFIG, "tls_min_version 1.1 refused");
	o.min_version = 12;

	o.fingerprint = "sha256:12:34";
	CHECK(check(&o, &e) == -1 && e.cause == CAUSE_CONFIG &&
		strstr(e.msg, "tls_fingerprint \"sha256:12:34\" is not a SHA-256") != NULL,
	    "bad fingerprint is a config error naming the value");
	o.fingerprint = NULL;

	o.key_file = "/x/key.pem";
	CHECK(check(&o, &e) == -1 && e.cause == CAUSE_CONFIG, "key without certificate");
	o.key_file = NULL;

	o.server_name = "";
	CHECK(check(&o, &e) == -1 && e.cause == CAUSE_CONFIG, "no server name");

	UNIT_DONE();
}

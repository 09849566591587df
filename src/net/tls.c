/*
 * tls.c: TLS client streams on mbedTLS. See tls.h.
 *
 * It builds against mbedTLS 2.28 (Debian 12: TLS 1.2 only) and 3.6 (TLS 1.3); the
 * differences are kept to the few #if blocks on MBEDTLS_VERSION_NUMBER below. What a
 * certificate says, in words, is tls_cert.c's; the session cache file is tls_cache.c's.
 *
 * Verification is done by mbedTLS in "optional" mode and judged here once the handshake
 * is done, so that a failure can be explained (which date, which names, which issuer)
 * and so that IP literals can be matched against IP address entries, which 2.28 does not
 * do. No application byte is sent before the judgement; a rejected server gets a fatal
 * alert that names the reason.
 *
 * Cost per connection matters (one per message from cron or PHP): the key exchange
 * offers the cheap curves first, a verified session is cached for the next process to
 * resume (a resumed handshake costs well under 1 ms of CPU, a full one 7-10), and the CA
 * bundle (5 ms and 0.45 MiB to parse the system one) is read only for a full handshake.
 */
#include <sys/stat.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/version.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <psa/crypto.h>
#endif

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/priv.h"
#include "net/stream.h"
#include "net/tls.h"
#include "net/tls_cache.h"
#include "net/tls_cert.h"
#include "base/mem.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define MBEDTLS3 1
/* The received alert is only in the context's (private) input buffer. */
#define SSL_IN_MSG(ssl) ((ssl)->MBEDTLS_PRIVATE(in_msg))
#define SSL_IN_MSGTYPE(ssl) ((ssl)->MBEDTLS_PRIVATE(in_msgtype))
/* The handshake is stepped to load the CA only when the server's certificate is next. */
#define SSL_STATE(ssl) ((ssl)->MBEDTLS_PRIVATE(state))
#else
#define MBEDTLS3 0
#define SSL_IN_MSG(ssl) ((ssl)->in_msg)
#define SSL_IN_MSGTYPE(ssl) ((ssl)->in_msgtype)
#define SSL_STATE(ssl) ((ssl)->state)
#endif

/*
 * Without the handshake's own CA slot (it comes with SNI support) the CA is loaded before
 * every full handshake, as if no session were cached.
 */
#if defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
#define LAZY_CA 1
#else
#define LAZY_CA 0
#endif

/* The session cache key's version: a change in what the key covers must change it. */
#define SESSION_KEY_VERSION "mailout-tls-session 1"

/* One TLS record carries at most 16 KiB of data: hand mbedTLS whole records. */
#define TLS_RECORD 16384

/*
 * Key exchange groups, cheapest first. mbedTLS 2.28 offers P-521 first, and OpenSSL
 * servers (Postfix, stunnel) take the client's first choice: 10 ms of CPU per handshake
 * against 6.7 for these. TLS 1.3 sends a key share for the first one only: X25519 is
 * what OpenSSL servers prefer, so no extra round trip asks for another.
 */
#if MBEDTLS3
static const uint16_t tls_groups[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
	MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
#endif
#if defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED)
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED)
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP521R1_ENABLED)
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1,
#endif
	MBEDTLS_SSL_IANA_TLS_GROUP_NONE
};
#else
static const mbedtls_ecp_group_id tls_groups[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
	MBEDTLS_ECP_DP_CURVE25519,
#endif
#if defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED)
	MBEDTLS_ECP_DP_SECP256R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED)
	MBEDTLS_ECP_DP_SECP384R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP521R1_ENABLED)
	MBEDTLS_ECP_DP_SECP521R1,
#endif
	MBEDTLS_ECP_DP_NONE
};
#endif

/* Where distributions keep the CA bundle, most common first. */
static const char *const ca_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Arch, Gentoo */
	"/etc/pki/tls/certs/ca-bundle.crt", /* Fedora, RHEL, CentOS */
	"/etc/ssl/cert.pem", /* Alpine, macOS, OpenBSD */
	"/etc/ssl/ca-bundle.pem", /* openSUSE */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL 7+ */
	NULL
};

struct tls_stream {
	struct stream s;
	struct stream *lower;
	struct err ioerr; /* the lower stream's failure: the real cause */
	int eof; /* close_notify or end of the lower stream */
	int up; /* handshake done and peer accepted */
	unsigned char head[64]; /* first bytes from the server */
	size_t nhead;
	const char *ca_file; /* tls_ca_file, to load it late (LAZY_CA) */
	const char *ca_used; /* for messages */
	int ca_loaded; /* ca holds the CA certificates */
	int min_version; /* 12 or 13, for messages */
	int client_cert; /* we have one to present */
	char *sess_path; /* session cache file, or NULL */
	unsigned char sess_key[32]; /* what the cached session stands for */
	int offered; /* a cached session was offered */
	int resumed; /* the handshake resumed a cached session */
	int authmode; /* MBEDTLS_SSL_VERIFY_NONE or _OPTIONAL */
	int new_ticket; /* TLS 1.3: a ticket arrived after it */
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
};

static const struct stream_ops tls_ops;

/* "mbedTLS: text (-0x7780)" for a library error code. */
static const char *
lib_error(int r, char *buf, size_t len)
{
	char text[160];

	mbedtls_strerror(r, text, sizeof(text));
	snprintf(buf, len, "%s (-0x%04x)", text, (unsigned)-r);
	return buf;
}

/* The library asks to be called again: not a failure. */
static int
again(int r)
{
	return r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
	    || r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
#endif
	    ;
}

static int
bio_send(void *ctx, const unsigned char *p, size_t n)
{
	struct tls_stream *ts = ctx;
	int ret = MBEDTLS_ERR_NET_SEND_FAILED;

	/* The lower stream writes all or fails, under its own timeout. */
	if (n > INT_MAX)
		n = INT_MAX;
	if (ts->lower->ops->write(ts->lower, p, n, &ts->ioerr) == 0)
		ret = (int)n;
	return ret;
}

static int
bio_recv(void *ctx, unsigned char *p, size_t n)
{
	struct tls_stream *ts = ctx;
	ssize_t r;
	size_t k;
	int ret;

	if (n > INT_MAX)
		n = INT_MAX;
	r = ts->lower->ops->read(ts->lower, p, n, &ts->ioerr);
	if (r < 0)
		ret = MBEDTLS_ERR_NET_RECV_FAILED;
	else if (r == 0) {
		ts->eof = 1;
		ret = 0; /* mbedTLS: MBEDTLS_ERR_SSL_CONN_EOF */
	} else {
		/* Kept to recognise a server that answers in plain text. */
		if (ts->nhead < sizeof(ts->head)) {
			k = sizeof(ts->head) - ts->nhead;
			if (k > (size_t)r)
				k = (size_t)r;
			memcpy(ts->head + ts->nhead, p, k);
			ts->nhead += k;
		}
		ret = (int)r;
	}
	return ret;
}

int
tls_fingerprint_valid(const char *s)
{
	unsigned char md[32];

	return tls_cert_fingerprint(s, md);
}

int
tls_has_tls13(void)
{
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
	return 1;
#else
	return 0;
#endif
}

const char *
tls_library_version(void)
{
	static char v[48];
#if defined(MBEDTLS_VERSION_C)
	char s[18];

	mbedtls_version_get_string(s);
	snprintf(v, sizeof(v), "mbedTLS %s", s);
#else
	snprintf(v, sizeof(v), "mbedTLS %s", MBEDTLS_VERSION_STRING);
#endif
	return v;
}

static int
empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

int
tls_check_opts(const struct tls_opts *o, struct err *e)
{
	int ret = -1;

	if (o->min_version != 0 && o->min_version != 12 && o->min_version != 13) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "tls_min_version must be 1.2 or 1.3");
		goto out;
	}
	if (o->min_version == 13 && !tls_has_tls13()) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "tls_min_version = 1.3 needs TLS 1.3, which "
		    "this build's %s does not have; set tls_min_version = 1.2, or build "
		    "mailout with mbedTLS 3",
		    tls_library_version());
		goto out;
	}
	if (!empty(o->fingerprint) && tls_fingerprint_valid(o->fingerprint) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "tls_fingerprint \"%s\" is not a SHA-256 "
		    "fingerprint (sha256: and 32 hex bytes, e.g. from mailout --serverinfo)",
		    o->fingerprint);
		goto out;
	}
	if (empty(o->cert_file) && !empty(o->key_file)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "tls_key_file is set without tls_cert_file");
		goto out;
	}
	if (empty(o->server_name)) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "TLS needs a server name (host)");
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* Is name an IP literal ("192.0.2.1", "::1", "[::1]")? Fills addr (4 or 16 bytes). */
static int
ip_literal(const char *name, unsigned char addr[16], size_t *alen)
{
	char tmp[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(name);

	*alen = 0;
	if (n > 2 && name[0] == '[' && name[n - 1] == ']' && n - 2 < sizeof(tmp)) {
		memcpy(tmp, name + 1, n - 2);
		tmp[n - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, addr) == 1)
			*alen = 16;
	} else if (inet_pton(AF_INET, name, addr) == 1)
		*alen = 4;
	else if (inet_pton(AF_INET6, name, addr) == 1)
		*alen = 16;
	return *alen != 0;
}

/*
 * Does the certificate name this address? An IP address entry with the same bytes, or
 * (as mbedTLS 2.28 and older CAs have it) a DNS entry that spells the literal.
 */
static int
ip_matches(const mbedtls_x509_crt *c, const char *name, const unsigned char *addr, size_t alen)
{
	const mbedtls_x509_sequence *q;
	int type, match = 0;

	for (q = &c->subject_alt_names; !match && q != NULL && q->buf.p != NULL; q = q->next) {
		if ((q->buf.tag & MBEDTLS_ASN1_CONTEXT_SPECIFIC) == 0)
			continue;
		type = q->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
		if (type == MBEDTLS_X509_SAN_IP_ADDRESS)
			match = q->buf.len == alen && memcmp(q->buf.p, addr, alen) == 0;
		else if (type == MBEDTLS_X509_SAN_DNS_NAME)
			match = q->buf.len == strlen(name) &&
			    strncasecmp((const char *)q->buf.p, name, q->buf.len) == 0;
	}
	return match;
}

/* Load the CA certificates: a file or directory given, else the system bundle. */
static int
load_ca(struct tls_stream *ts, const char *ca_file, struct err *e)
{
	struct stat st;
	char buf[256];
	size_t i;
	int r, ret = -1;

	if (!empty(ca_file)) {
		if (stat(ca_file, &st) == -1) {
			err_set(e, ERR_PERM, CAUSE_CONFIG, "tls_ca_file %s: %s", ca_file,
			    strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode))
			r = mbedtls_x509_crt_parse_path(&ts->ca, ca_file);
		else
			r = mbedtls_x509_crt_parse_file(&ts->ca, ca_file);
		if (r < 0 || ts->ca.version == 0) {
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "tls_ca_file %s: no CA certificate "
			    "could be read (%s)",
			    ca_file,
			    r < 0 ? lib_error(r, buf, sizeof(buf)) : "none in PEM or DER form");
			goto out;
		}
		ts->ca_used = ca_file;
		ts->ca_loaded = 1;
		ret = 0;
		goto out;
	}
	for (i = 0; ca_bundles[i] != NULL; i++) {
		if (access(ca_bundles[i], R_OK) == -1)
			continue;
		/* A bundle may hold certificates mbedTLS cannot parse: the rest still count. */
		r = mbedtls_x509_crt_parse_file(&ts->ca, ca_bundles[i]);
		if (r >= 0 && ts->ca.version != 0) {
			ts->ca_used = ca_bundles[i];
			ts->ca_loaded = 1;
			ret = 0;
			goto out;
		}
	}
	err_set(e, ERR_PERM, CAUSE_CONFIG,
	    "no system CA bundle found (looked for %s, %s, %s, "
	    "%s, %s); install the ca-certificates package, or set tls_ca_file, or pin the "
	    "server's certificate with tls_fingerprint",
	    ca_bundles[0], ca_bundles[1], ca_bundles[2], ca_bundles[3], ca_bundles[4]);
out:
	return ret;
}

static int
load_client_cert(struct tls_stream *ts, const struct tls_opts *o, struct err *e)
{
	const char *keyf = empty(o->key_file) ? o->cert_file : o->key_file;
	char buf[256];
	int r, held = 1, ret = -1;

	/*
	 * System mode: the client key is a secret of the group (/etc/mailout), read with
	 * it (priv.h); the check is on the effective ids that will open it.
	 */
	priv_raise();
	if (faccessat(AT_FDCWD, o->cert_file, R_OK, AT_EACCESS) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "tls_cert_file %s: %s", o->cert_file,
		    strerror(errno));
		goto out;
	}
	if ((r = mbedtls_x509_crt_parse_file(&ts->cert, o->cert_file)) != 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "tls_cert_file %s: not a certificate (%s)",
		    o->cert_file, r < 0 ? lib_error(r, buf, sizeof(buf)) : "unreadable entries");
		goto out;
	}
	if (faccessat(AT_FDCWD, keyf, R_OK, AT_EACCESS) == -1) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "tls_key_file %s: %s", keyf, strerror(errno));
		goto out;
	}
#if MBEDTLS3
	r = mbedtls_pk_parse_keyfile(&ts->key, keyf, NULL, mbedtls_ctr_drbg_random, &ts->drbg);
#else
	r = mbedtls_pk_parse_keyfile(&ts->key, keyf, NULL);
#endif
	priv_lower();
	held = 0;
	if (r != 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "tls_key_file %s: cannot read the private key "
		    "(%s)",
		    keyf, lib_error(r, buf, sizeof(buf)));
		goto out;
	}
#if MBEDTLS3
	r = mbedtls_pk_check_pair(&ts->cert.pk, &ts->key, mbedtls_ctr_drbg_random, &ts->drbg);
#else
	r = mbedtls_pk_check_pair(&ts->cert.pk, &ts->key);
#endif
	if (r != 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "tls_key_file %s is not the key of "
		    "tls_cert_file %s",
		    keyf, o->cert_file);
		goto out;
	}
	if ((r = mbedtls_ssl_conf_own_cert(&ts->conf, &ts->cert, &ts->key)) != 0) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "TLS client certificate: %s",
		    lib_error(r, buf, sizeof(buf)));
		goto out;
	}
	ret = 0;
out:
	if (held)
		priv_lower();
	return ret;
}

static const char *
alert_name(int a)
{
	switch (a) {
	case 0:
		return "close_notify";
	case 10:
		return "unexpected_message";
	case 20:
		return "bad_record_mac";
	case 22:
		return "record_overflow";
	case 40:
		return "handshake_failure";
	case 42:
		return "bad_certificate";
	case 43:
		return "unsupported_certificate";
	case 44:
		return "certificate_revoked";
	case 45:
		return "certificate_expired";
	case 46:
		return "certificate_unknown";
	case 47:
		return "illegal_parameter";
	case 48:
		return "unknown_ca";
	case 49:
		return "access_denied";
	case 50:
		return "decode_error";
	case 51:
		return "decrypt_error";
	case 70:
		return "protocol_version";
	case 71:
		return "insufficient_security";
	case 80:
		return "internal_error";
	case 86:
		return "inappropriate_fallback";
	case 90:
		return "user_canceled";
	case 109:
		return "missing_extension";
	case 110:
		return "unsupported_extension";
	case 112:
		return "unrecognized_name";
	case 116:
		return "certificate_required";
	case 120:
		return "no_application_protocol";
	default:
		return "unknown alert";
	}
}

/*
 * A fatal alert from the server: name it, and say whether it is about our settings (then
 * waiting will not help) or something the server may get over.
 */
static void
alert_error(struct tls_stream *ts, const char *when, int alert, struct err *e)
{
	const char *hint = "";
	enum err_kind kind = ERR_PERM;
	enum err_cause cause = CAUSE_CONFIG;

	switch (alert) {
	case 70: /* protocol_version */
		hint = !tls_has_tls13()     ? ": the server wants a TLS version this build does "
					      "not have (TLS 1.2 only); "
					      "build mailout with mbedTLS 3"
		    : ts->min_version == 13 ? ": the server does not do TLS 1.3 (tls_min_version "
					      "= 1.3)"
					    : ": the server accepts neither TLS 1.2 nor 1.3";
		break;
	case 40:
	case 71: /* handshake_failure, insufficient_security */
		hint = ts->client_cert
		    ? ": no TLS parameters in common with the server"
		    : ": no TLS parameters in common with the server, or it wants a client "
		      "certificate (tls_cert_file, tls_key_file)";
		break;
	case 42:
	case 43:
	case 44:
	case 45:
	case 46:
	case 48:
	case 49:
	case 116:
		hint = ts->client_cert ? ": the server refused our client certificate "
					 "(tls_cert_file)"
				       : ": the server wants a client certificate "
					 "(tls_cert_file, tls_key_file)";
		break;
	case 112: /* unrecognized_name */
		hint = ": the server does not know the name we asked for (tls_server_name or "
		       "host)";
		break;
	default:
		kind = ERR_TEMP;
		cause = CAUSE_TEMP;
		break;
	}
	err_set(e, kind, cause, "TLS %s: the server sent the alert %s (%d)%s", when,
	    alert_name(alert), alert, hint);
}

/* The alert mbedTLS has just received, or -1. */
static int
received_alert(struct tls_stream *ts, int r)
{
	int alert = -1;

	if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && SSL_IN_MSG(&ts->ssl) != NULL &&
	    SSL_IN_MSGTYPE(&ts->ssl) == MBEDTLS_SSL_MSG_ALERT)
		alert = SSL_IN_MSG(&ts->ssl)[1];
	return alert;
}

/*
 * Our write failed (EPIPE, reset): a TLS 1.2 server that rejects us sends a plain-text
 * alert and hangs up while we are still writing. Read what it left, briefly, to name the
 * reason. The alert, or -1.
 */
static int
salvage_alert(struct tls_stream *ts)
{
	unsigned char rec[7];
	struct err e2;
	size_t n = 0;
	ssize_t r;
	int old, alert = -1;

	if (ts->eof || ts->lower->ops->timeout == NULL)
		goto out;
	err_init(&e2);
	old = ts->lower->ops->timeout(ts->lower, 2);
	while (n < sizeof(rec)) {
		r = ts->lower->ops->read(ts->lower, rec + n, sizeof(rec) - n, &e2);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	ts->lower->ops->timeout(ts->lower, old);
	/* type 21 (alert), version 3.x, length 2, level 2 (fatal), description */
	if (n == sizeof(rec) && rec[0] == MBEDTLS_SSL_MSG_ALERT && rec[1] == 3 && rec[3] == 0 &&
	    rec[4] == 2 && rec[5] == MBEDTLS_SSL_ALERT_LEVEL_FATAL)
		alert = rec[6];
out:
	return alert;
}

/* The server speaks plain text: read the rest of its first line, briefly, to quote it. */
static void
more_head(struct tls_stream *ts)
{
	struct err e2;
	ssize_t r;
	int old;

	if (ts->lower->ops->timeout == NULL)
		return;
	err_init(&e2);
	old = ts->lower->ops->timeout(ts->lower, 1);
	while (ts->nhead < sizeof(ts->head) && memchr(ts->head, '\n', ts->nhead) == NULL) {
		r = ts->lower->ops->read(ts->lower, ts->head + ts->nhead,
		    sizeof(ts->head) - ts->nhead, &e2);
		if (r <= 0)
			break;
		ts->nhead += (size_t)r;
	}
	ts->lower->ops->timeout(ts->lower, old);
}

/*
 * The handshake failed with r: say why, and whether waiting could help. The lower
 * stream's own failure (timeout, reset) is the real cause when there is one.
 */
static void
handshake_error(struct tls_stream *ts, int r, struct err *e)
{
	char buf[256], head[40];
	size_t i;
	int alert;

	if ((alert = received_alert(ts, r)) != -1)
		alert_error(ts, "handshake failed", alert, e);
	else if (err_failed(&ts->ioerr)) {
		if (r == MBEDTLS_ERR_NET_SEND_FAILED && (alert = salvage_alert(ts)) != -1)
			alert_error(ts, "handshake failed", alert, e);
		else
			err_set(e, ts->ioerr.kind, ts->ioerr.cause, "TLS handshake: %s",
			    ts->ioerr.msg);
	} else if (ts->nhead > 0 && isdigit(ts->head[0])) {
		/* TLS records start with a type byte of 20..24; a digit is an SMTP greeting. */
		more_head(ts);
		for (i = 0; i < ts->nhead && i < sizeof(head) - 1 && isprint(ts->head[i]); i++)
			head[i] = (char)ts->head[i];
		head[i] = '\0';
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "TLS handshake: the server answered in plain "
		    "text (\"%s\"), not TLS; this port wants tls = starttls (implicit TLS is "
		    "usually port 465)",
		    head);
	} else if (r == MBEDTLS_ERR_SSL_CONN_EOF || ts->eof)
		err_set(e, ERR_TEMP, CAUSE_TEMP,
		    "TLS handshake: the server closed the "
		    "connection");
	else {
		switch (r) {
#if defined(MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION)
		case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
#endif
#if defined(MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION)
		case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
#endif
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "TLS handshake failed: the server "
			    "chose a TLS version we do not accept (tls_min_version = 1.%d, %s): "
			    "%s",
			    ts->min_version == 13 ? 3 : 2, tls_library_version(),
			    lib_error(r, buf, sizeof(buf)));
			break;
#if defined(MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE)
		case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
#endif
#if defined(MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE)
		case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
#endif
			err_set(e, ERR_PERM, CAUSE_CONFIG, "TLS handshake failed: %s",
			    lib_error(r, buf, sizeof(buf)));
			break;
		default:
			err_set(e, ERR_TEMP, CAUSE_PROTOCOL, "TLS handshake failed: %s",
			    lib_error(r, buf, sizeof(buf)));
			break;
		}
	}
}

/* Tell the server why we hang up; errors do not matter any more. */
static void
send_alert(struct tls_stream *ts, unsigned char desc)
{
	mbedtls_ssl_send_alert_message(&ts->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL, desc);
}

/*
 * The verification failed with flags: say which check failed and what to do, after a
 * fatal alert that names the reason to the server. ci describes peer.
 */
static void
explain(struct tls_stream *ts, const struct tls_opts *o, const mbedtls_x509_crt *peer,
    uint32_t flags, struct tls_cert_info *ci, struct err *e)
{
	const mbedtls_x509_crt *c, *top;
	char names[700], cn[256];

	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
		for (top = peer; top->next != NULL && top->next->raw.p != NULL; top = top->next)
			;
		tls_cert_dn(&top->issuer, cn, sizeof(cn));
		send_alert(ts, MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA);
		if (top == peer && peer->subject_raw.len == peer->issuer_raw.len &&
		    memcmp(peer->subject_raw.p, peer->issuer_raw.p, peer->subject_raw.len) == 0)
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "server certificate is self-signed "
			    "(%s) and not trusted; if it is the right one, pin it with "
			    "tls_fingerprint = sha256:%s, or set tls_ca_file to it",
			    ci->subject, ci->sha256);
		else
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "server certificate (%s) is not "
			    "trusted: its issuer \"%s\" is not a CA in %s; set tls_ca_file to "
			    "that CA's certificate, or pin this server's certificate with "
			    "tls_fingerprint = sha256:%s",
			    ci->subject, cn, ts->ca_used, ci->sha256);
	} else if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
		for (c = peer; c != NULL && c->raw.p != NULL; c = c->next)
			if (mbedtls_x509_time_is_past(&c->valid_to))
				break;
		tls_cert_describe(c != NULL && c->raw.p != NULL ? c : peer, ci);
		send_alert(ts, MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED);
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "server certificate expired on %s (%s, "
		    "issuer %s); its administrator must renew it",
		    ci->not_after, ci->subject, ci->issuer);
	} else if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
		for (c = peer; c != NULL && c->raw.p != NULL; c = c->next)
			if (mbedtls_x509_time_is_future(&c->valid_from))
				break;
		tls_cert_describe(c != NULL && c->raw.p != NULL ? c : peer, ci);
		send_alert(ts, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "server certificate is not valid before %s "
		    "(%s); check this computer's clock",
		    ci->not_before, ci->subject);
	} else if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
		tls_cert_names(peer, names, sizeof(names));
		send_alert(ts, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "server certificate does not match the name "
		    "%s: it is for %s; if this is the right server, set tls_server_name to one "
		    "of those names",
		    o->server_name, names[0] != '\0' ? names : "no name at all");
	} else {
		mbedtls_x509_crt_verify_info(names, sizeof(names), "", flags);
		for (char *p = names; *p != '\0'; p++)
			if (*p == '\n')
				*p = ';';
		send_alert(ts, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
		err_set(e, ERR_PERM, CAUSE_CONFIG,
		    "server certificate (%s) failed "
		    "verification: %s",
		    ci->subject, names);
	}
}

/*
 * The handshake is done: is this the server we want? 0, or -1 with err set (after a
 * fatal alert to the server).
 */
static int
check_peer(struct tls_stream *ts, const struct tls_opts *o, struct tls_info *info, struct err *e)
{
	const mbedtls_x509_crt *peer;
	struct tls_cert_info ci;
	unsigned char want[32], got[32], addr[16];
	char wantfp[96];
	uint32_t flags;
	size_t alen = 0;
	int ret = -1, ip;

	peer = mbedtls_ssl_get_peer_cert(&ts->ssl);
	if (peer == NULL || peer->raw.p == NULL) {
		if (!o->verify && empty(o->fingerprint)) {
			ret = 0;
			goto out;
		}
		send_alert(ts, MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
		err_set(e, ERR_PERM, CAUSE_CONFIG, "the server sent no TLS certificate");
		goto out;
	}
	tls_cert_describe(peer, &ci);
	if (!empty(o->fingerprint)) {
		tls_cert_fingerprint(o->fingerprint, want);
		if (tls_cert_sha256(peer->raw.p, peer->raw.len, got) != 0 ||
		    memcmp(want, got, sizeof(got)) != 0) {
			tls_cert_hex(want, sizeof(want), wantfp, sizeof(wantfp));
			send_alert(ts, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
			err_set(e, ERR_PERM, CAUSE_CONFIG,
			    "server certificate (%s) has the "
			    "fingerprint sha256:%s, not tls_fingerprint sha256:%s; if the server "
			    "changed its certificate, check the new one (mailout --serverinfo) "
			    "and update tls_fingerprint",
			    ci.subject, ci.sha256, wantfp);
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (!o->verify) {
		ret = 0;
		goto out;
	}

	flags = mbedtls_ssl_get_verify_result(&ts->ssl);
	if ((ip = ip_literal(o->server_name, addr, &alen))) {
		/* mbedTLS was given no name for a literal: the match is ours. */
		flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
		if (!ip_matches(peer, o->server_name, addr, alen))
			flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	}
	if (flags == 0) {
		ret = 0;
		goto out;
	}

	explain(ts, o, peer, flags, &ci, e);
out:
	if (info != NULL && ret == 0)
		info->verified = o->verify || !empty(o->fingerprint);
	return ret;
}

static void
fill_info(struct tls_stream *ts, struct tls_info *info)
{
	const char *s;

	info->done = 1;
	s = mbedtls_ssl_get_version(&ts->ssl);
	snprintf(info->version, sizeof(info->version), "%s", s != NULL ? s : "?");
	s = mbedtls_ssl_get_ciphersuite(&ts->ssl);
	snprintf(info->cipher, sizeof(info->cipher), "%s", s != NULL ? s : "?");
	tls_cert_chain(mbedtls_ssl_get_peer_cert(&ts->ssl), info);
}

/*
 * The session cache key: the relay and every setting that decided whether its
 * certificate was accepted. A session made under other settings is never offered.
 * 0, or -1 when there is no key (then no session is cached: a key of zeros, or of a
 * part of the settings, would stand for other settings too).
 */
static int
sess_key(const struct stream *lower, const struct tls_opts *o, unsigned char key[32])
{
	struct buf b;
	int rc = -1;

	buf_init(&b, MAX_SESSION_KEY_TEXT);
	if (buf_addf(&b, "%s\n%s\n%s\n%d\n%s\n%s\n%s\n%s\n%d\n", SESSION_KEY_VERSION,
		lower->name != NULL ? lower->name : "", o->server_name, o->verify,
		empty(o->ca_file) ? "" : o->ca_file, empty(o->fingerprint) ? "" : o->fingerprint,
		empty(o->cert_file) ? "" : o->cert_file, empty(o->key_file) ? "" : o->key_file,
		o->min_version) == -1)
		goto out;
	if (tls_cert_sha256((const unsigned char *)b.data, b.len, key) != 0)
		goto out;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* The cached session for ts's key into sess, if there is one the library takes. 1 or 0. */
static int
sess_load(struct tls_stream *ts, mbedtls_ssl_session *sess)
{
	unsigned char *blob;
	size_t len;
	int ok;

	ok = tls_cache_load(ts->sess_path, ts->sess_key, &blob, &len) == 1 &&
	    mbedtls_ssl_session_load(sess, blob, len) == 0;
	tls_cache_free(blob, len);
	return ok;
}

/* Keep the session for the next process (a cache: failures are ignored). */
static void
sess_save(struct tls_stream *ts)
{
	mbedtls_ssl_session sess;
	unsigned char *blob = NULL;
	size_t len = 0;

	mbedtls_ssl_session_init(&sess);
	if (mbedtls_ssl_get_session(&ts->ssl, &sess) != 0 ||
	    mbedtls_ssl_session_save(&sess, NULL, 0, &len) != MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL ||
	    len == 0)
		goto out;
	blob = xmalloc(len);
	if (mbedtls_ssl_session_save(&sess, blob, len, &len) != 0)
		goto out;
	tls_cache_save(ts->sess_path, ts->sess_key, blob, len);
out:
	tls_cache_free(blob, len);
	mbedtls_ssl_session_free(&sess);
}

/* A failed handshake or check: the cached session, if any, must not be offered again. */
static void
sess_drop(struct tls_stream *ts)
{
	if (ts->sess_path != NULL)
		tls_cache_drop(ts->sess_path);
}

static void
tls_free_ctx(struct tls_stream *ts)
{
	free(ts->sess_path);
	ts->sess_path = NULL;
	explicit_bzero(ts->sess_key, sizeof(ts->sess_key));
	mbedtls_ssl_free(&ts->ssl);
	mbedtls_ssl_config_free(&ts->conf);
	mbedtls_x509_crt_free(&ts->ca);
	mbedtls_x509_crt_free(&ts->cert);
	mbedtls_pk_free(&ts->key);
	mbedtls_ctr_drbg_free(&ts->drbg);
	mbedtls_entropy_free(&ts->entropy);
}

/* A stream over lower with every library context initialised, nothing configured yet. */
static struct tls_stream *
tls_new(struct stream *lower, const struct tls_opts *o)
{
	struct tls_stream *ts;

	ts = xcalloc(1, sizeof(*ts));
	ts->s.ops = &tls_ops;
	ts->s.name = lower->name;
	ts->lower = lower;
	ts->min_version = o->min_version;
	ts->ca_file = o->ca_file;
	ts->client_cert = !empty(o->cert_file);
	err_init(&ts->ioerr);
	mbedtls_ssl_init(&ts->ssl);
	mbedtls_ssl_config_init(&ts->conf);
	mbedtls_x509_crt_init(&ts->ca);
	mbedtls_x509_crt_init(&ts->cert);
	mbedtls_pk_init(&ts->key);
	mbedtls_ctr_drbg_init(&ts->drbg);
	mbedtls_entropy_init(&ts->entropy);
	return ts;
}

/* The configuration: randomness, groups cheapest first, the lowest version. */
static int
configure(struct tls_stream *ts, int endpoint, struct err *e)
{
	static const unsigned char pers[] = "mailout tls";
	char buf[256];
	int r, rc = -1;

	if ((r = mbedtls_ctr_drbg_seed(&ts->drbg, mbedtls_entropy_func, &ts->entropy, pers,
		 sizeof(pers) - 1)) != 0) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "TLS: cannot seed the random generator: %s",
		    lib_error(r, buf, sizeof(buf)));
		goto out;
	}
	if ((r = mbedtls_ssl_config_defaults(&ts->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
		 MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
		err_set(e, ERR_PERM, CAUSE_SOFTWARE, "TLS configuration: %s",
		    lib_error(r, buf, sizeof(buf)));
		goto out;
	}
	mbedtls_ssl_conf_rng(&ts->conf, mbedtls_ctr_drbg_random, &ts->drbg);
#if MBEDTLS3
	mbedtls_ssl_conf_groups(&ts->conf, tls_groups);
	mbedtls_ssl_conf_min_tls_version(&ts->conf,
	    ts->min_version == 13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
#else
	mbedtls_ssl_conf_curves(&ts->conf, tls_groups);
	mbedtls_ssl_conf_min_version(&ts->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	    MBEDTLS_SSL_MINOR_VERSION_3);
#endif
	rc = 0;
out:
	return rc;
}

/*
 * What this connection offers and checks: a cached session (sess), the CA (or not yet),
 * a client certificate, the server name; then the context is set up over the lower
 * stream. 0, or -1 with err.
 */
static int
prepare(struct tls_stream *ts, const struct tls_opts *o, mbedtls_ssl_session *sess, struct err *e)
{
	unsigned char addr[16];
	char buf[256];
	size_t alen;
	int r, ip, rc = -1;

	if (!empty(o->session_file) && sess_key(ts->lower, o, ts->sess_key) == 0) {
		ts->sess_path = xstrdup(o->session_file);
		ts->offered = sess_load(ts, sess);
#if MBEDTLS3 && defined(MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED)
		/* TLS 1.3 tickets arrive after the handshake; tls_close() keeps the last. */
		mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(&ts->conf,
		    MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
	}
	/*
	 * A pinned certificate needs no CA and no name; without verification nothing is
	 * checked. Otherwise mbedTLS checks chain, dates and DNS name, and check_peer()
	 * judges the result. With a session to offer the CA waits: a resumed handshake
	 * never sees a certificate (see handshake()).
	 */
	if (!empty(o->fingerprint) || !o->verify)
		ts->authmode = MBEDTLS_SSL_VERIFY_NONE;
	else {
		if ((!ts->offered || !LAZY_CA) && load_ca(ts, o->ca_file, e) == -1)
			goto out;
		if (ts->ca_loaded)
			mbedtls_ssl_conf_ca_chain(&ts->conf, &ts->ca, NULL);
		ts->authmode = MBEDTLS_SSL_VERIFY_OPTIONAL;
	}
	mbedtls_ssl_conf_authmode(&ts->conf, ts->authmode);
	if (!empty(o->cert_file) && load_client_cert(ts, o, e) == -1)
		goto out;
	if ((r = mbedtls_ssl_setup(&ts->ssl, &ts->conf)) != 0) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "TLS setup: %s", lib_error(r, buf, sizeof(buf)));
		goto out;
	}
	/* No SNI for an IP literal (RFC 6066 3); check_peer() matches it instead. */
	ip = ip_literal(o->server_name, addr, &alen);
	if ((r = mbedtls_ssl_set_hostname(&ts->ssl, ip ? NULL : o->server_name)) != 0) {
		err_set(e, ERR_PERM, CAUSE_CONFIG, "TLS server name \"%s\": %s", o->server_name,
		    lib_error(r, buf, sizeof(buf)));
		goto out;
	}
	mbedtls_ssl_set_bio(&ts->ssl, ts, bio_send, bio_recv, NULL);
	/* A session the library will not take is simply not offered. */
	if (ts->offered && mbedtls_ssl_set_session(&ts->ssl, sess) != 0)
		ts->offered = 0;
	rc = 0;
out:
	return rc;
}

/*
 * mbedtls_ssl_handshake() one step at a time, to load the CA only when the server's
 * certificate is next: when a cached session was offered and the server declined it. A
 * resumed handshake never comes to that state. 0, or -1 with err (the cached session
 * dropped).
 */
static int
handshake(struct tls_stream *ts, struct err *e)
{
	int r, saw_cert = 0, rc = -1;

	for (;;) {
#if MBEDTLS3
		if (mbedtls_ssl_is_handshake_over(&ts->ssl)) {
#else
		if (SSL_STATE(&ts->ssl) == MBEDTLS_SSL_HANDSHAKE_OVER) {
#endif
			r = 0;
			break;
		}
		if (SSL_STATE(&ts->ssl) == MBEDTLS_SSL_SERVER_CERTIFICATE && !saw_cert) {
			saw_cert = 1;
#if LAZY_CA
			if (ts->authmode != MBEDTLS_SSL_VERIFY_NONE && !ts->ca_loaded) {
				if (load_ca(ts, ts->ca_file, e) == -1) {
					send_alert(ts, MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR);
					sess_drop(ts);
					goto out;
				}
				mbedtls_ssl_set_hs_ca_chain(&ts->ssl, &ts->ca, NULL);
			}
#endif
		}
		r = mbedtls_ssl_handshake_step(&ts->ssl);
		if (r != 0 && !again(r))
			break;
	}
	if (r != 0) {
		sess_drop(ts);
		handshake_error(ts, r, e);
		goto out;
	}
	ts->resumed = ts->offered && !saw_cert;
	rc = 0;
out:
	return rc;
}

struct stream *
tls_wrap(struct stream *lower, const struct tls_opts *o, struct tls_info *info, struct err *e)
{
	struct tls_stream *ts = NULL;
	struct stream *ret = NULL;
	mbedtls_ssl_session sess;

	mbedtls_ssl_session_init(&sess);
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (tls_check_opts(o, e) == -1)
		goto out;
#if MBEDTLS3
	/* TLS 1.3 in mbedTLS 3 runs on PSA crypto, which must be set up first. */
	if (psa_crypto_init() != PSA_SUCCESS) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "TLS: cannot initialise PSA crypto");
		goto out;
	}
#endif
	ts = tls_new(lower, o);
	if (configure(ts, MBEDTLS_SSL_IS_CLIENT, e) == -1 || prepare(ts, o, &sess, e) == -1 ||
	    handshake(ts, e) == -1)
		goto out;
	if (info != NULL) {
		fill_info(ts, info);
		info->resumed = ts->resumed;
		if (ts->ca_used != NULL)
			snprintf(info->ca, sizeof(info->ca), "%s", ts->ca_used);
	}
	/*
	 * A resumed session was judged when it was made, under the same settings (the
	 * cache key), and the server proved it holds that session's secret: nothing new
	 * to judge, and no certificate may even be at hand.
	 */
	if (ts->resumed) {
		if (info != NULL)
			info->verified = 1;
	} else if (check_peer(ts, o, info, e) == -1) {
		sess_drop(ts);
		goto out;
	}
	ts->up = 1;
	ret = &ts->s;
	ts = NULL;
out:
	mbedtls_ssl_session_free(&sess);
	if (ts != NULL) {
		tls_free_ctx(ts);
		free(ts);
	}
	return ret;
}

struct stream *
tls_accept(struct stream *lower, const char *cert_file, const char *key_file, int min_version,
    struct err *e)
{
	struct tls_opts o;
	struct tls_stream *ts = NULL;
	struct stream *ret = NULL;
	char buf[256];
	int r;

	memset(&o, 0, sizeof(o));
	o.cert_file = cert_file;
	o.key_file = key_file;
	o.min_version = min_version;
	o.server_name = lower->name; /* not used: no name is checked on this side */
	if (tls_check_opts(&o, e) == -1)
		goto out;
#if MBEDTLS3
	if (psa_crypto_init() != PSA_SUCCESS) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "TLS: cannot initialise PSA crypto");
		goto out;
	}
#endif
	ts = tls_new(lower, &o);
	/* The client presents no certificate: devices have none, and AUTH says who. */
	ts->authmode = MBEDTLS_SSL_VERIFY_NONE;
	if (configure(ts, MBEDTLS_SSL_IS_SERVER, e) == -1 || load_client_cert(ts, &o, e) == -1)
		goto out;
	mbedtls_ssl_conf_authmode(&ts->conf, ts->authmode);
	if ((r = mbedtls_ssl_setup(&ts->ssl, &ts->conf)) != 0) {
		err_set(e, ERR_TEMP, CAUSE_OSERR, "TLS setup: %s", lib_error(r, buf, sizeof(buf)));
		goto out;
	}
	mbedtls_ssl_set_bio(&ts->ssl, ts, bio_send, bio_recv, NULL);
	if (handshake(ts, e) == -1)
		goto out;
	ts->up = 1;
	ret = &ts->s;
	ts = NULL;
out:
	if (ts != NULL) {
		tls_free_ctx(ts);
		free(ts);
	}
	return ret;
}

/*
 * After a failed write: an alert the server sent before it hung up, if one is waiting
 * (read briefly). Returns the read's result when it is an alert, else r.
 */
static int
pending_alert(struct tls_stream *ts, int r)
{
	unsigned char tmp[512];
	int old, r2;

	if (ts->eof || ts->lower->ops->timeout == NULL)
		return r;
	old = ts->lower->ops->timeout(ts->lower, 2);
	r2 = mbedtls_ssl_read(&ts->ssl, tmp, sizeof(tmp));
	ts->lower->ops->timeout(ts->lower, old);
	return received_alert(ts, r2) != -1 ? r2 : r;
}

/* A failed TLS operation: the lower stream's failure if it had one, else the library's. */
static void
io_error(struct tls_stream *ts, int r, const char *what, struct err *e)
{
	char buf[256];
	int alert;

	/*
	 * TLS 1.3: a refused client certificate shows after the handshake, as an alert
	 * that may arrive while we write (and the server hangs up): read it to name it.
	 */
	if (r == MBEDTLS_ERR_NET_SEND_FAILED)
		r = pending_alert(ts, r);
	if ((alert = received_alert(ts, r)) != -1)
		alert_error(ts, "session", alert, e);
	else if (err_failed(&ts->ioerr))
		err_set(e, ts->ioerr.kind, ts->ioerr.cause, "%s", ts->ioerr.msg);
	else
		err_set(e, ERR_TEMP, CAUSE_TEMP, "TLS %s on %s failed: %s", what, ts->s.name,
		    lib_error(r, buf, sizeof(buf)));
}

static ssize_t
tls_read(struct stream *s, void *p, size_t n, struct err *e)
{
	struct tls_stream *ts = (struct tls_stream *)s;
	int r = 0;

	if (ts->eof)
		goto out;
	for (;;) {
		r = mbedtls_ssl_read(&ts->ssl, p, n);
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
		if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
			ts->new_ticket = 1;
#endif
		if (!again(r))
			break;
	}
	/* A close_notify, or the end of the connection without one, ends the stream. */
	if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
	    (r == MBEDTLS_ERR_SSL_CONN_EOF && !err_failed(&ts->ioerr))) {
		ts->eof = 1;
		r = 0;
	} else if (r < 0) {
		io_error(ts, r, "read", e);
		r = -1;
	}
out:
	return r;
}

static int
tls_write(struct stream *s, const void *p, size_t n, struct err *e)
{
	struct tls_stream *ts = (struct tls_stream *)s;
	const unsigned char *d = p;
	int r, ret = -1;

	/* At most a record per call; mbedTLS may take less: go on from where it stopped. */
	while (n > 0) {
		r = mbedtls_ssl_write(&ts->ssl, d, n > TLS_RECORD ? TLS_RECORD : n);
		if (r > 0) {
			d += r;
			n -= (size_t)r;
		} else if (!again(r)) {
			io_error(ts, r, "write", e);
			goto out;
		}
	}
	ret = 0;
out:
	return ret;
}

static void
tls_close(struct stream *s)
{
	struct tls_stream *ts = (struct tls_stream *)s;

	if (ts == NULL)
		return;
	/* A polite close_notify, unless the connection is already gone. */
	if (ts->up && !err_failed(&ts->ioerr))
		mbedtls_ssl_close_notify(&ts->ssl);
	/*
	 * Kept at the end rather than after the handshake: TLS 1.3 tickets come after it.
	 * A resumed TLS 1.2 session is already in the file as it is.
	 */
	if (ts->up && ts->sess_path != NULL && (!ts->resumed || ts->new_ticket))
		sess_save(ts);
	tls_free_ctx(ts);
	ts->lower->ops->close(ts->lower);
	free(ts);
}

static int
tls_timeout(struct stream *s, int timeout_s)
{
	struct tls_stream *ts = (struct tls_stream *)s;

	return ts->lower->ops->timeout != NULL ? ts->lower->ops->timeout(ts->lower, timeout_s)
					       : -1;
}

/* The lower stream waits: the deadline is its. */
static void
tls_deadline(struct stream *s, int64_t at_ms)
{
	stream_set_deadline(((struct tls_stream *)s)->lower, at_ms);
}

static const struct stream_ops tls_ops = {
	.read = tls_read,
	.write = tls_write,
	.close = tls_close,
	.timeout = tls_timeout,
	.deadline = tls_deadline,
};

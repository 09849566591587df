/*
 * tls_cert.c: a certificate in words. See tls_cert.h.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/version.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "base/str.h"
#include "net/tls_cert.h"
#include "base/bounds.h"

/* Names come from the server: nothing but printable ASCII in our messages. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if (!isprint((unsigned char)*s))
			*s = '?';
}

/* Append sep (if buf is not empty) and s (if not empty) to buf, truncating quietly. */
static void
append(char *buf, size_t len, const char *sep, const char *s)
{
	size_t o = strlen(buf);

	if (s[0] != '\0' && o + 1 < len)
		snprintf(buf + o, len - o, "%s%s", o > 0 ? sep : "", s);
}

static void
fmt_time(char *buf, size_t len, const mbedtls_x509_time *t)
{
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d UTC", t->year, t->mon, t->day, t->hour,
	    t->min, t->sec);
}

/* "DNS:a, IP:1.2.3.4, IP:::1" from the subjectAltName entries. */
static void
san_list(const mbedtls_x509_crt *c, char *buf, size_t len)
{
	const mbedtls_x509_sequence *q;
	char one[300];
	char addr[INET6_ADDRSTRLEN];
	int type;

	buf[0] = '\0';
	for (q = &c->subject_alt_names; q != NULL && q->buf.p != NULL; q = q->next) {
		if ((q->buf.tag & MBEDTLS_ASN1_CONTEXT_SPECIFIC) == 0)
			continue;
		type = q->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
		if (type == MBEDTLS_X509_SAN_DNS_NAME)
			snprintf(one, sizeof(one), "DNS:%.*s",
			    (int)(q->buf.len > 255 ? 255 : q->buf.len), (const char *)q->buf.p);
		else if (type == MBEDTLS_X509_SAN_IP_ADDRESS &&
		    (q->buf.len == 4 || q->buf.len == 16) &&
		    inet_ntop(q->buf.len == 4 ? AF_INET : AF_INET6, q->buf.p, addr,
			sizeof(addr)) != NULL)
			snprintf(one, sizeof(one), "IP:%s", addr);
		else
			continue;
		printable(one);
		append(buf, len, ", ", one);
	}
}

/* The subject's CN, or "". */
static void
common_name(const mbedtls_x509_crt *c, char *buf, size_t len)
{
	const mbedtls_x509_name *n;

	buf[0] = '\0';
	for (n = &c->subject; n != NULL; n = n->next)
		if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
			snprintf(buf, len, "%.*s", (int)(n->val.len > 255 ? 255 : n->val.len),
			    (const char *)n->val.p);
			break;
		}
	printable(buf);
}

void
tls_cert_dn(const mbedtls_x509_name *dn, char *buf, size_t len)
{
	if (mbedtls_x509_dn_gets(buf, len, dn) < 0)
		snprintf(buf, len, "?");
	printable(buf);
}

void
tls_cert_names(const mbedtls_x509_crt *c, char *buf, size_t len)
{
	char cn[256], sans[512];

	buf[0] = '\0';
	common_name(c, cn, sizeof(cn));
	if (cn[0] != '\0')
		snprintf(buf, len, "CN=%s", cn);
	san_list(c, sans, sizeof(sans));
	append(buf, len, ", ", sans);
}

void
tls_cert_describe(const mbedtls_x509_crt *c, struct tls_cert_info *ci)
{
	unsigned char md[32];

	memset(ci, 0, sizeof(*ci));
	tls_cert_dn(&c->subject, ci->subject, sizeof(ci->subject));
	tls_cert_dn(&c->issuer, ci->issuer, sizeof(ci->issuer));
	san_list(c, ci->names, sizeof(ci->names));
	fmt_time(ci->not_before, sizeof(ci->not_before), &c->valid_from);
	fmt_time(ci->not_after, sizeof(ci->not_after), &c->valid_to);
	if (tls_cert_sha256(c->raw.p, c->raw.len, md) == 0)
		tls_cert_hex(md, sizeof(md), ci->sha256, sizeof(ci->sha256));
}

void
tls_cert_chain(const mbedtls_x509_crt *peer, struct tls_info *info)
{
	const mbedtls_x509_crt *c;

	info->nchain = 0;
	for (c = peer; c != NULL && c->raw.p != NULL && info->nchain < MAX_TLS_CHAIN; c = c->next)
		tls_cert_describe(c, &info->chain[info->nchain++]);
}

int
tls_cert_sha256(const unsigned char *p, size_t n, unsigned char out[32])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	return mbedtls_sha256(p, n, out, 0) == 0 ? 0 : -1;
#else
	return mbedtls_sha256_ret(p, n, out, 0) == 0 ? 0 : -1;
#endif
}

void
tls_cert_hex(const unsigned char *p, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o + 4 <= len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%02X", i ? ":" : "", p[i]);
}

int
tls_cert_fingerprint(const char *s, unsigned char out[32])
{
	size_t n = 0;
	int hi, lo, ret = -1;

	if (startswith_ci(s, "sha256:"))
		s += 7;
	while (*s != '\0') {
		if (*s == ':') {
			s++;
			continue;
		}
		if (n == 32 || !isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			goto out;
		hi = isdigit((unsigned char)s[0]) ? s[0] - '0'
						  : (tolower((unsigned char)s[0]) - 'a' + 10);
		lo = isdigit((unsigned char)s[1]) ? s[1] - '0'
						  : (tolower((unsigned char)s[1]) - 'a' + 10);
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	if (n == 32)
		ret = 0;
out:
	return ret;
}

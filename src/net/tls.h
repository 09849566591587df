/*
 * tls.h: TLS as a stream layered over another stream, on mbedTLS 2.28 or 3.6. This header
 * includes none of mbedTLS; the files that do are tls.c, tls_cert.c (certificates in
 * words), smtp/sasl.c (hashes, HMAC, PBKDF2), secrets/oauth2.c (PKCE's SHA-256) and
 * base/base64.c.
 *
 * tls_wrap() runs the client handshake over a lower stream (a socket from net.c, so the
 * lower stream's per-step timeout bounds every step) and checks the server:
 *   - tls_fingerprint set: the leaf certificate's SHA-256 must match, nothing else is
 *     checked and no CA file is read;
 *   - else verify on: the chain must lead to a CA in ca_file (default: the system bundle,
 *     found on Debian/Ubuntu, Fedora/RHEL, Alpine, Arch, openSUSE) and be valid now, and
 *     the name must match: a DNS name by mbedTLS (SNI is sent), an IP literal against
 *     the certificate's IP address entries (or a DNS entry spelling the same address),
 *     with no SNI (RFC 6066 forbids literals there);
 *   - else (verify off) anything is accepted; the caller prints the warning.
 *
 * Session resumption (opts.session_file set): the session of a handshake that passed the
 * checks above is kept in that file (tls_cache.h; written at tls close) with a key made of
 * the relay (the lower stream's "host:port"), the server name and every verification
 * setting, and offered on the next connection whose key is the same and no more than
 * MAX_TLS_SESSION_AGE later. A resumed session was judged when it was made: it is not
 * judged again, and the CA file is not read at all unless the server declines to resume
 * (it is then read when its certificate arrives). Any failed handshake or check deletes
 * the file.
 *
 * Failures, one line each, with what to do:
 *   certificate problems (expired, not yet valid, untrusted issuer, name mismatch,
 *   fingerprint mismatch), a library without TLS 1.3 asked for it, unreadable CA,
 *   certificate or key files, and a server that answers in plain text (wrong port for
 *   implicit TLS) are PERM/CAUSE_CONFIG: retrying will not help until someone acts;
 *   an alert from the server that says it rejects our parameters (protocol_version,
 *   handshake_failure, certificate_required, ...) is PERM/CAUSE_CONFIG as well;
 *   I/O failures of the lower stream (timeout, reset, end of stream) and any other
 *   alert are TEMP (the lower stream's message is kept).
 */
#ifndef MAILOUT_TLS_H
#define MAILOUT_TLS_H

#include <stddef.h>
#include "base/bounds.h"

struct err;
struct stream;

struct tls_opts {
	const char *server_name; /* SNI and name to verify (DNS name or IP literal) */
	int verify; /* 0: accept any certificate */
	const char *ca_file; /* PEM file or directory; NULL: the system bundle */
	const char *fingerprint; /* "sha256:AA:BB:..." (colons optional); NULL: none */
	const char *cert_file; /* client certificate (PEM), with key_file */
	const char *key_file;
	int min_version; /* 12 or 13 (0 = 12) */
	const char *session_file; /* resumption cache (see above); NULL: none */
};

struct tls_cert_info {
	char subject[256]; /* "CN=localhost, O=Example" */
	char issuer[256];
	char names[512]; /* "DNS:localhost, IP:127.0.0.1" or "" */
	char not_before[24]; /* "2025-01-31 12:00:00 UTC" */
	char not_after[24];
	char sha256[96]; /* "AA:BB:...", 32 bytes in hex with colons */
};

struct tls_info {
	int done; /* the handshake completed */
	char version[16]; /* "TLSv1.3" */
	char cipher[80]; /* mbedTLS ciphersuite name */
	int verified; /* chain and name, or fingerprint, are ok */
	int resumed; /* a cached session was resumed */
	char ca[256]; /* CA file checked against, "" if none */
	size_t nchain; /* peer certificates as sent, leaf first */
	struct tls_cert_info chain[MAX_TLS_CHAIN];
};

/*
 * Handshake over lower and check the server as above. On success returns a stream that
 * owns lower (closing it sends close_notify, then closes lower). On failure returns NULL
 * with err set and lower untouched and still the caller's; the connection is then in an
 * undefined TLS state and may only be closed. info (may be NULL) is filled as far as the
 * handshake got: after a certificate failure it holds the chain, for --serverinfo.
 */
struct stream *tls_wrap(struct stream *lower, const struct tls_opts *o, struct tls_info *info,
    struct err *e);

/*
 * The server side, for the listener's STARTTLS: the handshake over lower with the
 * certificate (PEM, chain after the leaf) and key of cert_file and key_file, TLS 1.2 or
 * min_version (12 or 13) and up; no client certificate is asked for. Returns a stream
 * that owns lower, or NULL with err (lower untouched and still the caller's; the
 * connection may only be closed): unreadable or mismatched files are PERM/CAUSE_CONFIG,
 * a client that fails the handshake TEMP.
 */
struct stream *tls_accept(struct stream *lower, const char *cert_file, const char *key_file,
    int min_version, struct err *e);

/*
 * Check options before any network activity: tls_min_version the library can do, a
 * well-formed fingerprint, a key file only with a certificate. 0, or -1 with err set
 * (PERM/CAUSE_CONFIG). tls_wrap() checks them too.
 */
int tls_check_opts(const struct tls_opts *o, struct err *e);

/* Check a tls_fingerprint value: 0 if it is sha256: and 32 hex bytes, else -1. */
int tls_fingerprint_valid(const char *s);

/* 1 if the library can do TLS 1.3, 0 if not (mbedTLS 2.28). */
int tls_has_tls13(void);

/* "mbedTLS 3.6.2" (the library loaded at run time). Static storage. */
const char *tls_library_version(void);

#endif

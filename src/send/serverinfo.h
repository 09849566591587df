/*
 * serverinfo.h: mailout --serverinfo, what an account's relay offers.
 */
#ifndef MAILOUT_SERVERINFO_H
#define MAILOUT_SERVERINFO_H

#include <stdio.h>

struct account;
struct err;

/*
 * Connect to the account's relay the way delivery would (TLS as the account says; with
 * opportunistic or starttls, STARTTLS when offered, then EHLO again), send nothing but
 * EHLO, STARTTLS and QUIT, and print on out: the greeting, the capabilities (before and
 * after STARTTLS), the TLS version and cipher, the certificate chain (subject, issuer,
 * names, validity, SHA-256 fingerprint), the verification result, and a ready-to-paste
 * tls_fingerprint line. With verbose, the SMTP transcript goes to stderr.
 * Returns 0 when the relay was reached and (with TLS) its certificate passed; else -1
 * with err, after printing whatever was learnt (a certificate that failed verification
 * is still shown, with its fingerprint, so that it can be checked and pinned).
 */
int serverinfo_run(const struct account *a, int verbose, FILE *out, struct err *e);

#endif

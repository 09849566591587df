/*
 * autoconfig.h: Thunderbird's autoconfiguration documents (config-v1.1.xml), as a
 * domain serves them (https://autoconfig.DOMAIN/mail/config-v1.1.xml) and as the
 * public ISP database (ISPDB) does, parsed with libexpat.
 *
 * Only what submission needs is taken: each <outgoingServer type="smtp"> of the
 * <emailProvider> (hostname, port, socketType SSL/STARTTLS/plain, authentication,
 * username with %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% filled in), and the
 * <oAuth2> issuer that says whether the provider signs in with Google or Microsoft.
 * A document that declares entities is refused: none of the real ones does, and
 * entities are how XML parsers are attacked.
 */
#ifndef MAILOUT_AUTOCONFIG_H
#define MAILOUT_AUTOCONFIG_H

#include <stddef.h>

#include "base/attr.h"

struct buf;
struct candidates;
struct err;

/*
 * The SMTP servers of the document (xml, len bytes) for address, added to out in
 * document order, each with source as its source. A server with socketType plain, a
 * bad host name or port is skipped; one with only "none" or "client-IP-address"
 * authentication takes no password. Returns how many were added (0 or more), or -1
 * with err (PERM CAUSE_DATA) when the document is not well-formed XML, declares
 * entities, or is not a clientConfig.
 */
int autoconfig_parse(const char *xml, size_t len, const char *address, const char *source,
    struct candidates *out, struct err *e) MUST_CHECK;

/*
 * GET url over HTTPS (net/http.h), checked against ca_file (NULL: the system bundle),
 * within timeout_s. 1 with the document in body (reset first), 0 when the server says
 * there is none (404, 410), -1 with err: unreachable, another status, not XML, larger
 * than MAX_AUTOCONFIG_XML, or a certificate problem.
 */
int autoconfig_fetch(const char *url, const char *ca_file, int timeout_s, struct buf *body,
    struct err *e) MUST_CHECK;

#endif

/*
 * authorize.h: `mailout --authorize [--device] [-a ACCOUNT]`, getting an account its
 * first OAuth2 refresh token.
 *
 * Authorization code with PKCE (RFC 7636, S256) and a loopback redirect (RFC 8252 7.3):
 * a listener on 127.0.0.1 at a free port; the redirect URI is http://127.0.0.1:PORT
 * (http://localhost:PORT for Microsoft, whose app registrations take "http://localhost"
 * with any port). The authorization URL is printed; then whichever comes first is used:
 * the browser's redirect to the listener, or, for a browser on another machine (mailout
 * reached over SSH), the address the browser ended up on, or just its code, pasted on
 * standard input. The code is exchanged at the token endpoint, the tokens are stored
 * (oauth2.h: under the account's lock) and one line says which account is authorized.
 * The browser gets a page saying the same.
 *
 * Device authorization grant (RFC 8628), with device: the verification URI and user code
 * are printed, and the token endpoint is polled at the given interval (slow_down adds
 * 5 s, authorization_pending waits on, expired_token and access_denied end it).
 *
 * Nothing secret is printed: not the code, the verifier, the tokens or the client secret.
 */
#ifndef MAILOUT_AUTHORIZE_H
#define MAILOUT_AUTHORIZE_H

#include <stdio.h>

struct account;
struct err;

/*
 * Run the flow for account a. Pasted answers are read from in_fd (-1: none); messages go
 * to out. Waits at most 10 minutes for the browser (the device flow: as long as its code
 * lives). Returns 0 once the tokens are stored, else -1 with err: PERM CAUSE_CONFIG for
 * a missing oauth_client_id or endpoint, PERM CAUSE_NOPERM when the provider refused
 * (its error and description quoted), TEMP when it could not be reached or nothing came
 * in time.
 */
int authorize_run(const struct account *a, int device, int in_fd, FILE *out, struct err *e);

#endif

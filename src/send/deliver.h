/*
 * deliver.h: one connection to an account's relay, ready to take messages.
 *
 * deliver_open connects, reads the greeting, says EHLO, brings up TLS as the account
 * requires and authenticates; then any number of deliver_send calls (the queue runner
 * reuses one session for many messages); deliver_close says QUIT.
 */
#ifndef MAILOUT_DELIVER_H
#define MAILOUT_DELIVER_H

#include "smtp/smtp.h"

struct account;
struct deliver;
struct tls_opts;

struct deliver_opts {
	int	verbose;	/* protocol transcript on stderr */
	int	serverinfo;	/* do not fail on a missing AUTH secret: we only look */
	/*
	 * Optional: told of each stage that succeeded ("connect", "tls", "ehlo", "auth")
	 * with a one-line detail, for mailout --test.
	 */
	void	(*step)(void *ctx, const char *stage, const char *detail);
	void	*step_ctx;
};

/* NULL with err set (classified TEMP/PERM with a cause) on failure. */
struct deliver	*deliver_open(const struct account *a, const struct deliver_opts *o,
		    struct err *e);
/*
 * smtp_send on the session, after the one decision that needs the relay's capabilities
 * and the message's format: a message with 8-bit headers (env->smtputf8) to a relay
 * without SMTPUTF8 goes as a copy with 7-bit headers (rfc2047_downgrade). When the copy
 * cannot be made, every recipient carries that failure and nothing is sent.
 */
int		 deliver_send(struct deliver *d, const struct smtp_envelope *env, int fd,
		    struct smtp_rcpt_status *st, struct err *e);
void		 deliver_close(struct deliver *d);
struct smtp	*deliver_smtp(struct deliver *d);
/* "host:port" of the relay, for messages and logs. */
const char	*deliver_relay(const struct deliver *d);
/* o from the account's tls_* settings; server_name is tls_server_name, else host. */
void		 deliver_tls_opts(struct tls_opts *o, const struct account *a);

#endif

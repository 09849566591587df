/*
 * configure.h: mailout --configure [ADDRESS]: from an address to a delivered test
 * message and an account in sendmail.conf, in one command.
 *
 * 1. The file: -C FILE; else, as root in system mode, the system file; else the
 *    user's. Its text is read now and must be the same when the account is written.
 * 2. The address (asked when not given), and the account's name: -a NAME, else the
 *    address's domain (the whole address when that name is taken by another address).
 * 3. The server: --host (with --port, --tls) or discovery (discover.h); each
 *    candidate tried as --serverinfo would (trial.h), the first whose certificate
 *    verifies is proposed. When none verifies and one showed a certificate, its
 *    problem and fingerprint are shown and pinning it is offered (asked on a terminal;
 *    --tls-fingerprint otherwise, never assumed).
 * 4. Signing in: --no-auth, --password-file F, --password-command CMD, OAuth2 (--oauth,
 *    or offered for a Google or Microsoft server: the --authorize step, the device flow
 *    without a display), or a password: asked without echo on a terminal, else the
 *    first line of standard input.
 * 5. The test message (the code of --test) to --test-to, else the address (asked on a
 *    terminal), through the account exactly as it will be written (staged beside the
 *    file and loaded by the normal parser), with the password held in memory.
 * 6. Only once it is delivered: the password is kept where this mode keeps secrets
 *    (the keyring per user, falling back to a 0600 file beside the configuration when
 *    there is no keyring; in system mode a root:GROUP 0640 file in SYSCONFDIR/mailout),
 *    and the account is written (confedit.h: every other line kept, FILE.bak).
 *
 * Questions are asked only when standard input is a terminal; otherwise --yes is
 * required and nothing is asked. Results: 0 written; errors as a send would have them
 * (the test's own failure), CAUSE_USAGE for what a script left out, CAUSE_NOHOST when
 * no server was found, CAUSE_CONFIG for a certificate that was not accepted.
 */
#ifndef MAILOUT_CONFIGURE_H
#define MAILOUT_CONFIGURE_H

#include <stddef.h>

struct err;

struct configure_opts {
	const char *address; /* NULL: asked */
	const char *account; /* -a: the section name */
	const char *config_file; /* -C: the file to write */
	const char *host; /* --host: no discovery */
	const char *port; /* --port */
	const char *tls; /* --tls: implicit | starttls */
	const char *user; /* --user */
	const char *password_file; /* --password-file: named in the account */
	const char *password_command; /* --password-command */
	const char *oauth; /* --oauth: google | microsoft | custom */
	const char *ca_file; /* --tls-ca-file */
	const char *fingerprint; /* --tls-fingerprint */
	const char *test_to; /* --test-to */
	char *const *sets; /* --set KEY=VALUE, for the account */
	size_t nsets;
	int no_auth; /* --no-auth */
	int yes; /* --yes: accept the proposals, ask nothing */
	int make_default; /* --default */
	int device; /* --device: OAuth2 device flow */
	int verbose; /* -v: the SMTP dialogues on stderr */
};

/* Run it, talking on standard input and output. 0, or -1 with err (see above). */
int configure_run(const struct configure_opts *o, struct err *e);

/*
 * What --configure and --import share. configure_target: the file to write (-C FILE;
 * as root in system mode the system file; else the user's), links followed; NULL with
 * err (CAUSE_USAGE for a user other than root in system mode). configure_secret_path:
 * where an account's password file goes: beside target, or in system mode in the
 * mailout/ directory beside it (SYSCONFDIR/mailout). Both owned by the caller.
 */
char *configure_target(const char *config_file, struct err *e);
char *configure_secret_path(const char *target, const char *account);

/* The account keys setup owns: the server, TLS, sign-in and from (NULL-terminated). */
#define CONFIGURE_NOWNED 27
extern const char *const configure_owned[CONFIGURE_NOWNED + 1];

#endif

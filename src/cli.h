/*
 * cli.h: the sendmail command line. Parsing only; no I/O.
 *
 * Every flag real callers use is accepted (see shared/CALLERS.md): with a meaning, or
 * accepted and ignored. Operands are recipient address lists, kept as given.
 */
#ifndef MAILOUT_CLI_H
#define MAILOUT_CLI_H

#include <stddef.h>

#include "base/bounds.h"

struct err;

enum cli_mode {
	MODE_SEND = 0, /* default: read a message on stdin and send it */
	MODE_HELP, /* --help */
	MODE_VERSION, /* --version, -bV */
	MODE_SMTP, /* -bs */
	MODE_QUEUE_LIST, /* -bp, mailq */
	MODE_QUEUE_FLUSH, /* -q, -qI<id>, --flush */
	MODE_QUEUE_RUN, /* --queue-run: only due entries */
	MODE_QUEUE_REMOVE, /* --remove ID */
	MODE_ALIASES, /* -bi, -I, newaliases */
	MODE_VERIFY, /* -bv */
	MODE_DAEMON, /* -bd */
	MODE_SERVERINFO, /* --serverinfo */
	MODE_TEST, /* --test RCPT */
	MODE_STORE_PASSWORD, /* --store-password */
	MODE_FORGET_PASSWORD, /* --forget-password */
	MODE_AUTHORIZE, /* --authorize [--device] */
	MODE_CONFIGURE, /* --configure [ADDRESS] */
	MODE_IMPORT, /* --import FILE */
	MODE_QUEUE_RELEASE, /* --release ID|--all: held entries sent on */
	MODE_QUEUE_REQUEUE, /* --requeue ID -a ACCOUNT: bound to another account */
};

/* --configure's and --import's options (configure.h, import.h say what they do). */
struct cli_setup {
	const char *import_file; /* --import FILE */
	const char *host; /* --host */
	const char *port; /* --port */
	const char *tls; /* --tls */
	const char *user; /* --user */
	const char *password_file; /* --password-file */
	const char *password_command; /* --password-command */
	const char *oauth; /* --oauth */
	const char *ca_file; /* --tls-ca-file */
	const char *fingerprint; /* --tls-fingerprint */
	const char *test_to; /* --test-to */
	char *sets[MAX_SETUP_SETS]; /* --set KEY=VALUE */
	size_t nsets;
	int no_auth; /* --no-auth */
	int yes; /* --yes */
	int make_default; /* --default */
};

struct cli {
	enum cli_mode mode;
	const char *prog; /* basename of argv[0] */
	int read_rcpts; /* -t */
	int ignore_dots; /* -i, -oi: recorded; a lone dot never ends input anyway */
	int sender_set; /* -f or -r was given */
	const char *sender; /* -f/-r value; "" means the null sender (-f<>, -f "") */
	const char *full_name; /* -F */
	const char *dsn_notify; /* -N: never | list of success,failure,delay */
	const char *dsn_ret; /* -R: full | hdrs */
	const char *dsn_envid; /* -V */
	const char *body_type; /* -B: 7BIT | 8BITMIME */
	const char *config_file; /* -C */
	const char *log_file; /* -X: never opened; kept so system mode can refuse it */
	const char *account; /* -a, --account */
	const char *queue_id; /* -qI<id>, --remove, --release (NULL: --all), --requeue */
	const char *test_rcpt; /* --test RCPT */
	int device_flow; /* --authorize --device */
	int verbose; /* -v */
	int dry_run; /* --dry-run */
	char **operands; /* recipients as given (pointers into argv) */
	size_t noperands;
	struct cli_setup setup; /* --configure, --import */
};

/*
 * Parse argv. On success returns 0 with c filled (pointers into argv stay valid).
 * argv is permuted as GNU getopt does (operands end up together at the end) and two
 * values are edited in place: -f<a@b> loses its angle brackets, the -N list is lower
 * cased. -R comes back as "full"/"hdrs", -B as "7BIT"/"8BITMIME".
 * On error returns -1 with err set to CAUSE_USAGE and a one-line message naming the
 * offending argument. A CR or LF in -f, -F, -N, -R, -V or an operand is an error.
 */
int cli_parse(struct cli *c, int argc, char **argv, struct err *e);

/* The --help text. */
extern const char cli_help_text[];

#endif

/*
 * cli_test.c: every argv row that real callers use (PHP, cron, mail clients, sudo: observed
 * on Debian 12), the spellings seen, and the errors.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/err.h"
#include "unit.h"

/* cli_parse may rewrite argv strings in place (as real argv allows): give it copies. */
static char *args[64];
static int nargs;
static struct cli c;
static struct err e;

static void
drop_args(void)
{
	while (nargs > 0)
		free(args[--nargs]);
}

/* Parse prog followed by the words up to NULL. */
static int
parse_v(const char *prog, ...)
{
	const char *w;
	va_list ap;

	drop_args();
	args[nargs++] = strdup(prog);
	va_start(ap, prog);
	while ((w = va_arg(ap, const char *)) != NULL)
		args[nargs++] = strdup(w);
	va_end(ap);
	args[nargs] = NULL;
	err_init(&e);
	return cli_parse(&c, nargs, args, &e);
}

#define P(...) parse_v("sendmail", __VA_ARGS__, (const char *)NULL)
#define PROG(...) parse_v(__VA_ARGS__, (const char *)NULL)

/* The operands equal the words given, in order. */
static int
ops(const char *first, ...)
{
	const char *w;
	size_t n = 0;
	va_list ap;
	int ok = 1;

	va_start(ap, first);
	for (w = first; w != NULL; w = va_arg(ap, const char *)) {
		if (n >= c.noperands || strcmp(c.operands[n], w) != 0)
			ok = 0;
		n++;
	}
	va_end(ap);
	return ok && n == c.noperands;
}

#define OPS(...) ops(__VA_ARGS__, (const char *)NULL)
#define NOOPS() (c.noperands == 0)

static int
usage_error(const char *want)
{
	int ok = e.kind == ERR_PERM && e.cause == CAUSE_USAGE &&
	    (want == NULL || strcmp(e.msg, want) == 0);

	if (!ok)
		printf("#   error \"%s\"\n", e.msg);
	return ok;
}

static void
callers(void)
{
	/* PHP mail(): -t -i plus the fifth argument in its many spellings. */
	CHECK(P("-t", "-i", "-fX@example.com") == 0, "php -fX parses");
	CHECK(c.mode == MODE_SEND && c.read_rcpts && c.ignore_dots && NOOPS(), "php -t -i");
	CHECK(c.sender_set, "php -fX sets sender");
	CHECK_STR(c.sender, "X@example.com", "php -fX sender");
	CHECK(P("-t", "-i", "-f", "X@example.com") == 0, "php -f X parses");
	CHECK_STR(c.sender, "X@example.com", "php -f X sender");
	CHECK(c.read_rcpts && c.ignore_dots && NOOPS(), "php -f X no operands");
	CHECK(P("-t", "-i", "-f<>") == 0 && c.sender_set, "php -f<> parses");
	CHECK_STR(c.sender, "", "php -f<> is the null sender");
	CHECK(P("-t", "-i", "-f", "") == 0 && c.sender_set, "php -f \"\" parses");
	CHECK_STR(c.sender, "", "php -f \"\" is the null sender");
	CHECK(NOOPS(), "php -f \"\" takes the empty word as its value");
	CHECK(P("-t", "-i", "-r", "X@example.com", "-F", "Web Site") == 0, "php -r -F parses");
	CHECK(c.sender_set && c.read_rcpts, "php -r sets sender");
	CHECK_STR(c.sender, "X@example.com", "php -r sender");
	CHECK_STR(c.full_name, "Web Site", "php -F Name");

	/* PHPMailer: duplicated flags. */
	CHECK(P("-t", "-i", "-oi", "-fS@x.org", "-t") == 0, "phpmailer parses");
	CHECK(c.read_rcpts && c.ignore_dots && NOOPS(), "phpmailer flags");
	CHECK_STR(c.sender, "S@x.org", "phpmailer sender");

	/* Symfony, SwiftMailer, Laravel. */
	CHECK(P("-bs") == 0 && c.mode == MODE_SMTP && NOOPS(), "symfony -bs");
	CHECK(P("-bs", "-i") == 0 && c.mode == MODE_SMTP && c.ignore_dots, "laravel -bs -i");
	CHECK(P("-i", "-fapp@x", "--", "a@x", "d@x") == 0, "symfony -t mode parses");
	CHECK(c.mode == MODE_SEND && !c.read_rcpts && c.ignore_dots, "symfony flags");
	CHECK_STR(c.sender, "app@x", "symfony sender");
	CHECK(OPS("a@x", "d@x"), "symfony operands after --");

	/* Debian cron: one operand holding a comma list, kept as given. */
	CHECK(P("-FCronDaemon", "-i", "-B8BITMIME", "-oem", "a@x,b@x") == 0, "cron parses");
	CHECK_STR(c.full_name, "CronDaemon", "cron -FName");
	CHECK_STR(c.body_type, "8BITMIME", "cron -B8BITMIME");
	CHECK(c.ignore_dots && !c.sender_set && !c.read_rcpts, "cron flags");
	CHECK(OPS("a@x,b@x"), "cron comma list operand as given");

	/* cronie. */
	CHECK(P("-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t", "-f", "root") == 0,
	    "cronie parses");
	CHECK(c.read_rcpts && c.ignore_dots && NOOPS(), "cronie flags");
	CHECK_STR(c.sender, "root", "cronie sender");
	CHECK_STR(c.full_name, "CronDaemon", "cronie name");

	/* anacron: no -i. */
	CHECK(P("-FAnacron", "-odi", "root") == 0, "anacron parses");
	CHECK(!c.ignore_dots && !c.read_rcpts && OPS("root"), "anacron operand, no -i");
	CHECK_STR(c.full_name, "Anacron", "anacron name");

	CHECK(P("-i", "alice") == 0 && c.ignore_dots && OPS("alice"), "atd");

	/* systemd-cron: both spellings of -B. */
	CHECK(P("-i", "-B8BITMIME", "user") == 0 && OPS("user"), "systemd-cron -B8BITMIME");
	CHECK_STR(c.body_type, "8BITMIME", "systemd-cron body type glued");
	CHECK(P("-i", "-B", "8BITMIME", "user") == 0 && OPS("user"), "systemd-cron -B 8BITMIME");
	CHECK_STR(c.body_type, "8BITMIME", "systemd-cron body type apart");

	CHECK(P("-ti") == 0 && c.read_rcpts && c.ignore_dots && NOOPS(), "busybox -ti");

	CHECK(P("-i", "-t") == 0 && c.read_rcpts && !c.sender_set, "bsd-mailx");
	CHECK(P("-i", "-t", "-f", "me@x") == 0 && c.read_rcpts, "bsd-mailx -f");
	CHECK_STR(c.sender, "me@x", "bsd-mailx sender");

	CHECK(P("-i", "--", "a@x", "b@x") == 0 && OPS("a@x", "b@x"), "s-nail");
	CHECK(P("-i", "-f", "me@x", "--", "a@x") == 0 && OPS("a@x"), "s-nail -f");
	CHECK_STR(c.sender, "me@x", "s-nail sender");

	CHECK(P("-oi", "-f", "user@host", "-t") == 0 && c.read_rcpts && c.ignore_dots,
	    "mailutils");
	CHECK_STR(c.sender, "user@host", "mailutils sender");

	CHECK(P("-i", "a@x", "b@x") == 0 && OPS("a@x", "b@x"), "git send-email");
	CHECK(P("-f", "me@x", "-i", "a@x") == 0 && OPS("a@x"), "git send-email -f");
	CHECK_STR(c.sender, "me@x", "git sender");

	/* mutt, neomutt: everything at once. */
	CHECK(P("-oem", "-oi", "-f", "a@x", "-B8BITMIME", "-N", "failure,delay", "-R", "hdrs",
		  "--", "r1@x", "r2@x") == 0,
	    "mutt parses");
	CHECK(c.ignore_dots && !c.read_rcpts && OPS("r1@x", "r2@x"), "mutt operands");
	CHECK_STR(c.sender, "a@x", "mutt sender");
	CHECK_STR(c.body_type, "8BITMIME", "mutt body");
	CHECK_STR(c.dsn_notify, "failure,delay", "mutt -N");
	CHECK_STR(c.dsn_ret, "hdrs", "mutt -R");
	CHECK(P("-oem", "-oi", "--", "r@x") == 0 && OPS("r@x") && !c.dsn_notify, "mutt plain");

	CHECK(P("-t") == 0 && c.read_rcpts && !c.ignore_dots && NOOPS(), "sudo, logwatch -t");
	CHECK(PROG("/usr/lib/sendmail", "-t") == 0 && c.mode == MODE_SEND, "mdadm path");
	CHECK_STR(c.prog, "sendmail", "prog is the basename");
	CHECK(P("-froot@h", "-t") == 0 && c.read_rcpts, "mdadm -fX glued");
	CHECK_STR(c.sender, "root@h", "mdadm sender");
	CHECK(P("-oi", "-t") == 0 && c.read_rcpts && c.ignore_dots, "unattended-upgrades");

	CHECK(P("-f", "root@host", "root@localhost") == 0 && OPS("root@localhost"), "fail2ban");
	CHECK_STR(c.sender, "root@host", "fail2ban sender");
	CHECK(!c.ignore_dots, "fail2ban has no -i");

	CHECK(P("-oi", "logcheck") == 0 && c.ignore_dots && OPS("logcheck"), "logcheck");
	CHECK(P("root") == 0 && OPS("root") && c.mode == MODE_SEND, "rkhunter");
	CHECK(!c.read_rcpts && !c.ignore_dots && !c.sender_set, "rkhunter no flags");

	CHECK(PROG("/usr/lib/sendmail", "-t", "-oi", "-oem", "-fapp@x") == 0, "MIME::Lite");
	CHECK(c.read_rcpts && c.ignore_dots && NOOPS(), "MIME::Lite flags");
	CHECK_STR(c.sender, "app@x", "MIME::Lite sender");

	CHECK(P("-i", "-f", "F@x", "--", "a@x", "b@x") == 0 && OPS("a@x", "b@x"), "Email::Sender");
	CHECK_STR(c.sender, "F@x", "Email::Sender sender");
	CHECK(P("-i", "-t", "-f", "F@x", "--", "a@x") == 0 && c.read_rcpts && OPS("a@x"),
	    "Ruby mail with -t");

	CHECK(P("-i", "-f", "F@x", "a@x", "d@x") == 0 && OPS("a@x", "d@x"), "Nodemailer");
	CHECK_STR(c.sender, "F@x", "Nodemailer sender");
}

static void
spellings(void)
{
	CHECK(P("-f", "a@b") == 0, "-f addr");
	CHECK_STR(c.sender, "a@b", "-f addr value");
	CHECK(P("-fa@b") == 0, "-faddr");
	CHECK_STR(c.sender, "a@b", "-faddr value");
	CHECK(P("-f<a@b>") == 0, "-f<addr>");
	CHECK_STR(c.sender, "a@b", "-f<addr> loses its brackets");
	CHECK(P("-f", "<a@b>") == 0, "-f <addr>");
	CHECK_STR(c.sender, "a@b", "-f <addr> loses its brackets");
	CHECK(P("-f", "<>") == 0 && c.sender_set, "-f <>");
	CHECK_STR(c.sender, "", "-f <> null sender");
	CHECK(P("-f<", "x") == 0, "-f< is not a bracket pair");
	CHECK_STR(c.sender, "<", "-f< kept");
	CHECK(P("-t", "-f") == 0 && !c.sender_set && c.read_rcpts, "bare trailing -f");
	CHECK(c.sender == NULL && NOOPS(), "bare trailing -f sets no sender");
	CHECK(P("-tf") == 0 && !c.sender_set && c.read_rcpts, "bare trailing -tf");
	CHECK(P("-r") == 0 && !c.sender_set, "bare trailing -r");
	CHECK(P("-r", "a@b") == 0 && c.sender_set, "-r addr");
	CHECK_STR(c.sender, "a@b", "-r = -f");
	CHECK(P("-ra@b") == 0, "-raddr");
	CHECK_STR(c.sender, "a@b", "-raddr value");
	CHECK(P("-FName") == 0, "-FName");
	CHECK_STR(c.full_name, "Name", "-FName value");
	CHECK(P("-F", "Full Name") == 0, "-F \"Name\"");
	CHECK_STR(c.full_name, "Full Name", "-F Name value");
	CHECK(P("-F", "") == 0, "-F \"\"");
	CHECK_STR(c.full_name, "", "-F empty value");
	CHECK(P("-B8BITMIME") == 0, "-B8BITMIME");
	CHECK_STR(c.body_type, "8BITMIME", "-B8BITMIME value");
	CHECK(P("-B", "7bit") == 0, "-B 7bit");
	CHECK_STR(c.body_type, "7BIT", "-B is case-insensitive and canonical");
	CHECK(P("-N", "failure,delay") == 0, "-N list");
	CHECK_STR(c.dsn_notify, "failure,delay", "-N list value");
	CHECK(P("-NSUCCESS") == 0, "-NSUCCESS");
	CHECK_STR(c.dsn_notify, "success", "-N lowercased");
	CHECK(P("-N", "never") == 0, "-N never");
	CHECK_STR(c.dsn_notify, "never", "-N never value");
	CHECK(P("-N", "success,failure,delay") == 0, "-N all three");
	CHECK(P("-R", "hdrs") == 0, "-R hdrs");
	CHECK_STR(c.dsn_ret, "hdrs", "-R hdrs value");
	CHECK(P("-RFULL") == 0, "-RFULL");
	CHECK_STR(c.dsn_ret, "full", "-R canonical");
	CHECK(P("-ti") == 0 && c.read_rcpts && c.ignore_dots, "-ti");
	CHECK(P("-it") == 0 && c.read_rcpts && c.ignore_dots, "-it");
	CHECK(P("-tif", "a@b") == 0 && c.read_rcpts && c.ignore_dots, "-tif addr");
	CHECK_STR(c.sender, "a@b", "-tif takes the next word");
	CHECK(P("-tifa@b", "x@y") == 0 && OPS("x@y"), "-tifaddr");
	CHECK_STR(c.sender, "a@b", "-tifaddr takes the rest");
	CHECK(P("-ioi") == 0 && c.ignore_dots, "-ioi: o takes the rest");
	CHECK(P("-f", "a@b", "-f", "c@d", "-t", "-t") == 0, "duplicated flags");
	CHECK_STR(c.sender, "c@d", "last -f wins");
	CHECK(P("--", "-a@x", "b@x") == 0 && OPS("-a@x", "b@x"), "-- then dash operands");
	CHECK(P("a@x", "b@x") == 0 && OPS("a@x", "b@x"), "recipients with no --");
	CHECK(P("root", "-f", "x@y") == 0 && OPS("root"), "recipients before options");
	CHECK_STR(c.sender, "x@y", "option after operand");
	CHECK(P("a@x", "-t", "b@x", "-i", "c@x", "--", "-d@x") == 0 &&
		OPS("a@x", "b@x", "c@x", "-d@x") && c.read_rcpts && c.ignore_dots,
	    "interleaved operands keep their order");
	CHECK(strcmp(args[1], "-t") == 0 && strcmp(args[2], "-i") == 0 &&
		strcmp(args[3], "--") == 0,
	    "argv permuted: options first");
	CHECK(P("a@x,b@x, c@x") == 0 && OPS("a@x,b@x, c@x"), "comma list operand");
	CHECK(P("-bs", "-i") == 0 && c.mode == MODE_SMTP, "-bs -i");
	CHECK(PROG("/usr/sbin/sendmail", "-t") == 0 && c.mode == MODE_SEND, "/usr/sbin/sendmail");
	CHECK_STR(c.prog, "sendmail", "prog sendmail");
	CHECK(PROG("sendmail", "-t") == 0 && c.mode == MODE_SEND, "sendmail via PATH");
	CHECK(P("-") == 0 && OPS("-"), "a lone - is an operand");
}

static void
flags(void)
{
	CHECK(P("-oem", "-odi", "-oQ/var/x", "-o", "i") == 0 && c.ignore_dots, "-o forms");
	CHECK(P("-oem") == 0 && !c.ignore_dots, "-oem does not set ignore_dots");
	CHECK(P("-O", "DeliveryMode=b", "-OErrorMode=m") == 0 && NOOPS(), "-O ignored");
	CHECK(P("-V", "env-id-1") == 0, "-V");
	CHECK_STR(c.dsn_envid, "env-id-1", "-V value");
	CHECK(P("-bm", "a@x") == 0 && c.mode == MODE_SEND && OPS("a@x"), "-bm");
	CHECK(P("-bp") == 0 && c.mode == MODE_QUEUE_LIST, "-bp");
	CHECK(P("-bi") == 0 && c.mode == MODE_ALIASES, "-bi");
	CHECK(P("-I") == 0 && c.mode == MODE_ALIASES, "-I");
	CHECK(P("-bv", "a@x") == 0 && c.mode == MODE_VERIFY && OPS("a@x"), "-bv");
	CHECK(P("-bd") == 0 && c.mode == MODE_DAEMON, "-bd");
	CHECK(P("-bV") == 0 && c.mode == MODE_VERSION, "-bV");
	CHECK(P("-b", "s") == 0 && c.mode == MODE_SMTP, "-b s");
	CHECK(P("-q") == 0 && c.mode == MODE_QUEUE_FLUSH && c.queue_id == NULL, "-q");
	CHECK(P("-q30m") == 0 && c.mode == MODE_QUEUE_FLUSH && c.queue_id == NULL, "-q30m");
	CHECK(P("-q", "a@x") == 0 && c.mode == MODE_QUEUE_FLUSH && OPS("a@x"),
	    "-q takes no separate value");
	CHECK(P("-qIabc123") == 0 && c.mode == MODE_QUEUE_FLUSH, "-qI<id>");
	CHECK_STR(c.queue_id, "abc123", "-qI id");
	CHECK(P("-vq") == 0 && c.mode == MODE_QUEUE_FLUSH && c.verbose == 1, "-vq");
	CHECK(P("-L", "tag", "-Lx", "-m", "-n", "-G", "-U", "-h", "5", "-h9") == 0 && NOOPS(),
	    "ignored flags");
	CHECK(P("-Am", "-Ac", "-A", "m") == 0 && NOOPS(), "-A ignored");
	CHECK(P("-X", "/nonexistent/log", "-X/x", "a@x") == 0 && OPS("a@x"), "-X ignored");
	CHECK(P("-v", "-v") == 0 && c.verbose == 2, "-v counts");
	CHECK(P("-C", "/tmp/x.conf") == 0, "-C FILE");
	CHECK_STR(c.config_file, "/tmp/x.conf", "-C value");
	CHECK(P("-C/tmp/y.conf") == 0, "-CFILE");
	CHECK_STR(c.config_file, "/tmp/y.conf", "-CFILE value");
	CHECK(P("-a", "work") == 0, "-a NAME");
	CHECK_STR(c.account, "work", "-a value");
	CHECK(P("--account", "home") == 0, "--account NAME");
	CHECK_STR(c.account, "home", "--account value");
	CHECK(P("--account=office", "a@x") == 0 && OPS("a@x"), "--account=NAME");
	CHECK_STR(c.account, "office", "--account= value");

	CHECK(P("--help") == 0 && c.mode == MODE_HELP, "--help");
	CHECK(P("-t", "--help", "-bs") == 0 && c.mode == MODE_HELP, "--help wins");
	CHECK(P("--version") == 0 && c.mode == MODE_VERSION, "--version");
	CHECK(P("--dry-run", "-t") == 0 && c.dry_run && c.mode == MODE_SEND, "--dry-run");
	CHECK(P("--serverinfo") == 0 && c.mode == MODE_SERVERINFO, "--serverinfo");
	CHECK(P("--test", "a@x") == 0 && c.mode == MODE_TEST && NOOPS(), "--test RCPT");
	CHECK_STR(c.test_rcpt, "a@x", "--test value");
	CHECK(P("--test=b@x") == 0 && c.mode == MODE_TEST, "--test=RCPT");
	CHECK_STR(c.test_rcpt, "b@x", "--test= value");
	/* Issue 13: options before or after --test and its recipient. */
	CHECK(P("--test", "-a", "corp", "you@x") == 0 && c.mode == MODE_TEST && NOOPS(),
	    "--test -a ACCOUNT RCPT");
	CHECK_STR(c.test_rcpt, "you@x", "--test -a corp you@x: the recipient");
	CHECK_STR(c.account, "corp", "--test -a corp you@x: the account");
	CHECK(P("-a", "corp", "--test", "you@x") == 0 && c.mode == MODE_TEST && NOOPS(),
	    "-a ACCOUNT --test RCPT");
	CHECK_STR(c.test_rcpt, "you@x", "-a corp --test you@x: the recipient");
	CHECK_STR(c.account, "corp", "-a corp --test you@x: the account");
	CHECK(P("--test", "you@x", "-a", "corp", "-v") == 0 && c.mode == MODE_TEST && NOOPS() &&
		c.verbose == 1,
	    "--test RCPT -a ACCOUNT -v");
	CHECK_STR(c.account, "corp", "--test you@x -a corp: the account");
	CHECK(P("--test", "-v", "-C", "/x.conf", "you@x") == 0 && c.verbose == 1 && NOOPS(),
	    "--test -v -C FILE RCPT");
	CHECK_STR(c.test_rcpt, "you@x", "--test -v -C f you@x: the recipient");
	CHECK_STR(c.config_file, "/x.conf", "--test -v -C f you@x: the file");
	CHECK(P("--test", "-a", "corp") == -1 &&
		usage_error("--test needs one recipient "
			    "address (mailout --test [-a ACCOUNT] ADDRESS)"),
	    "--test -a corp: no recipient");
	CHECK(P("--test", "a@x", "b@x") == -1 &&
		usage_error("--test takes one recipient "
			    "address; 'b@x' is one too many"),
	    "--test with two recipients");
	CHECK(P("--release", "6B1608631185751E84B") == 0 && c.mode == MODE_QUEUE_RELEASE,
	    "--release ID");
	CHECK_STR(c.queue_id, "6B1608631185751E84B", "--release ID: the id");
	CHECK(P("--release", "--all") == 0 && c.mode == MODE_QUEUE_RELEASE && c.queue_id == NULL,
	    "--release --all");
	CHECK(P("--requeue", "6B1608631185751E84B", "-a", "other") == 0 &&
		c.mode == MODE_QUEUE_REQUEUE,
	    "--requeue ID -a ACCOUNT");
	CHECK_STR(c.account, "other", "--requeue: the account");
	CHECK(P("--requeue", "6B1608631185751E84B") == -1 &&
		usage_error(
		    "--requeue "
		    "6B1608631185751E84B needs the account to send it through: -a ACCOUNT"),
	    "--requeue without -a");
	CHECK(P("--store-password", "-a", "w") == 0 && c.mode == MODE_STORE_PASSWORD,
	    "--store-password");
	CHECK(P("--forget-password") == 0 && c.mode == MODE_FORGET_PASSWORD, "--forget-password");
	CHECK(P("--authorize") == 0 && c.mode == MODE_AUTHORIZE && !c.device_flow, "--authorize");
	CHECK(P("--authorize", "--device") == 0 && c.mode == MODE_AUTHORIZE && c.device_flow,
	    "--authorize --device");
	CHECK(P("--device", "--authorize") == 0 && c.device_flow, "--device --authorize");
	CHECK(P("--queue-run") == 0 && c.mode == MODE_QUEUE_RUN, "--queue-run");
	CHECK(P("--flush") == 0 && c.mode == MODE_QUEUE_FLUSH, "--flush");
	CHECK(P("--remove", "Q123") == 0 && c.mode == MODE_QUEUE_REMOVE, "--remove ID");
	CHECK_STR(c.queue_id, "Q123", "--remove value");
	CHECK(P("--remove=Q9") == 0 && c.mode == MODE_QUEUE_REMOVE, "--remove=ID");
	CHECK_STR(c.queue_id, "Q9", "--remove= value");

	CHECK(PROG("/usr/bin/mailq") == 0 && c.mode == MODE_QUEUE_LIST, "mailq");
	CHECK_STR(c.prog, "mailq", "mailq prog");
	CHECK(PROG("mailq", "-v") == 0 && c.mode == MODE_QUEUE_LIST && c.verbose, "mailq -v");
	CHECK(PROG("newaliases") == 0 && c.mode == MODE_ALIASES, "newaliases");
	CHECK(PROG("mailout", "a@x") == 0 && c.mode == MODE_SEND && OPS("a@x"), "mailout");
	CHECK(PROG("") == 0 && c.mode == MODE_SEND, "empty argv[0]");
	CHECK_STR(c.prog, "mailout", "empty argv[0] prog");
	CHECK(cli_parse(&c, 0, args + nargs, &e) == 0 && c.mode == MODE_SEND && NOOPS(), "argc 0");
	CHECK(strstr(cli_help_text, "--dry-run") != NULL &&
		strstr(cli_help_text, "--store-password") != NULL,
	    "help text");
}

static void
errors(void)
{
	CHECK(P("-Z") == -1 && usage_error("unknown option -Z; see mailout --help"), "-Z");
	CHECK(P("-tZ") == -1 && usage_error("unknown option -Z; see mailout --help"),
	    "-tZ names the letter");
	CHECK(P("--frob") == -1 && usage_error("unknown option --frob; see mailout --help"),
	    "--frob");
	CHECK(P("--frob=1") == -1 && usage_error("unknown option --frob; see mailout --help"),
	    "--frob=1");
	CHECK(P("--help=1") == -1 && usage_error("option --help takes no value"), "--help=1");
	CHECK(P("-bt") == -1 &&
		usage_error("unknown mode -bt (accepted: -bm, -bs, -bp, -bi, "
			    "-bv, -bd, -bV); see mailout --help"),
	    "-bt");
	CHECK(P("-F") == -1 && usage_error("option -F needs a value; see mailout --help"),
	    "bare -F");
	CHECK(P("-C") == -1 && usage_error(NULL), "bare -C");
	CHECK(P("--test") == -1 && usage_error("option --test needs a value; see mailout --help"),
	    "bare --test");
	CHECK(P("--account") == -1 && usage_error(NULL), "bare --account");
	CHECK(P("-a", "") == -1 && usage_error("-a: the value may not be empty"), "-a ''");
	CHECK(P("--account=") == -1 && usage_error(NULL), "--account=");
	CHECK(P("-qI") == -1 && usage_error(NULL), "-qI with no id");
	CHECK(P("-R", "body") == -1 &&
		usage_error("-R body: not a DSN return type (accepted: full, hdrs)"),
	    "-R body");
	CHECK(P("-B", "binarymime") == -1 &&
		usage_error("-B binarymime: not a body type (accepted: 7BIT, 8BITMIME)"),
	    "-B bad");
	CHECK(P("-N", "never,failure") == -1 &&
		usage_error(
		    "-N never,failure: not a DSN "
		    "notify list (accepted: never, or a comma list of success, failure, delay)"),
	    "-N never is alone");
	CHECK(P("-N", "failure,") == -1 && usage_error(NULL), "-N trailing comma");
	CHECK(P("-N", ",failure") == -1 && usage_error(NULL), "-N leading comma");
	CHECK(P("-N", "") == -1 && usage_error(NULL), "-N empty");
	CHECK(P("-N", "fail") == -1 && usage_error(NULL), "-N prefix of a word");
	CHECK(P("-N", "failures") == -1 && usage_error(NULL), "-N longer than a word");
	CHECK(P("-f", "a@b\r\nRCPT TO:<x@y>") == -1 &&
		usage_error("-f: a line break (CR or LF) is not allowed in the value"),
	    "-f CRLF");
	CHECK(P("-fa@b\n") == -1 && usage_error(NULL), "-f glued LF");
	CHECK(P("-F", "Name\nBcc: x@y") == -1 && usage_error(NULL), "-F LF");
	CHECK(P("-V", "id\r") == -1 && usage_error(NULL), "-V CR");
	CHECK(P("-N", "failure\n") == -1 && usage_error(NULL), "-N LF");
	CHECK(P("-R", "full\n") == -1 && usage_error(NULL), "-R LF");
	CHECK(P("-a", "w\n") == -1 && usage_error(NULL), "-a LF");
	CHECK(P("-o", "i\n") == -1 && usage_error(NULL), "-o LF");
	CHECK(P("-X", "f\n") == -1 && usage_error(NULL), "-X LF");
	CHECK(P("--test", "a@x\r\n") == -1 && usage_error(NULL), "--test CRLF");
	CHECK(P("a@x\nb@x") == -1 &&
		usage_error("recipient 'a@x b@x': a line break "
			    "(CR or LF) is not allowed in an address"),
	    "operand LF");
	CHECK(P("--", "a@x\r") == -1 && usage_error(NULL), "operand CR after --");
	CHECK(P("--device") == -1 &&
		usage_error("--device is only meaningful with "
			    "--authorize or --configure"),
	    "--device alone");
	CHECK(P("--host", "h", "a@x") == -1 &&
		usage_error("--host is only meaningful with --configure"),
	    "--host alone");
	CHECK(P("--import", "f", "--tls", "implicit") == -1 &&
		usage_error("--tls is only meaningful with --configure"),
	    "--import --tls");
	CHECK(P("--yes", "-t") == -1 &&
		usage_error("--yes is only meaningful with "
			    "--configure or --import"),
	    "--yes alone");
	CHECK(P("--import") == -1 && usage_error(NULL), "--import without FILE");
}

/* --configure's and --import's options: each lands in its field, modes stay apart. */
static void
setup(void)
{
	CHECK(P("--configure") == 0 && c.mode == MODE_CONFIGURE && NOOPS(), "--configure");
	CHECK(P("--configure", "me@example.org", "--host", "smtp.example.org", "--port=465",
		  "--tls", "implicit", "--user", "me", "--password-file", "/p", "--test-to", "t@x",
		  "--set", "from=me@example.org", "--set", "dsn_notify=never", "--default",
		  "--yes") == 0 &&
		c.mode == MODE_CONFIGURE && OPS("me@example.org"),
	    "--configure with flags");
	CHECK_STR(c.setup.host, "smtp.example.org", "--host value");
	CHECK_STR(c.setup.port, "465", "--port= value");
	CHECK_STR(c.setup.tls, "implicit", "--tls value");
	CHECK_STR(c.setup.user, "me", "--user value");
	CHECK_STR(c.setup.password_file, "/p", "--password-file value");
	CHECK_STR(c.setup.test_to, "t@x", "--test-to value");
	CHECK(c.setup.nsets == 2, "--set twice");
	CHECK_STR(c.setup.sets[1], "dsn_notify=never", "--set second value");
	CHECK(c.setup.make_default && c.setup.yes && !c.setup.no_auth, "--default --yes");
	CHECK(P("--configure", "--no-auth", "--oauth", "google", "--device") == 0 &&
		c.setup.no_auth && c.device_flow,
	    "--configure --no-auth --device");
	CHECK_STR(c.setup.oauth, "google", "--oauth value");
	CHECK(P("--configure", "--tls-ca-file", "/ca", "--tls-fingerprint", "AB:CD",
		  "--password-command", "pass x") == 0,
	    "--configure TLS options");
	CHECK_STR(c.setup.ca_file, "/ca", "--tls-ca-file value");
	CHECK_STR(c.setup.fingerprint, "AB:CD", "--tls-fingerprint value");
	CHECK_STR(c.setup.password_command, "pass x", "--password-command value");
	CHECK(P("--import", "/home/u/.msmtprc", "--yes") == 0 && c.mode == MODE_IMPORT &&
		c.setup.yes && NOOPS(),
	    "--import FILE --yes");
	CHECK_STR(c.setup.import_file, "/home/u/.msmtprc", "--import value");
	CHECK(P("--configure", "--host", "h", "--serverinfo") == -1 &&
		usage_error("--host is only meaningful with --configure"),
	    "--configure then another mode");
}

int
main(void)
{
	callers();
	spellings();
	flags();
	errors();
	setup();
	drop_args();
	UNIT_DONE();
}

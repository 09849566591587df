#!/usr/bin/env bats
# The programs that call sendmail on a server, as observed on Debian 12 (PHP, cron, mail
# clients, git, sudo...). First every argv row they use through --dry-run
# (the envelope each spelling yields), then the real programs, installed from Debian by
# scripts/install-deps --test, each pointed at the built binary through its own setting
# (PHP sendmail_path, a Symfony transport command, s-nail mta, mutt sendmail, git
# sendemail.smtpServer, sudo mailerpath): the envelope, headers and body bytes the fake
# relay received. A caller that is not installed fails its test: it is not skipped.

bats_require_minimum_version 1.5.0
load lib/common
load lib/callers

setup() {
	mo_config default_domain=example.com
	MSGF=$BATS_TEST_TMPDIR/msg
}

teardown() {
	fake_stop
	caller_cleanup
	rm -f "$CALLER_SUDOERS"
}

teardown_file() { caller_user_remove; }

# ---- every argv row, through --dry-run -------------------------------------------------

# env_is SENDER RCPT... -- ARGS...: the dry run of $MSGF with ARGS chose this envelope,
# in this order, and nothing else.
env_is() {
	local want=() a
	while [[ $1 != -- ]]; do want+=("$1"); shift; done
	shift
	run --separate-stderr "$MAILOUT" -C "$CONF" --dry-run "$@" <"$MSGF"
	assert_success
	assert_equal "${lines[2]}" "sender: <${want[0]}>"
	local i=3
	for a in "${want[@]:1}"; do
		assert_equal "${lines[$i]}" "recipient: <$a>"
		i=$((i + 1))
	done
	# ($lines has no empty lines: the next one is the message's first header.)
	[[ ${lines[$i]} != recipient:* ]] || fail "more recipients than expected: ${lines[$i]}"
}

hdrs() { printf '%s\n' "$@" '' 'body' >"$MSGF"; }

@test "argv: PHP mail() -t -i with -fX, -f X, -f<>, -f \"\", -r X -F Name" {
	hdrs 'To: a@x.org' 'Subject: php'
	env_is bounce@x.org a@x.org -- -t -i -fbounce@x.org
	env_is bounce@x.org a@x.org -- -t -i -f bounce@x.org
	env_is '' a@x.org -- -t -i '-f<>'
	env_is '' a@x.org -- -t -i -f ''
	env_is bounce@x.org a@x.org -- -t -i -r bounce@x.org -F 'Web App'
	assert_output --partial $'From: Web App <bounce@x.org>\r\n'
}

@test "argv: PHPMailer -t -i -oi -fS -t, Bcc present, no final newline" {
	printf 'To: a@x.org\nBcc: hidden@x.org\nSubject: s\n\n%s' "$(head -c 1200 /dev/zero | tr '\0' z)" >"$MSGF"
	env_is app@x.org a@x.org hidden@x.org -- -t -i -oi -fapp@x.org -t
	refute_output --partial 'Bcc'
}

@test "argv: Symfony -t mode, -i -f'app@x' -- a@x d@x: operands only" {
	hdrs 'To: ignored@x.org' 'Subject: s'
	env_is app@x.org a@x.org d@x.org -- -i -fapp@x.org -- a@x.org d@x.org
}

@test "argv: Debian cron, cronie, anacron, atd, systemd-cron, busybox crond" {
	hdrs 'From: root (Cron Daemon)' 'To: alice' 'Subject: Cron <alice@h> x'
	env_is sender@example.org a@x.org b@x.org -- -FCronDaemon -i -B8BITMIME -oem a@x.org,b@x.org
	env_is root@example.com alice@example.com -- -FCronDaemon -i -odi -oem -oi -t -f root
	env_is sender@example.org root@example.com -- -FAnacron -odi root
	env_is sender@example.org alice@example.com -- -i alice
	env_is sender@example.org user@example.com -- -i -B8BITMIME user
	env_is sender@example.org user@example.com -- -i -B 8BITMIME user
	env_is sender@example.org alice@example.com -- -ti
}

@test "argv: bsd-mailx, s-nail, mailutils" {
	hdrs 'To: a@x.org' 'Bcc: b@x.org' 'Subject: s'
	env_is sender@example.org a@x.org b@x.org -- -i -t
	env_is me@x.org a@x.org b@x.org -- -i -t -f me@x.org
	env_is me@x.org c@x.org d@x.org -- -i -f me@x.org -- c@x.org d@x.org
	env_is sender@example.org c@x.org -- -i -- c@x.org
	hdrs 'To: <a@x.org>,<b@x.org>' 'Subject: s'
	env_is user@example.net a@x.org b@x.org -- -oi -f user@example.net -t
}

@test "argv: git send-email and mutt" {
	hdrs 'To: m@x.org' 'Subject: [PATCH] x'
	env_is joe@x.org m@x.org c@x.org -- -f joe@x.org -i m@x.org c@x.org
	env_is sender@example.org m@x.org -- -i m@x.org
	env_is a@x.org m@x.org -- -oem -oi -f a@x.org -B8BITMIME -N failure,delay -R hdrs -- m@x.org
	env_is sender@example.org m@x.org -- -oem -oi -- m@x.org
}

@test "argv: sudo, mdadm, logwatch, unattended-upgrades (To: root, several To:)" {
	hdrs 'To: root' 'From: alice' 'Subject: *** SECURITY information ***'
	env_is sender@example.org root@example.com -- -t
	env_is mdadm@x.org root@example.com -- -fmdadm@x.org -t
	env_is sender@example.org root@example.com -- -oi -t
	hdrs 'To: root' 'To: admin@x.org' 'Subject: Logwatch'
	env_is sender@example.org root@example.com admin@x.org -- -t
}

@test "argv: fail2ban, logcheck, rkhunter" {
	hdrs 'Subject: [Fail2Ban] sshd: started'
	env_is "fail2ban@example.com" root@example.com -- -f "fail2ban@$(hostname)" root@localhost
	env_is sender@example.org logcheck@example.com -- -oi logcheck
	env_is sender@example.org root@example.com -- root
}

@test "argv: MIME::Lite, Email::Sender, Ruby, Nodemailer; duplicates and Bcc" {
	hdrs 'To: a@x.org' 'Bcc: hidden@x.org' 'Subject: s'
	env_is app@x.org a@x.org hidden@x.org -- -t -oi -oem -fapp@x.org
	env_is f@x.org a@x.org d@x.org -- -i -f f@x.org -- a@x.org d@x.org a@x.org
	env_is f@x.org a@x.org hidden@x.org -- -i -t -f f@x.org -- a@x.org
	env_is f@x.org a@x.org d@x.org -- -i -f f@x.org a@x.org d@x.org
	refute_output --partial 'hidden'
}

@test "argv: recipients before options, a bare trailing -f, duplicated flags" {
	hdrs 'To: a@x.org' 'Subject: s'
	env_is f@x.org b@x.org -- b@x.org -i -f f@x.org
	env_is sender@example.org a@x.org -- -t -f
	env_is sender@example.org a@x.org -- -t -t -i -i -oi
}

# ---- real programs ---------------------------------------------------------------------

php_mail() {
	cat >"$BATS_TEST_TMPDIR/mail.php" <<'PHP'
<?php
$ok = mail("a@x.org", "Grüße", "line1\nline2\n.\nend",
    "From: Web App <app@example.net>\r\nBcc: hidden@x.org", $argv[1]);
exit($ok ? 0 : 1);
PHP
	php -d sendmail_path="$MAILOUT -C $CONF -t -i" "$BATS_TEST_TMPDIR/mail.php" "$1"
}

@test "PHP mail(): -f forms, Bcc, raw UTF-8 Subject, mixed line endings; true on exit 0" {
	caller_need php
	fake_start
	mo_config default_domain=example.com
	run php_mail '-fbounce@example.net'
	assert_success
	run php_mail '-f bounce2@example.net'
	assert_success
	run php_mail '-f ""'
	assert_success
	run php_mail '-r bounce3@example.net -F "Web App"'
	assert_success
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<bounce@example.net> .*SMTPUTF8'
	assert_line 'RCPT TO:<a@x.org>'
	assert_line 'RCPT TO:<hidden@x.org>'
	run fake_env 2
	assert_line --index 0 --regexp '^MAIL FROM:<bounce2@example.net>'
	run fake_env 3
	assert_line --index 0 --regexp '^MAIL FROM:<> '
	run fake_env 4
	assert_line --index 0 --regexp '^MAIL FROM:<bounce3@example.net>'
	run header 1 Subject
	assert_output 'Grüße'
	run header 1 From
	assert_output 'Web App <app@example.net>'
	run header 1 Bcc
	assert_output ''
	run body 1
	assert_output "$(printf 'line1\r\nline2\r\n.\r\nend\r')"
	run crlf_clean "$FAKE_DIR/msg-1.eml"
	assert_success
}

@test "PHP mail() returns false when the relay refuses every recipient" {
	caller_need php
	fake_start --reply 'rcpt=550 5.1.1 no such user'
	mo_config
	run php_mail '-fbounce@example.net'
	assert_failure 1
}

# A -bs command that records the dialogue: C: client lines, S: server lines, in order.
bs_recorder() {
	cat >"$BATS_TEST_TMPDIR/bs-rec" <<EOF
#!/usr/bin/python3
import subprocess, sys, threading
log = open("$BATS_TEST_TMPDIR/bs.log", "ab", buffering=0)
lock = threading.Lock()
p = subprocess.Popen(["$MAILOUT", "-C", "$CONF"] + sys.argv[1:], stdin=subprocess.PIPE,
    stdout=subprocess.PIPE)
def up():
    for line in sys.stdin.buffer:
        with lock: log.write(b"C: " + line)
        p.stdin.write(line); p.stdin.flush()
    p.stdin.close()
t = threading.Thread(target=up, daemon=True); t.start()
for line in p.stdout:
    with lock: log.write(b"S: " + line)
    sys.stdout.buffer.write(line); sys.stdout.buffer.flush()
sys.exit(p.wait())
EOF
	chmod 755 "$BATS_TEST_TMPDIR/bs-rec"
}

@test "Symfony Mailer's SendmailTransport speaks -bs (HELO): delivered, Bcc kept out" {
	caller_need php
	[[ -e /usr/share/php/Symfony/Component/Mailer/autoload.php ]] ||
		fail "php-symfony-mailer is not installed: run scripts/install-deps --test"
	fake_start
	mo_config default_domain=example.com
	bs_recorder
	cat >"$BATS_TEST_TMPDIR/symfony.php" <<'PHP'
<?php
require '/usr/share/php/Symfony/Component/Mailer/autoload.php';
use Symfony\Component\Mailer\Mailer;
use Symfony\Component\Mailer\Transport\SendmailTransport;
use Symfony\Component\Mime\Email;
$mailer = new Mailer(new SendmailTransport($argv[1] . ' -bs'));
$email = (new Email())->from('Shop <shop@example.net>')->to('a@x.org')->cc('c@x.org')
    ->bcc('hidden@x.org')->subject('Your order')->text("Hello\n.\nBye\n");
$mailer->send($email);
$mailer->send($email->subject('Second'));
echo "sent\n";
PHP
	run php "$BATS_TEST_TMPDIR/symfony.php" "$BATS_TEST_TMPDIR/bs-rec"
	assert_success
	assert_output 'sent'
	run grep -a '^C: HELO ' "$BATS_TEST_TMPDIR/bs.log"
	assert_success
	run grep -ac '^S: 250 2.0.0 Ok: delivered' "$BATS_TEST_TMPDIR/bs.log"
	assert_output 2
	assert_equal "$(fake_count)" 2
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<shop@example.net>'
	assert_line 'RCPT TO:<a@x.org>'
	assert_line 'RCPT TO:<c@x.org>'
	assert_line 'RCPT TO:<hidden@x.org>'
	run header 1 Bcc
	assert_output ''
	run header 2 Subject
	assert_output 'Second'
	# Symfony ends DATA with CRLF "." CRLF after a body that already ends in CRLF.
	run body 1
	assert_output "$(printf 'Hello\r\n.\r\nBye\r\n\r')"
}

@test "s-nail: mta and mta-arguments, -r sender, operands" {
	caller_need s-nail
	fake_start
	mo_config default_domain=example.com
	run s-nail -S mta="$MAILOUT" -S mta-arguments="-C $CONF" -r 'Joe <joe@example.net>' \
		-s 'snail subject' b@x.org c@x.org < <(printf 'body line\n.\nlast\n')
	assert_success
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<joe@example.net>'
	assert_line 'RCPT TO:<b@x.org>'
	assert_line 'RCPT TO:<c@x.org>'
	run header 1 Subject
	assert_output 'snail subject'
	run body 1
	assert_output "$(printf 'body line\r\n.\r\nlast\r')"
}

@test "s-nail keeps the message (dead.letter, non-zero) when mailout refuses it" {
	caller_need s-nail
	fake_start --reply 'rcpt=550 5.1.1 no such user'
	mo_config
	run s-nail -S mta="$MAILOUT" -S mta-arguments="-C $CONF" \
		-S DEAD="$BATS_TEST_TMPDIR/dead.letter" -s 's' b@x.org < <(printf 'body\n')
	assert_failure
	[ -s "$BATS_TEST_TMPDIR/dead.letter" ]
}

@test "bsd-mailx: -i -t through the user config, no Date/From/Message-ID of its own" {
	caller_need bsd-mailx
	fake_start
	mo_config default_domain=example.com
	mkdir -p "$XDG_CONFIG_HOME/mailout"
	cp "$CONF" "$XDG_CONFIG_HOME/mailout/sendmail.conf"
	printf 'set sendmail=%s\n' "$MAILOUT" >"$BATS_TEST_TMPDIR/mailrc"
	MAILRC=$BATS_TEST_TMPDIR/mailrc run bsd-mailx -s 'mailx subject' -b hidden@x.org d@x.org \
		< <(printf 'caf\xc3\xa9\n')
	assert_success
	run fake_env 1
	assert_line 'RCPT TO:<d@x.org>'
	assert_line 'RCPT TO:<hidden@x.org>'
	run header 1 Bcc
	assert_output ''
	run header 1 From
	assert_output 'sender@example.org'
	run header 1 Date
	assert_output --regexp '^[A-Z][a-z][a-z], '
	run header 1 Message-ID
	assert_output --regexp '^<.*@client.example.org>$'
	run body 1
	assert_output "$(printf 'caf\xc3\xa9\r')"
}

@test "mutt: sendmail with -oem -oi, -f, -B8BITMIME, -N, -R; a Latin-1 body" {
	caller_need mutt
	fake_start --caps "PIPELINING,8BITMIME,DSN,SMTPUTF8"
	mo_config default_domain=example.com
	cat >"$BATS_TEST_TMPDIR/muttrc" <<EOF
set sendmail="$MAILOUT -C $CONF -oem -oi"
set from="Joe <joe@example.net>"
set use_envelope_from=yes
set use_8bitmime=yes
set dsn_notify="failure,delay"
set dsn_return=hdrs
set send_charset="iso-8859-1"
set folder=$BATS_TEST_TMPDIR
set record=""
EOF
	HOME=$BATS_TEST_TMPDIR run mutt -n -F "$BATS_TEST_TMPDIR/muttrc" -s 'mutt subject' \
		-- m@x.org < <(printf 'caf\xc3\xa9\n')
	assert_success
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<joe@example.net> .*BODY=8BITMIME.*RET=HDRS'
	assert_line 'RCPT TO:<m@x.org> NOTIFY=FAILURE,DELAY'
	run header 1 Content-Type
	assert_output --partial 'charset=iso-8859-1'
	run body 1
	assert_output "$(printf 'caf\xe9\r')"
}

@test "git send-email: sendemail.smtpServer, envelope sender, To and Cc" {
	caller_need git
	[[ -x /usr/lib/git-core/git-send-email ]] ||
		fail "git-email is not installed: run scripts/install-deps --test"
	fake_start
	mo_config default_domain=example.com
	export HOME=$BATS_TEST_TMPDIR GIT_AUTHOR_NAME=Joe GIT_AUTHOR_EMAIL=joe@example.net \
		GIT_COMMITTER_NAME=Joe GIT_COMMITTER_EMAIL=joe@example.net
	repo=$BATS_TEST_TMPDIR/repo
	git init -q "$repo"
	printf 'x\n' >"$repo/f"
	git -C "$repo" add f
	git -C "$repo" commit -q -m 'Add f'
	git -C "$repo" format-patch -q -1 -o "$BATS_TEST_TMPDIR/out"
	git -C "$repo" config sendemail.smtpServer "$MAILOUT"
	git -C "$repo" config --add sendemail.smtpServerOption -C
	git -C "$repo" config --add sendemail.smtpServerOption "$CONF"
	run git -C "$repo" send-email --to='Maint <maint@x.org>' --cc=c@x.org \
		--from='Joe <joe@example.net>' --envelope-sender=joe@example.net \
		--confirm=never --quiet "$BATS_TEST_TMPDIR"/out/*.patch
	assert_success
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<joe@example.net>'
	assert_line 'RCPT TO:<maint@x.org>'
	assert_line 'RCPT TO:<c@x.org>'
	run header 1 Subject
	assert_output '[PATCH] Add f'
	run body 1
	assert_output --partial $'\r\n+x\r\n'
}

cron_mail() {
	printf 'From: root (Cron Daemon)\nTo: alice@x.org,bob@x.org\n'
	printf 'Subject: Cron <%s@host> /usr/local/bin/report\nMIME-Version: 1.0\n' "$CALLER_USER"
	printf 'Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n'
	printf 'X-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\n'
	printf 'X-Cron-Env: <LOGNAME=%s>\n\n' "$CALLER_USER"
	printf 'r\xc3\xa9sultat\n%s\nend' "$(head -c 1500 /dev/zero | tr '\0' '#')"
}

@test "Debian cron's argv as an unprivileged user with HOME=/root: delivered, repaired" {
	caller_user
	fake_start
	mo_config default_domain=example.com
	caller_world
	cron_mail >"$WORLD/cron.msg"
	run as_user "$MO_BIN" -C "$CONF" -FCronDaemon -i -B8BITMIME -oem alice@x.org,bob@x.org \
		<"$WORLD/cron.msg"
	assert_success
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<sender@example.org>'
	assert_line 'RCPT TO:<alice@x.org>'
	assert_line 'RCPT TO:<bob@x.org>'
	run header 1 From
	assert_output 'Cron Daemon <root@example.com>'
	run header 1 Content-Transfer-Encoding
	assert_output 'quoted-printable'
	run body 1
	assert_output --partial $'r=C3=A9sultat\r\n####'
	assert_output --partial $'\r\nend'
	run grep -c 'status=sent' "$LOG"
	assert_output 1
}

@test "cron with no from in the account: the sender is the crontab owner (getuid)" {
	caller_user
	fake_start
	mo_config default_domain=example.com
	sed -i '/^from = /d' "$CONF"
	caller_world
	cron_mail >"$WORLD/cron.msg"
	run as_user "$MO_BIN" -C "$CONF" -FCronDaemon -i -B8BITMIME -oem alice@x.org \
		<"$WORLD/cron.msg"
	assert_success
	run fake_env 1
	assert_line --index 0 --regexp "^MAIL FROM:<$CALLER_USER@example.com>"
}

@test "anacron's argv: a lone '.' line survives, root goes to root@example.com" {
	# DATA, not BDAT: the dot must be stuffed on the wire.
	fake_start --caps "PIPELINING,8BITMIME"
	mo_config default_domain=example.com
	printf 'From: Anacron <root>\nTo: root\nSubject: Anacron job cron.daily\n\nbefore\n.\nafter\n' \
		>"$MSGF"
	run mo -FAnacron -odi root <"$MSGF"
	assert_success
	run fake_env 1
	assert_line 'RCPT TO:<root@example.com>'
	run body 1
	assert_output "$(printf 'before\r\n.\r\nafter\r')"
	run fake_transcript
	assert_output --partial $'before\r\n..\r\nafter\r\n.\r\n'
	run header 1 From
	assert_output 'Anacron <root@example.com>'
}

@test "fail2ban's line: -f root@host root@localhost, no -i, no final newline" {
	fake_start
	mo_config default_domain=example.com
	printf 'Subject: [Fail2Ban] sshd: started on host\nFrom: Fail2Ban <fail2ban@%s>\nTo: root@localhost\n\nHi,\n.\nRegards,\n\nFail2Ban' \
		"$(hostname)" >"$MSGF"
	run mo -f "root@$(hostname)" root@localhost <"$MSGF"
	assert_success
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<root@example.com>'
	assert_line 'RCPT TO:<root@example.com>'
	run header 1 From
	assert_output 'Fail2Ban <fail2ban@example.com>'
	run body 1
	assert_output "$(printf 'Hi,\r\n.\r\nRegards,\r\n\r\nFail2Ban\r')"
}

@test "sudo -t as an unprivileged user (mailerpath, mail_always): both notices arrive" {
	caller_need sudo
	caller_user
	fake_start
	mo_config default_domain=example.com
	caller_world
	cat >"$CALLER_SUDOERS" <<EOF
Defaults:$CALLER_USER mailerpath=$MO_BIN, mailerflags="-t -C $CONF", mail_always, mailto=root
$CALLER_USER ALL=(root) NOPASSWD: /bin/true
EOF
	chmod 440 "$CALLER_SUDOERS"
	run runuser -u "$CALLER_USER" -- sudo -n /bin/true
	assert_success
	wait_msgs 2 10
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<sender@example.org>'
	assert_line 'RCPT TO:<root@example.com>'
	run header 1 From
	assert_output "$CALLER_USER@example.com"
	run header 1 Subject
	assert_output --partial 'SECURITY information'
	run body 1
	assert_output --partial "$CALLER_USER"
}

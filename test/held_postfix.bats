#!/usr/bin/env bats
# Issue 13 against the real Postfix 3.7 + Dovecot 2.3 of test/lib/realmta.sh (the fake relay
# cases are in test/held.bats): a wrong password costs the server one failed login, the
# message is held, the timer (--queue-run) leaves it alone, and it goes once the password file
# is right; a 5xx greeting holds the message with the server's words.
#
# The 5xx greeting: Postfix's smtpd answers the connection with the reply of
# smtpd_client_restrictions instead of its 220 banner when smtpd_delay_reject = no (smtpd.c
# evaluates the client restrictions before the greeting then). A conditional main.cf value
# turns delay_reject off only for the plain "smtp" port (syslog_name "postfix"); the
# submission port keeps its defaults (-o syslog_name=postfix/submission), so one instance
# serves both tests. Loopback only; setup_file starts it, teardown_file stops every daemon.

bats_require_minimum_version 1.5.0

setup_file() {
	export REALMTA_DIR=$BATS_FILE_TMPDIR/realmta
	local c=$BATS_FILE_TMPDIR/certs
	if sh "$BATS_TEST_DIRNAME/lib/mkcerts.sh" "$c" >"$BATS_FILE_TMPDIR/realmta.out" 2>&1 &&
		bash "$BATS_TEST_DIRNAME/lib/realmta.sh" start "$REALMTA_DIR" \
			--cert "$c/server.pem" --key "$c/server.key" \
			--postconf 'smtpd_delay_reject = ${{$syslog_name} == {postfix} ? {no} : {yes}}' \
			--postconf 'smtpd_client_restrictions = reject' \
			>>"$BATS_FILE_TMPDIR/realmta.out" 2>&1 3>&-
	then
		export REALMTA_OK=1
	fi
}

teardown_file() {
	bash "$BATS_TEST_DIRNAME/lib/realmta.sh" stop "$REALMTA_DIR" >/dev/null 2>&1 || true
}

setup() {
	load lib/common
	load lib/realmta
	[[ -n ${REALMTA_OK:-} ]] || fail "the real MTA did not start: $(cat "$BATS_FILE_TMPDIR/realmta.out")"
	realmta_env "$REALMTA_DIR"
}

msg() { printf 'From: user@example.test\nTo: bob@example.net\nSubject: %s\n\nbody %s\n' "$1" "$1"; }
entries() { find "$QUEUE/queue" -name '*.msg' 2>/dev/null | wc -l; }
# Failed logins as the server saw them: Postfix's smtpd line for each rejected AUTH, and
# Dovecot's auth line for each password that did not match.
pf_failed() { grep -c 'SASL [A-Z0-9-]* authentication failed' "$REALMTA_DIR/maillog" || true; }
dc_failed() { grep -c 'auth: Info: scram-sha-256(user@example.test,127.0.0.1): Password mismatch' "$REALMTA_DIR/dovecot.log" || true; }

# The account "t" on the real Postfix's submission port (STARTTLS, AUTH required).
real_config() {
	FAKE_PORT=$REALMTA_SUBMISSION_PORT mo_config tls=starttls \
		"tls_ca_file=$BATS_FILE_TMPDIR/certs/ca.pem" user=user@example.test \
		from=user@example.test "$@"
}

@test "real Postfix: a wrong password is one failed login, held, not retried by --queue-run, sent once the file changes" {
	local pw=$BATS_TEST_TMPDIR/pw n0
	echo wrong-pw >"$pw"
	chmod 600 "$pw"
	real_config "password_file=$pw"
	n0=$(realmta_count)
	run --separate-stderr mo bob@example.net < <(msg held-pw)
	assert_success
	assert_equal "$stderr" "mailout: message held (not sent): relay 127.0.0.1 port $REALMTA_SUBMISSION_PORT: authentication failed: the server rejected user user@example.test of account t (mechanism SCRAM-SHA-256, password from password_file): check the user name and the password: server said: 535 5.7.8 Error: authentication failed: (reason unavailable); check user and password of account t in $CONF (password_file, password_command, or mailout --store-password -a t); then run sendmail -q"
	assert_equal "$(entries)" 1
	# Postfix answers at once (no failure delay in realmta's Dovecot), and logs before it does.
	assert_equal "$(pf_failed)" 1
	assert_equal "$(dc_failed)" 1
	run grep -c 'status=held reason=' "$LOG"
	assert_output 1
	# The timer does not try the held account again: still one failed login.
	run mo --queue-run
	assert_success
	assert_equal "$(entries)" 1
	sleep 0.5
	assert_equal "$(pf_failed)" 1
	assert_equal "$(dc_failed)" 1
	assert_equal "$(realmta_count)" "$n0"
	# The admin puts the right password in the file: the next timer run delivers it.
	echo "$REALMTA_PASSWORD" >"$pw"
	touch -d '+1 sec' "$pw"
	run mo --queue-run
	assert_success
	assert_output ''
	assert_equal "$(entries)" 0
	realmta_wait_delivered $((n0 + 1))
	run realmta_delivered $((n0 + 1))
	assert_line 'Subject: held-pw'
	run realmta_envelope $((n0 + 1))
	assert_line 'sasl_username=user@example.test'
	assert_line 'to=bob@example.net'
	run grep -c 'status=sent' "$REALMTA_DIR/maillog"
	refute_output 0
	assert_equal "$(pf_failed)" 1
	assert_equal "$(dc_failed)" 1
	run grep -c ': account=t status=released by=[a-z0-9_-]* reason="it took a message again"' "$LOG"
	assert_output 1
}

@test "real Postfix: a 554 greeting holds the message with the server's words" {
	mo_config "port=$REALMTA_SMTP_PORT"
	run --separate-stderr mo bob@example.net < <(msg held-greet)
	assert_success
	assert_equal "$stderr" "mailout: message held (not sent): relay 127.0.0.1 port $REALMTA_SMTP_PORT: the relay refused the connection: server said: 554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: Access denied; check host, port and tls of account t in $CONF against what the relay offers (mailout --serverinfo -a t); then run sendmail -q"
	assert_equal "$(entries)" 1
	run grep -c 'status=held reason="relay 127.0.0.1 port [0-9]*: the relay refused the connection: server said: 554 5.7.1 <unknown\[127.0.0.1\]>: Client host rejected: Access denied' "$LOG"
	assert_output 1
	# Postfix logged the reject of the connection itself (no command before it).
	run grep -c 'NOQUEUE: reject: CONNECT from unknown\[127.0.0.1\]' "$REALMTA_DIR/maillog"
	assert_output 1
	# The timer leaves it held: no new connection.
	run mo --queue-run
	assert_success
	assert_equal "$(entries)" 1
	run grep -c 'NOQUEUE: reject: CONNECT from unknown\[127.0.0.1\]' "$REALMTA_DIR/maillog"
	assert_output 1
	run mo -bp
	assert_output --partial '554 5.7.1'
}

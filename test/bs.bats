#!/usr/bin/env bats
# sendmail -bs: an SMTP dialogue on standard input and output (what Symfony Mailer,
# SwiftMailer and Laravel speak). Each message goes through the same path as one on
# standard input; the reply to the final dot says what became of it; standard output
# carries nothing but the protocol.

bats_require_minimum_version 1.5.0
load lib/common
load lib/callers

teardown() { fake_stop; }

# smtp LINES...: the client's side, each line ended with CRLF, all at once (pipelined).
smtp() { printf '%s\r\n' "$@"; }

# bs [ARGS]: run mailout -bs with stdin from $IN; stdout in $OUT, stderr in $ERR.
bs() {
	OUT=$BATS_TEST_TMPDIR/bs.out
	ERR=$BATS_TEST_TMPDIR/bs.err
	set +e
	"$MAILOUT" -C "$CONF" -bs "$@" <"$IN" >"$OUT" 2>"$ERR"
	BS_STATUS=$?
	set -e
}

# protocol_only: every line on stdout is an SMTP reply, CRLF-terminated.
protocol_only() {
	python3 - "$OUT" <<'PY'
import re, sys
b = open(sys.argv[1], 'rb').read()
assert b.endswith(b'\r\n'), 'stdout does not end in CRLF'
for line in b[:-2].split(b'\r\n'):
    assert re.fullmatch(rb'[2-5][0-9][0-9][ -].*', line), 'not a reply: %r' % line
PY
}

# replies: the reply lines, CR removed.
replies() { tr -d '\r' <"$OUT"; }

one_msg() {
	smtp "HELO client.test" "MAIL FROM:<app@example.net>" "RCPT TO:<a@x.org>" "DATA" \
		"From: App <app@example.net>" "To: a@x.org" "Subject: bs test" "" \
		"first line" "..leading dot" "." "QUIT"
}

@test "HELO, one message, QUIT: 250 to the dot, delivered as sent, exit 0" {
	fake_start
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	one_msg >"$IN"
	bs
	assert_equal "$BS_STATUS" 0
	run replies
	assert_line --index 0 --regexp '^220 .* ESMTP mailout$'
	assert_line --index 1 --regexp '^250 .* Hello client.test$'
	assert_line --index 2 '250 2.1.0 Ok'
	assert_line --index 3 '250 2.1.5 Ok'
	assert_line --index 4 --regexp '^354 '
	assert_line --index 5 --regexp '^250 2\.0\.0 Ok: delivered as <.*@client.example.org>$'
	assert_line --index 6 --regexp '^221 2\.0\.0 '
	run protocol_only
	assert_success
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<app@example.net>'
	assert_line --index 1 'RCPT TO:<a@x.org>'
	run body 1
	assert_output "$(printf 'first line\r\n.leading dot\r')"
	run header 1 Subject
	assert_output 'bs test'
}

@test "SMTP smuggling: a bare-LF dot in the body of a CRLF client is data, no second transaction" {
	fake_start
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	# the attack of CVE-2023-51764: the body ends DATA early for a lax server, and what
	# follows runs as a transaction of its own, from ceo@ to victim@
	printf '%s\r\n' "HELO client.test" "MAIL FROM:<app@example.net>" "RCPT TO:<a@x.org>" \
		"DATA" "From: App <app@example.net>" "Subject: invoice" "" >"$IN"
	printf 'body\n.\nMAIL FROM:<ceo@example.net>\nRCPT TO:<victim@example.org>\nDATA\n' >>"$IN"
	printf 'From: ceo@example.net\nSubject: pay now\n\nsmuggled\n.\r\n' >>"$IN"
	printf '%s\r\n' "." "QUIT" >>"$IN"
	bs
	assert_equal "$BS_STATUS" 0
	run replies
	assert_line --index 4 --regexp '^354 '
	assert_line --index 5 --regexp '^250 2\.0\.0 Ok: delivered as '
	assert_line --index 6 --regexp '^221 2\.0\.0 '
	assert_equal "$(fake_count)" 1
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<app@example.net>'
	assert_line --index 1 'RCPT TO:<a@x.org>'
	# the relay answered one MAIL: victim@ is only in the body
	run grep -c '"data":"250 2.1.0 Ok' "$FAKE_DIR/events"
	assert_output 1
	run body 1
	assert_output "$(printf 'body\r\n.\r\nMAIL FROM:<ceo@example.net>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nFrom: ceo@example.net\r\nSubject: pay now\r\n\r\nsmuggled\r\n.\r')"
}

@test "a client that writes bare LF throughout still works: its lone dot ends the data" {
	fake_start
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	printf 'HELO x\nMAIL FROM:<a@example.net>\nRCPT TO:<b@x.org>\nDATA\nSubject: lf\n\nhello\n.\nQUIT\n' >"$IN"
	bs
	assert_equal "$BS_STATUS" 0
	run replies
	assert_line --index 5 --regexp '^250 2\.0\.0 Ok: delivered as '
	assert_line --index 6 --regexp '^221 2\.0\.0 '
	assert_equal "$(fake_count)" 1
	run body 1
	assert_output "$(printf 'hello\r')"
}

@test "EHLO lists what -bs supports, and nothing it does not" {
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	smtp "EHLO client.test" "QUIT" >"$IN"
	bs
	assert_equal "$BS_STATUS" 0
	run replies
	assert_line '250-PIPELINING'
	assert_line '250-8BITMIME'
	assert_line --regexp '^250-SIZE [0-9]+$'
	assert_line '250-DSN'
	assert_line '250-SMTPUTF8'
	assert_line '250-ENHANCEDSTATUSCODES'
	refute_line --partial 'STARTTLS'
	refute_line --partial 'AUTH'
	refute_line --partial 'CHUNKING'
}

@test "two pipelined transactions: two messages, one relay connection, replies in order" {
	fake_start
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	smtp "EHLO c" "MAIL FROM:<s1@example.net>" "RCPT TO:<a@x.org>" "RCPT TO:<b@x.org>" \
		"DATA" "Subject: one" "" "1" "." \
		"MAIL FROM:<s2@example.net>" "RCPT TO:<c@x.org>" "DATA" "Subject: two" "" "2" "." \
		"QUIT" >"$IN"
	bs
	assert_equal "$BS_STATUS" 0
	run grep -c '^250 2.0.0 Ok: delivered' "$OUT"
	assert_output 2
	assert_equal "$(fake_count)" 2
	run fake_env 1
	assert_line 'RCPT TO:<a@x.org>'
	assert_line 'RCPT TO:<b@x.org>'
	run fake_env 2
	assert_line --index 0 --regexp '^MAIL FROM:<s2@example.net>'
	run grep -c '"event":"connect"' "$FAKE_DIR/events"
	assert_output 1
}

@test "RSET drops the transaction; the next one is delivered alone" {
	fake_start
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	smtp "HELO c" "MAIL FROM:<x@example.net>" "RCPT TO:<dropped@x.org>" "RSET" \
		"MAIL FROM:<y@example.net>" "RCPT TO:<kept@x.org>" "DATA" "Subject: s" "" "b" "." \
		"QUIT" >"$IN"
	bs
	run replies
	assert_line --index 4 '250 2.0.0 Ok'
	assert_equal "$(fake_count)" 1
	run fake_env 1
	assert_line 'RCPT TO:<kept@x.org>'
	refute_line 'RCPT TO:<dropped@x.org>'
}

@test "every recipient refused by the relay: 550 to the dot, not 250" {
	fake_start --reply 'rcpt=550 5.1.1 unknown user'
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	one_msg >"$IN"
	bs
	run replies
	assert_line --index 5 --regexp '^550 5\.1\.1 .*unknown user'
	assert_equal "$(fake_count)" 0
}

@test "relay down with queue = on: 250 queued as ID, and mailq lists it" {
	mo_config port=1
	IN=$BATS_TEST_TMPDIR/in
	one_msg >"$IN"
	bs
	assert_equal "$BS_STATUS" 0
	run replies
	assert_line --index 5 --regexp '^250 2\.0\.0 Ok: queued as [0-9A-F]{19}$'
	id=$(sed -n 's/^250 2.0.0 Ok: queued as \([0-9A-F]*\)\r$/\1/p' "$OUT")
	run mo -bp
	assert_output --partial "$id"
	run protocol_only
	assert_success
}

@test "relay down with queue = off: 451 to the dot, the client keeps the message" {
	mo_config port=1 queue=off
	IN=$BATS_TEST_TMPDIR/in
	one_msg >"$IN"
	bs
	run replies
	assert_line --index 5 --regexp '^451 4\.3\.0 '
}

@test "the relay refuses the message after DATA: 554 5.6.0 with its words" {
	fake_start --reply 'dot=554 5.6.0 content rejected'
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	one_msg >"$IN"
	bs
	run replies
	assert_line --index 5 --regexp '^554 5\.6\.0 .*content rejected'
}

@test "a message over max_message_size: 552 5.3.4" {
	fake_start
	mo_config max_message_size=200
	IN=$BATS_TEST_TMPDIR/in
	smtp "EHLO c" "MAIL FROM:<x@example.net>" "RCPT TO:<a@x.org>" "DATA" "Subject: s" "" \
		"$(head -c 400 /dev/zero | tr '\0' x)" "." "QUIT" >"$IN"
	bs
	run replies
	assert_line --regexp '^250-SIZE 200$'
	assert_line --regexp '^552 5\.3\.4 '
	assert_equal "$(fake_count)" 0
}

@test "-v: the relay transcript goes to stderr, stdout stays protocol" {
	fake_start
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	one_msg >"$IN"
	bs -v
	assert_equal "$BS_STATUS" 0
	run protocol_only
	assert_success
	run grep -c 'MAIL FROM' "$ERR"
	[ "$output" -ge 1 ]
}

@test "an alias loop is refused at RCPT; the other recipients still go" {
	fake_start
	printf 'a: b\nb: a\nroot: admin@example.com\n' >"$BATS_TEST_TMPDIR/aliases"
	mo_config "aliases=$BATS_TEST_TMPDIR/aliases" default_domain=example.com
	IN=$BATS_TEST_TMPDIR/in
	smtp "HELO c" "MAIL FROM:<x@example.net>" "RCPT TO:<a>" "RCPT TO:<root>" "DATA" \
		"Subject: s" "" "b" "." "QUIT" >"$IN"
	bs
	run replies
	assert_line --index 3 --regexp '^5[0-9][0-9] .*loop'
	assert_line --index 4 '250 2.1.5 Ok'
	run fake_env 1
	assert_line 'RCPT TO:<admin@example.com>'
}

@test "Laravel's -bs -i and a client that just closes: exit 0, nothing sent" {
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	smtp "HELO c" "MAIL FROM:<x@example.net>" >"$IN"
	bs -i
	assert_equal "$BS_STATUS" 0
	run protocol_only
	assert_success
}

@test "input ends inside DATA: nothing sent, exit 74, the client was not told 250" {
	fake_start
	mo_config
	IN=$BATS_TEST_TMPDIR/in
	smtp "HELO c" "MAIL FROM:<x@example.net>" "RCPT TO:<a@x.org>" "DATA" "Subject: s" >"$IN"
	bs
	assert_equal "$BS_STATUS" 74
	refute grep -q '^250 2.0.0' "$OUT"
	assert_equal "$(fake_count)" 0
}

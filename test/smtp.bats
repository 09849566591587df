#!/usr/bin/env bats
# The SMTP engine against the fake relay: envelope, pipelining, per-recipient results,
# classification and exit codes, body bytes on the wire.

bats_require_minimum_version 1.5.0

load lib/common

teardown() { fake_stop; }

msg() { printf 'From: a@example.org\nTo: b@example.net\nSubject: test\n\nhello\n'; }

@test "delivers a message: envelope, body, exit 0, one log line" {
	fake_start
	mo_config
	run mo rcpt@example.net < <(msg)
	assert_success
	assert_equal "$(fake_count)" 1
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<sender@example.org> SIZE=[0-9]+$'
	assert_line --index 1 'RCPT TO:<rcpt@example.net>'
	run grep -c 'status=sent' "$LOG"
	assert_output 1
	run grep 'to=rcpt@example.net' "$LOG"
	assert_success
}

@test "MAIL, every RCPT and DATA leave in one write when PIPELINING is offered" {
	fake_start --caps "PIPELINING,SIZE 1000000,8BITMIME"
	mo_config
	run mo a@x.org b@x.org c@x.org < <(msg)
	assert_success
	run fake_chunks
	assert_line --regexp '^MAIL FROM:<sender@example.org>.*\\r\\nRCPT TO:<a@x.org>\\r\\nRCPT TO:<b@x.org>\\r\\nRCPT TO:<c@x.org>\\r\\nDATA\\r\\n$'
}

@test "without PIPELINING commands go one at a time" {
	fake_start --caps "8BITMIME"
	mo_config
	run mo a@x.org b@x.org < <(msg)
	assert_success
	run fake_chunks
	assert_line --regexp '^MAIL FROM:<sender@example.org>\\r\\n$'
	assert_line 'RCPT TO:<a@x.org>\r\n'
}

@test "EHLO refused: falls back to HELO and still delivers" {
	fake_start --no-ehlo
	mo_config
	run mo a@x.org < <(msg)
	assert_success
	run fake_transcript
	assert_output --partial $'HELO client.example.org\r\n'
	assert_equal "$(fake_count)" 1
}

@test "one refused recipient does not abort the others; exit 67 names it" {
	fake_start --reply 'rcpt:bad@x.org=550 5.1.1 no such user'
	mo_config
	run mo good@x.org bad@x.org other@x.org < <(msg)
	assert_failure 67
	assert_output --partial 'recipient <bad@x.org> refused: 550 5.1.1 no such user'
	run fake_env 1
	assert_line 'RCPT TO:<good@x.org>'
	assert_line 'RCPT TO:<other@x.org>'
	refute_line 'RCPT TO:<bad@x.org>'
	run grep 'to=<bad@x.org> status=failed' "$LOG"
	assert_success
}

@test "every recipient refused permanently: exit 67 (EX_NOUSER)" {
	fake_start --reply 'rcpt=550 5.1.1 unknown'
	mo_config queue=off
	run mo a@x.org b@x.org < <(msg)
	assert_failure 67
	assert_equal "$(fake_count)" 0
}

@test "5xx after the final dot: exit 65 with the server's words" {
	fake_start --reply 'dot=554 5.6.0 content rejected'
	mo_config
	run mo a@x.org < <(msg)
	assert_failure 65
	assert_output --partial '554 5.6.0 content rejected'
}

@test "4xx greeting with queue = off: exit 75" {
	fake_start --reply 'greeting=421 4.3.2 busy'
	mo_config queue=off
	run mo a@x.org < <(msg)
	assert_failure 75
	assert_output --partial '421 4.3.2 busy'
}

@test "5xx greeting: exit 69" {
	fake_start --reply 'greeting=554 5.7.1 go away'
	mo_config queue=off
	run mo a@x.org < <(msg)
	assert_failure 69
}

@test "connection refused with queue = off: exit 75 and a log line" {
	mo_config queue=off port=1
	run mo a@x.org < <(msg)
	assert_failure 75
	assert_output --partial 'Connection refused'
	run grep -c 'status=' "$LOG"
	assert_output 1
}

@test "unknown relay host: exit 68" {
	mo_config queue=off host=no-such-host.invalid
	run mo a@x.org < <(msg)
	assert_failure 68
	assert_output --partial "no-such-host.invalid"
}

@test "malformed reply code: exit 76 (protocol)" {
	fake_start --reply 'mail=2x0 what'
	mo_config queue=off
	run mo a@x.org < <(msg)
	assert_failure 76
	assert_output --partial 'malformed'
}

@test "message over the server's SIZE is refused before any data: exit 65" {
	fake_start --caps "PIPELINING,SIZE 100"
	mo_config
	run mo a@x.org < <(msg; head -c 500 /dev/zero | tr '\0' 'x'; echo)
	assert_failure 65
	assert_output --partial 'SIZE'
	run fake_transcript
	refute_output --partial 'MAIL FROM'
}

@test "SIZE= and BODY=8BITMIME on MAIL for an 8-bit body" {
	fake_start
	mo_config
	run mo a@x.org < <(printf 'Subject: x\n\ncaf\xc3\xa9\n')
	assert_success
	run fake_env 1
	assert_line --index 0 --regexp 'SIZE=[0-9]+ BODY=8BITMIME'
}

@test "DSN parameters from -N, -R, -V when the relay offers DSN" {
	fake_start --caps "PIPELINING,DSN"
	mo_config
	run mo -N failure,delay -R hdrs -V envid42 a@x.org < <(msg)
	assert_success
	run fake_env 1
	assert_line --index 0 --regexp 'RET=HDRS'
	assert_line --index 0 --regexp 'ENVID=envid42'
	assert_line --index 1 --regexp 'NOTIFY=FAILURE,DELAY'
}

@test "dot-stuffing: lines starting with a dot arrive intact" {
	fake_start --caps "PIPELINING"
	mo_config
	run mo a@x.org < <(printf 'Subject: x\n\n.\n..two\n.three\nend\n')
	assert_success
	run fake_transcript
	assert_output --partial $'\r\n..\r\n...two\r\n..three\r\nend\r\n.\r\n'
	run fake_msg 1
	assert_output --partial $'\r\n.\r\n..two\r\n.three\r\nend\r'
}

@test "BDAT when CHUNKING is offered: raw bytes, no dot-stuffing" {
	fake_start --caps "PIPELINING,CHUNKING"
	mo_config
	run mo a@x.org < <(printf 'Subject: x\n\n.dot\n')
	assert_success
	run fake_transcript
	assert_output --regexp 'BDAT [0-9]+ LAST'
	run fake_msg 1
	assert_output --partial $'\r\n.dot\r'
}

@test "never a bare CR or LF on the wire, whatever the input's line endings" {
	fake_start --caps "PIPELINING"
	mo_config
	run mo a@x.org < <(printf 'Subject: x\r\nX-A: 1\n\nlf\ncrlf\r\ncr\rcrcrlf\r\r\nlast')
	assert_success
	crlf_clean "$FAKE_DIR/transcript"
	run grep -c bare-lf "$FAKE_DIR/events"
	assert_output 0
}

@test "a large body goes out in large writes, not one per line" {
	fake_start --caps "PIPELINING"
	mo_config
	run mo a@x.org < <(printf 'Subject: x\n\n'; yes 'a line of text' | head -n 100000)
	assert_success
	n=$(grep -c '"dir":"c2s"' "$FAKE_DIR/events")
	# 1.5 MB of 15-byte lines: a write per line would be 100,000 writes.
	[ "$n" -lt 200 ]
}

# big N: a message of N bytes of 76-character lines.
big() { printf 'Subject: big\n\n'; yes "$(printf '%075d' 0)" | head -c "$1"; }

@test "no max_message_size set: over the default 35M is refused (65) with nothing sent or left" {
	fake_start --caps "PIPELINING,SIZE 100000000"
	mo_config
	run mo a@x.org < <(big $((35 * 1024 * 1024 + 100)))
	assert_failure 65
	assert_output "mailout: message larger than the limit of 36700160 bytes (35.0 MiB, max_message_size); nothing was sent or queued"
	assert_equal "$(grep -c '"event":"connect"' "$FAKE_DIR/events")" 0
	assert_equal "$(ls -A "$QUEUE/tmp" | wc -l)" 0
	assert_equal "$(find "$QUEUE" -name '*.msg' | wc -l)" 0
	# max_message_size = off (or 0) lifts it: the relay's SIZE is the limit then
	mo_config max_message_size=off
	run mo a@x.org < <(big $((35 * 1024 * 1024 + 100)))
	assert_success
	assert_equal "$(fake_count)" 1
}

@test "the server closing mid-DATA is temporary (exit 75 with queue = off)" {
	fake_start --disconnect middata
	mo_config queue=off
	run mo a@x.org < <(printf 'Subject: x\n\n'; head -c 20000 /dev/zero | tr '\0' 'y'; echo)
	assert_failure 75
}

@test "a server that never answers times out after the configured time" {
	fake_start --delay 'greeting=10'
	mo_config queue=off timeout=1
	run timeout 8 "$MAILOUT" -C "$CONF" a@x.org < <(msg)
	assert_failure 75
	assert_output --partial 'timeout'
}

# elapsed_ms CMD...: run CMD (with run), and set ELAPSED to the milliseconds it took.
elapsed_ms() {
	local t0
	t0=$(date +%s%N)
	run "$@"
	ELAPSED=$(( ($(date +%s%N) - t0) / 1000000 ))
}

@test "a relay that drips a reply byte by byte: given up at timeout for the whole reply, queued" {
	# the EHLO reply (some 200 bytes) at 3 bytes a second: over a minute
	fake_start --drip 'ehlo=0.3'
	mo_config timeout=2
	elapsed_ms timeout 30 "$MAILOUT" -C "$CONF" a@x.org < <(msg)
	assert_success
	assert_output --regexp "^mailout: relay 127\.0\.0\.1:$FAKE_PORT unavailable \(no complete reply from 127\.0\.0\.1:$FAKE_PORT within 2 s \(timeout\)\); message queued as [0-9A-F]{19}, will retry after [0-2][0-9]:[0-5][0-9]\$"
	(( ELAPSED >= 2000 && ELAPSED < 4000 )) || fail "gave up after $ELAPSED ms"
	assert_equal "$(find "$QUEUE/queue" -name '*.msg' | wc -l)" 1
	assert_equal "$(fake_count)" 0
}

@test "each reply in time but the whole session too slow: given up at session_timeout, queued" {
	# every reply takes about a second, each within timeout; together far more than 3 s
	fake_start --drip 'greeting=0.03' --drip 'ehlo=0.005' --drip 'mail=0.07' \
		--drip 'rcpt=0.07' --drip 'data=0.07' --drip 'bdat=0.07' --drip 'dot=0.07'
	mo_config timeout=2 session_timeout=3
	elapsed_ms timeout 30 "$MAILOUT" -C "$CONF" a@x.org < <(msg)
	assert_success
	assert_output --partial "the time allowed for the session with 127.0.0.1:$FAKE_PORT ran out (session_timeout = 3 s)"
	(( ELAPSED >= 3000 && ELAPSED < 5000 )) || fail "gave up after $ELAPSED ms"
	assert_equal "$(find "$QUEUE/queue" -name '*.msg' | wc -l)" 1
	# a queue run tries the account once: a relay this slow gets no second message
	mo a@x.org < <(msg) 2>/dev/null
	assert_equal "$(find "$QUEUE/queue" -name '*.msg' | wc -l)" 2
	before=$(grep -c '"event":"connect"' "$FAKE_DIR/events")
	elapsed_ms mo -q
	assert_success
	(( ELAPSED < 5000 )) || fail "the run took $ELAPSED ms"
	assert_equal "$(( $(grep -c '"event":"connect"' "$FAKE_DIR/events") - before ))" 1
	assert_equal "$(find "$QUEUE/queue" -name '*.msg' | wc -l)" 2
	run grep -c 'status=deferred.*ran out (session_timeout = 3 s)' "$LOG"
	assert_output 2
}

@test "session_timeout grows with the message: a large one on a slow relay still goes" {
	# 1 MB gives 102 s more than session_timeout = 1; the dot's reply alone takes 1.5 s
	fake_start --caps "PIPELINING,SIZE 100000000" --delay 'dot=1.5' --delay 'bdat=1.5'
	mo_config timeout=3 session_timeout=1
	run mo a@x.org < <(printf 'Subject: x\n\n'; yes 'a line of text' | head -c 1000000)
	assert_success
	assert_equal "$(fake_count)" 1
}

@test "-v prints the dialogue on stderr; stdout stays empty" {
	fake_start
	mo_config
	out=$(mo -v a@x.org < <(msg) 2>"$BATS_TEST_TMPDIR/err")
	assert_equal "$out" ""
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --partial '--> EHLO client.example.org'
	assert_output --partial '<-- 250'
}

@test "a server QUIT problem after acceptance does not fail the send" {
	fake_start --disconnect quit
	mo_config
	run mo a@x.org < <(msg)
	assert_success
	assert_equal "$(fake_count)" 1
}

@test "QUIT goes out and its reply is not awaited: a slow 221 costs the run nothing" {
	fake_start --delay quit=3
	mo_config
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr mo -v a@x.org < <(msg)
	t1=$(date +%s%N)
	assert_success
	assert_equal "$(fake_count)" 1
	[[ $stderr == *"--> QUIT"* && $stderr != *"<-- 221"* ]] || fail "$stderr"
	(( (t1 - t0) / 1000000 < 2000 )) || fail "took $(( (t1 - t0) / 1000000 )) ms"
	sleep 0.5
	run grep -c '^QUIT' "$FAKE_DIR/transcript.1"
	assert_output 1
}

# Words that match what happened (issue 13): what the relay refused is named, and its
# reply is quoted whole.

@test "a refused sender is the sender's refusal, not the recipients': exit 69" {
	fake_start --reply 'mail=550 5.7.1 sender denied'
	mo_config queue=off
	run --separate-stderr mo a@x.org b@x.org < <(msg)
	assert_failure 69
	assert_equal "$stderr" "mailout: the relay refused the sender <sender@example.org>: server said: 550 5.7.1 sender denied"
	run grep 'status=failed error="the relay refused the sender <sender@example.org>: server said: 550 5.7.1 sender denied"' "$LOG"
	assert_success
}

@test "552 to MAIL: the message is too large for the relay, with both sizes: exit 65" {
	fake_start --caps "PIPELINING,SIZE 1000000" --reply 'mail=552 5.3.4 Message size exceeds fixed limit'
	mo_config queue=off
	run --separate-stderr mo a@x.org b@x.org < <(msg)
	assert_failure 65
	[[ $stderr =~ ^"mailout: the message is too large for the relay (SIZE): "[0-9]+" bytes, the relay accepts at most 1000000: server said: 552 5.3.4 Message size exceeds fixed limit"$ ]] || fail "$stderr"
}

@test "over the SIZE the relay announced: both sizes, nothing sent" {
	fake_start --caps "PIPELINING,SIZE 100"
	mo_config
	run --separate-stderr mo a@x.org < <(msg; head -c 500 /dev/zero | tr '\0' 'x'; echo)
	assert_failure 65
	[[ $stderr =~ ^"mailout: the message is too large for the relay (SIZE): "[0-9]{3}" bytes, the relay accepts at most 100"$ ]] || fail "$stderr"
	run grep -c 'MAIL FROM' "$FAKE_DIR/transcript"
	assert_output 0
}

@test "5xx to DATA or to the final dot: the message is refused, not its recipients" {
	fake_start --caps "8BITMIME" --reply 'data=554 5.7.1 no thanks'
	mo_config queue=off
	run --separate-stderr mo a@x.org b@x.org < <(msg)
	assert_failure 65
	assert_equal "$stderr" "mailout: the relay refused the message (at DATA): server said: 554 5.7.1 no thanks"
	fake_stop
	fake_start --reply 'dot=554 5.7.1 spam detected\n5.7.1 see https://example.net/why'
	mo_config queue=off
	run --separate-stderr mo a@x.org b@x.org < <(msg)
	assert_failure 65
	assert_equal "$stderr" "mailout: the relay refused the message: server said: 554 5.7.1 spam detected 5.7.1 see https://example.net/why"
}

@test "every recipient refused: each named, then all of them: exit 67" {
	fake_start --reply 'rcpt=550 5.1.1 unknown'
	mo_config queue=off
	run --separate-stderr mo a@x.org b@x.org < <(msg)
	assert_failure 67
	assert_equal "$stderr" "mailout: recipient <a@x.org> refused: 550 5.1.1 unknown
mailout: recipient <b@x.org> refused: 550 5.1.1 unknown
mailout: the relay refused all 2 recipients (<a@x.org> first): server said: 550 5.1.1 unknown"
}

@test "a 5xx greeting is quoted whole: stderr, the log and mailq (queue on)" {
	fake_start --raw-reply 'greeting=554-5.3.2 no SMTP service here\r\n554 5.3.2 ask the postmaster\r\n'
	mo_config
	run --separate-stderr mo a@x.org < <(msg)
	assert_success
	local words='the relay refused the connection: server said: 554 5.3.2 no SMTP service here 5.3.2 ask the postmaster'
	[[ $stderr == *"$words"* ]] || fail "$stderr"
	run grep -cF "$words" "$LOG"
	assert_output 1
	run mo -bp
	assert_output --partial "$words"
	mo_config queue=off
	run --separate-stderr mo a@x.org < <(msg)
	assert_failure 69
	assert_equal "$stderr" "mailout: relay 127.0.0.1 port $FAKE_PORT: $words"
}

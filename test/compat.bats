#!/usr/bin/env bats
# Header repair and what real programs write, end to end through the fake relay: a local
# From qualified or replaced (rewrite_from), long lines re-encoded or folded, raw UTF-8
# headers with SMTPUTF8 or as RFC 2047 encoded words, malformed addresses
# (address_strict), line endings.

load lib/common
load lib/callers

teardown() { fake_stop; }

# qp_decode K: the body of message K, quoted-printable decoded.
qp_decode() {
	body "$1" | python3 -c 'import sys, quopri; sys.stdout.buffer.write(quopri.decodestring(sys.stdin.buffer.read()))'
}

# longest K: the longest line of message K, in octets without CRLF.
longest() {
	python3 -c 'import sys; print(max(len(l) for l in open(sys.argv[1], "rb").read().split(b"\r\n")))' \
		"$FAKE_DIR/msg-$1.eml"
}

cron_msg() { printf 'From: root (Cron Daemon)\nTo: alice\nSubject: Cron <alice@host> run\n\nout\n'; }

@test "rewrite_from = local (the default): cron's From gets the domain, the name is kept" {
	fake_start
	mo_config default_domain=example.com
	run mo -t < <(cron_msg)
	assert_success
	run header 1 From
	assert_output 'Cron Daemon <root@example.com>'
	run header 1 Reply-To
	assert_output ''
}

@test "rewrite_from = local: sudo's bare From and user@localhost are qualified" {
	fake_start
	mo_config default_domain=example.com
	run mo a@x.org < <(printf 'From: alice\nSubject: s\n\nb\n')
	assert_success
	run mo a@x.org < <(printf 'From: Bob <bob@localhost>\nSubject: s\n\nb\n')
	assert_success
	run header 1 From
	assert_output 'alice@example.com'
	run header 2 From
	assert_output 'Bob <bob@example.com>'
}

@test "rewrite_from = local leaves a qualified From alone" {
	fake_start
	mo_config default_domain=example.com
	run mo a@x.org < <(printf 'From: "Doe, Jane" <jane@example.net>\n\nb\n')
	assert_success
	run header 1 From
	assert_output '"Doe, Jane" <jane@example.net>'
}

@test "rewrite_from = never keeps cron's From as written" {
	fake_start
	mo_config default_domain=example.com rewrite_from=never
	run mo -t < <(cron_msg)
	assert_success
	run header 1 From
	assert_output 'root (Cron Daemon)'
}

@test "rewrite_from = always: the account's from and from_name; the original in Reply-To" {
	fake_start
	mo_config default_domain=example.com rewrite_from=always from=joe@example.com \
		'from_name=Joe Bloggs'
	run mo -t < <(cron_msg)
	assert_success
	run header 1 From
	assert_output 'Joe Bloggs <joe@example.com>'
	run header 1 Reply-To
	assert_output 'Cron Daemon <root@example.com>'
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<joe@example.com>'
}

@test "rewrite_from = always keeps an existing Reply-To and adds a missing From" {
	fake_start
	mo_config rewrite_from=always from=joe@example.com
	run mo a@x.org < <(printf 'From: app@example.net\nReply-To: help@example.net\n\nb\n')
	assert_success
	run mo a@x.org < <(printf 'Subject: no from\n\nb\n')
	assert_success
	run header 1 From
	assert_output 'joe@example.com'
	run header 1 Reply-To
	assert_output 'help@example.net'
	run header 2 From
	assert_output 'joe@example.com'
}

@test "a 1500-octet line in a text body: quoted-printable, decoded bytes unchanged" {
	fake_start
	mo_config
	line=$(printf 'caf\xc3\xa9 = %.0s' {1..200})
	run mo a@x.org < <(printf 'Subject: long\n\n%s\nshort\n' "$line")
	assert_success
	run header 1 Content-Transfer-Encoding
	assert_output 'quoted-printable'
	run header 1 Content-Type
	assert_output 'text/plain; charset=UTF-8'
	run header 1 MIME-Version
	assert_output '1.0'
	run longest 1
	[ "$output" -le 76 ]
	run qp_decode 1
	assert_output "$(printf '%s\r\nshort\r' "$line")"
	run fake_env 1
	refute_line --index 0 --partial 'BODY=8BITMIME'
}

@test "long lines in a multipart body are folded at 998 octets, nothing re-encoded" {
	fake_start
	mo_config
	run mo a@x.org < <(printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n%s\n--b--\n' "$(head -c 2500 /dev/zero | tr '\0' y)")
	assert_success
	run longest 1
	assert_output 998
	run header 1 Content-Transfer-Encoding
	assert_output ''
	run body 1
	assert_output --partial $'--b\r\nContent-Type: text/plain\r\n\r\nyyy'
}

@test "a header line over 998 octets is folded, not refused" {
	fake_start
	mo_config
	subj=$(printf 'word%.0s ' {1..300})
	run mo a@x.org < <(printf 'Subject: %s\n\nb\n' "$subj")
	assert_success
	run longest 1
	[ "$output" -le 998 ]
	run header 1 Subject
	assert_output "${subj% }"
}

@test "8-bit Latin-1 body (atd, mutt): BODY=8BITMIME and the bytes intact" {
	fake_start
	mo_config
	run mo alice@x.org < <(printf 'Subject: s\n\ncaf\xe9\n')
	assert_success
	run fake_env 1
	assert_line --index 0 --partial 'BODY=8BITMIME'
	run body 1
	assert_output "$(printf 'caf\xe9\r')"
}

@test "raw UTF-8 Subject: sent as is with SMTPUTF8 when the relay offers it" {
	fake_start
	mo_config
	run mo a@x.org < <(printf 'From: J\xc3\xb6rg <j@example.org>\nSubject: Gr\xc3\xbc\xc3\x9fe\n\nb\n')
	assert_success
	run fake_env 1
	assert_line --index 0 --partial ' SMTPUTF8'
	run header 1 Subject
	assert_output "$(printf 'Gr\xc3\xbc\xc3\x9fe')"
}

@test "raw UTF-8 headers to a relay without SMTPUTF8: RFC 2047 encoded words" {
	fake_start --caps "PIPELINING,8BITMIME"
	mo_config
	run mo a@x.org < <(printf 'From: J\xc3\xb6rg <j@example.org>\nSubject: [x] Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln\n\nbody \xc3\xa9\n')
	assert_success
	run fake_env 1
	refute_line --index 0 --partial 'SMTPUTF8'
	run header 1 Subject
	assert_output '[x] =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?='
	run header 1 From
	assert_output '=?UTF-8?B?SsO2cmc=?= <j@example.org>'
	run body 1
	assert_output "$(printf 'body \xc3\xa9\r')"
}

@test "TMPDIR of 5000 bytes, 8-bit Subject, no SMTPUTF8: no crash, a clear error, queued" {
	use_test_build
	# The 7-bit copy goes to TMPDIR; a name too long for it must not be cut or crash.
	fake_start --caps "PIPELINING,8BITMIME"
	mo_config
	long=/$(head -c 4999 /dev/zero | tr '\0' t)
	run env TMPDIR="$long" "$MAILOUT" -C "$CONF" a@x.org \
	    < <(printf 'Subject: Gr\xc3\xbc\xc3\x9fe\n\nb\n')
	assert_success
	assert_output --partial 'TMPDIR is too long (5000 bytes'
	assert_output --regexp 'message queued as [0-9A-F]+, will retry'
	assert_equal "$(fake_count)" 0
	run mo -bp
	assert_output --partial 'TMPDIR is too long'
	assert_output --partial 'a@x.org'
	# Kept, not lost: the next run, with a usable TMPDIR, delivers it downgraded.
	MAILOUT_NOW=$(($(date +%s) + 3600)) run mo -q
	assert_success
	assert_equal "$(fake_count)" 1
	run header 1 Subject
	assert_output '=?UTF-8?B?R3LDvMOfZQ==?='
}

@test "a non-ASCII address and no SMTPUTF8: refused with the header named (65)" {
	fake_start --caps "PIPELINING,8BITMIME"
	mo_config
	run mo a@x.org < <(printf 'From: j\xc3\xb6rg@example.org\n\nb\n')
	assert_failure 65
	assert_output --partial 'From header'
	assert_output --partial 'SMTPUTF8'
	assert_equal "$(fake_count)" 0
}

@test "address_strict = off: what real programs write is delivered" {
	fake_start
	mo_config address_strict=off
	run mo -t < <(printf 'To: Joe Bloggs joe@x.org, <ann@x.org, bob@x.org.\nCc: "unbalanced <c@x.org>\n\nb\n')
	assert_success
	run fake_env 1
	assert_line 'RCPT TO:<joe@x.org>'
	assert_line 'RCPT TO:<ann@x.org>'
	assert_line 'RCPT TO:<bob@x.org>'
	assert_line 'RCPT TO:<c@x.org>'
}

@test "address_strict = on: a malformed address is refused, named, nothing sent (65)" {
	fake_start
	mo_config address_strict=on
	run mo -t < <(printf 'To: good@x.org, bad@\n\nb\n')
	assert_failure 65
	assert_output --partial "To header"
	assert_output --partial "'bad@'"
	run mo 'x@y.org.' < <(printf 'Subject: s\n\nb\n')
	assert_failure 65
	assert_output --partial 'recipient argument'
	assert_equal "$(fake_count)" 0
}

@test "LF, CRLF and mixed input: one CRLF per line on the wire, never CR CR LF" {
	fake_start
	mo_config
	run mo a@x.org < <(printf 'Subject: s\r\nX-A: 1\n\r\nl1\r\nl2\nl3\r\r\nl4')
	assert_success
	run crlf_clean "$FAKE_DIR/msg-1.eml"
	assert_success
	run body 1
	assert_output "$(printf 'l1\r\nl2\r\nl3\r\nl4\r')"
}

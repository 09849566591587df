#!/usr/bin/env bats
# Issue 13: a queued message goes only where it was accepted for (its binding), and a
# failure only a person can fix (wrong password, 5xx greeting, STARTTLS or AUTH missing,
# TLS verification, an unreadable secret) holds the message instead of retrying it.

load lib/common

setup() {
	mo_config
}

teardown() {
	fake_stop
	return 0
}

msg() { printf 'From: sender@example.org\nTo: bob@example.net\nSubject: %s\n\nbody %s\n' "$1" "$1"; }
entries() { find "$QUEUE/queue" -name '*.msg' 2>/dev/null | wc -l; }
entry_id() { basename "$(find "$QUEUE/queue" -name '*.msg' | sort | head -1)" .msg; }
meta_key() { sed -n "s/^$1: //p" "$QUEUE/queue/$(entry_id).meta" | head -1; }
# AUTH commands the fake relay saw, over all its connections
auths() { grep -c '^AUTH ' "$FAKE_DIR/transcript" 2>/dev/null || true; }
connections() { ls "$FAKE_DIR"/transcript.* 2>/dev/null | wc -l; }


# A second account "other" on its own fake relay, appended to $CONF.
add_other() {
	local port=$1
	cat >>"$CONF" <<EOC
[other]
host = 127.0.0.1
port = $port
tls = off
from = other@example.org
EOC
}

@test "account removed after queueing: held with the reason, never sent through another" {
	mo_config port=1
	run mo bob@example.net < <(msg gone)
	assert_success
	id=$(entry_id)
	FAKE_DIR=$BATS_TEST_TMPDIR/other fake_start
	# [t] is gone; the default account is now "other", on a relay that works.
	sed -i '/^\[t\]/,$d; s/^account = t/account = other/' "$CONF"
	add_other "$FAKE_PORT"
	run mo -q
	assert_success
	assert_equal "$(fake_count)" 0
	assert_output "mailout: 1 held for a person (see mailq)"
	run mo -bp
	assert_line "-- Held: waiting for a person (the timer does not retry these; sendmail -q or mailout --release does) --"
	assert_line "    (held: account t is no longer in $CONF; restore it, or send the message through another account: mailout --requeue $id -a ACCOUNT)"
	run grep -c "queue=$id user=[^ ]* uid=[0-9]* account=t .*status=held reason=\"account t is no longer in" "$LOG"
	assert_output 1
	# A second run does not log the same hold again.
	mo -q 2>/dev/null
	run grep -c "status=held" "$LOG"
	assert_output 1
	# The admin sends it through "other" explicitly: logged with both accounts.
	run mo --requeue "$id" -a other
	assert_success
	assert_equal "$(fake_count)" 1
	assert_equal "$(entries)" 0
	run grep -c "queue=$id user=[^ ]* uid=[0-9]* status=requeued account=other previous=t by=" "$LOG"
	assert_output 1
}

@test "account's host changed after queueing: held, names both relays" {
	mo_config port=1
	mo bob@example.net < <(msg moved) 2>/dev/null
	id=$(entry_id)
	fake_start
	sed -i 's/^host = 127.0.0.1/host = localhost/; s/^port = 1$/port = '"$FAKE_PORT"'/' "$CONF"
	run mo -q
	assert_success
	assert_equal "$(fake_count)" 0
	assert_equal "$(meta_key Held)" "account t's relay changed from 127.0.0.1:1 tls=off user=- to localhost:$FAKE_PORT tls=off user=- since the message was accepted; to send it there: mailout --requeue $id -a t"
	# Neither the timer nor another sendmail -q overrides a broken binding.
	run mo --queue-run
	assert_equal "$(fake_count)" 0
	run mo -q
	assert_equal "$(fake_count)" 0
	run mo --requeue "$id" -a t
	assert_success
	assert_equal "$(fake_count)" 1
}

@test "mail queued with -C FILE is held for a run that reads another file" {
	mo_config port=1
	mo bob@example.net < <(msg cfile) 2>/dev/null
	cp "$CONF" "$BATS_TEST_TMPDIR/other.conf"
	run "$MAILOUT" -C "$BATS_TEST_TMPDIR/other.conf" -q
	assert_success
	run meta_key Held
	assert_output --partial "accepted with -C $CONF, and this run reads $BATS_TEST_TMPDIR/other.conf: run it with that file (sendmail -C $CONF -q)"
}

@test "a fallback whose relay changed is skipped and logged, not used" {
	FAKE_DIR=$BATS_TEST_TMPDIR/fb fake_start
	fb=$FAKE_PORT
	mo_config port=1 fallback=other
	add_other 2
	mo bob@example.net < <(msg fb) 2>/dev/null
	assert_equal "$(entries)" 1
	sed -i "s/^port = 2\$/port = $fb/" "$CONF"
	run mo -q
	assert_equal "$(fake_count)" 0
	run grep -c 'uid=[0-9]* account=t status=fallback-skipped reason="fallback other changed from 127.0.0.1:2 tls=off user=- to 127.0.0.1:'"$fb"' tls=off user=- since the message was accepted"' "$LOG"
	assert_output 1
}

@test "wrong password: tried once, held (exit 0), not retried by --queue-run, sent once the file changes" {
	fake_start --auth-mechs PLAIN --user joe --password right --require-auth
	echo wrong >"$BATS_TEST_TMPDIR/pw"
	chmod 600 "$BATS_TEST_TMPDIR/pw"
	mo_config user=joe "password_file=$BATS_TEST_TMPDIR/pw" auth=plain allow_plaintext_auth=yes
	run --separate-stderr mo bob@example.net < <(msg pw1)
	assert_success
	assert_equal "$stderr" "mailout: message held (not sent): relay 127.0.0.1 port $FAKE_PORT: authentication failed: the server rejected user joe of account t (mechanism PLAIN, password from password_file): check the user name and the password: server said: 535 5.7.8 Authentication credentials invalid; check user and password of account t in $CONF (password_file, password_command, or mailout --store-password -a t); then run sendmail -q"
	assert_equal "$(auths)" 1
	run grep -c 'status=held reason=' "$LOG"
	assert_output 1
	run grep -c ': account=t status=held fingerprint=[0-9a-f]\{16\} (no new attempt until it changes, or sendmail -q)' "$LOG"
	assert_output 1
	run cat "$QUEUE/accounts/t"
	assert_line --regexp '^Fingerprint: [0-9a-f]{16}$'
	assert_line --partial 'Held: relay 127.0.0.1'
	# A second message for the held account: held at once, no connection, no login.
	run --separate-stderr mo bob@example.net < <(msg pw2)
	assert_success
	assert_equal "$(auths)" 1
	assert_equal "$(connections)" 1
	assert_output --partial ''
	[[ $stderr == "mailout: message held (not sent): account t is held since "*", not tried again until its settings or secret change: relay 127.0.0.1 port $FAKE_PORT: authentication failed"*"; then run sendmail -q" ]]
	# The timer leaves both alone, and says nothing new in the log: one line per hold.
	run mo --queue-run
	assert_success
	assert_equal "$(auths)" 1
	assert_equal "$(entries)" 2
	run grep -c 'status=held reason=' "$LOG"
	assert_output 2
	run grep -c ': account=t status=held' "$LOG"
	assert_output 1
	run grep -c '^Held: account t is held since' "$QUEUE"/queue/*.meta
	refute_output --regexp ':[1-9]'
	run mo -bp
	assert_output --partial "held since"
	# The admin fixes the password file: the next timer run sends both, the hold ends.
	echo right >"$BATS_TEST_TMPDIR/pw"
	touch -d '+1 sec' "$BATS_TEST_TMPDIR/pw"
	run mo --queue-run
	assert_success
	assert_output ''
	assert_equal "$(fake_count)" 2
	assert_equal "$(entries)" 0
	[ ! -e "$QUEUE/accounts/t" ]
	# One line for the account, one for each entry.
	run grep -c ': account=t status=released by=[a-z0-9_-]* reason="it took a message again"' "$LOG"
	assert_output 1
	run grep -c "queue=.* account=t status=released by=.* reason=\"the account's settings or secret changed\"" "$LOG"
	assert_output 2
}

@test "wrong password: sendmail -q retries a held entry at once; --release ID too" {
	fake_start --auth-mechs PLAIN --user joe --password right --require-auth
	mo_config user=joe password=wrong auth=plain allow_plaintext_auth=yes
	mo bob@example.net < <(msg rq) 2>/dev/null
	assert_equal "$(auths)" 1
	run mo -q
	assert_equal "$(auths)" 2
	assert_output "mailout: 1 held for a person (see mailq)"
	id=$(entry_id)
	run mo --release "$id"
	assert_equal "$(auths)" 3
	run grep -c "queue=$id user=[^ ]* uid=[0-9]* account=t status=released by=.* reason=\"asked by a person\"" "$LOG"
	assert_output 2
}

@test "queue off: wrong password 77, 5xx greeting 69, unreadable secret 78, nothing queued" {
	fake_start --auth-mechs PLAIN --user joe --password right --require-auth
	mo_config queue=off user=joe password=wrong auth=plain allow_plaintext_auth=yes
	run mo bob@example.net < <(msg off1)
	assert_failure 77
	fake_stop
	FAKE_DIR=$BATS_TEST_TMPDIR/g fake_start --reply 'greeting=554 5.3.2 no SMTP service here'
	mo_config queue=off
	run mo bob@example.net < <(msg off2)
	assert_failure 69
	assert_output --partial '554 5.3.2 no SMTP service here'
	fake_stop
	FAKE_DIR=$BATS_TEST_TMPDIR/s fake_start --auth-mechs PLAIN --user joe --password right --require-auth
	mo_config queue=off user=joe "password_file=$BATS_TEST_TMPDIR/nonexistent" auth=plain allow_plaintext_auth=yes
	run mo bob@example.net < <(msg off3)
	assert_failure 78
	assert_equal "$(entries)" 0
}

@test "5xx greeting with the queue on: held with the server's words and the fix" {
	fake_start --reply 'greeting=554 5.3.2 no SMTP service here'
	mo_config
	run --separate-stderr mo bob@example.net < <(msg greet)
	assert_success
	assert_equal "$stderr" "mailout: message held (not sent): relay 127.0.0.1 port $FAKE_PORT: the relay refused the connection: server said: 554 5.3.2 no SMTP service here; check host, port and tls of account t in $CONF against what the relay offers (mailout --serverinfo -a t); then run sendmail -q"
	run grep -c 'status=held reason="relay 127.0.0.1 port [0-9]*: the relay refused the connection: server said: 554 5.3.2 no SMTP service here' "$LOG"
	assert_output 1
}

@test "STARTTLS required but not offered: held" {
	fake_start --no-starttls-cap
	mo_config tls=starttls
	run --separate-stderr mo bob@example.net < <(msg notls)
	assert_success
	assert_output --partial ''
	[[ $stderr == "mailout: message held (not sent): "*"does not offer STARTTLS"*"; then run sendmail -q" ]]
	assert_equal "$(entries)" 1
}

@test "a relay that breaks the protocol: queued for a retry, not lost" {
	fake_start --raw-reply 'mail=garbage\r\n'
	mo_config
	run --separate-stderr mo bob@example.net < <(msg proto)
	assert_success
	[[ $stderr == "mailout: relay 127.0.0.1:$FAKE_PORT unavailable ("*"malformed reply"*"); message queued as "* ]]
	assert_equal "$(entries)" 1
	mo_config queue=off
	run mo bob@example.net < <(msg proto2)
	assert_failure 76
}

@test "-q and --queue-run: one line when mail stays queued; silent when the queue is empty or all went" {
	run mo -q
	assert_success
	assert_output ''
	port=$(free_port)
	mo_config port="$port"
	mo bob@example.net < <(msg sum) 2>/dev/null
	run mo -q
	assert_success
	assert_output --regexp '^mailout: 1 message still queued \(next attempt [0-2][0-9]:[0-5][0-9]\); see mailq$'
	run mo --queue-run
	assert_output --regexp '^mailout: 1 message still queued \(next attempt [0-2][0-9]:[0-5][0-9]\); see mailq$'
	fake_start --port "$port"
	run mo -q
	assert_success
	assert_output ''
	assert_equal "$(fake_count)" 1
}

@test "tls = starttls on a port that speaks TLS first: the hint within seconds, a config error" {
	CERTS=$(certs_dir)
	fake_start --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" --implicit-tls
	mo_config host=localhost tls=starttls "tls_ca_file=$CERTS/ca.pem" queue=off
	start=$(date +%s%N)
	run mo bob@example.net < <(msg tls465)
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "# answered after ${took} ms" >&3
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: port $FAKE_PORT expects TLS from the first byte: set tls = implicit in account t (the server sent no greeting in 3 s, and answered a TLS handshake)"
	[ "$took" -lt 10000 ]
	# With the queue on: held, with the same words.
	mo_config host=localhost tls=starttls "tls_ca_file=$CERTS/ca.pem"
	run --separate-stderr mo bob@example.net < <(msg tls465q)
	assert_success
	[[ $stderr == "mailout: message held (not sent): relay localhost port $FAKE_PORT: port $FAKE_PORT expects TLS from the first byte: set tls = implicit in account t"* ]]
}

@test "a server slow to greet is not taken for TLS: the message goes" {
	fake_start --delay 'greeting=4'
	mo_config
	run mo bob@example.net < <(msg slow)
	assert_success
	assert_equal "$(fake_count)" 1
	# one connection for the message, one for the probe (answered in plain: not TLS)
	assert_equal "$(connections)" 2
}

@test "default_domain unset: /etc/mailname is the mail domain of bare names" {
	use_test_build
	echo mail.example.com >"$BATS_TEST_TMPDIR/mailname"
	fake_start
	mo_config
	MAILOUT_MAILNAME=$BATS_TEST_TMPDIR/mailname run mo root < <(msg mailname)
	assert_success
	assert_output ''
	run fake_env 1
	assert_line 'RCPT TO:<root@mail.example.com>'
	MAILOUT_MAILNAME=$BATS_TEST_TMPDIR/mailname run mo -bv root
	assert_line 'root -> root@mail.example.com (local name, /etc/mailname mail.example.com)'
	# default_domain still wins.
	mo_config default_domain=example.net
	MAILOUT_MAILNAME=$BATS_TEST_TMPDIR/mailname run mo -bv root
	assert_line 'root -> root@example.net (local name, default_domain example.net)'
}

@test "only a short host name for bare names: one warning per run" {
	use_test_build
	fake_start
	mo_config domain=shorthost
	run --separate-stderr mo root alice < <(msg short)
	assert_success
	assert_equal "$stderr" "mailout: warning: bare names like root get the domain shorthost, which is only a host name (no default_domain in sendmail.conf, no /etc/mailname, no domain in the host name); set default_domain"
	run fake_env 1
	assert_line 'RCPT TO:<root@shorthost>'
	assert_line 'RCPT TO:<alice@shorthost>'
	# Full addresses: nothing to say.
	run --separate-stderr mo bob@example.net < <(msg full)
	assert_equal "$stderr" ""
}

# dkim_py SCRIPT ARGS...: Debian's python3-dkim (only /usr/bin/python3 sees it).
dkim_py() {
	/usr/bin/python3 -c 'import dkim' 2>/dev/null ||
		fail "python3-dkim is not installed: run scripts/install-deps --test"
	/usr/bin/python3 - "$@"
}

# signed CANON OUT: a message signed by the caller (From with a display name, an 8-bit
# subject and body, a 990-octet line, no Date and no Message-ID, both in h=) in OUT, and
# its public key in $BATS_TEST_TMPDIR/pub.
signed() {
	dkim_py "$1" "$2" "$BATS_TEST_TMPDIR/pub" <<'PY'
import base64, sys, dkim
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization
canon, out, pubf = sys.argv[1].encode(), sys.argv[2], sys.argv[3]
k = rsa.generate_private_key(public_exponent=65537, key_size=1024)
pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                      serialization.NoEncryption())
pub = k.public_key().public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
open(pubf, 'w').write(base64.b64encode(pub).decode())
msg = ("From: Alice Example <alice@example.com>\r\nTo: bob@example.net\r\n"
       "Subject: Grüße aus Köln\r\nMIME-Version: 1.0\r\n"
       "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
       "Grüße, schöne Welt.\r\n" + "x" * 990 + "\r\nEnde.\r\n").encode()
sig = dkim.sign(msg, b"s1", b"example.com", pem, canonicalize=(canon, canon),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id",
                                 b"mime-version", b"content-type"])
open(out, 'wb').write(sig + msg)
PY
}

# verify FILE: 0 when the DKIM signature of FILE (as the relay received it) verifies.
verify() {
	dkim_py "$1" "$BATS_TEST_TMPDIR/pub" <<'PY'
import sys, dkim
data = open(sys.argv[1], 'rb').read()
pub = open(sys.argv[2]).read().strip()
def dns(name, timeout=5):
    return ("v=DKIM1; k=rsa; p=" + pub).encode() if name == b"s1._domainkey.example.com." else None
sys.exit(0 if dkim.verify(data, dnsfunc=dns) else 1)
PY
}

@test "a DKIM-signed message travels untouched (relaxed and simple) and verifies at the relay" {
	# python3-dkim starts slowly on a busy machine: the relay waits longer than usual.
	fake_start --lifetime 120
	# rewrite_from = always would replace From of any other message.
	mo_config rewrite_from=always from_name=Rewriter
	n=0
	for canon in relaxed simple; do
		signed "$canon" "$BATS_TEST_TMPDIR/$canon.eml"
		verify "$BATS_TEST_TMPDIR/$canon.eml"
		run --separate-stderr mo bob@example.net <"$BATS_TEST_TMPDIR/$canon.eml"
		assert_success
		assert_equal "$stderr" ""
		n=$((n + 1))
		fake_msg "$n" >"$BATS_TEST_TMPDIR/got-$canon.eml"
		run verify "$BATS_TEST_TMPDIR/got-$canon.eml"
		assert_success
		run fake_msg "$n"
		assert_line --partial 'From: Alice Example <alice@example.com>'
		refute_line --partial 'Date:'
		refute_line --partial 'Message-ID:'
		refute_line --partial 'quoted-printable'
	done
	# The same message unsigned is rewritten as the account says (the control).
	printf 'From: Alice Example <alice@example.com>\nTo: bob@example.net\nSubject: plain\n\nx\n' |
		mo bob@example.net
	run fake_msg 3
	assert_line --partial 'From: Rewriter <sender@example.org>'
}

@test "a signed message with a line SMTP cannot carry: the warning says the signature breaks" {
	fake_start --lifetime 120
	mo_config
	signed relaxed "$BATS_TEST_TMPDIR/s.eml"
	awk '{ print } /^Ende/ { s = ""; for (i = 0; i < 1200; i++) s = s "y"; print s "\r" }' \
		"$BATS_TEST_TMPDIR/s.eml" >"$BATS_TEST_TMPDIR/long.eml"
	run --separate-stderr mo bob@example.net <"$BATS_TEST_TMPDIR/long.eml"
	assert_success
	assert_equal "$stderr" "mailout: warning: the message's DKIM signature will break: it has lines over 998 octets, which SMTP cannot carry, and they were re-encoded as quoted-printable"
	run grep -c 'status=dkim-broken reason="lines over 998 octets re-encoded as quoted-printable"' "$LOG"
	assert_output 1
	assert_equal "$(fake_count)" 1
}

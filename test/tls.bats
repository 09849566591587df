#!/usr/bin/env bats
# TLS: STARTTLS and implicit TLS, certificate verification and its error lines, pinning,
# client certificates, the STARTTLS security boundary, --serverinfo, and a real Postfix.
# Runs against whichever mbedTLS the binary was built with (mbedtls --version says which):
# with 3.x the fake server and Postfix must negotiate TLS 1.3, with 2.28 TLS 1.2.

load lib/common

setup_file() {
	CERTS=$(certs_dir)
	export CERTS
}

setup() {
	MSG=$'Subject: over TLS\n\nhello over TLS\n'
	if "$MAILOUT" --version | grep -q 'mbedTLS 3\.'; then
		TLSVER=TLSv1.3
	else
		TLSVER=TLSv1.2
	fi
}

teardown() { fake_stop; }

teardown_file() {
	if [[ -f $BATS_FILE_TMPDIR/mta/ports ]]; then
		bash "$BATS_TEST_DIRNAME/lib/realmta.sh" stop "$BATS_FILE_TMPDIR/mta" || true
	fi
}

# tls_fake CERTNAME [fakesmtp options]: the fake relay with a certificate from mkcerts.sh.
tls_fake() {
	local c=$1
	shift
	fake_start --tls-cert "$CERTS/$c.pem" --tls-key "$CERTS/$c.key" "$@"
}

# tls_config [KEY=VALUE...]: account t on localhost with STARTTLS and the test CA.
tls_config() {
	mo_config host=localhost tls=starttls "tls_ca_file=$CERTS/ca.pem" queue=off "$@"
}

send() { mo "$@" rcpt@example.net <<<"$MSG"; }

# fp FILE: the SHA-256 fingerprint of a PEM certificate, "AB:CD:...".
fp() {
	openssl x509 -in "$1" -outform der | openssl dgst -sha256 -r | cut -c1-64 |
		tr a-f A-F | sed 's/../&:/g; s/:$//'
}

# plain_sent: every byte the client sent before TLS (all connections), CR and LF shown
# as \r and \n.
plain_sent() {
	python3 - "$FAKE_DIR/events" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding='utf-8'):
    e = json.loads(line)
    if e.get('dir') == 'c2s' and not e.get('tls'):
        sys.stdout.write(e['data'].replace('\r', '\\r').replace('\n', '\\n'))
EOF
}

# tls_event FIELD: that field of the fake server's TLS event ("None" if absent).
tls_event() {
	python3 - "$FAKE_DIR/events" "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding='utf-8'):
    e = json.loads(line)
    if e.get('event') == 'tls':
        print(e.get(sys.argv[2]))
EOF
}

# A relay that accepts TCP connections and then does what $1 says: close, or hang.
raw_listener() {
	python3 - "$1" "$BATS_TEST_TMPDIR/raw.port" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(5)
open(sys.argv[2] + '.tmp', 'w').write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[2] + '.tmp', sys.argv[2])
s.settimeout(20)
c, _ = s.accept()
if sys.argv[1] == 'hang':
    time.sleep(10)
c.recv(65536)  # the ClientHello: closing with it unread would be a reset, not an end
c.close()
EOF
	RAW_PID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		[[ -s $BATS_TEST_TMPDIR/raw.port ]] && break
		sleep 0.01
	done
	FAKE_PORT=$(<"$BATS_TEST_TMPDIR/raw.port")
}

# mta_up: the real Postfix (test/lib/realmta.sh), once for this file, with the test CA's
# localhost certificate; sets MTA_* from its ports file.
mta_up() {
	local d=$BATS_FILE_TMPDIR/mta
	if ! bash "$BATS_TEST_DIRNAME/lib/realmta.sh" status "$d" 2>/dev/null; then
		bash "$BATS_TEST_DIRNAME/lib/realmta.sh" start "$d" --cert "$CERTS/server.pem" \
			--key "$CERTS/server.key" 3>&- || return 1
	fi
	MTA_DIR=$d
	MTA_SUBMISSION=$(sed -n 's/^submission=//p' "$d/ports")
	MTA_SMTPS=$(sed -n 's/^smtps=//p' "$d/ports")
	MTA_SMTP=$(sed -n 's/^smtp=//p' "$d/ports")
	MTA_USER=$(sed -n 's/^user=//p' "$d/ports")
	MTA_PASSWORD=$(sed -n 's/^password=//p' "$d/ports")
}

# mta_wait N: until Postfix has delivered N messages (5 s at most).
mta_wait() {
	local i
	for ((i = 0; i < 500; i++)); do
		[[ -e $MTA_DIR/delivered/$1.eml ]] && return 0
		sleep 0.01
	done
	echo "Postfix delivered no message $1" >&2
	return 1
}

# transcript: what the client sent (all connections), without the CRs.
transcript() { tr -d '\r' <"$FAKE_DIR/transcript"; }

mta_count() {
	local n=0 f
	for f in "$MTA_DIR"/delivered/*.eml; do [[ -e $f ]] && n=$((n + 1)); done
	echo "$n"
}

# ---------------------------------------------------------------- STARTTLS and implicit

@test "STARTTLS: delivered over TLS; only EHLO and STARTTLS went out in plain text" {
	tls_fake server
	tls_config
	run send
	assert_success
	assert_equal "$(fake_count)" 1
	run fake_msg 1
	assert_output --partial 'hello over TLS'
	assert_equal "$(plain_sent)" 'EHLO client.example.org\r\nSTARTTLS\r\n'
	assert_equal "$(tls_event version)" "$TLSVER"
	assert_equal "$(tls_event sni)" localhost
}

@test "STARTTLS: capabilities are forgotten and EHLO is sent again over TLS" {
	tls_fake server
	tls_config
	run send
	assert_success
	run transcript
	assert_line --index 0 'EHLO client.example.org'
	assert_line --index 1 'STARTTLS'
	assert_line --index 2 'EHLO client.example.org'
	assert_line --index 3 --regexp '^MAIL FROM:<sender@example.org>'
	run python3 - "$FAKE_DIR/events" <<'EOF'
import json, sys
seen = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]
tls = [e['data'] for e in seen if e.get('dir') == 'c2s' and e.get('tls')]
print(tls[0].split('\r\n')[0])
EOF
	assert_output 'EHLO client.example.org'
}

@test "implicit TLS: the whole session is encrypted, greeting included" {
	tls_fake server --implicit-tls
	tls_config tls=implicit
	run send
	assert_success
	assert_equal "$(fake_count)" 1
	assert_equal "$(plain_sent)" ""
	assert_equal "$(tls_event version)" "$TLSVER"
	run transcript
	assert_line --index 0 'EHLO client.example.org'
}

@test "the negotiated version is TLS 1.3 with mbedTLS 3, TLS 1.2 with 2.28" {
	tls_fake server --implicit-tls
	tls_config tls=implicit
	run send -v
	assert_success
	assert_line --regexp "^--- TLS $TLSVER, [A-Z0-9-]+, certificate CN=localhost \\(issuer CN=mailout test CA, sha256:$(fp "$CERTS/server.pem")\\), verified$"
	assert_equal "$(tls_event version)" "$TLSVER"
}

@test "a 1 MiB message goes through TLS intact" {
	tls_fake server
	tls_config
	python3 -c '
import sys
sys.stdout.write("Subject: big\n\n")
for i in range(16384):
    sys.stdout.write("line %06d " % i + "x" * 52 + "\n")
' >"$BATS_TEST_TMPDIR/big"
	run mo rcpt@example.net <"$BATS_TEST_TMPDIR/big"
	assert_success
	fake_msg 1 | tr -d '\r' | sed '1,/^$/d' >"$BATS_TEST_TMPDIR/got"
	sed '1,/^$/d' "$BATS_TEST_TMPDIR/big" >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "implicit TLS against a plain-text port: one line that names the likely mistake" {
	fake_start
	tls_config tls=implicit
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: TLS handshake: the server answered in plain text (\"220 localhost ESMTP fakesmtp\"), not TLS; this port wants tls = starttls (implicit TLS is usually port 465)"
}

# ---------------------------------------------------------------- bad certificates

@test "expired certificate: exit 78, the date, and nothing but EHLO and STARTTLS sent" {
	tls_fake expired
	tls_config
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: server certificate expired on 2021-01-01 00:00:00 UTC (CN=localhost, issuer CN=mailout test CA); its administrator must renew it"
	assert_equal "$(plain_sent)" 'EHLO client.example.org\r\nSTARTTLS\r\n'
	run fake_transcript
	refute_output --partial 'MAIL FROM'
	assert_equal "$(fake_count)" 0
}

@test "not yet valid certificate: exit 78 with the notBefore date" {
	tls_fake future
	tls_config
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: server certificate is not valid before 2045-01-01 00:00:00 UTC (CN=localhost); check this computer's clock"
}

@test "wrong host: exit 78 with the names the certificate has" {
	tls_fake wronghost
	tls_config
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: server certificate does not match the name localhost: it is for CN=wrong.example, DNS:wrong.example; if this is the right server, set tls_server_name to one of those names"
	assert_equal "$(fake_count)" 0
}

@test "tls_server_name names the certificate's host when it differs from host" {
	tls_fake wronghost
	tls_config host=127.0.0.1 tls_server_name=wrong.example
	run send
	assert_success
	assert_equal "$(tls_event sni)" wrong.example
	assert_equal "$(fake_count)" 1
}

@test "self-signed certificate: exit 78 with the fingerprint to pin" {
	tls_fake selfsigned
	tls_config
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: server certificate is self-signed (CN=localhost) and not trusted; if it is the right one, pin it with tls_fingerprint = sha256:$(fp "$CERTS/selfsigned.pem"), or set tls_ca_file to it"
}

@test "untrusted issuer: exit 78 naming the issuer and both fixes" {
	tls_fake untrusted
	tls_config
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: server certificate (CN=localhost) is not trusted: its issuer \"CN=mailout other (untrusted) CA\" is not a CA in $CERTS/ca.pem; set tls_ca_file to that CA's certificate, or pin this server's certificate with tls_fingerprint = sha256:$(fp "$CERTS/untrusted.pem")"
}

@test "without tls_ca_file the system bundle is used (and does not trust the test CA)" {
	[[ -r /etc/ssl/certs/ca-certificates.crt ]] ||
		fail "no CA bundle: run scripts/install-deps --test (it installs ca-certificates)"
	tls_fake server
	tls_config tls_ca_file=
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: server certificate (CN=localhost) is not trusted: its issuer \"CN=mailout test CA\" is not a CA in /etc/ssl/certs/ca-certificates.crt; set tls_ca_file to that CA's certificate, or pin this server's certificate with tls_fingerprint = sha256:$(fp "$CERTS/server.pem")"
}

@test "an unreadable tls_ca_file is a configuration error before any connection" {
	tls_fake server
	tls_config "tls_ca_file=$BATS_TEST_TMPDIR/missing.pem"
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: tls_ca_file $BATS_TEST_TMPDIR/missing.pem: No such file or directory"
}

# ---------------------------------------------------------------- pinning, verify off

@test "tls_fingerprint pins a self-signed certificate; no CA needed" {
	tls_fake selfsigned
	tls_config tls_ca_file= "tls_fingerprint=sha256:$(fp "$CERTS/selfsigned.pem")"
	run send
	assert_success
	assert_equal "$(fake_count)" 1
}

@test "tls_fingerprint that does not match: exit 78 with both fingerprints" {
	tls_fake server
	tls_config "tls_fingerprint=sha256:$(fp "$CERTS/selfsigned.pem")"
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: server certificate (CN=localhost) has the fingerprint sha256:$(fp "$CERTS/server.pem"), not tls_fingerprint sha256:$(fp "$CERTS/selfsigned.pem"); if the server changed its certificate, check the new one (mailout --serverinfo) and update tls_fingerprint"
	assert_equal "$(fake_count)" 0
}

@test "tls_verify = off delivers to any certificate and warns on every run" {
	tls_fake selfsigned --max-connections 2
	tls_config tls_verify=off
	run send
	assert_success
	assert_output "mailout: warning: TLS certificate verification is off for account t"
	run send
	assert_success
	assert_output "mailout: warning: TLS certificate verification is off for account t"
	assert_equal "$(fake_count)" 2
}

# ---------------------------------------------------------------- IP literals

@test "host given as an IP address matches the certificate's IP entry (no SNI sent)" {
	tls_fake ip-only
	tls_config host=127.0.0.1
	run send
	assert_success
	assert_equal "$(fake_count)" 1
	assert_equal "$(tls_event sni)" None
}

@test "an IP-only certificate does not match a host name" {
	tls_fake ip-only
	tls_config
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: server certificate does not match the name localhost: it is for CN=ip-only.test, IP:127.0.0.1; if this is the right server, set tls_server_name to one of those names"
}

@test "host given as an IP address and a certificate without it: mismatch" {
	tls_fake wronghost
	tls_config host=127.0.0.1
	run send
	assert_failure 78
	assert_output "mailout: relay 127.0.0.1 port $FAKE_PORT: server certificate does not match the name 127.0.0.1: it is for CN=wrong.example, DNS:wrong.example; if this is the right server, set tls_server_name to one of those names"
}

# ---------------------------------------------------------------- the STARTTLS boundary

@test "tls = starttls and no STARTTLS offered: exit 69, nothing but EHLO (and QUIT) sent" {
	fake_start --no-starttls-cap --auth-mechs PLAIN
	tls_config user=joe password=secret
	chmod 600 "$CONF"
	run send
	assert_failure 69
	assert_output "mailout: relay localhost port $FAKE_PORT: the server does not offer STARTTLS, and account t requires it (tls = starttls); nothing was sent"
	assert_equal "$(transcript)" $'EHLO client.example.org\nQUIT'
}

@test "bytes injected after the 220 to STARTTLS abort the session" {
	tls_fake server --inject-after-starttls '250-PIPELINING\r\n250 AUTH PLAIN\r\n'
	tls_config
	run send
	assert_failure 76
	assert_output --partial "mailout: relay localhost port $FAKE_PORT: server sent data after its STARTTLS reply (possible STARTTLS injection attack): aborting"
	assert_equal "$(plain_sent)" 'EHLO client.example.org\r\nSTARTTLS\r\n'
	assert_equal "$(tls_event version)" ""
	assert_equal "$(fake_count)" 0
}

@test "opportunistic: STARTTLS when offered" {
	tls_fake server
	tls_config tls=opportunistic
	run send
	assert_success
	assert_equal "$(plain_sent)" 'EHLO client.example.org\r\nSTARTTLS\r\n'
	assert_equal "$(tls_event version)" "$TLSVER"
}

@test "opportunistic: plain text when not offered" {
	fake_start --no-starttls-cap
	tls_config tls=opportunistic
	run send
	assert_success
	assert_equal "$(fake_count)" 1
	run fake_transcript
	refute_output --partial STARTTLS
}

@test "opportunistic without STARTTLS never sends a password in plain text" {
	fake_start --no-starttls-cap --auth-mechs 'PLAIN LOGIN'
	tls_config tls=opportunistic user=joe password=secret
	chmod 600 "$CONF"
	run send
	assert_failure
	run fake_transcript
	refute_output --partial AUTH
	refute_output --partial 'MAIL FROM'
}

# ---------------------------------------------------------------- client certificates

@test "client certificate is presented when the server asks for one" {
	tls_fake server --client-ca "$CERTS/ca.pem" --require-client-cert
	tls_config "tls_cert_file=$CERTS/client.pem" "tls_key_file=$CERTS/client.key"
	run send
	assert_success
	assert_equal "$(tls_event client_cert)" CN=client.test
	assert_equal "$(fake_count)" 1
}

@test "a server that requires a client certificate we lack: exit 78 naming the alert" {
	tls_fake server --client-ca "$CERTS/ca.pem" --require-client-cert
	tls_config
	run send
	assert_failure 78
	if [[ $TLSVER == TLSv1.3 ]]; then
		assert_output --regexp "^mailout: relay localhost port $FAKE_PORT: .*TLS session: the server sent the alert certificate_required \\(116\\): the server wants a client certificate \\(tls_cert_file, tls_key_file\\)"
	else
		assert_output "mailout: relay localhost port $FAKE_PORT: TLS handshake failed: the server sent the alert handshake_failure (40): no TLS parameters in common with the server, or it wants a client certificate (tls_cert_file, tls_key_file)"
	fi
	assert_equal "$(fake_count)" 0
}

@test "tls_key_file that is not the key of tls_cert_file: configuration error" {
	tls_fake server
	tls_config "tls_cert_file=$CERTS/client.pem" "tls_key_file=$CERTS/server.key"
	run send
	assert_failure 78
	assert_output "mailout: relay localhost port $FAKE_PORT: tls_key_file $CERTS/server.key is not the key of tls_cert_file $CERTS/client.pem"
}

# ---------------------------------------------------------------- versions, handshake

@test "tls_min_version = 1.3: refused up front by mbedTLS 2.28, enforced by mbedTLS 3" {
	tls_fake server --tls-max 1.2
	tls_config tls_min_version=1.3
	run send
	assert_failure 78
	if [[ $TLSVER == TLSv1.3 ]]; then
		assert_output "mailout: relay localhost port $FAKE_PORT: TLS handshake failed: the server sent the alert protocol_version (70): the server does not do TLS 1.3 (tls_min_version = 1.3)"
	else
		assert_output --regexp "^mailout: relay localhost port $FAKE_PORT: tls_min_version = 1.3 needs TLS 1.3, which this build's mbedTLS 2\\.28\\.[0-9]+ does not have; set tls_min_version = 1.2, or build mailout with mbedTLS 3$"
		# a configuration error: no connection at all
		run fake_events
		refute_output --partial '"event":"connect"'
	fi
}

@test "a TLS 1.3-only server: TLS 1.3 with mbedTLS 3, a protocol_version alert with 2.28" {
	tls_fake server --tls-min 1.3 --implicit-tls
	tls_config tls=implicit
	run send
	if [[ $TLSVER == TLSv1.3 ]]; then
		assert_success
		assert_equal "$(tls_event version)" TLSv1.3
	else
		assert_failure 78
		assert_output "mailout: relay localhost port $FAKE_PORT: TLS handshake failed: the server sent the alert protocol_version (70): the server wants a TLS version this build does not have (TLS 1.2 only); build mailout with mbedTLS 3"
	fi
}

@test "the server hangs up during the handshake: temporary (75 with queue = off)" {
	raw_listener close
	tls_config tls=implicit
	run send
	assert_failure 75
	assert_output "mailout: relay localhost port $FAKE_PORT: TLS handshake: the server closed the connection"
	kill "$RAW_PID" 2>/dev/null || true
}

@test "a handshake that never finishes times out: temporary" {
	raw_listener hang
	tls_config tls=implicit timeout=1
	run send
	assert_failure 75
	assert_output --regexp "^mailout: relay localhost port $FAKE_PORT: TLS handshake: timeout after 1 s waiting for the server"
	kill "$RAW_PID" 2>/dev/null || true
}

# ---------------------------------------------------------------- --serverinfo

# The account's session cache file (tls.h, deliver.c).
SESS() { echo "$XDG_STATE_HOME/mailout/tls-sessions/t.session"; }
# opens OUT CMD...: CMD with the files it opens listed in OUT (LeakSanitizer cannot run
# under ptrace: off for this run).
opens() {
	local o=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -e trace=openat -o "$o" "$@"
}

@test "TLS session resumption: the next run resumes the session; the cache file is 0600" {
	tls_fake server
	tls_config
	run --separate-stderr send -v
	assert_success
	[[ $stderr == *", verified"* && $stderr != *"session resumed"* ]] || fail "$stderr"
	assert_equal "$(stat -c %a "$(SESS)")" 600
	assert_equal "$(stat -c %a "$(dirname "$(SESS)")")" 700
	run --separate-stderr send -v
	assert_success
	[[ $stderr == *", verified"*", session resumed"* ]] || fail "$stderr"
	assert_equal "$(fake_count)" 2
}

@test "a resumed session does not read the CA file; a declined one does, when the certificate comes" {
	need strace
	tls_fake server
	cp "$CERTS/ca.pem" "$BATS_TEST_TMPDIR/ca.pem"
	tls_config "tls_ca_file=$BATS_TEST_TMPDIR/ca.pem"
	run send
	assert_success
	run opens "$BATS_TEST_TMPDIR/st" "$MAILOUT" -C "$CONF" rcpt@example.net <<<"$MSG"
	assert_success
	run grep -c "$BATS_TEST_TMPDIR/ca.pem" "$BATS_TEST_TMPDIR/st"
	assert_output 0
	# a new server process has new ticket keys: the session is declined, the CA read
	fake_stop
	local port=$FAKE_PORT
	tls_fake server --port "$port"
	run --separate-stderr opens "$BATS_TEST_TMPDIR/st2" "$MAILOUT" -C "$CONF" -v \
		rcpt@example.net <<<"$MSG"
	assert_success
	[[ $stderr == *", verified"* && $stderr != *"session resumed"* ]] || fail "$stderr"
	run grep -c "$BATS_TEST_TMPDIR/ca.pem" "$BATS_TEST_TMPDIR/st2"
	assert_output 1
}

@test "a cached session is offered only under the same verification settings" {
	tls_fake server
	tls_config
	run send
	assert_success
	# the same relay pinned by fingerprint: another key, a full handshake
	tls_config "tls_fingerprint=sha256:$(fp "$CERTS/server.pem")"
	run --separate-stderr send -v
	assert_success
	[[ $stderr != *"session resumed"* ]] || fail "$stderr"
	run --separate-stderr send -v
	[[ $stderr == *"session resumed"* ]] || fail "$stderr"
}

@test "a failed verification deletes the cached session" {
	tls_fake server
	tls_config
	run send
	assert_success
	[[ -f $(SESS) ]] || fail "no session cached"
	tls_config tls_server_name=other.example.org
	run send
	assert_failure 78
	[[ ! -e $(SESS) ]] || fail "the session is still cached"
}

@test "a cached session older than a day is not offered" {
	use_test_build
	tls_fake server
	tls_config
	run send
	assert_success
	run --separate-stderr env MAILOUT_NOW=$(( $(date +%s) + 25 * 3600 )) \
		"$MAILOUT" -C "$CONF" -v rcpt@example.net <<<"$MSG"
	assert_success
	[[ $stderr != *"session resumed"* ]] || fail "$stderr"
}

@test "no session is cached with tls_verify = off" {
	tls_fake server
	tls_config tls_verify=off
	run send
	assert_success
	[[ ! -e $(SESS) ]] || fail "a session was cached"
}

@test "--serverinfo: greeting, capabilities before and after TLS, chain, fingerprint line" {
	tls_fake server --auth-mechs 'PLAIN LOGIN' --auth-after-tls
	tls_config
	run mo --serverinfo
	assert_success
	local f
	f=$(fp "$CERTS/server.pem")
	assert_line "relay: localhost port $FAKE_PORT, tls = starttls"
	assert_line 'greeting: 220 localhost ESMTP fakesmtp'
	assert_line --regexp '^capabilities before TLS: STARTTLS, SIZE 10485760 \(10.0 MiB\), PIPELINING'
	assert_line --regexp "^TLS: $TLSVER, [A-Z0-9-]+ \\(mbedTLS [0-9.]+\\)$"
	assert_line "certificate: ok, verified for localhost against $CERTS/ca.pem"
	assert_line '  subject: CN=localhost'
	assert_line '  issuer:  CN=mailout test CA'
	assert_line '  names:   DNS:localhost, DNS:127.0.0.1, IP:127.0.0.1, IP:::1'
	assert_line --regexp '^  valid:   [0-9-]{10} [0-9:]{8} UTC to [0-9-]{10} [0-9:]{8} UTC$'
	assert_line "  sha256:  $f"
	assert_line "tls_fingerprint = sha256:$f"
	assert_line --regexp '^capabilities after TLS: AUTH PLAIN LOGIN, SIZE'
	assert_equal "$(plain_sent)" 'EHLO client.example.org\r\nSTARTTLS\r\n'
	assert_equal "$(transcript)" \
		$'EHLO client.example.org\nSTARTTLS\nEHLO client.example.org\nQUIT'
}

@test "--serverinfo on a self-signed server still shows the fingerprint, then fails" {
	tls_fake selfsigned --implicit-tls
	tls_config tls=implicit
	run mo --serverinfo
	assert_failure 78
	assert_line "tls_fingerprint = sha256:$(fp "$CERTS/selfsigned.pem")"
	assert_line --regexp '^certificate: FAILED: server certificate is self-signed'
	assert_line --regexp "^mailout: relay localhost port $FAKE_PORT: server certificate is self-signed"
}

@test "--serverinfo over implicit TLS: the TLS lines come before the greeting" {
	tls_fake server --implicit-tls
	tls_config tls=implicit
	run mo --serverinfo
	assert_success
	assert_line "relay: localhost port $FAKE_PORT, tls = implicit"
	assert_line "certificate: ok, verified for localhost against $CERTS/ca.pem"
	assert_line --regexp '^capabilities: SIZE 10485760 \(10.0 MiB\), PIPELINING'
	refute_line --partial 'TLS: none'
	local tls greeting
	tls=$(grep -n '^TLS: ' <<<"$output" | cut -d: -f1)
	greeting=$(grep -n '^greeting: 220 ' <<<"$output" | cut -d: -f1)
	[[ -n $tls && -n $greeting && $tls -lt $greeting ]] || fail "order: $output"
	assert_equal "$(transcript)" $'EHLO client.example.org\nQUIT'
}

@test "--serverinfo with tls = off: capabilities, no TLS, and never AUTH" {
	fake_start --auth-mechs PLAIN --user u@example.org --password pw
	mo_config user=u@example.org password=pw allow_plaintext_auth=on
	run mo --serverinfo
	assert_success
	assert_line "relay: 127.0.0.1 port $FAKE_PORT, tls = off"
	assert_line 'greeting: 220 localhost ESMTP fakesmtp'
	assert_line --regexp '^capabilities: AUTH PLAIN, SIZE'
	assert_line 'TLS: none (tls = off)'
	assert_equal "$(fake_transcript | tr -d '\r')" $'EHLO client.example.org\nQUIT'
}

@test "--serverinfo with tls = opportunistic and no STARTTLS offered: says so, succeeds" {
	tls_fake server --no-starttls-cap
	tls_config tls=opportunistic
	run mo --serverinfo
	assert_success
	assert_line --regexp '^capabilities: SIZE'
	assert_line 'TLS: none (tls = opportunistic, STARTTLS not offered)'
	assert_equal "$(transcript)" $'EHLO client.example.org\nQUIT'
}

@test "--serverinfo with tls = starttls and no STARTTLS offered: capabilities, then 69" {
	tls_fake server --no-starttls-cap
	tls_config
	run mo --serverinfo
	assert_failure 69
	assert_line --regexp '^capabilities: SIZE'
	assert_line 'TLS: none: the server does not offer STARTTLS'
	assert_line --regexp "^mailout: relay localhost port $FAKE_PORT: the server does not offer STARTTLS, and account t requires it \\(tls = starttls\\)"
	assert_equal "$(transcript)" $'EHLO client.example.org\nQUIT'
}

@test "--serverinfo over STARTTLS to an untrusted server: chain and pin line, no QUIT" {
	tls_fake selfsigned
	tls_config
	run mo --serverinfo
	assert_failure 78
	assert_line --regexp '^capabilities before TLS: STARTTLS'
	assert_line --regexp '^certificate: FAILED: server certificate is self-signed'
	assert_line "  sha256:  $(fp "$CERTS/selfsigned.pem")"
	assert_line "tls_fingerprint = sha256:$(fp "$CERTS/selfsigned.pem")"
	refute_line --regexp '^capabilities after TLS'
	assert_equal "$(plain_sent)" 'EHLO client.example.org\r\nSTARTTLS\r\n'
}

# ---------------------------------------------------------------- a real Postfix

@test "real Postfix: STARTTLS on submission with AUTH, delivered bytes checked" {
	mta_up
	local before
	before=$(mta_count)
	mo_config host=localhost "port=$MTA_SUBMISSION" tls=starttls "tls_ca_file=$CERTS/ca.pem" \
		"user=$MTA_USER" "password=$MTA_PASSWORD" queue=off
	chmod 600 "$CONF"
	run mo rcpt@example.net <<<$'Subject: postfix starttls\n\nline one\n.dot line\nlast\n'
	assert_success
	local n=$((before + 1))
	mta_wait "$n"
	run cat "$MTA_DIR/delivered/$n.eml"
	assert_line 'Subject: postfix starttls'
	assert_line 'From: sender@example.org'
	assert_line 'line one'
	assert_line '.dot line'
	assert_line 'last'
	run cat "$MTA_DIR/delivered/$n.env"
	assert_line 'from=sender@example.org'
	assert_line 'to=rcpt@example.net'
	assert_line "sasl_username=$MTA_USER"
	assert_line --regexp "^received=.*\\(using $TLSVER with cipher .*with ESMTPSA"
}

@test "real Postfix: implicit TLS (smtps) with AUTH, delivered bytes checked" {
	mta_up
	local before
	before=$(mta_count)
	mo_config host=localhost "port=$MTA_SMTPS" tls=implicit "tls_ca_file=$CERTS/ca.pem" \
		"user=$MTA_USER" "password=$MTA_PASSWORD" queue=off
	chmod 600 "$CONF"
	run mo rcpt@example.net <<<$'Subject: postfix smtps\n\nover implicit TLS\n'
	assert_success
	local n=$((before + 1))
	mta_wait "$n"
	run cat "$MTA_DIR/delivered/$n.eml"
	assert_line 'Subject: postfix smtps'
	assert_line 'over implicit TLS'
	run cat "$MTA_DIR/delivered/$n.env"
	assert_line 'to=rcpt@example.net'
	assert_line --regexp "^received=.*\\(using $TLSVER with cipher .*with ESMTPSA"
}

@test "real Postfix: --serverinfo over STARTTLS" {
	mta_up
	mo_config host=localhost "port=$MTA_SMTP" tls=starttls "tls_ca_file=$CERTS/ca.pem"
	run mo --serverinfo
	assert_success
	assert_line 'greeting: 220 realmta.test ESMTP Postfix (realmta)'
	assert_line --regexp '^capabilities before TLS: STARTTLS, SIZE 10240000'
	assert_line --regexp "^TLS: $TLSVER, "
	assert_line "certificate: ok, verified for localhost against $CERTS/ca.pem"
	assert_line "tls_fingerprint = sha256:$(fp "$CERTS/server.pem")"
	assert_line --regexp '^capabilities after TLS: AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256, '
	echo "$output" >"$BATS_FILE_TMPDIR/serverinfo-postfix.txt"
}

@test "real Postfix: a wrong host name is refused before AUTH" {
	mta_up
	mo_config host=127.0.0.1 "port=$MTA_SUBMISSION" tls=starttls "tls_ca_file=$CERTS/ca.pem" \
		tls_server_name=mail.example.com "user=$MTA_USER" "password=$MTA_PASSWORD" queue=off
	chmod 600 "$CONF"
	run mo rcpt@example.net <<<"$MSG"
	assert_failure 78
	assert_output "mailout: relay 127.0.0.1 port $MTA_SUBMISSION: server certificate does not match the name mail.example.com: it is for CN=localhost, DNS:localhost, DNS:127.0.0.1, IP:127.0.0.1, IP:::1; if this is the right server, set tls_server_name to one of those names"
}

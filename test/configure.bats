#!/usr/bin/env bats
# mailout --configure end to end: the non-interactive form and the terminal dialogue (a
# pseudo-terminal) against the fake relay with good, self-signed and wrong-name
# certificates; discovery (SRV, the domain's autoconfig file, the ISP database, MX) against
# a real DNS server (dnsmasq) and an HTTPS server, both on the loopback of a private
# network and mount namespace whose /etc/resolv.conf names that DNS server; the password
# kept in a real Secret Service (gnome-keyring); a file with comments and other accounts
# edited without losing a byte of them.

load lib/common

setup_file() {
	CERTS=$(certs_dir)
	export CERTS
}

setup() {
	T=$BATS_TEST_TMPDIR
	CONF=$T/sendmail.conf
	PW=$T/pw
	printf '%s\n' s3cret >"$PW"
	chmod 600 "$PW"
	# A file a person wrote: comments, blank lines, odd spacing, two accounts.
	cat >"$CONF" <<EOF
# mailout settings, kept by hand
[defaults]
account = home      ; the usual one
aliases = $(test_aliases)
queue = off

[home]
host   = mail.home.example   # my ISP
port = 587
tls = starttls

; an old one, kept for its from
[old]
host = smtp.old.example
from = me@old.example
EOF
	cp "$CONF" "$T/orig.conf"
}

teardown() {
	fake_stop
	if [[ -n ${IDP_PID:-} ]]; then kill "$IDP_PID" 2>/dev/null || true; wait "$IDP_PID" 2>/dev/null || true; fi
	stop_test_daemons
}

# relay [fakesmtp options]: the fake relay with the good certificate and AUTH PLAIN for
# me / s3cret.
relay() {
	fake_start --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
		--auth-mechs PLAIN --user me --password s3cret "$@"
}

# kept: the file as it was is, byte for byte, the start of the file now, and FILE.bak.
kept() {
	local n
	n=$(stat -c %s "$T/orig.conf")
	cmp <(head -c "$n" "$CONF") "$T/orig.conf" || fail "the old text was changed"
	cmp "$CONF.bak" "$T/orig.conf" || fail "no backup of the old file"
}

# section NAME: the lines of account NAME in $CONF, without the header.
section() {
	awk -v s="[$1]" '$0 == s { on = 1; next } /^\[/ { on = 0 } on && NF' "$CONF"
}

# fp FILE: a PEM certificate's SHA-256 fingerprint, "AB:CD:...".
fp() {
	openssl x509 -in "$1" -outform der | openssl dgst -sha256 -r | cut -c1-64 |
		tr a-f A-F | sed 's/../&:/g; s/:$//'
}

@test "non-interactive: implicit TLS, the test message, then the account after the others" {
	relay --implicit-tls
	run --separate-stderr "$MAILOUT" --configure me@example.org -C "$CONF" --host localhost \
		--port "$FAKE_PORT" --tls implicit --tls-ca-file "$CERTS/ca.pem" --user me \
		--password-file "$PW" --test-to rcpt@example.net --yes </dev/null
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	fake_env 1 | grep -q 'rcpt@example.net' || fail "$(fake_env 1)"
	kept
	assert_equal "$(section example.org)" "host = localhost
port = $FAKE_PORT
tls = implicit
tls_ca_file = $CERTS/ca.pem
user = me
password_file = $PW
from = me@example.org"
	[[ $output == *"Wrote account [example.org] to $CONF (the old file is kept as $CONF.bak)"* ]] ||
		fail "$output"
	# The account as written sends: what --dry-run shows is the relay and the sender.
	run "$MAILOUT" -C "$CONF" -a example.org --dry-run r@example.net <<<$'Subject: x\n\nx'
	assert_success
	assert_line "relay: localhost:$FAKE_PORT"
	assert_line "sender: <me@example.org>"
}

@test "a server that offers only STARTTLS is proposed with tls = starttls" {
	relay
	run --separate-stderr "$MAILOUT" --configure me@example.org -C "$CONF" --host localhost \
		--port "$FAKE_PORT" --tls-ca-file "$CERTS/ca.pem" --user me --password-file "$PW" \
		--yes </dev/null
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	kept
	section example.org | grep -qx 'tls = starttls' || fail "$(cat "$CONF")"
	[[ $output == *"Proposed: localhost port $FAKE_PORT, STARTTLS"* ]] || fail "$output"
}

@test "an existing account's server keys are replaced in place, every other line kept" {
	relay --implicit-tls
	run --separate-stderr "$MAILOUT" --configure me@old.example -a old -C "$CONF" \
		--host localhost --port "$FAKE_PORT" --tls implicit --tls-ca-file "$CERTS/ca.pem" \
		--user me --password-file "$PW" --yes </dev/null
	assert_equal "$status" 0
	cmp "$CONF.bak" "$T/orig.conf" || fail "no backup"
	# Everything before [old] is as it was; the comment above [old] too.
	head -n 13 "$CONF" | cmp - <(head -n 13 "$T/orig.conf") || fail "$(cat "$CONF")"
	section old | grep -qx "host = localhost" || fail "$(cat "$CONF")"
	if grep -q smtp.old.example "$CONF"; then fail "the old host is still there"; fi
	assert_equal "$(grep -c '^\[old\]' "$CONF")" 1
}

@test "a reconfigured account loses its old app grant's keys and keeps its sending limits" {
	relay --implicit-tls
	printf '%s\n' app-secret >"$T/client.secret"
	chmod 600 "$T/client.secret"
	cat >>"$CONF" <<EOF

[app]
host = smtp.office365.com
port = 587
user = me@app.example
oauth = microsoft
oauth_grant = client_credentials
oauth_tenant = 0123-tenant
oauth_client_id = app-client
oauth_client_secret_file = $T/client.secret
send_limits = off
max_messages_per_minute = 7
max_recipients_per_day = 99
from = me@app.example
EOF
	run --separate-stderr "$MAILOUT" --configure me@app.example -a app -C "$CONF" \
		--host localhost --port "$FAKE_PORT" --tls implicit --tls-ca-file "$CERTS/ca.pem" \
		--user me --password-file "$PW" --yes </dev/null
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	# Sign-in is --configure's: a password now, so nothing of the app grant stays behind
	# (oauth_grant without oauth would not even load). Sending limits are the person's.
	assert_equal "$(section app)" "host = localhost
port = $FAKE_PORT
user = me
send_limits = off
max_messages_per_minute = 7
max_recipients_per_day = 99
from = me@app.example
tls = implicit
tls_ca_file = $CERTS/ca.pem
password_file = $PW"
	run "$MAILOUT" -C "$CONF" -a app --dry-run r@example.net <<<$'Subject: x\n\nx'
	assert_success
	assert_line "relay: localhost:$FAKE_PORT"
}

@test "a test message that fails writes nothing; exit code of the failure" {
	relay --implicit-tls --reply 'rcpt=550 5.1.1 no such user'
	run --separate-stderr "$MAILOUT" --configure me@example.org -C "$CONF" --host localhost \
		--port "$FAKE_PORT" --tls implicit --tls-ca-file "$CERTS/ca.pem" --user me \
		--password-file "$PW" --yes </dev/null
	assert_equal "$status" 67
	[[ $stderr == *"the test message was not delivered, so nothing was written"* ]] ||
		fail "$stderr"
	cmp "$CONF" "$T/orig.conf"
	[[ ! -e $CONF.bak ]]
}

@test "without a terminal and without --yes nothing is asked: usage error" {
	run --separate-stderr "$MAILOUT" --configure me@example.org -C "$CONF" </dev/null
	assert_equal "$status" 64
	[[ $stderr == *"standard input is not a terminal"*"--yes"* ]] || fail "$stderr"
	cmp "$CONF" "$T/orig.conf"
}

@test "a relative --tls-ca-file or --password-file is refused before anything is tried" {
	run --separate-stderr "$MAILOUT" --configure me@example.org -C "$CONF" --host localhost \
		--tls-ca-file certs/ca.pem --yes </dev/null
	assert_equal "$status" 64
	[[ $stderr == *"--tls-ca-file certs/ca.pem: give the file's absolute name"* ]] ||
		fail "$stderr"
	run --separate-stderr "$MAILOUT" --configure me@example.org -C "$CONF" --host localhost \
		--password-file pw --yes </dev/null
	assert_equal "$status" 64
	cmp "$CONF" "$T/orig.conf"
}

@test "a self-signed certificate: its problem and fingerprint shown, pinned only when asked" {
	fake_start --tls-cert "$CERTS/selfsigned.pem" --tls-key "$CERTS/selfsigned.key" \
		--implicit-tls --auth-mechs PLAIN --user me --password s3cret
	local f
	f=sha256:$(fp "$CERTS/selfsigned.pem")
	run --separate-stderr "$MAILOUT" --configure me@example.org -C "$CONF" --host localhost \
		--port "$FAKE_PORT" --tls implicit --user me --password-file "$PW" --yes </dev/null
	assert_equal "$status" 78
	[[ "$output$stderr" == *"$f"* ]] || fail "no fingerprint: $output $stderr"
	[[ "$output$stderr" == *--tls-fingerprint* ]] || fail "pinning not offered: $stderr"
	cmp "$CONF" "$T/orig.conf"
	assert_equal "$(fake_count)" 0
	run --separate-stderr "$MAILOUT" --configure me@example.org -C "$CONF" --host localhost \
		--port "$FAKE_PORT" --tls implicit --user me --password-file "$PW" \
		--tls-fingerprint "$f" --yes </dev/null
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	section example.org | grep -qx "tls_fingerprint = $f" || fail "$(cat "$CONF")"
}

@test "a --tls-fingerprint that is not one is refused before any connection" {
	fake_start --tls-cert "$CERTS/selfsigned.pem" --tls-key "$CERTS/selfsigned.key" \
		--implicit-tls --auth-mechs PLAIN --user me --password s3cret
	run --separate-stderr "$MAILOUT" --configure me@example.org -C "$CONF" --host localhost \
		--port "$FAKE_PORT" --tls implicit --user me --password-file "$PW" \
		--tls-fingerprint "$(fp "$CERTS/selfsigned.pem")" --yes </dev/null
	assert_equal "$status" 64
	[[ $stderr == *"is not a certificate fingerprint: give sha256: and 64 hex digits"* ]] ||
		fail "$stderr"
	[[ ! -s $FAKE_DIR/events ]] || fail "the relay was probed: $(fake_events)"
	cmp "$CONF" "$T/orig.conf"
}

# in_session SCRIPT: sh -c SCRIPT in a private D-Bus session with an unlocked
# gnome-keyring (as keyring.bats does); fd 3 closed so the daemons do not hold bats' output.
in_session() {
	export HOME=$T/home XDG_RUNTIME_DIR=$T/run
	mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
	chmod 700 "$XDG_RUNTIME_DIR"
	printf '#!/bin/sh\nexec dbus-daemon "$@" 2>/dev/null\n' >"$T/dbus-daemon"
	chmod +x "$T/dbus-daemon"
	dbus-run-session --dbus-daemon="$T/dbus-daemon" -- sh -c 'printf %s pw |
		gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; '"$1" 3>&-
}

@test "the terminal dialogue: asked, password not echoed, kept in the Secret Service" {
	[[ $("$MAILOUT" --version) != *keyring=none* ]] || skip "built with KEYRING=none"
	relay --implicit-tls
	export MAILOUT CONF CERTS FAKE_PORT T
	export DRIVE=$BATS_TEST_DIRNAME/lib/pty_dialogue.py
	run in_session '
		/usr/bin/python3 "$DRIVE" "$T/transcript" \
			"Email address: $" me@example.org \
			"default account.*: $" y \
			"Use it\?.*: $" "" \
			"User name \[me@example.org\]: $" me \
			"\(not shown\): $" s3cret \
			"Send a test message to \[me@example.org\]: $" rcpt@example.net \
			-- "$MAILOUT" --configure -C "$CONF" --host localhost --port "$FAKE_PORT" \
			--tls implicit --tls-ca-file "$CERTS/ca.pem"
		echo "exit=$?"
		secret-tool lookup host localhost service smtp user me; echo
		printf "Subject: x\n\nx\n" | "$MAILOUT" -C "$CONF" rcpt2@example.net
		echo "send=$?"'
	assert_success
	assert_line "exit=0"
	assert_line "s3cret"
	assert_line "send=0"
	if grep -q s3cret "$T/transcript"; then fail "echoed: $(cat "$T/transcript")"; fi
	grep -q '^Password for me at localhost (not shown): $' "$T/transcript" ||
		fail "$(cat "$T/transcript")"
	assert_equal "$(fake_count)" 2
	# Made the default: that one line of [defaults] changed, every other byte is kept.
	cmp "$CONF.bak" "$T/orig.conf" || fail "no backup"
	diff "$T/orig.conf" <(head -n "$(wc -l <"$T/orig.conf")" "$CONF") | grep '^[<>]' >"$T/d" || true
	assert_equal "$(cat "$T/d")" "< account = home      ; the usual one
> account = example.org      ; the usual one"
	if grep -q password "$CONF"; then fail "a password setting with a keyring: $(cat "$CONF")"; fi
}

# ---- discovery, in a private network and mount namespace ----

# ns_run SCRIPT: bash SCRIPT in a private network and mount namespace: loopback up,
# /etc/resolv.conf (bind-mounted, the machine's is untouched) naming dnsmasq on
# 127.0.0.1 with the options in $T/dnsmasq.args (one a line); in SCRIPT, smtp PORT CERT
# [fakesmtp options] starts a fake relay on PORT in $T/smtp-PORT and https starts the
# HTTPS server (autoconfig files from $T/www, the certificate $T/web.pem) on 443.
# Whatever was started is stopped when SCRIPT ends.
ns_run() {
	echo "nameserver 127.0.0.1" >"$T/resolv.conf"
	cat >"$T/ns.sh" <<EOF
set -u
T=$T
ip link set lo up
mount --bind "\$T/resolv.conf" /etc/resolv.conf
pids=()
stop() {
	kill "\${pids[@]}" \$(cat "\$T/dnsmasq.pid" 2>/dev/null) 2>/dev/null
	wait 2>/dev/null
}
trap stop EXIT
mapfile -t dargs <"\$T/dnsmasq.args"
dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --user=root --group=root \
	--listen-address=127.0.0.1 --bind-interfaces --pid-file="\$T/dnsmasq.pid" \
	--log-facility="\$T/dnsmasq.log" --log-queries "\${dargs[@]}" || exit 90
waitfor() {
	local i
	for ((i = 0; i < 300; i++)); do [[ -s \$1 ]] && return 0; sleep 0.05; done
	echo "ns_run: \$1 did not come" >&2; exit 91
}
smtp() {
	local port=\$1 cert=\$2; shift 2
	[[ \$cert == /* ]] || cert=$CERTS/\$cert
	mkdir -p "\$T/smtp-\$port"
	python3 "$FAKESMTP_PY" --dir "\$T/smtp-\$port" --port "\$port" \
		--port-file "\$T/smtp-\$port/port" --lifetime 60 --tls-cert "\$cert.pem" \
		--tls-key "\$cert.key" --auth-mechs PLAIN --user me --password s3cret "\$@" \
		</dev/null >>"\$T/smtp-\$port/out" 2>&1 &
	pids+=(\$!)
	waitfor "\$T/smtp-\$port/port"
}
https() {
	python3 "$BATS_TEST_DIRNAME/lib/https_serve.py" "\$T/www" "\$T/web.pem" "\$T/web.key" \
		"\$T/https.port" 2>>"\$T/https.log" &
	pids+=(\$!)
	waitfor "\$T/https.port"
}
EOF
	printf '%s\n' "$1" >>"$T/ns.sh"
	unshare -n -m bash "$T/ns.sh" 3>&-
}

# web_cert NAME...: $T/web.pem, for NAME..., signed by the test CA.
web_cert() {
	local san="" n
	for n in "$@"; do san="${san:+$san,}DNS:$n"; done
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/web.key" -subj "/CN=$1" -out "$T/web.csr" 2>/dev/null
	printf 'subjectAltName=%s\n' "$san" >"$T/web.ext"
	openssl x509 -req -in "$T/web.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" \
		-CAcreateserial -days 2 -extfile "$T/web.ext" -out "$T/web.pem" 2>/dev/null
}

# autoconfig_xml HOST PORT SOCKETTYPE: a config-v1.1.xml as providers publish it.
autoconfig_xml() {
	cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example">
    <displayName>Example Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.example</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>$1</hostname>
      <port>$2</port>
      <socketType>$3</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
EOF
}

# configure_ns ADDRESS [options]: the --configure line the discovery tests run in SCRIPT.
CFG_NS='"$MAILOUT" --configure "$ADDR" -C "$CONF" --tls-ca-file "$CERTS/ca.pem" \
	--password-file "$PW" --yes </dev/null'

@test "discovery by the built-in table: Fastmail, its note, implicit TLS first" {
	printf '%s\n' --address=/smtp.fastmail.com/127.0.0.1 >"$T/dnsmasq.args"
	web_cert smtp.fastmail.com
	export MAILOUT CONF CERTS PW ADDR=me@fastmail.com
	run --separate-stderr ns_run "smtp 465 $T/web --implicit-tls --user $ADDR; smtp 587 $T/web --user $ADDR; $CFG_NS"
	assert_equal "$status" 0
	[[ $output == *"built-in table: Fastmail"* ]] || fail "$output"
	[[ $output == *"app password"* ]] || fail "no provider note: $output"
	[[ $output == *"Proposed: smtp.fastmail.com port 465, implicit TLS"* ]] || fail "$output"
	section fastmail.com | grep -qx 'host = smtp.fastmail.com' || fail "$(cat "$CONF")"
	ls "$T"/smtp-465/msg-1.eml
	if grep -q SRV "$T/dnsmasq.log"; then fail "SRV asked after the table answered"; fi
}

@test "Proton Mail Bridge: 127.0.0.1:1025, its own certificate shown to be pinned" {
	: >"$T/dnsmasq.args"
	export MAILOUT CONF CERTS PW ADDR=me@proton.me
	run --separate-stderr ns_run "smtp 1025 selfsigned --user $ADDR; $CFG_NS"
	assert_equal "$status" 78
	[[ $output == *"Proton Mail Bridge"* ]] || fail "$output"
	[[ $stderr == *"--tls-fingerprint sha256:$(fp "$CERTS/selfsigned.pem")"* ]] || fail "$stderr"
	cmp "$CONF" "$T/orig.conf"
}

@test "discovery by SRV: _submissions (implicit TLS, 465) preferred to _submission (587)" {
	printf '%s\n' --srv-host=_submissions._tcp.srv.test,localhost,465 \
		--srv-host=_submission._tcp.srv.test,localhost,587 >"$T/dnsmasq.args"
	export MAILOUT CONF CERTS PW ADDR=me@srv.test
	run --separate-stderr ns_run "smtp 465 server --implicit-tls --user $ADDR; smtp 587 server --user $ADDR; $CFG_NS"
	assert_equal "$status" 0
	[[ $output == *"SRV _submissions._tcp.srv.test: localhost port 465"* ]] || fail "$output"
	[[ $output == *"Proposed: localhost port 465, implicit TLS"* ]] || fail "$output"
	section srv.test | grep -qx 'port = 465' || fail "$(cat "$CONF")"
	section srv.test | grep -qx 'tls = implicit' || fail "$(cat "$CONF")"
	grep -q '_submissions._tcp.srv.test' "$T/dnsmasq.log" || fail "dnsmasq was not asked"
	ls "$T"/smtp-465/msg-1.eml
	kept
}

@test "discovery by SRV: a domain that offers only STARTTLS on 587" {
	printf '%s\n' --srv-host=_submission._tcp.starttls.test,localhost,587 >"$T/dnsmasq.args"
	export MAILOUT CONF CERTS PW ADDR=me@starttls.test
	run --separate-stderr ns_run "smtp 587 server --user $ADDR; $CFG_NS"
	assert_equal "$status" 0
	[[ $output == *"Proposed: localhost port 587, STARTTLS"* ]] || fail "$output"
	section starttls.test | grep -qx 'tls = starttls' || fail "$(cat "$CONF")"
	ls "$T"/smtp-587/msg-1.eml
}

@test "discovery by SRV: a wrong-name certificate is shown, not accepted with --yes" {
	printf '%s\n' --srv-host=_submissions._tcp.wrong.test,localhost,465 >"$T/dnsmasq.args"
	export MAILOUT CONF CERTS PW ADDR=me@wrong.test
	run --separate-stderr ns_run "smtp 465 wronghost --implicit-tls; $CFG_NS"
	assert_equal "$status" 78
	[[ $output$stderr == *"$(fp "$CERTS/wronghost.pem")"* ]] || fail "$output $stderr"
	cmp "$CONF" "$T/orig.conf"
}

@test "discovery by the domain's autoconfig file over HTTPS" {
	printf '%s\n' --address=/autoconfig.auto.test/127.0.0.1 >"$T/dnsmasq.args"
	mkdir -p "$T/www/mail"
	autoconfig_xml localhost 465 SSL >"$T/www/mail/config-v1.1.xml"
	web_cert autoconfig.auto.test
	export MAILOUT CONF CERTS PW ADDR=jo@auto.test
	run --separate-stderr ns_run "https; smtp 465 server --implicit-tls --user jo; $CFG_NS"
	assert_equal "$status" 0
	[[ $output == *"autoconfig"*"localhost port 465"* ]] || fail "$output"
	grep -q 'GET /mail/config-v1.1.xml?emailaddress=jo%40auto.test' "$T/https.log" ||
		fail "$(cat "$T/https.log")"
	section auto.test | grep -qx 'user = jo' || fail "$(cat "$CONF")"
	ls "$T"/smtp-465/msg-1.eml
}

@test "discovery by the ISP database (its URL from the test build's hook)" {
	use_test_build
	: >"$T/dnsmasq.args"
	mkdir -p "$T/www/v1.1"
	autoconfig_xml localhost 587 STARTTLS >"$T/www/v1.1/isp.test"
	web_cert localhost
	export MAILOUT CONF CERTS PW ADDR=me@isp.test
	export MAILOUT_TEST_ISPDB=https://localhost/v1.1/
	run --separate-stderr ns_run "https; smtp 587 server; $CFG_NS"
	assert_equal "$status" 0
	[[ $output == *"ISP database"*"localhost port 587"* ]] || fail "$output"
	grep -q 'GET /v1.1/isp.test' "$T/https.log" || fail "$(cat "$T/https.log")"
	section isp.test | grep -qx 'tls = starttls' || fail "$(cat "$CONF")"
}

@test "discovery by MX: a domain whose MX is Google's is a Google Workspace domain" {
	printf '%s\n' --mx-host=tenant.test,aspmx.l.google.com,1 >"$T/dnsmasq.args"
	export MAILOUT CONF CERTS PW ADDR=me@tenant.test
	run --separate-stderr ns_run "$CFG_NS"
	[[ $output == *"MX tenant.test: aspmx.l.google.com, so the domain is hosted by Google"* ]] ||
		fail "$output $stderr"
	[[ $output == *smtp.gmail.com* ]] || fail "$output"
	assert_equal "$status" 68
	cmp "$CONF" "$T/orig.conf"
}

# ---- OAuth2 ----

@test "OAuth2 (Google semantics, device flow): authorized, tested, then written" {
	local idp=$T/idp tok=$T/state/tokens.json
	mkdir -p "$idp"
	python3 "$BATS_TEST_DIRNAME/fakeidp.py" --dir "$idp" --port-file "$idp/port" \
		--cert "$CERTS/server.pem" --key "$CERTS/server.key" --lifetime 60 \
		--client-secret cs3cret --device-auto 1 </dev/null >>"$idp/out" 2>&1 3>&- &
	IDP_PID=$!
	local i
	for ((i = 0; i < 500; i++)); do [[ -s $idp/port ]] && break; sleep 0.01; done
	local url=https://localhost:$(<"$idp/port")
	fake_start --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
		--auth-after-tls --require-auth --auth-mechs "XOAUTH2 OAUTHBEARER" \
		--user joe@example.com --oauth-token-file "$idp/access_tokens"
	# A literal client secret is refused in a file others can read, as a password is.
	chmod 644 "$CONF"
	cfg_oauth() {
		run --separate-stderr "$MAILOUT" --configure joe@example.com -C "$CONF" \
			--host localhost --port "$FAKE_PORT" --tls starttls \
			--tls-ca-file "$CERTS/ca.pem" --oauth google --device \
			--set oauth_client_id=client-1 --set oauth_client_secret=cs3cret \
			--set "oauth_token_url=$url/token" --set "oauth_device_url=$url/device" \
			--set "oauth_token_file=$tok" --test-to rcpt@example.net --yes </dev/null
	}
	cfg_oauth
	assert_equal "$status" 78
	[[ $stderr == *"$CONF: [example.com] oauth_client_secret: the file can be read by other users (mode 0644); run chmod 600 $CONF"* ]] ||
		fail "$stderr"
	cmp "$CONF" "$T/orig.conf"
	[[ ! -e $tok ]] || fail "tokens stored before the refusal"
	chmod 600 "$CONF"
	cfg_oauth
	[[ $status -eq 0 ]] || fail "$status $output $stderr"
	[[ $output == *"enter the code "* ]] || fail "$output"
	assert_equal "$(fake_count)" 1
	[[ -s $tok ]] || fail "no token file"
	kept
	section example.com | grep -qx 'oauth = google' || fail "$(cat "$CONF")"
	section example.com | grep -qx "oauth_token_file = $tok" || fail "$(cat "$CONF")"
	if section example.com | grep -q '^password'; then fail "$(cat "$CONF")"; fi
	# The account as written sends with the stored tokens.
	run "$MAILOUT" -C "$CONF" -a example.com rcpt2@example.net <<<$'Subject: x\n\nx'
	assert_success
	assert_equal "$(fake_count)" 2
}

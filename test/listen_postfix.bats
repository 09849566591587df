#!/usr/bin/env bats
# mailout -bd as a real Postfix's relayhost: the private Postfix 3.7 of test/lib/realmta.sh
# relays everything to [127.0.0.1]:LPORT, logging in with its Cyrus SASL client
# (smtp_sasl_auth_enable, the password in an inline: sasl_passwd map), from its own source
# address 127.0.0.2 (smtp_bind_address); the listener takes it only from that address AND
# with that login, and passes the message on to the fake relay through the account "t".
# Loopback only; every daemon is stopped in teardown.

bats_require_minimum_version 1.5.0
load lib/common
load lib/listen
load lib/realmta

teardown() {
	[[ -z ${REALMTA_DIR:-} ]] || realmta_stop "$REALMTA_DIR" 2>/dev/null || true
	listen_stop
	fake_stop
}

@test "a real Postfix with the listener as its relayhost (SASL login, allow_from): the message reaches the relay" {
	fake_start
	mo_config
	users_file "postfix-relay:$Y_PW"
	listen_config auth=required users_file="$USERS" allow_from=127.0.0.2/32
	listen_start
	# Postfix's SMTP client sends PLAIN or LOGIN without TLS only when plaintext is
	# allowed (smtp_sasl_security_options): the listener offers AUTH in clear on loopback.
	realmta_start "$BATS_TEST_TMPDIR/realmta" \
		--postconf "relayhost = [127.0.0.1]:$LPORT" \
		--postconf 'transport_maps =' \
		--postconf 'default_transport = smtp' \
		--postconf 'relay_transport = smtp' \
		--postconf 'smtp_bind_address = 127.0.0.2' \
		--postconf 'smtp_tls_security_level = none' \
		--postconf 'smtp_sasl_auth_enable = yes' \
		--postconf 'smtp_sasl_security_options = noanonymous' \
		--postconf "smtp_sasl_password_maps = inline:{ [127.0.0.1]:$LPORT=postfix-relay:pw }" \
		2>"$BATS_TEST_TMPDIR/realmta.out"
	# Into Postfix's smtpd (127.0.0.0/8 may relay), which answers 250 once queued.
	run python3 "$BATS_TEST_DIRNAME/lib/smtpc.py" --port "$REALMTA_SMTP_PORT" send \
		--subject 'via postfix'
	assert_output '250'
	# Postfix's qmgr hands it to smtp(8) at once: 15 s at most.
	end=$((SECONDS + 15))
	while [[ $(fake_count) -lt 1 && $SECONDS -lt $end ]]; do sleep 0.1; done
	assert_equal "$(fake_count)" 1
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<printer@example.org>'
	assert_line --index 1 'RCPT TO:<boss@example.net>'
	# The message went through Postfix: its smtpd's Received: header is in it.
	run fake_msg 1
	assert_output --partial 'Subject: via postfix'
	assert_output --regexp 'by realmta\.test \(Postfix\) with ESMTP'
	# The listener's line names the client (Postfix's address) and its login.
	run grep -c "listen: client 127.0.0.2 user postfix-relay: from=<printer@example.org> rcpts=1: 250 2.0.0 Ok: delivered" "$LOG"
	assert_output 1
	run grep -c 'listen: client 127.0.0.2: logged in as postfix-relay' "$LOG"
	assert_output 1
	# Postfix's side: sent to the listener, with its 250.
	end=$((SECONDS + 5))
	while ! grep -q 'status=sent' "$REALMTA_DIR/maillog" && [[ $SECONDS -lt $end ]]; do
		sleep 0.1
	done
	run grep -E "relay=127\.0\.0\.1\[127\.0\.0\.1\]:$LPORT, .*status=sent \(250 2\.0\.0 Ok: delivered" \
		"$REALMTA_DIR/maillog"
	assert_success
}

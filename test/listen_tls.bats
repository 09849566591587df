#!/usr/bin/env bats
# mailout -bd with TLS: STARTTLS on the listener (openssl s_client, smtplib, swaks), AUTH
# after it. test/run runs this file against the mbedTLS 3.6 build as well (TLS 1.3).

bats_require_minimum_version 1.5.0
load lib/common
load lib/listen

teardown() { listen_stop; fake_stop; }

@test "STARTTLS with openssl s_client: TLS 1.2 verified against the CA, EHLO again, 1.1 refused" {
	mo_config
	listen_certs
	listen_config tls_cert_file="$CERT" tls_key_file="$KEY"
	listen_start
	run smtpc raw "$(hexlines 'EHLO d.test' 'QUIT')"
	assert_line '250-STARTTLS'
	run bash -c "printf 'EHLO tls.test\nQUIT\n' | timeout 20 openssl s_client -starttls smtp \
		-connect 127.0.0.1:$LPORT -crlf -ign_eof -tls1_2 -CAfile '$CA' -verify_return_error 2>&1"
	assert_line --regexp 'Protocol *: TLSv1\.2'
	assert_line --partial 'Verify return code: 0 (ok)'
	assert_line --regexp '^250-.* Hello tls\.test'
	refute_line '250-STARTTLS'
	assert_line --regexp '^221 '
	run bash -c "printf 'QUIT\n' | timeout 20 openssl s_client -starttls smtp \
		-connect 127.0.0.1:$LPORT -crlf -tls1_1 -CAfile '$CA' 2>&1"
	assert_output --partial 'alert protocol version'
	assert_line --partial 'Cipher is (NONE)'
	refute_line --regexp '^221 '
}

@test "STARTTLS then AUTH then a message, from smtplib" {
	fake_start
	mo_config
	listen_certs
	users_file "printer:$Y_PW"
	listen_config tls_cert_file="$CERT" tls_key_file="$KEY" auth=required users_file="$USERS"
	listen_start
	run smtpc send --starttls "$CA" --user printer --password pw
	assert_output '250'
	assert_equal "$(fake_count)" 1
}

@test "STARTTLS: commands pipelined behind it are refused, never read as encrypted" {
	mo_config
	listen_certs
	listen_config tls_cert_file="$CERT" tls_key_file="$KEY"
	listen_start
	run smtpc raw "$(hexlines 'EHLO d.test' 'STARTTLS' 'MAIL FROM:<x@example.org>')"
	assert_line --regexp '^554 5\.5\.1 .*pipelined after STARTTLS'
	refute_line --regexp '^220 2\.0\.0'
}

@test "STARTTLS: the best version the library has (TLS 1.3 on mbedTLS 3, 1.2 on 2.28)" {
	mo_config
	listen_certs
	listen_config tls_cert_file="$CERT" tls_key_file="$KEY"
	listen_start
	best=1.2
	if "$MAILOUT" --version | grep -q '^tls: .*1\.3)$'; then best=1.3; fi
	run bash -c "printf 'QUIT\n' | timeout 20 openssl s_client -starttls smtp \
		-connect 127.0.0.1:$LPORT -crlf -ign_eof -CAfile '$CA' -verify_return_error 2>&1"
	assert_line --regexp "^New, TLSv${best/./\\.}, Cipher is "
	assert_line --regexp '^221 '
}

@test "a TLS key the listener's user cannot read: refuses to start, says so" {
	mo_config
	listen_certs
	chmod 600 "$KEY"
	if [[ $(id -u) != 0 ]]; then chmod 000 "$KEY"; fi
	listen_config tls_cert_file="$CERT" tls_key_file="$KEY"
	run -78 "$MAILOUT" -C "$CONF" -bd
	assert_output --partial "tls_key_file $KEY: Permission denied (both must be readable"
}

@test "swaks: STARTTLS, AUTH LOGIN and a message through the listener" {
	fake_start
	mo_config
	listen_certs
	users_file "printer:$Y_PW"
	listen_config tls_cert_file="$CERT" tls_key_file="$KEY" auth=required users_file="$USERS"
	listen_start
	run swaks --server 127.0.0.1 --port "$LPORT" --from scan@example.org --to boss@example.net \
		--tls --tls-verify --tls-ca-path "$CA" --auth LOGIN --auth-user printer \
		--auth-password pw --header 'Subject: from swaks' --timeout 20
	assert_success
	assert_line --regexp '^ *<~ *235 2\.7\.0 Authentication successful'
	assert_line --regexp '^ *<~ *250 2\.0\.0 Ok: delivered'
	assert_equal "$(fake_count)" 1
	run fake_msg 1
	assert_output --partial 'Subject: from swaks'
}

#!/usr/bin/env bats
# App-only OAuth2 (issue 15): the client credentials grant with a client secret file and
# with a certificate (private_key_jwt), and a Google service account's JWT bearer grant,
# against the mock provider (test/fakeidp.py run by /usr/bin/python3, which checks the
# assertions' signatures, x5t#S256, kid, aud, iss, sub, scope and times); the fake relay
# takes only the tokens the provider issued. Refusals that need a person (a wrong secret,
# a certificate no longer registered, a clock too far off, a key file others can read)
# hold the message with the fix named. The keys are made in setup_file, never committed.

bats_require_minimum_version 1.5.0

setup_file() {
	local d=$BATS_FILE_TMPDIR/keys
	mkdir -p "$d"
	# The app registration's certificate, another one (no longer registered), and the
	# service account's key (PKCS#8, as Google hands it out) with its certificate.
	for n in app other sa; do
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/$n.key" -out "$d/$n.pem" \
			-days 2 -subj "/CN=mailout-test-$n" 2>/dev/null
		chmod 600 "$d/$n.key"
	done
	/usr/bin/python3 - "$d" <<'PY'
import json, sys
d = sys.argv[1]
json.dump({'type': 'service_account', 'project_id': 'proj',
           'private_key_id': 'kid-1', 'private_key': open(d + '/sa.key').read(),
           'client_email': 'mailer@proj.iam.gserviceaccount.com', 'client_id': '1234567890',
           'auth_uri': 'https://accounts.google.com/o/oauth2/auth',
           'token_uri': 'TOKEN_URI'}, open(d + '/sa.template', 'w'), indent=2)
PY
}

setup() {
	load lib/common
	load lib/idp
	CERTS=$(certs_dir)
	KEYS=$BATS_FILE_TMPDIR/keys
	MSG=$BATS_TEST_TMPDIR/msg
	printf 'Subject: app oauth test\n\nbody\n' >"$MSG"
	IDP_DIR=$BATS_TEST_TMPDIR/idp
	TOK=$BATS_TEST_TMPDIR/state/token.json
	SECRET=$BATS_TEST_TMPDIR/client-secret
	SA=$BATS_TEST_TMPDIR/sa.json
	IDP_PID=
}

teardown() {
	idp_stop
	fake_stop
}

# idp_start [fakeidp options]: the mock provider with the app registration (client-1,
# secret app-s3cret, certificate app.pem) and the service account (sa.pem, kid-1).
# relay_start and idp_stop: lib/idp.bash.
idp_start() {
	idp_launch /usr/bin/python3 --lifetime 60 --client-id client-1 --app-secret app-s3cret \
		--client-cert "$KEYS/app.pem" --sa-cert "$KEYS/sa.pem" --sa-key-id kid-1 \
		--sa-email mailer@proj.iam.gserviceaccount.com --sa-sub joe@example.com "$@"
}

# Microsoft 365 app-only with a client secret file (the default) or other keys.
msconfig() {
	mo_config tls=starttls "tls_ca_file=$CERTS/ca.pem" oauth=microsoft \
		oauth_tenant=contoso.example user=joe@example.com oauth_client_id=client-1 \
		oauth_grant=client_credentials "oauth_token_url=$IDP/token" timeout=5 "$@"
}

secret_file() {
	printf '%s\n' "${1:-app-s3cret}" >"$SECRET"
	chmod 600 "$SECRET"
}

# The service account's JSON key, its token_uri the mock provider's.
sa_file() {
	sed "s|TOKEN_URI|$IDP/token|" "$KEYS/sa.template" >"$SA"
	chmod 600 "$SA"
}

gconfig() {
	mo_config tls=starttls "tls_ca_file=$CERTS/ca.pem" oauth=google user=joe@example.com \
		oauth_grant=jwt_bearer "oauth_service_account=$SA" timeout=5 "$@"
}

send() { run --separate-stderr mo "$@" rcpt@example.org <"$MSG"; }

nreq() {
	if [[ -e $IDP_DIR/requests.jsonl ]]; then
		grep -c "\"path\": \"$1\"" "$IDP_DIR/requests.jsonl" || true
	else
		echo 0
	fi
}

# req N EXPR: a Python expression on the provider's Nth recorded request (as r).
req() {
	python3 -c 'import json,sys
rs=[json.loads(l) for l in open(sys.argv[1])]
r=rs[int(sys.argv[2])-1]
print(eval(sys.argv[3]))' "$IDP_DIR/requests.jsonl" "$@"
}

# jwt N EXPR: on the Nth assertion the provider received (h: header, c: claims).
jwt() {
	python3 -c 'import json,sys
a=[json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2])-1]
h, c = a["header"], a["claims"]
print(eval(sys.argv[3]))' "$IDP_DIR/assertions.jsonl" "$@"
}

json() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

queued() { find "$QUEUE" -type f 2>/dev/null | grep -c . || true; }

@test "client_credentials with a secret file: Microsoft's scope, no refresh token, delivered" {
	idp_start
	relay_start
	secret_file
	msconfig "oauth_client_secret_file=$SECRET" "oauth_token_file=$TOK"
	send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	fake_transcript | tr -d '\r' | grep -q '^AUTH XOAUTH2 '
	assert_equal "$(nreq /token)" 1
	assert_equal "$(req 1 "r['form']['grant_type']")" client_credentials
	assert_equal "$(req 1 "r['form']['client_id']")" client-1
	assert_equal "$(req 1 "r['form']['client_secret']")" app-s3cret
	assert_equal "$(req 1 "r['form']['scope']")" https://outlook.office365.com/.default
	assert_equal "$(req 1 "'client_assertion' in r['form']")" False
	# The token file: an access token and its expiry, nothing to refresh with.
	assert_equal "$(json "$TOK" "sorted(j)")" "['access_token', 'expires_at']"
	grep -qx "$(json "$TOK" "j['access_token']")" "$IDP_DIR/access_tokens"
	# The next message takes the stored token: no second request.
	send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 2
	assert_equal "$(nreq /token)" 1
}

@test "client_credentials with a certificate: a private_key_jwt assertion, delivered" {
	idp_start
	relay_start
	msconfig "oauth_client_certificate=$KEYS/app.pem" "oauth_client_key=$KEYS/app.key"
	send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	assert_equal "$(req 1 "r['form']['grant_type']")" client_credentials
	assert_equal "$(req 1 "r['form']['client_assertion_type']")" \
		urn:ietf:params:oauth:client-assertion-type:jwt-bearer
	assert_equal "$(req 1 "'client_secret' in r['form']")" False
	# The provider verified the signature and x5t#S256; here is what was signed.
	local x5t
	x5t=$(openssl x509 -in "$KEYS/app.pem" -outform DER | openssl dgst -sha256 -binary |
		basenc --base64url | tr -d '=\n')
	assert_equal "$(jwt 1 "h['x5t#S256']")" "$x5t"
	assert_equal "$(jwt 1 "h['alg'], h['typ']")" "('RS256', 'JWT')"
	assert_equal "$(jwt 1 "c['aud']")" "$IDP/token"
	assert_equal "$(jwt 1 "c['iss'], c['sub']")" "('client-1', 'client-1')"
	assert_equal "$(jwt 1 "c['exp'] - c['iat'], c['nbf'] == c['iat'], len(c['jti'])")" \
		"(300, True, 43)"
}

@test "a Google service account: JWT bearer assertion for the user, token_uri from the key" {
	idp_start
	relay_start
	sa_file
	gconfig
	send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	fake_transcript | tr -d '\r' | grep -q '^AUTH OAUTHBEARER '
	assert_equal "$(req 1 "r['form']['grant_type']")" urn:ietf:params:oauth:grant-type:jwt-bearer
	assert_equal "$(req 1 "sorted(r['form'])")" "['assertion', 'grant_type']"
	assert_equal "$(jwt 1 "h['kid'], h['alg']")" "('kid-1', 'RS256')"
	assert_equal "$(jwt 1 "c['iss']")" mailer@proj.iam.gserviceaccount.com
	assert_equal "$(jwt 1 "c['sub'], c['scope']")" "('joe@example.com', 'https://mail.google.com/')"
	assert_equal "$(jwt 1 "c['aud']")" "$IDP/token"
}

@test "an expired cached token is replaced (the clock moved past it)" {
	# The provider accepts the moved clock's assertions: only expiry is tested here.
	idp_start --skew 7200
	relay_start
	msconfig "oauth_client_certificate=$KEYS/app.pem" "oauth_client_key=$KEYS/app.key" \
		"oauth_token_file=$TOK"
	use_test_build
	send
	assert_equal "$status" 0
	first=$(json "$TOK" "j['access_token']")
	# 3500 s on: 100 s left of the hour, under the 300 s margin.
	MAILOUT_NOW=$(($(date +%s) + 3500)) send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 2
	assert_equal "$(nreq /token)" 2
	[[ $(json "$TOK" "j['access_token']") != "$first" ]]
	# 1000 s on: plenty left, the stored token is used.
	MAILOUT_NOW=$(($(date +%s) + 1000)) send
	assert_equal "$status" 0
	assert_equal "$(nreq /token)" 2
}

@test "a token the relay refuses: one new grant, one more try, then held" {
	idp_start
	relay_start --oauth-token-file /dev/null
	secret_file
	msconfig "oauth_client_secret_file=$SECRET" "oauth_token_file=$TOK"
	send
	assert_equal "$status" 0
	assert_equal "$(nreq /token)" 2
	assert_equal "$(fake_transcript | tr -d '\r' | grep -c '^AUTH ')" 2
	[[ $stderr == *"message held (not sent)"* ]]
	assert_equal "$(fake_count)" 0
}

@test "a wrong client secret: held with the fix named; exit 78 with the queue off" {
	idp_start
	relay_start
	secret_file wrong
	msconfig "oauth_client_secret_file=$SECRET"
	send
	assert_equal "$status" 0
	[[ $stderr == *"refused the client_credentials grant (invalid_client: AADSTS7000215: Invalid client secret provided."* ]]
	[[ $stderr == *"check oauth_client_id, oauth_tenant and the client secret in oauth_client_secret_file $SECRET"* ]]
	[[ $stderr == *"message held (not sent)"* ]]
	assert_equal "$(fake_count)" 0
	run mo -bp
	assert_output --partial "rcpt@example.org"
	assert_equal "$(nreq /token)" 1
	msconfig "oauth_client_secret_file=$SECRET" queue=off
	send
	assert_equal "$status" 78
	[[ $stderr == *"AADSTS7000215"* ]]
}

@test "a certificate no longer registered (revoked): held, naming the certificate" {
	idp_start
	relay_start
	msconfig "oauth_client_certificate=$KEYS/other.pem" "oauth_client_key=$KEYS/other.key"
	send
	assert_equal "$status" 0
	[[ $stderr == *"invalid_client: AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application."* ]]
	[[ $stderr == *"check that the certificate oauth_client_certificate $KEYS/other.pem is uploaded to the app registration client-1"* ]]
	[[ $stderr == *"message held (not sent)"* ]]
	assert_equal "$(fake_count)" 0
}

@test "a clock skew over the provider's limit: held, the clock named, for both assertions" {
	idp_start
	relay_start
	use_test_build
	msconfig "oauth_client_certificate=$KEYS/app.pem" "oauth_client_key=$KEYS/app.key"
	MAILOUT_NOW=$(($(date +%s) + 1200)) send
	assert_equal "$status" 0
	[[ $stderr == *"AADSTS700024: Client assertion is not within its valid time range."* ]]
	[[ $stderr == *"and this computer's clock (it says "*" UTC)"* ]]
	[[ $stderr == *"message held (not sent)"* ]]
	sa_file
	gconfig queue=off
	MAILOUT_NOW=$(($(date +%s) - 1200)) send
	assert_equal "$status" 78
	[[ $stderr == *"invalid_grant: Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."* ]]
	[[ $stderr == *"and this computer's clock (it says "* ]]
	assert_equal "$(fake_count)" 0
}

@test "key files other users can read are refused before any request, with the chmod" {
	idp_start
	relay_start
	cp "$KEYS/app.key" "$BATS_TEST_TMPDIR/app.key"
	chmod 644 "$BATS_TEST_TMPDIR/app.key"
	msconfig "oauth_client_certificate=$KEYS/app.pem" \
		"oauth_client_key=$BATS_TEST_TMPDIR/app.key"
	send
	assert_equal "$status" 0
	[[ $stderr == *"oauth_client_key $BATS_TEST_TMPDIR/app.key can be read by every user (mode 0644): chmod 600 $BATS_TEST_TMPDIR/app.key"* ]]
	[[ $stderr == *"message held (not sent)"* ]]
	sa_file
	chmod 604 "$SA"
	gconfig queue=off
	send
	assert_equal "$status" 78
	[[ $stderr == *"oauth_service_account $SA can be read by every user (mode 0604): chmod 600 $SA"* ]]
	secret_file
	chmod 644 "$SECRET"
	msconfig "oauth_client_secret_file=$SECRET" queue=off
	send
	assert_equal "$status" 78
	[[ $stderr == *"oauth_client_secret_file $SECRET can be read by every user (mode 0644)"* ]]
	assert_equal "$(nreq /token)" 0
	assert_equal "$(fake_count)" 0
}

@test "the key must be the certificate's, and a service account file must be one" {
	idp_start
	relay_start
	msconfig "oauth_client_certificate=$KEYS/app.pem" "oauth_client_key=$KEYS/other.key" \
		queue=off
	send
	assert_equal "$status" 78
	[[ $stderr == *"oauth_client_key is not the private key of the certificate (oauth_client_certificate)"* ]]
	printf '{"type": "authorized_user"}\n' >"$SA"
	chmod 600 "$SA"
	gconfig queue=off
	send
	assert_equal "$status" 78
	[[ $stderr == *"oauth_service_account $SA is not a service account's JSON key"* ]]
	assert_equal "$(nreq /token)" 0
}

@test "--test shows each OAuth2 step for the three ways" {
	idp_start
	relay_start
	secret_file
	msconfig "oauth_client_secret_file=$SECRET" "oauth_token_file=$TOK"
	run --separate-stderr mo --test rcpt@example.org
	echo "$output" >"$BATS_TEST_TMPDIR/secret.txt"
	assert_equal "$status" 0
	[[ $output == *"oauth2     ok: grant client_credentials (client secret file), token endpoint $IDP/token"* ]]
	# An hour (a second may pass between getting it and saying so).
	[[ $output == *"token      ok: obtained from the token endpoint, stored in oauth_token_file $TOK; expires "*" UTC (in 3600 s)"* ||
		$output == *"token      ok: obtained from the token endpoint, stored in oauth_token_file $TOK; expires "*" UTC (in 3599 s)"* ]]
	[[ $output == *"auth       ok: XOAUTH2 (token from oauth_token_file $TOK)"* ]]
	[[ $output == *"delivered  ok: "* ]]
	# Run again: the stored token.
	run --separate-stderr mo --test rcpt@example.org
	assert_equal "$status" 0
	[[ $output == *"token      ok: cached in oauth_token_file $TOK; expires "* ]]
	assert_equal "$(nreq /token)" 1

	msconfig "oauth_client_certificate=$KEYS/app.pem" "oauth_client_key=$KEYS/app.key"
	run --separate-stderr mo --test rcpt@example.org
	echo "$output" >"$BATS_TEST_TMPDIR/cert.txt"
	assert_equal "$status" 0
	[[ $output == *"oauth2     ok: grant client_credentials (certificate, private_key_jwt), token endpoint $IDP/token"* ]]
	[[ $output == *"token      ok: obtained from the token endpoint, kept in memory for this run; expires "* ]]
	[[ $output == *"auth       ok: XOAUTH2 (token from the client_credentials grant)"* ]]

	sa_file
	gconfig
	run --separate-stderr mo --test rcpt@example.org
	echo "$output" >"$BATS_TEST_TMPDIR/sa.txt"
	assert_equal "$status" 0
	[[ $output == *"oauth2     ok: grant jwt_bearer (service account key), token endpoint $IDP/token"* ]]
	[[ $output == *"auth       ok: OAUTHBEARER (token from the jwt_bearer grant)"* ]]
	assert_equal "$(nreq /token)" 3
	assert_equal "$(fake_count)" 4
	if [[ -n ${OAUTH_APP_TRANSCRIPTS:-} ]]; then
		cat "$BATS_TEST_TMPDIR"/{secret,cert,sa}.txt >"$OAUTH_APP_TRANSCRIPTS"
	fi
}

@test "--test: a refused grant is shown on the oauth2 line, nothing connects" {
	idp_start
	relay_start
	secret_file wrong
	msconfig "oauth_client_secret_file=$SECRET"
	run --separate-stderr mo --test rcpt@example.org
	assert_equal "$status" 78
	[[ $output == *"oauth2     FAILED: the OAuth2 token endpoint $IDP/token (account t) refused the client_credentials grant (invalid_client: AADSTS7000215"* ]]
	[[ $output != *"connect "* ]]
}

@test "--authorize on an app grant account says there is nothing to authorize" {
	secret_file
	IDP=https://localhost:1
	msconfig "oauth_client_secret_file=$SECRET"
	run --separate-stderr mo --authorize -a t </dev/null
	assert_equal "$status" 64
	[[ $stderr == *"account t uses oauth_grant = client_credentials: no person authorizes it, mailout gets its tokens by itself; \`mailout --test -a t ADDRESS\` shows them"* ]]
}

@test "config: each grant's keys are checked, errors name the key and what is accepted" {
	mo_config oauth=microsoft user=a@b.example oauth_client_id=c oauth_grant=password
	run --separate-stderr mo -bv x@y.example
	assert_equal "$status" 78
	[[ $stderr == *"oauth_grant"*"(accepted: authorization_code, client_credentials, jwt_bearer)"* ]]
	mo_config oauth=microsoft user=a@b.example oauth_client_id=c oauth_grant=client_credentials \
		oauth_tenant=contoso.example
	run --separate-stderr mo -bv x@y.example
	assert_equal "$status" 78
	[[ $stderr == *"oauth_grant = client_credentials needs either oauth_client_secret_file (the application's client secret) or oauth_client_certificate and oauth_client_key, not neither"* ]]
	mo_config oauth=microsoft user=a@b.example oauth_client_id=c oauth_grant=client_credentials \
		oauth_client_secret_file=/etc/s
	run --separate-stderr mo -bv x@y.example
	assert_equal "$status" 78
	[[ $stderr == *"oauth_tenant: missing (oauth_grant = client_credentials needs the directory (tenant) ID"* ]]
	mo_config oauth=microsoft user=a@b.example oauth_client_id=c oauth_grant=client_credentials \
		oauth_tenant=contoso.example oauth_client_certificate=/etc/c.pem
	run --separate-stderr mo -bv x@y.example
	assert_equal "$status" 78
	[[ $stderr == *"oauth_client_key: missing (oauth_client_certificate and oauth_client_key go together"* ]]
	mo_config oauth=google user=a@b.example oauth_grant=jwt_bearer
	run --separate-stderr mo -bv x@y.example
	assert_equal "$status" 78
	[[ $stderr == *"oauth_service_account: missing (oauth_grant = jwt_bearer needs the service account's JSON key file)"* ]]
	mo_config oauth=google user=a@b.example oauth_client_id=c oauth_service_account=/etc/sa.json
	run --separate-stderr mo -bv x@y.example
	assert_equal "$status" 78
	[[ $stderr == *"oauth_service_account is for oauth_grant = jwt_bearer"* ]]
}

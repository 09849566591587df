#!/usr/bin/env bats
# OAuth2: refresh and rotation against a mock identity provider (test/fakeidp.py, HTTPS
# with the test CA), the fake relay accepting the tokens the provider issued, the
# failures (invalid_grant queued with advice, temporary endpoint trouble, configuration
# errors), ten concurrent senders keeping the rotation chain, and --authorize (loopback
# redirect, pasted address, pasted code, device flow), with file and keyring storage.

bats_require_minimum_version 1.5.0

setup() {
	load lib/common
	load lib/idp
	CERTS=$(certs_dir)
	MSG=$BATS_TEST_TMPDIR/msg
	printf 'Subject: oauth test\n\nbody\n' >"$MSG"
	IDP_DIR=$BATS_TEST_TMPDIR/idp
	TOK=$BATS_TEST_TMPDIR/state/tokens.json
	IDP_PID=
	unset MAILOUT_AUTHORIZE_TIMEOUT
}

teardown() {
	idp_stop
	fake_stop
	stop_test_daemons	# the keyring test's gnome-keyring-daemon and D-Bus
}

# idp_start [fakeidp options]: the mock provider; sets IDP (its base URL) and IDP_PORT.
# relay_start and idp_stop: lib/idp.bash.
idp_start() { idp_launch python3 --lifetime 60 --client-secret s3cret "$@"; }

# An OAuth2 account "t" (Google semantics) whose endpoints are the mock provider.
oconfig() {
	mo_config tls=starttls "tls_ca_file=$CERTS/ca.pem" oauth=google user=joe@example.com \
		oauth_client_id=client-1 oauth_client_secret=s3cret \
		"oauth_token_url=$IDP/token" "oauth_auth_url=$IDP/auth" \
		"oauth_device_url=$IDP/device" "oauth_token_file=$TOK" timeout=5 "$@"
	chmod 600 "$CONF"
}

# tokens JSON: write the token file by hand (0600).
tokens() {
	mkdir -p "$(dirname "$TOK")"
	printf '%s\n' "$1" >"$TOK"
	chmod 600 "$TOK"
}

send() { run --separate-stderr mo "$@" rcpt@example.org <"$MSG"; }

# json FILE EXPR: evaluate a Python expression on the JSON in FILE (as j).
json() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

# req N EXPR: a Python expression on the provider's Nth recorded request (as r).
req() {
	python3 -c 'import json,sys
rs=[json.loads(l) for l in open(sys.argv[1])]
r=rs[int(sys.argv[2])-1]
print(eval(sys.argv[3]))' "$IDP_DIR/requests.jsonl" "$@"
}

# Number of requests the provider got for a path.
nreq() {
	if [[ -e $IDP_DIR/requests.jsonl ]]; then
		grep -c "\"path\": \"$1\"" "$IDP_DIR/requests.jsonl" || true
	else
		echo 0
	fi
}

auth_lines() { fake_transcript | tr -d '\r' | grep -c '^AUTH ' || true; }

# Queue files (messages, spool files); the accounts' sending windows (accounts/) are no mail.
queued() { find "$QUEUE" -type f ! -path "$QUEUE/accounts/*" 2>/dev/null | grep -c . || true; }

# open_stdin: a FIFO to open read-write as standard input: it never ends, as a terminal
# nobody types in, so --authorize waits for the browser.
open_stdin() {
	local f=$BATS_TEST_TMPDIR/stdin.fifo
	[[ -p $f ]] || mkfifo "$f"
	echo "$f"
}

# browse [--location|--status] URL: play the web browser (test/lib/browse.py), trusting
# the test CA.
browse() { python3 "$BATS_TEST_DIRNAME/lib/browse.py" --ca "$CERTS/ca.pem" "$@"; }

# wait_url FILE: wait until mailout printed the authorization URL; echo it.
wait_url() {
	local i
	for ((i = 0; i < 500; i++)); do
		if grep -q '^https://' "$1" 2>/dev/null; then
			grep -m1 '^https://' "$1"
			return 0
		fi
		sleep 0.01
	done
	echo "no URL printed" >&2
	return 1
}

@test "a file with only refresh_token is completed by the first refresh; OAUTHBEARER" {
	idp_start --refresh-token rt-seed
	relay_start
	oconfig
	tokens '{"refresh_token": "rt-seed"}'
	send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	fake_transcript | tr -d '\r' | grep -q '^AUTH OAUTHBEARER '
	assert_equal "$(nreq /token)" 1
	assert_equal "$(req 1 "r['form']['grant_type']")" refresh_token
	assert_equal "$(req 1 "r['form']['refresh_token']")" rt-seed
	assert_equal "$(req 1 "r['form']['client_id']")" client-1
	assert_equal "$(req 1 "r['form']['client_secret']")" s3cret
	assert_equal "$(req 1 "'scope' in r['form']")" False
	assert_equal "$(stat -c %a "$TOK")" 600
	assert_equal "$(json "$TOK" "j['refresh_token']")" rt-seed
	assert_equal "$(json "$TOK" "j['access_token']")" "$(<"$IDP_DIR/access_tokens")"
	local left=$(( $(json "$TOK" "j['expires_at']") - $(date +%s) ))
	((left > 3500 && left <= 3600))
	# The new file was written beside it and renamed: no temporary is left.
	run find "$(dirname "$TOK")" -name ".$(basename "$TOK").*"
	assert_output ''
}

@test "a stored token with more than 5 minutes left is used without asking the provider" {
	idp_start --refresh-token rt-seed
	relay_start
	oconfig
	tokens '{"refresh_token": "rt-seed"}'
	send
	assert_equal "$status" 0
	send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 2
	assert_equal "$(nreq /token)" 1
}

@test "a stored token with less than 5 minutes left is refreshed first" {
	idp_start --refresh-token rt-seed --expires-in 200 --return-refresh
	relay_start
	oconfig
	tokens '{"refresh_token": "rt-seed"}'
	send
	send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 2
	assert_equal "$(nreq /token)" 2
}

@test "rotation: every refresh stores the new refresh token; the old one no longer works" {
	idp_start --refresh-token rt-seed --rotate --expires-in 60
	relay_start
	oconfig
	tokens '{"refresh_token": "rt-seed"}'
	local i
	for i in 1 2 3; do
		send
		assert_equal "$status" 0
	done
	assert_equal "$(fake_count)" 3
	assert_equal "$(nreq /token)" 3
	assert_equal "$(req 1 "r['form']['refresh_token']")" rt-seed
	# Each refresh used the token the one before it received, and the chain ends in the file.
	[[ $(req 2 "r['form']['refresh_token']") == rt-* ]]
	[[ $(req 2 "r['form']['refresh_token']") != rt-seed ]]
	assert_equal "$(json "$TOK" "j['refresh_token']")" "$(<"$IDP_DIR/refresh_tokens")"
	run ! grep -q 'invalid token' "$IDP_DIR/server.log"
	grep -q 'new refresh token stored' "$LOG"
}

@test "a token the relay rejects (Gmail's way) is refreshed once and AUTH retried" {
	idp_start --refresh-token rt-seed
	relay_start
	oconfig
	tokens "{\"refresh_token\": \"rt-seed\", \"access_token\": \"at-revoked\", \"expires_at\": $(( $(date +%s) + 3000 ))}"
	send -v
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	assert_equal "$(auth_lines)" 2
	assert_equal "$(nreq /token)" 1
	[[ $(json "$TOK" "j['access_token']") != at-revoked ]]
	# Nothing secret in the transcript or the log.
	[[ $stderr != *at-revoked* && $stderr != *rt-seed* && $stderr != *s3cret* ]]
	[[ $stderr == *"AUTH OAUTHBEARER <redacted>"* ]]
	run ! grep -q -e at- -e rt-seed "$LOG"
}

@test "Microsoft: XOAUTH2, Office 365's rejection, the scope sent again on refresh" {
	idp_start --refresh-token rt-seed
	relay_start --oauth-reject microsoft
	oconfig oauth=microsoft
	tokens "{\"refresh_token\": \"rt-seed\", \"access_token\": \"at-old\", \"expires_at\": $(( $(date +%s) + 3000 ))}"
	send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	assert_equal "$(fake_transcript | tr -d '\r' | grep -c '^AUTH XOAUTH2 ')" 2
	assert_equal "$(req 1 "r['form']['scope']")" "https://outlook.office.com/SMTP.Send offline_access"
}

@test "a token rejected again after the refresh: one refresh only, 535 quoted, held" {
	idp_start --refresh-token rt-seed
	relay_start --oauth-token-file /dev/null
	oconfig
	tokens '{"refresh_token": "rt-seed"}'
	send
	assert_equal "$status" 0
	assert_equal "$(nreq /token)" 2
	assert_equal "$(auth_lines)" 2
	[[ $stderr == *"rejected user joe@example.com"* ]]
	# authentication rejected: kept as held for a person (issue 13), not retried
	[[ $stderr == *"message held (not sent)"* ]]
	assert_equal "$(fake_count)" 0
}

@test "invalid_grant (revoked): the message is queued and the error says to run --authorize" {
	idp_start
	relay_start
	oconfig
	tokens '{"refresh_token": "rt-revoked"}'
	send
	assert_equal "$status" 0
	[[ $stderr == *'the OAuth2 provider no longer accepts the stored refresh token (invalid_grant: Token has been expired or revoked.)'* ]]
	[[ $stderr == *'run `mailout --authorize -a t` to authorize again'* ]]
	[[ $stderr == *"message queued as"* ]]
	assert_equal "$(fake_count)" 0
	run mo -bp
	assert_output --partial "rcpt@example.org"
	grep -q 'oauth2=invalid_grant' "$LOG"
	grep -q 'stays queued until `mailout --authorize -a t`' "$LOG"
	# The stored token is left alone: a human decides.
	assert_equal "$(json "$TOK" "j['refresh_token']")" rt-revoked
}

@test "invalid_grant with queue = off: exit 75 with the same advice" {
	idp_start --fail invalid_grant
	relay_start
	oconfig queue=off
	tokens '{"refresh_token": "rt-x"}'
	send
	assert_equal "$status" 75
	[[ $stderr == *'run `mailout --authorize -a t`'* ]]
}

@test "Microsoft's invalid_grant shows the AADSTS code and not the trace IDs" {
	idp_start --fail invalid_grant_ms
	relay_start
	oconfig oauth=microsoft queue=off
	tokens '{"refresh_token": "rt-x"}'
	send
	assert_equal "$status" 75
	[[ $stderr == *"invalid_grant: AADSTS70008: The provided authorization code or refresh token has expired due to inactivity."* ]]
	[[ $stderr != *"Trace ID"* && $stderr != *"Correlation"* ]]
}

@test "a token endpoint answering 500 is temporary: the message is queued" {
	idp_start --refresh-token rt-seed --fail 500
	relay_start
	oconfig
	tokens '{"refresh_token": "rt-seed"}'
	send
	assert_equal "$status" 0
	[[ $stderr == *"the OAuth2 token endpoint https://localhost:$IDP_PORT/token (account t) failed: HTTP 500 Internal Server Error"* ]]
	[[ $stderr == *"message queued as"* ]]
}

@test "a slow token endpoint is given up after the account's timeout: temporary" {
	idp_start --refresh-token rt-seed --fail slow:8
	relay_start
	oconfig timeout=2 queue=off
	tokens '{"refresh_token": "rt-seed"}'
	local t0=$SECONDS
	send
	assert_equal "$status" 75
	((SECONDS - t0 < 7))
	[[ $stderr == *"the OAuth2 token endpoint https://localhost:$IDP_PORT/token (account t): "* ]]
}

@test "malformed JSON, an HTML 502 and a dropped connection are temporary" {
	local kind
	for kind in malformed html close no_access_token; do
		idp_start --refresh-token rt-seed --fail "$kind"
		relay_start
		oconfig queue=off
		tokens '{"refresh_token": "rt-seed"}'
		send
		assert_equal "$status" 75
		case $kind in
		malformed) [[ $stderr == *"not the JSON object of a token response"* ]] ;;
		html) [[ $stderr == *"HTTP 502 Bad Gateway (not a JSON answer)"* ]] ;;
		close) [[ $stderr == *"the OAuth2 token endpoint https://localhost:$IDP_PORT/token (account t): "* ]] ;;
		no_access_token) [[ $stderr == *"no valid access_token"* ]] ;;
		esac
		idp_stop
		fake_stop
		rm -rf "$IDP_DIR" "$FAKE_DIR"
	done
}

@test "an unreachable token endpoint is temporary" {
	relay_start
	IDP=https://127.0.0.1:1
	oconfig queue=off
	tokens '{"refresh_token": "rt-seed"}'
	send
	assert_equal "$status" 75
	[[ $stderr == *"the OAuth2 token endpoint https://127.0.0.1:1/token (account t): cannot connect to 127.0.0.1 port 1"* ]]
	[[ $stderr != *"relay host"* && $stderr != *"POST "* ]]
}

# ns_send [fakesmtp options]: send $MSG in a network namespace of its own (loopback
# only) whose resolver, 127.0.0.1 where nothing answers, fails every lookup with
# EAI_AGAIN; with options, a fake relay runs inside on $FAKE_PORT. NS_MO: mailout's
# arguments (default: the recipient). Sets status, output and stderr as run does.
ns_send() {
	local T=$BATS_TEST_TMPDIR
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
	cat >"$T/ns.sh" <<-'EOF'
	set -u
	ip link set lo up
	mount --bind "$T/resolv.conf" /etc/resolv.conf
	pid=
	if (($# > 0)); then
		mkdir -p "$T/nsfake"
		python3 "$FAKESMTP_PY" --dir "$T/nsfake" --port "$FAKE_PORT" \
			--port-file "$T/nsfake/port" --lifetime 30 "$@" </dev/null \
			>"$T/nsfake/out" 2>&1 &
		pid=$!
		for ((i = 0; i < 500; i++)); do [[ -s $T/nsfake/port ]] && break; sleep 0.01; done
	fi
	# shellcheck disable=SC2086 # NS_MO is words
	"$MAILOUT" -C "$CONF" $NS_MO <"$MSG" >"$T/ns.out" 2>"$T/ns.err"
	echo $? >"$T/ns.rc"
	[[ -z $pid ]] || { kill "$pid"; wait "$pid"; }
	exit 0
	EOF
	T=$T FAKESMTP_PY=$FAKESMTP_PY FAKE_PORT=${FAKE_PORT:-} MAILOUT=$MAILOUT CONF=$CONF MSG=$MSG \
		NS_MO=${NS_MO:-rcpt@example.org} \
		timeout 60 unshare -n -m bash "$T/ns.sh" "$@" 3>&-
	status=$(<"$T/ns.rc")
	output=$(<"$T/ns.out")
	stderr=$(<"$T/ns.err")
}

@test "a temporary DNS failure on the token host says temporary and queues the message" {
	FAKE_PORT=$(free_port)
	IDP=https://idp.example.test
	oconfig
	tokens '{"refresh_token": "rt-seed"}'
	ns_send --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
		--auth-after-tls --require-auth --auth-mechs "XOAUTH2 OAUTHBEARER" \
		--user joe@example.com
	cat "$BATS_TEST_TMPDIR/ns.err" >&2
	assert_equal "$status" 0
	[[ $stderr == *"the OAuth2 token endpoint https://idp.example.test/token (account t): temporary DNS failure resolving idp.example.test: Temporary failure in name resolution"* ]]
	[[ $stderr == *"message queued as"* ]]
	[[ $stderr != *"not found"* && $stderr != *"check host"* && $stderr != *"relay host"* ]]
	run mo -bp
	assert_output --partial "rcpt@example.org"
}

@test "a temporary DNS failure on the relay host says temporary and queues the message" {
	mo_config host=relay.example.test
	ns_send
	cat "$BATS_TEST_TMPDIR/ns.err" >&2
	assert_equal "$status" 0
	[[ $stderr == *"temporary DNS failure resolving relay.example.test: Temporary failure in name resolution"* ]]
	[[ $stderr == *"message queued as"* ]]
	[[ $stderr != *"not found"* && $stderr != *"check host"* ]]
	run mo -bp
	assert_output --partial "rcpt@example.org"
	# queue = off: the same words, exit 75 (EX_TEMPFAIL), not 68 (no such host)
	mo_config host=relay.example.test queue=off
	ns_send
	assert_equal "$status" 75
	[[ $stderr == *"temporary DNS failure resolving relay.example.test"* ]]
	# --test: the resolve line says the same, not "not found: check host ="
	NS_MO="--test rcpt@example.org" ns_send
	assert_equal "$status" 75
	[[ $output == *"resolve    FAILED: temporary DNS failure resolving relay.example.test: Temporary failure in name resolution; try again later"* ]]
	[[ $output$stderr != *"check host"* ]]
}

@test "invalid_client is a configuration error: exit 78, nothing queued" {
	idp_start --fail invalid_client
	relay_start
	# queue = off: the exit status says it (with the queue on the message is held)
	oconfig queue=off
	tokens '{"refresh_token": "rt-seed"}'
	send
	assert_equal "$status" 78
	[[ $stderr == *"invalid_client: The OAuth client was not found."* ]]
	[[ $stderr == *"check oauth_client_id, oauth_client_secret and oauth_scope"* ]]
	assert_equal "$(queued)" 0
}

@test "chunked answers and a 3000-byte token: AUTH waits for the 334 (RFC 4954)" {
	idp_start --refresh-token rt-seed --chunked --token-size 3000
	relay_start
	oconfig
	tokens '{"refresh_token": "rt-seed"}'
	send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	assert_equal "$(json "$TOK" "len(j['access_token'])")" 3000
	fake_transcript | tr -d '\r' | grep -qx 'AUTH OAUTHBEARER'
}

@test "the token endpoint's certificate is verified as the relay's is" {
	mkdir -p "$IDP_DIR"
	python3 "$BATS_TEST_DIRNAME/fakeidp.py" --dir "$IDP_DIR" --port-file "$IDP_DIR/port" \
		--cert "$CERTS/untrusted.pem" --key "$CERTS/untrusted.key" --lifetime 30 \
		--refresh-token rt-seed </dev/null >>"$IDP_DIR/out" 2>&1 3>&- &
	IDP_PID=$!
	while [[ ! -s $IDP_DIR/port ]]; do sleep 0.01; done
	IDP=https://localhost:$(<"$IDP_DIR/port")
	relay_start
	oconfig queue=off
	tokens '{"refresh_token": "rt-seed"}'
	send
	assert_equal "$status" 78
	[[ $stderr == *"OAuth2 token endpoint"* ]]
	[[ $stderr == *certificate* ]]
	assert_equal "$(nreq /token)" 0
}

@test "ten concurrent sends against a rotating provider all succeed, chain intact" {
	idp_start --refresh-token rt-seed --rotate --expires-in 60
	relay_start
	oconfig
	tokens '{"refresh_token": "rt-seed"}'
	local i pids=() rc=0
	for i in $(seq 10); do
		mo rcpt$i@example.org <"$MSG" >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	cat "$BATS_TEST_TMPDIR"/out.* >&2 || true
	assert_equal "$rc" 0
	assert_equal "$(fake_count)" 10
	# Every sender refreshed (tokens live 60 s < 5 min), one after the other, each with the
	# refresh token the previous one stored.
	assert_equal "$(nreq /token)" 10
	run ! grep -q 'invalid token' "$IDP_DIR/server.log"
	# The provider saw no two refreshes at once and no rotated-away token again.
	assert_equal "$(json "$IDP_DIR/stats.json" "j['max_concurrent'], j['overlaps'], j['reused']")" "(1, 0, 0)"
	assert_equal "$(json "$TOK" "j['refresh_token']")" "$(<"$IDP_DIR/refresh_tokens")"
	assert_equal "$(queued)" 0
	assert_equal "$(grep -c 'new refresh token stored' "$LOG")" 10
}

@test "not authorized yet: exit 78 telling to run --authorize" {
	idp_start
	relay_start
	oconfig queue=off
	send
	assert_equal "$status" 78
	[[ $stderr == *'is not authorized yet'*'run `mailout --authorize -a t`'* ]]
}

@test "a broken token file is a configuration error naming it" {
	idp_start
	relay_start
	oconfig queue=off
	tokens 'refresh_token=abc'
	send
	assert_equal "$status" 78
	[[ $stderr == *"oauth_token_file $TOK holds no valid token JSON: not a JSON object"* ]]
}

@test "--authorize: the browser's redirect brings the code back; PKCE S256 checked" {
	idp_start
	relay_start
	oconfig
	local out=$BATS_TEST_TMPDIR/authorize.out url
	mo --authorize -a t <>"$(open_stdin)" >"$out" 2>&1 &
	local pid=$!
	url=$(wait_url "$out")
	# Play the browser: follow the provider's redirect to the loopback listener.
	run browse "$url"
	assert_output --partial "mailout may now send mail as joe@example.com (account t)"
	wait "$pid"
	cat "$out" >&2
	grep -qx 'mailout: account t (joe@example.com) is now authorized; the tokens are stored in oauth_token_file '"$TOK" "$out"
	[[ $url == "$IDP/auth?response_type=code&client_id=client-1&redirect_uri=http%3A%2F%2F127.0.0.1%3A"* ]]
	assert_equal "$(req 1 "r['query']['code_challenge_method']")" S256
	assert_equal "$(req 1 "r['query']['access_type']+' '+r['query']['prompt']")" "offline consent"
	assert_equal "$(req 2 "r['form']['grant_type']")" authorization_code
	assert_equal "$(req 2 "len(r['form']['code_verifier'])")" 43
	assert_equal "$(stat -c %a "$TOK")" 600
	# Nothing secret printed.
	run -1 grep -e "$(req 2 "r['form']['code_verifier']")" -e rt- -e at- "$out"
	# And the account sends with what was stored, without another token request.
	send
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	assert_equal "$(nreq /token)" 1
}

@test "--authorize: the address the browser ended up on, pasted on stdin" {
	idp_start
	oconfig
	local out=$BATS_TEST_TMPDIR/authorize.out
	( url=$(wait_url "$out") &&
		browse --location "$url" ) | mo --authorize -a t >"$out" 2>&1
	cat "$out" >&2
	grep -q 'account t (joe@example.com) is now authorized' "$out"
	[[ $(json "$TOK" "j['refresh_token']") == rt-* ]]
}

@test "--authorize: just the code, pasted" {
	idp_start
	oconfig
	local out=$BATS_TEST_TMPDIR/authorize.out
	( url=$(wait_url "$out") &&
		browse --location "$url" | sed 's/.*[?&]code=\([^&]*\).*/  \1  /' && echo ) |
		mo --authorize -a t >"$out" 2>&1
	grep -q 'is now authorized' "$out"
}

@test "--authorize: a redirect from another attempt is refused, the right one accepted" {
	idp_start
	oconfig
	local out=$BATS_TEST_TMPDIR/authorize.out url port loc
	mo --authorize -a t <>"$(open_stdin)" >"$out" 2>&1 &
	local pid=$!
	url=$(wait_url "$out")
	loc=$(browse --location "$url")
	port=$(sed 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/' <<<"$loc")
	run browse --status "http://127.0.0.1:$port/?code=forged&state=wrong"
	assert_output 400
	run browse --status "http://127.0.0.1:$port/?code=forged"
	assert_output 400
	run browse --status "http://127.0.0.1:$port/favicon.ico"
	assert_output 404
	run browse --status "$loc"
	assert_output 200
	wait "$pid"
	grep -q 'ignored a request to the listener: its state does not match' "$out"
	grep -q 'is now authorized' "$out"
	assert_equal "$(nreq /token)" 1
}

@test "--authorize: the provider's refusal ends it with the provider's words" {
	idp_start --auth-error access_denied
	oconfig
	local out=$BATS_TEST_TMPDIR/authorize.out
	mo --authorize -a t <>"$(open_stdin)" >"$out" 2>&1 &
	local pid=$! st=0
	browse "$(wait_url "$out")" >/dev/null || true
	wait "$pid" || st=$?
	cat "$out" >&2
	assert_equal "$st" 77
	grep -q 'the provider did not authorize mailout (access_denied: The user denied the request)' "$out"
	[[ ! -e $TOK ]]
}

@test "--authorize: nothing arrives in time: temporary failure, nothing stored" {
	use_test_build
	idp_start
	oconfig
	MAILOUT_AUTHORIZE_TIMEOUT=1 run --separate-stderr mo --authorize -a t <>"$(open_stdin)"
	assert_equal "$status" 75
	[[ $stderr == *"no authorization arrived within 1 s"* ]]
	[[ ! -e $TOK ]]
}

@test "--authorize: standard input ending stops the wait with one line" {
	idp_start
	oconfig
	local t0=$SECONDS
	run --separate-stderr timeout 20 "$MAILOUT" -C "$CONF" --authorize -a t </dev/null
	assert_equal "$status" 64
	((SECONDS - t0 < 10))
	assert_equal "$stderr" 'mailout: account t: standard input ended before an authorization code arrived; run mailout --authorize in a terminal, or mailout --authorize --device'
	[[ ! -e $TOK ]]
	# What was pasted before the end is still read; it is not a code, so the end comes next.
	run --separate-stderr timeout 20 "$MAILOUT" -C "$CONF" --authorize -a t < <(printf 'not a code\n')
	assert_equal "$status" 64
	[[ $output == *"that is neither an address nor a code"* ]]
	[[ $stderr == *"standard input ended before an authorization code arrived"* ]]
	[[ ! -e $TOK ]]
	assert_equal "$(nreq /token)" 0
}

@test "--authorize --device: authorization_pending, then the tokens" {
	idp_start --device-auto 1
	oconfig
	run --separate-stderr mo --authorize --device -a t </dev/null
	assert_equal "$status" 0
	[[ $output == *"open https://127.0.0.1:$IDP_PORT/device/verify on any device and enter the code "* ]]
	[[ $output == *"account t (joe@example.com) is now authorized"* ]]
	assert_equal "$(req 1 "r['form']['scope']")" "https://mail.google.com/"
	assert_equal "$(req 2 "r['form']['grant_type']")" urn:ietf:params:oauth:grant-type:device_code
	assert_equal "$(nreq /token)" 2
	[[ $(json "$TOK" "j['refresh_token']") == rt-* ]]
}

@test "--authorize --device: slow_down adds 5 seconds to the interval" {
	idp_start --device-slow-down 1
	oconfig
	local out=$BATS_TEST_TMPDIR/authorize.out
	mo --authorize --device -a t </dev/null >"$out" 2>&1 &
	local pid=$!
	local i code=
	for ((i = 0; i < 500; i++)); do
		code=$(sed -n 's/.*enter the code \([0-9-]*\).*/\1/p' "$out")
		[[ -n $code ]] && break
		sleep 0.01
	done
	# Play the user: enter the code.
	browse "$IDP/device/verify?user_code=$code"
	wait "$pid"
	grep -q 'is now authorized' "$out"
	assert_equal "$(nreq /token)" 2
	# Interval 1 s, then slow_down: the next poll comes 1 + 5 s later.
	local gap
	gap=$(python3 -c 'import json,sys
t=[r["t"] for r in map(json.loads, open(sys.argv[1])) if r["path"] == "/token"]
print(int(t[1] - t[0]))' "$IDP_DIR/requests.jsonl")
	((gap >= 6 && gap <= 8))
}

@test "--authorize --device: an expired code ends it with advice" {
	idp_start --device-expire
	oconfig
	run --separate-stderr mo --authorize --device -a t </dev/null
	assert_equal "$status" 77
	[[ $stderr == *"expired before it was entered; run mailout --authorize --device again"* ]]
}

@test "keyring: --authorize stores under service oauth2 beside the password; sending uses it" {
	need dbus-run-session gnome-keyring-daemon secret-tool
	idp_start
	relay_start
	oconfig oauth_token_file=
	local out=$BATS_TEST_TMPDIR/ks.out
	cat >"$BATS_TEST_TMPDIR/ks.sh" <<-EOF
	set -e
	printf %s pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
	printf %s smtp-password | secret-tool store --label=pw host 127.0.0.1 service smtp user joe@example.com
	"$MAILOUT" -C "$CONF" --authorize -a t <>"$(open_stdin)" >"$out.auth" 2>&1 &
	pid=\$!
	for i in \$(seq 500); do grep -q '^https://' "$out.auth" && break; sleep 0.01; done
	python3 "$BATS_TEST_DIRNAME/lib/browse.py" --ca "$CERTS/ca.pem" "\$(grep -m1 '^https://' "$out.auth")" >/dev/null
	wait \$pid
	echo "password=\$(secret-tool lookup host 127.0.0.1 service smtp user joe@example.com)"
	echo "oauth2=\$(secret-tool lookup host 127.0.0.1 service oauth2 user joe@example.com)"
	"$MAILOUT" -C "$CONF" rcpt@example.org <"$MSG"
	echo "sent=\$?"
	EOF
	HOME=$BATS_TEST_TMPDIR timeout 60 dbus-run-session -- bash "$BATS_TEST_TMPDIR/ks.sh" >"$out" 2>&1 || true
	cat "$out" "$out.auth" >&2
	grep -qx 'password=smtp-password' "$out"
	grep -q '^oauth2={"refresh_token":"rt-' "$out"
	grep -qx 'sent=0' "$out"
	grep -q 'the tokens are stored in the keyring (service oauth2)' "$out.auth"
	assert_equal "$(fake_count)" 1
	assert_equal "$(nreq /token)" 1
}

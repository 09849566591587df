# bats helpers for the OAuth2 suites (oauth.bats, oauth_app.bats, oauth_system.bats): the
# mock identity provider (test/fakeidp.py, HTTPS with the test certificate) and the fake
# relay that takes only the access tokens it issued. Uses CERTS and IDP_DIR of the caller.
#   idp_launch PYTHON [fakeidp options]  start the provider in the background; sets
#                                        IDP_PID, IDP_PORT and IDP (its base URL)
#   idp_stop                             stop it (each suite's teardown calls it)
#   relay_start [fakesmtp options]       STARTTLS, then AUTH XOAUTH2/OAUTHBEARER after
#                                        TLS for joe@example.com with the issued tokens
# PYTHON: python3, or /usr/bin/python3 where fakeidp.py needs a Debian module.

idp_launch() {
	local py=$1 i
	shift
	mkdir -p "$IDP_DIR"
	"$py" "$BATS_TEST_DIRNAME/fakeidp.py" --dir "$IDP_DIR" --port-file "$IDP_DIR/port" \
		--cert "$CERTS/server.pem" --key "$CERTS/server.key" \
		"$@" </dev/null >>"$IDP_DIR/out" 2>&1 3>&- &
	IDP_PID=$!
	for ((i = 0; i < 500; i++)); do
		[[ -s $IDP_DIR/port ]] && break
		sleep 0.01
	done
	IDP_PORT=$(<"$IDP_DIR/port")
	IDP=https://localhost:$IDP_PORT
}

idp_stop() {
	if [[ -n ${IDP_PID:-} ]]; then
		kill "$IDP_PID" 2>/dev/null || true
		wait "$IDP_PID" 2>/dev/null || true
		IDP_PID=
	fi
}

relay_start() {
	fake_start --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
		--auth-after-tls --require-auth --auth-mechs "XOAUTH2 OAUTHBEARER" \
		--user joe@example.com --oauth-token-file "$IDP_DIR/access_tokens" "$@"
}

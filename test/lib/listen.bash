# bats helpers for mailout -bd (test/listen.bats).
#   listen_config [KEY=VALUE...]  append a [listen] section on a free loopback port to
#                                 $CONF (mo_config first); exports LPORT
#   listen_start / listen_stop    run the listener in its own process group / stop it
#                                 and every session it forked
#   smtpc ARGS...                 test/lib/smtpc.py against 127.0.0.1:$LPORT
#   hexlines, users_file, listen_certs: a raw client's bytes, a users file, a certificate
_LISTEN_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LPID=

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

listen_config() {
	local kv
	LPORT=$(free_port)
	{
		echo "[listen]"
		echo "address = 127.0.0.1"
		echo "port = $LPORT"
		# Root binds, then becomes run_as: nobody here, which must reach the queue.
		if [[ $(id -u) == 0 ]]; then echo "run_as = nobody"; fi
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	} >>"$CONF"
	if [[ $(id -u) == 0 ]]; then
		mkdir -p "$QUEUE"
		chown nobody "$QUEUE"
		# The path down to the queue and the aliases file, passable by nobody.
		local d=$BATS_TEST_TMPDIR
		while [[ $d != / ]]; do chmod o+x "$d"; d=$(dirname "$d"); done
		chmod o+r "$(test_aliases)"
	fi
	export LPORT
}

listen_start() {
	setsid "$MAILOUT" -C "$CONF" -bd </dev/null >"$BATS_TEST_TMPDIR/listen.out" \
		2>"$BATS_TEST_TMPDIR/listen.err" 3>&- &
	LPID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		# Ready once it says so: a probe connection would count in the tests' logs.
		if grep -q "listen: accepting on 127.0.0.1:$LPORT" "$LOG" 2>/dev/null; then
			return 0
		fi
		kill -0 "$LPID" 2>/dev/null || break
		sleep 0.02
	done
	echo "listen_start: the listener did not start" >&2
	cat "$BATS_TEST_TMPDIR/listen.err" >&2
	return 1
}

listen_stop() {
	if [[ -n $LPID ]]; then
		kill -- "-$LPID" 2>/dev/null || true
		sleep 0.1
		kill -9 -- "-$LPID" 2>/dev/null || true
		wait "$LPID" 2>/dev/null || true
		LPID=
	fi
	return 0
}

smtpc() { python3 "$_LISTEN_LIB_DIR/smtpc.py" --port "$LPORT" "$@"; }

# hexlines LINES...: the lines CRLF-ended, in hex (smtpc raw's argument)
hexlines() { printf '%s\r\n' "$@" | od -An -tx1 | tr -d ' \n'; }

# users_file LINES...: this test's users file, 0640 and readable by the listener's user.
users_file() {
	USERS=$BATS_TEST_TMPDIR/listen-users
	printf '%s\n' "$@" >"$USERS"
	chmod 640 "$USERS"
	if [[ $(id -u) == 0 ]]; then chgrp "$(id -gn nobody)" "$USERS"; fi
}
# A yescrypt hash of "pw", as mkpasswd -m yescrypt writes it.
Y_PW='$y$j9T$F5Jx5fExrKuPp53xLKQ..1$U4SOHmDd8SvW5vCUKSMR6N835VPwFAtgYNhQ9mFFeL5'

# listen_certs: the test CA's localhost certificate and key, readable by the listener.
listen_certs() {
	local d
	d=$(certs_dir)
	CA=$d/ca.pem
	cp "$d/server.pem" "$d/server.key" "$BATS_TEST_TMPDIR/"
	chmod 640 "$BATS_TEST_TMPDIR/server.key"
	if [[ $(id -u) == 0 ]]; then chgrp "$(id -gn nobody)" "$BATS_TEST_TMPDIR/server.key"; fi
	CERT=$BATS_TEST_TMPDIR/server.pem
	KEY=$BATS_TEST_TMPDIR/server.key
}

# assert_third_refused: of three connections held open, two are greeted and the third gets
# 421 (max_connections = 2), with one log line.
assert_third_refused() {
	run smtpc hold 3
	assert_line --index 0 --regexp '^220 '
	assert_line --index 1 --regexp '^220 '
	assert_line --index 2 --regexp '^421 4\.7\.0 .*Too many connections'
	run grep -c 'listen: refused 127.0.0.1 .*max_connections reached' "$LOG"
	assert_output 1
}

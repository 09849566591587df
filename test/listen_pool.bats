#!/usr/bin/env bats
# mailout -bd's pool of session workers: a worker serves one client after another, each as
# if it were the first (no login, TLS, descriptor or timer left from the one before); the
# parent retires it after a number of sessions or a while idle, frees its slot when it dies,
# and counts busy workers only against the limits. Past the pool's size (POOL_WORKERS, 1
# in some tests here) a connection waits for a busy worker to finish, for a second at most,
# then gets one of its own. When the parent ends (SIGTERM, kill -9) a session under way
# finishes and no worker stays behind.

bats_require_minimum_version 1.5.0
load lib/common
load lib/listen

teardown() { listen_stop; fake_stop; }

# session_pids: the pid of each message's log line, in order.
session_pids() {
	sed -n 's/.*mailout\[\([0-9]*\)\]: listen: client 127\.0\.0\.1[ :].*from=<.*/\1/p' "$LOG"
}

# workers: the listener's live workers (its children), one pid a line.
workers() { pgrep -P "$LPID" || true; }

# group_alive: processes of the listener's process group that have not ended (zombies left
# to a parent that does not reap are not processes that run).
group_alive() { ps -e -o pid=,pgid=,stat= | awk -v g="$LPID" '$2 == g && $3 !~ /^Z/'; }

# wait_data N: wait (up to 5 s) until the fake relay has seen N DATA commands.
wait_data() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(fake_transcript | grep -c DATA) -ge $1 ]] && return 0
		sleep 0.05
	done
}

# assert_group_gone: within 6 s no process of the listener's group runs any more.
assert_group_gone() {
	local i
	for ((i = 0; i < 60; i++)); do
		[[ -z $(group_alive) ]] && break
		sleep 0.1
	done
	run group_alive
	assert_output ''
}

# one_worker: wait until the listener has exactly one worker and it is idle; print its pid.
one_worker() {
	local i w
	for ((i = 0; i < 100; i++)); do
		w=$(workers)
		if [[ -n $w && $w != *$'\n'* ]]; then
			echo "$w"
			return 0
		fi
		sleep 0.05
	done
	echo "one_worker: workers: $(workers | tr '\n' ' ')" >&2
	return 1
}

@test "reuse: 30 sequential connections are served by fewer than 30 processes" {
	fake_start
	mo_config
	listen_config
	listen_start
	for ((i = 1; i <= 30; i++)); do
		run smtpc send --subject "s$i"
		assert_output '250'
	done
	assert_equal "$(fake_count)" 30
	assert_equal "$(session_pids | wc -l)" 30
	n=$(session_pids | sort -u | wc -l)
	echo "# 30 sessions, $n worker processes" >&3
	[ "$n" -lt 30 ]
	# Sequential clients: one worker, or two when a client came back before done was read.
	[ "$n" -le 3 ]
}

@test "a worker is replaced after its number of sessions (5 in this test build)" {
	use_test_build
	fake_start
	mo_config
	listen_config
	export MAILOUT_TEST_WORKER_USES=5
	listen_start
	for ((i = 1; i <= 12; i++)); do
		run smtpc send --subject "s$i"
		assert_output '250'
	done
	assert_equal "$(session_pids | wc -l)" 12
	# No process served more than 5; so at least 3 served the 12.
	most=$(session_pids | sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
	echo "# 12 sessions: $(session_pids | sort -u | wc -l) workers, at most $most each" >&3
	[ "$most" -le 5 ]
	[ "$(session_pids | sort -u | wc -l)" -ge 3 ]
}

@test "an idle worker ends after its idle time (1 s in this test build), the next client gets a new one" {
	use_test_build
	fake_start
	mo_config
	listen_config
	export MAILOUT_TEST_WORKER_IDLE=1
	listen_start
	run smtpc send --subject s1
	assert_output '250'
	w=$(one_worker)
	sleep 2.5
	run workers
	assert_output ''
	run kill -0 "$w"
	assert_failure
	run smtpc send --subject s2
	assert_output '250'
	run session_pids
	assert_equal "${#lines[@]}" 2
	[ "${lines[0]}" != "${lines[1]}" ]
}

@test "no leak across sessions: a worker has as many descriptors after 50 sessions as after 1" {
	fake_start --lifetime 120
	mo_config
	listen_config max_connections=1
	listen_start
	run smtpc send --subject s1
	assert_output '250'
	w=$(one_worker)
	fds1=$(ls "/proc/$w/fd" | wc -l)
	for ((i = 2; i <= 50; i++)); do
		run smtpc send --subject "s$i"
		assert_output '250'
	done
	assert_equal "$(fake_count)" 50
	assert_equal "$(one_worker)" "$w"
	assert_equal "$(session_pids | sort -u)" "$w"
	fds50=$(ls "/proc/$w/fd" | wc -l)
	echo "# worker $w: $fds1 descriptors after 1 session, $fds50 after 50" >&3
	assert_equal "$fds50" "$fds1"
}

@test "no leak across sessions: a login does not carry over; the next client without one gets 530" {
	fake_start
	mo_config
	users_file "printer:$Y_PW"
	listen_config max_connections=1 auth=required users_file="$USERS"
	listen_start
	run smtpc send --user printer --password pw
	assert_output '250'
	w=$(one_worker)
	run smtpc raw "$(hexlines 'EHLO d.test' 'MAIL FROM:<printer@example.org>' 'QUIT')"
	assert_line '530 5.7.0 Authentication required'
	refute_line --regexp '^250 .*Ok'
	assert_equal "$(one_worker)" "$w"
	run smtpc send --user printer --password pw
	assert_output '250'
	assert_equal "$(fake_count)" 2
	assert_equal "$(session_pids | sort -u)" "$w"
}

@test "no leak across sessions: after a STARTTLS session, a plain one in the same worker works" {
	fake_start
	mo_config
	listen_certs
	listen_config max_connections=1 tls_cert_file="$CERT" tls_key_file="$KEY"
	listen_start
	run smtpc send --starttls "$CA" --subject tls
	assert_output '250'
	w=$(one_worker)
	run smtpc send --subject plain
	assert_output '250'
	run smtpc send --starttls "$CA" --subject tls2
	assert_output '250'
	assert_equal "$(fake_count)" 3
	assert_equal "$(one_worker)" "$w"
	assert_equal "$(session_pids | sort -u)" "$w"
}

# stack_dirty PID: the KiB of its stack the process wrote (Private_Dirty of [stack]).
stack_dirty() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { s = ($6 == "[stack]") }
		s && /^Private_Dirty:/ { print $2 }' "/proc/$1/smaps"
}

@test "an idle worker gives back the stack its sessions wrote (at most 64 KiB stays dirty)" {
	fake_start
	mo_config
	listen_config
	listen_start
	for ((i = 1; i <= 5; i++)); do
		run smtpc send --subject "s$i"
		assert_output '250'
	done
	w=$(one_worker)
	# It gives its memory back after 100 ms without a client (RELEASE_AFTER_MS); a loaded
	# machine may take longer to schedule it, so wait up to 5 s for the release.
	for ((i = 0; i < 50; i++)); do
		kib=$(stack_dirty "$w")
		[[ $kib =~ ^[0-9]+$ ]] && [ "$kib" -le 64 ] && break
		sleep 0.1
	done
	echo "# idle worker $w after 5 sessions: stack $kib KiB dirty" >&3
	[[ $kib =~ ^[0-9]+$ ]]
	# A relayed session writes some 100 KiB of stack (about 130 KiB dirty without the
	# release); what stays is the worker's loop, its callers and the 16 KiB kept.
	[ "$kib" -le 64 ]
}

@test "a worker killed with -9 mid-session: its slot is freed, the next connection is served" {
	fake_start
	mo_config
	listen_config max_connections=1
	listen_start
	smtpc hold 1 >"$BATS_TEST_TMPDIR/hold" &
	hold=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $BATS_TEST_TMPDIR/hold ]] && break
		sleep 0.05
	done
	run cat "$BATS_TEST_TMPDIR/hold"
	assert_output --regexp '^220 '
	w=$(one_worker)
	kill -9 "$w"
	sleep 0.3
	# max_connections = 1: a slot still taken by the dead worker would answer 421.
	run smtpc send
	assert_output '250'
	assert_equal "$(fake_count)" 1
	[ "$(session_pids)" != "$w" ]
	wait "$hold" || true
}

@test "session_timeout kills a slow client's worker; the next client is served; an idle worker is never cut" {
	fake_start
	mo_config
	listen_config max_connections=1 session_timeout=2
	listen_start
	# An idle worker's timer is off: it outlives the timeout of the session it served.
	run smtpc send --subject quick
	assert_output '250'
	w=$(one_worker)
	sleep 3
	assert_equal "$(one_worker)" "$w"
	run smtpc raw --wait 4 "$(hexlines 'EHLO d.test')"
	assert_line --regexp '^250'
	assert_line '<closed>'
	sleep 0.3
	run kill -0 "$w"
	assert_failure
	run smtpc send --subject next
	assert_output '250'
	assert_equal "$(fake_count)" 2
	run session_pids
	[ "${lines[1]}" != "$w" ]
}

@test "max_connections counts busy workers only: idle ones leave the slots to clients" {
	fake_start
	mo_config
	listen_config max_connections=2
	listen_start
	for ((i = 1; i <= 5; i++)); do
		run smtpc send --subject "s$i"
		assert_output '250'
	done
	[ -n "$(workers)" ]
	assert_third_refused
}

# greeted I MIN MAX: in smtpc queue's output ($output), connection I got 220 between MIN and
# MAX seconds after it connected.
greeted() {
	local line
	line=$(grep "^$1 " <<<"$output")
	echo "# connection $line" >&3
	awk -v min="$2" -v max="$3" '$2 == "220" && $3 >= min && $3 <= max { ok = 1 } END { exit !ok }' \
		<<<"$line"
}

# pool_of_one [KEY=VALUE...]: the fake relay, and a listener (test build) whose pool forks
# one worker without waiting (MAILOUT_TEST_POOL_WORKERS=1).
pool_of_one() {
	use_test_build
	fake_start
	mo_config
	listen_config "$@"
	export MAILOUT_TEST_POOL_WORKERS=1
	listen_start
}

@test "pool of 1 (test build): a new connection waits for the busy worker to finish and is served by it" {
	pool_of_one
	# Connection 0 holds the worker for 0.2 s, then quits; connection 1 came 0.1 s after it.
	run smtpc queue 2 --release 0.2
	greeted 0 0 0.6
	greeted 1 0.05 0.9
	run workers
	assert_equal "${#lines[@]}" 1
}

@test "pool of 1 (test build): a connection that waited a second gets a worker of its own" {
	pool_of_one
	run smtpc queue 2
	greeted 0 0 0.6
	greeted 1 0.9 2.5
	# Both stay, idle, for the next clients.
	run workers
	assert_equal "${#lines[@]}" 2
	# Both workers serve again: a message through the listener after the two have gone.
	run smtpc send --subject after
	assert_output '250'
}

@test "connections waiting for a worker count against max_connections: the next one gets 421 at once" {
	pool_of_one max_connections=2
	run smtpc queue 3
	greeted 0 0 0.6
	greeted 1 0.9 2.5
	assert_line --regexp '^2 421 0\.[0-5]'
	run grep -c 'listen: refused 127.0.0.1 .*max_connections reached' "$LOG"
	assert_output 1
}

@test "SIGTERM while a connection waits for a worker: it gets 421, then no process remains" {
	pool_of_one
	smtpc queue 2 >"$BATS_TEST_TMPDIR/q" &
	client=$!
	# Both connected (the second 0.1 s after the first), the second not yet a second old.
	for ((i = 0; i < 100; i++)); do
		[[ $(ss -Htn state established "( sport = :$LPORT )" | wc -l) -ge 2 ]] && break
		sleep 0.05
	done
	sleep 0.2
	kill -TERM "$LPID"
	wait "$client"
	run cat "$BATS_TEST_TMPDIR/q"
	greeted 0 0 0.6
	assert_line --regexp '^1 421 '
	assert_group_gone
}

@test "max_connections = 1: a client that sends again as soon as it read the 221 is never refused" {
	fake_start --lifetime 60
	mo_config
	listen_config max_connections=1
	listen_start
	run smtpc again 40
	echo "# codes: $(sort <<<"$output" | uniq -c | tr -s ' \n' ' ')" >&3
	assert_equal "$(grep -c '^250$' <<<"$output")" 40
	assert_equal "$(fake_count)" 40
	run grep -c 'max_connections reached' "$LOG"
	assert_output 0
}

@test "SIGTERM with a session under way: it completes with 250, then no listener or worker remains" {
	fake_start --delay 'dot=2'
	mo_config
	listen_config
	listen_start
	run smtpc send --subject before
	assert_output '250'
	smtpc send --subject during >"$BATS_TEST_TMPDIR/during" &
	client=$!
	wait_data 2
	kill -TERM "$LPID"
	wait "$client"
	run cat "$BATS_TEST_TMPDIR/during"
	assert_output '250'
	assert_equal "$(fake_count)" 2
	assert_group_gone
	run grep -c 'listen: stopped' "$LOG"
	assert_output 1
}

@test "kill -9 of the parent with a session under way: the message is acknowledged and delivered, then no worker remains" {
	fake_start --delay 'dot=2'
	mo_config
	listen_config
	listen_start
	# Two idle workers besides the busy one: they too must notice the parent is gone.
	smtpc hold 2 >/dev/null
	smtpc send --subject during >"$BATS_TEST_TMPDIR/during" &
	client=$!
	wait_data 1
	[ "$(workers | wc -l)" -ge 2 ]
	kill -9 "$LPID"
	wait "$client"
	run cat "$BATS_TEST_TMPDIR/during"
	assert_output '250'
	assert_equal "$(fake_count)" 1
	assert_group_gone
}

#!/usr/bin/env bats
# The durable queue: commit on temporary failure, queue runs, backoff and expiry with a
# test clock (MAILOUT_NOW), failure notices, fallback, locking between concurrent runs,
# full disks, and kill -9 at random and at chosen points.

load lib/common

setup() {
	DISK=
	mo_config
}

teardown() {
	fake_stop
	if [[ -n $DISK ]] && mountpoint -q "$DISK"; then umount "$DISK"; fi
	return 0
}

# A port nothing listens on (tcpmux): "relay down", connection refused.
closed_port() { echo 1; }
# The relay of a test is down by not listening on its port (free_port), and comes back on
# that same port (a queued message is bound to its relay's host and port).
relay_port() {
	[[ -n ${RELAY_PORT:-} ]] || RELAY_PORT=$(free_port)
	echo "$RELAY_PORT"
}

# msg SUBJECT [BODY-LINES]: a message whose last line is "END SUBJECT" (awk: bash loops
# are slow under bats).
msg() {
	awk -v s="$1" -v n="${2:-1}" 'BEGIN {
		printf "From: sender@example.org\nTo: bob@example.net\nSubject: %s\n\n", s
		for (i = 0; i < n; i++) printf "line %d of %s\n", i, s
		printf "END %s\n", s
	}'
}

# down: point the account at a closed port.  up [fakesmtp args]: start a relay, point at it.
down() { relay_port >/dev/null; mo_config port="$(relay_port)" "$@"; }
up() {
	relay_port >/dev/null
	FAKE_DIR=$BATS_TEST_TMPDIR/fake.$((++NFAKE))
	fake_start --port "$RELAY_PORT" "${FAKE_ARGS[@]}"
	mo_config "$@"
}
NFAKE=0
FAKE_ARGS=()

entries() { find "$QUEUE/queue" -name '*.msg' 2>/dev/null | wc -l; }
entry_id() { basename "$(find "$QUEUE/queue" -name '*.msg' | sort | head -1)" .msg; }
meta() { cat "$QUEUE/queue/$(entry_id).meta"; }
meta_key() { meta | sed -n "s/^$1: //p" | head -1; }
# all messages received by every fake relay of this test
all_msgs() { cat "$BATS_TEST_TMPDIR"/fake.*/msg-*.eml 2>/dev/null; }
delivered() { all_msgs | grep -c "^Subject: $1"$'\r'"\$" || true; }

@test "relay down: exit 0, one entry, a warning on stderr and status=queued in the log" {
	down
	run mo bob@example.net < <(msg one)
	assert_success
	assert_output --regexp '^mailout: relay 127\.0\.0\.1:[0-9]+ unavailable \(.*Connection refused\); message queued as [0-9A-F]{19}, will retry after [0-2][0-9]:[0-5][0-9]$'
	assert_equal "$(entries)" 1
	run grep -c 'status=queued' "$LOG"
	assert_output 1
	run meta
	assert_line 'Account: t'
	assert_line 'Sender: sender@example.org'
	assert_line 'Recipient: pending bob@example.net'
	assert_line 'Attempts: 1'
	assert_line --regexp '^Last-Error: .*Connection refused'
	assert_line --regexp '^Uid: [0-9]+$'
	[ -z "$(ls -A "$QUEUE/tmp")" ]
}

@test "relay back: -q delivers it exactly once and the queue is empty" {
	down
	mo bob@example.net < <(msg back 3) 2>/dev/null
	up
	run mo -q
	assert_success
	assert_output ''
	assert_equal "$(delivered back)" 1
	assert_equal "$(entries)" 0
	run mo -q
	assert_equal "$(delivered back)" 1
	run fake_env 1
	assert_line 'RCPT TO:<bob@example.net>'
	run bash -c "tail -c 20 '$FAKE_DIR/msg-1.eml'"
	assert_output --partial 'END back'
	run mo -bp
	assert_output 'Mail queue is empty'
}

@test "queue = off: relay down is exit 75, nothing is queued, no queue directory is made" {
	down queue=off
	run mo bob@example.net < <(msg off)
	assert_failure 75
	assert_equal "$(entries)" 0
	refute_output --partial 'queued as'
	# The spool file was anonymous, in $TMPDIR: not even tmp/ of the queue exists.
	[ ! -e "$QUEUE" ]
	up queue=off
	run mo bob@example.net < <(msg off2)
	assert_success
	assert_equal "$(delivered off2)" 1
	[ ! -e "$QUEUE" ]
}

@test "a permanent refusal is not queued" {
	FAKE_ARGS=(--reply 'dot=554 5.6.0 content rejected')
	up
	run mo bob@example.net < <(msg perm)
	assert_failure 65
	assert_equal "$(entries)" 0
}

@test "mailq and -bp: id, size, arrival, sender, last error, next attempt, recipients" {
	run mo -bp
	assert_success
	assert_output 'Mail queue is empty'
	down
	mo bob@example.net carol@example.net < <(msg listed) 2>/dev/null
	id=$(entry_id)
	ln -s "$MAILOUT" "$BATS_TEST_TMPDIR/mailq"
	run "$BATS_TEST_TMPDIR/mailq" -C "$CONF"
	assert_success
	assert_line --index 0 --regexp '^-Queue ID- +--Size-- +----Arrival Time---- +-Sender/Recipient-+$'
	assert_line --index 1 --regexp "^$id +[0-9]+ [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} +sender@example.org$"
	assert_line --regexp "^    \\(cannot connect to 127\\.0\\.0\\.1 port $RELAY_PORT: Connection refused\\)\$"
	assert_line --regexp '^    account t, 1 attempt, next attempt [A-Z][a-z]{2} '
	assert_line --regexp '^ {50}bob@example.net$'
	assert_line --regexp '^ {50}carol@example.net$'
	assert_line --regexp '^-- [0-9]+ Kbytes in 1 Request\.$'
}

@test "accepted recipients are never sent again; only the pending one is retried" {
	FAKE_ARGS=(--reply 'rcpt:carol@example.net=451 4.2.0 mailbox busy')
	up
	run mo bob@example.net carol@example.net < <(msg partial)
	assert_success
	assert_output --partial 'message queued as'
	assert_equal "$(fake_count)" 1
	run meta
	assert_line 'Recipient: sent bob@example.net'
	assert_line 'Recipient: pending carol@example.net'
	assert_line 'Reply: 451 4.2.0 mailbox busy'
	fake_stop
	FAKE_ARGS=()
	up
	run mo -q
	assert_success
	run fake_env 1
	assert_line 'RCPT TO:<carol@example.net>'
	refute_line 'RCPT TO:<bob@example.net>'
	assert_equal "$(entries)" 0
}

@test "connection lost after the final dot: the message stays queued (a duplicate beats a loss)" {
	FAKE_ARGS=(--disconnect dot)
	up
	run mo bob@example.net < <(msg ambiguous)
	assert_success
	assert_output --partial 'message queued as'
	assert_output --partial 'before the server confirmed it'
	assert_equal "$(entries)" 1
	fake_stop
	FAKE_ARGS=()
	up
	mo -q
	assert_equal "$(delivered ambiguous)" 1
	assert_equal "$(entries)" 0
}

@test "backoff: --queue-run waits for the next attempt; a minute, doubling, capped at an hour" {
	use_test_build
	T0=$(date +%s)
	down
	MAILOUT_NOW=$T0 mo bob@example.net < <(msg backoff) 2>/dev/null
	next=$(meta_key Next-Attempt)
	(( next - T0 >= 48 && next - T0 <= 60 ))
	MAILOUT_NOW=$((T0 + 30)) mo --queue-run
	assert_equal "$(meta_key Attempts)" 1
	T1=$((T0 + 61))
	MAILOUT_NOW=$T1 mo --queue-run
	assert_equal "$(meta_key Attempts)" 2
	assert_equal "$(meta_key Last-Attempt)" "$T1"
	next=$(meta_key Next-Attempt)
	(( next - T1 >= 96 && next - T1 <= 120 ))
	# -q tries at once, whatever the schedule says
	MAILOUT_NOW=$((T1 + 1)) mo -q
	assert_equal "$(meta_key Attempts)" 3
	T2=$((T1 + 1))
	next=$(meta_key Next-Attempt)
	(( next - T2 >= 192 && next - T2 <= 240 ))
	f="$QUEUE/queue/$(entry_id).meta"
	sed -i 's/^Attempts: .*/Attempts: 20/' "$f"
	MAILOUT_NOW=$((T2 + 1)) mo -q
	next=$(meta_key Next-Attempt)
	(( next - T2 - 1 >= 2880 && next - T2 - 1 <= 3600 ))
}

@test "expiry: after queue_lifetime the sender gets an RFC 3464 notice and the entry moves to failed/" {
	use_test_build
	FAKE_ARGS=(--reply 'rcpt:bob@example.net=451 4.2.0 mailbox busy')
	up
	T0=$(date +%s)
	MAILOUT_NOW=$T0 mo bob@example.net < <(msg expiring) 2>/dev/null
	id=$(entry_id)
	MAILOUT_NOW=$((T0 + 4 * 86400)) mo --queue-run
	assert_equal "$(entries)" 1
	assert_equal "$(fake_count)" 0
	MAILOUT_NOW=$((T0 + 5 * 86400 + 10)) mo --queue-run
	assert_equal "$(entries)" 0
	[[ -e $QUEUE/failed/$id.msg && -e $QUEUE/failed/$id.meta ]]
	run grep '^Expired: [1-9]' "$QUEUE/failed/$id.meta"
	assert_success
	assert_equal "$(fake_count)" 1
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<> '
	assert_line --index 1 --regexp '^RCPT TO:<sender@example.org>'
	run fake_msg 1
	assert_output --partial $'Content-Type: multipart/report; report-type=delivery-status;'
	assert_output --partial $'To: <sender@example.org>\r\n'
	assert_output --partial $'Auto-Submitted: auto-replied\r\n'
	assert_output --partial $'Content-Type: message/delivery-status\r\n'
	assert_output --partial $'Final-Recipient: rfc822; bob@example.net\r\nAction: failed\r\nStatus: 4.4.7\r\n'
	assert_output --partial $'Diagnostic-Code: smtp; 451 4.2.0 mailbox busy\r\n'
	assert_output --partial $'Content-Type: text/rfc822-headers\r\n\r\nFrom: sender@example.org\r\n'
	assert_output --partial $'Subject: expiring\r\n'
	refute_output --partial 'END expiring'
	run grep -c 'status=expired' "$LOG"
	assert_output 1
}

@test "a permanent refusal during a run: a notice with the relay's words, the entry is done" {
	FAKE_ARGS=(--reply 'rcpt:bob@example.net=451 4.2.0 later')
	up
	mo bob@example.net < <(msg refused) 2>/dev/null
	fake_stop
	FAKE_ARGS=(--reply 'rcpt:bob@example.net=550 5.1.1 no such user')
	up
	run mo -q
	assert_success
	assert_equal "$(entries)" 0
	assert_equal "$(fake_count)" 1
	run fake_msg 1
	assert_output --partial $'Status: 5.1.1\r\n'
	assert_output --partial $'Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n'
}

@test "no notice for the null sender, none about a notice; a notice waits in the queue too" {
	use_test_build
	down
	T0=$(date +%s)
	MAILOUT_NOW=$T0 mo -f '<>' bob@example.net < <(msg nullsender) 2>/dev/null
	MAILOUT_NOW=$T0 mo bob@example.net < <(msg withsender) 2>/dev/null
	assert_equal "$(entries)" 2
	MAILOUT_NOW=$((T0 + 5 * 86400 + 1)) mo --queue-run
	# both expired; only the one with a sender produced a notice, queued (relay down)
	assert_equal "$(ls "$QUEUE"/failed/*.msg | wc -l)" 2
	assert_equal "$(entries)" 1
	run meta
	assert_line 'Notice: yes'
	assert_line 'Sender: '
	assert_line 'Recipient: pending sender@example.org'
	run mo -bp
	assert_output --partial '(failure notice)'
	MAILOUT_NOW=$((T0 + 11 * 86400)) mo --queue-run
	assert_equal "$(entries)" 0
	assert_equal "$(ls "$QUEUE"/failed/*.msg | wc -l)" 3
}

@test "an entry locked by another process is skipped by -q and cannot be removed" {
	down
	mo bob@example.net < <(msg locked) 2>/dev/null
	id=$(entry_id)
	up
	run flock -n "$QUEUE/queue/$id.msg" "$MAILOUT" -C "$CONF" -q
	assert_success
	assert_equal "$(fake_count)" 0
	run grep -c 'busy=1' "$LOG"
	assert_output 1
	run flock -n "$QUEUE/queue/$id.msg" "$MAILOUT" -C "$CONF" --remove "$id"
	assert_failure 75
	assert_output --partial 'being delivered right now'
	mo -q
	assert_equal "$(delivered locked)" 1
}

@test "some refused, some deferred, some accepted: exit 0, the notice goes out at once" {
	FAKE_ARGS=(--reply 'rcpt:bad@example.net=550 5.1.1 no such user'
		--reply 'rcpt:later@example.net=451 4.2.0 busy')
	up
	run mo good@example.net bad@example.net later@example.net < <(msg mixed)
	assert_success
	assert_line 'mailout: recipient <bad@example.net> refused: 550 5.1.1 no such user'
	assert_line --partial 'message queued as'
	assert_equal "$(entries)" 1
	run meta
	assert_line 'Recipient: sent good@example.net'
	assert_line 'Recipient: failed bad@example.net'
	assert_line 'Notified: yes'
	assert_line 'Recipient: pending later@example.net'
	# the message to good, then the notice to the sender about bad
	assert_equal "$(fake_count)" 2
	run fake_env 2
	assert_line --index 0 --regexp '^MAIL FROM:<> '
	run fake_msg 2
	assert_output --partial $'Final-Recipient: rfc822; bad@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n'
	refute_output --partial 'later@example.net'
}

@test "NOTIFY=NEVER (-N never): no notice on expiry" {
	use_test_build
	FAKE_ARGS=(--reply 'rcpt:bob@example.net=451 4.2.0 busy')
	up
	T0=$(date +%s)
	MAILOUT_NOW=$T0 mo -N never bob@example.net < <(msg never) 2>/dev/null
	id=$(entry_id)
	MAILOUT_NOW=$((T0 + 6 * 86400)) mo --queue-run
	assert_equal "$(entries)" 0
	[ -e "$QUEUE/failed/$id.msg" ]
	assert_equal "$(fake_count)" 0
	run grep -c 'status=notice' "$LOG"
	assert_output 0
}

@test "-qI<id> flushes one entry; --remove deletes one; unknown ids are errors" {
	down
	mo bob@example.net < <(msg first) 2>/dev/null
	mo bob@example.net < <(msg second) 2>/dev/null
	first=$(entry_id)
	up
	run mo -qI"$first"
	assert_success
	assert_equal "$(delivered first)" 1
	assert_equal "$(delivered second)" 0
	second=$(entry_id)
	run mo --remove "$second"
	assert_success
	assert_equal "$(entries)" 0
	run grep -c "queue=$second .*status=removed" "$LOG"
	assert_output 1
	run mo --remove "$second"
	assert_failure 64
	assert_output --partial "no queue entry $second"
	run mo --remove ../../etc/passwd
	assert_failure 64
	run mo -qIFFFFFFFF
	assert_failure 64
}

@test "every log line about a message names the local user who submitted it" {
	local me st kept removed
	use_test_build
	me="user=$(id -un) uid=$(id -u)"
	T0=$(date +%s)
	down
	MAILOUT_NOW=$T0 mo bob@example.net < <(msg kept) 2>/dev/null
	kept=$(entry_id)
	MAILOUT_NOW=$T0 mo bob@example.net < <(msg removed) 2>/dev/null
	removed=$(basename "$(find "$QUEUE/queue" -name '*.msg' ! -name "$kept.msg")" .msg)
	mo --remove "$removed"
	MAILOUT_NOW=$((T0 + 60)) mo --queue-run
	FAKE_ARGS=(--reply 'rcpt:bad@example.net=550 5.1.1 no such user'
		--reply 'rcpt:later@example.net=451 4.2.0 busy')
	up
	MAILOUT_NOW=$T0 mo -q
	MAILOUT_NOW=$T0 mo bad@example.net < <(msg refused) 2>/dev/null || true
	MAILOUT_NOW=$T0 mo bob@example.net bad@example.net later@example.net < <(msg some) 2>/dev/null
	MAILOUT_NOW=$((T0 + 6 * 86400)) mo --queue-run
	for st in queued removed deferred sent failed notice expired; do
		run grep -c -- "$me .*status=$st" "$LOG"
		[[ $output -ge 1 ]] || fail "no status=$st line with $me: $(cat "$LOG")"
	done
	# and none without it
	run grep -c 'status=' "$LOG"
	assert_equal "$(grep -c -- "$me .*status=" "$LOG")" "$output"
}

@test "a log file another process creates at the same moment is appended to, not lost" {
	# The race, made certain: strace makes the first open of the log say "missing" although
	# it exists, so the O_EXCL create meets the file another sender made (EEXIST).
	down
	touch "$LOG"
	# LeakSanitizer cannot run under ptrace (the ASan build): leaks are checked elsewhere.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run --separate-stderr strace -f -qq -o /dev/null -P "$LOG" -e trace=openat \
		-e inject=openat:error=ENOENT:when=1 "$MAILOUT" -C "$CONF" bob@example.net \
		< <(msg race)
	assert_success
	[[ $stderr != *"cannot log"* ]] || fail "$stderr"
	assert_equal "$(grep -c 'status=queued' "$LOG")" 1
	assert_equal "$(entries)" 1
}

@test "fallback relay takes the message while the primary is down; -q tries it too" {
	up
	dead=$(closed_port)
	cat >"$CONF" <<EOF
[defaults]
account = t
queue_dir = $QUEUE
logfile = $LOG
syslog = off
aliases = $(test_aliases)
[t]
host = 127.0.0.1
port = $dead
tls = off
from = sender@example.org
fallback = backup
[backup]
host = 127.0.0.1
port = $FAKE_PORT
tls = off
EOF
	run mo bob@example.net < <(msg viafallback)
	assert_success
	assert_output ''
	assert_equal "$(delivered viafallback)" 1
	assert_equal "$(entries)" 0
	run grep 'account=backup .*status=sent' "$LOG"
	assert_success
	# both down: queued; the fallback comes back (on its port): -q delivers through it
	fake_stop
	run mo bob@example.net < <(msg queuedfallback)
	assert_success
	assert_equal "$(entries)" 1
	FAKE_DIR=$BATS_TEST_TMPDIR/fake.back fake_start --port "$RELAY_PORT"
	run mo -q
	assert_success
	assert_equal "$(delivered queuedfallback)" 1
	assert_equal "$(entries)" 0
}

@test "one connection carries a whole run, with no RSET between messages" {
	down
	for i in 1 2 3; do mo bob@example.net < <(msg "rset$i") 2>/dev/null; done
	up
	mo -q
	assert_equal "$(fake_count)" 3
	assert_equal "$(ls "$FAKE_DIR"/transcript.* | wc -l)" 1
	run grep -c '^MAIL' "$FAKE_DIR/transcript.1"
	assert_output 3
	run grep -c '^RSET' "$FAKE_DIR/transcript.1"
	assert_output 0
}

@test "a run that delivers many messages syncs the queue directory once, not per message" {
	need strace
	down
	for i in 1 2 3 4; do mo bob@example.net < <(msg "sync$i") 2>/dev/null; done
	up
	# LeakSanitizer cannot run under ptrace
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -y -e trace=fsync -o "$BATS_TEST_TMPDIR/st" "$MAILOUT" -C "$CONF" -q
	assert_equal "$(fake_count)" 4
	assert_equal "$(entries)" 0
	run grep -c "fsync([0-9]*<$QUEUE/queue>)" "$BATS_TEST_TMPDIR/st"
	assert_output 1
}

@test "a failed transaction in a run is closed with RSET; the next message still goes" {
	down
	for i in 1 2; do mo bob@example.net < <(msg "rsetfail$i") 2>/dev/null; done
	FAKE_ARGS=(--reply 'mail:1@1=451 4.3.0 try later')
	up
	mo -q
	assert_equal "$(fake_count)" 1
	assert_equal "$(entries)" 1
	assert_equal "$(ls "$FAKE_DIR"/transcript.* | wc -l)" 1
	run grep -c '^RSET' "$FAKE_DIR/transcript.1"
	assert_output 1
}

@test "a relay that drops a used session: the next message goes on a new connection" {
	down
	for i in 1 2 3; do mo bob@example.net < <(msg "dropped$i") 2>/dev/null; done
	FAKE_ARGS=(--disconnect 'mail:2@1')
	up
	run mo -q
	assert_success
	for i in 1 2 3; do assert_equal "$(delivered "dropped$i")" 1; done
	assert_equal "$(entries)" 0
	assert_equal "$(ls "$FAKE_DIR"/transcript.* | wc -l)" 2
}

@test "421 to MAIL on a used session: one new connection, then the run goes on" {
	down
	for i in 1 2 3; do mo bob@example.net < <(msg "limit$i") 2>/dev/null; done
	FAKE_ARGS=(--reply 'mail:2@1=421 4.7.0 too many messages in this session'
		--reply 'mail:1@2=421 4.7.0 still no')
	up
	run mo -q
	assert_success
	# the second message: 421 on the used session, 421 again on a new one: it waits;
	# the third takes a third connection
	assert_equal "$(fake_count)" 2
	assert_equal "$(entries)" 1
	assert_equal "$(ls "$FAKE_DIR"/transcript.* | wc -l)" 3
	run grep -c '^MAIL' "$FAKE_DIR/transcript.2"
	assert_output 1
}

@test "after a direct send, the account's due entries go out on the same connection" {
	use_test_build
	T0=$(date +%s)
	down
	MAILOUT_NOW=$T0 mo bob@example.net < <(msg waiting) 2>/dev/null
	up
	# not due yet: the direct send leaves it alone
	MAILOUT_NOW=$((T0 + 10)) mo bob@example.net < <(msg direct1)
	assert_equal "$(delivered waiting)" 0
	assert_equal "$(entries)" 1
	MAILOUT_NOW=$((T0 + 120)) mo bob@example.net < <(msg direct2)
	assert_equal "$(delivered waiting)" 1
	assert_equal "$(entries)" 0
	assert_equal "$(ls "$FAKE_DIR"/transcript.* | wc -l)" 2
}

@test "two -q at once never send one message twice" {
	down
	for i in $(seq 1 16); do mo bob@example.net < <(msg "twice$i") 2>/dev/null; done
	FAKE_ARGS=(--delay 'dot=0.02')
	up
	mo -q & p1=$!
	mo -q & p2=$!
	wait $p1
	wait $p2
	for i in $(seq 1 16); do assert_equal "$(delivered "twice$i")" 1; done
	assert_equal "$(entries)" 0
	run grep -o 'busy=[0-9]*' "$LOG"
	echo "# concurrent runs: $(echo "$output" | tr '\n' ' ')" >&3
}

@test "a relay that hangs does not delay another account beyond its timeout" {
	slow_dir=$BATS_TEST_TMPDIR/fake.slow
	slow=$(free_port)
	fast=$(free_port)
	conf() {
		cat >"$CONF" <<EOF
[defaults]
queue_dir = $QUEUE
logfile = $LOG
syslog = off
aliases = $(test_aliases)
[slow]
host = 127.0.0.1
port = $1
tls = off
from = slow@example.org
timeout = 3
[fast]
host = 127.0.0.1
port = $2
tls = off
from = fast@example.org
EOF
	}
	# Both relays down (nothing on their ports) while the messages are queued.
	conf "$slow" "$fast"
	mo -a slow bob@example.net < <(msg hung) 2>/dev/null
	mo -a fast bob@example.net < <(msg quick) 2>/dev/null
	FAKE_DIR=$slow_dir fake_start --port "$slow" --delay 'greeting=20'
	FAKE_DIR=$BATS_TEST_TMPDIR/fake.fast fake_start --port "$fast"
	start=$(date +%s%N)
	mo -q & qpid=$!
	for ((i = 0; i < 300; i++)); do
		[ -e "$BATS_TEST_TMPDIR/fake.fast/msg-1.eml" ] && break
		sleep 0.01
	done
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	wait $qpid
	total=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "# fast account delivered after ${took} ms; the run ended after ${total} ms" >&3
	[ -e "$BATS_TEST_TMPDIR/fake.fast/msg-1.eml" ]
	[ "$took" -lt 2000 ]
	[ "$total" -lt 8000 ]
	assert_equal "$(entries)" 1
}

# on_small_disk SCRIPT: bash -c SCRIPT with a 64 KiB tmpfs on $DISK, mounted in a private
# mount namespace (unshare -m): nothing is mounted on the machine, and the disk goes away
# with the script, so SCRIPT itself lists what is left on it ("left: FILE").
on_small_disk() {
	mkdir -p "$DISK"
	unshare -m bash -c 'mount -t tmpfs -o size=64k tmpfs "$DISK" ||
		{ echo "cannot mount a tmpfs on $DISK" >&2; exit 99; }
		'"$1"'
		rc=$?
		find "$DISK/q" -type f | sed "s/^/left: /"
		exit $rc'
}

@test "full disk: intake fails with 73/74 and nothing is left behind" {
	export DISK=$BATS_TEST_TMPDIR/disk
	down queue_dir="$DISK/q"
	run on_small_disk '"$MAILOUT" -C "$CONF" bob@example.net' < <(msg big 5000)
	echo "$output"
	[[ $status -eq 73 || $status -eq 74 ]]
	refute_line --partial 'left: '
}

@test "full disk at commit: exit 74, no entry, no spool file, no metadata" {
	export DISK=$BATS_TEST_TMPDIR/disk
	down queue_dir="$DISK/q"
	# fill the disk, then free three pages: room for the message, none for its metadata;
	# the message is about 10.5 KB: the three pages, and nothing after it
	run on_small_disk '
		mkdir -p "$DISK/q/tmp" "$DISK/q/queue" "$DISK/q/failed"
		dd if=/dev/zero of="$DISK/fill" bs=4096 2>/dev/null || true
		truncate -s $(( $(stat -c %s "$DISK/fill") - 3 * 4096 )) "$DISK/fill"
		"$MAILOUT" -C "$CONF" bob@example.net' < <(msg commitfull 440)
	echo "$output"
	[[ $status -eq 73 || $status -eq 74 ]]
	assert_output --partial 'NOT queued'
	refute_line --partial 'left: '
}

@test "file size limit (ulimit -f): exit 74, nothing left behind" {
	down
	run bash -c 'ulimit -f 8; "$1" -C "$2" bob@example.net' _ "$MAILOUT" "$CONF" \
		< <(msg limited 2000)
	[[ $status -eq 73 || $status -eq 74 ]]
	[ -z "$(find "$QUEUE" -type f 2>/dev/null)" ]
}

@test "unwritable queue: exit 73 with a clear error, the spool file removed" {
	down
	mkdir -p "$QUEUE/tmp"
	: >"$QUEUE/queue"
	run mo bob@example.net < <(msg nowhere)
	assert_failure 73
	assert_output --partial 'NOT queued'
	[ -z "$(ls -A "$QUEUE/tmp")" ]
}

@test "debris is cleaned after a day; a corrupt entry is reported, left alone, removable" {
	down
	mkdir -p "$QUEUE/tmp" "$QUEUE/queue"
	echo old >"$QUEUE/tmp/oldspool"
	touch -d '2 days ago' "$QUEUE/tmp/oldspool"
	echo new >"$QUEUE/tmp/newspool"
	mo bob@example.net < <(msg corrupt) 2>/dev/null
	id=$(entry_id)
	echo garbage >"$QUEUE/queue/$id.meta"
	run mo -q
	assert_success
	[[ ! -e $QUEUE/tmp/oldspool && -e $QUEUE/tmp/newspool ]]
	assert_equal "$(entries)" 1
	run grep "queue=$id user=? uid=? status=error" "$LOG"
	assert_success
	run mo -bp
	assert_output --partial "$id  (unreadable:"
	run mo --remove "$id"
	assert_success
	assert_equal "$(entries)" 0
}

# tmp_files: the names in the queue's tmp/, one a line.
tmp_files() { ls -A "$QUEUE/tmp" 2>/dev/null; }
# wait_tmp N: until tmp/ holds N files (a sendmail has created its spool file).
wait_tmp() {
	local i
	for ((i = 0; i < 500; i++)); do
		[[ $(tmp_files | wc -l) -eq $1 ]] && return 0
		sleep 0.01
	done
	echo "tmp/ holds $(tmp_files | wc -l) files, not $1" >&2
	return 1
}

@test "a sendmail killed mid-message leaves its spool file; the next send removes it, not a live one's" {
	local dead live deadf livef
	up
	mkfifo "$BATS_TEST_TMPDIR/in.dead" "$BATS_TEST_TMPDIR/in.live"
	# cronie kills sendmail (SIGKILL) while it still reads the job's output
	"$MAILOUT" -C "$CONF" bob@example.net <"$BATS_TEST_TMPDIR/in.dead" & dead=$!
	exec 5>"$BATS_TEST_TMPDIR/in.dead"
	printf 'Subject: killed\n\nthe first half of the output\n' >&5
	wait_tmp 1
	deadf=$(tmp_files)
	kill -9 "$dead"
	wait "$dead" || true
	exec 5>&-
	# a live sendmail whose job writes slowly
	"$MAILOUT" -C "$CONF" bob@example.net <"$BATS_TEST_TMPDIR/in.live" & live=$!
	exec 6>"$BATS_TEST_TMPDIR/in.live"
	printf 'Subject: slow\n\nthe first half\n' >&6
	wait_tmp 2
	livef=$(tmp_files | grep -vx "$deadf")
	# both written to last more than a minute ago
	touch -d '2 minutes ago' "$QUEUE/tmp/$deadf" "$QUEUE/tmp/$livef"
	run mo bob@example.net < <(msg next)
	assert_success
	run tmp_files
	assert_output "$livef"
	printf 'the second half\n' >&6
	exec 6>&-
	wait "$live"
	assert_equal "$(delivered slow)" 1
	run grep -c 'the second half' "$FAKE_DIR/msg-2.eml"
	assert_output 1
	assert_equal "$(delivered killed)" 0
	assert_equal "$(tmp_files | wc -l)" 0
}

# kill -9 everywhere: 30 rounds. Every message must end delivered or still queued, intact
# (its END line arrived), and a duplicate is allowed only where the relay had accepted it
# and the record had not been written yet.
@test "kill -9 rounds: nothing lost, nothing corrupted, duplicates only when ambiguous" {
	use_test_build
	down
	local accepted=() killed_intake=0 i rc ambiguous=0
	# 1. 10 rounds of kill -9 at a random moment of intake or commit (relay down).
	for i in $(seq 1 10); do msg "k$i" $((RANDOM % 3000)) >"$BATS_TEST_TMPDIR/k$i"; done
	for i in $(seq 1 10); do
		"$MAILOUT" -C "$CONF" bob@example.net <"$BATS_TEST_TMPDIR/k$i" 2>/dev/null &
		pid=$!
		sleep "$(printf '0.%03d' $((RANDOM % 45)))"
		kill -9 $pid 2>/dev/null || true
		rc=0
		wait $pid || rc=$?
		if [ $rc -eq 0 ]; then accepted+=("k$i"); else killed_intake=$((killed_intake + 1)); fi
	done
	# 2. 6 rounds killed at chosen points of the commit.
	for i in 1 2 3; do
		rc=0
		MAILOUT_TEST_CRASH=commit-meta "$MAILOUT" -C "$CONF" bob@example.net \
			< <(msg "cm$i") 2>/dev/null || rc=$?
		assert_equal "$rc" 137
		rc=0
		MAILOUT_TEST_CRASH=commit-msg "$MAILOUT" -C "$CONF" bob@example.net \
			< <(msg "cq$i") 2>/dev/null || rc=$?
		assert_equal "$rc" 137
	done
	# a crash after the message's rename: the entry is complete, even without exit 0
	for i in 1 2 3; do accepted+=("cq$i"); done
	# the entry is there whenever the process got as far as the rename
	for f in "$QUEUE"/queue/*.msg; do
		[ -e "$f" ] || continue
		[ -e "${f%.msg}.meta" ]
		s=$(sed -n 's/^Subject: //p' "$f" | tr -d '\r')
		[[ " ${accepted[*]} " == *" $s "* ]] || accepted+=("$s")
	done
	for i in 1 2 3; do assert_equal "$(grep -l "^Subject: cm$i" "$QUEUE"/queue/*.msg 2>/dev/null | wc -l)" 0; done
	run mo -bp
	refute_output --partial 'unreadable'
	queued_before=$(entries)

	# Work for the runs below: 20 more messages, queued cleanly.
	for i in $(seq 1 20); do
		mo bob@example.net < <(msg "q$i" $((RANDOM % 200))) 2>/dev/null
		accepted+=("q$i")
	done
	# 3. 10 rounds of kill -9 at a random moment of a queue run: 5 with a relay that
	# takes 10 ms to answer the final dot (most kills land in that ambiguous wait), 5
	# with a fast relay (kills land in our own bookkeeping: fsync, rename, unlink).
	for delay in 0.01 0; do
		FAKE_ARGS=(--delay "dot=$delay")
		up
		for i in 1 2 3 4 5; do
			"$MAILOUT" -C "$CONF" -q 2>/dev/null &
			pid=$!
			sleep "$(printf '0.%03d' $((RANDOM % 40)))"
			kill -9 $pid 2>/dev/null || true
			wait $pid || true
			ambiguous=$((ambiguous + 1))
		done
		fake_stop
	done
	FAKE_ARGS=()
	# 4. 4 rounds killed at chosen points of a run: after the relay accepted (the one
	# ambiguous window: a duplicate is expected), and between removing the two files.
	down
	for i in 1 2 3 4; do
		mo bob@example.net < <(msg "r$i") 2>/dev/null
		accepted+=("r$i")
	done
	up
	for point in run-sent run-sent remove-msg remove-msg; do
		rc=0
		MAILOUT_TEST_CRASH=$point "$MAILOUT" -C "$CONF" -q 2>/dev/null || rc=$?
		assert_equal "$rc" 137
	done
	ambiguous=$((ambiguous + 2))
	queued_after_kills=$(entries)
	delivered_before_flush=$(all_msgs | grep -c '^Subject: ' || true)

	# Finally a clean run: everything still queued goes out.
	mo -q
	assert_equal "$(entries)" 0
	lost=0 dups=0 ok=0
	for s in "${accepted[@]}"; do
		n=$(delivered "$s")
		if [ "$n" -eq 0 ]; then lost=$((lost + 1)); echo "lost: $s"; fi
		if [ "$n" -gt 1 ]; then dups=$((dups + n - 1)); fi
		if [ "$n" -ge 1 ]; then ok=$((ok + 1)); fi
	done
	# Each extra delivery must be ambiguous: on its connection the client sent nothing after
	# the final dot, so it never learnt (or never recorded) that the relay had taken it.
	run python3 - "$BATS_TEST_TMPDIR" <<'PY'
import glob, json, os, re, sys
per = {}
for d in glob.glob(os.path.join(sys.argv[1], 'fake.*')):
    ev = [json.loads(l) for l in open(os.path.join(d, 'events'), encoding='utf-8')]
    for i, e in enumerate(ev):
        if e.get('event') != 'message' or not e.get('accepted'):
            continue
        later = any(x.get('conn') == e['conn'] and x.get('dir') == 'c2s' for x in ev[i + 1:])
        body = open(os.path.join(d, e['file']), 'rb').read().decode('latin-1')
        subj = re.search(r'^Subject: (.*?)\r$', body, re.M).group(1)
        n, amb = per.get(subj, (0, 0))
        per[subj] = (n + 1, amb + (0 if later else 1))
bad = [s for s, (n, a) in per.items() if n > 1 and a < n - 1]
print('unexplained duplicates: %d %s' % (len(bad), ' '.join(bad)))
print('ambiguous deliveries: %d' % sum(a for n, a in per.values()))
PY
	assert_line --index 0 'unexplained duplicates: 0 '
	amb=${lines[1]#ambiguous deliveries: }
	# intact: every delivered message carries its own END line
	for f in "$BATS_TEST_TMPDIR"/fake.*/msg-*.eml; do
		s=$(sed -n 's/^Subject: //p' "$f" | tr -d '\r')
		tail -c 200 "$f" | grep -q "^END $s"$'\r'"\$"
	done
	echo "# kill -9: 30 rounds; accepted ${#accepted[@]} (24 of them queued cleanly) (intake kills before exit 0: $killed_intake); queued after commit rounds $queued_before; delivered during killed runs $delivered_before_flush, still queued $queued_after_kills; finally delivered $ok, duplicates $dups (deliveries left unconfirmed by a kill: $amb), lost $lost" >&3
	assert_equal "$lost" 0
	[ "$dups" -le "$ambiguous" ]
}

@test "systemd units and cron file are well-formed" {
	top=$BATS_TEST_DIRNAME/..
	run grep -E '^ExecStart=.*mailout --queue-run$' "$top/systemd/mailout-queue.service"
	assert_success
	run grep -E '^OnUnitActiveSec=' "$top/systemd/mailout-queue.timer"
	assert_success
	run grep -E '^\*/5 \* \* \* \* root .*mailout --queue-run' "$top/systemd/mailout.cron"
	assert_success
	if command -v systemd-analyze >/dev/null; then
		d=$BATS_TEST_TMPDIR/units
		mkdir -p "$d"
		sed "s|^ExecStart=[^ ]*|ExecStart=$MAILOUT|" "$top/systemd/mailout-queue.service" \
			>"$d/mailout-queue.service"
		cp "$top/systemd/mailout-queue.timer" "$d/"
		# the man page is not installed here: that complaint is expected
		run bash -c "systemd-analyze verify '$d/mailout-queue.timer' \
			'$d/mailout-queue.service' 2>&1 | grep -v 'man mailout'"
		refute_output --partial 'mailout-queue'
	fi
}

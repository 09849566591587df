#!/usr/bin/env bats
# System mode (make install-system): one setgid install serves every user of a server and
# none of them can read the relay secret, the queue or another user's mail.
#
# The binary is built with its system paths inside $SYS (SYSCONFDIR, LOCALSTATEDIR: the
# only difference from a real install; nothing on this machine's /etc, /usr or /var is
# touched) and installed by the real `make install-system` as setgid group $GRP. Two real
# unprivileged users made here (one like www-data, one like alice) run it through
# runuser with a clean environment, against a fake relay that requires the secret.
# uninstall-system is the last test; teardown_file removes the users, group and files.

bats_require_minimum_version 1.5.0
load lib/common
load lib/system

SECRET=sys-Secret-27182818
TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

# The install tree, group and users are named after this checkout (SYS_ID): suites of
# other checkouts running on the same machine must not install into, or remove, each
# other's; a run of this one reuses its system build (test/.cache/build-system).
SYS_ID=$(printf '%s' "$TOP" | sha1sum | cut -c1-6)
sys_names() {
	SYS=/tmp/mailout-system-test.$SYS_ID
	GRP=mo-sys$SYS_ID
	WWW=mo-www$SYS_ID
	ALICE=mo-alice$SYS_ID
	SENDMAIL=$SYS/usr/sbin/sendmail
	SPOOL=$SYS/var/spool/mailout
	PWFILE=$SYS/etc/mailout/t.password
}

# The ASan pass of test/run gets an ASan+UBSan system build without LeakSanitizer
# (lib/system.bash says why).
sys_build system
RUN_ENV=(PATH=/usr/bin:/bin)
# sys_make: the make variables of this run's system install.
sys_make() {
	SYS_MAKE=(BUILD="$SYS_BUILD" CFLAGS="$SYS_CFLAGS" LDFLAGS="$SYS_LDFLAGS" PREFIX="$SYS/usr"
		SYSCONFDIR="$SYS/etc" LOCALSTATEDIR="$SYS/var"
		SYSTEMDUNITDIR="$SYS/lib/systemd/system" MAILOUT_GROUP="$GRP"
		SENDMAIL_LINKS="$SYS/links/sbin/sendmail $SYS/links/lib/sendmail")
}
sys_names
sys_make

sys_cleanup() {
	rm -rf "$SYS"
	sys_del_user "$WWW"
	sys_del_user "$ALICE"
	# system-install makes a user of the group's name for the listener (run_as).
	sys_del_group "$GRP"
}

setup_file() {
	local u
	sys_cleanup
	mkdir -p "$SYS/links/lib"
	chmod 755 "$SYS"
	# Another MTA's sendmail: install-system keeps it aside, uninstall-system puts it back.
	echo 'previous MTA' >"$SYS/links/lib/sendmail"
	sys_install || return 1
	cp "$SYS/etc/sendmail.conf" "$BATS_FILE_TMPDIR/installed.conf"
	for u in "$WWW" "$ALICE"; do
		sys_add_user "$u"
	done
	# What the README tells the administrator to do with the relay password.
	printf '%s\n' "$SECRET" | install -m 640 -o root -g "$GRP" /dev/stdin "$PWFILE"
	mkdir -m 755 "$SYS/pub"
}

teardown_file() {
	sys_cleanup
}

setup() {
	# every test starts with an empty queue
	if [[ -d $SPOOL ]]; then find "$SPOOL" -mindepth 2 -type f -delete; fi
	fake_start --auth-mechs PLAIN --user relay@example.org --password "$SECRET" --require-auth
	sys_config "$FAKE_PORT" "password_file = $PWFILE"
}

teardown() {
	fake_stop
	if [[ -n ${IDP_PID:-} ]]; then
		kill "$IDP_PID" 2>/dev/null || true
		wait "$IDP_PID" 2>/dev/null || true
	fi
	rm -f "$SYS/etc/mailout/app.key" "$SYS/etc/mailout/app.pem" \
		"$SYS/var/lib/mailout/oauth2-t.json" "$SYS/var/lib/mailout/oauth2-t.json.lock"
	# What the --configure test adds, which uninstall-system would rightly keep.
	rm -f "$SYS/etc/mailout/sys.password" "$SYS/etc/sendmail.conf.bak"
}

# sys_config PORT [ACCOUNT LINES...]: the system file, readable by all, holding no secret.
sys_config() {
	local port=$1 l
	shift
	{
		printf '[defaults]\naccount = t\nsyslog = off\naliases = %s\n' "$SYS/etc/aliases"
		printf '[t]\nhost = 127.0.0.1\n'
		printf 'port = %s\ntls = off\nallow_plaintext_auth = on\nauth = plain\n' "$port"
		printf 'user = relay@example.org\ndomain = client.example.org\n'
		for l in "$@"; do echo "$l"; done
	} >"$SYS/etc/sendmail.conf"
	chmod 644 "$SYS/etc/sendmail.conf"
}

# as USER [VAR=VALUE...] CMD...: run as USER with a clean environment (plus the VARs).
as() {
	local u=$1
	shift
	runuser -u "$u" -- env -i "${RUN_ENV[@]}" "$@"
}
# as_root CMD...: root, with a clean environment (no XDG_* from lib/common).
as_root() { env -i "${RUN_ENV[@]}" "$@"; }

msg() { printf 'To: bob@example.net\nSubject: %s\n\nhello from %s\n' "$1" "$1"; }

# queue_as USER SUBJECT: submit while the relay is down; prints the queue id.
queue_as() {
	local out
	out=$(as "$1" "$SENDMAIL" -t < <(msg "$2") 2>&1) || { echo "$out" >&2; return 1; }
	[[ $out =~ queued\ as\ ([0-9A-F]{19}) ]] || { echo "not queued: $out" >&2; return 1; }
	echo "${BASH_REMATCH[1]}"
}

mode_of() { stat -c '%a %U %G' "$1"; }

# relay_down / relay_up: the relay stops listening, then comes back on the same port (a
# queued message is bound to its relay's host and port: another port is another relay).
relay_down() { RELAY_PORT=$FAKE_PORT; fake_stop; }
relay_up() {
	fake_start --port "$RELAY_PORT" --auth-mechs PLAIN --user relay@example.org \
		--password "$SECRET" --require-auth
}

@test "install-system: setgid binary, group-only secrets and queue, a config for all" {
	run mode_of "$SYS/usr/sbin/mailout"
	assert_output "2755 root $GRP"
	run mode_of "$SYS/etc/mailout"
	assert_output "750 root $GRP"
	run mode_of "$PWFILE"
	assert_output "640 root $GRP"
	for d in "" /tmp /queue /failed /accounts; do
		run mode_of "$SPOOL$d"
		assert_output "2770 root $GRP"
	done
	run mode_of "$SYS/var/lib/mailout"
	assert_output "2770 root $GRP"
	# The installed example: readable by all, names a password_file, holds no password.
	run stat -c %a "$SYS/etc/sendmail.conf"
	assert_output 644
	run grep -E '^(password_file|password) *=' "$BATS_FILE_TMPDIR/installed.conf"
	assert_output "password_file = $SYS/etc/mailout/work.password"
	for n in sendmail mailq newaliases; do
		[ "$(readlink "$SYS/usr/sbin/$n")" = mailout ]
	done
	[ "$(readlink "$SYS/links/sbin/sendmail")" = "$SYS/usr/sbin/mailout" ]
	[ "$(readlink "$SYS/links/lib/sendmail")" = "$SYS/usr/sbin/mailout" ]
	[ "$(cat "$SYS/links/lib/sendmail.before-mailout")" = 'previous MTA' ]
	[ -f "$SYS/lib/systemd/system/mailout-queue.service" ]
	[ -f "$SYS/lib/systemd/system/mailout-queue.timer" ]
	run cat "$BATS_FILE_TMPDIR/install.out"
	assert_output --partial "created group $GRP"
	assert_output --partial "is setgid $GRP"
}

@test "each user sends through the relay that needs the secret, under their own name" {
	run as "$ALICE" "$SENDMAIL" -t < <(msg alice)
	assert_success
	assert_output ''
	run as "$WWW" "$SYS/links/lib/sendmail" -t < <(msg www)
	assert_success
	assert_equal "$(fake_count)" 2
	run fake_env 1
	assert_line --index 0 --regexp "^MAIL FROM:<$ALICE@client\\.example\\.org>"
	run fake_env 2
	assert_line --index 0 --regexp "^MAIL FROM:<$WWW@client\\.example\\.org>"
	run grep -c '^AUTH PLAIN ' "$FAKE_DIR/transcript"
	assert_output 2
}

@test "users cannot read the secret, its directory or the queue" {
	local u
	for u in "$ALICE" "$WWW"; do
		run as "$u" cat "$PWFILE"
		assert_failure
		assert_output --partial 'Permission denied'
		run as "$u" ls "$SYS/etc/mailout"
		assert_failure
		run as "$u" ls "$SPOOL"
		assert_failure
		run as "$u" ls "$SPOOL/queue"
		assert_failure
	done
}

@test "-C /etc/shadow and -X /tmp/x are refused for users; nothing is read or written" {
	run as "$ALICE" "$SENDMAIL" -C /etc/shadow -t < <(msg c)
	assert_equal "$status" 64
	assert_output --partial '-C /etc/shadow: not allowed in system mode'
	refute_output --partial 'root:'
	run as "$WWW" "$SENDMAIL" -X "$SYS/pub/x" -t < <(msg x)
	assert_equal "$status" 64
	assert_output --partial '-X'
	[ ! -e "$SYS/pub/x" ]
	assert_equal "$(fake_count)" 0
	# root may point at another file
	sed 's/^port = .*/port = 1/' "$SYS/etc/sendmail.conf" >"$BATS_TEST_TMPDIR/root.conf"
	run as_root "$SENDMAIL" -C "$BATS_TEST_TMPDIR/root.conf" --dry-run -t < <(msg r)
	assert_success
	assert_line 'relay: 127.0.0.1:1'
}

@test "MAILOUT_SYSCONF, XDG_CONFIG_HOME, XDG_STATE_HOME, TMPDIR, HOME: ignored for users" {
	local evil=$SYS/pub/evil
	FAKE_DIR=$BATS_TEST_TMPDIR/evil fake_start
	mkdir -p "$evil/xdg/mailout" "$evil/state" "$evil/tmp"
	# The same account pointed at a relay of the caller's, with the group's secret file.
	{
		printf '[defaults]\naccount = t\nqueue_dir = %s/state\n' "$evil"
		printf 'aliases = %s/aliases\n' "$evil"
		printf '[t]\nhost = 127.0.0.1\nport = %s\ntls = off\n' "$FAKE_PORT"
		printf 'allow_plaintext_auth = on\nauth = plain\nuser = relay@example.org\n'
		printf 'password_file = %s\n' "$PWFILE"
	} >"$evil/sendmail.conf"
	cp "$evil/sendmail.conf" "$evil/xdg/mailout/sendmail.conf"
	chmod -R a+rwX "$evil"
	run as "$ALICE" MAILOUT_SYSCONF="$evil/sendmail.conf" XDG_CONFIG_HOME="$evil/xdg" \
		XDG_STATE_HOME="$evil/state" TMPDIR="$evil/tmp" HOME="$evil" \
		"$SENDMAIL" -t < <(msg evil)
	assert_success
	# the system relay got it; the caller's relay never saw a connection
	FAKE_DIR=$BATS_TEST_TMPDIR/fake
	assert_equal "$(fake_count)" 1
	run grep -c '"event":"connect"' "$BATS_TEST_TMPDIR/evil/events"
	refute_output --regexp '^[1-9]'
	[ -z "$(find "$evil/state" "$evil/tmp" -mindepth 1)" ]
	# The same file does work for root (through -C: the installed binary reads no
	# MAILOUT_SYSCONF at all): it is the refusal that kept the secret home.
	run as_root MAILOUT_SYSCONF="$evil/sendmail.conf" "$SENDMAIL" -t < <(msg root)
	assert_success
	run grep -c '"event":"connect"' "$BATS_TEST_TMPDIR/evil/events"
	refute_output --regexp '^[1-9]'
	run as_root "$SENDMAIL" -C "$evil/sendmail.conf" -t < <(msg root)
	assert_success
	run grep -c '"event":"connect"' "$BATS_TEST_TMPDIR/evil/events"
	assert_output 1
}

# ptrace_attach USER PID: as USER, attach to PID and detach; prints "attached" or the error.
ptrace_attach() {
	cat >"$SYS/pub/ptrace.py" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
pid = int(sys.argv[1])
if libc.ptrace(16, pid, None, None) == -1:          # PTRACE_ATTACH
    print("attach: " + os.strerror(ctypes.get_errno()))
    sys.exit(1)
os.waitpid(pid, 0)
libc.ptrace(17, pid, None, None)                    # PTRACE_DETACH
print("attached")
PY
	chmod 644 "$SYS/pub/ptrace.py"
	as "$1" python3 "$SYS/pub/ptrace.py" "$2"
}

@test "while it holds the secret, its caller can neither trace it nor read its memory or environ" {
	local pid= i agid sgid
	fake_stop
	fake_start --auth-mechs PLAIN --user relay@example.org --password "$SECRET" \
		--require-auth --delay auth=3
	sys_config "$FAKE_PORT" "password_file = $PWFILE"
	as "$ALICE" "$SENDMAIL" -t < <(msg traced) >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local bg=$!
	# The relay has its AUTH line (the secret was read) and is taking its time to answer.
	for ((i = 0; i < 300; i++)); do
		grep -q '^AUTH PLAIN ' "$FAKE_DIR/transcript" 2>/dev/null && break
		sleep 0.01
	done
	pid=$(pgrep -u "$ALICE" -f "^$SENDMAIL -t")
	[ -n "$pid" ]
	agid=$(id -g "$ALICE")
	sgid=$(getent group "$GRP" | cut -d: -f3)
	# real, effective, saved, fs: the group is only the saved gid while it talks
	run awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status"
	assert_output "$agid $agid $sgid $agid"
	# not dumpable: the kernel gives its /proc files to root
	run stat -c %u "/proc/$pid/environ"
	assert_output 0
	run as "$ALICE" cat "/proc/$pid/environ"
	assert_failure
	assert_output --partial 'Permission denied'
	run as "$ALICE" dd if="/proc/$pid/mem" bs=1 count=1 skip=4096
	assert_failure
	run ptrace_attach "$ALICE" "$pid"
	assert_failure
	assert_output 'attach: Operation not permitted'
	# The same attempt on an ordinary process of the caller works: the check is real.
	as "$ALICE" sleep 5 &
	local sleeper=$! sl
	for ((i = 0; i < 100; i++)); do sl=$(pgrep -u "$ALICE" -x sleep) && break; sleep 0.01; done
	run ptrace_attach "$ALICE" "$sl"
	assert_success
	assert_output attached
	kill "$sl"
	wait "$sleeper" || true
	wait "$bg"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output ''
	assert_equal "$(fake_count)" 1
}

@test "-v shows the dialogue with AUTH redacted; --dry-run shows no secret either" {
	local b64
	b64=$(printf '\0relay@example.org\0%s' "$SECRET" | base64 -w0)
	run as "$ALICE" "$SENDMAIL" -v -t < <(msg verbose)
	assert_success
	assert_output --partial 'AUTH PLAIN'
	refute_output --partial "$SECRET"
	refute_output --partial "$b64"
	run as "$ALICE" "$SENDMAIL" -vv --dry-run -t < <(msg dry)
	assert_success
	refute_output --partial "$SECRET"
	refute_output --partial "$PWFILE"
}

@test "PHP mail() run as the web user delivers" {
	cat >"$SYS/pub/mail.php" <<'PHP'
<?php
exit(mail("bob@example.net", "from php", "hello\n", "From: Web App <app@example.net>") ? 0 : 1);
PHP
	chmod 644 "$SYS/pub/mail.php"
	run as "$WWW" php -d sendmail_path="$SENDMAIL -t -i" "$SYS/pub/mail.php"
	assert_success
	assert_equal "$(fake_count)" 1
	run fake_msg 1
	assert_output --partial $'Subject: from php\r\n'
}

@test "-bs (Symfony Mailer's transport) as the web user delivers" {
	run as "$WWW" "$SENDMAIL" -bs < <(printf '%s\r\n' 'HELO app' 'MAIL FROM:<app@example.net>' \
		'RCPT TO:<bob@example.net>' DATA 'Subject: bs' '' hi . QUIT)
	assert_success
	assert_output --partial '250 '
	assert_equal "$(fake_count)" 1
	run fake_env 1
	assert_line --index 0 --regexp '^MAIL FROM:<app@example\.net>'
	[ -z "$(ls -A "$SPOOL/tmp")" ]
}

@test "relay down: queued with the submitter's uid, files 0640 in the group's directories" {
	local id
	sys_config 1 "password_file = $PWFILE"
	id=$(queue_as "$ALICE" down)
	run mode_of "$SPOOL/queue/$id.msg"
	assert_output "640 $ALICE $GRP"
	run mode_of "$SPOOL/queue/$id.meta"
	assert_output "640 $ALICE $GRP"
	run grep -x "Uid: $(id -u "$ALICE")" "$SPOOL/queue/$id.meta"
	assert_success
	# not even the submitter reaches the file: the directory is the group's
	run as "$ALICE" cat "$SPOOL/queue/$id.msg"
	assert_failure
	run as "$WWW" cat "$SPOOL/queue/$id.msg"
	assert_failure
	[ -z "$(ls -A "$SPOOL/tmp")" ]
}

@test "mailq: a user sees only their own entries, root all; --remove follows the same rule" {
	local a w
	sys_config 1 "password_file = $PWFILE"
	a=$(queue_as "$ALICE" a1)
	w=$(queue_as "$WWW" w1)
	run as "$ALICE" "$SYS/usr/sbin/mailq"
	assert_success
	assert_output --partial "$a"
	refute_output --partial "$w"
	assert_output --partial '1 Request.'
	run as "$WWW" "$SYS/usr/sbin/mailq"
	assert_output --partial "$w"
	refute_output --partial "$a"
	run as_root "$SYS/usr/sbin/mailq"
	assert_output --partial "$a"
	assert_output --partial "$w"
	# another user's entry: as if it did not exist
	run as "$ALICE" "$SENDMAIL" --remove "$w"
	assert_equal "$status" 64
	assert_output "mailout: no queue entry $w of yours (see mailq)"
	[ -e "$SPOOL/queue/$w.msg" ]
	run as "$ALICE" "$SENDMAIL" --remove "$a"
	assert_success
	[ ! -e "$SPOOL/queue/$a.msg" ]
	run as_root "$SENDMAIL" --remove "$w"
	assert_success
	[ ! -e "$SPOOL/queue/$w.msg" ]
}

@test "--remove of another user's entry never takes its lock: stopped, it pins nothing" {
	local a meta pid bg i
	relay_down
	a=$(queue_as "$ALICE" pinned)
	meta=$SPOOL/queue/$a.meta
	cp "$meta" "$BATS_TEST_TMPDIR/meta"
	# The entry's metadata becomes a FIFO that we hold open: www's --remove stops on its
	# first look at the entry, where an attacker would SIGSTOP it.
	rm "$meta"
	mkfifo -m 640 "$meta"
	chgrp "$GRP" "$meta"
	exec 7<>"$meta"
	as "$WWW" "$SENDMAIL" --remove "$a" >"$BATS_TEST_TMPDIR/rm.out" 2>&1 7>&- &
	bg=$!
	for ((i = 0; i < 500; i++)); do
		pid=$(pgrep -u "$WWW" -x sendmail) || true
		if [[ -n $pid ]] && ls -l "/proc/$pid/fd" 2>/dev/null | grep -q -- "$meta"; then
			break
		fi
		sleep 0.01
	done
	[[ -n $pid ]]
	ls -l "/proc/$pid/fd" | grep -q -- "$meta"
	kill -STOP "$pid"
	# Alice's entry is free: a run (flock -n, as queue runs take it) can lock it.
	run flock -n "$SPOOL/queue/$a.msg" true
	kill -CONT "$pid"
	# runuser stopped itself with its child: it goes on too
	pkill -CONT -P "$bg" || true
	assert_success
	cat "$BATS_TEST_TMPDIR/meta" >&7
	exec 7>&-
	wait "$bg" || true
	run cat "$BATS_TEST_TMPDIR/rm.out"
	assert_output "mailout: no queue entry $a of yours (see mailq)"
	rm "$meta"
	install -m 640 -o "$ALICE" -g "$GRP" "$BATS_TEST_TMPDIR/meta" "$meta"
	# and root's run delivers it
	relay_up
	run as_root "$SENDMAIL" -q
	assert_success
	assert_equal "$(fake_count)" 1
	run fake_msg 1
	assert_output --partial 'Subject: pinned'
}

@test "a user's sendmail killed mid-message: another user's next send removes its spool file" {
	local fifo=$BATS_TEST_TMPDIR/in pid f i
	mkfifo "$fifo"
	as "$ALICE" "$SENDMAIL" bob@example.net <"$fifo" &
	exec 5>"$fifo"
	printf 'Subject: killed\n\nthe first half\n' >&5
	for ((i = 0; i < 500; i++)); do
		[[ -n $(ls -A "$SPOOL/tmp") ]] && break
		sleep 0.01
	done
	pid=$(pgrep -u "$ALICE" -x sendmail)
	kill -9 "$pid"
	exec 5>&-
	wait
	f=$(ls -A "$SPOOL/tmp")
	[[ -n $f ]]
	# readable by the group from the start, as it would be once queued
	run mode_of "$SPOOL/tmp/$f"
	assert_output "640 $ALICE $GRP"
	touch -d '2 minutes ago' "$SPOOL/tmp/$f"
	run as "$WWW" "$SENDMAIL" -t < <(msg www)
	assert_success
	[ -z "$(ls -A "$SPOOL/tmp")" ]
}

@test "every log line of a message names its submitter, also when root's run sends it" {
	local log=$SYS/var/log/mailout.log id
	mkdir -p "$SYS/var/log"
	install -m 660 -o root -g "$GRP" /dev/null "$log"
	sed -i "s|^\[defaults\]\$|[defaults]\nlogfile = $log|" "$SYS/etc/sendmail.conf"
	relay_down
	id=$(queue_as "$ALICE" logged)
	relay_up
	run as_root "$SENDMAIL" -q
	assert_success
	assert_equal "$(fake_count)" 1
	run grep -c "queue=$id user=$ALICE uid=$(id -u "$ALICE") account=t .*status=queued" "$log"
	assert_output 1
	run grep -c "queue=$id user=$ALICE uid=$(id -u "$ALICE") account=t .*status=sent" "$log"
	assert_output 1
	run grep -c 'user=root' "$log"
	assert_output 0
}

@test "-q by a user sends only their own entries; root's run (the timer's) sends the rest" {
	local port=$FAKE_PORT
	# The relay is down (nothing on its port), then back on the same port: a queued
	# message is bound to its relay's host and port.
	fake_stop
	queue_as "$ALICE" qa >/dev/null
	queue_as "$WWW" qw >/dev/null
	fake_start --port "$port" --auth-mechs PLAIN --user relay@example.org --password "$SECRET" \
		--require-auth
	run as "$ALICE" "$SENDMAIL" -q
	assert_success
	assert_equal "$(fake_count)" 1
	run fake_msg 1
	assert_output --partial 'Subject: qa'
	run as_root "$SENDMAIL" -q
	assert_success
	assert_equal "$(fake_count)" 2
	[ -z "$(ls -A "$SPOOL/queue")" ]
}

@test "20 concurrent callers as different users, 5 a minute: the cap holds across processes" {
	local i u pids=() rc=0
	sys_config "$FAKE_PORT" "password_file = $PWFILE" "max_messages_per_minute = 5"
	for i in $(seq 1 20); do
		case $((i % 3)) in 0) u=$WWW ;; 1) u=$ALICE ;; *) u=root ;; esac
		if [[ $u == root ]]; then
			as_root "$SENDMAIL" -t < <(msg "$i") 2>"$BATS_TEST_TMPDIR/err.$i" &
		else
			as "$u" "$SENDMAIL" -t < <(msg "$i") 2>"$BATS_TEST_TMPDIR/err.$i" &
		fi
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=$?; done
	assert_equal "$rc" 0
	assert_equal "$(fake_count)" 5
	assert_equal "$(find "$SPOOL/queue" -name '*.msg' | wc -l)" 15
	run bash -c "cat '$BATS_TEST_TMPDIR'/err.* | grep -c 'at its limit of 5 messages a minute; the window reopens at .*; message queued as'"
	assert_output 15
	# One counter for all of them, in the group's queue: the group's to write, whichever
	# user's process made it (only the group reaches the directory).
	run mode_of "$SPOOL/accounts/t"
	assert_output --regexp "^660 [^ ]+ $GRP\$"
	# The sliding window's slots (one a second, the callers may span more than one) hold
	# the five.
	run awk '/^Slots-Minute:/ { for (i = 2; i <= NF; i++) { split($i, s, ":"); n += s[2] } }
		END { print n + 0 }' "$SPOOL/accounts/t"
	assert_output 5
	# The installed binary has no clock to move: each window is emptied by moving its
	# slots back a minute. Root's runs (the timer's, or -q) send five more each, never more.
	for i in 10 15 20; do
		awk '/^Slots-Minute:/ { l = $1; for (i = 2; i <= NF; i++) { split($i, s, ":")
			l = l " " (s[1] - 60) ":" s[2] }; print l; next } { print }' \
			"$SPOOL/accounts/t" >"$BATS_TEST_TMPDIR/acc"
		cat "$BATS_TEST_TMPDIR/acc" >"$SPOOL/accounts/t"
		run as_root "$SENDMAIL" -q
		assert_equal "$(fake_count)" "$i"
		run as_root "$SENDMAIL" -q
		assert_equal "$(fake_count)" "$i"
	done
	[ -z "$(ls -A "$SPOOL/queue")" ]
	run bash -c "cat '$FAKE_DIR'/msg-*.eml | sed -n 's/^Subject: //p' | tr -d '\r' | sort -n"
	assert_output "$(seq 1 20)"
}

@test "a literal password may sit in a root:group 0640 system file, never in a 0644 one" {
	sys_config "$FAKE_PORT" "password = $SECRET"
	chgrp "$GRP" "$SYS/etc/sendmail.conf"
	chmod 640 "$SYS/etc/sendmail.conf"
	run as "$ALICE" "$SENDMAIL" -t < <(msg literal)
	assert_success
	run as "$ALICE" cat "$SYS/etc/sendmail.conf"
	assert_failure
	chmod 644 "$SYS/etc/sendmail.conf"
	run as "$ALICE" "$SENDMAIL" -t < <(msg literal2)
	assert_equal "$status" 78
	assert_output --partial 'can be read by other users'
	refute_output --partial "$SECRET"
	assert_equal "$(fake_count)" 1
}

@test "password_command and the keyring are refused for users, saying to use password_file" {
	# A configuration only the administrator can fix: the message is kept as held (exit
	# 0, issue 13), with the fix; the queue is on in system mode.
	sys_config "$FAKE_PORT" "password_command = cat $PWFILE"
	run as "$ALICE" "$SENDMAIL" -t < <(msg cmd)
	assert_equal "$status" 0
	assert_output --partial "message held (not sent)"
	assert_output --partial "password_command is not run in system mode"
	assert_output --partial "set password_file"
	sys_config "$FAKE_PORT"
	run as "$ALICE" "$SENDMAIL" -t < <(msg keyring)
	assert_equal "$status" 0
	assert_output --partial "message held (not sent)"
	assert_output --partial 'the keyring is not used'
	run as "$ALICE" "$SENDMAIL" --store-password < <(echo pw)
	assert_failure
	assert_output --partial 'password_file'
	run as "$ALICE" "$SENDMAIL" --authorize </dev/null
	assert_equal "$status" 64
	assert_output --partial 'only root authorizes'
	assert_equal "$(fake_count)" 0
	# root's runs may use a command; the account works again, so the two held messages
	# (the configuration changed since they were held) follow on the same connection
	sys_config "$FAKE_PORT" "password_command = cat $PWFILE"
	run as_root "$SENDMAIL" -t < <(msg rootcmd)
	assert_success
	assert_equal "$(fake_count)" 3
	run fake_msg 1
	assert_output --partial 'Subject: rootcmd'
}

@test "--configure as root: the secret in a root:group 0640 file, the account in the system file" {
	local certs
	certs=$(certs_dir)
	cp "$certs/ca.pem" "$SYS/pub/ca.pem"
	fake_stop
	fake_start --tls-cert "$certs/server.pem" --tls-key "$certs/server.key" --implicit-tls \
		--auth-mechs PLAIN --user relay@example.org --password "$SECRET" --require-auth
	cp "$SYS/etc/sendmail.conf" "$BATS_TEST_TMPDIR/before.conf"
	run --separate-stderr as_root "$SYS/usr/sbin/mailout" --configure relay@example.org -a sys \
		--host localhost --port "$FAKE_PORT" --tls implicit --tls-ca-file "$SYS/pub/ca.pem" \
		--test-to bob@example.net --default --yes <<<"$SECRET"
	[[ $status -eq 0 ]] || fail "$status $output $stderr"
	run mode_of "$SYS/etc/mailout/sys.password"
	assert_output "640 root $GRP"
	assert_equal "$(cat "$SYS/etc/mailout/sys.password")" "$SECRET"
	run stat -c '%a %U' "$SYS/etc/sendmail.conf"
	assert_output "644 root"
	if grep -q "$SECRET" "$SYS/etc/sendmail.conf"; then fail "the secret is in sendmail.conf"; fi
	grep -qx "password_file = $SYS/etc/mailout/sys.password" "$SYS/etc/sendmail.conf" ||
		fail "$(cat "$SYS/etc/sendmail.conf")"
	grep -qx 'account = sys' "$SYS/etc/sendmail.conf" || fail "$(cat "$SYS/etc/sendmail.conf")"
	cmp "$SYS/etc/sendmail.conf.bak" "$BATS_TEST_TMPDIR/before.conf"
	# The test message, then a user's mail through the account as written.
	run as "$WWW" "$SENDMAIL" -t < <(msg www)
	assert_success
	assert_equal "$(fake_count)" 2
	# The account sends as the address it was set up with (from =), whoever submits.
	run fake_env 2
	assert_line --index 0 --regexp "^MAIL FROM:<relay@example\\.org>"
}

@test "root's --store-password writes the account's password_file: root:group 0640, atomically" {
	local f=$SYS/etc/mailout/stored.password
	rm -f "$f"
	sys_config "$FAKE_PORT" "password_file = $f"
	run as_root "$SENDMAIL" --store-password -a t < <(echo "$SECRET")
	assert_success
	assert_output "mailout: stored the password of account t in $f (root:$GRP 0640)"
	run mode_of "$f"
	assert_output "640 root $GRP"
	run cat "$f"
	assert_output "$SECRET"
	[ ! -e "$f.new" ]
	run as "$ALICE" "$SENDMAIL" -t < <(msg stored)
	assert_success
	assert_equal "$(fake_count)" 1
	# A user may not; an account without password_file: the line to add, exactly.
	run as "$ALICE" "$SENDMAIL" --store-password -a t < <(echo x)
	assert_equal "$status" 64
	assert_output --partial 'only root stores the password of an account, into its password_file'
	sys_config "$FAKE_PORT"
	run as_root "$SENDMAIL" --store-password -a t < <(echo x)
	assert_equal "$status" 78
	assert_output --regexp '^mailout: account t has no password_file, so there is nowhere to store it: add the line "password_file = .*/mailout/t\.password" to \[t\] in '"$SYS"'/etc/sendmail\.conf, then run this again$'
	rm -f "$f"
	[ -e "$PWFILE" ]
}

@test "a secret file only root can read: the error names the chown and chmod that fix it" {
	local f=$SYS/etc/mailout/t600
	printf '%s\n' "$SECRET" | install -m 600 -o root -g root /dev/stdin "$f"
	sys_config "$FAKE_PORT" "password_file = $f"
	run as "$ALICE" "$SENDMAIL" -t < <(msg rootonly)
	assert_success
	assert_output --partial "message held (not sent)"
	assert_output --partial "password_file $f: Permission denied; in system mode the group $GRP must be able to read it: chown root:$GRP $f; chmod 640 $f"
	assert_equal "$(fake_count)" 0
	rm -f "$f"
}

@test "Microsoft 365 app-only for the web user: a root:group 0640 key signs; no user reads it" {
	local certs d=$SYS/etc/mailout idp=$BATS_TEST_TMPDIR/idp i
	local tok=$SYS/var/lib/mailout/oauth2-t.json
	certs=$(certs_dir)
	cp "$certs/ca.pem" "$SYS/pub/ca.pem"
	chmod 644 "$SYS/pub/ca.pem"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$BATS_TEST_TMPDIR/app.key" \
		-out "$d/app.pem" -days 2 -subj /CN=mailout-system-test 2>/dev/null
	chmod 644 "$d/app.pem"
	# What the README tells the administrator to do with the key.
	install -m 640 -o root -g "$GRP" "$BATS_TEST_TMPDIR/app.key" "$d/app.key"
	mkdir -p "$idp"
	/usr/bin/python3 "$TOP/test/fakeidp.py" --dir "$idp" --port-file "$idp/port" \
		--cert "$certs/server.pem" --key "$certs/server.key" --lifetime 60 \
		--client-id client-1 --client-cert "$d/app.pem" </dev/null >>"$idp/out" 2>&1 3>&- &
	IDP_PID=$!
	for ((i = 0; i < 500; i++)); do
		[[ -s $idp/port ]] && break
		sleep 0.01
	done
	fake_stop
	fake_start --tls-cert "$certs/server.pem" --tls-key "$certs/server.key" --auth-after-tls \
		--require-auth --auth-mechs XOAUTH2 --user relay@example.org \
		--oauth-token-file "$idp/access_tokens"
	{
		printf '[defaults]\naccount = t\nsyslog = off\naliases = %s\n' "$SYS/etc/aliases"
		printf '[t]\nhost = localhost\nport = %s\ntls = starttls\n' "$FAKE_PORT"
		printf 'tls_ca_file = %s\nuser = relay@example.org\n' "$SYS/pub/ca.pem"
		printf 'domain = client.example.org\noauth = microsoft\noauth_tenant = contoso.example\n'
		printf 'oauth_client_id = client-1\noauth_grant = client_credentials\n'
		printf 'oauth_token_url = https://localhost:%s/token\n' "$(<"$idp/port")"
		printf 'oauth_client_certificate = %s\noauth_client_key = %s\n' "$d/app.pem" "$d/app.key"
	} >"$SYS/etc/sendmail.conf"
	chmod 644 "$SYS/etc/sendmail.conf"
	run as "$WWW" "$SENDMAIL" -t < <(msg www)
	assert_success
	assert_equal "$(fake_count)" 1
	run fake_env 1
	assert_output --partial "www"
	# Neither user can read the key itself.
	run as "$ALICE" cat "$d/app.key"
	assert_failure
	assert_output --partial "Permission denied"
	run as "$WWW" cat "$d/app.key"
	assert_failure
	# The token is the group's, for every user's next message; no user reads it either.
	run stat -c '%a %G' "$tok"
	assert_output "640 $GRP"
	run as "$ALICE" cat "$tok"
	assert_failure
	assert_output --partial "Permission denied"
	run as "$ALICE" "$SENDMAIL" -t < <(msg alice0)
	assert_success
	assert_equal "$(fake_count)" 2
	assert_equal "$(grep -c '"path": "/token"' "$idp/requests.jsonl")" 1
	# Only root can read the key: held (once the token is gone), with the exact fix.
	rm -f "$tok"
	chown root:root "$d/app.key"
	chmod 600 "$d/app.key"
	run as "$ALICE" "$SENDMAIL" -t < <(msg alice)
	assert_success
	assert_output --partial "message held (not sent)"
	assert_output --partial "oauth_client_key $d/app.key: Permission denied; in system mode the group $GRP must be able to read it: chown root:$GRP $d/app.key; chmod 640 $d/app.key"
	# Every user can read it: refused, with the same fix.
	rm -f "$tok"
	chmod 644 "$d/app.key"
	run as "$ALICE" "$SENDMAIL" -t < <(msg alice2)
	assert_success
	assert_output --partial "message held (not sent)"
	assert_output --partial "oauth_client_key $d/app.key can be read by every user (mode 0644): chown root:$GRP $d/app.key; chmod 640 $d/app.key"
	assert_equal "$(fake_count)" 2
	kill "$IDP_PID"
	wait "$IDP_PID" 2>/dev/null || true
	IDP_PID=
	rm -f "$d/app.key" "$d/app.pem" "$tok" "$tok.lock"
}

@test "a log file mailout creates in system mode is group-writable; a wrong one names the fix" {
	local log=$SYS/mailout-test.log
	rm -f "$log"
	sys_config "$FAKE_PORT" "password_file = $PWFILE"
	sed -i "s|^\[defaults\]\$|[defaults]\nlogfile = $log|" "$SYS/etc/sendmail.conf"
	run as_root "$SENDMAIL" -t < <(msg logroot)
	assert_success
	run mode_of "$log"
	assert_output "660 root $GRP"
	run as "$ALICE" "$SENDMAIL" -t < <(msg logalice)
	assert_success
	assert_output ''
	run grep -c 'status=sent' "$log"
	assert_output 2
	chmod 600 "$log"
	run as "$ALICE" "$SENDMAIL" -t < <(msg lognot)
	assert_success
	assert_output --partial "chown root:$GRP $log; chmod 660 $log"
	rm -f "$log"
}


@test "uninstall-system keeps a queue that holds mail and says so, then removes everything" {
	sys_config 1 "password_file = $PWFILE"
	queue_as "$ALICE" kept >/dev/null
	run make -C "$TOP" -s "${SYS_MAKE[@]}" uninstall-system
	assert_success
	assert_output --partial "kept the queue $SPOOL: it still holds 1 queued and 0 failed"
	assert_output --partial "kept $SYS/etc/mailout (secret files)"
	assert_output --partial "kept group $GRP"
	[ ! -e "$SYS/usr/sbin/mailout" ]
	[ ! -e "$SYS/links/sbin/sendmail" ]
	[ "$(cat "$SYS/links/lib/sendmail")" = 'previous MTA' ]
	[ -e "$SPOOL/queue" ]
	# The administrator deals with the mail and the secret, and runs it again.
	rm -f "$SPOOL"/queue/* "$PWFILE"
	run make -C "$TOP" -s "${SYS_MAKE[@]}" uninstall-system
	assert_success
	assert_output --partial "removed group $GRP"
	[ ! -e "$SPOOL" ]
	[ ! -e "$SYS/etc/mailout" ]
	[ ! -e "$SYS/var/lib/mailout" ]
	run getent group "$GRP"
	assert_failure
}

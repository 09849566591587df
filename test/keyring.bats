#!/usr/bin/env bats
# The system keyring, against a real Secret Service (gnome-keyring in a private D-Bus
# session): msmtp's entries are used as they are, --store-password / --forget-password
# round-trip, and the failures (no session bus, a hung service) are fast and clear.

bats_require_minimum_version 1.5.0

setup() {
	load lib/common
	MSG=$BATS_TEST_TMPDIR/msg
	printf 'Subject: keyring test\n\nbody\n' >"$MSG"
	# The keyring daemon keeps its files under HOME and its sockets under XDG_RUNTIME_DIR.
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run
	mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
	chmod 700 "$XDG_RUNTIME_DIR"
	export MAILOUT
	# dbus-daemon complains on stderr that it may not raise its fd limit: not ours.
	QUIET_DBUS=$BATS_TEST_TMPDIR/dbus-daemon
	printf '#!/bin/sh\nexec dbus-daemon "$@" 2>/dev/null\n' >"$QUIET_DBUS"
	chmod +x "$QUIET_DBUS"
	[[ $("$MAILOUT" --version) != *keyring=none* ]] || skip "built with KEYRING=none"
}

# dbus-run-session stops its bus, not what was started on it: a keyring daemon that had not
# yet connected when the session ended, or the service activated by the last test, would
# run on after the suite.
teardown() {
	fake_stop
	stop_test_daemons
}

# The test config for the fake relay, with user joe and no secret: the keyring is asked.
cfg() {
	mo_config user=joe "$@"
	chmod 600 "$CONF"
}

# in_session SCRIPT: run sh -c SCRIPT in a private D-Bus session with an unlocked
# gnome-keyring. fd 3 is closed so that the daemons, which linger a moment, do not hold
# bats' output open.
in_session() {
	dbus-run-session --dbus-daemon="$QUIET_DBUS" -- sh -c 'printf %s pw |
		gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; '"$1" 3>&-
}

@test "a password stored by secret-tool the way msmtp stores it is used" {
	fake_start --auth-mechs 'CRAM-MD5' --user joe --password 'kr-s3cret' --require-auth
	cfg
	run --separate-stderr in_session '
		printf %s kr-s3cret | secret-tool store --label=msmtp host 127.0.0.1 service smtp user joe
		"$MAILOUT" -C "$CONF" -v rcpt@example.org <"'"$MSG"'"'
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
	[[ $stderr == *"--> AUTH CRAM-MD5"* ]] || fail "$stderr"
	[[ $stderr != *kr-s3cret* ]] || fail "the secret is in -v output"
}

@test "a GNOME network password (server, protocol smtp, user) is found too" {
	fake_start --auth-mechs 'CRAM-MD5' --user joe --password 'net-pw' --require-auth
	cfg
	run --separate-stderr in_session '
		printf %s net-pw | secret-tool store --label=x xdg:schema org.gnome.keyring.NetworkPassword server 127.0.0.1 protocol smtp user joe
		"$MAILOUT" -C "$CONF" rcpt@example.org <"'"$MSG"'"'
	assert_equal "$status" 0
	assert_equal "$(fake_count)" 1
}

@test "--store-password, a send, --forget-password: the entry is msmtp's and goes away" {
	fake_start --auth-mechs 'CRAM-MD5' --user joe --password 'st0red' --require-auth
	cfg queue=off
	run --separate-stderr in_session '
		printf "st0red\n" | "$MAILOUT" -C "$CONF" --store-password || exit 10
		echo "lookup=$(secret-tool lookup host 127.0.0.1 service smtp user joe)"
		"$MAILOUT" -C "$CONF" rcpt@example.org <"'"$MSG"'" || exit 11
		"$MAILOUT" -C "$CONF" --forget-password || exit 12
		echo "after=$(secret-tool lookup host 127.0.0.1 service smtp user joe)"
		"$MAILOUT" -C "$CONF" rcpt@example.org <"'"$MSG"'"
		echo "rc=$?"'
	assert_equal "$status" 0
	assert_equal "$output" "mailout: stored the password for joe at 127.0.0.1 (account t) in the keyring
lookup=st0red
mailout: removed the password for joe at 127.0.0.1 (account t) from the keyring
after=
rc=78"
	assert_equal "$stderr" "mailout: relay 127.0.0.1 port $FAKE_PORT: account t has no password_command, password_file or password, and the keyring has no password for user joe at host 127.0.0.1 (service smtp); store one with mailout --store-password -a t, or set password_command or password_file"
	assert_equal "$(fake_count)" 1
}

@test "--store-password replaces the stored password" {
	cfg
	run --separate-stderr in_session '
		printf "one\n" | "$MAILOUT" -C "$CONF" --store-password >/dev/null &&
		printf "two\n" | "$MAILOUT" -C "$CONF" --store-password >/dev/null &&
		secret-tool lookup host 127.0.0.1 service smtp user joe'
	assert_equal "$status" 0
	assert_equal "$output" "two"
}

@test "--store-password with nothing on standard input stores nothing" {
	cfg
	run --separate-stderr in_session '"$MAILOUT" -C "$CONF" --store-password </dev/null'
	assert_equal "$status" 64
	assert_equal "$stderr" "mailout: no password given: nothing stored"
}

@test "no session bus: a fast error that names the alternatives" {
	fake_start --auth-mechs 'CRAM-MD5' --user joe --password x --require-auth
	cfg queue=off
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR=/nonexistent \
		DISPLAY=:99 "$MAILOUT" -C "$CONF" rcpt@example.org <"$MSG"
	t1=$(date +%s%N)
	assert_equal "$status" 75
	assert_equal "$stderr" "mailout: relay 127.0.0.1 port $FAKE_PORT: account t has no password_command, password_file or password, and the system keyring cannot be reached: there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and there is no \$XDG_RUNTIME_DIR/bus), as under cron, PHP or a system service; set password_command or password_file, or store the password with mailout --store-password -a t from a desktop session and run the queue there"
	(( (t1 - t0) / 1000000 < 1000 )) || fail "took $(( (t1 - t0) / 1000000 )) ms"
}

@test "no session bus: --store-password fails at once too" {
	cfg
	local t0 t1
	t0=$(date +%s%N)
	run --separate-stderr env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR=/nonexistent \
		"$MAILOUT" -C "$CONF" --store-password <<<"pw"
	t1=$(date +%s%N)
	assert_equal "$status" 75
	assert_equal "$stderr" "mailout: account t: the system keyring cannot be reached: there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and there is no \$XDG_RUNTIME_DIR/bus), as under cron, PHP or a system service"
	(( (t1 - t0) / 1000000 < 1000 )) || fail "took $(( (t1 - t0) / 1000000 )) ms"
}

@test "libsecret and GLib are not loaded at start-up, only when the keyring is asked" {
	run ldd "$MAILOUT"
	assert_equal "$status" 0
	[[ $output != *libsecret* && $output != *libglib* && $output != *libgio* ]] || \
		fail "linked at load time: $output"
}

@test "a libsecret that cannot be loaded: the keyring error says so and names the way out" {
	cfg
	# A broken libsecret-1.so.0 first in the search path stands for a missing one.
	mkdir -p "$BATS_TEST_TMPDIR/lib"
	: >"$BATS_TEST_TMPDIR/lib/libsecret-1.so.0"
	run --separate-stderr env DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
		LD_LIBRARY_PATH="$BATS_TEST_TMPDIR/lib" "$MAILOUT" -C "$CONF" --store-password \
		<<<"pw"
	assert_equal "$status" 78
	assert_equal "$stderr" "mailout: account t: the system keyring cannot be used: libsecret-1.so.0 could not be loaded ($BATS_TEST_TMPDIR/lib/libsecret-1.so.0: file too short); install libsecret (Debian: libsecret-1-0), or use password_command or password_file"
}

@test "a Secret Service that never answers is given up on after 5 seconds" {
	# A bus whose org.freedesktop.secrets is "activated" as a process that never
	# claims the name: every call hangs until D-Bus' own 25 s activation timeout.
	local d=$BATS_TEST_TMPDIR/bus
	mkdir -p "$d/services"
	printf '[D-BUS Service]\nName=org.freedesktop.secrets\nExec=/bin/sleep 9\n' \
		>"$d/services/org.freedesktop.secrets.service"
	cat >"$d/bus.conf" <<-EOF
		<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
		 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
		<busconfig>
		  <type>session</type>
		  <listen>unix:tmpdir=$BATS_TEST_TMPDIR</listen>
		  <servicedir>$d/services</servicedir>
		  <policy context="default">
		    <allow send_destination="*" eavesdrop="true"/>
		    <allow eavesdrop="true"/>
		    <allow own="*"/>
		  </policy>
		</busconfig>
	EOF
	fake_start --auth-mechs 'CRAM-MD5' --user joe --password x --require-auth
	cfg queue=off
	# The activated process outlives the session: keep it off bats' pipes.
	dbus-run-session --dbus-daemon="$QUIET_DBUS" --config-file="$d/bus.conf" -- sh -c '
		t0=$(date +%s%N)
		"$MAILOUT" -C "$CONF" rcpt@example.org <"'"$MSG"'" 2>"'"$d/err"'"
		echo "rc=$? ms=$(( ($(date +%s%N) - t0) / 1000000 ))" >"'"$d/out"'"' \
		>/dev/null 2>&1 3>&-
	run cat "$d/out"
	[[ $output =~ ^rc=75\ ms=([0-9]+)$ ]] || fail "$output"
	(( BASH_REMATCH[1] >= 4900 && BASH_REMATCH[1] < 7000 )) || fail "$output"
	assert_equal "$(cat "$d/err")" "mailout: relay 127.0.0.1 port $FAKE_PORT: account t has no password_command, password_file or password, and the system keyring did not answer within 5 seconds while looking up the password (is the Secret Service hung, or waiting for the keyring to be unlocked?); set password_command or password_file, or store the password with mailout --store-password -a t from a desktop session and run the queue there"
}

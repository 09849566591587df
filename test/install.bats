#!/usr/bin/env bats
# What a fresh server's users meet with the plain (per-user) install, and what the
# server install leaves behind:
#   - a user whose state directory cannot be made (HOME=/nonexistent, like nobody; or
#     www-data's /var/www) still sends; with the relay down it gets 75 and a line that
#     says there is no queue for it, never "queued";
#   - a user's own queue says when a message is retried, and by whom;
#   - with no working log target, one warning on stderr (never on stdout);
#   - make install-system keeps another MTA's sendmail as it was (its own link target)
#     and make uninstall-system puts exactly that back.
# A real unprivileged user is made here and removed by teardown_file.

bats_require_minimum_version 1.5.0
load lib/common

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
# Names of this checkout's own: two work trees may run their suites at once.
TAG=$(printf %s "$TOP" | cksum | cut -c1-6)
NOHOME=mo-nh$TAG
HOMED=mo-hd$TAG
GRP=mo-ig$TAG
PUB=/tmp/mailout-install-test.$TAG

inst_cleanup() {
	local u
	for u in "$NOHOME" "$HOMED"; do
		if id -u "$u" >/dev/null 2>&1; then userdel -r "$u" >/dev/null 2>&1 || userdel "$u"; fi
	done
	# system-install makes a user of the group's name for the listener (run_as).
	if id -u "$GRP" >/dev/null 2>&1; then userdel "$GRP"; fi
	if getent group "$GRP" >/dev/null; then groupdel "$GRP"; fi
	rm -rf "$PUB"
	return 0
}

setup_file() {
	inst_cleanup
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		"$NOHOME"
	mkdir -p "$PUB/bin" "$PUB/home"
	chmod 755 "$PUB" "$PUB/bin" "$PUB/home"
	useradd --create-home --home-dir "$PUB/home/$HOMED" --shell /bin/sh "$HOMED"
	# The binary is run by those users: it must be reachable (the work tree may not be).
	cp "$MAILOUT" "$PUB/bin/mailout"
	chmod 755 "$PUB/bin/mailout"
}

teardown_file() {
	inst_cleanup
}

setup() {
	W=$(mktemp -d "$PUB/t.XXXXXX")
	chmod 755 "$W"
	# every test starts with no state of the user's
	rm -rf "$PUB/home/$HOMED/.local"
}

teardown() {
	fake_stop
	rm -rf "$W"
}

# user_conf PORT [GLOBAL LINES...]: a config every user can read, with no queue_dir: the
# queue is the user's own (per-user mode). The log file is the users' to write; the
# aliases file is the test's own (never the machine's /etc/aliases), readable by all.
user_conf() {
	local port=$1 l
	shift
	: >"$W/log"
	chmod 666 "$W/log"
	: >"$W/aliases"
	chmod 644 "$W/aliases"
	{
		printf '[defaults]\naccount = t\nsyslog = off\nlogfile = %s\n' "$W/log"
		printf 'aliases = %s\n' "$W/aliases"
		for l in "$@"; do echo "$l"; done
		printf '[t]\nhost = 127.0.0.1\nport = %s\ntls = off\n' "$port"
		printf 'from = sender@example.org\ndomain = client.example.org\n'
	} >"$W/conf"
	chmod 644 "$W/conf"
}

# as USER CMD...: run as USER with a clean environment, as cron or PHP would.
as() {
	local u=$1
	shift
	runuser -u "$u" -- env -i PATH=/usr/bin:/bin "$@"
}

msg() { printf 'To: bob@example.net\nSubject: %s\n\nhello from %s\n' "$1" "$1"; }

@test "HOME=/nonexistent: the message is spooled anonymously and delivered" {
	fake_start
	user_conf "$FAKE_PORT"
	run --separate-stderr as "$NOHOME" "$PUB/bin/mailout" -C "$W/conf" -t < <(msg nohome)
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(fake_count)" 1
	fake_msg 1 | grep -q $'^Subject: nohome\r$'
	# Nothing was left in the temporary directory, and no state directory was made.
	[ -z "$(find /tmp -maxdepth 1 -user "$NOHOME" 2>/dev/null)" ]
	[ ! -e /nonexistent ]
}

@test "HOME=/nonexistent, relay down: 75, not queued, the line names the reason and the server install" {
	user_conf 1
	run --separate-stderr as "$NOHOME" "$PUB/bin/mailout" -C "$W/conf" -t < <(msg down)
	assert_failure 75
	assert_equal "$output" ""
	[[ $stderr != *"queued as"* ]]
	[[ $stderr == *"NOT queued"* ]]
	[[ $stderr == "mailout: message NOT queued: there is no queue for user $NOHOME (cannot create the queue directory /nonexistent/.local/state/mailout/queue: Permission denied; on a server, use the system install: README, \"Server install\"): relay 127.0.0.1:1 unavailable ("*"Connection refused)" ]]
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	run grep -c 'status=deferred-not-queued' "$W/log"
	assert_output 1
	run grep -c 'status=queued' "$W/log"
	assert_output 0
}

@test "HOME=/nonexistent, one recipient deferred: 75, the line says who got it and that nothing is queued" {
	fake_start --reply 'rcpt:2=450 4.2.0 try later'
	user_conf "$FAKE_PORT"
	run --separate-stderr as "$NOHOME" "$PUB/bin/mailout" -C "$W/conf" bob@example.net carol@example.net < <(msg partial)
	assert_failure 75
	[[ $stderr == "mailout: message NOT queued: there is no queue for user $NOHOME ("*"): delivered to 1 of 2 recipients; 0 refused permanently, 1 not now ("*")" ]]
	assert_equal "$(fake_count)" 1
}

@test "a home that exists but is not writable (like www-data's /var/www): delivered, and 75 when down" {
	mkdir -p "$W/www"
	chmod 755 "$W/www"
	usermod --home "$W/www" "$NOHOME"
	fake_start
	user_conf "$FAKE_PORT"
	run as "$NOHOME" "$PUB/bin/mailout" -C "$W/conf" -t < <(msg www)
	usermod --home /nonexistent "$NOHOME"
	assert_success
	assert_equal "$(fake_count)" 1
	[ ! -e "$W/www/.local" ]
	usermod --home "$W/www" "$NOHOME"
	user_conf 1
	run as "$NOHOME" "$PUB/bin/mailout" -C "$W/conf" -t < <(msg wwwdown)
	usermod --home /nonexistent "$NOHOME"
	assert_failure 75
	assert_output --partial "there is no queue for user $NOHOME (cannot create the queue directory $W/www/.local/state/mailout/queue: Permission denied; "
}

@test "-bs with no queue for the user: 250 when delivered, 451 (not queued) when the relay is down" {
	fake_start
	user_conf "$FAKE_PORT"
	run --separate-stderr as "$NOHOME" "$PUB/bin/mailout" -C "$W/conf" -bs < <(printf 'HELO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\nSubject: bs\r\n\r\nhi\r\n.\r\nQUIT\r\n')
	assert_success
	assert_line --regexp '^250 2\.0\.0 Ok: delivered as '
	assert_equal "$(fake_count)" 1
	user_conf 1
	run --separate-stderr as "$NOHOME" "$PUB/bin/mailout" -C "$W/conf" -bs < <(printf 'HELO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\nSubject: bs\r\n\r\nhi\r\n.\r\nQUIT\r\n')
	assert_success
	assert_line --regexp '^451 4\.3\.0 .*there is no queue for user '"$NOHOME"
	refute_line --partial 'queued as'
}

@test "a user's own queue: the warning says when it is retried, and that only the user retries it" {
	local port
	port=$(free_port)
	user_conf "$port"
	run --separate-stderr as "$HOMED" "$PUB/bin/mailout" -C "$W/conf" -t < <(msg own)
	assert_success
	[[ $stderr =~ message\ queued\ as\ [0-9A-F]{19}\ in\ your\ own\ queue\ $PUB/home/$HOMED/\.local/state/mailout/queue,\ retried\ after\ [0-2][0-9]:[0-5][0-9]\ only\ by\ your\ next\ send\ or\ your\ \`mailout\ -q\`\ \(the\ queue\ timer\ runs\ as\ root\ over\ the\ system\ queue\)$ ]]
	[ "$(find "$PUB/home/$HOMED/.local/state/mailout/queue/queue" -name '*.msg' | wc -l)" -eq 1 ]
	# and that user's -q sends it once the relay is back (on its port)
	fake_start --port "$port"
	run as "$HOMED" "$PUB/bin/mailout" -C "$W/conf" -q
	assert_success
	assert_equal "$(fake_count)" 1
}

@test "queue = off as a user: no state directory is made, delivered; 75 when down" {
	fake_start
	user_conf "$FAKE_PORT" "queue = off"
	run as "$HOMED" "$PUB/bin/mailout" -C "$W/conf" -t < <(msg off)
	assert_success
	assert_equal "$(fake_count)" 1
	[ ! -e "$PUB/home/$HOMED/.local/state/mailout" ]
	user_conf 1 "queue = off"
	run as "$HOMED" "$PUB/bin/mailout" -C "$W/conf" -t < <(msg offdown)
	assert_failure 75
	refute_output --partial 'queued as'
	[ ! -e "$PUB/home/$HOMED/.local/state/mailout" ]
}

# no_syslog CMD...: run CMD where nothing listens on /dev/log. This machine may have no
# /dev/log at all; where it has one, a private mount namespace hides it behind a file.
no_syslog() {
	if [[ -e /dev/log ]]; then
		: >"$W/notasocket"
		unshare --mount sh -c 'mount --bind "$1" /dev/log && shift && exec "$@"' \
			sh "$W/notasocket" "$@"
	else
		"$@"
	fi
}

@test "no /dev/log and no log file: one warning on stderr, nothing on stdout" {
	fake_start
	user_conf "$FAKE_PORT" "queue_dir = $W/queue"
	sed -i -e 's/^syslog = off$/syslog = mail/' -e "s|^logfile = .*|logfile = $W/nodir/log|" \
		"$W/conf"
	run --separate-stderr no_syslog "$MAILOUT" -C "$W/conf" -t < <(msg nolog)
	assert_success
	assert_equal "$output" ""
	assert_equal "$stderr" "mailout: warning: cannot log to syslog (/dev/log: $(no_syslog_reason)) nor to $W/nodir/log (No such file or directory); messages' fates are not recorded (see syslog and logfile in sendmail.conf(5))"
	assert_equal "$(fake_count)" 1
	# -bs: the protocol alone on stdout, the warning on stderr
	run --separate-stderr no_syslog "$MAILOUT" -C "$W/conf" -bs < <(printf 'HELO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\nSubject: bs\r\n\r\nhi\r\n.\r\nQUIT\r\n')
	assert_success
	refute_output --partial 'warning'
	assert_line --regexp '^250 2\.0\.0 Ok: delivered as '
	[[ $stderr == "mailout: warning: cannot log to syslog"*"messages' fates are not recorded"* ]]
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
}

# What connect() says for the hidden /dev/log: no file here, or a file that is no socket.
no_syslog_reason() {
	if [[ -e /dev/log ]]; then echo 'Connection refused'; else echo 'No such file or directory'; fi
}

@test "syslog = off and a log file that cannot be opened: the warning names the file" {
	fake_start
	user_conf "$FAKE_PORT" "queue_dir = $W/queue"
	sed -i "s|^logfile = .*|logfile = $W/nodir/log|" "$W/conf"
	run --separate-stderr "$MAILOUT" -C "$W/conf" -t < <(msg nofile)
	assert_success
	assert_equal "$stderr" "mailout: warning: cannot log to $W/nodir/log (No such file or directory); messages' fates are not recorded (see syslog and logfile in sendmail.conf(5))"
	# A log that works: no warning at all.
	user_conf "$FAKE_PORT" "queue_dir = $W/queue"
	run --separate-stderr "$MAILOUT" -C "$W/conf" -t < <(msg logged)
	assert_success
	assert_equal "$stderr" ""
	grep -q 'status=sent' "$W/log"
}

# A private root with another MTA in place, the way msmtp-mta leaves it.
fake_msmtp_root() {
	R=$W/root
	mkdir -p "$R/usr/bin" "$R/usr/sbin" "$R/usr/lib"
	printf '#!/bin/sh\necho msmtp\n' >"$R/usr/bin/msmtp"
	chmod 755 "$R/usr/bin/msmtp"
	ln -s ../bin/msmtp "$R/usr/sbin/sendmail"
	ln -s ../sbin/sendmail "$R/usr/lib/sendmail"
	printf '#!/bin/sh\necho other newaliases\n' >"$R/usr/sbin/newaliases"
}

sys_make() {
	make -C "$TOP" -s BUILD="$(dirname "$MAILOUT")" DESTDIR="$R" PREFIX=/usr \
		MAILOUT_GROUP="$GRP" "$@"
}

@test "make install-system keeps the previous MTA's links as they were; uninstall-system puts exactly those back" {
	fake_msmtp_root
	run sys_make install-system
	assert_success
	assert_output --partial "kept the previous /usr/sbin/sendmail (-> ../bin/msmtp) as /usr/sbin/sendmail.before-mailout"
	assert_equal "$(readlink "$R/usr/sbin/sendmail")" /usr/sbin/mailout
	assert_equal "$(readlink "$R/usr/lib/sendmail")" /usr/sbin/mailout
	assert_equal "$(readlink "$R/usr/sbin/sendmail.before-mailout")" ../bin/msmtp
	assert_equal "$(readlink "$R/usr/lib/sendmail.before-mailout")" ../sbin/sendmail
	assert_equal "$(cat "$R/usr/sbin/newaliases.before-mailout")" "$(printf '#!/bin/sh\necho other newaliases')"
	assert_equal "$(stat -c '%a %G' "$R/usr/sbin/mailout")" "2755 $GRP"
	# Installing again (an upgrade) keeps the original, not mailout's own link.
	run sys_make install-system
	assert_success
	assert_equal "$(readlink "$R/usr/sbin/sendmail.before-mailout")" ../bin/msmtp
	run sys_make uninstall-system
	assert_success
	assert_output --partial "put back the previous /usr/sbin/sendmail (-> ../bin/msmtp)"
	assert_equal "$(readlink "$R/usr/sbin/sendmail")" ../bin/msmtp
	assert_equal "$(readlink "$R/usr/lib/sendmail")" ../sbin/sendmail
	assert_equal "$("$R/usr/sbin/sendmail")" msmtp
	assert_equal "$(cat "$R/usr/sbin/newaliases")" "$(printf '#!/bin/sh\necho other newaliases')"
	[ ! -e "$R/usr/sbin/mailout" ]
	[ ! -e "$R/usr/sbin/mailq" ]
	[ -z "$(find "$R" -name '*.before-mailout')" ]
	run getent group "$GRP"
	assert_failure
}

@test "make install-system on a machine with no MTA: uninstall-system leaves no sendmail behind" {
	R=$W/root
	mkdir -p "$R"
	run sys_make install-system
	assert_success
	refute_output --partial 'kept the previous'
	assert_equal "$(readlink "$R/usr/sbin/sendmail")" /usr/sbin/mailout
	run sys_make uninstall-system
	assert_success
	[ ! -e "$R/usr/sbin/sendmail" ]
	[ ! -L "$R/usr/sbin/sendmail" ]
	[ ! -e "$R/usr/lib/sendmail" ]
	[ ! -L "$R/usr/lib/sendmail" ]
}

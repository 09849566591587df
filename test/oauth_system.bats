#!/usr/bin/env bats
# OAuth2 in system mode (make install-system): root authorizes a system account once; the
# tokens live in the group's state directory (LOCALSTATEDIR/lib/mailout, root:group 2770)
# as a root:group 0640 file; every user's mailout reads, refreshes and rotates them under
# the group with the lock and the atomic rename, and no user can read them directly.
#
# As in system.bats: the binary is built with its system paths inside $SYS and installed
# by the real `make install-system`, setgid to a group of its own; the users are real
# unprivileged users made here (twenty senders). The provider is test/fakeidp.py rotating
# the refresh token on every refresh and recording overlapping refreshes and the reuse of
# a rotated-away refresh token (stats.json); the relay (test/fakesmtp.py) takes only the
# access tokens that provider issued.

bats_require_minimum_version 1.5.0
load lib/common
load lib/idp
load lib/system

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
NUSERS=20

# Named after this checkout, and apart from system.bats's install, group and users.
SYS_ID=$(printf '%s' "$TOP" | sha1sum | cut -c1-6)
SYS=/tmp/mailout-oauthsys-test.$SYS_ID
GRP=mo-osy$SYS_ID
MAILOUT_BIN=$SYS/usr/sbin/mailout
SENDMAIL=$SYS/usr/sbin/sendmail
SPOOL=$SYS/var/spool/mailout
STATE=$SYS/var/lib/mailout
# The default token file of account t in system mode (no oauth_token_file).
TOK=$STATE/oauth2-t.json
user_name() { echo "mo-o$1-$SYS_ID"; }

sys_build oauthsys
SYS_MAKE=(BUILD="$SYS_BUILD" CFLAGS="$SYS_CFLAGS" LDFLAGS="$SYS_LDFLAGS" PREFIX="$SYS/usr"
	SYSCONFDIR="$SYS/etc" LOCALSTATEDIR="$SYS/var"
	SYSTEMDUNITDIR="$SYS/lib/systemd/system" MAILOUT_GROUP="$GRP"
	SENDMAIL_LINKS="$SYS/links/sbin/sendmail")
RUN_ENV=(PATH=/usr/bin:/bin)

sys_cleanup() {
	local i
	rm -rf "$SYS"
	for ((i = 1; i <= NUSERS; i++)); do
		sys_del_user "$(user_name "$i")"
	done
	sys_del_group "$GRP"
}

setup_file() {
	local i
	sys_cleanup
	mkdir -p "$SYS/links/sbin"
	chmod 755 "$SYS"
	sys_install || return 1
	for ((i = 1; i <= NUSERS; i++)); do
		sys_add_user "$(user_name "$i")"
	done
	# What users' processes must be able to read: the test CA (tls_ca_file).
	mkdir -m 755 "$SYS/pub"
	cp "$(certs_dir)/ca.pem" "$SYS/pub/ca.pem"
	chmod 644 "$SYS/pub/ca.pem"
}

teardown_file() {
	sys_cleanup
}

setup() {
	CERTS=$(certs_dir)
	IDP_DIR=$BATS_TEST_TMPDIR/idp
	IDP_PID=
	if [[ -d $SPOOL ]]; then find "$SPOOL" -mindepth 2 -type f -delete; fi
	rm -f "$STATE"/*
}

teardown() {
	idp_stop
	fake_stop
}

# idp_start [fakeidp options]: the provider, rotating; sets IDP (its base URL).
# relay_start [--port N] and idp_stop: lib/idp.bash.
idp_start() { idp_launch python3 --lifetime 120 --client-secret s3cret --rotate "$@"; }

# sys_config MODE [LINES...]: the system file, root:group with MODE, account t against the
# provider; its literal client secret is why it may not be readable by others.
sys_config() {
	local mode=$1 l
	shift
	{
		printf '[defaults]\naccount = t\nsyslog = off\naliases = %s\n' "$SYS/etc/aliases"
		printf '[t]\nhost = localhost\nport = %s\ntls = starttls\n' "$FAKE_PORT"
		printf 'tls_ca_file = %s\nuser = joe@example.com\n' "$SYS/pub/ca.pem"
		printf 'domain = client.example.org\noauth = google\noauth_client_id = client-1\n'
		printf 'oauth_client_secret = s3cret\noauth_token_url = %s/token\n' "$IDP"
		printf 'oauth_device_url = %s/device\noauth_auth_url = %s/auth\n' "$IDP" "$IDP"
		printf 'timeout = 20\n'
		for l in "$@"; do echo "$l"; done
	} >"$SYS/etc/sendmail.conf"
	chown "root:$GRP" "$SYS/etc/sendmail.conf"
	chmod "$mode" "$SYS/etc/sendmail.conf"
}

# as USER CMD...: run as USER with a clean environment.
as() {
	local u=$1
	shift
	runuser -u "$u" -- env -i "${RUN_ENV[@]}" "$@"
}
as_root() { env -i "${RUN_ENV[@]}" "$@"; }

msg() { printf 'To: bob@example.net\nSubject: %s\n\nhello from %s\n' "$1" "$1"; }
mode_of() { stat -c '%a %U %G' "$1"; }
# stat_of KEY: the provider's record of refreshes (fakeidp.py stats.json).
stat_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
	"$IDP_DIR/stats.json" "$1"; }
tok_json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
	"$TOK" "$1"; }
queued() { find "$SPOOL/queue" -type f -name '*.msg' 2>/dev/null | grep -c . || true; }

# authorize: root's --authorize --device for account t (the provider approves by itself).
authorize() {
	run --separate-stderr as_root "$MAILOUT_BIN" --authorize --device -a t </dev/null
	[[ $status -eq 0 ]] || fail "$status $output $stderr"
	[[ $output == *"account t (joe@example.com) is now authorized"* ]] || fail "$output"
}

@test "the install makes the token directory root:group 2770" {
	run mode_of "$STATE"
	assert_output "2770 root $GRP"
	run mode_of "$MAILOUT_BIN"
	assert_output "2755 root $GRP"
}

@test "root's --authorize --device for a system account: a root:group 0640 token file in the state directory" {
	idp_start --device-auto 1
	relay_start
	sys_config 640
	authorize
	[[ $output == *"$TOK"* ]] || fail "the token file is not named: $output"
	run mode_of "$TOK"
	assert_output "640 root $GRP"
	[[ $(tok_json refresh_token) == rt-* ]]
	# the lock beside it is the group's too, and no one else's
	run stat -c '%G %A' "$TOK.lock"
	assert_output "$GRP -rw-r-----"
	# a user's mailout sends with it; the user cannot read it or list the directory
	run as "$(user_name 1)" "$SENDMAIL" -t < <(msg one)
	assert_success
	assert_output ''
	assert_equal "$(fake_count)" 1
	run as "$(user_name 1)" cat "$TOK"
	assert_failure
	assert_output --partial 'Permission denied'
	run as "$(user_name 1)" ls "$STATE"
	assert_failure
}

@test "twenty users and a queue run at once: one refresh at a time, all delivered, chain intact" {
	local i u pids=() rc=0 port nq=3
	idp_start --device-auto 1 --expires-in 300 --refresh-delay 0.05
	relay_start
	sys_config 640
	authorize
	# Three messages wait in the queue (the relay is down), from three users.
	port=$FAKE_PORT
	fake_stop
	for ((i = 1; i <= nq; i++)); do
		run as "$(user_name "$i")" "$SENDMAIL" -t < <(msg "queued$i")
		assert_success
		assert_output --partial 'queued as'
	done
	assert_equal "$(queued)" "$nq"
	relay_start --port "$port"
	# Tokens live 300 s, under mailout's 5-minute margin: every process must refresh, so all
	# twenty-one contend for the lock and each rotates the refresh token.
	for ((i = 1; i <= NUSERS; i++)); do
		u=$(user_name "$i")
		as "$u" "$SENDMAIL" -t < <(msg "from$i") >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
		pids+=($!)
	done
	as_root "$SENDMAIL" -q >"$BATS_TEST_TMPDIR/out.q" 2>&1 &
	pids+=($!)
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	cat "$BATS_TEST_TMPDIR"/out.* >&2 || true
	assert_equal "$rc" 0
	# every message delivered, none left
	assert_equal "$(fake_count)" "$((NUSERS + nq))"
	assert_equal "$(queued)" 0
	# one refresh at a time; no refresh token used twice; no invalid_grant
	assert_equal "$(stat_of overlaps)" 0
	assert_equal "$(stat_of max_concurrent)" 1
	assert_equal "$(stat_of reused)" 0
	assert_equal "$(stat_of invalid_grant)" 0
	local n
	n=$(stat_of refreshes)
	echo "refreshes: $n" >&2
	((n >= NUSERS + 1)) || fail "only $n refreshes"
	# The chain: the one refresh token the provider still accepts is the stored one.
	run wc -l <"$IDP_DIR/refresh_tokens"
	assert_output 1
	assert_equal "$(tok_json refresh_token)" "$(<"$IDP_DIR/refresh_tokens")"
	# Rewritten by users' processes, the file stays the group's and unreadable to others.
	run stat -c '%a %G' "$TOK"
	assert_output "640 $GRP"
	for i in 1 2; do
		run as "$(user_name "$i")" cat "$TOK"
		assert_failure
		assert_output --partial 'Permission denied'
	done
	run find "$STATE" \( -name '*.tmp' -o -name '.*.??????' \)
	assert_output ''
}

@test "a literal oauth_client_secret in a system file others can read: refused with the chown and chmod" {
	idp_start
	relay_start
	sys_config 644
	run as "$(user_name 1)" "$SENDMAIL" -t < <(msg open)
	assert_equal "$status" 78
	assert_output --partial "$SYS/etc/sendmail.conf: [t] oauth_client_secret: the file can be read by other users (mode 0644); run chown root:$GRP $SYS/etc/sendmail.conf; chmod 640 $SYS/etc/sendmail.conf"
	refute_output --partial s3cret
	assert_equal "$(fake_count)" 0
}

@test "a token file only root can read: the error names the chown and chmod; the message is held" {
	idp_start --device-auto 1
	relay_start
	sys_config 640
	authorize
	chgrp root "$TOK"
	chmod 600 "$TOK"
	run as "$(user_name 2)" "$SENDMAIL" -t < <(msg rootonly)
	assert_success
	assert_output --partial 'message held (not sent)'
	assert_output --partial "oauth_token_file $TOK: Permission denied; in system mode the group $GRP must be able to read and replace it: chown root:$GRP $TOK; chmod 640 $TOK"
	assert_equal "$(fake_count)" 0
}

@test "a token file others can read: the warning names the chown and chmod" {
	idp_start --device-auto 1
	relay_start
	sys_config 640
	authorize
	chmod 644 "$TOK"
	run as_root "$SENDMAIL" -t < <(msg readable)
	assert_success
	assert_output --partial "mailout: warning: oauth_token_file $TOK can be read by every user (mode 0644): chown root:$GRP $TOK; chmod 640 $TOK"
	assert_equal "$(fake_count)" 1
}

@test "root's --configure of an OAuth2 account: the secret only in a group-only file, tokens in the state directory" {
	local conf=$SYS/etc/sendmail.conf tok=$STATE/oauth2-ms.json
	idp_start --device-auto 1
	relay_start
	sys_config 644
	sed -i '/^oauth_client_secret/d' "$conf"
	cp "$conf" "$BATS_TEST_TMPDIR/before.conf"
	cfg() {
		run --separate-stderr as_root "$MAILOUT_BIN" --configure joe@example.com -a ms \
			--host localhost --port "$FAKE_PORT" --tls starttls \
			--tls-ca-file "$SYS/pub/ca.pem" --oauth google --device \
			--set oauth_client_id=client-1 --set oauth_client_secret=s3cret \
			--set "oauth_token_url=$IDP/token" --set "oauth_device_url=$IDP/device" \
			--test-to rcpt@example.net --default --yes </dev/null
	}
	# /etc/sendmail.conf readable by all: the client secret is not written into it.
	cfg
	assert_equal "$status" 78
	[[ $stderr == *"$conf: [ms] oauth_client_secret: the file can be read by other users (mode 0644); run chown root:$GRP $conf; chmod 640 $conf"* ]] ||
		fail "$stderr"
	cmp "$conf" "$BATS_TEST_TMPDIR/before.conf"
	[[ ! -e $tok ]] || fail "tokens stored before the refusal"
	chmod 640 "$conf"
	cfg
	[[ $status -eq 0 ]] || fail "$status $output $stderr"
	run mode_of "$tok"
	assert_output "640 root $GRP"
	run mode_of "$conf"
	assert_output "640 root $GRP"
	run grep -c '^oauth_token_file' "$conf"
	assert_output 0
	assert_equal "$(fake_count)" 1
	# a user's mail through the account as written, with the tokens root's run stored
	run as "$(user_name 3)" "$SENDMAIL" -t < <(msg configured)
	assert_success
	assert_equal "$(fake_count)" 2
	run as "$(user_name 3)" cat "$tok"
	assert_failure
}

# Helpers for test/callers.bats: real programs that call sendmail, pointed at the built
# binary through their own path settings (never by replacing /usr/sbin/sendmail).
#
# caller_need CMD...     fail (not skip) when a caller is not installed: `make check`
#                        installs them (scripts/install-deps --test); bsd-mailx is the
#                        unpacked one of test/.cache/callers/bin
# caller_user            the unprivileged user the cron/sudo tests run as (created once;
#                        caller_user_remove in teardown_file removes it)
# caller_world           a directory every user can reach, with a copy of the binary
#                        ($MO_BIN), the config ($CONF, rewritten into it) and its aliases
#                        file, and a queue and log the test user may write; sets MO_BIN,
#                        CONF, QUEUE, LOG
# as_user CMD...         run CMD as the test user, with cron's environment (HOME=/root)
# wait_msgs N [SECS]     wait until the fake relay has N accepted messages
# body K                 the body of accepted message K (after the empty line)
# header K NAME          the header NAME of message K, unfolded, without the name

# The test user and sudo's rule are named after this checkout: suites of other checkouts
# running on the same machine must not use or remove each other's (sudo would send their
# mail through this suite's binary and config).
CALLER_USER=mo-caller$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd | tr -d '\n' |
	sha1sum | cut -c1-6)
CALLER_SUDOERS=/etc/sudoers.d/mailout-test-${CALLER_USER#mo-caller}

# bsd-mailx is unpacked, not installed (it would need a mail transport agent on the
# machine): test/lib/fetch-callers.sh, run by scripts/install-deps --test.
PATH=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache/callers/bin:$PATH

caller_need() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "caller '$c' is not installed: run scripts/install-deps --test" >&2
			return 1
		fi
	done
}

caller_user() {
	if ! id -u "$CALLER_USER" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$CALLER_USER" 2>/dev/null ||
			id -u "$CALLER_USER" >/dev/null || return 1
	fi
	CALLER_UID=$(id -u "$CALLER_USER")
	export CALLER_UID
}

caller_user_remove() {
	if id -u "$CALLER_USER" >/dev/null 2>&1; then userdel "$CALLER_USER" 2>/dev/null || true; fi
	return 0
}

# The bats temporary directories are private to root; the test user needs the binary,
# the config, a queue and a log it can reach.
caller_world() {
	WORLD=$(mktemp -d /tmp/mailout-callers.XXXXXX)
	chmod 755 "$WORLD"
	cp "$MAILOUT" "$WORLD/mailout"
	chmod 755 "$WORLD/mailout"
	MO_BIN=$WORLD/mailout
	QUEUE=$WORLD/queue
	LOG=$WORLD/mailout.log
	mkdir -p "$QUEUE"
	: >"$LOG"
	chown "$CALLER_USER" "$QUEUE" "$LOG"
	# The test's aliases file too: the test user cannot read it where it is.
	cp "$(sed -n 's/^aliases = //p' "$CONF")" "$WORLD/aliases"
	chmod 644 "$WORLD/aliases"
	sed -e "s|^queue_dir = .*|queue_dir = $QUEUE|" -e "s|^logfile = .*|logfile = $LOG|" \
		-e "s|^aliases = .*|aliases = $WORLD/aliases|" "$CONF" >"$WORLD/sendmail.conf"
	CONF=$WORLD/sendmail.conf
	chmod 644 "$CONF"
	export WORLD MO_BIN CONF QUEUE LOG
}

caller_cleanup() {
	if [[ -n ${WORLD:-} && -d $WORLD ]]; then
		rm -rf "$WORLD"
	fi
	WORLD=
}

# cron runs the mailer as the crontab owner with the daemon's environment.
as_user() {
	runuser -u "$CALLER_USER" -- env -i HOME=/root PATH=/usr/bin:/bin \
		SHELL=/bin/sh LOGNAME="$CALLER_USER" "$@"
}

wait_msgs() {
	local want=$1 secs=${2:-5} i
	for ((i = 0; i < secs * 50; i++)); do
		[[ $(fake_count) -ge $want ]] && return 0
		sleep 0.02
	done
	echo "wait_msgs: $(fake_count) of $want messages arrived" >&2
	return 1
}

body() {
	python3 - "$FAKE_DIR/msg-$1.eml" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
i = b.find(b'\r\n\r\n')
sys.stdout.buffer.write(b[i + 4:] if i >= 0 else b'')
PY
}

header() {
	python3 - "$FAKE_DIR/msg-$1.eml" "$2" <<'PY'
import sys, re
b = open(sys.argv[1], 'rb').read()
h = b[:b.find(b'\r\n\r\n') + 2].decode('utf-8', 'replace')
h = re.sub(r'\r\n[ \t]', ' ', h)
for line in h.split('\r\n'):
    name, _, value = line.partition(':')
    if name.lower() == sys.argv[2].lower():
        print(value.strip())
PY
}

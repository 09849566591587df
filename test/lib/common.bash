# Common setup for the bats suites: the binary, bats-support/assert, and a config for the
# fake relay. Every test gets its own queue, log, config and aliases file under
# $BATS_TEST_TMPDIR: nothing of the machine's (/etc/aliases, /etc/sendmail.conf, the
# user's config) is read.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
_COMMON_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$_COMMON_DIR/fakesmtp.bash"

MAILOUT=${MAILOUT:-$_COMMON_DIR/../../build/mailout}
# The same build with the test hooks (src/base/hooks.h: MAILOUT_NOW, MAILOUT_TEST_CRASH,
# MAILOUT_TEST_SCRAM_NONCE, the two timeouts, MAILOUT_SYSCONF), which the release binary
# above ignores. Tests run the release binary; one that needs a hook calls use_test_build.
MAILOUT_RELEASE=$MAILOUT
MAILOUT_TEST=${MAILOUT_TEST:-${MAILOUT%/*}/mailout-test}
use_test_build() { MAILOUT=$MAILOUT_TEST; }
# Only the test build reads MAILOUT_SYSCONF; the release binary reads the system file its
# build names. On a machine that has that file the release binary would read it, so there
# every test runs the test build, which this points at no file.
export MAILOUT_SYSCONF=/nonexistent
_sysconf_seen() {
	local f=$BATS_FILE_TMPDIR/.release-sysconf
	[[ -s $f ]] || "$MAILOUT_RELEASE" --version | sed -n 's/^system config: //p' >"$f"
	[[ -e $(<"$f") ]]
}
if _sysconf_seen; then use_test_build; fi
# Likewise /etc/mailname (the mail domain when default_domain is unset): the test build
# reads MAILOUT_MAILNAME instead, and runs every test on a machine that has the file.
export MAILOUT_MAILNAME=/nonexistent
if [[ -e /etc/mailname ]]; then use_test_build; fi
export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg-config
export XDG_STATE_HOME=$BATS_TEST_TMPDIR/xdg-state

# test_aliases: the path of this test's aliases file, created empty if there is none; every
# config the tests write names it (or one of its own), never the default /etc/aliases.
test_aliases() {
	local f=$BATS_TEST_TMPDIR/test-aliases
	[[ -e $f ]] || : >"$f"
	echo "$f"
}

# mo_config [KEY=VALUE...]: write $CONF, an account "t" for the fake relay on $FAKE_PORT,
# plain text; extra account keys as arguments override the defaults. The aliases file is
# test_aliases' unless aliases= is given.
mo_config() {
	CONF=$BATS_TEST_TMPDIR/sendmail.conf
	QUEUE=$BATS_TEST_TMPDIR/queue
	LOG=$BATS_TEST_TMPDIR/mailout.log
	local kv globals=() acct=() aliases
	aliases=$(test_aliases)
	for kv in "$@"; do
		case "${kv%%=*}" in
		aliases) aliases=${kv#*=} ;;
		account|default_domain|queue|queue_dir|queue_lifetime|syslog|logfile|rewrite_to)
			globals+=("$kv") ;;
		*) acct+=("$kv") ;;
		esac
	done
	{
		echo "[defaults]"
		echo "account = t"
		echo "queue_dir = $QUEUE"
		echo "logfile = $LOG"
		echo "syslog = off"
		echo "aliases = $aliases"
		for kv in "${globals[@]}"; do echo "${kv%%=*} = ${kv#*=}"; done
		echo "[t]"
		echo "host = 127.0.0.1"
		echo "port = ${FAKE_PORT:-25}"
		echo "tls = off"
		echo "from = sender@example.org"
		echo "domain = client.example.org"
		for kv in "${acct[@]}"; do echo "${kv%%=*} = ${kv#*=}"; done
	} >"$CONF"
	chmod 600 "$CONF"
	export CONF QUEUE LOG
}

# free_port: a loopback port free now. A relay "down" is one that does not listen on its
# port yet and comes back on the same one: a queued message is bound to its relay's host
# and port, so a relay back on another port would be another relay (test/held.bats).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# mo ARGS...: run mailout with the test config (stdin from the caller).
mo() { "$MAILOUT" -C "$CONF" "$@"; }

# crlf FILE: 1 if every line of FILE ends in CRLF and no bare CR or LF is present.
crlf_clean() {
	python3 - "$1" <<'PY'
import sys, re
b = open(sys.argv[1], 'rb').read()
bad = re.search(rb'(?<!\r)\n|\r(?!\n)', b)
sys.exit(1 if bad else 0)
PY
}

# need CMD...: fail (never skip) when a program the suite needs is missing: make check
# installs every one of them (scripts/install-deps --test).
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			fail "$c is not installed: run scripts/install-deps --test"
	done
}

# stop_test_daemons: stop what this test left running in the background: a keyring daemon
# outlives its dbus-run-session when the session ends before the daemon has connected to
# it, and a D-Bus-activated service outlives its bus. That is every process, other than
# this test's own shells, whose environment holds this test's BATS_TEST_TMPDIR; call it
# last in teardown.
stop_test_daemons() {
	python3 - "$BATS_TEST_TMPDIR" <<'PY'
import os, signal, sys, time
key = ('BATS_TEST_TMPDIR=' + sys.argv[1]).encode()
mine, p = set(), os.getpid()
while p > 1:
    mine.add(p)
    with open('/proc/%d/stat' % p) as f:
        st = f.read()
    p = int(st[st.rfind(')') + 2:].split()[1])

def left():
    pids = []
    for d in os.listdir('/proc'):
        if d.isdigit() and int(d) not in mine:
            try:
                with open('/proc/%s/environ' % d, 'rb') as f:
                    if key in f.read().split(b'\0'):
                        pids.append(int(d))
            except OSError:
                pass
    return pids

for sig in (signal.SIGTERM, signal.SIGKILL):
    pids = left()
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    for _ in range(100):
        if not pids or not left():
            sys.exit(0)
        time.sleep(0.02)
PY
}

#!/usr/bin/env bats
# scripts/install-deps leaves the machine as it found it, but for the packages: the
# policy-rc.d it puts in place for its own run is gone on every exit path, one that was
# there stays as it was, and no test dependency is or needs a mail transport agent.
#
# install-deps runs in a private mount namespace whose /usr/sbin is an empty tmpfs, with a
# dpkg-query that says nothing is installed and an apt-get that records what it was asked
# and which policy-rc.d it saw, then does what the test says: nothing is installed and
# nothing of the machine's /usr/sbin is touched.

load lib/common

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

setup() {
	export STUB=$BATS_TEST_TMPDIR/bin APT_LOG=$BATS_TEST_TMPDIR/apt.log TOP
	export APT_DOES=ok
	mkdir -p "$STUB"
	printf '#!/bin/sh\nexit 1\n' >"$STUB/dpkg-query"
	cat >"$STUB/apt-get" <<-'EOF'
	#!/bin/sh
	# a stand-in for apt-get: record the request and the policy-rc.d in force, then
	# succeed, fail, or have install-deps killed, as $APT_DOES says
	printf 'apt-get %s\n' "$*" >>"$APT_LOG"
	if [ -e /usr/sbin/policy-rc.d ]; then
		sed 's/^/  policy-rc.d: /' /usr/sbin/policy-rc.d >>"$APT_LOG"
	else
		echo "  no policy-rc.d" >>"$APT_LOG"
	fi
	case $APT_DOES in
	fail) exit 100 ;;
	term) kill -TERM "$PPID"; exit 0 ;;
	esac
	exit 0
	EOF
	chmod 755 "$STUB"/*
}

# deps [--before TEXT] [install-deps options]: run install-deps in the namespace (with
# TEXT as an existing policy-rc.d); its output, then "after: " and the policy-rc.d left
# behind, or "after: none".
deps() {
	local before=
	if [[ ${1:-} == --before ]]; then
		before=$2
		shift 2
	fi
	unshare -m bash -c '
		mount -t tmpfs tmpfs /usr/sbin || { echo "cannot mount a tmpfs on /usr/sbin"; exit 99; }
		[ -z "$1" ] || printf "%s\n" "$1" >/usr/sbin/policy-rc.d
		shift
		PATH=$STUB:$PATH sh "$TOP/scripts/install-deps" "$@"
		rc=$?
		if [ -e /usr/sbin/policy-rc.d ]; then
			echo "after: $(cat /usr/sbin/policy-rc.d)"
		else
			echo "after: none"
		fi
		exit $rc' _ "$before" "$@"
}

@test "install-deps: no service starts while it installs; its policy-rc.d goes afterwards" {
	run deps
	assert_success
	assert_line --index 0 --regexp '^install-deps: installing gcc make pkg-config '
	assert_line 'after: none'
	run cat "$APT_LOG"
	assert_line --index 0 --regexp '^apt-get install -y -q --no-install-recommends  ?gcc make '
	assert_line --index 1 '  policy-rc.d: #!/bin/sh'
	assert_line --index 2 '  policy-rc.d: exit 101'
}

@test "install-deps: its policy-rc.d goes when apt-get fails" {
	APT_DOES=fail run deps
	assert_failure
	assert_line 'after: none'
	run grep -c '^apt-get' "$APT_LOG"
	assert_output 2	# install, update: then it gives up
	run grep -c 'policy-rc.d: exit 101' "$APT_LOG"
	assert_output 2
}

@test "install-deps: its policy-rc.d goes when it is killed" {
	APT_DOES=term run deps
	assert_failure 143
	assert_line 'after: none'
	run grep -c 'policy-rc.d: exit 101' "$APT_LOG"
	assert_output 1
}

@test "install-deps: an administrator's policy-rc.d is used as it is and stays" {
	run deps --before $'#!/bin/sh\nexit 0 # the admin\'s'
	assert_success
	assert_line 'after: #!/bin/sh'
	assert_line "exit 0 # the admin's"
	run cat "$APT_LOG"
	assert_line "  policy-rc.d: exit 0 # the admin's"
	refute_line --partial 'exit 101'
}

@test "install-deps: nothing is installed with nothing missing, and nothing is left" {
	printf '#!/bin/sh\necho "install ok installed"\n' >"$STUB/dpkg-query"
	run deps
	assert_success
	assert_output 'after: none'
	[[ ! -e $APT_LOG ]]
}

@test "install-deps --test: no package it asks for is, or depends on, a mail transport agent" {
	run deps --test
	assert_success
	assert_line 'after: none'
	local pkgs
	pkgs=$(sed -n 's/^apt-get install -y -q --no-install-recommends //p' "$APT_LOG")
	[[ " $pkgs " == *" strace "* && " $pkgs " == *" ca-certificates "* ]] ||
		fail "strace and ca-certificates are not asked for: $pkgs"
	# With --no-install-recommends: what each package depends on, and what it provides.
	run apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances $pkgs
	assert_success
	refute_output --partial 'mail-transport-agent'
	refute_output --partial 'default-mta'
	run apt-cache show --no-all-versions $pkgs
	assert_success
	assert_equal "$(grep -c '^Package: ' <<<"$output")" "$(wc -w <<<"$pkgs")"
	refute_line --regexp '^Provides:.*mail-transport-agent'
	refute_line --regexp '^Package: (msmtp-mta|bsd-mailx)$'
}

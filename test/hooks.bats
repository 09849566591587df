#!/usr/bin/env bats
# The test hooks (src/base/hooks.h): the installed binary reads none of them, so its
# environment cannot move its clock, crash it or point it at another system file; the test
# build (mailout-test, the same objects but hooks_test.o) honours each one, so that the
# tests that need a hook still prove something.

bats_require_minimum_version 1.5.0
load lib/common

HOOKS=(MAILOUT_NOW MAILOUT_TEST_CRASH MAILOUT_TEST_SCRAM_NONCE MAILOUT_CRED_TIMEOUT
	MAILOUT_AUTHORIZE_TIMEOUT MAILOUT_SYSCONF)

teardown() { fake_stop; }

@test "the release binary holds no hook's name; the test build holds each one" {
	local h
	for h in "${HOOKS[@]}"; do
		run grep -c -a "$h" "$MAILOUT_RELEASE"
		assert_output 0
		run grep -c -a "$h" "$MAILOUT_TEST"
		refute_output 0
	done
}

@test "MAILOUT_NOW: the release binary dates the message now; the test build's clock moves" {
	mo_config
	local msg=$'To: bob@example.net\nSubject: clock\n\nbody\n'
	TZ=UTC MAILOUT_NOW=86400 run "$MAILOUT_RELEASE" -C "$CONF" --dry-run -t <<<"$msg"
	assert_success
	assert_line --regexp "^Date: [A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} $(date -u +%Y) "
	refute_line --partial ' 1970 '
	TZ=UTC MAILOUT_NOW=86400 run "$MAILOUT_TEST" -C "$CONF" --dry-run -t <<<"$msg"
	assert_success
	assert_line --regexp '^Date: Fri, 2 Jan 1970 00:00:00 \+0000'
}

@test "MAILOUT_TEST_CRASH: the release binary queues the message; the test build dies there" {
	mo_config port=1
	local rc=0
	MAILOUT_TEST_CRASH=commit-meta "$MAILOUT_RELEASE" -C "$CONF" bob@example.net \
		<<<$'Subject: no crash\n\nbody\n' 2>/dev/null || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(find "$QUEUE/queue" -name '*.msg' | wc -l)" 1
	MAILOUT_TEST_CRASH=commit-meta "$MAILOUT_TEST" -C "$CONF" bob@example.net \
		<<<$'Subject: crash\n\nbody\n' 2>/dev/null || rc=$?
	assert_equal "$rc" 137
	assert_equal "$(find "$QUEUE/queue" -name '*.msg' | wc -l)" 1
}

@test "MAILOUT_SYSCONF: the release binary keeps its build's system file; the test build moves" {
	run env MAILOUT_SYSCONF=/tmp/elsewhere.conf "$MAILOUT_RELEASE" --version
	assert_success
	assert_line --regexp '^system config: /.*/sendmail\.conf$'
	refute_line 'system config: /tmp/elsewhere.conf'
	run env MAILOUT_SYSCONF=/tmp/elsewhere.conf "$MAILOUT_TEST" --version
	assert_line 'system config: /tmp/elsewhere.conf'
}

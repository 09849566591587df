#!/usr/bin/env bats
# Issue 18: per-account sending limits smoothed by the queue, and the providers' quota
# replies treated as a pause of the whole account. The clock moves through MAILOUT_NOW
# (the test build), never by sleeping.

load lib/common

# A fixed start, on a minute boundary in no particular zone.
T0=1800000000

setup() {
	use_test_build
	mo_config
}

teardown() {
	fake_stop
	return 0
}

msg() { printf 'From: sender@example.org\nTo: bob@example.net\nSubject: %s\n\nbody %s\n' "$1" "$1"; }
entries() { find "$QUEUE/queue" -name '*.msg' 2>/dev/null | wc -l; }
at() { local t=$1; shift; MAILOUT_NOW=$t "$@"; }
# The subjects the relay took, sorted, one a line.
subjects() { cat "$FAKE_DIR"/msg-*.eml 2>/dev/null | sed -n 's/^Subject: //p' | tr -d '\r' | sort -n; }
connections() { ls "$FAKE_DIR"/transcript.* 2>/dev/null | wc -l; }

@test "5 a minute, 20 sent at once: 5 go, 15 queued with exit 0, then 5 a minute, none lost or twice" {
	fake_start
	mo_config max_messages_per_minute=5
	local i pids=() rc=0
	for i in $(seq 1 20); do
		at $T0 "$MAILOUT" -C "$CONF" bob@example.net < <(msg "$i") 2>"$BATS_TEST_TMPDIR/err.$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=$?; done
	assert_equal "$rc" 0
	assert_equal "$(fake_count)" 5
	assert_equal "$(entries)" 15
	# One line for each queued message, saying when it goes; none for the others.
	run bash -c "cat '$BATS_TEST_TMPDIR'/err.* | grep -c 'mailout: account t is at its limit of 5 messages a minute; the window reopens at .* (in 60 s); message queued as [0-9A-F]*, it goes then'"
	assert_output 15
	run bash -c "cat '$BATS_TEST_TMPDIR'/err.* | wc -l"
	assert_output 15
	run grep -c "status=queued until=$((T0 + 60)) error=\"account t is at its limit of 5 messages a minute" "$LOG"
	assert_output 15
	# Within the window: neither the timer nor a person's -q sends more.
	at $((T0 + 30)) mo --queue-run
	at $((T0 + 59)) mo -q 2>/dev/null
	assert_equal "$(fake_count)" 5
	# Each minute, five more; a second run in the same minute sends none.
	at $((T0 + 60)) mo --queue-run
	assert_equal "$(fake_count)" 10
	at $((T0 + 90)) mo --queue-run
	assert_equal "$(fake_count)" 10
	at $((T0 + 120)) mo --queue-run
	assert_equal "$(fake_count)" 15
	at $((T0 + 180)) mo --queue-run
	assert_equal "$(fake_count)" 20
	assert_equal "$(entries)" 0
	run subjects
	assert_output "$(seq 1 20)"
	# Waiting for a window is no failed attempt.
	run grep -c 'status=deferred' "$LOG"
	assert_output 0
}

@test "over a limit with queue = off: exit 75, saying when the window reopens" {
	fake_start
	mo_config max_messages_per_minute=2 queue=off
	at $T0 mo bob@example.net < <(msg 1)
	at $((T0 + 10)) mo bob@example.net < <(msg 2)
	run at $((T0 + 20)) mo bob@example.net < <(msg 3)
	assert_failure 75
	assert_output --regexp '^mailout: account t is at its limit of 2 messages a minute; the window reopens at .* \(in 40 s\)$'
	assert_equal "$(fake_count)" 2
	# The next window takes it.
	run at $((T0 + 60)) mo bob@example.net < <(msg 3)
	assert_success
	assert_equal "$(fake_count)" 3
}

@test "recipients a day: a message that would pass the cap waits for the next day" {
	fake_start
	mo_config max_recipients_per_day=3
	at $T0 mo a@example.net b@example.net < <(msg 1)
	run at $((T0 + 5)) mo c@example.net d@example.net < <(msg 2)
	assert_success
	assert_output --regexp 'at its limit of 3 recipients a day; the window reopens at .* \(in 86395 s\); message queued as'
	assert_equal "$(fake_count)" 1
	at $((T0 + 86399)) mo --queue-run
	assert_equal "$(fake_count)" 1
	at $((T0 + 86400)) mo --queue-run
	assert_equal "$(fake_count)" 2
}

@test "presets: Microsoft 365 by oauth or host, Gmail and Workspace by mailbox; each key and send_limits = off override" {
	mo_config oauth=microsoft oauth_client_id=x user=u@example.org
	run mo -bp
	assert_success
	assert_line "account t: 30 messages a minute, 10000 recipients a day (send_limits = auto: microsoft)"
	mo_config oauth=microsoft oauth_client_id=x user=u@example.org max_messages_per_minute=20 \
		max_recipients_per_day=off
	run mo -bp
	assert_line "account t: 20 messages a minute (send_limits = auto: microsoft)"
	mo_config oauth=microsoft oauth_client_id=x user=u@example.org send_limits=off
	run mo -bp
	assert_output "Mail queue is empty"
	mo_config oauth=google oauth_client_id=x user=u@gmail.com
	run mo -bp
	assert_line "account t: 500 recipients a day (send_limits = auto: gmail)"
	mo_config oauth=google oauth_client_id=x user=u@example.com
	run mo -bp
	assert_line "account t: 2000 messages a day, 10000 recipients a day (send_limits = auto: workspace)"
	mo_config send_limits=microsoft max_messages_per_second=2
	run mo -bp
	assert_line "account t: 2 messages a second, 30 messages a minute, 10000 recipients a day (send_limits = microsoft)"
	mo_config max_messages_per_hour=0
	run mo -bp
	assert_failure 78
	assert_output --partial "max_messages_per_hour"
}

# Microsoft 365's answer once an account passes 30 messages a minute.
MS_QUOTA='554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.'

@test "Microsoft's 554 5.2.0 quota reply after the 3rd message: kept, account paused, sent after the pause" {
	fake_start --reply "dot@3=$MS_QUOTA"
	mo_config
	local i
	for i in 1 2; do at $((T0 + i)) mo bob@example.net < <(msg "$i"); done
	run at $((T0 + 3)) mo bob@example.net < <(msg 3)
	assert_success
	assert_output --regexp "^mailout: relay 127.0.0.1:$FAKE_PORT: .*554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException.*; account t paused, message queued as [0-9A-F]{19}, it goes after .* \(in 60 s\)$"
	# The others wait in the queue without a connection.
	for i in 4 5; do
		run at $((T0 + i)) mo bob@example.net < <(msg "$i")
		assert_success
		assert_output --regexp "^mailout: account t is paused until .* \(in $((60 - i + 3)) s\): Microsoft 365's submission quota"
	done
	assert_equal "$(connections)" 3
	assert_equal "$(fake_count)" 2
	assert_equal "$(entries)" 3
	run grep -c "account=t status=paused until=$((T0 + 63)) reason=\"Microsoft 365's submission quota (30 messages a minute): relay said: 554 5.2.0" "$LOG"
	assert_output 1
	run at $((T0 + 10)) mo -bp
	assert_line "account t: none (send_limits = auto)"
	assert_line --regexp "^    paused until .* \(in 53 s\): Microsoft 365's submission quota \(30 messages a minute\): relay said: 554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"
	# The timer's run leaves a paused account alone.
	at $((T0 + 30)) mo --queue-run
	assert_equal "$(connections)" 3
	at $((T0 + 63)) mo --queue-run
	assert_equal "$(fake_count)" 5
	assert_equal "$(entries)" 0
	run subjects
	assert_output "$(seq 1 5)"
}

@test "a paused account: the timer waits, a person's sendmail -q tries at once" {
	fake_start --reply "dot@1=$MS_QUOTA"
	mo_config
	at $T0 mo bob@example.net < <(msg 1) 2>/dev/null
	at $((T0 + 1)) mo bob@example.net < <(msg 2) 2>/dev/null
	assert_equal "$(entries)" 2
	at $((T0 + 5)) mo --queue-run
	assert_equal "$(fake_count)" 0
	run at $((T0 + 5)) mo -q
	assert_success
	assert_equal "$(fake_count)" 2
	assert_equal "$(entries)" 0
	run at $((T0 + 5)) mo -bp
	refute_output --partial 'paused'
}

@test "sendmail -q on a paused account that is still over its quota: one try, the rest wait" {
	fake_start --reply "dot@1=$MS_QUOTA" --reply "dot@2=$MS_QUOTA"
	mo_config
	local i
	for i in 1 2 3; do at $((T0 + i)) mo bob@example.net < <(msg "$i") 2>/dev/null; done
	assert_equal "$(entries)" 3
	run at $((T0 + 10)) mo -q
	assert_success
	# One message met the wall again (connection 2); the others did not follow it there.
	assert_equal "$(connections)" 2
	run grep -c '^MAIL FROM' "$FAKE_DIR/transcript.2"
	assert_output 1
	assert_equal "$(fake_count)" 0
	assert_equal "$(entries)" 3
	run at $((T0 + 10)) mo -bp
	assert_output --regexp "paused until .* \(in 60 s\)"
	at $((T0 + 70)) mo --queue-run
	assert_equal "$(fake_count)" 3
	assert_equal "$(entries)" 0
}

@test "Gmail's 550 5.4.5 daily limit: kept, paused until the next day" {
	fake_start --reply 'mail@1=550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852 - gsmtp'
	mo_config
	run at $T0 mo bob@example.net < <(msg 1)
	assert_success
	assert_output --partial '(in 86400 s)'
	run at $((T0 + 1)) mo bob@example.net < <(msg 2)
	assert_success
	assert_output --partial "account t is paused until"
	assert_output --partial "Gmail's daily sending limit"
	at $((T0 + 3600)) mo --queue-run
	at $((T0 + 86399)) mo --queue-run
	assert_equal "$(fake_count)" 0
	assert_equal "$(connections)" 1
	at $((T0 + 86400)) mo --queue-run
	assert_equal "$(fake_count)" 2
	assert_equal "$(entries)" 0
}

@test "a 421 4.7.0 storm: kept, paused, tried again after each pause, no message lost" {
	fake_start --reply 'greeting@1=421 4.7.0 Try again later, closing connection. (EHLO) - gsmtp' \
		--reply 'mail@2=421 4.7.0 Try again later, closing connection. (MAIL) - gsmtp'
	mo_config
	local i
	for i in 1 2 3 4 5; do
		run at $((T0 + i)) mo bob@example.net < <(msg "$i")
		assert_success
	done
	assert_equal "$(connections)" 1
	assert_equal "$(entries)" 5
	# After the first pause the relay throttles again: paused again, nothing lost.
	at $((T0 + 61)) mo --queue-run
	assert_equal "$(connections)" 2
	assert_equal "$(fake_count)" 0
	assert_equal "$(entries)" 5
	at $((T0 + 100)) mo --queue-run
	assert_equal "$(connections)" 2
	at $((T0 + 121)) mo --queue-run
	assert_equal "$(fake_count)" 5
	assert_equal "$(entries)" 0
	run subjects
	assert_output "$(seq 1 5)"
}

@test "mailq and --test show the limits and their use" {
	fake_start
	mo_config max_messages_per_minute=5 max_recipients_per_day=100
	at $T0 mo a@example.net b@example.net < <(msg 1)
	run at $((T0 + 10)) mo -bp
	assert_success
	assert_line "account t: 5 messages a minute, 100 recipients a day (send_limits = auto)"
	assert_line --regexp '^    1 of 5 messages a minute \(window ends .* \(in 50 s\)\)$'
	assert_line --regexp '^    2 of 100 recipients a day \(window ends .* \(in 86390 s\)\)$'
	run at $((T0 + 10)) mo --test bob@example.net
	assert_success
	assert_line "limits     5 messages a minute, 100 recipients a day (send_limits = auto)"
	assert_line --regexp '^usage      1 of 5 messages a minute \(window ends .*\)$'
	assert_line --regexp '^usage      2 of 100 recipients a day \(window ends .*\)$'
}

# The windows slide (issue 18's follow-up): a fixed window let 1 at T0, 4 at T0 + 59 and 5
# more at T0 + 60 all through, 9 within two seconds.
@test "sliding minute: 1 at T0, 4 at T0+59; at T0+60 only the one whose slot left goes, the rest at T0+119" {
	fake_start
	mo_config max_messages_per_minute=5
	local i
	at $T0 mo bob@example.net < <(msg 1)
	for i in 2 3 4 5; do at $((T0 + 59)) mo bob@example.net < <(msg "$i"); done
	assert_equal "$(fake_count)" 5
	for i in 6 7 8 9 10; do
		at $((T0 + 60)) "$MAILOUT" -C "$CONF" bob@example.net < <(msg "$i") \
			2>>"$BATS_TEST_TMPDIR/err"
	done
	assert_equal "$(fake_count)" 6
	assert_equal "$(entries)" 4
	run grep -c 'at its limit of 5 messages a minute; the window reopens at .* (in 59 s); message queued as' "$BATS_TEST_TMPDIR/err"
	assert_output 4
	run grep -c "status=queued until=$((T0 + 119)) " "$LOG"
	assert_output 4
	run at $((T0 + 60)) mo -bp
	assert_line --regexp '^    5 of 5 messages a minute \(window ends .* \(in 59 s\)\)$'
	at $((T0 + 118)) mo --queue-run
	assert_equal "$(fake_count)" 6
	at $((T0 + 119)) mo --queue-run
	assert_equal "$(fake_count)" 10
	assert_equal "$(entries)" 0
	run subjects
	assert_output "$(seq 1 10)"
}

@test "a steady stream for 3 minutes at 5 a minute: never more than 5 in any rolling 60 s, none lost" {
	fake_start
	mo_config max_messages_per_minute=5
	local s n=0 before after
	# One message every 5 s (12 a minute offered) and a queue run each time; the relay's
	# arrivals, at the moved clock, one "second count" line per step.
	for s in $(seq 0 5 480); do
		before=$(fake_count)
		if ((s < 180)); then
			n=$((n + 1))
			at $((T0 + s)) mo bob@example.net < <(msg "$n") 2>/dev/null
		fi
		at $((T0 + s)) mo --queue-run 2>/dev/null
		after=$(fake_count)
		echo "$s $((after - before))" >>"$BATS_TEST_TMPDIR/arrivals"
	done
	assert_equal "$n" 36
	assert_equal "$(entries)" 0
	run subjects
	assert_output "$(seq 1 36)"
	# The most in any 60 s that begins at an arrival (the worst ones do): 5, never more.
	run awk '{ t[NR] = $1; c[NR] = $2 } END { for (i = 1; i <= NR; i++) { if (!c[i]) continue
		s = 0; for (j = i; j <= NR && t[j] < t[i] + 60; j++) s += c[j]; if (s > m) m = s }
		print m }' "$BATS_TEST_TMPDIR/arrivals"
	assert_output 5
}

#!/usr/bin/env bats
# The aliases file: newaliases / -bi / -I check it with line numbers, -bv shows where a
# recipient goes, and a real send expands local recipients (root -> a person), then
# qualifies bare names with default_domain. Headers stay as written unless rewrite_to.

load lib/common
load lib/callers

teardown() { fake_stop; }

ALIASES_OK='# system aliases
postmaster: root
root: admin@example.com,
	ops
ops: "Ops Team" <ops@example.net>, \root
nobody: /dev/null
www-data: |/usr/bin/procmail
'

aliases_file() {
	ALIASES=$BATS_TEST_TMPDIR/aliases
	printf '%s' "$1" >"$ALIASES"
}

msg() { printf 'Subject: alias test\nTo: root\n\nbody\n'; }

@test "newaliases -bi: a valid file, its warnings with line numbers, the count, exit 0" {
	aliases_file "$ALIASES_OK"
	mo_config "aliases=$ALIASES"
	run mo -bi
	assert_success
	assert_line --regexp "^$ALIASES:6: .*/dev/null"
	assert_line --regexp "^$ALIASES:7: .*procmail"
	assert_line "$ALIASES: 5 aliases"
}

@test "newaliases as a program name, and -I, do the same" {
	aliases_file "$ALIASES_OK"
	mo_config "aliases=$ALIASES"
	ln -s "$MAILOUT" "$BATS_TEST_TMPDIR/newaliases"
	run "$BATS_TEST_TMPDIR/newaliases" -C "$CONF"
	assert_success
	assert_line "$ALIASES: 5 aliases"
	run mo -I
	assert_success
	assert_line "$ALIASES: 5 aliases"
}

@test "-bi reports every error with its line number and exits 78" {
	aliases_file $'root admin@example.com\nok: a@b\n: nothing\nalso bad line\n'
	mo_config "aliases=$ALIASES"
	run mo -bi
	assert_failure 78
	assert_line --regexp "^$ALIASES:1: "
	assert_line --regexp "^$ALIASES:3: "
	assert_line --regexp "^$ALIASES:4: "
}

@test "-bi finds a loop" {
	aliases_file $'a: b\nb: c\nc: a\n'
	mo_config "aliases=$ALIASES"
	run mo -bi
	assert_failure 78
	assert_output --partial 'loop'
}

@test "-bi with no aliases file: says so, exit 0" {
	mo_config "aliases=$BATS_TEST_TMPDIR/none"
	run mo -bi
	assert_success
	assert_output "$BATS_TEST_TMPDIR/none: no such file: no aliases"
}

@test "-bv: alias, qualification, remote, account and relay, and nothing is sent" {
	fake_start
	aliases_file "$ALIASES_OK"
	mo_config "aliases=$ALIASES" default_domain=example.com
	run mo -bv root alice bob@x.org postmaster@localhost
	assert_success
	assert_line "root -> admin@example.com, ops@example.net, root@example.com (alias in $ALIASES)"
	assert_line 'alice -> alice@example.com (local name, default_domain example.com)'
	assert_line 'bob@x.org -> bob@x.org'
	assert_line "postmaster@localhost -> admin@example.com, ops@example.net, root@example.com (alias in $ALIASES)"
	assert_line "via account t, relay 127.0.0.1:$FAKE_PORT, sender <sender@example.org>"
	run fake_transcript
	assert_output ''
}

@test "-bv names a loop and exits 78" {
	aliases_file $'a: b\nb: a\n'
	mo_config "aliases=$ALIASES"
	run mo -bv a
	assert_failure 78
	assert_output --partial 'a -> error: '
	assert_output --partial 'loop'
}

@test "a send to root reaches the alias targets; To: root stays as written" {
	fake_start
	aliases_file "$ALIASES_OK"
	mo_config "aliases=$ALIASES" default_domain=example.com
	run mo -t < <(msg)
	assert_success
	run fake_env 1
	assert_line 'RCPT TO:<admin@example.com>'
	assert_line 'RCPT TO:<ops@example.net>'
	assert_line 'RCPT TO:<root@example.com>'
	refute_line 'RCPT TO:<root>'
	run header 1 To
	assert_output 'root'
}

@test "rewrite_to = on: local names in To and Cc become what they resolve to" {
	fake_start
	aliases_file $'root: admin@example.com\n'
	mo_config "aliases=$ALIASES" default_domain=example.com rewrite_to=on
	run mo -t < <(printf 'To: System <root>, x@y.org\nCc: alice\n\nb\n')
	assert_success
	run header 1 To
	assert_output 'System <admin@example.com>, x@y.org'
	run header 1 Cc
	assert_output 'alice@example.com'
}

@test "user@localhost and user@this host are local: expanded too" {
	fake_start
	aliases_file $'root: admin@example.com\n'
	mo_config "aliases=$ALIASES" default_domain=example.com
	run mo root@localhost "root@$(hostname)" < <(msg)
	assert_success
	run fake_env 1
	assert_line 'RCPT TO:<admin@example.com>'
	assert_equal "$(grep -c RCPT "$FAKE_DIR/msg-1.env")" 1
}

@test "a loop in a real send: nothing sent, exit 78, the chain named" {
	fake_start
	aliases_file $'a: b\nb: a\n'
	mo_config "aliases=$ALIASES"
	run mo a < <(msg)
	assert_failure 78
	assert_output --partial 'loop'
	assert_equal "$(fake_count)" 0
}

@test "an alias with only a pipe: refused (67), not silently dropped" {
	fake_start
	aliases_file "$ALIASES_OK"
	mo_config "aliases=$ALIASES"
	run mo www-data < <(msg)
	assert_failure 67
	assert_output --partial 'procmail'
	assert_equal "$(fake_count)" 0
}

@test "no aliases file: root goes to root@default_domain" {
	fake_start
	mo_config "aliases=$BATS_TEST_TMPDIR/none" default_domain=example.com
	run mo root < <(msg)
	assert_success
	run fake_env 1
	assert_line 'RCPT TO:<root@example.com>'
}

@test "-bv without recipients is a usage error (64)" {
	mo_config
	run mo -bv
	assert_failure 64
	assert_output --partial '-bv needs the recipients'
}

#!/usr/bin/env bats
# mailout --import: real-world msmtp, ssmtp, dma and nullmailer settings become
# sendmail.conf accounts; each import is followed by a --dry-run that shows the relay and
# the sender the old tool used, and msmtp's keyring entries are used as they are (a real
# Secret Service: gnome-keyring in a private D-Bus session).

load lib/common

setup() {
	T=$BATS_TEST_TMPDIR
	CONF=$XDG_CONFIG_HOME/mailout/sendmail.conf
	ME=$(id -un)
	# The test's own aliases file and queue, never the machine's: the import keeps them.
	mkdir -p "${CONF%/*}"
	printf '[defaults]\naliases = %s\nqueue_dir = %s\n' "$(test_aliases)" "$T/queue" >"$CONF"
	cp "$CONF" "$T/base.conf"
}

teardown() {
	fake_stop
	stop_test_daemons
}

# dry ACCOUNT-ARGS...: a --dry-run send through the written file; its header lines.
dry() {
	run "$MAILOUT" "$@" --dry-run rcpt@example.net <<<$'Subject: moved\n\nhello'
	assert_success
}

@test "msmtp: several accounts, defaults, passwordeval, account default, a password moved" {
	cat >"$T/msmtprc" <<'EOF'
# Set default values for all following accounts.
defaults
auth           on
tls            on
tls_trust_file /etc/ssl/certs/ca-certificates.crt
logfile        ~/.msmtp.log

# Gmail
account        gmail
host           smtp.gmail.com
port           587
from           jane.doe@gmail.com
user           jane.doe
passwordeval   "gpg --quiet --for-your-eyes-only --no-tty --decrypt ~/.msmtp-gmail.gpg"

# Work
account        work
host           mail.example.com
port           465
tls_starttls   off
from           jane@example.com
user           jane
password       hunter2

# A freemail service
account        freemail : gmail
from           jdoe@freemail.example
host           smtp.freemail.example

# Set a default account
account default : work
EOF
	run --separate-stderr "$MAILOUT" --import "$T/msmtprc"
	assert_success
	[[ $output == *"Nothing was written: run it again with --yes"* ]] || fail "$output"
	cmp "$CONF" "$T/base.conf"
	if [[ $output == *hunter2* ]]; then fail "the password is printed: $output"; fi
	run --separate-stderr "$MAILOUT" --import "$T/msmtprc" --yes </dev/null
	assert_success
	[[ $output == *"Wrote 3 accounts to $CONF"* ]] || fail "$output"
	if grep -q hunter2 "$CONF"; then fail "the password is in sendmail.conf"; fi
	assert_equal "$(stat -c %a "$XDG_CONFIG_HOME/mailout/work.password")" 600
	assert_equal "$(cat "$XDG_CONFIG_HOME/mailout/work.password")" hunter2
	grep -qx 'password_command = gpg --quiet --for-your-eyes-only --no-tty --decrypt ~/.msmtp-gmail.gpg' \
		"$CONF" || fail "$(cat "$CONF")"
	# msmtp's default (account default : work) is mailout's.
	dry
	assert_line "account: work"
	assert_line "relay: mail.example.com:465"
	assert_line "sender: <jane@example.com>"
	dry -a gmail
	assert_line "relay: smtp.gmail.com:587"
	assert_line "sender: <jane.doe@gmail.com>"
	# freemail took gmail's settings and overrode host and from, as msmtp does.
	dry -a freemail
	assert_line "relay: smtp.freemail.example:587"
	assert_line "sender: <jdoe@freemail.example>"
	# -f picks the account whose from matches, as msmtp's auto_from/--read-envelope-from.
	dry -f jdoe@freemail.example
	assert_line "account: freemail"
}

@test "msmtp: an account with its password in the keyring sends with msmtp's entry" {
	[[ $("$MAILOUT" --version) != *keyring=none* ]] || skip "built with KEYRING=none"
	fake_start --auth-mechs CRAM-MD5 --user joe --password 'kr-s3cret' --require-auth
	cat >"$T/msmtprc" <<EOF
account        local
host           127.0.0.1
port           $FAKE_PORT
tls            off
auth           on
user           joe
from           joe@example.org
account default : local
EOF
	run --separate-stderr "$MAILOUT" --import "$T/msmtprc" --yes </dev/null
	assert_success
	if grep -q password "$CONF"; then fail "a password setting: $(cat "$CONF")"; fi
	export HOME=$T/home XDG_RUNTIME_DIR=$T/run MAILOUT T
	mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
	chmod 700 "$XDG_RUNTIME_DIR"
	printf '#!/bin/sh\nexec dbus-daemon "$@" 2>/dev/null\n' >"$T/dbus-daemon"
	chmod +x "$T/dbus-daemon"
	run --separate-stderr dbus-run-session --dbus-daemon="$T/dbus-daemon" -- sh -c '
		printf %s pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
		printf %s kr-s3cret | secret-tool store --label=msmtp host 127.0.0.1 service smtp user joe
		printf "Subject: moved\n\nhello\n" | "$MAILOUT" rcpt@example.net' 3>&-
	[[ $status -eq 0 && $(fake_count) -eq 1 ]] || fail "$status $stderr"
	fake_env 1 | grep -q 'joe@example.org' || fail "$(fake_env 1)"
}

@test "ssmtp: ssmtp.conf and revaliases, the password moved, what differs listed" {
	mkdir -p "$T/ssmtp"
	cat >"$T/ssmtp/ssmtp.conf" <<'EOF'
#
# Config file for sSMTP sendmail
#
# The person who gets all mail for userids < 1000
# Make this empty to disable rewriting.
root=postmaster

# The place where the mail goes. The actual machine name is required no
# MX records are consulted. Commonly mailhosts are named mail.domain.com
mailhub=smtp.gmail.com:587

# Where will the mail seem to come from?
rewriteDomain=example.org

# The full hostname
hostname=myhost.example.org

# Are users allowed to set their own From: address?
# YES - Allow the user to specify their own From: address
# NO - Use the system generated From: address
FromLineOverride=YES
AuthUser=jane@example.org
AuthPass=app-password
UseSTARTTLS=YES
EOF
	cat >"$T/ssmtp/revaliases" <<'EOF'
# sSMTP aliases
#
# Format:	local_account:outgoing_address:mailhub
#
# Example: root:your_login@your.domain:mailhub.your.domain[:port]
# where [:port] is an optional port number that defaults to 25.
root:jane@example.org:smtp.gmail.com:587
EOF
	run --separate-stderr "$MAILOUT" --import "$T/ssmtp" --yes </dev/null
	assert_success
	[[ $output == *"Root=postmaster: mailout sends mail for root where the aliases file says"* ]] ||
		fail "$output"
	[[ $output == *"revaliases line 7"* ]] || fail "$output"
	if grep -q app-password "$CONF"; then fail "the password is in sendmail.conf"; fi
	assert_equal "$(cat "$XDG_CONFIG_HOME/mailout/ssmtp.password")" app-password
	# ssmtp sent as the user at rewriteDomain, through mailhub.
	dry
	assert_line "relay: smtp.gmail.com:587"
	assert_line "sender: <$ME@example.org>"
}

@test "dma: dma.conf and the auth.conf it names" {
	mkdir -p "$T/dma"
	cat >"$T/dma/dma.conf" <<EOF
# \$DragonFly: src/etc/dma/dma.conf,v 1.2 2008/02/04 10:11:41 matthias Exp \$
# Your smarthost (also called relayhost).  Leave blank if you don't want
# smarthost support.
SMARTHOST mail.example.net

# Use this SMTP port.  Most users will be fine with the default (25)
PORT 587

# Path to your alias file.  Just stay with the default.
#ALIASES /etc/aliases

# SMTP authentication
AUTHPATH $T/dma/auth.conf

# Uncomment if you want TLS/SSL support
SECURETRANSFER

# Uncomment if you want STARTTLS support (only used in combination with
# SECURETRANSFER)
STARTTLS

# Masquerade envelope from addresses with this address/hostname.
MASQUERADE bob@example.net
EOF
	cat >"$T/dma/auth.conf" <<'EOF'
# $DragonFly: src/etc/dma/auth.conf,v 1.1 2008/02/02 18:20:51 matthias Exp $
#
# SMTP authentication entries (currently AUTH LOGIN only)
# Format: user|my.smarthost.example.com:password
bob|mail.example.net:b0b-secret
EOF
	run --separate-stderr "$MAILOUT" --import "$T/dma" --yes </dev/null
	assert_success
	grep -qx 'user = bob' "$CONF" || fail "$(cat "$CONF")"
	if grep -q b0b-secret "$CONF"; then fail "the password is in sendmail.conf"; fi
	assert_equal "$(cat "$XDG_CONFIG_HOME/mailout/dma.password")" b0b-secret
	dry
	assert_line "relay: mail.example.net:587"
	assert_line "sender: <bob@example.net>"
}

@test "nullmailer: remotes, me, defaultdomain, adminaddr" {
	mkdir -p "$T/nullmailer"
	printf '%s\n' '# the smarthost' \
		'smtp.example.com smtp --port=465 --ssl --user=alice@example.com --pass=al1ce' \
		>"$T/nullmailer/remotes"
	echo example.com >"$T/nullmailer/defaultdomain"
	echo alice@example.com >"$T/nullmailer/adminaddr"
	echo box >"$T/nullmailer/me"
	run --separate-stderr "$MAILOUT" --import "$T/nullmailer" --yes </dev/null
	assert_success
	[[ $output == *"adminaddr alice@example.com"*aliases* ]] || fail "$output"
	if grep -q al1ce "$CONF"; then fail "the password is in sendmail.conf"; fi
	assert_equal "$(cat "$XDG_CONFIG_HOME/mailout/nullmailer.password")" al1ce
	# nullmailer sent as user@me.defaultdomain.
	dry
	assert_line "relay: smtp.example.com:465"
	assert_line "sender: <$ME@box.example.com>"
}

@test "an import into a file with other accounts keeps every byte of them" {
	printf '%s\n' '# mine' '[defaults]' 'account = home   ; keep me' \
		"aliases = $(test_aliases)" "queue_dir = $T/queue" '' '[home]' \
		'host = mail.home.example  # ISP' >"$CONF"
	cp "$CONF" "$T/orig"
	printf '%s\n' 'account work' 'host mail.example.com' 'from jane@example.com' \
		'account default : work' >"$T/msmtprc"
	run --separate-stderr "$MAILOUT" --import "$T/msmtprc" --yes </dev/null
	assert_success
	cmp <(head -c "$(stat -c %s "$T/orig")" "$CONF") "$T/orig" || fail "$(cat "$CONF")"
	# [defaults] account was set already: kept, and said.
	[[ $output == *"account"*"kept"* ]] || fail "$output"
	dry -a work
	assert_line "relay: mail.example.com:25"
	assert_line "sender: <jane@example.com>"
}

@test "a file that is no agent's settings: usage error, nothing written" {
	printf 'hello world\n' >"$T/what"
	run --separate-stderr "$MAILOUT" --import "$T/what" --yes </dev/null
	assert_equal "$status" 64
	cmp "$CONF" "$T/base.conf"
}

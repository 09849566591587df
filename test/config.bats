#!/usr/bin/env bats
# sendmail.conf: which account a message goes through, and the exact error (exit 78)
# for each kind of bad configuration. --dry-run shows the choice without a network.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
    MAILOUT=${MAILOUT:-$BATS_TEST_DIRNAME/../build/mailout}
    # Only the test build reads MAILOUT_SYSCONF (lib/common.bash): the tests about the
    # system file run it, and every test does where the machine has the release's file.
    MAILOUT_TEST=${MAILOUT_TEST:-${MAILOUT%/*}/mailout-test}
    export MAILOUT_SYSCONF=/nonexistent
    if [[ -e $("$MAILOUT" --version | sed -n 's/^system config: //p') ]]; then
        MAILOUT=$MAILOUT_TEST
    fi
    # No user file unless a test writes one: nothing from the real home is read.
    export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
    export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
    CONF=$BATS_TEST_TMPDIR/x.conf
    MSG=$BATS_TEST_TMPDIR/msg
    printf 'Subject: config test\n\nbody\n' >"$MSG"
    ALIASES=$BATS_TEST_TMPDIR/aliases
    : >"$ALIASES"
}

# conf TEXT: write the -C file, private as a file with secrets should be. A [defaults]
# section after TEXT names the test's own (empty) aliases file: the machine's /etc/aliases
# is never read.
conf() {
    printf '%s\n\n[defaults]\naliases = %s\n' "$1" "$ALIASES" >"$CONF"
    chmod 600 "$CONF"
}

# dry ARGS...: run mailout -C $CONF --dry-run ARGS with the test message on stdin.
dry() {
    run --separate-stderr "$MAILOUT" -C "$CONF" --dry-run "$@" <"$MSG"
}

# chosen ACCOUNT HOST:PORT: the dry run succeeded through that account and relay.
chosen() {
    assert_equal "$status" 0
    assert_equal "${lines[0]}" "account: $1"
    assert_equal "${lines[1]}" "relay: $2"
}

# The line a run adds on a machine where nothing listens on /dev/log (a container, a CI
# machine) when the failure's own log line has nowhere to go (mailout(8), LOGGING).
log_warning() {
    [[ -S /dev/log ]] && return 0
    printf '\nmailout: warning: cannot log to syslog (/dev/log: %s); messages'"'"' fates are not recorded (see syslog and logfile in sendmail.conf(5))' \
        "$([[ -e /dev/log ]] && echo 'Connection refused' || echo 'No such file or directory')"
}

# config_error MESSAGE: exit 78, that one line on stderr, nothing on stdout. (A bad value
# is found before the log is set up: nothing is logged, so there is no warning.)
config_error() {
    assert_equal "$status" 78
    assert_equal "$stderr" "mailout: $1"
    assert_equal "$output" ""
}

# select_error MESSAGE: as config_error, for an error found when the account is chosen:
# that failure is logged, so a machine without syslog adds the warning above.
select_error() {
    assert_equal "$status" 78
    assert_equal "$stderr" "mailout: $1$(log_warning)"
    assert_equal "$output" ""
}

@test "a single account is used, with port 587 for the default starttls" {
    conf $'[work]\nhost = smtp.example.com'
    dry a@example.org
    chosen work smtp.example.com:587
    assert_equal "${lines[3]}" "recipient: <a@example.org>"
}

@test "the port follows tls: 465 for implicit, 25 for off, an explicit port wins" {
    conf $'[a]\nhost = a.example\ntls = implicit\n[b]\nhost = b.example\ntls = off\n[c]\nhost = c.example\ntls = implicit\nport = 2465'
    dry -a a r@example.org
    chosen a a.example:465
    dry -a b r@example.org
    chosen b b.example:25
    dry -a c r@example.org
    chosen c c.example:2465
}

@test "-a and --account choose by name, case-insensitively" {
    conf $'[work]\nhost = w.example\n[home]\nhost = h.example\nport = 2525'
    dry -a home r@example.org
    chosen home h.example:2525
    dry --account=WORK r@example.org
    chosen work w.example:587
    dry --account home r@example.org
    chosen home h.example:2525
}

@test "-f selects the account whose from matches, ignoring case and a +tag" {
    conf $'[work]\nhost = w.example\nfrom = joe@work.example\n[home]\nhost = h.example\nfrom = joe@home.example'
    dry -f joe@home.example r@example.org
    chosen home h.example:587
    dry -f JOE@Work.Example r@example.org
    chosen work w.example:587
    dry -f joe+cron@work.example r@example.org
    chosen work w.example:587
    assert_equal "${lines[2]}" "sender: <joe+cron@work.example>"
}

@test "a from glob selects; an exact from beats an earlier glob" {
    conf $'[lists]\nhost = l.example\nfrom = *@lists.example\n[alice]\nhost = a.example\nfrom = alice@lists.example\n[other]\nhost = o.example'
    dry -f bob@lists.example r@example.org
    chosen lists l.example:587
    dry -f alice@lists.example r@example.org
    chosen alice a.example:587
}

@test "[defaults] account is used when no from matches" {
    conf $'[defaults]\naccount = backup\n[work]\nhost = w.example\nfrom = joe@work.example\n[backup]\nhost = b.example'
    dry -f someone@else.example r@example.org
    chosen backup b.example:587
    dry r@example.org
    chosen backup b.example:587
    dry -f joe@work.example r@example.org
    chosen work w.example:587
}

@test "accounts inherit [defaults] and override it" {
    conf $'[defaults]\nport = 2525\nhost = shared.example\n[a]\n[b]\nport = 26'
    dry -a a r@example.org
    chosen a shared.example:2525
    dry -a b r@example.org
    chosen b shared.example:26
}

@test "oauth = google implies the relay" {
    conf $'[g]\noauth = google\nuser = me@gmail.com\noauth_client_id = cid'
    dry r@example.org
    chosen g smtp.gmail.com:587
}

@test "the user file's account replaces the system file's account of the same name" {
    local sys=$BATS_TEST_TMPDIR/sys.conf
    printf '[defaults]\nport = 2525\naliases = %s\n[work]\nhost = sys.example\n[sys]\nhost = s.example\n' \
        "$ALIASES" >"$sys"
    mkdir -p "$XDG_CONFIG_HOME/mailout"
    printf '[work]\nhost = user.example\n' >"$XDG_CONFIG_HOME/mailout/sendmail.conf"
    MAILOUT_SYSCONF=$sys run --separate-stderr "$MAILOUT_TEST" --dry-run -a work r@example.org <"$MSG"
    chosen work user.example:2525
    MAILOUT_SYSCONF=$sys run --separate-stderr "$MAILOUT_TEST" --dry-run -a sys r@example.org <"$MSG"
    chosen sys s.example:2525
}

@test "-C replaces the user file" {
    mkdir -p "$XDG_CONFIG_HOME/mailout"
    printf '[user]\nhost = user.example\n' >"$XDG_CONFIG_HOME/mailout/sendmail.conf"
    conf $'[c]\nhost = c.example'
    dry r@example.org
    chosen c c.example:587
}

@test "error: -C names a file that does not exist" {
    dry r@example.org
    config_error "$CONF: cannot open: No such file or directory"
}

# no_machine_aliases CMD...: CMD in a private mount namespace where the machine's
# /etc/aliases, if there is one, is empty: with no configuration file at all there is no
# place to name the test's own, and mailout reads that one before it finds no account.
no_machine_aliases() {
    if [[ -e /etc/aliases ]]; then
        unshare -m sh -c 'mount --bind /dev/null /etc/aliases && exec "$@"' _ "$@"
    else
        "$@"
    fi
}

@test "error: no configuration file at all" {
    run --separate-stderr no_machine_aliases "$MAILOUT_TEST" --dry-run r@example.org <"$MSG"
    select_error "no account is configured: neither /nonexistent nor the user's ~/.config/mailout/sendmail.conf exists; create one with an account (see sendmail.conf(5))"
}

@test "error: a port out of range" {
    conf $'[work]\nhost = h.example\nport = 99999'
    dry r@example.org
    config_error "$CONF: [work] port = 99999: not a port number (accepted: 1-65535)"
}

@test "error: a bad boolean" {
    conf $'[work]\nhost = h.example\ntls_verify = maybe'
    dry r@example.org
    config_error "$CONF: [work] tls_verify = maybe: not a boolean (accepted: on, off, yes, no, true, false, 1, 0)"
}

@test "error: a bad tls mode" {
    conf $'[work]\nhost = h.example\ntls = ssl'
    dry r@example.org
    config_error "$CONF: [work] tls = ssl: not a TLS mode (accepted: off, opportunistic, starttls, implicit)"
}

@test "error: a bad size" {
    conf $'[work]\nhost = h.example\nmax_message_size = 10MB'
    dry r@example.org
    config_error "$CONF: [work] max_message_size = 10MB: not a size (accepted: bytes, or a number with K, M or G; 0 or off for no limit)"
}

@test "error: a bad fingerprint" {
    conf $'[work]\nhost = h.example\ntls_fingerprint = sha1:AB:CD'
    dry r@example.org
    config_error "$CONF: [work] tls_fingerprint = sha1:AB:CD: not a certificate fingerprint (accepted: sha256: followed by 32 hex bytes, colons optional)"
}

@test "error: a bad duration in [defaults]" {
    conf $'[defaults]\nqueue_lifetime = 2w\n[work]\nhost = h.example'
    dry r@example.org
    config_error "$CONF: [defaults] queue_lifetime = 2w: not a duration (accepted: seconds, or a number with s, m, h or d, e.g. 5d; at most 3650d)"
}

@test "error: an unknown key, with the closest known key suggested" {
    conf $'[work]\nhost = h.example\nprot = 25'
    dry r@example.org
    config_error "$CONF: [work] key 'prot': unknown key (see sendmail.conf(5)); did you mean 'port'?"
}

@test "error: an unknown key with nothing close" {
    conf $'[work]\nhost = h.example\ncolour = blue'
    dry r@example.org
    config_error "$CONF: [work] key 'colour': unknown key (see sendmail.conf(5))"
}

@test "error: a [defaults]-only key in an account" {
    conf $'[work]\nhost = h.example\nqueue = off'
    dry r@example.org
    config_error "$CONF: [work] queue: allowed only in [defaults], not in an account"
}

@test "error: a key before any section" {
    conf $'host = h.example\n[work]'
    dry r@example.org
    config_error "$CONF: key 'host' is outside any section (start with [defaults] or [account])"
}

@test "error: a syntax error names the line" {
    conf $'[work]\nhost = h.example\nthis is not ini'
    dry r@example.org
    config_error "$CONF: syntax error on line 3 (expected [section], key = value, or a comment)"
}

@test "error: an account without host" {
    conf $'[work]\nuser = joe'
    dry r@example.org
    config_error "$CONF: [work] host: missing (every account needs one, unless oauth is google or microsoft)"
}

@test "error: a literal password in a file others can read" {
    conf $'[work]\nhost = h.example\nuser = joe\npassword = s3cret'
    chmod 644 "$CONF"
    dry r@example.org
    config_error "$CONF: [work] password: the file can be read by other users (mode 0644); run chmod 600 $CONF, or use password_command, password_file or the keyring instead"
    refute_output --partial s3cret
    [[ $stderr != *s3cret* ]]
}

@test "error: a literal oauth_client_secret in a file others can read, as a password" {
    conf $'[work]\nhost = h.example\nuser = joe@example.com\noauth = google\noauth_client_id = c1\noauth_client_secret = cs3cret'
    chmod 640 "$CONF"
    dry r@example.org
    config_error "$CONF: [work] oauth_client_secret: the file can be read by other users (mode 0640); run chmod 600 $CONF"
    refute_output --partial cs3cret
    [[ $stderr != *cs3cret* ]]
    chmod 600 "$CONF"
    dry r@example.org
    assert_success
}

@test "a literal password in a private file is accepted" {
    conf $'[work]\nhost = h.example\nuser = joe\npassword = s3cret'
    dry r@example.org
    chosen work h.example:587
}

@test "error: a fallback to an account that does not exist" {
    conf $'[work]\nhost = h.example\nfallback = backup'
    dry r@example.org
    config_error "$CONF: [work] fallback = backup: no such account"
}

@test "error: a fallback loop" {
    conf $'[a]\nhost = a.example\nfallback = b\n[b]\nhost = b.example\nfallback = c\n[c]\nhost = c.example\nfallback = a'
    dry -a a r@example.org
    config_error "$CONF: [a] fallback = b: fallback loop (a -> b -> c -> a)"
}

@test "a fallback chain and a fallback in [defaults] are fine" {
    conf $'[defaults]\nfallback = last\n[a]\nhost = a.example\nfallback = b\n[b]\nhost = b.example\n[last]\nhost = l.example'
    dry -a a r@example.org
    chosen a a.example:587
}

@test "error: [defaults] account names no account" {
    conf $'[defaults]\naccount = nope\n[work]\nhost = h.example'
    dry r@example.org
    config_error "$CONF: [defaults] account = nope: no such account"
}

@test "error: -a names no account" {
    conf $'[work]\nhost = h.example\n[home]\nhost = g.example'
    dry -a office r@example.org
    select_error "account 'office' is not defined (accounts: work, home)"
}

@test "error: several accounts and nothing to choose by" {
    conf $'[work]\nhost = h.example\nfrom = joe@work.example\n[home]\nhost = g.example'
    dry -f ann@else.example r@example.org
    select_error "cannot choose an account for sender <ann@else.example>: no account's from matches it, [defaults] sets no account, and there are 2 accounts (work, home); use -a NAME"
}

@test "error: the configuration is checked before the message is read" {
    conf $'[work]\nhost = h.example\nport = x'
    run --separate-stderr "$MAILOUT" -C "$CONF" r@example.org </dev/null
    config_error "$CONF: [work] port = x: not a port number (accepted: 1-65535)"
}

@test "oauth without user or oauth_client_id is a configuration error naming the key" {
    conf $'[g]\noauth = google\noauth_client_id = cid'
    dry r@example.org
    assert_equal "$status" 78
    [[ $stderr == *"[g] user: missing (oauth needs the mailbox address"* ]] || fail "$stderr"
    conf $'[g]\noauth = google\nuser = me@gmail.com'
    dry r@example.org
    assert_equal "$status" 78
    [[ $stderr == *"[g] oauth_client_id: missing"* ]] || fail "$stderr"
}

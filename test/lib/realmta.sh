#!/bin/bash
# realmta.sh - run a real Postfix 3.7 + Dovecot 2.3 (SASL auth only) on loopback for tests.
#
#   realmta.sh fetch      download + unpack the packages into test/.cache/realmta (idempotent)
#   realmta.sh start DIR [--cert CERT --key KEY] [--postconf 'name = value']...
#                         returns once every port listens; a running instance in DIR is
#                         stopped first; without --cert a self-signed localhost cert is made
#   realmta.sh stop DIR   kills every postfix/dovecot process of DIR's instance, copies
#                         delivered/, maillog and dovecot.log into DIR, removes the run dir
#   realmta.sh status DIR exit 0 while DIR's instance runs
#
# Nothing is installed: postfix and dovecot-core are fetched with `apt-get download`
# and unpacked with `dpkg -x`, then run from there with a private configuration.
# /etc/postfix, /var/spool/postfix and system services are never touched.  The only
# system change: the users/groups postfix, postdrop, dovecot, dovenull are created
# (useradd --system) if missing.  The processes run in a private directory
# /tmp/realmta.XXXXXX (the unprivileged postfix, dovecot and nobody users must reach
# it, which a 0700 bats temp dir does not allow); DIR/run points to it.
#
# DIR/ports (key=value lines):
#   host=127.0.0.1
#   smtp=PORT        STARTTLS offered, AUTH offered only after STARTTLS, no auth needed
#                    (127.0.0.0/8 may relay to any domain)
#   submission=PORT  STARTTLS required before MAIL (530), AUTH required (RCPT: 554)
#   smtps=PORT       implicit TLS, AUTH required
#   plainauth=PORT   no TLS at all; AUTH offered in clear text and required
#   user=user@example.test
#   password=secret-pw
#   mechanisms=PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256   (Dovecot; failures are
#                    answered at once: no failure delay, no penalty)
#   cert=...  key=...  the certificate and key in use
#   runtime=/tmp/realmta.XXXXXX
# Banner: "220 realmta.test ESMTP Postfix (realmta)".  --postconf lines are appended to
# main.cf (e.g. 'message_size_limit = 1000').
#
# master.cf also has Postfix's SMTP client (smtp unix ... smtp), unused unless a --postconf
# sends mail to it (e.g. 'default_transport = smtp', 'transport_maps =' and a relayhost:
# test/listen_postfix.bats makes Postfix relay through mailout -bd).
# Every accepted message, for any recipient, is delivered by a pipe(8) transport into
# DIR/delivered/ as N.eml and N.env, N = 1, 2, ... (N.env is complete when N.eml
# appears).  N.eml: the message as Postfix delivers it (LF line endings, dot-unstuffed)
# without the Received: header Postfix's smtpd added.  N.env: from= (empty for <>),
# to= (one line per recipient, in no particular order), sasl_method=, sasl_username=
# (empty without AUTH), protocol= (pipe's client_protocol: ESMTP or SMTP), helo=,
# client=, size=, queue_id=, with= (from Postfix's Received header: ESMTP, ESMTPS,
# ESMTPA, ESMTPSA), received= (that header, unfolded).
# Logs: DIR/maillog (postfix, via postlogd) and DIR/dovecot.log.
# REALMTA_KEEP=1 keeps the run directory at stop (debugging).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${REALMTA_CACHE:-$(cd "$HERE/.." && pwd)/.cache/realmta}
ROOT=$CACHE/root
PACKAGES="postfix dovecot-core"
# soname -> Debian 12 package, for libraries that may be missing on a fresh machine
declare -A LIBPKG=(
  [libdb-5.3.so]=libdb5.3 [libnsl.so.2]=libnsl2 [libsasl2.so.2]=libsasl2-2
  [libicuuc.so.72]=libicu72 [libicui18n.so.72]=libicu72 [libicudata.so.72]=libicu72
  [libssl.so.3]=libssl3 [libcrypto.so.3]=libssl3 [libsodium.so.23]=libsodium23
  [libcap.so.2]=libcap2 [libcrypt.so.1]=libcrypt1 [libpam.so.0]=libpam0g
  [libsystemd.so.0]=libsystemd0 [libapparmor.so.1]=libapparmor1 [libwrap.so.0]=libwrap0
  [libtirpc.so.3]=libtirpc3 [libunwind.so.8]=libunwind8 [libstemmer.so.0d]=libstemmer0d
  [libexttextcat-2.0.so.0]=libexttextcat-2.0-0 [liblua5.4.so.0]=liblua5.4-0
  [libz.so.1]=zlib1g [libbz2.so.1.0]=libbz2-1.0 [liblz4.so.1]=liblz4-1
  [liblzma.so.5]=liblzma5 [libzstd.so.1]=libzstd1 [libgssapi_krb5.so.2]=libgssapi-krb5-2
)
PF_BINS="usr/sbin/postconf usr/lib/postfix/sbin/master usr/lib/postfix/sbin/smtpd
  usr/lib/postfix/sbin/cleanup usr/lib/postfix/sbin/qmgr usr/lib/postfix/sbin/pipe
  usr/lib/postfix/sbin/trivial-rewrite usr/lib/postfix/sbin/postlogd usr/lib/postfix/sbin/bounce
  usr/lib/postfix/sbin/tlsmgr usr/lib/postfix/sbin/anvil usr/lib/postfix/sbin/proxymap
  usr/lib/postfix/sbin/smtp"
DC_BINS="usr/sbin/dovecot usr/bin/doveconf usr/lib/dovecot/auth usr/lib/dovecot/config
  usr/lib/dovecot/log usr/lib/dovecot/anvil usr/lib/dovecot/stats"

die() { echo "realmta: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

pf_libpath() { echo "$ROOT/usr/lib/postfix:$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu"; }
dc_libpath() { echo "$ROOT/usr/lib/dovecot:$ROOT/usr/lib/dovecot/modules/old-stats:$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu"; }

missing_libs() {
  local b
  for b in $PF_BINS; do LD_LIBRARY_PATH=$(pf_libpath) ldd "$ROOT/$b"; done 2>/dev/null | awk '/=> not found/ {print $1}'
  for b in $DC_BINS; do LD_LIBRARY_PATH=$(dc_libpath) ldd "$ROOT/$b"; done 2>/dev/null | awk '/=> not found/ {print $1}'
}

apt_download() { # PKG... into cwd; apt-get update only if needed
  apt-get download "$@" >/dev/null 2>&1 && return 0
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get download "$@" >/dev/null 2>&1 || { apt-get download "$@"; die "apt-get download $* failed"; }
}

do_fetch() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  if [ -f "$ROOT/.complete" ] && [ -z "$(missing_libs | sort -u)" ]; then return 0; fi
  local deb
  if [ ! -f "$ROOT/.complete" ]; then
    rm -rf "$ROOT" "$CACHE/debs"
    mkdir -p "$CACHE/debs" "$ROOT"
    chmod 755 "$CACHE" "$ROOT"
    ( cd "$CACHE/debs" && apt_download $PACKAGES )
    for deb in "$CACHE"/debs/*.deb; do dpkg -x "$deb" "$ROOT"; done
  fi
  # Libraries the system lacks (or has lost since the last fetch: libunwind8 on a fresh
  # machine) are unpacked beside the daemons; the rest come from the system.
  rm -f "$ROOT/.complete"
  local libs pkgs="" l
  libs=$(missing_libs | sort -u)
  for l in $libs; do
    [ -n "${LIBPKG[$l]:-}" ] || die "library $l is missing and has no known package"
    pkgs="$pkgs ${LIBPKG[$l]}"
  done
  if [ -n "$pkgs" ]; then
    pkgs=$(echo $pkgs | tr ' ' '\n' | sort -u | tr '\n' ' ')
    echo "realmta: fetching libraries: $pkgs" >&2
    ( cd "$CACHE/debs" && apt_download $pkgs )
    for deb in "$CACHE"/debs/*.deb; do dpkg -x "$deb" "$ROOT"; done
    libs=$(missing_libs | sort -u)
    [ -z "$libs" ] || die "still missing libraries: $libs"
  fi
  (cd "$CACHE/debs" && ls *.deb) > "$ROOT/.complete"
}

ensure_users() {
  getent group postdrop >/dev/null || groupadd --system postdrop
  local u
  for u in postfix dovecot dovenull; do
    getent passwd "$u" >/dev/null ||
      useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$u"
  done
}

PY=python3
[ ! -x /usr/bin/python3 ] || PY=/usr/bin/python3 # skips pyenv's slow shim

free_ports() { # N -> N distinct free loopback ports
  "$PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

close_fds() { # close every fd but 0-2 (and bash's script fd 255): daemons must not
  # inherit e.g. bats' fd 3, or bats waits for them forever
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    case $fd in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
  done
}

port_listening() { # PORT: a socket listens on 127.0.0.1:PORT (checked without
  # connecting, which would put connect/lost-connection noise in the mail log)
  local hex
  hex=$(printf '0100007F:%04X' "$1")
  awk -v a="$hex" '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}

ports_get() { sed -n "s/^$2=//p" "$1/ports" | head -n1; }

write_deliver_script() { # runs as nobody from pipe(8)
  cat >"$1" <<'EOF'
#!/bin/sh
# pipe(8) delivery: deliver.sh MYHOSTNAME QUEUEID s=SENDER m=METH u=USER p=PROTO h=HELO a=ADDR z=SIZE r=RCPT...
D=$(dirname "$0")/delivered
host=$1 qid=$2; shift 2
n=1
while [ -e "$D/$n.eml" ] || ! (set -C; : >"$D/$n.lock") 2>/dev/null; do n=$((n + 1)); done
tmp="$D/.tmp-$n-$$"
{
  for a in "$@"; do
    case $a in
      s=*) printf '%s\n' "from=${a#s=}" ;; r=*) printf '%s\n' "to=${a#r=}" ;;
      m=*) printf '%s\n' "sasl_method=${a#m=}" ;; u=*) printf '%s\n' "sasl_username=${a#u=}" ;;
      p=*) printf '%s\n' "protocol=${a#p=}" ;; h=*) printf '%s\n' "helo=${a#h=}" ;;
      a=*) printf '%s\n' "client=${a#a=}" ;; z=*) printf '%s\n' "size=${a#z=}" ;;
    esac
  done
  echo "queue_id=$qid"
} >"$tmp-env"
# Split off the Received: header Postfix's smtpd prepended (always the first header).
# Header lines are read with `read` (unbuffered on a pipe), the rest is copied by cat.
rcvd=""
if IFS= read -r first; then
  case $first in
    Received:*)
      hdr=$first have_next=""
      while IFS= read -r line; do
        case $line in
          [" 	"]*) hdr="$hdr
$line" ;;
          *) next=$line have_next=1; break ;;
        esac
      done
      case $hdr in
        *"by $host (Postfix) with "*) rcvd=$hdr ;;
        *) set -- "$hdr" ;;
      esac
      [ -z "$rcvd" ] || set --
      [ -z "$have_next" ] || set -- "$@" "$next"
      ;;
    *) set -- "$first" ;;
  esac
else
  set --
  # no complete line: keep whatever partial line there was
  [ -z "$first" ] || { printf '%s' "$first" >"$tmp-eml"; }
fi
{
  [ $# -eq 0 ] || printf '%s\n' "$@"
  cat
} >>"$tmp-eml"
if [ -n "$rcvd" ]; then
  rcvd=$(printf '%s' "$rcvd" | tr '\n\t' '  ' | tr -s ' ')
  with=${rcvd#*"by $host (Postfix) with "}
  printf 'with=%s\n' "${with%% *}" >>"$tmp-env"
  printf 'received=%s\n' "$rcvd" >>"$tmp-env"
fi
mv "$tmp-env" "$D/$n.env"
mv "$tmp-eml" "$D/$n.eml"
rm -f "$D/$n.lock"
exit 0
EOF
  chmod 755 "$1"
}

make_cert() { # RUN -> self-signed EC cert for localhost/127.0.0.1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:127.0.0.1" \
    -keyout "$1/tls/key.pem" -out "$1/tls/cert.pem" >/dev/null 2>&1
}

PF_MYHOST=realmta.test

write_postfix_config() { # RUN CERT KEY SMTP SUB SMTPS PLAIN POSTCONF...
  local run=$1 cert=$2 key=$3 p_smtp=$4 p_sub=$5 p_smtps=$6 p_plain=$7
  shift 7
  local cf=$run/postfix
  cat >"$cf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $run/spool
data_directory = $run/data
meta_directory = $cf
daemon_directory = $ROOT/usr/lib/postfix/sbin
command_directory = $ROOT/usr/sbin
shlib_directory = $ROOT/usr/lib/postfix
sendmail_path = $ROOT/usr/sbin/sendmail
newaliases_path = $ROOT/usr/bin/newaliases
mailq_path = $ROOT/usr/bin/mailq
mail_owner = postfix
setgid_group = postdrop
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME LD_LIBRARY_PATH=$(pf_libpath)
maillog_file = $run/maillog
maillog_file_prefixes = $run
maillog_file_permissions = 0644
myhostname = $PF_MYHOST
mydomain = $PF_MYHOST
myorigin = \$myhostname
mydestination =
local_recipient_maps =
relay_domains =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
transport_maps = static:realmta:localhost
default_transport = realmta
relay_transport = realmta
local_transport = realmta
virtual_transport = realmta
smtp_dns_support_level = disabled
biff = no
smtpd_banner = \$myhostname ESMTP Postfix (realmta)
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_tls_cert_file = $cert
smtpd_tls_key_file = $key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
local_header_rewrite_clients =
disable_mime_output_conversion = yes
delay_warning_time = 0
maximal_backoff_time = 10s
minimal_backoff_time = 5s
queue_run_delay = 5s
EOF
  local kv
  for kv in "$@"; do printf '%s\n' "$kv" >>"$cf/main.cf"; done
  : >"$cf/dynamicmaps.cf"
  local authreq="-o smtpd_client_restrictions=permit_sasl_authenticated,reject -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
  cat >"$cf/master.cf" <<EOF
127.0.0.1:$p_smtp inet n - n - - smtpd
127.0.0.1:$p_sub inet n - n - - smtpd -o syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt $authreq
127.0.0.1:$p_smtps inet n - n - - smtpd -o syslog_name=postfix/smtps -o smtpd_tls_wrappermode=yes $authreq
127.0.0.1:$p_plain inet n - n - - smtpd -o syslog_name=postfix/plainauth -o smtpd_tls_security_level=none -o smtpd_tls_auth_only=no $authreq
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
smtp      unix  -       -       n       -       -       smtp
realmta   unix  -       n       n       -       1       pipe
  flags= user=nobody:nogroup null_sender=
  argv=$run/deliver.sh $PF_MYHOST \${queue_id} s=\${sender} m=\${sasl_method} u=\${sasl_username} p=\${client_protocol} h=\${client_helo} a=\${client_address} z=\${size} r=\${recipient}
EOF
  # Postfix re-reads a main.cf modified within the last second until it is
  # older (about 2 s at start-up): backdate the files.
  touch -d '-1 minute' "$cf/main.cf" "$cf/master.cf" "$cf/dynamicmaps.cf"
  # queue directory layout (from postfix-files)
  local q=$run/spool d
  mkdir -p "$q"
  chmod 755 "$q"
  for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
    install -d -o postfix -g root -m 700 "$q/$d"
  done
  install -d -o postfix -g postdrop -m 730 "$q/maildrop"
  install -d -o postfix -g postdrop -m 710 "$q/public"
  install -d -o root -g root -m 755 "$q/pid"
  install -d -o postfix -g root -m 700 "$run/data"
}

write_dovecot_config() { # RUN USER PASSWORD
  local run=$1 dc=$1/dovecot
  mkdir -p "$dc/base" "$dc/state"
  printf '%s:{PLAIN}%s\n' "$2" "$3" >"$dc/passwd"
  chmod 644 "$dc/passwd"
  {
    cat <<EOF
base_dir = $dc/base
state_dir = $dc/state
instance_name = realmta-$(basename "$run")
protocols =
ssl = no
log_path = $run/dovecot.log
info_log_path = $run/dovecot.log
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256
auth_failure_delay = 0
disable_plaintext_auth = no
auth_verbose = yes
import_environment = TZ CORE_OUTOFMEM CORE_ERROR LD_LIBRARY_PATH
# Failures are answered at once only with the "nodelay" extra field, and a
# failing passdb's fields are dropped: set it in a first passdb that only adds
# fields (noauthenticate), so that it survives every failure after it.
passdb {
  driver = static
  args = noauthenticate=y nopassword=y nodelay=y
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dc/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $run/spool/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
    # Dovecot's libexec dir is compiled in (/usr/lib/dovecot): point every service
    # at the unpacked executables instead.
    LD_LIBRARY_PATH=$(dc_libpath) "$ROOT/usr/bin/doveconf" -c /dev/null -a 2>/dev/null |
      awk -v L="$ROOT/usr/lib/dovecot" '
        /^service [^ ]+ \{/ { s = $2 }
        /^  executable = / { sub(/^  executable = /, ""); print "service " s " {\n  executable = " L "/" $0 "\n}" }'
  } >"$dc/dovecot.conf"
}

register_sessions() { # SID...: under test/run, say which sessions hold our daemons (they
  # clear their environment, so test/run cannot find them by its MAILOUT_TEST_RUN)
  [ -z "${MAILOUT_TEST_RUN:-}" ] || echo "$*" >>"$MAILOUT_TEST_RUN/realmta-sessions"
}

libs_hint() { # why a daemon may not start: libraries missing since the fetch
  local l
  l=$(missing_libs | sort -u | tr '\n' ' ')
  [ -z "$l" ] || echo "; missing libraries: $l(run scripts/install-deps --test)"
}

session_pids() { # SID... -> live (non-zombie) processes in those sessions; pure bash: fast
  local want=" $* " f line fields
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    # shellcheck disable=SC2206 # numbers and a state letter: no glob characters
    fields=(${line##*) })
    [ "${fields[0]}" != Z ] || continue
    case $want in *" ${fields[3]} "*) f=${f#/proc/}; echo "${f%/stat}" ;; esac
  done
}

kill_sessions() { # SID...: SIGKILL every process in those sessions (a graceful stop
  # takes postfix ~1.5 s and dovecot ~2.5 s, and nothing of value would be saved)
  [ $# -gt 0 ] || return 0
  local left
  left=$(session_pids "$@")
  for _ in $(seq 1 100); do
    [ -z "$left" ] && return 0
    kill -KILL $left 2>/dev/null || true
    sleep 0.01
    left=$(session_pids "$@")
  done
  echo "realmta: processes left: $left" >&2
  return 1
}

do_stop() {
  local dir=$1 run="" rc=0
  [ -d "$dir" ] || return 0
  [ ! -f "$dir/.runtime" ] || run=$(cat "$dir/.runtime")
  [ -n "$run" ] || [ ! -f "$dir/ports" ] || run=$(ports_get "$dir" runtime)
  # let deliveries in progress finish (2 s at most)
  if [ -n "$run" ] && [ -d "$run/spool" ]; then
    for _ in $(seq 1 100); do
      [ -z "$(find "$run/spool/incoming" "$run/spool/active" -type f 2>/dev/null | head -n1)" ] && break
      sleep 0.02
    done
  fi
  # shellcheck disable=SC2046
  kill_sessions $(cat "$dir/.sids" 2>/dev/null) || rc=1
  # keep the results in DIR, drop the private run directory
  if [ -n "$run" ] && [ -d "$run" ]; then
    local f
    for f in delivered maillog dovecot.log; do
      if [ -L "$dir/$f" ] || [ ! -e "$dir/$f" ]; then
        rm -f "$dir/$f"
        [ ! -e "$run/$f" ] || cp -a "$run/$f" "$dir/$f"
      fi
    done
    rm -f "$dir/delivered/"*.lock "$dir/delivered/".tmp-* 2>/dev/null || true
    rm -f "$dir/run"
    case $run in /tmp/realmta.*) [ -n "${REALMTA_KEEP:-}" ] || rm -rf "$run" ;; esac
  fi
  rm -f "$dir/.sids" "$dir/.runtime"
  return $rc
}

do_start() {
  local dir="" cert="" key="" postconf=()
  while [ $# -gt 0 ]; do
    case $1 in
      --cert) cert=$2; shift 2 ;;
      --key) key=$2; shift 2 ;;
      --postconf) postconf+=("$2"); shift 2 ;;
      -*) die "unknown option $1" ;;
      *) [ -z "$dir" ] || die "extra argument $1"; dir=$1; shift ;;
    esac
  done
  [ -n "$dir" ] || die "usage: start DIR [--cert CERT --key KEY] [--postconf 'k = v']"
  if [ -n "$cert" ] || [ -n "$key" ]; then
    [ -r "$cert" ] && [ -r "$key" ] || die "--cert and --key must both name readable files"
    cert=$(readlink -f "$cert"); key=$(readlink -f "$key")
  fi
  local t0; t0=$(now_ms)
  close_fds
  # A test never fetches: scripts/install-deps --test does, before the suite.
  [ -f "$ROOT/.complete" ] ||
    die "Postfix and Dovecot are not in $CACHE: run scripts/install-deps --test (or $0 fetch)"
  ensure_users
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  do_stop "$dir" || true
  rm -rf "$dir/delivered" "$dir/maillog" "$dir/dovecot.log" "$dir/ports" "$dir/run"

  # Private run directory in /tmp: the unprivileged postfix/dovecot/nobody
  # processes must be able to reach it, which DIR (often under a 0700 temp dir)
  # does not guarantee; it also keeps unix socket paths short.
  local run; run=$(mktemp -d /tmp/realmta.XXXXXX)
  echo "$run" >"$dir/.runtime"
  chmod 755 "$run"
  mkdir -p "$run/postfix" "$run/tls"
  install -d -o nobody -g nogroup -m 755 "$run/delivered"
  : >"$run/maillog"
  : >"$run/dovecot.log"
  ln -s "$run" "$dir/run"
  ln -s "$run/delivered" "$dir/delivered"
  ln -s "$run/maillog" "$dir/maillog"
  ln -s "$run/dovecot.log" "$dir/dovecot.log"
  write_deliver_script "$run/deliver.sh"
  if [ -z "$cert" ]; then
    make_cert "$run"
    cert=$run/tls/cert.pem key=$run/tls/key.pem
  fi
  local user=user@example.test password=secret-pw
  write_dovecot_config "$run" "$user" "$password"

  local p_smtp p_sub p_smtps p_plain ok="" dpid=""
  for _ in 1 2 3; do
    read -r p_smtp p_sub p_smtps p_plain < <(free_ports 4)
    write_postfix_config "$run" "$cert" "$key" "$p_smtp" "$p_sub" "$p_smtps" "$p_plain" ${postconf[@]+"${postconf[@]}"}
    if [ -z "$dpid" ]; then
      # doveconf parses the config and execs the master (which would otherwise
      # exec the compiled-in /usr/bin/doveconf itself); -F: no daemonizing, so
      # the session started here holds every dovecot process.
      setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH="$(dc_libpath)" \
        "$ROOT/usr/bin/doveconf" -c "$run/dovecot/dovecot.conf" -m master -p \
        -e "$ROOT/usr/sbin/dovecot" -c "$run/dovecot/dovecot.conf" -F \
        </dev/null >>"$run/dovecot.log" 2>&1 &
      dpid=$!
      echo "$dpid" >"$dir/.sids"
      register_sessions "$dpid"
      for _ in $(seq 1 250); do
        [ -S "$run/spool/private/auth" ] && break
        kill -0 "$dpid" 2>/dev/null || break
        sleep 0.02
      done
      if ! [ -S "$run/spool/private/auth" ]; then
        cat "$run/dovecot.log" >&2
        do_stop "$dir" || true
        die "dovecot did not start$(libs_hint)"
      fi
    fi
    # master -w returns once the daemon is initialized (listeners bound); the
    # daemon calls setsid(): its session holds every postfix process.
    if env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH="$(pf_libpath)" \
        "$ROOT/usr/lib/postfix/sbin/master" -c "$run/postfix" -w </dev/null >>"$run/master.out" 2>&1; then
      ok=1
      break
    fi
    # most likely a port was taken in the meantime: try other ports
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    cat "$run/master.out" "$run/maillog" >&2 2>/dev/null || true
    do_stop "$dir" || true
    die "postfix did not start$(libs_hint)"
  fi
  local mpid line fields
  mpid=$(tr -dc 0-9 <"$run/spool/pid/master.pid")
  read -r line <"/proc/$mpid/stat"
  # shellcheck disable=SC2206
  fields=(${line##*) })
  echo "$dpid ${fields[3]}" >"$dir/.sids"
  register_sessions "${fields[3]}"
  {
    echo "host=127.0.0.1"
    echo "smtp=$p_smtp"
    echo "submission=$p_sub"
    echo "smtps=$p_smtps"
    echo "plainauth=$p_plain"
    echo "user=$user"
    echo "password=$password"
    echo "mechanisms=PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256"
    echo "cert=$cert"
    echo "key=$key"
    echo "runtime=$run"
  } >"$dir/ports.tmp"
  local p
  for p in "$p_smtp" "$p_sub" "$p_smtps" "$p_plain"; do
    for _ in $(seq 1 250); do port_listening "$p" && break; sleep 0.02; done
    port_listening "$p" || { do_stop "$dir" || true; die "port $p does not accept connections"; }
  done
  mv "$dir/ports.tmp" "$dir/ports"
  echo "realmta: started in $(( $(now_ms) - t0 )) ms: smtp=$p_smtp submission=$p_sub smtps=$p_smtps plainauth=$p_plain" >&2
}

do_status() {
  local dir=$1 sid
  [ -f "$dir/.sids" ] || return 1
  for sid in $(cat "$dir/.sids"); do kill -0 "$sid" 2>/dev/null || return 1; done
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  fetch) do_fetch ;;
  start) do_start "$@" ;;
  stop)
    [ $# -eq 1 ] || die "usage: stop DIR"
    t0=$(now_ms); rc=0
    do_stop "$1" || rc=$?
    echo "realmta: stopped in $(( $(now_ms) - t0 )) ms" >&2
    exit $rc ;;
  status) [ $# -eq 1 ] || die "usage: status DIR"; do_status "$1" ;;
  *) die "usage: $0 fetch | start DIR [--cert F --key F] [--postconf 'k = v'] | stop DIR | status DIR" ;;
esac

#!/bin/sh
# bench/fetch-peers.sh -- the listener's peers for `make bench`, downloaded and unpacked
# into bench/.cache/peers (idempotent), never installed: msmtp-mta would take
# /usr/sbin/sendmail, opensmtpd would start a system daemon. Postfix comes from
# test/lib/realmta.sh fetch. Run by scripts/install-deps --bench.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cache=$top/bench/.cache/peers
[ -x "$cache/root/usr/bin/msmtpd" ] && [ -x "$cache/root/usr/sbin/smtpd" ] && exit 0
rm -rf "$cache"
mkdir -p "$cache/debs" "$cache/root"
cd "$cache/debs"
apt-get download msmtp-mta opensmtpd >/dev/null 2>&1 || apt-get download msmtp-mta opensmtpd
for deb in ./*.deb; do dpkg -x "$deb" "$cache/root"; done

#!/bin/sh
# fetch-callers.sh [DIR] -- the callers of test/callers.bats that cannot be installed
# without a mail transport agent, unpacked instead of installed.
#
# bsd-mailx depends on "default-mta | mail-transport-agent": installing it would bring in
# exim4, or need a package that owns /usr/sbin/sendmail on the machine that runs the tests
# (msmtp-mta). The tests need neither: they point bsd-mailx at the built binary. So its
# package and its libraries' are downloaded (apt-get download: the dpkg database is not
# touched), unpacked with dpkg -x into DIR (default test/.cache/callers, ignored by git),
# and DIR/bin/bsd-mailx runs it with those libraries. test/lib/callers.bash puts DIR/bin
# first in PATH. Idempotent: a complete tree is reused. Run by scripts/install-deps --test;
# a test never fetches.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$top/test/.cache/callers}
pkgs="bsd-mailx liblockfile1 libbsd0 libmd0"
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
exec 9>"$dir/.lock"
flock 9
libs=$dir/root/usr/lib/$triplet:$dir/root/lib/$triplet
# runs: every library it needs is found (bsd-mailx has no option that only prints)
runs() {
	[ -x "$dir/root/usr/bin/bsd-mailx" ] &&
		! LD_LIBRARY_PATH=$libs ldd "$dir/root/usr/bin/bsd-mailx" | grep -q 'not found'
}
if [ -e "$dir/.complete" ] && [ -x "$dir/bin/bsd-mailx" ] && runs; then
	exit 0
fi
rm -rf "${dir:?}/debs" "${dir:?}/root" "${dir:?}/bin" "${dir:?}/.complete"
mkdir -p "$dir/debs" "$dir/root" "$dir/bin"

# As root, apt's download sandbox user (_apt) may not be able to write DIR: download as root.
# shellcheck disable=SC2086 # the package list is split on purpose
download() { (cd "$dir/debs" && apt-get -q -o APT::Sandbox::User=root download $pkgs); }
echo "fetch-callers: apt-get download $pkgs" >&2
if ! download >"$dir/download.log" 2>&1; then
	apt-get update -q >/dev/null 2>&1 || true
	if ! download >"$dir/download.log" 2>&1; then
		cat "$dir/download.log" >&2
		echo "fetch-callers: apt-get download failed" >&2
		exit 69
	fi
fi
for deb in "$dir"/debs/*.deb; do
	dpkg -x "$deb" "$dir/root"
done
cat >"$dir/bin/bsd-mailx" <<EOF
#!/bin/sh
# bsd-mailx unpacked by test/lib/fetch-callers.sh, with its own libraries
LD_LIBRARY_PATH=$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} exec $dir/root/usr/bin/bsd-mailx "\$@"
EOF
chmod 755 "$dir/bin/bsd-mailx"
if ! runs; then
	echo "fetch-callers: the unpacked bsd-mailx lacks libraries:" >&2
	LD_LIBRARY_PATH=$libs ldd "$dir/root/usr/bin/bsd-mailx" >&2 || true
	exit 70
fi
ls "$dir/debs" >"$dir/.complete"
echo "fetch-callers: bsd-mailx in $dir/bin" >&2

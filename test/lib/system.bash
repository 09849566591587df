# bats helpers for the system-mode suites (system.bats, oauth_system.bats): a real
# `make install-system` into a tree of their own, setgid to a group of their own, and
# real unprivileged users. Uses TOP (the checkout).
#   sys_build NAME          set SYS_BUILD, SYS_CFLAGS and SYS_LDFLAGS: test/.cache/build-NAME,
#                           or under the ASan pass of test/run an ASan+UBSan build-NAME-asan
#                           linked with an object that turns LeakSanitizer off (it cannot
#                           stop the world of a setgid process, whose ptrace is refused, and
#                           the process cannot read its own /proc/self/environ for
#                           ASAN_OPTIONS: it is not dumpable). Leaks are checked elsewhere.
#   sys_install             make the LeakSanitizer object if needed, then install-system
#                           with SYS_MAKE; its output on stderr when it fails
#   sys_add_user NAME       a system user without home or shell (kept if it exists)
#   sys_del_user NAME       remove it if it exists
#   sys_del_group GROUP     remove the group and the user of its name install-system makes

sys_build() {
	if [[ ${MAILOUT_BUILD:-} == *asan* ]]; then
		SYS_BUILD=$TOP/test/.cache/build-$1-asan
		SYS_CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
		SYS_LDFLAGS=$TOP/test/.cache/nolsan.o
	else
		SYS_BUILD=$TOP/test/.cache/build-$1
		SYS_CFLAGS="-O2 -g"
		SYS_LDFLAGS=
	fi
}

sys_install() {
	if [[ -n $SYS_LDFLAGS ]]; then
		mkdir -p "$(dirname "$SYS_LDFLAGS")"
		echo 'int __lsan_is_turned_off(void); int __lsan_is_turned_off(void) { return 1; }' |
			cc -x c -c -o "$SYS_LDFLAGS" -
	fi
	make -C "$TOP" -s -j2 "${SYS_MAKE[@]}" install-system >"$BATS_FILE_TMPDIR/install.out" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.out" >&2; return 1; }
}

sys_add_user() {
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$1" 2>/dev/null || id -u "$1" >/dev/null
}

sys_del_user() {
	if id -u "$1" >/dev/null 2>&1; then userdel "$1" 2>/dev/null || true; fi
	return 0
}

sys_del_group() {
	if id -u "$1" >/dev/null 2>&1; then userdel "$1"; fi
	if getent group "$1" >/dev/null; then groupdel "$1"; fi
	return 0
}

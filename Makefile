# mailout: a sendmail-compatible mail submission agent.
# Overridable: CC CFLAGS LDFLAGS PREFIX DESTDIR SYSCONFDIR BUILD MBEDTLS_PREFIX KEYRING
#              SYSTEMDUNITDIR; for install-system also MAILOUT_GROUP SENDMAIL_LINKS;
#              for fuzz FUZZ_SECONDS FUZZ_TARGET FUZZ_CC FUZZ_BUILD

PREFIX		?= /usr/local
SYSCONFDIR	?= /etc
BINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
LOCALSTATEDIR	?= /var
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
BUILD		?= build
CC		?= cc
CFLAGS		?= -O2 -g
KEYRING		?= libsecret
MBEDTLS_PREFIX	?=
MAILOUT_GROUP	?= mailout
SENDMAIL_LINKS	?= /usr/sbin/sendmail /usr/lib/sendmail
VERSION		:= 0.1.0

WARN		:= -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
# gcc warns of snprintf results that may be cut, which our callers check; clang has no
# such warning and rejects the option's name, so it is asked for only where it exists.
WARN		+= $(shell $(CC) -Werror -Wno-format-truncation -x c -fsyntax-only /dev/null \
		     2>/dev/null && echo -Wno-format-truncation)
DEFS		:= -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' \
		   -DSYSCONFDIR='"$(SYSCONFDIR)"' -DLOCALSTATEDIR='"$(LOCALSTATEDIR)"'
INCS		:= -I/usr/include/iniparser -Isrc
LIBS		:= -liniparser -lresolv -lexpat

ifneq ($(MBEDTLS_PREFIX),)
INCS		+= -I$(MBEDTLS_PREFIX)/include
LIBS		+= -L$(MBEDTLS_PREFIX)/lib -Wl,-rpath,$(MBEDTLS_PREFIX)/lib
endif
LIBS		+= -lmbedtls -lmbedx509 -lmbedcrypto
# crypt(3) for the listener's users file: libxcrypt does yescrypt and SHA-512.
LIBS		+= -lcrypt

# libsecret's headers only: keyring_libsecret.c loads the library with dlopen() when the
# keyring is first asked, so runs that never use it do not load GLib.
ifeq ($(KEYRING),libsecret)
INCS		+= $(shell pkg-config --cflags libsecret-1 2>/dev/null)
LIBS		+= -ldl
KEYRING_SRC	:= src/secrets/keyring_libsecret.c
DEFS		+= -DHAVE_LIBSECRET=1
else
KEYRING_SRC	:= src/secrets/keyring_none.c
endif

ifneq ($(wildcard /usr/include/cjson/cJSON.h),)
INCS		+= -I/usr/include/cjson
LIBS		+= -lcjson
endif

ALL_CFLAGS	:= $(DEFS) $(WARN) $(INCS) $(CFLAGS)

# Every source under src/ except main.c, the keyring back ends and the hooks goes into the
# library that the binaries and the unit tests link. The folders are layers (README.md,
# Layout).
SRC_DIRS	:= src src/base src/config src/queue src/net src/message src/secrets src/smtp \
		   src/send
HDRS		:= $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.h))
LIB_SRCS	:= $(filter-out src/main.c src/secrets/keyring_%.c src/base/hooks_%.c, \
		     $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))) $(KEYRING_SRC)
LIB_OBJS	:= $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRCS	:= $(wildcard test/unit/*_test.c)
UNIT_BINS	:= $(UNIT_SRCS:test/unit/%.c=$(BUILD)/unit/%)
# The test hooks (src/base/hooks.h): the installed binary links hooks_release.o (it reads
# no MAILOUT_* variable); mailout-test and the unit tests link hooks_test.o.
HOOKS_RELEASE	:= $(BUILD)/obj/base/hooks_release.o
HOOKS_TEST	:= $(BUILD)/obj/base/hooks_test.o
# One fuzz target per parser of outside input (test/fuzz/README.md): each links with
# libFuzzer (make fuzz, clang) and with test/fuzz/replay.c (make replay, any compiler).
FUZZ_NAMES	:= $(basename $(notdir $(filter-out test/fuzz/fuzz.c test/fuzz/replay.c, \
		     $(wildcard test/fuzz/*.c))))
FUZZ_DEPS	:= test/fuzz/fuzz.c test/fuzz/fuzz.h $(HOOKS_RELEASE) $(BUILD)/libmailout.a
FUZZ_SECONDS	?= 60
FUZZ_TARGET	?= $(FUZZ_NAMES)
FUZZ_CC		?= clang
FUZZ_BUILD	?= build-fuzz
FUZZ_CFLAGS	:= -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer

.PHONY: all check check-fast check-asan demo install install-links install-system \
	uninstall uninstall-system lint clean bench deps unit deb check-deb fuzz fuzz-targets \
	replay

all: $(BUILD)/mailout

$(BUILD)/mailout: $(BUILD)/obj/main.o $(HOOKS_RELEASE) $(BUILD)/libmailout.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# The same objects with the test hooks, for the few tests that move the clock, crash on
# purpose, fix a nonce or shorten a wait (test/lib/common.bash: MAILOUT_TEST).
$(BUILD)/mailout-test: $(BUILD)/obj/main.o $(HOOKS_TEST) $(BUILD)/libmailout.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/libmailout.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%: test/unit/%.c $(wildcard test/unit/*.h) $(HOOKS_TEST) $(BUILD)/libmailout.a | $(BUILD)/unit
	$(CC) $(ALL_CFLAGS) -Itest/unit $(LDFLAGS) -o $@ $< $(HOOKS_TEST) $(BUILD)/libmailout.a \
	    $(LIBS)

$(BUILD)/unit:
	mkdir -p $@

# What the suites need besides the installed binary: the unit tests and mailout-test; and
# the fuzz targets' replay drivers, built in every build so that a changed API breaks the
# build that changed it (make check runs them in the ASan build).
unit: $(UNIT_BINS) $(BUILD)/mailout-test replay

$(BUILD)/fuzz/%: test/fuzz/%.c $(FUZZ_DEPS) | $(BUILD)/fuzz
	$(CC) $(ALL_CFLAGS) -Itest/fuzz -fsanitize=fuzzer $(LDFLAGS) -o $@ $< test/fuzz/fuzz.c \
		$(HOOKS_RELEASE) $(BUILD)/libmailout.a $(LIBS) -pthread

$(BUILD)/replay/%: test/fuzz/%.c test/fuzz/replay.c $(FUZZ_DEPS) | $(BUILD)/replay
	$(CC) $(ALL_CFLAGS) -Itest/fuzz $(LDFLAGS) -o $@ $< test/fuzz/replay.c test/fuzz/fuzz.c \
		$(HOOKS_RELEASE) $(BUILD)/libmailout.a $(LIBS) -pthread

$(BUILD)/fuzz $(BUILD)/replay:
	mkdir -p $@

fuzz-targets: $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)

# The corpora's replay drivers; make check builds them in the ASan build and test/run runs
# them (test/fuzz/run --replay).
replay: $(FUZZ_NAMES:%=$(BUILD)/replay/%)

# The whole suite: installs missing test dependencies, builds, runs the unit tests and
# the bats suites; the unit and TLS tests again against mbedTLS 3.6 (Debian 13's, unpacked
# privately by scripts/fetch-mbedtls3); everything again under ASan+UBSan, with each fuzz
# target's corpus replayed (test/fuzz/run --replay).
# Ends with "N passed, N failed".
check:
	scripts/install-deps --test
	$(MAKE) all unit
	$(MAKE) BUILD=build-mbedtls3 MBEDTLS_PREFIX="$$(scripts/fetch-mbedtls3)" all unit
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all unit replay
	test/run --build $(BUILD) --asan-build build-asan --tls3-build build-mbedtls3

# The suite on the normal build only (quick iteration).
check-fast: all unit
	test/run --build $(BUILD)

# Run every fuzz target (or FUZZ_TARGET=name...) for FUZZ_SECONDS each with libFuzzer,
# one after the other, from its seed corpus (test/fuzz/corpus/NAME) and what earlier runs
# found (FUZZ_BUILD/corpus/NAME). A crash is kept in test/fuzz/crashes/NAME/ (ignored by
# git) and the line to reproduce it is printed. Needs clang (scripts/install-deps --fuzz).
fuzz:
	scripts/install-deps --fuzz
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" \
		FUZZ_TARGET="$(FUZZ_TARGET)" $(FUZZ_TARGET:%=$(FUZZ_BUILD)/fuzz/%)
	test/fuzz/run --fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGET)

demo:
	scripts/install-deps --demo
	$(MAKE) all
	scripts/demo $(BUILD)/mailout

# mailout against msmtp (bench/run); the TLS round-trip rows also with a build against
# mbedTLS 3.6 (TLS 1.3), when scripts/fetch-mbedtls3 can get it.
bench:
	scripts/install-deps --bench
	$(MAKE) all
	t3=; if p=$$(scripts/fetch-mbedtls3); then \
		$(MAKE) BUILD=$(BUILD)-mbedtls3 MBEDTLS_PREFIX="$$p" all && \
		t3=$(BUILD)-mbedtls3/mailout; fi; \
	bench/run $(BUILD)/mailout $$t3

lint:
	scripts/lint

# The Debian package (README, "Install"): DEB_DIR/mailout_VERSION_ARCH.deb, built from
# debian/ with dpkg-buildpackage in a copy of the source (scripts/build-deb).
DEB_DIR		?= $(BUILD)/deb
deb:
	scripts/install-deps --deb
	scripts/build-deb $(VERSION) $(DEB_DIR)
	lintian --fail-on error $(DEB_DIR)/mailout_$(VERSION)_$$(dpkg --print-architecture).deb

# The package on a pristine Debian 12 root (debootstrap, cached in test/.cache): over
# exim4 and over msmtp-mta, PHP and cron mail through a relay that needs AUTH, upgrade,
# remove, purge. Not part of make check. Ends with "N passed, N failed".
check-deb: deb
	test/check-deb $(DEB_DIR)/mailout_$(VERSION)_$$(dpkg --print-architecture).deb

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(BUILD)/mailout $(DESTDIR)$(BINDIR)/mailout
	ln -sf mailout $(DESTDIR)$(BINDIR)/sendmail
	ln -sf mailout $(DESTDIR)$(BINDIR)/mailq
	ln -sf mailout $(DESTDIR)$(BINDIR)/newaliases
	install -m 644 doc/mailout.8 $(DESTDIR)$(MANDIR)/man8/mailout.8
	install -m 644 doc/sendmail.conf.5 $(DESTDIR)$(MANDIR)/man5/sendmail.conf.5
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/cron.d
	install -d -m 700 $(DESTDIR)$(LOCALSTATEDIR)/spool/mailout
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/mailout-queue.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/mailout-queue.service
	install -m 644 systemd/mailout-queue.timer $(DESTDIR)$(SYSTEMDUNITDIR)/mailout-queue.timer
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/mailout-listen.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/mailout-listen.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/mailout-listen.service
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/mailout.cron >$(DESTDIR)$(SYSCONFDIR)/cron.d/mailout
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/mailout-queue.service $(DESTDIR)$(SYSCONFDIR)/cron.d/mailout
	@echo "To retry queued mail with systemd: systemctl enable --now mailout-queue.timer"
	@test -e $(DESTDIR)$(SYSCONFDIR)/sendmail.conf || \
		{ install -d $(DESTDIR)$(SYSCONFDIR) && \
		  install -m 644 sendmail.conf.example $(DESTDIR)$(SYSCONFDIR)/sendmail.conf.example; }

# Put the conventional sendmail paths in place (replaces an existing MTA's links).
install-links: install
	install -d $(DESTDIR)/usr/sbin $(DESTDIR)/usr/lib
	ln -sf $(BINDIR)/mailout $(DESTDIR)/usr/sbin/sendmail
	ln -sf $(BINDIR)/mailout $(DESTDIR)/usr/lib/sendmail

# The server install (README, "Server install"): `install`, then the binary setgid to the
# group MAILOUT_GROUP, /etc/mailout for secrets, the shared queue, the sendmail links
# (scripts/system-install says what each step does). uninstall-system keeps a queue that
# still holds mail, and secrets, and says so.
SYSTEM_ENV	= DESTDIR='$(DESTDIR)' BINDIR='$(BINDIR)' SYSCONFDIR='$(SYSCONFDIR)' \
		  LOCALSTATEDIR='$(LOCALSTATEDIR)' MAILOUT_GROUP='$(MAILOUT_GROUP)' \
		  SENDMAIL_LINKS='$(SENDMAIL_LINKS)'

install-system: all
	$(SYSTEM_ENV) sh scripts/system-install keep
	$(MAKE) install
	$(SYSTEM_ENV) sh scripts/system-install install

uninstall-system:
	$(SYSTEM_ENV) sh scripts/system-install uninstall
	$(MAKE) uninstall

# The sendmail, mailq and newaliases names go only while they are mailout's own links.
uninstall:
	for n in sendmail mailq newaliases; do \
		l=$(DESTDIR)$(BINDIR)/$$n; \
		if [ -L "$$l" ] && [ "$$(readlink "$$l")" = mailout ]; then rm -f "$$l"; fi; \
	done
	rm -f $(DESTDIR)$(BINDIR)/mailout \
	      $(DESTDIR)$(MANDIR)/man8/mailout.8 $(DESTDIR)$(MANDIR)/man5/sendmail.conf.5 \
	      $(DESTDIR)$(SYSTEMDUNITDIR)/mailout-queue.service \
	      $(DESTDIR)$(SYSTEMDUNITDIR)/mailout-queue.timer $(DESTDIR)$(SYSCONFDIR)/cron.d/mailout \
	      $(DESTDIR)$(SYSTEMDUNITDIR)/mailout-listen.service

clean:
	rm -rf build build-* 

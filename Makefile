# deployctl — see README.md. Every target works on a fresh Debian machine with the Swift 6
# toolchain on PATH; `setup` installs the Debian packages the build needs.
SWIFT ?= swift
PREFIX ?= /usr/local
# The release binary carries libstdc++ and libgcc's unwinder, as it carries the Swift runtime
# that alone uses them. Loading the shared libstdc++ cost every command ~1,700 symbol bindings
# (each looked up through the binary's 8,000 exported symbols) and its initializers: without it
# `--version` x0.81, `status` x0.88, `plan` x0.90 (100 pairs; README, Benchmarks). The
# toolchain's static-stdlib-args.lnk asks for -lstdc++ by name, so a directory holding only the
# archive, searched first, answers it (static-archives below). The binary exports none of their
# symbols (the .lnk's --exclude-libs ALL), so a library loaded later that has its own copy (none
# of libgit2, libcurl, libpq and theirs does; glibc loads libgcc_s for pthread_cancel) binds to it.
# SQLite the same way (CSQLite's -lsqlite3 finds Debian's libsqlite3.a there): nearly every
# command opens the journal, and the shared library bound all ~1,600 of its symbols at load
# (Debian links it -z now): `status` x0.91 in both orders (40 pairs each). A SQLite fix, like a
# libstdc++ one, needs `make release` again; the archive is libsqlite3-dev's, which the build needs.
STATIC_ARCHIVES = .build-release/static-archives
RELEASE_FLAGS = -c release --static-swift-stdlib --scratch-path .build-release \
	-Xlinker "-L$(CURDIR)/$(STATIC_ARCHIVES)" -Xswiftc -Xclang-linker -Xswiftc -static-libgcc
# What the tests drive for real besides git: PostgreSQL 15, sqlite3 (to read the journal),
# GNU time (peak RSS), procps (pgrep), strace (which commands start threads), zsh and fish
# (the completion scripts run in them), nginx and dnsmasq (the probes' peers), dig (DNS fixture
# readiness), openssl (test certificates and DKIM keys), redis-server (mail-service), chromium
# (opens the HTML report headless), openssh-server/-client (a remote reached over ssh,
# ssh-keygen -Y for signed commits), gpg and gpgv (OpenPGP-signed commits); plus alembic, moto
# and the aws CLI in .build/venv (python3-venv makes it).
TEST_PACKAGES = postgresql-15 sqlite3 time procps strace zsh fish nginx dnsmasq-base bind9-dnsutils openssl curl chromium redis-server \
	openssh-client openssh-server gpg gpgv python3-venv

.PHONY: setup build test test-build test-peers demo install bench release static-archives fuzz clean

setup:
	Tests/scripts/setup.sh
	$(SWIFT) build

build:
	$(SWIFT) build

# The test build has a tree of its own, without debug info (a clean build ~12 % sooner, ~50 s
# less CPU here; a failed assertion or a nil unwrapped still names its file and line, a crash's
# backtrace its functions), so `make test` and a plain `swift build`/`swift test` in .build
# never rebuild each other's tree. The tests' peers install while it builds (on CI's fresh machine
# the Debian packages and the venv: the venv alone ~43 s here); the build needs only what
# `setup.sh` installs first.
TEST_BUILD_PATH = .build-test
TEST_BUILD_FLAGS = --build-tests --scratch-path $(TEST_BUILD_PATH) -Xswiftc -gnone -Xcc -g0

test:
	Tests/scripts/setup.sh
	$(MAKE) --no-print-directory -j2 test-build test-peers
	SWIFT=$(SWIFT) BUILD_PATH=$(TEST_BUILD_PATH) Tests/scripts/run-tests.sh

test-build:
	$(SWIFT) build $(TEST_BUILD_FLAGS)

test-peers:
	Tests/scripts/setup.sh $(TEST_PACKAGES)
	Tests/scripts/test-venv.sh

demo: setup
	Tests/scripts/demo.sh

release:
	Tests/scripts/setup.sh
	@$(MAKE) --no-print-directory static-archives
	$(SWIFT) build $(RELEASE_FLAGS)

# libstdc++.a and libsqlite3.a where the toolchain's clang (else cc) finds them: Debian's
# libstdc++-12-dev (which the Swift toolchain needs to link at all) and libsqlite3-dev. One not
# found: the release binary loads that shared library, and says so. SwiftPM does not see an
# archive as an input, so a newer one (an upgrade of the package) or a change of link removes
# the binary, and the build links it again.
STATIC_LIBRARIES = libstdc++.a libsqlite3.a
static-archives:
	@mkdir -p $(STATIC_ARCHIVES)
	@swift=$$(command -v $(SWIFT) || true); clang=$$(dirname "$$(readlink -f "$${swift:-/nonexistent}")")/clang; \
	[ -x "$$clang" ] || clang=cc; binary=.build-release/release/deployctl; \
	for name in $(STATIC_LIBRARIES); do \
	  archive=$$("$$clang" -print-file-name=$$name 2>/dev/null || true); link=$(STATIC_ARCHIVES)/$$name; \
	  if [ -f "$$archive" ]; then \
	    if [ "$$(readlink "$$link")" != "$$archive" ] || [ "$$archive" -nt "$$binary" ]; then rm -f "$$binary"; fi; \
	    ln -sf "$$archive" "$$link"; \
	  else \
	    if [ -L "$$link" ]; then rm -f "$$link" "$$binary"; fi; \
	    echo "make: $$clang -print-file-name=$$name found no archive: the release binary loads the shared library"; \
	  fi; \
	done

install: release
	install -D -m 0755 .build-release/release/deployctl $(DESTDIR)$(PREFIX)/bin/deployctl

bench:
	Tests/scripts/setup.sh hyperfine postgresql-15 sqlite3 openssh-client openssh-server
	@$(MAKE) --no-print-directory static-archives
	$(SWIFT) build $(RELEASE_FLAGS)
	Tests/bench/bench.sh

# libFuzzer over the descriptor parsers for FUZZ_SECONDS (default 300), in its own build tree:
# every Swift module and C file (libyaml too) instrumented; linked with lld (gold cannot).
FUZZ_FLAGS = -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xcc -fsanitize=fuzzer-no-link \
	-Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
fuzz:
	Tests/scripts/setup.sh
	$(SWIFT) build --product deployctl-fuzz --scratch-path .build-fuzz $(FUZZ_FLAGS)
	Tests/scripts/fuzz.sh

clean:
	rm -rf .build .build-test .build-release .build-fuzz bench-out

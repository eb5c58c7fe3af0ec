# deployctl — see README.md. Every target works on a fresh Debian machine with the Swift 6
# toolchain on PATH; `setup` installs the Debian packages the build needs.
SWIFT ?= swift
PREFIX ?= /usr/local
RELEASE_FLAGS = -c release --static-swift-stdlib --scratch-path .build-release
# What the tests drive for real besides git: PostgreSQL 15, sqlite3 (to read the journal),
# GNU time (peak RSS), procps (pgrep), nginx and dnsmasq (the probes' peers), dig (DNS
# fixture readiness), openssl (test certificates and DKIM keys), redis-server (mail-service),
# chromium (opens the HTML report headless), openssh-server/-client (a remote reached over ssh,
# ssh-keygen -Y for signed commits), gpg and gpgv (OpenPGP-signed commits); plus alembic, moto
# and the aws CLI in .build/venv.
TEST_PACKAGES = postgresql-15 sqlite3 time procps nginx dnsmasq-base bind9-dnsutils openssl curl chromium redis-server \
	openssh-client openssh-server gpg gpgv

.PHONY: setup build test demo install bench release fuzz clean

setup:
	Tests/scripts/setup.sh
	$(SWIFT) build

build:
	$(SWIFT) build

test:
	Tests/scripts/setup.sh $(TEST_PACKAGES)
	Tests/scripts/test-venv.sh
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) Tests/scripts/run-tests.sh

demo: setup
	Tests/scripts/demo.sh

release:
	Tests/scripts/setup.sh
	$(SWIFT) build $(RELEASE_FLAGS)

install: release
	install -D -m 0755 .build-release/release/deployctl $(DESTDIR)$(PREFIX)/bin/deployctl

bench:
	Tests/scripts/setup.sh hyperfine postgresql-15 sqlite3 openssh-client openssh-server
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
	rm -rf .build .build-release .build-fuzz bench-out

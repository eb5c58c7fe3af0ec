#!/usr/bin/env bash
# make test's last step: the built test bundle in five processes at once, each with its own log.
#
# Why not one `swift test`: the tests are synchronous and wait on real processes (sshd, moto,
# PostgreSQL, deployctl itself), and Swift Testing runs them on the concurrency runtime's pool,
# one thread per core. On a 2-core machine two waiting tests hold the whole pool: one process
# measured 5 min 53 s at 54% CPU; the suites that run serialized (seed stacks, hosts) were the
# long poles. Five processes have five pools: 3 min 56 s at 80% CPU, same machine (six were
# slower: by then the CPU is the limit). The partitions are complementary by construction (each
# skips what another takes; the last, everything outside RunTests), so every test runs once.
set -uo pipefail
cd "$(dirname "$0")/../.."
swift=${SWIFT:-swift}
# The tree `swift build --build-tests` built into (make test's is .build-test; see Makefile).
build=${BUILD_PATH:-.build}
logs=$build/test-logs
rm -rf "$logs" && mkdir -p "$logs"
# The test venv (test-venv.sh; TestVenv in the tests) first on PATH: a test's `python3` is the
# venv's, not a version manager's shim (pyenv's runs ~20 processes before Python starts; 97 calls
# a run here).
export PATH="${DEPLOYCTL_TEST_VENV:-$PWD/.build/venv}/bin:$PATH"

# name|swift test arguments
# (Several --filter select their union. The mailflow seed test, the longest, runs beside the
# hosts: the two serialized suites were the long poles. Dialectic, the next longest, in a sixth
# process: no sooner, 452 and 435 s against 425 and 436 s, alternating; the CPU is the limit.)
partitions=(
  "seed-stacks|--filter RunTests.SeedStackTests --skip RunTests.SeedStackTests/mailflow"
  "hosts|--filter RunTests.HostsTests --filter RunTests.SeedStackTests/mailflow"
  "rollbacks|--filter RunTests\.(Rollback|Backup)"
  "runs|--filter RunTests --skip RunTests.SeedStackTests --skip RunTests.HostsTests --skip RunTests\.(Rollback|Backup)"
  "units|--skip RunTests"
)

started=$(date +%s)
pids=()
for partition in "${partitions[@]}"; do
  name=${partition%%|*}
  # shellcheck disable=SC2086 # the arguments are words
  "$swift" test --skip-build --ignore-lock --scratch-path "$build" ${partition#*|} >"$logs/$name.log" 2>&1 &
  pids+=("$!")
  # Every `swift test`, --skip-build too, first rewrites the build's manifest ($build/debug.yaml)
  # in place, and one reading it meanwhile can crash (a SIGBUS in llbuild's YAML scanner, seen
  # once) or read a torn file. The next starts once this one has started the test binary, its
  # child (its log says nothing sooner: the binary's output is buffered), or has ended: about a
  # second each.
  for _ in $(seq 1 600); do
    command -v pgrep >/dev/null || break   # procps (make test installs it)
    pgrep -P "$!" >/dev/null && break
    kill -0 "$!" 2>/dev/null || break
    sleep 0.1
  done
done

failed=()
for i in "${!partitions[@]}"; do
  name=${partitions[$i]%%|*}
  if wait "${pids[$i]}"; then status=passed; else status=FAILED; failed+=("$name"); fi
  # Swift Testing's last line, and XCTest's total (its last "Executed" line) when it ran any.
  swift_testing=$(grep -E "Test run with" "$logs/$name.log" | tail -1 | sed -E 's/^[^A-Za-z]*//')
  xctest=$(grep -E "Executed [0-9]+ tests" "$logs/$name.log" | tail -1 | grep -vE "Executed 0 tests" | sed -E 's/^[[:space:]]*//')
  echo "tests: $name $status after $(( $(date +%s) - started )) s: ${swift_testing:-no Swift Testing summary}${xctest:+; XCTest: $xctest}"
done

if [ "${#failed[@]}" -ne 0 ]; then
  for name in "${failed[@]}"; do
    echo
    echo "==== $name ($logs/$name.log): failures, then the last 60 lines"
    grep -E "✘|error:|crashed|Fatal error" "$logs/$name.log" | head -60
    echo "----"
    tail -60 "$logs/$name.log"
  done
  echo "tests: FAILED: ${failed[*]} (whole logs in $logs/)"
  exit 1
fi
echo "tests: all passed in $(( $(date +%s) - started )) s (logs in $logs/)"

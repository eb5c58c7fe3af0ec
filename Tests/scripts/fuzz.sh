#!/usr/bin/env bash
# make fuzz: the parsers a descriptor reaches (and GitKit's git object parsers), under libFuzzer, for FUZZ_SECONDS (default 300).
# Seeds: every file in stacks/ (as descriptors) and every ${…}, when:, duration and $.path found
# in them. A crash or a timeout leaves its input in .build-fuzz/artifacts and fails; copy it into
# Tests/Fuzz/Regressions (make test replays that folder) once the bug is fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${FUZZ_SECONDS:-300}"
binary=.build-fuzz/debug/deployctl-fuzz
work=.build-fuzz/work
rm -rf "$work/seeds" && mkdir -p "$work/seeds" "$work/corpus" .build-fuzz/artifacts
python3 - "$work/seeds" <<'PY'
import hashlib, pathlib, re, sys
out = pathlib.Path(sys.argv[1])
def seed(kind, text):
    data = bytes([kind]) + text.encode()
    (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
for path in sorted(pathlib.Path("stacks").rglob("*")):
    if not path.is_file():
        continue
    text = path.read_text(errors="replace")
    seed(0, text)                                      # the descriptor decoder, validator, planner
    for m in re.findall(r'"[^"\n]*\$\{[^"\n]*"', text):
        seed(1, m.strip('"'))                          # ${…} interpolation
    for m in re.findall(r"when: (.+)", text):
        seed(2, m.strip())                             # when: expressions
    for m in re.findall(r"(?:timeout|backoff|interval): ([0-9a-z]+)", text):
        seed(3, m)                                     # durations
    for m in re.findall(r'"(\$\.[^"]+)"', text):
        seed(4, m)                                     # JSON paths
# GitKit's native reader: this repository's own commits and trees as git stores them, and deltas.
import subprocess
def git(*args):
    return subprocess.run(["git", *args], check=True, capture_output=True).stdout
for commit in git("rev-list", "--max-count=20", "HEAD").split():
    (out / ("commit-" + commit.decode())).write_bytes(bytes([5]) + git("cat-file", "commit", commit.decode()))
    (out / ("tree-" + commit.decode())).write_bytes(bytes([6]) + git("cat-file", "tree", commit.decode() + "^{tree}"))
base = b"hello, world: the base of a delta\n"
delta = bytes([len(base), 20, 0x91, 7, 5, 4]) + b"new!" + bytes([0x90, 11])   # sizes, copy 5 from 7, insert 4, copy 11 from 0
(out / "delta-seed").write_bytes(bytes([7, len(base)]) + base + delta)
for path in pathlib.Path("Tests/Fuzz/Regressions").glob("*"):
    (out / ("regression-" + path.name)).write_bytes(path.read_bytes())
PY
echo "fuzz: $(ls "$work/seeds" | wc -l) seeds; fuzzing for ${seconds}s on $(nproc) core(s)"
# libFuzzer reports the crash (and keeps the input); Swift's own backtracer would get there first.
set +e
SWIFT_BACKTRACE=enable=no "$binary" "$work/corpus" "$work/seeds" \
  -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix=.build-fuzz/artifacts/ > "$work/fuzz.log" 2>&1
status=$?
set -e
grep -E "^#[0-9]+ +(pulse|DONE)|stat::|ERROR|SUMMARY|Test unit written|^    #[0-9]+ .* in \$s" "$work/fuzz.log" | head -40 || true
runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/fuzz.log" | grep -o '[0-9]*$' || echo 0)
rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$work/fuzz.log" | grep -o '[0-9]*$' || echo 0)
echo "fuzz: ${runs} executions at ${rate} per second (asked for ${seconds}s), corpus $(ls "$work/corpus" | wc -l) inputs, exit ${status}"
if [ "$status" -ne 0 ]; then
  echo "fuzz: found a crash or a timeout: see .build-fuzz/artifacts/ and $work/fuzz.log; fix it, then copy the input into Tests/Fuzz/Regressions"
  exit 1
fi

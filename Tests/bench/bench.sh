#!/usr/bin/env bash
# make bench: deployctl against the git CLI on a 10,000-commit repository. Medians of whole
# processes, measured by hyperfine. Not a test: it prints figures and never fails on them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${DEPLOYCTL_BIN:-$root/.build-release/release/deployctl}
out=${BENCH_OUT:-$root/bench-out}
rm -rf "$out" && mkdir -p "$out"
work=$(mktemp -d /tmp/deployctl-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

repo=$work/history
echo "bench: building a 10,000-commit repository"
python3 "$here/make-history-repo.py" "$repo" "$root/stacks" 10000
rev=$(git -C "$repo" rev-parse HEAD~25)
paths="stacks/demo/local.yaml stacks/demo/_base.yaml"
state=$work/state
export DEPLOYCTL_STATE=$state DEPLOYCTL_REPO=$repo
hf() { local runs=${RUNS:-30}; if [ "$1" = --runs ]; then runs=$2; shift 2; fi; hyperfine --style basic --warmup 3 --runs "$runs" -N "$@"; }
cd "$repo"

echo "bench: reading and planning a descriptor at a revision"
hf --export-json "$out/plan-vs-git-show.json" \
  "$bin plan local --rev $rev" "git show $rev:stacks/demo/local.yaml"

echo "bench: listing a stack's revisions (cache warm: the usual case after the first call)"
"$bin" revisions local >/dev/null
hf --export-json "$out/revisions-warm-vs-git-log.json" \
  "$bin revisions local" "git log --format=%H -- $paths"

echo "bench: listing a stack's revisions with no cache (the first call in a state directory)"
hf --runs 10 --prepare "rm -rf $state/cache" --export-json "$out/revisions-cold-vs-git-log.json" \
  "$bin revisions local" "git log --format=%H -- $paths"

echo "bench: the same against git with a commit-graph and changed-path Bloom filters"
git -C "$repo" commit-graph write --reachable --changed-paths 2>/dev/null
hf --export-json "$out/revisions-warm-vs-git-log-bloom.json" \
  "$bin revisions local" "git log --format=%H -- $paths"

echo
BENCH_GOALS="plan-vs-git-show=3;revisions-warm-vs-git-log=1;revisions-cold-vs-git-log=1;revisions-warm-vs-git-log-bloom=1" \
  python3 "$here/ratios.py" "$out"/*.json | tee "$out/summary.txt"

#!/usr/bin/env bash
# make bench: every benchmark in one table (summary.py): per-step overhead, descriptor reads
# against the git CLI on a 10,000-commit repository, peak RSS, parallel steps, and Ansible when
# it is installed. Medians of whole processes, measured by hyperfine. Not a test: it prints
# figures and never fails on them.
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
# Commits everything in DIR as a new repository's first commit.
commit_all() { git -C "$1" init -q -b main && git -C "$1" add -A && git -C "$1" -c user.name=bench -c user.email=bench@example.test commit -q -m "$2"; }
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

echo "bench: 1,000 /bin/true steps through deployctl up, against a bash loop that fsyncs a journal line per step"
steps=$work/steps
mkdir -p "$steps/stacks/bench"
{
  echo "description: 1,000 no-op steps"
  echo "phases:"
  echo "  deploy:"
  for i in $(seq 1 1000); do echo "    - {name: s$i, run: [/bin/true]}"; done
} > "$steps/stacks/bench/local.yaml"
commit_all "$steps" "1,000 steps"
hf --runs 5 --prepare "rm -rf $work/steps-state" --export-json "$out/up-1000-steps-vs-bash-fsync.json" \
  "$bin up local --repo $steps --state $work/steps-state --parallel 1" \
  "$here/bash-journal-loop.sh $work/bash-journal 1000"

echo "bench: peak RSS of deployctl while a step writes 200 MB"
flood=$work/flood
mkdir -p "$flood/stacks/flood"
cat > "$flood/stacks/flood/local.yaml" <<'YAML'
phases:
  deploy:
    - name: flood
      run: [python3, -c, "import sys\nblock = ('x' * 99 + '\\n') * 10000\nfor _ in range(200): sys.stdout.write(block)"]
YAML
commit_all "$flood" flood
/usr/bin/time -f "%M" -o "$out/flood-rss-kb.txt" "$bin" up local --repo "$flood" --state "$work/flood-state" > /dev/null
echo "peak RSS with a 200 MB step: $(( $(cat "$out/flood-rss-kb.txt") / 1024 )) MB (goal: about 50 MB)" | tee "$out/flood-rss.txt"

echo "bench: 8 steps of sleep 1 with needs: [] (parallel)"
par=$work/parallel
mkdir -p "$par/stacks/par"
{
  echo "phases:"
  echo "  verify:"
  for i in $(seq 1 8); do echo "    - {name: p$i, needs: [], run: [sleep, \"1\"]}"; done
} > "$par/stacks/par/local.yaml"
commit_all "$par" par
hyperfine --style basic --runs 3 -N --prepare "rm -rf $work/par-state" --export-json "$out/parallel-8x1s.json" \
  "$bin up local --repo $par --state $work/par-state --parallel 8" | grep -E "Time|Range"

ansible=$(command -v ansible-playbook || true)
[ -z "$ansible" ] && [ -x "$root/.build/venv/bin/ansible-playbook" ] && ansible=$root/.build/venv/bin/ansible-playbook
if [ -n "$ansible" ]; then
  echo "bench: 100 /bin/true steps through deployctl up, against the same 100 tasks in a local Ansible playbook"
  hundred=$work/hundred
  mkdir -p "$hundred/stacks/hundred"
  {
    echo "phases:"
    echo "  deploy:"
    for i in $(seq 1 100); do echo "    - {name: t$i, run: [/bin/true]}"; done
  } > "$hundred/stacks/hundred/local.yaml"
  commit_all "$hundred" hundred
  {
    echo "- hosts: localhost"
    echo "  connection: local"
    echo "  gather_facts: false"
    echo "  vars: {ansible_python_interpreter: \"{{ ansible_playbook_python }}\"}"
    echo "  tasks:"
    for i in $(seq 1 100); do echo "    - {name: t$i, ansible.builtin.command: /bin/true}"; done
  } > "$work/playbook.yml"
  hf --runs 3 --prepare "rm -rf $work/hundred-state" --export-json "$out/up-100-vs-ansible.json" \
    "$bin up local --repo $hundred --state $work/hundred-state --parallel 1" \
    "$ansible -i localhost, $work/playbook.yml"
fi

echo
python3 "$here/summary.py" "$out" | tee "$out/summary.md"

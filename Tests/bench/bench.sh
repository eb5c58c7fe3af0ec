#!/usr/bin/env bash
# make bench: every benchmark in one table (summary.py): per-step overhead, descriptor reads
# against the git CLI on a 10,000-commit repository, peak RSS, parallel steps, the PostgreSQL store beside SQLite, 20 hosts over
# ssh (hosts.sh), and Ansible when
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

echo "bench: start-up: --version, status and plan as whole processes, beside git show"
"$bin" up local --yes >/dev/null 2>&1 || true
for command in "--version" "status local" "plan local"; do
  name=$(echo "$command" | tr -d -- '-' | cut -d' ' -f1)
  hf --export-json "$out/startup-$name-vs-git-show.json" "$bin $command" "git show HEAD:stacks/demo/local.yaml"
done
# What a shell runs on Tab after `deployctl status `: the targets at HEAD.
hf --export-json "$out/startup-complete-vs-git-show.json" "$bin __complete status ''" "git show HEAD:stacks/demo/local.yaml"

echo "bench: a stacks repository of 500 stacks x 3 environments, beside one of 1 stack"
for n in 1 500; do
  python3 "$here/make-many-stacks.py" "$work/many-$n" "$n"
  "$bin" stacks --repo "$work/many-$n" --state "$work/many-$n-state" >/dev/null   # fills the stacks cache
done
many() { echo "$bin $1 --repo $work/many-$2 --state $work/many-$2-state"; }
for command in "plan svc1/prod" "status svc1/prod"; do
  name=$(echo "$command" | cut -d' ' -f1)
  hf --export-json "$out/many-$name-500-vs-1.json" "$(many "$command" 500)" "$(many "$command" 1)"
done
hf --export-json "$out/many-stacks-500-vs-git-ls-tree.json" "$(many stacks 500)" "git -C $work/many-500 ls-tree -r HEAD"
hf --runs 10 --export-json "$out/many-validate-500-vs-git-ls-tree.json" "$(many validate 500)" "git -C $work/many-500 ls-tree -r HEAD"

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

echo "bench: the shared store: a PostgreSQL 15 started for the bench (trust auth on 127.0.0.1)"
pgbin=/usr/lib/postgresql/15/bin
pgdir=$(mktemp -d /tmp/deployctl-bench-pg.XXXXXX)
chown postgres "$pgdir"
pgport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -w -l "$pgdir/log" -o "-c listen_addresses=127.0.0.1 -p $pgport -k $pgdir" start >/dev/null
trap 'runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work" "$pgdir"' EXIT
psql() { "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U postgres -d postgres "$@"; }
store() { echo "postgres://postgres@127.0.0.1:$pgport/postgres?schema=$1"; }

echo "bench: 1,000 /bin/true steps through up, PostgreSQL store against the SQLite store"
hf --runs 5 --prepare "bash -c 'rm -rf $work/steps-state; $pgbin/psql -X -q -h 127.0.0.1 -p $pgport -U postgres -d postgres -c \"DROP SCHEMA IF EXISTS upbench CASCADE\"'" \
  --export-json "$out/up-1000-steps-postgres-vs-sqlite.json" \
  "$bin up local --repo $steps --state $(store upbench) --parallel 1" \
  "$bin up local --repo $steps --state $work/steps-state --parallel 1"

echo "bench: status and runs against stores holding 1 run and 10,000 runs x 50 steps"
rev=$(git -C "$steps" rev-parse HEAD)
run_columns="id, kind, stack, environment, target, revision, revision_subject, descriptor_blob, inputs, operator, host, pid, pid_start, started_at, ended_at, status"
run_values="'bench', 'local', 'bench/local', '$rev', 'bench', '$rev', '{}', 'bench@benchhost', 'benchhost', 1, 0, 1600000000 + i * 60, 1600000000 + i * 60 + 30, 'succeeded'"
step_columns="run_id, phase, name, attempt, argv, started_at, ended_at, exit_code, status, duration_ms, output_tail"
step_values="r.id, 'deploy', 's' || j, 1, '[\"/bin/true\"]', r.started_at, r.started_at + 1, 0, 'succeeded', 1, 'ok'"
sqlite_history() {  # $1 runs, each with 50 steps
  cat <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
INSERT INTO runs ($run_columns) SELECT '20200101-' || substr('000000' || i, -6, 6) || '-beef', 'up', $run_values FROM n;
WITH RECURSIVE s(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM s WHERE j < 50)
INSERT INTO steps ($step_columns) SELECT $step_values FROM runs r, s;
SQL
}
postgres_history() {  # $1 runs, each with 50 steps; $2 the schema
  cat <<SQL
INSERT INTO $2.runs ($run_columns) SELECT '20200101-' || lpad(i::text, 6, '0') || '-beef', 'up', $run_values FROM generate_series(1, $1) AS i;
INSERT INTO $2.steps ($step_columns) SELECT $step_values FROM $2.runs r, generate_series(1, 50) AS j;
ANALYZE;
SQL
}
for n in 1 10000; do
  "$bin" runs --repo "$steps" --state "$work/hist-$n" >/dev/null
  sqlite_history $n | sqlite3 "$work/hist-$n/journal.sqlite3"
  "$bin" runs --repo "$steps" --state "$(store hist$n)" >/dev/null
  postgres_history $n hist$n | psql
done
for command in status runs; do
  args=(); [ "$command" = status ] && args=(bench/local)
  hf --export-json "$out/$command-10000-runs.json" \
    "$bin $command ${args[*]} --repo $steps --state $(store hist10000)" "$bin $command ${args[*]} --repo $steps --state $work/hist-10000"
  hf --export-json "$out/$command-1-run.json" \
    "$bin $command ${args[*]} --repo $steps --state $(store hist1)" "$bin $command ${args[*]} --repo $steps --state $work/hist-1"
done

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
  # One warm-up, not hf's three: a run of the playbook takes about a minute here.
  hyperfine --style basic --warmup 1 --runs 3 -N --prepare "rm -rf $work/hundred-state" --export-json "$out/up-100-vs-ansible.json" \
    "$bin up local --repo $hundred --state $work/hundred-state --parallel 1" \
    "$ansible -i localhost, $work/playbook.yml" \
    || { echo "bench: ansible-playbook failed in a timed run (row left out)"; rm -f "$out/up-100-vs-ansible.json"; }
fi

bash "$here/hosts.sh" "$bin" "$work" "$out"

echo
python3 "$here/summary.py" "$out" | tee "$out/summary.md"

#!/usr/bin/env bash
# make demo: a throwaway stacks repository made from stacks/demo, then deployctl reading it
# through libgit2 at that commit. Prints where everything is.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${DEPLOYCTL_BIN:-$root/.build/debug/deployctl}
work=${DEMO_DIR:-/tmp/deployctl-demo}

# A demo app left running by an earlier `make demo` would hold the port: stop it first.
if [ -d "$work/.deployctl" ]; then
  DEPLOYCTL_STATE="$work/.deployctl" python3 "$root/stacks/demo/app/server.py" stop >/dev/null 2>&1 || true
fi
rm -rf "$work" && mkdir -p "$work"
git -C "$work" init -q -b main
cp -R "$root/stacks" "$work/stacks"
git -C "$work" add -A
git -C "$work" -c user.name="deployctl demo" -c user.email=demo@example.test commit -q -m "Add the demo stack"

# The demo's one secret, set the way a real one would be (never a default: the stack rejects those).
export DEMO_API_TOKEN="demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export DEPLOYCTL_REPO="$work" DEPLOYCTL_STATE="$work/.deployctl"
cd "$work"

run() { printf '\n$ %s\n' "$*"; "$@"; }
run "$bin" validate
run "$bin" plan local
run "$bin" up local --yes
run "$bin" status local
run "$bin" runs local

cat <<MSG

What happened: deployctl pinned $(git -C "$work" rev-parse --short HEAD), read stacks/demo/local.yaml (and the
_base.yaml it extends) from that commit through libgit2, exported the commit's files to
$work/.deployctl/trees/, backed up and verified the SQLite database, migrated it, started the
app, checked /health and /, and journaled every step.

  the record:   $work/.deployctl/journal.sqlite3   (deployctl show RUN, deployctl logs RUN STEP)
  the logs:     $work/.deployctl/logs/
  the app:      http://127.0.0.1:18080/   (stop it: DEPLOYCTL_STATE=$work/.deployctl python3 $root/stacks/demo/app/server.py stop)
  try:          cd $work && $bin show \$($bin runs local --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
MSG

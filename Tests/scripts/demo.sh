#!/usr/bin/env bash
# make demo: a throwaway stacks repository made from stacks/demo, then deployctl reading it
# through libgit2 at that commit. Prints where everything is.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${DEPLOYCTL_BIN:-$root/.build/debug/deployctl}
work=${DEMO_DIR:-/tmp/deployctl-demo}

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
run "$bin" stacks
run "$bin" plan local
run "$bin" revisions local

cat <<MSG

The stacks repository is $work (commit $(git -C "$work" rev-parse --short HEAD)).
deployctl read stacks/demo/local.yaml and the _base.yaml it extends from that commit through
libgit2, without a checkout. Try: edit the work tree copy, run '$bin validate' again: it still
reads the commit. Commit the edit and it reads the new one.
MSG

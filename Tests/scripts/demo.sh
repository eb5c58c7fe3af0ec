#!/usr/bin/env bash
# make demo: the first five minutes with deployctl. A throwaway stacks repository made from
# stacks/demo gets two revisions; revision 1 deploys, revision 2 fails its verify and is rolled
# back automatically (inbound mail switched off first, on last), then the history and the
# reports. Everything runs for real on this machine: a SQLite database, a small web app.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${DEPLOYCTL_BIN:-$root/.build/debug/deployctl}
work=${DEMO_DIR:-/tmp/deployctl-demo}

# A demo app left running by an earlier `make demo` would hold the port: stop it first.
if [ -d "$work/.deployctl" ]; then
  DEPLOYCTL_STATE="$work/.deployctl" python3 "$root/stacks/demo/app/server.py" stop >/dev/null 2>&1 || true
fi
rm -rf "$work" && mkdir -p "$work"
commit() { git -C "$work" add -A && git -C "$work" -c user.name="Dee Demo" -c user.email=demo@example.test commit -q -m "$1"; }
git -C "$work" init -q -b main
cp -R "$root/stacks" "$work/stacks"
commit "Demo 1.0: greetings app with its SQLite database"

# The demo's one secret, set the way a real one would be (never a default: the stack rejects those).
export DEMO_API_TOKEN="demo-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export DEPLOYCTL_REPO="$work" DEPLOYCTL_STATE="$work/.deployctl"
cd "$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\n$ deployctl %s\n' "$*"; "$bin" "$@"; }

say "Revision 1: validate, plan, deploy"
run validate
run plan local
run up local --yes

say "Revision 2: a new migration, a new greeting, and a promise the app does not keep"
cat > stacks/demo/app/migrations/002_visits.sql <<'SQL'
CREATE TABLE visits (id INTEGER PRIMARY KEY, at TEXT NOT NULL);
SQL
cat >> stacks/demo/local.yaml <<'YAML'

# Revision 2.
inputs:
  greeting: {default: hello from revision 2}
phases:
  verify:
    - name: clickjacking-protection
      description: Revision 2 promises X-Frame-Options on every page; the app does not send it yet
      http:
        url: http://127.0.0.1:${inputs.port}/
        require_headers: {X-Frame-Options: DENY}
YAML
commit "Demo 2.0: visits table, new greeting, X-Frame-Options"
run plan local --against HEAD~1
set +e
run up local --yes
status=$?
set -e
echo "(exit code $status: verify failed, and the rollback to revision 1 succeeded)"

say "Where things stand"
run status local
run runs local
last_up=$("$bin" runs local --format json | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["kind"]=="up"][0])')
rollback=$("$bin" runs local --format json | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["kind"]=="rollback"][0])')
run report "$rollback" --format md

cat <<MSG

What happened: deployctl read stacks/demo/local.yaml (and the _base.yaml it extends) from each
commit through libgit2. Revision 1 was backed up, migrated, started and verified. Revision 2 took
a new backup, migrated (002_visits.sql), restarted the app, then failed its verify (no
X-Frame-Options header); so deployctl rolled back on its own: inbound mail off (and confirmed
off), revision 2's app stopped, revision 1's app started from revision 1's descriptor, the
database restored from the backup taken before 002, revision 1 verified, inbound mail on (and
confirmed on). Revision 2 is now marked bad: \`up\` refuses it without --allow-bad-revision.

  reports (HTML):  $work/.deployctl/reports/$last_up/report.html
                   $work/.deployctl/reports/$rollback/report.html
  the record:      $work/.deployctl/journal.sqlite3   (deployctl show RUN, deployctl logs RUN STEP)
  the app:         http://127.0.0.1:18080/   (stop it: DEPLOYCTL_STATE=$work/.deployctl python3 $root/stacks/demo/app/server.py stop)
  try:             cd $work && $bin show $last_up
MSG

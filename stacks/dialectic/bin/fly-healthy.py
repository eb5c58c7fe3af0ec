#!/usr/bin/env python3
"""Every machine of a Fly app started, every health check passing, and no exit since it was
last launched or updated (seed 004: "Application started without errors", "No crash loops").
`fly status --json` names each machine's state, checks and events; the first machine alone says
nothing of the others, and a crash-looping machine can be caught started with its checks
passing between two restarts: its exit events since the launch give it away (only exits nobody
asked for: a stop, a restart or auto-stop is recorded with request.exit_event.requested_stop).

  fly-healthy.py --app APP

Prints one line per machine. Exit 0 all started and passing, 1 any machine is not (or fly
failed, or the app runs no machine), 2 usage.
"""
import json
import subprocess
import sys


def main(argv):
    if len(argv) != 2 or argv[0] != "--app":
        sys.stderr.write(__doc__)
        return 2
    result = subprocess.run(["fly", "status", "--app", argv[1], "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr or result.stdout)
        return 1
    machines = json.loads(result.stdout).get("Machines") or []
    bad = 0
    for machine in machines:
        checks = machine.get("checks") or []
        failing = [c.get("name", "?") + "=" + c.get("status", "?") for c in checks if c.get("status") != "passing"]
        events = machine.get("events") or []
        restarts = sum(1 for e in events if e.get("type") == "exit")
        since = max((e.get("timestamp", 0) for e in events if e.get("type") in ("launch", "update")), default=None)
        crashed = [e for e in events if e.get("type") == "exit"
                   and not ((e.get("request") or {}).get("exit_event") or {}).get("requested_stop")]
        # fly keeps a machine's recent events only: with no launch or update among them, every
        # listed exit came after it (a loop long enough to push the launch out of the list).
        looping = sum(1 for e in crashed if since is None or e.get("timestamp", 0) > since)
        ok = machine.get("state") == "started" and not failing and not looping
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {machine.get('id', '?')} {machine.get('region', '?')} state={machine.get('state')} "
              f"checks={len(checks) - len(failing)}/{len(checks)} passing" + (f" ({', '.join(failing)})" if failing else "")
              + (f", {restarts} exit(s) recorded" if restarts else "")
              + (f", {looping} unrequested since its last launch (a crash loop)" if looping else ""))
    if not machines:
        print("the app runs no machine")
        return 1
    print(f"{len(machines) - bad} of {len(machines)} machine(s) started with every check passing")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

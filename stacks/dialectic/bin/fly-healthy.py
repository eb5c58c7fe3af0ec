#!/usr/bin/env python3
"""Every machine of a Fly app started, every health check passing (seed 004: "Application
started without errors", "No crash loops"). `fly status --json` names each machine's state and
checks; the first machine alone says nothing of the others.

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
        ok = machine.get("state") == "started" and not failing
        bad += not ok
        restarts = sum(1 for e in machine.get("events") or [] if e.get("type") == "exit")
        print(f"{'ok ' if ok else 'BAD'} {machine.get('id', '?')} {machine.get('region', '?')} state={machine.get('state')} "
              f"checks={len(checks) - len(failing)}/{len(checks)} passing" + (f" ({', '.join(failing)})" if failing else "")
              + (f", {restarts} exit(s) recorded" if restarts else ""))
    if not machines:
        print("the app runs no machine")
        return 1
    print(f"{len(machines) - bad} of {len(machines)} machine(s) started with every check passing")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

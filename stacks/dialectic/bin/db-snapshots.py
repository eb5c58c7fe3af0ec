#!/usr/bin/env python3
"""Seed 004 Database: "Backup strategy in place", beyond the dump taken before each migration:
the database's Fly volumes keep daily snapshots, and a recent one exists.

  db-snapshots.py --app DB_APP --max-age-hours H --min-retention DAYS

For each volume of DB_APP (`fly volumes list --app DB_APP --json`, Fly Postgres keeps its data on
them): snapshots are kept for at least DAYS (snapshot_retention), and the newest snapshot (`fly
volumes snapshots list VOLUME --json`) is at most H hours old. Exit 0 all hold, 1 not (named) or
fly failed, 2 usage.
"""
import argparse
import datetime
import json
import subprocess
import sys


def fly(*args):
    run = subprocess.run(["fly", *args, "--json"], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise OSError(f"fly {' '.join(args)}: {(run.stderr or run.stdout).strip()}")
    return json.loads(run.stdout or "[]")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", required=True)
    parser.add_argument("--max-age-hours", type=float, required=True)
    parser.add_argument("--min-retention", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        volumes = fly("volumes", "list", "--app", args.app)
        if not volumes:
            print(f"FAIL {args.app} has no volume: no snapshot can exist")
            return 1
        failed = 0
        for volume in volumes:
            name = f"{volume.get('id')} ({volume.get('name')})"
            retention = int(volume.get("snapshot_retention") or 0)
            snapshots = fly("volumes", "snapshots", "list", volume["id"])
            times = sorted(datetime.datetime.fromisoformat(s["created_at"].replace("Z", "+00:00")) for s in snapshots if s.get("created_at"))
            age = (datetime.datetime.now(datetime.timezone.utc) - times[-1]).total_seconds() / 3600 if times else None
            problems = []
            if retention < args.min_retention:
                problems.append(f"snapshots kept {retention} days (at least {args.min_retention})")
            if age is None:
                problems.append("no snapshot")
            elif age > args.max_age_hours:
                problems.append(f"newest snapshot {age:.0f} h old (at most {args.max_age_hours:g})")
            if problems:
                failed += 1
                print(f"FAIL volume {name}: " + "; ".join(problems))
            else:
                print(f"ok   volume {name}: {len(times)} snapshots kept {retention} days, newest {age:.1f} h old")
        return 1 if failed else 0
    except (OSError, ValueError, KeyError) as error:
        print(f"FAIL {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

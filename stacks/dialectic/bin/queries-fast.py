#!/usr/bin/env python3
"""Seed 004 Performance Tests: "Database queries fast (check logs)", read from PostgreSQL's own
record (pg_stat_statements) for what ran since the new release started.

  queries-fast.py ready                       pg_stat_statements can be read (preflight: before
                                              anything changes, not after the migrations)
  queries-fast.py snapshot FILE               every statement's calls and total time now, into FILE
  queries-fast.py check FILE MAX_MS [SOAK]    after SOAK seconds (default 0) of the new release's
                                              traffic: no statement run 5 times or more since the
                                              snapshot averages over MAX_MS (its time since, over
                                              its calls since), and at least one ran 5 times

Cumulative means would still hold last month's slow query, and hide a new one among months of
fast calls; the difference between two snapshots is what ran in between (taken just before the
new release ships, after the migrations: the release's start and traffic, and the checks). A
statement is one (role, queryid) pair, as pg_stat_statements keeps them. psql runs through
pg-env.py ($DATABASE_URL split into libpq's variables).
Needs the pg_stat_statements extension (CREATE EXTENSION pg_stat_statements; Fly Postgres and
most managed PostgreSQL offer it). Exit 0 fast, 1 slow (named) or unreadable, 2 usage.
"""
import csv
import io
import os
import subprocess
import sys
import time

STATEMENTS = """select userid::text || ':' || queryid, calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 160)
  from pg_stat_statements
 where dbid = (select oid from pg_database where datname = current_database()) and queryid is not null"""


def statements():
    pg_env = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pg-env.py")
    run = subprocess.run([sys.executable, pg_env, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", "-t", "-c", STATEMENTS],
                         capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        raise OSError(run.stderr.strip() or f"psql exited {run.returncode}")
    return {row[0]: (int(row[1]), float(row[2]), row[3]) for row in csv.reader(io.StringIO(run.stdout)) if len(row) == 4}


def snapshot(path):
    now = statements()
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        for queryid, (calls, total, _) in now.items():
            writer.writerow([queryid, calls, total])
    print(f"{len(now)} statements recorded in {path}")
    return 0


def check(path, bound, soak=0.0):
    if soak > 0:
        print(f"waiting {soak:g} s for the new release's traffic")
        time.sleep(soak)
    try:
        with open(path, newline="") as f:
            before = {row[0]: (int(row[1]), float(row[2])) for row in csv.reader(f) if len(row) == 3}
    except OSError as error:
        print(f"no snapshot to compare with ({error}): the deploy step db-queries-snapshot records it")
        return 1
    slow = []
    ran = 0
    for queryid, (calls, total, text) in statements().items():
        calls_before, total_before = before.get(queryid, (0, 0.0))
        if calls < calls_before:  # the statistics were reset since: count from zero
            calls_before, total_before = 0, 0.0
        count, spent = calls - calls_before, total - total_before
        if count >= 5:
            ran += 1
            if spent / count > bound:
                slow.append((spent / count, count, text))
    for mean, count, text in sorted(slow, reverse=True)[:5]:
        print(f"SLOW {mean:.1f} ms mean over {count} calls: {text}")
    if not ran:
        print("nothing measured: no statement ran 5 times since the release shipped (did it serve traffic?)")
        return 1
    if not slow:
        print(f"fast: none of the {ran} statements run 5 times or more since the snapshot averages over {bound:g} ms")
    return 1 if slow else 0


def main(argv):
    try:
        if argv == ["ready"]:
            print(f"pg_stat_statements readable: {len(statements())} statements of this database")
            return 0
        if len(argv) == 2 and argv[0] == "snapshot":
            return snapshot(argv[1])
        if len(argv) in (3, 4) and argv[0] == "check":
            return check(argv[1], float(argv[2]), float(argv[3]) if len(argv) == 4 else 0.0)
    except OSError as error:
        print(f"cannot read pg_stat_statements: {error}")
        return 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

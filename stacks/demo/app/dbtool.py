#!/usr/bin/env python3
"""The demo app's database tool: backup, verify, restore, state, migrate, check-schema, check-token.

The database is the SQLite file named by $DEMO_DB. Exit 0 on success, 1 on a failed check,
2 on bad usage, like the real CLIs the other stacks call.
"""
import glob
import os
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def database():
    path = os.environ.get("DEMO_DB")
    if not path:
        sys.exit("DEMO_DB is not set")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return path


def copy(source, target):
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[0], argv[1:]
    if command == "backup":
        copy(database(), args[0])
        print(f"backup written to {args[0]} ({os.path.getsize(args[0])} bytes)")
    elif command == "verify":
        with sqlite3.connect(f"file:{args[0]}?mode=ro", uri=True) as db:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        print(f"integrity: {result}; tables: {', '.join(tables) or '(none)'}")
        return 0 if result == "ok" else 1
    elif command == "restore":
        copy(args[0], database())
        print(f"restored {database()} from {args[0]}")
    elif command == "state":
        # What the database holds, in one line: the backup's check compares it before and after a restore.
        with sqlite3.connect(database()) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            versions = [r[0] for r in db.execute("SELECT version FROM schema_migrations ORDER BY version")] if "schema_migrations" in tables else []
        print(f"migrations: {','.join(versions) or 'none'}; tables: {','.join(tables) or 'none'}")
    elif command == "migrate":
        with sqlite3.connect(database()) as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)")
            done = {r[0] for r in db.execute("SELECT version FROM schema_migrations")}
            for path in sorted(glob.glob(os.path.join(HERE, "migrations", "*.sql"))):
                version = os.path.basename(path).split("_")[0]
                if version in done:
                    continue
                db.executescript(open(path, encoding="utf-8").read())
                db.execute("INSERT INTO schema_migrations VALUES (?)", (version,))
                print(f"applied {os.path.basename(path)}")
        print("migrations up to date")
    elif command == "check-schema":
        with sqlite3.connect(database()) as db:
            count = db.execute("SELECT count(*) FROM greetings").fetchone()[0]
        print(f"greetings table has {count} row(s)")
    elif command == "check-token":
        token = os.environ.get("DEMO_API_TOKEN", "")
        if len(token) < 12 or token in {"changeme", "secret", "password"}:
            print("DEMO_API_TOKEN is missing, too short or a known default", file=sys.stderr)
            return 1
        print("token is set and is not a default")
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""The tenant's .env.production, rendered from the descriptor's inputs and secrets (seed 002).

  render-env.py write NAME...           write NAME=VALUE for each NAME from this process's environment,
                                        plus the URLs composed below, to $DOTMAC_ENV_FILE (mode 0600)
  render-env.py exec -- CMD...          run CMD with the file's variables added to its environment
  render-env.py compare K1,K2 -- CMD... run CMD (it prints NAME=VALUE lines, e.g. `env` inside a
                                        container) and check each key has the file's value

FILE is $DOTMAC_ENV_FILE (the descriptor sets it in defaults.env).

`write` composes, with every part URL-quoted (a password may hold '@', ':' or '/'):
  DATABASE_URL            SCHEME://DATABASE__USERNAME:DATABASE__PASSWORD@DATABASE__HOST:DATABASE__PORT/DATABASE__DATABASE
                          (SCHEME is $DATABASE_URL_SCHEME, default postgresql)
  REDIS__URL              redis://:REDIS__PASSWORD@REDIS__HOST:REDIS__PORT/REDIS__DB          (sessions)
  CELERY__BROKER_URL      the same Redis, database CELERY_BROKER_DB
  CELERY__RESULT_BACKEND  the same Redis, database CELERY_RESULT_DB
and refuses a file that would ship debug logging or REQUIRE_REDIS_SESSIONS other than true.

One file serves `docker compose --env-file` and `kubectl create secret --from-env-file`, which
read values differently (compose strips quotes and interpolates '$', kubectl keeps both), so
values are written unquoted and a value holding a newline, '$' or ' #' is refused by name.
Values are never printed. Exit 0 written/ran/all keys match, 1 refused or a key differs, 2 usage
(or CMD failed).
"""
import os
import sys
from urllib.parse import quote

COMPOSED = {
    "DATABASE_URL": lambda e: "{}://{}:{}@{}:{}/{}".format(
        e.get("DATABASE_URL_SCHEME", "postgresql"), q(e["DATABASE__USERNAME"]), q(e["DATABASE__PASSWORD"]), e["DATABASE__HOST"], e["DATABASE__PORT"], q(e["DATABASE__DATABASE"])),
    "REDIS__URL": lambda e: redis(e, e["REDIS__DB"]),
    "CELERY__BROKER_URL": lambda e: redis(e, e["CELERY_BROKER_DB"]),
    "CELERY__RESULT_BACKEND": lambda e: redis(e, e["CELERY_RESULT_DB"]),
}


def q(text):
    return quote(text, safe="")


def redis(e, db):
    return "redis://:{}@{}:{}/{}".format(q(e["REDIS__PASSWORD"]), e["REDIS__HOST"], e["REDIS__PORT"], db)


def write(output, names):
    env = os.environ
    missing = [n for n in names if n not in env]
    if missing:
        print("not in the environment: " + ", ".join(missing), file=sys.stderr)
        return 1
    values = {n: env[n] for n in names}
    for key, compose in COMPOSED.items():
        try:
            values[key] = compose(env)
        except KeyError as error:
            print(f"cannot compose {key}: {error.args[0]} is not set", file=sys.stderr)
            return 1
    problems = [f"{n} holds a newline, '$' or ' #', which compose and kubectl would read differently"
                for n, v in values.items() if "\n" in v or "$" in v or " #" in v]
    if values.get("LOG_LEVEL", "info").lower() in ("debug", "trace", "notset"):
        problems.append(f"LOG_LEVEL={values['LOG_LEVEL']}: debug logging must be off in production")
    if values.get("REQUIRE_REDIS_SESSIONS", "true") != "true":
        problems.append("REQUIRE_REDIS_SESSIONS must be true (sessions and revocation across workers)")
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    partial = output + ".partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        for name, value in values.items():
            f.write(f"{name}={value}\n")
    os.replace(partial, output)
    print(f"wrote {output} (mode 0600): " + " ".join(values))
    return 0


def read(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key] = value
    return values


def compare(path, keys, command):
    import subprocess
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        print(f"{command[0]} exited {result.returncode}; nothing compared", file=sys.stderr)
        return 2
    running = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    wanted = read(path)
    differ = 0
    for key in keys:
        if key not in wanted:
            print(f"{key}: not in {path}", file=sys.stderr)
            return 2
        state = "same" if running.get(key) == wanted[key] else ("missing" if key not in running else "DIFFERENT")
        differ += state != "same"
        print(f"{key}: {state}")
    return 1 if differ else 0


def main(argv):
    path = os.environ.get("DOTMAC_ENV_FILE")
    if not path:
        print("DOTMAC_ENV_FILE is not set", file=sys.stderr)
        return 2
    if len(argv) >= 2 and argv[0] == "write":
        return write(path, argv[1:])
    if len(argv) >= 3 and argv[0] == "exec" and argv[1] == "--":
        env = dict(os.environ)
        env.update(read(path))
        os.execvpe(argv[2], argv[2:], env)
    if len(argv) >= 4 and argv[0] == "compare" and argv[2] == "--":
        return compare(path, [k for k in argv[1].split(",") if k], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

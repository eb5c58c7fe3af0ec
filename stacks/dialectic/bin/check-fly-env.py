#!/usr/bin/env python3
"""The settings the running app reads from its environment have the intended values (seed 004,
Environment Variables: "PHX_HOST configured with your domain", "DATABASE_SSL=true (or false if
using local DB)", "LLM_PROVIDER set correctly").

  check-fly-env.py --app APP --config fly.toml --host HOST[:PORT] --database-ssl true|false
                   --llm-provider openai|google

A name in fly.toml's [env] must hold the expected value (PHX_HOST: HOST without its port). A name
not there must be a Fly secret (`fly secrets list --app APP --json`) whose value, as a running
machine has it (`fly ssh console --command 'printenv NAME'`, one name at a time: no other
variable, DATABASE_URL least of all, crosses the wire), is the expected one. Unset anywhere,
Phoenix falls back to its defaults (PHX_HOST: example.com); set in both, which value the app sees
is not for fly.toml to say, so that fails too. DATABASE_SSL false is only for a local database:
the host of $DATABASE_URL must be this machine or Fly's private network (.internal, .flycast),
never a database reached over the internet. Exit 0 all set as intended, 1 not, 2 usage or an
unreadable file.
"""
import json
import os
import subprocess
import sys
import tomllib
import urllib.parse

# "false if using local DB": this machine, or Fly's private WireGuard network.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
PRIVATE_SUFFIXES = (".internal", ".flycast")


def machine_value(app, name):
    """NAME as a running machine of APP has it, or None when unset or unreadable (and why)."""
    run = subprocess.run(["fly", "ssh", "console", "--app", app, "--command", f"printenv {name}"],
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0 or not run.stdout.strip():
        return None, (run.stderr.strip().splitlines() or ["unset"])[-1]
    return run.stdout.strip().splitlines()[-1], ""


def database_host():
    url = os.environ.get("DATABASE_URL", "")
    try:
        return urllib.parse.urlsplit(url).hostname or ""
    except ValueError:
        return ""


def main(argv):
    args = dict(zip(argv[::2], argv[1::2]))
    if len(argv) % 2 or set(args) != {"--app", "--config", "--host", "--database-ssl", "--llm-provider"}:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args["--config"], "rb") as f:
            env = tomllib.load(f).get("env", {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        print(f"cannot read {args['--config']}: {error}", file=sys.stderr)
        return 2
    wanted = {"PHX_HOST": args["--host"].split(":")[0],
              "DATABASE_SSL": args["--database-ssl"], "LLM_PROVIDER": args["--llm-provider"]}
    listed = subprocess.run(["fly", "secrets", "list", "--app", args["--app"], "--json"], capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:
        print(f"fly secrets list failed: {(listed.stderr or listed.stdout).strip()}")
        return 1
    secrets = {entry.get("Name") for entry in json.loads(listed.stdout or "[]")}
    failed = 0
    for name, value in wanted.items():
        if name in env and name in secrets:
            ok, detail = False, f"in fly.toml [env] ({env[name]!r}) and a Fly secret: keep one"
        elif name in env:
            ok = str(env[name]).lower() == value.lower()
            detail = f"[env] {env[name]!r} (expected {value!r})"
        elif name in secrets:
            found, why = machine_value(args["--app"], name)
            ok = found is not None and found.lower() == value.lower()
            detail = (f"a Fly secret, {found!r} on a running machine (expected {value!r})" if found is not None
                      else f"a Fly secret, but a running machine does not have it ({why})")
        else:
            ok, detail = False, "neither in fly.toml [env] nor a Fly secret"
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if args["--database-ssl"] == "false":
        host = database_host()
        ok = host in LOCAL_HOSTS or host.endswith(PRIVATE_SUFFIXES)
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} DATABASE_SSL false: the database host {host or '(none in DATABASE_URL)'} is "
              + ("local" if ok else "not local (this machine, .internal or .flycast): production needs SSL"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

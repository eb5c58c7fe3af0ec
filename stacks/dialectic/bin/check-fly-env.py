#!/usr/bin/env python3
"""The settings the running app reads from its environment have the intended values (seed 004,
Environment Variables: "PHX_HOST configured with your domain", "DATABASE_SSL=true (or false if
using local DB)", "LLM_PROVIDER set correctly").

  check-fly-env.py --app APP --config fly.toml --host HOST[:PORT] --database-ssl true|false
                   --llm-provider openai|google

A name in fly.toml's [env] must hold the expected value (PHX_HOST: HOST without its port). A name
not there must be a Fly secret (`fly secrets list --app APP --json`; its value never leaves Fly,
so only its presence is checked); unset anywhere, Phoenix falls back to its defaults (PHX_HOST:
example.com); set in both, which value the app sees is not for fly.toml to say, so that fails
too. Exit 0 all set as intended, 1 not, 2 usage or an unreadable file.
"""
import json
import subprocess
import sys
import tomllib


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
        else:
            ok = name in secrets
            detail = "a Fly secret (its value stays in Fly)" if ok else "neither in fly.toml [env] nor a Fly secret"
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

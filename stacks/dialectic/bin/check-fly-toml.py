#!/usr/bin/env python3
"""Check fly.toml against Dialectic's production checklist (seed 004, "Infrastructure" and
"Environment Variables").

  check-fly-toml.py --app APP [--config fly.toml] [--llm-provider openai|google]
                    [--min-memory-mb MB]

Checks (FAIL exits 1):           app name; [http_service] internal_port 8080 (PORT), force_https,
                                 min_machines_running >= 1; a health check on /health every 30 s
                                 or more often (seed: "Frequency: Every 30 seconds"); [env]
                                 PHX_SERVER = "true"; LLM_PROVIDER, when set in [env], is the given
                                 one; every [[vm]] has at least --min-memory-mb (default 4096, the
                                 seed's recommended 4 GB; no [[vm]] is Fly's 256 MB default)
Reported only (info):            PHX_HOST, DATABASE_SSL and LLM_PROVIDER when they are not in [env]
                                 (they may be Fly secrets)
Exit 0 all checks pass, 1 a check failed, 2 usage or an unreadable file.
"""
import re
import sys
import tomllib


# Fly's machine size presets and the memory each starts with (fly platform vm-sizes).
SIZES = {"shared-cpu-1x": 256, "shared-cpu-2x": 512, "shared-cpu-4x": 1024, "shared-cpu-8x": 2048,
         "performance-1x": 2048, "performance-2x": 4096, "performance-4x": 8192, "performance-8x": 16384,
         "performance-16x": 32768}


def memory_mb(vm):
    if "memory_mb" in vm:
        return int(vm["memory_mb"])
    text = str(vm.get("memory", "")).strip().lower()
    if not text:
        return SIZES.get(str(vm.get("size", "")).strip().lower())
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*(gb|mb)?", text)
    if not m:
        return None
    return int(float(m.group(1)) * (1024 if m.group(2) == "gb" else 1))


def seconds(text):
    parts = re.findall(r"([0-9.]+)(ms|s|m|h)", str(text))
    if not parts:
        return None
    return sum(float(value) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit] for value, unit in parts)


def main(argv):
    args = dict(zip(argv[::2], argv[1::2]))
    if len(argv) % 2 or "--app" not in args or set(args) - {"--app", "--config", "--llm-provider", "--min-memory-mb"} \
            or not args.get("--min-memory-mb", "0").isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    path = args.get("--config", "fly.toml")
    try:
        with open(path, "rb") as f:
            config = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as error:
        print(f"cannot read {path}: {error}", file=sys.stderr)
        return 2

    failed = 0

    def check(ok, what, detail):
        nonlocal failed
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {detail}")

    service = config.get("http_service", {})
    env = config.get("env", {})
    check(config.get("app") == args["--app"], "app", f"{config.get('app')!r} (expected {args['--app']!r})")
    check(service.get("internal_port") == 8080, "http_service.internal_port (PORT)", repr(service.get("internal_port")))
    check(service.get("force_https") is True, "http_service.force_https", repr(service.get("force_https")))
    minimum = service.get("min_machines_running", 0)
    check(isinstance(minimum, int) and minimum >= 1, "http_service.min_machines_running (no cold starts)", repr(minimum))
    checks = list(service.get("checks", [])) + [c for c in config.get("checks", {}).values() if isinstance(c, dict)]
    paths = [c.get("path") for c in checks if c.get("path")]
    check("/health" in paths, "health check on /health", ", ".join(paths) or "no HTTP checks")
    intervals = [seconds(c.get("interval", "")) for c in checks if c.get("path") == "/health"]
    check(any(i is not None and i <= 30 for i in intervals), "health check on /health every 30 s or more often",
          ", ".join(repr(c.get("interval")) for c in checks if c.get("path") == "/health") or "no /health check")
    check(str(env.get("PHX_SERVER", "")).lower() == "true", "env.PHX_SERVER", repr(env.get("PHX_SERVER")))
    if "--llm-provider" in args and "LLM_PROVIDER" in env:
        check(env["LLM_PROVIDER"] == args["--llm-provider"], "env.LLM_PROVIDER", f"{env['LLM_PROVIDER']!r} (expected {args['--llm-provider']!r})")

    least = int(args.get("--min-memory-mb", "4096"))
    for vm in config.get("vm", []) or [{}]:
        mb = memory_mb(vm)
        shown = vm.get("memory", vm.get("memory_mb", vm.get("size", "Fly's default, 256 MB")))
        check(mb is not None and mb >= least, "VM memory", f"{shown} (at least {least} MB; the seed recommends 4 GB)")
    for name in ("PHX_HOST", "DATABASE_SSL", "LLM_PROVIDER"):
        if name in env:
            print(f"info env.{name} = {env[name]!r}")
        else:
            print(f"info env.{name} not in fly.toml (a Fly secret, or unset)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

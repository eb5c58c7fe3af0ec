#!/usr/bin/env python3
"""Seed 000, Oban queue sizing: with deliver_later/2, Mailglass.Outbound.Worker runs in the Oban
queue named :mailglass, whose throughput is its :concurrency. The queue must be declared with an
explicit concurrency of at least 1 (`queues: [mailglass: 10]` or `mailglass: [limit: 10]`);
without it no delivery job ever runs.

Reads config/config.exs, prod.exs and runtime.exs of the pinned commit (OFFLINE; a queue only
dev.exs or test.exs declares does not reach production). A concurrency computed at runtime
(`String.to_integer(System.get_env(...))`) is explicit but unknown here: it passes and is shown.
Exit 0 declared, 1 missing or zero, 2 no config to read.

Usage: oban-queue.py [CONFIG_DIR]
"""
import os
import re
import sys

QUEUE = re.compile(r"\bqueues\s*:\s*\[(?P<body>[^\]]*(?:\[[^\]]*\][^\]]*)*)\]", re.S)
MAILGLASS = re.compile(r"\bmailglass\s*:\s*(?P<value>\[[^\]]*\]|[^,\]\n]+)")


def main(directory):
    files = [os.path.join(directory, name) for name in ("config.exs", "prod.exs", "runtime.exs")
             if os.path.isfile(os.path.join(directory, name))]
    if not files:
        print(f"no config.exs, prod.exs or runtime.exs in {directory}: is this the host app's repository root?")
        return 2
    found = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = "\n".join(line.split("#", 1)[0] for line in f.read(1024 * 1024).splitlines())
        for queues in QUEUE.finditer(text):
            for m in MAILGLASS.finditer(queues.group("body")):
                value = m.group("value").strip()
                limit = re.search(r"\blimit\s*:\s*([^,\]]+)", value) if value.startswith("[") else None
                concurrency = (limit.group(1) if limit else value).strip()
                found.append((path, concurrency))
    if not found:
        print("no Oban queue named :mailglass in " + ", ".join(files)
              + ": deliver_later/2 jobs would never run; add `queues: [mailglass: 10]` to the Oban config (10 is the seed's conservative start)")
        return 1
    status = 0
    for path, concurrency in found:
        if re.fullmatch(r"\d+", concurrency):
            if int(concurrency) < 1:
                print(f"{path}: :mailglass queue concurrency {concurrency}: paused, no delivery would run")
                status = 1
            else:
                print(f"{path}: :mailglass queue concurrency {concurrency}")
        else:
            print(f"{path}: :mailglass queue concurrency set at runtime ({concurrency}); its value is not known here")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "config"))

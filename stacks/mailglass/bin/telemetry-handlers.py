#!/usr/bin/env python3
"""Seed 000, Telemetry and alerting: before going live, an :exception handler must be attached to
[:mailglass, :outbound, :dispatch] and to [:mailglass, :webhook, :reconcile].

Reads the host app's Elixir sources of the pinned commit (OFFLINE, like the wiring doctor) for
:telemetry.attach/4 and :telemetry.attach_many/4 calls and the events they name (literally, or
through a module attribute of the same file). Exit 0 when both events are attached, 1 naming
the missing ones, 2 when there are no sources to read.

Usage: telemetry-handlers.py DIR...   (e.g. lib)
"""
import os
import re
import sys

REQUIRED = {
    ("outbound", "dispatch"): "delivery failures",
    ("webhook", "reconcile"): "reconciliation failures",
}
EVENT = re.compile(r"\[\s*:mailglass\s*,\s*:(\w+)\s*,\s*:(\w+)\s*,\s*:exception\s*\]")
ATTACH = re.compile(r":telemetry\s*\.\s*attach(?:_many)?\s*\(")
ATTRIBUTE = re.compile(r"^\s*@(\w+)\s+(.*?)(?=^\s*@\w+\s|^\s*def|\Z)", re.S | re.M)
MAX_BYTES = 2 * 1024 * 1024  # a source file larger than this is not hand-written wiring


def without_comments(text):
    """Drops `# …` comments outside strings, so a commented-out attach does not count."""
    out, in_string = [], False
    for line in text.splitlines():
        kept = []
        i = 0
        while i < len(line):
            c = line[i]
            # An escape in a string, or a character literal (?" ?#) outside one.
            if (c == "\\" and in_string) or (c == "?" and not in_string):
                kept.append(line[i:i + 2]); i += 2; continue
            if c == '"':
                in_string = not in_string
            if c == "#" and not in_string:
                break
            kept.append(c); i += 1
        out.append("".join(kept))
    return "\n".join(out)


def call_text(text, start):
    """The argument text of the call whose `(` is at start-1, up to its closing parenthesis."""
    depth, i = 1, start
    while i < len(text) and depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    return text[start:i - 1]


def attached_events(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = without_comments(f.read(MAX_BYTES))
    attributes = {m.group(1): m.group(2) for m in ATTRIBUTE.finditer(text)}
    found = set()
    for match in ATTACH.finditer(text):
        arguments = call_text(text, match.end())
        for name in re.findall(r"@(\w+)", arguments):
            arguments += " " + attributes.get(name, "")
        found |= {(a, b) for a, b in EVENT.findall(arguments)}
    return found


def main(roots):
    files = [os.path.join(d, f) for root in roots for d, _, names in os.walk(root)
             for f in sorted(names) if f.endswith((".ex", ".exs"))]
    if not files:
        print(f"no Elixir sources under {', '.join(roots)}: is this the host app's repository root?")
        return 2
    where = {}
    for path in files:
        for event in attached_events(path) & REQUIRED.keys():
            where.setdefault(event, path)
    for event, purpose in REQUIRED.items():
        name = "[:mailglass, :%s, :%s, :exception]" % event
        if event in where:
            print(f"{name}: handler attached in {where[event]}")
        else:
            print(f"{name}: NO handler attached in {len(files)} source file(s); {purpose} would go unnoticed")
    missing = REQUIRED.keys() - where.keys()
    if missing:
        print("attach one with :telemetry.attach_many/4 in the application's start/2 (seed: guides/production-go-live-checklist.md, Telemetry and alerting)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["lib"]))

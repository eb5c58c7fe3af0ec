#!/usr/bin/env python3
"""Print hyperfine results as a table with each deployctl command's ratio to its baseline.

Usage: ratios.py RESULTS.json... ; each file holds one comparison: deployctl first, baseline second.
Each line also gets its goal (name=goal pairs come from the BENCH_GOALS environment variable).
"""
import json
import os
import sys

goals = dict(pair.split("=", 1) for pair in os.environ.get("BENCH_GOALS", "").split(";") if "=" in pair)
rows = []
for path in sys.argv[1:]:
    results = json.load(open(path))["results"]
    ours, base = results[0], results[1]
    name = os.path.basename(path).removesuffix(".json")
    ratio = ours["median"] / base["median"]
    goal = goals.get(name)
    verdict = "" if goal is None else ("meets" if ratio <= float(goal) else "misses") + f" goal ≤ {goal}×"
    rows.append((name, ours["median"] * 1000, base["median"] * 1000, ratio, base["command"], verdict))

print(f"{'benchmark':<32} {'deployctl ms':>12} {'baseline ms':>12} {'ratio':>7}  baseline, goal")
for name, ours, base, ratio, command, verdict in rows:
    print(f"{name:<32} {ours:>12.2f} {base:>12.2f} {ratio:>6.2f}×  {command[:60]}  {verdict}")

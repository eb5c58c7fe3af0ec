#!/usr/bin/env python3
"""Every benchmark of `make bench` in one table (Markdown), from the files bench.sh leaves in OUT.

Usage: summary.py OUT. Hyperfine files hold deployctl first and its baseline second; the
figures are medians of whole processes. A row whose file is missing (Ansible not installed)
is left out; the table says so.
"""
import json
import os
import sys

out = sys.argv[1]


def hyperfine(name, commands=2):
    path = os.path.join(out, name + ".json")
    if not os.path.exists(path):
        return None
    medians = [r["median"] for r in json.load(open(path))["results"]]
    # hyperfine writes the file after each command: a run stopped by the second one's failure
    # leaves one result, which is no comparison.
    return medians if len(medians) >= commands else None


def ms(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


rows = []
comparisons = [
    ("up-1000-steps-vs-bash-fsync", "1,000 `/bin/true` steps through `up`", "bash loop, one fsynced journal line per step", 1.5),
    ("plan-vs-git-show", "`plan` (read + validate + plan a descriptor at a revision)", "`git show REV:path`", 3.0),
    ("revisions-warm-vs-git-log", "`revisions`, cache warm (10,000 commits)", "`git log -- paths`", 1.0),
    ("revisions-cold-vs-git-log", "`revisions`, no cache (first call)", "`git log -- paths`", 1.0),
    ("revisions-warm-vs-git-log-bloom", "`revisions`, cache warm", "`git log` with commit-graph + Bloom filters", 1.0),
    ("up-100-vs-ansible", "100 `/bin/true` steps through `up`", "the same 100 tasks, local `ansible-playbook`", None),
    ("up-1000-steps-postgres-vs-sqlite", "1,000 `/bin/true` steps through `up`, PostgreSQL store", "the same on the SQLite store", 1.5),
    ("hosts-20-vs-1-warm", "a no-op step (x2) on 20 loopback hosts, `max_parallel: 20`", "the same on 1 host", 2.0),
    ("hosts-20-vs-1-one-step", "a no-op step (once) on 20 loopback hosts, `max_parallel: 20`", "the same on 1 host", 2.0),
    ("hosts-sessions-floor", "the same 40 sessions and nothing else (a minimal mux client, timed inside)", "1 host's 2", None),
    ("hosts-sessions-floor-one-step", "the one-step run's 20 sessions and nothing else (the same client)", "1 host's 1", None),
    ("hosts-20-vs-1-cold", "the same, cold (new ssh connections)", "the same on 1 host", None),
    ("hosts-20-vs-bare-ssh", "a no-op step (x2) on 20 loopback hosts through `up`", "the same 40 commands as bare parallel `ssh`", None),
    ("hosts-20-vs-ansible", "a no-op step on 20 loopback hosts through `up`", "`ansible -f 20` ad hoc", None),
    ("hosts-ansible-20-vs-1", "`ansible -f 20` ad hoc on 20 loopback hosts", "the same on 1 host", None),
]
for name, what, baseline, goal in comparisons:
    medians = hyperfine(name)
    if medians is None:
        continue
    ratio = medians[0] / medians[1]
    verdict = "" if goal is None else ("met" if ratio <= goal else "**missed**")
    rows.append((what, ms(medians[0]), f"{ms(medians[1])} ({baseline})", f"{ratio:.2f}×",
                 "—" if goal is None else f"≤ {goal:g}×", verdict))

# The 20 hosts share this machine's cores with deployctl. An estimate, assuming the parts add
# up: what the hosts' side adds from 1 host to 20 (the one-round floor row, which also counts the
# minimal client and the ssh masters) is what any client opening a session per host adds to
# one host's run; the rest of the difference is deployctl's own per-host work (noise can make
# it negative).
step, floor = hyperfine("hosts-20-vs-1-one-step"), hyperfine("hosts-sessions-floor-one-step")
if step and floor:
    hosts_side = floor[0] - floor[1]
    least = (step[1] + hosts_side) / step[1]
    rows.append(("estimated: the one-step ratio with deployctl's own per-host work at zero (1 host's run + the floor's 20 − 1)",
                 ms(step[1] + hosts_side), f"{ms(step[1])} (1 host through `up`)", f"{least:.2f}×", "—",
                 "estimated floor above the goal" if least > 2.0 else ""))
    rows.append(("estimated: deployctl's own time for the 19 hosts more (20 hosts − 1 host − the floor's 20 − 1)",
                 ms(step[0] - step[1] - hosts_side), "—", "—", "—", ""))

# Start-up: whole processes on the demo stack, with absolute goals (shell completion calls
# deployctl on every Tab), shown beside git show as the yardstick.
for name, what, goal_ms in (("version", "`--version`", 6), ("status", "`status local`", 10), ("plan", "`plan local`", 15),
                            ("complete", "a Tab after `deployctl status ` (`__complete`)", None)):
    medians = hyperfine(f"startup-{name}-vs-git-show")
    if medians is None:
        continue
    rows.append((f"start-up: {what}", ms(medians[0]), f"{ms(medians[1])} (`git show REV:path`)", f"{medians[0] / medians[1]:.1f}×",
                 "—" if goal_ms is None else f"≤ {goal_ms} ms",
                 "" if goal_ms is None else "met" if medians[0] * 1000 <= goal_ms else "**missed**"))

# A stacks repository of 500 stacks x 3 environments: a named target costs what it costs on a
# one-stack repository; `stacks` (warm cache) and `validate` have absolute goals.
for name, what, goal in (("plan", "`plan svc1/prod`", 1.2), ("status", "`status svc1/prod`", 1.2)):
    medians = hyperfine(f"many-{name}-500-vs-1")
    if medians is None:
        continue
    ratio = medians[0] / medians[1]
    rows.append((f"500 stacks: {what}", ms(medians[0]), f"{ms(medians[1])} (the same on 1 stack)", f"{ratio:.2f}×",
                 f"≤ {goal}×", "met" if ratio <= goal else "**missed**"))
for name, what, goal_ms in (("stacks", "`stacks` (cache warm)", 50), ("validate", "`validate` (1,500 targets, both cores)", 1000)):
    medians = hyperfine(f"many-{name}-500-vs-git-ls-tree")
    if medians is None:
        continue
    rows.append((f"500 stacks: {what}", ms(medians[0]), f"{ms(medians[1])} (`git ls-tree -r HEAD`)", f"{medians[0] / medians[1]:.1f}×",
                 f"≤ {goal_ms} ms", "met" if medians[0] * 1000 <= goal_ms else "**missed**"))

connections = os.path.join(out, "hosts-connections.txt")
if os.path.exists(connections):
    rows.append(("ssh connections for a 2-step run on 20 hosts", open(connections).read().split()[0], "—", "—", "one per host", ""))

rss_path = os.path.join(out, "flood-rss-kb.txt")
if os.path.exists(rss_path):
    mb = int(open(rss_path).read().split()[0]) / 1024
    rows.append(("peak RSS while a step prints 200 MB", f"{mb:.0f} MB", "—", "—", "≤ 50 MB", "met" if mb <= 50 else "**missed**"))
parallel = hyperfine("parallel-8x1s", commands=1)
if parallel:
    rows.append(("8 steps of `sleep 1` with `needs: []`", ms(parallel[0]), "1 s (one step)", f"{parallel[0]:.2f}×", "≤ 1.25×",
                 "met" if parallel[0] <= 1.25 else "**missed**"))

# status and runs against a store holding 10,000 runs x 50 steps, beside one holding 1 run (how
# they grow); each file holds the PostgreSQL store first, the SQLite store second.
for command in ("status", "runs"):
    large, small = hyperfine(f"{command}-10000-runs"), hyperfine(f"{command}-1-run")
    if large is None or small is None:
        continue
    worst = max(large) * 1000
    rows.append((f"`{command}`, 10,000 runs × 50 steps (PostgreSQL / SQLite)", f"{ms(large[0])} / {ms(large[1])}",
                 f"1 run: {ms(small[0])} / {ms(small[1])}", f"{large[0] / small[0]:.2f}× / {large[1] / small[1]:.2f}× of 1 run",
                 "≤ 50 ms each", "met" if worst <= 50 else "**missed**"))

print("| benchmark | deployctl | baseline | ratio | goal | |")
print("|---|---|---|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")
if hyperfine("up-100-vs-ansible") is None or hyperfine("hosts-20-vs-ansible") is None:
    print("\n(Ansible rows left out, all or some: Ansible is not installed, or it failed (bench output says which); "
          "`pip install ansible-core`, on PATH or into .build/venv, adds them.)")

#!/usr/bin/env python3
"""Build a stacks repository with N commits through `git fast-import` (seconds, not minutes).

Usage: make-history-repo.py DIR STACKS_DIR [COMMITS]

Every 50th commit edits stacks/demo/local.yaml; the rest touch files elsewhere, so a stack's
history is a small, scattered fraction of the whole, as in a real application repository.
"""
import os
import subprocess
import sys

target, stacks, count = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
subprocess.run(["git", "init", "-q", "-b", "main", target], check=True, env=env)

def blob(text):
    data = text.encode()
    return f"data {len(data)}\n".encode() + data + b"\n"

files = {}
for root, _, names in os.walk(stacks):
    for name in names:
        full = os.path.join(root, name)
        files["stacks/" + os.path.relpath(full, stacks)] = open(full, encoding="utf-8").read()

stream = bytearray()
clock = 1_700_000_000
for i in range(count):
    clock += 60
    message = f"commit {i}"
    stream += f"commit refs/heads/main\ncommitter Bench <bench@example.test> {clock} +0000\n".encode()
    stream += blob(message)
    if i == 0:
        for path, text in sorted(files.items()):
            stream += f"M 100644 inline {path}\n".encode() + blob(text)
    elif i % 50 == 0:
        stream += b"M 100644 inline stacks/demo/local.yaml\n" + blob(files["stacks/demo/local.yaml"] + f"# revision {i}\n")
    else:
        stream += f"M 100644 inline src/mod{i % 40}/file{i % 7}.txt\n".encode() + blob(f"change {i}\n")
subprocess.run(["git", "-C", target, "fast-import", "--quiet"], input=bytes(stream), check=True, env=env)
subprocess.run(["git", "-C", target, "reset", "-q", "--hard", "main"], check=True, env=env)

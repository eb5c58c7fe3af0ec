#!/usr/bin/env python3
"""Makes the case where a killed deployctl's step is a zombie nobody reaps, then resumes.

Usage: zombie-resume.py JOURNAL DEPLOYCTL ARGS...   (runs `DEPLOYCTL ARGS...`, e.g. `up prod`)

This process becomes a child subreaper, so the step deployctl leaves behind is re-parented
here, and it never reaps it: that is an init that never reaps (some containers). Prints one
JSON line: the step's pid, its state when `resume` ran, and resume's exit code and output.
"""
import ctypes, json, os, signal, sqlite3, subprocess, sys, time

PR_SET_CHILD_SUBREAPER = 36
journal, deployctl, args = sys.argv[1], sys.argv[2], sys.argv[3:]
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

up = subprocess.Popen([deployctl] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
step = None
for _ in range(500):
    try:
        row = sqlite3.connect(journal).execute("SELECT pid, run_id FROM steps WHERE status = 'started' AND pid IS NOT NULL").fetchone()
    except sqlite3.Error:
        row = None
    if row:
        step, run = row
        break
    time.sleep(0.02)
if step is None:
    sys.exit("the step never started")
os.kill(up.pid, signal.SIGKILL)
up.wait()
os.killpg(step, signal.SIGKILL)  # the step dies and, re-parented here, is never reaped
for _ in range(100):
    state = open(f"/proc/{step}/stat").read().rsplit(")", 1)[1].split()[0]
    if state == "Z":
        break
    time.sleep(0.02)
resume = subprocess.run([deployctl, "resume", run, "--rerun-interrupted"], stdin=subprocess.DEVNULL, capture_output=True, text=True)
print(json.dumps({"step": step, "state": state, "run": run, "status": resume.returncode, "stdout": resume.stdout, "stderr": resume.stderr}))
os.waitpid(-1, 0)

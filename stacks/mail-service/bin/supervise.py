#!/usr/bin/env python3
"""Bounded restart of the Mail Service process (seed 003, "Shutdown" and "Steady-State Verification").

  supervise.py restart   SIGTERM the running process, wait for it and its shutdown logs (bounded
                         by MAIL_SHUTDOWN_TIMEOUT), start the binary again with the same Redis and
                         template configuration, and wait for its startup logs and its listener
  supervise.py canary    before a restart: start the binary a second time beside the running one,
                         on a free loopback port and in the Redis database MAIL_CANARY_REDIS_DB
                         (nothing else may use it: the canary's consumer group lands there), wait
                         for its startup logs and listener (its Redis PINGs and full template
                         catalog parse), then SIGTERM it. The running process is not touched.
  supervise.py status    the process is alive and logged every startup line since it started
  supervise.py stop      SIGTERM and bounded wait only
  supervise.py setting NAME VALUE [NAME VALUE ...]
                         the running process was started with NAME=VALUE in its environment
                         (what it runs with, whoever started it)
  supervise.py starved SECONDS MAX_FRACTION
                         the running process is not CPU-starved: over SECONDS, the share of its
                         threads' runnable time spent waiting for a CPU (/proc/PID/task/*/schedstat)
                         is at most MAX_FRACTION, and no thread is in uninterruptible sleep (D,
                         blocked on I/O); a process runnable for under a tenth of the window is
                         idle, not starved, unless a thread was runnable in 9 of 10 samples with
                         almost no CPU (its wait is counted only once it runs). The load per CPU
                         is printed beside it.
  supervise.py shutdown  the last stop's shutdown lines (kept next to the pid file): every one of
                         MAIL_SHUTDOWN_LOGS logged, not as a failure, and in its order; exit 0
                         when the last restart here stopped no process

Configuration, from the environment (the descriptor sets it; $VARS in the three paths expand):
  MAIL_SERVICE_BIN        the executable to start (its argv is just that path)
  MAIL_SERVICE_PIDFILE    pid file of the running process
  MAIL_SERVICE_LOG        file the process's stdout and stderr are appended to
  MAIL_SHUTDOWN_TIMEOUT   the service's own shutdown bound (Go-style duration, e.g. 30s)
  MAIL_STARTUP_TIMEOUT    how long startup may take (default 30s)
  MAIL_INTERNAL_HTTP_ADDR HOST:PORT the internal HTTP listener must accept connections on
  MAIL_STARTUP_LOGS       '|'-separated substrings (case-insensitive), one per startup log line:
                          default "internal http listener|command consumer|scheduler|worker pool"
  MAIL_SHUTDOWN_LOGS      the same for the shutdown lines, in groups separated by '>': every line
                          of a group must come after every line of the groups before it. Default
                          (seed 003, Shutdown): "internal http listener stopped|worker pool stopped
                          > redis clients closed|opentelemetry providers flushed" (the listener
                          and the workers stop before the process's resources are closed)
  MAIL_SERVICE_ENV_PASS   comma list of further variable names handed to the process
The started process gets only MAIL_*, OTEL_*, PATH/HOME/LANG/TZ and MAIL_SERVICE_ENV_PASS's names,
in its own session (a deploy step ending, or being killed, never takes it down).

Exit 0 done, 1 the process did not stop or did not come up (the log tail says why), 2 usage.
A process that does not stop in time is left alone: never two instances on the same streams.
"""
import os
import re
import signal
import socket
import sys
import time

import process_env

KEEP = ("PATH", "HOME", "LANG", "TZ")


def duration(text, default):
    if not text:
        return default
    total, matched = 0.0, False
    for value, unit in re.findall(r"([0-9.]+)(ms|s|m|h)", text):
        matched = True
        total += float(value) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    if not matched:
        return float(text)
    return total


def config():
    env = os.environ
    try:
        return {
            # $VARS in the paths are the host's (a release directory: $DEPLOYCTL_RELEASE_DIR).
            "bin": os.path.expandvars(env["MAIL_SERVICE_BIN"]),
            "pidfile": os.path.expandvars(env["MAIL_SERVICE_PIDFILE"]),
            "log": os.path.expandvars(env["MAIL_SERVICE_LOG"]),
            "shutdown": duration(env.get("MAIL_SHUTDOWN_TIMEOUT"), 30.0),
            "startup": duration(env.get("MAIL_STARTUP_TIMEOUT"), 30.0),
            "addr": env["MAIL_INTERNAL_HTTP_ADDR"],
            "startup_logs": [p for p in env.get("MAIL_STARTUP_LOGS", "internal http listener|command consumer|scheduler|worker pool").split("|") if p],
            "shutdown_groups": [[p.strip() for p in group.split("|") if p.strip()] for group in env.get(
                "MAIL_SHUTDOWN_LOGS", "internal http listener stopped|worker pool stopped > redis clients closed|opentelemetry providers flushed").split(">")],
        }
    except KeyError as error:
        print(f"{error.args[0]} is not set", file=sys.stderr)
        raise SystemExit(2)


def running_pid(c):
    try:
        pid = int(open(c["pidfile"]).read().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    # A pid file can outlive its process and the pid be reused: the executable must match.
    try:
        if os.path.basename(c["bin"]) not in open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace"):
            return None
    except OSError:
        pass
    return pid


def log_size(c):
    try:
        return os.path.getsize(c["log"])
    except OSError:
        return 0


def log_since(c, offset):
    try:
        with open(c["log"], "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def good_lines(text):
    # A line reporting a failure ("scheduler failed to start") is not the component starting.
    return [line.lower() for line in text.splitlines()
            if not re.search(r"level=(error|fatal|warn)|\bfail(ed|ure|s)?\b|\berror:", line, re.IGNORECASE)]


def missing(patterns, text):
    good = good_lines(text)
    return [p for p in patterns if not any(p.lower() in line for line in good)]


def shutdown_record(c):
    return c["pidfile"] + ".shutdown"


def shutdown(c):
    """Checks the last stop's shutdown lines against MAIL_SHUTDOWN_LOGS: present and in order."""
    try:
        with open(shutdown_record(c)) as f:
            text = f.read()
    except FileNotFoundError:
        print("no process was stopped by the last restart here: no shutdown to check")
        return 0
    good = good_lines(text)
    at = {}
    problems = []
    for group in c["shutdown_groups"]:
        for pattern in group:
            index = next((i for i, line in enumerate(good) if pattern.lower() in line), None)
            if index is None:
                problems.append(f"no shutdown line mentioning {pattern!r}")
            at[pattern] = index
    for earlier, later in zip(c["shutdown_groups"], c["shutdown_groups"][1:]):
        for before in earlier:
            for after in later:
                if at[before] is not None and at[after] is not None and at[after] < at[before]:
                    problems.append(f"{after!r} was logged before {before!r}")
    for line in text.splitlines()[-10:]:
        print("  " + line)
    for problem in problems:
        print(problem)
    if not problems:
        print("shutdown in order: " + " > ".join(", ".join(group) for group in c["shutdown_groups"]))
    return 1 if problems else 0


def tail(c, offset, lines=20):
    return "\n".join(log_since(c, offset).splitlines()[-lines:])


def stop(c):
    # The record describes this stop or none: an older restart's is never judged again.
    try:
        os.remove(shutdown_record(c))
    except FileNotFoundError:
        pass
    pid = running_pid(c)
    if pid is None:
        print("mail service is not running")
        return 0
    offset = log_size(c)
    bound = c["shutdown"] + 5
    started = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    print(f"sent SIGTERM to pid {pid}; waiting up to {bound:g}s (MAIL_SHUTDOWN_TIMEOUT + 5s)")
    while time.monotonic() - started < bound:
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.1)
    else:
        print(f"pid {pid} is still running after {bound:g}s; left alone (no second instance is started)", file=sys.stderr)
        print(tail(c, offset), file=sys.stderr)
        return 1
    shutdown_text = log_since(c, offset)
    with open(shutdown_record(c), "w") as f:
        f.write(shutdown_text)
    absent = missing([p for group in c["shutdown_groups"] for p in group], shutdown_text)
    print(f"pid {pid} exited after {time.monotonic() - started:.1f}s")
    if absent:
        print("warning: no shutdown log line mentioning " + ", ".join(repr(p) for p in absent))
    for line in shutdown_text.splitlines()[-10:]:
        print("  " + line)
    try:
        os.remove(c["pidfile"])
    except FileNotFoundError:
        pass
    return 0


def canary(c):
    database = os.environ.get("MAIL_CANARY_REDIS_DB", "")
    if not database.isdigit() or database == os.environ.get("MAIL_REDIS_DB", "0"):
        print("MAIL_CANARY_REDIS_DB must name a Redis database other than MAIL_REDIS_DB", file=sys.stderr)
        return 2
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    trial = dict(c, pidfile=c["pidfile"] + ".canary", log=c["log"] + ".canary", addr=f"127.0.0.1:{port}", shutdown=min(c["shutdown"], 10.0))
    print(f"canary: {c['bin']} with the template catalog {os.environ.get('MAIL_TEMPLATE_DIR', '?')}, "
          f"Redis database {database}, listener 127.0.0.1:{port}; the running process is left as it is")
    code = start(trial, {"MAIL_INTERNAL_HTTP_ADDR": trial["addr"], "MAIL_REDIS_DB": database})
    stopped = stop(trial) if running_pid(trial) is not None else 0
    if code != 0:
        print("the new binary or template catalog did not start: nothing was restarted", file=sys.stderr)
        return 1
    print("the new binary and template catalog start" + ("" if stopped == 0 else "; the canary did not stop in time"))
    return stopped


def start(c, overrides=None):
    os.makedirs(os.path.dirname(os.path.abspath(c["pidfile"])), exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(c["log"])), exist_ok=True)
    offset = log_size(c)
    extra = set(filter(None, os.environ.get("MAIL_SERVICE_ENV_PASS", "").split(",")))
    env = {k: v for k, v in os.environ.items() if k.startswith(("MAIL_", "OTEL_")) or k in KEEP or k in extra}
    env.update(overrides or {})
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        log = os.open(c["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.write(write_end, str(os.getpid()).encode())
        os.close(write_end)
        try:
            os.execve(c["bin"], [c["bin"]], env)
        except OSError as error:
            os.write(2, f"supervise: cannot execute {c['bin']}: {error}\n".encode())
            os._exit(127)
    os.close(write_end)
    os.waitpid(child, 0)
    pid = int(os.read(read_end, 32) or b"0")
    os.close(read_end)
    with open(c["pidfile"], "w") as f:
        f.write(f"{pid}\n")
    with open(c["pidfile"] + ".log-offset", "w") as f:
        f.write(f"{offset}\n")
    print(f"started {c['bin']} as pid {pid}; waiting up to {c['startup']:g}s for its startup logs and {c['addr']}")
    return ready(c, pid, offset, c["startup"])


def listening(addr):
    host, _, port = addr.rpartition(":")
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=1).close()
        return True
    except (OSError, ValueError):
        return False


def ready(c, pid, offset, bound):
    started = time.monotonic()
    while True:
        alive = True
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as f:
                alive = f.read().split()[2] != "Z"
        except OSError:
            alive = False
        if not alive:
            print(f"pid {pid} exited during startup (startup fails fast on a Redis PING or the template catalog):", file=sys.stderr)
            print(tail(c, offset), file=sys.stderr)
            return 1
        absent = missing(c["startup_logs"], log_since(c, offset))
        accepting = listening(c["addr"])
        if not absent and accepting:
            print(f"pid {pid} up in {time.monotonic() - started:.1f}s: startup logs for " +
                  ", ".join(c["startup_logs"]) + f"; {c['addr']} accepts connections")
            return 0
        if time.monotonic() - started > bound:
            why = []
            if absent:
                why.append("no startup log line mentioning " + ", ".join(repr(p) for p in absent))
            if not accepting:
                why.append(f"{c['addr']} refuses connections")
            print(f"pid {pid} not ready after {bound:g}s: " + "; ".join(why), file=sys.stderr)
            print(tail(c, offset), file=sys.stderr)
            return 1
        time.sleep(0.2)


def status(c):
    pid = running_pid(c)
    if pid is None:
        print("mail service is not running", file=sys.stderr)
        return 1
    try:
        offset = int(open(c["pidfile"] + ".log-offset").read())
    except (OSError, ValueError):
        offset = 0
    uptime = time.time() - os.stat(f"/proc/{pid}").st_mtime
    print(f"pid {pid} running for {uptime:.0f}s")
    return ready(c, pid, offset, 0)


def schedstats(pid):
    """Per thread: (ns on a CPU, ns runnable but waiting for one), and the threads' states."""
    times, states = {}, []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                run, wait = (int(x) for x in f.read().split()[:2])
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                states.append(f.read().rsplit(")", 1)[1].split()[0])
        except (OSError, ValueError):
            continue
        times[task] = (run, wait)
    return times, states


def starved(c, seconds, max_fraction):
    pid = running_pid(c)
    if pid is None:
        print("mail service is not running", file=sys.stderr)
        return 1
    before, _ = schedstats(pid)
    # A thread's wait is counted when it next gets a CPU: one that never gets one in the window
    # shows neither run nor wait. So the threads' states are sampled too: runnable (R) nearly all
    # the time with almost no CPU is starved as well.
    samples, runnable_samples, end = 0, 0, time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.1)
        samples += 1
        runnable_samples += "R" in schedstats(pid)[1]
    after, states = schedstats(pid)
    run = sum(after[t][0] - before[t][0] for t in after if t in before)
    wait = sum(after[t][1] - before[t][1] for t in after if t in before)
    runnable = samples > 0 and runnable_samples >= 0.9 * samples
    load = open("/proc/loadavg").read().split()[0]
    print(f"pid {pid}, {len(after)} threads over {seconds:g} s: on a CPU {run / 1e6:.0f} ms, waiting for one {wait / 1e6:.0f} ms; "
          f"load {load} on {os.cpu_count()} CPUs")
    blocked = states.count("D")
    if blocked:
        print(f"{blocked} thread(s) in uninterruptible sleep (D): blocked on I/O")
    if run + wait < 0.1 * seconds * 1e9:
        if runnable and run < 0.1 * seconds * 1e9:
            print(f"runnable in {runnable_samples} of {samples} samples but on a CPU under a tenth of the window: CPU-starved")
            return 1
        print("idle: runnable for under a tenth of the window, so not starved")
        return 1 if blocked else 0
    share = wait / (run + wait)
    print(f"waiting {share:.0%} of its runnable time (bound {max_fraction:.0%})" + (": CPU-starved" if share > max_fraction else ""))
    return 1 if share > max_fraction or blocked else 0


def setting(c, pairs):
    """Each NAME as the running process has it against the intended VALUE; 1 when any differs."""
    pid = running_pid(c)
    if pid is None:
        print("mail service is not running", file=sys.stderr)
        return 1
    environment = process_env.of_pid(pid)
    differ = 0
    for name, wanted in pairs:
        running = environment.get(name)
        print(f"pid {pid}: {name}=" + (running if running is not None else "(not set)") + f" (intended {wanted})")
        differ += running != wanted
    return 1 if differ else 0


def main(argv):
    if argv[:1] == ["starved"] and len(argv) == 3:
        return starved(config(), float(argv[1]), float(argv[2]))
    if argv[:1] == ["setting"] and len(argv) >= 3 and len(argv) % 2 == 1:
        return setting(config(), list(zip(argv[1::2], argv[2::2])))
    if len(argv) != 1 or argv[0] not in ("restart", "status", "stop", "canary", "shutdown"):
        print(__doc__, file=sys.stderr)
        return 2
    c = config()
    if argv[0] == "canary":
        return canary(c)
    if argv[0] == "status":
        return status(c)
    if argv[0] == "shutdown":
        return shutdown(c)
    if argv[0] == "stop":
        return stop(c)
    if stop(c) != 0:
        return 1
    return start(c)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

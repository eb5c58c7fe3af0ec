#!/usr/bin/env python3
"""The attempt schedule, the scheduler and the delivery streams, measured against bounds (seed 003,
"Attempt Schedule Backlog Grows" and the steady-state signals), for postdeploy and the runbooks.

  schedule.py depth MAX              ZCARD of the schedule <= MAX (mail.attempt_schedule.depth)
  schedule.py oldest MAX_AGE         the earliest entry's due time (its score, epoch ms) is at most
                                     MAX_AGE in the past (mail.attempt_schedule.oldest_age_ms),
                                     e.g. 30m: an entry overdue longer is not being worked
  schedule.py scheduler LOG SECONDS  the scheduler logged activity (a line mentioning it, not a
                                     failure) with a time= within the last SECONDS
  schedule.py recent STREAM SINCE MAX
                                     at most MAX entries were added to the Redis stream STREAM
                                     since SINCE: a duration (1h: that long ago) or a run id (its
                                     start). Stream ids are their entries' times in epoch ms, so
                                     XRANGE from that time counts them (mail.delivery.dead_letters,
                                     mail.stream_commands.malformed)
  schedule.py workers LOG SECONDS    the attempt worker pool logged activity (a line mentioning it,
                                     not a failure) with a time= within the last SECONDS, and no
                                     attempt timed out (timed_out, i/o timeout, deadline exceeded)
                                     in the last 10 minutes: running, and not blocked on SMTP
  schedule.py latency MAX_MS         20 timed round trips of the schedule's own reads (ZCARD and
                                     ZRANGE 0 0 on SCHEDULE_KEY, over one connection): the p95
                                     is at most MAX_MS (connectivity and latency for the
                                     attempt-schedule keys; redis-cli's own start-up is not timed)
  schedule.py reasons STREAM WINDOW FIELD EXPECTED
                                     every entry of STREAM within WINDOW has FIELD=EXPECTED (a
                                     dead letter only after the retry ladder is exhausted)

Redis from the environment (the descriptor's defaults set it): SCHEDULE_REDIS_HOST, _PORT, _DB,
_USER, SCHEDULE_KEY (the sorted set), REDISCLI_AUTH (the password). Exit 0 within bounds,
1 not (the finding is printed), 2 usage or Redis unreachable.
"""
import datetime
import json
import os
import re
import socket
import subprocess
import sys
import time


def redis(*args):
    env = os.environ
    command = ["redis-cli", "-h", env["SCHEDULE_REDIS_HOST"], "-p", env["SCHEDULE_REDIS_PORT"], "-n", env.get("SCHEDULE_REDIS_DB", "0"),
               "--no-auth-warning"]
    if env.get("SCHEDULE_REDIS_USER"):
        command += ["--user", env["SCHEDULE_REDIS_USER"]]
    result = subprocess.run(command + list(args), capture_output=True, text=True, timeout=10)
    if result.returncode != 0 or result.stdout.startswith(("ERR", "NOAUTH", "WRONGPASS", "Could not connect")):
        sys.stderr.write(result.stderr or result.stdout)
        raise SystemExit(2)
    return result.stdout.strip()


def seconds(text):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"([0-9.]+)(ms|s|m|h)", text)
    if not parts:
        raise SystemExit(f"not a duration: {text} (e.g. 30m)")
    return sum(float(value) * units[unit] for value, unit in parts)


def depth(bound):
    count = int(redis("ZCARD", os.environ["SCHEDULE_KEY"]) or 0)
    print(f"scheduled attempts: {count} (bound {bound})")
    return 0 if count <= int(bound) else 1


def oldest(max_age):
    lines = redis("ZRANGE", os.environ["SCHEDULE_KEY"], "0", "0", "WITHSCORES").splitlines()
    if len(lines) < 2:
        print("no scheduled attempts")
        return 0
    overdue = time.time() - float(lines[1]) / 1000
    print(f"oldest scheduled attempt: {lines[0]}, due {overdue:.0f} s ago (bound {seconds(max_age):.0f} s)")
    return 0 if overdue <= seconds(max_age) else 1


FAILING = re.compile(r"level=(error|fatal|warn)|\bfail(ed|ure|s)?\b|\berror:", re.IGNORECASE)
TIMED_OUT = re.compile(r"timed_out|i/o timeout|deadline exceeded", re.IGNORECASE)


def log_tail(log):
    """The last 5000 lines of LOG, newest first, each with its time= in epoch seconds (or None)."""
    lines = open(log, errors="replace").readlines()[-5000:]
    stamped = []
    for line in reversed(lines):
        stamp = re.search(r"time=(\S+)", line)
        try:
            at = datetime.datetime.fromisoformat(stamp.group(1).replace("Z", "+00:00")).timestamp() if stamp else None
        except ValueError:
            at = None
        stamped.append((at, line.strip()))
    return stamped


def last_activity(tail, component, within):
    """0 when COMPONENT logged a non-failure line within WITHIN seconds (said either way)."""
    for at, line in tail:
        if component in line.lower() and not FAILING.search(line) and at is not None:
            age = time.time() - at
            print(f"last {component} activity {age:.0f} s ago (bound {within} s): {line}")
            return 0 if age <= float(within) else 1
    print(f"no {component} activity in the last {len(tail)} lines")
    return 1


def scheduler(log, within):
    try:
        return last_activity(log_tail(log), "scheduler", within)
    except OSError as error:
        print(f"cannot read {log}: {error}")
        return 1


def workers(log, within):
    try:
        tail = log_tail(log)
    except OSError as error:
        print(f"cannot read {log}: {error}")
        return 1
    running = last_activity(tail, "attempt worker pool", within)
    recent = [line for at, line in tail if at is not None and time.time() - at <= 600 and TIMED_OUT.search(line)]
    print(f"attempts timed out in the last 10 minutes: {len(recent)}" + (f", the newest: {recent[0]}" if recent else ""))
    return 1 if running or recent else 0


def since_ms(text):
    run = re.match(r"(\d{8}-\d{6})", text)
    if run:  # a run id: YYYYMMDD-HHMMSS-xxxx, its start in UTC
        start = datetime.datetime.strptime(run.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=datetime.timezone.utc)
        return int(start.timestamp() * 1000), f"run {text} started"
    return int((time.time() - seconds(text)) * 1000), f"the last {text}"


def recent(stream, since, bound):
    start, what = since_ms(since)
    # One more than the bound is enough to decide: a flooded stream is not read whole.
    entries = json.loads(redis("--json", "XRANGE", stream, str(start), "+", "COUNT", str(int(bound) + 1)) or "[]")
    count = f"more than {bound}" if len(entries) > int(bound) else str(len(entries))
    print(f"{stream}: {count} entries since {what} (bound {bound})")
    for entry_id, fields in entries[:3]:
        print(f"  {entry_id} " + " ".join(f"{k}={v}" for k, v in zip(fields[::2], fields[1::2])))
    return 0 if len(entries) <= int(bound) else 1


class RESP:
    """Just enough of the Redis protocol to time commands without a process per command."""

    def __init__(self):
        env = os.environ
        self.sock = socket.create_connection((env["SCHEDULE_REDIS_HOST"], int(env["SCHEDULE_REDIS_PORT"])), timeout=10)
        self.buffer = b""
        if env.get("REDISCLI_AUTH"):
            self.call(*(["AUTH"] + ([env["SCHEDULE_REDIS_USER"]] if env.get("SCHEDULE_REDIS_USER") else []) + [env["REDISCLI_AUTH"]]))
        self.call("SELECT", env.get("SCHEDULE_REDIS_DB", "0"))

    def fill(self, enough):
        """Reads until `enough(buffer)` holds."""
        while not enough(self.buffer):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("Redis closed the connection")
            self.buffer += chunk

    def line(self):
        self.fill(lambda buffer: b"\r\n" in buffer)
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise OSError(rest.decode(errors="replace"))
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            self.fill(lambda buffer: len(buffer) >= size + 2)
            value, self.buffer = self.buffer[:size], self.buffer[size + 2:]
            return value
        if kind == b"*":
            return [self.reply() for _ in range(max(int(rest), 0))]
        return rest

    def call(self, *args):
        words = [str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words))
        return self.reply()


def latency(bound_ms):
    key = os.environ["SCHEDULE_KEY"]
    try:
        redis_connection = RESP()
        samples = []
        for _ in range(20):
            started = time.perf_counter()
            redis_connection.call("ZCARD", key)
            redis_connection.call("ZRANGE", key, "0", "0", "WITHSCORES")
            samples.append((time.perf_counter() - started) * 1000)
    except OSError as error:
        print(f"Redis at {os.environ['SCHEDULE_REDIS_HOST']}:{os.environ['SCHEDULE_REDIS_PORT']}: {error}")
        return 2
    samples.sort()
    p95 = samples[18]  # the 19th of 20
    print(f"{key}: ZCARD + ZRANGE round trip p50 {samples[9]:.1f} ms, p95 {p95:.1f} ms, max {samples[-1]:.1f} ms (bound p95 {bound_ms} ms)")
    return 0 if p95 <= float(bound_ms) else 1


def reasons(stream, window, field, expected):
    start, what = since_ms(window)
    entries = json.loads(redis("--json", "XRANGE", stream, str(start), "+", "COUNT", "1000") or "[]")
    early = [(entry_id, dict(zip(fields[::2], fields[1::2]))) for entry_id, fields in entries]
    early = [(entry_id, fields) for entry_id, fields in early if fields.get(field) != expected]
    print(f"{stream}: {len(entries)} entries since {what}, {len(early)} without {field}={expected}")
    for entry_id, fields in early[:5]:
        print(f"  {entry_id} " + " ".join(f"{k}={v}" for k, v in fields.items()))
    return 0 if not early else 1


def main(argv):
    commands = {"depth": (depth, 1), "oldest": (oldest, 1), "scheduler": (scheduler, 2), "workers": (workers, 2), "recent": (recent, 3), "latency": (latency, 1),
                "reasons": (reasons, 4)}
    if not argv or argv[0] not in commands or len(argv) != commands[argv[0]][1] + 1:
        sys.stderr.write(__doc__)
        return 2
    function, _ = commands[argv[0]]
    return function(*argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

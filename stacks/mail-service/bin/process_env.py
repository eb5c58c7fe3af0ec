"""What the running Mail Service process has (shared by smtp-sender.py, prom-query.py and supervise.py)."""
import re


def of_pid(pid):
    """The environment process PID was started with."""
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(entry.decode(errors="replace").split("=", 1) for entry in f.read().split(b"\0") if b"=" in entry)


def environment(pid_file):
    """The environment the process named by PID_FILE was started with."""
    with open(pid_file) as f:
        return of_pid(f.read().split()[0])


def smtp_timeout(pid_file):
    """MAIL_SMTP_TIMEOUT of the running process, in seconds, and as written (Go durations: 15s, 1m30s, 500ms)."""
    value = environment(pid_file).get("MAIL_SMTP_TIMEOUT", "")
    parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)", value)
    if not value or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"the process has no MAIL_SMTP_TIMEOUT like 15s: {value!r}")
    return sum(float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit] for number, unit in parts), value

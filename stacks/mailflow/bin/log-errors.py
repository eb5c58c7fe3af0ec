#!/usr/bin/env python3
"""Seed 001 success criterion "No errors in CloudWatch logs": the Lambdas' log groups hold no
error event since the run started (the run id is its UTC start: YYYYMMDD-HHMMSS-xxxx): ERROR or
Error lines, Lambda's "Task timed out", a Rust panic. With --term (repeatable) the events asked
for are those terms instead: Security Validation "Verify PII redaction in logs" asks for the test
email's own addresses, which a redacting worker never logs.

  log-errors.py --since-run RUN_ID [--term TERM]... LOG_GROUP...

Prints the first few errors found. Uses the real aws CLI: logs filter-log-events, one call per
log group with the terms as CloudWatch's ?-alternatives, each event it returns checked here for
one of them (moto reads such a pattern as "every event"; CloudWatch Logs allows few of these
calls a second, so not one per term). Region, credentials and endpoint come from the
environment. Exit 0 none, 1 some (or the aws CLI failed), 2 usage.
"""
import datetime
import json
import re
import subprocess
import sys


# CloudWatch Logs filter terms (case-sensitive; a quoted phrase matches as a whole).
TERMS = ["ERROR", "Error", '"Task timed out"', "panicked"]


def main(argv):
    if len(argv) < 3 or argv[0] != "--since-run":
        sys.stderr.write(__doc__)
        return 2
    terms, rest = [], argv[2:]
    while len(rest) >= 2 and rest[0] == "--term":
        terms.append(rest[1])
        rest = rest[2:]
    if not rest:
        sys.stderr.write(__doc__)
        return 2
    argv = argv[:2] + rest
    # Only what CloudWatch and the check below read alike: a bare word, or a "quoted phrase".
    for term in terms:
        if not re.fullmatch(r'[^\s"\\%?-][^\s"\\%]*|"[^"\\]+"', term):
            sys.stderr.write(f"--term {term}: a word or a \"quoted phrase\" (no regular expression, escape or exclusion)\n")
            return 2
    what = "event(s) holding " + " or ".join(terms) if terms else "error event(s)"
    terms = terms or TERMS
    try:
        started = datetime.datetime.strptime(argv[1][:15], "%Y%m%d-%H%M%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        sys.stderr.write(f"{argv[1]} is not a run id (YYYYMMDD-HHMMSS-xxxx)\n")
        return 2
    since = int(started.timestamp() * 1000)
    pattern = terms[0] if len(terms) == 1 else " ".join("?" + term for term in terms)
    # The text each term matches (case-sensitive): a quoted phrase without its quotes.
    texts = [term[1:-1] if len(term) >= 2 and term[0] == term[-1] == '"' else term for term in terms]
    found = 0
    for group in argv[2:]:
        result = subprocess.run(["aws", "logs", "filter-log-events", "--log-group-name", group, "--start-time", str(since),
                                 "--filter-pattern", pattern, "--output", "json"], capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr or result.stdout)
            return 1
        events = sorted((event for event in json.loads(result.stdout).get("events", [])
                         if any(text in event.get("message", "") for text in texts)),
                        key=lambda e: e.get("timestamp", 0))
        found += len(events)
        print(f"{group}: {len(events)} {what} since {started:%Y-%m-%d %H:%M:%S} UTC")
        for event in events[:5]:
            print("  " + event.get("message", "").strip()[:300])
    return 0 if found == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

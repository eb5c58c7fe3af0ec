#!/usr/bin/env python3
"""Seed 001 step 7 and its success criterion: a test email flows through the system in under 10
seconds. Sends one email with a subject no other run uses, then long-polls the app's queue until a
message carrying exactly that subject arrives, and times it from the send. With --count N, N emails
("SUBJECT (i/N)"), each timed from its own send; with --p95 SECONDS (Performance Validation: "Email
processing p95 < 5 seconds"), the nearest-rank p95 of those times must be within it too. An
email's time is from SES accepting it to the moment SQS took the worker's message (its
SentTimestamp), so the polling here (and the aws CLI's own start-up) is not counted.

  e2e-mail.py --from ADDR --to ADDR --queue-name NAME --subject TEXT [--within SECONDS]
              [--count N] [--p95 SECONDS]

A message left from an earlier test (or another run) never passes: only this run's subject does.
The matching message is deleted, others are left for their owner (visibility timeout 0). Uses the
real aws CLI; region, credentials and endpoint come from the environment. Exit 0 arrived in time,
1 it did not (or the aws CLI failed), 2 usage.
"""
import argparse
import json
import math
import subprocess
import sys
import time


def aws(*args):
    result = subprocess.run(["aws", *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr or result.stdout)
        raise SystemExit(1)
    return result.stdout


def main():
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("--from", dest="sender", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--queue-name", required=True)
    parser.add_argument("--subject", required=True)
    parser.add_argument("--within", type=float, default=10.0)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--p95", type=float)
    args = parser.parse_args()
    if not 1 <= args.count <= 100:
        parser.error("--count is 1 to 100")

    queue = aws("sqs", "get-queue-url", "--queue-name", args.queue_name, "--query", "QueueUrl", "--output", "text").strip()
    subjects = [args.subject] if args.count == 1 else [f"{args.subject} ({i}/{args.count})" for i in range(1, args.count + 1)]
    sent = {}
    for subject in subjects:
        aws("ses", "send-email", "--from", args.sender, "--destination", f"ToAddresses={args.to}",
            "--message", json.dumps({"Subject": {"Data": subject}, "Body": {"Text": {"Data": "deployctl end-to-end test"}}}))
        sent[subject] = time.time()  # SES has accepted it: from here on it is the system's time
    print(f"sent {len(subjects)} email(s) '{args.subject}' to {args.to}; waiting up to {args.within:g} s for each in {args.queue_name}")
    arrived, others = {}, set()
    # Each email is judged by when SQS took it; the polling itself gets a grace period (the aws
    # CLI starts slowly on a busy host), so a message queued in time is not missed.
    deadline = max(sent.values()) + args.within + 15
    # A message of someone else's stays visible (timeout 0), so a long poll returns it at once
    # instead of waiting: after a poll that brought nothing of this run's, pause before the next
    # (1, 2, then 4 s; within the grace period above) rather than call SQS back to back.
    pause = 1
    while len(arrived) < len(subjects) and time.time() < deadline:
        wait = max(1, min(10, int(deadline - time.time())))
        answer = aws("sqs", "receive-message", "--queue-url", queue, "--max-number-of-messages", "10",
                     "--visibility-timeout", "0", "--wait-time-seconds", str(wait),
                     "--attribute-names", "SentTimestamp", "--output", "json")
        messages = (json.loads(answer) if answer.strip() else {}).get("Messages", [])
        done = []
        for message in messages:
            body = message.get("Body", "")
            mine = [s for s in subjects if json.dumps(s)[1:-1] in body and s not in arrived]
            if not mine:
                others.add(message.get("MessageId"))
                continue
            subject = max(mine, key=len)  # "X (1/5)" over a bare "X"
            enqueued = message.get("Attributes", {}).get("SentTimestamp")
            arrived[subject] = (int(enqueued) / 1000 if enqueued else time.time()) - sent[subject]
            done.append({"Id": str(len(done)), "ReceiptHandle": message["ReceiptHandle"]})
        if done:
            aws("sqs", "delete-message-batch", "--queue-url", queue, "--entries", json.dumps(done))
            pause = 1
        elif messages and len(arrived) < len(subjects):
            time.sleep(max(0, min(pause, deadline - time.time() - 1)))  # and poll once more
            pause = min(pause * 2, 4)
    late = [s for s in subjects if arrived.get(s, math.inf) > args.within]
    for subject in subjects:
        print(f"'{subject}': " + (f"queued after {arrived[subject]:.2f} s" if subject in arrived else "not queued") + f" (limit {args.within:g} s)")
    if late:
        print(f"{len(late)} of {len(subjects)} did not reach {args.queue_name} within {args.within:g} s"
              + (f" ({len(others)} other message(s) seen: not this run's)" if others else ""))
        return 1
    if args.p95 is not None:
        times = sorted(arrived.values())
        p95 = times[math.ceil(0.95 * len(times)) - 1]
        print(f"email processing p95 {p95:.2f} s over {len(times)} (limit {args.p95:g} s)")
        if p95 > args.p95:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Seed 001 step 7 and its success criterion: a test email flows through the system in under 10
seconds. Sends one email with a subject no other run uses, then long-polls the app's queue until a
message carrying exactly that subject arrives, and times it from the send.

  e2e-mail.py --from ADDR --to ADDR --queue-name NAME --subject TEXT [--within SECONDS]

A message left from an earlier test (or another run) never passes: only this run's subject does.
The matching message is deleted, others are left for their owner (visibility timeout 0). Uses the
real aws CLI; region, credentials and endpoint come from the environment. Exit 0 arrived in time,
1 it did not (or the aws CLI failed), 2 usage.
"""
import argparse
import json
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
    args = parser.parse_args()

    queue = aws("sqs", "get-queue-url", "--queue-name", args.queue_name, "--query", "QueueUrl", "--output", "text").strip()
    aws("ses", "send-email", "--from", args.sender, "--destination", f"ToAddresses={args.to}",
        "--message", json.dumps({"Subject": {"Data": args.subject}, "Body": {"Text": {"Data": "deployctl end-to-end test"}}}))
    sent = time.monotonic()
    print(f"sent '{args.subject}' to {args.to}; waiting up to {args.within:g} s for it in {args.queue_name}")
    others = set()
    while True:
        left = args.within - (time.monotonic() - sent)
        if left <= 0:
            break
        answer = aws("sqs", "receive-message", "--queue-url", queue, "--max-number-of-messages", "10",
                     "--visibility-timeout", "0", "--wait-time-seconds", str(max(1, min(20, int(left)))), "--output", "json")
        for message in (json.loads(answer) if answer.strip() else {}).get("Messages", []):
            if args.subject in message.get("Body", ""):
                elapsed = time.monotonic() - sent
                aws("sqs", "delete-message", "--queue-url", queue, "--receipt-handle", message["ReceiptHandle"])
                if elapsed > args.within:
                    break
                print(f"queued after {elapsed:.2f} s (limit {args.within:g} s)")
                return 0
            others.add(message.get("MessageId"))
    print(f"'{args.subject}' did not reach {args.queue_name} within {args.within:g} s"
          + (f" ({len(others)} other message(s) seen: not this run's)" if others else ""))
    return 1


if __name__ == "__main__":
    raise SystemExit(main())

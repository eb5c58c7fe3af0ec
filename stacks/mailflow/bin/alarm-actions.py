#!/usr/bin/env python3
"""Seed 001 Monitoring Setup "Set up SNS topics for alerts": every CloudWatch alarm whose name
starts with PREFIX has its actions enabled and at least one SNS action whose topic exists with a
confirmed subscription (an alarm that notifies an empty topic pages nobody). With --integration
REGEX ("Configure PagerDuty/Slack integration"), that subscription must be an https endpoint
matching REGEX (PagerDuty's Events API, AWS Chatbot's): an email or a queue nobody watches at
3 a.m. is not the integration. One such topic per alarm is enough.

  alarm-actions.py PREFIX [--integration REGEX]

Prints one line per alarm with a problem ("NAME: why"), then a summary. Uses the real aws CLI;
region, credentials and endpoint come from the environment. Exit 0 all notify, 1 a problem (or
the aws CLI failed), 2 usage.
"""
import json
import re
import subprocess
import sys


def aws(*args):
    result = subprocess.run(["aws", *args, "--output", "json"], capture_output=True, text=True)
    return result.returncode, (json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else result.stderr.strip())


def topic_problem(arn, integration):
    """Why the topic pages nobody, or None when it reaches someone (the integration, if asked)."""
    code, subscriptions = aws("sns", "list-subscriptions-by-topic", "--topic-arn", arn)
    if code != 0:
        return "its SNS topic does not exist or cannot be read"
    confirmed = [s for s in subscriptions.get("Subscriptions", []) if s.get("SubscriptionArn", "").startswith("arn:")]
    if not confirmed:
        return "its SNS topic has no confirmed subscription"
    if integration and not any(s.get("Protocol") == "https" and integration.search(s.get("Endpoint", "")) for s in confirmed):
        kinds = ", ".join(sorted({s.get("Protocol", "?") for s in confirmed}))
        return f"its SNS topic reaches no PagerDuty/Slack integration (only {kinds}; wanted https matching {integration.pattern})"
    return None


def main():
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--integration"):
        sys.stderr.write(__doc__)
        return 2
    integration = re.compile(sys.argv[3]) if len(sys.argv) == 4 else None
    code, alarms = aws("cloudwatch", "describe-alarms", "--alarm-name-prefix", sys.argv[1])
    if code != 0:
        sys.stderr.write(f"describe-alarms failed: {alarms}\n")
        return 1
    problems, topics = [], {}
    alarms = alarms.get("MetricAlarms", []) + alarms.get("CompositeAlarms", [])
    for alarm in alarms:
        name, actions = alarm["AlarmName"], alarm.get("AlarmActions", [])
        if not alarm.get("ActionsEnabled", True):
            problems.append(f"{name}: its actions are disabled")
        if not actions:
            problems.append(f"{name}: no alarm action")
            continue
        # Any partition (aws, aws-cn, aws-us-gov). An alarm is heard when one of its topics
        # reaches someone: a second topic that only emails does no harm.
        sns = [arn for arn in actions if arn.split(":")[2:3] == ["sns"]]
        for arn in sns:
            if arn not in topics:
                topics[arn] = topic_problem(arn, integration)
        if sns and all(topics[arn] for arn in sns):
            problems.extend(f"{name}: {topics[arn]} ({arn})" for arn in sns)
        elif not sns:
            problems.append(f"{name}: no SNS action (its actions: {', '.join(actions)}); nothing here shows who hears it")
    for line in problems:
        print(line)
    print(f"{len(alarms)} alarm(s) with prefix {sys.argv[1]}, {len(topics)} SNS topic(s): "
          + ("every alarm notifies a topic someone hears" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems or not alarms else 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Seed 001 success criterion "SES bounce rate < 5%": the account's Reputation.BounceRate
(CloudWatch, namespace AWS/SES, published by SES) over the last HOURS, its highest value.

  ses-reputation.py --max-bounce 0.05 [--hours 24]

No datapoint means SES sent nothing in the window: said, and passed (there is no rate to
exceed). Uses the real aws CLI; region, credentials and endpoint come from the environment.
Exit 0 under the bound, 1 over it (or the aws CLI failed), 2 usage.
"""
import argparse
import datetime
import json
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("--max-bounce", type=float, required=True)
    parser.add_argument("--hours", type=int, default=24)
    args = parser.parse_args()
    end = datetime.datetime.now(datetime.timezone.utc)
    start = end - datetime.timedelta(hours=args.hours)
    result = subprocess.run(["aws", "cloudwatch", "get-metric-statistics", "--namespace", "AWS/SES",
                             "--metric-name", "Reputation.BounceRate", "--statistics", "Maximum", "--period", "3600",
                             "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end-time", end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "--output", "json"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr or result.stdout)
        return 1
    points = [p["Maximum"] for p in json.loads(result.stdout).get("Datapoints", [])]
    if not points:
        print(f"no Reputation.BounceRate datapoint in the last {args.hours} h: SES sent nothing to bounce")
        return 0
    worst = max(points)
    print(f"SES bounce rate, highest in the last {args.hours} h: {worst:.2%} (bound {args.max_bounce:.0%}, {len(points)} hourly datapoints)")
    return 0 if worst < args.max_bounce else 1


if __name__ == "__main__":
    raise SystemExit(main())

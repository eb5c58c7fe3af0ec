#!/usr/bin/env python3
"""A moto server that also stands in for Mailflow's inbound path (SES receipt rule -> S3 ->
worker Lambda -> the app's SQS queue), which moto does not run. Every email moto's SES accepts
for _APP@DOMAIN while the receipt rule mailflow-inbound-ENV is enabled becomes a message in
mailflow-APP-ENV, as the worker would enqueue it. While the file PAUSE exists the pipeline is
"down": what arrives then is dropped, as a broken worker would lose it to its DLQ.

The account's limits come from the file LIMITS, read on each request, lines "NAME VALUE":
ses_daily (default 50000: out of the SES sandbox, where moto always answers the sandbox's 200),
ses_rate (default 20 a second; 1 in the sandbox), lambda_concurrency (default 1000, what
GetAccountSettings answers: moto does not implement it) and processing_delay (seconds each email
waits before it is routed, default 0: a slow worker).

  mailflow-router.py PORT REGION ENV DOMAIN PAUSE LIMITS

In one process with the server because moto keeps sent mail only in memory (its data.json dump
fails once Lambda functions exist).
"""
import json
import os
import sys
import time

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.awslambda import urls as lambda_urls
from moto.ses import models as ses_models
from moto.ses.models import ses_backends


def limits(path):
    values = {"ses_daily": 50000.0, "ses_rate": 20.0, "lambda_concurrency": 1000.0, "processing_delay": 0.0}
    try:
        for line in open(path):
            name, _, value = line.strip().partition(" ")
            if name in values:
                values[name] = float(value)
    except (OSError, ValueError):
        pass
    return values


def main(port, region, env, domain, pause, limits_file):
    quota_init = ses_models.SESQuota.__init__

    def account_quota(self, sent):
        quota_init(self, sent)
        account = limits(limits_file)
        self.max24_hour_send = account["ses_daily"]
        self.max_send_rate = account["ses_rate"] if self.max24_hour_send > 200 else 1

    def account_settings(request, full_url, headers):
        concurrency = int(limits(limits_file)["lambda_concurrency"])
        body = {"AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
                                 "ConcurrentExecutions": concurrency, "UnreservedConcurrentExecutions": concurrency},
                "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 2}}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    ses_models.SESQuota.__init__ = account_quota
    lambda_urls.url_paths[r"{0}/(?P<api_version>[^/]+)/account-settings/?$"] = account_settings
    ThreadedMotoServer(ip_address="127.0.0.1", port=int(port), verbose=False).start()
    endpoint = f"http://127.0.0.1:{port}"

    def client(name):
        return boto3.client(name, endpoint_url=endpoint, region_name=region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    ses, sqs = client("ses"), client("sqs")
    routed, waiting = 0, []
    while True:
        time.sleep(0.1)
        sent = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
        if routed < len(sent):
            fresh, routed = sent[routed:], len(sent)
            if os.path.exists(pause):
                sys.stderr.write(f"pipeline down: dropped {len(fresh)} email(s)\n")
            else:
                due = time.monotonic() + limits(limits_file)["processing_delay"]
                waiting += [(due, message) for message in fresh]
        ready = [message for due, message in waiting if due <= time.monotonic()]
        waiting = [(due, message) for due, message in waiting if due > time.monotonic()]
        if not ready:
            continue
        try:
            rule = ses.describe_receipt_rule(RuleSetName=f"mailflow-rules-{env}", RuleName=f"mailflow-inbound-{env}")["Rule"]
        except Exception as error:  # no rule set yet: nothing is received
            sys.stderr.write(f"not received ({error})\n")
            continue
        for message in ready:
            for to in getattr(message, "destinations", {}).get("ToAddresses", []):
                app, _, at = to.partition("@")
                if at != domain or not app.startswith("_") or not rule.get("Enabled"):
                    continue
                queue = sqs.get_queue_url(QueueName=f"mailflow-{app[1:]}-{env}")["QueueUrl"]
                sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"subject": message.subject, "from": message.source}))
                sys.stderr.write(f"routed '{message.subject}' to mailflow-{app[1:]}-{env}\n")


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.stderr.write(__doc__)
        sys.exit(2)
    main(*sys.argv[1:])

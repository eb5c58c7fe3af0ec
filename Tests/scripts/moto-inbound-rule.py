#!/usr/bin/env python3
"""MotoFixture's starting state, as seed 001 has it: the SES receipt rule set `mail-rules`,
active, holding the enabled rule `inbound`.

  moto-inbound-rule.py ENDPOINT

One process with boto3 (a dependency of moto) instead of three aws CLI calls: each of those
costs ~0.9 s of CPU here, and the tests start a dozen moto servers.
"""
import sys

import boto3


def main(endpoint):
    ses = boto3.client("ses", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ses.create_receipt_rule_set(RuleSetName="mail-rules")
    ses.create_receipt_rule(RuleSetName="mail-rules", Rule={"Name": "inbound", "Enabled": True})
    ses.set_active_receipt_rule_set(RuleSetName="mail-rules")


if __name__ == "__main__":
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""Make false, in a moto server, what Mailflow's strengthened postdeploy checks check
(stacks/mailflow/prod.yaml), so each of them must fail:

  mailflow-break.py ENDPOINT REGION ENV

CloudWatch: an alarm that notifies nobody (mailflow-orphan-ENV); one whose SNS topic nobody
subscribed to (mailflow-silent-ENV); one whose topic only emails someone (mailflow-mailed-ENV);
and one whose PagerDuty topic is joined by that email-only one (mailflow-both-ENV: heard, no
problem). SES's Reputation.BounceRate at 8 %. Budgets: mailflow-ENV at 150 of 100 USD, 210
forecast. No dashboard mailflow-ENV, no lifecycle rule on mailflow-raw-emails-ENV. The worker's
log: a Lambda timeout and an unredacted sender, stamped a minute ahead (after the run that
follows starts). One process with boto3 instead of ~18 aws CLI calls (~0.9 s of CPU each here).
"""
import sys
import time

import boto3


def main(endpoint, region, env):
    def client(name):
        return boto3.client(name, endpoint_url=endpoint, region_name=region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    cloudwatch, sns = client("cloudwatch"), client("sns")

    def alarm(name, metric, actions):
        cloudwatch.put_metric_alarm(AlarmName=name, MetricName=metric, Namespace="AWS/Lambda", Statistic="Sum",
                                    Period=300, EvaluationPeriods=1, Threshold=1,
                                    ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=actions)

    alarm(f"mailflow-orphan-{env}", "Errors", [])
    cloudwatch.put_metric_data(Namespace="AWS/SES", MetricData=[{"MetricName": "Reputation.BounceRate", "Value": 0.08}])
    silent = sns.create_topic(Name=f"mailflow-silent-{env}")["TopicArn"]
    alarm(f"mailflow-silent-{env}", "Throttles", [silent])
    mailed = sns.create_topic(Name=f"mailflow-mailed-{env}")["TopicArn"]
    sns.subscribe(TopicArn=mailed, Protocol="email", Endpoint="ops@example.test")
    alarm(f"mailflow-mailed-{env}", "Throttles", [mailed])
    alerts = sns.create_topic(Name=f"mailflow-alerts-{env}")["TopicArn"]  # the existing one
    alarm(f"mailflow-both-{env}", "Throttles", [alerts, mailed])

    account = client("sts").get_caller_identity()["Account"]
    budgets = client("budgets")
    budgets.delete_budget(AccountId=account, BudgetName=f"mailflow-{env}")
    budgets.create_budget(AccountId=account, Budget={
        "BudgetName": f"mailflow-{env}", "BudgetType": "COST", "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": "100", "Unit": "USD"},
        "CalculatedSpend": {"ActualSpend": {"Amount": "150", "Unit": "USD"}, "ForecastedSpend": {"Amount": "210", "Unit": "USD"}}})

    cloudwatch.delete_dashboards(DashboardNames=[f"mailflow-{env}"])
    client("s3").delete_bucket_lifecycle(Bucket=f"mailflow-raw-emails-{env}")

    ahead = int(time.time() * 1000) + 60_000
    client("logs").put_log_events(logGroupName=f"/aws/lambda/mailflow-{env}", logStreamName="2026/worker", logEvents=[
        {"timestamp": ahead, "message": "Task timed out after 60.00 seconds"},
        {"timestamp": ahead + 1000, "message": "INFO mailflow_worker: routing mail from verified@example.test"}])


if __name__ == "__main__":
    main(*sys.argv[1:])

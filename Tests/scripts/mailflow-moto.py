#!/usr/bin/env python3
"""Create, in a moto server, the AWS resources stacks/mailflow/prod.yaml expects after
`pulumi up` of Mailflow's infra/ (names from infra/src/*.ts, environment ENV):

  mailflow-moto.py ENDPOINT REGION ENV DOMAIN SENDER

SES: rule set mailflow-rules-ENV (active) with the enabled rule mailflow-inbound-ENV, DOMAIN and
SENDER verified. Lambda: mailflow-ENV and mailflow-api-ENV (any zip; moto never runs them).
Logs: both functions' log groups with 30 days retention. DynamoDB: mailflow-idempotency-ENV with
point-in-time recovery. S3: mailflow-dashboard-ENV, versioned. CloudWatch: the three alarms of
infra/src/monitoring.ts, each notifying the SNS topic mailflow-alerts-ENV (PagerDuty subscribed over
https), and the dashboard mailflow-ENV with one widget; Budgets: mailflow-ENV, 40 of 100 USD spent; SES's Reputation.BounceRate
at 1 %. SQS: mailflow-dlq-ENV (empty) and mailflow-app1-ENV holding one message
left by an earlier test run ("Production Test" with another run id), which the stack's end-to-end
check must not take for its own (Tests/scripts/mailflow-router.py routes the real one).
One process with boto3 instead of ~25 aws CLI calls.
"""
import io
import json
import sys
import zipfile

import boto3


def main(endpoint, region, env, domain, sender):
    def client(name):
        return boto3.client(name, endpoint_url=endpoint, region_name=region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    ses = client("ses")
    ses.create_receipt_rule_set(RuleSetName=f"mailflow-rules-{env}")
    ses.create_receipt_rule(RuleSetName=f"mailflow-rules-{env}",
                            Rule={"Name": f"mailflow-inbound-{env}", "Enabled": True, "Recipients": [domain], "ScanEnabled": True})
    ses.set_active_receipt_rule_set(RuleSetName=f"mailflow-rules-{env}")
    ses.verify_domain_identity(Domain=domain)
    ses.verify_email_identity(EmailAddress=sender)

    role = client("iam").create_role(RoleName=f"mailflow-lambda-{env}",
                                     AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    lam, logs = client("lambda"), client("logs")
    for name in (f"mailflow-{env}", f"mailflow-api-{env}"):
        lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=role, Handler="bootstrap",
                            Architectures=["arm64"], Code={"ZipFile": package.getvalue()})
        logs.create_log_group(logGroupName=f"/aws/lambda/{name}")
        logs.put_retention_policy(logGroupName=f"/aws/lambda/{name}", retentionInDays=30)

    dynamodb = client("dynamodb")
    dynamodb.create_table(TableName=f"mailflow-idempotency-{env}", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    dynamodb.update_continuous_backups(TableName=f"mailflow-idempotency-{env}",
                                       PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})

    s3 = client("s3")

    def make_bucket(bucket):
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})

    bucket = f"mailflow-dashboard-{env}"
    make_bucket(bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # infra/src/storage.ts: raw emails expire after 7 days, attachments after 30.
    for name, days in (("raw-emails", 7), ("attachments", 30)):
        make_bucket(f"mailflow-{name}-{env}")
        s3.put_bucket_lifecycle_configuration(Bucket=f"mailflow-{name}-{env}", LifecycleConfiguration={"Rules": [
            {"ID": f"expire-{name}", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": days}}]})

    sns = client("sns")
    topic = sns.create_topic(Name=f"mailflow-alerts-{env}")["TopicArn"]
    cloudwatch = client("cloudwatch")
    # SES's own reputation metric, as it publishes it: 1 % bounces in the last hour.
    cloudwatch.put_metric_data(Namespace="AWS/SES", MetricData=[{"MetricName": "Reputation.BounceRate", "Value": 0.01}])
    for name, metric, namespace in ((f"mailflow-lambda-errors-{env}", "Errors", "AWS/Lambda"),
                                    (f"mailflow-lambda-duration-{env}", "Duration", "AWS/Lambda"),
                                    (f"mailflow-dlq-messages-{env}", "ApproximateNumberOfMessagesVisible", "AWS/SQS")):
        cloudwatch.put_metric_alarm(AlarmName=name, MetricName=metric, Namespace=namespace, Statistic="Sum",
                                    Period=300, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
                                    AlarmActions=[topic])

    # Someone hears the alerts: PagerDuty's Events API behind an https subscription (moto confirms
    # it at once and never calls it).
    sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://events.pagerduty.com/integration/0123456789abcdef/enqueue")
    # The dashboard of infra/src/monitoring.ts, one widget.
    cloudwatch.put_dashboard(DashboardName=f"mailflow-{env}", DashboardBody=json.dumps({"widgets": [
        {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
         "properties": {"metrics": [["AWS/Lambda", "Errors", "FunctionName", f"mailflow-{env}"]], "region": region, "title": "Worker errors"}}]}))
    # The budget of this account's Mailflow costs: 40 of 100 USD spent, 80 forecast.
    account = client("sts").get_caller_identity()["Account"]
    client("budgets").create_budget(AccountId=account, Budget={
        "BudgetName": f"mailflow-{env}", "BudgetType": "COST", "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": "100", "Unit": "USD"},
        "CalculatedSpend": {"ActualSpend": {"Amount": "40", "Unit": "USD"}, "ForecastedSpend": {"Amount": "80", "Unit": "USD"}}})
    sqs = client("sqs")
    sqs.create_queue(QueueName=f"mailflow-dlq-{env}")
    queue = sqs.create_queue(QueueName=f"mailflow-app1-{env}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody='{"subject":"Production Test 20260101-000000-0000","from":"%s"}' % sender)


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(*sys.argv[1:])

"""AWS SDK integrations (``aws-sdk:SERVICE:action``) through real boto3 against moto."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from runtime import run_sync
from runtime.adapters import sdk
from runtime.adapters.aws import AwsSettings, ClientPool
from runtime.adapters.base import AdapterRegistry

SDK_CAUSE = re.compile(
    r"^(?P<message>.*) \(Service: (?P<service>\w+), Status Code: (?P<status>\d+), "
    r"Request ID: [^,)]*(, Extended Request ID: [^)]*)?\) \(SDK Attempt Count: 1\)$"
)


#: One pool for the module: boto3 sessions and clients are slow to create, and moto's
#: mock intercepts calls of clients created before it starts.
POOL = ClientPool(AwsSettings(region="us-east-1"))


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[AdapterRegistry]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        registry = AdapterRegistry()
        sdk.register(registry, POOL)
        yield registry


def task(resource: str, parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": f"arn:aws:states:::aws-sdk:{resource}"}
    state.update(Parameters=parameters, End=True, **extra)
    return {"StartAt": "T", "States": {"T": state}}


def run(registry: AdapterRegistry, resource: str, params: dict[str, Any], data: Any = None) -> Any:
    return run_sync(task(resource, params), data or {}, adapters=registry)


# -- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sfn_name", "boto_name"),
    [
        ("sfn", "stepfunctions"),
        ("s3", "s3"),
        ("dynamodb", "dynamodb"),
        ("secretsmanager", "secretsmanager"),
        ("eventbridge", "events"),
        ("cloudwatchlogs", "logs"),
        ("sagemaker", "sagemaker"),
        ("sagemakerruntime", "sagemaker-runtime"),
        ("applicationautoscaling", "application-autoscaling"),
        ("cognitoidentityprovider", "cognito-idp"),
        ("nosuchservice", None),
    ],
)
def test_service_names_map_to_boto3_clients(sfn_name: str, boto_name: str | None) -> None:
    assert sdk.boto_service_name(sfn_name) == boto_name


@pytest.mark.parametrize(
    ("service_id", "name"),
    [
        ("DynamoDB", "DynamoDb"),
        ("SFN", "Sfn"),
        ("S3", "S3"),
        ("Secrets Manager", "SecretsManager"),
        ("CloudWatch Logs", "CloudWatchLogs"),
        ("EC2", "Ec2"),
        ("EventBridge", "EventBridge"),
        ("SageMaker", "SageMaker"),
    ],
)
def test_error_names_follow_the_java_sdk_v2_client(service_id: str, name: str) -> None:
    assert sdk.error_service_name(service_id) == name


def test_actions_map_to_boto3_methods() -> None:
    assert sdk.resolve_operation("s3", "listObjectsV2").method == "list_objects_v2"
    assert sdk.resolve_operation("sfn", "startExecution").method == "start_execution"
    assert sdk.resolve_operation("dynamodb", "getItem").error_name == "DynamoDb"


def test_timestamps_print_as_java_instants() -> None:
    assert sdk.instant(datetime(2024, 5, 1, 10, 0, tzinfo=UTC)) == "2024-05-01T10:00:00Z"
    assert sdk.instant(datetime(2024, 5, 1, 10, 0, 0, 123000)) == "2024-05-01T10:00:00.123Z"


def test_unknown_service_or_action_is_named(registry: AdapterRegistry) -> None:
    result = run(registry, "nosuch:doIt", {})
    assert result.error == "States.Runtime" and "no AWS SDK service is named 'nosuch'" in (
        result.cause or ""
    )
    result = run(registry, "s3:doIt", {})
    assert "the service 's3' has no action 'doIt'" in (result.cause or "")


# -- S3 ------------------------------------------------------------------------------------


def test_s3_put_get_list(registry: AdapterRegistry) -> None:
    assert run(registry, "s3:createBucket", {"Bucket": "data-bucket"}).succeeded
    put = run(registry, "s3:putObject", {"Bucket": "data-bucket", "Key": "k", "Body": "text data"})
    assert put.output["ETag"] == '"332eec544317a6d340b8e77da7fe54ad"'  # recorded s3_put_object.str
    got = run(registry, "s3:getObject", {"Bucket": "data-bucket", "Key": "k"})
    assert got.output["Body"] == "text data"
    assert got.output["ContentLength"] == 9
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", got.output["LastModified"])
    assert "ResponseMetadata" not in got.output
    listed = run(registry, "s3:listObjectsV2", {"Bucket": "data-bucket"})
    assert [item["Key"] for item in listed.output["Contents"]] == ["k"]
    assert listed.output["KeyCount"] == 1


def test_s3_json_bodies_are_serialised_compactly(registry: AdapterRegistry) -> None:
    run(registry, "s3:createBucket", {"Bucket": "data-bucket"})
    for body, text in (({"Dict": "Value"}, '{"Dict":"Value"}'), (False, "false"), (0, "0")):
        put = run(registry, "s3:putObject", {"Bucket": "data-bucket", "Key": "k", "Body": body})
        assert put.output["ETag"] == f'"{hashlib.md5(text.encode()).hexdigest()}"'


def test_s3_missing_key(registry: AdapterRegistry) -> None:
    run(registry, "s3:createBucket", {"Bucket": "data-bucket"})
    result = run(registry, "s3:getObject", {"Bucket": "data-bucket", "Key": "missing"})
    assert result.error == "S3.NoSuchKeyException"
    match = SDK_CAUSE.match(result.cause or "")
    assert match and match["service"] == "S3" and match["status"] == "404"
    head = run(registry, "s3:headObject", {"Bucket": "data-bucket", "Key": "missing"})
    assert head.error == "S3.NoSuchKeyException"


def test_s3_missing_bucket(registry: AdapterRegistry) -> None:
    result = run(registry, "s3:listObjects", {"Bucket": "some-nonexistent-bucket"})
    assert result.error == "S3.NoSuchBucketException"
    assert (result.cause or "").startswith("The specified bucket does not exist (Service: S3, ")


# -- DynamoDB, Secrets Manager, Step Functions ---------------------------------------------


def test_dynamodb_missing_table(registry: AdapterRegistry) -> None:
    result = run(registry, "dynamodb:putItem", {"TableName": "nope", "Item": {"id": {"S": "1"}}})
    assert result.error == "DynamoDb.ResourceNotFoundException"
    match = SDK_CAUSE.match(result.cause or "")
    assert match and match["message"] == "Requested resource not found"
    assert match["service"] == "DynamoDb" and match["status"] == "400"


def test_dynamodb_put_get_keeps_attribute_names(registry: AdapterRegistry) -> None:
    boto3.client("dynamodb").create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"id": {"S": "id1"}, "data": {"S": "HelloWorld"}}
    assert run(registry, "dynamodb:putItem", {"TableName": "t", "Item": item}).output == {}
    got = run(registry, "dynamodb:getItem", {"TableName": "t", "Key": {"id": {"S": "id1"}}})
    assert got.output == {"Item": item}


def test_secretsmanager_create_secret(registry: AdapterRegistry) -> None:
    result = run(registry, "secretsmanager:createSecret", {"Name": "db", "SecretString": "pw"})
    assert result.output["Name"] == "db"
    assert set(result.output) == {"ARN", "Name", "VersionId"}


def test_camel_case_api_members_come_back_pascal_case(registry: AdapterRegistry) -> None:
    boto3.client("stepfunctions").create_state_machine(
        name="m",
        definition='{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}',
        roleArn="arn:aws:iam::123456789012:role/r",
    )
    result = run(registry, "sfn:listStateMachines", {})
    machine = result.output["StateMachines"][0]
    assert machine["Name"] == "m" and machine["StateMachineArn"].endswith(":stateMachine:m")
    assert machine["CreationDate"].endswith("Z")
    started = run(
        registry,
        "sfn:startExecution",
        {"StateMachineArn": machine["StateMachineArn"], "Input": {"key": "value"}},
    )
    assert set(started.output) == {"ExecutionArn", "StartDate"}
    described = boto3.client("stepfunctions").describe_execution(
        executionArn=started.output["ExecutionArn"]
    )
    assert described["input"] == '{"key":"value"}'  # implicit JSON serialisation


# -- data-pipeline checks as small state machines ------------------------------------------


def test_pipeline_checks_whether_a_key_exists(registry: AdapterRegistry) -> None:
    run(registry, "s3:createBucket", {"Bucket": "landing"})
    machine = task(
        "s3:headObject",
        {"Bucket": "landing", "Key.$": "$.key"},
        Catch=[{"ErrorEquals": ["S3.NoSuchKeyException"], "Next": "Missing"}],
        ResultSelector={"size.$": "$.ContentLength"},
    )
    machine["States"]["T"].pop("End")
    machine["States"]["T"]["Next"] = "Present"
    machine["States"]["Missing"] = {"Type": "Pass", "Result": "missing", "End": True}
    machine["States"]["Present"] = {"Type": "Pass", "End": True}
    assert run_sync(machine, {"key": "a.csv"}, adapters=registry).output == "missing"
    run(registry, "s3:putObject", {"Bucket": "landing", "Key": "a.csv", "Body": "x,y"})
    assert run_sync(machine, {"key": "a.csv"}, adapters=registry).output == {"size": 3}


def test_pipeline_checks_whether_a_table_holds_data(registry: AdapterRegistry) -> None:
    boto3.client("dynamodb").create_table(
        TableName="events",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    machine = task("dynamodb:scan", {"TableName": "events", "Limit": 1})
    machine["States"]["T"].pop("End")
    machine["States"]["T"]["Next"] = "Has"
    machine["States"]["Has"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.Count", "NumericGreaterThan": 0, "Next": "Yes"}],
        "Default": "No",
    }
    machine["States"]["Yes"] = {"Type": "Pass", "Result": True, "End": True}
    machine["States"]["No"] = {"Type": "Pass", "Result": False, "End": True}
    assert run_sync(machine, {}, adapters=registry).output is False
    run(registry, "dynamodb:putItem", {"TableName": "events", "Item": {"id": {"S": "1"}}})
    assert run_sync(machine, {}, adapters=registry).output is True

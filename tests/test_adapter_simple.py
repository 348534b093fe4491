"""Optimized SQS, DynamoDB and EventBridge integrations through real boto3 against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from runtime import run_sync
from runtime.adapters import simple
from runtime.adapters.aws import AwsSettings, ClientPool
from runtime.adapters.base import AdapterRegistry

V1_CAUSE_END = "; Proxy: null)"


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
        simple.register(registry, POOL)
        yield registry


def run(registry: AdapterRegistry, resource: str, params: dict[str, Any]) -> Any:
    state = {"Type": "Task", "Resource": f"arn:aws:states:::{resource}", "End": True}
    state["Parameters"] = params
    return run_sync({"StartAt": "T", "States": {"T": state}}, {}, adapters=registry)


def make_table() -> None:
    boto3.client("dynamodb").create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_http_metadata_matches_the_recorded_get_item() -> None:
    body = json.dumps(
        {"Item": {"data": {"S": "string-literal"}, "id": {"S": "id1"}}}, separators=(",", ":")
    )
    meta = simple.sdk_http_metadata("dynamodb", body, "rid", 0)["SdkHttpMetadata"]
    assert list(meta["AllHttpHeaders"]) == [
        "Server", "Connection", "x-amzn-RequestId", "x-amz-crc32", "Content-Length", "Date",
        "Content-Type",
    ]  # fmt: skip
    assert meta["AllHttpHeaders"]["Content-Length"] == ["57"]
    assert list(meta["HttpHeaders"])[:3] == ["Connection", "Content-Length", "Content-Type"]
    assert meta["HttpHeaders"]["Date"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    sqs = simple.sdk_http_metadata("sqs", "{}", "rid", 0)["SdkHttpMetadata"]["HttpHeaders"]
    assert list(sqs) == ["connection", "Content-Length", "Content-Type", "Date", "x-amzn-RequestId"]


def test_sqs_send_message(registry: AdapterRegistry) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    result = run(registry, "sqs:sendMessage", {"QueueUrl": url, "MessageBody": {"a": 1}})
    out = result.output
    assert {"MD5OfMessageBody", "MessageId", "SdkHttpMetadata", "SdkResponseMetadata"} <= set(out)
    assert out["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert out["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "106"
    received = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert received["Body"] == '{"a":1}'


def test_sqs_missing_queue(registry: AdapterRegistry) -> None:
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/missing"
    result = run(registry, "sqs:sendMessage", {"QueueUrl": url, "MessageBody": "x"})
    assert result.error == "SQS.QueueDoesNotExistException"
    assert "(Service: AmazonSQS; Status Code: 400; Error Code: " in (result.cause or "")


def test_dynamodb_put_update_get_delete(registry: AdapterRegistry) -> None:
    make_table()
    item = {"id": {"S": "id1"}, "data": {"S": "HelloWorld"}}
    put = run(registry, "dynamodb:putItem", {"TableName": "t", "Item": item})
    assert set(put.output) == {"SdkHttpMetadata", "SdkResponseMetadata"}
    update = run(
        registry,
        "dynamodb:updateItem",
        {
            "TableName": "t",
            "Key": {"id": {"S": "id1"}},
            "UpdateExpression": "set S=:r",
            "ExpressionAttributeValues": {":r": {"S": "HelloWorldUpdated"}},
            "ReturnValues": "UPDATED_NEW",
        },
    )
    assert update.output["Attributes"] == {"S": {"S": "HelloWorldUpdated"}}
    got = run(registry, "dynamodb:getItem", {"TableName": "t", "Key": {"id": {"S": "id1"}}})
    assert got.output["Item"] == {**item, "S": {"S": "HelloWorldUpdated"}}
    assert run(registry, "dynamodb:deleteItem", {"TableName": "t", "Key": {"id": {"S": "id1"}}})
    gone = run(registry, "dynamodb:getItem", {"TableName": "t", "Key": {"id": {"S": "id1"}}})
    assert "Item" not in gone.output


def test_dynamodb_missing_table(registry: AdapterRegistry) -> None:
    result = run(registry, "dynamodb:putItem", {"TableName": "nope", "Item": {"id": {"S": "1"}}})
    assert result.error == "DynamoDB.ResourceNotFoundException"
    assert (result.cause or "").startswith(
        "Requested resource not found (Service: AmazonDynamoDBv2; Status Code: 400; "
        "Error Code: ResourceNotFoundException; Request ID: "
    )
    assert (result.cause or "").endswith(V1_CAUSE_END)


def test_dynamodb_validation_errors(registry: AdapterRegistry) -> None:
    make_table()
    null_item = run(registry, "dynamodb:putItem", {"TableName": "t", "Item": None})
    assert null_item.error == "DynamoDB.AmazonDynamoDBException"
    assert (null_item.cause or "").startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
        "Member must not be null (Service: AmazonDynamoDBv2; Status Code: 400; "
        "Error Code: ValidationException; Request ID: "
    )
    bad_name = run(registry, "dynamodb:putItem", {"TableName": "/t", "Item": {"id": {"S": "1"}}})
    assert (bad_name.cause or "").startswith(
        "1 validation error detected: Value '/t' at 'tableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ (Service: "
    )
    no_key = run(registry, "dynamodb:putItem", {"TableName": "t", "Item": {"x": {"S": "1"}}})
    assert no_key.error == "DynamoDB.AmazonDynamoDBException"  # moto's ValidationException


def test_dynamodb_validation_counts_problems() -> None:
    message = simple.dynamodb_validation("put_item", {})
    assert message is not None and message.startswith("2 validation errors detected: ")
    assert simple.dynamodb_validation("put_item", {"TableName": "t", "Item": {}}) is None


def test_events_put_events(registry: AdapterRegistry) -> None:
    entry = {"Detail": {"Message": "hi"}, "DetailType": "detail-type", "Source": "some.source"}
    result = run(registry, "events:putEvents", {"Entries": [entry]})
    assert set(result.output) == {"Entries", "FailedEntryCount"}
    assert result.output["FailedEntryCount"] == 0


def test_events_failed_entry(registry: AdapterRegistry) -> None:
    good = {"Detail": {"Message": "hi"}, "DetailType": "detail-type", "Source": "some.source"}
    bad = {"Detail": {"Message": "hi"}, "DetailType": "detail-type"}
    result = run(registry, "events:putEvents", {"Entries": [good, bad]})
    assert result.error == "EventBridge.FailedEntry"
    cause = json.loads(result.cause or "")
    assert cause["FailedEntryCount"] == 1
    assert cause["Entries"][1] == {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument.",
    }

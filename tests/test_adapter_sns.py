"""SNS publish through real boto3 calls against moto (``mock_aws``).

Result shapes and error names follow the AWS recordings ``sns_task_service.*``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from runtime import run_sync
from runtime.adapters.aws import AwsSettings, ClientPool
from runtime.adapters.base import AdapterRegistry, TaskCall, parse_resource
from runtime.adapters.sns import SnsPublish, publish_request, register

PUBLISH = "arn:aws:states:::sns:publish"


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientPool]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield ClientPool(AwsSettings(region="us-east-1"))


def topic(pool: ClientPool, name: str = "topic", **attributes: str) -> str:
    arn: str = pool.client("sns", "us-east-1").create_topic(Name=name, Attributes=attributes)[
        "TopicArn"
    ]
    return arn


def sent(arn: str) -> list[Any]:
    notifications: list[Any] = (
        sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[arn].sent_notifications
    )
    return notifications


def requests(pool: ClientPool) -> list[dict[str, Any]]:
    """What boto3 is asked to send for each Publish."""
    seen: list[dict[str, Any]] = []
    pool.client("sns", "us-east-1").meta.events.register(
        "provide-client-params.sns.Publish", lambda params, **_: seen.append(dict(params))
    )
    return seen


def run(pool: ClientPool, parameters: dict[str, Any], data: Any) -> Any:
    adapters = AdapterRegistry()
    register(adapters, pool)
    definition = {
        "StartAt": "Publish",
        "States": {
            "Publish": {"Type": "Task", "Resource": PUBLISH, "Parameters": parameters, "End": True}
        },
    }
    return run_sync(definition, data, adapters=adapters)


def test_publish_result_shape(pool: ClientPool) -> None:
    arn = topic(pool)
    seen = requests(pool)
    result = run(
        pool,
        {"TopicArn.$": "$.TopicArn", "Message.$": "$.Message"},
        {"TopicArn": arn, "Message": {"Message": "HelloWorld!"}},
    )
    assert result.status == "SUCCEEDED", result.cause
    output = result.output
    assert set(output) == {"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    assert set(output["SdkHttpMetadata"]) == {"AllHttpHeaders", "HttpHeaders", "HttpStatusCode"}
    assert output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert output["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"] == "text/xml"
    assert output["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Type"] == ["text/xml"]
    request_id = output["SdkResponseMetadata"]["RequestId"]
    assert output["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"] == request_id
    # A non-string Message is published as its JSON text.
    assert seen == [{"TopicArn": arn, "Message": '{"Message":"HelloWorld!"}'}]
    assert [n[1] for n in sent(arn)] == ['{"Message":"HelloWorld!"}']
    assert sent(arn)[0][0] == output["MessageId"]


def test_message_attributes_as_in_the_asl_parameters(pool: ClientPool) -> None:
    arn = topic(pool)
    seen = requests(pool)
    parameters = {
        "TopicArn.$": "$.TopicArn",
        "Message": "HelloWorld",
        "MessageAttributes": {
            "my_attribute_no_1": {"DataType": "String", "StringValue.$": "$.Value"},
            "count": {"DataType": "Number", "StringValue.$": "$.Count"},
            "blob": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x00\x01").decode()},
        },
    }
    result = run(pool, parameters, {"TopicArn": arn, "Value": "Hello", "Count": 3})
    assert result.status == "SUCCEEDED", result.cause
    attributes = seen[0]["MessageAttributes"]
    assert attributes["my_attribute_no_1"] == {"DataType": "String", "StringValue": "Hello"}
    assert attributes["count"] == {"DataType": "Number", "StringValue": "3"}
    assert attributes["blob"] == {"DataType": "Binary", "BinaryValue": b"\x00\x01"}
    stored = sent(arn)[0][3]
    assert stored["my_attribute_no_1"] == {"Type": "String", "Value": "Hello"}


def test_missing_topic_is_sns_not_found(pool: ClientPool) -> None:
    missing = "arn:aws:sns:us-east-1:123456789012:missing"
    result = run(pool, {"TopicArn": missing, "Message": "m"}, {})
    assert result.status == "FAILED"
    assert result.error == "SNS.NotFoundException"
    assert result.cause is not None
    assert "(Service: AmazonSNS; Status Code: 404; Error Code: NotFound; Request ID: " in (
        result.cause
    )
    assert result.cause.endswith("; Proxy: null)")
    assert result.event_types[-2:] == ["TaskFailed", "ExecutionFailed"]


def test_fifo_topic_without_group_id_names_the_error_code(pool: ClientPool) -> None:
    # AWS answers InvalidParameter (recorded: SNS.InvalidParameterException); moto answers
    # MissingParameter. Either way the name is SNS.<Code>Exception, the code in the cause.
    arn = topic(pool, "topic.fifo", FifoTopic="true")
    result = run(pool, {"TopicArn": arn, "Message": "m"}, {})
    assert result.cause is not None
    code = result.cause.split("Error Code: ")[1].split(";")[0]
    assert code in ("InvalidParameter", "MissingParameter")
    assert result.error == f"SNS.{code}Exception"
    assert "(Service: AmazonSNS; Status Code: 400; Error Code: " in result.cause


def test_submit_returns_the_publish_result(pool: ClientPool) -> None:
    arn = topic(pool)
    call = TaskCall(
        resource=parse_resource(PUBLISH + ".waitForTaskToken"),
        parameters={"TopicArn": arn, "Message": {"TaskToken": "tok"}},
        state_name="Publish",
        context={},
    )
    result = anyio.run(SnsPublish(pool).submit, call)
    assert set(result) == {"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    assert json.loads(sent(arn)[0][1]) == {"TaskToken": "tok"}


def test_publish_request_leaves_the_parameters_alone() -> None:
    parameters = {"Message": {"a": 1}, "MessageAttributes": {"n": {"StringValue": 1}}}
    request = publish_request(parameters)
    assert request["Message"] == '{"a":1}'
    assert request["MessageAttributes"]["n"]["StringValue"] == "1"
    assert parameters == {"Message": {"a": 1}, "MessageAttributes": {"n": {"StringValue": 1}}}

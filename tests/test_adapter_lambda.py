"""The boto3 Lambda adapter: requests sent, envelopes and errors as AWS records them.

Real boto3 calls throughout: moto's Docker-free Lambda backend (which echoes the payload)
for whole executions, moto's default backend for a missing function, and botocore's
Stubber on the pooled client where moto cannot answer (function errors, throttling).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from runtime import run_sync
from runtime.adapters.aws import AwsSettings, ClientPool
from runtime.adapters.base import AdapterRegistry, TaskCall, parse_resource
from runtime.adapters.callback import WaitForToken
from runtime.adapters.lambda_ import (
    LambdaAdapter,
    decode_payload,
    encode_payload,
    function_failure,
    http_metadata,
    parse_function_name,
    register,
)
from runtime.callbacks.registry import CallbackRegistry
from runtime.engine.clock import VirtualClock
from runtime.engine.errors import TaskFailure

ACCOUNT = "123456789012"
INVOKE = "arn:aws:states:::lambda:invoke"
LEGACY = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo"
RAISED = {
    "errorMessage": "Some exception was raised.",
    "errorType": "Exception",
    "requestId": "2f6f9e7e-0000-4000-8000-000000000001",
    "stackTrace": ['  File "/var/task/handler.py", line 2, in handler\n    raise Exception()\n'],
}


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def pool() -> ClientPool:
    # One attempt: a stubbed 429 must reach the adapter, not botocore's retry loop.
    return ClientPool(AwsSettings(region="us-east-1", max_attempts=1))


def _call(resource: str, parameters: Any) -> TaskCall:
    return TaskCall(parse_resource(resource), parameters, "Invoke", {}, clock=VirtualClock(0))


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def _response(payload: bytes, **extra: Any) -> dict[str, Any]:
    headers = {
        "date": "Mon, 01 Jan 2024 00:00:00 GMT",
        "content-type": "application/json",
        "content-length": str(len(payload)),
        "connection": "keep-alive",
        "x-amzn-requestid": "req-1",
        "x-amzn-remapped-content-length": "0",
        "x-amz-executed-version": "$LATEST",
        "x-amzn-trace-id": "Root=1-00000000-000000000000000000000000;Sampled=0",
    }
    meta = {"RequestId": "req-1", "HTTPStatusCode": 200, "HTTPHeaders": headers}
    return {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "Payload": _body(payload),
        "ResponseMetadata": meta,
        **extra,
    }


@pytest.fixture
def stubbed(pool: ClientPool) -> Iterator[Stubber]:
    with Stubber(pool.client("lambda", "us-east-1")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


# -- pure helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (None, b"{}"),
        ({"a": [1, "é"]}, '{"a":[1,"é"]}'.encode()),
        ('"HelloWorld"', b'"HelloWorld"'),  # JSON text: sent as is
        ("[]", b"[]"),
        ("0", b"0"),
        ("HelloWorld", b'"HelloWorld"'),  # not JSON: sent as a JSON string
        (0, b"0"),
        (True, b"true"),
    ],
)
def test_payload_encoding_follows_aws(value: Any, sent: bytes) -> None:
    assert encode_payload(value) == sent


def test_payload_decoding_keeps_non_json_text() -> None:
    assert decode_payload(b'{"a":1}') == {"a": 1}
    assert decode_payload(b"not json") == "not json"
    assert decode_payload(b"") == ""


@pytest.mark.parametrize(
    ("text", "name", "qualifier", "region", "account"),
    [
        ("my-function", "my-function", None, None, None),
        ("my-function:v1", "my-function", "v1", None, None),
        (f"{ACCOUNT}:function:my-function", "my-function", None, None, ACCOUNT),
        (f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f:prod", "f", "prod", "eu-west-1", ACCOUNT),
    ],
)
def test_function_name_forms(
    text: str, name: str, qualifier: str | None, region: str | None, account: str | None
) -> None:
    ref = parse_function_name(text)
    assert ref is not None
    assert (ref.name, ref.qualifier, ref.region, ref.account) == (name, qualifier, region, account)


def test_function_name_rejects_non_names() -> None:
    assert parse_function_name(3) is None
    assert parse_function_name("a:b:c:d") is None


def test_http_metadata_spells_and_orders_headers_like_aws() -> None:
    meta = http_metadata({"content-type": "application/json", "x-amzn-requestid": "r"}, 200)
    assert meta == {
        "AllHttpHeaders": {"x-amzn-RequestId": ["r"], "Content-Type": ["application/json"]},
        "HttpHeaders": {"Content-Type": "application/json", "x-amzn-RequestId": "r"},
        "HttpStatusCode": 200,
    }
    assert list(http_metadata({"x-custom-thing": "1"}, 200)["HttpHeaders"]) == ["X-Custom-Thing"]


def test_function_failure_names_and_causes() -> None:
    raw = json.dumps(RAISED)  # Python's ", " separators, as the function wrote it
    legacy = function_failure(raw, legacy=True)
    assert (legacy.error, legacy.cause) == ("Exception", raw)
    invoke = function_failure(raw, legacy=False)
    assert invoke.error == "Exception"
    assert invoke.cause == json.dumps(RAISED, separators=(",", ":"))
    timeout = function_failure('{"errorMessage":"Task timed out after 3.00 seconds"}', legacy=False)
    assert timeout.error == "Lambda.Unknown"
    assert timeout.cause == (
        "The cause could not be determined because Lambda did not return an error type. "
        'Returned payload: {"errorMessage":"Task timed out after 3.00 seconds"}'
    )


# -- stubbed Invoke --------------------------------------------------------------------


def test_invoke_sends_the_request_and_builds_the_envelope(
    pool: ClientPool, stubbed: Stubber
) -> None:
    expected = {
        "FunctionName": "echo:prod",
        "Payload": b'{"body":"string body"}',
        "InvocationType": "RequestResponse",
        "Qualifier": "prod",
        "LogType": "Tail",
    }
    stubbed.add_response(
        "invoke", _response(b'{"body": "string body"}', LogResult="bG9n"), expected
    )
    params = {**expected, "Payload": {"body": "string body"}}
    result = anyio.run(LambdaAdapter(pool).invoke, _call(INVOKE, params))
    assert list(result) == [
        "ExecutedVersion",
        "LogResult",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]
    assert result["Payload"] == {"body": "string body"}
    assert result["StatusCode"] == 200
    assert result["SdkResponseMetadata"] == {"RequestId": "req-1"}
    http = result["SdkHttpMetadata"]
    assert list(http["AllHttpHeaders"]) == [
        "X-Amz-Executed-Version",
        "x-amzn-Remapped-Content-Length",
        "Connection",
        "x-amzn-RequestId",
        "Content-Length",
        "Date",
        "X-Amzn-Trace-Id",
        "Content-Type",
    ]
    assert http["HttpHeaders"]["Content-Length"] == "23"
    assert http["AllHttpHeaders"]["Content-Length"] == ["23"]
    assert list(http["HttpHeaders"])[-3:] == [
        "x-amzn-Remapped-Content-Length",
        "x-amzn-RequestId",
        "X-Amzn-Trace-Id",
    ]


def test_non_json_payload_is_kept_as_text(pool: ClientPool, stubbed: Stubber) -> None:
    stubbed.add_response("invoke", _response(b"plain text"))
    result = anyio.run(LambdaAdapter(pool).invoke, _call(INVOKE, {"FunctionName": "f"}))
    assert result["Payload"] == "plain text"


def test_legacy_arn_sends_the_input_and_returns_the_payload(
    pool: ClientPool, stubbed: Stubber
) -> None:
    expected = {"FunctionName": LEGACY, "InvocationType": "RequestResponse", "Payload": b"[1]"}
    stubbed.add_response("invoke", _response(b"[1, 2]"), expected)
    assert anyio.run(LambdaAdapter(pool).invoke, _call(LEGACY, [1])) == [1, 2]


@pytest.mark.parametrize("function_error", ["Unhandled", "Handled"])
@pytest.mark.parametrize("resource", [INVOKE, LEGACY])
def test_function_error_fails_with_its_error_type(
    pool: ClientPool, stubbed: Stubber, function_error: str, resource: str
) -> None:
    raw = json.dumps(RAISED).encode()
    stubbed.add_response("invoke", _response(raw, FunctionError=function_error))
    with pytest.raises(TaskFailure) as caught:
        anyio.run(LambdaAdapter(pool).invoke, _call(resource, {"FunctionName": "f"}))
    assert caught.value.error == "Exception"
    assert json.loads(caught.value.cause or "") == RAISED
    compact = resource == INVOKE
    assert (", " not in (caught.value.cause or "").split("stackTrace")[0]) is compact


def test_function_error_without_error_type_is_lambda_unknown(
    pool: ClientPool, stubbed: Stubber
) -> None:
    stubbed.add_response("invoke", _response(b"oops", FunctionError="Unhandled"))
    with pytest.raises(TaskFailure) as caught:
        anyio.run(LambdaAdapter(pool).invoke, _call(INVOKE, {"FunctionName": "f"}))
    assert caught.value.error == "Lambda.Unknown"
    assert (caught.value.cause or "").endswith("Returned payload: oops")


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ResourceNotFoundException", 404, "Lambda.ResourceNotFoundException"),
        ("TooManyRequestsException", 429, "Lambda.TooManyRequestsException"),
        ("ServiceException", 500, "Lambda.ServiceException"),
    ],
)
def test_client_errors_are_named_like_aws(
    pool: ClientPool, stubbed: Stubber, code: str, status: int, error: str
) -> None:
    stubbed.add_client_error(
        "invoke", code, "Something went wrong", status, response_meta={"RequestId": "rid"}
    )
    with pytest.raises(TaskFailure) as caught:
        anyio.run(LambdaAdapter(pool).invoke, _call(INVOKE, {"FunctionName": "f"}))
    assert caught.value.error == error
    assert caught.value.cause == (
        f"Something went wrong (Service: AWSLambda; Status Code: {status}; Error Code: "
        f"{code}; Request ID: rid; Proxy: null)"
    )


def test_unknown_parameter_is_rejected(pool: ClientPool) -> None:
    with pytest.raises(TaskFailure) as caught:
        anyio.run(LambdaAdapter(pool).invoke, _call(INVOKE, {"FunctionName": "f", "Foo": 1}))
    assert caught.value.error == "States.Runtime"
    assert "Foo" in (caught.value.cause or "")


def test_function_arn_region_picks_the_client(pool: ClientPool) -> None:
    arn = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f"
    with Stubber(pool.client("lambda", "eu-west-1")) as stubber:
        stubber.add_response("invoke", _response(b"1"), {"FunctionName": arn})
        result = anyio.run(LambdaAdapter(pool).invoke, _call(INVOKE, {"FunctionName": arn}))
    assert result["Payload"] == 1


def test_submit_is_the_callback_step(pool: ClientPool, stubbed: Stubber) -> None:
    """WaitForToken(adapter.submit, callbacks) opens the token, submits, then waits."""
    stubbed.add_response("invoke", _response(b'"queued"'), {"FunctionName": "f"})
    callbacks = CallbackRegistry()
    submitted: list[Any] = []

    def answer(output: Any) -> None:  # the function "calls back" once it is queued
        submitted.append(output)
        callbacks.send_task_success("tok", '{"done": true}')

    call = _call(INVOKE + ".waitForTaskToken", {"FunctionName": "f"})
    call.task_token = "tok"
    call.on_submitted = answer
    adapter = WaitForToken(LambdaAdapter(pool).submit, callbacks)
    assert anyio.run(adapter.invoke, call) == {"done": True}
    assert [s["Payload"] for s in submitted] == ["queued"]


# -- whole executions against moto -------------------------------------------------------


def _create_function(name: str) -> None:
    import boto3

    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("lambda", region_name="us-east-1").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="h.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )


def _registry(pool: ClientPool) -> AdapterRegistry:
    registry = AdapterRegistry()
    register(registry, pool)
    return registry


def test_lambda_invoke_machine_against_moto(pool: ClientPool) -> None:
    machine = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"},
                "End": True,
            }
        },
    }
    with mock_aws(config={"lambda": {"use_docker": False}}):
        _create_function("echo")
        result = run_sync(
            machine, {"FunctionName": "echo", "Payload": {"body": "x"}}, adapters=_registry(pool)
        )
    assert result.status == "SUCCEEDED", result.cause
    assert result.event_types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert result.output["Payload"] == {"body": "x"}  # moto's simple backend echoes
    assert result.output["StatusCode"] == 200
    assert result.output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert result.output["SdkResponseMetadata"]["RequestId"]


def test_legacy_machine_against_moto(pool: ClientPool) -> None:
    machine = {
        "StartAt": "Start",
        "States": {"Start": {"Type": "Task", "Resource": LEGACY, "End": True}},
    }
    with mock_aws(config={"lambda": {"use_docker": False}}):
        _create_function("echo")
        result = run_sync(machine, {"hello": ["world"]}, adapters=_registry(pool))
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"hello": ["world"]}
    assert result.event_types[2:5] == [
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
    ]


def test_missing_function_against_moto(pool: ClientPool) -> None:
    machine = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": "no_such_function", "Payload": None},
                "Catch": [{"ErrorEquals": ["Lambda.Unknown"], "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    with mock_aws():
        result = run_sync(machine, {}, adapters=_registry(pool))
    assert result.status == "FAILED"
    assert result.error == "Lambda.ResourceNotFoundException"
    assert (result.cause or "").startswith(
        f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:no_such_function "
        "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; "
        "Request ID: "
    )
    assert result.event_types[-2:] == ["TaskFailed", "ExecutionFailed"]

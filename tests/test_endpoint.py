"""The local Step Functions endpoint, driven by an unmodified boto3 client on 127.0.0.1."""

from __future__ import annotations

import json
import queue
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import boto3
import pytest

from runtime import run
from runtime.adapters import activity
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.adapters.callback import CALLBACK_PATTERN, WaitForToken
from runtime.callbacks.registry import CallbackRegistry
from runtime.engine.clock import RealClock
from runtime.server.endpoint import LocalEndpoint

CALLBACK = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {"Message": {"Token.$": "$$.Task.Token"}},
            "TimeoutSeconds": 20,
            "End": True,
        }
    },
}


@pytest.fixture
def endpoint() -> Iterator[LocalEndpoint]:
    with LocalEndpoint(CallbackRegistry(), poll_seconds=0.2) as ep:
        yield ep


def sfn(endpoint: LocalEndpoint) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def run_with_client(
    endpoint: LocalEndpoint, machine: dict[str, Any], client_side: Callable[[str], None]
) -> Any:
    """Run ``machine`` (RealClock); ``client_side(token)`` runs in a thread once submitted."""
    tokens: queue.Queue[str] = queue.Queue()

    async def publish(call: TaskCall) -> Any:
        assert call.task_token is not None
        tokens.put(call.task_token)  # "the message carrying the token was sent"
        return {"MessageId": "m-1"}

    adapters = AdapterRegistry()
    adapters.register(CALLBACK_PATTERN, WaitForToken(publish, endpoint.callbacks))

    def client_thread() -> None:
        client_side(tokens.get(timeout=10))

    async def main() -> Any:
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, client_thread)
            return await run(machine, {}, adapters=adapters, clock=RealClock())

    return anyio.run(main)


def test_boto3_send_task_success_completes_a_running_callback_task(
    endpoint: LocalEndpoint,
) -> None:
    client = sfn(endpoint)
    result = run_with_client(
        endpoint,
        CALLBACK,
        lambda token: client.send_task_success(taskToken=token, output='{"approved": true}'),
    )
    assert (result.status, result.output) == ("SUCCEEDED", {"approved": True})
    submitted = [e for e in result.history if e.type == "TaskSubmitted"]
    assert submitted[0].details["output"] == {"MessageId": "m-1"}


def test_boto3_heartbeat_then_failure(endpoint: LocalEndpoint) -> None:
    client = sfn(endpoint)

    def answer(token: str) -> None:
        client.send_task_heartbeat(taskToken=token)
        client.send_task_failure(taskToken=token, error="Rejected", cause="no budget")

    result = run_with_client(endpoint, CALLBACK, answer)
    assert (result.status, result.error, result.cause) == ("FAILED", "Rejected", "no budget")
    assert "TaskFailed" in result.event_types


def test_api_errors_reach_boto3_as_its_modeled_exceptions(endpoint: LocalEndpoint) -> None:
    client = sfn(endpoint)
    seen: dict[str, str] = {}

    def answer(token: str) -> None:
        with pytest.raises(client.exceptions.InvalidOutput):
            client.send_task_success(taskToken=token, output="not json")
        client.send_task_success(taskToken=token, output="1")
        with pytest.raises(client.exceptions.TaskTimedOut) as info:
            client.send_task_success(taskToken=token, output="2")
        seen["message"] = info.value.response["Error"]["Message"]

    result = run_with_client(endpoint, CALLBACK, answer)
    assert result.output == 1
    assert "does not exist anymore" in seen["message"]
    with pytest.raises(client.exceptions.InvalidToken):
        client.send_task_heartbeat(taskToken="never-issued")


def test_boto3_activity_worker(endpoint: LocalEndpoint) -> None:
    client = sfn(endpoint)
    arn = client.create_activity(name="resize")["activityArn"]
    assert client.describe_activity(activityArn=arn)["name"] == "resize"
    assert "taskToken" not in client.get_activity_task(activityArn=arn)  # idle: no task
    adapters = AdapterRegistry()
    activity.register(adapters, endpoint.activities)

    def worker() -> None:
        task = client.get_activity_task(activityArn=arn, workerName="boto")
        while "taskToken" not in task:  # the execution may not have scheduled it yet
            task = client.get_activity_task(activityArn=arn, workerName="boto")
        data = json.loads(task["input"])
        client.send_task_success(taskToken=task["taskToken"], output=json.dumps(data["n"] + 1))

    machine = {
        "StartAt": "A",
        "States": {"A": {"Type": "Task", "Resource": arn, "TimeoutSeconds": 20, "End": True}},
    }

    async def main() -> Any:
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, worker)
            return await run(machine, {"n": 41}, adapters=adapters, clock=RealClock())

    result = anyio.run(main)
    assert (result.status, result.output) == ("SUCCEEDED", 42)
    assert result.event_types[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]
    with pytest.raises(client.exceptions.ActivityDoesNotExist):
        client.describe_activity(activityArn=arn.replace("resize", "other"))


def test_unknown_operations_and_bodies_are_refused(endpoint: LocalEndpoint) -> None:
    def post(target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            endpoint.url,
            data=body,
            headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, body = post("AWSStepFunctions.StartExecution", b"{}")
    assert status == 400 and body["__type"].endswith("#UnknownOperationException")
    status, body = post("AWSStepFunctions.SendTaskSuccess", b"[1")
    assert status == 400 and body["__type"].endswith("#SerializationException")
    status, body = post("AWSStepFunctions.SendTaskSuccess", b'{"output": "{}"}')
    assert status == 400 and body["__type"].endswith("#ValidationException")
    status, body = post("AWSStepFunctions.ListActivities", b"{}")
    assert (status, body) == (200, {"activities": []})


def test_the_endpoint_binds_loopback_only(endpoint: LocalEndpoint) -> None:
    assert endpoint.url.startswith("http://127.0.0.1:")
    assert endpoint.callbacks.external is True


def test_the_cli_answers_callbacks_through_the_endpoint(endpoint: LocalEndpoint) -> None:
    from runtime.cli import main as asl

    codes: list[int] = []

    def answer(token: str) -> None:
        codes.append(asl(["send-task-heartbeat", token, "--endpoint", endpoint.url]))
        codes.append(
            asl(["send-task-success", token, '{"via": "cli"}', "--endpoint", endpoint.url])
        )

    result = run_with_client(endpoint, CALLBACK, answer)
    assert codes == [0, 0]
    assert (result.status, result.output) == ("SUCCEEDED", {"via": "cli"})


def test_the_cli_reports_an_unknown_token_in_one_line(
    endpoint: LocalEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime.cli import main as asl

    assert asl(["send-task-failure", "nope", "--error", "E", "--endpoint", endpoint.url]) == 1
    assert "InvalidToken" in capsys.readouterr().err

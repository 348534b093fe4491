"""The console's actions over HTTP: only ``asl serve --ui`` has them, each guarded against
cross-site requests, each the API's own operation (its errors too)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from runtime.server.api import ApiOptions, ApiServer
from runtime.server.console import ConsoleOptions, ConsoleServer
from tests import console_store

ROLE = "arn:aws:iam::123456789012:role/r"


def _request(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def _token(page: str) -> str:
    found = re.search(r'<meta name="console-token" content="([^"]+)">', page)
    assert found is not None, "the page carries no console token"
    return found.group(1)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ApiServer, Any]]:
    options = ApiOptions(store=str(tmp_path / "s.db"), port=0, ui=True, poll_seconds=0.1)
    with ApiServer(options) as server:
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="dummy",
            aws_secret_access_key="dummy",
        )
        yield server, sfn


def _approval(sfn: Any) -> tuple[str, str]:
    """A machine whose middle state waits on an activity; returns (machine, activity)."""
    activity = sfn.create_activity(name="approve")["activityArn"]
    definition = {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": {"order": 7}, "Next": "Approve"},
            "Approve": {"Type": "Task", "Resource": activity, "Next": "Finish"},
            "Finish": {"Type": "Pass", "End": True},
        },
    }
    machine = sfn.create_state_machine(
        name="Approval", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    return machine, activity


def test_a_forged_action_is_refused_and_a_genuine_one_is_the_api_call(
    served: tuple[ApiServer, Any],
) -> None:
    server, sfn = served
    machine, _ = _approval(sfn)
    status, page = _request(f"{server.url}/state-machines/{machine}")
    assert status == 200 and 'data-action="StartExecution"' in page
    token = _token(page)
    url = server.url + "/actions/StartExecution"
    body = {"stateMachineArn": machine, "name": "from-console", "input": '{"a": 1}'}
    good = {"content-type": "application/json", "x-console-token": token}
    forged = [
        ({"content-type": "application/json"}, "x-console-token header is missing"),
        ({**good, "x-console-token": "guess"}, "x-console-token header is missing or wrong"),
        ({**good, "content-type": "text/plain"}, "must be application/json, not text/plain"),
        ({**good, "origin": "http://evil.example"}, "comes from http://evil.example"),
        ({**good, "sec-fetch-site": "cross-site"}, "comes from a cross-site page"),
    ]
    for headers, reason in forged:
        status, text = _request(url, body, headers)
        assert status == 403 and reason in json.loads(text)["message"], headers
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []
    origin = {**good, "origin": server.url, "sec-fetch-site": "same-origin"}
    status, text = _request(url, body, origin)
    assert status == 200, text
    arn = json.loads(text)["executionArn"]
    assert arn.endswith(":execution:Approval:from-console")
    assert json.loads(sfn.describe_execution(executionArn=arn)["input"]) == {"a": 1}
    # The API's checks and errors, unchanged.
    status, text = _request(url, {**body, "name": "bad", "input": "{oops"}, good)
    assert status == 400 and json.loads(text)["__type"] == "InvalidExecutionInput"
    status, text = _request(url, {**body, "roleArn": "x"}, good)
    assert status == 400 and "StartExecution takes no roleArn" in text
    status, text = _request(server.url + "/actions/DeleteStateMachine", body, good)
    assert status == 404 and "no action DeleteStateMachine" in text
    status, text = _request(server.url + "/actions/StopExecution", b"[1]", good)
    assert status == 400 and "not a JSON object" in text
    sfn.stop_execution(executionArn=arn)


def test_a_waiting_activity_is_answered_from_the_tasks_page(
    served: tuple[ApiServer, Any],
) -> None:
    server, sfn = served
    machine, activity = _approval(sfn)
    arn = sfn.start_execution(stateMachineArn=machine, name="wait")["executionArn"]
    page = ""
    for _ in range(200):  # the serve loop starts it at once; the task is scheduled soon after
        status, page = _request(server.url + "/tasks")
        if 'data-action="SendTaskSuccess"' in page:
            break
        sfn.describe_execution(executionArn=arn)  # a real request between looks
    assert 'data-action="SendTaskSuccess"' in page, page
    assert activity in page and "taskToken" not in page
    entered = int(re.search(r'name="entered" value="(\d+)"', page).group(1))  # type: ignore[union-attr]
    status, text = _request(f"{server.url}/executions/{arn}/status")
    assert json.loads(text)["waiting"] == ["Approve"]
    headers = {"content-type": "application/json", "x-console-token": _token(page)}
    answer = {"executionArn": arn, "entered": entered, "attempt": 0, "output": '{"ok": true}'}
    status, text = _request(server.url + "/actions/SendTaskSuccess", answer, headers)
    assert status == 200, text
    assert server.wait_ended(arn)
    done = sfn.describe_execution(executionArn=arn)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"ok": True}
    # A second answer: the token is closed, as the API says.
    status, text = _request(server.url + "/actions/SendTaskSuccess", answer, headers)
    assert status == 400 and json.loads(text)["__type"] in ("TaskTimedOut", "TaskDoesNotExist")
    status, text = _request(
        server.url + "/actions/SendTaskFailure", {"executionArn": arn, "entered": "2"}, headers
    )
    assert status == 400 and "entered and attempt (integers)" in text


def test_asl_ui_is_read_only(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    arn = console_store.fill(store, 6)[0]
    with ConsoleServer(ConsoleOptions(str(store), port=0)) as server:
        machine = f"/state-machines/{console_store.PREFIX}:stateMachine:Orders"
        for path in ("/", f"/executions/{arn}", "/state-machines", machine, "/tasks", "/schedules"):
            status, page = _request(server.url + path)
            assert status == 200, path
            assert "console-token" not in page and "data-action=" not in page, path
            assert ">read-only<" in page
        status, text = _request(
            server.url + "/actions/RedriveExecution",
            {"executionArn": arn},
            {"content-type": "application/json", "x-console-token": "x"},
        )
        assert status == 403 and "read-only (asl ui" in json.loads(text)["message"]


def test_with_a_secret_the_console_has_no_actions(tmp_path: Path) -> None:
    options = ApiOptions(store=str(tmp_path / "s.db"), port=0, ui=True, secret="s3cret")
    with ApiServer(options) as server:
        status, page = _request(server.url + "/")
        assert status == 200 and "console-token" not in page
        status, text = _request(
            server.url + "/actions/StartExecution",
            {"stateMachineArn": "x"},
            {"content-type": "application/json", "x-console-token": "x"},
        )
        assert status == 403 and "read-only" in text


def test_an_action_body_over_a_mebibyte_is_refused(served: tuple[ApiServer, Any]) -> None:
    server, _ = served
    status, page = _request(server.url + "/")
    headers = {"content-type": "application/json", "x-console-token": _token(page)}
    big = b'{"executionArn": "' + b"x" * (1 << 20) + b'"}'
    status, text = _request(server.url + "/actions/StopExecution", big, headers)
    assert status == 413 and "over 1048576 bytes" in text

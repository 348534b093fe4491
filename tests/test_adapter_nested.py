"""Nested executions (``states:startExecution``) run in the same runtime."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.stepfunctions.models import stepfunctions_backends as sfn_backends

from runtime import run, run_sync
from runtime.adapters import Services, build_registry, nested
from runtime.adapters.aws import AwsSettings, ClientPool
from runtime.adapters.base import AdapterRegistry, FunctionAdapter, TaskCall
from runtime.adapters.jobs import Backoff
from runtime.engine.clock import VirtualClock

START = 1_700_000_000.0
SM = "arn:aws:states:us-east-1:111111111111:stateMachine:"
CHILD = {
    "StartAt": "W",
    "States": {
        "W": {"Type": "Wait", "Seconds": 100, "Next": "P"},
        "P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True},
    },
}
FAILING = {
    "StartAt": "F",
    "States": {"F": {"Type": "Fail", "Error": "SomeFailure", "Cause": "boom"}},
}
CALLS_A_FUNCTION = {
    "StartAt": "T",
    "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": True}
    },
}


def parent(suffix: str, machine: str, **extra: Any) -> dict[str, Any]:
    state = {
        "Type": "Task",
        "Resource": f"arn:aws:states:::states:startExecution{suffix}",
        "Parameters": {"StateMachineArn": SM + machine, "Input.$": "$.in", "Name": "Kid"},
        "End": True,
    }
    state.update(extra)
    return {"StartAt": "Start", "States": {"Start": state}}


def setup() -> tuple[AdapterRegistry, nested.NestedExecutions]:
    registry = AdapterRegistry()
    machines = {"Child": CHILD, "Failing": FAILING, "Calls": CALLS_A_FUNCTION}
    return registry, nested.register(registry, machines)


def test_sync_returns_describe_execution_with_json_text() -> None:
    registry, _ = setup()
    result = run_sync(
        parent(".sync", "Child"), {"in": None}, adapters=registry, clock=VirtualClock(0)
    )
    out = result.output
    assert out["Status"] == "SUCCEEDED"
    assert out["Input"] == "{}" and out["Output"] == '{"Arg1":"argument1"}'
    assert out["ExecutionArn"] == "arn:aws:states:us-east-1:111111111111:execution:Child:Kid"
    assert out["StartDate"] == 0 and out["StopDate"] == 100_000  # epoch milliseconds
    assert out["InputDetails"] == out["OutputDetails"] == {"Included": True}
    assert out["RedriveStatus"] == "NOT_REDRIVABLE"
    assert "TaskSubmitted" in result.event_types  # recorded base_callbacks.sfn_start_execution_sync


def test_sync2_parses_input_and_output() -> None:
    registry, _ = setup()
    result = run_sync(parent(".sync:2", "Child"), {"in": '{"a": 1}'}, adapters=registry)
    assert result.output["Input"] == {"a": 1}
    assert result.output["Output"] == {"Arg1": "argument1"}


def test_request_response_starts_in_the_background() -> None:
    registry, children = setup()

    async def main() -> tuple[Any, str]:
        clock = VirtualClock(1000)
        result = await run(parent("", "Child"), {"in": {"x": 1}}, adapters=registry, clock=clock)
        await children.wait_all()
        return result.output, children.executions[result.output["ExecutionArn"]].status

    output, status = anyio.run(main)
    assert set(output) == {"ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"}
    assert output["StartDate"] == 1_000_000
    assert status == "SUCCEEDED"


def test_failed_child_fails_the_task_with_its_description() -> None:
    registry, _ = setup()
    result = run_sync(parent(".sync", "Failing"), {"in": None}, adapters=registry)
    assert result.error == "States.TaskFailed"
    cause = json.loads(result.cause or "")
    assert cause["Error"] == "SomeFailure" and cause["Cause"] == "boom"
    assert cause["Status"] == "FAILED" and cause["Input"] == "{}" and "Output" not in cause
    assert {"ExecutionArn", "InputDetails", "Name", "StartDate", "StopDate"} <= set(cause)


def test_unknown_state_machine() -> None:
    registry, _ = setup()
    result = run_sync(parent("", "Nope"), {"in": None}, adapters=registry)
    assert result.error == "StepFunctions.StateMachineDoesNotExistException"
    assert (result.cause or "").startswith(
        f"State Machine Does Not Exist: '{SM}Nope' (Service: AWSStepFunctions; Status Code: 400;"
        " Error Code: StateMachineDoesNotExist; Request ID: "
    )
    assert (result.cause or "").endswith("; Proxy: null)")


def test_parent_timeout_aborts_the_child() -> None:
    registry, children = setup()
    machine = parent(".sync", "Child", TimeoutSeconds=10)
    result = run_sync(machine, {"in": None}, adapters=registry, clock=VirtualClock(0))
    assert result.error == "States.Timeout"
    child = children.executions[f"{SM.replace('stateMachine', 'execution')}Child:Kid"]
    assert child.status == "ABORTED" and child.stop == 10


def test_children_use_the_parents_adapters() -> None:
    registry, _ = setup()
    registry.register(r":function:f$", FunctionAdapter(lambda event: {"seen": event}))
    result = run_sync(parent(".sync:2", "Calls"), {"in": {"n": 1}}, adapters=registry)
    assert result.output["Output"] == {"seen": {"n": 1}}


def test_a_name_cannot_be_reused() -> None:
    registry, _ = setup()
    assert run_sync(parent(".sync", "Child"), {"in": None}, adapters=registry).succeeded
    again = run_sync(parent(".sync", "Child"), {"in": None}, adapters=registry)
    assert again.error == "StepFunctions.ExecutionAlreadyExistsException"


def test_input_text_must_be_json() -> None:
    registry, _ = setup()
    result = run_sync(parent(".sync", "Child"), {"in": "not json"}, adapters=registry)
    assert result.error == "StepFunctions.InvalidExecutionInputException"


@pytest.mark.parametrize("key", ["Child", SM + "Child"])
def test_machines_resolve_by_name_or_arn(key: str) -> None:
    registry = AdapterRegistry()
    nested.register(registry, {key: CHILD})
    assert run_sync(parent(".sync", "Child"), {"in": None}, adapters=registry).succeeded


# -- remote children: real boto3 calls against moto's Step Functions -----------------------
#
# moto's executions never run: with SF_EXECUTION_HISTORY_TYPE=SUCCESS (the default) they
# stay RUNNING, with FAILURE they are FAILED at once. A success is staged by a describe
# spy that ends the execution in moto's backend after the first RUNNING answer.

REMOTE = f"arn:aws:states:us-east-1:{DEFAULT_ACCOUNT_ID}:stateMachine:"
REMOTE_CHILD = REMOTE + "Remote"


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientPool]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("SF_EXECUTION_HISTORY_TYPE", raising=False)
    with mock_aws():
        pool = ClientPool(AwsSettings(region="us-east-1"))
        pool.client("stepfunctions").create_state_machine(
            name="Remote",
            definition=json.dumps(CHILD),
            roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/sfn",
        )
        yield pool


def remote_parent(suffix: str, arn: str = REMOTE_CHILD, **extra: Any) -> dict[str, Any]:
    machine = parent(suffix, "", **extra)
    machine["States"]["Start"]["Parameters"]["StateMachineArn"] = arn
    return machine


def run_remote(pool: ClientPool, machine: dict[str, Any], data: Any) -> Any:
    registry = AdapterRegistry()
    nested.register(registry, {"Child": CHILD}, pool, Backoff(initial=5, maximum=60))
    return run_sync(machine, data, adapters=registry, clock=VirtualClock(START))


def spy(pool: ClientPool, monkeypatch: pytest.MonkeyPatch, method: str) -> list[dict[str, Any]]:
    """Record the calls of ``method`` on the pooled Step Functions client."""
    client = pool.client("stepfunctions", "us-east-1")
    real = getattr(client, method)
    calls: list[dict[str, Any]] = []

    def recorded(**params: Any) -> Any:
        calls.append(params)
        return real(**params)

    monkeypatch.setattr(client, method, recorded)
    return calls


def end_after_first_poll(pool: ClientPool, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Make moto report the child SUCCEEDED from the second DescribeExecution on."""
    client = pool.client("stepfunctions", "us-east-1")
    real = client.describe_execution
    answers: list[Any] = []

    def describe(**params: Any) -> Any:
        if answers:
            execution = sfn_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].describe_execution(
                params["executionArn"]
            )
            execution.status, execution.output = "SUCCEEDED", '{"Arg1":"argument1"}'
            execution.stop_date = datetime.fromtimestamp(START + 7, tz=UTC)
        answers.append(real(**params))
        return answers[-1]

    monkeypatch.setattr(client, "describe_execution", describe)
    return answers


def test_remote_request_response_starts_on_aws(pool: ClientPool) -> None:
    result = run_remote(pool, remote_parent(""), {"in": {"x": 1}})
    out = result.output
    assert list(out) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
    assert out["ExecutionArn"] == REMOTE_CHILD.replace("stateMachine", "execution") + ":Kid"
    assert isinstance(out["StartDate"], int) and out["SdkHttpMetadata"]["HttpStatusCode"] == 200
    described = pool.client("stepfunctions").describe_execution(executionArn=out["ExecutionArn"])
    assert json.loads(described["input"]) == {"x": 1} and described["name"] == "Kid"


def test_remote_input_text_passes_as_given(pool: ClientPool) -> None:
    result = run_remote(pool, remote_parent(""), {"in": '{"a": 1}'})
    arn = result.output["ExecutionArn"]
    assert pool.client("stepfunctions").describe_execution(executionArn=arn)["input"] == (
        '{"a": 1}'
    )


def test_remote_sync_polls_until_the_child_ends(
    pool: ClientPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = end_after_first_poll(pool, monkeypatch)
    result = run_remote(pool, remote_parent(".sync"), {"in": None})
    out = result.output
    assert [answer["status"] for answer in answers] == ["RUNNING", "SUCCEEDED"]
    assert list(out) == sorted(out) and "ResponseMetadata" not in out
    assert out["Status"] == "SUCCEEDED" and out["Name"] == "Kid"
    assert out["Input"] == "{}" and out["Output"] == '{"Arg1":"argument1"}'
    assert out["StopDate"] == (START + 7) * 1000 and isinstance(out["StartDate"], int)
    assert out["StateMachineArn"] == REMOTE_CHILD
    assert "TaskSubmitted" in result.event_types
    assert result.stop_time == START + 5 + 10  # two polls: 5 s, then 10 s of backoff


def test_remote_sync2_parses_input_and_output(
    pool: ClientPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    end_after_first_poll(pool, monkeypatch)
    result = run_remote(pool, remote_parent(".sync:2"), {"in": {"a": 1}})
    assert result.output["Input"] == {"a": 1}
    assert result.output["Output"] == {"Arg1": "argument1"}


def test_remote_failed_child_fails_the_task(
    pool: ClientPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SF_EXECUTION_HISTORY_TYPE", "FAILURE")
    result = run_remote(pool, remote_parent(".sync"), {"in": None})
    assert result.error == "States.TaskFailed"
    cause = json.loads(result.cause or "")
    assert cause["Status"] == "FAILED" and cause["Name"] == "Kid" and "Output" not in cause
    assert cause["ExecutionArn"].endswith(":execution:Remote:Kid")
    assert result.cause == json.dumps(cause)  # the local path's format: ", " and ": "


def test_remote_unknown_state_machine(pool: ClientPool) -> None:
    result = run_remote(pool, remote_parent(".sync", REMOTE + "Nope"), {"in": None})
    assert result.error == "StepFunctions.StateMachineDoesNotExistException"
    cause = result.cause or ""
    assert cause.startswith(
        f"State Machine Does Not Exist: '{REMOTE}Nope' (Service: AWSStepFunctions; "
        "Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: "
    )
    assert cause.endswith("; Proxy: null)")


def test_remote_timeout_stops_the_child(pool: ClientPool, monkeypatch: pytest.MonkeyPatch) -> None:
    stops = spy(pool, monkeypatch, "stop_execution")
    result = run_remote(pool, remote_parent(".sync", TimeoutSeconds=30), {"in": None})
    assert result.error == "States.Timeout"
    arn = REMOTE_CHILD.replace("stateMachine", "execution") + ":Kid"
    assert stops == [{"executionArn": arn}]
    assert pool.client("stepfunctions").describe_execution(executionArn=arn)["status"] == (
        "ABORTED"
    )


def test_local_machines_stay_local_with_aws(
    pool: ClientPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = spy(pool, monkeypatch, "start_execution")
    result = run_remote(pool, parent(".sync", "Child"), {"in": None})
    assert result.succeeded and starts == []


def test_build_registry_gives_the_pool_to_nested_executions(pool: ClientPool) -> None:
    services = Services.create(pool=pool)
    result = run_sync(remote_parent(""), {"in": None}, adapters=build_registry(services))
    assert result.output["ExecutionArn"].endswith(":execution:Remote:Kid")


# -- $$.Task.Token of a startExecution.sync task (issue 19) ------------------------------
# AWS gives a .sync task a token; a parent may pass it to its child, and SendTaskSuccess on
# it ends the parent's task while the child still runs (LocalStack's AWS-validated
# test_callback.py::TestCallback::test_sync_with_task_token, template
# sfn_start_execution_sync_with_task_token.json5).

SYNC_WITH_TOKEN = {
    "StartAt": "StartExecution",
    "States": {
        "StartExecution": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync",
            "Parameters": {
                "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Child",
                "Name": "TestStartTarget",
                "Input": {"QueueUrl.$": "$.QueueUrl", "TaskToken.$": "$$.Task.Token"},
            },
            "End": True,
        }
    },
}

CHILD_FORWARDS_TOKEN = {
    "StartAt": "SendMessageAndWait",
    "States": {
        "SendMessageAndWait": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {
                "QueueUrl.$": "$.QueueUrl",
                "MessageBody": {"ParentToken.$": "$.TaskToken", "Own.$": "$$.Task.Token"},
            },
            "TimeoutSeconds": 600,
            "End": True,
        }
    },
}


def _sync_with_token_registry(answer: str) -> tuple[Any, list[dict[str, Any]]]:
    from runtime.adapters import Services, build_registry
    from runtime.adapters.callback import CALLBACK_PATTERN, WaitForToken

    services = Services.create(machines={"Child": CHILD_FORWARDS_TOKEN})
    registry = build_registry(services)
    sent: list[dict[str, Any]] = []

    async def send_message(call: TaskCall) -> Any:
        body = call.parameters["MessageBody"]
        sent.append(body)
        # The worker on the queue answers the token it found in the message.
        if answer == "success":
            services.callbacks.send_task_success(body["ParentToken"], '{"worker": "done"}')
        else:
            services.callbacks.send_task_failure(body["ParentToken"], "Worker.Refused", "no")
        return {"MessageId": "m-1"}

    registry.register(CALLBACK_PATTERN, WaitForToken(send_message, services.callbacks))
    return registry, sent


def test_a_sync_childs_input_carries_the_parents_token_and_send_task_success_ends_it() -> None:
    registry, sent = _sync_with_token_registry("success")
    result = run_sync(SYNC_WITH_TOKEN, {"QueueUrl": "q"}, adapters=registry)
    assert (result.status, result.output) == ("SUCCEEDED", {"worker": "done"})
    parent_token = sent[0]["ParentToken"]
    assert isinstance(parent_token, str) and parent_token != sent[0]["Own"]
    scheduled = next(e for e in result.history if e.type == "TaskScheduled")
    assert '"TaskToken":"' + parent_token in scheduled.details["parameters"]
    assert result.event_types[-4:] == [
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_send_task_failure_on_a_sync_tasks_token_fails_the_parent_task() -> None:
    registry, _ = _sync_with_token_registry("failure")
    result = run_sync(SYNC_WITH_TOKEN, {"QueueUrl": "q"}, adapters=registry)
    assert (result.status, result.error, result.cause) == ("FAILED", "Worker.Refused", "no")


def test_a_sync_child_that_ends_first_still_gives_its_description() -> None:
    from runtime.adapters import Services, build_registry

    services = Services.create(
        machines={"Child": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}
    )
    result = run_sync(SYNC_WITH_TOKEN, {"QueueUrl": "q"}, adapters=build_registry(services))
    assert result.status == "SUCCEEDED"
    assert result.output["Status"] == "SUCCEEDED"
    assert json.loads(result.output["Output"])["QueueUrl"] == "q"
    assert services.callbacks.pending() == []  # the parent's token was closed

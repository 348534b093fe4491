"""Nested executions (``states:startExecution``) run in the same runtime."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from runtime import run, run_sync
from runtime.adapters import nested
from runtime.adapters.base import AdapterRegistry, FunctionAdapter
from runtime.clock import VirtualClock

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

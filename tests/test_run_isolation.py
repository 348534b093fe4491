"""A machine compiled once and run many times gives every run the same answer, whatever
its callers do with what they get: outputs, inputs and a Python adapter's parameters are
their own, never the definition's constants or another run's data."""

from __future__ import annotations

from typing import Any

from runtime import load_machine, run_sync
from runtime.adapters.base import AdapterRegistry, FunctionAdapter

RESULT = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": [1]}, "End": True}}}
TEMPLATE = {
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Parameters": {"a": [1], "b.$": "$.x"}, "End": True}},
}


def test_editing_an_output_does_not_change_the_next_run() -> None:
    machine = load_machine(RESULT)
    first = run_sync(machine, {})
    first.output["a"].append(2)
    assert run_sync(machine, {}).output == {"a": [1]}


def test_template_constants_and_the_input_stay_the_callers() -> None:
    machine = load_machine(TEMPLATE)
    given = {"x": {"k": 1}}
    result = run_sync(machine, given)
    result.output["a"].append(2)
    result.output["b"]["k"] = 5
    assert given == {"x": {"k": 1}}
    given["x"]["k"] = 7  # after the run: its history keeps the input it started with
    assert result.history[0].details is not None
    assert result.history[0].details["input"] == {"x": {"k": 1}}
    assert run_sync(machine, {"x": {"k": 1}}).output == {"a": [1], "b": {"k": 1}}


def test_a_python_adapter_that_edits_its_parameters_edits_a_copy() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::my:thing",
                "Parameters": {"a": [1]},
                "End": True,
            }
        },
    }

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        event["a"].append(9)
        return event

    registry = AdapterRegistry()
    registry.register(r"arn:aws:states:::my:thing", FunctionAdapter(handler))
    machine = load_machine(definition)
    outputs = [run_sync(machine, {}, adapters=registry).output for _ in range(2)]
    assert outputs == [{"a": [1, 9]}, {"a": [1, 9]}]

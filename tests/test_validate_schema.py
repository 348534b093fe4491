"""The packaged schema is valid Draft 2020-12, and our interpreter agrees with jsonschema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from asl.validate.jsonschema_lite import SchemaChecker
from asl.validate.rules.walk import build_machine
from asl.validate.schema import STATE_TYPES, load_schema

CASES = sorted(Path("/work/shared/conformance/cases").glob("*.json"))


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(load_schema())


def test_interpreter_refuses_unknown_keywords() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        SchemaChecker({"x": {"type": "string", "format": "date-time"}})


def _parts(definition: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(subschema name, instance) for every part the driver validates."""
    machine = build_machine(definition)
    yield "StateMachine", definition
    for state in machine.states:
        kind = state.type
        yield (f"{kind}.{state.language}" if kind in STATE_TYPES else "State"), state.body


def _agree(definition: dict[str, Any]) -> None:
    defs = load_schema()["$defs"]
    ours = SchemaChecker(defs)
    for name, instance in _parts(definition):
        reference = Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": defs})
        expected = reference.is_valid(instance)
        assert (next(ours.errors(name, instance), None) is None) == expected, (name, instance)


@pytest.mark.parametrize("path", CASES[::7], ids=[path.stem for path in CASES[::7]])
def test_agrees_with_jsonschema_on_recorded_definitions(path: Path) -> None:
    _agree(json.loads(path.read_text())["definition"])


BROKEN_STATES: list[dict[str, Any]] = [
    {"Type": "Task", "End": True},
    {"Type": "Task", "Resource": 1, "End": True, "TimeoutSeconds": 0},
    {"Type": "Task", "Resource": "a", "End": True, "TimeoutSeconds": 1.0},
    {"Type": "Task", "Resource": "a", "End": True, "TimeoutSeconds": True},
    {"Type": "Task", "Resource": "a", "End": "yes", "Retry": [{"ErrorEquals": []}]},
    {"Type": "Task", "Resource": "a", "End": True, "Retry": [{"ErrorEquals": ["X"], "X": 1}]},
    {
        "Type": "Task",
        "Resource": "a",
        "End": True,
        "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "SOME"}],
    },
    {"Type": "Wait", "Seconds": -1, "End": True},
    {"Type": "Wait", "Seconds": "{% 1 %}", "End": True},
    {"Type": "Wait", "Seconds": "{% 1 %}", "End": True, "QueryLanguage": "JSONata"},
    {"Type": "Wait", "Seconds": "1", "End": True, "QueryLanguage": "JSONata"},
    {"Type": "Map", "End": True, "ToleratedFailurePercentage": 101},
    {"Type": "Map", "End": True, "Items": 3, "QueryLanguage": "JSONata"},
    {"Type": "Map", "End": True, "ProcessorConfig": {}},
    {
        "Type": "Map",
        "End": True,
        "ItemProcessor": {"StartAt": "a", "States": {}, "ProcessorConfig": {"Mode": "x"}},
    },
    {"Type": "Choice", "Choices": []},
    {"Type": "Choice", "Choices": [{}], "Next": "x"},
    {"Type": "Pass", "Output": 1, "End": True},
    {"Type": "Pass", "QueryLanguage": "JSONata", "Parameters": {}, "End": True},
    {"Type": "Fail", "Error": None},
    {"Type": "Succeed", "InputPath": None, "OutputPath": 3},
    {"Type": "Nope"},
    {"Comment": "no type"},
]


@pytest.mark.parametrize("state", BROKEN_STATES)
def test_agrees_with_jsonschema_on_broken_states(state: dict[str, Any]) -> None:
    _agree({"StartAt": "S", "States": {"S": state}, "Version": 1})

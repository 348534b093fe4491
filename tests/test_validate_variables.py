"""Variable and JSONata-reference rules (SPEC A.5, A.6): each broken on purpose."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from asl.validate import CODES, Diagnostic, validate
from asl.validate.rules import variables
from asl.validate.rules.variables import is_variable_name

PASS_END: dict[str, Any] = {"Type": "Pass", "End": True}
TASK = "arn:aws:states:::lambda:invoke"


def machine(language: str = "JSONPath", **states: Any) -> dict[str, Any]:
    """A machine whose first state is the start state."""
    return {"QueryLanguage": language, "StartAt": next(iter(states)), "States": states}


def jsonata(**states: Any) -> dict[str, Any]:
    return machine("JSONata", **states)


def state(base: dict[str, Any], **fields: Any) -> dict[str, Any]:
    result = copy.deepcopy(base)
    result.update(fields)
    return result


def found(definition: dict[str, Any], code: str) -> list[Diagnostic]:
    return [d for d in validate(definition) if d.code == code]


def processor(**states: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


BROKEN: list[tuple[str, dict[str, Any], str, str, str, str]] = [
    (
        "name starts with '_' (not ID_Start)",
        machine(A=state(PASS_END, Assign={"_x": 1})),
        "INVALID_VARIABLE_NAME",
        "ERROR",
        "/States/A/Assign/_x",
        "ID_Start",
    ),
    (
        "sub-path assignment",
        machine(A=state(PASS_END, Assign={"x[2]": 1})),
        "INVALID_VARIABLE_NAME",
        "ERROR",
        "/States/A/Assign/x[2]",
        "not paths",
    ),
    (
        "JSONPath read of an unassigned variable",
        machine(A=state(PASS_END, Parameters={"a.$": "$nope.field"})),
        "UNDEFINED_VARIABLE",
        "WARNING",
        "/States/A/Parameters/a.$",
        "'$nope'",
    ),
    (
        "intrinsic argument reads an unassigned variable",
        machine(A=state(PASS_END, Parameters={"a.$": "States.Format('{}', $nope)"})),
        "UNDEFINED_VARIABLE",
        "WARNING",
        "/States/A/Parameters/a.$",
        "'$nope'",
    ),
    (
        "InputPath reads an unassigned variable",
        machine(A=state(PASS_END, InputPath="$nope")),
        "UNDEFINED_VARIABLE",
        "WARNING",
        "/States/A/InputPath",
        "'$nope'",
    ),
    (
        "a state reads what its own Assign sets (visible from the next state only)",
        jsonata(A=state(PASS_END, Assign={"x": 1}, Output="{% $x %}")),
        "UNDEFINED_VARIABLE",
        "WARNING",
        "/States/A/Output",
        "'$x'",
    ),
    (
        "JSONata read of an unassigned variable",
        jsonata(A=state(PASS_END, Output={"r": "{% $nope + 1 %}"})),
        "UNDEFINED_VARIABLE",
        "WARNING",
        "/States/A/Output/r",
        "'$nope'",
    ),
    (
        "Distributed Map processor reads an outer variable",
        jsonata(
            A=state(PASS_END, Assign={"outer": 1}, Next="M", End=None),
            M={
                "Type": "Map",
                "End": True,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    **processor(I=state(PASS_END, Output="{% $outer %}")),
                },
            },
        ),
        "UNDEFINED_VARIABLE",
        "WARNING",
        "/States/M/ItemProcessor/States/I/Output",
        "Distributed Map",
    ),
    (
        "Map processor assigns an outer variable",
        jsonata(
            A=state(PASS_END, Assign={"x": 1}, Next="M", End=None),
            M={
                "Type": "Map",
                "End": True,
                "ItemProcessor": processor(I=state(PASS_END, Assign={"x": 2})),
            },
        ),
        "SHADOWED_VARIABLE",
        "ERROR",
        "/States/M/ItemProcessor/States/I/Assign/x",
        "enclosing scope",
    ),
    (
        "Parallel branch's Catch assigns an outer variable",
        machine(
            A=state(PASS_END, Assign={"x": 1}, Next="P", End=None),
            P={
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    processor(
                        T={
                            "Type": "Task",
                            "Resource": TASK,
                            "End": True,
                            "Catch": [
                                {"ErrorEquals": ["States.ALL"], "Assign": {"x": 3}, "Next": "E"}
                            ],
                        },
                        E=PASS_END,
                    )
                ],
            },
        ),
        "SHADOWED_VARIABLE",
        "ERROR",
        "/States/P/Branches/0/States/T/Catch/0/Assign/x",
        "no shadowing",
    ),
    (
        "$states.result in Arguments",
        jsonata(
            T={"Type": "Task", "Resource": TASK, "Arguments": "{% $states.result %}", "End": True}
        ),
        "INVALID_JSONATA",
        "ERROR",
        "/States/T/Arguments",
        "'$states.result'",
    ),
    (
        "$states.result in a Pass state's Output",
        jsonata(A=state(PASS_END, Output="{% $states.result %}")),
        "INVALID_JSONATA",
        "ERROR",
        "/States/A/Output",
        "Task, Map or Parallel",
    ),
    (
        "$states.result in a Catcher",
        jsonata(
            T={
                "Type": "Task",
                "Resource": TASK,
                "End": True,
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Output": "{% $states.result %}",
                        "Next": "E",
                    }
                ],
            },
            E=PASS_END,
        ),
        "INVALID_JSONATA",
        "ERROR",
        "/States/T/Catch/0/Output",
        "'$states.result'",
    ),
    (
        "$states.errorOutput outside a Catcher",
        jsonata(
            T={"Type": "Task", "Resource": TASK, "Output": "{% $states.errorOutput %}", "End": True}
        ),
        "INVALID_JSONATA",
        "ERROR",
        "/States/T/Output",
        "Catcher",
    ),
    (
        "top-level $",
        jsonata(A=state(PASS_END, Output={"a": "{% $.a %}"})),
        "INVALID_JSONATA",
        "ERROR",
        "/States/A/Output/a",
        "'$states.input'",
    ),
    (
        "top-level $$",
        jsonata(A=state(PASS_END, Output="{% $$ %}")),
        "INVALID_JSONATA",
        "ERROR",
        "/States/A/Output",
        "'$$'",
    ),
    (
        "bare field name",
        jsonata(
            C={
                "Type": "Choice",
                "Choices": [{"Condition": "{% flag %}", "Next": "E"}],
                "Default": "E",
            },
            E=PASS_END,
        ),
        "INVALID_JSONATA",
        "ERROR",
        "/States/C/Choices/0/Condition",
        "bare field",
    ),
]


@pytest.mark.parametrize(
    ("definition", "code", "severity", "location", "fragment"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_definition_is_reported(
    definition: dict[str, Any], code: str, severity: str, location: str, fragment: str
) -> None:
    matching = [d for d in found(definition, code) if d.location == location]
    assert matching, validate(definition)
    assert all(d.severity == severity for d in matching)
    assert any(fragment in d.message for d in matching), matching
    assert code in CODES or code in variables.CODES


VALID: list[tuple[str, dict[str, Any]]] = [
    ("unicode name", machine(A=state(PASS_END, Assign={"名前": 1, "café2": 2}))),
    (
        "assigned on one branch of a Choice is enough",
        jsonata(
            A=state(PASS_END, Next="C", End=None),
            C={
                "Type": "Choice",
                "Choices": [{"Condition": "{% true %}", "Assign": {"x": 1}, "Next": "R"}],
                "Default": "R",
            },
            R=state(PASS_END, Output="{% $x %}"),
        ),
    ),
    (
        "read after the assigning state, through a loop",
        machine(
            A=state(PASS_END, Assign={"n": 0}, Next="B", End=None),
            B={
                "Type": "Choice",
                "Choices": [{"Variable": "$n", "NumericLessThan": 3, "Next": "A"}],
                "Default": "E",
            },
            E=state(PASS_END, Parameters={"n.$": "$n"}),
        ),
    ),
    (
        "JSONata locals, parameters and functions are not variables",
        jsonata(
            A=state(
                PASS_END,
                Output="{% ($f := function($v) { $v + 1 }; $append($map([1], $f), $uuid())) %}",
            )
        ),
    ),
    (
        "inline Map processor reads an outer variable",
        jsonata(
            A=state(PASS_END, Assign={"outer": 1}, Next="M", End=None),
            M={
                "Type": "Map",
                "End": True,
                "Items": "{% [1, 2] %}",
                "ItemProcessor": processor(I=state(PASS_END, Output="{% $outer %}")),
            },
        ),
    ),
    (
        "sibling branches may use the same name",
        jsonata(
            P={
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    processor(B1=state(PASS_END, Assign={"x": 1})),
                    processor(B2=state(PASS_END, Assign={"x": 2})),
                ],
            }
        ),
    ),
    (
        "result, errorOutput, nested $ and constructors where allowed",
        jsonata(
            T={
                "Type": "Task",
                "Resource": TASK,
                "Arguments": {"items": "{% $states.input.items[$.price > 10] %}"},
                "Output": "{% {'r': $states.result, 'n': $count($states.input.items)} %}",
                "Assign": {"r": "{% $states.result.Payload %}"},
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Assign": {"e": "{% $states.errorOutput.Error %}"},
                        "Output": "{% $states.errorOutput %}",
                        "Next": "E",
                    }
                ],
                "Next": "E",
            },
            E=state(PASS_END, Output="{% $states.input %}"),
        ),
    ),
]


@pytest.mark.parametrize("definition", [case[1] for case in VALID], ids=[c[0] for c in VALID])
def test_valid_definition_has_no_variable_diagnostic(definition: dict[str, Any]) -> None:
    mine = {"INVALID_VARIABLE_NAME", "INVALID_JSONATA", *variables.CODES}
    assert [d for d in validate(definition) if d.code in mine] == []


def test_catch_path_does_not_see_the_state_assign() -> None:
    definition = jsonata(
        T={
            "Type": "Task",
            "Resource": TASK,
            "Assign": {"ok": 1},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
            "End": True,
        },
        H=state(PASS_END, Output="{% $ok %}"),
    )
    [diag] = found(definition, "UNDEFINED_VARIABLE")
    assert diag.location == "/States/H/Output"


def test_catch_assign_is_seen_on_the_catch_path() -> None:
    definition = jsonata(
        T={
            "Type": "Task",
            "Resource": TASK,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"err": 1}, "Next": "H"}],
            "End": True,
        },
        H=state(PASS_END, Output="{% $err %}"),
    )
    assert found(definition, "UNDEFINED_VARIABLE") == []


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("x", True),
        ("名前", True),
        ("x_1", True),
        ("ⅻ", True),  # letter number (Nl) is ID_Start
        ("_x", False),
        ("1x", False),
        ("states", False),
        ("x" * 80, True),
        ("x" * 81, False),
        ("x-y", False),
        ("", False),
    ],
)
def test_is_variable_name(name: str, valid: bool) -> None:
    assert is_variable_name(name) is valid


CASES = sorted(Path("/work/shared/conformance/cases").glob("*.json"))


def test_recorded_definitions_get_warnings_only_where_aws_failed_at_run_time() -> None:
    mine = {"INVALID_VARIABLE_NAME", "INVALID_JSONATA", *variables.CODES}
    flagged: dict[str, list[Diagnostic]] = {}
    for path in CASES:
        case = json.loads(path.read_text())
        definition = case["definition"]
        definition = json.loads(definition) if isinstance(definition, str) else definition
        diags = [d for d in validate(definition) if d.code in mine]
        assert all(d.severity == "WARNING" for d in diags), (path.stem, diags)
        if diags:
            flagged[case["id"]] = diags
    assert len(CASES) == 787
    assert sorted(flagged) == sorted(
        f"assign_reference_variables.undefined_reference.{name}"
        for name in (
            "base_undefined_arguments",
            "base_undefined_arguments_field",
            "base_undefined_assign",
            "base_undefined_output",
            "base_undefined_output_field",
            "base_undefined_output_multiple_states",
        )
    )

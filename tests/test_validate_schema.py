"""The packaged schema, applied with jsonschema: one located, readable diagnostic per problem."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from asl.validate import validate
from asl.validate.schema import (
    _describe,
    _one_per_problem,
    _root_validator,
    _validator,
    load_schema,
)

_CODE = "SCHEMA_VALIDATION_FAILED"


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(load_schema())


def test_schema_and_validators_are_built_once() -> None:
    assert load_schema() is load_schema()
    assert _validator("Task.JSONPath") is _validator("Task.JSONPath")
    assert isinstance(_root_validator(), Draft202012Validator)
    # Evolved validators keep the root's resolver, so "$ref": "#/$defs/..." resolves.
    assert _validator("Task.JSONPath").is_valid({"Type": "Task", "Resource": "a", "End": True})
    assert not _validator("Task.JSONPath").is_valid({"Type": "Task", "End": True, "Retry": [1]})


def schema_problems(state: dict[str, Any]) -> list[tuple[str, str]]:
    """(location, message) of the schema diagnostics of a one-state machine."""
    definition = {"StartAt": "S", "States": {"S": state}}
    return [(d.location, d.message) for d in validate(definition) if d.code == _CODE]


# (state, [(location, message)]): every schema problem, exactly once, in document order.
BROKEN_STATES: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
    ({"Type": "Task", "End": True}, [("/States/S", "Missing required field 'Resource'.")]),
    (
        {"Type": "Task", "Resource": 1, "End": True, "TimeoutSeconds": 0},
        [
            ("/States/S/Resource", "'Resource' must be a string, got a number."),
            ("/States/S/TimeoutSeconds", "'TimeoutSeconds' must be at least 1, got 0."),
        ],
    ),
    ({"Type": "Task", "Resource": "a", "End": True, "TimeoutSeconds": 1.0}, []),
    (
        {"Type": "Task", "Resource": "a", "End": True, "TimeoutSeconds": True},
        [("/States/S/TimeoutSeconds", "'TimeoutSeconds' must be an integer, got a boolean.")],
    ),
    (
        {"Type": "Task", "Resource": "a", "End": "yes", "Retry": [{"ErrorEquals": []}]},
        [
            ("/States/S", "A Task state must have either 'Next' or \"End\": true."),
            ("/States/S/End", "'End' must be a boolean, got a string."),
            (
                "/States/S/Retry/0/ErrorEquals",
                "'Retry[0].ErrorEquals' must be a non-empty array of error names, got [].",
            ),
        ],
    ),
    (
        {"Type": "Task", "Resource": "a", "End": True, "Retry": [{"ErrorEquals": ["X"], "X": 1}]},
        [("/States/S/Retry/0/X", "Field 'X' is not supported.")],
    ),
    (
        {
            "Type": "Task",
            "Resource": "a",
            "End": True,
            "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "SOME"}],
        },
        [
            (
                "/States/S/Retry/0/JitterStrategy",
                "'Retry[0].JitterStrategy' must be one of FULL, NONE; got \"SOME\".",
            )
        ],
    ),
    (
        {"Type": "Wait", "Seconds": -1, "End": True},
        [("/States/S/Seconds", "'Seconds' must be at least 0, got -1.")],
    ),
    (
        {"Type": "Wait", "Seconds": "{% 1 %}", "End": True},
        [("/States/S/Seconds", "'Seconds' must be an integer, got a string.")],
    ),
    ({"Type": "Wait", "Seconds": "{% 1 %}", "End": True, "QueryLanguage": "JSONata"}, []),
    (
        {"Type": "Wait", "Seconds": "1", "End": True, "QueryLanguage": "JSONata"},
        [
            (
                "/States/S/Seconds",
                "'Seconds' must be an integer or a JSONata expression {% ... %}, got \"1\".",
            )
        ],
    ),
    (
        {
            "Type": "Task",
            "Resource": "a",
            "End": True,
            "TimeoutSeconds": 0,
            "QueryLanguage": "JSONata",
        },
        [
            (
                "/States/S/TimeoutSeconds",
                "'TimeoutSeconds' must be an integer or a JSONata expression {% ... %}, got 0.",
            )
        ],
    ),
    (
        {"Type": "Map", "End": True, "Items": 3, "QueryLanguage": "JSONata", "ItemProcessor": {}},
        [
            (
                "/States/S/Items",
                "'Items' must be an array, an object or a JSONata expression {% ... %}, got 3.",
            ),
            ("/States/S/ItemProcessor", "Missing required field 'StartAt' in 'ItemProcessor'."),
            ("/States/S/ItemProcessor", "Missing required field 'States' in 'ItemProcessor'."),
        ],
    ),
    (
        {
            "Type": "Map",
            "End": True,
            "ItemProcessor": {"StartAt": "a", "States": {}, "ProcessorConfig": {"Mode": "x"}},
        },
        [
            ("/States/S/ItemProcessor/States", "'ItemProcessor.States' must not be empty."),
            (
                "/States/S/ItemProcessor/ProcessorConfig/Mode",
                "'ItemProcessor.ProcessorConfig.Mode' must be one of INLINE, DISTRIBUTED; "
                'got "x".',
            ),
        ],
    ),
    ({"Type": "Choice", "Choices": []}, [("/States/S/Choices", "'Choices' must not be empty.")]),
    (
        {"Type": "Pass", "QueryLanguage": "JSONata", "Parameters": {}, "End": True},
        [
            (
                "/States/S/Parameters",
                "Field 'Parameters' is a JSONPath field and this Pass state uses JSONata; "
                "use Arguments instead.",
            )
        ],
    ),
    (
        {"Type": "Pass", "Output": 1, "End": True},
        [
            (
                "/States/S/Output",
                "Field 'Output' is only supported when the state's QueryLanguage is JSONata.",
            )
        ],
    ),
    (
        {"Type": "Pass", "Nxt": "S", "End": True},
        [("/States/S/Nxt", "Field 'Nxt' is not supported in a Pass state; did you mean 'Next'?")],
    ),
    (
        {"Type": "Succeed", "InputPath": None, "OutputPath": 3},
        [("/States/S/OutputPath", "'OutputPath' must be a JSONPath string or null, got 3.")],
    ),
    (
        {"Type": "Nope"},
        [
            (
                "/States/S/Type",
                "'Type' must be one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map; "
                'got "Nope".',
            )
        ],
    ),
    ({"Comment": "no type"}, [("/States/S", "Missing required field 'Type'.")]),
]


@pytest.mark.parametrize(("state", "expected"), BROKEN_STATES)
def test_broken_state(state: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert schema_problems(state) == expected


def test_every_missing_field_once() -> None:
    found = [(d.location, d.message) for d in validate({"Comment": "c"}) if d.code == _CODE]
    assert found == [
        ("", "Missing required field 'StartAt'."),
        ("", "Missing required field 'States'."),
    ]


def test_choice_rules_are_validated_one_by_one() -> None:
    rule = {"Variable": "$.a", "StringEquals": 1}
    found = schema_problems({"Type": "Choice", "Choices": [{"Not": rule, "Next": "S"}]})
    assert found == [
        ("/States/S/Choices/0/Not/StringEquals", "'StringEquals' must be a string, got a number.")
    ]


def test_a_wrong_type_is_one_problem() -> None:
    schema = {"type": "string", "enum": ["a", "b"], "minLength": 1}
    errors = list(Draft202012Validator(schema).iter_errors(3))
    assert [err.validator for err in errors] == ["type", "enum"]
    assert [err.validator for err in _one_per_problem(errors)] == ["type"]


def test_any_of_without_wording_uses_the_best_match() -> None:
    schema = {"properties": {"n": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}}}
    [err] = Draft202012Validator(schema).iter_errors({"n": 0})
    assert _describe(err, "'n'") == "'n' must be at least 1, got 0."
    [err] = Draft202012Validator(schema).iter_errors({"n": "x"})
    assert _describe(err, "'n'") == "'n' is not valid (anyOf)."

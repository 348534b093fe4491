"""Decisions taken from AWS evidence, each test naming its source."""

from __future__ import annotations

from typing import Any

import pytest

from asl import compile_definition
from asl.validate import validate
from runtime import run_sync


def _machine(state: dict[str, Any], **others: Any) -> dict[str, Any]:
    return {"StartAt": "A", "States": {"A": state, **others}}


def _found(definition: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(d.severity, d.code, d.location) for d in validate(definition)]


# -- error names starting with "States." ------------------------------------------------------

# aws-samples/step-functions-workflows-collection, quorum-with-parallel-pattern
# (statemachine/statemachine.asl.json, deployed with SAM): branches end in Fail states with
# "Error": "States.QuorumMet" / "States.RanOutOfTime" and the Parallel state catches them.
QUORUM = {
    "StartAt": "Wait for quorum",
    "States": {
        "Wait for quorum": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Quorum Met",
                    "States": {"Quorum Met": {"Type": "Fail", "Error": "States.QuorumMet"}},
                },
                {
                    "StartAt": "Ran out of Time",
                    "States": {"Ran out of Time": {"Type": "Fail", "Error": "States.RanOutOfTime"}},
                },
            ],
            "Catch": [
                {"ErrorEquals": ["States.QuorumMet"], "Next": "Quorum"},
                {"ErrorEquals": ["States.RanOutOfTime"], "Next": "Timeout"},
            ],
            "Next": "Quorum",
        },
        "Quorum": {"Type": "Pass", "Result": "quorum", "End": True},
        "Timeout": {"Type": "Pass", "Result": "timeout", "End": True},
    },
}


def test_custom_states_error_names_are_accepted_with_a_warning_everywhere() -> None:
    found = _found(QUORUM)
    assert {severity for severity, _, _ in found} == {"WARNING"}
    assert {(code, where) for _, code, where in found} == {
        ("INVALID_ERROR_NAME", "/States/Wait for quorum/Branches/0/States/Quorum Met/Error"),
        ("INVALID_ERROR_NAME", "/States/Wait for quorum/Branches/1/States/Ran out of Time/Error"),
        ("INVALID_ERROR_NAME", "/States/Wait for quorum/Catch/0/ErrorEquals/0"),
        ("INVALID_ERROR_NAME", "/States/Wait for quorum/Catch/1/ErrorEquals/0"),
    }
    compile_definition(QUORUM)


def test_a_machine_catches_its_own_states_prefixed_error() -> None:
    result = run_sync(QUORUM, {})
    assert result.status == "SUCCEEDED"
    assert result.output in ("quorum", "timeout")


@pytest.mark.parametrize(
    ("name", "hint"),
    [("States.Timout", "did you mean 'States.Timeout'?"), ("States.QuorumMet", "Appendix A")],
)
def test_the_warning_suggests_a_predefined_name_only_when_close(name: str, hint: str) -> None:
    definition = _machine({"Type": "Fail", "Error": name})
    (diag,) = validate(definition)
    assert diag.severity == "WARNING" and hint in diag.message


def test_predefined_and_plain_names_get_no_warning() -> None:
    definition = _machine(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Retry": [{"ErrorEquals": ["States.Timeout", "Custom.Error"]}],
            "End": True,
        }
    )
    assert validate(definition) == []


# -- ItemReader ReaderConfig.MaxItems ---------------------------------------------------------


def _distributed_map(config: dict[str, Any], language: str = "JSONPath") -> dict[str, Any]:
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config}
    reader |= {"Parameters": {"Bucket": "b", "Key": "k"}} if language == "JSONPath" else {}
    return _machine(
        {
            "Type": "Map",
            "QueryLanguage": language,
            "ItemReader": {**reader, "ReaderConfig": {"InputType": "JSON", **config}},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    )


@pytest.mark.parametrize("language", ["JSONPath", "JSONata"])
@pytest.mark.parametrize("value", [0, 1, 100_000_000])
def test_reader_max_items_zero_means_no_limit_and_is_accepted(language: str, value: int) -> None:
    # LocalStack's AWS-parity MaxItemsDecl clips 0 to the 100,000,000 maximum ("no limit").
    assert _found(_distributed_map({"MaxItems": value}, language)) == []


@pytest.mark.parametrize("value", [-1, 100_000_001, 1.5, "10"])
def test_reader_max_items_out_of_range_is_refused(value: Any) -> None:
    found = _found(_distributed_map({"MaxItems": value}))
    assert ("ERROR", "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/ReaderConfig/MaxItems") in (
        found
    )

"""Decisions taken from AWS evidence, each test naming its source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from asl import SourceError, compile_definition
from asl.source import load_definition, load_file
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


# -- YAML: 1.2 core schema; what YAML 1.1 reads differently must be quoted ------------------


def test_yaml_keys_yes_and_no_are_state_names() -> None:
    # YAML 1.2 (the AWS Toolkit's ASL language service): a plain key `No:` is the text "No".
    text = (
        "StartAt: Check\n"
        "States:\n"
        "  Check:\n"
        "    Type: Choice\n"
        "    Choices:\n"
        "      - {Variable: $.ok, BooleanEquals: true, Next: 'Yes'}\n"
        "    Default: 'No'\n"
        "  Yes: {Type: Succeed}\n"
        "  No: {Type: Fail}\n"
    )
    document = load_definition(text, format="yaml")
    assert set(document.value["States"]) == {"Check", "Yes", "No"}
    assert validate(document.value) == []


@pytest.mark.parametrize(
    ("plain", "words"),
    [
        ("NO", 'the text "NO" in YAML 1.2 but a boolean (false) in YAML 1.1'),
        ("yes", 'the text "yes" in YAML 1.2 but a boolean (true)'),
        ("on", "a boolean (true) in YAML 1.1"),
        ("010", "a number (10) in YAML 1.2 but a number (8) in YAML 1.1"),
        ("1_000", 'the text "1_000" in YAML 1.2 but a number (1000)'),
        ("1:20", "a number (80) in YAML 1.1"),
        ("1e3", 'a number (1000.0) in YAML 1.2 but the text "1e3"'),
        ("1.10", "is the number 1.1; quote it"),
        ("2.50", "is the number 2.5"),
    ],
)
def test_yaml_values_that_would_change_type_or_digits_are_refused(plain: str, words: str) -> None:
    with pytest.raises(SourceError) as caught:
        load_definition(f"StartAt: A\nComment: {plain}\n", format="yaml")
    assert words in caught.value.message
    assert (caught.value.line, caught.value.column) == (2, 10)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'NO'", "NO"),
        ('"1.10"', "1.10"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("10", 10),
        ("1.5", 1.5),
        ("2.0", 2.0),
        ("0x1F", 31),
        ("2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z"),
        ("y", "y"),
    ],
)
def test_yaml_values_both_versions_agree_on_are_read(text: str, value: Any) -> None:
    document = load_definition(f"StartAt: A\nComment: {text}\n", format="yaml")
    assert document.value["Comment"] == value
    assert type(document.value["Comment"]) is type(value)


def test_yaml_text_in_a_json_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "machine.asl.json"
    path.write_text("StartAt: A\nStates:\n  A: {Type: Succeed}\n")
    with pytest.raises(SourceError, match=r"\.json file must hold a JSON object"):
        load_file(path)
    assert load_file(path, format="yaml").value["StartAt"] == "A"

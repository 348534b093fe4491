"""MockConfigFile (AWS Step Functions Local format) parsing and serving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runtime import MockConfig, MockConfigError, run_sync

MACHINE = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 3}],
            "ResultSelector": {"paid.$": "$.Payload.paid"},
            "End": True,
        }
    },
}


def config(responses: dict[str, Any]) -> dict[str, Any]:
    return {
        "StateMachines": {"Orders": {"TestCases": {"Happy": {"Charge": "ChargeResponses"}}}},
        "MockedResponses": {"ChargeResponses": responses},
    }


def throttled() -> dict[str, Any]:
    return {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "slow down"}}


def test_ranges_serve_each_invocation_in_order() -> None:
    mocks = MockConfig.parse(
        config({"0-1": throttled(), "2": {"Return": {"Payload": {"paid": True}}}})
    ).test_case("Happy", "Orders")
    result = run_sync(MACHINE, {"id": 1}, mocks=mocks)
    assert result.output == {"paid": True}
    assert result.event_types.count("TaskFailed") == 2
    assert mocks.calls == {"Charge": 3}


def test_missing_invocation_fails_the_execution() -> None:
    mocks = MockConfig.parse(config({"0": throttled()})).test_case("Happy", "Orders")
    result = run_sync(MACHINE, mocks=mocks)
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert result.cause is not None and "invocation 1" in result.cause


def test_load_from_file_and_single_machine_default(tmp_path: Path) -> None:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(config({"0": {"Return": {"Payload": {"paid": False}}}})))
    mocks = MockConfig.load(path).test_case("Happy")
    assert run_sync(MACHINE, mocks=mocks).output == {"paid": False}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "JSON object"),
        ({"StateMachines": {}}, "required"),
        (config({"x": {"Return": 1}}), "invocation indexes"),
        (config({"3-1": {"Return": 1}}), "below its start"),
        (config({"0": {"Return": 1, "Throw": {"Error": "E", "Cause": "c"}}}), "exactly one"),
        (config({"0": {"Throw": {"Erorr": "E"}}}), "unknown field 'Erorr'"),
        (config({"0": {"Throw": {"Error": 5}}}), "Error must be a string"),
        (config({"0": {"Throw": {"Cause": ["c"]}}}), "Cause must be a string"),
        (config({"0": {"Throw": "E"}}), "expected an object"),
        (
            {"StateMachines": {"M": {"TestCases": {"T": {"S": "Nope"}}}}, "MockedResponses": {}},
            "unknown mocked response",
        ),
    ],
)
def test_malformed_files_are_reported(raw: Any, message: str) -> None:
    with pytest.raises(MockConfigError, match=message):
        MockConfig.parse(raw)


def test_unknown_test_case_names_the_known_ones() -> None:
    with pytest.raises(MockConfigError, match="Happy"):
        MockConfig.parse(config({"0": {"Return": 1}})).test_case("Sad", "Orders")


# A Throw without Error or Cause: Step Functions Local accepts it (issue 19). Without Error
# the task fails with no error name, as SendTaskFailure without an error fails it here.
CAUGHT = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            **MACHINE["States"]["Charge"],
            "Retry": [],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Done"}],
            "End": True,
        },
        "Done": {"Type": "Pass", "End": True},
    },
}


@pytest.mark.parametrize(
    ("throw", "failure"),
    [
        ({}, {"Error": ""}),
        ({"Cause": "card declined"}, {"Error": "", "Cause": "card declined"}),
        ({"Error": "Payment.Declined"}, {"Error": "Payment.Declined"}),
    ],
)
def test_a_throw_without_error_or_cause_fails_the_task_with_what_it_has(
    throw: dict[str, str], failure: dict[str, str]
) -> None:
    mocks = MockConfig.parse(config({"0": {"Throw": throw}})).test_case("Happy")
    result = run_sync(CAUGHT, {"order": 1}, mocks=mocks, state_machine_name="Orders")
    assert (result.status, result.output) == ("SUCCEEDED", {"order": 1, "failure": failure})
    failed = next(e for e in result.history if e.type == "TaskFailed")
    assert failed.details.get("cause") == throw.get("Cause")


def test_an_uncaught_throw_without_error_fails_the_execution_with_its_cause() -> None:
    mocks = MockConfig.parse(config({"0": {"Throw": {"Cause": "boom"}}})).test_case("Happy")
    result = run_sync(MACHINE, mocks=mocks, state_machine_name="Orders")
    assert (result.status, result.error, result.cause) == ("FAILED", "", "boom")

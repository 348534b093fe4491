"""Partial runs: a stretch of a workflow, from ``start_at`` to ``stop_after``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runtime import run_sync
from runtime.cli import main

MACHINE: dict[str, Any] = {
    "StartAt": "Load",
    "States": {
        "Load": {"Type": "Pass", "Result": "loaded", "ResultPath": "$.load", "Next": "Price"},
        "Price": {
            "Type": "Pass",
            "Parameters": {"total.$": "$total", "run.$": "$$.Execution.Name", "item.$": "$.item"},
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Big"}],
            "Default": "Small",
        },
        "Big": {"Type": "Pass", "Result": "big", "End": True},
        "Small": {"Type": "Pass", "Result": ["small"], "Next": "Fan"},
        "Fan": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "Inner", "States": {"Inner": {"Type": "Succeed"}}},
            "End": True,
        },
    },
}


def entered(result: Any) -> list[str]:
    return [e.details["name"] for e in result.history if e.type.endswith("StateEntered")]


def test_a_stretch_runs_with_given_input_variables_and_context() -> None:
    result = run_sync(
        MACHINE,
        {"item": "pen"},
        start_at="Price",
        stop_after="Price",
        variables={"total": 120},
        context={"Execution": {"Name": "nightly"}},
    )
    assert result.status == "SUCCEEDED"
    assert result.output == {"total": 120, "run": "nightly", "item": "pen"}
    assert entered(result) == ["Price"]


def test_it_stops_after_a_choice_and_runs_to_the_end_without_a_stop() -> None:
    stopped = run_sync(MACHINE, {"total": 5}, start_at="Route", stop_after="Route")
    assert (stopped.output, entered(stopped)) == ({"total": 5}, ["Route"])
    whole = run_sync(MACHINE, {"total": 500}, start_at="Route")
    assert (whole.output, entered(whole)) == ("big", ["Route", "Big"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"start_at": "Prise"},
            "start_at 'Prise': no such top-level state (did you mean 'Price'?)",
        ),
        ({"start_at": "Inner"}, "start_at 'Inner': it is inside a Parallel or Map state"),
        (
            {"start_at": "Big", "stop_after": "Price"},
            "stop_after 'Price': not reachable from 'Big'",
        ),
        ({"context": {"Task": {}}}, "context 'Task': only the Execution and StateMachine"),
    ],
)
def test_bounds_that_match_nothing_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        run_sync(MACHINE, {}, **options)
    assert str(info.value).startswith(message)


def exec_argv(tmp_path: Path, *flags: str) -> list[str]:
    machine = tmp_path / "m.asl.json"
    machine.write_text(json.dumps(MACHINE))
    return ["exec", str(machine), "--clock", "virtual", "--no-store", "--quiet", *flags]


def test_exec_runs_a_stretch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variables = tmp_path / "vars.json"
    variables.write_text('{"total": 7}')
    argv = exec_argv(
        tmp_path,
        *("--start-at", "Price", "--stop-after", "Price", "--input-json", '{"item": 1}'),
        *("--variables", f"@{variables}", "--context", '{"Execution": {"Name": "n1"}}'),
    )
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == {"total": 7, "run": "n1", "item": 1}


def test_exec_reports_bad_bounds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = exec_argv(tmp_path, "--start-at", "Inner", "--variables", "[1]")
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: --start-at 'Inner': it is inside a Parallel or Map state; give a top-level state",
        "error: --variables: expected a JSON object of variable names",
    ]


def test_exec_fails_when_the_stop_is_never_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = exec_argv(tmp_path, "--start-at", "Route", "--stop-after", "Small")
    assert main([*argv, "--input-json", '{"total": 500}']) == 1
    assert "--stop-after Small: the execution ended without reaching it" in capsys.readouterr().err
